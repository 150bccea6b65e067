"""Loading FHIR Bundles twice into PostgreSQL: the same resource count (issue 18's must-show, on a real server).

The store is the tests' FHIR transaction processor (tests/unit/export/_fhir_store.py) over a
PostgreSQL database: HYGEIA_TEST_POSTGRES_URL, or a throwaway server started with
scripts/test-postgres.sh (HYGEIA_SKIP_POSTGRES=1 skips).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from hygeia.export import export
from hygeia.export.omop import connect_postgres
from hygeia.population import generate

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "test-postgres.sh"
sys.path.insert(0, str(ROOT / "tests" / "unit" / "export"))
from _fhir_store import FhirStore  # noqa: E402

pytestmark = pytest.mark.skipif(os.environ.get("HYGEIA_SKIP_POSTGRES") == "1",
                                reason="HYGEIA_SKIP_POSTGRES=1: PostgreSQL tests skipped on request")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("HYGEIA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    started = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=900)
    if started.returncode != 0 or not started.stdout.strip():
        pytest.fail(f"{SCRIPT} could not start PostgreSQL (exit {started.returncode}):\n{started.stderr[-3000:]}\n"
                    "Set HYGEIA_TEST_POSTGRES_URL, or HYGEIA_SKIP_POSTGRES=1 to skip.", pytrace=False)
    url = started.stdout.strip().splitlines()[-1]
    try:
        yield url
    finally:
        subprocess.run([str(SCRIPT), "stop", url], capture_output=True, text=True, timeout=120, check=False)


def _load(store: FhirStore, folder: Path) -> dict[str, int]:
    for f in sorted(folder.glob("*.json")):
        store.transaction(json.loads(f.read_text()))
    return store.counts()


def test_loading_the_same_bundles_twice_into_postgresql_gives_the_same_resource_count(postgres_url, tmp_path):
    run = tmp_path / "run"
    generate(n=2, seed=8, out=run, workers=1)
    export(run, "fhir", tmp_path / "bundles")
    export(run, "fhir", tmp_path / "parts", max_entries=50)
    reference = _load(FhirStore(duckdb.connect()), tmp_path / "bundles")
    con = connect_postgres(postgres_url)
    try:
        for folder in ("bundles", "parts"):
            store = FhirStore(con, dialect="postgres")  # fresh tables
            first = _load(store, tmp_path / folder)
            assert _load(store, tmp_path / folder) == first == reference
            assert store.dangling() == []
    finally:
        con.run("DROP TABLE IF EXISTS fhir_identifiers")
        con.run("DROP TABLE IF EXISTS fhir_resources")
        con.close()
    assert sum(reference.values()) > 500 and reference["Patient"] == 2
