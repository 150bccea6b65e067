"""The one in-memory form of an image in Hygeia: a :class:`Volume` (voxels plus geometry) and its masks.

Renderers return Volumes, readers (DICOM, NIfTI) return Volumes, writers take them, and
the learned generators read and write their 2-D slices. Arrays are ``(z, y, x)`` (a 2-D
image is one slice, ``z = 1``), ``spacing`` is ``(z, y, x)`` in millimetres, ``origin`` is
the patient-space position (LPS, mm, ``(x, y, z)`` as DICOM writes it) of the first voxel
and ``direction`` the 3x3 direction cosines of the x, y and z axes (rows), so that a
Volume maps 1:1 onto DICOM's ImagePositionPatient, ImageOrientationPatient and
PixelSpacing / slice positions and onto a NIfTI affine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hygeia.errors import ConfigError

__all__ = ["MODALITIES", "Finding", "Volume"]

#: Modalities: CT (values in Hounsfield units), MR (arbitrary signal units), X-ray projections (DX/CR).
MODALITIES = ("CT", "MR", "DX")


@dataclass(frozen=True)
class Finding:
    """A lesion placed in a volume: what it is, its voxel mask and the contrast it was given.

    Attributes:
        kind: ``'nodule'``, ``'consolidation'``, ``'white_matter_lesion'``, ``'fracture'``...
        mask: boolean array of the volume's shape, True inside the lesion.
        contrast: the value added to (or set in) the tissue inside the mask (HU for CT).
        codes: ``(system, code)`` pairs of the condition it shows (e.g. ``('SNOMED-CT', '233604007')``).
    """

    kind: str
    mask: np.ndarray
    contrast: float = 0.0
    codes: tuple[tuple[str, str], ...] = ()


@dataclass
class Volume:
    """Voxels and geometry of one image series.

    Example:
        >>> v = Volume(np.zeros((2, 4, 3), np.float32), "CT", spacing=(5.0, 0.7, 0.7))
        >>> v.shape, v.spacing, v.origin
        ((2, 4, 3), (5.0, 0.7, 0.7), (0.0, 0.0, 0.0))
    """

    array: np.ndarray
    modality: str
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[tuple[float, float, float], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    findings: list[Finding] = field(default_factory=list)
    #: How it was made and what it shows: renderer, seed, parameters (photons, TR/TE...), body part, version.
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ConfigError(f"modality must be one of {', '.join(MODALITIES)}, got {self.modality!r}")
        a = np.asarray(self.array)
        if a.ndim == 2:
            a = a[None]
        if a.ndim != 3 or 0 in a.shape:
            raise ConfigError(f"a volume is a non-empty (z, y, x) array, got shape {np.shape(self.array)}")
        self.array = a
        if len(self.spacing) != 3 or min(self.spacing) <= 0:
            raise ConfigError(f"spacing must be three positive millimetre values (z, y, x), got {self.spacing!r}")
        self.spacing = tuple(float(s) for s in self.spacing)
        self.origin = tuple(float(o) for o in self.origin)
        for f in self.findings:
            if f.mask.shape != a.shape:
                raise ConfigError(f"the mask of finding {f.kind!r} has shape {f.mask.shape}, the volume {a.shape}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(z, y, x)`` voxel counts."""
        return tuple(self.array.shape)

    def mask(self) -> np.ndarray:
        """The union of every finding's mask (all False without findings)."""
        out = np.zeros(self.shape, bool)
        for f in self.findings:
            out |= f.mask
        return out
