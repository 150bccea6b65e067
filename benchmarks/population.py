"""Benchmark the population simulator; writes ``benchmarks/results/population.json``.

Measures, for full lifetimes (birth to death or the end date):

* patients per CPU-second with (a) Hygeia's embedded modules, (b) the
  Synthea module set (``--synthea DIR``, default ``../shared/synthea/modules``)
  and (c) Synthea's whole corpus as shipped (``--modules synthea``), in one
  process (``simulate_shard``: simulation plus the Arrow tables): one run of
  ``--n`` persons per seed of ``--seeds`` (mean and spread over the seeds);
* peak resident memory of a whole ``generate`` run (one worker, streamed to
  Parquet) at two population sizes, each in a fresh process, to show that
  memory does not grow with N.

Usage::

    .venv/bin/python benchmarks/population.py [--n 200] [--seeds 1,2,3,4,5] [--sizes 500,4000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

DEFAULT_SYNTHEA = HERE.parent.parent / "shared" / "synthea" / "modules"

_MEMORY_PROBE = r"""
import sys, time
from hygeia.population import generate
t = time.process_time()
r = generate(n=int(sys.argv[1]), seed=1, out=sys.argv[2], workers=1, modules=sys.argv[3:],
             default_modules=not sys.argv[3:])
cpu = time.process_time() - t
# VmHWM: this process's own peak (ru_maxrss would also count the parent's size at fork)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(hwm, r.n_events, cpu)
"""


def throughput(n: int, seeds: list[int], modules: list[str], default_modules: bool) -> dict:
    """Patients per CPU-second of ``simulate_shard``, one run per seed (after a warm-up that loads the modules)."""
    from hygeia.core.config import RunConfig
    from hygeia.population.simulate import simulate_shard

    simulate_shard(RunConfig(n=n, seed=0, modules=tuple(modules), default_modules=default_modules), 0, 1)
    rates, events = [], []
    for seed in seeds:
        cfg = RunConfig(n=n, seed=seed, modules=tuple(modules), default_modules=default_modules)
        t = time.process_time()
        _persons, ev = simulate_shard(cfg, 0, n)
        rates.append(n / (time.process_time() - t))
        events.append(ev.num_rows / n)
    return {
        "patients_per_cpu_second": _results.spread(rates, 1),
        "events_per_patient": _results.spread(events, 1),
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
    ap.add_argument("--seeds", default="1,2,3,4,5", help="one timed run per seed and module set (default 1..5)")
    ap.add_argument("--sizes", default="500,4000", help="population sizes for the memory probe")
    ap.add_argument("--synthea", default=str(DEFAULT_SYNTHEA), help="folder of Synthea modules")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/population.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    synthea = [args.synthea] if Path(args.synthea).is_dir() else []
    if not synthea:
        print(f"note: no module folder at {args.synthea} (--synthea DIR): measuring Hygeia's modules and "
              "Synthea's whole corpus as shipped only", file=sys.stderr)
    figures = {"default_modules": throughput(args.n, seeds, [], True)}
    if synthea:
        figures["synthea_modules"] = throughput(args.n, seeds, synthea, False)
    figures["synthea_whole_corpus"] = throughput(args.n, seeds, ["synthea"], False)
    figures["peak_memory_default_modules"] = peak_memory(sizes, [])
    if synthea:
        figures["peak_memory_synthea_modules"] = peak_memory(sizes, synthea)
    doc = _results.envelope(
        "population", seeds=seeds, sizes={"persons_per_timed_run": args.n, "memory_probe_persons": sizes},
        figures=figures, argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)],
        synthea_modules=bool(synthea),
    )
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
