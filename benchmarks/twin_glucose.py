"""Benchmark of the glucose twin against simglucose; writes ``benchmarks/results/twin_glucose.json``.

Scenario (one day): meals of 50, 70 and 80 g at 7, 12 and 18 h, the patient's steady-state
basal insulin, and a bolus of ``carbs / CR`` (the patient's own carbohydrate ratio) with
each meal, given over the meal's first minute.

- **Agreement**: for ``--patients`` virtual patients, the largest absolute difference of
  the glucose trace (simglucose's BG, subcutaneous glucose, every minute) between Hygeia
  (scales 1) and simglucose 0.2.11's ``T1DPatient`` stepped minute by minute with the
  same inputs.
- **Speed** (process CPU time, ``time.process_time``): simglucose's patient core (the
  ``T1DPatient.step`` loop alone, without its environment, sensor, pump and controller,
  so its cost is a lower bound of a simglucose run); Hygeia on one parameter set, and
  vectorized over ``--n`` prior draws; both as simulated patient-days per CPU-second.
  Peak memory: tracemalloc's peak during a second, untimed vectorized run, and the
  process's peak resident size.
- **Calibration** over ``--synthetic`` synthetic patients (base virtual patients in turn,
  scales drawn from the prior, CGM from the sensor model every 15 min): calibrate on the
  first 12 h, predict the next 12 h with 200 posterior draws; the share of held-out CGM
  readings inside the 90% prediction intervals, the share of true scales inside the 90%
  posterior intervals, and CPU seconds per calibration.

Usage::

    .venv/bin/python benchmarks/twin_glucose.py [--n 100] [--synthetic 12] [--quick]
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

MEALS = ((7.0, 50.0), (12.0, 70.0), (18.0, 80.0))
ONES = {"si_scale": [1.0], "gb_scale": [1.0], "kabs_scale": [1.0]}


def _plan(patient: str, hours: float):
    from hygeia.twin import Dose, Plan
    from hygeia.twin._glucose_model import quest

    cr = quest(patient)["CR"]
    doses = tuple(Dose("insulin", round(g / cr, 2), "U", at_h=h, route="sc") for h, g in MEALS if h < hours)
    return Plan("meals", horizon_h=hours, doses=doses,
                settings={"meals": [[h, g] for h, g in MEALS if h < hours], "basal": "patient"})


def _simglucose_trace(T1DPatient, patient: str, plan, minutes: int) -> tuple[np.ndarray, float]:
    from hygeia.twin._glucose_model import basal_rate, patient_params

    basal = basal_rate(patient_params(patient))[0]
    cho, bolus = np.zeros(minutes), np.zeros(minutes)
    for h, g in plan.settings["meals"]:
        cho[round(h * 60)] = g
    for d in plan.doses:
        bolus[round(d.at_h * 60)] += d.amount
    p = T1DPatient.withName(patient)
    trace = [p.observation.Gsub]
    cpu = time.process_time()
    for m in range(minutes):
        p.step(T1DPatient.Action(CHO=cho[m], insulin=basal + bolus[m]))
        trace.append(p.observation.Gsub)
    return np.array(trace), time.process_time() - cpu


def agreement_and_speed(patients: list[str], n: int, hours: float) -> dict:
    from hygeia.twin._glucose import GlucoseSimulator
    from hygeia.twin._glucose_reference import (
        simglucose_patient_class,
        simglucose_version,
    )

    T1DPatient = simglucose_patient_class()
    minutes = int(hours * 60)
    days = hours / 24.0
    rows = []
    for patient in patients:
        sim = GlucoseSimulator(patient=patient)
        plan = _plan(patient, hours)
        ref, ref_cpu = _simglucose_trace(T1DPatient, patient, plan, minutes)
        cpu = time.process_time()
        ours = sim.run_minutes(plan, ONES, minutes)["glucose"][0]
        one_cpu = time.process_time() - cpu
        diff = np.abs(ours - ref)
        rows.append({"patient": patient, "max_abs_difference_mg_dl": float(diff.max()),
                     "max_relative_difference": float((diff / ref).max()),
                     "glucose_range_mg_dl": [round(float(ref.min()), 2), round(float(ref.max()), 2)],
                     "simglucose_cpu_seconds_per_patient_day": ref_cpu / days,
                     "hygeia_one_cpu_seconds_per_patient_day": one_cpu / days})
        print(f"{patient}: {rows[-1]}", file=sys.stderr, flush=True)
    sim = GlucoseSimulator(patient=patients[0])
    draws = sim.prior(n, seed=1)
    plan = _plan(patients[0], hours)
    cpu = time.process_time()
    sim.run_minutes(plan, draws, minutes)
    vec_cpu = time.process_time() - cpu
    tracemalloc.start()  # a second run: tracing allocations slows numpy several-fold
    sim.run_minutes(plan, draws, minutes)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    simglucose_rate = len(rows) * days / sum(r["simglucose_cpu_seconds_per_patient_day"] * days for r in rows)
    one_rate = len(rows) * days / sum(r["hygeia_one_cpu_seconds_per_patient_day"] * days for r in rows)
    vec_rate = n * days / vec_cpu
    return {
        "simglucose_version": simglucose_version(),
        "per_patient": rows,
        "max_abs_difference_mg_dl": max(r["max_abs_difference_mg_dl"] for r in rows),
        "max_relative_difference": max(r["max_relative_difference"] for r in rows),
        "simglucose_core_patient_days_per_cpu_second": round(simglucose_rate, 4),
        "hygeia_one_patient_days_per_cpu_second": round(one_rate, 4),
        "hygeia_vectorized_patient_days_per_cpu_second": round(vec_rate, 3),
        "vectorized_samples": n,
        "speedup_vectorized_vs_simglucose_core": round(vec_rate / simglucose_rate, 1),
        "speedup_one_vs_simglucose_core": round(one_rate / simglucose_rate, 2),
        "vectorized_tracemalloc_peak_mb": round(peak / 2**20, 2),
    }


def calibration(count: int, draws: int, seed0: int) -> dict:
    import pandas as pd

    from hygeia.twin import Plan
    from hygeia.twin._glucose import SCALES, GlucoseSimulator

    plan = Plan("day", horizon_h=24, settings={"meals": [[1, 45], [6, 70], [12, 80], [18, 30]], "basal": "patient",
                                               "bolus": True})
    bases = ("adolescent#001", "adult#002", "child#003", "adult#005", "adolescent#007", "child#009")
    hits = total = 0
    inside = {k: 0 for k in SCALES}
    cpu, ess, per_patient = [], [], []
    for k in range(count):
        sim = GlucoseSimulator(patient=bases[k % len(bases)], calibration_draws=draws)
        truth = sim.prior(1, seed=seed0 + k)
        run = sim.simulate(plan, params=truth, seed=seed0 + 1000 + k, step_h=0.25)
        times, cgm = run.times_h, run.series("cgm")[0]
        seen = times <= 12
        start = time.process_time()
        post = sim.calibrate(pd.DataFrame({"time_h": times[seen], "output": "cgm", "value": cgm[seen]}),
                             plan=plan, n=200, seed=seed0 + 2000 + k)
        cpu.append(time.process_time() - start)
        ess.append(sim.calibration_["effective_sample_size"])
        pred = sim.simulate(plan, params=post, seed=seed0 + 3000 + k, step_h=0.25).series("cgm")
        lo, hi = np.quantile(pred, [0.05, 0.95], axis=0)
        held = ~seen
        h = int(np.sum((cgm[held] >= lo[held]) & (cgm[held] <= hi[held])))
        hits, total = hits + h, total + int(held.sum())
        for s in SCALES:
            a, b = np.quantile(post[s], [0.05, 0.95])
            inside[s] += int(a <= truth[s][0] <= b)
        per_patient.append({"patient": sim.patient, "coverage": round(h / int(held.sum()), 3),
                            "truth": {s: round(float(truth[s][0]), 3) for s in SCALES}})
        print(f"synthetic {k}: {per_patient[-1]} cpu {cpu[-1]:.1f}s ess {ess[-1]:.0f}", file=sys.stderr, flush=True)
    return {
        "prediction_interval_90_coverage": round(hits / total, 4),
        "held_out_readings": total,
        "true_scale_inside_posterior_90": {s: round(v / count, 3) for s, v in inside.items()},
        "calibration_cpu_seconds": _results.spread(cpu, 3),
        "effective_sample_size": _results.spread(ess, 1),
        "per_patient": per_patient,
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="parameter draws of the vectorized run (default 100)")
    ap.add_argument("--patients", default="adolescent#001,adult#001,child#001",
                    help="virtual patients compared with simglucose, one day each")
    ap.add_argument("--synthetic", type=int, default=12, help="synthetic patients for calibration (default 12)")
    ap.add_argument("--draws", type=int, default=400, help="simulations per importance-sampling round (default 400)")
    ap.add_argument("--seed", type=int, default=101, help="first seed of the synthetic patients (default 101)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 h, 2 synthetic patients, into --out")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/twin_glucose.json)")
    args = ap.parse_args(argv)
    hours = 2.0 if args.quick else 24.0
    synthetic = 2 if args.quick else args.synthetic
    load_before = os.getloadavg()
    figures = {"simglucose": agreement_and_speed(args.patients.split(","), args.n, hours),
               "calibration": calibration(synthetic, args.draws, args.seed)}
    figures["process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["load_average"] = {"before": [round(x, 2) for x in load_before],
                               "after": [round(x, 2) for x in os.getloadavg()]}
    doc = _results.envelope("twin_glucose", seeds=[args.seed + k for k in range(synthetic)],
                            sizes={"hours_compared": hours, "vectorized_samples": args.n,
                                   "simglucose_patients": args.patients.split(","), "synthetic_patients": synthetic,
                                   "calibration_hours": 12, "held_out_hours": 12, "draws_per_round": args.draws,
                                   "posterior_draws": 200},
                            figures=figures, argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    if args.quick and args.out is None:
        raise SystemExit("--quick writes a smoke result; give --out (e.g. runs/twin_glucose_quick.json)")
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
