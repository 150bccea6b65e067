"""Benchmark extraction on notes Hygeia writes from records; writes ``benchmarks/results/extract.json``.

For each report seed (default 101-105) it simulates ``--persons`` persons, writes their
notes (``hygeia.notes.write_notes``, same seed) and runs ``hygeia.notes.extract`` on
every note. Ground truth is the provenance of each note sentence (the event keys it
states, and its basis):

- recall by event kind: the share of the events a sentence states (conditions,
  medications, observations with a numeric value, procedures, immunizations,
  allergies) for which extraction finds, inside that sentence, a fact with the event's
  code in the event's system (SNOMED-CT, RxNorm, LOINC, CVX) and, for an observation, its value as written
  (to the rounding the note uses);
- negation: the share of absence sentences ("No known drug allergies.", "Takes no
  medications.") where every fact found is negated and at least one is found; and the
  share of found event facts wrongly flagged negated;
- precision proxy: the share of coded facts found in a sentence (a problem, drug, lab...
  with a code) whose code is one of the events that sentence states;
- throughput: characters per CPU second of ``extract`` over all notes (one process), and
  the time to load the shipped lexicon once;
- the recall of the facts listed for the 15 hand-written notes of other layouts in
  ``tests/unit/notes/data`` (written by the extractor's author, who tuned on them too:
  a check of layouts beyond Hygeia's templates, not a held-out measure), and of the 5
  held-out notes in ``tests/unit/notes/data/heldout`` (facts listed before the extractor
  first read them; not tuned on).

The extractor was tuned on seeds 1-5; this script refuses seeds 0-99 for the reported
figures. The notes come from Hygeia's own templates and vocabulary: the figures say
that extraction reads back what Hygeia writes, not how it does on real notes (see
``tests/unit/notes/data`` for hand-written notes of other layouts).

Usage::

    .venv/bin/python benchmarks/extract.py [--seeds 101,102,103,104,105] [--persons 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

TUNING_SEEDS = range(100)
_FACT_KINDS = ("problem", "medication", "allergy", "lab", "vital", "procedure", "immunization")
_KINDS = ("condition", "medication", "observation", "procedure", "immunization", "allergy")


def _notes_and_events(seed: int, persons: int, tmp: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    import pyarrow.parquet as pq

    from hygeia.core.config import RunConfig
    from hygeia.notes import event_key, write_notes
    from hygeia.population.generate import generate

    run, out = tmp / f"run{seed}", tmp / f"notes{seed}"
    generate(RunConfig(n=persons, seed=seed, out=str(run), workers=1), quiet=True)
    write_notes(run, out, seed=seed, quiet=True)
    notes = pq.read_table(out / "notes").to_pylist()
    events = {}
    for e in pq.read_table(run / "events").to_pylist():
        events[event_key(e)] = e
    return notes, events


def _hit(event: dict[str, Any], facts: list[Any]) -> tuple[bool, bool]:
    """Whether a fact states this event (right code, right value), and whether that fact is negated."""
    system = event["code_system"]
    for f in facts:
        codes = {c for s, c in f.codes if s == system}
        if event["code"] not in codes:
            continue
        if event["kind"] == "observation":
            if f.value is None or abs(f.value - event["numeric_value"]) > 0.051 + 0.5 * (f.value == round(f.value)):
                continue
        return True, f.negated
    return False, False


def _score(notes: list[dict[str, Any]], events: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from hygeia.notes import extract

    stated: Counter[str] = Counter()
    found: Counter[str] = Counter()
    wrongly_negated = 0
    absence = absence_ok = 0
    misses: Counter[str] = Counter()
    negated_examples: Counter[str] = Counter()
    unsupported: Counter[str] = Counter()
    coded = supported = 0
    for note in notes:
        text = note["text"]
        ex = extract(text)
        pos = 0
        for sent in json.loads(note["provenance"]):
            start = text.find(sent["text"], pos)
            if start < 0:
                raise RuntimeError(f"sentence not found in its note: {sent['text']!r}")
            end = pos = start + len(sent["text"])
            facts = [f for f in ex.facts if f.start < end and f.end > start]
            codes = {(e["code_system"], e["code"]) for e in map(events.get, sent["events"]) if e is not None}
            for f in facts:
                if f.kind in _FACT_KINDS and f.codes and f.concept not in ("any medication", "any allergy", "any problem"):
                    coded += 1
                    supported += bool(codes & set(f.codes))
                    if not codes & set(f.codes):
                        unsupported[f"{f.kind}: {f.text}"] += 1
            if sent["basis"] == "absence":
                absence += 1
                absence_ok += bool(facts) and all(f.negated for f in facts)
                continue
            for key in sent["events"]:
                e = events.get(key)
                if e is None or e["kind"] not in _KINDS:
                    continue
                if e["kind"] == "observation" and e["numeric_value"] is None:
                    continue
                stated[e["kind"]] += 1
                hit, negated = _hit(e, facts)
                found[e["kind"]] += hit
                wrongly_negated += hit and negated
                if hit and negated:
                    negated_examples[sent["text"]] += 1
                if not hit:
                    misses[f"{e['kind']}: {e['display']}"] += 1
    total, total_found = sum(stated.values()), sum(found.values())
    return {
        "recall_by_kind": {k: {"stated": stated[k], "found": found[k], "recall": round(found[k] / stated[k], 4)}
                           for k in sorted(stated)},
        "recall": round(total_found / total, 4) if total else None, "events_stated": total,
        "absence_sentences": absence, "absence_negated": round(absence_ok / absence, 4) if absence else None,
        "found_but_negated": wrongly_negated, "found_but_negated_examples": dict(negated_examples.most_common(5)),
        "top_misses": dict(misses.most_common(8)),
        "coded_facts": coded, "coded_facts_supported": round(supported / coded, 4) if coded else None,
        "top_unsupported": dict(unsupported.most_common(8)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="101,102,103,104,105", help="Report seeds (not 0-99, the tuning range).")
    ap.add_argument("--persons", type=int, default=10, help="Persons simulated per seed.")
    ap.add_argument("--tuning", action="store_true", help="Allow seeds 0-99 (tuning; never for reported figures).")
    ap.add_argument("--out", default=None, help="Result file (default benchmarks/results/extract.json).")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    tuned = [s for s in seeds if s in TUNING_SEEDS]
    if tuned and not args.tuning:
        ap.error(f"seeds {tuned} are tuning seeds (0-99) the extractor was tuned on; report on others, e.g. 101-105.")
    from hygeia.notes import _lexicon, extract
    from hygeia.notes._extract_eval import score_folder

    _lexicon.lexicon.cache_clear()
    started = time.perf_counter()
    lex = _lexicon.lexicon()
    load_seconds = time.perf_counter() - started
    per_seed, rates, absence, n_notes, n_chars = [], [], [], 0, 0
    pooled: dict[str, Counter[str]] = {"stated": Counter(), "found": Counter()}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            notes, events = _notes_and_events(seed, args.persons, Path(tmp))
            texts = [n["text"] for n in notes]
            started = time.process_time()
            for t in texts:
                extract(t)
            rates.append(sum(map(len, texts)) / (time.process_time() - started))
            score = _score(notes, events)
            per_seed.append({"seed": seed, "notes": len(notes), **score})
            n_notes += len(notes)
            n_chars += sum(map(len, texts))
            for k, v in score["recall_by_kind"].items():
                pooled["stated"][k] += v["stated"]
                pooled["found"][k] += v["found"]
            absence.append(score["absence_negated"])
    kinds = sorted(pooled["stated"])
    figures = {
        "recall": _results.spread([s["recall"] for s in per_seed]),
        "recall_by_kind": {k: round(pooled["found"][k] / pooled["stated"][k], 4) for k in kinds},
        "events_by_kind": {k: pooled["stated"][k] for k in kinds},
        "absence_negated": _results.spread(absence),
        "coded_facts_supported": _results.spread([s["coded_facts_supported"] for s in per_seed]),
        "found_but_negated": sum(s["found_but_negated"] for s in per_seed),
        "chars_per_cpu_second": _results.spread(rates, 0),
        "lexicon_load_seconds": round(load_seconds, 3),
        "hand_written_notes": score_folder(HERE.parent / "tests" / "unit" / "notes" / "data"),
        "hand_written_heldout": score_folder(HERE.parent / "tests" / "unit" / "notes" / "data" / "heldout"),
        "lexicon": {"concepts": len(lex.concepts), "surface_forms": lex.surfaces},
        "per_seed": per_seed,
    }
    sizes = {"persons_per_seed": args.persons, "notes": n_notes, "chars": n_chars}
    _results.write(_results.envelope("extract", seeds=seeds, sizes=sizes, figures=figures), args.out)
    print(json.dumps({k: v for k, v in figures.items() if k != "per_seed"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
