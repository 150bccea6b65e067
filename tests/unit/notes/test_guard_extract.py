"""The faithfulness guard through real extraction: a hand-written note, faithful and unfaithful rewrites,
the planted errors of every type, and the saved outputs of a real language model (tests/unit/notes/data/llm)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hygeia.notes import extract
from hygeia.notes._guard import check_faithfulness, guarded
from hygeia.notes._hallucinate import ERROR_TYPES, plant_errors, score_planted

NOTE = """Discharge Summary

ADMISSION DATE:
2021-04-02.

DISCHARGE DATE:
2021-04-05.

DISCHARGE DIAGNOSES:
Community acquired pneumonia.

BRIEF HOSPITAL COURSE:
The patient, a 67-year-old man, was admitted with community acquired pneumonia. He denies chest pain.

DISCHARGE MEDICATIONS:
Amoxicillin 500 mg oral three times daily. Lisinopril 10 mg oral daily.

ALLERGIES:
Allergic to penicillin.

FOLLOW-UP:
See the primary care physician on 2021-04-12.
"""

FAITHFUL = ("Admitted 2021-04-02 with community acquired pneumonia and discharged 2021-04-05. He denies chest pain. "
            "Discharge medications: amoxicillin 500 mg oral three times daily and lisinopril 10 mg oral daily. "
            "Allergic to penicillin. Follow-up with the primary care physician on 2021-04-12.")

LLM = Path(__file__).resolve().parent / "data" / "llm"


def test_faithful_rewrite_passes():
    r = check_faithfulness(NOTE, FAITHFUL)
    assert r.ok, [(f.kind, f.text, f.reason) for f in r.flags]
    assert r.precision == 1.0 and r.recall == 1.0 and len(r.critical) >= 4


def test_note_against_itself_passes():
    assert check_faithfulness(NOTE, NOTE).ok


@pytest.mark.parametrize(("wrong", "kind"), [
    ("lisinopril 20 mg oral daily", "value"),
    ("metformin 10 mg oral daily", "unsupported"),
    ("He reports chest pain.", "negation"),
    ("on 2021-04-19.", "date"),
    ("community acquired pneumonia and sepsis", "unsupported"),
])
def test_each_error_is_flagged(wrong, kind):
    right = {"value": "lisinopril 10 mg oral daily", "unsupported": "lisinopril 10 mg oral daily",
             "negation": "He denies chest pain.", "date": "on 2021-04-12."}.get(kind, "community acquired pneumonia")
    if wrong.startswith("community"):
        right = "community acquired pneumonia"
    text = FAITHFUL.replace(right, wrong, 1)
    assert text != FAITHFUL
    r = check_faithfulness(NOTE, text)
    start = text.index(wrong)
    hits = [f for f in r.flags if f.start is not None and f.start < start + len(wrong) and start < f.end]
    assert kind in [f.kind for f in hits], [(f.kind, f.text) for f in r.flags]
    assert r.precision < 1.0


def test_dropping_the_allergy_is_an_omission():
    r = check_faithfulness(NOTE, FAITHFUL.replace(" Allergic to penicillin.", ""))
    assert [(f.kind, f.source_fact.concept) for f in r.flags] == [("omission", "penicillin")]
    assert r.recall < 1.0


def test_planted_errors_on_the_note_are_all_caught():
    src = extract(NOTE)
    errors = plant_errors(NOTE, src.facts, seed=5, per_type=3, drugs=["metformin", "atorvastatin", "warfarin"])
    assert {e.type for e in errors} == set(ERROR_TYPES)
    score = score_planted(errors, lambda t: check_faithfulness(src, t))
    assert score["ALL"]["share"] == 1.0, score["missed"]


def test_guarded_repairs_a_real_text():
    facts = extract(NOTE)
    g = guarded(lambda f: FAITHFUL + " He also has sepsis.", facts)
    assert g.action == "repaired" and g.text == FAITHFUL and g.final.ok
    g = guarded(lambda f: FAITHFUL.replace("Allergic to penicillin.", "No known allergies."), facts,
                fallback=lambda f: FAITHFUL)
    assert g.action == "fallback" and g.report.by_kind()["negation"] == 1


def _saved():
    return [json.loads(p.read_text()) for p in sorted(LLM.glob("*.json"))]


def test_saved_llm_outputs_have_provenance():
    items = _saved()
    assert len(items) >= 15
    for d in items:
        assert d["model"] == "gemma-3-270m-q4_k_m.gguf" and d["model_sha256"]
        assert d["settings"]["temperature"] == 0.0 and d["prompt"] and d["source"] and d["generated"]
        assert "Facts:" in d["prompt"]


def test_planted_errors_in_real_llm_output_are_caught():
    """Errors planted into what Gemma 3 270M wrote (only where the guard had not flagged it)."""
    errors, sources = [], []
    for i, d in enumerate(_saved()):
        src = extract(d["source"])
        base = check_faithfulness(src, d["generated"])
        avoid = [(f.start, f.end) for f in base.flags if f.start is not None]
        found = plant_errors(d["generated"], extract(d["generated"]).facts, seed=i, avoid=avoid)
        errors += found
        sources += [src] * len(found)
    checks = iter(sources)
    score = score_planted(errors, lambda t: check_faithfulness(next(checks), t))
    assert score["ALL"]["n"] >= 20
    assert score["ALL"]["share"] >= 0.95, score["missed"]


def test_extraction_warnings_are_passed_on():
    r = check_faithfulness("Paciente con neumonía y fiebre. Alergia a la penicilina.", "")
    assert r.warnings and all(w.startswith(("source: ", "text: ")) for w in r.warnings)
    assert any("English" in w for w in r.warnings), r.warnings
    assert r.to_dict()["warnings"] == r.warnings


def test_a_denied_follow_up_is_true_only_of_a_source_that_plans_none():
    """'No follow-up visit is recorded' (the default writer's absence sentence) passes where the source plans no
    visit, and contradicts one that does."""
    without = NOTE.split("FOLLOW-UP:")[0]
    text = "FOLLOW-UP:\nNo follow-up visit is recorded.\n"
    assert check_faithfulness(without, text, critical=()).ok
    flags = check_faithfulness(NOTE, text).flags
    assert {f.kind for f in flags} == {"negation", "omission"}


def test_default_discharge_summary_of_a_note_without_follow_up_states_nothing_unsupported():
    from hygeia.notes import stay_from_notes, summarize

    source = NOTE.split("FOLLOW-UP:")[0]
    for kind in ("discharge", "instructions"):
        summary = summarize(stay_from_notes([source]), kind)
        report = check_faithfulness(source, summary.text, critical=())
        assert report.ok, (kind, report.flags)
        assert report.stated
