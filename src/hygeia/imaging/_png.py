"""Slices of a :class:`~hygeia.imaging.Volume` as 8-bit greyscale PNG files, through a display window.

A window maps ``center - width/2 .. center + width/2`` linearly onto 0..255 and clips
outside it. CT windows (centre/width in HU, the usual radiology presets): lung -600/1500,
soft tissue 40/400, bone 400/1800 <!-- setting -->. Without a window, CT uses soft
tissue and MR/DX the volume's own minimum..maximum. Each PNG carries text chunks saying
whether it is synthetic (``Synthetic: YES``, unless read from a file not marked so), the software, the window, and ``Volume.meta`` as JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from hygeia import __version__
from hygeia.core.atomic import atomic_output
from hygeia.core.progress import track
from hygeia.errors import ConfigError
from hygeia.imaging._io_common import (
    is_synthetic,
    provenance,
    refuse_foreign_folder,
    require,
)
from hygeia.imaging._volume import Volume

__all__ = ["WINDOWS", "apply_window", "write_png"]

#: CT display windows: name -> (centre, width) in HU.
WINDOWS: dict[str, tuple[float, float]] = {"lung": (-600.0, 1500.0), "soft": (40.0, 400.0), "bone": (400.0, 1800.0)}


def _window(volume: Volume, window: str | tuple[float, float] | None) -> tuple[float, float]:
    if window is None:
        if volume.modality == "CT":
            return WINDOWS["soft"]
        lo, hi = float(np.min(volume.array)), float(np.max(volume.array))
        return (lo + hi) / 2, max(hi - lo, 1e-6)
    if isinstance(window, str):
        if window not in WINDOWS:
            raise ConfigError(f"window must be one of {', '.join(WINDOWS)} or a (center, width) pair, got {window!r}")
        if volume.modality != "CT":
            raise ConfigError(f"the {window!r} window is in HU, for CT; this volume is {volume.modality}. Pass "
                              "window=None to use the image's own range, or a (center, width) pair.")
        return WINDOWS[window]
    center, width = (float(v) for v in window)
    if not width > 0:
        raise ConfigError(f"a window's width must be positive, got {width}")
    return center, width


def apply_window(array: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map ``center +- width/2`` linearly onto 0..255 (uint8), clipping outside.

    Example:
        >>> apply_window(np.array([-1000.0, 40.0, 240.0, 3000.0]), 40, 400).tolist()
        [0, 128, 255, 255]
    """
    scaled = (np.asarray(array, dtype=np.float64) - (center - width / 2)) / width
    return np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)


def write_png(volume: Volume, folder: str | os.PathLike[str], *, window: str | tuple[float, float] | None = None,
              overwrite: bool = False, quiet: bool = True) -> list[Path]:
    """Write each slice of ``volume`` as ``slice_0000.png``... (8-bit greyscale) in ``folder``.

    Args:
        volume: the image.
        folder: the folder to write (must not exist, or be empty, unless ``overwrite``).
        window: ``'lung'``, ``'soft'`` or ``'bone'`` (CT), a ``(center, width)`` pair, or None (see the module).
        overwrite: replace an existing folder of Hygeia's PNG slices (never one holding other files).
        quiet: no progress bar.

    Returns:
        The PNG files, slice 0 first.

    Raises:
        ConfigError: an unknown window, or a CT window for another modality.
        OutputError: ``folder`` exists (without ``overwrite``) or cannot be written.
        MissingExtraError: pillow is not installed.

    Example:
        >>> import tempfile
        >>> v = Volume(np.linspace(-1000, 1000, 2 * 8 * 8).reshape(2, 8, 8), "CT")
        >>> [p.name for p in write_png(v, tempfile.mkdtemp() + "/png", window="lung")]
        ['slice_0000.png', 'slice_0001.png']
    """
    require("PIL", "Writing PNG")
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    center, width = _window(volume, window)
    synthetic = is_synthetic(volume)
    folder = Path(folder)
    if overwrite:
        refuse_foreign_folder(folder, r"slice_\d{4,}\.png", "PNG folder")
    paths = []
    with atomic_output(folder, folder=True, overwrite=overwrite, what="PNG folder") as tmp:
        for k in track(range(volume.shape[0]), unit="slices", description="writing PNG", quiet=quiet):
            info = PngInfo()
            info.add_text("Synthetic", "YES" if synthetic else "NO (converted from a file not marked synthetic)")
            info.add_text("Software", f"Hygeia {__version__}")
            info.add_text("Description", f"synthetic {volume.modality} slice {k} of {volume.shape[0]}; window "
                                         f"center {center:g} width {width:g}; spacing (z, y, x) {volume.spacing} mm")
            info.add_itxt("hygeia:meta", json.dumps(provenance(volume.meta), default=str, sort_keys=True))
            name = f"slice_{k:04d}.png"
            Image.fromarray(apply_window(volume.array[k], center, width)).save(tmp / name, pnginfo=info)
            paths.append(folder / name)
    return paths
