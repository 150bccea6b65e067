"""``hygeia images render``: synthetic CT, MR and X-ray images from physics, with lesions and their masks."""

from __future__ import annotations

import click

from hygeia.cli._common import (
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Summary, describe_output

__all__ = ["render_command"]

_FINDINGS = ("nodule", "consolidation", "white_matter_lesion", "fracture", "osteoarthritis", "none")
#: Phantoms (hygeia.imaging.BODY_PARTS, listed here so the CLI loads without numpy).
_BODY_PARTS = ("chest", "head", "wrist", "ankle", "knee", "pelvis", "clavicle", "water")


@click.command(
    "render", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia images render --modality ct --finding nodule -n 4 --seed 1 --out runs/ct_nodules
  hygeia images render --modality mr --finding white_matter_lesion -n 2 --seed 1 --out runs/mr_wml --format nifti
  hygeia images render --modality xray --finding fracture -n 8 --seed 1 --out runs/xr --format png --size 256
  hygeia images render --modality ct --photons 1e4 --size 64 --slices 8 --seed 1 --out runs/ct_low_dose

The same seed and options give the same images; each image is a new phantom patient.""",
)
@click.option("--modality", required=True, type=click.Choice(("ct", "mr", "xray")),
              help="CT (Hounsfield units, filtered back projection), MR (spin or gradient echo) or a frontal X-ray.")
@click.option("--finding", default="none", show_default=True, type=click.Choice(_FINDINGS),
              help="Lesion to insert before the physics runs; its mask is written beside the image.")
@click.option("-n", "n", type=int, default=1, show_default=True, metavar="N", help="Number of images (patients).")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Run seed. Default: a fresh random one (recorded in manifest.json and printed).")
@click.option("--out", required=True, metavar="DIR",
              help="Output folder for series/, masks/ and manifest.json (must not exist or be empty).")
@click.option("--format", "fmt", default="dicom", show_default=True, type=click.Choice(("dicom", "nifti", "png")),
              help="How each series is written (masks are NIfTI, or PNG with --format png).")
@click.option("--size", type=int, default=128, show_default=True, metavar="PX", help="Pixels across each image.")
@click.option("--slices", type=int, default=16, show_default=True, metavar="K",
              help="Axial slices of a CT or MR series (an X-ray is one image).")
@click.option("--thickness", type=float, default=None, metavar="MM",
              help="Slice spacing of a chest or head CT/MR in mm. Default: 5.")
@click.option("--body-part", type=click.Choice(_BODY_PARTS), default=None,
              help="Phantom to image. Default: from the finding (a fracture: wrist or ankle; osteoarthritis: "
                   "knee), else chest (MR: head).")
@click.option("--photons", "dose", type=float, default=1e5, show_default=True, metavar="I0",
              help="Dose: photons per ray (CT) or per detector pixel (X-ray); noise falls as 1/sqrt(I0).")
@click.option("--sequence", type=click.Choice(("se", "gre")), default="se", show_default=True,
              help="MR sequence: spin echo or spoiled gradient echo.")
@click.option("--tr", type=float, default=3000.0, show_default=True, metavar="MS", help="MR repetition time (ms).")
@click.option("--te", type=float, default=90.0, show_default=True, metavar="MS", help="MR echo time (ms).")
@click.option("--flip", "flip_deg", type=float, default=30.0, show_default=True, metavar="DEG",
              help="MR gradient-echo flip angle (degrees).")
@click.option("--snr", type=float, default=30.0, show_default=True, help="MR signal-to-noise ratio.")
@click.option("--acceleration", type=float, default=1.0, show_default=True, metavar="R",
              help="MR undersampling: keep 1/R of the phase-encoding lines (centre always), zero-filled.")
@click.option("--overwrite", is_flag=True, help="Replace the output folder if it holds previous images.")
@quiet_option
def render_command(modality: str, finding: str, n: int, seed: int | None, out: str, fmt: str, size: int, slices: int,
                   thickness: float | None, body_part: str | None, dose: float, sequence: str, tr: float,
                   te: float, flip_deg: float, snr: float, acceleration: float, overwrite: bool, quiet: bool) -> None:
    """Render N synthetic images of one modality from physics into DIR, one series per image.

    Anatomy comes from phantoms (a parametric chest, the MNI152 head that nilearn ships,
    wrist and ankle bones), drawn anew for each patient; the lesion goes into the phantom
    before the scanner's physics, so it carries the image's noise and blur, and its mask is
    the ground truth. manifest.json lists every image with its findings (codes, contrast)
    and every parameter.
    """
    import time

    from hygeia.core.seeding import resolve_seed
    from hygeia.imaging._render import render, write_rendered

    refuse_existing(out, overwrite, "Images folder")
    start = time.monotonic()
    run_seed = resolve_seed(seed)
    volumes = render(modality, finding=None if finding == "none" else finding, n=n, seed=run_seed, size=size,
                     slices=slices, dose=dose, tr=tr, te=te, body_part=body_part, thickness=thickness,
                     sequence=sequence, flip_deg=flip_deg, snr=snr, acceleration=acceleration, quiet=quiet)
    manifest = write_rendered(volumes, out, format=fmt, overwrite=overwrite, quiet=quiet)
    with_finding = sum(1 for im in manifest["images"] if im["findings"])
    parts = sorted({im["body_part"] for im in manifest["images"]})
    shape = "x".join(str(s) for s in volumes[0].shape)
    name = {"ct": "CT", "mr": "MR", "xray": "X-ray"}[modality]
    summary = Summary(f"Rendered {n:,} {name} image{'s' if n != 1 else ''} ({shape}) in "
                      f"{time.monotonic() - start:.1f} s",
                      [("output", describe_output(out)), ("format", fmt), ("body parts", ", ".join(parts)),
                       ("findings", f"{with_finding:,} with {finding.replace('_', ' ')} (masks in masks/)"
                        if with_finding else "none"),
                       ("seed", f"{run_seed}" + ("" if seed is not None else
                                                 f" (pass --seed {run_seed} to render the same images again)"))],
                      [])
    echo_summary(summary, quiet=quiet)
