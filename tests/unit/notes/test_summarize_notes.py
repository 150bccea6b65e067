"""Summaries from note texts: facts read with their spans; negated, family and hypothetical facts never stated."""

from __future__ import annotations

import re
from typing import Any

import pyarrow.parquet as pq
import pytest

from hygeia.errors import ConfigError
from hygeia.notes import (
    SUMMARY_KINDS,
    extract,
    find_stays,
    note_for_encounter,
    rouge,
    stay_from_extractions,
    stay_from_notes,
    stay_from_record,
    summarize,
)

NOTE = """Progress Note

CHIEF COMPLAINT:
Cough.

HISTORY OF PRESENT ILLNESS:
58-year-old man presenting with cough. He denies chest pain. Family history of diabetes mellitus type 2.
If fever develops, start acetaminophen.

MEDICATIONS:
Lisinopril 10 MG Oral Tablet.

ALLERGIES:
NKDA.

VITAL SIGNS:
Heart rate 88/min.
"""


def _span(key: str, texts: dict[str, str]) -> str:
    name, _, span = key.rpartition(":")
    start, end = (int(x) for x in span.split("-"))
    return texts[name][start:end]


def test_only_what_the_note_asserts() -> None:
    texts = {"visit.txt": NOTE}
    stay = stay_from_notes(texts)
    assert [r.name for r in stay.reasons] == ["Cough"]
    assert stay.patient is not None and _span(stay.patient.sources[0], texts) == "58-year-old man"
    assert [m.name for m in stay.medications] == ["Lisinopril 10 MG Oral Tablet"]
    assert stay.no_allergies and _span(stay.no_allergy_sources[0], texts) == "NKDA"
    assert [(r.name, r.value, r.unit) for r in stay.results] == [("Heart rate", 88.0, "/min")]
    for kind in SUMMARY_KINDS:
        s = summarize(stay, kind)
        assert s.source == "notes"
        stated = " ".join(x.text for x in s.sentences if x.basis != "advice").lower()
        for absent in ("chest pain", "diabetes", "acetaminophen", "fever"):
            assert absent not in stated, (kind, absent)
        for x in s.sentences:
            assert set(x.events) <= stay.sources()
            for key in x.events:
                assert _span(key, texts).strip()


def test_allergy_stated_from_a_note() -> None:
    stay = stay_from_notes(["ALLERGIES:\nAllergic to penicillin.\n\nCHIEF COMPLAINT:\nRash."])
    assert not stay.no_allergies and [a.name for a in stay.allergies] == ["Penicillin"]
    assert "no known allergies" not in summarize(stay, "discharge").text.lower()


def test_empty_notes_are_refused() -> None:
    with pytest.raises(ConfigError, match="no note text to summarize"):
        stay_from_notes(["", "  \n"])
    with pytest.raises(ConfigError, match="no note text to summarize"):
        stay_from_notes({})


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[int, Any], dict[int, list[dict[str, Any]]]]:
    from hygeia.population.generate import generate

    out = tmp_path_factory.mktemp("summaries") / "run"
    generate(n=30, seed=102, out=str(out), workers=1, quiet=True)
    persons = {p["subject_id"]: p for p in pq.read_table(out / "persons").to_pylist()}
    events: dict[int, list[dict[str, Any]]] = {}
    for e in pq.read_table(out / "events").to_pylist():
        events.setdefault(e["subject_id"], []).append(e)
    return persons, events


def test_notes_of_a_stay_keep_most_of_the_record(records: tuple[dict[int, Any], dict[int, list[dict[str, Any]]]]) -> None:
    persons, events = records
    scores = []
    for sid, mine in events.items():
        for enc in find_stays(mine, ("inpatient",)):
            reference = summarize(stay_from_record(persons[sid], mine, enc["encounter_id"]), "discharge")
            notes = note_for_encounter(persons[sid], mine, enc["encounter_id"], seed=3)
            texts = {n.kind: n.text for n in notes}
            stay = stay_from_extractions({k: extract(t) for k, t in texts.items()})
            assert (stay.start, stay.end) == (reference.sentences[0].text.rstrip("."),
                                              reference.sentences[1].text.rstrip("."))
            candidate = summarize(stay, "discharge")
            for x in candidate.sentences:
                for key in x.events:
                    assert re.fullmatch(r"(hp|discharge|radiology):\d+-\d+", key) and _span(key, texts).strip()
            scores.append(rouge(candidate.body, reference.body)["rougeL"].f1)
    assert scores, "no inpatient stay in the fixture"
    assert 0.5 < sum(scores) / len(scores) <= 1.0


def test_products_kept_apart_and_planned_procedures_not_done() -> None:
    admission = ("MEDICATIONS:\n200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler. "
                 "Albuterol 0.83 MG/ML Inhalation Solution.\n")
    discharge = ("DISCHARGE MEDICATIONS:\n200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler. "
                 "Albuterol 0.83 MG/ML Inhalation Solution.\n\nFOLLOW-UP:\nNext visit: psychiatric follow-up on 2024-08-25.\n")
    stay = stay_from_notes({"hp": admission, "discharge": discharge})
    assert [(m.name, m.status) for m in stay.medications] == [
        ("200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "continued"),
        ("Albuterol 0.83 MG/ML Inhalation Solution", "continued")]
    assert stay.procedures == []
    text = summarize(stay, "discharge").text
    assert "Underwent" not in text and "Next visit: psychiatric follow-up on 2024-08-25." in text


def test_how_often_only_where_the_note_says() -> None:
    stay = stay_from_notes(["MEDICATIONS:\nLisinopril 10 mg PO daily. Metformin 500 mg.\n\nCHIEF COMPLAINT:\nCough."])
    text = summarize(stay, "instructions").text
    assert "Take lisinopril 10 mg. Take it once a day." in text
    assert "Take metformin 500 mg." in text and text.count("Take it ") == 1


def test_source_facts_for_a_guard() -> None:
    stay = stay_from_notes({"n": NOTE})
    facts = stay.source_facts()
    assert facts and all(not (f.family or f.hypothetical) and (not f.negated or f.concept == "any allergy")
                         for f in facts)
    assert {f.concept for f in facts} >= {"cough", "lisinopril", "heart rate"}
    assert "chest pain" not in {f.concept for f in facts}
