"""The job store: jobs, access tokens and the audit log in SQLite (default) or PostgreSQL.

One small schema (``spec_version`` 1 in the ``meta`` table) in either database:

- ``jobs``: one row per job (:class:`Job`); its log is the file ``data_root/jobs/<id>/log.txt``;
- ``tokens``: a name, the SHA-256 of the token (never the token) and a scope;
- ``audit``: who did what and when (method, path, status, job id).

Every method opens its own short transaction on a per-thread connection, so the web server's
threads and the job runner's share one store safely; two servers may share one PostgreSQL store
(a job is claimed by one runner with a conditional update).

Example:
    >>> import tempfile, pathlib
    >>> from hygeia.service import ServiceSettings
    >>> store = JobStore(ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp())))
    >>> job = store.create("generate", {"n": 20, "seed": 1, "name": "demo"}, "ana")
    >>> job.status, job.progress, store.get(job.id).params["n"]
    ('queued', None, 20)
    >>> [j.id for j in store.list(kind="generate")] == [job.id]
    True
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from hygeia.errors import ConfigError
from hygeia.service._settings import ServiceSettings

__all__ = ["STATUSES", "Job", "JobStore", "now"]

SPEC_VERSION = 1
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED = ("succeeded", "failed", "cancelled")
_POOL = 16  # idle database connections kept


_clock = {"last": datetime.min.replace(tzinfo=timezone.utc)}
_clock_lock = threading.Lock()


def now() -> str:
    """The current UTC time, ISO-8601 with microseconds (``2026-12-06T18:02:03.123456Z``), strictly
    increasing within a process (jobs made in the same microsecond still list in the order they were made).

    Example:
        >>> a, b = now(), now()
        >>> a < b and a.endswith("Z")
        True
    """
    with _clock_lock:
        t = max(datetime.now(timezone.utc), _clock["last"] + timedelta(microseconds=1))
        _clock["last"] = t
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class Job:
    """One job: what was asked (``kind``, ``params``), by whom, and how it went.

    ``result`` is set when the job succeeded: ``{"path": "runs/NAME" or "jobs/ID/...", "files": [...],
    "summary": {...}}`` with paths relative to the data root.

    Example:
        >>> Job(id="a1", kind="generate", params={"n": 5}, owner="ana", status="queued", progress=None,
        ...     message="", created=now(), started=None, finished=None, result=None).finished is None
        True
    """

    id: str
    kind: str
    params: dict[str, Any]
    owner: str
    status: str
    progress: float | None
    message: str
    created: str
    started: str | None
    finished: str | None
    result: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON-ready data."""
        return asdict(self)


_JOB_FIELDS = [f.name for f in fields(Job)]
# columns beyond Job's fields: the process running it, who claimed it, whether a cancel was asked
_EXTRA = ("pid", "runner", "cancel")

_DDL = {
    "sqlite": [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, "
         "owner TEXT NOT NULL, status TEXT NOT NULL, progress REAL, message TEXT NOT NULL, created TEXT NOT NULL, "
         "started TEXT, finished TEXT, result TEXT, pid INTEGER, runner TEXT, cancel INTEGER NOT NULL DEFAULT 0)"),
        "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created)",
        ("CREATE TABLE IF NOT EXISTS tokens (name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, "
         "created TEXT NOT NULL)"),
        ("CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT, "
         "method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL, job_id TEXT)"),
    ],
    "postgresql": [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, "
         "owner TEXT NOT NULL, status TEXT NOT NULL, progress DOUBLE PRECISION, message TEXT NOT NULL, "
         "created TEXT NOT NULL, started TEXT, finished TEXT, result TEXT, pid INTEGER, runner TEXT, "
         "cancel INTEGER NOT NULL DEFAULT 0)"),
        "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created)",
        ("CREATE TABLE IF NOT EXISTS tokens (name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, "
         "created TEXT NOT NULL)"),
        ("CREATE TABLE IF NOT EXISTS audit (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, who TEXT, "
         "method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL, job_id TEXT)"),
    ],
}


class JobStore:
    """Jobs, tokens and the audit log of one service (see the module docstring).

    Args:
        settings: the service's settings (``database`` picks SQLite or PostgreSQL).

    Raises:
        ConfigError: the database cannot be opened, or holds a newer schema.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.root = settings.data_root
        settings.make_folders()
        self.dialect = "postgresql" if settings.database else "sqlite"
        self._local = threading.local()
        self._pool: list[Any] = []
        self._pool_lock = threading.Lock()
        self._init_schema()

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            con = sqlite3.connect(self.root / "service.db", timeout=30, isolation_level=None,
                                  check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")  # WAL: still never corrupt; a power cut may lose the last commit
            con.execute("PRAGMA busy_timeout=30000")
            return con
        try:
            import pg8000.dbapi
        except ImportError:
            from hygeia.errors import MissingExtraError

            raise MissingExtraError("pg8000", "postgres", "A PostgreSQL job store (database=...)") from None
        url = urlparse(self.settings.database)
        try:
            con = pg8000.dbapi.connect(user=unquote(url.username or "postgres"),
                                       password=unquote(url.password) if url.password else None,
                                       host=url.hostname or "localhost", port=url.port or 5432,
                                       database=(url.path or "/postgres").lstrip("/") or "postgres")
        except Exception as exc:  # noqa: BLE001 (pg8000's InterfaceError/DatabaseError, OSError below)
            raise ConfigError(f"cannot connect to the job store {url.hostname}:{url.port or 5432}: {exc}. "
                              "Check the database=postgresql://... URL and that the server runs.") from None
        con.autocommit = True
        return con

    def _acquire(self) -> Any:
        with self._pool_lock:
            if self._pool:
                return self._pool.pop()
        return self._connect()

    def _release(self, con: Any) -> None:
        with self._pool_lock:
            if len(self._pool) < _POOL:
                self._pool.append(con)
                return
        con.close()

    def close(self) -> None:
        """Close the store's idle database connections (a later call opens new ones)."""
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for con in pool:
            with contextlib.suppress(Exception):  # a connection the server already dropped
                con.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def _run(self, sql: str, args: tuple[Any, ...] = (), *, fetch: bool = False) -> list[tuple[Any, ...]]:
        for attempt in (0, 1):
            con = self._acquire()
            try:
                cur = con.cursor()
                cur.execute(self._sql(sql), args)
                rows = cur.fetchall() if fetch else []
                self._local.rowcount = cur.rowcount
                cur.close()
            except Exception:
                with contextlib.suppress(Exception):  # closing a broken connection may fail too
                    con.close()
                if self.dialect == "postgresql" and attempt == 0:  # a dropped connection: reconnect once
                    continue
                raise
            self._release(con)
            return [tuple(r) for r in rows]
        raise AssertionError("unreachable")  # pragma: no cover

    def _init_schema(self) -> None:
        for statement in _DDL[self.dialect]:
            self._run(statement)
        rows = self._run("SELECT value FROM meta WHERE key = 'spec_version'", fetch=True)
        if not rows:
            self._run("INSERT INTO meta (key, value) VALUES ('spec_version', ?)", (str(SPEC_VERSION),))
        elif int(rows[0][0]) > SPEC_VERSION:
            raise ConfigError(f"the job store {self.settings.database_url!r} has schema version {rows[0][0]}, "
                              f"newer than this Hygeia's {SPEC_VERSION}. Upgrade Hygeia, or use another data root.")

    # -- jobs ----------------------------------------------------------------------------------
    @staticmethod
    def _job(row: tuple[Any, ...]) -> Job:
        data = dict(zip(_JOB_FIELDS, row))
        data["params"] = json.loads(data["params"])
        data["result"] = json.loads(data["result"]) if data["result"] else None
        return Job(**data)

    _SELECT = "SELECT " + ", ".join(_JOB_FIELDS) + " FROM jobs"

    def create(self, kind: str, params: dict[str, Any], owner: str, *, job_id: str | None = None) -> Job:
        """Queue a new job (its folder ``data_root/jobs/<id>`` is made) and return it."""
        job = Job(id=job_id or secrets.token_hex(6), kind=kind, params=dict(params), owner=owner, status="queued",
                  progress=None, message="queued", created=now(), started=None, finished=None, result=None)
        (self.root / "jobs" / job.id).mkdir(parents=True, exist_ok=True)
        self._run("INSERT INTO jobs (id, kind, params, owner, status, progress, message, created) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (job.id, kind, json.dumps(job.params, sort_keys=True), owner, job.status, None, job.message,
                   job.created))
        return job

    def get(self, job_id: str) -> Job | None:
        """The job ``job_id``, or None."""
        rows = self._run(self._SELECT + " WHERE id = ?", (job_id,), fetch=True)
        return self._job(rows[0]) if rows else None

    def list(self, *, kind: str | None = None, status: str | None = None, limit: int = 50,
             offset: int = 0) -> list[Job]:
        """Jobs, newest first, optionally of one ``kind`` and/or ``status``."""
        where, args = [], []
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = self._SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC, id DESC LIMIT ? OFFSET ?"
        return [self._job(r) for r in self._run(sql, (*args, int(limit), int(offset)), fetch=True)]

    def log_path(self, job_id: str) -> Path:
        """The job's log file (progress lines, messages and the command's summary)."""
        return self.root / "jobs" / job_id / "log.txt"

    def logs(self, job_id: str, after: int = 0) -> list[str]:
        """The job's log lines from line ``after`` on (0: all); empty before the job starts."""
        try:
            text = self.log_path(job_id).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return text.splitlines()[max(0, int(after)):]

    def update(self, job_id: str, **values: Any) -> None:
        """Set some of a job's fields (``status``, ``progress``, ``message``, ``result``, ``pid``...)."""
        unknown = set(values) - set(_JOB_FIELDS) - set(_EXTRA)
        if unknown:
            raise ValueError(f"unknown job fields {sorted(unknown)}")
        if "result" in values and values["result"] is not None:
            values["result"] = json.dumps(values["result"], sort_keys=True, default=str)
        if "params" in values:
            values["params"] = json.dumps(values["params"], sort_keys=True)
        cols = ", ".join(f"{k} = ?" for k in values)
        self._run(f"UPDATE jobs SET {cols} WHERE id = ?", (*values.values(), job_id))

    def claim(self, runner: str) -> Job | None:
        """Mark the oldest queued job ``running`` for ``runner`` and return it (None when none is queued)."""
        for _ in range(5):
            rows = self._run("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created, id LIMIT 1", fetch=True)
            if not rows:
                return None
            self._run("UPDATE jobs SET status = 'running', started = ?, runner = ?, message = 'starting' "
                      "WHERE id = ? AND status = 'queued'", (now(), runner, rows[0][0]))
            if self._local.rowcount == 1:
                return self.get(rows[0][0])
        return None

    def finish(self, job_id: str, status: str, message: str, result: dict[str, Any] | None = None,
               progress: float | None = None) -> bool:
        """End a job that is not finished yet; returns whether it was (a finished job stays as it was)."""
        assert status in FINISHED, status
        self._run("UPDATE jobs SET status = ?, message = ?, result = ?, finished = ?, pid = NULL, "
                  "progress = COALESCE(?, progress) WHERE id = ? AND status IN ('queued', 'running')",
                  (status, message, json.dumps(result, sort_keys=True, default=str) if result else None, now(),
                   progress, job_id))
        return self._local.rowcount == 1

    def request_cancel(self, job_id: str) -> None:
        """Ask the runner of a running job to stop it."""
        self._run("UPDATE jobs SET cancel = 1 WHERE id = ?", (job_id,))

    def cancel_requested(self, job_id: str) -> bool:
        """Whether a cancel was asked for ``job_id``."""
        rows = self._run("SELECT cancel FROM jobs WHERE id = ?", (job_id,), fetch=True)
        return bool(rows and rows[0][0])

    def running(self) -> list[tuple[Job, int | None, str | None]]:
        """Every running job with its process id and runner."""
        rows = self._run(self._SELECT.replace(" FROM", ", pid, runner FROM") + " WHERE status = 'running'",
                         fetch=True)
        return [(self._job(r[:-2]), r[-2], r[-1]) for r in rows]

    # -- tokens --------------------------------------------------------------------------------
    def add_token(self, name: str, token_hash: str, scope: str) -> None:
        """Store a token's hash under ``name`` (a name already used is refused)."""
        if self._run("SELECT 1 FROM tokens WHERE name = ?", (name,), fetch=True):
            raise ConfigError(f"a token named {name!r} already exists. Choose another name, or revoke it first "
                              f"(hygeia serve --revoke-token {name}).")
        self._run("INSERT INTO tokens (name, hash, scope, created) VALUES (?, ?, ?, ?)",
                  (name, token_hash, scope, now()))

    def find_token(self, token_hash: str) -> tuple[str, str] | None:
        """``(name, scope)`` of the token with this hash, or None."""
        rows = self._run("SELECT name, scope FROM tokens WHERE hash = ?", (token_hash,), fetch=True)
        return (rows[0][0], rows[0][1]) if rows else None

    def tokens(self) -> list[dict[str, str]]:
        """Every token's name, scope and creation time (never the hash)."""
        rows = self._run("SELECT name, scope, created FROM tokens ORDER BY created", fetch=True)
        return [{"name": n, "scope": s, "created": c} for n, s, c in rows]

    def revoke_token(self, name: str) -> bool:
        """Delete the token ``name``; returns whether it existed."""
        self._run("DELETE FROM tokens WHERE name = ?", (name,))
        return self._local.rowcount == 1

    # -- audit ---------------------------------------------------------------------------------
    def audit(self, who: str | None, method: str, path: str, status: int, job_id: str | None = None) -> None:
        """Record one request in the audit log."""
        self._run("INSERT INTO audit (at, who, method, path, status, job_id) VALUES (?, ?, ?, ?, ?, ?)",
                  (now(), who, method, path, int(status), job_id))

    def audit_log(self, *, limit: int = 100, offset: int = 0, who: str | None = None) -> list[dict[str, Any]]:
        """Audit entries, newest first."""
        sql = "SELECT id, at, who, method, path, status, job_id FROM audit"
        args: tuple[Any, ...] = ()
        if who is not None:
            sql += " WHERE who = ?"
            args = (who,)
        rows = self._run(sql + " ORDER BY id DESC LIMIT ? OFFSET ?", (*args, int(limit), int(offset)), fetch=True)
        keys = ("id", "at", "who", "method", "path", "status", "job_id")
        return [dict(zip(keys, r)) for r in rows]
