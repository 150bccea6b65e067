"""``hygeia export`` and ``hygeia import-fhir``: move records between Hygeia and other formats."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from hygeia.cli._common import HygeiaCommand, echo_summary, quiet_option
from hygeia.core.progress import Summary, describe_output
from hygeia.errors import ConfigError

__all__ = ["export_command", "import_fhir_command", "export_formats"]

FORMATS = ("fhir", "ndjson", "omop", "meds", "csv", "synthea-csv")
#: What ``--out`` is for each format, in words.
OUT_KIND = {
    "fhir": "a folder: one FHIR R4 transaction Bundle (.json) per patient",
    "ndjson": "a folder: one FHIR bulk-data .ndjson file per resource type",
    "omop": "one DuckDB file (.duckdb) holding the OMOP CDM 5.4 tables",
    "meds": "a folder: a MEDS dataset (data/*.parquet, metadata/)",
    "csv": "a folder: patients.csv and one CSV file per kind of clinical fact",
    "synthea-csv": "a folder: Synthea 3.3's 18 CSV files (patients.csv, encounters.csv...)",
}
_FORMAT_NAMES = {"fhir": "FHIR R4 Bundles", "ndjson": "FHIR R4 NDJSON (bulk data)", "omop": "OMOP CDM 5.4",
                 "meds": "MEDS", "csv": "CSV", "synthea-csv": "Synthea CSV"}
_DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
_FILE_SUFFIXES = (".json", ".ndjson", ".csv", ".parquet", ".zip", ".gz", *_DUCKDB_SUFFIXES)


def default_export_path(run_dir: str, fmt: str) -> str:
    """Where ``generate --format`` puts an export inside the run folder."""
    return os.path.join(run_dir, "omop.duckdb" if fmt == "omop" else fmt)


def check_out(fmt: str, out: str) -> None:
    """Refuse an ``--out`` that is a file where ``fmt`` writes a folder, or the reverse.

    Raises:
        ConfigError: naming what ``--out`` must be for ``fmt``.

    Example:
        >>> check_out("omop", "cdm.duckdb"); check_out("fhir", "bundles")
        >>> check_out("fhir", "bundles.json")
        Traceback (most recent call last):
        ...
        hygeia.errors.ConfigError: --format fhir writes a folder: one FHIR R4 transaction Bundle (.json) per patient; --out 'bundles.json' looks like a file name. Pass a folder name, e.g. --out fhir_bundles
    """
    p = Path(out)
    if fmt == "omop":
        if p.is_dir() or p.suffix.lower() not in _DUCKDB_SUFFIXES:
            raise ConfigError(f"--format omop writes {OUT_KIND['omop']}; --out {out!r} is "
                              f"{'a folder' if p.is_dir() else 'not a .duckdb file name'}. Pass e.g. --out cdm.duckdb "
                              "(or --omop-url to load a PostgreSQL database)")
        return
    if p.is_file() or p.suffix.lower() in _FILE_SUFFIXES:
        example = {"fhir": "fhir_bundles", "ndjson": "bulk", "meds": "meds_dataset", "csv": "csv",
                   "synthea-csv": "synthea_csv"}[fmt]
        raise ConfigError(f"--format {fmt} writes {OUT_KIND[fmt]}; --out {out!r} "
                          f"{'is a file' if p.is_file() else 'looks like a file name'}. "
                          f"Pass a folder name, e.g. --out {example}")


def _next_step(fmt: str, where: str) -> str:
    return {
        "fhir": f"hygeia import-fhir {where} --out records   # or send the Bundles to a FHIR server",
        "ndjson": f"hygeia import-fhir {where} --out records",
        "omop": f"open {where} with DuckDB: SELECT count(*) FROM person",
        "meds": f"read {where}{os.sep}data with any MEDS tool (polars, meds_reader)",
        "csv": f"open {os.path.join(where, 'patients.csv')}",
        "synthea-csv": f"load {where} with a tool made for Synthea's CSV (OHDSI ETL-Synthea: syntheaVersion 3.3.0)",
    }[fmt]


def _summary(fmt: str, counts: dict, where: str, seconds: float, *, postgres: bool = False) -> Summary:
    persons = next((counts[k] for k in ("persons", "Patient", "person", "patients") if k in counts), None)
    who = f"{persons:,} persons" if isinstance(persons, int) else "the run"
    summary = Summary(f"Exported {who} to {_FORMAT_NAMES[fmt]} in {seconds:.1f} s",
                      [("output", "the PostgreSQL database" if postgres else describe_output(where))])
    empty = []
    for name, n in counts.items():
        if fmt == "omop" and n == 0:  # OMOP creates every CDM table; list the empty ones on one line
            empty.append(name)
            continue
        summary.add(name, n if isinstance(n, (int, float)) else str(n))
    if empty:
        summary.add("empty tables", ", ".join(empty))
    if not postgres:
        summary.next_steps.append(_next_step(fmt, where))
    return summary


def export_formats(run_dir: str, formats: tuple[str, ...], omop_url: str | None, overwrite: bool,
                   quiet: bool = True) -> list[str]:
    """Export ``run_dir`` to each format; returns one summary line per format."""
    from hygeia.export import export

    lines = []
    for fmt in formats:
        options = {"omop_url": omop_url} if fmt == "omop" and omop_url else {}
        out = default_export_path(run_dir, fmt)
        counts = export(run_dir, fmt, out, overwrite=overwrite, progress=not quiet, **options)
        where = "the PostgreSQL database" if options else describe_output(out)
        total = sum(v for k, v in counts.items() if isinstance(v, int) and not k.startswith("skipped"))
        lines.append(f"{fmt}: {total:,} records -> {where}")
    return lines


_OUT_HELP = ("Where to write. Default: DIR/<format> (omop: DIR/omop.duckdb). It is a folder for fhir, ndjson, meds, "
             "csv and synthea-csv, and one .duckdb file for omop.")


@click.command(
    "export", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia export output --format fhir --out fhir_bundles     # a folder: one Bundle per patient
  hygeia export output --format fhir --max-entries 500 --out fhir_bundles   # Bundles of <= 500 entries
  hygeia export output --format ndjson --out bulk           # a folder: one .ndjson per resource type
  hygeia export output --format omop --out cdm.duckdb       # one DuckDB file
  hygeia export output --format omop --omop-url postgresql://user@localhost:5432/cdm
  hygeia export output --format omop --vocabulary athena --start 2000-01-01 --out cdm.duckdb
  hygeia export output --format meds --out meds_dataset     # a folder
  hygeia export output --format csv --out csv               # a folder
  hygeia export output --format csv --out csv --resume      # after a kill: keep the shards written
  hygeia export output --format synthea-csv --out synthea_csv   # Synthea's 18 CSV files (ETL-Synthea loads them)
  hygeia notes write output --out output_notes --seed 1
  hygeia export output --notes output_notes --format fhir --out fhir_bundles   # with the notes""",
)
@click.argument("directory", metavar="DIR")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="fhir: R4 Bundles; ndjson: R4 bulk data; omop: CDM 5.4; meds: MEDS; csv: Synthea-style tables "
                   "with Hygeia's ids and provenance; synthea-csv: Synthea 3.3's CSV files, columns and UUIDs.")
@click.option("--out", default=None, metavar="PATH", help=_OUT_HELP)
@click.option("--omop-url", default=None, metavar="URL", help="Load OMOP into this PostgreSQL database instead of DuckDB.")
@click.option("--vocabulary", default=None, metavar="ATHENA_DIR",
              help="OMOP only: a folder of OHDSI Athena vocabulary files (CONCEPT.csv, CONCEPT_RELATIONSHIP.csv...). "
                   "Codes are mapped to its standard concepts and its tables are loaded. Default: Hygeia's own small "
                   "vocabulary (synthetic local concept ids, see docs/omop.md).")
@click.option("--start", default=None, metavar="YYYY-MM-DD",
              help="OMOP only: the first day exported; earlier events are left out and observation periods begin "
                   "there (or at birth). Default: the run's start, else birth.")
@click.option("--notes", default=None, metavar="NOTES",
              help="Also export the notes that 'hygeia notes write DIR --out NOTES' wrote for this run: FHIR "
                   "DocumentReference (and Composition for discharge summaries), the OMOP note table, MEDS rows "
                   "with text_value, notes.csv.")
@click.option("--max-entries", type=click.IntRange(min=1), default=None, metavar="N",
              help="fhir only: write a patient with more than N entries as several transaction Bundles of at most "
                   "N entries (patient-<id>-part<k>of<n>.json, to load in name order; servers commonly cap a "
                   "transaction at 500 entries). Default: one Bundle per patient.")
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists (without it an existing PATH is refused).")
@click.option("--resume", is_flag=True,
              help="Continue an export of DIR to PATH that was killed (SIGKILL, a power cut) from the shards it "
                   "wrote and verified, for the same output as an uninterrupted export. Pass its options again "
                   "and the same --out. Without an interrupted export, export from the start.")
@quiet_option
def export_command(directory: str, fmt: str, out: str | None, omop_url: str | None, vocabulary: str | None,
                   start: str | None, notes: str | None, max_entries: int | None, overwrite: bool, resume: bool,
                   quiet: bool) -> None:
    """Export the run in DIR (made by 'hygeia generate' or 'hygeia import-fhir') to FHIR R4, OMOP CDM 5.4, MEDS or CSV."""
    from hygeia.export import export

    if omop_url and fmt != "omop":
        raise click.UsageError("--omop-url goes with --format omop")
    if omop_url and out:
        raise click.UsageError("--out and --omop-url both say where OMOP goes; pass one")
    path = out or default_export_path(directory, fmt)
    if not omop_url:
        check_out(fmt, path)
    if (vocabulary or start) and fmt != "omop":
        raise click.UsageError(f"{'--vocabulary' if vocabulary else '--start'} goes with --format omop")
    options = {"omop_url": omop_url} if omop_url else {}
    options.update({k: v for k, v in (("vocabulary", vocabulary), ("start", start)) if v is not None})
    if max_entries is not None:
        if fmt != "fhir":
            raise click.UsageError("--max-entries goes with --format fhir (it sizes the transaction Bundles)")
        options["max_entries"] = max_entries
    began = time.perf_counter()
    if resume and omop_url:
        raise click.UsageError("--resume goes with an export to a file or folder: a PostgreSQL load (--omop-url) "
                               "is one transaction that the server rolls back when the export is killed; run the "
                               "same command without --resume")
    counts = export(directory, fmt, None if omop_url else path, overwrite=overwrite, progress=not quiet,
                    notes=notes, resume=resume, **options)
    echo_summary(_summary(fmt, counts, path, time.perf_counter() - began, postgres=bool(omop_url)), quiet=quiet)


@click.command(
    "import-fhir", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia import-fhir bulk/ --out records       # a folder of NDJSON files (bulk data)
  hygeia import-fhir bundles/ --out records    # a folder of Bundle JSON files
  hygeia import-fhir patient.json --out one    # one Bundle
  hygeia inspect records""",
)
@click.argument("path", metavar="PATH")
@click.option("--out", required=True, metavar="DIR", help="Run folder to write (persons/, events/, run.json).")
@click.option("--overwrite", is_flag=True, help="Replace DIR if it holds a previous run.")
@quiet_option
def import_fhir_command(path: str, out: str, overwrite: bool, quiet: bool) -> None:
    """Read FHIR R4 NDJSON or Bundles in PATH (a file or a folder) into Hygeia records in DIR."""
    from hygeia.export.fhir import import_fhir

    start = time.perf_counter()
    result = import_fhir(path, out, overwrite=overwrite, progress=not quiet)
    skipped = result.get("skipped") or {}
    summary = Summary(f"Imported {result['persons']:,} persons and {result['events']:,} events "
                      f"from {result['resources']:,} FHIR resources in {time.perf_counter() - start:.1f} s",
                      [("output", describe_output(out))],
                      [f"hygeia inspect {out}", f"hygeia export {out} --format csv --out {out}_csv"])
    if skipped:
        summary.add("skipped", f"{sum(skipped.values()):,} resources of types Hygeia does not keep ("
                    + ", ".join(f"{k} {v:,}" for k, v in sorted(skipped.items(), key=lambda kv: -kv[1])) + ")")
    echo_summary(summary, quiet=quiet)
