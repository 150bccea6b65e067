"""Synthea CSV loads into OHDSI ETL-Synthea's native tables, in PostgreSQL and DuckDB, row for row.

The tables are ETL-Synthea's own DDL for Synthea 3.3 (``data/etl_synthea/``, Apache-2.0,
see its README), rendered as its ``CreateSyntheaTables()`` does. Every file is loaded
with ``COPY table (the columns of its CSV header) FROM ... CSV HEADER``: a header name
that is not a column of ETL-Synthea's table, a value that does not parse as the column's
type (a date, a number) or a wrong number of fields fails the load. Then the row counts
must equal the run's events by table, and every PATIENT/ENCOUNTER reference must name a
loaded patient/encounter.

PostgreSQL comes from HYGEIA_TEST_POSTGRES_URL, or this module starts a throwaway server
with scripts/test-postgres.sh and stops it at the end; HYGEIA_SKIP_POSTGRES=1 skips the
PostgreSQL half on purpose.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.core.storage import RunWriter
from hygeia.export import export
from hygeia.export._synthea_csv import SYNTHEA_FILES
from hygeia.population import generate

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "test-postgres.sh"
DDL = Path(__file__).parent / "data" / "etl_synthea" / "create_synthea_tables.sql"
#: Files whose rows reference a patient and an encounter (PATIENT, ENCOUNTER columns).
EVENT_FILES = ("allergies", "medications", "conditions", "careplans", "observations", "procedures", "immunizations",
               "imaging_studies", "devices", "supplies")


def render_ddl(schema: str) -> str:
    """ETL-Synthea's DDL as SqlRender renders it, with the ``"start"_date`` typo (issue #207) read as start_date."""
    sql = DDL.read_text()
    assert sql.count('"start"_date') == 1  # the shipped file is ETL-Synthea's, unchanged
    return sql.replace("@synthea_schema", schema).replace('"start"_date', "start_date")


def ddl_columns() -> dict[str, list[str]]:
    """Table -> its columns in order, read from the DDL."""
    tables = {}
    for name, body in re.findall(r"create table @synthea_schema\.(\w+) \((.*?)\n\);", DDL.read_text(), re.DOTALL):
        cols = [re.match(r'\s*"?(\w+)"?', line).group(1).lower() for line in body.strip().splitlines() if line.strip()]
        tables[name] = ["start_date" if c == "start" and name == "payer_transitions" and i == 2 else c
                        for i, c in enumerate(cols)]
    return tables


def statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if re.sub(r"--[^\n]*", "", s).strip()]


def header(path: Path) -> list[str]:
    with path.open() as f:
        return [h.strip('"').lower() for h in f.readline().strip().split(",")]


def expected_rows(run: Path) -> dict[str, int]:
    """Rows each file must hold, counted from the run's records (not from the exporter)."""
    con = duckdb.connect()
    kinds = dict(con.execute(
        f"SELECT kind, count(*) FROM '{run}/events/*.parquet' WHERE kind <> 'observation' "
        "OR numeric_value IS NOT NULL OR text_value IS NOT NULL GROUP BY kind").fetchall())
    series = con.execute(f"SELECT coalesce(sum(len(string_split(text_value, '; '))), 0) "
                         f"FROM '{run}/events/*.parquet' WHERE kind = 'imaging'").fetchone()[0]
    persons = con.execute(f"SELECT count(*) FROM '{run}/persons/*.parquet'").fetchone()[0]
    by_file = {"patients": persons, "allergies": "allergy", "medications": "medication", "conditions": "condition",
               "careplans": "careplan", "observations": "observation", "procedures": "procedure",
               "immunizations": "immunization", "encounters": "encounter", "devices": "device", "supplies": "supply"}
    out = {f: (v if isinstance(v, int) else kinds.get(v, 0)) for f, v in by_file.items()}
    out["imaging_studies"] = int(series)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthea_etl") / "run"
    generate(n=12, seed=5, shard_size=5, out=out)  # three shards
    return out


BIRTH = dt.datetime(1962, 3, 4, 5, 6, 7, 890000)
DEATH = BIRTH + dt.timedelta(days=20000, hours=19)  # 00:06 the next day: the date is the UTC day


def handmade_run(out: Path) -> Path:
    """A run with what the default modules do not make: allergies, supplies, a two-series study, a coded answer,
    text with commas and quotes, a symptom, a note, a fact outside any encounter, a person with no state."""
    t = BIRTH
    persons = pa.Table.from_pylist([
        {"subject_id": 1, "birth_time": t, "death_time": DEATH, "sex": "F", "race": "black",
         "ethnicity": "hispanic", "locale": "us", "given_name": "Ann", "family_name": "O'Neil, Jr", "state": None,
         "income": 12000, "education": None, "marital_status": "W", "seed": 2**64 - 1}], schema=PERSONS_SCHEMA)
    base = {"subject_id": 1, "end_time": None, "code_system": "SNOMED-CT", "numeric_value": None, "unit": None,
            "text_value": None, "encounter_id": 7, "module": "handmade", "state": "S"}
    rows = [
        {"time": t, "kind": "encounter", "code": "185349003", "display": "Encounter for check up", "text_value":
         "ambulatory", "end_time": t + dt.timedelta(minutes=30)},
        {"time": t, "kind": "allergy", "code": "419474003", "display": "Allergy to mould"},
        {"time": t, "kind": "supply", "code": "337388004", "display": "Blood glucose testing strip", "numeric_value": 50.0},
        {"time": t, "kind": "imaging", "code": "241541005", "display": "High resolution CT of chest",
         "text_value": "CT:Thoracic structure (body structure); DX:Chest, \"PA\" view"},
        {"time": t, "kind": "observation", "code_system": "LOINC", "code": "72166-2", "display": "Tobacco smoking status",
         "text_value": "SNOMED-CT|266919005|Never smoked tobacco (finding)"},
        {"time": t, "kind": "observation", "code_system": "LOINC", "code": "8302-2", "display": 'Body height, "standing"',
         "numeric_value": 161.5, "unit": "cm"},
        {"time": t, "kind": "careplan", "code": "384758001", "display": "Self-care interventions", "text_value": "a; b"},
        {"time": t, "kind": "device", "code": "36965003", "display": "Hemodialysis machine"},
        {"time": t, "kind": "symptom", "code": None, "display": "Cough", "numeric_value": 3.0},
        {"time": t, "kind": "note", "code_system": "LOINC", "code": "11506-3", "display": "Progress note",
         "text_value": "S: well, thanks"},
        {"time": t + dt.timedelta(days=1), "kind": "condition", "code": "44054006", "display": "Diabetes",
         "encounter_id": None},
    ]
    events = pa.Table.from_pylist([{**base, **r} for r in rows], schema=EVENTS_SCHEMA)
    with RunWriter(out, shards=1) as w:
        w.write_shard(0, persons, events)
        w.finish({"seed": 9})
    return out


@pytest.fixture(scope="module", params=["generated", "handmade"])
def exported(request, run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    source = run if request.param == "generated" else handmade_run(tmp_path_factory.mktemp("handmade") / "run")
    out = source.parent / "synthea_csv"
    return out, export(source, "synthea-csv", out), source


def test_headers_are_etl_synthea_columns_in_order(exported):
    root, _, _ = exported
    tables = ddl_columns()
    assert sorted(tables) == sorted(SYNTHEA_FILES)
    for name in SYNTHEA_FILES:
        assert header(root / f"{name}.csv") == tables[name], name


def check_loaded(query, root: Path, counts: dict, want: dict, schema: str) -> None:
    for name in SYNTHEA_FILES:
        n = query(f"SELECT count(*) FROM {schema}.{name}")[0][0]
        assert n == counts[name], name
        if name in want:
            assert n == want[name], name
    assert counts["encounters"] > 0 and counts["observations"] > 0 and counts["organizations"] > 0
    if counts["allergies"]:  # the hand-made run: its text, numbers and dates arrived whole
        assert query(f"SELECT quantity FROM {schema}.supplies")[0][0] == 50
        assert counts["skipped: symptom"] == counts["skipped: note"] == 1 and counts["imaging_studies"] == 2
        assert query(f"SELECT last FROM {schema}.patients")[0][0] == "O'Neil, Jr"
        assert sorted(r[0] for r in query(f"SELECT value FROM {schema}.observations")) == [
            "161.5", "Never smoked tobacco (finding)"]
        assert query(f"SELECT count(*) FROM {schema}.imaging_studies WHERE bodysite_description = 'Chest, \"PA\" view'"
                     )[0][0] == 1
        assert str(query(f"SELECT birthdate, deathdate FROM {schema}.patients")[0][1]) == str(DEATH.date())
        assert query(f"SELECT count(*) FROM {schema}.conditions WHERE encounter IS NULL")[0][0] == 1
    for name in (*EVENT_FILES, "encounters"):
        orphans = query(f"SELECT count(*) FROM {schema}.{name} x LEFT JOIN {schema}.patients p ON x.patient = p.id "
                        "WHERE p.id IS NULL")[0][0]
        assert orphans == 0, name
    for name in EVENT_FILES:
        orphans = query(f"SELECT count(*) FROM {schema}.{name} x LEFT JOIN {schema}.encounters e "
                        "ON x.encounter = e.id WHERE x.encounter IS NOT NULL AND e.id IS NULL")[0][0]
        assert orphans == 0, name
    orphans = query(f"SELECT count(*) FROM {schema}.encounters e LEFT JOIN {schema}.organizations o "
                    f"ON e.organization = o.id LEFT JOIN {schema}.providers p ON e.provider = p.id "
                    "WHERE o.id IS NULL OR p.id IS NULL")[0][0]
    assert orphans == 0
    # dates and numbers arrived as values, not as NULLs
    assert query(f"SELECT count(*) FROM {schema}.encounters WHERE start IS NULL")[0][0] == 0
    assert query(f"SELECT count(*) FROM {schema}.patients WHERE birthdate IS NULL OR income IS NULL")[0][0] == 0
    used = query(f"SELECT sum(CAST(utilization AS integer)) FROM {schema}.organizations")[0][0]
    assert int(used) == counts["encounters"]


def test_loads_into_duckdb(exported):
    root, counts, run = exported
    con = duckdb.connect()
    con.execute("CREATE SCHEMA synthea")
    for stmt in statements(render_ddl("synthea")):
        con.execute(stmt)
    for name in SYNTHEA_FILES:
        cols = ", ".join(f'"{c}"' for c in header(root / f"{name}.csv"))
        con.execute(f"COPY synthea.{name} ({cols}) FROM '{root / f'{name}.csv'}' (FORMAT csv, HEADER true)")
    check_loaded(lambda q: con.execute(q).fetchall(), root, counts, expected_rows(run), "synthea")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if os.environ.get("HYGEIA_SKIP_POSTGRES") == "1":
        pytest.skip("HYGEIA_SKIP_POSTGRES=1: PostgreSQL tests skipped on request")
    url = os.environ.get("HYGEIA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        started = subprocess.run([str(SCRIPT), "start"], check=False, capture_output=True, text=True, timeout=900)
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


def test_loads_into_postgresql(exported, postgres_url):
    from hygeia.export.omop import connect_postgres

    root, counts, run = exported
    con = connect_postgres(postgres_url)
    schema = f"synthea_{os.getpid()}"
    try:
        con.run(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.run(f"CREATE SCHEMA {schema}")
        for stmt in statements(render_ddl(schema)):
            con.run(stmt)
        for name in SYNTHEA_FILES:
            cols = ", ".join(f'"{c}"' for c in header(root / f"{name}.csv"))
            with (root / f"{name}.csv").open("rb") as f:
                con.run(f"COPY {schema}.{name} ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true)", stream=f)
        check_loaded(con.run, root, counts, expected_rows(run), schema)
    finally:
        con.run(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.close()
