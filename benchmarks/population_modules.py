"""CPU per recorded event, module by module; writes ``benchmarks/results/population_modules.json``.

Simulates ``--n`` persons of one module set in one process and charges the
time spent stepping each module (exclusive of nested work by other modules and
of the lifecycle) to that module, with the rows it recorded meanwhile. A
module's cost is its CPU microseconds per recorded event; the yardstick is the
whole default library's cost per event (total CPU over total events, timed
without the per-module instrumentation). Rows recorded inside a submodule
count for the module that called it. Modules that recorded nothing are listed
with their CPU per person.

Usage::

    .venv/bin/python benchmarks/population_modules.py [--n 100] [--seed 1] [--modules synthea] [--top 15]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results


def _instrument(charges: dict) -> callable:
    """Wrap the engine's entry points so that time and rows are charged to the module stepped; returns undo."""
    from hygeia.population.engine import _runner

    sim_cls = _runner.Simulation
    stack: list = []  # [module key, start ns, start rows] of the open charges
    clock = time.perf_counter_ns

    def charged(fn, key_of):
        def wrapper(self, arg, t):
            key = key_of(arg)
            if key is None:
                return fn(self, arg, t)
            now, nrows = clock(), len(self.person.rows)
            if stack:
                top = stack[-1]
                c = charges.setdefault(top[0], [0, 0])
                c[0] += now - top[1]
                c[1] += nrows - top[2]
            stack.append([key, now, nrows])
            try:
                return fn(self, arg, t)
            finally:
                now, nrows = clock(), len(self.person.rows)
                top = stack.pop()
                c = charges.setdefault(top[0], [0, 0])
                c[0] += now - top[1]
                c[1] += nrows - top[2]
                if stack:
                    stack[-1][1], stack[-1][2] = now, nrows

        return wrapper

    def of_run(run):
        return run.module.key

    def of_pair(arg):
        run, token = arg
        return run.module.key if run.token == token else None

    saved = {n: getattr(sim_cls, n) for n in ("advance", "_fast_exit", "_fast_eval", "_guard_tick")}
    sim_cls.advance = charged(saved["advance"], of_run)
    for n in ("_fast_exit", "_fast_eval", "_guard_tick"):
        setattr(sim_cls, n, charged(saved[n], of_pair))

    def undo():
        for n, f in saved.items():
            setattr(sim_cls, n, f)

    return undo


def measure(n: int, seed: int, modules: list[str], default_modules: bool) -> dict:
    """Total CPU per event (uninstrumented) and each module's charged CPU and rows (instrumented)."""
    from hygeia.core.config import RunConfig
    from hygeia.population.simulate import simulate_person, simulate_shard

    cfg = RunConfig(n=n, seed=seed, modules=tuple(modules), default_modules=default_modules)
    simulate_shard(RunConfig(n=2, seed=0, modules=tuple(modules), default_modules=default_modules), 0, 2)
    t = time.process_time()
    _, events = simulate_shard(cfg, 0, n)
    cpu = time.process_time() - t
    charges: dict = {}
    undo = _instrument(charges)
    try:
        w0 = time.perf_counter_ns()
        rows = 0
        for i in range(n):
            rows += len(simulate_person(cfg, i).rows)
        wall = time.perf_counter_ns() - w0
    finally:
        undo()
    charged_ns = sum(c[0] for c in charges.values())
    charges["(lifecycle and engine)"] = [wall - charged_ns, rows - sum(c[1] for c in charges.values())]
    return {
        "patients_per_cpu_second": round(n / cpu, 1),
        "events_per_patient": round(events.num_rows / n, 1),
        "us_per_event": round(cpu * 1e6 / events.num_rows, 2),
        "modules": {
            k: {"us_per_event": round(ns / 1e3 / r, 2) if r else None, "events": r,
                "ms_per_person": round(ns / 1e6 / n, 3), "share_of_time": round(ns / wall, 4)}
            for k, (ns, r) in sorted(charges.items(), key=lambda kv: -kv[1][0])
        },
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="persons (default 100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--modules", default="synthea", help="module folder measured against the default library")
    ap.add_argument("--top", type=int, default=15, help="modules printed (default 15)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/population_modules.json)")
    args = ap.parse_args(argv)
    base = measure(args.n, args.seed, [], True)
    corpus = measure(args.n, args.seed, [args.modules], False)
    limit = 2 * base["us_per_event"]
    over = sorted(k for k, v in corpus["modules"].items()
                  if k != "(lifecycle and engine)" and (v["us_per_event"] or float("inf")) > limit
                  and v["ms_per_person"] > 0.05)
    print(f"default library: {base['patients_per_cpu_second']} patients/CPU-s, {base['us_per_event']} us/event")
    print(f"{args.modules}: {corpus['patients_per_cpu_second']} patients/CPU-s, {corpus['us_per_event']} us/event")
    print(f"{'module':40s} {'us/event':>9s} {'events':>8s} {'ms/person':>10s} {'share':>6s}")
    for k, v in list(corpus["modules"].items())[: args.top]:
        print(f"{k:40s} {v['us_per_event'] if v['us_per_event'] is not None else '-':>9} {v['events']:>8d} "
              f"{v['ms_per_person']:>10.3f} {v['share_of_time']:>6.1%}")
    print(f"modules over 2x the default library's cost per event ({limit:.2f} us) and 0.05 ms/person: {over}")
    doc = _results.envelope(
        "population_modules", seeds=[args.seed], sizes={"persons": args.n},
        figures={"default_modules": base, "corpus": corpus, "corpus_modules": args.modules,
                 "limit_us_per_event": limit, "modules_over_limit": over},
        argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)],
    )
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
