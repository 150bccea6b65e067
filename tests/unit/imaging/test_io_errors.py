"""Bad DICOM input gets one clear error naming the file and the fix, never a traceback or a silent skip."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")

from hygeia.errors import ConfigError, DataValidationError
from hygeia.imaging import Volume, list_dicom_series, read_dicom, write_dicom


def _ct(folder: Path, seed: int = 1, n: int = 3, **kw) -> object:
    a = np.arange(n * 8 * 8, dtype=np.float32).reshape(n, 8, 8) - 500
    return write_dicom(Volume(a, "CT", spacing=(2.0, 1.0, 1.0)), folder, seed=seed, **kw)


def test_several_series_and_mixed_modalities_are_named_and_one_can_be_chosen(tmp_path: Path) -> None:
    ct = _ct(tmp_path / "scans" / "ct")
    mr = write_dicom(Volume(np.ones((2, 8, 8)), "MR"), tmp_path / "scans" / "mr", seed=2)
    with pytest.raises(DataValidationError) as info:
        read_dicom(tmp_path / "scans")
    text = str(info.value)
    assert "mixed modalities (CT, MR) in 2 series" in text
    assert f"{ct.series_uid} (CT, 'Synthetic CT', 3 files)" in text and f"{mr.series_uid} (MR," in text
    assert f"series='{ct.series_uid}'" in text
    assert read_dicom(tmp_path / "scans", series=mr.series_uid).modality == "MR"
    assert [s.uid for s in list_dicom_series(tmp_path / "scans")] == [ct.series_uid, mr.series_uid]
    with pytest.raises(DataValidationError, match=re.escape("series '1.2.3' is not in")):
        read_dicom(tmp_path / "scans", series="1.2.3")


def test_mixed_modalities_within_one_series(tmp_path: Path) -> None:
    s = _ct(tmp_path / "ct")
    ds = pydicom.dcmread(s.paths[1])
    ds.Modality = "MR"
    ds.save_as(s.paths[1])
    with pytest.raises(DataValidationError, match=r"mixed modalities in one series: CT: IM00001\.dcm, IM00003\.dcm; "
                                                  r"MR: IM00002\.dcm"):
        read_dicom(s.folder)


@pytest.mark.parametrize("keep", [100, 600, -10])
def test_truncated_file_is_named(keep: int, tmp_path: Path) -> None:
    s = _ct(tmp_path / "ct")
    data = s.paths[1].read_bytes()
    s.paths[1].write_bytes(data[:keep])
    with pytest.raises(DataValidationError) as info:
        read_dicom(s.folder)
    text = str(info.value)
    assert str(s.paths[1]) in text and "truncated" in text
    assert re.search(r"Copy (it|them) again from (its|their) source", text)


def test_compressed_transfer_syntax_without_decoder_names_syntax_and_package(tmp_path: Path) -> None:
    from pydicom.encaps import encapsulate
    from pydicom.pixels.decoders.base import get_decoder
    from pydicom.uid import HTJ2KLossless

    if get_decoder(HTJ2KLossless).is_available:
        pytest.skip("an HTJ2K decoder (pylibjpeg-openjpeg) is installed here")
    s = _ct(tmp_path / "ct", n=1)
    ds = pydicom.dcmread(s.paths[0])
    ds.file_meta.TransferSyntaxUID = HTJ2KLossless
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(60)])  # a codestream header; never decoded
    ds["PixelData"].VR = "OB"
    ds.save_as(s.paths[0], enforce_file_format=True)
    with pytest.raises(DataValidationError) as info:
        read_dicom(s.folder)
    text = str(info.value)
    assert "High-Throughput JPEG 2000 Image Compression (Lossless Only) (1.2.840.10008.1.2.4.201)" in text
    assert "pip install pylibjpeg pylibjpeg-openjpeg" in text and str(s.paths[0]) in text


def test_rle_compressed_series_reads_with_pydicom_alone(tmp_path: Path) -> None:
    from pydicom.uid import RLELossless

    s = _ct(tmp_path / "ct")
    for p in s.paths:
        ds = pydicom.dcmread(p)
        ds.compress(RLELossless)
        ds.save_as(p)
    back = read_dicom(s.folder)
    assert back.array.min() == -500 and back.array.max() == 3 * 64 - 501


def test_empty_folder_missing_folder_and_non_dicom_files(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="is empty: no DICOM files found"):
        read_dicom(tmp_path / "empty")
    with pytest.raises(ConfigError, match="does not exist"):
        read_dicom(tmp_path / "nowhere")
    s = _ct(tmp_path / "ct")
    (s.folder / "notes.txt").write_text("scan notes", encoding="utf-8")
    (s.folder / "blob.dcm").write_bytes(bytes(range(256)) * 3)
    with pytest.raises(DataValidationError) as info:
        read_dicom(s.folder)
    text = str(info.value)
    assert "not DICOM files" in text and "notes.txt" in text and "blob.dcm" in text
    assert "Move them out of the folder" in text
    with pytest.raises(DataValidationError, match="not DICOM files"):
        read_dicom(s.folder / "notes.txt")  # one file passed directly
    (s.folder / "notes.txt").unlink()
    (s.folder / "blob.dcm").unlink()
    (s.folder / ".DS_Store").write_bytes(b"\0\1")  # hidden files are skipped
    assert read_dicom(s.folder).shape == (3, 8, 8)


def test_slices_sharing_a_position_or_unevenly_spaced(tmp_path: Path) -> None:
    s = _ct(tmp_path / "ct")
    ds = pydicom.dcmread(s.paths[2])
    ds.ImagePositionPatient = [0, 0, 2]  # same as slice 2
    ds.save_as(s.paths[2])
    with pytest.raises(DataValidationError, match="3 files but only 2 slice positions"):
        read_dicom(s.folder)
    ds.ImagePositionPatient = [0, 0, 7]
    ds.save_as(s.paths[2])
    with pytest.raises(DataValidationError, match=r"unevenly spaced \(gaps 2 to 5 mm\)"):
        read_dicom(s.folder)


def test_slices_are_sorted_by_position_not_by_file_name(tmp_path: Path) -> None:
    s = _ct(tmp_path / "ct")
    shutil.move(s.paths[0], s.folder / "zz.dcm")
    back = read_dicom(s.folder)
    assert back.array[0, 0, 0] == -500 and back.origin == (0.0, 0.0, 0.0)


def test_missing_imaging_package_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    from hygeia.errors import MissingExtraError
    from hygeia.imaging import read_nifti

    monkeypatch.setitem(sys.modules, "nibabel", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=re.escape("pip install 'hygeia[imaging]'")):
        read_nifti(tmp_path / "a.nii.gz")


def test_left_handed_volume_comes_back_as_the_same_physical_image(tmp_path: Path) -> None:
    """DICOM orders slices along the normal row x column: a volume whose slice axis points the other way is read
    back with its slices reversed, its origin at its last slice and its slice axis along the normal."""
    a = np.arange(3 * 4 * 4, dtype=np.float32).reshape(3, 4, 4)
    v = Volume(a, "CT", spacing=(2.0, 1.0, 1.0), origin=(0.0, 0.0, 10.0),
               direction=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, -1.0)))
    back = read_dicom(write_dicom(v, tmp_path / "lh", seed=1).folder)
    assert np.array_equal(back.array, a[::-1])
    assert back.origin == (0.0, 0.0, 6.0) and back.direction[2] == (0.0, 0.0, 1.0)
