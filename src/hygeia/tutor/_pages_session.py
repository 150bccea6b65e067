"""The session page: the transcript, the question box, exam, tests and results, differential, actions, clock.

:func:`session_page` renders a *view*: plain data the web app builds from a
:class:`~hygeia.tutor._session.Session` and its case (see :func:`hygeia.tutor._web.session_view`),
so the page knows nothing of the engine. Every control is a plain form that POSTs and
redirects back; once the session has ended the controls are disabled and the report is linked.

Example:
    >>> v = {"id": "s1", "student": "Ann", "ended": False, "clock": 4, "cost": 0.0, "acute": False,
    ...      "patient": {"who": "34-year-old woman", "complaint": "I get tired"}, "events": [],
    ...      "exam_systems": [("eyes", "Eyes", False)], "tests": [], "results": [], "differential": [],
    ...      "actions": [], "vitals": None, "state": ""}
    >>> "I get tired" in session_page(v, footer="")
    True
"""

from __future__ import annotations

from typing import Any

from hygeia.tutor._pages import e, errors_box, fmt_cost, fmt_minutes, fmt_short, layout

__all__ = ["session_page"]

_WHO = {"ask": ("You", "me"), "exam": ("Examination", "me"), "order": ("Order", "me"), "ddx": ("Differential", "me"),
        "act": ("Action", "me"), "end": ("You", "me"), "other": ("You", "me")}
_REPLY = {"ask": ("Patient", "pt"), "exam": ("Findings", "sys"), "order": ("Lab / imaging", "sys"),
          "ddx": ("Noted", "sys"), "act": ("Ward", "sys"), "end": ("Session", "sys"), "other": ("", "sys")}


def _transcript(events: list[dict[str, Any]]) -> str:
    if not events:
        return ('<p class="muted" id="empty-transcript">The patient is waiting. Ask your first question below, '
                'e.g. “What brings you in today?”</p>')
    out = []
    for ev in events:
        who, cls = _WHO.get(ev["kind"], _WHO["other"])
        rwho, rcls = _REPLY.get(ev["kind"], _REPLY["other"])
        if ev["kind"] == "ask" and not ev.get("matched", True):
            rcls += " nomatch"
        stamp = f'<span class="muted small"> · {e(fmt_minutes(ev["t"]))}</span>'
        cost = f' <span class="muted small">{e(fmt_cost(ev["cost"]))}</span>' if ev.get("cost") else ""
        out.append(f'<div class="msg {cls}"><div class="who">{e(who)}{stamp}</div>{e(ev["input"])}{cost}</div>')
        if ev.get("reply"):
            out.append(f'<div class="msg {rcls}"><div class="who">{e(rwho)}</div>{e(ev["reply"])}</div>')
    return "".join(out)


def _vitals(v: dict[str, Any]) -> str:
    if not v.get("acute"):
        return ""
    vs = v.get("vitals")
    if not vs:
        return ""
    state = v.get("state") or ""
    pill = "warn" if any(w in str(state).lower() for w in ("worse", "critical", "deteriorat", "shock", "dead")) else "ok"
    rows = [("Heart rate", f'{vs["heart_rate"]:.0f} /min'), ("Blood pressure", f'{vs["systolic"]:.0f}/{vs["diastolic"]:.0f} mmHg'),
            ("Respiratory rate", f'{vs["resp_rate"]:.0f} /min'), ("Temperature", f'{vs["temp_c"]:.1f} °C'),
            ("SpO₂", f'{vs["spo2"]:.0f} %')]
    cells = "".join(f"<tr><th scope=row>{e(k)}</th><td>{e(val)}</td></tr>" for k, val in rows)
    note = f'<p class="small">{e(vs.get("note"))}</p>' if vs.get("note") else ""
    return (f'<section class="card" id="vitals" aria-labelledby="h-vitals"><h2 id="h-vitals">Vital signs '
            f'<span class="pill {pill}">{e(state or "monitoring")}</span></h2>'
            f'<table class="vitals">{cells}</table>{note}</section>')


def _results(v: dict[str, Any]) -> str:
    if not v["results"]:
        return ""
    out = []
    for r in v["results"]:
        values = ""
        if r.get("values"):
            vrows = "".join(
                f'<tr><td>{e(x.get("name"))}</td><td class="num{" flag" if x.get("flag") else ""}">{e(x.get("value"))} '
                f'{e(x.get("unit"))}</td><td class="num small muted">{e(x.get("low"))}–{e(x.get("high"))}</td>'
                f'<td class="flag">{e(x.get("flag") or "")}</td></tr>' for x in r["values"])
            values = (f'<table class="small"><thead><tr><th>Test</th><th class="num">Value</th><th class="num">'
                      f"Reference</th><th></th></tr></thead><tbody>{vrows}</tbody></table>")
        img = (f'<img src="{e(r["image_url"])}" alt="{e(r["name"])}: rendered image of this patient" '
               f'width="256" height="256" loading="lazy">' if r.get("image_url") else "")
        when = (f'reported at {fmt_minutes(r["ready"])}' if r.get("ready") is not None else "")
        out.append(f'<div class="result{" abn" if r.get("abnormal") else ""}" id="result-{e(r["key"])}">'
                   f'<b>{e(r["name"])}</b> <span class="small muted">{e(when)}</span><div>{e(r["text"])}</div>'
                   f"{values}{img}</div>")
    return (f'<section class="card" id="results" aria-labelledby="h-results"><h2 id="h-results">Results</h2>'
            f'{"".join(out)}</section>')


_KINDS = {"lab": "Laboratory", "physiology": "Physiology", "imaging": "Imaging", "genetic": "Genetic"}


def _tests(v: dict[str, Any], dis: str) -> str:
    groups: dict[str, list[dict[str, Any]]] = {}
    for t in v["tests"]:
        groups.setdefault(str(t["kind"]), []).append(t)
    rows = []
    for kind, tests in groups.items():
        rows.append(f'<tr class="group"><th colspan="4" scope="rowgroup">{e(_KINDS.get(kind, kind.capitalize()))}</th></tr>')
        rows.extend(
            f'<tr><td>{e(t["name"])}</td><td class="num">{e(fmt_cost(t["cost"]))}</td>'
            f'<td class="num">{e(fmt_short(t["minutes"]))}</td><td class="num">'
            + ('<span class="pill ok">ordered</span>' if t["ordered"] else
               f'<button type="submit" class="small" name="test" value="{e(t["key"])}"{dis} '
               f'aria-label="Order {e(t["name"])}">Order</button>')
            + "</td></tr>" for t in tests)
    return (f'<section class="card" aria-labelledby="h-tests"><h2 id="h-tests">Tests <span class="small muted" '
            f'style="font-weight:normal">list price · turnaround</span></h2>'
            f'<form method="post" action="/s/{e(v["id"])}/order" id="order-form"><div class="scroll">'
            f'<table id="tests" class="compact"><thead><tr><th>Test</th><th class="num">Cost</th>'
            f'<th class="num">Ready in</th><th></th></tr></thead><tbody>{"".join(rows)}</tbody></table></div></form>'
            f"</section>")


def _differential(v: dict[str, Any], dis: str) -> str:
    sid = e(v["id"])
    current = "\n".join(f"{i} {n}" for i, n in v["differential"])
    ranked = "".join(f"<li><b>{e(n)}</b> <span class=\"small muted\">{e(i)}</span></li>" for i, n in v["differential"])
    ranked_html = (f'<ol id="ddx-list">{ranked}</ol>' if ranked else
                   '<p class="muted small" id="ddx-list">No differential yet.</p>')
    hits = ""
    if v.get("ddx_query") is not None:
        items = "".join(
            f'<li><form method="post" action="/s/{sid}/ddx" class="row"><input type="hidden" name="add" '
            f'value="{e(i)}"><div class="grow">{e(n)} <span class="small muted">{e(i)}</span></div><div>'
            f'<button type="submit" class="small secondary"{dis}>Add</button></div></form></li>'
            for i, n in v.get("ddx_hits", []))
        hits = (f'<ul class="plain" id="ddx-hits">{items}</ul>' if items else
                f'<p class="small muted" id="ddx-hits">No disease name holds “{e(v["ddx_query"])}”.</p>')
    return (f'<section class="card" aria-labelledby="h-ddx"><h2 id="h-ddx">Differential diagnosis</h2>{ranked_html}'
            f'<form method="get" action="/s/{sid}" class="row" id="ddx-search"><div class="grow">'
            f'<label for="ddx-q">Search diseases by name</label><input type="search" id="ddx-q" name="q" '
            f'value="{e(v.get("ddx_query") or "")}" placeholder="e.g. marfan"></div><div><button type="submit" '
            f'class="secondary">Search</button></div></form>{hits}'
            f'<form method="post" action="/s/{sid}/ddx" id="ddx-form"><label for="ddx">Ranked list, most likely first '
            f'(one disease id or name a line)</label><textarea id="ddx" name="ddx" rows="4"{dis}>{e(current)}</textarea>'
            f'<button type="submit"{dis}>Save differential</button></form></section>')


def _actions(v: dict[str, Any], dis: str) -> str:
    items = "".join(
        (f'<li><span class="pill ok">done</span> {e(a["name"])}</li>' if a["done"] else
         f'<li><button type="submit" class="small secondary" name="action" value="{e(a["key"])}"{dis}>'
         f'{e(a["name"])}</button></li>') for a in v["actions"])
    return (f'<section class="card" aria-labelledby="h-actions"><h2 id="h-actions">Management</h2>'
            f'<form method="post" action="/s/{e(v["id"])}/act" id="act-form"><ul class="plain" '
            f'style="display:flex;flex-wrap:wrap;gap:.35rem">{items}</ul></form></section>')


def session_page(v: dict[str, Any], *, footer: str, message: str = "") -> str:
    """The page of one session (see the module docstring); ``message`` is an error to show on top."""
    sid = e(v["id"])
    dis = " disabled" if v["ended"] else ""
    p = v["patient"]
    head = (f'<h1>{e(p["who"])}<span class="muted" style="font-weight:normal"> · session {sid}'
            f'{" · " + e(v["student"]) if v.get("student") else ""}</span></h1>')
    kpi = (f'<div class="kpi" id="clock-cost"><div>Simulated time<b id="clock">{e(fmt_minutes(v["clock"]))}</b></div>'
           f'<div>Cost so far<b id="cost">{e(fmt_cost(v["cost"]))}</b></div><div>Steps<b>{len(v["events"])}</b></div>'
           + (f'<div><a class="button" href="/s/{sid}/report" id="report-link">Open the report</a></div>'
              if v["ended"] else
              f'<div><form method="post" action="/s/{sid}/end" id="end-form"><button type="submit" class="danger" '
              f'id="end">End session</button></form></div>') + "</div>")
    ended = (f'<div class="note" role="status">This session has ended. <a href="/s/{sid}/report">Read the report</a>.'
             f"</div>" if v["ended"] else "")
    chat = (f'<section class="card" aria-labelledby="h-chat"><h2 id="h-chat">Interview</h2>'
            f'<p class="small muted">Presenting complaint: “{e(p["complaint"])}”</p>'
            f'<div class="transcript" id="transcript" aria-live="polite">{_transcript(v["events"])}</div>'
            f'<form method="post" action="/s/{sid}/ask" class="row" id="ask-form" style="margin-top:.6rem">'
            f'<div class="grow"><label for="question">Your question to the patient</label>'
            f'<input type="text" id="question" name="question" required autocomplete="off"{dis}'
            f'{"" if v["ended"] else " autofocus"} placeholder="e.g. Do you have any joint pain?"></div>'
            f'<div><button type="submit" id="ask"{dis}>Ask</button></div></form></section>')
    exam_buttons = "".join(
        f'<button type="submit" name="system" value="{e(k)}" class="{"secondary" if done else ""}"{dis}>'
        f'{e(label)}{" ✓" if done else ""}</button>' for k, label, done in v["exam_systems"])
    exam = (f'<section class="card" aria-labelledby="h-exam"><h2 id="h-exam">Examine</h2>'
            f'<form method="post" action="/s/{sid}/exam" id="exam-form" class="exam">{exam_buttons}</form></section>')
    left = chat + _results(v)
    right = _vitals(v) + exam + _differential(v, dis) + _actions(v, dis) + _tests(v, dis)
    body = (head + errors_box("That did not work", [message] if message else []) + ended
            + f'<section class="card">{kpi}</section><div class="grid2"><div>{left}</div><div>{right}</div></div>')
    script = "var t=document.getElementById('transcript');if(t)t.scrollTop=t.scrollHeight;"
    return layout(f"Session {v['id']}", body, footer=footer, script=script)
