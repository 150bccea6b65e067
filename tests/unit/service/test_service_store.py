"""The job store: jobs in order, one claim per job, finished jobs stay finished, tokens hashed, audit kept."""

from __future__ import annotations

import doctest
import re
import threading
from pathlib import Path

import pytest

from hygeia.errors import ConfigError
from hygeia.service import (
    JobStore,
    ServiceSettings,
    _auth,
    _jobs,
    _kinds,
    _paths,
    _settings,
    _store,
)


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(ServiceSettings(data_root=tmp_path))


def test_doctests() -> None:
    for module in (_settings, _paths, _store, _auth, _kinds):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_create_get_list(store: JobStore) -> None:
    a = store.create("generate", {"n": 1, "name": "a"}, "ana")
    b = store.create("export", {"run": "a", "fmt": "fhir"}, "bo")
    assert store.get(a.id) == a and store.get("nope") is None
    assert [j.id for j in store.list()] == [b.id, a.id]  # newest first
    assert [j.id for j in store.list(kind="generate")] == [a.id]
    assert store.list(status="running") == []
    assert (store.root / "jobs" / a.id).is_dir()


def test_claim_each_job_once_across_threads(store: JobStore) -> None:
    ids = {store.create("generate", {"n": i, "name": f"r{i}"}, "ana").id for i in range(20)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        while (job := store.claim("host:1")) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)
    assert all(j.status == "running" and j.started for j in store.list(limit=100))


def test_finish_once(store: JobStore) -> None:
    job = store.create("generate", {"n": 1, "name": "a"}, "ana")
    assert store.finish(job.id, "succeeded", "done", result={"path": "runs/a", "files": [], "summary": {}})
    assert not store.finish(job.id, "failed", "late")  # a finished job stays as it was
    done = store.get(job.id)
    assert done is not None and done.status == "succeeded" and done.result == {"path": "runs/a", "files": [],
                                                                                "summary": {}}
    assert done.finished is not None


def test_logs(store: JobStore) -> None:
    job = store.create("generate", {"n": 1, "name": "a"}, "ana")
    assert store.logs(job.id) == []
    store.log_path(job.id).write_text("one\ntwo\nthree\n")
    assert store.logs(job.id) == ["one", "two", "three"] and store.logs(job.id, after=2) == ["three"]


def test_tokens_are_stored_hashed(store: JobStore) -> None:
    token = _auth.create_token(store, "ana", "admin")
    text = b"".join(p.read_bytes() for p in store.root.glob("service.db*"))  # the database and its WAL
    assert token.encode() not in text and _auth.hash_token(token).encode() in text
    assert _auth.authenticate(store, token) == _auth.Principal("ana", "admin")
    assert _auth.authenticate(store, token + "x") is None and _auth.authenticate(store, "") is None
    with pytest.raises(ConfigError, match=re.escape("a token named 'ana' already exists")):
        _auth.create_token(store, "ana", "read")
    with pytest.raises(ConfigError, match=re.escape("scope must be one of read, write, admin; got 'root'")):
        _auth.create_token(store, "bo", "root")
    assert [t["name"] for t in store.tokens()] == ["ana"]
    assert store.revoke_token("ana") and _auth.authenticate(store, token) is None


def test_scopes_order() -> None:
    assert [_auth.allows(s, "write") for s in _auth.SCOPES] == [False, True, True]


def test_audit(store: JobStore) -> None:
    store.audit("ana", "POST", "/api/v1/jobs/generate", 202, "abc")
    store.audit(None, "GET", "/api/v1/runs", 401)
    log = store.audit_log()
    assert [(e["who"], e["status"], e["job_id"]) for e in log] == [(None, 401, None), ("ana", 202, "abc")]
    assert [e["who"] for e in store.audit_log(who="ana")] == ["ana"]


def test_a_newer_schema_is_refused(store: JobStore) -> None:
    store._run("UPDATE meta SET value = '99' WHERE key = 'spec_version'")
    with pytest.raises(ConfigError, match="has schema version 99, newer than"):
        JobStore(store.settings)


def test_settings_refuse_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="database must be a PostgreSQL URL"):
        ServiceSettings(data_root=tmp_path, database="mysql://x")
    with pytest.raises(ConfigError, match="job_workers must be 0 or more"):
        ServiceSettings(data_root=tmp_path, job_workers=-1)


def test_progress_lines() -> None:
    assert _jobs.parse_progress("exporting FHIR: 30/120 persons (25%), 0:02 elapsed") == 0.25
    assert _jobs.parse_progress("generating: 1,000/1,000 persons (100%) in 0:06") == 1.0
    assert _jobs.parse_progress("Made 20 persons") is None
