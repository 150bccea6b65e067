"""``hygeia molecules``: train, sample, score, optimize and benchmark molecules (needs the ``molecules`` extra)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from hygeia.errors import ConfigError

__all__ = ["molecules_group"]


def _threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _load_model(model: str | None):
    from hygeia.core.generator import load_generator
    from hygeia.molecules.lm import ChemicalLM, default_prior

    if model in (None, "prior"):
        return default_prior()
    loaded = load_generator(model)
    if not isinstance(loaded, ChemicalLM):
        raise ConfigError(f"{model!r} holds a {loaded.generator_name} model, not a chemical language model")
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


@click.group(
    "molecules",
    epilog="""\b
Example:
  hygeia molecules sample -n 1000 --seed 1 --out novel.smi          # the shipped prior
  hygeia molecules score novel.smi --config druglike --out scored.csv
  hygeia molecules optimize --objective osimertinib_mpo --method graph_ga --budget 2000 --seed 1 --out run
  hygeia molecules train my_actives.smi --from prior --steps 500 --out my_model  # transfer learning
  hygeia molecules benchmark novel.smi --out metrics.json                        # MOSES metrics""",
)
def molecules_group() -> None:
    """Chemical language models, goal-directed optimization and in-silico scoring of molecules."""


@molecules_group.command("train")
@click.argument("data", metavar="SMILES_FILE")
@click.option("--out", required=True, metavar="MODEL_DIR", help="Model folder to write.")
@click.option("--from", "base", default=None, metavar="MODEL_DIR|prior",
              help="Transfer learning: go on training this model (or the shipped prior) on DATA.")
@click.option("--representation", type=click.Choice(["selfies", "smiles"]), default="selfies", show_default=True)
@click.option("--hidden-dim", type=int, default=256, show_default=True)
@click.option("--layers", type=int, default=2, show_default=True)
@click.option("--epochs", type=int, default=None, help="Passes over DATA (default 10 from scratch).")
@click.option("--steps", type=int, default=None, help="Training steps (wins over --epochs).")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto.")
@click.option("--threads", type=int, default=1, show_default=True, help="CPU threads for torch.")
@click.option("--seed", type=int, default=None, help="Seed of weights and shuffling (default: fresh, recorded).")
@click.option("--overwrite", is_flag=True)
def train_command(data: str, out: str, base: str | None, representation: str, hidden_dim: int, layers: int,
                  epochs: int | None, steps: int | None, device: str, threads: int, seed: int | None, overwrite: bool) -> None:
    """Train a chemical language model on SMILES_FILE (.smi, .txt or .csv with a smiles column)."""
    from hygeia.molecules.data import read_smiles
    from hygeia.molecules.lm import ChemicalLM

    _threads(threads)
    if Path(out).exists() and not overwrite:
        raise ConfigError(f"{out!r} already exists; choose a new path or pass --overwrite")
    smiles = read_smiles(data)
    start = time.perf_counter()
    if base:
        model = _load_model(base).fine_tune(smiles, steps=steps, epochs=epochs if steps is None else None, progress=True)
    else:
        model = ChemicalLM(
            representation=representation, hidden_dim=hidden_dim, num_layers=layers,
            epochs=epochs if epochs is not None else (None if steps else 10), max_steps=steps, device=device, seed=seed,
        ).fit(smiles, progress=True)
    model.save(out, overwrite=overwrite)
    click.echo(f"trained on {len(smiles)} molecules in {time.perf_counter() - start:.1f} s; saved {out}")


@molecules_group.command("sample")
@click.option("--model", default=None, metavar="MODEL_DIR", help="A trained model (default: the shipped prior).")
@click.option("-n", "n", type=int, required=True, help="Valid molecules to write.")
@click.option("--seed", type=int, default=None, help="Sampling seed (default: fresh OS entropy, recorded and printed).")
@click.option("--temperature", type=float, default=1.0, show_default=True, help="Below 1: safer; above 1: more diverse.")
@click.option("--config", default=None, metavar="FILE|NAME", help="Also score the molecules with this scoring config.")
@click.option("--out", required=True, metavar="FILE", help="Output .smi (one SMILES per line), .csv or .sdf.")
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--overwrite", is_flag=True)
def sample_command(model: str | None, n: int, seed: int | None, temperature: float, config: str | None, out: str,
                   threads: int, overwrite: bool) -> None:
    """Sample N valid, canonical molecules from a chemical language model."""
    import pandas as pd

    from hygeia.core.seeding import resolve_seed
    from hygeia.molecules.sampling import sample_valid
    from hygeia.molecules.report import write_molecules

    _threads(threads)
    if n < 1:
        raise ConfigError(f"-n must be a positive number of molecules; got {n}")
    seed = resolve_seed(seed)
    lm = _load_model(model)
    smiles, drawn = sample_valid(lm, n, seed=seed, temperature=temperature)
    table = _score_table(_scorer(config, None)[0], smiles) if config else pd.DataFrame({"smiles": smiles})
    write_molecules(table, out, overwrite=overwrite)
    click.echo(f"wrote {out}: {len(smiles)} valid molecules of {drawn} sampled (seed {seed})")


@molecules_group.command("score")
@click.argument("data", metavar="SMILES_FILE")
@click.option("--config", default=None, metavar="FILE|NAME", help="Scoring config (.toml/.json) or a shipped example name.")
@click.option("--objective", default=None, metavar="NAME", help="A GuacaMol objective instead of a config.")
@click.option("--out", required=True, metavar="FILE", help="Output .csv, .sdf or .smi.")
@click.option("--overwrite", is_flag=True)
def score_command(data: str, config: str | None, objective: str | None, out: str, overwrite: bool) -> None:
    """Score the molecules of SMILES_FILE: every component, the filters and the total."""
    from hygeia.molecules.data import read_smiles
    from hygeia.molecules.report import write_molecules

    scorer, label = _scorer(config, objective)
    table = _score_table(scorer, read_smiles(data)).sort_values("score", ascending=False, kind="stable")
    write_molecules(table, out, overwrite=overwrite)
    click.echo(f"scored {len(table)} molecules with {label}; best {table['score'].max():.3f}; wrote {out}")


@molecules_group.command("optimize")
@click.option("--config", default=None, metavar="FILE|NAME", help="Scoring config (.toml/.json) or a shipped example name.")
@click.option("--objective", default=None, metavar="NAME", help="A GuacaMol objective, e.g. osimertinib_mpo.")
@click.option("--method", type=click.Choice(["reinvent", "graph_ga"]), default="reinvent", show_default=True)
@click.option("--budget", type=int, default=10_000, show_default=True, help="Oracle calls (unique molecules scored).")
@click.option("--prior", default=None, metavar="MODEL_DIR", help="REINVENT's prior (default: the shipped prior).")
@click.option("--seed", type=int, default=None, help="Seed of the run (default: fresh, recorded).")
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--out", required=True, metavar="DIR", help="Folder: molecules.csv, top.sdf, report.html, run.json.")
@click.option("--overwrite", is_flag=True)
def optimize_command(config: str | None, objective: str | None, method: str, budget: int, prior: str | None,
                     seed: int | None, threads: int, out: str, overwrite: bool) -> None:
    """Propose molecules that maximize a score, spending at most --budget oracle calls."""
    import pandas as pd

    from hygeia import __version__
    from hygeia.core.seeding import resolve_seed
    from hygeia.molecules.optimize import GraphGA, Oracle, Reinvent
    from hygeia.core.atomic import atomic_output
    from hygeia.molecules.report import write_molecules, write_report

    _threads(threads)
    scorer, label = _scorer(config, objective)
    seed = resolve_seed(seed)
    if Path(out).exists() and not overwrite:
        raise ConfigError(f"{out!r} already exists; choose a new path or pass --overwrite")
    oracle = Oracle(scorer, budget=budget)
    optimizer = Reinvent(prior=_load_model(prior)) if method == "reinvent" else GraphGA()
    start = time.perf_counter()
    result = optimizer.optimize(oracle, seed=seed)
    elapsed = time.perf_counter() - start
    calls = pd.DataFrame({"call": range(1, len(result.smiles) + 1), "smiles": result.smiles, "score": result.scores})
    top = calls.sort_values(["score", "call"], ascending=[False, True]).head(100)
    top_table = _score_table(scorer, list(top["smiles"]))
    if "sa" not in top_table.columns:
        from hygeia.molecules.scoring import sa_score

        from rdkit import Chem

        top_table["sa_score"] = [sa_score(Chem.MolFromSmiles(s)) for s in top_table["smiles"]]
    alerts = _alert_hits(list(top_table["smiles"]))
    top_table["alerts"] = alerts
    summary = {
        "hygeia_version": __version__, "scoring": label, "method": method, "seed": seed, "budget": budget,
        "stop_reason": result.stop_reason, "seconds": round(elapsed, 2), "metrics": result.metrics,
        "optimizer_params": result.params,
        "top10_passing_pains_brenk": sum(1 for a in alerts[:10] if not a) / max(1, min(10, len(alerts))),
    }
    with atomic_output(out, folder=True, overwrite=overwrite, what="output folder") as tmp:
        write_molecules(calls, tmp / "molecules.csv")
        write_molecules(top_table, tmp / "top.sdf")
        write_report(tmp / "report.html", title=f"Hygeia molecule optimization: {label}", top=top_table, summary=summary)
        (tmp / "run.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    m = result.metrics
    click.echo(
        f"{method} on {label}: {len(result.smiles)} oracle calls ({result.stop_reason}); "
        f"top-1 {m.get('top1', float('nan')):.3f}, top-10 {m.get('top10', float('nan')):.3f}, "
        f"AUC top-10 {m.get('auc_top10', float('nan')):.3f}; wrote {out}"
    )


def _alert_hits(smiles: list[str]) -> list[str]:
    from rdkit import Chem, rdBase

    from hygeia.molecules.filters import catalog_filter

    flt = catalog_filter("PAINS", "BRENK")
    out = []
    with rdBase.BlockLogs():
        for s in smiles:
            mol = Chem.MolFromSmiles(s)
            out.append("; ".join(flt.hits(mol)) if mol is not None else "invalid")
    return out


@molecules_group.command("benchmark")
@click.argument("data", metavar="SMILES_FILE")
@click.option("--train", default=None, metavar="FILE", help="Training SMILES for novelty (default: MOSES train).")
@click.option("--test", "test", default=None, metavar="FILE",
              help="Reference SMILES for the /Test metrics (default: MOSES test and scaffold test, shipped statistics).")
@click.option("--no-fcd", is_flag=True, help="Skip the Fréchet ChemNet Distance (needs torch).")
@click.option("--threads", type=int, default=1, show_default=True)
@click.option("--out", default=None, metavar="FILE", help="Write the metrics as JSON here too.")
def benchmark_command(data: str, train: str | None, test: str | None, no_fcd: bool, threads: int, out: str | None) -> None:
    """MOSES distribution metrics of SMILES_FILE (validity, uniqueness, novelty, FCD, SNN, Frag, Scaf, IntDiv, Filters)."""
    from hygeia.molecules.data import read_smiles
    from hygeia.molecules.metrics import moses_metrics

    _threads(threads)
    generated = [line.split()[0] for line in Path(data).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not generated:
        raise ConfigError(f"{data!r} holds no SMILES")
    reference: dict[str, Any] = {"test": read_smiles(test), "test_scaffolds": False} if test else {}
    metrics = moses_metrics(generated, train=read_smiles(train) if train else None, fcd=not no_fcd, **reference)
    text = json.dumps(metrics, indent=2)
    if out:
        from hygeia.core.atomic import write_text

        write_text(out, text + "\n", what="metrics file")
    click.echo(text)
