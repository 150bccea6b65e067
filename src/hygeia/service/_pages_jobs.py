"""Job pages: the list, one job's live progress and log, its cancel button, its results and their downloads.

``/jobs/{id}`` polls ``/jobs/{id}/live`` (an HTML fragment: status, progress bar, last message and the
log) once a second with a few lines of inline script and swaps it in; when the job ends the page
reloads once to show the results. Without scripts the page still works (a Refresh link).

Results are the job's ``result``: a run (``runs/NAME``: a link to its page) or files under
``jobs/ID/``. Files download from ``/jobs/{id}/files/{path}`` (only paths under the job's result
or its folder, never outside the data root); a folder downloads as one zip; an HTML report
opens at ``/jobs/{id}/view/{path}`` with a bar that leads back to the job.

Example:
    >>> _file_kind("report.html"), _file_kind("bundle.json"), _file_kind("molecules.csv")
    ('report', 'file', 'table')
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse

from hygeia.errors import HygeiaError
from hygeia.service._html import bar, e, fmt_int, status_pill, table, u
from hygeia.service._pages_common import (
    HEADERS,
    READ,
    WRITE,
    PageRoute,
    can_write,
    data_root,
    error_page,
    page,
    redirect,
    under,
    user_name,
)

__all__ = ["job_files", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_DONE = ("succeeded", "failed", "cancelled")
_MAX_FILES = 500


def _file_kind(name: str) -> str:
    low = name.lower()
    if low.endswith((".html", ".htm")):
        return "report"
    if low.endswith((".csv", ".smi", ".tsv")):
        return "table"
    return "file"


def _job_or_404(request: Request, job_id: str) -> Any:
    job = request.app.state.store.get(job_id)
    if job is None:
        from starlette.exceptions import HTTPException

        raise HTTPException(404, f"There is no job {job_id!r}; the jobs page lists them all.")
    return job


def job_files(root: Path, job: Any) -> list[tuple[str, bool]]:
    """The job's result files and folders as paths relative to ``root`` (folder flag), at most 500.

    The job's ``result["files"]`` where it lists them (relative to the data root or to the result's
    ``path``), else every file under the result's ``path`` (a folder) or the path itself.
    """
    result = job.result or {}
    base = str(result.get("path") or "")
    out: list[tuple[str, bool]] = []
    seen: set[str] = set()

    def add(rel: str) -> None:
        path = under(root, rel)
        if path is None or not path.exists():
            return
        key = path.relative_to(os.path.realpath(root)).as_posix()
        if key not in seen and len(out) < _MAX_FILES:
            seen.add(key)
            out.append((key, path.is_dir()))

    folder = under(root, base) if base and not base.startswith("runs/") else None
    if folder is not None and folder.is_dir():
        add(base)  # the whole result, as one zip
    for f in sorted((str(f) for f in result.get("files") or []), key=lambda f: _natural(Path(f))):
        f = str(f)
        if base and under(root, os.path.join(base, f)) is not None and (Path(root) / base / f).exists():
            add(os.path.join(base, f))
        else:
            add(f)
    if len(out) <= 1 and base and not base.startswith("runs/"):
        path = under(root, base)
        if path is not None and path.is_file():
            add(base)
        elif path is not None and path.is_dir():
            add(base)
            for p in sorted(path.rglob("*"), key=_natural):
                if p.is_file():
                    add(p.relative_to(os.path.realpath(root)).as_posix())
    return out


def _natural(path: Path) -> list[Any]:
    """Sort key that puts ``patient-2`` before ``patient-10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.as_posix())]


def _allowed(root: Path, job: Any, rel: str) -> Path | None:
    """``root/rel`` when it lies under the job's own folder or its result's path, else None."""
    path = under(root, rel)
    if path is None or not path.exists():
        return None
    allowed = [under(root, f"jobs/{job.id}")]
    base = str((job.result or {}).get("path") or "")
    if base:
        allowed.append(under(root, base))
    for a in allowed:
        if a is not None and (path == a or a in path.parents):
            return path
    return None


def _live(job: Any, logs: list[str]) -> str:
    """The part of the job page that changes while it runs."""
    pct = "" if job.progress is None else f" {float(job.progress) * 100:.0f}%"
    tail = logs[-300:]
    log = (f'<pre class="log" id="log" aria-label="job log">{e(chr(10).join(tail))}</pre>' if tail
           else '<p class="muted" id="log">No log lines yet.</p>')
    times = " · ".join(f"{k} {e(str(v)[:19].replace('T', ' '))}" for k, v in
                       (("created", job.created), ("started", job.started), ("finished", job.finished)) if v)
    return (f'<div id="live" data-status="{e(job.status)}"><p><span id="status">{status_pill(job.status)}</span>'
            f'<span id="pct">{e(pct)}</span> <span class="muted small">{times} UTC</span></p>'
            f'{bar(job.progress if job.status != "succeeded" else 1.0, "job progress")}'
            f'<p id="message" aria-live="polite">{e(job.message) or "&nbsp;"}</p><h3>Log</h3>{log}</div>')


_POLL = """
(function(){const live=document.getElementById('live');if(!live)return;
const done=['succeeded','failed','cancelled'];if(done.includes(live.dataset.status))return;
async function tick(){try{const r=await fetch(location.pathname.replace(/\\/$/,'')+'/live',
{credentials:'same-origin',cache:'no-store'});if(r.redirected||r.status===401){location.href='/login';return}
if(r.ok){const html=await r.text();const box=document.getElementById('live');box.outerHTML=html;
const now=document.getElementById('live');const log=document.getElementById('log');if(log)log.scrollTop=log.scrollHeight;
if(done.includes(now.dataset.status)){location.reload();return}}}catch(err){}setTimeout(tick,1000)}
setTimeout(tick,1000)})();
"""


def _results(root: Path, job: Any) -> str:
    result = job.result or {}
    parts = []
    base = str(result.get("path") or "")
    if base.startswith("runs/") and (Path(root) / base / "run.json").is_file():
        name = base.split("/", 1)[1].strip("/")
        parts.append(f'<p><a class="button" id="open-run" href="/runs/{u(name)}">Open the run {e(name)}</a></p>')
    files = job_files(root, job)
    rows = []
    for rel, is_dir in files:
        size = "" if is_dir else fmt_int((Path(root) / rel).stat().st_size)
        links = [f'<a href="/jobs/{u(job.id)}/files/{u_path(rel)}" download>download{" (zip)" if is_dir else ""}</a>']
        if not is_dir and _file_kind(rel) == "report":
            links.insert(0, f'<a href="/jobs/{u(job.id)}/view/{u_path(rel)}" class="report-link">open the report</a>')
        rows.append([f"<code>{e(rel)}</code>" + (" (folder)" if is_dir else ""), size, " · ".join(links)])
    if rows:
        parts.append('<div class="scroll" style="max-height:26rem">'
                     + table(["File", "Bytes", ""], rows, numeric=(1,), caption="Result files", id="files") + "</div>")
    if job.kind == "tutor-case":
        parts.append('<p><a class="button" href="/tutor/" id="open-tutor">Open the tutor: the case is listed there'
                     "</a></p>")
    if job.kind.startswith("molecules") and any(_file_kind(r) == "table" for r, d in files if not d):
        parts.append(f'<p><a class="button" href="/molecules/{u(job.id)}">Show the molecules as a grid</a></p>')
    summary = dict(result.get("summary") or {})
    text = summary.pop("text", None)
    if text or summary:
        shown = str(text) if text else json.dumps(summary, indent=1, default=str)
        parts.insert(0, f'<pre class="note-text" id="summary">{e(shown)}</pre>')
    return "".join(parts) or '<p class="muted">This job left no files.</p>'


def u_path(rel: str) -> str:
    """A relative path for a URL: each segment percent-encoded, the slashes kept."""
    return "/".join(u(p) for p in rel.split("/"))


@router.get("/jobs", response_class=HTMLResponse)
async def jobs_page(request: Request, kind: str = "", status: str = "", principal: Any = READ) -> HTMLResponse:
    """Every job, newest first (filter by kind or status)."""
    from hygeia.service._pages import jobs_table

    jobs = await run_in_threadpool(request.app.state.store.list, kind=kind or None, status=status or None, limit=200)
    body = (f'<h1>Jobs</h1><form method="get" action="/jobs" class="row card" role="search">'
            f'<div><label for="j-kind">Kind</label><input type="text" id="j-kind" name="kind" value="{e(kind)}" '
            f'placeholder="generate"></div><div><label for="j-status">Status</label><select id="j-status" '
            f'name="status">' + "".join(f'<option value="{s}"{" selected" if s == status else ""}>{s or "any"}</option>'
                                        for s in ("", "queued", "running", "succeeded", "failed", "cancelled"))
            + f'</select></div><div><button type="submit">Filter</button></div></form>'
            f'<section class="card">{jobs_table(jobs)}</section>')
    return page("Jobs", body, principal, active="/jobs")


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(request: Request, job_id: str, principal: Any = READ) -> HTMLResponse:
    """One job: live progress and log, cancel, parameters and results."""
    store = request.app.state.store
    job = await run_in_threadpool(_job_or_404, request, job_id)
    logs = await run_in_threadpool(store.logs, job.id)
    params = table(["Parameter", "Value"], [[e(k), f"<code>{e(json.dumps(v, default=str))}</code>"]
                                            for k, v in (job.params or {}).items()], caption="Parameters",
                   empty="No parameters.")
    cancel = ""
    if job.status not in _DONE and can_write(principal):
        cancel = (f'<form method="post" action="/jobs/{u(job.id)}/cancel" id="cancel-form">'
                  f'<button type="submit" class="danger" id="cancel">Cancel this job</button></form>')
    results = ""
    if job.status == "succeeded":
        results = f'<section class="card" id="results"><h2>Results</h2>{await run_in_threadpool(_results, data_root(request), job)}</section>'
    elif job.status == "failed":
        results = f'<div class="error" role="alert" id="failure"><b>The job failed.</b> {e(job.message)}</div>'
    body = (f'<h1>Job <code>{e(job.id)}</code>: {e(job.kind)}</h1>{results}'
            f'<div class="grid2"><section class="card"><h2>Progress</h2>{_live(job, logs)}'
            f'<div class="row" style="margin-top:.6rem">{cancel}<a href="/jobs/{u(job.id)}">Refresh</a></div></section>'
            f'<section class="card"><h2>Parameters</h2>{params}<p class="muted small">Started by {e(job.owner)}.</p>'
            f"</section></div>")
    return page(f"Job {job.id}", body, principal, active="/jobs", script=_POLL if job.status not in _DONE else "")


@router.get("/jobs/{job_id}/live", response_class=HTMLResponse)
async def job_live(request: Request, job_id: str, principal: Any = READ) -> HTMLResponse:
    """The live part of the job page (polled by its script)."""
    job = await run_in_threadpool(_job_or_404, request, job_id)
    logs = await run_in_threadpool(request.app.state.store.logs, job.id)
    return HTMLResponse(_live(job, logs), headers=HEADERS)


@router.post("/jobs/{job_id}/cancel")
async def job_cancel(request: Request, job_id: str, principal: Any = WRITE) -> Response:
    """Cancel the job (a queued job never starts; a running one is stopped) and go back to its page."""
    job = await run_in_threadpool(_job_or_404, request, job_id)
    if job.status not in _DONE:
        try:
            await run_in_threadpool(request.app.state.runner.cancel, job.id, user_name(principal))
        except HygeiaError:
            pass  # it finished meanwhile: its page says how
    return redirect(f"/jobs/{u(job.id)}")


def _zip_folder(folder: Path) -> IO[bytes]:
    """The folder as a zip in an anonymous temporary file (a large export never sits in memory), rewound."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for p in sorted(folder.rglob("*"), key=_natural):
            if p.is_file():
                z.write(p, p.relative_to(folder.parent).as_posix())
    out.seek(0)
    return out


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := f.read(1 << 20):
            yield chunk
    finally:
        f.close()


@router.get("/jobs/{job_id}/files/{rel:path}")
async def job_file(request: Request, job_id: str, rel: str, principal: Any = READ) -> Response:
    """Download one result file (a folder as a zip)."""
    job = await run_in_threadpool(_job_or_404, request, job_id)
    path = _allowed(data_root(request), job, rel)
    if path is None:
        return error_page("Not found", f"Job {job.id} has no file {rel!r}.", principal, status=404,
                          links=f'<a href="/jobs/{u(job.id)}">Back to the job</a>')
    if path.is_dir():
        data = await run_in_threadpool(_zip_folder, path)
        return StreamingResponse(_chunks(data), media_type="application/zip",
                                 headers={"Content-Disposition": f'attachment; filename="{path.name}.zip"'})
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


_BACK = ('<div style="position:sticky;top:0;z-index:9999;background:#0f6c7a;color:#fff;padding:.45rem 1rem;'
         'font:14px system-ui,sans-serif"><a href="{href}" style="color:#fff;font-weight:600" id="back-to-job">'
         '&larr; Back to job {id}</a> <span style="opacity:.8">· Hygeia report</span></div>')


@router.get("/jobs/{job_id}/view/{rel:path}", response_class=HTMLResponse)
async def job_report(request: Request, job_id: str, rel: str, principal: Any = READ) -> HTMLResponse:
    """An HTML report a job wrote (evaluation, calibration, molecules), as written, with a bar back to the job."""
    job = await run_in_threadpool(_job_or_404, request, job_id)
    path = _allowed(data_root(request), job, rel)
    if path is None or not path.is_file() or _file_kind(path.name) != "report":
        return error_page("Not found", f"Job {job.id} has no report {rel!r}.", principal, status=404,
                          links=f'<a href="/jobs/{u(job.id)}">Back to the job</a>')
    text = await run_in_threadpool(path.read_text, encoding="utf-8", errors="replace")
    back = _BACK.format(href=f"/jobs/{u(job.id)}", id=e(job.id))
    low = text.lower()
    at = low.find("<body")
    if at >= 0:
        end = low.find(">", at) + 1
        text = text[:end] + back + text[end:]
    else:
        text = back + text
    # the report's own scripts and styles are inline; nothing it holds may load from elsewhere
    csp = ("default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
           "form-action 'none'; frame-ancestors 'none'")
    return HTMLResponse(text, headers={**HEADERS, "Content-Security-Policy": csp})
