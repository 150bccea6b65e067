"""The REST API's jobs: one ``POST /api/v1/jobs/<kind>`` per capability, and the jobs' progress and logs.

Each kind's body is the pydantic model :func:`~hygeia.service._kinds.params_model` derives from the
``hygeia`` command it runs (the same parameter names, types, ranges and help), so the OpenAPI spec
documents every capability exactly as the CLI offers it. A submitted job answers 202 with the job;
``GET /api/v1/jobs/{id}`` follows its progress, ``/logs`` its output, ``/cancel`` stops it, and its
result's files download from ``GET /api/v1/files/{path}``.

Example:
    >>> import tempfile, pathlib
    >>> from fastapi.testclient import TestClient
    >>> from hygeia.service import ServiceSettings, create_app
    >>> from hygeia.service._auth import create_token
    >>> app = create_app(ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp()), job_workers=0))
    >>> auth = {"Authorization": "Bearer " + create_token(app.state.store, "ana", "write")}
    >>> client = TestClient(app)
    >>> r = client.post("/api/v1/jobs/generate", json={"n": 20, "seed": 1, "name": "demo"}, headers=auth)
    >>> r.status_code, r.json()["status"], r.json()["kind"]
    (202, 'queued', 'generate')
    >>> client.post("/api/v1/jobs/generate", json={"n": 20}, headers=auth).status_code
    422
"""

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from hygeia.errors import ConfigError
from hygeia.service._auth import Principal, allows, require
from hygeia.service._kinds import KINDS, params_model
from hygeia.service._store import STATUSES

__all__ = ["JobOut", "router"]

router = APIRouter()


class JobOut(BaseModel):
    """A job as the API shows it (see :class:`hygeia.service.Job`)."""

    id: str
    kind: str
    params: dict[str, Any]
    owner: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float | None = Field(None, description="0..1 when known")
    message: str = Field(..., description="The last progress line, the summary's headline or the error")
    created: str
    started: str | None
    finished: str | None
    result: dict[str, Any] | None = Field(None, description='{"path": ..., "files": [...], "summary": {...}}')


class Logs(BaseModel):
    lines: list[str]
    next: int = Field(..., description="Pass as 'after' to get only the lines written since")


class KindInfo(BaseModel):
    kind: str
    command: str
    summary: str
    params: dict[str, Any] = Field(..., description="The JSON schema of the kind's params")


_JOB_ID = r"^[0-9a-f]{12}$"


def _job(request: Request, job_id: str) -> Any:
    job = request.app.state.store.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}. List the jobs with GET /api/v1/jobs.")
    request.state.job_id = job.id
    return job


@router.get("/kinds", response_model=list[KindInfo], summary="The kinds of job and their params")
def list_kinds(_: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    """Every kind of job, the ``hygeia`` command it runs and the JSON schema of its params."""
    return [{"kind": k, "command": "hygeia " + " ".join(spec.command), "summary": spec.summary,
             "params": params_model(k).model_json_schema()} for k, spec in KINDS.items()]


@router.get("/jobs", response_model=list[JobOut], summary="Jobs, newest first")
def list_jobs(request: Request, kind: str | None = Query(None, description="Only jobs of this kind"),
              status: Literal["queued", "running", "succeeded", "failed", "cancelled"] | None = None,
              limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
              _: Principal = Depends(require("read"))) -> list[dict[str, Any]]:
    """The jobs, newest first, optionally of one kind or status."""
    assert status is None or status in STATUSES
    return [j.to_dict() for j in request.app.state.store.list(kind=kind, status=status, limit=limit, offset=offset)]


@router.get("/jobs/{job_id}", response_model=JobOut, summary="One job: status, progress, result")
def get_job(request: Request, job_id: str, _: Principal = Depends(require("read"))) -> dict[str, Any]:
    """One job."""
    return _job(request, job_id).to_dict()


@router.get("/jobs/{job_id}/logs", response_model=Logs, summary="A job's log lines")
def job_logs(request: Request, job_id: str, after: int = Query(0, ge=0, description="Skip the first lines"),
             _: Principal = Depends(require("read"))) -> dict[str, Any]:
    """The job's log (the command line, its progress lines, its summary or error) from line ``after`` on."""
    job = _job(request, job_id)
    lines = request.app.state.store.logs(job.id, after)
    return {"lines": lines, "next": after + len(lines)}


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, summary="Cancel a queued or running job")
def cancel_job(request: Request, job_id: str, principal: Principal = Depends(require("write"))) -> dict[str, Any]:
    """Stop a job: a queued one never starts; a running one is stopped and its temporary output deleted.

    A ``write`` token cancels its own jobs; an ``admin`` token anyone's.
    """
    job = _job(request, job_id)
    if job.owner != principal.name and not allows(principal.scope, "admin"):
        raise HTTPException(403, f"job {job.id} belongs to {job.owner!r}; only they or an admin may cancel it.")
    try:
        return request.app.state.runner.cancel(job.id, principal.name).to_dict()
    except ConfigError as exc:
        raise HTTPException(409, str(exc)) from None


def _submit_route(kind: str) -> None:
    model = params_model(kind)
    spec = KINDS[kind]

    def submit(request: Request, params: model = Body(...),  # type: ignore[valid-type]
               principal: Principal = Depends(require("write"))) -> dict[str, Any]:
        try:
            job = request.app.state.runner.submit(kind, params.model_dump(exclude_none=True), principal.name)
        except ConfigError as exc:
            raise HTTPException(400, str(exc)) from None
        request.state.job_id = job.id
        return job.to_dict()

    submit.__name__ = f"submit_{kind.replace('-', '_')}"
    submit.__doc__ = (f"{spec.summary}\n\nRuns `hygeia {' '.join(spec.command)}` as a job: answers 202 with the "
                      "job; follow it with GET /api/v1/jobs/{id}.")
    router.add_api_route(f"/jobs/{kind}", submit, methods=["POST"], status_code=202, response_model=JobOut,
                         summary=spec.summary)


for _kind in KINDS:
    _submit_route(_kind)
