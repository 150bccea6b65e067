"""Benchmark the evaluation audit; prints JSON.

Times ``evaluate_tables`` on a real/synthetic/holdout triple of ``--rows`` x 30
columns (16 numeric, 12 categorical, 1 date, 1 id) with a binary target,
quasi-identifiers, a sensitive column and subgroups: the median of ``--repeats`` runs.

Usage::

    python benchmarks/evaluate.py [--rows 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
import pandas as pd

from hygeia.evaluate import evaluate_tables


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
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    real, synthetic, holdout = (make_table(args.rows, s) for s in (1, 2, 3))
    times, sections = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        report = evaluate_tables(
            real, synthetic, holdout=holdout, target="outcome", quasi_identifiers=["age", "sex", "race"],
            sensitive=["code_0"], subgroups=["sex", "race", "age"], seed=0,
        )
        times.append(time.perf_counter() - start)
        sections.append(report["meta"]["seconds"])
    print(json.dumps({
        "benchmark": "evaluate_tables",
        "rows": args.rows,
        "columns": real.shape[1],
        "holdout_rows": len(holdout),
        "repeats": args.repeats,
        "seconds_median": statistics.median(times),
        "seconds_all": times,
        "seconds_by_section_last": sections[-1],
        "cpus": os.cpu_count(),
        "overall_fidelity": report["fidelity"]["overall"],
    }, indent=2))


if __name__ == "__main__":
    main()
