"""Benchmark the evaluation audit; writes ``benchmarks/results/evaluate.json``.

Times ``evaluate_tables`` on a real/synthetic/holdout triple of ``--rows`` x 30
columns (16 numeric, 12 categorical, 1 date, 1 id) with a binary target,
quasi-identifiers, a sensitive column and subgroups: one run per seed of
``--seeds`` (the seed of the tables and of the audit), mean and spread over the seeds.

Usage::

    .venv/bin/python benchmarks/evaluate.py [--rows 10000] [--seeds 1,2,3,4,5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

from hygeia.evaluate import evaluate_tables

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _results


def make_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 4))
    cols: dict[str, object] = {"patient_id": np.arange(n) + seed * 10 * n}
    cols["age"] = np.clip(55 + 15 * latent[:, 0], 18, 100).round()
    for i in range(15):
        cols[f"lab_{i}"] = latent[:, i % 4] * (i + 1) + rng.normal(0, 1, n)
    cols["sex"] = np.where(latent[:, 1] + rng.normal(0, 1, n) > 0, "F", "M")
    cols["race"] = rng.choice(["white", "black", "asian", "other"], n, p=[0.6, 0.2, 0.1, 0.1])
    for i in range(9):
        cols[f"code_{i}"] = np.array(list("ABCDEFGH"))[np.digitize(latent[:, i % 4] + rng.normal(0, 0.5, n), np.linspace(-2, 2, 7))]
    cols["admit_date"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D")
    cols["outcome"] = np.where(latent[:, 0] + latent[:, 2] + rng.normal(0, 1, n) > 1, "yes", "no")
    return pd.DataFrame(cols)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seeds", default="1,2,3,4,5", help="one run per seed (default 1..5)")
    parser.add_argument("--out", default=None, help="result file (default benchmarks/results/evaluate.json)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s]
    times, sections, fidelity = [], [], []
    for seed in seeds:
        real, synthetic, holdout = (make_table(args.rows, 3 * seed + k) for k in range(3))
        start = time.perf_counter()
        report = evaluate_tables(
            real, synthetic, holdout=holdout, target="outcome", quasi_identifiers=["age", "sex", "race"],
            sensitive=["code_0"], subgroups=["sex", "race", "age"], seed=seed,
        )
        times.append(time.perf_counter() - start)
        sections.append(report["meta"].get("seconds", {}))
        fidelity.append(report["fidelity"]["overall"])
        print(f"seed {seed}: {times[-1]:.1f} s", file=sys.stderr, flush=True)
    by_section = {k: _results.spread([s[k] for s in sections], 2)
                  for k in sections[0] if all(isinstance(s.get(k), (int, float)) for s in sections)}
    doc = _results.envelope(
        "evaluate", seeds=seeds, sizes={"rows": args.rows, "holdout_rows": args.rows, "columns": real.shape[1]},
        figures={"seconds": _results.spread(times, 2), "seconds_by_section": by_section,
                 "overall_fidelity": _results.spread(fidelity)},
    )
    _results.write(doc, args.out)


if __name__ == "__main__":
    main()
