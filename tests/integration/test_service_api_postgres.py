"""The service on a PostgreSQL job store (``hygeia serve --database postgresql://...``): tokens, a real job,
one claim per job across threads, the audit log, and the API over it.

The server comes from HYGEIA_TEST_POSTGRES_URL, or else this module starts a throwaway one with
scripts/test-postgres.sh and stops it at the end; each test gets its own fresh database. Set
HYGEIA_SKIP_POSTGRES=1 to skip these tests on purpose.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from hygeia.service import JobRunner, JobStore, ServiceSettings, create_app
from hygeia.service._auth import authenticate, create_token

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "test-postgres.sh"

pytestmark = pytest.mark.skipif(os.environ.get("HYGEIA_SKIP_POSTGRES") == "1",
                                reason="HYGEIA_SKIP_POSTGRES=1: PostgreSQL tests skipped on request")


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    url = os.environ.get("HYGEIA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        started = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=900, check=False)
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


@pytest.fixture
def database(server_url: str) -> Iterator[str]:
    import pg8000.native

    u = urlparse(server_url)
    name = "hygeia_service_" + secrets.token_hex(4)
    admin = pg8000.native.Connection(user=u.username or "postgres", password=u.password, host=u.hostname,
                                     port=u.port or 5432, database=(u.path or "/postgres").lstrip("/"))
    admin.run(f"CREATE DATABASE {name}")
    try:
        yield urlunparse(u._replace(path="/" + name))
    finally:
        admin.run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_store_runner_and_claims(database: str, tmp_path: Path) -> None:
    settings = ServiceSettings(data_root=tmp_path, database=database)
    store = JobStore(settings)
    token = create_token(store, "ana", "write")
    assert authenticate(store, token).scope == "write"  # type: ignore[union-attr]
    runner = JobRunner(settings, store)
    job = runner.submit("generate", {"n": 5, "seed": 1, "name": "demo"}, "ana")
    job = runner.wait(job.id, timeout=120)
    runner.stop()
    assert job.status == "succeeded" and job.result is not None and job.result["summary"]["persons"] == 5

    ids = {store.create("generate", {"n": i, "name": f"r{i}"}, "ana").id for i in range(12)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        other = JobStore(settings)  # a second server on the same database
        while (j := other.claim(f"host:{threading.get_ident()}")) is not None:
            with lock:
                claimed.append(j.id)
        other.close()

    threads = [threading.Thread(target=claim) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert sorted(claimed) == sorted(ids)


def test_api_on_postgres(database: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    app = create_app(ServiceSettings(data_root=tmp_path, database=database))
    auth = {"Authorization": "Bearer " + create_token(app.state.store, "ana", "admin")}
    with TestClient(app) as client:
        r = client.post("/api/v1/jobs/generate", json={"n": 5, "seed": 2, "name": "pg"}, headers=auth)
        assert r.status_code == 202
        deadline = time.monotonic() + 120
        while (job := client.get(f"/api/v1/jobs/{r.json()['id']}", headers=auth).json())["status"] not in (
                "succeeded", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert job["status"] == "succeeded"
        assert [run["name"] for run in client.get("/api/v1/runs", headers=auth).json()] == ["pg"]
        assert client.get("/api/v1/jobs").status_code == 401
        audit = client.get("/api/v1/audit", headers=auth).json()
        assert {("POST", 202, job["id"]), ("GET", 401, None)} <= {(e["method"], e["status"], e["job_id"])
                                                                  for e in audit}
