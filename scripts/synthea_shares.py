"""Shares of persons with the conditions of issue 11 in a run of Synthea's corpus, with Wilson intervals.

Generates ``--n`` persons with every module of ``--corpus`` (Hygeia's own modules off),
then prints, per condition, the persons who ever had it (diagnosed conditions, any
module) and the Wilson 95% interval, plus the range of recorded HbA1c values.

Usage::

    .venv/bin/python scripts/synthea_shares.py [--n 1000] [--seed 20240601] [--corpus ../shared/synthea/modules]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

#: SNOMED CT codes of the conditions compared (Synthea's codes for them in its corpus).
CONDITIONS = {
    "type 2 diabetes": ("44054006",),
    "prediabetes": ("714628002", "15777000"),
    "anemia": ("271737000",),
    "myocardial infarction": ("22298006", "401303003", "401314000"),
    "stable ischemic heart disease": ("414545008",),
    "stroke": ("230690007",),
    "atrial fibrillation": ("49436004",),
}


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of k successes in n trials."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def shares(out: str) -> dict:
    from hygeia.core.storage import connect

    con = connect(out)
    (n,) = con.execute("SELECT count(*) FROM persons").fetchone()
    rows = {}
    for name, codes in CONDITIONS.items():
        q = ",".join(f"'{c}'" for c in codes)
        (k,) = con.execute(
            f"SELECT count(DISTINCT subject_id) FROM events WHERE kind='condition' AND code IN ({q})").fetchone()
        lo, hi = wilson(k, n)
        rows[name] = {"persons": k, "share": round(k / n, 4), "wilson95": [round(lo, 4), round(hi, 4)]}
    hb = con.execute(
        "SELECT min(numeric_value), max(numeric_value), count(*), count(DISTINCT unit) FROM events "
        "WHERE kind='observation' AND code='4548-4'").fetchone()
    con.close()
    return {"n": n, "conditions": rows, "hba1c": {"min": hb[0], "max": hb[1], "count": hb[2]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--corpus", default="synthea", help="module folder (default: Synthea's corpus shipped with Hygeia)")
    args = ap.parse_args()
    from hygeia.population.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        t = time.time()
        r = generate(n=args.n, seed=args.seed, out=str(Path(tmp) / "run"), modules=[args.corpus],
                     default_modules=False, workers=args.workers)
        result = shares(r.out)
        result["wall_s"] = round(time.time() - t, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
