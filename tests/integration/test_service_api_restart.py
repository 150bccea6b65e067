"""Kill 'hygeia serve' mid-job (SIGKILL) and start it again on the same data root: the job is marked failed
with a clear message, nothing half-written is left, and the job that was queued behind it runs."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from _servers import HYGEIA, Server

from hygeia.service._jobs import STOPPED_MESSAGE


def _call(port: int, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _start(root: Path, log: Path) -> Server:
    return Server([*HYGEIA, "serve", "--data-root", str(root), "--port", "{port}", "--jobs", "1"], log=log,
                  ready="/api/v1/health", timeout=30)


def _until(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


@pytest.mark.slow
def test_kill_the_server_mid_job(tmp_path: Path) -> None:
    root = tmp_path / "data"
    made = subprocess.run([*HYGEIA, "serve", "--data-root", str(root), "--create-token", "ana", "--scope", "write"],
                          capture_output=True, text=True, check=True)
    token = made.stdout.strip()
    assert token.startswith("hyg_") and "not shown again" in made.stderr
    server = _start(root, tmp_path / "server-1.log")
    try:
        port = server.port
        big = _call(port, "POST", "/jobs/generate", token, {"n": 20000, "seed": 3, "name": "big", "shard_size": 50})
        small = _call(port, "POST", "/jobs/generate", token, {"n": 10, "seed": 4, "name": "small"})
        runs = root / "runs"
        _until("the big job writes its temporary run folder", lambda: list(runs.glob(".big.tmp-*")), 30)
        job = _call(port, "GET", f"/jobs/{big['id']}", token)
        assert job["status"] == "running" and _call(port, "GET", f"/jobs/{small['id']}", token)["status"] == "queued"
        worker = int(_until("the job's pid", lambda: _pid(root, big["id"]), 5))
        server.kill()  # SIGKILL: the server cleans nothing up
        # the job's own watchdog stops it: its temporary output is deleted
        _until("the orphaned job stops", lambda: not _alive(worker), 20)
        server = _start(root, tmp_path / "server-2.log")
        port = server.port
        job = _call(port, "GET", f"/jobs/{big['id']}", token)
        assert job["status"] == "failed" and job["message"] == STOPPED_MESSAGE
        assert _call(port, "GET", f"/jobs/{big['id']}/logs", token)["lines"][-1].endswith(STOPPED_MESSAGE)
        assert not (runs / "big").exists() and not list(runs.glob(".big*")), sorted(os.listdir(runs))
        done = _until("the queued job runs after the restart",
                      lambda: (j := _call(port, "GET", f"/jobs/{small['id']}", token))["status"] in
                      ("succeeded", "failed") and j, 60)
        assert done["status"] == "succeeded" and done["result"]["summary"]["persons"] == 10
        assert (runs / "small" / "run.json").is_file()
    finally:
        server.stop()


def _pid(root: Path, job_id: str) -> int | None:
    import sqlite3

    con = sqlite3.connect(root / "service.db")
    try:
        row = con.execute("SELECT pid FROM jobs WHERE id = ?", (job_id,)).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of a dead parent counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
