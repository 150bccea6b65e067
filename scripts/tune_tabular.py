"""Tune the copula / CART table generators on the benchmark tables, on tuning splits only.

Tuning uses the 80/20 split seeds ``tabular_datasets.TUNING_SPLITS`` (0-99); the published
figures (benchmarks/tabular.py, benchmarks/results/tabular.json) are measured on
``REPORT_SPLITS`` (101-105), which this script refuses, so that nothing is reported on the
split it was tuned on. Prints one JSON line per model and dataset; nothing here is a
published figure.

Usage (from the repository root):
    .venv/bin/python scripts/tune_tabular.py --models cart,copula --datasets flchain,aids,support2 \
        [--params '{"min_samples_leaf": 20}'] [--seed 0] [--splits 0,1,2,3,4] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys

sys.path.insert(0, "benchmarks")

import tabular_datasets
import tabular_measure

from hygeia.core.generator import get_generator_class


def run(model: str, dataset: str, params: dict, n: int = 10_000, seed: int = 0, quick: bool = False, split: int = 0) -> dict:
    import importlib

    tabular_datasets.check_tuning_split(split)
    importlib.import_module(f"hygeia.tabular.{model}")
    cls = get_generator_class(f"tabular.{model}")
    df = tabular_datasets.load(dataset)
    train, holdout = tabular_datasets.split(df, seed=split)
    gen, cpu = tabular_measure.cpu_seconds(lambda: cls(**params).fit(train))
    syn, cpu_s = tabular_measure.cpu_seconds(lambda: gen.sample(n, seed=seed))
    if quick:
        out = fast_measure(train, holdout, syn, dataset)
    else:
        out = tabular_measure.measure(train, holdout, syn, dataset)
    out.update(fit_cpu_s=cpu, sample_cpu_s=cpu_s)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def fast_measure(train, holdout, syn, dataset: str) -> dict:
    """Quality, TSTR, MIA, DCR and exact copies only (no attacks, no fairness): for quick tuning."""
    from hygeia.evaluate._metadata import Encoder, prepare, validate_inputs
    from hygeia.evaluate._privacy import distance_metrics, exact_copy_rate
    from hygeia.evaluate._utility import utility

    target = tabular_datasets.TARGETS[dataset]
    out = tabular_measure.quality(train, syn)
    syn = syn[train.columns]
    types = validate_inputs(
        train, syn, holdout=holdout, target=target, time_column=None, event_column=None, quasi_identifiers=None,
        sensitive=None, subgroups=None, column_types=None,
    )
    r, s, h = prepare(train, types), prepare(syn, types), prepare(holdout, types)
    drop = [c for c in tabular_measure.LEAKY.get(dataset, []) if c in train.columns]
    t2 = {c: t for c, t in types.items() if c not in drop}
    util, _ = utility(r.drop(columns=drop), s.drop(columns=drop), h.drop(columns=drop), t2, target=target, seed=0)
    cols = [c for c, t in types.items() if t != "id"]
    enc = Encoder(cols, types).fit(r)
    dist = distance_metrics(enc.transform(r), enc.transform(s), enc.transform(h), seed=0)
    out.update(
        tstr_auc=util["train_synthetic_test_real"], trtr_auc=util["train_real_test_real"], mia_auc=dist["mia_auc"],
        dcr_closer_to_train_share=dist["dcr_closer_to_train_share"], exact_copy_rate=exact_copy_rate(r, s, cols),
    )
    return out


def main() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # a shared machine: one thread per BLAS/OpenMP pool
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="copula,cart")
    ap.add_argument("--datasets", default="flchain,aids,support2")
    ap.add_argument("--params", default="{}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--splits", default="0,1,2,3,4", help="seeds of the 80/20 splits (tuning seeds 0-99 only)")
    ap.add_argument("--quick", action="store_true", help="quality, TSTR, MIA, DCR and copies only")
    args = ap.parse_args()
    splits = [tabular_datasets.check_tuning_split(int(s)) for s in args.splits.split(",") if s]
    for model in args.models.split(","):
        for dataset in args.datasets.split(","):
            for split in splits:
                res = run(model, dataset, json.loads(args.params), seed=args.seed, quick=args.quick, split=split)
                print(json.dumps({"model": model, "dataset": dataset, "split": split, **res}), flush=True)


if __name__ == "__main__":
    main()
