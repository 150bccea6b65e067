"""The job runner: each job is ``hygeia``'s own command in a child process of its own.

:meth:`JobRunner.submit` checks a job's params with the command's own parser (:func:`build_args`) and
queues it; a dispatcher thread starts queued jobs, at most ``job_workers`` at once, each as
``python -m hygeia.service._worker <command line>`` in a new process group. A monitor thread per job
copies its output into ``data_root/jobs/<id>/log.txt``, reads the progress from the command's
progress lines (``generating: 120/1,000 persons (12%)...``), and records the outcome: ``succeeded``
with the output's files and the command's summary, ``failed`` with the command's error message, or
``cancelled``. A cancel sends the process group SIGTERM, then SIGKILL after ten seconds, and deletes
the temporary output the command left (the shards a stopped ``generate`` keeps for ``--resume`` too).

Outputs are written by the library's atomic writer, so a killed job leaves no half-written output.
When the server dies, each job's watchdog stops it; when a server starts (:meth:`JobRunner.start`)
the jobs left ``running`` by a dead server on this machine are marked failed (``the server stopped
while the job ran; resubmit it``) and their leftover temporary output is deleted; queued jobs are run.

Example:
    >>> import tempfile, pathlib, time
    >>> from hygeia.service import JobStore, ServiceSettings
    >>> settings = ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp()))
    >>> runner = JobRunner(settings, JobStore(settings))
    >>> job = runner.submit("generate", {"n": 5, "seed": 1, "name": "demo"}, "ana")
    >>> job = runner.wait(job.id, timeout=120)
    >>> job.status, job.result["path"], job.result["summary"]["persons"]
    ('succeeded', 'runs/demo', 5)
    >>> runner.stop()
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from hygeia.core.atomic import discard, recover
from hygeia.errors import ConfigError
from hygeia.service._kinds import KINDS, NEW_RUN, build_args, output_of
from hygeia.service._paths import relative
from hygeia.service._settings import ServiceSettings
from hygeia.service._store import FINISHED, Job, JobStore

__all__ = ["STOPPED_MESSAGE", "JobRunner"]

STOPPED_MESSAGE = "the server stopped while the job ran; resubmit it"
_PROGRESS = re.compile(r"(?P<done>[\d,]+)/(?P<total>[\d,]+)\b[^()\n]*\((?P<pct>\d+)%\)")
_KILL_AFTER = 10.0
_MAX_FILES = 500


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def _is_worker(pid: int, job_id: str) -> bool:
    """Whether ``pid`` is the worker of ``job_id`` (and not another process that got its pid since)."""
    cmdline = _cmdline(pid)
    return cmdline[1:4] == [b"-m", b"hygeia.service._worker", job_id.encode()]


def _start_ticks(pid: int) -> str | None:
    """When ``pid`` started (clock ticks after boot, ``/proc/PID/stat``), or ``None`` if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the name in parentheses may hold spaces
    return fields[19] if len(fields) > 19 else None


def runner_name(pid: int) -> str:
    """The name a server's runner claims jobs with: ``host:pid:start``; the start time tells the
    server from a later process that was given the same pid."""
    start = _start_ticks(pid)
    return f"{socket.gethostname()}:{pid}" + (f":{start}" if start else "")


def _is_server(runner: str) -> bool:
    """Whether the server of this machine named ``runner`` (``host:pid:start``, or ``host:pid`` as older
    servers wrote it) is still alive, and not another process that was given its pid since."""
    pid, _, start = runner.partition(":")[2].partition(":")
    if not pid.isdigit() or not _alive(int(pid)):
        return False
    if start:
        return _start_ticks(int(pid)) == start
    # an older name without the start time: a process that runs Hygeia (its arguments, not the
    # interpreter's path, which may lie in a folder called hygeia)
    return any(b"hygeia" in part for part in _cmdline(int(pid))[1:])


def _stop_group(pid: int, wait: float = _KILL_AFTER) -> None:
    """SIGTERM the process group ``pid`` leads, then SIGKILL it if it is still there after ``wait`` s."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def parse_progress(line: str) -> float | None:
    """The fraction done that a progress line states, or None.

    Example:
        >>> parse_progress("generating: 120/1,000 persons (12%), 0:03 elapsed, about 0:20 left")
        0.12
    """
    m = _PROGRESS.search(line)
    if not m:
        return None
    total = int(m["total"].replace(",", ""))
    return min(1.0, int(m["done"].replace(",", "")) / total) if total else 1.0


def _files(root: Path, out: Path) -> list[str]:
    if out.is_file():
        return [relative(root, out)]
    found: list[str] = []
    for dirpath, dirnames, names in os.walk(out):
        dirnames.sort()
        for name in sorted(names):
            found.append(relative(root, Path(dirpath) / name))
            if len(found) >= _MAX_FILES:
                return found
    return found


class JobRunner:
    """Runs the jobs of a :class:`JobStore` (see the module docstring).

    Args:
        settings: the service's settings (``job_workers`` jobs at once; 0 runs none here).
        store: where jobs are kept.
    """

    def __init__(self, settings: ServiceSettings, store: JobStore) -> None:
        self.settings = settings
        self.store = store
        self.name = runner_name(os.getpid())
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._monitors: list[threading.Thread] = []

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Recover the jobs a dead server left running, then start running queued jobs (idempotent)."""
        with self._lock:
            if self._thread is not None:
                return
            self.recover()
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, daemon=True, name="hygeia-jobs")
            self._thread.start()

    def stop(self) -> None:
        """Stop running jobs (they are marked failed: the server stopped) and the dispatcher."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            procs = dict(self._procs)
        for proc in procs.values():
            _stop_group(proc.pid)
        for t in list(self._monitors):
            t.join(timeout=_KILL_AFTER + 5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def recover(self) -> list[str]:
        """Mark failed the jobs left ``running`` by a server of this machine that is gone; returns their ids."""
        host = socket.gethostname()
        failed = []
        for job, pid, runner in self.store.running():
            if (runner or "").partition(":")[0] != host or (runner != self.name and _is_server(runner)):
                continue  # another machine's job, or a live server's
            if pid and _alive(pid) and _is_worker(pid, job.id):
                _stop_group(pid)
            self._sweep(job)
            if self.store.finish(job.id, "failed", STOPPED_MESSAGE):
                self._log(job.id, f"[hygeia serve] {STOPPED_MESSAGE}")
                failed.append(job.id)
        return failed

    def _sweep(self, job: Job) -> None:
        """Delete the temporary output a killed job may have left (the atomic writer's hidden siblings)."""
        try:
            out = output_of(job.kind, job.params, self.settings, job.id)
        except ConfigError:
            return
        if out is None:
            return
        recover(out)
        for tmp in out.parent.glob(f".{out.name}.tmp-*"):
            discard(tmp)

    # -- submitting and cancelling ---------------------------------------------------------------
    def submit(self, kind: str, params: dict[str, Any], owner: str) -> Job:
        """Check ``params`` with the command's own parser and queue the job.

        Raises:
            ConfigError: an unknown kind, a bad param (in the command's words), or an output that exists
                (or that another job is making).
        """
        if kind not in KINDS:
            raise ConfigError(f"unknown job kind {kind!r}. Choose one of: {', '.join(KINDS)}.")
        params = {k: v for k, v in dict(params).items() if v is not None}
        job_id = secrets.token_hex(6)
        build_args(kind, params, self.settings, job_id)
        out = output_of(kind, params, self.settings, job_id)
        if out is not None and not out.is_relative_to(self.settings.data_root / "jobs"):
            if out.exists() and not params.get("overwrite"):
                raise ConfigError(f"{relative(self.settings.data_root, out)} already exists. Choose another name, "
                                  "or pass overwrite=true to replace it.")
            for other in self.store.list(status="queued", limit=1000) + self.store.list(status="running", limit=1000):
                if other.kind in KINDS and output_of(other.kind, other.params, self.settings, other.id) == out:
                    raise ConfigError(f"job {other.id} is already making {relative(self.settings.data_root, out)}. "
                                      "Wait for it, cancel it, or choose another name.")
        job = self.store.create(kind, params, owner, job_id=job_id)
        self.start()
        self._wake.set()
        return job

    def cancel(self, job_id: str, by: str) -> Job:
        """Cancel a queued or running job.

        Raises:
            ConfigError: no such job, or it has finished.
        """
        job = self.store.get(job_id)
        if job is None:
            raise ConfigError(f"no job {job_id!r}. List the jobs with GET /api/v1/jobs.")
        if job.status in FINISHED:
            raise ConfigError(f"job {job_id} has already {job.status}; there is nothing to cancel.")
        if job.status == "queued" and self.store.finish(job_id, "cancelled", f"cancelled by {by} before it started"):
            return self.store.get(job_id)  # type: ignore[return-value]
        self.store.request_cancel(job_id)
        self.store.update(job_id, message=f"cancelling (asked by {by})")
        with self._lock:
            proc = self._procs.get(job_id)
        if proc is not None:
            threading.Thread(target=_stop_group, args=(proc.pid,), daemon=True).start()
        return self.store.get(job_id)  # type: ignore[return-value]

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until the job has finished (or ``timeout`` s passed); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.store.get(job_id)
            if job is None:
                raise ConfigError(f"no job {job_id!r}")
            if job.status in FINISHED or time.monotonic() > deadline:
                return job
            time.sleep(0.1)

    # -- running ---------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stopping.is_set():
            while self.settings.job_workers > 0 and not self._stopping.is_set():
                with self._lock:
                    if len(self._procs) >= self.settings.job_workers:
                        break
                job = self.store.claim(self.name)
                if job is None:
                    break
                self._spawn(job)
            self._wake.wait(1.0)
            self._wake.clear()

    def _log(self, job_id: str, text: str) -> None:
        path = self.store.log_path(job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n")

    def _relative(self, text: str) -> str:
        """``text`` with the data root's absolute path taken out: clients name paths relative to it."""
        return text.replace(str(self.settings.data_root) + os.sep, "")

    def _spawn(self, job: Job) -> None:
        try:
            args = build_args(job.kind, job.params, self.settings, job.id)
        except ConfigError as exc:  # an input deleted since the job was queued
            self._log(job.id, f"Error: {exc}")
            self.store.finish(job.id, "failed", str(exc))
            return
        env = dict(os.environ, PYTHONUNBUFFERED="1", HYGEIA_JOB_ID=job.id, COLUMNS="120")
        self._log(job.id, self._relative(f"[hygeia serve] job {job.id} ({job.kind}) started by {job.owner}: hygeia "
                                         + " ".join(a if " " not in a else repr(a) for a in args)))
        proc = subprocess.Popen([sys.executable, "-m", "hygeia.service._worker", job.id, *args],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=self.settings.data_root, env=env, start_new_session=True)
        with self._lock:
            self._procs[job.id] = proc
        self.store.update(job.id, pid=proc.pid, message="running")
        t = threading.Thread(target=self._monitor, args=(job, proc), daemon=True, name=f"job-{job.id}")
        self._monitors.append(t)
        t.start()

    def _monitor(self, job: Job, proc: subprocess.Popen[bytes]) -> None:
        log_lock = threading.Lock()
        state: dict[str, Any] = {"last": "", "error": "", "progress": None, "stdout": [], "dirty": False}
        log = self.store.log_path(job.id).open("a", encoding="utf-8")

        def read(stream: IO[bytes], is_stdout: bool) -> None:
            for raw in iter(stream.readline, b""):
                for line in raw.decode("utf-8", errors="replace").replace("\r", "\n").splitlines():
                    line = self._relative(line.rstrip())
                    if not line:
                        continue
                    with log_lock:
                        log.write(line + "\n")
                        log.flush()
                        if is_stdout:
                            state["stdout"].append(line)
                        if line.startswith("Error:"):
                            state["error"] = line[len("Error:"):].strip()
                        elif state["error"] and line.startswith("  "):
                            state["error"] += "\n" + line  # a list of problems under the error
                        fraction = parse_progress(line)
                        if fraction is not None:
                            state["progress"] = fraction
                        state["last"] = line
                        state["dirty"] = True

        readers = [threading.Thread(target=read, args=(proc.stdout, True), daemon=True),
                   threading.Thread(target=read, args=(proc.stderr, False), daemon=True)]
        for r in readers:
            r.start()
        cancelled = False
        while True:
            try:
                proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            if not cancelled and self.store.cancel_requested(job.id):
                cancelled = True
                threading.Thread(target=_stop_group, args=(proc.pid,), daemon=True).start()
            with log_lock:
                dirty, state["dirty"] = state["dirty"], False
                progress, last = state["progress"], state["last"]
            if dirty and not cancelled:
                self.store.update(job.id, progress=progress, message=last[:500])
        for r in readers:
            r.join(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        with log_lock:
            log.close()
        with self._lock:
            self._procs.pop(job.id, None)
        self._finish(job, proc.returncode, cancelled or self.store.cancel_requested(job.id), state)
        self._wake.set()

    def _finish(self, job: Job, rc: int, cancelled: bool, state: dict[str, Any]) -> None:
        if cancelled:
            self._sweep(job)
            self.store.finish(job.id, "cancelled", "cancelled; no partial output was left")
            self._log(job.id, "[hygeia serve] cancelled; no partial output was left")
            return
        if self._stopping.is_set() and rc != 0:
            self._sweep(job)
            self.store.finish(job.id, "failed", STOPPED_MESSAGE)
            self._log(job.id, f"[hygeia serve] {STOPPED_MESSAGE}")
            return
        if rc != 0:
            message = state["error"] or state["last"] or f"the command exited with status {rc}"
            self.store.finish(job.id, "failed", message)
            return
        root = self.settings.data_root
        out = output_of(job.kind, job.params, self.settings, job.id)
        if out is None and "run" in job.params:  # written into its run (images link)
            out = root / "runs" / str(job.params["run"])
        summary: dict[str, Any] = {"text": "\n".join(state["stdout"][-40:])}
        if out is not None and KINDS[job.kind].roles.get("out") == NEW_RUN and (out / "run.json").is_file():
            from hygeia.core.storage import read_run_info

            info = read_run_info(out)
            counts = info.get("counts", {})
            summary.update(persons=counts.get("persons"), events=counts.get("events"),
                           seed=info.get("config", {}).get("seed"))
        result = {"path": relative(root, out) if out is not None else None,
                  "files": _files(root, out) if out is not None and out.exists() else [], "summary": summary}
        headline = state["stdout"][0] if state["stdout"] else "done"
        self.store.finish(job.id, "succeeded", headline, result=result, progress=1.0)
