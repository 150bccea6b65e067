"""``hygeia images convert``: a DICOM series or a NIfTI file to DICOM, NIfTI or PNG slices."""

from __future__ import annotations

import time

import click

from hygeia.cli._common import (
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Summary, describe_output

__all__ = ["convert_command"]


@click.command(
    "convert", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia images convert scans/ct_series --out runs/ct.nii.gz
  hygeia images convert scans/mixed --series 1.2.840.113619.2.55.3 --out runs/ct.nii.gz
  hygeia images convert runs/ct.nii.gz --out runs/ct_dicom --format dicom --seed 1
  hygeia images convert runs/ct.nii.gz --out runs/ct_png --format png --window lung
  hygeia images convert brain.nii.gz --modality MR --out runs/brain_dicom --format dicom

The output is written aside and moved into place whole: an error leaves no partial output.""",
)
@click.argument("src", metavar="IN")
@click.option("--out", required=True, metavar="PATH",
              help="Output: a .nii or .nii.gz file (NIfTI) or a folder (DICOM, PNG); must not exist unless --overwrite.")
@click.option("--format", "format", type=click.Choice(("dicom", "nifti", "png")), default=None,
              help="Output format. Default: nifti when --out ends in .nii/.nii.gz, else dicom.")
@click.option("--window", type=click.Choice(("lung", "soft", "bone")), default=None,
              help="PNG only: CT display window (lung -600/1500, soft tissue 40/400, bone 400/1800 HU). "
                   "Default: soft for CT, the image's own range for MR and X-ray.")
@click.option("--series", default=None, metavar="UID",
              help="DICOM input: the Series Instance UID to convert when the folder holds several series.")
@click.option("--modality", type=click.Choice(("CT", "MR", "DX")), default=None,
              help="NIfTI input not written by Hygeia: its modality (NIfTI does not record one).")
@click.option("--backend", type=click.Choice(("pydicom", "simpleitk")), default="pydicom", show_default=True,
              help="DICOM input: the library that decodes the pixels (simpleitk also decodes JPEG-compressed files).")
@click.option("--ct-precision", type=float, default=1.0, show_default=True, metavar="HU",
              help="DICOM output: HU step of stored CT values (RescaleSlope); 1 keeps whole HU, 0.1 tenths.")
@click.option("--seed", type=int, default=None, metavar="S",
              help="DICOM output: seed of the new UIDs. Default: a fresh random one (printed).")
@click.option("--overwrite", is_flag=True, help="Replace the output if it exists.")
@quiet_option
def convert_command(src: str, out: str, format: str | None, window: str | None, series: str | None,
                    modality: str | None, backend: str, ct_precision: float, seed: int | None, overwrite: bool,
                    quiet: bool) -> None:
    """Convert IN (a DICOM folder or file, or a .nii/.nii.gz file) into --out.

    DICOM input is read with pydicom (or SimpleITK), slices sorted along their normal,
    values through RescaleSlope/Intercept (HU for CT). DICOM output is CT Image, MR Image
    or Secondary Capture (X-ray) Storage with new UIDs and no identifying fields, marked
    Synthetic Data YES unless IN was a file not marked synthetic. NIfTI keeps the
    geometry (RAS on disk); PNG writes one 8-bit slice per file through a window.
    """
    from hygeia.imaging._io_convert import image_format, load_image, save_image

    refuse_existing(out, overwrite, "Output")
    start = time.perf_counter()
    volume = load_image(src, series=series, modality=modality, backend=backend, quiet=quiet)
    saved = save_image(volume, out, format=format, window=window, seed=seed, ct_precision=ct_precision,
                       overwrite=overwrite, quiet=quiet)
    seconds = time.perf_counter() - start
    z, y, x = volume.shape
    sz, sy, sx = volume.spacing
    facts = [("output", describe_output(saved.path)),
             ("image", f"{volume.modality}, {z} x {y} x {x} voxels (z, y, x), spacing {sz:g} x {sy:g} x {sx:g} mm"),
             ("values", f"{float(volume.array.min()):g} to {float(volume.array.max()):g}"
                        + (" HU" if volume.modality == "CT" else ""))]
    if saved.series is not None:
        facts.append(("series UID", saved.series.series_uid))
        facts.append(("synthetic", "yes (Synthetic Data YES)" if saved.series.synthetic else
                      "no (IN was not marked synthetic)"))
        facts.append(("seed", f"{saved.series.seed}" + ("" if seed is not None else
                                                        f" (pass --seed {saved.series.seed} for the same UIDs)")))
    source = "DICOM" if image_format(src) == "dicom" else "NIfTI"
    echo_summary(Summary(f"Converted {z} {volume.modality} slice{'s' if z != 1 else ''} from {source} to "
                         f"{saved.format.upper() if saved.format != 'nifti' else 'NIfTI'} in {seconds:.1f} s",
                         facts, []), quiet=quiet)
