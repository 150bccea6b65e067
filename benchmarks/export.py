"""Benchmark the exporters; prints JSON.

Generates one run (``--n`` persons, embedded modules, seed 1), then exports it
to every registered format and reports, per format, the records written
(resources for FHIR, rows for OMOP/MEDS/CSV), the seconds (wall and CPU) and
records per second. With ``--omop-url`` (or HYGEIA_TEST_POSTGRES_URL set) the
OMOP export into PostgreSQL is measured too.

Usage::

    python benchmarks/export.py [--n 500] [--omop-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def _timed_export(run: Path, fmt: str, out: Path, **options) -> dict:
    from hygeia.export import export

    wall, cpu = time.perf_counter(), time.process_time()
    counts = export(run, fmt, out, **options)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    records = sum(v for v in counts.values() if isinstance(v, int))
    return {
        "records": records,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "records_per_second": round(records / wall, 1) if wall else None,
        "counts": counts,
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="persons in the run (default 500)")
    ap.add_argument("--omop-url", default=os.environ.get("HYGEIA_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    args = ap.parse_args(argv)

    from hygeia.export import EXPORTERS
    from hygeia.population import generate

    result = {"benchmark": "export", "python": sys.version.split()[0], "n_persons": args.n, "formats": {}}
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        r = generate(n=args.n, seed=1, out=run, workers=1)
        result["n_events"] = r.n_events
        for fmt in sorted(EXPORTERS):
            out = Path(tmp) / ("omop.duckdb" if fmt == "omop" else fmt)
            result["formats"][fmt] = _timed_export(run, fmt, out)
        if args.omop_url and "omop" in EXPORTERS:
            result["formats"]["omop-postgresql"] = _timed_export(
                run, "omop", Path(tmp) / "unused", omop_url=args.omop_url, overwrite=True)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
