"""2x super-resolution: it starts exactly at bicubic interpolation and keeps only what validation shows helps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("monai")

from hygeia.errors import ConfigError
from hygeia.imaging._datasets import rendered_slices
from hygeia.imaging._superres import (
    SuperResolution2x,
    bicubic2x,
    downsample2x,
    superres_scores,
)

TINY = {"channels": (4, 8), "batch_size": 8}


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def hi() -> np.ndarray:
    torch.set_num_threads(1)
    return rendered_slices(20, size=32, findings=("none", "consolidation"), seed=5)[0]


def test_untrained_model_is_bicubic_exactly(hi: np.ndarray, tmp_path: Path) -> None:
    model = SuperResolution2x(epochs=0, seed=0, **TINY).fit(hi)
    low = downsample2x(hi[:4])
    np.testing.assert_array_equal(model.upscale(low), bicubic2x(low))
    again = SuperResolution2x.load(model.save(tmp_path / "sr"))
    np.testing.assert_array_equal(again.upscale(low), bicubic2x(low))
    scores = superres_scores(model, hi[:4])
    assert scores["psnr_model"] == scores["psnr_bicubic"] and scores["ssim_model"] == scores["ssim_bicubic"]
    assert model.provenance_["gate"] == 0.0 and model.provenance_["back_projection"] == 0.0


def test_training_keeps_the_best_validated_epoch(hi: np.ndarray) -> None:
    model = SuperResolution2x(epochs=4, seed=1, validation_fraction=0.25, **TINY).fit(hi)
    p = model.provenance_
    assert p["n_validation"] == 5 and len(p["validation_mse"]) == 4
    # the kept weights are those of the best epoch; epoch 0 (bicubic) is kept only if no epoch beat it
    if p["best_epoch"]:
        assert p["validation_mse"][p["best_epoch"] - 1] == min(p["validation_mse"])
    else:
        assert p["gate"] == 0.0 and p["back_projection"] == 0.0
    # on these slices a few epochs already beat bicubic on the validation images, through both gates
    assert min(p["validation_mse"]) < p["validation_mse_bicubic"]
    assert p["best_epoch"] > 0 and p["gate"] != 0.0 and p["back_projection"] != 0.0


def test_back_projection_makes_the_output_match_the_input(hi: np.ndarray) -> None:
    model = SuperResolution2x(epochs=0, seed=0, **TINY).fit(hi)
    model.network_.back_projection.fill_(1.0)
    low = downsample2x(hi[:4])
    bicubic_miss = np.abs(downsample2x(bicubic2x(low)) - low).mean()
    model_miss = np.abs(downsample2x(model.upscale(low)) - low).mean()
    assert bicubic_miss > 0 and model_miss < 0.5 * bicubic_miss


def test_a_spec_version_1_folder_still_loads(hi: np.ndarray, tmp_path: Path) -> None:
    # version 1 saved a bare UNet whose whole output was added to bicubic
    model = SuperResolution2x(epochs=0, seed=0, **TINY).fit(hi)
    folder = model.save(tmp_path / "v2")
    spec = json.loads((folder / "spec.json").read_text())
    spec["spec_version"] = 1
    del spec["params"]["validation_fraction"]
    with np.load(folder / "arrays.npz") as npz:
        unet = {k[len("unet."):]: npz[k] for k in npz.files if k.startswith("unet.")}
    old = tmp_path / "v1"
    old.mkdir()
    (old / "spec.json").write_text(json.dumps(spec))
    np.savez(old / "arrays.npz", **unet)
    loaded = SuperResolution2x.load(old)
    assert float(loaded.network_.gate) == 1.0
    low = downsample2x(hi[:2])
    with torch.no_grad():
        cond = torch.from_numpy(loaded._scale(bicubic2x(low))[:, None])
        residual = loaded.network_.unet(cond)[:, 0].numpy()
    lo, top = loaded.window_
    np.testing.assert_allclose(loaded.upscale(low), bicubic2x(low) + residual * (top - lo), rtol=1e-5, atol=1e-3)


def test_bad_validation_fraction_names_the_value(hi: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="validation_fraction must be in"):
        SuperResolution2x(epochs=1, validation_fraction=1.0, **TINY).fit(hi)
