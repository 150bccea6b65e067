"""The tutor's web app: FastAPI serving server-rendered pages over a folder of cases and one of sessions.

``create_app(cases_dir, sessions_dir)`` serves:

- ``/``: the cases (the diagnosis hidden), case files that fail the schema with their problems, a form
  that makes a new case from a disease id or a name search, and the sessions;
- ``/s/{id}``: one session (transcript, question box, exam by system, tests with costs and turnaround,
  results with rendered images, differential, management, clock, cost, vitals of acute cases, End);
- ``/s/{id}/report``: the session's report (scores and feedback beside the expert path);
- ``/instructor``: every session of the class with its scores;
- ``/cases/{stem}/edit`` and ``/cases/{stem}/raw``: the case editors, validated on save.

Each session lives in its own folder under ``sessions_dir``: ``session.json`` (saved after every
action), ``case.json`` (the case as it was when the session began, so later edits of the case do
not change a session being replayed), ``meta.json`` (the summary the lists show), and once ended
``score.json`` and ``report.html``; rendered images are cached in ``images/``. A new app over the
same folders resumes every session. Every control is a form that POSTs and redirects back.

Example:
    >>> import tempfile, pathlib
    >>> from fastapi.testclient import TestClient
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> client = TestClient(create_app(tmp / "cases", tmp / "sessions"))
    >>> page = client.get("/")
    >>> page.status_code, "Human Phenotype Ontology" in page.text
    (200, True)
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import secrets
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hygeia.core.atomic import write_text
from hygeia.errors import (
    ConfigError,
    DataValidationError,
    HygeiaError,
    MissingExtraError,
)
from hygeia.tutor._case import Case
from hygeia.tutor._find import find_diseases
from hygeia.tutor._hpo import Knowledge, load_knowledge
from hygeia.tutor._pages import (
    error_page,
    footer_html,
    home_page,
    instructor_page,
    search_page,
)
from hygeia.tutor._pages_case import (
    case_edit_page,
    case_raw_page,
    form_to_case_data,
    pretty,
)
from hygeia.tutor._pages_session import session_page

try:  # the tutor extra; FastAPI reads the route annotations from this module's globals
    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
    from starlette.exceptions import HTTPException
except ImportError:  # create_app says which extra to install
    FastAPI = None  # type: ignore[assignment,misc]

__all__ = ["create_app", "serve"]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_DISEASE_ID = re.compile(r"^\s*[A-Za-z]+:\S+\s*$")
_ID_PREFIX = re.compile(r"^\s*((?:OMIM|ORPHA|ORPHANET|DECIPHER|HYGEIA):\S+)", re.IGNORECASE)


def _safe_name(text: str) -> str:
    """A file-name-safe version of an id (``ORPHA:558/s7`` -> ``ORPHA_558_s7``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:100] or "case"


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return obj


def _who(case: Case) -> str:
    """'34-year-old woman', '8-month-old boy', 'newborn girl'."""
    age, sex = float(case.patient.age_years), str(case.patient.sex).lower()
    adult = age >= 18
    noun = {"female": "woman" if adult else "girl", "male": "man" if adult else "boy"}.get(sex, "patient")
    if age < 28 / 365:
        return f"newborn {noun}"
    if age < 2:
        return f"{max(1, round(age * 12))}-month-old {noun}"
    return f"{int(age)}-year-old {noun}"


def _kind(kind: str) -> str:
    """The page's name of an engine event kind."""
    k = kind.lower()
    for key, words in (("ask", ("ask", "question", "history")), ("exam", ("exam",)), ("order", ("order", "test")),
                       ("ddx", ("diff", "ddx")), ("act", ("act",)), ("end", ("end",))):
        if any(k.startswith(w) for w in words):
            return key
    return "other"


class _Store:
    """The cases and sessions of one app, on disk, with the live sessions kept in memory."""

    def __init__(self, cases_dir: Path, sessions_dir: Path, kb: Knowledge) -> None:
        self.cases_dir, self.sessions_dir, self.kb = cases_dir, sessions_dir, kb
        cases_dir.mkdir(parents=True, exist_ok=True)
        sessions_dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.live: dict[str, Any] = {}
        self.scores: dict[str, Any] = {}

    # -- cases -------------------------------------------------------------------------------------------------
    def cases(self) -> tuple[list[tuple[str, Case]], list[tuple[str, list[str]]]]:
        """Readable cases (stem, case) and the files that fail the schema (name, problems)."""
        from hygeia.tutor._case_io import read_case

        good, bad = [], []
        for path in sorted(self.cases_dir.glob("*.json")):
            try:
                good.append((path.stem, read_case(path)))
            except DataValidationError as exc:
                bad.append((path.name, [str(p) for p in exc.problems]))
            except HygeiaError as exc:
                bad.append((path.name, [str(exc)]))
        return good, bad

    def case_path(self, stem: str) -> Path:
        if not _SAFE.match(stem) or not (self.cases_dir / f"{stem}.json").is_file():
            raise LookupError(f"no case {stem!r} in {self.cases_dir}")
        return self.cases_dir / f"{stem}.json"

    def add_case(self, case: Case) -> str:
        """Save a new case as ``case-N.json`` (a name that does not give the diagnosis away); its stem."""
        from hygeia.tutor._case_io import write_case

        with self.lock:
            taken = [int(m.group(1)) for p in self.cases_dir.glob("case-*.json")
                     if (m := re.fullmatch(r"case-(\d+)", p.stem))]
            stem = f"case-{max(taken, default=0) + 1}"
            write_case(case, self.cases_dir / f"{stem}.json")
        return stem

    # -- sessions ----------------------------------------------------------------------------------------------
    def folder(self, sid: str) -> Path:
        if not _SAFE.match(sid) or not (self.sessions_dir / sid / "session.json").is_file():
            raise LookupError(f"no session {sid!r}")
        return self.sessions_dir / sid

    def start(self, stem: str, student: str) -> str:
        from hygeia.tutor._case_io import read_case, write_case
        from hygeia.tutor._session import Session

        case = read_case(self.case_path(stem))
        with self.lock:
            sid = secrets.token_hex(5)
            folder = self.sessions_dir / sid
            folder.mkdir()
            write_case(case, folder / "case.json")
            session = Session(case, kb=self.kb, id=sid, student=student.strip())
            self.live[sid] = session
            meta = {"id": sid, "student": student.strip(), "case_stem": stem, "case_id": case.id,
                    "disease": {"id": case.disease.get("id"), "name": case.disease.get("name")},
                    "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            write_text(folder / "meta.json", json.dumps(meta, indent=1))
            self.save(session)
        return sid

    def session(self, sid: str) -> Any:
        """The live session ``sid``, loaded (replayed) from its folder after a restart."""
        from hygeia.tutor._case_io import read_case
        from hygeia.tutor._session import load_session

        with self.lock:
            if sid not in self.live:
                folder = self.folder(sid)
                case = read_case(folder / "case.json")
                self.live[sid] = load_session(folder / "session.json", case)
            return self.live[sid]

    def save(self, session: Any) -> None:
        """Save ``session`` and refresh its summary (after every action)."""
        from hygeia.tutor._session import save_session

        folder = self.sessions_dir / session.id
        save_session(session, folder / "session.json")
        meta = self.meta(session.id)
        meta.update(clock=float(session.clock), cost=_cost(session), ended=bool(session.ended),
                    events=len(session.events), updated=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        write_text(folder / "meta.json", json.dumps(meta, indent=1))

    def meta(self, sid: str) -> dict[str, Any]:
        path = self.sessions_dir / sid / "meta.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"id": sid}

    def summaries(self) -> list[dict[str, Any]]:
        """Every session's summary (newest first), with its score parts once ended."""
        out = []
        for folder in self.sessions_dir.iterdir():
            if not (folder / "session.json").is_file():
                continue
            m = self.meta(folder.name)
            m["id"] = folder.name
            score = folder / "score.json"
            if score.is_file():
                try:
                    m["score"] = _score_summary(json.loads(score.read_text(encoding="utf-8")))
                except ValueError:
                    m["score"] = None
            out.append(m)
        out.sort(key=lambda m: m.get("started", ""), reverse=True)
        return out

    def finish(self, session: Any) -> None:
        """Score an ended session and write its score and report into its folder."""
        from hygeia.tutor._report import session_report_html
        from hygeia.tutor._score import score_session

        folder = self.sessions_dir / session.id
        score = score_session(session)
        self.scores[session.id] = score
        write_text(folder / "score.json", json.dumps(_jsonable(score), indent=1, default=str))
        write_text(folder / "report.html", session_report_html(session, score, kb=self.kb))

    def image(self, sid: str, test_key: str) -> Path:
        """The PNG of imaging test ``test_key`` of session ``sid`` (rendered once, then cached)."""
        from hygeia.tutor._tests_catalogue import render_case_image

        session = self.session(sid)
        out = self.folder(sid) / "images" / _safe_name(test_key)
        with self.lock:
            cached = sorted(out.glob("*.png")) if out.is_dir() else []
            if cached:
                return cached[0]
            out.mkdir(parents=True, exist_ok=True)
            return Path(render_case_image(session.case, test_key, out))


def _cost(session: Any) -> float:
    return float(session.cost)


def _score_summary(data: dict[str, Any]) -> dict[str, Any]:
    """Overall score and its numeric parts from a score's JSON."""
    parts = data.get("parts")
    if not isinstance(parts, dict):
        parts = {k: v for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                 and k != "overall"}
    return {"overall": data.get("overall"), "rank": data.get("rank"), "parts": parts}


def session_view(session: Any, kb: Knowledge, *, query: str | None = None) -> dict[str, Any]:
    """What the session page shows, as plain data (see :func:`hygeia.tutor._pages_session.session_page`)."""
    from hygeia.tutor._session import EXAM_SYSTEMS

    case: Case = session.case
    tests = {t.key: t for t in case.tests}
    offered = session.actions()
    events, examined = [], set()
    for ev in session.events:
        kind = _kind(ev.kind)
        label = ev.input
        if kind == "exam":
            examined.add(ev.input)
            label = f"Examine: {EXAM_SYSTEMS.get(ev.input, (ev.input,))[0]}"
        elif kind == "order":
            label = f"Order: {tests[ev.input].name if ev.input in tests else ev.input}"
        elif kind == "act":
            label = f"Do: {offered[ev.input].name if ev.input in offered else ev.input}"
        elif kind == "ddx":
            items = ev.items if getattr(ev, "items", None) is not None else _split_ddx(ev.input)
            label = "Differential: " + ("; ".join(items) if items else "(cleared)")
        elif kind == "end":
            label = "End the session"
        events.append({"t": ev.t, "kind": kind, "input": label, "reply": ev.reply, "cost": ev.cost,
                       "matched": getattr(ev, "matched", True)})
    ordered = session.ordered
    results = [{"key": key, "name": tests[key].name, "text": tests[key].result, "abnormal": tests[key].abnormal,
                "values": tests[key].values, "ready": ready,
                "image_url": f"/s/{session.id}/image/{key}" if tests[key].image else None}
               for key, ready in ordered.items() if key in tests]
    done = session.done
    actions = [{"key": a.key, "name": a.name, "done": a.key in done} for a in offered.values()]
    ddx = [(d, session.disease_name(d)) for d in session.differential]
    vitals = session.vitals_now()
    view = {"id": session.id, "student": session.student, "ended": session.ended, "clock": session.clock,
            "cost": _cost(session), "acute": case.acute or vitals is not None, "state": session.state,
            "vitals": _jsonable(vitals) if vitals is not None else None,
            "patient": {"who": _who(case), "complaint": case.patient.chief_complaint},
            "events": events, "results": results, "differential": ddx, "actions": actions,
            "exam_systems": [(k, v[0], k in examined) for k, v in EXAM_SYSTEMS.items()],
            "tests": [{"key": t.key, "name": t.name, "kind": t.kind, "cost": t.cost, "minutes": t.minutes,
                       "ordered": t.key in ordered} for t in case.tests]}
    if query is not None:
        view["ddx_query"] = query
        view["ddx_hits"] = [(i, n) for i, n, _ in find_diseases(query, limit=12, kb=kb)]
    return view


def _split_ddx(text: Any) -> list[str]:
    """The items of a differential event's input (a list, or text joined by ';' or new lines)."""
    if isinstance(text, (list, tuple)):
        return [str(t) for t in text]
    return [t.strip() for t in re.split(r"[;\n]", str(text)) if t.strip()]


def _ddx_items(text: str) -> list[str]:
    """The differential textarea as items: a leading disease id where a line has one, else the line."""
    items = []
    for line in text.splitlines():
        m = _ID_PREFIX.match(line)
        item = m.group(1) if m else line.strip()
        if item and item not in items:
            items.append(item)
    return items


def create_app(cases_dir: str | Path, sessions_dir: str | Path, *, kb: Knowledge | None = None) -> Any:
    """The tutor's web app (see the module docstring) over ``cases_dir`` and ``sessions_dir``.

    Args:
        cases_dir: folder of case files (``*.json``, schema ``hygeia.tutor.case/1``); made if missing.
        sessions_dir: folder of session folders; made if missing. Sessions found there are resumed.
        kb: the HPO knowledge base (default: :func:`load_knowledge`).

    Returns:
        A FastAPI application (serve it with :func:`serve` or any ASGI server).

    Raises:
        MissingExtraError: FastAPI or python-multipart (the ``tutor`` extra) is not installed.
    """
    if FastAPI is None:
        raise MissingExtraError("fastapi", "tutor", "The tutor's web pages")
    if importlib.util.find_spec("python_multipart") is None and importlib.util.find_spec("multipart") is None:
        raise MissingExtraError("python-multipart", "tutor", "The tutor's web pages (their forms)")

    kb = kb or load_knowledge()
    store = _Store(Path(cases_dir), Path(sessions_dir), kb)
    footer = footer_html(kb.version, kb.attribution)
    app = FastAPI(title="Hygeia tutor", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store

    def page(html: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(html, status_code=status)

    def not_found(what: str) -> HTMLResponse:
        return page(error_page("Not found", what, footer=footer), 404)

    def back(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(HygeiaError)
    async def hygeia_error(request: Request, exc: HygeiaError) -> HTMLResponse:
        """Bad input the parts reject (a saved session that no longer replays, say): said on a page, not a 500."""
        return page(error_page("That did not work", str(exc), footer=footer), 409)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            return not_found(f"There is no page at {request.url.path}.")
        return page(error_page(f"Error {exc.status_code}", str(exc.detail), footer=footer), exc.status_code)

    # -- home, new cases ---------------------------------------------------------------------------------------
    def home(form: dict[str, str] | None = None, problems: list[str] = (), note: str = "", status: int = 200):
        good, bad = store.cases()
        cases = [{"stem": s, "who": _who(c), "complaint": c.patient.chief_complaint, "acute": c.acute}
                 for s, c in good]
        return page(home_page(cases, bad, store.summaries(), footer=footer, form=form, problems=list(problems),
                              note=note), status)

    @app.get("/", response_class=HTMLResponse)
    async def index(made: str = "") -> HTMLResponse:
        note = f"Case {made} is ready: start a session from the list." if made and _SAFE.match(made) else ""
        return await run_in_threadpool(home, None, (), note)

    @app.post("/cases")
    async def new_case(request: Request):
        form = {k: str(v) for k, v in (await request.form()).items()}
        return await run_in_threadpool(_new_case, form)

    def _new_case(form: dict[str, str]):
        from hygeia.tutor._generate import generate_case

        problems, disease = [], form.get("disease", "").strip()
        seed = noise = vague = None
        try:
            seed = int(form["seed"]) if form.get("seed", "").strip() else None
            if seed is not None and seed < 0:
                raise ValueError
        except ValueError:
            problems.append(f"seed {form.get('seed')!r}: expected a whole number of 0 or more, or empty for a random seed")
        for name in ("noise", "vague"):
            try:
                value = float(form.get(name) or 0)
                if not 0 <= value <= 1:
                    raise ValueError
                if name == "noise":
                    noise = value
                else:
                    vague = value
            except ValueError:
                problems.append(f"{name} {form.get(name)!r}: expected a number from 0 to 1")
        if not disease:
            problems.append("disease: give a disease id (ORPHA:558) or words of its name (marfan)")
        if problems:
            return home(form, problems, status=400)
        if not _DISEASE_ID.match(disease):
            hits = find_diseases(disease, limit=30, kb=kb)
            if not hits:
                msg = (f"no disease name holds every word of {disease!r}: try fewer or other words, "
                       f"or a disease id like ORPHA:558")
                return home(form, [msg], status=400)
            return page(search_page(disease, hits, form, footer=footer))
        try:
            case = generate_case(disease.strip(), seed=seed, noise=noise, vague=vague, kb=kb)
        except ConfigError as exc:
            return home(form, [str(exc)], status=400)
        stem = store.add_case(case)
        return back(f"/?made={stem}")

    # -- sessions ----------------------------------------------------------------------------------------------
    @app.post("/sessions")
    async def start(request: Request):
        form = await request.form()
        stem = str(form.get("case", ""))
        try:
            sid = await run_in_threadpool(store.start, stem, str(form.get("student", "")))
        except LookupError:
            return not_found(f"There is no case {stem!r}: pick one from the list.")
        except DataValidationError as exc:
            fix = f'<a href="/cases/{stem}/raw">Fix it in the JSON editor</a>'
            return page(error_page("This case fails its schema", str(exc), footer=footer, links=fix), 400)
        return back(f"/s/{sid}")

    def show(sid: str, *, query: str | None = None, message: str = "", status: int = 200):
        try:
            session = store.session(sid)
        except LookupError:
            return not_found(f"There is no session {sid!r}. Sessions are listed on the home page.")
        return page(session_page(session_view(session, kb, query=query), footer=footer, message=message), status)

    @app.get("/s/{sid}", response_class=HTMLResponse)
    async def session_get(sid: str, q: str | None = None):
        return await run_in_threadpool(lambda: show(sid, query=q))

    def act(sid: str, what: str, value: str):
        try:
            session = store.session(sid)
        except LookupError:
            return not_found(f"There is no session {sid!r}. Sessions are listed on the home page.")
        with store.lock:
            if session.ended and what != "end":
                return show(sid, message="This session has ended: its transcript is final. Read the report, or "
                                         "start a new session from the home page.", status=409)
            if what == "end" and session.ended:
                return back(f"/s/{sid}/report")
            try:
                if what == "ask":
                    if not value.strip():
                        return show(sid, message="Type a question for the patient first.", status=400)
                    session.ask(value)
                elif what == "exam":
                    session.examine(value)
                elif what == "order":
                    session.order(value)
                elif what == "ddx":
                    session.set_differential(_ddx_items(value))
                elif what == "act":
                    session.act(value)
                elif what == "end":
                    session.end()
            except HygeiaError as exc:
                return show(sid, message=str(exc), status=400)
            store.save(session)
            if what == "end":
                store.finish(session)
                return back(f"/s/{sid}/report")
        return back(f"/s/{sid}#{'results' if what == 'order' else 'transcript'}")

    async def _post(request: Request, sid: str, what: str, field: str):
        form = await request.form()
        value = str(form.get(field, ""))
        if what == "ddx" and form.get("add"):  # one disease added from the search hits
            try:
                current = list(store.session(sid).differential)
            except LookupError:
                return not_found(f"There is no session {sid!r}.")
            value = "\n".join([*current, str(form["add"])])
        return await run_in_threadpool(act, sid, what, value)

    @app.post("/s/{sid}/ask")
    async def ask(request: Request, sid: str):
        return await _post(request, sid, "ask", "question")

    @app.post("/s/{sid}/exam")
    async def exam(request: Request, sid: str):
        return await _post(request, sid, "exam", "system")

    @app.post("/s/{sid}/order")
    async def order(request: Request, sid: str):
        return await _post(request, sid, "order", "test")

    @app.post("/s/{sid}/ddx")
    async def ddx(request: Request, sid: str):
        return await _post(request, sid, "ddx", "ddx")

    @app.post("/s/{sid}/act")
    async def action(request: Request, sid: str):
        return await _post(request, sid, "act", "action")

    @app.post("/s/{sid}/end")
    async def end(request: Request, sid: str):
        return await _post(request, sid, "end", "")

    @app.get("/s/{sid}/image/{key:path}")
    async def image(sid: str, key: str):
        try:
            session = await run_in_threadpool(store.session, sid)
        except LookupError:
            return not_found(f"There is no session {sid!r}.")
        test = next((t for t in session.case.tests if t.key == key and t.image), None)
        if test is None or key not in session.ordered:
            return not_found(f"Session {sid} has no ordered imaging test {key!r}.")
        path = await run_in_threadpool(store.image, sid, key)
        return FileResponse(path, media_type="image/png")

    @app.get("/s/{sid}/report", response_class=HTMLResponse)
    async def report(sid: str):
        return await run_in_threadpool(_report, sid)

    def _report(sid: str):
        try:
            session = store.session(sid)
        except LookupError:
            return not_found(f"There is no session {sid!r}. Sessions are listed on the home page.")
        if not session.ended:
            return show(sid, message="The report is written when the session ends: press End session first.",
                        status=409)
        path = store.folder(sid) / "report.html"
        with store.lock:
            if not path.is_file():
                store.finish(session)
        return page(_with_footer(path.read_text(encoding="utf-8"), footer))

    # -- instructor --------------------------------------------------------------------------------------------
    @app.get("/instructor", response_class=HTMLResponse)
    async def instructor():
        return page(instructor_page(await run_in_threadpool(store.summaries), footer=footer))

    # -- case editor -------------------------------------------------------------------------------------------
    def _case_data(stem: str) -> tuple[str, Any]:
        text = store.case_path(stem).read_text(encoding="utf-8", errors="replace")
        try:
            return text, json.loads(text)
        except ValueError:
            return text, None

    @app.get("/cases/{stem}/edit", response_class=HTMLResponse)
    async def edit_get(stem: str):
        try:
            _, data = _case_data(stem)
        except LookupError:
            return not_found(f"There is no case {stem!r}.")
        if not isinstance(data, dict):
            return back(f"/cases/{stem}/raw")
        return page(case_edit_page(stem, data, footer=footer))

    @app.post("/cases/{stem}/edit", response_class=HTMLResponse)
    async def edit_post(request: Request, stem: str):
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            _, data = _case_data(stem)
        except LookupError:
            return not_found(f"There is no case {stem!r}.")
        if not isinstance(data, dict):
            return back(f"/cases/{stem}/raw")
        new = form.get("new_hpo", "").strip()
        names = {new: kb.terms[kb.alt_ids.get(new, new)].name} if kb.alt_ids.get(new, new) in kb.terms else {}
        edited = form_to_case_data(data, form, names=names)
        problems = await run_in_threadpool(_save_case, stem, edited)
        return page(case_edit_page(stem, edited, footer=footer, problems=problems, saved=not problems),
                    422 if problems else 200)

    @app.get("/cases/{stem}/raw", response_class=HTMLResponse)
    async def raw_get(stem: str):
        try:
            text, data = _case_data(stem)
        except LookupError:
            return not_found(f"There is no case {stem!r}.")
        return page(case_raw_page(stem, pretty(data) if data is not None else text, data, footer=footer))

    @app.post("/cases/{stem}/raw", response_class=HTMLResponse)
    async def raw_post(request: Request, stem: str):
        text = str((await request.form()).get("json", ""))
        try:
            store.case_path(stem)
        except LookupError:
            return not_found(f"There is no case {stem!r}.")
        try:
            data = json.loads(text)
        except ValueError as exc:
            return page(case_raw_page(stem, text, None, footer=footer,
                                      problems=[f"not JSON: {exc}. Fix the text; nothing was saved."]), 422)
        problems = await run_in_threadpool(_save_case, stem, data)
        return page(case_raw_page(stem, text if problems else pretty(data), data, footer=footer, problems=problems,
                                  saved=not problems), 422 if problems else 200)

    def _save_case(stem: str, data: Any) -> list[str]:
        """Validate case data and save it over case ``stem``; the problems (nothing saved when any)."""
        from hygeia.tutor._case_io import validate_case, write_case

        if not isinstance(data, dict):
            return [f"the case must be a JSON object, not {type(data).__name__}"]
        problems = [str(p) for p in validate_case(data, kb)]
        if not problems:
            write_case(Case.from_dict(data), store.case_path(stem))
        return problems

    return app


def _with_footer(html: str, footer: str) -> str:
    """A report page with a way back and the HPO footer, where it lacks them."""
    nav = ('<nav aria-label="tutor" style="font:14px system-ui,sans-serif;padding:.5rem 1rem;background:#0f6c7a">'
           '<a href="/" style="color:#fff;margin-right:1rem">Cases &amp; sessions</a>'
           '<a href="/instructor" style="color:#fff">Instructor</a></nav>')
    foot = f'<footer style="font:12px system-ui,sans-serif;color:#5b6776;padding:1rem">{footer}</footer>'
    if "<body" in html:
        i = html.index(">", html.index("<body")) + 1
        html = html[:i] + nav + html[i:]
    else:
        html = nav + html
    if 'id="attribution"' in html or "Human Phenotype Ontology (version" in html:  # the report shows it already
        return html
    return html.replace("</body>", foot + "</body>") if "</body>" in html else html + foot


def serve(cases_dir: str | Path, sessions_dir: str | Path, *, host: str = "127.0.0.1", port: int = 8765,
          kb: Knowledge | None = None) -> None:
    """Serve the tutor's pages with uvicorn until interrupted (Ctrl-C).

    Args:
        cases_dir: folder of case files; sessions_dir: folder of sessions (both made if missing).
        host: interface to listen on (the default serves this machine only).
        port: TCP port.

    Raises:
        MissingExtraError: uvicorn (the ``tutor`` extra) is not installed.
    """
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("uvicorn", "tutor", "Serving the tutor's web pages") from None
    uvicorn.run(create_app(cases_dir, sessions_dir, kb=kb), host=host, port=int(port), log_level="info")
