"""Benchmark of the sepsis twin (``sepsis``, the ICU-Sepsis MDP); writes ``benchmarks/results/twin_sepsis.json``.

- **Policy values** (exact): the expected return from the initial-state distribution of the
  random, clinicians' and optimal policies (sparse linear solve over the 713 ICU states;
  the optimal policy by value iteration to 1e-12, gamma = 1), against the paper's 0.780,
  0.782 and 0.875 (Choudhary, Gupta & Thomas 2024), with the CPU seconds of each.
- **Shipped tables**: with ``--assets DIR`` (the ``icu_sepsis/envs/assets`` folder of the
  icu-sepsis 2.0.1 package, read as files; the package is never imported), the largest
  absolute difference between every shipped array and the package's.
- **Monte Carlo**: for each seed and policy, ``--episodes`` episodes of one week (42
  four-hour steps) from the initial distribution: survival (discharged alive, plus the exact
  survival probability of those still in the ICU at the horizon) against the exact value,
  and the speed in episodes and simulated ICU patient-days per CPU-second (process CPU time).
- **Personalization**: the share dying within a week when the start states are weighted
  towards SOFA 3, 8 and 14 (clinicians' policy).
- **Memory**: tracemalloc's peak during one untimed run of ``--episodes`` episodes; the
  process's peak resident size.

Usage::

    .venv/bin/python benchmarks/twin_sepsis.py [--episodes 20000] [--seeds 1,2,3,4,5] [--assets DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

PUBLISHED = {"random": 0.780, "clinician": 0.782, "optimal": 0.875}


def policy_values() -> dict:
    from hygeia.twin import SepsisMDP

    t0 = time.process_time()
    mdp = SepsisMDP.load()
    out: dict = {"load_cpu_seconds": time.process_time() - t0}
    for name, published in PUBLISHED.items():
        t0 = time.process_time()
        value = mdp.value(mdp.policy(name))
        out[name] = {"value": round(value, 6), "published": published, "rounds_to_published": round(value, 3) == published,
                     "cpu_seconds": round(time.process_time() - t0, 4)}
    return out


def compare_assets(folder: Path) -> dict:
    """The largest absolute difference of every shipped array from the package's own files."""
    from hygeia.twin import SepsisMDP

    mdp = SepsisMDP.load()
    pkg = np.load(folder / "dynamics.npz")
    lines = (folder / "admissible_actions.txt").read_text().splitlines()
    admissible = np.zeros((716, 25), bool)
    for state, line in enumerate(lines[1:717]):
        admissible[state, [int(a) for a in line.split()]] = True
    ours = {"tx_mat": mdp.transitions.toarray().reshape(716, 25, 716), "r_mat": mdp.rewards.toarray().reshape(716, 25, 716),
            "d_0": mdp.initial, "expert_policy": mdp.clinician, "sofa_scores": mdp.sofa,
            "state_cluster_centers": mdp.centers}
    diff = {k: float(np.max(np.abs(v - pkg[k]))) for k, v in ours.items()}
    diff["admissible_actions_mismatches"] = int((admissible != mdp.admissible).sum())
    return diff


def monte_carlo(episodes: int, seed: int, exact: dict) -> dict:
    from hygeia.twin import Plan, SepsisSimulator

    sim = SepsisSimulator()
    row: dict = {}
    for name in PUBLISHED:
        plan = Plan(name, settings={"policy": name}, horizon_h=168.0)
        sim.simulate(plan, n=10, seed=seed)  # warm: the tables and the optimal policy are read/solved once
        t0 = time.process_time()
        run = sim.simulate(plan, n=episodes, seed=seed)
        cpu = time.process_time() - t0
        alive = run.final("discharged_alive") + run.final("in_icu") * (1.0 - run.final("mortality_risk"))
        icu_days = float(run.series("in_icu")[:, :-1].sum() * 4.0 / 24.0)
        row[name] = {"survival": float(alive.mean()), "survival_minus_exact": float(alive.mean() - exact[name]["value"]),
                     "discharged_alive_within_week": float(run.final("discharged_alive").mean()),
                     "died_within_week": float(run.final("died").mean()), "cpu_seconds": cpu,
                     "episodes_per_cpu_second": episodes / cpu, "icu_patient_days_per_cpu_second": icu_days / cpu}
    return row


def personalization(episodes: int, seed: int) -> dict:
    from hygeia.twin import Plan, SepsisMDP, SepsisSimulator

    mdp = SepsisMDP.load()
    out = {}
    for sofa in (None, 3.0, 8.0, 14.0):
        run = SepsisSimulator(sofa=sofa).simulate(Plan("c", settings={"policy": "clinician"}, horizon_h=168.0),
                                                  n=episodes, seed=seed)
        out["population" if sofa is None else f"sofa_{sofa:g}"] = {
            "mean_start_sofa": float(mdp.sofa[run.params["start_state"]].mean()),
            "died_within_week": float(run.final("died").mean())}
    return out


def memory(episodes: int) -> dict:
    from hygeia.twin import Plan, SepsisSimulator

    tracemalloc.start()
    SepsisSimulator().simulate(Plan("c", settings={"policy": "clinician"}, horizon_h=168.0), n=episodes, seed=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"episodes": episodes, "tracemalloc_peak_mb": round(peak / 2**20, 2),
            "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=20000, help="episodes per policy and seed (default 20000)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="one Monte Carlo run per seed (default 1..5)")
    ap.add_argument("--assets", default=None, help="the icu-sepsis package's assets folder, to check the shipped tables")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/twin_sepsis.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    load_before = os.getloadavg()

    figures: dict = {"policy_values": policy_values()}
    print("values:", {k: v["value"] for k, v in figures["policy_values"].items() if isinstance(v, dict)},
          file=sys.stderr, flush=True)
    if args.assets:
        figures["shipped_tables_max_abs_difference"] = compare_assets(Path(args.assets))
    rows = [monte_carlo(args.episodes, s, figures["policy_values"]) for s in seeds]
    figures["monte_carlo"] = {name: {k: _results.spread([r[name][k] for r in rows], 4) for k in rows[0][name]}
                              for name in PUBLISHED}
    figures["personalization_clinicians"] = personalization(args.episodes, seeds[0])
    figures["memory"] = memory(args.episodes)
    figures["load_average_1_5_15"] = {"before": [round(x, 2) for x in load_before],
                                      "after": [round(x, 2) for x in os.getloadavg()]}
    doc = _results.envelope("twin_sepsis", seeds=seeds, sizes={
        "episodes_per_policy_and_seed": args.episodes, "horizon_steps": 42, "step_hours": 4,
        "states": 716, "actions": 25}, figures=figures,
        references={"icu-sepsis": "2.0.1 (tables shipped in src/hygeia/twin/resources/icu_sepsis.npz)"},
        argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
