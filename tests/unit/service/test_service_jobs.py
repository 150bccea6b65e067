"""The runner's recovery: a job a dead server of this machine left running is marked failed and its temporary
output deleted; a job claimed by another machine, or by a live server, is left alone."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from hygeia.service import JobRunner, JobStore, ServiceSettings
from hygeia.service._jobs import STOPPED_MESSAGE, runner_name


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_recover_marks_failed_and_sweeps(tmp_path: Path) -> None:
    settings = ServiceSettings(data_root=tmp_path)
    store = JobStore(settings)
    here, dead = socket.gethostname(), _dead_pid()
    mine = store.create("generate", {"n": 10, "name": "crashed"}, "ana")
    other_host = store.create("generate", {"n": 10, "name": "elsewhere"}, "ana")
    export = store.create("export", {"run": "x", "fmt": "fhir"}, "ana")
    store.update(mine.id, status="running", runner=f"{here}:{dead}")
    store.update(other_host.id, status="running", runner=f"another-host:{dead}")
    store.update(export.id, status="running", runner=f"{here}:{dead}")
    # what a writer killed with SIGKILL leaves: hidden temporary siblings of the outputs
    (tmp_path / "runs" / ".crashed.tmp-1a2b3c4d" / "persons").mkdir(parents=True)
    (tmp_path / "jobs" / export.id / ".fhir.tmp-0f0f0f0f").mkdir(parents=True)
    (tmp_path / "runs" / ".keep.tmp-99999999").mkdir()  # another output's: not this job's to delete

    runner = JobRunner(settings, store)
    assert sorted(runner.recover()) == sorted([mine.id, export.id])
    for job_id in (mine.id, export.id):
        job = store.get(job_id)
        assert job is not None and job.status == "failed" and job.message == STOPPED_MESSAGE and job.finished
        assert store.logs(job_id)[-1] == f"[hygeia serve] {STOPPED_MESSAGE}"
    assert store.get(other_host.id).status == "running"  # type: ignore[union-attr]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [".keep.tmp-99999999"]
    assert list((tmp_path / "jobs" / export.id).iterdir()) == [tmp_path / "jobs" / export.id / "log.txt"]


def test_a_live_servers_jobs_are_left_alone(tmp_path: Path) -> None:
    settings = ServiceSettings(data_root=tmp_path)
    store = JobStore(settings)
    here = socket.gethostname()
    # run from an interpreter whose path holds "hygeia" (a clone in a folder named hygeia), as in a user's checkout
    python = tmp_path / "hygeia" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    server = subprocess.Popen([str(python), "-c", "import time; time.sleep(30)", "hygeia", "serve"])
    other = subprocess.Popen([str(python), "-c", "import time; time.sleep(30)"])  # took a dead server's pid
    try:
        time.sleep(0.5)  # both have exec'd: their command lines are their own
        assert server.poll() is None and other.poll() is None
        jobs = {}
        for name, runner in [("busy", runner_name(server.pid)),  # a live server, named as servers name themselves
                             ("busy-old-name", f"{here}:{server.pid}"),  # named as older servers did
                             ("pid-taken", f"{here}:{other.pid}:1"),  # the pid now belongs to a later process
                             ("pid-taken-old-name", f"{here}:{other.pid}")]:
            jobs[name] = store.create("generate", {"n": 10, "name": name}, "ana").id
            store.update(jobs[name], status="running", runner=runner)
        assert sorted(JobRunner(settings, store).recover()) == sorted([jobs["pid-taken"], jobs["pid-taken-old-name"]])
        assert store.get(jobs["busy"]).status == store.get(jobs["busy-old-name"]).status == "running"  # type: ignore[union-attr]
    finally:
        for proc in (server, other):
            proc.kill()
            proc.wait()
