"""``hygeia images link``: render the images of a population run, one DICOM series per ImagingStudy event."""

from __future__ import annotations

from typing import Any

import click

from hygeia.cli._common import HygeiaCommand, echo_summary, quiet_option
from hygeia.core.progress import Summary, describe_output

__all__ = ["images_summary", "link_command", "link_images"]

_MODALITIES = ("DX", "CR", "CT", "MR")


def link_images(run: str, *, overwrite: bool, size: int, modalities: tuple[str, ...], quiet: bool) -> Any:
    """Render ``run``'s images (refusing an existing ``RUN/images`` without ``overwrite``); the result."""
    from pathlib import Path

    from hygeia.errors import OutputError
    from hygeia.imaging._link import IMAGES_DIR, render_run_images

    dest = Path(run) / IMAGES_DIR
    if dest.exists() and not overwrite:
        raise OutputError(f"{str(dest)!r} already exists (images rendered before). Pass --overwrite to render "
                          "them again, or leave them.")
    return render_run_images(run, modalities=modalities or _MODALITIES, size=size, overwrite=overwrite, quiet=quiet)


def images_summary(res: Any) -> list[tuple[str, str]]:
    """The facts of a :class:`~hygeia.imaging.ImagesResult` for a command's summary."""
    found = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in sorted(res.by_finding.items())) or "none"
    facts = [("images", describe_output(res.out)),
             ("studies", f"{res.studies:,} of {res.events:,} imaging events ({res.series:,} series)"),
             ("findings", f"{found} (the rest normal; masks beside the series)")]
    if res.not_rendered:
        reasons: dict[str, int] = {}
        for s in res.manifest["not_rendered"]:
            reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
        facts.append(("not rendered", "; ".join(f"{v:,} ({k})" for k, v in sorted(reasons.items()))))
    return facts


@click.command(
    "link", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia generate -n 50 --seed 1 --out runs/pop
  hygeia images link runs/pop --size 64
  hygeia images link runs/pop --overwrite --modality DX -q

The same run gives the same images and DICOM UIDs; 'hygeia export RUN --format fhir' then
puts the series and instance UIDs in each ImagingStudy.""",
)
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--size", type=int, default=128, show_default=True, metavar="PX", help="Pixels across each image.")
@click.option("--modality", "modalities", multiple=True, type=click.Choice(_MODALITIES),
              help="Render only series of this DICOM modality (repeatable). Default: all of DX, CR, CT, MR.")
@click.option("--overwrite", is_flag=True, help="Replace RUN/images if images were rendered for this run before.")
@quiet_option
def link_command(run: str, size: int, modalities: tuple[str, ...], overwrite: bool, quiet: bool) -> None:
    """Render one synthetic DICOM series for every ImagingStudy event of the run in RUN.

    Each series shows the finding the patient's conditions call for at that study
    (pneumonia: consolidation; a wrist, ankle or rib fracture: a fracture line; otherwise a
    normal image), with its mask as ground truth. The DICOM files carry the synthetic
    patient's id, sex and birth date and the study's date. Writes RUN/images/ (one folder
    per patient and study, and manifest.json listing every study); the run's other files
    are left as they are.
    """
    res = link_images(run, overwrite=overwrite, size=size, modalities=modalities, quiet=quiet)
    summary = Summary(f"Rendered {res.series:,} series for {res.studies:,} studies in {res.seconds:.1f} s",
                      images_summary(res), [f"hygeia export {run} --format fhir --out {run}/fhir"])
    echo_summary(summary, quiet=quiet)
