"""``hygeia serve``: the REST API and the web pages over one data root; ``--create-token`` makes a token."""

from __future__ import annotations

import re

import click

from hygeia.cli._common import HygeiaCommand

__all__ = ["parse_size", "serve_command"]

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_size(text: str) -> int:
    """Bytes from ``'200MB'``, ``'1GiB'``, ``'500k'`` or ``'1048576'``.

    Example:
        >>> parse_size("200MB"), parse_size("1 MiB"), parse_size("512")
        (200000000, 1048576, 512)
    """
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise click.BadParameter(f"{text!r} is not a size; write e.g. 200MB, 1GiB or 500k.")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


@click.command(
    "serve", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia serve --data-root runs/service --create-token ana --scope write
  hygeia serve --data-root runs/service --revoke-token ana
  hygeia serve --data-root runs/service --port 8000
  hygeia serve --data-root /srv/hygeia --host 0.0.0.0 --database postgresql://hygeia@db:5432/hygeia
  hygeia serve --data-root /srv/hygeia --scheduler tcp://scheduler:8786 --cors-origin https://lab.example.org

\b
Then, with the token it printed:
  curl -H "Authorization: Bearer $TOKEN" -X POST http://127.0.0.1:8000/api/v1/jobs/generate \\
       -H 'Content-Type: application/json' -d '{"n": 100, "seed": 1, "name": "demo"}'
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/v1/runs/demo

Every route but /api/v1/health needs a token; GET /api/v1/openapi.json describes the API.
Jobs run in child processes and survive a restart of the server (a job the server
was running when it stopped is marked failed, with nothing half-written).""",
)
@click.option("--data-root", default="hygeia-data", show_default=True, metavar="DIR",
              help="Folder every file the service reads or writes lies under (runs/, jobs/, uploads/, service.db).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="HOST",
              help="Interface to listen on (0.0.0.0: every interface; put TLS in front of it).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, metavar="PORT",
              help="TCP port to listen on.")
@click.option("--database", default=None, metavar="URL",
              help="Job store in PostgreSQL (postgresql://user:password@host:5432/db). Default: SQLite DIR/service.db.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run generate jobs on this Dask cluster (tcp://host:8786). Default: local processes.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Let web pages from this origin call the API (repeatable). Default: CORS off.")
@click.option("--max-upload", default="200MiB", show_default=True, metavar="SIZE",
              help="Largest upload accepted (e.g. 50MB, 1GiB); larger ones get 413.")
@click.option("--jobs", "job_workers", type=click.IntRange(min=0), default=2, show_default=True, metavar="K",
              help="Jobs running at once (0: only queue them, for another server on the same --database).")
@click.option("--create-token", "token_name", default=None, metavar="NAME",
              help="Make a token named NAME, print it (it is shown only this once) and exit.")
@click.option("--scope", type=click.Choice(("read", "write", "admin")), default="read", show_default=True,
              help="With --create-token: what the token may do (read < write < admin).")
@click.option("--revoke-token", "revoke_name", default=None, metavar="NAME",
              help="Delete the token named NAME (requests with it get 401 from then on) and exit.")
def serve_command(data_root: str, host: str, port: int, database: str | None, scheduler: str | None,
                  cors_origins: tuple[str, ...], max_upload: str, job_workers: int, token_name: str | None,
                  scope: str, revoke_name: str | None) -> None:
    """Serve the REST API and the web pages over the data root DIR."""
    from pathlib import Path

    from hygeia.service import JobStore, ServiceSettings

    settings = ServiceSettings(data_root=Path(data_root), database=database, scheduler=scheduler,
                               max_upload_bytes=parse_size(max_upload), cors_origins=cors_origins,
                               job_workers=job_workers)
    store = JobStore(settings)
    if revoke_name is not None:
        from hygeia.errors import ConfigError

        if not store.revoke_token(revoke_name):
            raise ConfigError(f"no token named {revoke_name!r} in {settings.data_root}. The tokens are: "
                              f"{', '.join(t['name'] for t in store.tokens()) or 'none'}.")
        click.echo(f"Revoked the token {revoke_name!r}.", err=True)
        return
    if token_name is not None:
        from hygeia.service._auth import create_token

        token = create_token(store, token_name, scope)
        click.echo(token)
        click.echo(f"Made the {scope} token {token_name!r}: keep it, it is not shown again "
                   f"(send it as 'Authorization: Bearer TOKEN').", err=True)
        return
    from hygeia.service import serve

    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(f"Serving {settings.data_root} on http://{shown}:{port}/ (the API's OpenAPI spec: "
               f"http://{shown}:{port}/api/v1/openapi.json, with a token); Ctrl-C stops.", err=True)
    if not store.tokens():
        click.echo(f"No tokens yet: make one with 'hygeia serve --data-root {data_root} --create-token NAME "
                   "--scope admin'.", err=True)
    serve(settings, host=host, port=port)
