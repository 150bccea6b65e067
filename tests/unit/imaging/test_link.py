"""hygeia.imaging._link: which finding a study shows, seeds and UIDs, the manifest, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pydicom")
pytest.importorskip("nibabel")

from hygeia.errors import ConfigError, DataValidationError, OutputError
from hygeia.imaging import _link
from hygeia.imaging._link import (
    _candidates,
    _series_parts,
    event_key,
    images_index,
    read_images_manifest,
    render_run_images,
    study_instance_uid,
)

H = 3_600_000_000  # one hour in microseconds


def _cond(code: str, t: int, end: int | None = None, enc: int | None = None) -> dict:
    return {"kind": "condition", "code_system": "SNOMED-CT", "code": code, "display": code, "time": t,
            "end_time": end, "encounter_id": enc, "module": "m", "state": "s"}


def test_a_condition_diagnosed_in_the_study_encounter_is_shown_even_after_the_film() -> None:
    study = {"time": 10 * H, "encounter_id": 7}
    pneumonia_after = _cond("385093006", 10 * H + 1000, enc=7)  # X-ray first, diagnosis next
    got = _candidates([pneumonia_after], study, "chest")
    assert [c["finding"] for c in got] == ["consolidation"] and got[0]["diagnosed_here"]


def test_only_active_conditions_of_that_site_count() -> None:
    study = {"time": 10 * H, "encounter_id": 7}
    conds = [
        _cond("385093006", 1 * H, end=2 * H, enc=1),  # pneumonia resolved before the study
        _cond("65966004", 9 * H, enc=3),  # forearm fracture, active, but a wrist finding
        _cond("44054006", 1 * H),  # diabetes: nothing to see
        _cond("33737001", 11 * H, enc=8),  # rib fracture diagnosed later, elsewhere
    ]
    assert _candidates(conds, study, "chest") == []
    assert [c["code"] for c in _candidates(conds, study, "wrist")] == ["65966004"]


def test_the_condition_of_the_encounter_comes_first_then_the_latest_onset() -> None:
    study = {"time": 10 * H, "encounter_id": 7}
    conds = [_cond("33737001", 5 * H, enc=2), _cond("233604007", 8 * H, enc=4), _cond("385093006", 10 * H, enc=7)]
    assert [c["code"] for c in _candidates(conds, study, "chest")] == ["385093006", "233604007", "33737001"]


def test_series_text_and_keys() -> None:
    assert _series_parts("DX:Thoracic structure (body structure); CT:51185008") == [
        ("DX", "Thoracic structure (body structure)"), ("CT", "51185008")]
    assert _series_parts(None) == [] and _series_parts("garbage") == []
    assert event_key(3, 5, None, "X") == "3|5||X"
    assert study_instance_uid(1, 2, 3).startswith("2.25.") and len(study_instance_uid(1, 2, 3)) <= 64
    assert study_instance_uid(1, 2, 3) != study_instance_uid(2, 2, 3)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    from hygeia.population import generate

    out = tmp_path_factory.mktemp("link") / "run"
    generate(n=20, seed=3, out=str(out), workers=1)
    return out


def test_bad_options_are_refused_before_any_work(run: Path) -> None:
    with pytest.raises(ConfigError, match="modalities must be some of DX"):
        render_run_images(run, modalities=("US",))
    with pytest.raises(ConfigError, match="size must be an integer from 48 to 512"):
        render_run_images(run, size=32)
    assert not (run / "images").exists()


def test_a_failure_half_way_leaves_no_images_folder(run: Path, monkeypatch) -> None:
    import hygeia.imaging._render as render_mod

    calls = {"n": 0}
    real = render_mod.render

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("renderer died")
        return real(*a, **k)

    monkeypatch.setattr(render_mod, "render", flaky)
    with pytest.raises(RuntimeError, match="renderer died"):
        render_run_images(run, size=48)
    assert calls["n"] == 3 and not (run / "images").exists()
    assert sorted(p.name for p in run.iterdir()) == ["events", "persons", "run.json"]


def test_manifest_is_deterministic_and_checked_against_the_run(run: Path, tmp_path: Path) -> None:
    res = render_run_images(run, size=48)
    doc = read_images_manifest(run)
    assert doc == json.loads((run / "images" / "manifest.json").read_text()) == res.manifest
    assert res.events == doc["counts"]["imaging_events"] == len(doc["studies"]) + len(doc["not_rendered"])
    with pytest.raises(OutputError):
        render_run_images(run, size=48)
    again = render_run_images(run, size=48, overwrite=True)
    assert again.manifest["studies"] == doc["studies"]
    index = images_index(run)
    assert sum(len(v) for v in index.values()) == len(doc["studies"])
    info = json.loads((run / "run.json").read_text())
    with pytest.raises(DataValidationError, match="rendered for another run"):
        images_index(run, dict(info, created_at="2000-01-01"))


def test_a_broken_manifest_says_how_to_fix_it(tmp_path: Path) -> None:
    assert read_images_manifest(tmp_path) is None
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "manifest.json").write_text("{not json")
    with pytest.raises(DataValidationError, match="--overwrite"):
        read_images_manifest(tmp_path)
    (tmp_path / "images" / "manifest.json").write_text('{"spec_version": 99}')
    with pytest.raises(DataValidationError, match="not an images manifest"):
        read_images_manifest(tmp_path)


def test_body_sites_are_codes_of_the_shipped_modules() -> None:
    from hygeia.imaging._render import BODY_PARTS

    text = "".join(p.read_text() for p in Path(_link.__file__).parents[1].rglob("population/synthea/modules/**/*.json"))
    for (code, display), part in _link.BODY_SITES.items():
        assert f'"{code}"' in text and display in text and part in BODY_PARTS


def _hand_run(out: Path) -> Path:
    """One person with a chest CT + ultrasound study (Synthea's format) and a pneumonia diagnosed at it."""
    from datetime import datetime

    import pyarrow as pa

    from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
    from hygeia.core.storage import RunWriter

    t = datetime(2020, 3, 4, 10, 30)
    person = {"subject_id": 4, "birth_time": datetime(1950, 1, 2), "death_time": None, "sex": "M", "race": "white",
              "ethnicity": "nonhispanic", "locale": "us", "given_name": "A", "family_name": "B", "state": "Ohio",
              "income": 1, "education": "bs_degree", "marital_status": "M", "seed": 1}
    base = dict.fromkeys(EVENTS_SCHEMA.names)
    events = [
        dict(base, subject_id=4, time=t, kind="imaging", code_system="SNOMED-CT", code="16335031000119103",
             display="CT of chest", text_value="CT:Thoracic structure (body structure); US:Thoracic structure "
             "(body structure)", encounter_id=40, module="lung", state="Chest CT"),
        dict(base, subject_id=4, time=t, kind="condition", code_system="SNOMED-CT", code="233604007",
             display="Pneumonia", encounter_id=40, module="lung", state="Dx"),
    ]
    with RunWriter(out, shards=1) as w:
        w.write_shard(0, pa.Table.from_pylist([person], PERSONS_SCHEMA), pa.Table.from_pylist(events, EVENTS_SCHEMA))
        w.finish({"config": {"seed": 9, "n": 1}, "created_at": "2026-01-01T00:00:00+00:00"})
    return out


def test_a_ct_series_of_a_synthea_study_is_rendered_and_its_ultrasound_listed(tmp_path: Path) -> None:
    from hygeia.imaging import read_dicom

    run = _hand_run(tmp_path / "run")
    res = render_run_images(run, size=48, slices=2)
    (study,) = res.manifest["studies"]
    (series,) = study["series"]
    assert (series["modality"], series["body_part"], series["series_index"]) == ("CT", "chest", 0)
    assert series["finding"]["kind"] == "consolidation" and series["condition"]["code"] == "233604007"
    assert len(series["instances"]) == 2 and series["sop_class_uid"] == "1.2.840.10008.5.1.4.1.1.2"
    vol = read_dicom(run / "images" / series["path"])
    assert vol.modality == "CT" and vol.shape == (2, 48, 48)
    (skip,) = res.manifest["not_rendered"]
    assert (skip["modality"], skip["series_index"], skip["reason"]) == ("US", 1, "no renderer for modality US")
    only_dx = render_run_images(run, size=48, modalities=("DX",), overwrite=True)
    assert only_dx.studies == 0 and only_dx.manifest["not_rendered"][0]["reason"] == "modality CT not asked for"
