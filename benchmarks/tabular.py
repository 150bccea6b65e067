"""Learned table generators on public clinical tables; writes ``benchmarks/results/tabular.json``.

For each dataset (flchain and aids from scikit-survival, support2 from SurvSet)
and each of the reported split seeds (``tabular_datasets.REPORT_SPLITS``, never
used for tuning: ``scripts/tune_tabular.py`` tunes on seeds 0-99 and refuses
these), an 80/20 split; every model is fitted on the 80 % (fit seed = split
seed) and samples ``--rows`` rows, measured by benchmarks/tabular_measure.py:
SDMetrics' QualityReport, TSTR/TRTR ROC AUC for the binary outcome (leaky
columns left out), membership inference AUC, exact copies, DCR closer-to-train
share, subgroup outcome-rate error by sex, and fit CPU-seconds (all threads of
this process). Each figure is the mean and spread over the splits. SDV
(BUSL-1.1) runs here only, as a reference point (`pip install 'hygeia[bench]'`).
The longitudinal part fits the sequence model on pbcseq and, with --with-par,
SDV's PARSynthesizer.

Usage:
    .venv/bin/python benchmarks/tabular.py                       # everything (SDV TVAE/PAR take minutes)
    .venv/bin/python benchmarks/tabular.py --datasets flchain --models cart,copula,dp
    .venv/bin/python benchmarks/tabular.py --no-sdv --rows 10000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
import _results
import tabular_datasets
import tabular_measure

HYGEIA_MODELS = ["auto", "copula", "cart", "neural", "dp"]
SDV_MODELS = ["sdv_gaussian_copula", "sdv_tvae"]


def _threads() -> None:
    import torch

    torch.set_num_threads(1)


def fit_hygeia(model: str, train: pd.DataFrame, seed: int, epsilon: float) -> tuple[Any, dict[str, Any]]:
    import inspect

    from hygeia.tabular.api import fit_table

    kwargs: dict[str, Any] = {"model": model, "seed": seed}
    if model == "dp":
        kwargs["epsilon"] = epsilon
        if "release_detected_metadata" in inspect.signature(fit_table).parameters:
            # these are public tables: their column types, categories and bounds are released, in words
            kwargs["release_detected_metadata"] = True
    (generator, choice), cpu = tabular_measure.cpu_seconds(lambda: fit_table(train, **kwargs))
    return generator, {"generator": choice.generator, "params": choice.params, "reason": choice.reason, "fit_cpu_s": cpu}


def fit_sdv(model: str, train: pd.DataFrame, seed: int) -> tuple[Any, dict[str, Any]]:
    from sdv.metadata import Metadata as SDVMetadata
    from sdv.single_table import GaussianCopulaSynthesizer, TVAESynthesizer

    meta = SDVMetadata.load_from_dict({"tables": {"table": tabular_measure.sdv_metadata(train)}})
    cls = GaussianCopulaSynthesizer if model == "sdv_gaussian_copula" else TVAESynthesizer
    synth = cls(meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.random.seed(seed)
        _, cpu = tabular_measure.cpu_seconds(lambda: synth.fit({"table": train}))
    return synth, {"generator": f"sdv.{cls.__name__}", "fit_cpu_s": cpu}


def sample(model: str, generator: Any, rows: int, seed: int) -> pd.DataFrame:
    if model.startswith("sdv_"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = generator.sample(rows)
            return out["table"] if isinstance(out, dict) else out
    return generator.sample(rows, seed=seed)


def run_dataset(name: str, models: list[str], rows: int, splits: list[int], epsilon: float) -> dict[str, Any]:
    df = tabular_datasets.load(name)
    from hygeia.tabular.auto import choose_model

    out: dict[str, Any] = {"rows": len(df), "columns": len(df.columns)}
    out["auto_choice"] = choose_model(tabular_datasets.split(df, seed=splits[0])[0])[0]
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in models}
    baseline = []
    for seed in splits:
        train, holdout = tabular_datasets.split(df, seed=seed)
        out["train"], out["holdout"] = len(train), len(holdout)
        baseline.append(tabular_measure.quality(train, holdout))
        for model in models:
            try:
                if model.startswith("sdv_"):
                    generator, info = fit_sdv(model, train, seed)
                else:
                    generator, info = fit_hygeia(model, train, seed, epsilon)
                start = time.process_time()
                synth = sample(model, generator, rows, seed)
                info["sample_cpu_s"] = time.process_time() - start
                info.update(tabular_measure.measure(train, holdout, synth, name, seed=seed))
            except Exception as exc:  # noqa: BLE001 - a benchmark reports a failing model and goes on
                info = {"error": f"{type(exc).__name__}: {exc}"}
            runs[model].append({"split": seed, **_round(info)})
            print(f"[{name} split {seed}] {model}: {json.dumps(runs[model][-1])}", file=sys.stderr, flush=True)
    out["real_holdout_vs_train"] = _summary(baseline)
    out["models"] = {m: _summary(r) for m, r in runs.items()}
    out["runs"] = runs
    return out


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and spread over the splits of every numeric figure; the first error, if any run failed."""
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        return {"error": errors[0], "failed_runs": len(errors)}
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if key == "split":
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = _results.spread([r[key] for r in runs])
        elif all(r.get(key) == value for r in runs):
            out[key] = value
        else:
            out[key] = [r.get(key) for r in runs]
    return out


def run_sequence(splits: list[int], with_par: bool) -> dict[str, Any]:
    from hygeia.tabular.api import fit_table
    from hygeia.tabular.metadata import Metadata

    df = tabular_datasets.load("pbcseq")
    out: dict[str, Any] = {"subjects": int(df["id"].nunique()), "visits": len(df)}
    runs: dict[str, list[dict[str, Any]]] = {"hygeia_sequence": [], **({"sdv_par": []} if with_par else {})}
    for seed in splits:
        train, _holdout = tabular_datasets.split(df, seed=seed, group="id")
        meta = Metadata.detect(train, sequence_key="id", sequence_index="day")
        (gen, _choice), cpu = tabular_measure.cpu_seconds(
            lambda train=train, meta=meta, seed=seed: fit_table(
                train, model="sequence", metadata=meta, params={"end_column": "futime"}, seed=seed)
        )
        n_subjects = int(train["id"].nunique())
        synth = gen.sample(n_subjects, seed=seed)
        runs["hygeia_sequence"].append(_round({"split": seed, "fit_cpu_s": cpu, **_sequence_figures(train, synth)}))
        print(f"[pbcseq split {seed}] sequence: {json.dumps(runs['hygeia_sequence'][-1])}", file=sys.stderr, flush=True)
        if with_par:
            runs["sdv_par"].append(_round({"split": seed, **_par(train, n_subjects, seed)}))
    out["models"] = {m: _summary(r) for m, r in runs.items()}
    out["runs"] = runs
    return out


def _par(train: pd.DataFrame, n_subjects: int, seed: int) -> dict[str, Any]:
    from sdv.metadata import Metadata as SDVMetadata
    from sdv.sequential import PARSynthesizer

    md = tabular_measure.sdv_metadata(train, types={"id": "id"})
    md["sequence_key"] = "id"
    md["sequence_index"] = "day"
    smeta = SDVMetadata.load_from_dict({"tables": {"table": md}})
    par = PARSynthesizer(smeta, context_columns=["futime", "status", "trt", "age", "sex"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.random.seed(seed)
        _, cpu = tabular_measure.cpu_seconds(lambda: par.fit({"table": train}))
        psynth = par.sample(num_sequences=n_subjects)
        psynth = psynth["table"] if isinstance(psynth, dict) else psynth
    return {"fit_cpu_s": cpu, **_sequence_figures(train, psynth)}


def _sequence_figures(train: pd.DataFrame, synth: pd.DataFrame) -> dict[str, Any]:
    cols = [c for c in train.columns if c != "id"]
    q = tabular_measure.quality(train[cols], synth[cols])
    after = float((synth["day"] > synth["futime"]).mean())
    counts_real = train.groupby("id").size()
    counts_syn = synth.groupby("id").size()
    increasing = bool(synth.groupby("id")["day"].apply(lambda s: s.is_monotonic_increasing and s.is_unique).all())
    return {
        **q,
        "visits_after_follow_up_end": after,
        "visit_times_increase": increasing,
        "visits_per_subject_real_mean": float(counts_real.mean()),
        "visits_per_subject_synthetic_mean": float(counts_syn.mean()),
    }


def _round(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _round(v) for k, v in d.items()}
    if isinstance(d, float):
        return round(d, 4)
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="flchain,aids,support2")
    ap.add_argument("--models", default=",".join(HYGEIA_MODELS + SDV_MODELS))
    ap.add_argument("--no-sdv", action="store_true", help="Skip the SDV reference models.")
    ap.add_argument("--rows", type=int, default=10_000, help="Synthetic rows per model (default 10,000).")
    ap.add_argument("--epsilon", type=float, default=1.0, help="ε of the dp model (default 1).")
    ap.add_argument("--splits", default=",".join(map(str, tabular_datasets.REPORT_SPLITS)),
                    help="split seeds (default: the reported ones; tuning seeds are refused)")
    ap.add_argument("--no-sequence", action="store_true", help="Skip the longitudinal pbcseq part.")
    ap.add_argument("--with-par", action="store_true", help="Also fit SDV's PARSynthesizer on pbcseq (slow).")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/tabular.json)")
    args = ap.parse_args()
    splits = [int(s) for s in args.splits.split(",") if s]
    tuned = [s for s in splits if s in tabular_datasets.TUNING_SPLITS]
    if tuned or len(splits) < 5:
        ap.error(f"report on five splits or more, none a tuning split (0-99); got {splits}")
    _threads()
    models = [m for m in args.models.split(",") if m and not (args.no_sdv and m.startswith("sdv_"))]
    figures: dict[str, Any] = {"datasets": {}}
    for name in [d for d in args.datasets.split(",") if d]:
        figures["datasets"][name] = run_dataset(name, models, args.rows, splits, args.epsilon)
    if not args.no_sequence:
        figures["longitudinal_pbcseq"] = run_sequence(splits, args.with_par)
    doc = _results.envelope(
        "tabular", seeds=splits, sizes={"synthetic_rows": args.rows, "train_share": 0.8, "epsilon": args.epsilon},
        figures=figures, models=models,
        tuning="scripts/tune_tabular.py tunes on split seeds 0-99 only; these figures use other split seeds",
    )
    _results.write(doc, args.out)


if __name__ == "__main__":
    main()
