"""OMOP with vocabularies: "Maps to", domain routing, units, eras, the window, Hygeia's own vocabulary.

The vocabulary fixture (tests/data/omop_vocabulary, Athena's file layout, synthetic ids flagged in its
README.txt) is Hygeia's own vocabulary plus what a real download adds: other vocabularies, a retired code
mapping to its replacement, a deprecated relationship.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.errors import ConfigError, DataValidationError
from hygeia.export import export
from hygeia.export.omop._transform import ShardTransformer
from hygeia.export.omop._vocabulary import (
    SHIPPED_VOCABULARY,
    SOURCE_VOCABULARIES,
    Vocabulary,
)
from hygeia.population import generate
from hygeia.population.engine import default_modules_dir

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "omop_vocabulary"
#: CDM table -> (concept column, the domain its standard concepts must have)
CLINICAL = {
    "condition_occurrence": ("condition_concept_id", "Condition"),
    "drug_exposure": ("drug_concept_id", "Drug"),
    "procedure_occurrence": ("procedure_concept_id", "Procedure"),
    "measurement": ("measurement_concept_id", "Measurement"),
    "observation": ("observation_concept_id", "Observation"),
    "device_exposure": ("device_concept_id", "Device"),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("omop_vocab") / "run"
    generate(n=60, seed=5, out=out, shard_size=25)
    return out


@pytest.fixture(scope="module")
def cdm(run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("omop_vocab_cdm") / "fixture.duckdb"
    export(run, "omop", out, vocabulary=FIXTURE, start="1950-01-01")
    return out


def test_fixture_maps_95_percent_with_no_row_in_the_wrong_domain(cdm: Path):
    with duckdb.connect(str(cdm), read_only=True) as con:
        for table, (column, domain) in CLINICAL.items():
            n, mapped, wrong, sourced = con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {column} <> 0), "
                f"count(*) FILTER (WHERE {column} <> 0 AND c.domain_id <> '{domain}'), "
                f"count(*) FILTER (WHERE {column.replace('_concept_id', '_source_concept_id')} <> 0) "
                f"FROM {table} LEFT JOIN concept c ON c.concept_id = {column}").fetchall()[0]
            if table != "device_exposure":
                assert n > 0, table
                assert mapped / n >= 0.95, (table, mapped, n)
            assert wrong == 0, table
            assert sourced == n, table  # every code's source concept is in the fixture
        # units: every measurement with a unit has a standard UCUM concept
        units = con.execute("SELECT count(*), count(*) FILTER (WHERE c.domain_id = 'Unit' AND c.vocabulary_id = 'UCUM') "
                            "FROM measurement m LEFT JOIN concept c ON c.concept_id = m.unit_concept_id "
                            "WHERE m.unit_source_value IS NOT NULL").fetchall()[0]
        assert units[0] > 0 and units[0] == units[1]
        # coded values get their concept; the blood-pressure panel is only its two measurements
        assert con.execute("SELECT count(*) FROM observation WHERE value_source_value IS NOT NULL "
                           "AND value_as_concept_id = 0 AND observation_source_value = '72166-2'").fetchall() == [(0,)]
        panels = con.execute("SELECT (SELECT count(*) FROM measurement WHERE measurement_source_value = '85354-9') + "
                             "(SELECT count(*) FROM observation WHERE observation_source_value = '85354-9')").fetchall()
        assert panels == [(0,)]
        bp = dict(con.execute("SELECT measurement_source_value, count(*) FROM measurement "
                              "WHERE measurement_source_value IN ('8480-6', '8462-4') GROUP BY 1").fetchall())
        assert bp["8480-6"] == bp["8462-4"] > 0
        # the vocabulary tables are loaded; cdm_source names the vocabulary's version
        assert con.execute("SELECT count(*) FROM concept").fetchall()[0][0] == _rows(FIXTURE / "CONCEPT.csv")
        assert con.execute("SELECT vocabulary_version FROM cdm_source").fetchall() == [("Hygeia local v1",)]
        # procedures whose standard concept is an Observation went to observation
        moved = con.execute("SELECT count(*) FROM observation o JOIN concept s ON s.concept_id = "
                            "o.observation_source_concept_id WHERE s.vocabulary_id = 'SNOMED' "
                            "AND s.concept_class_id = 'Procedure'").fetchall()[0][0]
        assert moved > 0


def _rows(path: Path) -> int:
    with open(path) as f:
        return sum(1 for _ in f) - 1


def test_shipped_vocabulary_gives_the_fixtures_concepts(run: Path, cdm: Path, tmp_path: Path):
    shipped = tmp_path / "shipped.duckdb"
    export(run, "omop", shipped, start="1950-01-01")
    with duckdb.connect(str(shipped), read_only=True) as a, duckdb.connect(str(cdm), read_only=True) as b:
        for table, (column, _) in CLINICAL.items():
            sql = f"SELECT {column}, {column.replace('_concept_id', '_source_concept_id')} FROM {table} ORDER BY 1, 2"
            assert a.execute(sql).fetchall() == b.execute(sql).fetchall(), table
        assert a.execute("SELECT vocabulary_version FROM cdm_source").fetchall() == [("Hygeia local v1",)]
        assert "not Athena" in a.execute("SELECT source_description FROM cdm_source").fetchall()[0][0]


def _module_codes() -> set[tuple[str, str]]:
    codes: set[tuple[str, str]] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("system") in SOURCE_VOCABULARIES and "code" in node:
                codes.add((SOURCE_VOCABULARIES[node["system"]], str(node["code"])))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in default_modules_dir().rglob("*.json"):
        walk(json.loads(path.read_text()))
    return codes


def test_shipped_vocabulary_covers_every_code_of_the_default_modules_and_the_run(run: Path):
    con = duckdb.connect()
    Vocabulary(None).attach(con)
    mapped = {(v, c) for v, c in con.execute("SELECT vocabulary_id, concept_code FROM vmap "
                                             "WHERE concept_id IS NOT NULL").fetchall()}
    used = _module_codes()
    glob = str(run / "events" / "*.parquet")
    for system, code in con.execute(f"SELECT DISTINCT code_system, code FROM read_parquet('{glob}')").fetchall():
        if system in SOURCE_VOCABULARIES:
            used.add((SOURCE_VOCABULARIES[system], code))
    assert len(used) > 300
    assert sorted(used - mapped) == []
    # synthetic ids are in the CDM's local range; published ids only for the fixed value sets
    with open(SHIPPED_VOCABULARY / "CONCEPT.csv") as f:
        ids = [int(r["concept_id"]) for r in csv.DictReader(f, delimiter="\t")]
    assert sum(i > 2_000_000_000 for i in ids) >= len(ids) - 20
    con.close()


def test_a_code_with_two_targets_becomes_two_rows_in_their_tables(run: Path, tmp_path: Path):
    folder = tmp_path / "athena"
    shutil.copytree(FIXTURE, folder)
    with open(folder / "CONCEPT.csv") as f:
        concepts = list(csv.DictReader(f, delimiter="\t"))
    procedure = next(c for c in concepts if c["vocabulary_id"] == "SNOMED" and c["concept_code"] == "82078001")
    target = next(c for c in concepts if c["domain_id"] == "Observation" and c["vocabulary_id"] == "SNOMED")
    with open(folder / "CONCEPT_RELATIONSHIP.csv", "a") as f:
        f.write(f"{procedure['concept_id']}\t{target['concept_id']}\tMaps to\t19700101\t20991231\t\n")
    out = tmp_path / "two.duckdb"
    export(run, "omop", out, vocabulary=folder)
    events = duckdb.sql(f"SELECT count(*) FROM read_parquet('{run}/events/*.parquet') "
                        "WHERE code = '82078001'").fetchall()[0][0]
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM procedure_occurrence WHERE procedure_source_value = '82078001' "
                           f"AND procedure_concept_id = {procedure['concept_id']}").fetchall()[0][0] == events > 0
        assert con.execute("SELECT count(*) FROM observation WHERE observation_source_value = '82078001' "
                           f"AND observation_concept_id = {target['concept_id']}").fetchall()[0][0] == events


def test_unmapped_codes_keep_their_kind_table_and_concept_zero(run: Path, tmp_path: Path):
    folder = tmp_path / "empty"
    folder.mkdir()
    for name in ("CONCEPT.csv", "CONCEPT_RELATIONSHIP.csv"):
        (folder / name).write_text((FIXTURE / name).read_text().splitlines()[0] + "\n")
    out = tmp_path / "none.duckdb"
    counts = export(run, "omop", out, vocabulary=folder)
    with duckdb.connect(str(out), read_only=True) as con:
        for table, (column, _) in CLINICAL.items():
            assert con.execute(f"SELECT count(*) FROM {table} WHERE {column} <> 0").fetchall() == [(0,)], table
        assert con.execute("SELECT count(*) FROM condition_era").fetchall() == [(0,)]
        assert con.execute("SELECT vocabulary_version, cdm_version_concept_id FROM cdm_source").fetchall() == [
            ("Hygeia local", 0)]
    assert counts["concept"] == 0 and counts["condition_occurrence"] > 0


def test_bad_vocabulary_folders_are_refused_clearly(tmp_path: Path):
    with pytest.raises(ConfigError, match="is not a folder; download the vocabularies from https://athena.ohdsi.org"):
        Vocabulary(tmp_path / "missing")
    with pytest.raises(ConfigError, match="has no CONCEPT.csv or CONCEPT_RELATIONSHIP.csv"):
        Vocabulary(tmp_path)
    (tmp_path / "CONCEPT.csv").write_text("concept_id,concept_name,domain_id\n1,x,Condition\n")
    (tmp_path / "CONCEPT_RELATIONSHIP.csv").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(DataValidationError, match="not in Athena's format") as info:
        Vocabulary(tmp_path).attach(duckdb.connect())
    assert "CONCEPT.csv: header 'concept_id,concept_name,domain_id'" in str(info.value)
    with pytest.raises(ConfigError, match=r"--start '1950-13-01' is not a date; write it as YYYY-MM-DD"):
        ShardTransformer({}, start="1950-13-01")


def test_start_window_bounds_every_date(run: Path, cdm: Path):
    start = dt.date(1950, 1, 1)
    with duckdb.connect(str(cdm), read_only=True) as con:
        assert con.execute("SELECT min(observation_period_start_date) FROM observation_period").fetchall()[0][0] >= start
        for table, column in (("visit_occurrence", "visit_start_date"), ("condition_occurrence", "condition_start_date"),
                              ("drug_exposure", "drug_exposure_start_date"), ("measurement", "measurement_date"),
                              ("condition_era", "condition_era_start_date")):
            first = con.execute(f"SELECT min({column}) FROM {table}").fetchall()[0][0]
            assert first is not None and (first.date() if isinstance(first, dt.datetime) else first) >= start, table
        assert con.execute("SELECT count(*) FROM death WHERE death_date < DATE '1950-01-01'").fetchall() == [(0,)]
        # providers and care sites are the FHIR export's per-state clinic and clinician
        assert con.execute("SELECT count(*) FROM visit_occurrence v LEFT JOIN provider p USING (provider_id) "
                           "WHERE p.provider_id IS NULL").fetchall() == [(0,)]
        assert con.execute("SELECT min(care_site_name) FROM care_site").fetchall()[0][0].startswith(
            "Hygeia synthetic clinic (")


# -- eras on hand-made records ----------------------------------------------------------------
def _day(n: int) -> dt.datetime:
    return dt.datetime(2020, 1, 1) + dt.timedelta(days=n)


def _records(rows: list[tuple]) -> tuple[pa.Table, pa.Table]:
    person = {"subject_id": 1, "birth_time": _day(-365 * 40), "sex": "F", "race": "white",
              "ethnicity": "nonhispanic", "locale": "us", "state": "Ohio"}
    persons = pa.table({f.name: pa.array([person.get(f.name)], f.type) for f in PERSONS_SCHEMA}, schema=PERSONS_SCHEMA)
    cols: dict[str, list] = {f.name: [] for f in EVENTS_SCHEMA}
    for kind, system, code, start, end in rows:
        values = {"subject_id": 1, "time": _day(start), "end_time": None if end is None else _day(end), "kind": kind,
                  "code_system": system, "code": code, "display": code, "module": "test", "state": "s"}
        for k in cols:
            cols[k].append(values.get(k))
    events = pa.table({f.name: pa.array(cols[f.name], f.type) for f in EVENTS_SCHEMA}, schema=EVENTS_SCHEMA)
    return persons, events


def test_condition_and_drug_eras_follow_ohdsi_rules():
    rows = [
        ("condition", "SNOMED-CT", "44054006", 0, 5),      # era 1: days 0-5 ...
        ("condition", "SNOMED-CT", "44054006", 30, 40),    # ... 25 days after: same era, ends day 40
        ("condition", "SNOMED-CT", "44054006", 80, None),  # 40 days after: era 2, one day long
        ("medication", "RxNorm", "617310", 0, 10),         # atorvastatin 20 MG
        ("medication", "RxNorm", "259255", 5, 20),         # atorvastatin 80 MG: overlaps, same ingredient
        ("medication", "RxNorm", "617310", 45, 50),        # 25 days later: same era, 25 gap days
        ("medication", "RxNorm", "617310", 100, 101),      # 50 days later: era 2
    ]
    persons, events = _records(rows)
    t = ShardTransformer({"config": {"end": "2026-01-01"}}, Vocabulary(FIXTURE))
    try:
        out = {table: rows.to_pylist() for table, rows in t.transform(persons, events)}
    finally:
        t.close()
    day = _day
    conditions = [(r["condition_era_start_date"], r["condition_era_end_date"], r["condition_occurrence_count"])
                  for r in out["condition_era"]]
    assert conditions == [(day(0), day(40), 2), (day(80), day(81), 1)]
    drugs = [(r["drug_era_start_date"], r["drug_era_end_date"], r["drug_exposure_count"], r["gap_days"])
             for r in out["drug_era"]]
    assert drugs == [(day(0), day(50), 3, 25), (day(100), day(101), 1, 0)]
    assert len({r["drug_concept_id"] for r in out["drug_era"]}) == 1  # the ingredient, not the two drugs
    assert [r["days_supply"] for r in out["drug_exposure"]] == [11, 16, 6, 2]
    assert {r["route_source_value"] for r in out["drug_exposure"]} == {None}  # display "617310" names no form
