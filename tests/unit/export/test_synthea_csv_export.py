"""The Synthea CSV exporter: Synthea 3.3's headers, value formats and UUIDs; every event accounted for."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import uuid
from pathlib import Path

import pyarrow.compute as pc
import pytest

from hygeia.core.storage import read_records
from hygeia.errors import OutputError
from hygeia.export import EXPORTERS, export
from hygeia.export._synthea_csv import SYNTHEA_FILES, SyntheaCsvExporter
from hygeia.population import generate

#: The header lines of Synthea 3.3.0's CSV exporter (``CSVConstants``), the NPI columns added after 3.3.0 aside.
SYNTHEA_3_3_HEADERS = {
    "patients": "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,MARITAL,RACE,"
                "ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,HEALTHCARE_EXPENSES,"
                "HEALTHCARE_COVERAGE,INCOME",
    "allergies": "START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY,REACTION1,DESCRIPTION1,"
                 "SEVERITY1,REACTION2,DESCRIPTION2,SEVERITY2",
    "medications": "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,"
                   "TOTALCOST,REASONCODE,REASONDESCRIPTION",
    "conditions": "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION",
    "careplans": "Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION",
    "observations": "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE",
    "procedures": "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION",
    "immunizations": "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST",
    "encounters": "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,"
                  "BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION",
    "imaging_studies": "Id,DATE,PATIENT,ENCOUNTER,SERIES_UID,BODYSITE_CODE,BODYSITE_DESCRIPTION,MODALITY_CODE,"
                       "MODALITY_DESCRIPTION,INSTANCE_UID,SOP_CODE,SOP_DESCRIPTION,PROCEDURE_CODE",
    "devices": "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UDI",
    "supplies": "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,QUANTITY",
    "organizations": "Id,NAME,ADDRESS,CITY,STATE,ZIP,LAT,LON,PHONE,REVENUE,UTILIZATION",
    "providers": "Id,ORGANIZATION,NAME,GENDER,SPECIALITY,ADDRESS,CITY,STATE,ZIP,LAT,LON,ENCOUNTERS,PROCEDURES",
    "payers": "Id,NAME,OWNERSHIP,ADDRESS,CITY,STATE_HEADQUARTERED,ZIP,PHONE,AMOUNT_COVERED,AMOUNT_UNCOVERED,REVENUE,"
              "COVERED_ENCOUNTERS,UNCOVERED_ENCOUNTERS,COVERED_MEDICATIONS,UNCOVERED_MEDICATIONS,COVERED_PROCEDURES,"
              "UNCOVERED_PROCEDURES,COVERED_IMMUNIZATIONS,UNCOVERED_IMMUNIZATIONS,UNIQUE_CUSTOMERS,QOLS_AVG,"
              "MEMBER_MONTHS",
    "payer_transitions": "PATIENT,MEMBERID,START_DATE,END_DATE,PAYER,SECONDARY_PAYER,PLAN_OWNERSHIP,OWNER_NAME",
    "claims": "Id,PATIENTID,PROVIDERID,PRIMARYPATIENTINSURANCEID,SECONDARYPATIENTINSURANCEID,DEPARTMENTID,"
              "PATIENTDEPARTMENTID,DIAGNOSIS1,DIAGNOSIS2,DIAGNOSIS3,DIAGNOSIS4,DIAGNOSIS5,DIAGNOSIS6,DIAGNOSIS7,"
              "DIAGNOSIS8,REFERRINGPROVIDERID,APPOINTMENTID,CURRENTILLNESSDATE,SERVICEDATE,SUPERVISINGPROVIDERID,"
              "STATUS1,STATUS2,STATUSP,OUTSTANDING1,OUTSTANDING2,OUTSTANDINGP,LASTBILLEDDATE1,LASTBILLEDDATE2,"
              "LASTBILLEDDATEP,HEALTHCARECLAIMTYPEID1,HEALTHCARECLAIMTYPEID2",
    "claims_transactions": "ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,METHOD,FROMDATE,TODATE,PLACEOFSERVICE,"
                           "PROCEDURECODE,MODIFIER1,MODIFIER2,DIAGNOSISREF1,DIAGNOSISREF2,DIAGNOSISREF3,"
                           "DIAGNOSISREF4,UNITS,DEPARTMENTID,NOTES,UNITAMOUNT,TRANSFEROUTID,TRANSFERTYPE,PAYMENTS,"
                           "ADJUSTMENTS,TRANSFERS,OUTSTANDING,APPOINTMENTID,LINENOTE,PATIENTINSURANCEID,"
                           "FEESCHEDULEID,PROVIDERID,SUPERVISINGPROVIDERID",
}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
#: Columns holding a time (Synthea's iso8601Timestamp) or a date (dateFromTimestamp), per file.
TIMES = {"encounters": ("START", "STOP"), "medications": ("START", "STOP"), "procedures": ("START", "STOP"),
         "devices": ("START", "STOP"), "observations": ("DATE",), "immunizations": ("DATE",),
         "imaging_studies": ("DATE",)}
DATES = {"patients": ("BIRTHDATE", "DEATHDATE"), "conditions": ("START", "STOP"), "allergies": ("START", "STOP"),
         "careplans": ("START", "STOP"), "supplies": ("DATE",)}
UUIDS = {"patients": ("Id",), "encounters": ("Id", "PATIENT", "ORGANIZATION", "PROVIDER"),
         "careplans": ("Id", "PATIENT", "ENCOUNTER"), "imaging_studies": ("Id", "PATIENT", "ENCOUNTER"),
         "organizations": ("Id",), "providers": ("Id", "ORGANIZATION"),
         **{f: ("PATIENT", "ENCOUNTER") for f in ("conditions", "medications", "observations", "procedures",
                                                  "immunizations", "devices")}}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthea_csv") / "run"
    generate(n=10, seed=11, shard_size=4, out=out)  # three shards
    return out


@pytest.fixture(scope="module")
def exported(run) -> tuple[Path, dict]:
    out = run.parent / "synthea"
    return out, export(run, "synthea-csv", out)


def rows(root: Path, name: str) -> list[dict[str, str]]:
    with (root / f"{name}.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_registered():
    assert EXPORTERS["synthea-csv"] is SyntheaCsvExporter


def test_files_and_headers_are_synthea_3_3s(exported):
    root, counts = exported
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{n}.csv" for n in SYNTHEA_FILES)
    assert set(SYNTHEA_3_3_HEADERS) == set(SYNTHEA_FILES)
    for name, line in SYNTHEA_3_3_HEADERS.items():
        with (root / f"{name}.csv").open(newline="") as f:
            assert next(csv.reader(f)) == line.split(","), name
    for name in ("payers", "payer_transitions", "claims", "claims_transactions"):  # not simulated: header only
        assert counts[name] == 0 and len((root / f"{name}.csv").read_text().splitlines()) == 1


def test_every_event_is_written_once_or_counted_as_skipped(run, exported):
    root, counts = exported
    persons, events = read_records(run)
    assert counts["patients"] == len(rows(root, "patients")) == persons.num_rows
    skipped = sum(v for k, v in counts.items() if k.startswith("skipped: "))
    written = sum(counts[f] for f in SYNTHEA_FILES if f not in ("patients", "organizations", "providers"))
    series = sum(len(t.split("; ")) - 1 for t in events.filter(pc.equal(events["kind"], "imaging"))["text_value"]
                 .to_pylist())
    assert written - series + skipped == events.num_rows
    kinds = events["kind"]
    assert counts.get("skipped: diagnostic_report", 0) == pc.sum(pc.equal(kinds, "diagnostic_report")).as_py()
    for name in SYNTHEA_FILES:
        assert len(rows(root, name)) == counts[name], name


def test_values_are_formatted_as_synthea_writes_them(exported):
    root, _ = exported
    for groups, pattern in ((TIMES, TIME), (DATES, DATE)):
        for name, columns in groups.items():
            for row in rows(root, name):
                for c in columns:
                    assert row[c] == "" or pattern.match(row[c]), (name, c, row[c])
    for name, columns in UUIDS.items():
        for row in rows(root, name):
            for c in columns:
                assert str(uuid.UUID(row[c])) == row[c], (name, c)
    ids = [r["Id"] for r in rows(root, "encounters")]
    assert len(set(ids)) == len(ids)
    obs = rows(root, "observations")
    assert {r["TYPE"] for r in obs} <= {"numeric", "text"} and all(r["VALUE"] for r in obs)
    for r in obs:
        if r["TYPE"] == "numeric":
            float(r["VALUE"])
        else:
            assert "|" not in r["VALUE"]  # a coded answer is written as its display, as Synthea does
    assert {r["CATEGORY"] for r in obs} <= {"vital-signs", "social-history", "survey", "laboratory", "exam"}
    assert {r["ENCOUNTERCLASS"] for r in rows(root, "encounters")} <= {
        "wellness", "ambulatory", "outpatient", "inpatient", "emergency", "urgentcare", "home", "hospice", "snf",
        "virtual"}


def test_times_are_floored_to_the_second_before_1970_too(run, exported):
    root, _ = exported
    persons, _ = read_records(run)
    births = sorted(persons["birth_time"].to_pylist())
    assert sorted(r["BIRTHDATE"] for r in rows(root, "patients")) == [b.date().isoformat() for b in births]
    _, events = read_records(run)
    enc = events.filter(pc.equal(events["kind"], "encounter"))["time"].to_pylist()
    want = sorted(t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ") for t in enc)
    assert sorted(r["START"] for r in rows(root, "encounters")) == want
    assert any(t < dt.datetime(1970, 1, 1) for t in enc)  # the case where truncation toward zero would round up


def test_organizations_and_providers_serve_every_encounter(exported):
    root, counts = exported
    orgs = {r["Id"]: r for r in rows(root, "organizations")}
    provs = {r["Id"]: r for r in rows(root, "providers")}
    enc = rows(root, "encounters")
    assert {r["ORGANIZATION"] for r in enc} == set(orgs) and {r["PROVIDER"] for r in enc} == set(provs)
    assert sum(int(o["UTILIZATION"]) for o in orgs.values()) == len(enc)
    assert sum(int(p["PROCEDURES"]) for p in provs.values()) == counts["procedures"]
    assert all(p["ORGANIZATION"] in orgs for p in provs.values())


def test_ids_are_reproducible_and_are_the_fhir_exports(run, exported, tmp_path):
    root, _ = exported
    again = tmp_path / "again"
    export(run, "synthea-csv", again)
    for name in SYNTHEA_FILES:
        assert (again / f"{name}.csv").read_bytes() == (root / f"{name}.csv").read_bytes(), name
    fhir = tmp_path / "ndjson"
    export(run, "ndjson", fhir)
    patients = {json.loads(line)["id"] for line in (fhir / "Patient.ndjson").read_text().splitlines()}
    encounters = {json.loads(line)["id"] for line in (fhir / "Encounter.ndjson").read_text().splitlines()}
    assert {r["Id"] for r in rows(root, "patients")} == patients
    assert {r["Id"] for r in rows(root, "encounters")} == encounters
    orgs = {json.loads(line)["id"] for line in (fhir / "Organization.ndjson").read_text().splitlines()}
    assert {r["Id"] for r in rows(root, "organizations")} == orgs


def test_an_existing_folder_is_kept_without_overwrite(run, exported):
    root, _ = exported
    before = (root / "patients.csv").read_bytes()
    with pytest.raises(OutputError, match="already exists. Choose another --out, or pass --overwrite"):
        export(run, "synthea-csv", root)
    assert (root / "patients.csv").read_bytes() == before


def test_rendered_images_give_one_row_per_instance_with_their_dicom_uids(tmp_path):
    pytest.importorskip("pydicom")
    pytest.importorskip("nibabel")
    from hygeia.imaging import read_images_manifest, render_run_images

    run = tmp_path / "run"
    generate(n=6, seed=4, out=run, workers=1)
    render_run_images(run, size=48)
    manifest = read_images_manifest(run)
    assert manifest and manifest["studies"]
    counts = export(run, "synthea-csv", tmp_path / "out")
    got = rows(tmp_path / "out", "imaging_studies")
    assert len(got) == counts["imaging_studies"]
    by_instance = {r["INSTANCE_UID"]: r for r in got if r["INSTANCE_UID"]}
    made = [(s, i) for study in manifest["studies"] for s in study["series"] for i in s["instances"]]
    assert made and len(by_instance) == len(made)
    for series, instance in made:
        row = by_instance[instance["uid"]]
        assert row["SERIES_UID"] == series["series_uid"] and row["SOP_CODE"] == series["sop_class_uid"]
        assert row["BODYSITE_CODE"] == series["body_site"]["code"] and row["MODALITY_CODE"] == series["modality"]
    _, events = read_records(run)
    studies = events.filter(pc.equal(events["kind"], "imaging"))["text_value"].to_pylist()
    series_without_images = sum(len(t.split("; ")) for t in studies) - sum(
        len(study["series"]) for study in manifest["studies"])
    assert len(got) == len(made) + series_without_images
