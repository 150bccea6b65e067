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

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _parts

PARTS = ("glucose", "pk", "bp", "sepsis", "effects")
#: Toy sizes per part for --quick (argparse: the last value of an option wins).
QUICK = {
    "glucose": ["--quick"],
    "pk": ["--patients", "2", "--n", "20", "--synthetic", "10", "--seeds", "1"],
    "bp": ["--n", "50", "--patients", "20", "--seeds", "1"],
    "sepsis": ["--episodes", "500", "--seeds", "1"],
    "effects": ["--reps", "1", "--boot", "5", "--no-econml"],
}


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
                "calibration_cpu_seconds": _mean(_parts.get(f, "calibration", "calibration_cpu_seconds")),
                "coverage_90": _parts.get(f, "calibration", "prediction_interval_90_coverage"),
                "peak_rss_mib": f.get("process_peak_rss_mb")}
    if part == "pk":
        return {"patient_days_per_cpu_second": {
                    "anaesthetic_one": (_parts.get(f, "speed", "anaesthetic_2h_one", "patient_hours_per_cpu_second") or 0) / 24,
                    "anaesthetic_vectorized": (_parts.get(f, "speed", "anaesthetic_2h_vectorized",
                                                    "patient_hours_per_cpu_second") or 0) / 24,
                    "vancomycin_vectorized": _parts.get(f, "speed", "vancomycin_3d_vectorized", "patient_days_per_cpu_second")},
                "max_relative_difference_vs_pytci": _parts.get(f, "pytci", "max_relative_difference_vs_pytci_exact"),
                "pheno_theta_cl_v": (_parts.get(f, "pheno", "theta") or [None, None])[:2],
                "pheno_fit_cpu_seconds": _parts.get(f, "pheno", "cpu_seconds"),
                "calibration_cpu_seconds": _mean(_parts.get(f, "vancomycin_calibration", "cpu_seconds_per_calibration")),
                "coverage_90": _mean(_parts.get(f, "vancomycin_calibration", "coverage_90")),
                "peak_rss_mib": _parts.get(f, "memory", "process_max_rss_mb")}
    if part == "bp":
        return {"patient_days_per_cpu_second": {k: _parts.get(f, "speed", k, "patient_days_per_cpu_second")
                                                for k in ("daily_output", "hourly_output")},
                "calibration_cpu_seconds": _mean(_parts.get(f, "coverage_90_well_specified", "cpu_seconds_per_calibration")),
                "coverage_90": {"well_specified": _mean(_parts.get(f, "coverage_90_well_specified", "coverage")),
                                "misspecified": _mean(_parts.get(f, "coverage_90_misspecified", "coverage")),
                                "hygeia_records": _parts.get(f, "hygeia_records", "coverage")},
                "peak_rss_mib": _parts.get(f, "memory", "process_max_rss_mb")}
    if part == "sepsis":
        return {"icu_patient_days_per_cpu_second": {p: _mean(_parts.get(f, "monte_carlo", p, "icu_patient_days_per_cpu_second"))
                                                    for p in _parts.get(f, "monte_carlo") or {}},
                "policy_values": {p: _parts.get(f, "policy_values", p, "value") for p in ("random", "clinician", "optimal")},
                "calibration_cpu_seconds": None,  # nothing to calibrate: a SOFA score weights the start states
                "peak_rss_mib": _parts.get(f, "memory", "process_max_rss_mb")}
    return {"ihdp_sqrt_pehe": {k: _mean(_parts.get(f, "ihdp", "hygeia", k, "pehe_held_out")) for k in ("t", "s", "x", "dr")},
            "nhefs_kg": {k: _parts.get(f, "nhefs", k, "estimate") for k in ("standardization", "ipw", "aipw")},
            "actg320_hazard_ratio": [_parts.get(f, "actg320", "hazard_ratio"), _parts.get(f, "actg320", "ci95")],
            "fit_cpu_seconds": _mean(_parts.get(f, "ihdp", "hygeia", "t", "fit_cpu_seconds")),
            "coverage_90": _mean(_parts.get(f, "ihdp", "pooled_coverage_90")),
            "peak_rss_mib": f.get("peak_rss_mib")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return _parts.main("twin", PARTS, QUICK, headline, __doc__, argv)


if __name__ == "__main__":
    main()
