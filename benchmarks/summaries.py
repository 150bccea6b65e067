"""Benchmark summaries of hospital stays; writes ``benchmarks/results/summaries.json``.

For each seed of ``--seeds``, generates one run (``--n`` persons, embedded modules, one
worker) and takes every inpatient stay. For each stay and each kind (discharge summary,
patient instructions, insurance letter) it writes the summary from the record
(:func:`hygeia.notes.stay_from_record` then :func:`hygeia.notes.summarize`, the default
faithful writer) and records:

- summaries per CPU-second, by kind (the stay read from the record each time);
- ``share_sentences_supported``: the share of summary sentences whose every cited event
  key is an event (or the person) of the record: 1.0 means no unsupported fact, the
  check is computed, not assumed; ``unsupported_sentences`` counts the others;
- the Flesch-Kincaid grade of the patient instructions (mean and max over stays).

The notes path: for each stay, the notes Hygeia writes for it (admission H&P and discharge
summary, :func:`hygeia.notes.note_for_encounter`, wording seed = the run's seed) are read
back (:func:`hygeia.notes.stay_from_notes`: extraction, asserted facts only) and a
discharge summary is written from them; ROUGE-1/2/L (F1, recall, precision) score it
against the reference, the discharge summary written from the record. That measures the
information kept through notes and extraction (1.0 = all of it, word for word). Also
``notes_spans_valid``: the share of cited spans that lie inside their note and cover text,
and ``notes_guard_flags``: what :func:`hygeia.notes.check_faithfulness` (the guard, which
re-extracts the summary and compares it with the notes) flags in the summaries of every
kind written from those notes (unsupported concepts, flipped negations, numbers or dates
absent from the notes, omitted critical facts: allergies, medications, follow-up; for an
insurance letter, medications), out of ``notes_guard_checked_summaries``.

Usage::

    .venv/bin/python benchmarks/summaries.py [--n 200] [--seeds 101,102,103,104,105]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

KINDS = ("discharge", "instructions", "insurance")


def _records(run: Path) -> tuple[dict[int, dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    from hygeia.core.storage import read_records

    persons_table, events_table = read_records(run)  # the run's shards, conformed to the schemas
    persons = {p["subject_id"]: p for p in persons_table.to_pylist()}
    events: dict[int, list[dict[str, Any]]] = {}
    for e in events_table.to_pylist():
        events.setdefault(e["subject_id"], []).append(e)
    return persons, events


def _measure(run: Path, seed: int) -> dict[str, Any]:
    from hygeia.notes import (
        check_faithfulness,
        event_key,
        find_stays,
        note_for_encounter,
        rouge,
        stay_from_notes,
        stay_from_record,
        summarize,
    )
    from hygeia.notes._guard import CRITICAL_BY_KIND
    from hygeia.notes._summary_io import note_names

    persons, events = _records(run)
    stays = [(sid, e["encounter_id"]) for sid, mine in sorted(events.items())
             for e in find_stays(mine, ("inpatient",))]
    if not stays:
        raise SystemExit(f"no inpatient stay among the {len(persons)} persons of seed {seed}: pass a larger --n.")
    row: dict[str, Any] = {"stays": len(stays)}
    keys = {sid: {event_key(e) for e in mine} | {f"person/{sid}/{persons[sid]['birth_time']:%Y-%m-%dT%H:%M:%S.%f}"}
            for sid, mine in events.items()}
    sentences = unsupported = 0
    grades: list[float] = []
    references = {}
    for kind in KINDS:
        cpu = time.process_time()
        written = [(sid, summarize(stay_from_record(persons[sid], events[sid], eid), kind)) for sid, eid in stays]
        cpu = time.process_time() - cpu
        row[f"{kind}_per_cpu_second"] = len(written) / cpu if cpu else float("nan")
        for (sid, s), (_, eid) in zip(written, stays):
            for x in s.sentences:
                sentences += 1
                unsupported += not set(x.events) <= keys[sid]
            if kind == "instructions":
                grades.append(s.readability().grade)
            if kind == "discharge":
                references[(sid, eid)] = s
    row.update(sentences=sentences, unsupported_sentences=unsupported,
               share_sentences_supported=(sentences - unsupported) / sentences if sentences else float("nan"),
               instructions_grade_mean=statistics.fmean(grades), instructions_grade_max=max(grades))

    scores: dict[str, list[float]] = {}
    spans = valid = flagged = flags = checked = 0
    cpu_notes = 0.0
    for sid, eid in stays:
        notes = note_for_encounter(persons[sid], events[sid], eid, seed=seed)
        texts = note_names([{"kind": n.kind, "text": n.text} for n in notes])  # every note, radiology reports too
        cpu = time.process_time()
        candidate = summarize(stay_from_notes(texts), "discharge")
        cpu_notes += time.process_time() - cpu
        for x in candidate.sentences:
            for key in x.events:
                name, _, span = key.rpartition(":")
                start, end = (int(v) for v in span.split("-"))
                spans += 1
                valid += name in texts and 0 <= start < end <= len(texts[name]) and bool(texts[name][start:end].strip())
        for kind in KINDS:  # each kind checked with the facts it must keep (CRITICAL_BY_KIND)
            text = candidate.text if kind == "discharge" else summarize(stay_from_notes(texts), kind).text
            report = check_faithfulness(list(texts.values()), text, critical=CRITICAL_BY_KIND[kind])
            flags += len(report.flags)
            flagged += bool(report.flags)
            checked += 1
        for variant, score in rouge(candidate.body, references[(sid, eid)].body).items():
            for part in ("f1", "recall", "precision"):
                scores.setdefault(f"{variant}_{part}", []).append(getattr(score, part))
    row["notes_discharge_per_cpu_second"] = len(stays) / cpu_notes if cpu_notes else float("nan")
    row["notes_spans_valid"] = valid / spans if spans else float("nan")
    row["notes_guard_flags"] = flags
    row["notes_guard_flagged_summaries"] = flagged
    row["notes_guard_checked_summaries"] = checked
    row.update({f"notes_{k}": statistics.fmean(v) for k, v in scores.items()})
    return row


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="persons per run (default 200)")
    ap.add_argument("--seeds", default="101,102,103,104,105", help="one run per seed (default 101..105)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/summaries.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]

    from hygeia.population import generate

    rows = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            generate(n=args.n, seed=seed, out=run, workers=1)
            rows.append(_measure(run, seed))
            print(f"seed {seed}: {rows[-1]}", file=sys.stderr, flush=True)
    figures = {"record": {k: _results.spread([r[k] for r in rows], 4) for k in rows[0] if not k.startswith("notes_")},
               "notes": {k.removeprefix("notes_"): _results.spread([r[k] for r in rows], 4)
                         for k in rows[0] if k.startswith("notes_")}}
    doc = _results.envelope("summaries", seeds=seeds, sizes={"persons_per_run": args.n}, figures=figures,
                            argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)],
                            stays="every inpatient stay of each run; kinds: " + ", ".join(KINDS))
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
