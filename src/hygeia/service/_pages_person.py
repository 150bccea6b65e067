"""One patient's page: demographics, the timeline of their events, and beside it their notes and images.

- **Timeline**: every event of the person (:func:`hygeia.core.storage.read_person`) by date, newest
  first: encounters, conditions (with their end), medications, observations with values and units,
  procedures, immunizations, imaging...; filtered by kind.
- **Notes**: written from the record by the notes writer (:func:`hygeia.notes.note_for_encounter`,
  seeded by the run seed, so the page shows the same words each time) for the encounter chosen
  (by default the latest), with every imaging study's radiology report.
- **Images**: one per series of each ``imaging`` event. Where the run has rendered images
  (``hygeia generate --images`` / ``hygeia images link``) the page shows that DICOM series' middle
  slice (:func:`hygeia.imaging.read_dicom`); otherwise :func:`hygeia.imaging.render` draws the
  series' modality and body site with the finding of the person's condition at that time
  (:func:`hygeia.imaging.finding_for_condition`), seeded from the run seed, the subject and the
  study. Series that no renderer draws say why.

Notes and images are made on first view and kept under ``data_root/cache/pages/<run>/<subject>/``.

Example:
    >>> _series("DX:Thoracic structure (body structure); CT:Head structure (body structure)")
    [('DX', 'Thoracic structure (body structure)'), ('CT', 'Head structure (body structure)')]
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response

from hygeia.core.atomic import atomic_output, write_text
from hygeia.errors import HygeiaError
from hygeia.service._html import e, fmt_int, pill, qs, table, u
from hygeia.service._pages_common import (
    READ,
    PageRoute,
    can_write,
    data_root,
    error_page,
    page,
)
from hygeia.service._pages_runs import age_text, run_folder, run_present

__all__ = ["person_images", "person_notes", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_LOCK = threading.Lock()
_KINDS = ("encounter", "condition", "medication", "observation", "procedure", "immunization", "allergy", "careplan",
          "device", "imaging", "death")
_MAX_IMAGES = 12  # series drawn on one page (the newest)
_MAX_ROWS = 1500  # timeline rows on one page (the newest)
_STREAM_PAGES = 91  # the seed tree's branch for images the pages draw


def _series(text: Any) -> list[tuple[str, str]]:
    out = []
    for part in str(text or "").split("; "):
        modality, sep, site = part.partition(":")
        if sep and modality.strip():
            out.append((modality.strip(), site.strip()))
    return out


def _cache(request: Request, run: str, sid: int) -> Path:
    return data_root(request) / "cache" / "pages" / run / str(int(sid))


def _ts(value: Any) -> dt.datetime | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
        return pd.Timestamp(value).to_pydatetime()
    except (TypeError, ValueError):
        return None


def _records(events: Any) -> list[dict[str, Any]]:
    """The events DataFrame as dicts with Python datetimes and None for missing values."""
    rows = []
    for r in events.to_dict("records"):
        for k in ("time", "end_time"):
            r[k] = _ts(r.get(k))
        for k in ("numeric_value",):
            v = r.get(k)
            r[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        for k in ("encounter_id",):
            v = r.get(k)
            r[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
        for k in ("code_system", "code", "display", "unit", "text_value", "module", "state"):
            v = r.get(k)
            r[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        rows.append(r)
    return rows


def _person(folder: Path, sid: int) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    from hygeia.core.storage import read_person, read_run_info

    person, events = read_person(folder, sid)
    person = {k: (_ts(v) if k in ("birth_time", "death_time") else v) for k, v in person.items()}
    return person, _records(events), read_run_info(folder)


def _run_seed(info: dict[str, Any]) -> int:
    return int((info.get("config") or {}).get("seed", info.get("seed")) or 0)


# -- notes -------------------------------------------------------------------------------------------------------
def person_notes(cache: Path, person: dict[str, Any], events: list[dict[str, Any]], encounter_id: int,
                 seed: int) -> list[dict[str, Any]]:
    """The notes of one encounter (title, kind, author, time, text), written once and cached as JSON."""
    from hygeia.notes import note_for_encounter

    path = cache / f"notes-{int(encounter_id)}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            pass
    notes = note_for_encounter(person, events, int(encounter_id), seed=seed)
    out = [{"title": n.title, "kind": n.kind, "author_role": n.author_role, "time": n.time.isoformat(),
            "text": n.text} for n in notes]
    cache.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(out, indent=1))
    return out


# -- images ------------------------------------------------------------------------------------------------------
def person_images(folder: Path, sid: int, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per series of each imaging event of the person: key, event, modality, site, and how it is
    drawn (``manifest`` path, ``render`` parameters) or why it is not."""
    from hygeia.imaging import finding_for_condition
    from hygeia.imaging._link import (
        BODY_SITES,
        LINK_MODALITIES,
        event_key,
        images_index,
    )

    sites = {display: part for (_, display), part in BODY_SITES.items()}
    try:
        index = (images_index(folder) or {}).get(int(sid), {})
    except HygeiaError:
        index = {}
    conditions = [ev for ev in events if ev["kind"] == "condition"]
    studies = sorted((ev for ev in events if ev["kind"] == "imaging"), key=lambda ev: (ev["time"], ev["state"] or ""))
    out = []
    for rank, ev in enumerate(studies):
        us = (ev["time"] - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
        study = index.get(event_key(sid, us, ev["code"], ev["state"] or ""))
        for k, (modality, site) in enumerate(_series(ev["text_value"])):
            entry = {"key": f"{rank}-{k}", "event": ev, "modality": modality, "site": site, "finding": None}
            series = next((s for s in (study or {}).get("series", []) if s["series_index"] == k), None)
            if series is not None:
                entry["dicom"] = series["path"]
                entry["finding"] = (series.get("finding") or {}).get("kind")
                entry["source"] = "rendered with the run (hygeia images link)"
            elif modality not in LINK_MODALITIES:
                entry["why_not"] = f"no renderer draws {modality} images"
            elif site not in sites:
                entry["why_not"] = f"no phantom for the body site {site!r}"
            else:
                part = sites[site]
                found = []
                for c in conditions:
                    hit = finding_for_condition(c["code_system"] or "", c["code"] or "")
                    if hit is None or hit[1] != part:
                        continue
                    here = ev["encounter_id"] is not None and c["encounter_id"] == ev["encounter_id"]
                    active = c["time"] <= ev["time"] and (c["end_time"] is None or c["end_time"] > ev["time"])
                    if here or active:
                        found.append((not here, -c["time"].timestamp(), hit[0], c["display"]))
                found.sort()
                entry["render"] = {"modality": LINK_MODALITIES[modality], "body_part": part,
                                   "finding": found[0][2] if found else None, "rank": rank, "series": k}
                entry["finding"] = found[0][2] if found else None
                entry["condition"] = found[0][3] if found else None
                entry["source"] = "rendered for this page (hygeia.imaging.render)"
            out.append(entry)
    return out


def _png(folder: Path, cache: Path, sid: int, entry: dict[str, Any], seed: int) -> Path:
    """The PNG of one series (its middle slice), made once and cached."""
    from hygeia.imaging import Volume, read_dicom, render, write_png

    target = cache / f"image-{entry['key']}"
    with _LOCK:
        done = min(target.glob("*.png"), default=None) if target.is_dir() else None
        if done is not None:
            return done
        if "dicom" in entry:
            vol = read_dicom(folder / "images" / entry["dicom"])
        else:
            r = entry["render"]
            s = np.random.SeedSequence(seed, spawn_key=(_STREAM_PAGES, int(sid), r["rank"], r["series"]))
            vol = render(r["modality"], finding=r["finding"], body_part=r["body_part"], size=128, slices=9,
                         seed=int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)), quiet=True)[0]
        middle = vol.array.shape[0] // 2
        single = Volume(vol.array[middle:middle + 1], vol.modality, spacing=vol.spacing)
        cache.mkdir(parents=True, exist_ok=True)
        window = "lung" if vol.modality == "CT" and "Thoracic" in entry["site"] else None
        with atomic_output(target, folder=True, what="Page image") as tmp:
            write_png(single, tmp, window=window, overwrite=True)
        return min(target.glob("*.png"))


# -- the page ----------------------------------------------------------------------------------------------------
def _value(ev: dict[str, Any]) -> str:
    """What an event holds beyond its name: a number with its unit, a coded answer's name, an end date."""
    parts = []
    if ev["numeric_value"] is not None:
        parts.append(f"<b>{ev['numeric_value']:,.4g}</b> {e(ev['unit'] or '')}".strip())
    elif ev["text_value"] and ev["kind"] not in ("encounter", "imaging"):
        text = ev["text_value"]
        coded = text.split("|")
        parts.append(e(coded[-1] if len(coded) == 3 else text))  # 'SNOMED-CT|8517006|Ex-smoker (finding)'
    if ev["end_time"] is not None and ev["kind"] in ("condition", "medication", "careplan", "allergy", "device"):
        parts.append(f'<span class="muted small">until {e(ev["end_time"].date())}</span>')
    return " ".join(parts)


def _timeline(name: str, sid: int, events: list[dict[str, Any]], kind: str, encounter: int | None) -> str:
    shown = [ev for ev in events if not kind or ev["kind"] == kind]
    cut = max(0, len(shown) - _MAX_ROWS)
    shown = shown[cut:]  # the newest
    by_day: dict[Any, list[dict[str, Any]]] = {}
    for ev in shown:
        by_day.setdefault(ev["time"].date() if ev["time"] else None, []).append(ev)
    rows = []
    for day in sorted(by_day, key=lambda d: d or dt.date.min, reverse=True):
        for i, ev in enumerate(by_day[day]):
            label = e(ev["display"] or ev["code"] or "")
            if ev["kind"] == "encounter" and ev["encounter_id"] is not None:
                current = ev["encounter_id"] == encounter
                label = (f'<a href="/runs/{u(name)}/persons/{sid}{qs(kind=kind, encounter=ev["encounter_id"])}#notes" '
                         f'title="show this encounter\'s notes"{" aria-current=true" if current else ""}>{label}</a>'
                         + (f' <span class="muted small">({e(ev["text_value"])})</span>' if ev["text_value"] else ""))
            rows.append([f"<b>{e(day)}</b>" if i == 0 else "",
                         f'<span class="kind">{e(ev["kind"].replace("_", " "))}</span><br>{label}', _value(ev)])
    filters = " · ".join(
        (f"<b>{e(k or 'all')}</b>" if k == kind else f'<a href="/runs/{u(name)}/persons/{sid}{qs(kind=k)}">{e(k or "all")}</a>')
        for k in ("", *[k for k in _KINDS if any(ev["kind"] == k for ev in events)]))
    more = (f'<p class="muted small">The newest {_MAX_ROWS:,} of {len(shown) + cut:,} events; choose a kind to see '
            f"older ones.</p>" if cut else "")
    return (f'<p class="small" id="kind-filter">Show: {filters}</p>{more}<div class="scroll" style="max-height:60rem">'
            + table(["Date", "Event", "Value"], rows, caption="Timeline", id="timeline",
                    empty="No events of this kind.") + "</div>")


@router.get("/runs/{name}/persons/{sid}", response_class=HTMLResponse)
async def person_page(request: Request, name: str, sid: int, kind: str = "", encounter: int | None = None,
                      principal: Any = READ) -> HTMLResponse:
    """One patient: demographics, timeline, notes of an encounter and images of their imaging studies."""
    folder = run_folder(request, name)
    try:
        person, events, info = await run_in_threadpool(_person, folder, sid)
    except HygeiaError as exc:
        return error_page("No such person", str(exc), principal, status=404,
                          links=f'<a href="/runs/{u(name)}">Back to the run</a>')
    present = run_present(info)
    seed = _run_seed(info)
    cache = _cache(request, name, sid)
    encounters = [ev for ev in events if ev["kind"] == "encounter" and ev["encounter_id"] is not None]
    if encounter is not None and not any(ev["encounter_id"] == encounter for ev in encounters):
        encounter = None  # not one of this person's: show the default one
    if encounter is None and encounters:
        imaged = {ev["encounter_id"] for ev in events if ev["kind"] == "imaging"}
        chosen = [ev for ev in encounters if ev["encounter_id"] in imaged] or encounters
        encounter = chosen[-1]["encounter_id"]
    notes_html = ""
    if encounter is not None and any(ev["encounter_id"] == encounter for ev in encounters):
        try:
            notes = await run_in_threadpool(person_notes, cache, person, events, encounter, seed)
        except HygeiaError as exc:
            notes, notes_html = [], f'<p class="error" role="alert">The notes could not be written: {e(exc)}</p>'
        for n in notes:
            notes_html += (f'<article class="note-card"><h3>{e(n["title"])} <span class="muted small">'
                           f'{e(n["time"][:16].replace("T", " "))} · {e(n["author_role"])}</span></h3>'
                           f'<pre class="note-text">{e(n["text"])}</pre></article>')
        if not notes and not notes_html:
            notes_html = '<p class="muted">The notes writer writes nothing for this encounter.</p>'
        which = next(ev for ev in encounters if ev["encounter_id"] == encounter)
        notes_html = (f'<p class="small muted">Encounter of {e(which["time"].date())}: {e(which["display"])}. '
                      f"Pick another encounter in the timeline.</p>" + notes_html)
    else:
        notes_html = '<p class="muted" id="no-notes">This person has no encounters, so there is nothing to write ' \
                     "notes about.</p>"
    images = await run_in_threadpool(person_images, folder, sid, events)
    figs = []
    older = max(0, len(images) - _MAX_IMAGES)
    for im in images[older:]:
        ev = im["event"]
        when = e(ev["time"].date())
        what = f'{e(im["modality"])} · {e(im["site"])}'
        if "why_not" in im:
            figs.append(f'<div class="note small">{when}: {e(ev["display"])} ({what}): not shown, '
                        f'{e(im["why_not"])}.</div>')
            continue
        finding = (f'finding: <b>{e(im["finding"].replace("_", " "))}</b>' + (f' ({e(im.get("condition"))})'
                   if im.get("condition") else "")) if im["finding"] else "no finding (a normal study)"
        figs.append(f'<figure><img src="/runs/{u(name)}/persons/{sid}/images/{e(im["key"])}.png" '
                    f'alt="{e(im["modality"])} image of the {e(im["site"])}, {e(im["finding"] or "no finding")}, '
                    f'{when}" width="256" height="256"><figcaption>{when}: {e(ev["display"])}: {what}; {finding}. '
                    f'<span class="muted">{e(im["source"])}; a synthetic image.</span></figcaption></figure>')
    if older:
        figs.insert(0, f'<p class="muted small">{older} older series not shown (the newest {_MAX_IMAGES} are).</p>')
    images_html = (f'<div class="imgs">{"".join(reversed(figs))}</div>' if figs else "") or '<p class="muted" id="no-images">No imaging studies in this record, so there ' \
                                   "are no images to show.</p>"
    birth, death = person.get("birth_time"), person.get("death_time")
    demo = table(["", ""], [[e(k), v] for k, v in (
        ("Subject id", e(sid)), ("Sex", e(person.get("sex"))), ("Born", e(birth.date() if birth else "—")),
        ("Died", e(death.date()) if death else "—"), ("Age", e(age_text(birth, death, present))),
        ("Race / ethnicity", f"{e(person.get('race'))} / {e(person.get('ethnicity'))}"),
        ("State", e(person.get("state"))), ("Marital status", e(person.get("marital_status"))),
        ("Education", e(person.get("education"))), ("Income", fmt_int(person.get("income"))),
        ("Events", fmt_int(len(events))))], caption="Demographics", id="demographics")
    dead = " " + pill("deceased", "bad") if death is not None and death < present else ""
    full = f'{e(person.get("given_name") or "")} {e(person.get("family_name") or "")}'.strip() or f"Person {sid}"
    body = (f'<p class="small"><a href="/runs/{u(name)}">&larr; Run {e(name)}</a></p><h1>{full}{dead}</h1>'
            f'<div class="grid2"><div><section class="card"><h2>Demographics</h2>{demo}</section>'
            f'<section class="card"><h2>Timeline</h2>{_timeline(name, sid, events, kind, encounter)}</section></div>'
            f'<div><section class="card" id="notes"><h2>Notes</h2>{notes_html}</section>'
            f'<section class="card" id="images"><h2>Images</h2>{images_html}</section>'
            f"{_tutor_form(name, sid) if can_write(principal) else ''}</div></div>")
    return page(full, body, principal, active="/runs")


def _tutor_form(name: str, sid: int) -> str:
    return (f'<section class="card"><h2>Teach with this patient</h2><form method="post" '
            f'action="/runs/{u(name)}/persons/{sid}/tutor-case" id="tutor-case-form"><div class="row"><div>'
            f'<label for="t-disease">Disease (id)</label><input type="text" id="t-disease" name="disease" required '
            f'placeholder="ORPHA:558 or HYGEIA:sepsis"></div><div><label for="t-seed">Seed</label><input type="number" '
            f'id="t-seed" name="seed" min="0" placeholder="random" style="width:7rem"></div><div><button '
            f'type="submit">Make a tutor case</button></div></div><p class="muted small">A virtual patient with this '
            f"person's name, sex, age, medicines, past history and smoking (hygeia tutor case --from-run); play it "
            f'in the <a href="/tutor/">tutor</a>.</p></form></section>')


@router.get("/runs/{name}/persons/{sid}/images/{key}.png")
async def person_image(request: Request, name: str, sid: int, key: str, principal: Any = READ) -> Response:
    """The PNG of one series of the person's imaging studies (drawn on first view, then cached)."""
    folder = run_folder(request, name)
    try:
        _, events, info = await run_in_threadpool(_person, folder, sid)
    except HygeiaError as exc:
        return error_page("No such person", str(exc), principal, status=404)
    entry = next((im for im in await run_in_threadpool(person_images, folder, sid, events) if im["key"] == key), None)
    if entry is None or "why_not" in entry:
        return error_page("No such image", f"Person {sid} of run {name} has no image {key!r}.", principal, status=404)
    try:
        path = await run_in_threadpool(_png, folder, _cache(request, name, sid), sid, entry, _run_seed(info))
    except HygeiaError as exc:  # said in the picture's place
        return Response(_problem_svg(f"This image could not be made: {exc}"), media_type="image/svg+xml",
                        status_code=500, headers={"Cache-Control": "no-store"})
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _problem_svg(text: str, width: int = 256, per_line: int = 38) -> str:
    """A small SVG that says ``text`` (wrapped), shown where an image could not be made.

    Example:
        >>> _problem_svg("no phantom").startswith("<svg") and "no phantom" in _problem_svg("no phantom")
        True
    """
    import textwrap

    lines = textwrap.wrap(text, per_line)[:12]
    rows = "".join(f'<text x="10" y="{24 + 16 * i}" font-size="12" fill="#b3261e">{e(line)}</text>'
                   for i, line in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{width}" viewBox="0 0 {width} {width}">'
            f'<rect width="100%" height="100%" fill="#fdecea"/>{rows}</svg>')
