"""Benchmark the population simulator; prints JSON.

Measures, for full lifetimes (birth to death or the end date):

* patients per CPU-second with (a) Hygeia's embedded modules and (b) the
  Synthea module set (``--synthea DIR``, default ``../shared/synthea/modules``),
  in one process (``simulate_shard``: simulation plus the Arrow tables), the
  median of ``--repeats`` runs of ``--n`` persons each;
* peak resident memory of a whole ``generate`` run (one worker, streamed to
  Parquet) at two population sizes, each in a fresh process, to show that
  memory does not grow with N.

Usage::

    python benchmarks/population.py [--n 200] [--repeats 3] [--sizes 500,4000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SYNTHEA = HERE.parent.parent / "shared" / "synthea" / "modules"

_MEMORY_PROBE = r"""
import resource, sys, time
from hygeia.population import generate
t = time.process_time()
r = generate(n=int(sys.argv[1]), seed=1, out=sys.argv[2], workers=1, modules=sys.argv[3:],
             default_modules=not sys.argv[3:])
cpu = time.process_time() - t
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, r.n_events, cpu)
"""


def throughput(n: int, repeats: int, modules: list[str], default_modules: bool) -> dict:
    """Patients per CPU-second of ``simulate_shard`` (after a warm-up that loads the modules)."""
    from hygeia.core.config import RunConfig
    from hygeia.population.simulate import simulate_shard

    cfg = RunConfig(n=n, seed=1, modules=tuple(modules), default_modules=default_modules)
    simulate_shard(cfg, 0, 1)  # load modules and locale once, outside the timing
    rates, events = [], 0
    for r in range(repeats):
        t = time.process_time()
        persons, ev = simulate_shard(cfg, 1 + r * n, n)
        rates.append(n / (time.process_time() - t))
        events += ev.num_rows
    return {
        "patients_per_cpu_second": round(statistics.median(rates), 1),
        "runs": [round(x, 1) for x in rates],
        "events_per_patient": round(events / (n * repeats), 1),
        "n_per_run": n,
    }


def peak_memory(sizes: list[int], modules: list[str]) -> list[dict]:
    out = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [sys.executable, "-c", _MEMORY_PROBE, str(n), os.path.join(tmp, "out"), *modules],
                check=True, capture_output=True, text=True,
            )
        rss_kb, n_events, cpu = proc.stdout.split()
        out.append({
            "n": n, "peak_rss_mib": round(int(rss_kb) / 1024, 1), "events": int(n_events),
            "patients_per_cpu_second": round(n / float(cpu), 1),
        })
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="persons per timed run (default 200)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per module set (default 3)")
    ap.add_argument("--sizes", default="500,4000", help="population sizes for the memory probe")
    ap.add_argument("--synthea", default=str(DEFAULT_SYNTHEA), help="folder of Synthea modules")
    args = ap.parse_args(argv)
    synthea = [args.synthea] if Path(args.synthea).is_dir() else []
    result = {
        "benchmark": "population",
        "python": sys.version.split()[0],
        "default_modules": throughput(args.n, args.repeats, [], True),
    }
    if synthea:
        result["synthea_modules"] = throughput(args.n, args.repeats, synthea, False)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    result["peak_memory_default_modules"] = peak_memory(sizes, [])
    if synthea:
        result["peak_memory_synthea_modules"] = peak_memory(sizes, synthea)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
