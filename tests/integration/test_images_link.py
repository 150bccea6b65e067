"""Issue 15, linked images: a default population run with imaging enabled.

Every ImagingStudy event gets a rendered DICOM series whose finding matches the patient's
conditions, listed in RUN/images/manifest.json and referenced from the FHIR ImagingStudy.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("pydicom")
pytest.importorskip("nibabel")

from hygeia.cli.main import main
from hygeia.core.storage import read_records
from hygeia.imaging import check_dicom, finding_for_condition, read_dicom
from hygeia.imaging._link import BODY_SITES, event_key

# Seed 5, 60 persons: 50 X-rays, with pneumonia (consolidation), wrist, ankle, rib and hip fractures,
# knee and hip osteoarthritis, COPD and influenza (normal chest); every one has a phantom.
N, SEED, SIZE = 60, 5, 64
_PHANTOM_SITES = {display: part for (_code, display), part in BODY_SITES.items()}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("img") / "pop"
    res = CliRunner().invoke(main, ["generate", "-n", str(N), "--seed", str(SEED), "--out", str(out), "--workers",
                                    "1", "--images", "--image-size", str(SIZE), "--format", "fhir", "-q"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def manifest(run: Path) -> dict:
    return json.loads((run / "images" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def records(run: Path):
    persons, events = read_records(run)
    return persons.to_pylist(), events.to_pylist()


def _us(t: datetime) -> int:
    return round(t.replace(tzinfo=timezone.utc).timestamp() * 1_000_000)


def _imaging_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["kind"] == "imaging"]


def test_every_imaging_event_has_its_series(manifest: dict, records) -> None:
    _persons, events = records
    imaging = _imaging_events(events)
    assert len(imaging) >= 20 and manifest["counts"]["imaging_events"] == len(imaging)
    studies = {s["key"]: s for s in manifest["studies"]}
    # the default library's imaging sites (chest, wrist, ankle, knee, pelvis, clavicle) all have a phantom
    assert manifest["not_rendered"] == [] and manifest["counts"]["not_rendered"] == 0
    assert len(studies) == len(imaging)
    for e in imaging:
        key = event_key(e["subject_id"], _us(e["time"]), e["code"], e["state"])
        modality, _, site = e["text_value"].partition(":")
        assert site in _PHANTOM_SITES, site
        study = studies[key]  # exactly one rendered series
        assert len(study["series"]) == 1 and study["series"][0]["modality"] == modality == "DX"
        assert study["series"][0]["body_part"] == _PHANTOM_SITES[site]
        assert study["encounter_id"] == e["encounter_id"] and study["procedure"]["code"] == e["code"]
    kinds = {se["finding"]["kind"] for s in studies.values() for se in s["series"] if se["finding"]}
    parts = {se["body_part"] for s in studies.values() for se in s["series"] if se["finding"]}
    assert kinds == {"consolidation", "fracture", "osteoarthritis"}
    assert {"chest", "wrist", "ankle", "knee", "pelvis"} <= parts
    assert any(se["finding"] is None for s in studies.values() for se in s["series"])  # normal studies too


def test_series_read_back_with_the_patient_and_the_study_date(run: Path, manifest: dict, records) -> None:
    import pydicom

    persons, _events = records
    by_id = {p["subject_id"]: p for p in persons}
    for study in manifest["studies"]:
        person = by_id[study["subject_id"]]
        se = study["series"][0]
        vol = read_dicom(run / "images" / se["path"])
        assert vol.modality == "DX" and vol.shape == (1, SIZE, SIZE)
        assert vol.meta["linked_event"] == study["key"]
        for inst in se["instances"]:
            path = run / "images" / inst["path"]
            assert check_dicom(path) == []
            ds = pydicom.dcmread(path)
            assert ds.PatientID == str(study["subject_id"]) and ds.PatientSex == person["sex"]
            assert ds.PatientBirthDate == person["birth_time"].strftime("%Y%m%d")
            assert ds.StudyDate == datetime.fromisoformat(study["time"].replace("Z", "+00:00")).strftime("%Y%m%d")
            assert ds.StudyInstanceUID == study["study_uid"] and ds.SeriesInstanceUID == se["series_uid"]
            assert ds.SOPInstanceUID == inst["uid"] and ds.SOPClassUID == se["sop_class_uid"]
            assert ds.SyntheticData == "YES"
        if se["finding"]:
            import nibabel as nib

            mask = nib.load(run / "images" / se["finding"]["mask"]).get_fdata()
            assert mask.sum() == se["finding"]["pixels"] > 0


def test_findings_match_the_conditions_at_that_encounter(manifest: dict, records) -> None:
    """Each finding has a condition of that person (active, or diagnosed in the study's encounter)
    that an X-ray of that site shows; and every such condition has its finding."""
    _persons, events = records
    conditions: dict[int, list[dict]] = {}
    for e in events:
        if e["kind"] == "condition":
            conditions.setdefault(e["subject_id"], []).append(e)
    checked = 0
    for study in manifest["studies"]:
        t = datetime.fromisoformat(study["time"].replace("Z", "+00:00")).replace(tzinfo=None)
        se = study["series"][0]
        shown = set()
        for c in conditions.get(study["subject_id"], []):
            hit = finding_for_condition(c["code_system"], c["code"])
            here = c["encounter_id"] == study["encounter_id"]
            active = c["time"] <= t and (c["end_time"] is None or c["end_time"] > t)
            if hit and hit[1] == se["body_part"] and (here or active):
                shown.add((hit[0], c["code"]))
        drawn = {(se["finding"]["kind"], se["condition"]["code"])} if se["finding"] else set()
        elsewhere = {(c["finding"], c["code"]) for c in se["not_shown"]}
        assert drawn <= shown, study["key"]
        assert {k for k, _ in shown} == {k for k, _ in drawn | elsewhere}, study["key"]
        if se["finding"]:
            f, c = se["finding"], se["condition"]
            assert finding_for_condition(c["code_system"], c["code"]) == (f["kind"], se["body_part"])
            if f["kind"] in ("fracture", "osteoarthritis"):  # the finding carries the code of the condition shown
                assert c["code"] in {code for _system, code in f["codes"]}
            checked += 1
    assert checked >= 10


def test_fhir_imaging_study_carries_the_dicom_uids(run: Path, manifest: dict) -> None:
    import pydicom

    studies = {s["study_uid"]: s for s in manifest["studies"]}
    seen = 0
    for bundle in sorted((run / "fhir").glob("*.json")):
        for entry in json.loads(bundle.read_text())["entry"]:
            res = entry["resource"]
            if res["resourceType"] != "ImagingStudy":
                continue
            uid = res["identifier"][0]["value"].removeprefix("urn:oid:")
            if uid not in studies:
                assert "numberOfInstances" not in res  # a film no phantom draws keeps derived UIDs
                continue
            seen += 1
            se = res["series"][0]
            files = [pydicom.dcmread(run / "images" / i["path"]) for i in studies[uid]["series"][0]["instances"]]
            assert {f.StudyInstanceUID for f in files} == {uid}
            assert {f.SeriesInstanceUID for f in files} == {se["uid"]}
            assert [i["uid"] for i in se["instance"]] == [f.SOPInstanceUID for f in files]
            assert [i["sopClass"]["code"] for i in se["instance"]] == ["urn:oid:" + f.SOPClassUID for f in files]
            assert res["numberOfInstances"] == se["numberOfInstances"] == len(files)
    assert seen == len(studies)


def test_fhir_export_with_images_validates(run: Path) -> None:
    pytest.importorskip("fhirkit")
    from hygeia.export.fhir import validate_fhir

    report = validate_fhir(run / "fhir")
    assert report.errors == [] and report.by_type["ImagingStudy"] > 0


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "images" not in p.parts and "fhir" not in p.parts}


def test_images_link_leaves_the_run_and_refuses_to_replace_without_overwrite(run: Path, manifest: dict) -> None:
    before = _digest(run)
    res = CliRunner().invoke(main, ["images", "link", str(run), "--size", str(SIZE)])
    assert res.exit_code != 0 and "--overwrite" in res.output
    res = CliRunner().invoke(main, ["images", "link", str(run), "--size", str(SIZE), "--overwrite"])
    assert res.exit_code == 0, res.output
    assert "studies" in res.output and "consolidation" in res.output
    again = json.loads((run / "images" / "manifest.json").read_text())
    assert again["studies"] == manifest["studies"]  # deterministic: same images, same UIDs
    assert _digest(run) == before


def test_generate_without_images_writes_the_same_run(tmp_path: Path, run: Path) -> None:
    out = tmp_path / "plain"
    res = CliRunner().invoke(main, ["generate", "-n", str(N), "--seed", str(SEED), "--out", str(out), "--workers",
                                    "1", "-q"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["events", "persons", "run.json"]
    a, b = _digest(out), _digest(run)
    assert {k: v for k, v in a.items() if k != "run.json"} == {k: v for k, v in b.items() if k != "run.json"}
    ja, jb = (json.loads((d / "run.json").read_text()) for d in (out, run))
    for j in (ja, jb):
        j.pop("created_at"), j.pop("timing"), j["config"].pop("out")
    assert ja == jb


def test_fhir_with_images_imports_back_to_the_same_imaging_events(run: Path, tmp_path: Path, records) -> None:
    from hygeia.export.fhir import import_fhir

    import_fhir(run / "fhir", tmp_path / "back")
    cols = ("subject_id", "time", "code", "text_value", "encounter_id", "module", "state")

    def imaging(evs: list[dict]) -> list[tuple]:
        return sorted(tuple(e[c] for c in cols) for e in _imaging_events(evs))

    assert imaging(read_records(tmp_path / "back")[1].to_pylist()) == imaging(records[1])
