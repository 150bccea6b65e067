"""Clinical notes in the exports: note events -> FHIR DocumentReference/Composition, OMOP note, MEDS, CSV."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from hygeia.core.schema import EVENTS_SCHEMA
from hygeia.core.storage import read_records
from hygeia.errors import ConfigError, DataValidationError
from hygeia.export import export
from hygeia.export._notes import (
    NOTE_TYPES,
    NotesSource,
    note_author,
    note_events,
    note_sections,
)
from hygeia.notes import NOTES_SCHEMA, write_notes
from hygeia.population import generate

PROVENANCE = "notes-0.1.0:seed-1"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("notes_export")
    generate(n=4, seed=21, shard_size=2, out=root / "run")  # two shards: notes must follow their persons
    result = write_notes(root / "run", root / "notes", seed=1)
    notes = pa.concat_tables(pq.read_table(p) for p in sorted((root / "notes" / "notes").glob("*.parquet")))
    return {"root": root, "run": root / "run", "notes": root / "notes", "table": notes, "result": result}


def _key(subject_id, encounter_id, time, code, text) -> tuple:
    return subject_id, encounter_id, time, code, text


def _expected(notes: pa.Table) -> list[tuple]:
    return sorted(_key(n["subject_id"], n["encounter_id"], n["time"], NOTE_TYPES[n["kind"]][0], n["text"])
                  for n in notes.to_pylist())


# -- the note events -------------------------------------------------------------------
def test_note_events_follow_the_documented_convention(written):
    notes = written["table"]
    events = note_events(notes, PROVENANCE)
    assert events.schema.equals(EVENTS_SCHEMA) and events.num_rows == notes.num_rows
    for n, e in zip(notes.to_pylist(), events.to_pylist()):
        assert (e["kind"], e["code_system"], e["code"]) == ("note", "LOINC", NOTE_TYPES[n["kind"]][0])
        assert (e["display"], e["text_value"], e["time"]) == (n["title"], n["text"], n["time"])
        assert (e["subject_id"], e["encounter_id"], e["module"]) == (n["subject_id"], n["encounter_id"], PROVENANCE)
        assert note_author(e) == (n["kind"], n["author_role"])
    assert {"soap", "hp", "discharge"} <= set(notes["kind"].to_pylist())


def test_an_unknown_note_kind_is_refused():
    t = dt.datetime(2020, 1, 1)
    table = pa.table({"subject_id": [1], "encounter_id": [2], "time": [t], "kind": ["haiku"],
                      "author_role": ["poet"], "title": ["Haiku"], "text": ["Old pond."], "provenance": ["[]"]},
                     schema=NOTES_SCHEMA)
    with pytest.raises(DataValidationError, match=re.escape("cannot export notes of kind 'haiku'")):
        note_events(table, PROVENANCE)


def test_sections_of_a_written_discharge_summary(written):
    text = next(n["text"] for n in written["table"].to_pylist() if n["kind"] == "discharge")
    titles = [h for h, _ in note_sections(text)]
    assert titles[:2] == ["ADMISSION DATE", "DISCHARGE DATE"]
    assert {"BRIEF HOSPITAL COURSE", "DISCHARGE INSTRUCTIONS"} <= set(titles)
    assert note_sections("plain words") == [("NOTE", "plain words")]


def test_a_folder_that_is_not_a_notes_folder_is_refused(written, tmp_path):
    with pytest.raises(ConfigError, match=re.escape("is not a notes folder (no manifest.json and notes/ in it)")):
        export(written["run"], "csv", tmp_path / "csv", notes=tmp_path)
    assert not (tmp_path / "csv").exists()


def test_notes_of_another_run_are_refused(written, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(written["notes"], other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["source_run"]["seed"] = 99
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match=re.escape("holds notes written from another run (seed 99")):
        export(written["run"], "meds", tmp_path / "meds", notes=other)


def test_notes_of_persons_not_in_the_shard_are_refused(written, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(written["notes"], moved)
    parts = sorted((moved / "notes").glob("*.parquet"))
    parts[0].rename(moved / "notes" / "keep.tmp")
    parts[1].rename(parts[0])
    (moved / "notes" / "keep.tmp").rename(parts[1])  # shard 0's notes swapped with shard 1's
    with pytest.raises(ConfigError, match="who is not in shard 0 of the run"):
        export(written["run"], "csv", tmp_path / "csv", notes=moved)
    assert not (tmp_path / "csv").exists()
    assert NotesSource(written["notes"], json.loads((written["run"] / "run.json").read_text())).provenance == \
        PROVENANCE


def test_notes_for_shards_the_run_does_not_have_are_refused(written, tmp_path):
    extra = tmp_path / "extra"
    shutil.copytree(written["notes"], extra)
    shutil.copy(extra / "notes" / "part-00000.parquet", extra / "notes" / "part-00007.parquet")
    with pytest.raises(ConfigError, match=re.escape("has notes for shards the run does not have (part-00007.parquet)")):
        export(written["run"], "csv", tmp_path / "csv", notes=extra)
    assert not (tmp_path / "csv").exists()


# -- FHIR ----------------------------------------------------------------------------
def test_fhir_document_references_and_compositions(written):
    pytest.importorskip("fhirkit", reason="the FHIR validator needs fhirkit-rs")
    from hygeia.export.fhir import validate_fhir

    root, notes = written["root"], written["table"]
    counts = export(written["run"], "ndjson", root / "ndjson", notes=written["notes"])
    kinds = notes["kind"].to_pylist()
    assert counts["DocumentReference"] == len(kinds)
    assert counts["Composition"] == kinds.count("discharge") > 0
    assert not any(k.startswith("skipped") for k in counts)
    report = validate_fhir(root / "ndjson")
    assert report.errors == []
    assert report.by_type["DocumentReference"] == len(kinds)

    encounters = {}
    for line in (root / "ndjson" / "Encounter.ndjson").read_text().splitlines():
        enc = json.loads(line)
        encounters[f"Encounter/{enc['id']}"] = int(enc["identifier"][0]["value"])
    docs = [json.loads(line) for line in (root / "ndjson" / "DocumentReference.ndjson").read_text().splitlines()]
    by_text = {n["text"]: n for n in notes.to_pylist()}
    for doc in docs:
        attachment = doc["content"][0]["attachment"]
        assert attachment["contentType"] == "text/plain; charset=utf-8"
        note = by_text[base64.b64decode(attachment["data"]).decode("utf-8")]
        assert doc["status"] == "current" and doc["category"][0]["coding"][0]["code"] == "clinical-note"
        assert doc["type"]["coding"][0] == {"system": "http://loinc.org", "code": NOTE_TYPES[note["kind"]][0],
                                            "display": NOTE_TYPES[note["kind"]][1]}
        assert encounters[doc["context"]["encounter"][0]["reference"]] == note["encounter_id"]
        assert doc["author"][0]["display"].lower() == note["author_role"]
        assert doc["meta"]["source"] == f"urn:hygeia:fhir:{PROVENANCE}" and PROVENANCE in doc["description"]
        assert attachment["title"] == note["title"]
    comp = json.loads((root / "ndjson" / "Composition.ndjson").read_text().splitlines()[0])
    assert comp["type"]["coding"][0]["code"] == "18842-5"
    titles = [s["title"] for s in comp["section"]]
    assert "Brief Hospital Course" in titles and "Discharge Instructions" in titles
    assert all(s["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">') for s in comp["section"])


def test_fhir_bundles_with_notes_validate(written):
    pytest.importorskip("fhirkit", reason="the FHIR validator needs fhirkit-rs")
    from hygeia.export.fhir import validate_fhir

    root = written["root"]
    counts = export(written["run"], "fhir", root / "bundles", notes=written["notes"])
    assert counts["DocumentReference"] == written["table"].num_rows
    assert validate_fhir(root / "bundles").errors == []


def test_fhir_import_gives_the_note_events_back(written, tmp_path):
    from hygeia.export.fhir import import_fhir

    export(written["run"], "ndjson", tmp_path / "bulk", notes=written["notes"])
    result = import_fhir(tmp_path / "bulk", tmp_path / "records")
    assert result["skipped"]["Composition"] == written["table"]["kind"].to_pylist().count("discharge")
    _, events = read_records(tmp_path / "records")
    got = events.filter(pc.equal(events["kind"], "note"))
    want = note_events(written["table"], PROVENANCE)
    cols = ["subject_id", "time", "code_system", "code", "display", "text_value", "encounter_id", "module", "state"]
    assert sorted(zip(*(got[c].to_pylist() for c in cols))) == sorted(zip(*(want[c].to_pylist() for c in cols)))


# -- OMOP, MEDS, CSV ---------------------------------------------------------------------
def test_omop_note_table(written, tmp_path):
    path = tmp_path / "cdm.duckdb"
    counts = export(written["run"], "omop", path, notes=written["notes"])
    notes = written["table"]
    assert counts["note"] == notes.num_rows
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("""
            SELECT n.person_id, CAST(v.visit_source_value AS BIGINT), n.note_datetime, split_part(n.note_source_value,
                   '|', 1), n.note_text, n.note_title, n.note_type_concept_id, n.note_class_concept_id,
                   n.encoding_concept_id, n.language_concept_id, split_part(n.note_source_value, '|', 2),
                   n.person_id = v.person_id
            FROM note n JOIN visit_occurrence v USING (visit_occurrence_id)""").fetchall()
        ids = [r[0] for r in con.execute("SELECT note_id FROM note ORDER BY note_id").fetchall()]
        # note_class_concept_id: the LOINC document type's standard concept in the loaded vocabulary
        classes = dict(con.execute("SELECT concept_code, concept_id FROM concept WHERE vocabulary_id = 'LOINC'").fetchall())
    assert ids == list(range(1, notes.num_rows + 1))  # numbered on across the two shards
    assert sorted(r[:5] for r in rows) == _expected(notes)
    assert {r[6:7] + r[8:] for r in rows} == {(32817, 32678, 4180186, PROVENANCE, True)}
    assert all(r[7] == classes[r[3]] != 0 for r in rows)
    assert {r[5] for r in rows} == set(notes["title"].to_pylist())


def test_omop_without_notes_has_an_empty_note_table(written, tmp_path):
    counts = export(written["run"], "omop", tmp_path / "cdm.duckdb")
    assert counts["note"] == 0


def test_meds_rows_carry_the_text(written, tmp_path):
    meds = pytest.importorskip("meds")
    root = tmp_path / "meds"
    export(written["run"], "meds", root, notes=written["notes"])
    for p in sorted((root / meds.data_subdirectory).rglob("*.parquet")):
        meds.DataSchema.validate(pq.read_table(p))
    codes = pq.read_table(root / meds.code_metadata_filepath)
    meds.CodeMetadataSchema.validate(codes)
    data = pa.concat_tables(pq.read_table(p) for p in sorted((root / meds.data_subdirectory).rglob("*.parquet")))
    rows = data.filter(pc.equal(data["kind"], "note")).to_pylist()
    assert sorted(_key(r["subject_id"], r["encounter_id"], r["time"], r["code"].removeprefix("LOINC//"),
                       r["text_value"]) for r in rows) == _expected(written["table"])
    described = dict(zip(codes["code"].to_pylist(), codes["description"].to_pylist()))
    assert described["LOINC//18842-5"] == "Discharge summary" and described["LOINC//11506-3"] == "Progress note"


def test_csv_notes_table(written, tmp_path):
    counts = export(written["run"], "csv", tmp_path / "csv", notes=written["notes"])
    table = pcsv.read_csv(tmp_path / "csv" / "notes.csv",
                          convert_options=pcsv.ConvertOptions(column_types={"CODE": pa.string()}))
    notes = written["table"]
    assert counts["notes"] == table.num_rows == notes.num_rows
    assert sorted(zip(table["PATIENT"].to_pylist(), table["ENCOUNTER"].to_pylist(), table["NOTE_KIND"].to_pylist(),
                      table["AUTHOR_ROLE"].to_pylist(), table["TITLE"].to_pylist(), table["TEXT"].to_pylist())) == \
        sorted(zip(*(notes[c].to_pylist() for c in ("subject_id", "encounter_id", "kind", "author_role", "title",
                                                      "text"))))
    assert set(table["MODULE"].to_pylist()) == {PROVENANCE}
    assert counts["other_events"] == export(written["run"], "csv", tmp_path / "plain")["other_events"]
