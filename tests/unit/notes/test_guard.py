"""The faithfulness guard on hand-built facts: each kind of flag, precision and recall, the repair policy.

These tests give the generated side as an Extraction built by hand, so they check the
guard's comparison alone; tests/unit/notes/test_guard_extract.py runs it through real extraction.
"""

from __future__ import annotations

import re

import pytest

from hygeia.errors import ConfigError
from hygeia.notes._facts import Extraction, Fact
from hygeia.notes._guard import (
    check_faithfulness,
    find_dates,
    find_numbers,
    guarded,
    repair,
    sentence_spans,
)
from hygeia.notes._hallucinate import PlantedError, plant_errors, score_planted

SOURCE_TEXT = ("Admitted 2020-03-01 with community-acquired pneumonia. Denies chest pain. "
               "Lisinopril 10 mg daily. Allergic to penicillin. Follow up with primary care on 2020-03-15.")


def fact(kind, words, concept=None, text=SOURCE_TEXT, **kw):
    start = text.index(words)
    return Fact(kind, words, start, start + len(words), concept or words.lower(), **kw)


SOURCE = [
    fact("date", "2020-03-01", "admission", date="2020-03-01"),
    fact("problem", "community-acquired pneumonia", "pneumonia", codes=(("ICD-10-CM", "J18.9"),)),
    fact("problem", "chest pain", negated=True),
    fact("medication", "Lisinopril 10 mg", "lisinopril", dose="10 mg", frequency="daily"),
    fact("allergy", "penicillin"),
    fact("follow_up", "primary care", "primary care", date="2020-03-15"),
]


def gen(text, *specs):
    """An Extraction of a generated text: (kind, words, concept, extra fields) per fact."""
    facts = []
    for kind, words, concept, kw in specs:
        start = text.lower().index(words.lower())
        words = text[start:start + len(words)]
        facts.append(Fact(kind, words, start, start + len(words), concept, **kw))
    return Extraction(text, facts=facts)


FAITHFUL = gen("Pneumonia, admitted 2020-03-01. No chest pain. Lisinopril 10 mg daily. Penicillin allergy. "
               "Primary care follow-up 2020-03-15.",
               ("problem", "Pneumonia", "pneumonia", {}), ("problem", "chest pain", "chest pain", {"negated": True}),
               ("medication", "Lisinopril 10 mg", "lisinopril", {"dose": "10 mg"}),
               ("allergy", "Penicillin", "penicillin", {}), ("follow_up", "Primary care", "primary care", {}))


def kinds(report):
    return [(f.kind, f.text) for f in report.flags]


def test_faithful_text_passes_with_full_precision_and_recall():
    r = check_faithfulness(SOURCE, FAITHFUL)
    assert r.ok, r.summary()
    assert (r.precision, r.recall) == (1.0, 1.0)
    assert len(r.stated) == 5 and len(r.critical) == 3


def test_source_as_text_extraction_or_facts_agree():
    ext = Extraction(SOURCE_TEXT, facts=SOURCE)
    assert check_faithfulness(ext, FAITHFUL).ok
    assert check_faithfulness([ext], FAITHFUL).ok


def test_each_kind_of_error_is_flagged_at_its_span_with_a_reason():
    text = ("Pneumonia and sepsis, admitted 2020-03-04. Reports chest pain. Lisinopril 20 mg daily. "
            "Penicillin allergy. Primary care follow-up. Weight 80 kg.")
    g = gen(text, ("problem", "Pneumonia", "pneumonia", {}), ("problem", "sepsis", "sepsis", {}),
            ("problem", "chest pain", "chest pain", {}),
            ("medication", "Lisinopril 20 mg", "lisinopril", {"dose": "20 mg"}),
            ("allergy", "Penicillin", "penicillin", {}), ("follow_up", "Primary care", "primary care", {}))
    r = check_faithfulness(SOURCE, g)
    assert kinds(r) == [("unsupported", "sepsis"), ("date", "2020-03-04"), ("negation", "chest pain"),
                        ("value", "Lisinopril 20 mg"), ("value", "80 kg")]
    by = {f.text: f for f in r.flags}
    assert text[by["sepsis"].start:by["sepsis"].end] == "sepsis"
    assert by["chest pain"].reason == "The source denies 'chest pain' but the text states it."
    assert by["Lisinopril 20 mg"].reason == "The dose '20 mg' of lisinopril is not in the source, which gives 10 mg."
    assert by["2020-03-04"].reason == "The date 2020-03-04 is not in the source."
    assert by["80 kg"].reason == "The source does not give '80 kg' (with its unit)."
    assert r.precision == pytest.approx(3 / 6)
    assert r.recall == 1.0  # the wrong dose is flagged as such, not also as an omission


def test_swapped_drug_is_unsupported_and_the_real_one_omitted():
    g = gen("Metformin 10 mg daily.", ("medication", "Metformin 10 mg", "metformin", {"dose": "10 mg"}))
    r = check_faithfulness(SOURCE, g)
    assert kinds(r)[0] == ("unsupported", "Metformin 10 mg")
    omitted = [f.source_fact.concept for f in r.flags if f.kind == "omission"]
    assert omitted == ["lisinopril", "penicillin", "primary care"]
    assert all(f.start is None for f in r.flags if f.kind == "omission")
    assert r.recall == 0.0 and r.precision == 0.0


def test_denied_allergy_counts_as_critical_and_family_context_flips():
    src = [fact("allergy", "penicillin", negated=True), fact("problem", "pneumonia", "diabetes", family=True)]
    g = gen("Diabetes.", ("problem", "Diabetes", "diabetes", {}))
    r = check_faithfulness(src, g)
    assert kinds(r) == [("negation", "Diabetes"), ("omission", "penicillin")]
    assert r.flags[0].reason == "The source gives 'diabetes' as a family member's, the text does not."


def test_concepts_match_by_code_or_word_subset_and_rounded_values():
    src = [Fact("problem", "HTN", 0, 3, "essential hypertension", codes=(("ICD-10-CM", "I10"),)),
           Fact("lab", "Hemoglobin 11.74 g/dL", 5, 26, "hemoglobin", value=11.74, unit="g/dL")]
    g = gen("High blood pressure. Hypertension. Hemoglobin 11.7 g/dL.",
            ("problem", "High blood pressure", "high blood pressure", {"codes": (("ICD-10-CM", "I10"),)}),
            ("problem", "Hypertension", "hypertension", {}),
            ("lab", "Hemoglobin 11.7", "hemoglobin", {"value": 11.7, "unit": "g/dL"}))
    assert check_faithfulness(src, g).ok
    g2 = gen("Hemoglobin 13.1 g/dL.", ("lab", "Hemoglobin 13.1", "hemoglobin", {"value": 13.1}))
    assert [f.kind for f in check_faithfulness(src, g2).flags] == ["value"]


def test_hypothetical_advice_is_not_a_statement():
    g = gen("Return if fever develops.", ("problem", "fever", "fever", {"hypothetical": True}))
    r = check_faithfulness([], g)
    assert r.ok and r.stated == []


def test_text_level_numbers_and_dates():
    assert [(d, iso) for _, _, iso in find_dates("on 03/15/2020 and 15 March 2020") for d in [0]] == [
        (0, "2020-03-15"), (0, "2020-03-15")]
    assert find_dates("on 2020-02-30") == []  # not a date
    nums = [(v, u) for _, _, v, u in find_numbers("COVID-19. T 37.5°C, 7/10 pain, x10^3/uL, 2 weeks")]
    assert nums == [(37.5, "°c"), (7.0, "/10"), (2.0, None)]
    g = Extraction("Seen on March 15, 2020; RR 20/min.")
    r = check_faithfulness(SOURCE, g)
    assert kinds(r) == [("value", "20/min"), ("omission", "Lisinopril 10 mg"), ("omission", "penicillin"),
                        ("omission", "primary care")]  # the date is the source's follow-up date


def test_guarded_policy():
    def read(text):
        specs = [s for s in (("problem", "Pneumonia", "pneumonia", {}), ("problem", "sepsis", "sepsis", {}),
                             ("allergy", "Penicillin", "penicillin", {}),
                             ("medication", "Lisinopril 10 mg", "lisinopril", {"dose": "10 mg"}),
                             ("follow_up", "Primary care", "primary care", {})) if s[1] in text]
        return gen(text, *specs)

    full = "Pneumonia. Penicillin allergy. Lisinopril 10 mg. Primary care follow-up."
    assert guarded(lambda f: full, SOURCE, extract_fn=read).action == "accepted"
    g = guarded(lambda f: full + " Also sepsis.", SOURCE, extract_fn=read)
    assert (g.action, g.text) == ("repaired", full)
    assert g.report.by_kind()["unsupported"] == 1 and g.final.ok
    # dropping the flagged sentence would lose the allergy: fall back
    bad = "Pneumonia. Penicillin allergy with sepsis. Lisinopril 10 mg. Primary care follow-up."
    g = guarded(lambda f: bad, SOURCE, fallback=lambda f: full, extract_fn=read)
    assert g.action == "fallback" and g.text == full and g.final.ok and g.generated == bad
    g = guarded(lambda f: bad, SOURCE, extract_fn=read)
    assert (g.action, g.text, g.final) == ("rejected", None, None)
    assert guarded(lambda f: full + " Also sepsis.", SOURCE, repair_ok=False, extract_fn=read).action == "rejected"
    with pytest.raises(ConfigError, match=re.escape("generate_fn must return a str, got NoneType")):
        guarded(lambda f: None, SOURCE, extract_fn=read)


def test_repair_keeps_layout_and_sentence_spans():
    text = "DIAGNOSES:\nPneumonia. Sepsis.\nPLAN:\nRest."
    assert [text[s:e] for s, e in sentence_spans(text)] == ["DIAGNOSES:", "Pneumonia.", "Sepsis.", "PLAN:", "Rest."]
    g = gen(text, ("problem", "Sepsis", "sepsis", {}))
    assert repair(check_faithfulness([], g)) == "DIAGNOSES:\nPneumonia.\nPLAN:\nRest."


def test_bad_arguments():
    with pytest.raises(ConfigError, match=re.escape("unknown critical fact kinds ['allergies']")):
        check_faithfulness(SOURCE, FAITHFUL, critical=("allergies",))
    with pytest.raises(ConfigError, match=re.escape("a source must be a text, an Extraction or Facts, got int")):
        check_faithfulness([1], FAITHFUL)
    with pytest.raises(ConfigError, match=re.escape("a generated text must be a str or an Extraction, got bytes")):
        check_faithfulness(SOURCE, b"x")


def test_planted_errors_are_caught_on_hand_built_facts():
    text = FAITHFUL.text
    errors = plant_errors(text, FAITHFUL.facts, seed=3, drugs=["metformin", "atorvastatin"])
    assert sorted(e.type for e in errors) == ["date", "dose", "drug", "negation"]
    for e in errors:
        assert e.text[e.start:e.end] == e.replacement and e.text != text

    def read(t):  # the facts of the altered copies, as extraction would see them
        specs = [("problem", "Pneumonia", "pneumonia", {}),
                 ("problem", "chest pain", "chest pain", {"negated": t.count("No chest pain") == 1}),
                 ("allergy", "Penicillin", "penicillin", {}), ("follow_up", "Primary care", "primary care", {})]
        m = re.search(r"(Lisinopril|Metformin|Atorvastatin) (\d+) mg", t)
        specs.append(("medication", m.group(0), m.group(1).lower(), {"dose": f"{m.group(2)} mg"}))
        return gen(t, *specs)

    score = score_planted(errors, lambda t: check_faithfulness(SOURCE, read(t)))
    assert score["ALL"] == {"n": 4, "caught": 4, "share": 1.0}, score["missed"]
    assert score_planted([PlantedError("date", text, 0, 3, "x", "y")],
                         lambda t: check_faithfulness(SOURCE, FAITHFUL))["ALL"]["caught"] == 0


def test_a_denied_class_contradicts_a_stated_member_but_supports_nothing_specific():
    src_text = "NKDA. No new diagnosis. Known history of depression."
    src = [Fact("allergy", "NKDA", 0, 4, "any allergy", negated=True),
           Fact("problem", "diagnosis", 13, 22, "any problem", negated=True),
           Fact("problem", "depression", 41, 51, "depression", historical=True)]
    assert src_text[41:51] == "depression"
    g = gen("Allergic to penicillin. No depression. No known allergies.",
            ("allergy", "penicillin", "penicillin", {}), ("problem", "depression", "depression", {"negated": True}),
            ("allergy", "known allergies", "any allergy", {"negated": True}))
    r = check_faithfulness(src, g)
    assert [(f.kind, f.text) for f in r.flags] == [("negation", "penicillin"), ("negation", "depression")]
    assert r.flags[0].reason == "The source denies 'any allergy' but the text states it."
    assert r.recall == 1.0  # 'No known allergies' keeps the allergy status


def test_codes_must_be_codes_of_the_source_facts():
    src = [Fact("problem", "pneumonia", 0, 9, "pneumonia", codes=(("ICD-10-CM", "J18.9"), ("SNOMED-CT", "233604007")))]
    ok = gen("Pneumonia (ICD-10-CM J18.9; SNOMED CT 233604007).", ("problem", "Pneumonia", "pneumonia", {}))
    assert check_faithfulness(src, ok).ok
    bad = gen("Pneumonia (ICD-10-CM J15.9).", ("problem", "Pneumonia", "pneumonia", {}))
    assert kinds(check_faithfulness(src, bad)) == [("unsupported", "J15.9")]


def test_blood_pressure_numbers_share_their_unit_and_numbers_to_call_are_not_values():
    src = "BP 102/66 mmHg."
    assert [(v, u) for _, _, v, u in find_numbers(src)] == [(102.0, "mmhg"), (66.0, "mmhg")]
    assert check_faithfulness(src, "Systolic 102 mmHg. Call 911 if you have chest pain.").ok
    assert [f.kind for f in check_faithfulness(src, "Systolic 120 mmHg.").flags] == ["value"]


def test_one_icd_category_is_one_concept():
    src = [Fact("problem", "MDD", 0, 3, "major depressive disorder", codes=(("ICD-10-CM", "F32.9"),))]
    g = gen("Depression.", ("problem", "Depression", "depression", {"codes": (("ICD-10-CM", "F32.A"),)}))
    assert check_faithfulness(src, g).ok
