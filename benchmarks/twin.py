"""Benchmark treatment simulation as a whole; writes ``benchmarks/results/twin.json`` and prints it.

Runs the five back-end benchmarks, each in its own process and each writing its own result
file (the figures in ``docs/twin.md`` cite those), then gathers per back-end the figures the
issue asks for: simulated patient-days per CPU-second (the glucose model side by side with
simglucose on the same scenario), calibration CPU time, peak memory, and the validation
against published figures:

- ``glucose`` (``twin_glucose.py``): UVA/Padova against simglucose 0.2.11, CGM calibration;
- ``pk`` (``twin_pk.py``): propofol/remifentanil against pytci, FOCEI on NONMEM's pheno,
  vancomycin calibration to levels;
- ``bp`` (``twin_bp.py``): Law 2003 dose-response, calibration to readings;
- ``sepsis`` (``twin_sepsis.py``): the ICU-Sepsis MDP's policy values, Monte Carlo episodes;
- ``effects`` (``twin_effects.py``): IHDP, NHEFS and ACTG 320.

``--gather`` skips the runs and gathers the part files already written. ``--quick`` runs every
part at toy sizes into ``--results-dir`` (a smoke run: its figures are not the ones the docs cite).

Usage::

    .venv/bin/python benchmarks/twin.py [--parts glucose,pk,bp,sepsis,effects] [--gather] [--quick --results-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

PARTS = ("glucose", "pk", "bp", "sepsis", "effects")
#: Toy sizes per part for --quick (argparse: the last value of an option wins).
QUICK = {
    "glucose": ["--quick"],
    "pk": ["--patients", "2", "--n", "20", "--synthetic", "10", "--seeds", "1"],
    "bp": ["--n", "50", "--patients", "20", "--seeds", "1"],
    "sepsis": ["--episodes", "500", "--seeds", "1"],
    "effects": ["--reps", "1", "--boot", "5", "--no-econml"],
}


def _get(doc: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _mean(value: Any) -> Any:
    """A spread's mean (``{"mean": ...}``), or the value itself."""
    return value["mean"] if isinstance(value, dict) and "mean" in value else value


def headline(part: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Per back-end: speed, calibration time, peak memory and the validation figures."""
    f = doc["figures"]
    if part == "glucose":
        s = f.get("simglucose", {})
        return {"patient_days_per_cpu_second": {"hygeia_one_trajectory": s.get("hygeia_one_patient_days_per_cpu_second"),
                                                "hygeia_vectorized": s.get("hygeia_vectorized_patient_days_per_cpu_second"),
                                                "vectorized_samples": s.get("vectorized_samples"),
                                                "simglucose_same_scenario": s.get("simglucose_core_patient_days_per_cpu_second")},
                "max_abs_difference_vs_simglucose_mg_dl": s.get("max_abs_difference_mg_dl"),
                "calibration_cpu_seconds": _mean(_get(f, "calibration", "calibration_cpu_seconds")),
                "coverage_90": _get(f, "calibration", "prediction_interval_90_coverage"),
                "peak_rss_mib": f.get("process_peak_rss_mb")}
    if part == "pk":
        return {"patient_days_per_cpu_second": {
                    "anaesthetic_one": (_get(f, "speed", "anaesthetic_2h_one", "patient_hours_per_cpu_second") or 0) / 24,
                    "anaesthetic_vectorized": (_get(f, "speed", "anaesthetic_2h_vectorized",
                                                    "patient_hours_per_cpu_second") or 0) / 24,
                    "vancomycin_vectorized": _get(f, "speed", "vancomycin_3d_vectorized", "patient_days_per_cpu_second")},
                "max_relative_difference_vs_pytci": _get(f, "pytci", "max_relative_difference_vs_pytci_exact"),
                "pheno_theta_cl_v": (_get(f, "pheno", "theta") or [None, None])[:2],
                "pheno_fit_cpu_seconds": _get(f, "pheno", "cpu_seconds"),
                "calibration_cpu_seconds": _mean(_get(f, "vancomycin_calibration", "cpu_seconds_per_calibration")),
                "coverage_90": _mean(_get(f, "vancomycin_calibration", "coverage_90")),
                "peak_rss_mib": _get(f, "memory", "process_max_rss_mb")}
    if part == "bp":
        return {"patient_days_per_cpu_second": {k: _get(f, "speed", k, "patient_days_per_cpu_second")
                                                for k in ("daily_output", "hourly_output")},
                "calibration_cpu_seconds": _mean(_get(f, "coverage_90_well_specified", "cpu_seconds_per_calibration")),
                "coverage_90": {"well_specified": _mean(_get(f, "coverage_90_well_specified", "coverage")),
                                "misspecified": _mean(_get(f, "coverage_90_misspecified", "coverage")),
                                "hygeia_records": _get(f, "hygeia_records", "coverage")},
                "peak_rss_mib": _get(f, "memory", "process_max_rss_mb")}
    if part == "sepsis":
        return {"icu_patient_days_per_cpu_second": {p: _mean(_get(f, "monte_carlo", p, "icu_patient_days_per_cpu_second"))
                                                    for p in _get(f, "monte_carlo") or {}},
                "policy_values": {p: _get(f, "policy_values", p, "value") for p in ("random", "clinician", "optimal")},
                "calibration_cpu_seconds": None,  # nothing to calibrate: a SOFA score weights the start states
                "peak_rss_mib": _get(f, "memory", "process_max_rss_mb")}
    return {"ihdp_sqrt_pehe": {k: _mean(_get(f, "ihdp", "hygeia", k, "pehe_held_out")) for k in ("t", "s", "x", "dr")},
            "nhefs_kg": {k: _get(f, "nhefs", k, "estimate") for k in ("standardization", "ipw", "aipw")},
            "actg320_hazard_ratio": [_get(f, "actg320", "hazard_ratio"), _get(f, "actg320", "ci95")],
            "fit_cpu_seconds": _mean(_get(f, "ihdp", "hygeia", "t", "fit_cpu_seconds")),
            "coverage_90": _mean(_get(f, "ihdp", "pooled_coverage_90")),
            "peak_rss_mib": f.get("peak_rss_mib")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default=",".join(PARTS), help=f"which parts to run (default {','.join(PARTS)})")
    ap.add_argument("--gather", action="store_true", help="do not run the parts: gather their result files")
    ap.add_argument("--quick", action="store_true", help="toy sizes (a smoke run; use with --results-dir)")
    ap.add_argument("--results-dir", default=None,
                    help="where the part files go (default benchmarks/results/, the files the docs cite)")
    ap.add_argument("--out", default=None, help="summary file (default: twin.json in the results folder)")
    args = ap.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        ap.error(f"unknown --parts {','.join(unknown)}; choose among {','.join(PARTS)}")
    if args.quick and args.results_dir is None:
        ap.error("--quick writes toy figures: pass --results-dir DIR so the cited result files stay as they are")
    folder = Path(args.results_dir) if args.results_dir else _results.RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    docs: dict[str, Any] = {}
    for part in parts:
        path = folder / f"twin_{part}.json"
        if not args.gather:
            cmd = [sys.executable, str(HERE / f"twin_{part}.py"), *(QUICK[part] if args.quick else []), "--out", str(path)]
            print(f"twin: running {part} ({' '.join(cmd[1:])})", file=sys.stderr, flush=True)
            subprocess.run(cmd, check=True)
        if not path.exists():
            raise SystemExit(f"{path} does not exist: run benchmarks/twin_{part}.py (or leave --gather out)")
        docs[part] = json.loads(path.read_text())
    figures = {part: headline(part, doc) | {"source": {"file": f"twin_{part}.json", "command": doc.get("command"),
                                                        "commit": _get(doc, "git", "commit"), "date": doc.get("date")}}
               for part, doc in docs.items()}
    seeds = sorted({s for doc in docs.values() for s in doc.get("seeds", []) if isinstance(s, int)})
    out = _results.envelope("twin", seeds=seeds, sizes={"quick": args.quick, "parts": parts}, figures=figures,
                            argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(out, args.out or folder / "twin.json")
    return out


if __name__ == "__main__":
    main()
