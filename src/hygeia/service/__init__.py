"""The Hygeia service: every capability behind a REST API with jobs, tokens and an audit log.

``hygeia serve --data-root DIR`` starts it (:func:`serve`); :func:`create_app` makes the FastAPI app
for any ASGI server or a test client. Long work (generate, export, evaluate, fit...) is a job: it
runs ``hygeia``'s own command in a child process, so a cancel stops it and a crash of the server
never leaves a half-written output; jobs are kept in a job store (SQLite in the data root, or
PostgreSQL) and survive a restart.

Example:
    >>> import tempfile, pathlib
    >>> from fastapi.testclient import TestClient
    >>> from hygeia.service import ServiceSettings, create_app
    >>> app = create_app(ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp())))
    >>> TestClient(app).get("/api/v1/health").json()["status"]
    'ok'
"""

from __future__ import annotations

from typing import Any

from hygeia.service._jobs import JobRunner
from hygeia.service._settings import ServiceSettings
from hygeia.service._store import Job, JobStore

__all__ = ["Job", "JobRunner", "JobStore", "ServiceSettings", "create_app", "serve"]


def __getattr__(name: str) -> Any:  # the app needs the service extra (FastAPI); the store does not
    if name in ("create_app", "serve"):
        from hygeia.service import app

        return getattr(app, name)
    raise AttributeError(f"module 'hygeia.service' has no attribute {name!r}")
