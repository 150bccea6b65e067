"""The MEDS exporter: schemas accepted by ``meds``, counts, sorting, splits, metadata."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hygeia.core.storage import read_records
from hygeia.errors import ConfigError, MissingExtraError
from hygeia.export import EXPORTERS, export
from hygeia.export._meds import DEFAULT_SPLITS, STATIC_CODES, MedsExporter, assign_splits, meds_code
from hygeia.population import generate

meds = pytest.importorskip("meds")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("meds") / "run"
    generate(n=30, seed=3, shard_size=10, out=out)  # three shards
    return out


@pytest.fixture(scope="module")
def exported(run) -> tuple[Path, dict]:
    out = run.parent / "meds"
    return out, export(run, "meds", out)


def _data_files(root: Path) -> list[Path]:
    return sorted((root / meds.data_subdirectory).rglob("*.parquet"))


def _data(root: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(p) for p in _data_files(root))


def test_registered():
    assert EXPORTERS["meds"] is MedsExporter


def test_every_file_passes_the_meds_schemas(exported):
    root, _ = exported
    files = _data_files(root)
    assert files, "no data files written"
    for p in files:
        assert p.parent.parent.name == meds.data_subdirectory
        meds.DataSchema.validate(pq.read_table(p))
    meds.CodeMetadataSchema.validate(pq.read_table(root / meds.code_metadata_filepath))
    meds.SubjectSplitSchema.validate(pq.read_table(root / meds.subject_splits_filepath))
    meds.DatasetMetadataSchema.validate(json.loads((root / meds.dataset_metadata_filepath).read_text()))


def test_data_types_are_the_packages(exported):
    schema = pq.read_schema(_data_files(exported[0])[0])
    for field in meds.DataSchema.schema():
        assert schema.field(field.name).type == field.type, field.name


def test_row_counts_match_the_records(run, exported):
    root, counts = exported
    persons, events = read_records(run)
    data = _data(root)
    static = sum(persons.num_rows - persons[c].null_count for c in [*STATIC_CODES, "income"])
    deaths = persons.num_rows - persons["death_time"].null_count
    assert data.num_rows == counts["rows"] == events.num_rows + persons.num_rows + deaths + static
    assert counts["subjects"] == persons.num_rows and counts["events"] == events.num_rows
    codes = data["code"]
    assert pc.sum(pc.equal(codes, meds.birth_code)).as_py() == persons.num_rows
    assert pc.sum(pc.equal(codes, meds.death_code)).as_py() == deaths
    # every canonical event is one row, coded SYSTEM//CODE, with its provenance
    ev = data.filter(pc.is_valid(data["module"]))
    assert ev.num_rows == events.num_rows
    want = sorted(zip(events["subject_id"].to_pylist(), [meds_code(s, c) for s, c in
                                                         zip(events["code_system"].to_pylist(),
                                                             events["code"].to_pylist())],
                      events["state"].to_pylist()))
    got = sorted(zip(ev["subject_id"].to_pylist(), ev["code"].to_pylist(), ev["state"].to_pylist()))
    assert got == want


def test_codes_and_static_facts(exported):
    data = _data(exported[0])
    codes = set(data["code"].to_pylist())
    assert "LOINC//8302-2" in codes  # body height
    assert any(c.startswith("SNOMED-CT//") for c in codes)
    assert codes & {"GENDER//F", "GENDER//M"}
    assert any(c.startswith("RACE//") for c in codes) and any(c.startswith("ETHNICITY//") for c in codes)
    static = data.filter(pc.equal(data["kind"], "static"))
    assert static["time"].null_count == static.num_rows
    assert data.filter(pc.not_equal(data["kind"], "static"))["time"].null_count == 0


def test_subjects_are_in_one_file_contiguous_and_time_sorted(exported):
    seen: dict[int, Path] = {}
    for p in _data_files(exported[0]):
        t = pq.read_table(p, columns=["subject_id", "time"])
        sids, times = t["subject_id"].to_pylist(), t["time"].to_pylist()
        assert sids == sorted(sids), p
        for s in set(sids):
            assert s not in seen, f"subject {s} in {p} and {seen[s]}"
            seen[s] = p
        for s in set(sids):
            ts = [x for x, y in zip(times, sids) if y == s]
            nulls = sum(x is None for x in ts)
            assert all(x is None for x in ts[:nulls]) and ts[nulls:] == sorted(ts[nulls:])


def test_codes_parquet_covers_every_code_once(exported):
    root, counts = exported
    codes = pq.read_table(root / meds.code_metadata_filepath)
    names = codes["code"].to_pylist()
    assert len(names) == len(set(names)) == counts["codes"]
    assert set(_data(root)["code"].to_pylist()) <= set(names)
    rows = {r["code"]: r for r in codes.to_pylist()}
    assert rows["LOINC//8302-2"]["description"] == "Body height"
    assert rows["LOINC//8302-2"]["parent_codes"] == ["LOINC/8302-2"]
    assert rows[meds.birth_code]["description"]


def test_subject_splits_are_disjoint_complete_and_match_the_data(run, exported):
    root, counts = exported
    persons, _ = read_records(run)
    splits = pq.read_table(root / meds.subject_splits_filepath)
    sids = splits["subject_id"].to_pylist()
    assert len(sids) == len(set(sids)) and set(sids) == set(persons["subject_id"].to_pylist())
    assert set(splits["split"].to_pylist()) <= set(DEFAULT_SPLITS)
    by_subject = dict(zip(sids, splits["split"].to_pylist()))
    for p in _data_files(root):
        assert {by_subject[s] for s in pq.read_table(p, columns=["subject_id"])["subject_id"].to_pylist()} == {
            p.parent.name}
    assert sum(counts[f"subjects_{s}"] for s in DEFAULT_SPLITS) == persons.num_rows


def test_splits_are_deterministic_and_follow_the_fractions():
    ids = pa.array(range(1, 20001), pa.int64())
    a = assign_splits(ids, seed=7).to_pylist()
    assert a == assign_splits(ids, seed=7).to_pylist()
    assert assign_splits(ids[::-1], seed=7).to_pylist() == a[::-1]  # independent of order and sharding
    assert assign_splits(ids[:100], seed=7).to_pylist() == a[:100]
    assert a != assign_splits(ids, seed=8).to_pylist()
    for name, frac in DEFAULT_SPLITS.items():
        assert a.count(name) / len(a) == pytest.approx(frac, abs=0.01)
    b = assign_splits(ids, seed=7, splits={"train": 0.5, "held_out": 0.5})
    assert set(b.to_pylist()) == {"train", "held_out"}


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        ({"train": 0.8, "held_out": 0.1}, "fractions sum to 0.9"),
        ({"train": 1.5, "held_out": -0.5}, "split 'held_out' has fraction -0.5; want a number >= 0"),
        ({}, "splits must be a non-empty mapping"),
    ],
)
def test_bad_splits_are_config_errors(run, tmp_path, splits, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        export(run, "meds", tmp_path / "out", splits=splits)
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


def test_custom_splits_and_name(run, tmp_path):
    counts = export(run, "meds", tmp_path / "m", splits={"train": 0.5, "held_out": 0.5}, dataset_name="demo")
    assert {p.name for p in (tmp_path / "m" / "data").iterdir()} <= {"train", "held_out"}
    assert counts["subjects_train"] + counts["subjects_held_out"] == counts["subjects"]
    assert json.loads((tmp_path / "m" / meds.dataset_metadata_filepath).read_text())["dataset_name"] == "demo"


def test_dataset_metadata(exported):
    meta = json.loads((exported[0] / meds.dataset_metadata_filepath).read_text())
    assert meta["etl_name"] == "hygeia"
    assert meta["meds_version"] == meds.__version__
    assert meta["dataset_version"].endswith("+seed3")
    assert meta["hygeia"]["seed"] == 3
    assert "unit" in meta["code_modifier_columns"]
    schema = pq.read_schema(_data_files(exported[0])[0])
    for key in ("raw_source_id_columns", "code_modifier_columns", "other_extension_columns"):
        assert set(meta[key]) <= set(schema.names)


def test_export_is_deterministic(run, exported, tmp_path):
    again = tmp_path / "again"
    export(run, "meds", again)
    root = exported[0]
    assert [p.relative_to(again) for p in _data_files(again)] == [p.relative_to(root) for p in _data_files(root)]
    for p in _data_files(root):
        assert pq.read_table(again / p.relative_to(root)).equals(pq.read_table(p))
    for f in (meds.code_metadata_filepath, meds.subject_splits_filepath):
        assert pq.read_table(again / f).equals(pq.read_table(root / f))


def test_a_run_without_a_seed_is_refused(run, tmp_path):
    with pytest.raises(ConfigError, match=re.escape("records no integer seed (got None)")):
        MedsExporter().write(iter(()), tmp_path / "m", {"config": {}})


def test_missing_meds_package_names_the_extra(run, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "meds", None)
    with pytest.raises(MissingExtraError, match=re.escape("pip install 'hygeia[meds]'")):
        export(run, "meds", tmp_path / "m")
    assert list(tmp_path.iterdir()) == []
