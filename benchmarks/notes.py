"""Benchmark writing clinical notes from records; writes ``benchmarks/results/notes.json``.

For each seed of ``--seeds``, generates one run (``--n`` persons, embedded modules, one
worker), then writes a note for every encounter with :func:`hygeia.notes.write_notes`
(the same seed, one process, no progress bar) and records the notes and sentences
written, wall and CPU seconds, notes per wall-second and per CPU-second, and the share
of sentences that state events (the others state an absence, such as "no known drug
allergies", standard advice, or a radiology report's protocol), and the share of
radiology reports whose FINDINGS cite a condition of the visit (the others state that
none is recorded). It also checks every sentence's provenance against
the run: ``unknown_event_keys`` counts cited event keys that the record does not hold
(0 expected). Figures are the mean and spread over the seeds.

Usage::

    .venv/bin/python benchmarks/notes.py [--n 50] [--seeds 1,2,3,4,5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results


def _measure_write(run: Path, out: Path, seed: int) -> dict:
    import pyarrow.parquet as pq

    from hygeia.notes import event_key, write_notes

    wall, cpu = time.perf_counter(), time.process_time()
    result = write_notes(run, out, seed=seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    persons = pq.read_table(run / "persons", columns=["subject_id", "birth_time"]).to_pylist()
    keys = {f"person/{p['subject_id']}/{p['birth_time']:%Y-%m-%dT%H:%M:%S.%f}" for p in persons}
    keys |= {event_key(e) for e in pq.read_table(run / "events", columns=["kind", "code", "time", "numeric_value"]).to_pylist()}
    sentences = stating = unknown = reports = with_findings = 0
    table = pq.read_table(out / "notes", columns=["kind", "provenance"])
    for kind, prov in zip(table.column("kind").to_pylist(), table.column("provenance").to_pylist()):
        found = False
        for s in json.loads(prov):
            sentences += 1
            stating += s["basis"] == "events"
            unknown += sum(k not in keys for k in s["events"])
            found |= s["section"] == "FINDINGS" and s["basis"] == "events"
        if kind == "radiology":
            reports += 1
            with_findings += found
    return {"notes": result.n_notes, "encounters": result.n_encounters, "sentences": sentences,
            "wall_seconds": wall, "cpu_seconds": cpu, "notes_per_second": result.n_notes / wall,
            "notes_per_cpu_second": result.n_notes / cpu, "sentences_per_note": sentences / result.n_notes,
            "share_of_sentences_stating_events": stating / sentences, "unknown_event_keys": unknown,
            "share_of_radiology_reports_with_findings": with_findings / reports if reports else float("nan"),
            **{f"notes_{k}": v for k, v in result.counts.items()}}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="persons per run (default 50)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="one run per seed (default 1..5)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/notes.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]

    from hygeia.population import generate

    rows = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            generate(n=args.n, seed=seed, out=run, workers=1)
            rows.append(_measure_write(run, Path(tmp) / "notes", seed))
            print(f"seed {seed}: {rows[-1]}", file=sys.stderr, flush=True)
    figures = {"write": {k: _results.spread([r[k] for r in rows], 3) for k in rows[0]}}
    doc = _results.envelope("notes", seeds=seeds, sizes={"persons_per_run": args.n}, figures=figures,
                            argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
