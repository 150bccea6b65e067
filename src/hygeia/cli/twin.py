"""``hygeia twin``: one patient's outcomes under alternative treatment plans, with uncertainty."""

from __future__ import annotations

import click

from hygeia.cli._common import (
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Summary, describe_output

__all__ = ["twin_group"]


@click.command(
    "simulate", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia twin simulate runs/demo --subject 3 --backend bp --plan examples/twin/bp_amlodipine.toml --plan examples/twin/bp_combination.toml --out runs/twin_bp --seed 1
  hygeia twin simulate runs/demo --backend pkpd --plan examples/twin/propofol_marsh.toml --out runs/twin_propofol -n 100 --seed 1

Plans are TOML files (docs/twin.md): doses, a horizon, target ranges and back-end
settings. Every plan runs on the same parameter draws (common random numbers).""",
)
@click.argument("run", metavar="RUN")
@click.option("--subject", type=int, default=None, metavar="ID",
              help="The patient's subject_id in RUN. Default: the run's first person.")
@click.option("--backend", default=None, metavar="NAME",
              help="The simulator (see 'hygeia twin backends'). Default: the 'backend' the plans name.")
@click.option("--plan", "plans", multiple=True, required=True, metavar="FILE.toml",
              help="A treatment plan (repeatable: the first is the reference the others are compared with).")
@click.option("--out", required=True, metavar="DIR",
              help="Output folder for twin.json, trajectories.csv and report.html (must not exist or be empty).")
@click.option("-n", "n", type=int, default=200, show_default=True, metavar="N",
              help="Parameter draws: posterior samples when the record holds observations to calibrate to, else prior.")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Seed of calibration and simulation. Default: a fresh random one (recorded in twin.json and printed).")
@click.option("--step-h", type=float, default=None, metavar="H", help="Output spacing in hours. Default: the simulator's.")
@click.option("--no-calibrate", is_flag=True, help="Ignore the record's observations and draw from the prior.")
@click.option("--overwrite", is_flag=True, help="Replace the output folder if it holds a previous simulation.")
@quiet_option
def simulate_command(run: str, subject: int | None, backend: str | None, plans: tuple[str, ...], out: str, n: int,
                     seed: int | None, step_h: float | None, no_calibrate: bool, overwrite: bool, quiet: bool) -> None:
    """Simulate one patient of RUN (a 'hygeia generate' folder) under each --plan into DIR.

    The back-end builds the patient's twin from the record (weight, age, renal function,
    diagnoses, medications) and calibrates it to the record's own observations (glucose,
    drug levels, blood pressure readings) when there are any. Each output is reported with
    its 90% interval, time in the plan's target range, paired differences between plans
    and every safety alert (hypoglycaemia, a toxic concentration, hypotension...).
    """
    from hygeia.core.progress import status
    from hygeia.errors import ConfigError
    from hygeia.twin import (
        load_patient,
        load_plan,
        share,
        simulate_twin,
        twin_from_record,
        write_twin,
    )

    refuse_existing(out, overwrite, "Twin folder")
    loaded = [load_plan(p) for p in plans]
    named = sorted({p.backend for p in loaded if p.backend})
    if backend is None:
        if len(named) != 1:
            raise ConfigError("say which simulator to use with --backend (see 'hygeia twin backends')"
                              + (f"; the plans name {', '.join(named)}" if named else ""))
        backend = named[0]
    with status("Building the patient's twin and simulating the plans", quiet=quiet):
        person, events = load_patient(run, subject)
        twin = twin_from_record(person, events, backend)
        if no_calibrate:
            twin.observations = None
        result = simulate_twin(twin, loaded, n=n, seed=seed, step_h=step_h)
        write_twin(result, out, overwrite=overwrite)
    lines = [("output", describe_output(out)), ("patient", f"subject {twin.subject_id}"),
             ("draws", f"{n} ({'posterior: calibrated to ' + str(len(twin.observations)) + ' observations' if result.calibrated else 'prior'})")]
    for r in result.runs:
        worst = max(r.alerts, key=lambda a: a.probability, default=None)
        lines.append((r.plan.name, "no safety alert" if worst is None else
                      f"{worst.event} in {share(worst.probability)} of simulations"))
    lines.append(("seed", f"{result.seed}" + ("" if seed is not None else
                                               f" (pass --seed {result.seed} to get the same simulation again)")))
    echo_summary(Summary(f"Simulated {len(result.runs)} plan(s) x {n} draws with '{backend}' in "
                         f"{result.seconds:.2f} CPU-s; open report.html", lines, []), quiet=quiet)


@click.command("backends", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia twin backends""")
def backends_command() -> None:
    """List the simulators, the drugs each accepts (with units) and the outputs it reports."""
    from hygeia.twin import SIMULATORS

    for name, cls in sorted(SIMULATORS.items()):
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        click.echo(f"{name}: {doc}")
        drugs, outputs = cls.__dict__.get("drugs", cls.drugs), cls.__dict__.get("outputs", cls.outputs)
        if isinstance(drugs, property) or isinstance(outputs, property):
            click.echo("  drugs and outputs: the arms and the outcome of the fitted model it is built with")
            continue
        for drug, units in sorted(drugs.items()):
            click.echo(f"  drug {drug} ({', '.join(units)})")
        for o in outputs:
            click.echo(f"  output {o.name} ({o.unit})")


@click.group("twin", epilog="""\b
Examples:
  hygeia twin backends
  hygeia twin simulate runs/demo --subject 3 --backend bp --plan examples/twin/bp_amlodipine.toml --out runs/twin_bp --seed 1""")
def twin_group() -> None:
    """Personalized treatment simulation: one patient's outcomes under alternative plans."""


twin_group.add_command(simulate_command)
twin_group.add_command(backends_command)
