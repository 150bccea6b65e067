"""OMOP CDM 5.4 in a real PostgreSQL server and in DuckDB: same tables, same counts, same answers.

The server comes from HYGEIA_TEST_POSTGRES_URL, or else this module starts a
throwaway one with scripts/test-postgres.sh (installing Debian's postgresql
package when needed) and stops it at the end. If no server can be had, the
tests fail with the reason; set HYGEIA_SKIP_POSTGRES=1 to skip them on purpose.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from hygeia.errors import OutputError
from hygeia.export import export
from hygeia.export.omop import QUERIES, connect_postgres, run_query
from hygeia.export.omop._ddl import ALL_TABLES
from hygeia.export.omop._load import PostgresSink
from hygeia.notes import write_notes
from hygeia.population import generate

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "test-postgres.sh"

pytestmark = pytest.mark.skipif(os.environ.get("HYGEIA_SKIP_POSTGRES") == "1",
                                reason="HYGEIA_SKIP_POSTGRES=1: PostgreSQL tests skipped on request")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("HYGEIA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        started = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.fail(f"could not run {SCRIPT} to start PostgreSQL: {e}. Set HYGEIA_TEST_POSTGRES_URL to a "
                    "server's URL, or HYGEIA_SKIP_POSTGRES=1 to skip these tests.", pytrace=False)
    if started.returncode != 0 or not started.stdout.strip():
        pytest.fail(f"{SCRIPT} could not start PostgreSQL (exit {started.returncode}):\n{started.stderr[-3000:]}\n"
                    "Set HYGEIA_TEST_POSTGRES_URL to a server's URL, or HYGEIA_SKIP_POSTGRES=1 to skip these tests.",
                    pytrace=False)
    url = started.stdout.strip().splitlines()[-1]
    try:
        yield url
    finally:
        subprocess.run([str(SCRIPT), "stop", url], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("omop_pg") / "run"
    generate(n=120, seed=11, out=out, shard_size=50)
    return out


@pytest.fixture(scope="module")
def notes(run: Path) -> Path:
    """The run's clinical notes (hygeia notes write), exported as the OMOP note table."""
    write_notes(run, run.parent / "notes", seed=4)
    return run.parent / "notes"


@pytest.fixture(scope="module")
def loaded(run: Path, notes: Path, postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The run and its notes loaded into DuckDB and into PostgreSQL (schema public, replacing earlier tables)."""
    path = tmp_path_factory.mktemp("omop_duck") / "cdm.duckdb"
    duck_counts = export(run, "omop", path, notes=notes)
    pg_counts = export(run, "omop", None, omop_url=postgres_url, overwrite=True, notes=notes)
    return {"path": path, "duck": duck_counts, "pg": pg_counts}


def pg_tables(url: str, schema: str = "public") -> set[str]:
    con = connect_postgres(url)
    try:
        return {r[0] for r in con.run("SELECT table_name FROM information_schema.tables WHERE table_schema = :s",
                                      s=schema)}
    finally:
        con.close()


def pg_count(url: str, table: str, schema: str = "public") -> int:
    con = connect_postgres(url)
    try:
        return con.run(f'SELECT count(*) FROM "{schema}".{table}')[0][0]
    finally:
        con.close()


def record_counts(run: Path) -> dict[str, int]:
    from hygeia.core.storage import connect

    con = connect(run)
    try:
        def n(where: str, table: str = "events") -> int:
            return con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]

        return {
            "person": n("true", "persons"),
            "death": n("death_time IS NOT NULL", "persons"),
            "visit_occurrence": n("kind = 'encounter'"),
            "drug_exposure": n("kind IN ('medication', 'immunization')"),
            # each clinical fact is one row of the table of its concept's domain; value-less
            # blood-pressure panels are left out (their members are measurements)
            "clinical": n("kind IN ('condition', 'medication', 'immunization', 'procedure', 'device', 'observation', "
                          "'allergy') AND NOT (code = '85354-9' AND numeric_value IS NULL AND text_value IS NULL)"),
        }
    finally:
        con.close()


def test_ddl_creates_all_tables_in_both_engines(loaded: dict, postgres_url: str):
    assert set(ALL_TABLES) <= pg_tables(postgres_url)
    with duckdb.connect(str(loaded["path"]), read_only=True) as con:
        assert {r[0] for r in con.execute("SHOW TABLES").fetchall()} == set(ALL_TABLES)
    con = connect_postgres(postgres_url)
    try:
        for table, columns in ALL_TABLES.items():
            got = [r[0] for r in con.run(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = :t ORDER BY ordinal_position", t=table)]
            assert got == [c[0] for c in columns], table
    finally:
        con.close()


def test_row_counts_match_the_records_in_both_engines(loaded: dict, run: Path, notes: Path, postgres_url: str):
    want = record_counts(run)
    want["note"] = sum(json.loads((notes / "manifest.json").read_text())["counts"].values())
    for counts in (loaded["duck"], loaded["pg"]):
        got = {k: counts[k] for k in want if k in counts}
        assert got["note"] > 0
        got["clinical"] = sum(counts[t] for t in ("condition_occurrence", "drug_exposure", "procedure_occurrence",
                                                   "device_exposure", "measurement", "observation"))
        assert got == want
        assert counts["observation_period"] == want["person"]
    assert loaded["duck"] == loaded["pg"]
    with duckdb.connect(str(loaded["path"]), read_only=True) as con:
        for table in ALL_TABLES:
            in_duck = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert in_duck == pg_count(postgres_url, table) == loaded["pg"][table], table


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_queries_give_identical_answers(loaded: dict, postgres_url: str, name: str):
    duck_cols, duck_rows = run_query(loaded["path"], name)
    pg_cols, pg_rows = run_query(postgres_url, name)
    assert duck_cols == pg_cols
    assert len(duck_rows) > 1
    assert sorted(duck_rows, key=repr) == sorted(pg_rows, key=repr)
    for row in duck_rows:
        assert all(not (isinstance(v, float) and math.isnan(v)) for v in row)


def test_query_answers_are_right(loaded: dict, run: Path):
    _, rows = run_query(loaded["path"], "death_rate")
    everyone = next(r for r in rows if r[0] == 0)
    counts = record_counts(run)
    assert everyone[1:3] == (counts["person"], counts["death"])
    _, visits = run_query(loaded["path"], "visits_per_person")
    assert sum(r[1] for r in visits) == counts["visit_occurrence"]


def test_existing_tables_need_overwrite(loaded: dict, run: Path, postgres_url: str):
    with pytest.raises(OutputError, match=re.escape("already has OMOP tables in schema 'public'")):
        export(run, "omop", None, omop_url=postgres_url)
    assert pg_count(postgres_url, "person") == loaded["pg"]["person"]


def test_failed_load_rolls_back_everything(run: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch):
    schema = "omop_interrupted"
    original = PostgresSink.insert
    calls = []

    def insert_then_fail(self, table, rows):
        original(self, table, rows)
        calls.append(table)
        if len(calls) == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(PostgresSink, "insert", insert_then_fail)
    with pytest.raises(KeyboardInterrupt):
        export(run, "omop", None, omop_url=postgres_url, omop_schema=schema)
    assert pg_tables(postgres_url, schema) == set()


def test_schema_option_and_overwrite(run: Path, postgres_url: str):
    schema = "cdm_option"
    first = export(run, "omop", None, omop_url=postgres_url, omop_schema=schema, overwrite=True)
    again = export(run, "omop", None, omop_url=postgres_url, omop_schema=schema, overwrite=True)
    assert first == again
    assert pg_count(postgres_url, "measurement", schema) == first["measurement"]
    _, rows = run_query(postgres_url, "visits_per_person", schema=schema)
    assert sum(r[1] for r in rows) == first["visit_occurrence"]


def test_missing_database_gives_a_clear_error(postgres_url: str):
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(OutputError, match=re.escape('database "no_such_db" does not exist. Fix: create it first')):
        connect_postgres(url)


def test_notes_are_identical_in_both_engines(loaded: dict, postgres_url: str):
    columns = ("note_id, person_id, note_date, note_datetime, note_type_concept_id, note_class_concept_id, note_title, "
               "note_text, encoding_concept_id, language_concept_id, visit_occurrence_id, note_source_value")
    with duckdb.connect(str(loaded["path"]), read_only=True) as con:
        duck = con.execute(f"SELECT {columns} FROM note ORDER BY note_id").fetchall()
        unlinked = con.execute("SELECT count(*) FROM note n LEFT JOIN visit_occurrence v USING (visit_occurrence_id) "
                               "WHERE v.person_id IS DISTINCT FROM n.person_id").fetchone()[0]
    con = connect_postgres(postgres_url)
    try:
        pg = [tuple(r) for r in con.run(f"SELECT {columns} FROM note ORDER BY note_id")]
    finally:
        con.close()
    assert len(duck) == loaded["duck"]["note"] > 0 and unlinked == 0
    assert [tuple(r) for r in duck] == pg
    assert {r[7].split("\n", 1)[0] for r in duck} <= {r[6] for r in duck}  # a note's text opens with its title


def test_every_applicable_dqd_check_passes_in_postgresql(run: Path, postgres_url: str):
    """The DataQualityDashboard's CDM 5.4 table- and field-level checks (tests/data/dqd) on a PostgreSQL load
    with the vocabulary fixture: every applicable check within its threshold."""
    from hygeia.export.omop._dqd import run_checks

    schema = "omop_dqd"
    export(run, "omop", None, omop_url=postgres_url, omop_schema=schema, overwrite=True,
           vocabulary=ROOT / "tests" / "data" / "omop_vocabulary", start="1950-01-01")
    con = connect_postgres(postgres_url)
    try:
        con.run(f'SET search_path TO "{schema}"')
        results = run_checks(con, ROOT / "tests" / "data" / "dqd", "postgresql")
    finally:
        con.close()
    assert [(r.name, r.table, r.field, r.violated, r.denominator) for r in results if r.status == "fail"] == []
    assert sum(r.status == "pass" for r in results) > 1000
