"""DICOM written by Hygeia: exact HU, spacing and orientation through pydicom, SimpleITK and dcm2niix;
required attributes of each IOD; synthetic marking; deterministic UIDs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
sitk = pytest.importorskip("SimpleITK")
nib = pytest.importorskip("nibabel")

from hygeia.imaging import (
    DicomStudy,
    Finding,
    Volume,
    check_dicom,
    read_dicom,
    read_nifti,
    write_dicom,
)
from hygeia.imaging._dicom_iod import IODS


def _rotation(ax: float, ay: float, az: float) -> np.ndarray:
    """Rows: the x, y, z axes of a Volume turned by the three angles (degrees); right-handed."""
    a, b, c = np.radians([ax, ay, az])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return (rz @ ry @ rx).T


DIRECTION = _rotation(20, -15, 30)


@pytest.fixture(scope="module")
def ct() -> Volume:
    """Oblique, anisotropic CT with whole HU spanning -1024..3071 and a finding."""
    rng = np.random.default_rng(0)
    a = rng.integers(-1024, 3072, size=(5, 12, 10)).astype(np.float32)
    a[0, 0, 0], a[-1, -1, -1] = -1024, 3071
    mask = np.zeros(a.shape, bool)
    mask[2, 4:6, 4:6] = True
    return Volume(a, "CT", spacing=(3.0, 0.6, 0.9), origin=(-100.5, 20.25, 33.0),
                  direction=tuple(map(tuple, DIRECTION)),
                  findings=[Finding("nodule", mask, 60.0, (("SNOMED-CT", "427359005"),))],
                  meta={"renderer": "ct-test", "seed": 3, "photons": 1e5})


@pytest.fixture(scope="module")
def ct_series(ct: Volume, tmp_path_factory: pytest.TempPathFactory):
    return write_dicom(ct, tmp_path_factory.mktemp("d") / "ct", seed=11, series_description="oblique test")


def _lps_affine(direction, spacing, origin) -> np.ndarray:
    a = np.eye(4)
    d = np.asarray(direction)
    sz, sy, sx = spacing
    a[:3, 0], a[:3, 1], a[:3, 2], a[:3, 3] = d[0] * sx, d[1] * sy, d[2] * sz, origin
    return a


def _same_physical_image(vol: Volume, array_xyz: np.ndarray, affine_lps: np.ndarray) -> np.ndarray:
    """``array_xyz`` (indexed x, y, z with ``affine_lps``) resampled onto ``vol``'s grid; the grids must coincide."""
    ours = _lps_affine(vol.direction, vol.spacing, vol.origin)
    m = np.linalg.inv(ours) @ affine_lps  # their voxel index -> our voxel index
    perm = np.rint(m[:3, :3])
    assert np.allclose(m[:3, :3], perm, atol=1e-4), m  # axes coincide up to order and sign
    assert np.allclose(m[:3, 3], np.rint(m[:3, 3]), atol=1e-3)
    idx = np.indices(array_xyz.shape).reshape(3, -1)
    ours_idx = (perm @ idx + np.rint(m[:3, 3])[:, None]).astype(int)
    out = np.full(vol.shape[::-1], np.nan)
    out[tuple(ours_idx)] = array_xyz.reshape(-1)
    return out.transpose(2, 1, 0)


def test_pydicom_round_trip_is_exact(ct: Volume, ct_series) -> None:
    back = read_dicom(ct_series.folder)
    assert back.modality == "CT" and back.shape == ct.shape
    assert np.array_equal(back.array, ct.array)
    assert np.allclose(back.spacing, ct.spacing, atol=1e-9)
    assert np.allclose(back.origin, ct.origin, atol=1e-9)
    assert np.allclose(back.direction, ct.direction, atol=1e-9)
    assert back.meta["renderer"] == "ct-test" and back.meta["seed"] == 3
    assert back.meta["findings_written"][0]["voxels"] == 4
    assert back.meta["source"]["series_uid"] == ct_series.series_uid


def test_simpleitk_reads_exact_hu_spacing_and_orientation(ct: Volume, ct_series) -> None:
    reader = sitk.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(ct_series.folder), ct_series.series_uid)
    reader.SetFileNames(names)
    image = reader.Execute()
    array = sitk.GetArrayFromImage(image)  # (z, y, x)
    direction = np.array(image.GetDirection()).reshape(3, 3).T  # rows: axes
    affine = _lps_affine(direction, image.GetSpacing()[::-1], image.GetOrigin())
    resampled = _same_physical_image(ct, array.transpose(2, 1, 0), affine)
    assert np.array_equal(resampled, ct.array)
    assert np.allclose(image.GetSpacing()[::-1], ct.spacing, atol=1e-6)
    assert np.allclose(direction, DIRECTION, atol=1e-6)
    assert np.allclose(image.GetOrigin(), ct.origin, atol=1e-6)
    via_backend = read_dicom(ct_series.folder, backend="simpleitk")
    assert np.array_equal(via_backend.array, ct.array)


def _dcm2niix() -> str:
    exe = shutil.which("dcm2niix", path=str(Path(sys.executable).parent)) or shutil.which("dcm2niix")
    if exe is None:
        pytest.skip("the dcm2niix binary (PyPI package dcm2niix) is not installed")
    return exe


def test_dcm2niix_reads_exact_hu_spacing_and_orientation(ct: Volume, ct_series, tmp_path: Path) -> None:
    out = tmp_path / "nii"
    out.mkdir()
    res = subprocess.run([_dcm2niix(), "-z", "n", "-f", "ct", "-o", str(out), str(ct_series.folder)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    image = nib.load(out / "ct.nii")
    ras_to_lps = np.diag([-1.0, -1.0, 1.0, 1.0])
    data = np.asanyarray(image.dataobj)
    assert data.dtype == np.int16  # stored integers, slope 1: HU as written
    resampled = _same_physical_image(ct, data.astype(np.float64), ras_to_lps @ image.affine)
    assert np.array_equal(resampled, ct.array)
    # dcm2niix's NIfTI, read back by Hygeia: the same geometry (float32 header precision)
    back = read_nifti(out / "ct.nii", modality="CT")
    assert sorted(np.round(back.spacing, 5)) == sorted(ct.spacing)
    m = np.abs(np.asarray(back.direction) @ DIRECTION.T)  # |cosines| between their axes and ours
    assert np.allclose(np.sort(m, axis=1)[:, -1], 1.0, atol=1e-5)
    sidecar = (out / "ct.json").read_text()
    assert '"Modality": "CT"' in sidecar


def test_fractional_hu_with_ct_precision(tmp_path: Path) -> None:
    a = np.array([[[-1000.25, 0.1, 12.34, 3071.0]]], np.float32)
    s = write_dicom(Volume(a, "CT"), tmp_path / "ct", seed=1, ct_precision=0.1)
    assert pydicom.dcmread(s.paths[0]).RescaleSlope == 0.1
    back = read_dicom(s.folder)
    assert np.allclose(back.array, np.round(a.astype(np.float64), 1), atol=1e-3)
    whole = read_dicom(write_dicom(Volume(a, "CT"), tmp_path / "ct1", seed=1).folder)
    assert np.array_equal(whole.array, np.rint(a))


@pytest.mark.parametrize("modality", ["CT", "MR", "DX"])
def test_every_iod_has_its_required_attributes(modality: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(100, 30, size=(2, 8, 8)) if modality != "CT" else rng.integers(-1000, 1000, (2, 8, 8))
    v = Volume(a.astype(np.float32), modality, spacing=(4.0, 0.5, 0.5), meta={"renderer": "r", "te_ms": 20})
    s = write_dicom(v, tmp_path / "s", seed=5, study=DicomStudy(patient_id="p-1", sex="F"))
    for path in s.paths:
        assert check_dicom(path) == []
        ds = pydicom.dcmread(path, force=False)
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.SOPClassUID == s.sop_class_uid and ds.SOPClassUID in IODS
        assert ds.SyntheticData == "YES" and ds.BurnedInAnnotation == "NO" and ds.PatientIdentityRemoved == "YES"
        assert ds.PatientBirthDate == "" and ds.PatientID == "p-1" and str(ds.PatientName) == "SYNTHETIC^p-1"
        item = ds.ContributingEquipmentSequence[0].PurposeOfReferenceCodeSequence[0]
        assert (item.CodeValue, item.CodingSchemeDesignator) == ("109100", "DCM")
        assert "SYNTHETIC" in ds.ImageComments
    back = read_dicom(s.folder)
    assert back.modality == modality
    step = 1.0 if modality == "CT" else (a.max() - a.min()) / 65535
    assert np.abs(back.array - v.array).max() <= step / 2 + 1e-3
    assert np.allclose(back.spacing, v.spacing)


def test_check_dicom_names_a_missing_type1_and_type2_attribute(ct_series, tmp_path: Path) -> None:
    ds = pydicom.dcmread(ct_series.paths[0])
    del ds.PixelSpacing  # Image Plane, Type 1
    del ds.PatientBirthDate  # Patient, Type 2
    ds.SyntheticData = "NO"
    bad = tmp_path / "bad.dcm"
    ds.save_as(bad)
    problems = check_dicom(bad)
    assert "Image Plane (C.7.6.2): PixelSpacing (Type 1) is missing" in problems
    assert "Patient (C.7.1.1): PatientBirthDate (Type 2) is missing" in problems
    assert "Hygeia: SyntheticData is 'NO', must be 'YES'" in problems


def test_same_seed_same_uids_new_seed_new_uids(tmp_path: Path) -> None:
    v = Volume(np.zeros((2, 4, 4)), "MR")
    a = write_dicom(v, tmp_path / "a", seed=3)
    b = write_dicom(v, tmp_path / "b", seed=3)
    c = write_dicom(v, tmp_path / "c")
    assert (a.study_uid, a.series_uid, a.sop_uids) == (b.study_uid, b.series_uid, b.sop_uids)
    assert a.study_uid.startswith("2.25.") and len(set(a.sop_uids)) == 2
    assert c.series_uid != a.series_uid and isinstance(c.seed, int)
    joined = write_dicom(v, tmp_path / "d", seed=4, study=a.study_uid, series_number=2)
    assert joined.study_uid == a.study_uid and joined.series_uid != a.series_uid


def test_writing_refuses_an_existing_folder_and_non_finite_values(tmp_path: Path) -> None:
    from hygeia.errors import ConfigError, OutputError

    v = Volume(np.zeros((1, 4, 4)), "CT")
    write_dicom(v, tmp_path / "s", seed=1)
    with pytest.raises(OutputError, match="already exists"):
        write_dicom(v, tmp_path / "s", seed=1)
    write_dicom(v, tmp_path / "s", seed=2, overwrite=True)
    bad = Volume(np.full((1, 2, 2), np.nan), "CT")
    with pytest.raises(ConfigError, match="NaN or infinite"):
        write_dicom(bad, tmp_path / "nan")
    assert not (tmp_path / "nan").exists()
    with pytest.raises(ConfigError, match="do not fit 16 bits"):
        write_dicom(Volume(np.full((1, 2, 2), 5000.0), "CT"), tmp_path / "big", ct_precision=0.1)


def test_a_scanner_file_is_read_and_rewritten_without_its_identity_and_not_called_synthetic(tmp_path: Path) -> None:
    """pydicom's bundled CT_small.dcm (a GE CT slice) stands for a user's real scan."""
    from pydicom.data import get_testdata_file

    source = get_testdata_file("CT_small.dcm", download=False)
    if source is None:
        pytest.skip("pydicom's test files are not installed")
    original = pydicom.dcmread(source)
    v = read_dicom(source)
    assert v.modality == "CT" and v.shape == (1, 128, 128) and v.meta["source"]["synthetic"] is False
    assert np.array_equal(v.array[0], original.pixel_array * float(original.RescaleSlope)
                          + float(original.RescaleIntercept))
    s = write_dicom(v, tmp_path / "copy", seed=1)
    assert s.synthetic is False and check_dicom(s.paths[0], synthetic=False) == []
    ds = pydicom.dcmread(s.paths[0])
    assert "SyntheticData" not in ds and ds.PatientName != original.PatientName
    assert ds.ContributingEquipmentSequence[0].PurposeOfReferenceCodeSequence[0].CodeValue == "109103"
    written = s.paths[0].read_bytes()
    for identifying in (str(original.PatientName), original.PatientID, original.StudyInstanceUID):
        assert identifying.encode() not in written
    assert np.array_equal(read_dicom(s.folder).array, v.array)
