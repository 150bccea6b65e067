"""FHIR import: NDJSON or Bundles -> Hygeia records, lossless round trips, and errors that teach."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pytest
from test_fhir_export import make_run, read_ndjson

from hygeia.core.storage import read_records, read_run_info
from hygeia.errors import DataValidationError
from hygeia.export import export
from hygeia.export.fhir import import_fhir


def canonical(table) -> list[tuple]:
    """Rows as a sorted list (the order of facts at one instant is not part of the record)."""
    return sorted(tuple((v is None, str(v)) for v in row.values()) for row in table.to_pylist())


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("fhir-import") / "run")


@pytest.fixture(scope="module")
def ndjson(run) -> Path:
    export(run, "ndjson", run.parent / "ndjson")
    return run.parent / "ndjson"


# -- round trips ---------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["ndjson", "fhir"])
def test_records_to_fhir_to_records_keeps_every_mapped_fact(run, tmp_path, fmt):
    export(run, fmt, tmp_path / "fhir")
    counts = import_fhir(tmp_path / "fhir", tmp_path / "back")
    p0, e0 = read_records(run)
    p1, e1 = read_records(tmp_path / "back")
    assert p1.equals(p0)
    mapped = e0.filter(pc.not_equal(e0["kind"], "symptom"))  # the one kind FHIR export skips, and says so
    assert canonical(e1) == canonical(mapped)
    assert counts["persons"] == 2 and counts["events"] == mapped.num_rows
    assert read_run_info(tmp_path / "back")["config"]["seed"] == 11


def test_ndjson_to_records_to_ndjson_is_byte_identical(ndjson, tmp_path):
    import_fhir(ndjson, tmp_path / "records")
    export(tmp_path / "records", "ndjson", tmp_path / "again")
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == sorted(p.name for p in ndjson.iterdir())
    for f in ndjson.iterdir():
        assert (tmp_path / "again" / f.name).read_text() == f.read_text(), f.name


def test_import_says_what_it_skipped(ndjson, tmp_path):
    counts = import_fhir(ndjson, tmp_path / "records")
    assert counts["skipped"] == {"Organization": 2, "Practitioner": 2}
    assert read_run_info(tmp_path / "records")["import"]["skipped"] == counts["skipped"]


# -- foreign FHIR (no Hygeia extensions) -----------------------------------------------
FOREIGN = {
    "resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:p1", "resource": {
            "resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-02-03",
            "name": [{"family": "Smith", "given": ["John"]}], "address": [{"state": "MA"}]}},
        {"fullUrl": "urn:uuid:e1", "resource": {
            "resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "EMER"},
            "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "50849002"}]}],
            "subject": {"reference": "urn:uuid:p1"},
            "period": {"start": "2020-01-01T10:00:00+02:00", "end": "2020-01-01T11:00:00+02:00"}}},
        {"fullUrl": "urn:uuid:o1", "resource": {
            "resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "BP"}]},
            "subject": {"reference": "urn:uuid:p1"}, "encounter": {"reference": "urn:uuid:e1"},
            "effectiveDateTime": "2020-01-01T08:10:00Z",
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                 "valueQuantity": {"value": 120, "unit": "mm[Hg]"}},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                 "valueQuantity": {"value": 80, "unit": "mm[Hg]"}}]}},
        {"fullUrl": "urn:uuid:c1", "resource": {
            "resourceType": "Claim", "id": "c1", "status": "active"}},
    ]}


def test_foreign_bundles_import_with_defaults(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "smith.json").write_text(json.dumps(FOREIGN))
    counts = import_fhir(tmp_path / "in", tmp_path / "records")
    assert counts["skipped"] == {"Claim": 1}
    persons, events = read_records(tmp_path / "records")
    (p,) = persons.to_pylist()
    assert (p["subject_id"], p["sex"], p["state"], p["race"], p["given_name"]) == (1, "M", "Massachusetts",
                                                                                   "unknown", "John")
    rows = events.to_pylist()
    assert Counter(r["kind"] for r in rows) == {"encounter": 1, "observation": 3}
    enc = next(r for r in rows if r["kind"] == "encounter")
    assert enc["text_value"] == "emergency" and enc["encounter_id"] == 10_000_001
    assert enc["time"].isoformat() == "2020-01-01T08:00:00"  # +02:00 read as UTC
    assert {r["code"]: r["numeric_value"] for r in rows if r["kind"] == "observation"} == {
        "85354-9": None, "8480-6": 120.0, "8462-4": 80.0}  # components become rows
    assert all(r["encounter_id"] == 10_000_001 and r["module"] == "fhir_import" for r in rows)


# -- bad input -------------------------------------------------------------------------
def _copy(ndjson: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in ndjson.iterdir():
        (dst / f.name).write_text(f.read_text())
    return dst


def test_a_truncated_line_names_file_line_and_fix(ndjson, tmp_path):
    src = _copy(ndjson, tmp_path / "in")
    f = src / "Observation.ndjson"
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join(lines[:4]) + lines[4][: len(lines[4]) // 2])  # an export cut off mid-line
    with pytest.raises(DataValidationError, match=re.escape(
            f"{f}:5: not valid JSON (Unterminated string starting at, column")) as err:
        import_fhir(src, tmp_path / "out")
    assert "re-export the file, or delete the broken line" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_an_unknown_resource_type_names_file_line_and_fix(ndjson, tmp_path):
    src = _copy(ndjson, tmp_path / "in")
    f = src / "Condition.ndjson"
    lines = f.read_text().splitlines(keepends=True)
    lines.insert(1, json.dumps({"resourceType": "Conditions", "id": "x"}) + "\n")
    f.write_text("".join(lines))
    with pytest.raises(DataValidationError, match=re.escape(
            f"{f}:2: unknown resourceType 'Conditions': not a FHIR R4 (4.0.1) resource type. Fix the "
            "resourceType (names are case-sensitive, e.g. 'Observation'), or remove this line")):
        import_fhir(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_empty_file_is_named(ndjson, tmp_path):
    src = _copy(ndjson, tmp_path / "in")
    (src / "Procedure.ndjson").write_text("")
    with pytest.raises(DataValidationError, match=re.escape(
            f"{src / 'Procedure.ndjson'}: the file is empty (no FHIR resources). Remove it, or re-run the export")):
        import_fhir(src, tmp_path / "out")


def test_every_problem_is_reported_at_once(ndjson, tmp_path):
    src = _copy(ndjson, tmp_path / "in")
    (src / "Procedure.ndjson").write_text("")
    (src / "Device.ndjson").write_text('{"resourceType": "Device", "id": "d"\n')
    with pytest.raises(DataValidationError, match=r"\(2 problems\)") as err:
        import_fhir(src, tmp_path / "out")
    assert f"{src / 'Device.ndjson'}:1: not valid JSON" in str(err.value)


def test_a_reference_to_a_missing_patient_is_named(ndjson, tmp_path):
    src = _copy(ndjson, tmp_path / "in")
    (src / "Patient.ndjson").unlink()
    first = json.loads((src / "CarePlan.ndjson").read_text().splitlines()[0])
    with pytest.raises(DataValidationError, match=re.escape(
            f"{src / 'CarePlan.ndjson'}:1: CarePlan/{first['id']}: its patient reference "
            f"'{first['subject']['reference']}' names no Patient in the input; include the Patient resources")):
        import_fhir(src, tmp_path / "out")


def test_a_folder_without_fhir_files_is_an_error(tmp_path):
    with pytest.raises(DataValidationError, match=re.escape(f"{str(tmp_path)!r} holds no .ndjson or .json files")):
        import_fhir(tmp_path, tmp_path / "out")


def test_the_cli_imports(ndjson, tmp_path):
    from click.testing import CliRunner

    from hygeia.cli.main import main

    result = CliRunner().invoke(main, ["import-fhir", str(ndjson), "--out", str(tmp_path / "records")])
    assert result.exit_code == 0, result.output
    assert read_records(tmp_path / "records")[0].num_rows == len(read_ndjson(ndjson)["Patient"])
