"""Calibrate a default population against the US targets; writes ``benchmarks/results/calibration.json``.

Generates ``--n`` persons (Hygeia's embedded modules, the ``us`` pack, the default
end date) with the report seed, measures every target of the pack
(:func:`hygeia.population.calibrate.measure_run`: prevalence, utilisation, the
pyramid and the final year's deaths) and runs the clinical plausibility rules of
``hygeia evaluate`` over the records. The modules were tuned on seeds 1-99; the
report seed (2026) is used for this file only.

Usage::

    .venv/bin/python benchmarks/calibration.py [--n 20000] [--seed 2026] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

_ROW_KEYS = ("measure", "unit", "age_band", "sex", "target", "simulated", "ci_low", "ci_high", "relative_error",
             "tolerance", "status")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000, help="persons to generate (default 20000)")
    ap.add_argument("--seed", type=int, default=2026, help="run seed (default 2026, never used for tuning)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/calibration.json)")
    args = ap.parse_args(argv)

    from hygeia.evaluate.plausibility import check_plausibility
    from hygeia.population import generate
    from hygeia.population.calibrate import measure_run

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        t = time.perf_counter()
        generate(n=args.n, seed=args.seed, out=run, workers=args.workers)
        wall = time.perf_counter() - t
        report = measure_run(run)
        plaus = check_plausibility(run, follow_up_end=report["end"])
    rows = [{k: r[k] for k in _ROW_KEYS} for r in report["rows"]]
    figures = {
        "summary": {k.replace(" ", "_"): v for k, v in report["summary"].items()},
        "alive_at_end": report["alive_at_end"],
        "generate_wall_seconds": round(wall, 1),
        "plausibility": {"checked": plaus["total_checked"], "violations": plaus["total_violations"],
                         "rules_violated": [r["id"] for r in plaus["rules"] if r["violations"]]},
        "not_passing": [r for r in rows if r["status"] != "pass"],
        "rows": rows,
        "deaths_window": report["plots"]["deaths"]["window"],
    }
    doc = _results.envelope(
        "calibration", seeds=[args.seed], sizes={"persons": args.n, "workers": args.workers},
        figures=figures, argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)],
    )
    _results.write(doc, args.out)
    s = report["summary"]
    print(f"{s['targets']} targets: {s['pass']} pass, {s['within noise']} within noise, {s['fail']} fail; "
          f"{plaus['total_violations']} plausibility violations", file=sys.stderr)
    return doc


if __name__ == "__main__":
    main()
