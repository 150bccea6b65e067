"""Radiology reports: one per imaging study, every statement traceable to the record, nothing invented."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from hygeia.cli.main import main
from hygeia.notes import (
    KINDS,
    deidentify,
    event_key,
    extract,
    note_for_encounter,
    write_notes,
)
from hygeia.notes._compose import clean
from hygeia.notes._radiology import STUDIES, imaging_study, is_finding, studies_of

SECTIONS = ["EXAMINATION", "CLINICAL INDICATION", "COMPARISON", "TECHNIQUE", "FINDINGS", "IMPRESSION"]
PERSON = {"subject_id": 1, "birth_time": dt.datetime(1970, 5, 1), "sex": "M"}
T = dt.datetime(2020, 3, 1, 9)


@pytest.fixture(scope="module", params=["hygeia", "synthea"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hygeia's modules (procedures), or Synthea's corpus (ImagingStudy states: an imaging and a procedure event)."""
    from hygeia.population.generate import generate

    out = tmp_path_factory.mktemp("radiology") / "run"
    if request.param == "hygeia":
        generate(n=8, seed=4, out=str(out), workers=1, shard_size=4, quiet=True)
    else:
        generate(n=8, seed=3, out=str(out), workers=1, shard_size=4, quiet=True, modules=("synthea",),
                 default_modules=False)
    return out


@pytest.fixture(scope="module")
def written(run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("radiology") / "notes"
    write_notes(run, out, seed=5, kinds=["radiology"])
    return out


def _row(kind: str, code: str, display: str, time: dt.datetime, eid: int, **extra: Any) -> dict[str, Any]:
    return {"subject_id": 1, "kind": kind, "time": time, "end_time": extra.pop("end_time", None),
            "code_system": "SNOMED-CT", "code": code, "display": display, "numeric_value": None, "unit": None,
            "text_value": extra.pop("text_value", None), "encounter_id": eid, **extra}


def _visit(time: dt.datetime, eid: int, cls: str = "ambulatory") -> dict[str, Any]:
    return _row("encounter", "185345009", "Encounter for symptom (procedure)", time, eid,
                end_time=time + dt.timedelta(hours=1), text_value=cls)


def _xray(code: str, display: str, time: dt.datetime, eid: int) -> dict[str, Any]:
    return _row("procedure", code, display, time, eid, end_time=time + dt.timedelta(minutes=30))


def _section(note: Any, name: str) -> list[Any]:
    return [s for s in note.sentences if s.section == name]


def test_every_report_cites_only_record_events(run: Path, written: Path) -> None:
    events: dict[int, list[dict[str, Any]]] = {}
    for e in pq.read_table(run / "events").to_pylist():
        events.setdefault(e["subject_id"], []).append(e)
    notes = pq.read_table(written / "notes").to_pylist()
    studies = {(e["subject_id"], e["encounter_id"], e["code"], e["time"]) for es in events.values() for e in es
               if imaging_study(e) is not None and e["encounter_id"] is not None}
    assert notes and len(notes) == len(studies)  # one report per study, not per event of a study
    manifest = json.loads((written / "manifest.json").read_text())
    assert manifest["counts"] == {"radiology": len(notes)} and manifest["kinds"] == ["radiology"]
    findings = 0
    for note in notes:
        mine = events[note["subject_id"]]
        by_key = {event_key(e): e for e in mine}
        prov = json.loads(note["provenance"])
        assert note["kind"] == "radiology" and note["author_role"] in ("radiologist", "cardiologist")
        assert list(dict.fromkeys(s["section"] for s in prov)) == SECTIONS
        assert note["text"].startswith(note["title"]) and all(f"\n{h}:\n" in note["text"] for h in SECTIONS)
        [exam] = [s for s in prov if s["section"] == "EXAMINATION"]
        study = by_key[exam["events"][0]]
        assert study["encounter_id"] == note["encounter_id"] and f"{study['time']:%Y-%m-%d}" in exam["text"]
        assert {by_key[k]["kind"] for k in exam["events"]} <= {"procedure", "imaging"}
        at = [e for e in mine if e["encounter_id"] == note["encounter_id"] and e["kind"] == "condition"]
        shown = [e for e in at if is_finding(imaging_study(study), clean(e["display"]), e["display"])]
        for s in prov:
            assert s["text"] in note["text"]
            cited = [by_key[k] for k in s["events"]]  # KeyError: a key that the record does not hold
            for e in cited:
                assert e["time"] <= note["time"], (s, e)
                if e["kind"] in ("condition", "procedure"):
                    assert clean(e["display"]).lower() in s["text"].lower(), (s, e)
            if s["section"] == "TECHNIQUE":
                assert s["basis"] == "protocol" and not s["events"]
            if s["section"] in ("FINDINGS", "IMPRESSION"):
                if shown:  # the conditions of this encounter that this study type can show, each cited
                    assert s["basis"] == "events" and cited and all(e in shown for e in cited)
                    findings += 1
                else:
                    assert s["basis"] == "absence" and not s["events"] and "no" in s["text"].lower()
            if s["section"] == "COMPARISON":
                prior = [e for e in mine if e["code"] == study["code"] and e["time"] < study["time"]]
                if s["basis"] == "absence":
                    assert not prior
                else:
                    assert [e["code"] for e in cited] == [study["code"]] and cited[0]["time"] < study["time"]
                    assert f"{cited[0]['time']:%Y-%m-%d}" in s["text"]
    assert findings > 0


def test_chest_xray_in_pneumonia_encounter_cites_the_pneumonia() -> None:
    pneumonia = _row("condition", "385093006", "Community acquired pneumonia (disorder)", T + dt.timedelta(minutes=40), 5)
    xray = _xray("399208008", "Plain X-ray of chest (procedure)", T + dt.timedelta(minutes=10), 5)
    events = [_visit(T, 5), xray, pneumonia]
    for seed in range(6):
        [report] = note_for_encounter(PERSON, events, 5, seed=seed, kinds=["radiology"])
        assert report.author_role == "radiologist" and report.title == "Radiology Report"
        for name in ("FINDINGS", "IMPRESSION"):
            [s] = _section(report, name)
            assert s.events == (event_key(pneumonia),) and "community acquired pneumonia" in s.text.lower()
        assert "consistent with community acquired pneumonia" in report.text.lower()
        assert _section(report, "CLINICAL INDICATION")[0].events == (event_key(pneumonia),)
        assert report.time >= pneumonia["time"]  # signed once what it cites is recorded


def test_study_without_matching_condition_states_no_finding() -> None:
    sprain = _row("condition", "70704007", "Sprain of wrist (disorder)", T, 6)  # a sprain: no radiographic finding
    ankle = _row("condition", "16114001", "Fracture of ankle (disorder)", T, 6)  # another part
    xray = _xray("713024005", "Plain X-ray of wrist region (procedure)", T + dt.timedelta(minutes=5), 6)
    [report] = note_for_encounter(PERSON, [_visit(T, 6, "emergency"), sprain, ankle, xray], 6, seed=2,
                                  kinds=["radiology"])
    for name in ("FINDINGS", "IMPRESSION"):
        [s] = _section(report, name)
        assert s.basis == "absence" and not s.events
    assert "no acute abnormality is recorded" in report.text.lower() or "no abnormality is recorded" in report.text.lower()
    findings = "\n".join(s.text for s in report.sentences if s.section in ("FINDINGS", "IMPRESSION")).lower()
    assert "fracture" not in findings and "sprain" not in findings
    [indication] = _section(report, "CLINICAL INDICATION")
    assert set(indication.events) == {event_key(sprain), event_key(ankle)}  # the visit's problems, cited


def test_comparison_technique_and_one_report_per_study() -> None:
    earlier = T - dt.timedelta(days=400)
    prior = _xray("399208008", "Plain X-ray of chest (procedure)", earlier, 1)
    other = _xray("713024005", "Plain X-ray of wrist region (procedure)", earlier + dt.timedelta(days=1), 2)
    # an ImagingStudy state records the study and its procedure: one report citing both
    study = _row("imaging", "399208008", "Plain X-ray of chest (procedure)", T, 3, text_value="CR:Thoracic structure")
    proc = _xray("399208008", "Plain X-ray of chest (procedure)", T, 3)
    echo = _xray("433236007", "Transthoracic echocardiography (procedure)", T + dt.timedelta(hours=1), 3)
    chf = _row("condition", "88805009", "Chronic congestive heart failure (disorder)", earlier, 1)
    events = [_visit(earlier, 1), prior, chf, _visit(other["time"], 2), other, _visit(T, 3, "inpatient"), study, proc,
              echo]
    reports = note_for_encounter(PERSON, events, 3, seed=4, kinds=["radiology"])
    assert [r.title for r in reports] == ["Radiology Report", "Echocardiography Report"]
    assert [r.author_role for r in reports] == ["radiologist", "cardiologist"]
    chest, heart = reports
    assert set(_section(chest, "EXAMINATION")[0].events) == {event_key(proc), event_key(study)}
    [comparison] = _section(chest, "COMPARISON")
    assert comparison.events == (event_key(prior),) and f"{earlier:%Y-%m-%d}" in comparison.text
    assert _section(heart, "COMPARISON")[0].basis == "absence"  # no earlier echocardiogram; a radiograph is no comparison
    # a condition known before the visit is the indication; the study shows only what this encounter records
    assert event_key(chf) in _section(heart, "CLINICAL INDICATION")[0].events
    assert _section(heart, "FINDINGS")[0].basis == "absence"
    [technique] = _section(heart, "TECHNIQUE")
    assert technique.basis == "protocol" and not technique.events and "echocardiograph" in technique.text.lower()
    # wording varies with the seed, the facts stated do not
    texts = {r.text for seed in range(8) for r in note_for_encounter(PERSON, events, 3, seed=seed, kinds=["radiology"])}
    assert len(texts) > 2
    facts = {tuple(s.events for s in r.sentences) for seed in range(8)
             for r in note_for_encounter(PERSON, events, 3, seed=seed, kinds=["radiology"])[:1]}
    assert len(facts) == 1


def test_what_counts_as_a_radiology_study() -> None:
    def study(code: str, display: str, kind: str = "procedure") -> Any:
        return imaging_study({"kind": kind, "code": code, "display": display})

    assert study("399208008", "Plain X-ray of chest (procedure)").region == "chest"
    assert study("399208008", "Plain X-ray of chest (procedure)", "imaging") is not None
    assert study("399208008", "Plain X-ray of chest (procedure)", "observation") is None
    mri = study("1", "Magnetic resonance imaging of knee (procedure)")  # display fallback
    assert (mri.modality, mri.region, mri.can_show("osteoarthritis of knee")) == ("mri", "knee", False)
    assert study("2", "Ultrasonography of kidney (procedure)").modality == "ultrasound"
    assert study("3", "DEXA scan of hip (procedure)").modality == "dexa"
    for code, display in [("700070005", "Optical coherence tomography of retina (procedure)"),
                          ("241046008", "Dental plain X-ray bitewing (procedure)"),
                          ("390791001", "Referral for echocardiography (procedure)"),
                          ("29303009", "Electrocardiographic procedure (procedure)")]:
        assert study(code, display) is None, display
    assert all(s.shows and s.modality for s in STUDIES.values())
    assert not is_finding(STUDIES["399208008"], "suspected lung cancer", "Suspected lung cancer (situation)")
    assert is_finding(STUDIES["399208008"], "non-small cell lung cancer", "Non-small cell lung cancer (disorder)")
    assert [len(es) for _, es in studies_of([{"kind": "procedure", "code": "1", "time": T,
                                              "display": "Computed tomography of abdomen (procedure)"}])] == [1]


def test_kinds_and_defaults() -> None:
    assert KINDS[-1] == "radiology"  # appended: the seeds of the other kinds, and their words, are unchanged
    xray = _xray("713024005", "Plain X-ray of wrist region (procedure)", T, 5)
    events = [_visit(T, 5), xray]
    assert [n.kind for n in note_for_encounter(PERSON, events, 5, seed=1)] == ["soap", "radiology"]
    assert [n.kind for n in note_for_encounter(PERSON, events, 5, seed=1, kinds=["soap"])] == ["soap"]
    [report] = note_for_encounter(PERSON, events, 5, seed=1, kinds=["radiology"])
    assert _section(report, "CLINICAL INDICATION")[0].events == (event_key(_visit(T, 5)),)  # no problem: the visit


def test_extraction_and_deid_read_reports(written: Path) -> None:
    notes = pq.read_table(written / "notes").to_pylist()[:6]
    for note in notes:
        x = extract(note["text"])
        assert not x.warnings, x.warnings
        assert {"indication", "comparison", "technique", "findings", "assessment"} <= {s.name for s in x.sections}
        assert any(f.kind == "procedure" for f in x.facts)
        result = deidentify(note["text"], seed=1)
        study_date = re.search(r"\d{4}-\d{2}-\d{2}", note["text"]).group(0)
        assert study_date not in result.text and "EXAMINATION:" in result.text and "FINDINGS:" in result.text


def test_cli_counts_radiology_reports(run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["notes", "write", str(run), "--out", str(tmp_path / "r"), "--kind", "radiology",
                                    "--kind", "soap", "--seed", "3"])
    assert res.exit_code == 0, res.output
    counts = json.loads((tmp_path / "r" / "manifest.json").read_text())["counts"]
    assert counts["radiology"] > 0
    assert f"{counts['radiology']:,} radiology reports" in res.output and f"{counts['soap']:,} SOAP progress notes" in res.output
    bad = CliRunner().invoke(main, ["notes", "write", str(run), "--out", str(tmp_path / "x"), "--kind", "xray"])
    assert bad.exit_code == 2 and "radiology" in bad.output
