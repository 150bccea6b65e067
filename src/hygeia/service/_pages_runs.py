"""Population pages: the runs, and one run's counts, pyramid, top conditions, persons (searched, paged) and export.

The numbers come from DuckDB over the run's Parquet files (:func:`hygeia.core.storage.connect`), so a
run of any size answers a page without being loaded. Ages are at the run's simulated present
(its ``end``), or at death; the pyramid counts the persons alive then.

Example:
    >>> _band(7), _band(95)
    ('0-9', '90+')
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from hygeia.errors import HygeiaError
from hygeia.service._html import e, fmt_int, pill, pyramid_svg, qs, table, u
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

__all__ = ["router", "run_folder", "run_present"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
_BANDS = [f"{a}-{a + 9}" for a in range(0, 90, 10)] + ["90+"]


def _band(age: float) -> str:
    return _BANDS[min(int(age // 10), 9)]


def run_folder(request: Request, name: str) -> Path:
    """``data_root/runs/NAME`` when it is a finished run; 404 otherwise."""
    folder = data_root(request) / "runs" / name
    if not NAME.match(name) or not (folder / "run.json").is_file():
        raise HTTPException(404, f"There is no run {name!r}; the runs page lists them.")
    return folder


def run_present(info: dict[str, Any]) -> dt.datetime:
    """The run's simulated present (its ``end`` option; 2026-01-01 when it has none)."""
    end = (info.get("config") or {}).get("end") or "2026-01-01"
    return dt.datetime.fromisoformat(str(end)[:10])


def _overview(folder: Path, q: str, condition: str, sex: str, page_no: int) -> dict[str, Any]:
    from hygeia.core.storage import connect, read_run_info

    info = read_run_info(folder)
    present = run_present(info)
    con = connect(folder)
    try:
        persons, dead = con.execute("SELECT count(*), count(death_time) FROM persons").fetchone()
        kinds = con.execute("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY 2 DESC").fetchall()
        pyr = con.execute(
            "SELECT sex, floor(date_diff('day', birth_time, ?::TIMESTAMP) / 365.25) AS age, count(*) "
            "FROM persons WHERE death_time IS NULL OR death_time > ?::TIMESTAMP GROUP BY ALL", [present, present]
        ).fetchall()
        top = con.execute(
            "SELECT display, code, count(DISTINCT subject_id) AS n FROM events WHERE kind = 'condition' "
            "GROUP BY display, code ORDER BY n DESC, display LIMIT 15").fetchall()
        where, args = ["TRUE"], []
        if q:
            if q.strip().isdigit():
                where.append("p.subject_id = ?")
                args.append(int(q.strip()))
            else:
                where.append("(p.given_name || ' ' || p.family_name) ILIKE ?")
                args.append(f"%{q.strip()}%")
        if sex in ("F", "M"):
            where.append("p.sex = ?")
            args.append(sex)
        if condition:
            where.append("p.subject_id IN (SELECT subject_id FROM events WHERE kind = 'condition' "
                         "AND display ILIKE ?)")
            args.append(f"%{condition.strip()}%")
        cond = " AND ".join(where)
        (found,) = con.execute(f"SELECT count(*) FROM persons p WHERE {cond}", args).fetchone()
        rows = con.execute(
            f"SELECT p.subject_id, p.given_name, p.family_name, p.sex, p.birth_time, p.death_time, p.state "
            f"FROM persons p WHERE {cond} ORDER BY p.subject_id LIMIT ? OFFSET ?",
            [*args, PAGE_SIZE, page_no * PAGE_SIZE]).fetchall()
        ids = [r[0] for r in rows]
        counts = dict(con.execute(
            "SELECT subject_id, count(*) FROM events WHERE subject_id IN (SELECT unnest(?)) GROUP BY 1", [ids]
        ).fetchall()) if ids else {}
    finally:
        con.close()
    female, male = [0] * len(_BANDS), [0] * len(_BANDS)
    for s, age, n in pyr:
        if age is None or age < 0:
            continue
        i = _BANDS.index(_band(float(age)))
        if s == "F":
            female[i] += int(n)
        elif s == "M":
            male[i] += int(n)
    return {"info": info, "present": present, "persons": persons, "dead": dead, "kinds": kinds, "top": top,
            "female": female, "male": male, "found": found, "rows": rows, "counts": counts}


def age_text(birth: Any, death: Any, present: dt.datetime) -> str:
    """Age in whole years at ``present`` or at death (``'†'`` marks the dead); months under 2 years.

    Example:
        >>> age_text(dt.datetime(2000, 6, 1), None, dt.datetime(2026, 1, 1))
        '25'
        >>> age_text(dt.datetime(2025, 6, 1), None, dt.datetime(2026, 1, 1))
        '7 mo'
    """
    if birth is None:
        return "—"
    end = death if death is not None and death < present else present
    days = (end - birth).days
    text = f"{days // 30} mo" if days < 730 else str(int(days // 365.25))
    return text + (" †" if death is not None and death < present else "")


def _export_form(name: str) -> str:
    from hygeia.export import EXPORTERS

    options = "".join(f'<option value="{e(f)}"{" selected" if f == "fhir" else ""}>{e(f)}</option>' for f in EXPORTERS)
    return (f'<form method="post" action="/runs/{u(name)}/export" id="export-form" class="row">'
            f'<div><label for="x-format">Format</label><select id="x-format" name="fmt">{options}</select></div>'
            f'<div><button type="submit" id="export">Export</button></div></form>'
            f'<p class="muted small">fhir: one R4 transaction Bundle per patient; ndjson: R4 bulk data; omop: '
            f"CDM 5.4 (DuckDB); meds: MEDS; csv and synthea-csv: tables. The export runs as a job; its files "
            f"download from the job's page.</p>"
            f'<h3>More from this run</h3><div class="row">'
            f'<form method="post" action="/runs/{u(name)}/images" id="images-form"><button type="submit" '
            f'class="secondary">Render its images</button></form>'
            f'<form method="post" action="/runs/{u(name)}/notes" id="notes-form"><button type="submit" '
            f'class="secondary">Write its notes</button></form></div>'
            f'<p class="muted small">Images: one DICOM series per imaging study, with the finding the patient has '
            f"(hygeia images link); the patient pages then show them. Notes: a note for every encounter and a "
            f"radiology report per study (hygeia notes write), to download.</p>")


@router.get("/runs", response_class=HTMLResponse)
async def runs_page(request: Request, principal: Any = READ) -> HTMLResponse:
    """Every run under the data root."""
    from hygeia.service._pages import list_runs, runs_table

    runs = await run_in_threadpool(list_runs, data_root(request))
    body = (f'<h1>Runs</h1><section class="card">{runs_table(runs)}</section>'
            f'<p><a href="/">Start a new generation on the dashboard</a></p>')
    return page("Runs", body, principal, active="/runs")


@router.get("/runs/{name}", response_class=HTMLResponse)
async def run_page(request: Request, name: str, q: str = "", condition: str = "", sex: str = "", page_no: int = 0,
                   principal: Any = READ) -> HTMLResponse:
    """One run: counts, pyramid, top conditions, the persons (search by name or id, condition, sex) and export."""
    folder = run_folder(request, name)
    page_no = max(0, page_no)
    try:
        v = await run_in_threadpool(_overview, folder, q, condition, sex, page_no)
    except HygeiaError as exc:
        from hygeia.service._pages_common import error_page

        return error_page("This run cannot be read", str(exc), principal, status=409)
    config = v["info"].get("config") or {}
    stats = "".join(f"<li><b>{b}</b>{e(label)}</li>" for b, label in (
        (fmt_int(v["persons"]), "persons"), (fmt_int(v["persons"] - v["dead"]), "alive at the end"),
        (fmt_int(v["dead"]), "dead"), (fmt_int(sum(n for _, n in v["kinds"])), "events"),
        (e(config.get("seed")), "seed"), (e(v["present"].date()), "simulated present")))
    kinds = table(["Kind", "Events"], [[e(k), fmt_int(n)] for k, n in v["kinds"]], numeric=(1,),
                  caption="Events by kind", id="kinds")
    n = max(1, v["persons"])
    top = table(["Condition", "Persons", "Share"],
                [[f'<a href="/runs/{u(name)}{qs(condition=d)}">{e(d)}</a> <span class="muted small">{e(c)}</span>',
                  fmt_int(k), f"{k / n:.0%}"] for d, c, k in v["top"]], numeric=(1, 2),
                caption="Top conditions", id="top-conditions", empty="No conditions in this run.")
    rows = []
    for sid, given, family, s, birth, death, state in v["rows"]:
        rows.append([f'<a href="/runs/{u(name)}/persons/{sid}">{sid}</a>',
                     f'<a href="/runs/{u(name)}/persons/{sid}">{e(given)} {e(family)}</a>', e(s),
                     e(age_text(birth, death, v["present"])), e(state), fmt_int(v["counts"].get(sid, 0))])
    persons = table(["Id", "Name", "Sex", "Age", "State", "Events"], rows, numeric=(0, 3, 5), caption="Persons",
                    id="persons", empty="No person matches.")
    pages = max(1, -(-v["found"] // PAGE_SIZE))
    nav = []
    if page_no > 0:
        nav.append(f'<a href="/runs/{u(name)}{qs(q=q, condition=condition, sex=sex, page_no=page_no - 1)}" '
                   f'rel="prev">&larr; previous</a>')
    nav.append(f'<span class="muted">page {page_no + 1} of {pages} · {fmt_int(v["found"])} persons</span>')
    if page_no + 1 < pages:
        nav.append(f'<a href="/runs/{u(name)}{qs(q=q, condition=condition, sex=sex, page_no=page_no + 1)}" '
                   f'rel="next">next &rarr;</a>')
    sexes = "".join(f'<option value="{k}"{" selected" if sex == k else ""}>{t}</option>'
                    for k, t in (("", "any"), ("F", "female"), ("M", "male")))
    search = (f'<form method="get" action="/runs/{u(name)}" class="row" role="search" id="person-search">'
              f'<div><label for="p-q">Name or id</label><input type="search" id="p-q" name="q" value="{e(q)}"></div>'
              f'<div><label for="p-cond">Has a condition</label><input type="search" id="p-cond" name="condition" '
              f'value="{e(condition)}" placeholder="e.g. asthma"></div><div><label for="p-sex">Sex</label>'
              f'<select id="p-sex" name="sex">{sexes}</select></div><div><button type="submit">Search</button>'
              f"</div></form>")
    export = _export_form(name) if can_write(principal) else read_only("exporting")
    images = pill("images rendered") if (folder / "images" / "manifest.json").is_file() else ""
    body = (f'<h1>Run {e(name)} {images}</h1><ul class="stats" id="stats">{stats}</ul>'
            f'<div class="grid2" style="margin-top:1rem"><section class="card"><h2>Population pyramid</h2>'
            f'{pyramid_svg(_BANDS, v["female"], v["male"])}<p class="muted small">Persons alive at '
            f'{e(v["present"].date())}, by age in years.</p></section>'
            f'<section class="card"><h2>Top conditions</h2><div class="scroll" style="max-height:24rem">{top}</div>'
            f"</section></div>"
            f'<div class="grid2"><section class="card"><h2>Persons</h2>{search}{persons}'
            f'<div class="pager">{"".join(nav)}</div></section>'
            f'<div><section class="card"><h2>Export</h2>{export}</section>'
            f'<section class="card"><h2>Events by kind</h2>{kinds}</section></div></div>')
    return page(f"Run {name}", body, principal, active="/runs")


async def _run_job(request: Request, name: str, kind: str, params: dict[str, Any], principal: Any) -> Response:
    """Start a job over run ``name`` and go to its page (or say why it was not started)."""
    run_folder(request, name)
    try:
        job = await run_in_threadpool(request.app.state.runner.submit, kind, params, user_name(principal))
    except HygeiaError as exc:
        from hygeia.service._pages_common import error_page

        return error_page("The job was not started", str(exc), principal, status=400,
                          links=f'<a href="/runs/{u(name)}">Back to the run</a>')
    return redirect(f"/jobs/{u(job.id)}")


@router.post("/runs/{name}/export")
async def start_export(request: Request, name: str, principal: Any = WRITE) -> Response:
    """Start an export job of the run in the chosen format and go to its page."""
    form = await request.form()
    return await _run_job(request, name, "export", {"run": name, "fmt": str(form.get("fmt") or "")}, principal)


@router.post("/runs/{name}/images")
async def start_images(request: Request, name: str, principal: Any = WRITE) -> Response:
    """Render the run's imaging studies into RUN/images (``hygeia images link``)."""
    return await _run_job(request, name, "images-link", {"run": name}, principal)


@router.post("/runs/{name}/notes")
async def start_notes(request: Request, name: str, principal: Any = WRITE) -> Response:
    """Write the run's notes (``hygeia notes write``) into the job's folder."""
    return await _run_job(request, name, "notes-write", {"run": name}, principal)


@router.post("/runs/{name}/persons/{sid}/tutor-case")
async def start_tutor_case(request: Request, name: str, sid: int, principal: Any = WRITE) -> Response:
    """Make a tutor case (a virtual patient with the disease asked for) from this person of the run."""
    form = await request.form()
    seed = str(form.get("seed") or "").strip()
    params = {"disease": str(form.get("disease") or "").strip(), "from_run": name, "subject": sid,
              "seed": int(seed) if seed.isdigit() else (seed or None)}
    return await _run_job(request, name, "tutor-case", {k: v for k, v in params.items() if v is not None}, principal)
