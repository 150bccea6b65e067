"""NIfTI-1 files (``.nii``, ``.nii.gz``) to and from a :class:`~hygeia.imaging.Volume`, with nibabel.

NIfTI indexes voxels ``(i, j, k) = (x, y, z)`` and its affine maps them to RAS
millimetres; a Volume holds ``(z, y, x)`` arrays and LPS geometry (as DICOM does). So the
array is transposed and the affine is ``diag(-1, -1, 1) @`` the LPS affine (x and y
negated) on the way out, and back on the way in. The sform and qform are both written
(code 1, scanner); on reading nibabel's choice (sform, else qform) is used.

A volume is marked synthetic (``descrip`` and the JSON) unless it was read from a file
that was not (see :func:`~hygeia.imaging.write_dicom`'s ``synthetic``). CT volumes whose values are whole HU within 16 bits are stored as int16, others as
float32. The modality and ``Volume.meta`` travel in a NIfTI header extension (code 6,
"comment") holding Hygeia's JSON, and ``descrip`` says ``hygeia <modality> synthetic``;
a NIfTI file from elsewhere has neither, so its modality must be passed.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from hygeia import __version__
from hygeia.core.atomic import atomic_output
from hygeia.errors import ConfigError
from hygeia.imaging._io_common import (
    affine_lps,
    invalid,
    is_synthetic,
    provenance,
    require,
    volume_geometry_from_affine,
)
from hygeia.imaging._volume import MODALITIES, Volume

__all__ = ["read_nifti", "write_nifti"]

_LPS_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_MARK = "hygeia-volume"


def _check_name(path: Path) -> None:
    if not (path.name.endswith(".nii") or path.name.endswith(".nii.gz")):
        raise ConfigError(f"a NIfTI file name ends in .nii or .nii.gz, got {str(path)!r}. Name it e.g. "
                          f"{path.with_suffix('').name or 'volume'}.nii.gz")


def write_nifti(volume: Volume, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``volume`` as a NIfTI-1 file (gzipped if the name ends in ``.nii.gz``).

    Args:
        volume: the image.
        path: the file to write, ``*.nii`` or ``*.nii.gz``.
        overwrite: replace an existing file.

    Returns:
        ``path``.

    Raises:
        ConfigError: the name does not end in .nii/.nii.gz, or the direction is not orthonormal.
        OutputError: ``path`` exists (without ``overwrite``) or cannot be written.
        MissingExtraError: nibabel is not installed.

    Example:
        >>> import tempfile, numpy as np
        >>> from hygeia.imaging import Volume
        >>> v = Volume(np.arange(24.0).reshape(2, 3, 4), "MR", spacing=(3, 1, 0.5), origin=(10, 20, 30))
        >>> p = write_nifti(v, tempfile.mkdtemp() + "/brain.nii.gz")
        >>> back = read_nifti(p)
        >>> back.modality, back.spacing, back.origin, bool((back.array == v.array).all())
        ('MR', (3.0, 1.0, 0.5), (10.0, 20.0, 30.0), True)
    """
    nib = require("nibabel", "Writing NIfTI")
    path = Path(path)
    _check_name(path)
    a = np.asarray(volume.array)
    if volume.modality == "CT" and np.all(np.isfinite(a)) and np.all(a == np.rint(a)) \
            and a.min() >= -32768 and a.max() <= 32767:
        data = a.astype(np.int16)
    else:
        data = a.astype(np.float32)
    affine = _LPS_RAS @ affine_lps(volume)
    image = nib.Nifti1Image(np.ascontiguousarray(data.transpose(2, 1, 0)), affine)
    image.header.set_xyzt_units("mm")
    image.header.set_sform(affine, code=1)
    image.header.set_qform(affine, code=1)
    synthetic = is_synthetic(volume)
    image.header["descrip"] = f"hygeia {volume.modality}{' synthetic' if synthetic else ''}"[:79].encode()
    doc = {"format": _MARK, "hygeia_version": __version__, "modality": volume.modality, "synthetic": synthetic,
           "meta": provenance(volume.meta),
           "findings": [{"kind": f.kind, "contrast": float(f.contrast), "codes": [list(c) for c in f.codes],
                         "voxels": int(np.count_nonzero(f.mask))} for f in volume.findings]}
    image.header.extensions.append(
        nib.nifti1.Nifti1Extension("comment", json.dumps(doc, default=str, sort_keys=True).encode()))
    with atomic_output(path, overwrite=overwrite, what="NIfTI file") as tmp:
        # nibabel picks gzip from the name, so write through an open file with the right kind of stream
        if path.name.endswith(".gz"):
            import gzip

            with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
                stream.write(image.to_bytes())
        else:
            tmp.write_bytes(image.to_bytes())
    return path


def _hygeia_doc(image: Any) -> dict[str, Any]:
    for ext in image.header.extensions:
        if ext.get_code() == 6:
            try:
                doc = json.loads(ext.get_content())
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(doc, dict) and doc.get("format") == _MARK:
                return doc
    return {}


def read_nifti(path: str | os.PathLike[str], *, modality: str | None = None) -> Volume:
    """Read a NIfTI-1/2 file into a Volume (geometry converted from RAS to LPS).

    Args:
        path: a ``.nii`` or ``.nii.gz`` file.
        modality: ``'CT'``, ``'MR'`` or ``'DX'``; needed when the file was not written by
            Hygeia (NIfTI does not record a modality); overrides the recorded one.

    Returns:
        The Volume (float32 voxels, scl_slope/scl_inter applied).

    Raises:
        ConfigError: no modality known, or the affine shears the axes.
        DataValidationError: not a NIfTI file, corrupt, or not a 2-D/3-D single-volume image.
        MissingExtraError: nibabel is not installed.

    Example:
        >>> import tempfile, numpy as np
        >>> from hygeia.imaging import Volume
        >>> p = write_nifti(Volume(np.zeros((1, 2, 2)), "CT"), tempfile.mkdtemp() + "/a.nii")
        >>> read_nifti(p).shape
        (1, 2, 2)
    """
    nib = require("nibabel", "Reading NIfTI")
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{str(path)!r} is not a file. Pass a .nii or .nii.gz file.")
    errors = (nib.filebasedimages.ImageFileError, OSError, EOFError, ValueError, zlib.error)
    try:
        image = nib.load(path)
    except errors as exc:
        raise invalid(f"{path} is not a readable NIfTI file ({type(exc).__name__}: {exc}). Pass a "
                                  ".nii or .nii.gz file, or a DICOM folder.") from None
    if not isinstance(image, (nib.Nifti1Image, nib.Nifti2Image)):
        raise invalid(f"{path} is a {type(image).__name__}, not NIfTI. Convert it to NIfTI first.")
    try:
        data = np.asanyarray(image.dataobj)
    except errors as exc:  # truncated data
        raise invalid(f"{path}: its voxels cannot be read ({type(exc).__name__}: {exc}); the file is "
                                  "probably truncated. Copy it again from its source.") from None
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3:
        raise invalid(f"{path} holds a {data.ndim}-D image of shape {data.shape}; Hygeia reads 2-D and "
                                  "3-D images (split a 4-D series into volumes first)")
    doc = _hygeia_doc(image)
    modality = modality or doc.get("modality")
    if modality is None:
        raise ConfigError(f"{path} does not record its modality (it was not written by Hygeia). Pass "
                          f"modality='CT' (or 'MR', 'DX').")
    if modality not in MODALITIES:
        raise ConfigError(f"modality must be one of {', '.join(MODALITIES)}, got {modality!r}")
    geometry = volume_geometry_from_affine(_LPS_RAS @ np.asarray(image.affine, dtype=np.float64), str(path))
    array = data.transpose(2, 1, 0).astype(np.float32)
    meta = dict(doc.get("meta", {}))
    meta["source"] = {"format": "nifti", "path": str(path), "synthetic": bool(doc.get("synthetic", bool(doc)))}
    if doc.get("findings"):
        meta["findings_written"] = doc["findings"]
    return Volume(np.ascontiguousarray(array), modality, meta=meta, **geometry)
