"""2-D training images for the learned generators: rendered CT slices, or a user's labelled folder.

:func:`rendered_slices` renders CT chest slices with the physics renderer
(:func:`hygeia.imaging.render`): one axial slice per phantom patient, balanced over the
findings asked for (``'none'``, ``'nodule'``, ``'consolidation'``), in HU.

:func:`read_image_folder` reads a user's folder laid out as one subfolder per finding
label, each holding images of that finding::

    DIR/none/*.dcm            DIR/nodule/*.dcm           (one or more DICOM series each)
    DIR/none/scan1.nii.gz     DIR/nodule/scan7.nii.gz    (NIfTI; every slice is one image)
    DIR/none/a.png            DIR/nodule/b.png           (8-bit or 16-bit greyscale PNG)

A label folder may be the output of ``hygeia images render`` (``series/``, ``masks/``,
``manifest.json``): its series are read and its masks and manifest skipped, so
``hygeia images render --finding nodule --out scans/nodule`` makes a label folder.

The subfolder's name is the label of every image under it. Every slice is centre-cropped
to a square and resized (anti-aliased) to ``size`` x ``size`` pixels. A folder mixing
modalities, or PNG with DICOM/NIfTI (PNG carries no units), is refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.errors import ConfigError, DataValidationError
from hygeia.imaging._baselines import derive_seed

__all__ = ["SAMPLE_FORMATS", "FolderImages", "read_image_folder", "rendered_slices", "write_image_folder"]

#: Lesion options per finding of :func:`rendered_slices` (a nodule big enough to show at 32 px).
RENDER_LESIONS: dict[str, dict[str, Any]] = {"nodule": {"radius_mm": 15.0}, "consolidation": {}}


def rendered_slices(n: int, *, size: int = 32, findings: tuple[str, ...] = ("none", "nodule", "consolidation"),
                    seed: int = 0, dose: float = 1e5) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rendered CT chest slices (HU) and their finding labels, in equal shares, shuffled.

    Args:
        n: number of slices.
        size: pixels across.
        findings: labels to render; ``'none'`` is a normal chest.
        seed: seed of the renderer and of the order.
        dose: photons per ray.

    Example:
        >>> x, y = rendered_slices(4, size=32, findings=("none", "nodule"), seed=1)
        >>> x.shape, sorted(y.tolist())
        ((4, 32, 32), ['nodule', 'nodule', 'none', 'none'])
    """
    from hygeia.imaging._render import render

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < len(findings):
        raise ConfigError(f"n must be an integer of at least {len(findings)} (one per finding); got {n!r}")
    images, labels = [], []
    for j, finding in enumerate(findings):
        k = n // len(findings) + (1 if j < n % len(findings) else 0)
        kind = None if finding == "none" else finding
        vols = render("ct", finding=kind, n=k, seed=derive_seed(seed, 100 + j), size=size, slices=1, dose=dose,
                      lesion=RENDER_LESIONS.get(finding) or None)
        images += [v.array[0] for v in vols]
        labels += [finding] * k
    order = np.random.default_rng(derive_seed(seed, 99)).permutation(n)
    return np.asarray(images, np.float32)[order], np.asarray(labels)[order]


class FolderImages:
    """What :func:`read_image_folder` read: ``images`` ``(n, size, size)``, ``labels``, ``modality``, ``sources``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, modality: str, sources: list[str]) -> None:
        self.images = images
        self.labels = labels
        self.modality = modality
        self.sources = sources


def _square(slice_: np.ndarray, size: int) -> np.ndarray:
    from skimage.transform import resize

    h, w = slice_.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = slice_[top:top + s, left:left + s].astype(np.float64)
    if s == size:
        return crop.astype(np.float32)
    return resize(crop, (size, size), order=1, anti_aliasing=s > size, preserve_range=True).astype(np.float32)


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.mode not in ("L", "I;16", "I", "F"):
                im = im.convert("L")
            return np.asarray(im, np.float32)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise DataValidationError([f"{path}: {e}"], header="cannot read a PNG image") from None


def read_image_folder(folder: str | os.PathLike[str], *, size: int = 32, quiet: bool = True) -> FolderImages:
    """Read a folder of labelled images (one subfolder per finding label; see the module).

    Args:
        folder: the folder.
        size: pixels across every image after centre-crop and resize.
        quiet: no progress bar while reading DICOM.

    Raises:
        ConfigError: the folder does not exist.
        DataValidationError: no label subfolders, a subfolder without images, unreadable files,
            or mixed modalities (every problem listed).
    """
    from hygeia.imaging._dicom_read import list_dicom_series, read_dicom
    from hygeia.imaging._nifti import read_nifti

    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"image folder {str(root)!r} does not exist or is not a folder; pass a folder with one "
                          "subfolder per finding label (e.g. DIR/none/, DIR/nodule/)")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 8 <= size <= 512:
        raise ConfigError(f"size must be an integer from 8 to 512 pixels; got {size!r}. Pass e.g. size=32.")
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        hint = f"{root} has no subfolders; put the images of each finding in a subfolder named after it (e.g. none/)"
        raise DataValidationError([hint], header="no labelled images")
    images, labels, modalities, sources, problems = [], [], set(), [], []
    for sub in subdirs:
        rendered = (sub / "manifest.json").is_file()  # a `hygeia images render` output: series/ only
        image_root = sub / "series" if rendered and (sub / "series").is_dir() else sub
        files = sorted(p for p in image_root.rglob("*") if p.is_file() and not p.name.startswith("."))
        pngs = [p for p in files if p.suffix.lower() == ".png"]
        niis = [p for p in files if p.name.lower().endswith((".nii", ".nii.gz"))]
        rest = [p for p in files if p not in set(pngs) | set(niis)]
        found = 0
        try:
            for p in pngs:
                images.append(_square(_read_png(p), size))
                modalities.add("PNG")
                sources.append(str(p))
                found += 1
            for p in niis:
                vol = read_nifti(p)
                modalities.add(vol.modality)
                for z in range(vol.shape[0]):
                    images.append(_square(vol.array[z], size))
                    sources.append(f"{p}#slice{z}")
                found += vol.shape[0]
            if rest:
                for info in list_dicom_series(image_root):
                    vol = read_dicom(image_root, series=info.uid, quiet=quiet)
                    modalities.add(vol.modality)
                    for z in range(vol.shape[0]):
                        images.append(_square(vol.array[z], size))
                        sources.append(f"{sub}#{info.uid}#slice{z}")
                    found += vol.shape[0]
        except DataValidationError as e:
            problems += [f"{sub.name}/: {p}" for p in e.problems]
            continue
        if found == 0:
            problems.append(f"{sub.name}/: no PNG, NIfTI or DICOM images")
        labels += [sub.name] * (len(images) - len(labels))
    if len(modalities) > 1:
        problems.append(f"the folder mixes {', '.join(sorted(modalities))} images; train on one modality at a time"
                        " (PNG carries no units and cannot be mixed with DICOM or NIfTI)")
    if problems:
        raise DataValidationError(problems, header=f"cannot read the image folder {str(root)!r}")
    return FolderImages(np.asarray(images, np.float32), np.asarray(labels), modalities.pop(), sources)


#: Output formats of :func:`write_image_folder`.
SAMPLE_FORMATS = ("png", "dicom", "nifti")


def write_image_folder(images: np.ndarray, labels: Any, out: str | os.PathLike[str], *, modality: str,
                       format: str = "png", window: tuple[float, float] | None = None, seed: int | None = None,
                       provenance: dict[str, Any] | None = None, overwrite: bool = False) -> dict[str, int]:
    """Write images into ``out/<label>/`` (the layout :func:`read_image_folder` reads), atomically.

    Args:
        images: ``(n, y, x)`` in the images' units.
        labels: one label per image.
        out: the folder to write.
        modality: ``'CT'``, ``'MR'``, ``'DX'``, or ``'PNG'`` (images learned from PNG: PNG output only).
        format: ``'png'`` (8-bit, one file per image, through ``window``), ``'dicom'`` (one synthetic
            series per label) or ``'nifti'`` (``<label>/samples.nii.gz``, one slice per image).
        window: ``(low, high)`` values mapped to black and white in PNG (default: the images' range).
        seed: seed of the DICOM UIDs.
        provenance: kept in each Volume's ``meta`` (and so in the DICOM/NIfTI files).
        overwrite: replace ``out``.

    Returns:
        Images written per label.

    Example:
        >>> import tempfile
        >>> write_image_folder(np.zeros((3, 8, 8)), ["a", "b", "a"], tempfile.mkdtemp() + "/s", modality="CT")
        {'a': 2, 'b': 1}
    """
    from PIL import Image

    from hygeia.core.atomic import atomic_output
    from hygeia.imaging._io_convert import save_image
    from hygeia.imaging._volume import Volume

    if format not in SAMPLE_FORMATS:
        raise ConfigError(f"format must be one of {', '.join(SAMPLE_FORMATS)}; got {format!r}")
    if modality == "PNG" and format != "png":
        raise ConfigError(f"the model learned from PNG images, which carry no units; format={format!r} needs CT, "
                          "MR or X-ray values. Pass format='png'.")
    x = np.asarray(images, np.float32)
    y = np.asarray([str(v) for v in labels])
    lo, hi = window if window is not None else (float(x.min()), float(x.max()))
    counts: dict[str, int] = {}
    with atomic_output(out, folder=True, overwrite=overwrite, what="sample folder") as tmp:
        for j, label in enumerate(sorted(set(y))):
            sel = x[y == label]
            counts[str(label)] = len(sel)
            if format == "png":
                (tmp / label).mkdir()
                for i, img in enumerate(sel):
                    scaled = np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1) * 255.0
                    Image.fromarray(np.round(scaled).astype(np.uint8)).save(tmp / label / f"sample_{i:05d}.png")
                continue
            meta = {"synthetic": True, "label": label, **(provenance or {})}
            vol = Volume(sel, modality, meta=meta)
            dest = tmp / label / "samples.nii.gz" if format == "nifti" else tmp / label
            if format == "nifti":
                (tmp / label).mkdir()
            save_image(vol, dest, format=format, seed=None if seed is None else derive_seed(seed, 200 + j))
    return counts
