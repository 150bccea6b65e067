"""The label-conditional diffusion model (MONAI DiffusionModelUNet, DDPM training, DDIM sampling) and super-resolution."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("monai")
pytest.importorskip("einops")

from hygeia.core.generator import load_generator
from hygeia.errors import ConfigError
from hygeia.imaging._datasets import rendered_slices
from hygeia.imaging._diffusion import ImageDiffusion, fit_image_model, sample_images
from hygeia.imaging._superres import (
    SuperResolution2x,
    bicubic2x,
    downsample2x,
    superres_scores,
)

#: A tiny network: two levels of 8 channels, no attention.
TINY = {"channels": (8, 8), "attention": (False, False), "norm_groups": 4, "batch_size": 8, "sample_steps": 3}


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def slices() -> tuple[np.ndarray, np.ndarray]:
    return rendered_slices(16, findings=("none", "nodule"), seed=7)


def test_smoke_train_and_sample_under_ten_seconds(slices, tmp_path: Path) -> None:
    x, y = slices
    start = time.perf_counter()
    model = ImageDiffusion(max_steps=4, seed=1, **TINY).fit(x, y)
    s = model.sample(4, label="nodule", seed=2)
    assert time.perf_counter() - start < 10.0
    assert s.shape == (4, 32, 32) and np.all(np.isfinite(s))
    lo, hi = model.window_
    assert lo <= s.min() and s.max() <= hi
    prov = model.provenance_
    assert prov["steps"] == 4 and prov["stopped_by"] == "epochs" and prov["seed"] == 1
    assert {"torch", "monai", "numpy"} <= set(prov["versions"]) and len(prov["data_sha256"]) == 64
    np.testing.assert_array_equal(model.sample(4, label="nodule", seed=2), s)
    assert not np.array_equal(model.sample(4, label="nodule", seed=3), s)
    loaded = load_generator(model.save(tmp_path / "m"))
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["arrays.npz", "spec.json"]
    np.testing.assert_array_equal(loaded.sample(4, label="nodule", seed=2), s)


def test_same_seed_same_weights_and_labels_condition_the_network(slices) -> None:
    x, y = slices
    a = ImageDiffusion(max_steps=2, seed=4, **TINY).fit(x, y)
    b = ImageDiffusion(max_steps=2, seed=4, **TINY).fit(x, y)
    for (k, va), vb in zip(a.network_.state_dict().items(), b.network_.state_dict().values()):
        assert torch.equal(va, vb), k
    noise = torch.zeros(2, 1, 32, 32)
    t = torch.full((2,), 500).long()
    with torch.no_grad():
        out = a.network_(noise, timesteps=t, class_labels=torch.tensor([0, 1]))
    assert not torch.allclose(out[0], out[1])  # the class embedding changes the prediction


def test_cpu_budget_stops_training(slices) -> None:
    x, y = slices
    model = ImageDiffusion(epochs=1000, cpu_seconds=0.01, seed=0, **TINY).fit(x, y)
    assert model.provenance_["stopped_by"] == "cpu_seconds" and model.provenance_["steps"] < 20


def test_bad_settings_are_named(slices) -> None:
    x, y = slices
    with pytest.raises(ConfigError, match=re.escape("multiple of norm_groups=4")):
        ImageDiffusion(**{**TINY, "channels": (6, 8)}).fit(x, y)
    with pytest.raises(ConfigError, match="cannot be halved"):
        ImageDiffusion(**TINY).fit(x[:, :31, :31], y)
    with pytest.raises(ConfigError, match="must be square"):
        ImageDiffusion(**TINY).fit(x[:, :, :16], y)
    with pytest.raises(ConfigError, match=re.escape("unknown image generator kind 'gan'")):
        fit_image_model(x, y, kind="gan")
    with pytest.raises(ConfigError, match="epochs applies to the diffusion models only"):
        fit_image_model(x, y, kind="pca", epochs=3)
    with pytest.raises(ConfigError, match="must be a fitted image generator"):
        sample_images("model", 3)


def test_functional_api(slices) -> None:
    x, y = slices
    model = fit_image_model(x, y, kind="diffusion", seed=0, epochs=1, **TINY)
    assert model.provenance_["steps"] == 2  # 16 images, batches of 8
    s = sample_images(model, 3, seed=1)
    assert s.shape == (3, 32, 32)


def test_super_resolution_shapes_save_load(tmp_path: Path) -> None:
    hi, _ = rendered_slices(8, size=32, findings=("none", "consolidation"), seed=3)
    low = downsample2x(hi)
    assert low.shape == (8, 16, 16) and bicubic2x(low).shape == (8, 32, 32)
    np.testing.assert_allclose(low.mean(), hi.mean(), rtol=1e-5)
    model = SuperResolution2x(channels=(4, 8), epochs=1, seed=0).fit(hi)
    up = model.upscale(low[:2])
    assert up.shape == (2, 32, 32)
    again = SuperResolution2x.load(model.save(tmp_path / "sr"))
    np.testing.assert_array_equal(again.upscale(low[:2]), up)
    scores = superres_scores(model, hi[:4])
    assert set(scores) == {"psnr_model", "psnr_bicubic", "ssim_model", "ssim_bicubic"}
    assert scores["psnr_bicubic"] > 15
