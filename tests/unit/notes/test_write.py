"""Notes written from records: every statement supported by its events, seeded wording, clear errors."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from hygeia.errors import ConfigError, DataValidationError, OutputError
from hygeia.notes import event_key, note_for_encounter, write_notes
from hygeia.notes._compose import clean, is_social, number


@pytest.fixture(scope="module", params=["hygeia", "synthea"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two shards of Hygeia's modules, or of Synthea's corpus (which records allergies and social findings)."""
    from hygeia.population.generate import generate

    out = tmp_path_factory.mktemp("notes") / "run"
    if request.param == "hygeia":
        generate(n=8, seed=4, out=str(out), workers=1, shard_size=4, quiet=True)
    else:  # persons 3 and 7 of seed 3 have allergies
        generate(n=8, seed=3, out=str(out), workers=1, shard_size=4, quiet=True, modules=("synthea",),
                 default_modules=False)
    return out


@pytest.fixture(scope="module")
def written(run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("notes") / "notes"
    write_notes(run, out, seed=11)
    return out


def _records(run: Path) -> tuple[dict[int, dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    persons = {p["subject_id"]: p for p in pq.read_table(run / "persons").to_pylist()}
    events: dict[int, list[dict[str, Any]]] = {}
    for e in pq.read_table(run / "events").to_pylist():
        events.setdefault(e["subject_id"], []).append(e)
    return persons, events


def _notes(folder: Path) -> list[dict[str, Any]]:
    return sorted(pq.read_table(folder / "notes").to_pylist(), key=lambda n: (n["subject_id"], n["encounter_id"], n["kind"]))


def _active(e: dict[str, Any], when: dt.datetime, *, strict: bool = False) -> bool:
    begun = e["time"] < when if strict else e["time"] <= when
    return begun and (e["end_time"] is None or e["end_time"] > when)


def test_every_statement_is_supported_by_its_events(run: Path, written: Path) -> None:
    persons, events = _records(run)
    notes = _notes(written)
    assert notes and {n["kind"] for n in notes} >= {"soap", "hp"}
    vocab = {clean(e["display"]).lower() for es in events.values() for e in es
             if e["kind"] in ("condition", "medication", "allergy") and len(clean(e["display"])) >= 6}
    # every name of the run's conditions, medications and allergies, longest first (a name inside another counts once)
    named = re.compile("|".join(rf"\b{re.escape(v)}\b" for v in sorted(vocab, key=len, reverse=True)))
    checked = 0
    for note in notes:
        mine = events[note["subject_id"]]
        by_key: dict[str, list[dict[str, Any]]] = {}
        for e in mine:  # events that share a key state the same fact (one value, one time), maybe at two visits
            by_key.setdefault(event_key(e), []).append(e)
        by_key[f"person/{note['subject_id']}/{persons[note['subject_id']]['birth_time']:%Y-%m-%dT%H:%M:%S.%f}"] = [{}]
        when = note["time"]
        visit = next(e for e in mine if e["kind"] == "encounter" and e["encounter_id"] == note["encounter_id"])
        # what each list is as of: the problem and medication lists of the visit's start (what began at the
        # visit goes to the plan), allergies known when the note is written, medications at discharge
        lists = {"PAST MEDICAL HISTORY": ("condition", visit["time"], True),
                 "MEDICATIONS": ("medication", visit["time"], True),
                 "ALLERGIES": ("allergy", when, False),
                 "DISCHARGE MEDICATIONS": ("medication", visit["end_time"], False)}
        for s in json.loads(note["provenance"]):
            assert s["text"] in note["text"]
            text = s["text"].lower()
            cited = [next((e for e in by_key[k] if e and e["encounter_id"] == note["encounter_id"]), by_key[k][0])
                     for k in s["events"]]  # KeyError: a key that is not in the record
            names = {clean(e["display"]).lower() for e in cited if e} | {
                (e.get("text_value") or "").lower() for e in cited if e}
            listed = lists.get(s["section"])
            for e in cited:
                if not e:
                    continue
                if e["kind"] in ("condition", "medication", "allergy", "procedure"):
                    assert clean(e["display"]).lower() in text, (s, e)
                    assert e["time"] <= when, (s, e)
                    checked += 1
                if e["kind"] == "observation" and e["numeric_value"] is not None:
                    assert re.search(rf"\b({re.escape(number(e['numeric_value']))}|"
                                     rf"{re.escape(number(e['numeric_value'], 0))})\b", s["text"]), (s, e)
                    assert e["encounter_id"] == note["encounter_id"]
                    checked += 1
                if listed is not None:
                    assert _active(e, listed[1], strict=listed[2]), (note["kind"], s, e)
            # nothing named in the sentence that its events do not hold
            for name in named.findall(text):
                assert any(name in n for n in names), (name, s)
            if s["basis"] == "absence" and listed is not None:
                kind, t, strict = listed
                assert not [e for e in mine if e["kind"] == kind and _active(e, t, strict=strict)
                            and not is_social(e)], (s, t)
            if s["basis"] == "advice":
                assert not s["events"] and s["section"] in ("DISCHARGE INSTRUCTIONS", "FOLLOW-UP")
    assert checked > 50
    if "allergy" in {e["kind"] for es in events.values() for e in es}:
        allergic = [n for n in notes if any(s["section"] == "ALLERGIES" and s["basis"] == "events"
                                            for s in json.loads(n["provenance"]))]
        assert allergic and not [n for n in allergic if re.search(r"no known|NKDA", n["text"])]


def test_manifest_and_table(run: Path, written: Path) -> None:
    manifest = json.loads((written / "manifest.json").read_text())
    assert manifest["seed"] == 11
    assert manifest["source_run"]["seed"] == json.loads((run / "run.json").read_text())["config"]["seed"]
    assert manifest["source_run"]["path"] == str(run.absolute())
    notes = _notes(written)
    assert sorted(p.name for p in (written / "notes").iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert sum(manifest["counts"].values()) == len(notes)
    n_encounters = sum(1 for es in _records(run)[1].values() for e in es if e["kind"] == "encounter")
    assert manifest["encounters"] == n_encounters
    assert set(notes[0]) == {"subject_id", "encounter_id", "time", "kind", "author_role", "title", "text", "provenance"}
    for n in notes:
        if n["kind"] == "discharge":
            assert all(h in n["text"] for h in ("BRIEF HOSPITAL COURSE:", "DISCHARGE MEDICATIONS:",
                                                 "DISCHARGE INSTRUCTIONS:", "FOLLOW-UP:"))
        elif n["kind"] != "radiology":  # radiology reports: tests/unit/notes/test_radiology.py
            assert all(h in n["text"] for h in ("CHIEF COMPLAINT:", "HISTORY OF PRESENT ILLNESS:", "MEDICATIONS:",
                                                 "ALLERGIES:", "ASSESSMENT AND PLAN:"))
        if n["kind"] == "hp":
            assert "PAST MEDICAL HISTORY:" in n["text"]


def test_same_seed_same_notes_other_seed_other_words_same_facts(run: Path, written: Path, tmp_path: Path) -> None:
    write_notes(run, tmp_path / "again", seed=11)
    assert _notes(tmp_path / "again") == _notes(written)
    write_notes(run, tmp_path / "other", seed=12)
    a, b = _notes(written), _notes(tmp_path / "other")
    assert [n["text"] for n in a] != [n["text"] for n in b]
    facts = [[sorted(s["events"]) for s in json.loads(n["provenance"])] for n in a]
    assert facts == [[sorted(s["events"]) for s in json.loads(n["provenance"])] for n in b]


def test_kinds_filter(run: Path, tmp_path: Path) -> None:
    result = write_notes(run, tmp_path / "soap", seed=1, kinds=["soap"])
    assert set(result.counts) == {"soap"} and {n["kind"] for n in _notes(tmp_path / "soap")} == {"soap"}
    with pytest.raises(ConfigError, match=re.escape("kinds must be among soap, hp, discharge, radiology; got ['progress']")):
        write_notes(run, tmp_path / "bad", kinds=["progress"])


def _visit(t: dt.datetime, eid: int, cls: str = "ambulatory") -> dict[str, Any]:
    return {"subject_id": 1, "kind": "encounter", "time": t, "end_time": t + dt.timedelta(minutes=15),
            "code_system": "SNOMED-CT", "code": "185345009", "display": "Encounter for symptom (procedure)",
            "numeric_value": None, "unit": None, "text_value": cls, "encounter_id": eid}


PERSON = {"subject_id": 1, "birth_time": dt.datetime(1980, 5, 1), "sex": "F"}


def test_allergy_stated_never_denied() -> None:
    t1, t2 = dt.datetime(2020, 1, 1, 9), dt.datetime(2021, 1, 1, 9)
    allergy = dict(_visit(t1, 1), kind="allergy", code="7980", code_system="RxNorm", display="Penicillin G",
                   end_time=None, text_value=None)
    events = [_visit(t1, 1), allergy, _visit(t2, 2)]
    for seed in range(10):
        later = note_for_encounter(PERSON, events, 2, seed=seed)[0]
        assert "penicillin g" in later.text.lower() and "no known" not in later.text.lower() and "NKDA" not in later.text
        cited = next(s for s in later.sentences if s.section == "ALLERGIES")
        assert cited.events == (event_key(allergy),) and cited.basis == "events"
    before = [_visit(t1 - dt.timedelta(days=30), 0), *events]
    first = note_for_encounter(PERSON, before, 0, seed=3)[0]
    assert "Penicillin" not in first.text
    assert next(s for s in first.sentences if s.section == "ALLERGIES").basis == "absence"


def test_only_active_medications_and_conditions() -> None:
    t = dt.datetime(2020, 6, 1, 9)
    row = dict(_visit(t, 0), code_system="SNOMED-CT", text_value=None)
    old = dict(row, kind="condition", code="1", display="Acute bronchitis (disorder)", time=t - dt.timedelta(days=90),
               end_time=t - dt.timedelta(days=80), encounter_id=0)
    chronic = dict(row, kind="condition", code="2", display="Essential hypertension (disorder)",
                   time=t - dt.timedelta(days=400), end_time=None, encounter_id=0)
    stopped = dict(row, kind="medication", code="3", display="amoxicillin 500 MG Oral Capsule",
                   time=t - dt.timedelta(days=90), end_time=t - dt.timedelta(days=80), encounter_id=0)
    taking = dict(row, kind="medication", code="4", display="lisinopril 10 MG Oral Tablet",
                  time=t - dt.timedelta(days=400), end_time=None, encounter_id=0)
    [note] = note_for_encounter(PERSON, [old, chronic, stopped, taking, _visit(t, 7, "wellness")], 7, seed=5)
    assert "essential hypertension" in note.text.lower() and "lisinopril 10 mg oral tablet" in note.text.lower()
    assert "bronchitis" not in note.text and "amoxicillin" not in note.text
    assert "40-year-old woman" in note.text
    with pytest.raises(ConfigError, match=re.escape("encounter_id 99 is not an encounter of these events")):
        note_for_encounter(PERSON, [chronic], 99)


def test_bad_input(tmp_path: Path, run: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(DataValidationError, match=re.escape("is not a Hygeia run folder (make one with `hygeia generate")):
        write_notes(tmp_path / "plain", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    with pytest.raises(OutputError, match="already exists"):
        write_notes(run, tmp_path / "taken", seed=1)
    with pytest.raises(OutputError, match=re.escape("does not look like a notes folder (no manifest.json)")):
        write_notes(run, tmp_path / "taken", seed=1, overwrite=True)
    assert (tmp_path / "taken" / "x").read_text() == "x"
    write_notes(run, tmp_path / "notes", seed=1)
    assert write_notes(run, tmp_path / "notes", seed=2, overwrite=True).seed == 2
    assert json.loads((tmp_path / "notes" / "manifest.json").read_text())["seed"] == 2
