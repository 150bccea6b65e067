"""``hygeia export`` and ``hygeia import-fhir``: move records between Hygeia and other formats."""

from __future__ import annotations

import click

__all__ = ["export_command", "import_fhir_command", "export_formats"]

FORMATS = ("fhir", "ndjson", "omop", "meds", "csv")


def default_export_path(run_dir: str, fmt: str) -> str:
    """Where ``generate --format`` puts an export inside the run folder."""
    import os

    return os.path.join(run_dir, "omop.duckdb" if fmt == "omop" else fmt)


def export_formats(run_dir: str, formats: tuple[str, ...], omop_url: str | None, overwrite: bool) -> list[str]:
    """Export ``run_dir`` to each format; returns one summary line per format."""
    from hygeia.export import export

    lines = []
    for fmt in formats:
        options = {"omop_url": omop_url} if fmt == "omop" and omop_url else {}
        out = default_export_path(run_dir, fmt)
        counts = export(run_dir, fmt, out, overwrite=overwrite, **options)
        where = "the PostgreSQL database" if options else out
        total = sum(v for v in counts.values() if isinstance(v, int))
        lines.append(f"{fmt}: {total:,} records -> {where}")
    return lines


@click.command(
    "export",
    epilog="""\b
Examples:
  hygeia export output --format fhir --out fhir_bundles
  hygeia export output --format ndjson --out bulk
  hygeia export output --format omop --out cdm.duckdb
  hygeia export output --format omop --omop-url postgresql://user@localhost:5432/cdm
  hygeia export output --format meds --out meds_dataset
  hygeia export output --format csv --out csv""",
)
@click.argument("directory", metavar="DIR")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option("--out", default=None, metavar="PATH", help="Output folder (or .duckdb file for omop). Default: DIR/<format>.")
@click.option("--omop-url", default=None, metavar="URL", help="Load OMOP into this PostgreSQL database instead of DuckDB.")
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
def export_command(directory: str, fmt: str, out: str | None, omop_url: str | None, overwrite: bool) -> None:
    """Export the run in DIR (made by 'hygeia generate') to FHIR R4, OMOP CDM 5.4, MEDS or CSV."""
    from hygeia.export import export

    options = {"omop_url": omop_url} if omop_url else {}
    if omop_url and fmt != "omop":
        raise click.UsageError("--omop-url goes with --format omop")
    path = out or default_export_path(directory, fmt)
    counts = export(directory, fmt, path, overwrite=overwrite, **options)
    where = "the PostgreSQL database" if omop_url else path
    click.echo(f"Exported to {where}:")
    for name, n in counts.items():
        click.echo(f"  {name:<28} {n:>12,}" if isinstance(n, int) else f"  {name:<28} {n}")


@click.command(
    "import-fhir",
    epilog="""\b
Examples:
  hygeia import-fhir bulk/ --out records       # a folder of NDJSON files (bulk data)
  hygeia import-fhir bundles/ --out records    # a folder of Bundle JSON files
  hygeia inspect records""",
)
@click.argument("path", metavar="PATH")
@click.option("--out", required=True, metavar="DIR", help="Run folder to write (persons/, events/, run.json).")
@click.option("--overwrite", is_flag=True, help="Replace DIR if it holds a previous run.")
def import_fhir_command(path: str, out: str, overwrite: bool) -> None:
    """Read FHIR R4 NDJSON or Bundles in PATH into Hygeia records in DIR."""
    from hygeia.export.fhir import import_fhir

    result = import_fhir(path, out, overwrite=overwrite)
    click.echo(f"Imported into {out}: {result}")
