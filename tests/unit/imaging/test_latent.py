"""The latent diffusion model: a label-conditional DDPM on a whitened PCA latent, MLP denoiser, DDIM sampling."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hygeia.core.generator import load_generator
from hygeia.errors import ConfigError
from hygeia.imaging import ImageLatentDiffusion, fit_image_model, rendered_slices

#: A tiny model: 8 latent components, a 32-wide denoiser of one block, 3 sampling steps.
TINY = {"components": 8, "residual_components": 4, "hidden": 32, "blocks": 1, "batch_size": 8, "sample_steps": 3}


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def slices() -> tuple[np.ndarray, np.ndarray]:
    return rendered_slices(16, findings=("none", "nodule"), seed=7)


def test_smoke_train_sample_save_load_under_ten_seconds(slices, tmp_path: Path) -> None:
    x, y = slices
    start = time.perf_counter()
    model = ImageLatentDiffusion(max_steps=5, seed=1, **TINY).fit(x, y)
    s = model.sample(4, label="nodule", seed=2)
    assert time.perf_counter() - start < 10.0
    assert s.shape == (4, 32, 32) and np.all(np.isfinite(s))
    lo, hi = model.window_
    assert lo <= s.min() and s.max() <= hi
    prov = model.provenance_
    assert prov["steps"] == 5 and prov["stopped_by"] == "epochs" and prov["latent_components"] == 8
    assert prov["residual_components"] == [4, 4]  # per label, capped by the label's 8 images less one
    np.testing.assert_array_equal(model.sample(4, label="nodule", seed=2), s)
    assert not np.array_equal(model.sample(4, label="nodule", seed=3), s)
    loaded = load_generator(model.save(tmp_path / "m"))
    assert isinstance(loaded, ImageLatentDiffusion)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["arrays.npz", "spec.json"]
    np.testing.assert_array_equal(loaded.sample(4, label="nodule", seed=2), s)


def test_the_latent_is_whitened_pca_and_labels_condition_the_denoiser(slices) -> None:
    x, y = slices
    a = ImageLatentDiffusion(max_steps=2, seed=4, **TINY).fit(x, y)
    b = ImageLatentDiffusion(max_steps=2, seed=4, **TINY).fit(x, y)
    for (k, va), vb in zip(a.network_.state_dict().items(), b.network_.state_dict().values()):
        assert torch.equal(va, vb), k
    lo, hi = a.window_
    flat = np.clip((x - lo) / (hi - lo), 0, 1).reshape(len(x), -1)
    z = (flat - a.mean_) @ a.basis_.T / a.scales_
    np.testing.assert_allclose(z.std(axis=0, ddof=1), 1.0, rtol=1e-3)  # unit variance per coordinate
    np.testing.assert_allclose(a.basis_ @ a.basis_.T, np.eye(8), atol=1e-5)  # orthonormal directions
    with torch.no_grad():
        out = a.network_(torch.zeros(2, 8), torch.full((2,), 500), torch.tensor([0, 1]))
    assert not torch.allclose(out[0], out[1])


def test_it_learns_a_two_mode_latent_the_pca_gaussian_cannot() -> None:
    # Images that are +pattern or -pattern (plus a little noise): one label, two modes along one direction.
    rng = np.random.default_rng(0)
    pattern = np.sin(np.linspace(0, 3 * np.pi, 64)).reshape(8, 8)
    sign = rng.choice([-1.0, 1.0], size=120)
    x = sign[:, None, None] * pattern + rng.normal(0, 0.05, (120, 8, 8))
    model = ImageLatentDiffusion(components=2, residual_components=2, hidden=64, blocks=2, batch_size=60,
                                 max_steps=600, learning_rate=3e-3, sample_steps=20, seed=0).fit(x)
    s = model.sample(200, seed=1)
    coef = (s * pattern).sum(axis=(1, 2)) / (pattern ** 2).sum()
    assert np.mean(np.abs(np.abs(coef) - 1.0) < 0.35) > 0.8  # near one of the two modes, not in between
    pca = fit_image_model(x, kind="pca", n_components=2, seed=0).sample(200, seed=1)
    pca_coef = (pca * pattern).sum(axis=(1, 2)) / (pattern ** 2).sum()
    assert np.mean(np.abs(np.abs(pca_coef) - 1.0) < 0.35) < 0.6  # the Gaussian fills the gap


def test_cpu_budget_and_bad_settings(slices) -> None:
    x, y = slices
    model = ImageLatentDiffusion(epochs=10_000, cpu_seconds=0.05, seed=0, **TINY).fit(x, y)
    assert model.provenance_["stopped_by"] == "cpu_seconds" and model.provenance_["steps"] < 1000
    with pytest.raises(ConfigError, match="components must be a positive integer"):
        ImageLatentDiffusion(components=0).fit(x, y)
    with pytest.raises(ConfigError, match="residual_components must be an integer of at least 0"):
        ImageLatentDiffusion(residual_components=-1).fit(x, y)
    with pytest.raises(ConfigError, match="sample_steps=2000 exceeds timesteps=1000"):
        ImageLatentDiffusion(sample_steps=2000).fit(x, y)
    with pytest.raises(ConfigError, match="eta must be between 0 and 1"):
        ImageLatentDiffusion(eta=2.0).fit(x, y)


def test_functional_api_and_stratified_labels(slices) -> None:
    x, y = slices
    model = fit_image_model(x, y, kind="latent", seed=0, epochs=1, **TINY)
    assert model.provenance_["steps"] == 2  # 16 images, batches of 8
    s, labels = model.sample_labeled(7, seed=1)
    assert s.shape == (7, 32, 32)
    # 8 and 8 training images: 3 or 4 of each in 7, never a lopsided draw.
    assert sorted(np.unique(labels, return_counts=True)[1].tolist()) == [3, 4]
