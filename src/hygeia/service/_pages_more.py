"""Reports, molecule grids and the tutor, behind the same sign-in as every other page.

- ``/reports``: the evaluation and calibration jobs with their HTML reports (opened as written, with a
  bar back to the job), and forms that start them (``hygeia calibrate run``, ``hygeia evaluate``).
- ``/molecules``: forms that sample or optimize molecules (``hygeia molecules sample|optimize``) and
  the molecule jobs; ``/molecules/{job}`` shows a job's molecules as a grid of RDKit depictions
  (SVG, inline) with their scores, best first.
- ``/tutor/``: the tutor's own web app (:func:`hygeia.tutor._web.create_app` over
  ``data_root/tutor/cases`` and ``data_root/tutor/sessions``), made on first use and answered
  in-process: its requests pass through here only with a valid token (``read`` to look, ``write``
  to post), and its links and redirects are given the ``/tutor`` prefix.

Example:
    >>> _prefix_links('<a href="/s/1">x</a><form action="/cases"><img src="/s/1/image/x">', "/tutor")
    '<a href="/tutor/s/1">x</a><form action="/tutor/cases"><img src="/tutor/s/1/image/x">'
"""

from __future__ import annotations

import csv
import io
import math
import re
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hygeia.errors import HygeiaError
from hygeia.service._html import e, fmt_int, table, u
from hygeia.service._pages_common import (
    HEADERS,
    READ,
    WRITE,
    PageRoute,
    can_write,
    data_root,
    error_page,
    page,
    read_only,
    redirect,
    user_name,
)

__all__ = ["read_molecules", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_MOLECULE_KINDS = ("molecules-sample", "molecules-optimize", "molecules-score")
_GRID = 60


async def _submit(request: Request, kind: str, params: dict[str, Any], principal: Any, back: str) -> Response:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    try:
        job = await run_in_threadpool(request.app.state.runner.submit, kind, params, user_name(principal))
    except HygeiaError as exc:
        return error_page("The job was not started", str(exc), principal, status=400,
                          links=f'<a href="{back}">Back</a>')
    return redirect(f"/jobs/{u(job.id)}")


def _int(text: Any) -> int | str | None:
    s = str(text or "").strip()
    return int(s) if s.isdigit() else (s or None)


# -- reports -----------------------------------------------------------------------------------------------------
@router.get("/reports", response_class=HTMLResponse)
async def reports_page(request: Request, principal: Any = READ) -> HTMLResponse:
    """Evaluation and calibration reports, and the forms that make them."""
    from hygeia.service._pages import list_runs
    from hygeia.service._pages_jobs import job_files, u_path

    store, root = request.app.state.store, data_root(request)
    jobs = [j for kind in ("evaluate", "calibrate") for j in await run_in_threadpool(store.list, kind=kind, limit=100)]
    jobs.sort(key=lambda j: j.created or "", reverse=True)
    rows = []
    for j in jobs:
        files = await run_in_threadpool(job_files, root, j) if j.status == "succeeded" else []
        reports = [rel for rel, is_dir in files if not is_dir and rel.lower().endswith(".html")]
        links = " · ".join(f'<a href="/jobs/{u(j.id)}/view/{u_path(r)}">{e(Path(r).name)}</a>' for r in reports)
        what = ", ".join(f"{k}={v}" for k, v in (j.params or {}).items())
        rows.append([f'<a href="/jobs/{u(j.id)}">{e(j.id)}</a>', e(j.kind), e(what), e(j.status),
                     links or '<span class="muted">—</span>'])
    runs = [r["name"] for r in await run_in_threadpool(list_runs, root) if not r.get("broken")]
    options = "".join(f'<option value="{e(r)}">{e(r)}</option>' for r in runs)
    calibrate = (f'<form method="post" action="/reports/calibrate" id="calibrate-form" class="row"><div>'
                 f'<label for="c-run">Run</label><select id="c-run" name="run" required>{options}</select></div>'
                 f'<div><button type="submit">Calibrate</button></div></form><p class="muted small">Measures the '
                 f"run against its locale's national figures (incidence, prevalence, mortality...).</p>"
                 if runs else '<p class="muted">No runs to calibrate yet.</p>')
    evaluate = ('<form method="post" action="/reports/evaluate" id="evaluate-form"><div class="row">'
                '<div><label for="ev-real">Real data</label><input type="text" id="ev-real" name="real" required '
                'placeholder="uploads/real.csv or runs/NAME"></div><div><label for="ev-syn">Synthetic data</label>'
                '<input type="text" id="ev-syn" name="synthetic" required placeholder="jobs/ID/sample.csv"></div>'
                '<div><label for="ev-hold">Holdout (optional)</label><input type="text" id="ev-hold" name="holdout">'
                '</div><div><button type="submit">Evaluate</button></div></div><p class="muted small">Paths under '
                "the data root. Fidelity, utility, privacy (with a holdout) and fairness: the report says what it "
                "could not measure.</p></form>")
    if not can_write(principal):
        calibrate, evaluate = read_only("calibrating"), read_only("evaluating")
    body = (f'<h1>Reports</h1><div class="grid2"><section class="card"><h2>Calibrate a run</h2>{calibrate}</section>'
            f'<section class="card"><h2>Evaluate synthetic data</h2>{evaluate}</section></div>'
            f'<section class="card"><h2>Evaluation and calibration jobs</h2>'
            + table(["Job", "Kind", "Parameters", "Status", "Reports"], rows, caption="Reports", id="reports",
                    empty="No evaluation or calibration jobs yet.") + "</section>")
    return page("Reports", body, principal, active="/reports")


@router.post("/reports/calibrate")
async def start_calibrate(request: Request, principal: Any = WRITE) -> Response:
    form = await request.form()
    return await _submit(request, "calibrate", {"run": str(form.get("run") or "")}, principal, "/reports")


@router.post("/reports/evaluate")
async def start_evaluate(request: Request, principal: Any = WRITE) -> Response:
    form = await request.form()
    params = {k: str(form.get(k) or "").strip() for k in ("real", "synthetic", "holdout")}
    return await _submit(request, "evaluate", params, principal, "/reports")


# -- molecules ---------------------------------------------------------------------------------------------------
def read_molecules(path: Path, limit: int = _GRID) -> tuple[list[dict[str, str]], list[str], int]:
    """The molecules of a ``.smi`` or ``.csv`` file (best score first): rows, score columns, total rows."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".smi":
        rows = [{"smiles": line.split()[0]} for line in text.splitlines() if line.strip()]
        return rows[:limit], [], len(rows)
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "smiles" not in rows[0]:
        return [], [], 0
    cols = [c for c in rows[0] if c != "smiles" and _numeric(rows[0][c])]
    key = "score" if "score" in cols else (cols[0] if cols else None)
    if key:
        rows.sort(key=lambda r: _float(r.get(key)), reverse=True)
    # the score first, then its raw components (qed, sa, ...), not their transformed *_score twins
    shown = [key] if key else []
    shown += [c for c in cols if c != key and not c.endswith("_score")]
    return rows[:limit], shown[:4], len(rows)


def _numeric(text: Any) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def _float(text: Any) -> float:
    try:
        v = float(text)
        return v if not math.isnan(v) else float("-inf")
    except (TypeError, ValueError):
        return float("-inf")


def mol_svg(smiles: str, size: tuple[int, int] = (240, 180)) -> str | None:
    """An RDKit depiction of ``smiles`` as inline SVG (None when it does not parse)."""
    from rdkit import Chem, rdBase
    from rdkit.Chem.Draw import rdMolDraw2D

    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    drawer.drawOptions().clearBackground = False
    drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    svg = drawer.GetDrawingText()
    svg = svg[svg.index("<svg"):]
    return svg.replace("<svg", f'<svg role="img" aria-label="structure of {e(smiles)}"', 1)


def _grid(rows: list[dict[str, str]], cols: list[str]) -> str:
    cells = []
    for i, r in enumerate(rows):
        svg = mol_svg(r["smiles"]) or '<p class="muted">(RDKit cannot read this SMILES)</p>'
        scores = " · ".join(f"{e(c)} <b>{_float(r.get(c)):.3f}</b>" for c in cols if c in r)
        if r.get("passes_filters") == "False":
            scores += ' · <span class="pill bad">fails the filters</span>'
        cells.append(f'<div class="mol">{svg}<div class="small">#{i + 1} {scores}</div>'
                     f"<code>{e(r['smiles'])}</code></div>")
    return f'<div class="mols" id="grid">{"".join(cells)}</div>'


@router.get("/molecules", response_class=HTMLResponse)
async def molecules_page(request: Request, principal: Any = READ) -> HTMLResponse:
    """Start molecule jobs; the molecule jobs so far."""
    store = request.app.state.store
    jobs = [j for k in _MOLECULE_KINDS for j in await run_in_threadpool(store.list, kind=k, limit=50)]
    jobs.sort(key=lambda j: j.created or "", reverse=True)
    rows = [[f'<a href="/jobs/{u(j.id)}">{e(j.id)}</a>', e(j.kind),
             e(", ".join(f"{k}={v}" for k, v in (j.params or {}).items())), e(j.status),
             f'<a href="/molecules/{u(j.id)}">grid</a>' if j.status == "succeeded" else ""] for j in jobs]
    sample = ('<form method="post" action="/molecules/sample" id="sample-form"><div class="row">'
              '<div><label for="m-n">Molecules</label><input type="number" id="m-n" name="n" min="1" max="100000" '
              'value="24" required style="width:7rem"></div><div><label for="m-seed">Seed</label><input '
              'type="number" id="m-seed" name="seed" min="0" placeholder="random" style="width:7rem"></div>'
              '<div><label for="m-t">Temperature</label><input type="number" id="m-t" name="temperature" step="0.1" '
              'min="0.1" value="1.0" style="width:6rem"></div><div><label for="m-config">Scoring</label>'
              '<input type="text" id="m-config" name="config" value="druglike" style="width:8rem"></div>'
              '<div><button type="submit">Sample</button></div></div><p class="muted small">From the shipped '
              "chemical language model; scored with the config named (druglike: QED, SA, filters).</p></form>")
    optimize = ('<form method="post" action="/molecules/optimize" id="optimize-form"><div class="row">'
                '<div><label for="o-obj">Objective</label><input type="text" id="o-obj" name="objective" '
                'value="osimertinib_mpo"></div><div><label for="o-method">Method</label><select id="o-method" '
                'name="method"><option>graph_ga</option><option>reinvent</option></select></div>'
                '<div><label for="o-budget">Budget</label><input type="number" id="o-budget" name="budget" min="1" '
                'value="500" style="width:7rem"></div><div><label for="o-seed">Seed</label><input type="number" '
                'id="o-seed" name="seed" min="0" placeholder="random" style="width:7rem"></div>'
                '<div><button type="submit">Optimize</button></div></div><p class="muted small">A GuacaMol '
                "objective; budget = scoring calls.</p></form>")
    if not can_write(principal):
        sample, optimize = read_only("sampling"), read_only("optimizing")
    body = (f'<h1>Molecules</h1><div class="grid2"><section class="card"><h2>Sample</h2>{sample}</section>'
            f'<section class="card"><h2>Optimize</h2>{optimize}</section></div><section class="card"><h2>Jobs</h2>'
            + table(["Job", "Kind", "Parameters", "Status", ""], rows, caption="Molecule jobs", id="molecule-jobs",
                    empty="No molecule jobs yet.") + "</section>")
    return page("Molecules", body, principal, active="/molecules")


@router.post("/molecules/sample")
async def start_sample(request: Request, principal: Any = WRITE) -> Response:
    form = await request.form()
    t = str(form.get("temperature") or "").strip()
    params = {"n": _int(form.get("n")), "seed": _int(form.get("seed")), "config": str(form.get("config") or "").strip(),
              "temperature": float(t) if _numeric(t) else (t or None)}
    params["out"] = "molecules.csv" if params["config"] else "molecules.smi"
    return await _submit(request, "molecules-sample", params, principal, "/molecules")


@router.post("/molecules/optimize")
async def start_optimize(request: Request, principal: Any = WRITE) -> Response:
    form = await request.form()
    params = {"objective": str(form.get("objective") or "").strip(), "method": str(form.get("method") or ""),
              "budget": _int(form.get("budget")), "seed": _int(form.get("seed"))}
    return await _submit(request, "molecules-optimize", params, principal, "/molecules")


@router.get("/molecules/{job_id}", response_class=HTMLResponse)
async def molecule_grid(request: Request, job_id: str, principal: Any = READ) -> HTMLResponse:
    """A molecule job's molecules as a grid of depictions with their scores (best first)."""
    from hygeia.service._pages_jobs import _job_or_404, job_files

    job = await run_in_threadpool(_job_or_404, request, job_id)
    root = data_root(request)
    files = [rel for rel, is_dir in await run_in_threadpool(job_files, root, job)
             if not is_dir and rel.endswith((".csv", ".smi"))]
    files.sort(key=lambda r: (not r.endswith("molecules.csv"), r))
    if not files:
        return error_page("No molecules", f"Job {job.id} ({job.kind}, {job.status}) has no molecule file (.smi or "
                          ".csv) to show.", principal, status=404, links=f'<a href="/jobs/{u(job.id)}">Back to the job</a>')
    try:
        rows, cols, total = await run_in_threadpool(read_molecules, root / files[0])
        grid = await run_in_threadpool(_grid, rows, cols)
    except ImportError:
        grid, total = '<p class="error">RDKit is needed to draw molecules: pip install \'hygeia[molecules]\'.</p>', 0
    body = (f'<p class="small"><a href="/jobs/{u(job.id)}">&larr; Job {e(job.id)}</a></p>'
            f'<h1>Molecules of job {e(job.id)}</h1><p class="muted">{fmt_int(min(total, _GRID))} of '
            f'{fmt_int(total)} from <code>{e(files[0])}</code>, best score first.</p>{grid}')
    return page(f"Molecules {job.id}", body, principal, active="/molecules")


# -- tutor -------------------------------------------------------------------------------------------------------
_TUTOR_LOCK = threading.Lock()
_LINK = re.compile(r'\b(href|action|src)="/(?!/)')


def _prefix_links(text: str, prefix: str) -> str:
    return _LINK.sub(lambda m: f'{m.group(1)}="{prefix}/', text)


def _tutor_app(request: Request) -> Any:
    state = request.app.state
    with _TUTOR_LOCK:
        app = getattr(state, "pages_tutor_app", None)
        if app is None:
            from hygeia.tutor._web import create_app

            root = data_root(request) / "tutor"
            app = create_app(root / "cases", root / "sessions")
            state.pages_tutor_app = app
        return app


_TUTOR_BAR = ('<div style="background:#0b4f59;color:#fff;padding:.35rem 1.2rem;font:14px system-ui,sans-serif">'
              '<a href="/" style="color:#fff;font-weight:600" id="back-to-hygeia">&larr; Hygeia</a> '
              '<span style="opacity:.8">· the tutor, signed in as {user}</span></div>')


async def _forward(request: Request, sub: str, principal: Any) -> Response:
    try:
        app = await run_in_threadpool(_tutor_app, request)
    except HygeiaError as exc:  # the tutor extra missing, say
        return error_page("The tutor is not available", str(exc), principal, status=501)
    path = "/" + sub
    scope = dict(request.scope)
    scope.update(path=path, raw_path=path.encode(), root_path="")
    scope.pop("route", None)
    scope.pop("endpoint", None)
    scope.pop("path_params", None)
    body = await request.body()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}
    headers.pop("content-length", None)
    content = b"".join(chunks)
    status = int(start.get("status", 500))
    if "location" in headers and headers["location"].startswith("/") and not headers["location"].startswith("//"):
        headers["location"] = "/tutor" + headers["location"]
    if headers.get("content-type", "").startswith("text/html"):
        text = _prefix_links(content.decode("utf-8", errors="replace"), "/tutor")
        bar = _TUTOR_BAR.format(user=e(user_name(principal)))
        at = text.find("<body>")
        text = text[:at + 6] + bar + text[at + 6:] if at >= 0 else bar + text
        content = text.encode("utf-8")
    if headers.get("content-type", "").startswith("text/html"):
        headers.update(HEADERS)
    return Response(content, status_code=status, headers=headers)


@router.get("/tutor")
async def tutor_root() -> Response:
    return RedirectResponse("/tutor/", status_code=307)


@router.get("/tutor/{sub:path}")
async def tutor_get(request: Request, sub: str, principal: Any = READ) -> Response:
    """The tutor's pages (reading needs the read scope)."""
    return await _forward(request, sub, principal)


@router.post("/tutor/{sub:path}")
async def tutor_post(request: Request, sub: str, principal: Any = WRITE) -> Response:
    """The tutor's forms (new cases, session actions: the write scope)."""
    return await _forward(request, sub, principal)
