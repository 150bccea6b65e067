"""The DataQualityDashboard's table- and field-level checks (tests/data/dqd, Apache-2.0, see NOTICE.txt)
run on OMOP exports in DuckDB: every applicable check within its DQD threshold, with and without the
vocabulary fixture; and the checks do catch broken data."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from hygeia.export import export
from hygeia.export.omop._dqd import evaluate, format_results, load_checks, run_checks
from hygeia.population import generate

DATA = Path(__file__).resolve().parents[2] / "data"
DQD = DATA / "dqd"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("omop_dqd") / "run"
    generate(n=50, seed=9, out=out, shard_size=20)
    return out


def test_the_dqd_files_hold_the_cdm_5_4_checks():
    checks = load_checks(DQD)
    names = {c.name for c in checks}
    assert {"cdmTable", "isRequired", "isPrimaryKey", "isForeignKey", "fkDomain", "isStandardValidConcept",
            "standardConceptRecordCompleteness", "plausibleValueLow", "plausibleDuringLife", "withinVisitDates",
            "measurePersonCompleteness", "measureConditionEraCompleteness"} <= names
    assert len(checks) > 1000
    assert "CONCEPT" not in {c.table for c in checks}  # the DQD leaves the vocabulary tables out by default


@pytest.mark.parametrize("vocabulary", [DATA / "omop_vocabulary", None], ids=["fixture", "shipped"])
def test_every_applicable_dqd_check_passes(run: Path, tmp_path: Path, vocabulary: Path | None):
    out = tmp_path / "cdm.duckdb"
    options = {"vocabulary": vocabulary} if vocabulary else {}
    export(run, "omop", out, start="1950-01-01", **options)
    with duckdb.connect(str(out), read_only=True) as con:
        results = run_checks(con, DQD)
    failed = [(r.name, r.table, r.field, r.violated, r.denominator, r.threshold) for r in results
              if r.status == "fail"]
    ran = [r for r in results if r.status in ("pass", "fail")]
    print(format_results(results))
    assert failed == []
    assert len(ran) > 1000
    # the checks that need the vocabulary did run
    assert {"fkDomain", "isStandardValidConcept", "standardConceptRecordCompleteness",
            "measureConditionEraCompleteness"} <= {r.name for r in ran}


def test_dqd_checks_catch_broken_data(run: Path, tmp_path: Path):
    good = tmp_path / "good.duckdb"
    export(run, "omop", good, vocabulary=DATA / "omop_vocabulary")  # lifetime: dates before 1950
    bad = tmp_path / "bad.duckdb"
    shutil.copy(good, bad)
    with duckdb.connect(str(bad)) as con:
        drug = con.execute("SELECT min(concept_id) FROM concept WHERE domain_id = 'Drug'").fetchall()[0][0]
        con.execute(f"UPDATE condition_occurrence SET condition_concept_id = {drug} "
                    "WHERE condition_occurrence_id % 2 = 0")
        con.execute("UPDATE measurement SET measurement_concept_id = 0 WHERE measurement_id % 4 = 0")
        con.execute("UPDATE drug_exposure SET person_id = 999999 WHERE drug_exposure_id = 1")
        con.execute("DELETE FROM condition_era WHERE person_id IN (SELECT min(person_id) FROM condition_era)")
    wanted = {("fkDomain", "CONDITION_OCCURRENCE", "condition_concept_id"),
              ("standardConceptRecordCompleteness", "MEASUREMENT", "measurement_concept_id"),
              ("isForeignKey", "DRUG_EXPOSURE", "person_id"), ("measureConditionEraCompleteness", "CONDITION_ERA", None),
              ("plausibleValueLow", "OBSERVATION_PERIOD", "observation_period_start_date")}
    with duckdb.connect(str(bad), read_only=True) as con:
        results = {(c.name, c.table, c.field): evaluate(con, c, "duckdb") for c in load_checks(DQD)
                   if (c.name, c.table, c.field) in wanted}
    assert set(results) == wanted
    assert results[("fkDomain", "CONDITION_OCCURRENCE", "condition_concept_id")].status == "fail"
    assert results[("standardConceptRecordCompleteness", "MEASUREMENT", "measurement_concept_id")].status == "fail"
    assert results[("isForeignKey", "DRUG_EXPOSURE", "person_id")].violated == 1
    assert results[("measureConditionEraCompleteness", "CONDITION_ERA", None)].status == "fail"
    # a lifetime history (no --start) trips the DQD's 1950 plausibility bound, as issue 18 says
    low = results[("plausibleValueLow", "OBSERVATION_PERIOD", "observation_period_start_date")]
    assert low.status == "fail" and low.violated > 0
