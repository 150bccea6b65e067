"""What every page module shares: the route class that sends browsers to /login, the sign-in dependencies,
the data root and safe paths under it, and the HTML responses.

A page route depends on :data:`READ` or :data:`WRITE` (the API's ``require`` dependency, which accepts
the ``hygeia_token`` cookie the login page sets). Where that dependency refuses a request, the
:class:`PageRoute` answers as a browser expects: a missing or wrong token redirects to
``/login?next=...``; a token without the scope gets a page that says which scope is needed.

Example:
    >>> import pathlib
    >>> under(pathlib.Path("/data"), "runs/demo") == pathlib.Path("/data/runs/demo").resolve()
    True
    >>> under(pathlib.Path("/data"), "../etc/passwd") is None
    True
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from hygeia.service._auth import require
from hygeia.service._html import e, shell
from hygeia.service._paths import PathRefused, resolve

__all__ = [
    "HEADERS",
    "NAME",
    "READ",
    "WRITE",
    "PageRoute",
    "can_write",
    "data_root",
    "error_page",
    "login_url",
    "page",
    "read_only",
    "redirect",
    "under",
    "user_name",
]

#: Names of runs and other folders a page accepts (the API's own rule for names).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

#: Headers of every page: nothing loads from elsewhere (all CSS, SVG and script is inline), forms post only
#: here, no framing by other sites, no caching of pages that show records.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; "
                               "script-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

READ = Depends(require("read"))
WRITE = Depends(require("write"))


def user_name(principal: Any) -> str:
    """The signed-in token's name (the ``Principal``'s ``name``)."""
    return str(getattr(principal, "name", principal))


def can_write(principal: Any) -> bool:
    """Whether the signed-in token may start or cancel work (the ``write`` scope or above)."""
    return getattr(principal, "scope", "read") in ("write", "admin")


def read_only(what: str) -> str:
    """What a page shows instead of a form when the token may only read."""
    return (f'<p class="note read-only">Your token may only read, so {e(what)} is not offered here. Ask an '
            f"administrator for a token with the write scope.</p>")


def login_url(request: Request) -> str:
    """``/login?next=<this page>`` (the page comes back after signing in; a POST goes back to its page's GET)."""
    target = request.url.path if request.method == "GET" else request.headers.get("referer", "/")
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    if not target.startswith("/") or target.startswith("//"):  # only this site's own pages
        target = "/"
    return "/login?next=" + quote(target, safe="/")


def page(title: str, body: str, principal: Any = None, *, active: str = "", script: str = "", status: int = 200,
         notice: str = "") -> HTMLResponse:
    """An HTML response of a whole page in the shell."""
    user = user_name(principal) if principal is not None else None
    return HTMLResponse(shell(title, body, user=user, active=active, script=script, status=notice),
                        status_code=status, headers=HEADERS)


def error_page(title: str, message: str, principal: Any = None, *, status: int = 400,
               links: str = '<a href="/">Back to the dashboard</a>') -> HTMLResponse:
    """A page that says what went wrong and where to go next."""
    body = f'<h1>{e(title)}</h1><div class="error" role="alert">{e(message)}</div><p>{links}</p>'
    return page(title, body, principal, status=status)


def redirect(url: str) -> RedirectResponse:
    """A 303 See Other to ``url`` (the answer to every form POST)."""
    return RedirectResponse(url, status_code=303)


def data_root(request: Request) -> Path:
    """The service's data root (``ServiceSettings.data_root``)."""
    return Path(request.app.state.settings.data_root)


def under(root: Path, relative: str | os.PathLike[str]) -> Path | None:
    """``root / relative`` when the API's path rule lets it through (under ``root``, no ``..``, nothing
    hidden, not the service's database), else None."""
    try:
        return resolve(Path(root), os.fspath(relative).replace(os.sep, "/"))
    except PathRefused:
        return None


class PageRoute(APIRoute):
    """An API route whose refusals read as pages: 401 -> /login, 403 and 404 -> a page that says why."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code == 401:
                    return RedirectResponse(login_url(request), status_code=303)
                if exc.status_code == 403:
                    return error_page("Not allowed", f"{str(exc.detail).rstrip('.')}. Ask an administrator for a token with the "
                                      "scope this needs (hygeia serve --create-token NAME --scope write).",
                                      status=403)
                if exc.status_code == 404:
                    return error_page("Not found", str(exc.detail), status=404)
                raise

        return answer
