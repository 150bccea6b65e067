"""Learned table generators side by side with SDV, on public clinical tables; prints JSON.

For each dataset (flchain and aids from scikit-survival, support2 from SurvSet),
an 80/20 split; every model is fitted on the 80 % and samples 10,000 rows,
measured by benchmarks/tabular_measure.py: SDMetrics' QualityReport,
TSTR/TRTR ROC AUC for the binary outcome (leaky columns left out), membership
inference AUC, exact copies, DCR closer-to-train share, subgroup outcome-rate
error by sex, and fit CPU-seconds (all threads of this process). SDV
(BUSL-1.1) runs here only, as a reference point (`pip install 'hygeia[bench]'`).
The longitudinal part fits the sequence model on pbcseq and, with --with-par,
SDV's PARSynthesizer.

Usage:
    .venv/bin/python benchmarks/tabular.py                       # everything (SDV TVAE/PAR take minutes)
    .venv/bin/python benchmarks/tabular.py --datasets flchain --models auto,copula,cart,neural,dp
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
import tabular_datasets  # noqa: E402
import tabular_measure  # noqa: E402

HYGEIA_MODELS = ["auto", "copula", "cart", "neural", "dp"]
SDV_MODELS = ["sdv_gaussian_copula", "sdv_tvae"]


def _threads() -> None:
    import torch

    torch.set_num_threads(1)


def fit_hygeia(model: str, train: pd.DataFrame, seed: int, epsilon: float) -> tuple[Any, dict[str, Any]]:
    from hygeia.tabular.api import fit_table

    kwargs: dict[str, Any] = {"model": model, "seed": seed}
    if model == "dp":
        kwargs["epsilon"] = epsilon
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


def run_dataset(name: str, models: list[str], rows: int, seed: int, epsilon: float) -> dict[str, Any]:
    df = tabular_datasets.load(name)
    train, holdout = tabular_datasets.split(df, seed=seed)
    out: dict[str, Any] = {"rows": len(df), "train": len(train), "holdout": len(holdout), "columns": len(df.columns)}
    out["real_holdout_vs_train"] = tabular_measure.quality(train, holdout)
    results = {}
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
        except Exception as exc:  # a benchmark reports a failing model and goes on
            info = {"error": f"{type(exc).__name__}: {exc}"}
        results[model] = _round(info)
        print(f"[{name}] {model}: {json.dumps(results[model])}", file=sys.stderr, flush=True)
    out["models"] = results
    return out


def run_sequence(rows: int, seed: int, with_par: bool) -> dict[str, Any]:
    from hygeia.tabular.api import fit_table
    from hygeia.tabular.metadata import Metadata

    df = tabular_datasets.load("pbcseq")
    train, holdout = tabular_datasets.split(df, seed=seed, group="id")
    meta = Metadata.detect(train, sequence_key="id", sequence_index="day")
    out: dict[str, Any] = {"subjects": int(df["id"].nunique()), "visits": len(df)}
    (gen, choice), cpu = tabular_measure.cpu_seconds(
        lambda: fit_table(train, model="sequence", metadata=meta, params={"end_column": "futime"}, seed=seed)
    )
    n_subjects = int(train["id"].nunique())
    synth = gen.sample(n_subjects, seed=seed)
    out["hygeia_sequence"] = _round({"fit_cpu_s": cpu, **_sequence_figures(train, synth)})
    if with_par:
        from sdv.metadata import Metadata as SDVMetadata
        from sdv.sequential import PARSynthesizer

        md = tabular_measure.sdv_metadata(train, types={"id": "id"})
        md["sequence_key"] = "id"
        md["sequence_index"] = "day"
        smeta = SDVMetadata.load_from_dict({"tables": {"table": md}})
        par = PARSynthesizer(smeta, context_columns=["futime", "status", "trt", "age", "sex"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, cpu = tabular_measure.cpu_seconds(lambda: par.fit({"table": train}))
            psynth = par.sample(num_sequences=n_subjects)
            psynth = psynth["table"] if isinstance(psynth, dict) else psynth
        out["sdv_par"] = _round({"fit_cpu_s": cpu, **_sequence_figures(train, psynth)})
    return out


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
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-sequence", action="store_true", help="Skip the longitudinal pbcseq part.")
    ap.add_argument("--with-par", action="store_true", help="Also fit SDV's PARSynthesizer on pbcseq (slow).")
    args = ap.parse_args()
    _threads()
    models = [m for m in args.models.split(",") if m and not (args.no_sdv and m.startswith("sdv_"))]
    result: dict[str, Any] = {"rows": args.rows, "seed": args.seed, "epsilon": args.epsilon, "datasets": {}}
    for name in [d for d in args.datasets.split(",") if d]:
        result["datasets"][name] = run_dataset(name, models, args.rows, args.seed, args.epsilon)
    if not args.no_sequence:
        result["longitudinal_pbcseq"] = run_sequence(args.rows, args.seed, args.with_par)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
