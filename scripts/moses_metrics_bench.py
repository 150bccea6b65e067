"""Time :func:`hygeia.molecules.metrics.moses_metrics` on a MOSES-sized sample (one CPU thread).

The "generated" molecules are drawn from the MOSES training set (plus 1% planted invalid
strings), so the expected values are known in kind: valid 0.99, Novelty 0, FCD/Test small.
The MOSES reference statistics are prepared first (cached under --cache-dir) and timed apart.

Prints the timings; with ``--out FILE`` (e.g. ``benchmarks/results/moses-metrics-timing.json``)
also writes them, with the metrics, in the benchmark result format (command, commit, machine, seed).

Usage (from the repository root):
    .venv/bin/python scripts/moses_metrics_bench.py [--n 30000] [--workers 1] [--cache-dir DIR] [--properties] \
        [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import torch

from hygeia.molecules.chemnet import fcd_stats
from hygeia.molecules.data import moses_split
from hygeia.molecules.metrics import moses_metrics, moses_reference

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))
import _results


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 1), round(time.process_time() - cpu, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--properties", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="also write the result file (benchmark format) here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    train = moses_split("train")
    rng = random.Random(args.seed)
    generated = rng.sample(train, args.n - args.n // 100) + ["C1CC"] * (args.n // 100)
    rng.shuffle(generated)
    timings = {}
    for split in ("test", "test_scaffolds"):
        _, wall, cpu = timed(lambda split=split: moses_reference(
            split, cache_dir=args.cache_dir, properties=args.properties, workers=args.workers))
        timings[f"reference_{split}"] = {"wall_seconds": wall, "cpu_seconds": cpu}
        print(f"reference {split}: {wall} s wall, {cpu} s CPU (this process)", flush=True)
    valid = [s for s in generated if s != "C1CC"]
    _, wall, cpu = timed(lambda: fcd_stats(valid, canonical=False))
    timings["chemnet_statistics_of_sample"] = {"wall_seconds": wall, "cpu_seconds": cpu}
    print(f"ChemNet statistics of the sample alone: {wall} s wall, {cpu} s CPU", flush=True)
    out, wall, cpu = timed(lambda: moses_metrics(generated, workers=args.workers, cache_dir=args.cache_dir,
                                                 properties=args.properties))
    timings["moses_metrics"] = {"wall_seconds": wall, "cpu_seconds": cpu}
    print(f"moses_metrics(n={args.n}, workers={args.workers}): {wall} s wall, {cpu} s CPU (this process)")
    metrics = {k: round(v, 4) for k, v in out.items()}
    print(json.dumps(metrics, indent=1))
    if args.out:
        doc = _results.envelope("moses-metrics-timing", seeds=[args.seed], sizes={"n": args.n, "workers": args.workers},
                                figures={"timings": timings, "metrics": metrics}, torch_threads=1)
        _results.write(doc, args.out)


if __name__ == "__main__":
    main()
