"""Image generator baselines (PCA-Gaussian, augmentation only), the shared validation, and image folders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("skimage")

from hygeia.core.generator import load_generator
from hygeia.errors import ConfigError, DataValidationError
from hygeia.imaging._baselines import AugmentOnly, PCAGaussian, check_images
from hygeia.imaging._datasets import (
    read_image_folder,
    rendered_slices,
    write_image_folder,
)


@pytest.fixture(scope="module")
def slices() -> tuple[np.ndarray, np.ndarray]:
    return rendered_slices(24, findings=("none", "consolidation"), seed=5)


def test_check_images_lists_every_problem() -> None:
    x = np.zeros((3, 4, 4))
    x[0, 0, 0] = np.nan
    with pytest.raises(DataValidationError, match="invalid images") as e:
        check_images(x, ["a", "b"])
    assert len(e.value.problems) == 3  # size, NaN, label count
    with pytest.raises(DataValidationError, match=re.escape("pass an (n, y, x) array")):
        check_images(np.zeros((8, 8)))
    with pytest.raises(DataValidationError, match="images must be an array"):
        check_images({"a": 1})


def test_rendered_slices_are_ct_slices_with_their_findings(slices) -> None:
    x, y = slices
    assert x.shape == (24, 32, 32) and sorted(set(y)) == ["consolidation", "none"]
    assert (y == "none").sum() == 12
    assert -1100 < x.min() < -800 and x.max() > 0  # air/lung and soft tissue in HU
    again, _ = rendered_slices(24, findings=("none", "consolidation"), seed=5)
    np.testing.assert_array_equal(x, again)


def test_pca_gaussian_samples_each_label_like_its_training_images(slices) -> None:
    x, y = slices
    model = PCAGaussian(n_components=8, seed=0).fit(x, y)
    assert model.labels_ == ["consolidation", "none"] and model.label_counts_ == [12, 12]
    for label in model.labels_:
        s = model.sample(200, label=label, seed=1)
        assert s.shape == (200, 32, 32)
        # the Gaussian's mean is the label's mean image (inside the clipping window)
        assert np.abs(s.mean(0) - x[y == label].mean(0)).mean() < 25.0
    lung = (x[y == "none"].mean(0) < -500)
    cons = model.sample(100, label="consolidation", seed=2)[:, lung].mean()
    none = model.sample(100, label="none", seed=2)[:, lung].mean()
    assert cons > none + 20  # consolidation fills lung with denser tissue
    np.testing.assert_array_equal(model.sample(5, seed=3), model.sample(5, seed=3))
    with pytest.raises(ConfigError, match=re.escape("label 'nodule' is not one the model learned")):
        model.sample(2, label="nodule")


def test_pca_save_load_and_provenance(slices, tmp_path: Path) -> None:
    x, y = slices
    model = PCAGaussian(seed=0).fit(x, y)
    prov = model.provenance_
    assert prov["n_images"] == 24 and len(prov["data_sha256"]) == 64 and "numpy" in prov["versions"]
    loaded = load_generator(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.sample(4, seed=9), model.sample(4, seed=9))
    assert loaded.provenance_ == prov


def test_augment_only_copies_training_images_by_construction(slices) -> None:
    x, y = slices
    model = AugmentOnly(max_degrees=0.0, jitter=0.0, flip=False, seed=0).fit(x, y)
    s, labels = model.sample_labeled(10, seed=1)
    inside = np.clip(x, *model.window_)  # images live in the training window (0.5th-99.5th percentiles)
    for img, label in zip(s, labels):
        assert np.abs(inside[y == label] - img).max(axis=(1, 2)).min() < 1e-3
    assert "training image" in model.privacy_report_["summary"]
    moved = AugmentOnly(seed=0).fit(x, y).sample(10, seed=1)
    assert not np.allclose(moved, s)


def test_image_folders_round_trip_png_and_dicom(slices, tmp_path: Path) -> None:
    x, y = slices
    counts = write_image_folder(x[:6], y[:6], tmp_path / "png", modality="CT", format="png", window=(-1000, 400))
    back = read_image_folder(tmp_path / "png", size=32)
    assert back.modality == "PNG" and len(back.images) == 6 and sorted(set(back.labels)) == sorted(counts)
    write_image_folder(x[:6], y[:6], tmp_path / "dcm", modality="CT", format="dicom", seed=1)
    ct = read_image_folder(tmp_path / "dcm", size=32)
    assert ct.modality == "CT"
    order = np.argsort(ct.labels, kind="stable")
    ref = np.concatenate([x[:6][y[:6] == k] for k in sorted(set(y[:6]))])
    assert np.abs(np.sort(ct.images.ravel()) - np.sort(ref.ravel())).max() <= 1.0  # whole HU stored
    assert ct.labels[order].tolist() == sorted(y[:6].tolist())
    small = read_image_folder(tmp_path / "dcm", size=16)
    assert small.images.shape == (6, 16, 16)


def test_render_outputs_are_label_folders(tmp_path: Path) -> None:
    from hygeia.imaging import render, write_rendered

    for finding in ("consolidation", None):
        vols = render("ct", finding=finding, n=1, seed=2, size=32, slices=2)
        write_rendered(vols, tmp_path / "scans" / (finding or "none"))
    got = read_image_folder(tmp_path / "scans")
    assert got.modality == "CT" and sorted(got.labels.tolist()) == ["consolidation"] * 2 + ["none"] * 2
    assert all("masks" not in s for s in got.sources)


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_image_folder(tmp_path / "nope")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    with pytest.raises(DataValidationError, match="no subfolders"):
        read_image_folder(tmp_path / "flat")
    bad = tmp_path / "bad"
    (bad / "none").mkdir(parents=True)
    (bad / "none" / "x.png").write_bytes(b"not a png")
    (bad / "empty").mkdir()
    with pytest.raises(DataValidationError, match="cannot read the image folder") as e:
        read_image_folder(bad)
    assert any("empty/" in p for p in e.value.problems) and any("x.png" in p for p in e.value.problems)
    with pytest.raises(ConfigError, match=re.escape("format='png'")):
        write_image_folder(np.zeros((2, 8, 8)), ["a", "b"], tmp_path / "o", modality="PNG", format="dicom")
