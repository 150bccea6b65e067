"""Benchmark de-identification; writes ``benchmarks/results/deid.json``.

For each report seed (default 101-105), writes ``--notes`` notes with planted PHI of every
Safe Harbor type (``hygeia.notes.planted_notes``), finds the identifiers with
``find_phi`` and scores recall and precision by type (span overlap, same type, exact
bounds) with ``score_deid``; figures are the pooled scores over all seeds and the
spread of the per-seed ALL row. Throughput: characters per second of ``deidentify``
(finding and replacing) over the same notes, one process, one thread.

The rules were tuned on generator seeds 0-99; this script refuses them, so the report
is never measured on the notes the rules were tuned on. Note that the report notes come
from the same templates as the tuning notes (new values, new combinations): the figures
show the rules cover the template formats, not how they do on real clinical notes.

With ``--records N`` (default 30; 0 to skip), it also simulates N persons, writes their
notes with ``hygeia.notes.write_notes`` (when that exists) and counts what ``find_phi``
finds there: those notes carry no names or numbers, so every span of another type than
DATE or AGE is a false positive; ages over 89 are checked against "N-year-old" phrases.

Usage::

    .venv/bin/python benchmarks/deid.py [--seeds 101,102,103,104,105] [--notes 40] [--records 10]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

TUNING_SEEDS = range(100)


def _planted(seeds: list[int], n_notes: int) -> dict:
    from hygeia.notes import deidentify, find_phi, planted_notes, score_deid

    gold, pred, per_seed, rates = [], [], [], []
    for seed in seeds:
        notes = planted_notes(n_notes, seed=seed)
        g = [n.spans for n in notes]
        p = [find_phi(n.text) for n in notes]
        gold += g
        pred += p
        per_seed.append(score_deid(g, p)["ALL"])
        texts = [n.text for n in notes]
        started = time.process_time()
        deidentify(texts, seed=seed)
        rates.append(sum(map(len, texts)) / (time.process_time() - started))
    pooled = score_deid(gold, pred)
    spread = {k: _results.spread([s[k] for s in per_seed]) for k in ("recall", "precision", "recall_exact")}
    by_type = {k: v for k, v in pooled.items() if k != "ALL"}
    targets = {"recall": 0.99, "precision": 0.9}
    failing = [k for k, v in by_type.items() if v["recall"] < targets["recall"] or v["precision"] < targets["precision"]]
    return {"pooled": pooled, "per_seed_all": spread, "chars_per_cpu_second": _results.spread(rates, 0),
            "targets": targets, "types_below_target": failing, "n_types": len(by_type)}


def _written_notes(n_persons: int) -> dict | None:
    import hygeia.notes as notes_pkg

    if not hasattr(notes_pkg, "write_notes"):
        return None
    import pyarrow.parquet as pq

    from hygeia.core.config import RunConfig
    from hygeia.notes import find_phi
    from hygeia.population.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        generate(RunConfig(n=n_persons, seed=2026, out=str(run), workers=1), quiet=True)
        notes_pkg.write_notes(run, Path(tmp) / "notes", seed=2026, quiet=True)
        texts = pq.read_table(Path(tmp) / "notes" / "notes").column("text").to_pylist()
    found: Counter[str] = Counter()
    old_ages = found_ages = 0
    started = time.process_time()
    for text in texts:
        spans = find_phi(text)
        found.update(s.type for s in spans)
        ages = {m.start(1) for m in re.finditer(r"\b(\d+)-year-old", text) if int(m.group(1)) > 89}
        old_ages += len(ages)
        found_ages += len(ages & {s.start for s in spans if s.type == "AGE"})
    seconds = time.process_time() - started
    return {"n_notes": len(texts), "n_chars": sum(map(len, texts)), "spans_by_type": dict(found),
            "spans_not_date_or_age": sum(v for k, v in found.items() if k not in ("DATE", "AGE")),
            "ages_over_89": old_ages, "ages_over_89_found": found_ages,
            "chars_per_cpu_second": round(sum(map(len, texts)) / seconds)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="101,102,103,104,105", help="Report seeds of the planted-PHI generator (not 0-99).")
    ap.add_argument("--notes", type=int, default=40, help="Planted notes per seed.")
    ap.add_argument("--records", type=int, default=30, help="Persons whose written notes are checked (0: skip).")
    ap.add_argument("--out", default=None, help="Result file (default benchmarks/results/deid.json).")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    tuned = [s for s in seeds if s in TUNING_SEEDS]
    if tuned:
        ap.error(f"seeds {tuned} are tuning seeds (0-99) the rules were tuned on; report on others, e.g. 101-105.")
    figures = {"planted": _planted(seeds, args.notes)}
    if args.records:
        figures["written_notes"] = _written_notes(args.records)
    sizes = {"notes_per_seed": args.notes, "phi_sentences_per_note": 12, "persons_for_written_notes": args.records}
    _results.write(_results.envelope("deid", seeds=seeds, sizes=sizes, figures=figures), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
