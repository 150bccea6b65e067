"""Benchmark of the twin's data-driven effect back-end; writes ``benchmarks/results/twin_effects.json``.

Three published checks and the calibration of the prediction intervals:

* **IHDP** (Hill 2011, response surface B, as econml's ``ihdp_surface_B`` draws it; 747
  children, 25 covariates): for each replication ``--reps`` (its ``random_state``), each of
  Hygeia's T-, S-, X- and DR learners (default gradient-boosting models) is fitted on all
  rows and scored by sqrt(PEHE), the root mean squared error of the CATE against the true
  effects (in-sample, as in Hill 2011); econml's own learners with the same base models
  side by side (``--no-econml`` to skip). Each learner is also fitted on a random 75% and
  scored on the other 25%: held-out sqrt(PEHE) and the share of held-out observed outcomes
  inside the 90% prediction interval.
* **NHEFS** (causallib's ``load_nhefs``: 1,566 smokers; What If, ch. 12-13): the average
  effect of quitting smoking on weight gain (kg) by standardization, IPW (with the robust
  interval, and the bootstrap) and AIPW, ``--boot`` resamples; the 90% interval coverage of a
  T-learner on a 25% held-out split.
* **ACTG 320** (scikit-survival's ``load_aids``, AIDS-defining event or death; Hammer et al.
  1997: HR 0.50, 95% CI 0.33-0.76): the indinavir arm's hazard ratio from Hygeia's Cox fit,
  beside scikit-survival's Breslow fit.

CPU seconds are process time (the machine is shared: its load average is recorded); peak
memory is the process's peak resident set size.

Usage::

    .venv/bin/python benchmarks/twin_effects.py [--reps 10] [--boot 200] [--no-econml] [--out FILE]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

ALPHA = 0.1


def _pehe(est: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((est - truth) ** 2)))


def _econml_learners():
    from econml.dr import DRLearner
    from econml.metalearners import SLearner, TLearner, XLearner
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def gbr():
        return GradientBoostingRegressor(n_estimators=200, max_depth=3, learning_rate=0.05, random_state=0)

    def prop():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

    final = GradientBoostingRegressor(n_estimators=100, max_depth=2, learning_rate=0.05, min_samples_leaf=20,
                                      subsample=0.8, random_state=0)
    return {"t": lambda: TLearner(models=gbr()), "s": lambda: SLearner(overall_model=gbr()),
            "x": lambda: XLearner(models=gbr(), propensity_model=prop()),
            "dr": lambda: DRLearner(model_regression=gbr(), model_propensity=prop(), model_final=final, cv=5,
                                    min_propensity=0.01, random_state=0)}


def ihdp(reps: int, with_econml: bool) -> dict:
    from econml.data.dgps import ihdp_surface_B

    from hygeia.twin import LEARNERS

    ours = {k: {"pehe": [], "pehe_held_out": [], "coverage_90": [], "fit_cpu_seconds": []} for k in LEARNERS}
    theirs = {k: {"pehe": [], "fit_cpu_seconds": []} for k in LEARNERS} if with_econml else {}
    for rep in range(reps):
        y, t, X, te = ihdp_surface_B(random_state=rep)
        X = X[:, 1:]  # econml's first column is an intercept
        rng = np.random.default_rng(rep)
        test = rng.permutation(len(y))[: len(y) // 4]
        train = np.setdiff1d(np.arange(len(y)), test)
        for name, cls in LEARNERS.items():
            cpu = time.process_time()
            model = cls(seed=rep).fit(X, t, y)
            ours[name]["fit_cpu_seconds"].append(time.process_time() - cpu)
            ours[name]["pehe"].append(_pehe(model.effect(X), te))
            held = cls(seed=rep).fit(X[train], t[train], y[train])
            ours[name]["pehe_held_out"].append(_pehe(held.effect(X[test]), te[test]))
            p = held.predict(X[test], t[test], alpha=ALPHA)
            ours[name]["coverage_90"].append(float(np.mean((y[test] >= p.low) & (y[test] <= p.high))))
        if with_econml:
            for name, make in _econml_learners().items():
                cpu = time.process_time()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = make().fit(y, t, X=X)
                    eff = est.effect(X)
                theirs[name]["fit_cpu_seconds"].append(time.process_time() - cpu)
                theirs[name]["pehe"].append(_pehe(np.ravel(eff), te))
        print(f"IHDP replication {rep}: " + ", ".join(f"{k} {v['pehe'][-1]:.3f}" for k, v in ours.items()),
              file=sys.stderr, flush=True)
    out = {"hygeia": {k: {m: _results.spread(v) for m, v in d.items()} for k, d in ours.items()}}
    if with_econml:
        out["econml"] = {k: {m: _results.spread(v) for m, v in d.items()} for k, d in theirs.items()}
    out["pooled_coverage_90"] = _results.spread([c for d in ours.values() for c in d["coverage_90"]])
    return out


def nhefs(boot: int, seed: int) -> dict:
    from causallib.datasets import load_nhefs

    from hygeia.twin import TLearner, average_effect

    data = load_nhefs()
    X, a, y = data.X.astype(float), data.a, data.y
    out: dict = {}
    for method in ("standardization", "ipw", "aipw"):
        cpu = time.process_time()
        r = average_effect(X, a, y, method=method, n_boot=boot, seed=seed)
        out[method] = {"estimate": r.estimate, "ci95_bootstrap": list(r.ci), "se_bootstrap": r.se,
                       "robust_se": r.robust_se, "mean_quit": r.means[1], "mean_continued": r.means[0],
                       "cpu_seconds": time.process_time() - cpu}
    robust = average_effect(X, a, y, method="ipw", n_boot=0)
    out["ipw"]["ci95_robust"] = list(robust.ci)
    rng = np.random.default_rng(seed)
    test = rng.permutation(len(y))[: len(y) // 4]
    train = np.setdiff1d(np.arange(len(y)), test)
    model = TLearner(seed=seed).fit(X.iloc[train], a.iloc[train], y.iloc[train])
    p = model.predict(X.iloc[test], a.iloc[test], alpha=ALPHA)
    yt = y.iloc[test].to_numpy()
    out["t_learner_coverage_90_held_out"] = float(np.mean((yt >= p.low) & (yt <= p.high)))
    out["n"] = len(y)
    return out


def actg() -> dict:
    import pandas as pd
    from sksurv.datasets import load_aids
    from sksurv.linear_model import CoxPHSurvivalAnalysis

    from hygeia.twin import CoxPH

    X, y = load_aids(endpoint="aids")
    tx = pd.DataFrame({"tx": X["tx"].astype(float)})
    cpu = time.process_time()
    m = CoxPH().fit(tx, y["time"], y["censor"])
    cpu = time.process_time() - cpu
    ref = CoxPHSurvivalAnalysis(ties="breslow").fit(tx.to_numpy(), y)
    return {"hazard_ratio": float(m.hazard_ratios_[0]), "ci95": [float(v) for v in m.ci_[0]],
            "p_value": float(m.p_values_[0]), "newton_steps": int(m.n_iter_), "fit_cpu_seconds": cpu,
            "scikit_survival_hazard_ratio": float(np.exp(ref.coef_[0])), "published": {"hazard_ratio": 0.50,
            "ci95": [0.33, 0.76], "source": "Hammer et al. 1997, N Engl J Med 337:725"},
            "n": len(y), "events": int(y["censor"].sum())}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="IHDP replications, random_state 0..reps-1 (default 10)")
    ap.add_argument("--boot", type=int, default=200, help="bootstrap resamples of the NHEFS averages (default 200)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the NHEFS bootstrap and split (default 1)")
    ap.add_argument("--no-econml", action="store_true", help="skip econml's learners on IHDP")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/twin_effects.json)")
    args = ap.parse_args(argv)

    figures = {"ihdp": ihdp(args.reps, not args.no_econml), "nhefs": nhefs(args.boot, args.seed), "actg320": actg()}
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    doc = _results.envelope("twin_effects", seeds=[*range(args.reps), args.seed],
                            sizes={"ihdp_replications": args.reps, "ihdp_rows": 747, "ihdp_held_out_share": 0.25,
                                   "nhefs_rows": figures["nhefs"]["n"], "nhefs_bootstrap": args.boot,
                                   "actg320_rows": figures["actg320"]["n"], "interval_level": 1 - ALPHA},
                            figures=figures)
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
