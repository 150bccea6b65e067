"""``hygeia molecules``: train, sample, score, optimize and benchmark molecules (needs the ``molecules`` extra).

Every subcommand first checks the optional packages it needs (torch, RDKit, SELFIES) and,
if one is missing, stops with the ``pip install 'hygeia[molecules]'`` to run, before any
work or output.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import click

from hygeia.cli._common import HygeiaCommand, echo_summary, quiet_option, refuse_existing
from hygeia.core.progress import Progress, Summary, describe_output, status
from hygeia.errors import ConfigError, MissingExtraError

__all__ = ["molecules_group"]

_MOLECULE_FORMATS = (".smi", ".csv", ".sdf")
_SKIPPED_LISTED = 10


def _needs(purpose: str, *packages: str) -> None:
    """Stop politely if an optional package of the molecules extra is missing."""
    for package in packages:
        if importlib.util.find_spec(package) is None:
            raise MissingExtraError(package, "molecules", purpose)


def _workers(workers: int) -> None:
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1; got {workers}")
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(workers)


def _molecule_out(out: str) -> None:
    if Path(out).suffix.lower() not in _MOLECULE_FORMATS:
        raise ConfigError(f"--out {out!r} must end in one of {', '.join(_MOLECULE_FORMATS)} "
                          "(.smi: one SMILES per line; .csv: a table; .sdf: structures with data fields)")


def _read(path: str, skip_invalid: bool, quiet: bool) -> tuple[list[str], list[str]]:
    """The valid molecules of ``path`` and the problems of the lines left out (``--skip-invalid``)."""
    from hygeia.molecules.data import read_smiles, split_smiles

    if not skip_invalid:
        return read_smiles(path), []
    valid, bad = split_smiles(path)
    if bad and not quiet:
        click.echo(f"skipped {len(bad):,} invalid SMILES line(s) of {path}:", err=True)
        for problem in bad[:_SKIPPED_LISTED]:
            click.echo(f"  {problem}", err=True)
        if len(bad) > _SKIPPED_LISTED:
            click.echo(f"  ... and {len(bad) - _SKIPPED_LISTED:,} more", err=True)
    if not valid:
        raise ConfigError(f"{path!r} holds no valid SMILES ({len(bad)} invalid line(s) skipped)")
    return valid, bad


def _load_model(model: str | None):
    from hygeia.core.generator import load_generator
    from hygeia.molecules.lm import PRIORS, ChemicalLM, default_prior

    if model in (None, "prior"):
        return default_prior()
    if model in PRIORS:
        return default_prior(model)
    loaded = load_generator(model)
    if not isinstance(loaded, ChemicalLM):
        raise ConfigError(f"{model!r} holds a {loaded.generator_name} model, not a chemical language model; "
                          "pass a folder written by 'hygeia molecules train'")
    return loaded


def _scorer(config: str | None, objective: str | None):
    if bool(config) == bool(objective):
        raise ConfigError("give exactly one of --config FILE (a scoring config) or --objective NAME (a GuacaMol objective)")
    if config:
        from hygeia.molecules.scoring import ScoringFunction, example_config

        path = config
        if not Path(config).exists() and not config.endswith((".toml", ".json")):
            path = str(example_config(config))  # a shipped example by name, e.g. "druglike"
        return ScoringFunction.from_config(path), f"config {config}"
    from hygeia.molecules.objectives import objective as get_objective

    return get_objective(objective), f"objective {objective}"


def _score_table(scorer: Any, smiles: list[str]):
    import pandas as pd

    if hasattr(scorer, "score_table"):
        return scorer.score_table(smiles)
    return pd.DataFrame({"smiles": smiles, "score": scorer(smiles)})


_WORKERS_HELP = "CPU workers for torch and RDKit work (torch threads)."
_OVERWRITE_HELP = "Replace --out if it exists (without it an existing output is refused)."
_SKIP_HELP = ("Leave out the lines RDKit cannot parse (how many, and which lines, are reported) "
              "instead of refusing the whole file.")


@click.group(
    "molecules",
    epilog="""\b
Examples:
  hygeia molecules sample -n 1000 --seed 1 --out novel.smi          # the shipped prior
  hygeia molecules score novel.smi --config druglike --out scored.csv
  hygeia molecules optimize --objective osimertinib_mpo --method graph_ga --budget 2000 --seed 1 --out run
  hygeia molecules train my_actives.smi --from prior --steps 500 --out my_model  # transfer learning
  hygeia molecules benchmark novel.smi --out metrics.json                        # MOSES metrics

Needs the molecules extra: pip install 'hygeia[molecules]'""",
)
def molecules_group() -> None:
    """Chemical language models, goal-directed optimization and in-silico scoring of molecules."""


@molecules_group.command("train", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia molecules train actives.smi --from prior --steps 500 --seed 1 --out my_model
  hygeia molecules train chembl.smi --epochs 10 --hidden-dim 512 --layers 3 --device auto --out big_model
  hygeia molecules sample --model my_model -n 1000 --out novel.smi""")
@click.argument("data", metavar="SMILES_FILE")
@click.option("--out", required=True, metavar="MODEL_DIR", help="Model folder to write (spec.json + weights).")
@click.option("--from", "base", default=None, metavar="MODEL_DIR|NAME",
              help="Transfer learning: go on training this model folder, or a shipped prior by name (prior or "
                   "moses: the default; zinc250k), on SMILES_FILE.")
@click.option("--representation", type=click.Choice(["selfies", "smiles"]), default="selfies", show_default=True,
              help="Token alphabet: SELFIES (every string decodes to a molecule) or SMILES (some sampled "
                   "strings are invalid, but on a large corpus the valid ones come closer to it: the shipped prior "
                   "is SMILES; see docs/molecules.md).")
@click.option("--hidden-dim", type=click.IntRange(min=1), default=256, show_default=True,
              help="Width of each GRU layer.")
@click.option("--layers", type=click.IntRange(min=1), default=2, show_default=True, help="Number of GRU layers.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Passes over SMILES_FILE (default 10 from scratch).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Training steps (wins over --epochs).")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto.")
@click.option("--workers", type=int, default=1, show_default=True, help=_WORKERS_HELP)
@click.option("--seed", type=int, default=None,
              help="Seed of weights and shuffling. Default: a fresh random one (recorded in the model and printed).")
@click.option("--skip-invalid", is_flag=True, help=_SKIP_HELP)
@click.option("--overwrite", is_flag=True, help=_OVERWRITE_HELP)
@quiet_option
def train_command(data: str, out: str, base: str | None, representation: str, hidden_dim: int, layers: int,
                  epochs: int | None, steps: int | None, device: str, workers: int, seed: int | None,
                  skip_invalid: bool, overwrite: bool, quiet: bool) -> None:
    """Train a chemical language model on SMILES_FILE (.smi, .txt or .csv with a smiles column)."""
    _needs("Training a chemical language model ('hygeia molecules train')", "torch", "rdkit", "selfies")
    from hygeia.core.seeding import resolve_seed
    from hygeia.molecules.lm import ChemicalLM

    _workers(workers)
    refuse_existing(out, overwrite, "model folder")
    seed = resolve_seed(seed)
    smiles, skipped = _read(data, skip_invalid, quiet)
    start = time.perf_counter()
    if base:
        model = _load_model(base).fine_tune(smiles, steps=steps, epochs=epochs if steps is None else None,
                                            progress=not quiet)
    else:
        model = ChemicalLM(
            representation=representation, hidden_dim=hidden_dim, num_layers=layers,
            epochs=epochs if epochs is not None else (None if steps else 10), max_steps=steps, device=device, seed=seed,
        ).fit(smiles, progress=not quiet)
    model.save(out, overwrite=overwrite)
    log = (getattr(model, "training_log_", None) or [{}])[-1]
    summary = Summary(f"Trained a chemical language model on {len(smiles):,} molecules "
                      f"in {time.perf_counter() - start:.1f} s", [("model", describe_output(out))])
    if skipped:
        summary.add("skipped", f"{len(skipped):,} invalid line(s)")
    if log.get("steps"):
        summary.add("steps", log["steps"])
    if log.get("val_loss") is not None:
        summary.add("validation loss", float(log["val_loss"]))
    if not base:
        summary.add("seed", f"{seed} (pass --seed {seed} to train the same model again)")
    summary.next_steps.append(f"hygeia molecules sample --model {out} -n 1000 --out novel.smi")
    echo_summary(summary, quiet=quiet)


@molecules_group.command("sample", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia molecules sample -n 1000 --seed 1 --out novel.smi                    # the shipped prior
  hygeia molecules sample --model my_model -n 500 --temperature 0.8 --out safer.smi
  hygeia molecules sample -n 200 --config druglike --out scored.csv          # with scores""")
@click.option("--model", default=None, metavar="MODEL_DIR|NAME",
              help="A trained model folder, or a shipped prior by name: moses (the default; MOSES's drug-like "
                   "250-350 Da molecules) or zinc250k (ZINC-250k's, heavier).")
@click.option("-n", "n", type=int, required=True, help="Valid molecules to write.")
@click.option("--seed", type=int, default=None, help="Sampling seed. Default: a fresh random one (printed).")
@click.option("--temperature", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Below 1: safer; above 1: more diverse.")
@click.option("--config", default=None, metavar="FILE|NAME", help="Also score the molecules with this scoring config.")
@click.option("--out", required=True, metavar="FILE", help="Output .smi (one SMILES per line), .csv or .sdf.")
@click.option("--workers", type=int, default=1, show_default=True, help=_WORKERS_HELP)
@click.option("--overwrite", is_flag=True, help=_OVERWRITE_HELP)
@quiet_option
def sample_command(model: str | None, n: int, seed: int | None, temperature: float, config: str | None, out: str,
                   workers: int, overwrite: bool, quiet: bool) -> None:
    """Sample N valid, canonical molecules from a chemical language model."""
    _needs("Sampling molecules ('hygeia molecules sample')", "torch", "rdkit", "selfies")
    import pandas as pd

    from hygeia.core.seeding import resolve_seed
    from hygeia.molecules.report import write_molecules
    from hygeia.molecules.sampling import sample_valid

    _workers(workers)
    if n < 1:
        raise ConfigError(f"-n must be a positive number of molecules; got {n}. Pass e.g. -n 1000.")
    _molecule_out(out)
    refuse_existing(out, overwrite, "output")
    seed = resolve_seed(seed)
    lm = _load_model(model)
    scorer = _scorer(config, None)[0] if config else None
    with status(f"sampling {n:,} molecules", quiet=quiet):
        smiles, drawn = sample_valid(lm, n, seed=seed, temperature=temperature)
        table = _score_table(scorer, smiles) if scorer else pd.DataFrame({"smiles": smiles})
    write_molecules(table, out, overwrite=overwrite)
    summary = Summary(f"Sampled {len(smiles):,} valid molecules", [
        ("output", describe_output(out)), ("drawn", f"{drawn:,} ({len(smiles) / max(drawn, 1):.0%} valid)"),
        ("unique", f"{len(set(smiles)):,}"), ("seed", f"{seed} (pass --seed {seed} to draw the same molecules)"),
    ], [f"hygeia molecules benchmark {out} --out metrics.json"])
    if scorer is not None:
        summary.add("best score", float(table["score"].max()))
    echo_summary(summary, quiet=quiet)


@molecules_group.command("score", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia molecules score novel.smi --config druglike --out scored.csv
  hygeia molecules score novel.smi --objective osimertinib_mpo --out scored.sdf
  hygeia molecules score vendor.smi --config my_scoring.toml --skip-invalid --out scored.csv""")
@click.argument("data", metavar="SMILES_FILE")
@click.option("--config", default=None, metavar="FILE|NAME", help="Scoring config (.toml/.json) or a shipped example name.")
@click.option("--objective", default=None, metavar="NAME", help="A GuacaMol or PMO objective (e.g. osimertinib_mpo, drd2) instead of a config.")
@click.option("--out", required=True, metavar="FILE", help="Output .csv, .sdf or .smi, best molecule first.")
@click.option("--skip-invalid", is_flag=True, help=_SKIP_HELP)
@click.option("--overwrite", is_flag=True, help=_OVERWRITE_HELP)
@quiet_option
def score_command(data: str, config: str | None, objective: str | None, out: str, skip_invalid: bool,
                  overwrite: bool, quiet: bool) -> None:
    """Score the molecules of SMILES_FILE: every component, the filters and the total."""
    _needs("Scoring molecules ('hygeia molecules score')", "rdkit")
    from hygeia.molecules.report import write_molecules

    _molecule_out(out)
    refuse_existing(out, overwrite, "output")
    scorer, label = _scorer(config, objective)
    smiles, skipped = _read(data, skip_invalid, quiet)
    with status(f"scoring {len(smiles):,} molecules", quiet=quiet):
        table = _score_table(scorer, smiles).sort_values("score", ascending=False, kind="stable")
    write_molecules(table, out, overwrite=overwrite)
    summary = Summary(f"Scored {len(table):,} molecules with {label}",
                      [("output", describe_output(out)), ("best score", float(table["score"].max())),
                       ("median score", float(table["score"].median()))], [f"open {out}"])
    if skipped:
        summary.add("skipped", f"{len(skipped):,} invalid line(s)")
    echo_summary(summary, quiet=quiet)


@molecules_group.command("optimize", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia molecules optimize --objective osimertinib_mpo --budget 2000 --seed 1 --out run        # REINVENT
  hygeia molecules optimize --objective celecoxib_rediscovery --method graph_ga --budget 2000 --out ga_run
  hygeia molecules optimize --config druglike --budget 5000 --out druglike_run
  hygeia molecules optimize --objective drd2 --prior zinc250k --no-diversity-filter --out pmo_run  # as in PMO""")
@click.option("--config", default=None, metavar="FILE|NAME", help="Scoring config (.toml/.json) or a shipped example name.")
@click.option("--objective", default=None, metavar="NAME", help="A GuacaMol or PMO objective, e.g. osimertinib_mpo or drd2.")
@click.option("--method", type=click.Choice(["reinvent", "graph_ga"]), default="reinvent", show_default=True,
              help="reinvent: reinforcement learning of the chemical language model (needs torch); "
                   "graph_ga: a graph genetic algorithm (RDKit only).")
@click.option("--budget", type=int, default=10000, show_default=True, help="Oracle calls (unique molecules scored).")
@click.option("--prior", default=None, metavar="MODEL_DIR|NAME",
              help="REINVENT's prior: a model folder, or a shipped prior by name: moses (the default) or zinc250k "
                   "(ZINC-250k's heavier molecules: PMO's REINVENT starts there).")
@click.option("--diversity-filter/--no-diversity-filter", default=True, show_default=True,
              help="REINVENT: give no reward to a scaffold once 25 of its molecules have scored 0.4 or more, so the "
                   "agent moves on to other scaffolds. Turn it off to chase the best ten molecules (PMO's AUC top-10; "
                   "see docs/molecules.md).")
@click.option("--seed", type=int, default=None, help="Seed of the run. Default: a fresh random one (recorded and printed).")
@click.option("--workers", type=int, default=1, show_default=True, help=_WORKERS_HELP)
@click.option("--out", required=True, metavar="DIR", help="Folder: molecules.csv, top.sdf, report.html, run.json.")
@click.option("--overwrite", is_flag=True, help=_OVERWRITE_HELP)
@quiet_option
def optimize_command(config: str | None, objective: str | None, method: str, budget: int, prior: str | None,
                     diversity_filter: bool, seed: int | None, workers: int, out: str, overwrite: bool,
                     quiet: bool) -> None:
    """Propose molecules that maximize a score, spending at most --budget oracle calls."""
    if method == "reinvent":
        _needs("REINVENT ('hygeia molecules optimize --method reinvent', the default)", "torch", "rdkit", "selfies")
    else:
        _needs("The graph genetic algorithm ('hygeia molecules optimize --method graph_ga')", "rdkit")
    from hygeia.core.seeding import resolve_seed
    from hygeia.molecules.optimize import GraphGA, Oracle, Reinvent

    _workers(workers)
    if budget < 1:
        raise ConfigError(f"--budget must be a positive number of oracle calls; got {budget}. Pass e.g. --budget 2000.")
    scorer, label = _scorer(config, objective)
    seed = resolve_seed(seed)
    refuse_existing(out, overwrite, "output folder")
    if method != "reinvent" and not diversity_filter:
        raise ConfigError("--no-diversity-filter is an option of REINVENT; got --method graph_ga. Drop it, or pass "
                          "--method reinvent.")
    prior_model = _load_model(prior) if method == "reinvent" else None
    optimizer = (Reinvent(prior=prior_model, diversity_filter=diversity_filter) if prior_model is not None
                 else GraphGA())
    with Progress(budget, unit="oracle calls", description=f"optimizing ({method})", quiet=quiet) as bar:
        def counted(smiles: list[str]) -> Any:
            scores = scorer(smiles)
            bar.update(len(smiles))
            return scores

        start = time.perf_counter()
        result = optimizer.optimize(Oracle(counted, budget=budget), seed=seed)
        elapsed = time.perf_counter() - start
    from hygeia.cli._molecules_output import write_optimization

    with status("writing molecules.csv, top.sdf and report.html", quiet=quiet):
        top_passing = write_optimization(out, result, scorer, label=label, method=method, seed=seed, budget=budget,
                                         seconds=elapsed, overwrite=overwrite,
                                         prior=None if prior_model is None else
                                         {"name": "moses" if prior in (None, "prior") else prior,
                                          "weights_digest": prior_model.weights_digest()})
    m = result.metrics
    echo_summary(Summary(f"{method} on {label}: {len(result.smiles):,} oracle calls ({result.stop_reason}) "
                         f"in {elapsed:.1f} s", [
        ("output", describe_output(out)),
        ("top-1 score", m.get("top1", float("nan"))), ("top-10 mean", m.get("top10", float("nan"))),
        ("AUC top-10", m.get("auc_top10", float("nan"))),
        ("top 10 free of PAINS/Brenk alerts", f"{top_passing:.0%}"),
        ("seed", f"{seed} (pass --seed {seed} to repeat the run)"),
    ], [f"open {Path(out) / 'report.html'}"]), quiet=quiet)


@molecules_group.command("benchmark", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia molecules benchmark novel.smi --out metrics.json                  # against MOSES (shipped statistics)
  hygeia molecules benchmark novel.smi --train actives.smi --test held_out.smi --no-fcd --out metrics.json
  hygeia molecules benchmark novel.smi --properties --out metrics.json     # every key of MOSES's get_all_metrics

Invalid SMILES lines are kept: validity is one of the metrics (the summary says how many and which lines).
unique@k is reported for k = 1,000 and 10,000 only when the file holds at least k molecules
(unique@N, for all N of them, when it holds fewer than 1,000).""")
@click.argument("data", metavar="SMILES_FILE")
@click.option("--train", default=None, metavar="FILE", help="Training SMILES for novelty (default: MOSES train).")
@click.option("--test", "test", default=None, metavar="FILE",
              help="Reference SMILES for the /Test metrics (default: MOSES test and scaffold test, shipped statistics).")
@click.option("--no-fcd", is_flag=True, help="Skip the Fréchet ChemNet Distance (needs torch).")
@click.option("--properties", is_flag=True,
              help="Add MOSES's logP, SA, QED and weight Wasserstein distances to the test set (the MOSES test set's "
                   "values take minutes the first time, then are cached).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes for the per-molecule work.")
@click.option("--out", default=None, metavar="FILE", help="Also write the metrics as JSON here.")
@click.option("--overwrite", is_flag=True, help="Replace the --out file if it exists.")
@quiet_option
def benchmark_command(data: str, train: str | None, test: str | None, no_fcd: bool, properties: bool, workers: int,
                      out: str | None, overwrite: bool, quiet: bool) -> None:
    """MOSES distribution metrics of SMILES_FILE (validity, uniqueness, novelty, FCD, SNN, Frag, Scaf, IntDiv, Filters).

    The metrics are printed as JSON on stdout; the summary and progress go to stderr.
    """
    _needs("MOSES metrics ('hygeia molecules benchmark')", "rdkit")
    if not no_fcd:
        _needs("The Fréchet ChemNet Distance ('hygeia molecules benchmark'; skip it with --no-fcd)", "torch")
    from hygeia.molecules.data import canonical, read_smiles
    from hygeia.molecules.metrics import moses_metrics

    _workers(workers)
    if out:
        refuse_existing(out, overwrite, "metrics file")
    path = Path(data)
    if not path.is_file():
        raise ConfigError(f"SMILES_FILE {data!r} does not exist or is not a file")
    lines = [(i, line.split()[0]) for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if line.strip()]
    generated = [s for _, s in lines]
    if not generated:
        raise ConfigError(f"{data!r} holds no SMILES; put one SMILES per line")
    ks = [k for k in (1000, 10000) if k <= len(generated)] or [len(generated)]
    reference: dict[str, Any] = {"test": read_smiles(test), "test_scaffolds": False} if test else {}
    with status(f"computing the MOSES metrics of {len(generated):,} molecules", quiet=quiet):
        metrics = moses_metrics(generated, train=read_smiles(train) if train else None, fcd=not no_fcd, ks=ks,
                                workers=workers, properties=properties, **reference)
    text = json.dumps(metrics, indent=2)
    if out:
        from hygeia.core.atomic import write_text

        write_text(out, text + "\n", overwrite=overwrite, what="metrics file")
    click.echo(text)
    if not quiet:
        invalid = [f"line {i}" for i, s in lines if canonical(s) is None]
        summary = Summary(f"MOSES metrics of {len(generated):,} molecules",
                          [(k, v) for k, v in metrics.items() if k in ("valid", *(f"unique@{k}" for k in ks),
                                                                         "Novelty", "FCD/Test", "IntDiv")])
        if invalid:
            listed = ", ".join(invalid[:_SKIPPED_LISTED]) + (" ..." if len(invalid) > _SKIPPED_LISTED else "")
            summary.add("invalid", f"{len(invalid):,} ({listed}; counted against validity)")
        if out:
            summary.add("output", describe_output(out))
        click.echo(summary.render(), err=True)

