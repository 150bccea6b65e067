"""NIfTI (RAS on disk, LPS in a Volume) and PNG slices through CT windows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

nib = pytest.importorskip("nibabel")
sitk = pytest.importorskip("SimpleITK")
PIL = pytest.importorskip("PIL")

from hygeia.errors import ConfigError, DataValidationError, OutputError
from hygeia.imaging import (
    WINDOWS,
    Volume,
    apply_window,
    read_nifti,
    write_nifti,
    write_png,
)

OBLIQUE = ((0.8, 0.6, 0.0), (-0.6, 0.8, 0.0), (0.0, 0.0, 1.0))


def _volume(modality: str = "CT") -> Volume:
    a = np.arange(3 * 5 * 4, dtype=np.float32).reshape(3, 5, 4) * 7 - 200
    return Volume(a, modality, spacing=(2.5, 0.7, 1.1), origin=(-30.0, 12.5, 80.0), direction=OBLIQUE,
                  meta={"renderer": "test", "seed": 9})


@pytest.mark.parametrize("name", ["v.nii", "v.nii.gz"])
def test_nifti_round_trip_keeps_voxels_geometry_and_meta(name: str, tmp_path: Path) -> None:
    v = _volume()
    path = write_nifti(v, tmp_path / name)
    back = read_nifti(path)
    assert back.modality == "CT" and np.array_equal(back.array, v.array)
    assert np.allclose(back.spacing, v.spacing, atol=1e-5) and np.allclose(back.origin, v.origin, atol=1e-4)
    assert np.allclose(back.direction, v.direction, atol=1e-6)
    assert back.meta["renderer"] == "test" and back.meta["source"]["format"] == "nifti"


def test_nifti_on_disk_is_ras_as_simpleitk_reads_it(tmp_path: Path) -> None:
    """SimpleITK reads NIfTI into LPS: its origin and direction must be the Volume's."""
    v = _volume()
    path = write_nifti(v, tmp_path / "v.nii.gz")
    image = nib.load(path)
    assert np.allclose(image.affine[:3, 3], [30.0, -12.5, 80.0])  # x and y negated: RAS
    assert nib.aff2axcodes(image.affine)[2] == "S"
    simg = sitk.ReadImage(str(path))
    assert np.allclose(simg.GetOrigin(), v.origin, atol=1e-4)
    assert np.allclose(np.array(simg.GetDirection()).reshape(3, 3).T, v.direction, atol=1e-5)
    assert np.allclose(simg.GetSpacing()[::-1], v.spacing, atol=1e-5)
    assert np.array_equal(sitk.GetArrayFromImage(simg), v.array)


def test_nifti_from_elsewhere_needs_a_modality(tmp_path: Path) -> None:
    path = tmp_path / "plain.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 3, 2), np.float32), np.diag([2.0, 3.0, 4.0, 1.0])), path)
    with pytest.raises(ConfigError, match=r"does not record its modality.*Pass modality='CT'"):
        read_nifti(path)
    v = read_nifti(path, modality="MR")
    assert v.shape == (2, 3, 4) and v.spacing == (4.0, 3.0, 2.0)
    assert v.direction[0] == (-1.0, 0.0, 0.0)  # RAS x is LPS -x


def test_nifti_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ends in \.nii or \.nii\.gz"):
        write_nifti(_volume(), tmp_path / "v.txt")
    junk = tmp_path / "junk.nii"
    junk.write_bytes(b"not a nifti file at all")
    with pytest.raises(DataValidationError, match="junk.nii is not a readable NIfTI file"):
        read_nifti(junk, modality="CT")
    good = write_nifti(_volume(), tmp_path / "good.nii")
    short = tmp_path / "short.nii"
    short.write_bytes(good.read_bytes()[:-100])
    with pytest.raises(DataValidationError, match="probably truncated"):
        read_nifti(short)
    with pytest.raises(OutputError, match="already exists"):
        write_nifti(_volume(), good)


def test_apply_window_maps_the_window_onto_0_255() -> None:
    center, width = WINDOWS["lung"]
    out = apply_window(np.array([center - width / 2, center, center + width / 2, 5000.0]), center, width)
    assert out.tolist() == [0, 128, 255, 255]


def test_png_slices_with_ct_windows_and_synthetic_marking(tmp_path: Path) -> None:
    from PIL import Image

    v = _volume()
    paths = write_png(v, tmp_path / "png", window="bone")
    assert [p.name for p in paths] == ["slice_0000.png", "slice_0001.png", "slice_0002.png"]
    with Image.open(paths[1]) as img:
        assert img.mode == "L" and img.size == (4, 5)
        assert img.text["Synthetic"] == "YES" and json.loads(img.text["hygeia:meta"])["seed"] == 9
        assert np.array_equal(np.asarray(img), apply_window(v.array[1], *WINDOWS["bone"]))
    with pytest.raises(ConfigError, match="window must be one of lung, soft, bone"):
        write_png(v, tmp_path / "x", window="brain")
    with pytest.raises(ConfigError, match="in HU, for CT"):
        write_png(_volume("MR"), tmp_path / "y", window="lung")
    mr = write_png(_volume("MR"), tmp_path / "mr")
    with Image.open(mr[0]) as img:
        assert np.asarray(img).min() == 0
    with Image.open(mr[-1]) as img:
        assert np.asarray(img).max() == 255


def test_overwrite_never_replaces_a_folder_of_other_files(tmp_path: Path) -> None:
    from hygeia.imaging import write_dicom

    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError, match=r"holds files Hygeia did not write there \(e\.g\. 'thesis\.txt'\)"):
        write_png(_volume(), mine, overwrite=True)
    with pytest.raises(OutputError, match="did not write there"):
        write_dicom(_volume(), mine, overwrite=True)
    assert (mine / "thesis.txt").read_text(encoding="utf-8") == "keep me"
    write_png(_volume(), tmp_path / "png")
    assert len(write_png(_volume("MR"), tmp_path / "png", overwrite=True)) == 3  # ours: replaced


def test_source_path_and_uids_of_a_read_volume_are_not_written_again(tmp_path: Path) -> None:
    v = _volume()
    v.meta["source"] = {"format": "dicom", "path": "/data/smith_john/ct", "study_uid": "1.2.3.4"}
    write_nifti(v, tmp_path / "v.nii")
    write_png(v, tmp_path / "png")
    for path in [tmp_path / "v.nii", *(tmp_path / "png").iterdir()]:
        data = path.read_bytes()
        assert b"smith_john" not in data and b"1.2.3.4" not in data
    assert read_nifti(tmp_path / "v.nii").meta["renderer"] == "test"
