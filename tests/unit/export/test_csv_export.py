"""The CSV exporter: one Synthea-style file per table that round-trips through pyarrow.csv."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pytest

from hygeia.core.storage import read_records
from hygeia.export import EXPORTERS, export
from hygeia.export._csv import CSV_TABLES, OTHER_TABLE, PATIENT_COLUMNS, CsvExporter
from hygeia.population import generate

FILES = ["patients", *CSV_TABLES, OTHER_TABLE]
#: Columns to read back as text (``CODE`` "08" must not become the number 8).
TEXT_COLUMNS = {"CODE": pa.string(), "SYSTEM": pa.string(), "SEED": pa.string(), "VALUE": pa.string()}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csv") / "run"
    generate(n=30, seed=3, shard_size=10, out=out)  # three shards
    return out


@pytest.fixture(scope="module")
def exported(run) -> tuple[Path, dict]:
    out = run.parent / "csv"
    return out, export(run, "csv", out)


def read(root: Path, name: str) -> pa.Table:
    """Read one file back; an empty unquoted field is null, a quoted "" is the empty string."""
    options = pcsv.ConvertOptions(column_types=TEXT_COLUMNS, strings_can_be_null=True,
                                  quoted_strings_can_be_null=False)
    return pcsv.read_csv(root / f"{name}.csv", convert_options=options)


def test_registered():
    assert EXPORTERS["csv"] is CsvExporter


def test_one_file_per_table_with_one_header(exported):
    root, counts = exported
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{n}.csv" for n in FILES)
    assert set(counts) == set(FILES)
    for name in FILES:
        lines = (root / f"{name}.csv").read_text().splitlines()
        header = lines[0]
        assert sum(line == header for line in lines) == 1, name  # header once across three shards
        assert "PATIENT" in header or name == "patients"


def test_round_trip_counts_match_the_records(run, exported):
    root, counts = exported
    persons, events = read_records(run)
    assert read(root, "patients").num_rows == counts["patients"] == persons.num_rows
    by_kind = dict(zip(*pc.value_counts(events["kind"]).flatten()))
    by_kind = {k.as_py(): v.as_py() for k, v in by_kind.items()}
    for name, (kinds, columns) in CSV_TABLES.items():
        table = read(root, name)
        assert table.num_rows == counts[name] == sum(by_kind.get(k, 0) for k in kinds), name
        assert table.column_names == [c[0] for c in columns]
    known = {k for kinds, _ in CSV_TABLES.values() for k in kinds}
    assert read(root, OTHER_TABLE).num_rows == counts[OTHER_TABLE] == sum(
        v for k, v in by_kind.items() if k not in known)
    assert sum(counts[n] for n in FILES if n != "patients") == events.num_rows


def test_values_survive_the_round_trip(run, exported):
    root, _ = exported
    persons, events = read_records(run)
    obs = read(root, "observations")
    want = events.filter(pc.equal(events["kind"], "observation"))
    assert sorted(obs["CODE"].to_pylist()) == sorted(want["code"].to_pylist())
    numeric = obs.filter(pc.equal(obs["TYPE"], "numeric"))
    assert sorted(float(v) for v in numeric["VALUE"].to_pylist()) == sorted(
        v for v in want["numeric_value"].to_pylist() if v is not None)
    assert obs["UNITS"].null_count == want["unit"].null_count
    pats = read(root, "patients")
    assert pats.column_names == [c[0] for c in PATIENT_COLUMNS]
    assert sorted(int(s) for s in pats["SEED"].to_pylist()) == sorted(persons["seed"].to_pylist())
    assert pats["DEATHDATE"].null_count == persons["death_time"].null_count
    enc = read(root, "encounters")
    assert enc["ENCOUNTERCLASS"].null_count == 0 and enc.num_rows


def test_times_are_iso_8601_utc(run, exported):
    root, _ = exported
    persons, events = read_records(run)
    cond = read(root, "conditions")
    assert pa.types.is_timestamp(cond["START"].type) and cond["START"].type.tz == "UTC"
    text = (root / "conditions.csv").read_text().splitlines()[1].split(",")[0].strip('"')
    assert dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    want = events.filter(pc.equal(events["kind"], "condition"))["time"].cast(pa.timestamp("ms"), safe=False)
    got = cond["START"].cast(pa.timestamp("ms", tz="UTC")).cast(pa.timestamp("ms"))
    assert sorted(got.to_pylist()) == sorted(want.to_pylist())


def test_every_field_the_engine_fills_has_a_column(run):
    """No canonical field with values is dropped for any kind (catches new engine fields)."""
    _, events = read_records(run)
    carried = {
        "encounters": {"text_value"}, "medications": {"text_value"}, "careplans": {"text_value"},
        "observations": {"numeric_value", "unit", "text_value"}, "supplies": {"numeric_value"},
        "imaging_studies": {"text_value"},
    }
    always = {"subject_id", "time", "end_time", "kind", "code_system", "code", "display", "encounter_id", "module",
              "state"}
    for name, (kinds, _) in CSV_TABLES.items():
        rows = events.filter(pc.is_in(events["kind"], pa.array(kinds)))
        filled = {c for c in events.column_names if rows.num_rows and rows[c].null_count < rows.num_rows}
        assert filled <= always | carried.get(name, set()), name
        if "text_value" in filled and name == "medications":
            assert set(rows["text_value"].drop_null().to_pylist()) == {"chronic"}
    points = {"observations", "immunizations", "supplies", "imaging_studies", "diagnostic_reports"}
    for name in points:
        kinds = CSV_TABLES[name][0]
        assert events.filter(pc.is_in(events["kind"], pa.array(kinds)))["end_time"].null_count == sum(
            1 for k in events["kind"].to_pylist() if k in kinds), f"{name} has end times but only a DATE column"
