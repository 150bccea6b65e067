"""Benchmark of the PK/PD twin (``pkpd``); writes ``benchmarks/results/twin_pk.json``.

- **Agreement with pytci** (MIT, the reference): Marsh and Schnider propofol (2 mg/kg bolus,
  then 10, 8 and 6 mg/kg/h for 20, 40 and 60 min) and Minto remifentanil (1 ug/kg, then
  0.25, 0.2 and 0.15 ug/kg/min) in ``--patients`` adults (age 20-85, weight 50-110 kg,
  height 150-195 cm, both sexes; seeded), sampled every 10 s: the largest relative
  difference of plasma and effect-site concentrations from pytci 1.2.0's exact integrator,
  and from its legacy one-second Euler integrator after the first 5 minutes.
- **Speed** (process CPU time): simulated patient-hours per CPU-second for a 2-hour
  anaesthetic (propofol + remifentanil, 1-minute output) on one parameter set and
  vectorized over ``--n`` draws; patient-days per CPU-second for 3 days of vancomycin q12h
  (15-minute output), vectorized; pytci's own time for the same 2-hour propofol course.
- **Population fit**: FOCEI (``hygeia.twin.PopulationPK``) on NONMEM's phenobarbital
  example, read from pharmpy-core's installed package data (``pheno.dta``; pharmpy-core is
  LGPL and installed without dependencies by ``make test``): the thetas against NONMEM's
  0.00470 L/h/kg and 0.984 L/kg (pheno_real.lst: 0.00469555, 0.984258), the objective, CPU
  seconds; and on five synthetic studies of 120 infants (seeds) the relative error of CL and V.
- **Personalization**: ``--synthetic`` simulated vancomycin patients per seed (covariates
  drawn, random effects from the Goti 2018 prior, 1 g q12h over 1 h), calibrated on two
  levels (12 and 25.5 h), 90% posterior predictive intervals for four held-out levels
  (48-74 h): the share covered, CPU seconds per calibration, effective sample size.
- **Memory**: tracemalloc's peak during an untimed vectorized vancomycin run; the process's
  peak resident size.

Usage::

    .venv/bin/python benchmarks/twin_pk.py [--patients 10] [--n 200] [--synthetic 100] [--seeds 1,2,3,4,5]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

NONMEM_PHENO = {"theta": [0.00469555, 0.984258, 0.158920], "omega": [0.0293508, 0.0279060], "sigma": 0.0132410,
                "ofv": 586.27605628520962}
STEPS = ((1.0, 20), (0.8, 40), (0.6, 60))  # share of the first rate, minutes


def _course(drug, unit, bolus, rate):
    from hygeia.twin import Dose, Plan

    doses, start = [Dose(drug, bolus, unit, route="iv_bolus")], 0.0
    for share, minutes in STEPS:
        doses.append(Dose(drug, share * rate, f"{unit}/h", at_h=start, route="iv_infusion", duration_h=minutes / 60))
        start += minutes / 60
    return Plan("course", doses=tuple(doses), horizon_h=start)


def _pytci(model, bolus, rate, integrator):
    model.set_integrator(integrator)
    if integrator == "exact":
        model.give_drug(bolus)
    else:  # the legacy way: the bolus over 10 one-second steps
        for _ in range(10):
            model.giveoverseconds(bolus / 10, 1)
    cp, ce = [model.x1], [model.xeo]
    for share, minutes in STEPS:
        for _ in range(minutes * 6):
            model.giveoverseconds(share * rate / 3600.0, 10)
            cp.append(model.x1)
            ce.append(model.xeo)
    return np.array(cp), np.array(ce)


def agreement(patients: int, seed: int) -> dict:
    from PyTCI.models.propofol import Marsh, Schnider
    from PyTCI.models.remifentanil import Minto

    from hygeia.twin import PKPDSimulator

    rng = np.random.default_rng(seed)
    out: dict = {}
    timing = {"hygeia_cpu_seconds": 0.0, "pytci_exact_cpu_seconds": 0.0, "courses": 0}
    for model in ("marsh", "schnider", "minto"):
        rows = {"plasma_vs_exact": [], "effect_vs_exact": [], "plasma_vs_euler_after_5min": [],
                "effect_vs_euler_after_5min": []}
        for _ in range(patients):
            age, weight = float(rng.uniform(20, 85)), float(rng.uniform(50, 110))
            height, sex = float(rng.uniform(150, 195)), str(rng.choice(["m", "f"]))
            if weight > 0.9 * (1.1 if sex == "m" else 1.07) * height**2 / (2 * (128 if sex == "m" else 148)):
                weight = 0.6 * height - 30  # keep James' lean body mass in its valid range
            sim = PKPDSimulator(weight_kg=weight, height_cm=height, age_y=age, sex=sex,
                                propofol_model="marsh" if model == "marsh" else "schnider")
            if model == "minto":
                drug, unit, bolus, rate = "remifentanil", "ug", weight, 0.25 * 60 * weight
                make = lambda a=age, w=weight, h=height, s=sex: Minto(a, w, h, s)
            else:
                drug, unit, bolus, rate = "propofol", "mg", 2 * weight, 10 * weight
                make = ((lambda w=weight: Marsh(w)) if model == "marsh"
                        else (lambda a=age, w=weight, h=height, s=sex: Schnider(a, w, h, s)))
            t0 = time.process_time()
            run = sim.simulate(_course(drug, unit, bolus, rate), n=1, seed=0, step_h=10 / 3600)
            t1 = time.process_time()
            ref = _pytci(make(), bolus, rate, "exact")
            t2 = time.process_time()
            euler = _pytci(make(), bolus, rate, "euler")
            timing["hygeia_cpu_seconds"] += t1 - t0
            timing["pytci_exact_cpu_seconds"] += t2 - t1
            timing["courses"] += 1
            mine = run.series(f"{drug}_plasma")[0], run.series(f"{drug}_effect")[0]
            for k, name in enumerate(("plasma", "effect")):
                rows[f"{name}_vs_exact"].append(float(np.max(np.abs(mine[k][1:] - ref[k][1:]) / ref[k][1:])))
                after = slice(30, None)
                rows[f"{name}_vs_euler_after_5min"].append(
                    float(np.max(np.abs(mine[k][after] - euler[k][after]) / euler[k][after])))
        out[model] = {k: max(v) for k, v in rows.items()}
    out["max_relative_difference_vs_pytci_exact"] = max(max(out[m]["plasma_vs_exact"], out[m]["effect_vs_exact"])
                                                        for m in ("marsh", "schnider", "minto"))
    out["timing_2h_courses"] = timing
    return out


def speed(n: int) -> dict:
    from hygeia.twin import Dose, PKPDSimulator, Plan

    sim = PKPDSimulator(weight_kg=70.0, height_cm=175.0, age_y=45.0, sex="m", creatinine_mg_dl=1.0)
    anaesthetic = Plan("ga", horizon_h=2.0, doses=(
        Dose("propofol", 2.0, "mg/kg", route="iv_bolus"),
        Dose("propofol", 8.0, "mg/kg/h", route="iv_infusion", duration_h=1.5),
        Dose("remifentanil", 0.2, "ug/kg/min", route="iv_infusion", duration_h=1.5)))
    vanco = Plan("vanco", horizon_h=72.0, doses=(
        Dose("vancomycin", 1000.0, "mg", route="iv_infusion", duration_h=1.0, every_h=12.0, times=6),))
    out = {}
    for label, plan, n_draws, step, unit in (("anaesthetic_2h_one", anaesthetic, 1, 1 / 60, 1.0),
                                             ("anaesthetic_2h_vectorized", anaesthetic, n, 1 / 60, 1.0),
                                             ("vancomycin_3d_vectorized", vanco, n, 0.25, 24.0)):
        params = sim.prior(n_draws, seed=1)
        reps, cpu = 0, 0.0
        while cpu < 2.0:
            t0 = time.process_time()
            sim.simulate(plan, params=params, seed=1, step_h=step)
            cpu += time.process_time() - t0
            reps += 1
        per = n_draws * plan.horizon_h / unit * reps / cpu
        out[label] = {"samples": n_draws, "runs": reps, "cpu_seconds": round(cpu, 3),
                      ("patient_hours_per_cpu_second" if unit == 1.0 else "patient_days_per_cpu_second"): round(per, 1)}
    return out


def pheno() -> dict:
    from hygeia.twin import PopulationPK, read_nonmem_data

    path = metadata.distribution("pharmpy-core").locate_file("pharmpy/internals/example_models/pheno.dta")
    fit = PopulationPK().fit(read_nonmem_data(path))
    return {"data": "pharmpy-core " + metadata.version("pharmpy-core") + " pharmpy/internals/example_models/pheno.dta",
            "subjects": fit.n_subjects_, "observations": fit.n_observations_,
            "theta": [float(t) for t in fit.theta_], "omega": [float(w) for w in fit.omega_], "sigma": fit.sigma_,
            "ofv": fit.ofv_, "cpu_seconds": round(fit.cpu_seconds_, 3), "objective_evaluations": fit.n_evaluations_,
            "cl_relative_to_0.00470": fit.theta_[0] / 0.00470 - 1, "v_relative_to_0.984": fit.theta_[1] / 0.984 - 1,
            "theta_relative_to_nonmem": [float(a / b - 1) for a, b in zip(fit.theta_, NONMEM_PHENO["theta"])],
            "ofv_minus_nonmem": fit.ofv_ - NONMEM_PHENO["ofv"], "nonmem": NONMEM_PHENO}


def synthetic_fit(seed: int) -> dict:
    from hygeia.twin import PopulationPK
    from hygeia.twin._pk_popfit import simulate_population

    truth = (0.0047, 0.98, 0.16)
    fit = PopulationPK(theta0=(0.01, 2.0, 0.0)).fit(simulate_population(120, theta=truth, seed=seed))
    return {"cl_relative_error": float(fit.theta_[0] / truth[0] - 1), "v_relative_error": float(fit.theta_[1] / truth[1] - 1),
            "cpu_seconds": fit.cpu_seconds_}


def coverage(patients: int, seed: int) -> dict:
    import pandas as pd

    from hygeia.twin import Dose, PKPDSimulator, Plan

    plan = Plan("q12h", horizon_h=80.0, doses=(
        Dose("vancomycin", 1000.0, "mg", route="iv_infusion", duration_h=1.0, every_h=12.0, times=7),))
    measured, held = np.array([11.9, 25.5]), np.array([47.9, 61.0, 71.9, 73.5])
    rng = np.random.default_rng(seed)
    inside, cpu, ess = [], [], []
    for _ in range(patients):
        sim = PKPDSimulator(weight_kg=float(rng.uniform(50, 110)), age_y=float(rng.uniform(25, 85)),
                            sex=str(rng.choice(["m", "f"])), creatinine_mg_dl=float(rng.uniform(0.6, 1.8)))
        truth = sim.prior(1, seed=int(rng.integers(2**31)))
        levels = sim.measure(plan, truth, np.concatenate([measured, held]), seed=int(rng.integers(2**31)))[0]
        obs = pd.DataFrame({"time_h": measured, "output": "vancomycin_plasma", "value": levels[:2]})
        t0 = time.process_time()
        post = sim.calibrate(obs, plan=plan, n=400, seed=int(rng.integers(2**31)))
        cpu.append(time.process_time() - t0)
        ess.append(sim.calibration_["vancomycin"]["ess"])
        lo, hi = np.quantile(sim.measure(plan, post, held, seed=int(rng.integers(2**31))), (0.05, 0.95), axis=0)
        inside += list((levels[2:] >= lo) & (levels[2:] <= hi))
    return {"coverage": float(np.mean(inside)), "levels": len(inside), "cpu_seconds": float(np.mean(cpu)),
            "ess": float(np.mean(ess))}


def memory(n: int) -> dict:
    from hygeia.twin import Dose, PKPDSimulator, Plan

    sim = PKPDSimulator(weight_kg=70.0, age_y=45.0, sex="m", creatinine_mg_dl=1.0)
    plan = Plan("vanco", horizon_h=72.0, doses=(
        Dose("vancomycin", 1000.0, "mg", route="iv_infusion", duration_h=1.0, every_h=12.0, times=6),))
    tracemalloc.start()
    sim.simulate(plan, n=n, seed=1, step_h=0.25)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"vectorized_vancomycin_tracemalloc_peak_mb": round(peak / 2**20, 2),
            "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=10, help="patients per model in the pytci comparison (default 10)")
    ap.add_argument("--n", type=int, default=200, help="parameter draws of the vectorized runs (default 200)")
    ap.add_argument("--synthetic", type=int, default=100, help="vancomycin patients per seed (default 100)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="seeds of the synthetic studies (default 1..5)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/twin_pk.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    load_before = os.getloadavg()

    figures: dict = {"pytci": agreement(args.patients, seeds[0])}
    print("pytci:", figures["pytci"]["max_relative_difference_vs_pytci_exact"], file=sys.stderr, flush=True)
    figures["speed"] = speed(args.n)
    print("speed:", figures["speed"], file=sys.stderr, flush=True)
    figures["pheno"] = pheno()
    print("pheno:", figures["pheno"]["theta"], file=sys.stderr, flush=True)
    rows = [synthetic_fit(s) for s in seeds]
    figures["synthetic_population_fit"] = {k: _results.spread([r[k] for r in rows], 4) for k in rows[0]}
    cov = []
    for s in seeds:
        cov.append(coverage(args.synthetic, s))
        print(f"vancomycin seed {s}: {cov[-1]}", file=sys.stderr, flush=True)
    figures["vancomycin_calibration"] = {
        "coverage_90": _results.spread([c["coverage"] for c in cov], 4),
        "coverage_90_pooled": float(np.average([c["coverage"] for c in cov], weights=[c["levels"] for c in cov])),
        "held_out_levels": int(sum(c["levels"] for c in cov)),
        "cpu_seconds_per_calibration": _results.spread([c["cpu_seconds"] for c in cov], 4),
        "effective_sample_size": _results.spread([c["ess"] for c in cov], 1)}
    figures["memory"] = memory(args.n)
    figures["load_average_1_5_15"] = {"before": [round(x, 2) for x in load_before],
                                      "after": [round(x, 2) for x in os.getloadavg()]}
    versions = {p: metadata.version(p) for p in ("pytci", "pharmpy-core")}
    doc = _results.envelope("twin_pk", seeds=seeds, sizes={
        "pytci_patients_per_model": args.patients, "vectorized_draws": args.n,
        "vancomycin_patients_per_seed": args.synthetic, "synthetic_population_infants": 120},
        figures=figures, references=versions, argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
