"""Benchmark of the blood pressure twin (``bp``); writes ``benchmarks/results/twin_bp.json``.

- **Dose-response**: the largest absolute difference (mmHg) between the model's steady-state
  reductions at 0.5, 1 and 2 standard doses and Law et al. 2003's table, per class; the mean
  over classes at the standard dose and the half/standard ratio (paper: 9.1 mmHg, 7.1/9.1).
- **Speed** (process CPU time): simulated patient-days per CPU-second for 28 days of a
  three-drug plan, ``--n`` draws, daily and hourly output; CPU seconds per calibration.
- **Coverage, well specified**: per seed, ``--patients`` simulated patients drawn from the
  prior (baseline, responsiveness and reading scatter; home readings, 14 untreated days then amlodipine 5 mg for 42 days, a reading a day),
  calibrated on days 0-27; the share of held-out readings (days 28-55, SBP and DBP) inside
  the 90% posterior predictive interval.
- **Coverage, misspecified**: the same, but the data come from patients whose onset time
  constants vary (x lognormal, SD 0.3 on the log scale) and whose reading scatter is
  Student-t with 5 degrees of freedom (scaled to the same SD), which the model does not know.
- **Hygeia records**: a ``hygeia generate`` run (``--run``, or 200 persons, seed 1, made
  here): for every person with at least 8 readings (SBP+DBP) in the 3-year window, calibrate
  on all but the last two visits and predict those (office readings): the 90% interval
  coverage, and how many persons took modelled antihypertensives.
- **Memory**: tracemalloc's peak during one untimed simulation of ``--n`` draws over 28 days
  at hourly output; the process's peak resident size.

Usage::

    .venv/bin/python benchmarks/twin_bp.py [--n 2000] [--patients 200] [--seeds 1,2,3,4,5] [--run DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results


def _daily(drug: str, mg: float, days: int, at_day: float = 0):
    from hygeia.twin import Dose

    return Dose(drug, mg, "mg", at_h=24.0 * at_day, every_h=24.0, times=days)


def dose_response() -> dict:
    from hygeia.twin import bp_reduction
    from hygeia.twin._bp import LAW_2003

    out: dict = {"max_abs_difference_mmhg": {}}
    for cls, (sbp, dbp) in LAW_2003.items():
        got = np.array([[float(bp_reduction(cls, m)[j]) for m in (0.5, 1.0, 2.0)] for j in range(2)])
        out["max_abs_difference_mmhg"][cls] = round(float(np.max(np.abs(got - np.array([sbp, dbp])))), 3)
    std = np.mean([float(bp_reduction(c, 1.0)[0]) for c in LAW_2003])
    half = np.mean([float(bp_reduction(c, 0.5)[0]) for c in LAW_2003])
    out.update({"mean_sbp_reduction_standard_dose": round(std, 3), "published_all_categories": 9.1,
                "half_over_standard": round(half / std, 3), "published_half_over_standard": round(7.1 / 9.1, 3)})
    return out


def speed(n: int) -> dict:
    from hygeia.twin import BloodPressureSimulator, Plan

    sim = BloodPressureSimulator()
    plan = Plan("3 drugs", doses=(_daily("amlodipine", 5, 28), _daily("lisinopril", 10, 28),
                                  _daily("hydrochlorothiazide", 25, 28)), horizon_h=28 * 24.0)
    out = {}
    for label, step in (("daily_output", 24.0), ("hourly_output", 1.0)):
        sim.simulate(plan, n=10, seed=1, step_h=step)
        t0 = time.process_time()
        sim.simulate(plan, n=n, seed=1, step_h=step)
        cpu = time.process_time() - t0
        out[label] = {"cpu_seconds": cpu, "patient_days_per_cpu_second": n * 28 / cpu}
    return out


@contextlib.contextmanager
def _onset_scaled(factor: float):
    from hygeia.twin import _bp

    saved = dict(_bp.ONSET_DAYS)
    try:
        for k in _bp.ONSET_DAYS:
            _bp.ONSET_DAYS[k] = saved[k] * factor
        yield
    finally:
        _bp.ONSET_DAYS.update(saved)


def coverage(patients: int, seed: int, *, misspecified: bool) -> dict:
    from hygeia.twin import BloodPressureSimulator, Plan

    sim = BloodPressureSimulator(reading="home")
    history = Plan("h", doses=(_daily("amlodipine", 5, 42, at_day=14),), horizon_h=55 * 24.0)
    rng = np.random.default_rng(seed)
    hits, cpu = [], 0.0
    sd = dict(zip(("sbp", "dbp"), (7.0, 5.0)))
    for i in range(patients):
        truth = sim.prior(1, seed=int(rng.integers(2**31)))
        factor = float(np.exp(0.3 * rng.standard_normal())) if misspecified else 1.0
        with _onset_scaled(factor):
            mean = sim.simulate(history, params=truth, seed=1, step_h=24)
        days = mean.times_h
        readings = {}
        for o in ("sbp", "dbp"):
            noise = (rng.standard_t(5, len(days)) / np.sqrt(5 / 3)) if misspecified else rng.standard_normal(len(days))
            out = sim.outputs[[x.name for x in sim.outputs].index(f"{o}_reading")]
            readings[o] = np.clip(mean.series(o)[0] + sd[o] * float(truth["reading_scale"][0]) * noise, out.low, out.high)
        obs = pd.concat([pd.DataFrame({"time_h": days, "output": o, "value": readings[o]}) for o in readings])
        t0 = time.process_time()
        post = sim.calibrate(obs[obs["time_h"] < 28 * 24], plan=history, n=400, seed=i)
        cpu += time.process_time() - t0
        pred = sim.simulate(history, params=post, seed=10_000 + i, step_h=24)
        held = days >= 28 * 24
        for o in ("sbp", "dbp"):
            lo, hi = np.quantile(pred.series(f"{o}_reading"), (0.05, 0.95), axis=0)
            hits.extend(((readings[o] >= lo) & (readings[o] <= hi))[held])
    return {"coverage": float(np.mean(hits)), "held_out_readings": len(hits), "cpu_seconds_per_calibration": cpu / patients}


def records(run: Path) -> dict:
    from hygeia.core.storage import connect
    from hygeia.twin import BloodPressureSimulator
    from hygeia.twin._twin import load_patient

    ids = [r[0] for r in connect(run).execute("SELECT DISTINCT subject_id FROM events WHERE code = '8480-6' "
                                              "ORDER BY 1").fetchall()]
    hits, persons, treated, cpu = [], 0, 0, 0.0
    for sid in ids:
        person, events = load_patient(run, sid)
        twin = BloodPressureSimulator.from_record(person, events)
        obs = twin.observations
        visits = np.sort(obs["time_h"].unique())
        if len(obs) < 8 or len(visits) < 4:
            continue
        persons += 1
        treated += bool(twin.history.doses)
        cut = visits[-2]
        t0 = time.process_time()
        post = twin.simulator.calibrate(obs[obs["time_h"] < cut], plan=twin.history, n=400, seed=int(sid))
        cpu += time.process_time() - t0
        pred = twin.simulator.simulate(twin.history, params=post, seed=int(sid), step_h=24)
        for _, row in obs[obs["time_h"] >= cut].iterrows():
            k = int(np.argmin(np.abs(pred.times_h - row["time_h"])))
            lo, hi = np.quantile(pred.series(f"{row['output']}_reading")[:, k], (0.05, 0.95))
            hits.append(lo <= row["value"] <= hi)
    return {"persons_with_8_readings": persons, "persons_on_modelled_antihypertensives": treated,
            "held_out_readings": len(hits), "coverage": float(np.mean(hits)) if hits else None,
            "cpu_seconds_per_calibration": cpu / max(persons, 1)}


def memory(n: int) -> dict:
    from hygeia.twin import BloodPressureSimulator, Plan

    plan = Plan("3 drugs", doses=(_daily("amlodipine", 5, 28), _daily("lisinopril", 10, 28)), horizon_h=28 * 24.0)
    tracemalloc.start()
    BloodPressureSimulator().simulate(plan, n=n, seed=1, step_h=1.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"draws": n, "hourly_steps": 28 * 24 + 1, "tracemalloc_peak_mb": round(peak / 2**20, 2),
            "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="draws of the speed and memory runs (default 2000)")
    ap.add_argument("--patients", type=int, default=200, help="simulated patients per seed (default 200)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="one coverage study per seed (default 1..5)")
    ap.add_argument("--run", default=None, help="a hygeia generate run (default: 200 persons, seed 1, made here)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/twin_bp.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    load_before = os.getloadavg()

    figures: dict = {"dose_response_vs_law_2003": dose_response(), "speed": speed(args.n)}
    print("speed:", figures["speed"], file=sys.stderr, flush=True)
    for label, mis in (("coverage_90_well_specified", False), ("coverage_90_misspecified", True)):
        rows = [coverage(args.patients, s, misspecified=mis) for s in seeds]
        figures[label] = {"coverage": _results.spread([r["coverage"] for r in rows], 4),
                          "held_out_readings_per_seed": rows[0]["held_out_readings"],
                          "cpu_seconds_per_calibration": _results.spread([r["cpu_seconds_per_calibration"] for r in rows], 5)}
        print(label, figures[label]["coverage"], file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run) if args.run else Path(tmp) / "run"
        if not args.run:
            from hygeia.population import generate

            generate(n=200, seed=1, out=run, workers=1)
        figures["hygeia_records"] = records(run)
    print("records:", figures["hygeia_records"], file=sys.stderr, flush=True)
    figures["memory"] = memory(args.n)
    figures["load_average_1_5_15"] = {"before": [round(x, 2) for x in load_before],
                                      "after": [round(x, 2) for x in os.getloadavg()]}
    doc = _results.envelope("twin_bp", seeds=seeds, sizes={
        "draws": args.n, "patients_per_seed": args.patients, "plan_days": 28, "study_days": 56,
        "record_persons": 200 if not args.run else "from --run"}, figures=figures,
        argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
