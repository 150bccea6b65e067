"""Summaries written from records: every sentence cites events of the record, absences only when true."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from hygeia.errors import ConfigError
from hygeia.notes import (
    SUMMARY_KINDS,
    FaithfulWriter,
    Sentence,
    Stay,
    StayItem,
    Summary,
    event_key,
    find_stays,
    stay_from_record,
    stay_from_run,
    summarize,
)
from hygeia.notes._summarize import lay_medicine

T = dt.datetime(2021, 5, 3, 8)
PERSON = {"subject_id": 7, "birth_time": dt.datetime(1950, 6, 1), "sex": "F"}
ROW = {"subject_id": 7, "end_time": None, "code_system": "SNOMED-CT", "numeric_value": None, "unit": None, "text_value": None,
           "module": None, "state": None}


def _ev(kind: str, time: dt.datetime, code: str, display: str, encounter_id: int, **kw: Any) -> dict[str, Any]:
    return {**ROW, "kind": kind, "time": time, "code": code, "display": display, "encounter_id": encounter_id, **kw}


def _stay_events(with_allergy: bool = False) -> list[dict[str, Any]]:
    before = T - dt.timedelta(days=400)
    ev = [
        _ev("encounter", before, "185349003", "Encounter for check up (procedure)", 1, end_time=before,
            text_value="ambulatory"),
        _ev("condition", before, "59621000", "Essential hypertension (disorder)", 1),
        _ev("medication", before, "314076", "lisinopril 10 MG Oral Tablet", 1, code_system="RxNorm"),
        _ev("medication", before, "310965", "ibuprofen 200 MG Oral Tablet", 1, code_system="RxNorm",
            end_time=T + dt.timedelta(days=1)),
        _ev("encounter", T, "32485007", "Hospital admission (procedure)", 2, end_time=T + dt.timedelta(days=3),
            text_value="inpatient"),
        _ev("condition", T, "385093006", "Community acquired pneumonia (disorder)", 2,
            end_time=T + dt.timedelta(days=20)),
        _ev("procedure", T + dt.timedelta(hours=1), "399208008", "Plain X-ray of chest (procedure)", 2),
        _ev("observation", T + dt.timedelta(hours=2), "718-7", "Hemoglobin [Mass/volume] in Blood", 2,
            code_system="LOINC", numeric_value=11.7, unit="g/dL"),
        _ev("medication", T + dt.timedelta(hours=2), "1665005", "ceftriaxone 1000 MG Injection", 2,
            code_system="RxNorm", end_time=T + dt.timedelta(days=2)),
        _ev("medication", T + dt.timedelta(days=3), "308182", "amoxicillin 500 MG Oral Capsule", 2,
            code_system="RxNorm", end_time=T + dt.timedelta(days=10)),
        _ev("encounter", T + dt.timedelta(days=14), "390906007", "Follow-up encounter (procedure)", 3,
            end_time=T + dt.timedelta(days=14), text_value="ambulatory"),
    ]
    if with_allergy:
        ev.append(_ev("allergy", before, "91936005", "Allergy to penicillin (finding)", 1))
        ev.append(_ev("allergy", before, "300916003", "Latex (substance)", 1))
    return ev


def test_a_stay_from_a_record() -> None:
    stay = stay_from_record(PERSON, _stay_events(), 2)
    assert (stay.setting, stay.start, stay.end, stay.days) == ("inpatient", "2021-05-03", "2021-05-06", 3)
    assert stay.patient is not None and stay.patient.name == "70-year-old woman"
    assert [r.name for r in stay.reasons] == ["Community acquired pneumonia"]
    assert [p.name for p in stay.problems] == ["Essential hypertension"]
    status = {m.name: m.status for m in stay.medications}
    assert status == {"lisinopril 10 MG Oral Tablet": "continued", "amoxicillin 500 MG Oral Capsule": "new",
                      "ibuprofen 200 MG Oral Tablet": "stopped", "ceftriaxone 1000 MG Injection": "given"}
    assert stay.results[0].value == 11.7 and stay.results[0].unit == "g/dL"
    assert stay.no_allergies and not stay.allergies
    assert [(f.name, f.date) for f in stay.follow_up] == [("Follow-up encounter", "2021-05-17")]


def test_discharge_summary_sections_and_provenance() -> None:
    events = _stay_events()
    s = summarize(stay_from_record(PERSON, events, 2), "discharge")
    keys = {event_key(e) for e in events} | {f"person/7/{PERSON['birth_time']:%Y-%m-%dT%H:%M:%S.%f}"}
    by_section: dict[str, list[str]] = {}
    for sentence in s.sentences:
        by_section.setdefault(sentence.section, []).append(sentence.text)
        assert set(sentence.events) <= keys
        assert (sentence.basis == "events") == bool(sentence.events)
    assert s.title == "Discharge Summary"
    assert by_section["ADMISSION DATE"] == ["2021-05-03."] and by_section["DISCHARGE DATE"] == ["2021-05-06."]
    assert by_section["REASON FOR ADMISSION"] == ["Community acquired pneumonia."]
    course = " ".join(by_section["BRIEF HOSPITAL COURSE"])
    assert "Underwent plain X-ray of chest." in course and "Hemoglobin: 11.7 g/dL." in course
    assert "Received ceftriaxone 1000 MG Injection." in course and "Length of stay: 3 days." in course
    assert by_section["DISCHARGE MEDICATIONS"] == [
        "Continued: lisinopril 10 MG Oral Tablet.", "New: amoxicillin 500 MG Oral Capsule.",
        "Stopped: ibuprofen 200 MG Oral Tablet."]
    assert by_section["ALLERGIES"] == ["No known allergies."]
    assert by_section["FOLLOW-UP"] == ["Next visit: follow-up encounter on 2021-05-17."]


def test_allergies_stated_never_denied_when_recorded() -> None:
    stay = stay_from_record(PERSON, _stay_events(with_allergy=True), 2)
    for kind in SUMMARY_KINDS:
        text = summarize(stay, kind).text
        assert "no known allergies" not in text.lower()
    assert "Allergic to allergy to penicillin and latex." in summarize(stay, "discharge").text
    assert "You are allergic to" in summarize(stay, "instructions").text


def test_patient_instructions_are_plain() -> None:
    s = summarize(stay_from_record(PERSON, _stay_events(), 2), "instructions")
    text = s.text
    assert "You came to the hospital on May 3, 2021. You went home on May 6, 2021." in text
    assert "You were treated for lung infection (pneumonia)." in text and "You also have high blood pressure." in text
    assert "Start taking amoxicillin 500 mg capsule." in text and "Stop taking ibuprofen 200 mg pill." in text
    assert "Keep taking lisinopril 10 mg pill." in text and "See your doctor on May 17, 2021." in text
    assert s.readability().grade <= 8
    d = s.to_dict()
    assert d["readability"]["flesch_kincaid_grade"] == s.readability().grade
    assert all(x["basis"] in ("events", "absence", "advice") for x in d["sentences"])


def test_insurance_letter_codes_only_from_the_table() -> None:
    events = _stay_events()
    events.append(_ev("condition", T, "15724005", "Fracture of vertebral column without spinal cord injury (disorder)", 2))
    s = summarize(stay_from_record(PERSON, events, 2), "insurance")
    text = s.text
    assert "Community acquired pneumonia (ICD-10-CM J18.9; SNOMED CT 385093006)." in text
    assert "Essential hypertension (ICD-10-CM I10; SNOMED CT 59621000)." in text
    assert "(no ICD-10-CM code in Hygeia's table; SNOMED CT 15724005)" in text  # never a guessed code
    assert "Coverage of the inpatient stay: hospital admission." in text
    assert "Medication: amoxicillin 500 MG Oral Capsule (RxNorm 308182)." in text
    assert "Hemoglobin: 11.7 g/dL on 2021-05-03." in text


def test_visit_that_is_not_an_admission() -> None:
    s = summarize(stay_from_record(PERSON, _stay_events(), 1), "discharge")
    assert s.title == "Visit Summary" and s.sentences[0].text == "Visit date: 2020-03-29."
    assert "DISCHARGE DATE" not in s.text


def test_deterministic_and_json_ready() -> None:
    stay = stay_from_record(PERSON, _stay_events(), 2)
    a, b = summarize(stay, "insurance"), summarize(stay, "insurance")
    assert a.text == b.text and a.to_dict() == b.to_dict()
    assert a.writer == "faithful" and a.source == "record" and (a.subject_id, a.encounter_id) == (7, 2)


def test_writer_and_guard_plug_in() -> None:
    class Echo:
        name = "echo"

        def write(self, stay: Stay, kind: str) -> list[Sentence]:
            return [Sentence("SUMMARY", f"{kind} of {stay.visit}.")]

    def guard(summary: Summary, stay: Stay) -> Summary:
        summary.guard = {"checked": True}
        return summary

    stay = stay_from_record(PERSON, _stay_events(), 2)
    s = summarize(stay, "discharge", writer=Echo(), guard=guard)
    assert s.writer == "echo" and s.text.endswith("discharge of Hospital admission.")
    assert s.to_dict()["guard"] == {"checked": True}


def test_errors_name_the_fix() -> None:
    stay = Stay("record")
    with pytest.raises(ConfigError, match=re.escape("kind must be one of discharge, instructions, insurance; got 'x'")):
        summarize(stay, "x")
    with pytest.raises(ConfigError, match="encounter_id 99 is not an encounter"):
        stay_from_record(PERSON, _stay_events(), 99)


@pytest.mark.parametrize(("name", "plain"), [
    ("lisinopril 10 MG Oral Tablet", "lisinopril 10 mg pill"),
    ("doxycycline monohydrate 100 MG Oral Tablet", "doxycycline 100 mg pill"),
    ("acetaminophen 21.7 MG/ML / dextromethorphan hydrobromide 1 MG/ML / doxylamine succinate 0.417 MG/ML Oral Solution",
     "acetaminophen, dextromethorphan and doxylamine liquid"),
    ("1 ML medroxyprogesterone acetate 150 MG/ML Injection", "medroxyprogesterone acetate 150 mg/mL shot"),
    ("insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Injectable Suspension [Humulin]",
     "insulin shot"),
])
def test_lay_medicine(name: str, plain: str) -> None:
    assert lay_medicine(name) == plain


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hygeia.population.generate import generate

    out = tmp_path_factory.mktemp("summaries") / "run"
    generate(n=30, seed=101, out=str(out), workers=1, quiet=True)
    return out


def test_every_stay_of_a_run(run: Path) -> None:
    persons = {p["subject_id"]: p for p in pq.read_table(run / "persons").to_pylist()}
    events: dict[int, list[dict[str, Any]]] = {}
    for e in pq.read_table(run / "events").to_pylist():
        events.setdefault(e["subject_id"], []).append(e)
    n = 0
    for sid, mine in events.items():
        keys = {event_key(e) for e in mine} | {f"person/{sid}/{persons[sid]['birth_time']:%Y-%m-%dT%H:%M:%S.%f}"}
        for enc in find_stays(mine, ("inpatient", "emergency")):
            stay = stay_from_record(persons[sid], mine, enc["encounter_id"])
            assert stay.sources() <= keys
            for kind in SUMMARY_KINDS:
                s = summarize(stay, kind)
                n += 1
                for sentence in s.sentences:
                    assert set(sentence.events) <= keys, sentence
                    assert sentence.basis in ("events", "absence", "advice")
                if kind == "instructions":
                    assert s.readability().grade <= 8, s.text
    assert n >= 30


def test_stay_from_run(run: Path) -> None:
    stay = stay_from_run(run)
    assert stay.setting == "inpatient" and stay.subject_id is not None
    again = stay_from_run(run, stay.subject_id, stay.encounter_id)
    assert summarize(again).text == summarize(stay).text
    with pytest.raises(ConfigError, match="subject_id 999999 is not in the run"):
        stay_from_run(run, 999999)
    with pytest.raises(ConfigError, match="encounter_id 5 is not an encounter of subject_id"):
        stay_from_run(run, stay.subject_id, 5)


def test_stay_item_codes() -> None:
    item = StayItem("problem", "Asthma", ("k",), (("SNOMED-CT", "195967001"), ("ICD-10-CM", "J45.909")))
    assert item.code("ICD-10-CM") == "J45.909" and item.code("HPO") is None
    assert FaithfulWriter().name == "faithful"


def test_synthea_records_allergies_never_denied(tmp_path: Path) -> None:
    """Synthea's corpus records allergies (persons 3 and 7 of seed 3) and many more conditions and medicines."""
    from hygeia.population.generate import generate

    generate(n=8, seed=3, out=str(tmp_path / "run"), workers=1, shard_size=4, quiet=True, modules=("synthea",),
             default_modules=False)
    persons = {p["subject_id"]: p for p in pq.read_table(tmp_path / "run" / "persons").to_pylist()}
    events: dict[int, list[dict[str, Any]]] = {}
    for e in pq.read_table(tmp_path / "run" / "events").to_pylist():
        events.setdefault(e["subject_id"], []).append(e)
    with_allergies = 0
    for sid, mine in events.items():
        keys = {event_key(e) for e in mine} | {f"person/{sid}/{persons[sid]['birth_time']:%Y-%m-%dT%H:%M:%S.%f}"}
        for enc in find_stays(mine, ("inpatient", "emergency", "ambulatory")):
            stay = stay_from_record(persons[sid], mine, enc["encounter_id"])
            with_allergies += bool(stay.allergies)
            for kind in SUMMARY_KINDS:
                s = summarize(stay, kind)
                assert all(set(x.events) <= keys for x in s.sentences)
                assert ("no known allergies" in s.text.lower()) == (not stay.allergies and kind != "insurance")
                if kind == "instructions":
                    assert s.readability().grade <= 8, s.text
    assert with_allergies > 0
