"""``hygeia images render``: series, masks and manifest for each modality; same seed, same images; clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("pydicom")
pytest.importorskip("nibabel")
pytest.importorskip("skimage")

from hygeia.cli.main import main
from hygeia.imaging import read_dicom, read_nifti


def _run(*args: str):
    return CliRunner().invoke(main, ["images", "render", *args])


def test_ct_nodules_as_dicom_with_masks(tmp_path: Path) -> None:
    out = tmp_path / "ct"
    res = _run("--modality", "ct", "--finding", "nodule", "-n", "2", "--seed", "3", "--out", str(out),
               "--size", "48", "--slices", "3", "-q")
    assert res.exit_code == 0, res.output
    assert res.output == ""  # quiet
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["format"] == "dicom" and len(manifest["images"]) == 2
    first = manifest["images"][0]
    assert first["findings"][0]["kind"] == "nodule" and first["findings"][0]["voxels"] > 0
    ct = read_dicom(out / first["series"])
    assert ct.modality == "CT" and ct.shape == (3, 48, 48)
    assert first["files"] == 3 and first["meta"]["parameters"]["photons"] == 1e5
    mask = read_nifti(out / first["mask"])
    assert mask.shape == ct.shape and int(mask.array.sum()) == first["findings"][0]["voxels"]
    assert np.allclose(mask.origin, ct.origin, atol=1e-3)


def test_same_seed_same_images_and_summary(tmp_path: Path) -> None:
    arrays = []
    for name in ("a", "b"):
        res = _run("--modality", "xray", "--finding", "fracture", "--seed", "5", "--out", str(tmp_path / name),
                   "--size", "48", "--format", "nifti")
        assert res.exit_code == 0, res.output
        arrays.append(read_nifti(tmp_path / name / "series" / "0000.nii.gz").array)
    assert np.array_equal(*arrays)
    assert "Rendered 1 X-ray image (1x48x48)" in res.output and "fracture" in res.output
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["images"][0]["findings"][0]["codes"][0][0] == "SNOMED-CT"


def test_mr_png_and_fresh_seed_printed(tmp_path: Path) -> None:
    pytest.importorskip("nilearn")
    out = tmp_path / "mr"
    res = _run("--modality", "mr", "--finding", "white_matter_lesion", "--out", str(out), "--size", "32",
               "--slices", "2", "--format", "png", "--acceleration", "2")
    assert res.exit_code == 0, res.output
    assert "pass --seed" in res.output
    assert sorted(p.name for p in (out / "series" / "0000").iterdir()) == ["slice_0000.png", "slice_0001.png"]
    assert (out / "masks" / "0000").is_dir()
    meta = json.loads((out / "manifest.json").read_text())["images"][0]["meta"]
    assert meta["parameters"]["acceleration"] == 2.0 and meta["lines_acquired"] == 16


def test_refusals_in_the_cli_words(tmp_path: Path) -> None:
    res = _run("--modality", "ct", "--finding", "nodule", "--body-part", "wrist", "--out", str(tmp_path / "x"))
    assert res.exit_code == 2
    assert "a nodule is shown in a chest image, not a wrist; pass --body-part chest" in res.output
    res = _run("--modality", "ct", "--photons", "1", "--out", str(tmp_path / "x"))
    assert res.exit_code == 2 and "Pass e.g. --photons 1e5" in res.output, res.output
    assert not (tmp_path / "x").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    res = _run("--modality", "ct", "--out", str(tmp_path / "full"))
    assert res.exit_code == 2 and "--overwrite" in res.output
