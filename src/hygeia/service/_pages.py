"""The web pages of ``hygeia serve``: server-rendered HTML over the same job runner and files as the REST API.

``router`` (a FastAPI ``APIRouter``) is what ``create_app`` includes at ``/``. Pages:

- ``/login`` (paste a token; it is kept in the ``hygeia_token`` cookie, HttpOnly, SameSite=Strict)
  and ``/logout``; any page asked for without a valid token redirects to ``/login``;
- ``/``: the dashboard (runs, recent jobs, a form that starts a generation);
- ``/jobs`` and ``/jobs/{id}``: a job's progress (polled every second), log, cancel button, results
  and their downloads; reports (evaluation, calibration) open from there;
- ``/runs`` and ``/runs/{name}``: a population (counts, pyramid, top conditions, persons searched
  and paged, export form) and ``/runs/{name}/persons/{id}`` one patient's timeline with notes and
  images (see :mod:`hygeia.service._pages_runs`, :mod:`hygeia.service._pages_person`);
- ``/reports``, ``/molecules`` (grids of RDKit depictions with scores) and ``/tutor/`` (the
  tutor's own web app behind the same login), see :mod:`hygeia.service._pages_more`.

Reading needs the ``read`` scope; every form that starts or cancels work needs ``write``.

Example:
    >>> import tempfile, pathlib
    >>> from fastapi.testclient import TestClient
    >>> from hygeia.service import ServiceSettings, create_app
    >>> client = TestClient(create_app(ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp()))))
    >>> r = client.get("/runs", follow_redirects=False)
    >>> r.status_code, r.headers["location"]
    (303, '/login?next=/runs')
    >>> 'name="token"' in client.get("/login").text
    True
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from hygeia.errors import HygeiaError
from hygeia.service._auth import COOKIE
from hygeia.service._html import e, fmt_int, pill, status_pill, table, u
from hygeia.service._pages_common import (
    NAME,
    READ,
    WRITE,
    PageRoute,
    can_write,
    data_root,
    page,
    read_only,
    redirect,
    user_name,
)

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


# -- sign in / out -----------------------------------------------------------------------------------------------
def _login_page(next_url: str, problem: str = "", status: int = 200) -> HTMLResponse:
    err = f'<div class="error" role="alert">{e(problem)}</div>' if problem else ""
    body = (f'<div class="card" style="max-width:34rem;margin:2rem auto"><h1>Sign in to Hygeia</h1>{err}'
            f'<form method="post" action="/login" id="login-form"><input type="hidden" name="next" '
            f'value="{e(next_url)}"><label for="token">Access token</label>'
            f'<input type="password" id="token" name="token" autocomplete="current-password" required '
            f'style="width:100%" aria-describedby="token-help"><p id="token-help" class="muted small">'
            f"Paste the token you were given. An administrator makes one with "
            f"<code>hygeia serve --create-token NAME --scope write</code>; it is kept in this browser "
            f"(an HttpOnly cookie) until you sign out.</p><button type=\"submit\">Sign in</button></form></div>")
    return page("Sign in", body, status=status)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in page; it says so when the browser's token was refused."""
    problem = ""
    if request.cookies.get(COOKIE):
        problem = ("The token this browser holds was not accepted (wrong, revoked or expired). "
                   "Paste a valid one.")
    return _login_page(_safe_next(next), problem)


@router.post("/login")
async def login(request: Request) -> Response:
    """Keep the pasted token in the cookie and go on to the page asked for (which checks it)."""
    form = await request.form()
    token = str(form.get("token") or "").strip()
    target = _safe_next(str(form.get("next") or "/"))
    if not token:
        return _login_page(target, "Paste a token to sign in.", 400)
    if len(token) > 512 or not token.isprintable():
        return _login_page(target, "That does not look like a Hygeia token (printable text, at most 512 "
                           "characters). Paste the token exactly as it was printed.", 400)
    resp = redirect(target)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                    path="/", max_age=14 * 24 * 3600)
    return resp


@router.post("/logout")
async def logout() -> Response:
    """Forget the token: the cookie is cleared."""
    resp = redirect("/login")
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return resp


# -- dashboard ---------------------------------------------------------------------------------------------------
def list_runs(root: Any) -> list[dict[str, Any]]:
    """The finished runs under ``root/runs`` (newest first): name, persons, events, seed, made, images."""
    from hygeia.core.storage import read_run_info

    out = []
    folder = root / "runs"
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not NAME.match(path.name) or not (path / "run.json").is_file():
            continue
        try:
            info = read_run_info(path)
        except HygeiaError:
            out.append({"name": path.name, "broken": True, "created": ""})
            continue
        counts, config = info.get("counts") or {}, info.get("config") or {}
        out.append({"name": path.name, "persons": counts.get("persons"), "events": counts.get("events"),
                    "seed": config.get("seed", info.get("seed")), "created": str(info.get("created_at") or ""),
                    "images": (path / "images" / "manifest.json").is_file()})
    out.sort(key=lambda r: r["created"], reverse=True)
    return out


def runs_table(runs: list[dict[str, Any]]) -> str:
    rows = []
    for r in runs:
        if r.get("broken"):
            rows.append([e(r["name"]), pill("unreadable run.json", "bad"), "", "", ""])
            continue
        rows.append([f'<a href="/runs/{u(r["name"])}">{e(r["name"])}</a>' + (" " + pill("images") if r["images"]
                                                                             else ""),
                     fmt_int(r["persons"]), fmt_int(r["events"]), e(r["seed"]), e(r["created"][:16].replace("T", " "))])
    return table(["Run", "Persons", "Events", "Seed", "Made (UTC)"], rows, numeric=(1, 2, 3), caption="Runs",
                 empty="No runs yet: start one with the form.", id="runs")


def jobs_table(jobs: list[Any]) -> str:
    rows = []
    for j in jobs:
        pct = "" if j.progress is None else f"{float(j.progress) * 100:.0f}%"
        what = ", ".join(f"{k}={v}" for k, v in list((j.params or {}).items())[:4])
        rows.append([f'<a href="/jobs/{u(j.id)}">{e(j.id)}</a>', e(j.kind), f"{status_pill(j.status)} {e(pct)}",
                     f'<span class="small">{e(what)}</span>', e(j.owner), e((j.created or "")[:19].replace("T", " "))])
    return table(["Job", "Kind", "Status", "Parameters", "By", "Created (UTC)"], rows, caption="Jobs",
                 empty="No jobs yet.", id="jobs")


def generate_form(values: dict[str, str] | None = None) -> str:
    """The form that starts a generation job (its fields are ``hygeia generate``'s options)."""
    from hygeia.export import EXPORTERS
    from hygeia.population.locale import available_locales

    v = values or {}
    locales = "".join(f'<option value="{e(x)}"{" selected" if v.get("locale", "us") == x else ""}>{e(x)}</option>'
                      for x in available_locales())
    formats = "".join(f'<label class="small" style="display:inline;font-weight:normal;margin-right:.7rem">'
                      f'<input type="checkbox" name="formats" value="{e(f)}"> {e(f)}</label>' for f in EXPORTERS
                      if f != "omop")
    return (f'<form method="post" action="/runs" id="generate-form"><div class="row">'
            f'<div><label for="g-name">Run name</label><input type="text" id="g-name" name="name" required '
            f'pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]{{0,99}}" value="{e(v.get("name", ""))}" placeholder="demo"></div>'
            f'<div><label for="g-n">Persons</label><input type="number" id="g-n" name="n" min="1" max="10000000" '
            f'required value="{e(v.get("n", "100"))}" style="width:8rem"></div>'
            f'<div><label for="g-seed">Seed</label><input type="number" id="g-seed" name="seed" min="0" '
            f'value="{e(v.get("seed", ""))}" placeholder="random" style="width:8rem"></div>'
            f'<div><label for="g-locale">Locale</label><select id="g-locale" name="locale">{locales}</select></div>'
            f'<div><label for="g-start">First date kept</label><input type="text" id="g-start" name="start" '
            f'value="{e(v.get("start", ""))}" placeholder="whole lives" pattern="\\d{{4}}-\\d{{2}}-\\d{{2}}" '
            f'style="width:8rem"></div>'
            f'<div><label for="g-end">Simulated present</label><input type="text" id="g-end" name="end" '
            f'value="{e(v.get("end", ""))}" placeholder="2026-01-01" pattern="\\d{{4}}-\\d{{2}}-\\d{{2}}" '
            f'style="width:8rem"></div></div>'
            f'<div class="row" style="margin-top:.5rem"><div><label class="small" style="font-weight:normal">'
            f'<input type="checkbox" name="images" value="1"> render a DICOM image of each imaging study</label></div>'
            f'<div><label class="small" style="font-weight:normal"><input type="checkbox" name="synthea" value="1"> '
            f"also run Synthea's module corpus</label></div>"
            f'<div><span class="small muted">also export:</span> {formats}</div></div>'
            f'<p><button type="submit" id="generate">Start the generation</button> '
            f'<span class="muted small">The seed is recorded in run.json; the same seed gives the same persons.'
            f"</span></p></form>")


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, principal: Any = READ) -> HTMLResponse:
    """Runs, recent jobs and the form that starts a generation."""
    root = data_root(request)
    runs = await run_in_threadpool(list_runs, root)
    jobs = await run_in_threadpool(request.app.state.store.list, limit=10)
    form = generate_form() if can_write(principal) else read_only("starting a generation")
    body = (f'<h1>Dashboard</h1><div class="card"><h2>Start a generation</h2>{form}</div>'
            f'<div class="grid2"><section class="card"><h2>Runs</h2>{runs_table(runs)}</section>'
            f'<section class="card"><h2>Recent jobs</h2>{jobs_table(jobs)}'
            f'<p><a href="/jobs">All jobs</a></p></section></div>')
    return page("Dashboard", body, principal, active="/")


def _generate_params(form: dict[str, Any]) -> dict[str, Any]:
    """The generate job's parameters from the form (names as ``hygeia generate``'s options)."""
    params: dict[str, Any] = {"name": str(form.get("name") or "").strip()}
    n = str(form.get("n") or "").strip()
    params["n"] = int(n) if n.isdigit() else n
    seed = str(form.get("seed") or "").strip()
    if seed:
        params["seed"] = int(seed) if seed.isdigit() else seed
    for key in ("locale", "start", "end"):
        value = str(form.get(key) or "").strip()
        if value:
            params[key] = value
    if form.get("images"):
        params["images"] = True
    if form.get("synthea"):
        params["modules"] = ["synthea"]
    return params


@router.post("/runs")
async def start_generation(request: Request, principal: Any = WRITE) -> Response:
    """Start a generation job from the dashboard's form and go to its page."""
    form = await request.form()
    params = _generate_params(dict(form))
    formats = [str(f) for f in form.getlist("formats")]
    if formats:
        params["formats"] = formats
    try:
        job = await run_in_threadpool(request.app.state.runner.submit, "generate", params, user_name(principal))
    except HygeiaError as exc:
        runs = await run_in_threadpool(list_runs, data_root(request))
        body = (f'<h1>Dashboard</h1><div class="card"><h2>Start a generation</h2>'
                f'<div class="error" role="alert">{e(exc)}</div>'
                f'{generate_form({k: str(v) for k, v in params.items()})}</div>'
                f'<section class="card"><h2>Runs</h2>{runs_table(runs)}</section>')
        return page("Dashboard", body, principal, active="/", status=400)
    return redirect(f"/jobs/{u(job.id)}")


def _include() -> None:
    from hygeia.service import _pages_jobs, _pages_more, _pages_person, _pages_runs

    for module in (_pages_jobs, _pages_runs, _pages_person, _pages_more):
        router.include_router(module.router)


_include()
