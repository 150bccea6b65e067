"""The FHIR R4 exporters on a tiny hand-made run holding every event kind and its edge cases.

``make_run`` is the fixture other ``test_fhir_*`` modules import.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute below)
import pytest

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.core.storage import RunWriter

T0 = dt.datetime(2020, 3, 1, 8, 30)


def _t(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


PERSONS = [
    dict(subject_id=1, birth_time=dt.datetime(1960, 5, 4, 3, 2, 1, 123456), death_time=_t(600), sex="F",
         race="black", ethnicity="hispanic", locale="us", given_name="Ada", family_name="Lovelace", state="Texas",
         income=52000, education="bs_degree", marital_status="M", seed=18446744073709551615),
    dict(subject_id=2, birth_time=dt.datetime(1990, 1, 1), death_time=None, sex="M", race="other",
         ethnicity="nonhispanic", locale="us", given_name=None, family_name="Doe", state=None, income=None,
         education=None, marital_status=None, seed=7),
]

E1, E2, E3 = 10_000_001, 10_000_002, 20_000_001
_ROWS = [
    # subject, minutes, end, kind, system, code, display, value, unit, text, encounter, module, state
    (1, 0, 30, "encounter", "SNOMED-CT", "185349003", "Encounter for check up", None, None, "wellness", E1,
     "lifecycle", "Wellness_Encounter"),
    (1, 0, None, "observation", "LOINC", "85354-9", "Blood pressure panel", None, None, None, E1, "vitals", "BP"),
    (1, 0, None, "observation", "LOINC", "8480-6", "Systolic blood pressure", 128.0, "mm[Hg]", None, E1, "vitals",
     "BP"),
    (1, 0, None, "observation", "LOINC", "8462-4", "Diastolic blood pressure", 81.0, "mm[Hg]", None, E1, "vitals",
     "BP"),
    (1, 0, None, "diagnostic_report", "LOINC", "51990-0", "Basic metabolic panel", None, None, None, E1, "labs",
     "BMP"),
    (1, 0, None, "observation", "LOINC", "2339-0", "Glucose", 97.25, "mg/dL", None, E1, "labs", "BMP"),
    (1, 0, None, "observation", "LOINC", "6690-2", "Leukocytes", 7.1, "K/uL", None, E1, "labs", "BMP"),
    (1, 0, None, "observation", "LOINC", "72166-2", "Tobacco smoking status", None, None,
     "SNOMED-CT|266919005|Never smoked tobacco (finding)", E1, "lifecycle", "Smoking"),
    (1, 0, None, "observation", "LOINC", "77606-2", "Weight-for-length", None, "%", None, E1, "vitals", "WFL"),
    (1, 0, None, "observation", "LOINC", "X-1", "Free text answer", None, None, "feels fine", E1, "m", "Text"),
    (1, 0, None, "observation", "LOINC", "X-2", "Value and text", 3.0, "n/a", "also text", E1, "m", "Both"),
    (1, 0, None, "observation", None, None, None, 1.5, None, None, None, "m", "Uncoded"),
    (1, 0, None, "immunization", "CVX", "08", "Hep B, adolescent or pediatric", None, None, None, E1, "lifecycle",
     "Immunization"),
    (1, 1, 120, "condition", "SNOMED-CT", "54150009", "Upper respiratory infection", None, None, None, E1, "uri",
     "Diagnose"),
    (1, 1, None, "condition", "FOO system", "x y", "Odd system", None, None, None, None, "uri", "Odd"),
    (1, 2, 90, "medication", "RxNorm", "308189", "amoxicillin 80 MG/ML Oral Suspension", None, None, None, E1, "uri",
     "Rx"),
    (1, 2, None, "medication", "RxNorm", "617310", "atorvastatin 20 MG Oral Tablet", None, None, "chronic", E1,
     "statin", "Order"),
    (1, 2, None, "medication", "RxNorm", "2193", "ceftriaxone", None, None, "as needed", 99_999, "m", "Orphan"),
    (1, 3, 20, "procedure", "SNOMED-CT", "1290459008", "Plain X-ray of ankle region", None, None, None, E1,
     "fractures", "Xray"),
    (1, 3, None, "procedure", "SNOMED-CT", "306206005", "Referral to service", None, None, None, E1, "m", "Refer"),
    (1, 3, 50, "device", "SNOMED-CT", "74566002", "Crutch, device", None, None, None, E1, "fractures", "Crutches"),
    (1, 3, None, "careplan", "SNOMED-CT", "385691007", "Fracture care",
     None, None, "Rest, ice, compression and elevation (regime/therapy); Restriction of movement", E1, "fractures",
     "Plan"),
    (1, 3, 40, "careplan", "SNOMED-CT", "718347000", "Mental health care plan", None, None, None, E1, "m", "Plan2"),
    (1, 4, None, "allergy", "RxNorm", "7980", "Penicillin G", None, None, None, E1, "allergies", "Pen"),
    (1, 4, 300, "allergy", "SNOMED-CT", "735971005", "Fish (substance)", None, None, None, E1, "allergies", "Fish"),
    (1, 5, None, "supply", "SNOMED-CT", "277183007", "Dental equipment", 2.0, None, None, E1, "dental", "Supplies"),
    (1, 5, None, "imaging", "SNOMED-CT", "241046008", "Dental plain X-ray bitewing", None, None,
     "DX:Structure of region of internal part of mouth (body structure); CR:Thoracic structure", E1, "dental",
     "Xray"),
    (1, 5, None, "imaging", "SNOMED-CT", "168731009", "Chest X-ray", None, None, "no series here", E1, "m", "Img"),
    (1, 6, None, "procedure", "SNOMED-CT", "430193006", "Medication reconciliation", None, None, None, E1, "m",
     "Twice"),
    (1, 6, None, "procedure", "SNOMED-CT", "430193006", "Medication reconciliation", None, None, None, E1, "m",
     "Twice"),
    (1, 600, None, "death", "SNOMED-CT", "419620001", "Death (event)", None, None, None, None, "lifecycle", "Death"),
    (2, 10, 55, "encounter", "SNOMED-CT", "50849002", "Emergency room admission", None, None, "emergency", E3,
     "injuries", "ER"),
    (2, 10, None, "observation", "LOINC", "8310-5", "Body temperature", 37.25, "Cel", None, E3, "vitals", "Temp"),
    (2, 11, None, "death", None, None, None, None, None, None, None, "m", "UncodedDeath"),
    (2, 12, None, "symptom", None, None, "cough", 3.0, None, None, None, "m", "Symptom"),
]


def events_table() -> pa.Table:
    cols = list(zip(*_ROWS))
    data = {
        "subject_id": cols[0], "time": [_t(m) for m in cols[1]],
        "end_time": [_t(m) if m is not None else None for m in cols[2]], "kind": cols[3], "code_system": cols[4],
        "code": cols[5], "display": cols[6], "numeric_value": cols[7], "unit": cols[8], "text_value": cols[9],
        "encounter_id": cols[10], "module": cols[11], "state": cols[12],
    }
    return pa.Table.from_pydict(data, schema=EVENTS_SCHEMA)


def make_run(out: Path, seed: int = 11) -> Path:
    """Write the fixture as a run folder (two shards: one person each)."""
    persons = pa.Table.from_pylist(PERSONS, schema=PERSONS_SCHEMA)
    events = events_table()
    with RunWriter(out, shards=2) as w:
        for k, sid in enumerate((1, 2)):
            w.write_shard(k, persons.filter(pa.compute.equal(persons["subject_id"], sid)),
                          events.filter(pa.compute.equal(events["subject_id"], sid)))
        w.finish({"config": {"seed": seed}, "hygeia_version": "0.1.0"})
    return out


# -- helpers -------------------------------------------------------------------------
def read_ndjson(root: Path) -> dict[str, list[dict]]:
    """Resources by type from an NDJSON export."""
    return {p.stem: [json.loads(line) for line in p.read_text().splitlines()] for p in sorted(root.glob("*.ndjson"))}


def read_bundles(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(root.glob("*.json"))]


def unresolved_ndjson(resources: dict[str, list[dict]]) -> list[str]:
    """References (``Type/id``) that name no resource of the export: checked without the validator."""
    known = {f"{r['resourceType']}/{r['id']}" for rs in resources.values() for r in rs}
    bad = []

    def walk(x: object) -> None:
        if isinstance(x, dict):
            if isinstance(x.get("reference"), str) and x["reference"] not in known:
                bad.append(x["reference"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(resources)
    return bad


def unresolved_bundle(bundle: dict) -> list[str]:
    known = {e["fullUrl"] for e in bundle["entry"]}
    text = json.dumps([e["resource"] for e in bundle["entry"]])
    return [ref for ref in _refs(text) if ref not in known]


def _refs(text: str) -> list[str]:
    import re

    return re.findall(r'"reference": "([^"]+)"', text)


def record_ext(res: dict) -> dict:
    ext = next(e for e in res["extension"] if e["url"] == "https://hygeia.dev/fhir/StructureDefinition/record")
    return {e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in ext["extension"]}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("fhir") / "run")


@pytest.fixture(scope="module")
def ndjson(run) -> tuple[Path, dict]:
    from hygeia.export import export

    out = run.parent / "ndjson"
    return out, export(run, "ndjson", out)


@pytest.fixture(scope="module")
def bundles(run) -> tuple[Path, dict]:
    from hygeia.export import export

    out = run.parent / "bundles"
    return out, export(run, "fhir", out)


# -- tests ---------------------------------------------------------------------------
def test_both_formats_are_registered():
    from hygeia.export import EXPORTERS
    from hygeia.export.fhir import FhirBundleExporter, FhirNdjsonExporter

    assert EXPORTERS["ndjson"] is FhirNdjsonExporter and EXPORTERS["fhir"] is FhirBundleExporter


def test_every_event_kind_becomes_its_resource(ndjson):
    out, counts = ndjson
    res = read_ndjson(out)
    assert {k: len(v) for k, v in res.items()} == {k: v for k, v in counts.items() if not k.startswith("skipped")}
    assert counts == {
        "AllergyIntolerance": 2, "CarePlan": 2, "Condition": 2, "Device": 1, "DiagnosticReport": 1,
        "Encounter": 2, "ImagingStudy": 2, "Immunization": 1, "MedicationRequest": 3,
        "Observation": 13, "Organization": 2, "Patient": 2, "Practitioner": 2, "Procedure": 4,
        "SupplyDelivery": 1, "skipped: symptom events (no FHIR mapping)": 1,
    }
    assert "Claim" not in counts and "ExplanationOfBenefit" not in counts  # records carry no costs


def test_every_resource_is_tagged_synthetic_and_says_how_it_was_made(ndjson):
    for rtype, resources in read_ndjson(ndjson[0]).items():
        for r in resources:
            assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST",
                    "display": "test health data"} in r["meta"]["tag"], rtype
            assert r["meta"]["source"] == "urn:hygeia:fhir:hygeia-0.1.0:seed-11"
            if rtype not in ("Patient", "Organization", "Practitioner"):
                ext = record_ext(r)
                assert ext["module"] and ext["state"], r


def test_code_systems_are_canonical_uris_and_units_ucum(ndjson):
    res = read_ndjson(ndjson[0])
    systems = Counter(c["system"] for rs in res.values() for r in rs for k in ("code", "vaccineCode",
                      "medicationCodeableConcept") if k in r for c in r[k].get("coding", []))
    assert {"http://loinc.org", "http://snomed.info/sct", "http://www.nlm.nih.gov/research/umls/rxnorm",
            "http://hl7.org/fhir/sid/cvx", "urn:hygeia:fhir:code-system:FOO%20system"} <= set(systems)
    obs = {r["code"].get("text"): r for r in res["Observation"]}
    assert obs["Glucose"]["valueQuantity"] == {"value": 97.25, "unit": "mg/dL", "system": "http://unitsofmeasure.org",
                                               "code": "mg/dL"}
    assert obs["Leukocytes"]["valueQuantity"]["code"] == "10*3/uL"  # a loose unit gets its UCUM code
    assert obs["Leukocytes"]["valueQuantity"]["unit"] == "K/uL"
    assert obs["Value and text"]["valueQuantity"] == {"value": 3.0, "unit": "n/a"}  # not UCUM: text only
    assert obs["Weight-for-length"]["valueQuantity"] == {"unit": "%", "system": "http://unitsofmeasure.org",
                                                         "code": "%"}
    smoking = obs["Tobacco smoking status"]
    assert smoking["valueCodeableConcept"]["coding"] == [{"system": "http://snomed.info/sct", "code": "266919005",
                                                          "display": "Never smoked tobacco (finding)"}]
    assert smoking["category"][0]["coding"][0]["code"] == "social-history"
    series = next(r for r in res["ImagingStudy"] if "series" in r)["series"]
    assert [s["modality"] for s in series] == [
        {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "DX"},
        {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "CR"}]


def test_panels_and_reports_reference_their_observations(ndjson):
    res = read_ndjson(ndjson[0])
    by_id = {r["id"]: r for r in res["Observation"]}
    bp = next(r for r in res["Observation"] if r["code"]["coding"][0]["code"] == "85354-9")
    members = [by_id[m["reference"].split("/")[1]]["code"]["coding"][0]["code"] for m in bp["hasMember"]]
    assert members == ["8480-6", "8462-4"]
    assert [c["valueQuantity"]["value"] for c in bp["component"]] == [128.0, 81.0]  # US Core blood pressure
    report = res["DiagnosticReport"][0]
    assert [by_id[m["reference"].split("/")[1]]["code"]["text"] for m in report["result"]] == ["Glucose",
                                                                                               "Leukocytes"]


def test_patient_is_us_core_shaped(ndjson):
    ada = next(p for p in read_ndjson(ndjson[0])["Patient"] if p["identifier"][0]["value"] == "1")
    urls = [e["url"] for e in ada["extension"]]
    assert "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race" in urls
    assert "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity" in urls
    assert ada["gender"] == "female" and ada["birthDate"] == "1960-05-04"
    assert ada["_birthDate"]["extension"][0]["valueDateTime"] == "1960-05-04T03:02:01.123456Z"
    assert ada["name"] == [{"use": "official", "family": "Lovelace", "given": ["Ada"]}]
    assert ada["address"] == [{"state": "TX", "country": "US"}]
    assert ada["deceasedDateTime"] == "2020-03-01T18:30:00Z"


def test_every_encounter_names_a_synthetic_organization_and_practitioner(ndjson):
    res = read_ndjson(ndjson[0])
    orgs = {f"Organization/{r['id']}": r for r in res["Organization"]}
    practitioners = {f"Practitioner/{r['id']}": r for r in res["Practitioner"]}
    for enc in res["Encounter"]:
        assert enc["serviceProvider"]["reference"] in orgs
        assert enc["participant"][0]["individual"]["reference"] in practitioners
    assert sorted(o["identifier"][0]["value"] for o in orgs.values()) == ["TX", "Unknown"]


def test_every_reference_resolves_inside_the_export(ndjson, bundles):
    assert unresolved_ndjson(read_ndjson(ndjson[0])) == []
    for b in read_bundles(bundles[0]):
        assert b["type"] == "transaction"
        assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in b["entry"])
        assert unresolved_bundle(b) == []


def test_a_row_whose_encounter_is_missing_keeps_its_encounter_id(ndjson):
    orphan = next(r for r in read_ndjson(ndjson[0])["MedicationRequest"] if r["medicationCodeableConcept"][
        "text"] == "ceftriaxone")
    assert "encounter" not in orphan and record_ext(orphan)["encounter_id"] == "99999"


def test_export_is_deterministic_and_ids_depend_on_the_seed(run, ndjson, tmp_path):
    from hygeia.export import export

    export(run, "ndjson", tmp_path / "again")
    for f in ndjson[0].glob("*.ndjson"):
        assert (tmp_path / "again" / f.name).read_bytes() == f.read_bytes()
    other = make_run(tmp_path / "seed12", seed=12)
    export(other, "ndjson", tmp_path / "other")
    ids = {r["id"] for rs in read_ndjson(ndjson[0]).values() for r in rs}
    ids12 = {r["id"] for rs in read_ndjson(tmp_path / "other").values() for r in rs}
    assert len(ids) == sum(len(v) for v in read_ndjson(ndjson[0]).values())  # unique
    assert ids & ids12 == {r["id"] for r in read_ndjson(ndjson[0])["Organization"] + read_ndjson(ndjson[0])[
        "Practitioner"]}  # only the shared providers


def test_workers_give_the_same_output(run, ndjson, bundles, tmp_path):
    from hygeia.export import export

    export(run, "ndjson", tmp_path / "nd2", workers=2)
    export(run, "fhir", tmp_path / "b2", workers=2)
    for src, dst in ((ndjson[0], tmp_path / "nd2"), (bundles[0], tmp_path / "b2")):
        assert sorted(p.name for p in src.iterdir()) == sorted(p.name for p in dst.iterdir())
        assert all((dst / p.name).read_bytes() == p.read_bytes() for p in src.iterdir())


def test_bad_workers_option_is_a_config_error(run, tmp_path):
    from hygeia.errors import ConfigError
    from hygeia.export import export

    with pytest.raises(ConfigError, match="workers must be a positive integer; got 0"):
        export(run, "ndjson", tmp_path / "x", workers=0)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("fmt", ["ndjson", "fhir"])
def test_an_interrupted_export_leaves_nothing_that_looks_complete(run, tmp_path, monkeypatch, fmt):
    from hygeia.export import export
    from hygeia.export.fhir import _writers

    real = _writers.patient_resources
    calls = []

    def failing(person, *args, **kwargs):
        calls.append(person["subject_id"])
        if len(calls) == 2:  # the first patient is written, then the export dies
            raise KeyboardInterrupt
        return real(person, *args, **kwargs)

    monkeypatch.setattr(_writers, "patient_resources", failing)
    with pytest.raises(KeyboardInterrupt) as info:
        export(run, fmt, tmp_path / "out")
    left = sorted(p.name for p in tmp_path.iterdir())
    kept = getattr(info.value, "kept", None)
    if kept is None:  # stopped before a shard was journalled: nothing at all
        assert left == []
    else:  # Ctrl-C after a journalled shard: that shard is kept for --resume, hidden, never out/
        assert left == sorted([kept[0].name, kept[0].name + ".journal", kept[0].name + ".lock"])
        assert kept[0].name.startswith(".out.tmp-")


def test_the_validator_finds_zero_errors(ndjson, bundles):
    pytest.importorskip("fhirkit")
    from hygeia.export.fhir import validate_fhir

    for out in (ndjson[0], bundles[0]):
        report = validate_fhir(out)
        assert report.errors == []
        assert report.resources == sum(report.by_type.values()) > 0 and report.references > 0
