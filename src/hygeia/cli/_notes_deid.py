"""``hygeia notes deid``: replace the HIPAA Safe Harbor identifiers of notes by consistent surrogates."""

from __future__ import annotations

import click

from hygeia.cli._common import (
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Summary, describe_output

__all__ = ["deid_command"]


@click.command(
    "deid", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia notes deid examples/notes/phi_note.txt --out runs/note_deid.txt --seed 1
  hygeia notes deid notes_folder --out notes_folder_deid --seed 7
  hygeia notes deid run_notes/notes --out run_notes_deid --seed 1 --mapping secret/map.json

The same seed gives the same surrogates; without --mapping nothing that
re-identifies the notes is written.""",
)
@click.argument("src", metavar="IN")
@click.option("--out", required=True, metavar="PATH", help="Output of the input's shape: a file, a folder, or a .parquet file.")
@click.option("--seed", type=int, default=None, metavar="S", help="Surrogate seed. Default: a fresh random one (printed).")
@click.option("--mapping", default=None, metavar="FILE", help="Also write the original-to-surrogate mapping and date shifts to this JSON file (it re-identifies the notes; keep it apart).")
@click.option("--locale", default="us", show_default=True, metavar="NAME", help="Locale pack whose name lexicon is searched and drawn from.")
@click.option("--overwrite", is_flag=True, help="Replace the output (and the mapping file) if they exist.")
@quiet_option
def deid_command(src: str, out: str, seed: int | None, mapping: str | None, locale: str, overwrite: bool,
                 quiet: bool) -> None:
    """De-identify IN (a text file, a folder of .txt files, notes Parquet files, or a 'hygeia notes write' folder) into --out.

    Finds names, addresses, cities, ZIP codes, dates, ages over 89, phone and fax
    numbers, e-mails, SSNs, record, plan, account, licence, vehicle and device numbers,
    URLs, IP addresses and biometric identifiers, and replaces each by a surrogate: the
    same name by the same fake name, each patient's dates shifted by one offset
    (subject_id in Parquet notes, such as the notes/ folder 'hygeia notes write'
    makes; the file name in a folder of .txt notes).
    """
    from hygeia.notes import deidentify_path

    refuse_existing(out, overwrite, "Output")
    r = deidentify_path(src, out, seed=seed, overwrite=overwrite, mapping=mapping, locale=locale)
    found = ", ".join(f"{n:,} {k}" for k, n in sorted(r.counts.items(), key=lambda kv: -kv[1])) or "none"
    facts = [("output", describe_output(r.out)), ("texts", f"{r.n_texts:,} ({r.n_chars:,} characters)"),
             ("identifiers", f"{sum(r.counts.values()):,}: {found}"),
             ("seed", f"{r.seed}" + ("" if seed is not None else f" (pass --seed {r.seed} for the same surrogates)"))]
    if r.n_empty:
        facts.append(("empty texts", f"{r.n_empty:,} (left empty)"))
    if mapping:
        facts.append(("mapping", f"{mapping} (re-identifies the notes: keep it apart)"))
    echo_summary(Summary(f"De-identified {r.n_texts:,} text(s) in {r.seconds:.1f} s", facts, []), quiet=quiet)
