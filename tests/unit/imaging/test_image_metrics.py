"""Offline image metrics: FID/KID on a locally trained encoder, PRDC, SSIM diversity, memorization, TSTR."""

from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skimage")

from hygeia.errors import ConfigError
from hygeia.imaging._baselines import PCAGaussian
from hygeia.imaging._datasets import rendered_slices
from hygeia.imaging._encoder import ImageEncoder, lesion_classifier_auc
from hygeia.imaging._metrics import (
    METRIC_MEANINGS,
    evaluate_images,
    frechet_distance,
    kernel_distance,
    memorization,
    ms_ssim,
    precision_recall_density_coverage,
    ssim_diversity,
)


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    x, y = rendered_slices(60, findings=("none", "consolidation"), seed=21)
    tx, ty = rendered_slices(40, findings=("none", "consolidation"), seed=22)
    return {"x": x, "y": y, "tx": tx, "ty": ty}


def test_frechet_distance_matches_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # same covariance, means 2 apart in each of 3 dimensions: 3 * 2^2 = 12
    assert frechet_distance(a, a + 2.0) == pytest.approx(12.0, rel=1e-6)
    # N(0, I) against N(0, 4I) in 3 dims: trace(I + 4I - 2*2I) = 3
    assert frechet_distance(a, rng.normal(0, 2, (4000, 3))) == pytest.approx(3.0, rel=0.1)


def test_kernel_distance_is_unbiased_near_zero_and_grows_with_shift() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, (400, 5)), rng.normal(0, 1, (400, 5))
    same, _ = kernel_distance(a, b, seed=0)
    near, _ = kernel_distance(a, b + 0.5, seed=0)
    far, _ = kernel_distance(a, b + 2.0, seed=0)
    assert abs(same) < 0.05 and 0 < near < far
    with pytest.raises(ConfigError, match="KID needs at least 2"):
        kernel_distance(a[:1], b)


def test_precision_recall_density_coverage_separate_fidelity_from_variety() -> None:
    rng = np.random.default_rng(2)
    real = rng.normal(0, 1, (400, 2))
    same = precision_recall_density_coverage(real, rng.normal(0, 1, (400, 2)))
    assert same["precision"] > 0.85 and same["recall"] > 0.85 and same["coverage"] > 0.85
    assert 0.7 < same["density"] < 1.3
    collapsed = precision_recall_density_coverage(real, rng.normal(0, 0.05, (400, 2)))  # one mode only
    assert collapsed["precision"] > 0.9 and collapsed["coverage"] < 0.3 and collapsed["recall"] < 0.3
    off = precision_recall_density_coverage(real, rng.normal(10, 1, (400, 2)))
    assert off["precision"] == 0.0 and off["coverage"] == 0.0 and off["density"] == 0.0
    with pytest.raises(ConfigError, match=re.escape("k=5 needs more than 5")):
        precision_recall_density_coverage(real[:5], real)


def test_ssim_and_ms_ssim_diversity() -> None:
    rng = np.random.default_rng(3)
    img = rng.random((32, 32))
    assert ms_ssim(img, img) == pytest.approx(1.0)
    assert ms_ssim(img, rng.random((32, 32))) < 0.3
    same = ssim_diversity(np.repeat(img[None], 5, axis=0), pairs=10)
    assert same["ssim"] == pytest.approx(1.0) and same["ms_ssim"] == pytest.approx(1.0)
    varied = ssim_diversity(rng.random((20, 32, 32)), pairs=40)
    assert varied["ssim"] < 0.1 and varied["ms_ssim"] < 0.3


def test_memorization_catches_copies(data) -> None:
    x, tx = data["x"] / 1000.0, data["tx"] / 1000.0
    copies = memorization(x[:20] + 1e-4, x, tx)
    assert copies["ratio"] < 0.01 and copies["share_closer_than_heldout_p5"] == 1.0
    fresh = memorization(tx[:20], x, tx[20:])
    assert 0.7 < fresh["ratio"] < 1.4


def test_encoder_learns_on_train_only_and_is_deterministic(data) -> None:
    enc = ImageEncoder(latent=16, epochs=3, seed=0).fit(data["x"], data["y"])
    f = enc.transform(data["tx"])
    assert f.shape == (40, 16) and np.all(np.isfinite(f))
    again = ImageEncoder(latent=16, epochs=3, seed=0).fit(data["x"], data["y"]).transform(data["tx"])
    np.testing.assert_array_equal(f, again)
    with pytest.raises(ConfigError, match="trained on 32x32 images"):
        enc.transform(data["tx"][:, :16, :16])


def test_lesion_classifier_tells_consolidation_from_normal(data) -> None:
    window = (-1000.0, 400.0)
    auc = lesion_classifier_auc(data["x"], data["y"], data["tx"], data["ty"], window=window, steps=150, seed=0)
    assert auc > 0.8
    with pytest.raises(ConfigError, match="at least two labels"):
        lesion_classifier_auc(data["x"], ["none"] * 60, data["tx"], data["ty"], window=window)


def test_evaluate_images_reports_every_metric_against_held_out_real_images(data) -> None:
    model = PCAGaussian(seed=0).fit(data["x"], data["y"])
    syn, syn_y = model.sample_labeled(60, seed=1)
    rep = evaluate_images(data["tx"], data["ty"], syn, syn_y, train=data["x"], train_labels=data["y"], seed=0,
                          encoder_epochs=3, classifier_steps=20)
    m = rep["metrics"]
    for name in ("fid", "kid", "precision", "recall", "density", "coverage", "ssim_diversity", "ms_ssim_diversity",
                 "memorization", "tstr_auc", "trtr_auc"):
        assert np.isfinite(m[name]), name
        assert rep["meanings"][name] == METRIC_MEANINGS[name]
    assert rep["sizes"] == {"real_heldout": 40, "synthetic": 60, "train": 60, "image_shape": [32, 32],
                            "labels": ["consolidation", "none"]}
    # without training images: half of the real ones stand in, and memorization is not measured
    half = evaluate_images(data["tx"], data["ty"], syn, syn_y, seed=0, encoder_epochs=2, classifier_steps=5)
    assert "memorization" not in half["metrics"] and half["sizes"]["real_heldout"] == 20
    assert "memorization was not measured" in half["notes"][0]
    with pytest.raises(ConfigError, match="must have one size"):
        evaluate_images(data["tx"], data["ty"], syn[:, :16, :16], syn_y, seed=0)
