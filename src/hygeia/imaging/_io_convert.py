"""One entry point per direction: :func:`load_image` (a DICOM folder or file, or a NIfTI file) and
:func:`save_image` (DICOM, NIfTI or PNG), which ``hygeia images convert`` calls.

Example:
    >>> import tempfile, numpy as np
    >>> from hygeia.imaging import Volume
    >>> tmp = tempfile.mkdtemp()
    >>> out = save_image(Volume(np.zeros((2, 4, 4)), "CT"), tmp + "/ct.nii.gz")
    >>> out.format, load_image(out.path).shape
    ('nifti', (2, 4, 4))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hygeia.errors import ConfigError
from hygeia.imaging._dicom_read import read_dicom
from hygeia.imaging._dicom_write import DicomSeries, DicomStudy, write_dicom
from hygeia.imaging._nifti import read_nifti, write_nifti
from hygeia.imaging._png import write_png
from hygeia.imaging._volume import Volume

__all__ = ["FORMATS", "SavedImage", "image_format", "load_image", "save_image"]

#: Output formats of :func:`save_image`.
FORMATS = ("dicom", "nifti", "png")


def image_format(path: str | os.PathLike[str]) -> str:
    """``'nifti'`` for a ``.nii``/``.nii.gz`` name, else ``'dicom'`` (a folder or a DICOM file).

    Example:
        >>> image_format("brain.nii.gz"), image_format("scans/ct")
        ('nifti', 'dicom')
    """
    name = Path(path).name.lower()
    return "nifti" if name.endswith((".nii", ".nii.gz")) else "dicom"


def load_image(path: str | os.PathLike[str], *, series: str | None = None, modality: str | None = None,
               backend: str = "pydicom", quiet: bool = True) -> Volume:
    """Read a DICOM series (a folder or one file) or a NIfTI file into a Volume.

    Args:
        path: a DICOM folder, a DICOM file, or a ``.nii``/``.nii.gz`` file.
        series: for DICOM, the Series Instance UID to read when there are several.
        modality: for NIfTI not written by Hygeia, ``'CT'``, ``'MR'`` or ``'DX'``.
        backend: for DICOM, ``'pydicom'`` or ``'simpleitk'``.
        quiet: no progress bar.

    Raises:
        ConfigError: ``series`` given for NIfTI, or the errors of :func:`read_dicom` / :func:`read_nifti`.
        DataValidationError: unreadable input (see those functions).
    """
    if image_format(path) == "nifti":
        if series is not None:
            raise ConfigError(f"series=... chooses a DICOM series; {str(path)!r} is a NIfTI file. Leave it out.")
        return read_nifti(path, modality=modality)
    volume = read_dicom(path, series=series, backend=backend, quiet=quiet)
    if modality is not None and modality != volume.modality:
        raise ConfigError(f"modality={modality!r} was given, but the DICOM files say {volume.modality}. Leave "
                          "modality out for DICOM input (the files record it).")
    return volume


@dataclass(frozen=True)
class SavedImage:
    """What :func:`save_image` wrote: ``path`` (file or folder), ``format``, ``files`` and, for DICOM, ``series``."""

    path: Path
    format: str
    files: list[Path]
    series: DicomSeries | None = None


def save_image(volume: Volume, out: str | os.PathLike[str], *, format: str | None = None,
               window: str | tuple[float, float] | None = None, seed: int | None = None,
               study: DicomStudy | str | None = None, series_description: str | None = None,
               ct_precision: float = 1.0, overwrite: bool = False, quiet: bool = True) -> SavedImage:
    """Write ``volume`` as a DICOM folder, a NIfTI file or a folder of PNG slices, atomically.

    Args:
        volume: the image.
        out: the folder (DICOM, PNG) or ``.nii``/``.nii.gz`` file (NIfTI) to write.
        format: ``'dicom'``, ``'nifti'`` or ``'png'``; default from ``out``'s name (NIfTI for .nii/.nii.gz, else DICOM).
        window: PNG display window (``'lung'``, ``'soft'``, ``'bone'`` or ``(center, width)``); PNG only.
        seed, study, series_description, ct_precision: DICOM only (see :func:`write_dicom`).
        overwrite: replace an existing output.
        quiet: no progress bar.

    Raises:
        ConfigError: an unknown format, or an option that does not apply to the format.
        OutputError: ``out`` exists (without ``overwrite``) or cannot be written.
    """
    fmt = format or image_format(out)
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if window is not None and fmt != "png":
        raise ConfigError(f"window={window!r} sets the display window of PNG slices; the output format is {fmt}. "
                          "Pass format='png', or leave the window out.")
    if fmt == "nifti":
        path = write_nifti(volume, out, overwrite=overwrite)
        return SavedImage(Path(path), fmt, [Path(path)])
    if image_format(out) == "nifti":
        raise ConfigError(f"{str(out)!r} is named like a NIfTI file, but the format is {fmt} (a folder). Pass a "
                          "folder name, or format='nifti'.")
    if fmt == "png":
        files = write_png(volume, out, window=window, overwrite=overwrite, quiet=quiet)
        return SavedImage(Path(out), fmt, files)
    series = write_dicom(volume, out, seed=seed, study=study, series_description=series_description,
                         ct_precision=ct_precision, overwrite=overwrite, quiet=quiet)
    return SavedImage(Path(out), fmt, list(series.paths), series)
