"""What the DICOM, NIfTI and PNG readers and writers share: optional imports and geometry checks.

The imaging packages (pydicom, SimpleITK, nibabel, pillow) are imported inside the
functions that need them, so that ``import hygeia`` stays fast and a missing one raises
:class:`~hygeia.errors.MissingExtraError` naming ``pip install 'hygeia[imaging]'``.

Example:
    >>> import numpy as np
    >>> from hygeia.imaging import Volume
    >>> affine_lps(Volume(np.zeros((2, 3, 4)), "CT", spacing=(3.0, 0.5, 0.7), origin=(1, 2, 3)))[:3].tolist()
    [[0.7, 0.0, 0.0, 1.0], [0.0, 0.5, 0.0, 2.0], [0.0, 0.0, 3.0, 3.0]]
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from hygeia.errors import (
    ConfigError,
    DataValidationError,
    MissingExtraError,
    OutputError,
)

__all__ = ["affine_lps", "direction_matrix", "invalid", "is_synthetic", "provenance", "refuse_foreign_folder", "require",
           "volume_geometry_from_affine"]

# import name -> distribution name
_PACKAGES = {"pydicom": "pydicom", "SimpleITK": "SimpleITK", "nibabel": "nibabel", "PIL": "pillow"}


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional imaging package, or raise the error that names the extra to install.

    Raises:
        MissingExtraError: the package is not installed.

    Example:
        >>> require("numpy", "arrays").__name__
        'numpy'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != module.split(".")[0]:
            raise
        raise MissingExtraError(_PACKAGES.get(module.split(".")[0], module), "imaging", purpose) from None


def refuse_foreign_folder(path: str | os.PathLike[str], pattern: str, what: str) -> None:
    r"""Refuse to replace ``path`` unless it is missing, empty, or holds only files named like ours.

    ``overwrite`` replaces a folder Hygeia wrote (``IM00001.dcm``..., ``slice_0000.png``...),
    never a folder of someone else's files nor a file.

    Raises:
        OutputError: ``path`` is a file, or a folder holding a name that does not match ``pattern``.

    Example:
        >>> refuse_foreign_folder("/nonexistent/folder", r"IM\d{5}\.dcm", "DICOM folder")  # nothing there: fine
    """
    p = Path(path)
    if not os.path.lexists(p):
        return
    if not p.is_dir():
        raise OutputError(f"refusing to replace the file {str(p)!r} with a {what}. Choose another --out folder.")
    foreign = sorted(e.name for e in p.iterdir() if not (e.is_file() and re.fullmatch(pattern, e.name)))
    if foreign:
        raise OutputError(f"refusing to overwrite {str(p)!r}: it holds files Hygeia did not write there (e.g. "
                          f"{foreign[0]!r}). Choose another --out folder, or delete it yourself.")


def provenance(meta: dict[str, Any]) -> dict[str, Any]:
    """``Volume.meta`` as written into a file: without ``source``, the file a reader took it from.

    The source's path and UIDs could identify a real patient's scan; how the image was made
    (renderer, seed, parameters) is kept.

    Example:
        >>> provenance({"renderer": "ct", "seed": 1, "source": {"path": "/data/smith/ct", "study_uid": "1.2"}})
        {'renderer': 'ct', 'seed': 1}
    """
    return {k: v for k, v in meta.items() if k != "source"}


def is_synthetic(volume: Any) -> bool:
    """Whether to mark ``volume`` as synthetic: yes if made in memory, else what its source file said.

    Readers record ``meta['source']['synthetic']`` (True for a DICOM file with Synthetic Data YES or a
    file Hygeia wrote as synthetic); a renderer's volume has no ``source``.

    Example:
        >>> from types import SimpleNamespace as S
        >>> is_synthetic(S(meta={})), is_synthetic(S(meta={"source": {"synthetic": False}}))
        (True, False)
    """
    return bool(volume.meta.get("source", {}).get("synthetic", True))


def invalid(problems: str | list[str], header: str = "cannot read the image") -> DataValidationError:
    """The error for unreadable input: one message or every problem found, under one header.

    Example:
        >>> invalid("a.dcm is truncated. Copy it again.", "cannot read 'scans'").problems
        ['a.dcm is truncated. Copy it again.']
    """
    return DataValidationError([problems] if isinstance(problems, str) else problems, header=header)


def direction_matrix(direction: Any) -> np.ndarray:
    """The 3x3 direction of a Volume (rows: the x, y and z axes in LPS), checked to be orthonormal.

    Raises:
        ConfigError: the rows are not unit vectors at right angles (tolerance 1e-4).
    """
    d = np.asarray(direction, dtype=np.float64)
    if d.shape != (3, 3) or not np.all(np.isfinite(d)):
        raise ConfigError(f"direction must be a 3x3 matrix of direction cosines, got {direction!r}")
    if not np.allclose(d @ d.T, np.eye(3), atol=1e-4):
        raise ConfigError(f"direction must have unit rows at right angles (orthonormal), got {d.round(6).tolist()}")
    return d


def affine_lps(volume: Any) -> np.ndarray:
    """The 4x4 matrix from voxel indices ``(x, y, z)`` to LPS millimetres (a NIfTI affine in LPS)."""
    d = direction_matrix(volume.direction)
    sz, sy, sx = volume.spacing
    a = np.eye(4)
    a[:3, 0] = d[0] * sx
    a[:3, 1] = d[1] * sy
    a[:3, 2] = d[2] * sz
    a[:3, 3] = volume.origin
    return a


def volume_geometry_from_affine(affine: np.ndarray, where: str) -> dict[str, Any]:
    """Spacing ``(z, y, x)``, origin and direction of a Volume from an LPS voxel-to-mm affine.

    Raises:
        ConfigError: the affine shears or is singular (a Volume holds orthogonal axes only).
    """
    a = np.asarray(affine, dtype=np.float64)
    cols = a[:3, :3]
    spacing = np.linalg.norm(cols, axis=0)
    if np.any(spacing <= 0) or not np.all(np.isfinite(a)):
        raise ConfigError(f"{where}: the affine is singular ({a[:3].round(4).tolist()}); the image has no geometry")
    direction = (cols / spacing).T
    if not np.allclose(direction @ direction.T, np.eye(3), atol=1e-4):
        raise ConfigError(f"{where}: the affine shears the voxel axes ({a[:3].round(4).tolist()}); "
                          "only orthogonal voxel axes are supported. Resample the image first (e.g. with SimpleITK).")
    return {"spacing": (float(spacing[2]), float(spacing[1]), float(spacing[0])),
            "origin": tuple(float(v) for v in a[:3, 3]),
            "direction": tuple(tuple(float(v) for v in row) for row in direction)}
