"""OMOP CDM 5.4 export, fast layer: DDL, concepts, URLs, refused servers, DuckDB export and interrupts."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from hygeia.core.storage import connect
from hygeia.errors import ConfigError, HygeiaError, OutputError
from hygeia.export import EXPORTERS, export
from hygeia.export.omop import CDM_TABLES, QUERIES, render_ddl, run_query, safe_url
from hygeia.export.omop._concepts import GENDER, VISIT, case_sql
from hygeia.export.omop._load import DuckDBSink, connect_postgres, parse_url
from hygeia.population import generate

CDM = [
    "person", "observation_period", "visit_occurrence", "visit_detail", "condition_occurrence", "drug_exposure",
    "procedure_occurrence", "device_exposure", "measurement", "observation", "death", "note", "note_nlp", "specimen",
    "fact_relationship", "location", "care_site", "provider", "payer_plan_period", "cost", "condition_era", "drug_era",
    "dose_era", "episode", "episode_event", "metadata", "cdm_source",
]
VOCABULARY = ["concept", "vocabulary", "domain", "concept_class", "concept_relationship", "relationship",
              "concept_synonym", "concept_ancestor", "drug_strength"]
CLINICAL = ["condition_occurrence", "drug_exposure", "procedure_occurrence", "device_exposure", "measurement",
            "observation"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("omop") / "run"
    generate(n=40, seed=3, out=out, shard_size=15)  # three shards: ids must run on across them
    return out


def expected_counts(run: Path) -> dict[str, int]:
    con = connect(run)
    try:
        def n(sql: str) -> int:
            return con.execute(sql).fetchone()[0]

        return {
            "person": n("SELECT count(*) FROM persons"),
            "observation_period": n("SELECT count(*) FROM persons"),
            "death": n("SELECT count(*) FROM persons WHERE death_time IS NOT NULL"),
            "visit_occurrence": n("SELECT count(*) FROM events WHERE kind = 'encounter'"),
            # every clinical fact is one row of the table of its concept's domain; value-less
            # blood-pressure panels (their members are measurements) are left out
            "clinical": n("SELECT count(*) FROM events WHERE kind IN ('condition', 'medication', 'immunization', "
                          "'procedure', 'device', 'observation', 'allergy') AND NOT (code = '85354-9' "
                          "AND numeric_value IS NULL AND text_value IS NULL)"),
            "drug_exposure": n("SELECT count(*) FROM events WHERE kind IN ('medication', 'immunization')"),
        }
    finally:
        con.close()


# -- DDL and concepts -------------------------------------------------------------
def test_ddl_has_the_cdm_and_vocabulary_tables_and_creates_them_in_duckdb():
    assert list(CDM_TABLES) == CDM
    con = duckdb.connect()
    con.execute(render_ddl("duckdb"))
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == set(CDM) | set(VOCABULARY)
    cols = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'measurement' ORDER BY ordinal_position"
    ).fetchall()]
    assert cols[:4] == ["measurement_id", "person_id", "measurement_concept_id", "measurement_date"]
    assert cols[-3:] == ["value_source_value", "measurement_event_id", "meas_event_field_concept_id"]
    con.close()


def test_postgres_ddl_uses_numeric_and_timestamp():
    ddl = render_ddl("postgresql")
    assert "value_as_number NUMERIC NULL" in ddl
    assert "birth_datetime TIMESTAMP NULL" in ddl
    assert "person_id INTEGER NOT NULL" in ddl


def test_case_sql_maps_and_defaults_to_zero():
    con = duckdb.connect()
    sql = f"SELECT {case_sql('x', GENDER)} FROM (VALUES ('M'), ('F'), ('U')) t(x)"
    assert [r[0] for r in con.execute(sql).fetchall()] == [8507, 8532, 0]
    con.close()
    assert VISIT["inpatient"] == 9201 and VISIT["emergency"] == 9203 and VISIT["ambulatory"] == 9202


# -- URLs and refused servers ---------------------------------------------------------
def test_safe_url_hides_the_password():
    assert safe_url("postgresql://u:s3cret@h:5/db") == "postgresql://u:***@h:5/db"
    assert safe_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_parse_url_defaults_and_bad_urls():
    t = parse_url("postgresql://alice@db.example/cdm")
    assert (t.user, t.host, t.port, t.database) == ("alice", "db.example", 5432, "cdm")
    with pytest.raises(ConfigError, match=re.escape("is not a PostgreSQL URL")):
        parse_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match=re.escape("names no database")):
        parse_url("postgresql://u@h:5432")


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_refused_url_gives_a_clear_error_without_the_password(run: Path):
    port = closed_port()
    url = f"postgresql://alice:topsecret@127.0.0.1:{port}/cdm"
    with pytest.raises(OutputError) as info:
        export(run, "omop", None, omop_url=url)
    message = str(info.value)
    assert isinstance(info.value, HygeiaError)
    assert f"postgresql://alice:***@127.0.0.1:{port}/cdm" in message
    assert "topsecret" not in message
    assert "Start the server (or fix host/port in the URL), or leave out --omop-url" in message
    with pytest.raises(OutputError, match=re.escape(f"127.0.0.1:{port} refused or did not answer")):
        connect_postgres(url)


def test_unknown_options_are_refused():
    with pytest.raises(ConfigError, match=re.escape("unknown omop export option(s) ['url']")):
        EXPORTERS["omop"](url="postgresql://x@y/z")
    with pytest.raises(ConfigError, match=re.escape("omop_schema goes with omop_url")):
        EXPORTERS["omop"](omop_schema="cdm")


def test_unknown_query_name():
    with pytest.raises(ConfigError, match=re.escape("unknown OMOP query 'nope'")):
        run_query(duckdb.connect(), "nope")


# -- DuckDB export -------------------------------------------------------------------
def test_duckdb_export_row_counts_match_the_records(run: Path, tmp_path: Path):
    out = tmp_path / "cdm.duckdb"
    counts = export(run, "omop", out)
    expected = expected_counts(run)
    counts["clinical"] = sum(counts[t] for t in CLINICAL)
    assert {k: counts[k] for k in expected} == expected
    assert counts["care_site"] == counts["provider"] == counts["location"] > 0
    assert counts["cdm_source"] == 1 and counts["concept"] > 400
    assert [p.name for p in tmp_path.iterdir()] == ["cdm.duckdb"]  # no temporary file, no WAL
    with duckdb.connect(str(out), read_only=True) as con:
        for table in CDM + VOCABULARY:
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == counts[table], table
        # ids unique across shards; every visit reference resolves; no unmapped demographics
        assert con.execute("SELECT count(DISTINCT visit_occurrence_id) FROM visit_occurrence").fetchone()[0] == \
            counts["visit_occurrence"]
        assert con.execute(
            "SELECT count(*) FROM condition_occurrence c LEFT JOIN visit_occurrence v USING (visit_occurrence_id) "
            "WHERE c.visit_occurrence_id IS NOT NULL AND v.person_id IS DISTINCT FROM c.person_id"
        ).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM person WHERE gender_concept_id = 0 OR race_concept_id = 0 "
                           "AND race_source_value <> 'other'").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM visit_occurrence WHERE visit_concept_id = 0").fetchone()[0] == 0
        outside = con.execute(
            "SELECT count(*) FROM visit_occurrence v JOIN observation_period o USING (person_id) "
            "WHERE v.visit_start_date < o.observation_period_start_date "
            "OR v.visit_start_date > o.observation_period_end_date").fetchone()[0]
        assert outside == 0
    for name in QUERIES:
        columns, rows = run_query(out, name)
        assert columns and rows, name


def test_duckdb_export_is_deterministic(run: Path, tmp_path: Path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    export(run, "omop", a)
    export(run, "omop", b)
    with duckdb.connect(str(a), read_only=True) as ca, duckdb.connect(str(b), read_only=True) as cb:
        for table in ("drug_exposure", "observation"):
            sql = f"SELECT * FROM {table} ORDER BY 1"
            assert ca.execute(sql).fetchall() == cb.execute(sql).fetchall()


def test_existing_duckdb_file_needs_overwrite(run: Path, tmp_path: Path):
    out = tmp_path / "cdm.duckdb"
    out.write_text("not a database")
    with pytest.raises(OutputError, match=re.escape("already exists. Choose another --out, or pass --overwrite")):
        export(run, "omop", out)
    export(run, "omop", out, overwrite=True)
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM person").fetchone()[0] == 40


def test_interrupted_duckdb_export_leaves_nothing(run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    inserted = []
    original = DuckDBSink.insert

    def insert_then_interrupt(self, table, rows):
        original(self, table, rows)
        inserted.append(table)
        if len(inserted) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(DuckDBSink, "insert", insert_then_interrupt)
    out_dir = tmp_path / "exports"
    with pytest.raises(KeyboardInterrupt):
        export(run, "omop", out_dir / "cdm.duckdb")
    assert list(out_dir.iterdir()) == []  # no .duckdb, no temporary file, no WAL


def test_killed_duckdb_export_leaves_no_duckdb_file(run: Path, tmp_path: Path):
    """A process killed mid-export (SIGKILL: no cleanup runs) leaves nothing named *.duckdb."""
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    marker = tmp_path / "started"
    script = textwrap.dedent(f"""
        import time
        from hygeia.export import export
        from hygeia.export.omop._load import DuckDBSink
        original = DuckDBSink.insert
        def slow_insert(self, table, rows):
            original(self, table, rows)
            open({str(marker)!r}, "w").close()
            time.sleep(60)
        DuckDBSink.insert = slow_insert
        export({str(run)!r}, "omop", {str(out_dir / "cdm.duckdb")!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the export process ended before it was killed"
            assert time.monotonic() < deadline, "the export never started writing"
            time.sleep(0.05)
        proc.kill()
    finally:
        proc.kill()
        proc.wait()
    names = [p.name for p in out_dir.iterdir()]
    assert names, "the export should have been writing a temporary file"
    assert not [n for n in names if n.endswith(".duckdb")], names
