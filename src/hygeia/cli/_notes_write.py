"""``hygeia notes write``: one clinical note per encounter of a run, with provenance."""

from __future__ import annotations

import click

from hygeia.cli._common import (
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Summary, describe_output

__all__ = ["write_command"]

_NAMES = {"soap": "SOAP progress notes", "hp": "histories and physicals", "discharge": "discharge summaries",
          "radiology": "radiology reports"}


@click.command(
    "write", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia notes write run --out run_notes --seed 1
  hygeia notes write run --out run_notes --kind discharge --kind soap --overwrite
  hygeia notes write run --out run_reports --kind radiology

The same seed gives the same notes, word for word.""",
)
@click.argument("run", metavar="RUN")
@click.option("--out", required=True, metavar="DIR", help="Output folder for notes/*.parquet and manifest.json (must not exist or be empty).")
@click.option("--seed", type=int, default=None, metavar="S", help="Wording seed. Default: a fresh random one (recorded in manifest.json and printed).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(tuple(_NAMES)), help="Only write notes of this kind (repeatable): soap, hp, discharge, or radiology (a report per imaging study). Default: all kinds.")
@click.option("--overwrite", is_flag=True, help="Replace the output folder if it holds previous notes.")
@quiet_option
def write_command(run: str, out: str, seed: int | None, kinds: tuple[str, ...], overwrite: bool, quiet: bool) -> None:
    """Write a clinical note for every encounter of RUN (a 'hygeia generate' folder) into DIR.

    Ambulatory, urgent-care and emergency visits get a SOAP progress note; wellness
    visits and admissions a History & Physical; inpatient stays also a discharge
    summary; every imaging study (radiograph, CT, MRI, ultrasound, echocardiogram)
    a radiology report. Every sentence keeps the ids of the events it states
    (provenance).
    """
    from hygeia.notes import write_notes

    refuse_existing(out, overwrite, "Notes folder")
    result = write_notes(run, out, seed=seed, kinds=kinds or None, overwrite=overwrite, quiet=quiet)
    counts = ", ".join(f"{result.counts[k]:,} {_NAMES[k]}" for k in _NAMES if k in result.counts)
    summary = Summary(f"Wrote {result.n_notes:,} notes for {result.n_encounters:,} encounters in {result.seconds:.1f} s",
                      [("output", describe_output(result.out)), ("kinds", counts),
                       ("seed", f"{result.seed}" + ("" if seed is not None else
                                                    f" (pass --seed {result.seed} to write the same notes again)"))],
                      [])
    echo_summary(summary, quiet=quiet)
