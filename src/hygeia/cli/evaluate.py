"""``hygeia evaluate``: compare synthetic data with real data and write a report."""

from __future__ import annotations

import click

from hygeia.cli._common import HygeiaCommand, quiet_option

__all__ = ["evaluate_command"]


def _columns(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [c.strip() for c in value.split(",") if c.strip()]


def _declared_types(metadata: str | None, types: tuple[str, ...]) -> dict[str, str] | None:
    """The types declared with ``--metadata FILE`` (as ``hygeia fit`` reads it), then ``--type COL=TYPE``."""
    from hygeia.errors import ConfigError

    declared: dict[str, str] = {}
    if metadata:
        from hygeia.tabular.metadata import Metadata

        declared = {c.name: c.type for c in Metadata.load(metadata).columns}
    for item in types:
        col, sep, kind = item.partition("=")
        if not sep or not col:
            raise ConfigError(f"--type takes COLUMN=TYPE (e.g. --type zip=categorical); got {item!r}")
        declared[col] = kind
    return declared or None


@click.command(
    "evaluate", cls=HygeiaCommand,
    epilog="""\b
Example:
  hygeia evaluate --real train.csv --holdout test.csv --synthetic synth.csv \\
      --target readmitted --quasi-identifiers age,sex,zip --out report
  hygeia evaluate --real real_run --synthetic synthetic_run --out report
  hygeia evaluate --real train.csv --synthetic synth.csv --type lab=numeric --type zip=categorical --out report
  hygeia evaluate --real train.csv --synthetic synth.csv --metadata cohort.meta.json --out report""",
)
@click.option("--real", "real", required=True, metavar="PATH", help="Real (training) data: CSV, Parquet or a Hygeia run folder.")
@click.option("--synthetic", "synthetic", required=True, metavar="PATH", help="Synthetic data, in the same form.")
@click.option("--holdout", default=None, metavar="PATH", help="Real data kept out of training (privacy and utility).")
@click.option("--target", default=None, metavar="COL", help="Outcome column for utility and fairness.")
@click.option("--quasi-identifiers", default=None, metavar="A,B", help="Comma-separated columns an attacker may know.")
@click.option("--time-column", default=None, metavar="COL", help="Survival time column.")
@click.option("--event-column", default=None, metavar="COL", help="Survival event column.")
@click.option("--subgroups", default=None, metavar="A,B", help="Comma-separated columns whose groups fairness compares.")
@click.option("--type", "types", multiple=True, metavar="COL=TYPE",
              help="Declare a column's type: numeric (text such as 'unknown' is read as missing), categorical, "
                   "datetime, id or text (not compared); repeatable. The same detector and syntax as 'hygeia fit'.")
@click.option("--metadata", default=None, metavar="FILE",
              help="Metadata JSON (from 'hygeia metadata', as given to 'hygeia fit --metadata'): its column types "
                   "are declared; --type wins over it.")
@click.option("--rules", "rule_files", multiple=True, metavar="FILE", help="Extra plausibility rule file (repeatable).")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Seed of every random choice in the metrics. Default: a fresh random one (recorded in report.json "
                   "and printed).")
@click.option("--out", required=True, metavar="DIR", help="Report folder (report.json, report.html).")
@click.option("--overwrite", is_flag=True, help="Replace an existing report folder.")
@quiet_option
def evaluate_command(
    real: str, synthetic: str, holdout: str | None, target: str | None, quasi_identifiers: str | None,
    time_column: str | None, event_column: str | None, subgroups: str | None, types: tuple[str, ...],
    metadata: str | None, rule_files: tuple[str, ...], seed: int | None, out: str, overwrite: bool, quiet: bool,
) -> None:
    """Measure fidelity, utility, privacy, fairness and clinical plausibility of synthetic data."""
    from hygeia.evaluate.report import run_evaluation, summary_text

    from hygeia.core.progress import status
    from hygeia.core.seeding import resolve_seed

    declared = _declared_types(metadata, types)
    chosen = seed
    seed = resolve_seed(seed)
    with status("evaluating (fidelity, utility, privacy, fairness, plausibility)", quiet=quiet):
        result = run_evaluation(
            real, synthetic, holdout=holdout, target=target, quasi_identifiers=_columns(quasi_identifiers), out=out,
            time_column=time_column, event_column=event_column, subgroups=_columns(subgroups), seed=seed,
            extra_rule_files=rule_files, overwrite=overwrite, column_types=declared,
        )
    if quiet:
        return
    if chosen is None:
        click.echo(f"seed: {seed} (pass --seed {seed} to repeat the evaluation exactly)")
    from pathlib import Path

    click.echo(summary_text(result, str(Path(out) / "report.html")))
