"""Reading a DICOM series into a :class:`~hygeia.imaging.Volume`, with errors that name the file and the fix.

:func:`read_dicom` reads every file of a folder (recursively; hidden files and a
DICOMDIR are skipped) with ``pydicom.dcmread(force=False)``, groups them by Series
Instance UID and refuses, in one error that lists every problem: files that are not
DICOM, truncated or corrupt files, an empty folder, several series without ``series=``,
a series that mixes modalities or image sizes, a compressed transfer syntax without an
installed decoder (naming the transfer syntax and the packages that decode it), and
slices that are unevenly spaced or share a position. Slices are sorted by their position
along the slice normal (Image Position (Patient) projected on the cross product of the
Image Orientation (Patient) axes); voxels are the stored values through RescaleSlope and
RescaleIntercept (HU for CT), as float32. So a Volume whose slice axis points against the
normal (a left-handed direction) comes back as the same physical image with its slices
reversed: origin at its last slice, slice axis along the normal.

The pixels can be decoded by pydicom (default) or by SimpleITK's GDCM series reader
(``backend="simpleitk"``, which also decodes the JPEG family without extra packages).
"""

from __future__ import annotations

import json
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.errors import ConfigError
from hygeia.imaging._dicom_write import PRIVATE_CREATOR, PRIVATE_GROUP
from hygeia.imaging._io_common import invalid, require
from hygeia.imaging._volume import Volume

__all__ = ["SeriesInfo", "list_dicom_series", "read_dicom"]

# DICOM modality -> Volume modality
_MODALITY = {"CT": "CT", "MR": "MR", "DX": "DX", "CR": "DX", "RG": "DX", "DR": "DX"}
_MEDIA_DIRECTORY = "1.2.840.10008.1.3.10"
_SHOWN = 5  # files named per problem before "and N more"
_READ_ERRORS = (EOFError, OSError, ValueError, struct.error, KeyError, TypeError, IndexError, AttributeError,
                NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class SeriesInfo:
    """One series found in a folder: its UID, modality, description and files.

    Example:
        >>> SeriesInfo("1.2.3", "CT", "chest", 2, (Path("a.dcm"), Path("b.dcm"))).describe()
        "1.2.3 (CT, 'chest', 2 files)"
    """

    uid: str
    modality: str
    description: str
    n_files: int
    paths: tuple[Path, ...]

    def describe(self) -> str:
        """``UID (MODALITY, 'description', N files)``."""
        return f"{self.uid} ({self.modality}, {self.description!r}, {self.n_files} files)"


def _listing(paths: list[str]) -> str:
    more = f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
    return ", ".join(paths[:_SHOWN]) + more


def _files(folder: Path) -> list[Path]:
    if not folder.exists():
        raise ConfigError(f"{str(folder)!r} does not exist. Pass a folder of DICOM files (or one DICOM file).")
    if folder.is_file():
        return [folder]
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(folder).parts))
    if not files:
        raise invalid(f"{str(folder)!r} is empty: no DICOM files found. Pass the folder that holds "
                                  "the series' .dcm files.")
    return files


def _truncated_preamble(path: Path) -> bool:
    """A file cut inside the preamble: under 132 bytes, all zero (the usual preamble)."""
    data = path.read_bytes()[:132]
    return 0 < len(data) < 132 and not data.strip(b"\0")


def _truncation(path: Path, ds: Any) -> str:
    """Why a file that pydicom read is truncated ('' if it is whole, as far as the header tells)."""
    sop_class = ds.file_meta.get("MediaStorageSOPClassUID", ds.get("SOPClassUID"))
    if sop_class is None:
        return "no SOP Class UID in its file meta or data set: cut short or corrupt"
    is_image = sop_class is not None and "Image Storage" in getattr(sop_class, "name", "")
    if is_image and ("Rows" not in ds or "SeriesInstanceUID" not in ds):
        return "truncated: its header ends before the image attributes (Rows, Series Instance UID)"
    ts = ds.file_meta.get("TransferSyntaxUID")
    if "Rows" in ds and "Columns" in ds and ts is not None and not ts.is_compressed:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        pixels = ds.Rows * ds.Columns * int(ds.get("BitsAllocated", 8)) // 8 * int(ds.get("SamplesPerPixel", 1)) * frames
        size = path.stat().st_size
        if size < pixels:
            return f"truncated: {size} bytes, fewer than its {pixels} bytes of pixel data"
    return ""


def _scan(folder: Path) -> tuple[dict[str, list[tuple[Path, Any]]], list[str]]:
    pydicom = require("pydicom", "Reading DICOM")
    from pydicom.errors import InvalidDicomError

    by_series: dict[str, list[tuple[Path, Any]]] = {}
    not_dicom: list[str] = []
    corrupt: list[str] = []
    not_image: list[str] = []
    for path in _files(folder):
        with warnings.catch_warnings(record=True) as caught:  # pydicom's warnings on odd values: kept for the message
            warnings.simplefilter("always")
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True, force=False)
            except InvalidDicomError:
                if _truncated_preamble(path):
                    corrupt.append(f"{path} (truncated: {path.stat().st_size} bytes, inside the 128-byte preamble)")
                else:
                    not_dicom.append(str(path))
                continue
            except _READ_ERRORS as exc:
                corrupt.append(f"{path} ({type(exc).__name__}: {exc})")
                continue
            if str(ds.get("SOPClassUID", "")) == _MEDIA_DIRECTORY or path.name.upper() == "DICOMDIR":
                continue
            why = _truncation(path, ds)  # reads values, which pydicom converts (and warns about) lazily
            if not why and "Rows" in ds:
                _ = (ds.SeriesInstanceUID, ds.get("Modality"), ds.get("ImagePositionPatient"),
                     ds.get("ImageOrientationPatient"), ds.get("PixelSpacing"))
        if why:
            hint = f"; pydicom: {caught[0].message}" if caught else ""
            corrupt.append(f"{path} ({why}{hint})")
            continue
        if "Rows" not in ds or "SeriesInstanceUID" not in ds:
            not_image.append(str(path))
            continue
        by_series.setdefault(str(ds.SeriesInstanceUID), []).append((path, ds))
    problems = []
    if not_dicom:
        problems.append(f"not DICOM files (no DICOM preamble and 'DICM' prefix, or not read by pydicom "
                        f"with force=False): {_listing(not_dicom)}. Move them out of the folder, or pass the "
                        "folder that holds only DICOM files")
    if corrupt:
        problems.append(f"corrupt or truncated DICOM files: {_listing(corrupt)}. Copy them again from their source, "
                        "or delete them")
    if not_image and not by_series:
        problems.append(f"DICOM files without an image (no Rows or Series Instance UID, e.g. reports or "
                        f"presentation states): {_listing(not_image)}. Pass a folder of image series")
    return by_series, problems


def list_dicom_series(folder: str | os.PathLike[str]) -> list[SeriesInfo]:
    """The image series in ``folder`` (recursively), largest first.

    Raises:
        ConfigError: ``folder`` does not exist.
        DataValidationError: the folder is empty, or holds files that are not DICOM or are corrupt.

    Example:
        >>> import tempfile, numpy as np
        >>> from hygeia.imaging import Volume, write_dicom
        >>> s = write_dicom(Volume(np.zeros((3, 4, 4)), "MR"), tempfile.mkdtemp() + "/mr", seed=2)
        >>> [(i.modality, i.n_files) for i in list_dicom_series(s.folder)]
        [('MR', 3)]
    """
    by_series, problems = _scan(Path(folder))
    if problems:
        raise invalid(problems, f"cannot read the DICOM folder {str(folder)!r}")
    infos = []
    for uid, items in by_series.items():
        modalities = sorted({str(ds.get("Modality", "?")) for _, ds in items})
        infos.append(SeriesInfo(uid, "+".join(modalities), str(items[0][1].get("SeriesDescription", "")),
                                len(items), tuple(p for p, _ in items)))
    return sorted(infos, key=lambda i: (-i.n_files, i.uid))


def _choose(folder: Path, by_series: dict[str, list[tuple[Path, Any]]], series: str | None) -> list[tuple[Path, Any]]:
    described = sorted((f"{uid} ({'+'.join(sorted({str(ds.get('Modality', '?')) for _, ds in items}))}, "
                        f"{str(items[0][1].get('SeriesDescription', ''))!r}, {len(items)} files)")
                       for uid, items in by_series.items())
    if series is not None:
        if series not in by_series:
            raise invalid(f"series {series!r} is not in {str(folder)!r}. Series there: "
                                      + "; ".join(described) + ". Pass one of these UIDs as series='UID'.")
        return by_series[series]
    if len(by_series) > 1:
        modalities = {str(ds.get("Modality", "?")) for items in by_series.values() for _, ds in items}
        what = f"mixed modalities ({', '.join(sorted(modalities))}) in " if len(modalities) > 1 else ""
        raise invalid(f"{str(folder)!r} holds {what}{len(by_series)} series: " + "; ".join(described)
                                  + ". Choose one with series='UID' (e.g. series='"
                                  + max(by_series, key=lambda u: len(by_series[u])) + "').")
    return next(iter(by_series.values()))


def _check_series(items: list[tuple[Path, Any]]) -> str:
    """The Volume modality of one series; refuses mixed modalities, sizes or orientations."""
    problems = []
    modalities: dict[str, list[str]] = {}
    for p, ds in items:
        modalities.setdefault(str(ds.get("Modality", "")), []).append(p.name)
    if len(modalities) > 1:
        problems.append("mixed modalities in one series: " + "; ".join(
            f"{m or '(none)'}: {_listing(names)}" for m, names in sorted(modalities.items())))
    sizes = {(int(ds.Rows), int(ds.Columns)) for _, ds in items}
    if len(sizes) > 1:
        problems.append(f"images of different sizes (rows x columns) in one series: {sorted(sizes)}")
    if int(items[0][1].get("SamplesPerPixel", 1)) != 1:
        problems.append(f"colour images (Samples per Pixel {items[0][1].SamplesPerPixel}, "
                        f"{items[0][1].get('PhotometricInterpretation')}); only greyscale series are read")
    modality = next(iter(modalities))
    if modality not in _MODALITY and len(modalities) == 1:
        problems.append(f"modality {modality!r} is not supported; Hygeia reads CT, MR and projection X-ray "
                        "(DX, CR) series")
    if problems:
        raise invalid(problems, f"cannot read the series {items[0][1].SeriesInstanceUID}")
    return _MODALITY[modality]


def _check_decoder(path: Path, ds: Any) -> None:
    from pydicom.pixels.decoders.base import get_decoder

    ts = ds.file_meta.get("TransferSyntaxUID")
    if ts is None or not ts.is_compressed:
        return
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        raise invalid(f"{path}: transfer syntax {ts.name} ({ts}) has no pixel decoder in pydicom. "
                                  "Convert the files to an uncompressed transfer syntax (e.g. 'gdcmconv --raw' "
                                  "or dcmtk's 'dcmdjpeg'), or read them with backend='simpleitk'.") from None
    if not decoder.is_available:
        packages = "; or ".join(decoder.missing_dependencies)
        raise invalid(
            f"{path}: pixel data compressed with {ts.name} ({ts}), and no decoder for it is installed. Install "
            f"one: {packages} (e.g. pip install "
            + _pip_names(decoder.missing_dependencies)
            + "), convert the files to an uncompressed transfer syntax (e.g. 'gdcmconv --raw'), or read them "
            "with backend='simpleitk'.")


def _pip_names(missing: list[str]) -> str:
    # pydicom's text: "pylibjpeg - requires pylibjpeg>=2.0 and pylibjpeg-openjpeg>=2.0"
    for entry in missing:
        if entry.startswith("pylibjpeg"):
            wants = entry.split("requires", 1)[-1]
            return " ".join(w.split(">=")[0] for w in wants.replace(" and ", " ").split() if w)
    return missing[0].split(" - ")[0] if missing else "pylibjpeg"


def _hygeia_block(ds: Any) -> dict[str, Any] | None:
    try:
        block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
        return json.loads(block[0x10].value)
    except (KeyError, ValueError):
        return None


def _pixels(path: Path, pydicom: Any) -> tuple[Any, np.ndarray]:
    try:
        with warnings.catch_warnings():  # odd values were reported (or not) when the headers were scanned
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=False)
            _ = (ds.get("RescaleSlope"), ds.get("RescaleIntercept"), ds.file_meta.get("TransferSyntaxUID"))
    except _READ_ERRORS as exc:
        raise invalid(f"{path} is corrupt or truncated ({type(exc).__name__}: {exc}). Copy it again "
                                  "from its source, or delete it and read the rest of the series.") from None
    _check_decoder(path, ds)
    try:
        raw = ds.pixel_array
    except _READ_ERRORS as exc:
        raise invalid(f"{path}: its pixel data cannot be read ({type(exc).__name__}: {exc}); the file "
                                  "is probably truncated. Copy it again from its source, or delete it.") from None
    if raw.ndim != 2:
        raise invalid(f"{path}: a multi-frame or colour image (pixel array shape {raw.shape}); Hygeia "
                                  "reads single-frame greyscale series")
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    return ds, (raw.astype(np.float64) * slope + intercept).astype(np.float32)


def _geometry(items: list[tuple[Path, Any]]) -> tuple[list[int], dict[str, Any]]:
    """Slice order and the Volume geometry (spacing, origin, direction) from the headers."""
    first = items[0][1]
    sy, sx = (float(v) for v in first.get("PixelSpacing", first.get("ImagerPixelSpacing", [1.0, 1.0])))
    if "ImageOrientationPatient" not in first or any("ImagePositionPatient" not in ds for _, ds in items):
        order = sorted(range(len(items)), key=lambda i: int(items[i][1].get("InstanceNumber", i) or i))
        sz = float(first.get("SpacingBetweenSlices", first.get("SliceThickness", 1.0)) or 1.0)
        geometry = (_hygeia_block(first) or {}).get("geometry", {})
        sz = float(geometry.get("spacing", [sz])[0])  # Secondary Capture has no slice geometry: Hygeia's block
        return order, {"spacing": (sz, sy, sx), "origin": tuple(geometry.get("origin", (0.0, 0.0, 0.0))),
                       "direction": tuple(tuple(r) for r in geometry.get("direction", np.eye(3).tolist()))}
    orientations = np.array([[float(v) for v in ds.ImageOrientationPatient] for _, ds in items])
    if np.abs(orientations - orientations[0]).max() > 1e-4:
        raise invalid(f"series {first.SeriesInstanceUID}: slices with different Image Orientation "
                                  "(Patient) (e.g. a localizer mixed in); pass a series of parallel slices")
    row, col = orientations[0][:3], orientations[0][3:]
    normal = np.cross(row, col)
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for _, ds in items])
    along = positions @ normal
    order = list(np.argsort(along, kind="stable"))
    if len(items) > 1:
        gaps = np.diff(along[order])
        if gaps.min() < 1e-3:
            raise invalid(f"series {first.SeriesInstanceUID}: {len(items)} files but only "
                                      f"{len(np.unique(along.round(3)))} slice positions (several echoes, phases or "
                                      "time points in one series); split the series before reading it")
        if gaps.max() - gaps.min() > 1e-3 * max(1.0, gaps.mean()) + 1e-4:
            raise invalid(f"series {first.SeriesInstanceUID}: slices are unevenly spaced (gaps "
                                      f"{gaps.min():.4g} to {gaps.max():.4g} mm); resample the series to even "
                                      "spacing first (e.g. with SimpleITK)")
        step = positions[order[-1]] - positions[order[0]]
        sz = float(np.linalg.norm(step) / (len(items) - 1))
        slice_dir = step / np.linalg.norm(step)
    else:
        sz = float(first.get("SpacingBetweenSlices", first.get("SliceThickness", 1.0)) or 1.0)
        slice_dir = normal
    return order, {"spacing": (sz, sy, sx), "origin": tuple(float(v) for v in positions[order[0]]),
                   "direction": tuple(tuple(float(v) for v in axis) for axis in (row, col, slice_dir))}


def read_dicom(folder: str | os.PathLike[str], *, series: str | None = None, backend: str = "pydicom",
               quiet: bool = True) -> Volume:
    """Read one DICOM series from a folder (or one DICOM file) into a Volume.

    Args:
        folder: a folder of DICOM files (searched recursively), or one DICOM file.
        series: the Series Instance UID to read when the folder holds several series.
        backend: ``'pydicom'`` (default) or ``'simpleitk'`` (GDCM) to decode the pixels.
        quiet: no progress bar.

    Returns:
        The Volume: voxels float32 (HU for CT), slices sorted along the normal, spacing,
        origin and direction from the headers; ``meta`` holds the provenance Hygeia wrote
        (if it wrote the files) and ``meta['source']`` the folder and UIDs.

    Raises:
        ConfigError: ``folder`` does not exist, or an unknown ``backend``.
        DataValidationError: everything wrong with the files (see the module docstring).
        MissingExtraError: pydicom (or SimpleITK for that backend) is not installed.

    Example:
        >>> import tempfile, numpy as np
        >>> from hygeia.imaging import Volume, write_dicom
        >>> s = write_dicom(Volume(np.full((2, 4, 4), 40.0), "CT", origin=(-10, -10, 5)), tempfile.mkdtemp() + "/x")
        >>> v = read_dicom(s.folder)
        >>> v.modality, v.origin, float(v.array.max())
        ('CT', (-10.0, -10.0, 5.0), 40.0)
    """
    from hygeia.core.progress import track

    if backend not in ("pydicom", "simpleitk"):
        raise ConfigError(f"backend must be 'pydicom' or 'simpleitk', got {backend!r}")
    pydicom = require("pydicom", "Reading DICOM")
    folder = Path(folder)
    by_series, problems = _scan(folder)
    if problems:
        raise invalid(problems, f"cannot read the DICOM folder {str(folder)!r}")
    if not by_series:
        raise invalid(f"{str(folder)!r} holds no DICOM image series. Pass the folder of a CT, MR or "
                                  "X-ray series.")
    items = _choose(folder, by_series, series)
    modality = _check_series(items)
    order, geometry = _geometry(items)
    items = [items[i] for i in order]
    if backend == "simpleitk":
        array = _read_simpleitk([p for p, _ in items], geometry)
    else:
        slices = []
        for path, _ in track(items, unit="slices", description="reading DICOM", quiet=quiet):
            slices.append(_pixels(path, pydicom)[1])
        array = np.stack(slices)
    first = items[0][1]
    block = _hygeia_block(first) or {}
    meta = dict(block.get("meta", {}))
    meta["source"] = {"format": "dicom", "path": str(folder), "study_uid": str(first.get("StudyInstanceUID", "")),
                      "series_uid": str(first.SeriesInstanceUID), "sop_class_uid": str(first.get("SOPClassUID", "")),
                      "files": len(items), "synthetic": first.get("SyntheticData") == "YES"}
    if block.get("findings"):
        meta["findings_written"] = block["findings"]
    return Volume(array, modality, findings=[], meta=meta, **geometry)


def _read_simpleitk(paths: list[Path], geometry: dict[str, Any]) -> np.ndarray:
    sitk = require("SimpleITK", "Reading DICOM with backend='simpleitk'")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(p) for p in paths])
    try:
        image = reader.Execute()
    except RuntimeError as exc:
        raise invalid(f"SimpleITK could not read the series in {paths[0].parent}: {exc}") from None
    array = sitk.GetArrayFromImage(image).astype(np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise invalid(f"SimpleITK read an image of shape {array.shape} from {paths[0].parent}; "
                                  "Hygeia reads single-frame greyscale series")
    return array
