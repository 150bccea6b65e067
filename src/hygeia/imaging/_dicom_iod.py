"""The attributes each IOD that Hygeia writes must carry, and a check of a file against them.

Each module's table lists its Type 1 (present, with a value), Type 2 (present, may be
empty) and the conditional attributes (1C/2C) whose condition always holds for what
Hygeia writes, from DICOM PS3.3 (2025 editions; section numbers below). Type 3 attributes
are optional and not listed, except where Hygeia's own rules need them
(:data:`HYGEIA_REQUIRED`: Synthetic Data, Burned In Annotation, Patient Identity Removed).

IODs (PS3.3 Annex A) and the modules they hold (M: mandatory, U: user option; only the
modules Hygeia writes are checked):

- CT Image (A.3, SOP class 1.2.840.10008.5.1.4.1.1.2): Patient, General Study, General
  Series, Frame of Reference, General Equipment, General Image, Image Plane, Image Pixel,
  CT Image, VOI LUT (U), SOP Common.
- MR Image (A.4, 1.2.840.10008.5.1.4.1.1.4): the same with MR Image instead of CT Image.
- Secondary Capture Image (A.8.1, 1.2.840.10008.5.1.4.1.1.7), used for DX (projection
  X-ray) images: Patient, General Study, General Series, SC Equipment, General Image,
  Image Pixel, SC Image, Modality LUT (U), VOI LUT (U), SOP Common.

Example:
    >>> sorted(IODS)
    ['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.4', '1.2.840.10008.5.1.4.1.1.7']
    >>> [m for m, _ in IODS[CT_IMAGE_STORAGE]][:3]
    ['Patient (C.7.1.1)', 'General Study (C.7.2.1)', 'General Series (C.7.3.1)']
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["CT_IMAGE_STORAGE", "HYGEIA_REQUIRED", "IODS", "MR_IMAGE_STORAGE", "SECONDARY_CAPTURE_STORAGE",
           "check_dicom"]

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
SECONDARY_CAPTURE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"

# (keyword, type) per module; "1C"/"2C" only where the condition holds for every image Hygeia writes
_PATIENT = ("Patient (C.7.1.1)", (
    ("PatientName", "2"), ("PatientID", "2"), ("PatientBirthDate", "2"), ("PatientSex", "2"),
    ("DeidentificationMethod", "1C"),  # required if Patient Identity Removed is YES
))
_GENERAL_STUDY = ("General Study (C.7.2.1)", (
    ("StudyInstanceUID", "1"), ("StudyDate", "2"), ("StudyTime", "2"), ("ReferringPhysicianName", "2"),
    ("StudyID", "2"), ("AccessionNumber", "2"),
))
_GENERAL_SERIES = ("General Series (C.7.3.1)", (
    ("Modality", "1"), ("SeriesInstanceUID", "1"), ("SeriesNumber", "2"),
))
_GENERAL_SERIES_CT_MR = ("General Series (C.7.3.1)", (
    ("Modality", "1"), ("SeriesInstanceUID", "1"), ("SeriesNumber", "2"),
    ("PatientPosition", "2C"),  # required for CT and MR Image Storage
))
_FRAME_OF_REFERENCE = ("Frame of Reference (C.7.4.1)", (
    ("FrameOfReferenceUID", "1"), ("PositionReferenceIndicator", "2"),
))
_GENERAL_EQUIPMENT = ("General Equipment (C.7.5.1)", (("Manufacturer", "2"),))
_SC_EQUIPMENT = ("SC Equipment (C.8.6.1)", (("ConversionType", "1"),))
_GENERAL_IMAGE = ("General Image (C.7.6.1)", (("InstanceNumber", "2"),))
_GENERAL_IMAGE_SC = ("General Image (C.7.6.1)", (
    ("InstanceNumber", "2"),
    ("PatientOrientation", "2C"),  # required if the image has no Image Orientation/Position (Patient)
))
_IMAGE_PLANE = ("Image Plane (C.7.6.2)", (
    ("PixelSpacing", "1"), ("ImageOrientationPatient", "1"), ("ImagePositionPatient", "1"), ("SliceThickness", "2"),
))
_IMAGE_PIXEL = ("Image Pixel (C.7.6.3)", (
    ("SamplesPerPixel", "1"), ("PhotometricInterpretation", "1"), ("Rows", "1"), ("Columns", "1"),
    ("BitsAllocated", "1"), ("BitsStored", "1"), ("HighBit", "1"), ("PixelRepresentation", "1"),
    ("PixelData", "1C"),  # required if Pixel Data Provider URL is absent
))
_CT_IMAGE = ("CT Image (C.8.2.1)", (
    ("ImageType", "1"), ("SamplesPerPixel", "1"), ("PhotometricInterpretation", "1"), ("BitsAllocated", "1"),
    ("BitsStored", "1"), ("HighBit", "1"), ("RescaleIntercept", "1"), ("RescaleSlope", "1"), ("KVP", "2"),
    ("AcquisitionNumber", "2"),
))
_MR_IMAGE = ("MR Image (C.8.3.1)", (
    ("ImageType", "1"), ("SamplesPerPixel", "1"), ("PhotometricInterpretation", "1"), ("BitsAllocated", "1"),
    ("BitsStored", "1"), ("HighBit", "1"), ("ScanningSequence", "1"), ("SequenceVariant", "1"),
    ("ScanOptions", "2"), ("MRAcquisitionType", "2"), ("EchoTime", "2"), ("EchoTrainLength", "2"),
    ("RepetitionTime", "2C"),  # required unless Scanning Sequence is EP and Sequence Variant is not SK
))
_SC_IMAGE = ("SC Image (C.8.6.2)", ())  # every attribute is Type 3 or conditional on multi-frame data
_MODALITY_LUT = ("Modality LUT (C.11.1)", (
    ("RescaleIntercept", "1C"), ("RescaleSlope", "1C"), ("RescaleType", "1C"),  # Hygeia always rescales
))
_VOI_LUT = ("VOI LUT (C.11.2)", (("WindowCenter", "1C"), ("WindowWidth", "1C")))  # Hygeia always sets a window
_SOP_COMMON = ("SOP Common (C.12.1)", (
    ("SOPClassUID", "1"), ("SOPInstanceUID", "1"),
    ("SpecificCharacterSet", "1C"),  # Hygeia writes UTF-8 (ISO_IR 192), an extended character set
))

#: SOP class UID -> the modules of its IOD, each ``(name, ((keyword, type), ...))``.
IODS: dict[str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]] = {
    CT_IMAGE_STORAGE: (_PATIENT, _GENERAL_STUDY, _GENERAL_SERIES_CT_MR, _FRAME_OF_REFERENCE, _GENERAL_EQUIPMENT,
                       _GENERAL_IMAGE, _IMAGE_PLANE, _IMAGE_PIXEL, _CT_IMAGE, _VOI_LUT, _SOP_COMMON),
    MR_IMAGE_STORAGE: (_PATIENT, _GENERAL_STUDY, _GENERAL_SERIES_CT_MR, _FRAME_OF_REFERENCE, _GENERAL_EQUIPMENT,
                       _GENERAL_IMAGE, _IMAGE_PLANE, _IMAGE_PIXEL, _MR_IMAGE, _VOI_LUT, _SOP_COMMON),
    SECONDARY_CAPTURE_STORAGE: (_PATIENT, _GENERAL_STUDY, _GENERAL_SERIES, _SC_EQUIPMENT, _GENERAL_IMAGE_SC,
                                _IMAGE_PIXEL, _SC_IMAGE, _MODALITY_LUT, _VOI_LUT, _SOP_COMMON),
}

#: What every Hygeia image states (Type 3 in PS3.3, required by Hygeia): keyword -> value.
HYGEIA_REQUIRED = {"SyntheticData": "YES", "BurnedInAnnotation": "NO", "PatientIdentityRemoved": "YES"}

# enumerated values checked (PS3.3 C.7.6.3.1.2, C.8.2.1.1.x, C.8.3.1.1.x, C.12.1, C.7.1.1)
_ENUMS = {
    "PhotometricInterpretation": {"MONOCHROME1", "MONOCHROME2"},
    "PixelRepresentation": {0, 1},
    "SamplesPerPixel": {1},
    "PatientSex": {"", "M", "F", "O"},
    "SyntheticData": {"YES", "NO"},
}
# PS3.3 C.8.2.1.1.4 and C.8.3.1.1.4: CT and MR images are 16 bits allocated, 12 to 16 stored
_BITS = {CT_IMAGE_STORAGE: {16}, MR_IMAGE_STORAGE: {16}}


def _empty(value: Any) -> bool:
    return value is None or value == "" or (hasattr(value, "__len__") and len(value) == 0)


def check_dicom(path: str | os.PathLike[str], *, synthetic: bool = True) -> list[str]:
    """Problems of one DICOM file against its IOD's required attributes and the file meta.

    Reads ``path`` with ``pydicom.dcmread(force=False)`` (so a file without the DICOM
    preamble and meta is refused), then checks: the file meta (PS3.10 7.1: Media Storage
    SOP Class/Instance UID matching the dataset, a Transfer Syntax UID), every Type 1
    attribute present with a value, every Type 2 attribute present, the enumerated values
    above, pixel data of the right length, and Hygeia's own :data:`HYGEIA_REQUIRED`.

    Args:
        path: a DICOM file (CT Image, MR Image or Secondary Capture Image Storage).
        synthetic: also require the synthetic marking (Synthetic Data YES, Burned In Annotation NO);
            False for a converted file that was not synthetic (then only Patient Identity Removed YES).

    Returns:
        One line per problem (``'<module>: <keyword> ...'``); empty when the file passes.

    Example:
        >>> import tempfile, numpy as np
        >>> from hygeia.imaging import Volume, write_dicom
        >>> s = write_dicom(Volume(np.zeros((1, 4, 4)), "CT"), tempfile.mkdtemp() + "/ct", seed=1)
        >>> check_dicom(s.paths[0])
        []
    """
    from hygeia.imaging._io_common import require

    pydicom = require("pydicom", "Checking DICOM files")
    ds = pydicom.dcmread(os.fspath(path), force=False)
    problems: list[str] = []
    meta = ds.file_meta
    for kw in ("MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID", "TransferSyntaxUID",
               "ImplementationClassUID"):
        if _empty(meta.get(kw)):
            problems.append(f"File Meta (PS3.10 7.1): {kw} (Type 1) is missing or empty")
    sop_class = str(ds.get("SOPClassUID", ""))
    if meta.get("MediaStorageSOPClassUID") != sop_class:
        problems.append(f"File Meta: MediaStorageSOPClassUID {meta.get('MediaStorageSOPClassUID')} differs "
                        f"from SOPClassUID {sop_class}")
    if meta.get("MediaStorageSOPInstanceUID") != ds.get("SOPInstanceUID"):
        problems.append("File Meta: MediaStorageSOPInstanceUID differs from SOPInstanceUID")
    if sop_class not in IODS:
        return [*problems, f"SOP Common: SOPClassUID {sop_class!r} is not one Hygeia writes ({', '.join(IODS)})"]
    for module, attributes in IODS[sop_class]:
        for keyword, kind in attributes:
            if keyword not in ds:
                problems.append(f"{module}: {keyword} (Type {kind}) is missing")
            elif kind.startswith("1") and _empty(ds[keyword].value):
                problems.append(f"{module}: {keyword} (Type {kind}) is empty")
    for keyword, allowed in _ENUMS.items():
        if keyword in ds and ds[keyword].value not in allowed:
            problems.append(f"{keyword} is {ds[keyword].value!r}; allowed: {sorted(allowed, key=str)}")
    if sop_class in _BITS and ds.get("BitsAllocated") not in _BITS[sop_class]:
        problems.append(f"BitsAllocated is {ds.get('BitsAllocated')}; this IOD needs 16")
    if "PixelData" in ds and {"Rows", "Columns", "BitsAllocated"} <= set(ds.dir()):
        expected = ds.Rows * ds.Columns * ds.BitsAllocated // 8 * int(ds.get("NumberOfFrames", 1) or 1)
        if not meta.TransferSyntaxUID.is_compressed and len(ds.PixelData) not in (expected, expected + 1):
            problems.append(f"Image Pixel: PixelData holds {len(ds.PixelData)} bytes, Rows x Columns x "
                            f"BitsAllocated/8 = {expected}")
    for keyword, value in HYGEIA_REQUIRED.items():
        if (synthetic or keyword == "PatientIdentityRemoved") and ds.get(keyword) != value:
            problems.append(f"Hygeia: {keyword} is {ds.get(keyword)!r}, must be {value!r}")
    return problems
