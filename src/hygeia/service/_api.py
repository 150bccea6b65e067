"""The REST API's synchronous routes: health, runs and their persons, files, uploads, tokens, audit.

Short reads answer at once; long work is a job (:mod:`hygeia.service._api_jobs`). Every route but
``/api/v1/health`` needs a token (:func:`~hygeia.service._auth.require`); every path a client names is
resolved under the data root (:func:`~hygeia.service._paths.resolve`).

Example:
    >>> import tempfile, pathlib
    >>> from fastapi.testclient import TestClient
    >>> from hygeia.service import ServiceSettings, create_app
    >>> app = create_app(ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp())))
    >>> client = TestClient(app)
    >>> client.get("/api/v1/runs").status_code
    401
    >>> from hygeia.service._auth import create_token
    >>> token = create_token(app.state.store, "ana", "read")
    >>> client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"}).json()
    []
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field

from hygeia import __version__
from hygeia.core.atomic import atomic_output
from hygeia.errors import ConfigError, HygeiaError
from hygeia.service._auth import Principal, create_token, require
from hygeia.service._paths import check_name, relative, resolve

__all__ = ["jsonable", "router"]

router = APIRouter()
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
_UPLOAD_SUFFIXES = (".csv", ".tsv", ".parquet", ".txt", ".json", ".ndjson", ".smi", ".sdf", ".toml", ".dcm",
                    ".nii", ".nii.gz", ".png", ".xml")


def jsonable(value: Any) -> Any:
    """A value from DuckDB, pandas or numpy as plain JSON (timestamps ISO-8601, NaN and NaT as null).

    Example:
        >>> import datetime
        >>> jsonable({"t": datetime.datetime(2020, 1, 2, 3, 4), "x": float("nan"), "ids": (1, 2)})
        {'t': '2020-01-02T03:04:00', 'x': None, 'ids': [1, 2]}
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if str(value) in ("NaT", "nan", "<NA>"):
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    return str(value)


class RunConnections:
    """DuckDB connections over runs (:func:`hygeia.core.storage.connect`), kept for the next request.

    Opening a run costs tens of milliseconds (a view over every Parquet file); a query on an open one,
    a few. Each request gets its own cursor (DuckDB's connection per thread). A run replaced on disk
    (its ``run.json`` changed) gets a new connection; at most ``size`` runs are kept open.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._open: OrderedDict[str, tuple[tuple[int, int], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def cursor(self, run: Path) -> Any:
        """A new cursor with the views ``persons`` and ``events`` of ``run``."""
        from hygeia.core.storage import connect

        st = (run / "run.json").stat()
        version = (st.st_ino, st.st_mtime_ns)
        with self._lock:
            found = self._open.get(str(run))
            if found is None or found[0] != version:
                if found is not None:
                    found[1].close()
                self._open[str(run)] = (version, connect(run))
                while len(self._open) > self.size:
                    self._open.popitem(last=False)[1][1].close()
            self._open.move_to_end(str(run))
            return self._open[str(run)][1].cursor()

    def close(self) -> None:
        """Close every connection kept."""
        with self._lock:
            while self._open:
                self._open.popitem()[1][1].close()


def _cursor(request: Request, run: Path) -> Any:
    cache = getattr(request.app.state, "run_connections", None)
    if cache is None:
        cache = request.app.state.run_connections = RunConnections()
    return cache.cursor(run)


def _rows(cur: Any) -> list[dict[str, Any]]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _root(request: Request) -> Path:
    return request.app.state.settings.data_root


def _run_dir(request: Request, name: str) -> Path:
    try:
        check_name(name, "run name")
    except ConfigError as exc:
        raise HTTPException(400, str(exc)) from None
    path = _root(request) / "runs" / name
    if not (path / "run.json").is_file():
        raise HTTPException(404, f"no run named {name!r}. List the runs with GET /api/v1/runs.")
    return path


# -- health and runs -----------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"]
    version: str


@router.get("/health", response_model=Health, summary="Whether the service answers (no token needed)")
def health() -> dict[str, Any]:
    """The service answers; no token is needed."""
    return {"status": "ok", "version": __version__}


class RunInfo(BaseModel):
    name: str
    persons: int | None = None
    events: int | None = None
    seed: int | None = None
    created_at: str | None = None
    locale: str | None = None


@router.get("/runs", response_model=list[RunInfo], summary="The population runs under runs/")
def list_runs(request: Request, _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    """Every run folder under ``runs/`` (newest first) with its counts and seed."""
    from hygeia.core.storage import read_run_info

    out = []
    runs = _root(request) / "runs"
    for path in sorted(runs.iterdir() if runs.is_dir() else [], key=lambda p: p.stat().st_mtime, reverse=True):
        if path.name.startswith(".") or not (path / "run.json").is_file():
            continue
        try:
            info = read_run_info(path)
        except HygeiaError:
            continue
        cfg = info.get("config", {})
        counts = info.get("counts", {})
        out.append({"name": path.name, "persons": counts.get("persons"), "events": counts.get("events"),
                    "seed": cfg.get("seed"), "created_at": info.get("created_at"), "locale": cfg.get("locale")})
    return out


@router.get("/runs/{name}", summary="A run's summary (as 'hygeia inspect --json')")
def inspect_run(request: Request, name: str, top: int = Query(10, ge=1, le=1000),
                _: Principal = Depends(require("read"))) -> dict[str, Any]:
    """Counts, top conditions and the age pyramid of one run (:func:`hygeia.population.inspect.summarize`)."""
    from hygeia.population.inspect import summarize

    path = _run_dir(request, name)
    summary = summarize(path, top=top)
    summary["path"] = relative(_root(request), path)
    return jsonable(summary)


@router.get("/runs/{name}/persons", summary="A page of a run's persons")
def list_persons(request: Request, name: str, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                 _: Principal = Depends(require("read"))) -> dict[str, Any]:
    """The ``persons`` rows of a run, by subject id, ``limit`` from ``offset``, and how many there are."""
    cur = _cursor(request, _run_dir(request, name))
    try:
        total = cur.execute("SELECT count(*) FROM persons").fetchone()[0]
        rows = _rows(cur.execute("SELECT * FROM persons ORDER BY subject_id LIMIT ? OFFSET ?", [limit, offset]))
    finally:
        cur.close()
    return {"total": int(total), "limit": limit, "offset": offset, "persons": jsonable(rows)}


@router.get("/runs/{name}/persons/{subject_id}", summary="One person's record: the person and their events")
def get_person(request: Request, name: str, subject_id: int = PathParam(..., ge=-(2**63), le=2**63 - 1),
               _: Principal = Depends(require("read"))) -> dict[str, Any]:
    """One person of a run and their events in time order (as :func:`hygeia.core.storage.read_person`)."""
    cur = _cursor(request, _run_dir(request, name))
    try:
        person = _rows(cur.execute("SELECT * FROM persons WHERE subject_id = ?", [subject_id]))
        if not person:
            raise HTTPException(404, f"no person with subject id {subject_id} in run {name!r}. "
                                     f"List them with GET /api/v1/runs/{name}/persons.")
        events = _rows(cur.execute("SELECT * FROM events WHERE subject_id = ? ORDER BY time, kind, code",
                                   [subject_id]))
    finally:
        cur.close()
    return {"person": jsonable(person[0]), "events": jsonable(events)}


# -- files ------------------------------------------------------------------------------------------
def _zip_stream(folder: Path) -> Iterator[bytes]:
    with tempfile.SpooledTemporaryFile(max_size=16 * 2**20) as buf:
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for dirpath, dirnames, names in os.walk(folder):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for n in sorted(names):
                    if not n.startswith("."):
                        p = Path(dirpath) / n
                        zf.write(p, p.relative_to(folder.parent).as_posix())
        buf.seek(0)
        while chunk := buf.read(1 << 20):
            yield chunk


@router.get("/files/{path:path}", summary="Download a file (a folder comes as a .zip)",
            responses={200: {"content": {"application/octet-stream": {}, "application/zip": {}}}})
def download(request: Request, path: str, _: Principal = Depends(require("read"))) -> Any:
    """A file under the data root (``jobs/ID/fhir``, ``runs/NAME``, ``uploads/FILE``...); a folder is zipped."""
    try:
        target = resolve(_root(request), path, must_exist=True)
    except ConfigError as exc:
        raise HTTPException(404 if "nothing is there" in str(exc) else 400, str(exc)) from None
    if target == _root(request):
        raise HTTPException(400, "name a file or folder under the data root, such as runs/NAME or jobs/ID/fhir.")
    if target.is_dir():
        return StreamingResponse(_zip_stream(target), media_type="application/zip",
                                 headers={"Content-Disposition": f'attachment; filename="{target.name}.zip"'})
    return FileResponse(target, filename=target.name)


# -- uploads ----------------------------------------------------------------------------------------
class Upload(BaseModel):
    name: str
    path: str
    bytes: int


@router.put("/uploads/{name}", status_code=201, response_model=Upload, summary="Upload a file into uploads/NAME",
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
            responses={413: {"description": "larger than the server's --max-upload"}})
async def upload(request: Request, name: str, overwrite: bool = False,
                 _: Principal = Depends(require("write"))) -> dict[str, Any]:
    """Store the request's body as ``uploads/NAME`` (CSV/Parquet for fit, notes text, SMILES, plans...).

    The body is the file's bytes (``curl -T cohort.csv``). Larger than ``--max-upload``: 413; empty: 400.
    """
    settings = request.app.state.settings
    try:
        check_name(name, "upload name")
    except ConfigError as exc:
        raise HTTPException(400, str(exc)) from None
    if not name.lower().endswith(_UPLOAD_SUFFIXES):
        raise HTTPException(400, f"the upload name {name!r} has a suffix the service does not take; name it with "
                                 f"one of {', '.join(_UPLOAD_SUFFIXES)}.")
    limit = settings.max_upload_bytes
    too_big = HTTPException(413, f"the upload is larger than this server's limit of {limit:,} bytes. Send a "
                                 "smaller file, or start the server with a larger --max-upload.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_big
    dest = settings.data_root / "uploads" / name
    if dest.exists() and not overwrite:
        raise HTTPException(409, f"uploads/{name} already exists. Choose another name, or pass overwrite=true.")
    size = 0
    try:
        with atomic_output(dest, overwrite=True, what="upload") as tmp:
            with tmp.open("wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise too_big
                    f.write(chunk)
            if size == 0:
                raise HTTPException(400, "the upload is empty: send the file's bytes as the request body "
                                         "(curl -T FILE URL).")
    except OSError as exc:
        raise HTTPException(507, f"cannot store the upload: {exc}") from None
    return {"name": name, "path": f"uploads/{name}", "bytes": size}


@router.get("/uploads", response_model=list[Upload], summary="The uploaded files")
def list_uploads(request: Request, _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    """Every file under ``uploads/``."""
    folder = _root(request) / "uploads"
    return [{"name": p.name, "path": f"uploads/{p.name}", "bytes": p.stat().st_size}
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")]


@router.delete("/uploads/{name}", status_code=204, summary="Delete an uploaded file")
def delete_upload(request: Request, name: str, _: Principal = Depends(require("write"))) -> None:
    """Delete ``uploads/NAME``."""
    try:
        check_name(name, "upload name")
    except ConfigError as exc:
        raise HTTPException(400, str(exc)) from None
    path = _root(request) / "uploads" / name
    if not path.is_file():
        raise HTTPException(404, f"no upload named {name!r}.")
    path.unlink()


# -- tokens and audit (admin) ---------------------------------------------------------------------
class TokenRequest(BaseModel):
    name: str = Field(..., pattern=_NAME)
    scope: Literal["read", "write", "admin"] = "read"


class NewToken(BaseModel):
    name: str
    scope: str
    token: str = Field(..., description="Shown once: only its hash is stored.")


class TokenInfo(BaseModel):
    name: str
    scope: str
    created: str


@router.post("/tokens", status_code=201, response_model=NewToken, summary="Make a token (shown once)")
def new_token(request: Request, body: TokenRequest, _: Principal = Depends(require("admin"))) -> dict[str, Any]:
    """Make a random token with a scope; the answer is the only time it is shown."""
    try:
        token = create_token(request.app.state.store, body.name, body.scope)
    except ConfigError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"name": body.name, "scope": body.scope, "token": token}


@router.get("/tokens", response_model=list[TokenInfo], summary="The tokens' names and scopes")
def list_tokens(request: Request, _: Principal = Depends(require("admin"))) -> list[dict[str, str]]:
    """Every token's name, scope and creation time (never the token)."""
    return request.app.state.store.tokens()


@router.delete("/tokens/{name}", status_code=204, summary="Revoke a token")
def revoke_token(request: Request, name: str, _: Principal = Depends(require("admin"))) -> None:
    """Delete the token ``name``: requests with it get 401 from now on."""
    if not request.app.state.store.revoke_token(name):
        raise HTTPException(404, f"no token named {name!r}.")


class AuditEntry(BaseModel):
    id: int
    at: str
    who: str | None
    method: str
    path: str
    status: int
    job_id: str | None


@router.get("/audit", response_model=list[AuditEntry], summary="The audit log: who did what, when")
def audit_log(request: Request, limit: int = Query(100, ge=1, le=10000), offset: int = Query(0, ge=0),
              who: str | None = None, _: Principal = Depends(require("admin"))) -> list[dict[str, Any]]:
    """Every change (POST, PUT, DELETE), download and refused request, newest first."""
    return request.app.state.store.audit_log(limit=limit, offset=offset, who=who)

