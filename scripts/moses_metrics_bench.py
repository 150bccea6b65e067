"""Time :func:`hygeia.molecules.metrics.moses_metrics` on a MOSES-sized sample (one CPU thread).

The "generated" molecules are drawn from the MOSES training set (plus 1% planted invalid
strings), so the expected values are known in kind: valid 0.99, Novelty 0, FCD/Test small.
The MOSES reference statistics are prepared first (cached under --cache-dir) and timed apart.

Usage (from the repository root):
    .venv/bin/python scripts/moses_metrics_bench.py [--n 30000] [--n-jobs 1] [--cache-dir DIR] [--properties]
"""

from __future__ import annotations

import argparse
import json
import random
import time

import torch

from hygeia.molecules.chemnet import fcd_stats
from hygeia.molecules.data import moses_split
from hygeia.molecules.metrics import moses_metrics, moses_reference


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 1), round(time.process_time() - cpu, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30_000)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--properties", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    train = moses_split("train")
    rng = random.Random(args.seed)
    generated = rng.sample(train, args.n - args.n // 100) + ["C1CC"] * (args.n // 100)
    rng.shuffle(generated)
    for split in ("test", "test_scaffolds"):
        _, wall, cpu = timed(lambda: moses_reference(split, cache_dir=args.cache_dir, properties=args.properties,
                                                     n_jobs=args.n_jobs))
        print(f"reference {split}: {wall} s wall, {cpu} s CPU (this process)", flush=True)
    valid = [s for s in generated if s != "C1CC"]
    _, wall, cpu = timed(lambda: fcd_stats(valid, canonical=False))
    print(f"ChemNet statistics of the sample alone: {wall} s wall, {cpu} s CPU", flush=True)
    out, wall, cpu = timed(lambda: moses_metrics(generated, n_jobs=args.n_jobs, cache_dir=args.cache_dir,
                                                 properties=args.properties))
    print(f"moses_metrics(n={args.n}, n_jobs={args.n_jobs}): {wall} s wall, {cpu} s CPU (this process)")
    print(json.dumps({k: round(v, 4) for k, v in out.items()}, indent=1))


if __name__ == "__main__":
    main()
