"""The FastAPI app of ``hygeia serve``: the REST API under ``/api/v1`` and the pages at ``/``.

:func:`create_app` wires one :class:`ServiceSettings` to a :class:`JobStore` and a :class:`JobRunner`
(``app.state.settings``, ``.store``, ``.runner``), the API routers, the audit log, CORS (off unless
``cors_origins`` are given) and the pages. :func:`serve` runs it with uvicorn.

The OpenAPI spec is ``GET /api/v1/openapi.json`` (with a token, as every route but ``/api/v1/health``).

Requests that change something (POST, PUT, PATCH, DELETE), downloads and refused requests (401, 403)
are written to the audit log (who, when, method, path, status, job id); ``GET /api/v1/audit`` reads it.

Example:
    >>> import tempfile, pathlib
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp())))
    >>> client = TestClient(app)
    >>> client.get("/api/v1/jobs").status_code, client.get("/api/v1/health").status_code
    (401, 200)
    >>> [e["status"] for e in app.state.store.audit_log()]
    [401]
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hygeia import __version__
from hygeia.errors import (
    ConfigError,
    DataValidationError,
    HygeiaError,
    MissingExtraError,
    OutputError,
)
from hygeia.service._jobs import JobRunner
from hygeia.service._settings import ServiceSettings
from hygeia.service._store import JobStore

__all__ = ["create_app", "serve"]

API = "/api/v1"


def _audited(method: str, path: str, status: int) -> bool:
    return (method not in ("GET", "HEAD", "OPTIONS") or status in (401, 403)
            or path.startswith((f"{API}/files/", f"{API}/audit")))


def create_app(settings: ServiceSettings) -> Any:
    """The service's FastAPI app over ``settings.data_root``.

    Args:
        settings: what to serve (data root, database, scheduler, upload limit, CORS origins, job workers).

    Returns:
        A ``fastapi.FastAPI``; its lifespan starts the job runner (which recovers jobs a dead server left)
        and stops it on shutdown. Submitting a job also starts the runner.

    Raises:
        MissingExtraError: FastAPI is not installed.
    """
    try:
        from fastapi import FastAPI, Request
        from fastapi.concurrency import run_in_threadpool
        from fastapi.responses import JSONResponse
    except ImportError:
        raise MissingExtraError("fastapi", "service", "hygeia serve") from None
    from hygeia.service import _api, _api_jobs

    store = JobStore(settings)
    runner = JobRunner(settings, store)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await run_in_threadpool(runner.start)
        try:
            yield
        finally:
            await run_in_threadpool(runner.stop)
            store.close()
            if getattr(app.state, "run_connections", None) is not None:
                app.state.run_connections.close()

    app = FastAPI(title="Hygeia", version=__version__, lifespan=lifespan,
                  description="Synthetic patients and generative AI for healthcare: every capability of the "
                              "`hygeia` command as a REST API. Long work is a job. Every route but "
                              f"{API}/health needs a token (`hygeia serve --create-token NAME`).",
                  openapi_url=None, docs_url=None, redoc_url=None)  # the spec is served below, behind a token
    app.state.settings = settings
    app.state.store = store
    app.state.runner = runner

    @app.exception_handler(HygeiaError)
    async def hygeia_error(request: Request, exc: HygeiaError) -> Any:
        status = 400
        if isinstance(exc, OutputError):
            status = 409
        elif isinstance(exc, MissingExtraError):
            status = 501
        elif not isinstance(exc, (ConfigError, DataValidationError)):
            status = 422
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.middleware("http")
    async def audit(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        path = request.url.path
        if _audited(request.method, path, response.status_code):
            principal = getattr(request.state, "principal", None)
            await run_in_threadpool(store.audit, principal.name if principal else None, request.method, path,
                                    response.status_code, getattr(request.state, "job_id", None))
        return response

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "DELETE"], allow_headers=["Authorization",
                                                                                          "Content-Type"])
    from fastapi import Depends

    from hygeia.service._auth import Principal, require

    @app.get(f"{API}/openapi.json", include_in_schema=False)
    def openapi_json(_: Principal = Depends(require("read"))) -> dict[str, Any]:
        """The OpenAPI spec of the API (a read token, as every route but health)."""
        return app.openapi()

    app.include_router(_api.router, prefix=API, tags=["api"])
    app.include_router(_api_jobs.router, prefix=API, tags=["jobs"])
    if importlib.util.find_spec("hygeia.service._pages") is not None:
        from hygeia.service import _pages

        app.include_router(_pages.router)
    return app


def serve(settings: ServiceSettings, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Run the service with uvicorn until Ctrl-C or SIGTERM (running jobs are then stopped and marked failed).

    Raises:
        MissingExtraError: uvicorn is not installed.
    """
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("uvicorn", "service", "hygeia serve") from None
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, access_log=False)
