"""``hygeia calibrate``: compare a run with national figures, and calibrate modules to them.

``hygeia calibrate RUN`` is short for ``hygeia calibrate run RUN``; the other
subcommands are ``fit`` (a module's onset probabilities against a prevalence curve)
and ``mortality`` (re-estimate the deaths the module library causes).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from hygeia.cli._common import HygeiaCommand, quiet_option

__all__ = ["calibrate_group"]


class _CalibrateGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, is the RUN of ``run``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("calibrate", cls=_CalibrateGroup, epilog="""\b
Examples:
  hygeia calibrate output                      # writes output/calibration.json and .html
  hygeia calibrate output --check --out report # exit status 1 if a target fails
  hygeia calibrate fit copd --measure copd -n 2000 --iterations 3 --write copd.json
  hygeia calibrate fit my_module.json --measure heart_failure --curve hf_by_age.csv --iterations 0
  hygeia calibrate mortality --workers 4 --overwrite

'hygeia calibrate RUN' is 'hygeia calibrate run RUN' (write ./NAME for a run folder
named like a subcommand).""")
def calibrate_group() -> None:
    """Calibration against the locale's national figures (prevalence, pyramid, deaths)."""


def _table(rows: list[dict[str, Any]]) -> str:
    def pct(v: Any, unit: str) -> str:
        if v is None:
            return "-"
        return f"{100 * v:.1f}%" if unit == "proportion" else f"{v:.3g}"

    head = f"{'measure':26} {'age':7} {'sex':3} {'target':>8} {'simulated':>9} {'95% interval':>17} {'rel.err':>8}  status"
    lines = [head, "-" * len(head)]
    for r in rows:
        unit = r["unit"]
        ci = f"{pct(r['ci_low'], unit)}-{pct(r['ci_high'], unit)}"
        rel = "-" if r["relative_error"] is None else f"{100 * r['relative_error']:+.0f}%"
        lines.append(f"{r['measure'][:26]:26} {r['age_band']:7} {r['sex']:3} {pct(r['target'], unit):>8} "
                     f"{pct(r['simulated'], unit):>9} {ci:>17} {rel:>8}  {r['status']}")
    return "\n".join(lines)


@calibrate_group.command("run", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia calibrate run output                       # same as: hygeia calibrate output
  hygeia calibrate run output --check --out report  # exit status 1 if a target fails
  hygeia calibrate run output --json --overwrite    # the report as JSON, replacing the last one""")
@click.argument("run", metavar="RUN")
@click.option("--out", default=None, metavar="DIR", help="Folder for calibration.json and calibration.html (default: RUN).")
@click.option("--locale", default=None, metavar="NAME", help="Locale pack whose targets to use (default: the run's).")
@click.option("--check", is_flag=True, help="Exit with status 1 if any target fails (its 95% interval lies outside the tolerance).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of a table.")
@click.option("--overwrite", is_flag=True, help="Replace calibration.json and calibration.html if they exist.")
@quiet_option
def run_command(run: str, out: str | None, locale: str | None, check: bool, as_json: bool, overwrite: bool,
                quiet: bool) -> None:
    """Measure RUN against its locale's targets; write calibration.json and calibration.html."""
    from hygeia.population.calibrate import calibrate

    report = calibrate(run, out=out, locale=locale, overwrite=overwrite)
    s = report["summary"]
    if as_json:
        click.echo(json.dumps(report, indent=1))
    elif not quiet:
        click.echo(_table(report["rows"]))
        dest = out or run
        click.echo(f"\n{s['targets']} targets: {s['pass']} pass, {s['within noise']} within noise, {s['fail']} fail, "
                   f"{s['no data']} no data. Wrote {dest}/calibration.json and {dest}/calibration.html")
    if check and s["fail"]:
        click.echo(f"calibration check failed: {s['fail']} target(s) outside tolerance", err=True)
        sys.exit(1)


@calibrate_group.command("fit", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia calibrate fit copd --measure copd --iterations 0          # how far off each probability is
  hygeia calibrate fit copd --measure copd -n 2000 --iterations 3 --seed 1 --write copd.json
  hygeia calibrate fit my_module.json --measure heart_failure --curve hf_by_age.csv""")
@click.argument("module", metavar="MODULE")
@click.option("--measure", required=True, metavar="ID", help="The measure the targets give (e.g. copd, heart_failure).")
@click.option("--curve", default=None, metavar="CSV", help="Target curve: columns age_lo,age_hi,sex,value (default: the locale's targets).")
@click.option("-n", "n", type=click.IntRange(min=50), default=2000, show_default=True, help="Persons simulated per iteration.")
@click.option("--seed", type=int, default=None, metavar="S", help="Simulation seed (the same persons every iteration). Default: a fresh random one, printed.")
@click.option("--iterations", type=click.IntRange(min=0), default=3, show_default=True, help="Fitting steps; 0 only reports how far off each target and probability is.")
@click.option("--damping", type=click.FloatRange(0.05, 1.0), default=0.8, show_default=True, help="Exponent on each step's correction.")
@click.option("--locale", default="us", show_default=True, metavar="NAME", help="Locale pack.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Local processes.")
@click.option("--write", "write", default=None, metavar="FILE", help="Write the fitted module JSON here.")
@click.option("--report", default=None, metavar="FILE", help="Write the whole fit report (JSON) here.")
@quiet_option
def fit_command(module: str, measure: str, curve: str | None, n: int, seed: int | None, iterations: int,
                damping: float, locale: str, workers: int, write: str | None, report: str | None, quiet: bool) -> None:
    """Fit MODULE's onset probabilities (a library key or a module JSON) to a prevalence curve by age."""
    from hygeia.core.atomic import write_text
    from hygeia.core.seeding import resolve_seed
    from hygeia.population.calibrate import fit_onsets, read_curve

    given, seed = seed, resolve_seed(seed)
    if given is None and not quiet:
        click.echo(f"seed {seed} (pass --seed {seed} to repeat)", err=True)

    targets = read_curve(curve) if curve else None
    result = fit_onsets(module, measure, targets=targets, n=n, seed=seed, iterations=iterations, damping=damping,
                        locale=locale, workers=workers)
    if write:
        write_text(write, json.dumps(result["fitted"], indent=2) + "\n", what="fitted module")
    if report:
        write_text(report, json.dumps({k: v for k, v in result.items() if k != "fitted"}, indent=1, default=str),
                   what="fit report")
    if quiet:
        return
    click.echo(f"{len(result['parameters'])} onset probabilities in {result['module']!r} for {measure!r}:")
    for p in result["parameters"]:
        age = f"{p['age_lo']:g}-{'' if p['age_hi'] is None else format(p['age_hi'], 'g')}"
        factor = "-" if p["suggested_factor"] is None else f"x{p['suggested_factor']:.2f}"
        click.echo(f"  {p['state']}[{p['option']}] -> {p['transition']} (age {age}, sex {p['sex']}; {p['condition'][:50]}): "
                   f"{p['before']:.4g} -> {p['after']:.4g} (target/simulated before: {factor})")
    click.echo("targets (value, simulated before -> after):")
    for b, a in zip(result["before"], result["after"]):
        click.echo(f"  {b['age_band']:7} {b['sex']}: {_pct(b['value'])}  {_pct(b['simulated'])} -> {_pct(a['simulated'])}")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


@calibrate_group.command("mortality", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia calibrate mortality --workers 4 --seed 1 --overwrite   # refresh the shipped pack's estimate
  hygeia calibrate mortality -n 5000 --out /tmp/module_mortality.json""")
@click.option("-n", "n", type=click.IntRange(min=100), default=40_000, show_default=True, help="Persons to simulate.")
@click.option("--seed", type=int, default=None, metavar="S", help="Simulation seed. Default: a fresh random one, printed and recorded in the file.")
@click.option("--locale", default="us", show_default=True, metavar="NAME", help="Locale pack (a shipped name).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Local processes.")
@click.option("--out", default=None, metavar="FILE", help="Where to write (default: the pack's module_mortality.json).")
@click.option("--overwrite", is_flag=True, help="Replace the file if it exists (the pack's own file always does).")
@quiet_option
def mortality_command(n: int, seed: int | None, locale: str, workers: int, out: str | None, overwrite: bool,
                      quiet: bool) -> None:
    """Re-estimate the deaths the embedded module library causes, by age and sex (the pack's module_mortality.json)."""
    from pathlib import Path

    from hygeia.core.atomic import write_text
    from hygeia.core.seeding import resolve_seed
    from hygeia.errors import OutputError
    from hygeia.population._mortality import estimate_module_mortality
    from hygeia.population.locale import load_locale

    dest = Path(out) if out else Path(load_locale(locale).path) / "module_mortality.json"
    if dest.exists() and not overwrite:
        raise OutputError(f"{str(dest)!r} already exists. Choose another --out, or pass --overwrite to replace it.")
    given, seed = seed, resolve_seed(seed)
    if given is None and not quiet:
        click.echo(f"seed {seed} (pass --seed {seed} to repeat)", err=True)
    doc = estimate_module_mortality(n=n, seed=seed, locale=locale, workers=workers)
    write_text(dest, json.dumps(doc, indent=1) + "\n", what="module mortality")
    if not quiet:
        deaths = sum(sum(v["deaths"]["M"]) + sum(v["deaths"]["F"]) for v in doc["modules"].values())
        click.echo(f"{deaths} module deaths in {n} lives; wrote {dest}")
