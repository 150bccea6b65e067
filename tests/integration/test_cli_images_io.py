"""``hygeia images convert``: DICOM -> NIfTI -> DICOM -> PNG with exact values; errors in the CLI's words, no
partial output."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

from hygeia.cli.main import main
from hygeia.imaging import Volume, read_dicom, read_nifti, write_dicom

DIRECTION = ((0.8, 0.6, 0.0), (-0.6, 0.8, 0.0), (0.0, 0.0, 1.0))


def _ct() -> Volume:
    a = np.linspace(-1024, 3071, 3 * 10 * 8).round().reshape(3, 10, 8).astype(np.float32)
    return Volume(a, "CT", spacing=(2.5, 0.7, 0.9), origin=(-50.0, 20.0, 10.0), direction=DIRECTION,
                  meta={"renderer": "cli-test", "seed": 5})


def _run(*args: str):
    return CliRunner().invoke(main, ["images", "convert", *args])


def test_dicom_to_nifti_to_dicom_to_png_keeps_values_and_geometry(tmp_path: Path) -> None:
    v = _ct()
    write_dicom(v, tmp_path / "ct", seed=1)
    res = _run(str(tmp_path / "ct"), "--out", str(tmp_path / "ct.nii.gz"))
    assert res.exit_code == 0, res.output
    assert "Converted 3 CT slices from DICOM to NIfTI" in res.output and "-1024 to 3071 HU" in res.output
    nifti = read_nifti(tmp_path / "ct.nii.gz")
    assert np.array_equal(nifti.array, v.array) and np.allclose(nifti.direction, DIRECTION, atol=1e-6)

    res = _run(str(tmp_path / "ct.nii.gz"), "--out", str(tmp_path / "back"), "--format", "dicom")
    assert res.exit_code == 0, res.output
    seed = int(re.search(r"pass --seed (\d+) for the same UIDs", res.output).group(1))
    assert "Synthetic Data YES" in res.output
    back = read_dicom(tmp_path / "back")
    assert np.array_equal(back.array, v.array) and np.allclose(back.origin, v.origin, atol=1e-4)
    assert back.meta["renderer"] == "cli-test"
    uid = re.search(r"series UID\s+(\S+)", res.output).group(1)
    again = _run(str(tmp_path / "ct.nii.gz"), "--out", str(tmp_path / "back"), "--seed", str(seed), "--overwrite",
                 "-q")
    assert again.exit_code == 0 and again.output == ""
    assert read_dicom(tmp_path / "back").meta["source"]["series_uid"] == uid  # same seed, same UIDs

    res = _run(str(tmp_path / "back"), "--out", str(tmp_path / "png"), "--format", "png", "--window", "bone")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [f"slice_000{i}.png" for i in range(3)]


def test_several_series_named_and_chosen_with_series(tmp_path: Path) -> None:
    ct = write_dicom(_ct(), tmp_path / "scans" / "ct", seed=1)
    write_dicom(Volume(np.ones((2, 4, 4)), "MR"), tmp_path / "scans" / "mr", seed=2)
    res = _run(str(tmp_path / "scans"), "--out", str(tmp_path / "x.nii"))
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "mixed modalities (CT, MR) in 2 series" in res.output and f"--series {ct.series_uid}" in res.output
    assert not (tmp_path / "x.nii").exists()
    res = _run(str(tmp_path / "scans"), "--series", ct.series_uid, "--out", str(tmp_path / "x.nii"), "-q")
    assert res.exit_code == 0 and read_nifti(tmp_path / "x.nii").shape == (3, 10, 8)


def test_bad_input_and_options_in_the_cli_words(tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("not an image", encoding="utf-8")
    res = _run(str(tmp_path / "note.txt"), "--out", str(tmp_path / "o.nii"))
    assert res.exit_code == 2 and "not DICOM files" in res.output and "note.txt" in res.output
    (tmp_path / "empty").mkdir()
    res = _run(str(tmp_path / "empty"), "--out", str(tmp_path / "o.nii"))
    assert res.exit_code == 2 and "is empty: no DICOM files found" in res.output
    plain = tmp_path / "plain.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 2), np.float32), np.eye(4)), plain)
    res = _run(str(plain), "--out", str(tmp_path / "d"))
    assert res.exit_code == 2 and "Pass --modality CT" in res.output
    res = _run(str(plain), "--modality", "MR", "--out", str(tmp_path / "d"), "-q")
    assert res.exit_code == 0
    mr = pydicom.dcmread(min((tmp_path / "d").iterdir()))
    assert mr.Modality == "MR" and "SyntheticData" not in mr  # a file from elsewhere is not called synthetic
    res = _run(str(plain), "--modality", "MR", "--out", str(tmp_path / "w.nii"), "--window", "lung")
    assert res.exit_code == 2 and "Pass --format png" in res.output
    res = _run(str(plain), "--modality", "MR", "--out", str(tmp_path / "d"))
    assert res.exit_code == 2 and "pass --overwrite" in res.output
    res = _run(str(plain), "--modality", "MR", "--out", str(tmp_path / "png"), "--format", "png", "--window", "lung")
    assert res.exit_code == 2 and "in HU, for CT" in res.output
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == [] and not (tmp_path / "w.nii").exists() and not (tmp_path / "png").exists()
