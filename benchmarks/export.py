"""Benchmark the exporters and the FHIR validator; writes ``benchmarks/results/export.json``.

For each seed of ``--seeds``, generates one run (``--n`` persons, embedded modules,
one worker), then exports it to every registered format, each export in a fresh
process, and records per format the records written (resources for FHIR, rows for
OMOP/MEDS/CSV; events an exporter counts as skipped are not records), wall and CPU
seconds, records per wall-second and the peak resident memory of that process.
``--formats`` measures only the formats named. Then it validates the NDJSON export with
``validate_fhir`` (one worker), with Hygeia's rules and without them, and records
microseconds of wall time per resource. With ``fhir`` among the formats it also exports
``fhir`` with ``max_entries=--max-entries`` (transaction Bundles a server accepts) and
records, for both, the Bundles written and the largest Bundle's entries and MiB; with
``--load-twice`` it loads the split Bundles twice into the test suite's FHIR transaction
processor over DuckDB (tests/unit/export/_fhir_store.py: conditional creates, conditional
references) and records the resources stored after each load and the seconds. Figures are
the mean and spread over the seeds. With ``--omop-url`` (or HYGEIA_TEST_POSTGRES_URL set) the OMOP export into
PostgreSQL is measured too. With ``omop`` among the formats it also exports OMOP with the vocabulary
fixture (``--vocabulary tests/data/omop_vocabulary``, key ``omop_vocabulary_fixture``; the plain
``omop`` export maps through Hygeia's own vocabulary) and records, for both, the share of clinical rows
with a standard concept and the rows in a table other than their concept's domain's.

Usage::

    .venv/bin/python benchmarks/export.py [--n 300] [--seeds 1,2,3,4,5] [--omop-url postgresql://...]
    .venv/bin/python benchmarks/export.py --formats csv,synthea-csv --out benchmarks/results/export_synthea_csv.json
    .venv/bin/python benchmarks/export.py --formats fhir --n 100 --seeds 1,2,3,4,5 --load-twice \
        --out benchmarks/results/export_fhir_servers.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

_EXPORT_PROBE = r"""
import json, sys, time
from hygeia.export import export
def hwm():  # this process's peak resident KiB (ru_maxrss would count the parent's size at fork)
    return int([l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1])
run, fmt, out, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
base = hwm()
wall, cpu = time.perf_counter(), time.process_time()
counts = export(run, fmt, out, **options)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = hwm()
records = sum(v for k, v in counts.items() if isinstance(v, int) and not k.startswith("skipped"))
print(json.dumps({"records": records, "wall_seconds": wall, "cpu_seconds": cpu,
                  "peak_rss_mib": peak / 1024, "rss_before_export_mib": base / 1024}))
"""


def _timed_export(run: Path, fmt: str, out: Path, **options) -> dict:
    proc = subprocess.run([sys.executable, "-c", _EXPORT_PROBE, str(run), fmt, str(out), json.dumps(options)],
                          check=True, capture_output=True, text=True)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["records_per_second"] = res["records"] / res["wall_seconds"]
    return res


def _bundle_sizes(folder: Path) -> dict:
    """Bundles in a ``fhir`` export, and the largest one's entries and size."""
    sizes = [(p.read_text(encoding="utf-8").count('"request":{'), p.stat().st_size) for p in folder.glob("*.json")]
    return {"bundles": len(sizes), "largest_bundle_entries": max(n for n, _ in sizes),
            "largest_bundle_mib": max(b for _, b in sizes) / 2**20}


def _load_twice(folder: Path) -> dict:
    """Load a ``fhir`` export's Bundles twice (file-name order) into a fresh DuckDB FHIR store."""
    import duckdb

    sys.path.insert(0, str(HERE.parent / "tests" / "unit" / "export"))
    from _fhir_store import FhirStore

    store = FhirStore(duckdb.connect())
    files = sorted(folder.glob("*.json"))
    out: dict = {}
    for k in ("first", "second"):
        wall = time.perf_counter()
        for f in files:
            store.transaction(json.loads(f.read_text(encoding="utf-8")))
        out[f"{k}_load_seconds"] = time.perf_counter() - wall
        out[f"resources_after_{k}_load"] = sum(store.counts().values())
    out["dangling_references"] = len(store.dangling())
    out["resources_per_second_first_load"] = out["resources_after_first_load"] / out["first_load_seconds"]
    return out


_OMOP_DOMAINS = {"condition_occurrence": ("condition_concept_id", "Condition"),
                 "drug_exposure": ("drug_concept_id", "Drug"),
                 "procedure_occurrence": ("procedure_concept_id", "Procedure"),
                 "measurement": ("measurement_concept_id", "Measurement"),
                 "observation": ("observation_concept_id", "Observation"),
                 "device_exposure": ("device_concept_id", "Device")}


def _omop_mapping(path: Path) -> dict:
    """Share of clinical rows with a standard concept, and rows in the wrong domain's table."""
    import duckdb

    rows = mapped = wrong = 0
    with duckdb.connect(str(path), read_only=True) as con:
        for table, (column, domain) in _OMOP_DOMAINS.items():
            n, m, w = con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {column} <> 0), "
                f"count(*) FILTER (WHERE {column} <> 0 AND c.domain_id <> '{domain}') "
                f"FROM {table} LEFT JOIN concept c ON c.concept_id = {column}").fetchall()[0]
            rows, mapped, wrong = rows + n, mapped + m, wrong + w
    return {"clinical_rows": rows, "standard_concept_share": mapped / rows, "wrong_domain_rows": wrong}


def _timed_validation(folder: Path, rules: bool) -> dict:
    from hygeia.export.fhir._validate import validate_fhir

    wall = time.perf_counter()
    report = validate_fhir(folder, workers=1, rules=rules)
    wall = time.perf_counter() - wall
    n = sum(report.by_type.values())
    return {"resources": n, "wall_seconds": wall, "microseconds_per_resource": 1e6 * wall / n,
            "errors": len(report.errors)}


def _summarise(rows: list[dict]) -> dict:
    keys = [k for k, v in rows[0].items() if isinstance(v, (int, float))]
    return {k: _results.spread([r[k] for r in rows], 2) for k in keys}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="persons per run (default 300)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="one run per seed (default 1..5)")
    ap.add_argument("--omop-url", default=os.environ.get("HYGEIA_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    ap.add_argument("--max-entries", type=int, default=500,
                    help="also export fhir with this max_entries (default 500, a common server cap)")
    ap.add_argument("--load-twice", action="store_true",
                    help="with fhir: load the max-entries Bundles twice into a DuckDB FHIR store (tests' processor)")
    ap.add_argument("--formats", default=None, help="comma-separated formats to measure (default: every registered one)")
    ap.add_argument("--out", default=None,
                    help="result file (default benchmarks/results/export.json); its stem names the benchmark")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]

    from hygeia.export import EXPORTERS
    from hygeia.population import generate

    formats = sorted(EXPORTERS) if not args.formats else [f for f in args.formats.split(",") if f]
    unknown = sorted(set(formats) - set(EXPORTERS))
    if unknown:
        ap.error(f"unknown --formats {unknown}; choose among {sorted(EXPORTERS)}")
    rows: dict[str, list[dict]] = {}
    events = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            events.append(generate(n=args.n, seed=seed, out=run, workers=1).n_events)
            for fmt in formats:
                out = Path(tmp) / ("omop.duckdb" if fmt == "omop" else fmt)
                rows.setdefault(fmt, []).append(_timed_export(run, fmt, out))
                if fmt == "omop":
                    rows[fmt][-1].update(_omop_mapping(out))
                    key, fixture = "omop_vocabulary_fixture", Path(tmp) / "omop_fixture.duckdb"
                    rows.setdefault(key, []).append(
                        _timed_export(run, fmt, fixture, vocabulary=str(HERE.parent / "tests" / "data" / "omop_vocabulary")))
                    rows[key][-1].update(_omop_mapping(fixture))
                    print(f"seed {seed} {key}: {rows[key][-1]}", file=sys.stderr, flush=True)
                if fmt == "fhir":
                    rows[fmt][-1].update(_bundle_sizes(out))
                    key, split = f"fhir_max_entries_{args.max_entries}", Path(tmp) / "fhir-split"
                    rows.setdefault(key, []).append(_timed_export(run, fmt, split, max_entries=args.max_entries))
                    rows[key][-1].update(_bundle_sizes(split))
                    if args.load_twice:
                        rows[key][-1].update(_load_twice(split))
                    print(f"seed {seed} {key}: {rows[key][-1]}", file=sys.stderr, flush=True)
                print(f"seed {seed} {fmt}: {rows[fmt][-1]}", file=sys.stderr, flush=True)
            if args.omop_url and "omop" in formats:
                rows.setdefault("omop-postgresql", []).append(
                    _timed_export(run, "omop", Path(tmp) / "unused", omop_url=args.omop_url, overwrite=True))
            if "ndjson" in formats:
                for rules in (True, False):
                    key = "validate_fhir_rules" if rules else "validate_fhir_structure_only"
                    rows.setdefault(key, []).append(_timed_validation(Path(tmp) / "ndjson", rules))
                    print(f"seed {seed} {key}: {rows[key][-1]}", file=sys.stderr, flush=True)
    figures = {"events": _results.spread(events, 1), **{k: _summarise(v) for k, v in rows.items()}}
    doc = _results.envelope(
        Path(args.out).stem if args.out else "export", seeds=seeds, sizes={"persons_per_run": args.n}, figures=figures,
        argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)], omop_postgresql=bool(args.omop_url),
        max_entries=args.max_entries,
    )
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
