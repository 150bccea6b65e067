"""Writing a :class:`~hygeia.imaging.Volume` as a DICOM series marked as synthetic.

One file per slice, Explicit VR Little Endian, in a folder written aside and swapped in
whole (:mod:`hygeia.core.atomic`). The SOP class follows the modality:

- **CT** -> CT Image Storage. Voxels are stored as signed 16-bit integers with
  ``RescaleSlope = ct_precision`` (default 1 HU) and ``RescaleIntercept = 0``, so HU are
  rounded to the nearest ``ct_precision``: whole-HU volumes (such as -1024..3071) come
  back exactly; ``ct_precision=0.1`` keeps a tenth of a HU (range +-3276.7 HU).
- **MR** -> MR Image Storage. Integer-valued signal in 0..65535 is stored as is; any
  other signal is scaled linearly onto 0..65535 with RescaleSlope/Intercept (which
  pydicom, SimpleITK and dcm2niix apply), i.e. kept to 1/65535 of its range.
- **DX** (projection X-ray) -> Secondary Capture Image Storage, Conversion Type ``SYN``
  (synthetic image), with the Modality LUT module (RescaleType ``US``) scaling as for MR.
  Digital X-Ray Image Storage was not chosen: its DX Detector and X-Ray Acquisition Dose
  modules need detector and exposure facts a renderer does not have. Secondary Capture
  has no Image Plane module: PixelSpacing (SC Image module) is written, and the origin
  and direction travel in Hygeia's private block (below), from which :func:`read_dicom`
  restores them.

Marked as synthetic and identifying nobody: Synthetic Data (0008,001C) ``YES`` (PS3.3
C.12.1, SOP Common: "some or all of the content of this instance was made artificially
rather than being a faithful representation of acquired data"); a Contributing Equipment
item (Hygeia, its version, the renderer) with Purpose of Reference (109100, DCM,
"Synthesizing Equipment"); Image Comments and De-identification Method saying so;
Patient Identity Removed ``YES``, Burned In Annotation ``NO``, Recognizable Visual
Features ``NO``; Patient's Name and ID a synthetic id; no birth date, sex or dates unless
a :class:`DicomStudy` passes the synthetic patient's.

Provenance: ``Volume.meta`` (renderer, seed, parameters, version; never ``meta['source']``,
the path and UIDs of a file the volume was read from) and the findings'
kinds, contrasts, codes and voxel counts are stored as JSON in the private block
``(0071,xx10)`` reserved by Private Creator ``(0071,0010) = "HYGEIA 1"`` (VR UT).

UIDs: the ``2.25.<integer>`` form of PS3.5 B.2 (a UUID written as a decimal integer,
needing no registered root), the UUID being name-based (RFC 4122 version 5) on the seed,
the part (study, series, frame of reference, instance) and its index, so one seed gives
the same UIDs; without a seed a fresh random one is drawn and recorded in
:attr:`DicomSeries.seed`. (``pydicom.uid.generate_uid(prefix=None)`` ignores its entropy
sources and is random, so it cannot give reproducible UIDs.)
"""

from __future__ import annotations

import json
import math
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hygeia import __version__
from hygeia.core.atomic import atomic_output
from hygeia.core.progress import track
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError
from hygeia.imaging._dicom_iod import (
    CT_IMAGE_STORAGE,
    MR_IMAGE_STORAGE,
    SECONDARY_CAPTURE_STORAGE,
)
from hygeia.imaging._io_common import (
    direction_matrix,
    is_synthetic,
    provenance,
    refuse_foreign_folder,
    require,
)
from hygeia.imaging._volume import Volume

__all__ = ["PRIVATE_CREATOR", "PRIVATE_GROUP", "DicomSeries", "DicomStudy", "write_dicom"]

#: Hygeia's private block: group and Private Creator value; element (0071,xx10) holds the provenance JSON.
PRIVATE_GROUP = 0x0071
PRIVATE_CREATOR = "HYGEIA 1"
_SOP_CLASS = {"CT": CT_IMAGE_STORAGE, "MR": MR_IMAGE_STORAGE, "DX": SECONDARY_CAPTURE_STORAGE}
_WINDOW_CT = (40.0, 400.0)  # soft-tissue window, centre/width HU


@dataclass(frozen=True)
class DicomStudy:
    """The study (and synthetic patient) a series belongs to; every field optional.

    Attributes:
        study_uid: StudyInstanceUID to join (default: a new one from the seed).
        patient_id: the synthetic patient's id, written as Patient ID and Patient's Name
            (default ``SYN-<hash>`` from the study UID).
        birth_date: the synthetic patient's birth date, ``YYYYMMDD`` (default empty).
        sex: ``M``, ``F`` or ``O`` (default empty).
        study_date: ``YYYYMMDD``; study_time ``HHMMSS`` (default empty).
        study_id: Study ID (default empty); accession_number (default empty).
        description: Study Description.

    Example:
        >>> DicomStudy(patient_id="p-17", birth_date="19700101").patient_id
        'p-17'
    """

    study_uid: str | None = None
    patient_id: str | None = None
    birth_date: str = ""
    sex: str = ""
    study_date: str = ""
    study_time: str = ""
    study_id: str = ""
    accession_number: str = ""
    description: str = ""


@dataclass(frozen=True)
class DicomSeries:
    """What :func:`write_dicom` wrote: the files and their UIDs, in slice order.

    Attributes:
        folder: the series folder.
        paths: one file per slice, slice 0 first.
        study_uid, series_uid, frame_of_reference_uid: the UIDs shared by the files.
        sop_uids: SOPInstanceUID of each file, in the order of ``paths``.
        sop_class_uid: CT Image, MR Image or Secondary Capture Image Storage.
        modality: the Volume's modality; seed: the seed the UIDs came from.
        synthetic: whether the files are marked Synthetic Data YES.
    """

    folder: Path
    paths: list[Path]
    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    sop_uids: list[str]
    sop_class_uid: str
    modality: str
    seed: int
    synthetic: bool = True


_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "hygeia.imaging.dicom")


def _uid(seed: int, *parts: object) -> str:
    """A ``2.25.<UUID as an integer>`` UID (PS3.5 B.2) from a name-based (SHA-1, version 5) UUID of the parts."""
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, '/'.join(['hygeia', str(seed), *map(str, parts)])).int}"


def _ds_text(value: float) -> str:
    """The most precise decimal string (DS) of at most 16 characters for ``value``.

    (``pydicom.valuerep.format_number_as_ds`` can give 17, e.g. ``'10.00000000000000'`` for 9.999999999999998.)

    Example:
        >>> _ds_text(9.999999999999998), _ds_text(-0.5999999863760810), _ds_text(1e-20), _ds_text(-1024.0)
        ('10', '-0.5999999863761', '1e-20', '-1024')
    """
    for digits in range(16, 0, -1):
        text = f"{float(value):.{digits}g}"
        if len(text) <= 16:
            return text
    raise ConfigError(f"{value!r} cannot be written as a DICOM decimal string")


def _ds_pair(pydicom: Any, value: float) -> tuple[str, float]:
    """A float as a DS string (<= 16 characters) and the float that string reads back as."""
    text = _ds_text(value)
    return text, float(text)


def _ds(pydicom: Any, values: Any) -> list[str]:
    return [_ds_pair(pydicom, float(v))[0] for v in np.ravel(values)]


def _encode(pydicom: Any, volume: Volume, ct_precision: float) -> tuple[np.ndarray, str, str, int]:
    """Stored integers, RescaleSlope and RescaleIntercept (DS strings) and PixelRepresentation."""
    a = np.asarray(volume.array)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ConfigError(f"the {volume.modality} volume holds NaN or infinite values; replace them "
                          "(e.g. numpy.nan_to_num) before writing DICOM")
    if volume.modality == "CT":
        if not ct_precision > 0:
            raise ConfigError(f"ct_precision must be a positive number of HU, got {ct_precision}. Pass e.g. "
                              "ct_precision=1.0.")
        slope, slope_f = _ds_pair(pydicom, ct_precision)
        # whole HU in float32 are exact (|HU| < 2**24); a finer step is computed in float64
        stored = np.rint(a) if slope_f == 1 else np.rint(a.astype(np.float64) / slope_f)
        lo, hi = float(stored.min()) * slope_f, float(stored.max()) * slope_f
        if stored.min() < -32768 or stored.max() > 32767:
            raise ConfigError(f"CT values {lo:g}..{hi:g} HU do not fit 16 bits at ct_precision={ct_precision}; "
                              "pass a coarser ct_precision=1.0 or clip the volume to -32768..32767 HU")
        return stored.astype(np.int16), slope, "0", 1
    a = a.astype(np.float64, copy=False)
    if np.all(a == np.rint(a)) and a.min() >= 0 and a.max() <= 65535:
        return a.astype(np.uint16), "1", "0", 0
    lo, hi = float(a.min()), float(a.max())
    intercept, lo_f = _ds_pair(pydicom, lo)
    slope, slope_f = _ds_pair(pydicom, (hi - lo_f) / 65535 if hi > lo_f else 1.0)
    while np.rint((hi - lo_f) / slope_f) > 65535:  # the DS rounding made the step a little small
        slope, slope_f = _ds_pair(pydicom, slope_f * (1 + 1e-6))
    return np.clip(np.rint((a - lo_f) / slope_f), 0, 65535).astype(np.uint16), slope, intercept, 0


def _provenance(volume: Volume) -> str:
    findings = [{"kind": f.kind, "contrast": float(f.contrast), "codes": [list(c) for c in f.codes],
                 "voxels": int(np.count_nonzero(f.mask))} for f in volume.findings]
    doc = {"hygeia_version": __version__, "meta": provenance(volume.meta), "findings": findings,
           "geometry": {"origin": list(volume.origin), "direction": [list(r) for r in volume.direction],
                        "spacing": list(volume.spacing)}}
    return json.dumps(doc, default=str, sort_keys=True)


def _code_item(pydicom: Any, value: str, scheme: str, meaning: str) -> Any:
    item = pydicom.Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _base_dataset(pydicom: Any, volume: Volume, study: DicomStudy, uids: dict[str, str], description: str,
                  series_number: int, slope: str, intercept: str, pixel_rep: int, stored: np.ndarray,
                  synthetic: bool) -> Any:
    from pydicom.dataset import Dataset

    meta = volume.meta
    renderer = str(meta.get("renderer", meta.get("generator", "unknown")))
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = _SOP_CLASS[volume.modality]
    if synthetic:
        ds.SyntheticData = "YES"
    # Patient (C.7.1.1): a synthetic id, nothing else unless the synthetic patient's own facts are passed
    patient = study.patient_id or ("SYN-" if synthetic else "ANON-") + uids["study"].rsplit(".", 1)[-1][-10:]
    ds.PatientName = f"{'SYNTHETIC' if synthetic else 'ANONYMOUS'}^{patient}"
    ds.PatientID = patient
    ds.PatientBirthDate = study.birth_date
    ds.PatientSex = study.sex
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = ("Synthetic data: no real patient (Hygeia)" if synthetic else
                                 "Hygeia: pixels and geometry only; no source attributes kept")
    # General Study (C.7.2.1)
    ds.StudyInstanceUID = uids["study"]
    ds.StudyDate, ds.StudyTime = study.study_date, study.study_time
    ds.ReferringPhysicianName = ""
    ds.StudyID, ds.AccessionNumber = study.study_id, study.accession_number
    if study.description:
        ds.StudyDescription = study.description
    # General Series (C.7.3.1)
    ds.Modality = volume.modality
    ds.SeriesInstanceUID = uids["series"]
    ds.SeriesNumber = series_number
    ds.SeriesDescription = description
    # General Equipment (C.7.5.1) / SC Equipment (C.8.6.1)
    ds.Manufacturer = "Hygeia (synthetic)" if synthetic else ""
    if synthetic:
        ds.ManufacturerModelName = renderer[:64]
    ds.SoftwareVersions = f"hygeia {__version__}"
    equipment = Dataset()
    equipment.Manufacturer = "Hygeia"
    equipment.ManufacturerModelName = renderer[:64]
    equipment.SoftwareVersions = f"hygeia {__version__}"
    equipment.PurposeOfReferenceCodeSequence = [_code_item(pydicom, "109100", "DCM", "Synthesizing Equipment")
                                                if synthetic else
                                                _code_item(pydicom, "109103", "DCM", "Modifying Equipment")]
    ds.ContributingEquipmentSequence = [equipment]
    # General Image (C.7.6.1)
    seed = meta.get("seed")
    if synthetic:  # rendered pixels hold no text and no face; of converted pixels Hygeia knows neither
        ds.BurnedInAnnotation = "NO"
        ds.RecognizableVisualFeatures = "NO"
        ds.ImageComments = (f"SYNTHETIC image made by Hygeia {__version__} (renderer {renderer}"
                            + (f", seed {seed}" if seed is not None else "") + "); not a real patient")
    else:
        source = meta.get("source", {}).get("format", "another file")
        ds.ImageComments = f"Converted by Hygeia {__version__} from {source}; not marked as synthetic data"
    # Image Pixel (C.7.6.3)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(stored.shape[1]), int(stored.shape[2])
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = pixel_rep
    # rescale (CT Image C.8.2.1; Modality LUT C.11.1 for SC; standard extended in MR)
    ds.RescaleIntercept, ds.RescaleSlope = intercept, slope
    ds.RescaleType = "HU" if volume.modality == "CT" else "US"
    # VOI LUT (C.11.2): a default window
    if volume.modality == "CT":
        center, width = _WINDOW_CT
    else:
        lo = float(stored.min()) * float(slope) + float(intercept)
        hi = float(stored.max()) * float(slope) + float(intercept)
        center, width = (lo + hi) / 2, max(hi - lo, 1.0)
    ds.WindowCenter, ds.WindowWidth = _ds(pydicom, [center])[0], _ds(pydicom, [width])[0]
    # Hygeia's provenance in its private block
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "UT", _provenance(volume))
    return ds


def _modality_specific(ds: Any, volume: Volume) -> None:
    meta = volume.meta
    if volume.modality == "CT":
        ds.ImageType = ["DERIVED", "PRIMARY", "AXIAL"]
        ds.KVP = _number(meta.get("kvp"))
        ds.AcquisitionNumber = 1
        ds.PatientPosition = ""
    elif volume.modality == "MR":
        ds.ImageType = ["DERIVED", "PRIMARY", "OTHER"]
        sequence = str(meta.get("sequence", "")).lower()
        ds.ScanningSequence = "GR" if sequence in ("gre", "gradient_echo", "gr") else "SE"
        ds.SequenceVariant = "NONE"
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "3D" if volume.shape[0] > 1 and meta.get("acquisition") == "3D" else "2D"
        ds.RepetitionTime = _number(meta.get("tr_ms", meta.get("tr")))
        ds.EchoTime = _number(meta.get("te_ms", meta.get("te")))
        ds.EchoTrainLength = ""
        ds.AcquisitionNumber = 1
        ds.PatientPosition = ""
    else:
        ds.ImageType = ["DERIVED", "SECONDARY"]
        ds.ConversionType = "SYN"
        ds.PatientOrientation = ""


def _number(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v):
        return ""
    return _ds_text(v)


def write_dicom(volume: Volume, folder: str | os.PathLike[str], *, series_description: str | None = None,
                study: DicomStudy | str | None = None, seed: int | None = None, series_number: int = 1,
                ct_precision: float = 1.0, synthetic: bool | None = None, overwrite: bool = False,
                quiet: bool = True) -> DicomSeries:
    """Write ``volume`` as a DICOM series (one file per slice) marked as synthetic.

    See the module docstring for the SOP class of each modality, how values are stored,
    the synthetic-data marking and where provenance goes.

    Args:
        volume: the image; ``volume.meta`` (renderer, seed...) is written as provenance.
        folder: the series folder to write (must not exist, or be empty, unless ``overwrite``).
        series_description: Series Description (default: modality and renderer).
        study: the study to join: a :class:`DicomStudy`, a StudyInstanceUID, or None for a new study.
        seed: seed of the new UIDs (same seed, same UIDs); None draws a fresh one (see ``DicomSeries.seed``).
        series_number: Series Number.
        ct_precision: HU step of CT voxels (RescaleSlope); 1.0 rounds to whole HU.
        synthetic: mark the series as synthetic (the default for a volume made in memory, and for one read from
            a file that was marked so). A volume read from a file that was not (``meta['source']['synthetic']``
            False, e.g. a real scan converted to DICOM) is written without Synthetic Data, Burned In Annotation
            and the synthesizing-equipment item, under an ``ANON-`` id, with Hygeia as Modifying Equipment.
        overwrite: replace an existing folder of Hygeia's DICOM files (never one holding other files).
        quiet: no progress bar.

    Returns:
        The files and UIDs written.

    Raises:
        ConfigError: non-finite voxels, CT values that do not fit 16 bits, or a bad direction.
        OutputError: ``folder`` exists (without ``overwrite``) or cannot be written.
        MissingExtraError: pydicom is not installed.

    Example:
        >>> import tempfile, numpy as np
        >>> from hygeia.imaging import Volume, read_dicom
        >>> v = Volume(np.arange(32, dtype=np.float32).reshape(2, 4, 4) - 1000, "CT", spacing=(2.5, 0.8, 0.8))
        >>> s = write_dicom(v, tempfile.mkdtemp() + "/ct", seed=7)
        >>> len(s.paths), s.sop_class_uid
        (2, '1.2.840.10008.5.1.4.1.1.2')
        >>> back = read_dicom(s.folder)
        >>> bool((back.array == v.array).all()), back.spacing
        (True, (2.5, 0.8, 0.8))
    """
    pydicom = require("pydicom", "Writing DICOM")
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    if not isinstance(volume, Volume):
        raise ConfigError(f"write_dicom needs a hygeia.imaging.Volume, got {type(volume).__name__}")
    d = direction_matrix(volume.direction)
    if isinstance(study, str):
        study = DicomStudy(study_uid=study)
    study = study or DicomStudy()
    seed = resolve_seed(seed)
    stored, slope, intercept, pixel_rep = _encode(pydicom, volume, ct_precision)
    uids = {"study": study.study_uid or _uid(seed, "study")}
    uids["series"] = _uid(seed, "series", uids["study"], series_number, series_description)
    uids["frame"] = _uid(seed, "frame", uids["series"])
    renderer = volume.meta.get("renderer")
    description = (series_description if series_description is not None
                   else f"Synthetic {volume.modality}" + (f" ({renderer})" if renderer else "")
                   if (is_synthetic(volume) if synthetic is None else synthetic)
                   else f"{volume.modality} converted by Hygeia")
    if synthetic is None:
        synthetic = is_synthetic(volume)
    base = _base_dataset(pydicom, volume, study, uids, description[:64], series_number, slope, intercept,
                         pixel_rep, stored, synthetic)
    _modality_specific(base, volume)
    sz, sy, sx = volume.spacing
    origin = np.asarray(volume.origin, dtype=np.float64)
    normal = np.cross(d[0], d[1])
    if volume.modality in ("CT", "MR"):
        base.FrameOfReferenceUID = uids["frame"]
        base.PositionReferenceIndicator = ""
        base.ImageOrientationPatient = _ds(pydicom, np.concatenate([d[0], d[1]]))
        base.SliceThickness = _number(sz)
        base.SpacingBetweenSlices = _number(sz)
    base.PixelSpacing = [_number(sy), _number(sx)]

    folder = Path(folder)
    if overwrite:
        refuse_foreign_folder(folder, r"IM\d{5,}\.dcm", "DICOM folder")
    paths: list[Path] = []
    sop_uids: list[str] = []
    n = stored.shape[0]
    with atomic_output(folder, folder=True, overwrite=overwrite, what="DICOM folder") as tmp:
        for k in track(range(n), unit="slices", description="writing DICOM", quiet=quiet):
            ds = base.copy()
            sop = _uid(seed, "instance", uids["series"], k)
            ds.SOPInstanceUID = sop
            ds.InstanceNumber = k + 1
            if volume.modality in ("CT", "MR"):
                position = origin + k * sz * d[2]
                ds.ImagePositionPatient = _ds(pydicom, position)
                ds.SliceLocation = _number(float(position @ normal))
            ds.PixelData = np.ascontiguousarray(stored[k]).tobytes()
            fm = FileMetaDataset()
            fm.MediaStorageSOPClassUID = ds.SOPClassUID
            fm.MediaStorageSOPInstanceUID = sop
            fm.TransferSyntaxUID = ExplicitVRLittleEndian
            fm.ImplementationVersionName = f"HYGEIA_{__version__}"[:16]
            ds.file_meta = fm
            name = f"IM{k + 1:05d}.dcm"
            pydicom.dcmwrite(tmp / name, ds, enforce_file_format=True)
            paths.append(folder / name)
            sop_uids.append(sop)
    return DicomSeries(folder=folder, paths=paths, study_uid=uids["study"], series_uid=uids["series"],
                       frame_of_reference_uid=uids["frame"] if volume.modality in ("CT", "MR") else "",
                       sop_uids=sop_uids, sop_class_uid=_SOP_CLASS[volume.modality], modality=volume.modality,
                       seed=seed, synthetic=synthetic)
