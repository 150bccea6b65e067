"""The tutor's web pages as plain HTML: the shared layout, the home page, the instructor view, errors.

Every page is self-contained (its CSS inline, no script beyond a line that scrolls the
transcript), built from the data the app hands over, every value escaped. The footer of
every page shows the HPO release and the attribution its licence asks for. The session page
is in ``_pages_session.py``, the case editor in ``_pages_case.py``.

Example:
    >>> html = layout("Hi", "<p>x</p>", footer="HPO 2025-01-16")
    >>> html.startswith("<!doctype html>") and "HPO 2025-01-16" in html
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

__all__ = ["CSS", "e", "error_page", "fmt_cost", "fmt_minutes", "fmt_short", "home_page", "instructor_page", "layout",
           "search_page"]

CSS = """
:root{--ink:#1d2733;--muted:#5b6776;--line:#d8dee6;--bg:#f4f6f9;--card:#fff;--accent:#0f6c7a;--accent2:#e8f3f5;
--warn:#b3261e;--warnbg:#fdecea;--ok:#1e7b34;--okbg:#e7f5ea;--me:#dbeafe}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:var(--bg)}
header.top{background:var(--accent);color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;align-items:center}
header.top a{color:#fff;text-decoration:none;font-weight:600}
header.top .brand{font-size:1.15rem;letter-spacing:.02em}
header.top nav{display:flex;gap:1rem;margin-left:auto}
main{max-width:1280px;margin:0 auto;padding:1rem 1.2rem 2rem}
h1{font-size:1.45rem;margin:.4rem 0 .8rem}h2{font-size:1.1rem;margin:0 0 .6rem}h3{font-size:.98rem;margin:.8rem 0 .4rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.9rem 1rem;margin-bottom:1rem}
.grid2{display:grid;grid-template-columns:minmax(0,1.35fr) minmax(0,1fr);gap:1rem;align-items:start}
@media (max-width:900px){.grid2{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);
vertical-align:top}th{font-size:.82rem;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
label{font-weight:600;font-size:.9rem;display:block;margin:.3rem 0 .15rem}
label.inline{display:inline;font-weight:normal}
input[type=text],input[type=number],input[type=search],select,textarea{font:inherit;padding:.38rem .5rem;
border:1px solid #b7c1cc;border-radius:6px;background:#fff;color:var(--ink);max-width:100%}
input:focus,select:focus,textarea:focus,button:focus{outline:2px solid #f0a500;outline-offset:1px}
textarea{width:100%;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
button,.button{font:inherit;font-size:.9rem;padding:.38rem .8rem;border-radius:6px;border:1px solid var(--accent);
background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.small{padding:.2rem .55rem;font-size:.82rem}
button.danger{background:var(--warn);border-color:var(--warn)}
button:disabled{opacity:.45;cursor:not-allowed}
.row{display:flex;gap:.5rem;align-items:flex-end;flex-wrap:wrap}.row>div{flex:0 1 auto}
.grow{flex:1 1 auto!important}.grow input{width:100%}
.muted{color:var(--muted)}.small{font-size:.85rem}
.error{background:var(--warnbg);border:1px solid #f3b8b3;color:var(--warn);border-radius:8px;padding:.7rem 1rem;
margin-bottom:1rem}.error ul{margin:.3rem 0 0;padding-left:1.2rem}
.note{background:var(--okbg);border:1px solid #b9dfc2;color:var(--ok);border-radius:8px;padding:.6rem 1rem;margin-bottom:1rem}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.78rem;background:var(--accent2);
color:var(--accent);font-weight:600}.pill.warn{background:var(--warnbg);color:var(--warn)}
.pill.ok{background:var(--okbg);color:var(--ok)}
footer{max-width:1280px;margin:0 auto;padding:.8rem 1.2rem 2rem;color:var(--muted);font-size:.78rem;
border-top:1px solid var(--line)}
ul.plain{list-style:none;padding:0;margin:0}
.transcript{max-height:560px;overflow-y:auto;padding:.3rem;display:flex;flex-direction:column;gap:.45rem}
.msg{max-width:85%;padding:.45rem .7rem;border-radius:12px;border:1px solid var(--line)}
.msg .who{font-size:.72rem;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.msg.me{align-self:flex-end;background:var(--me);border-color:#bcd4f6}
.msg.pt{align-self:flex-start;background:#fff}.msg.sys{align-self:flex-start;background:var(--accent2);
border-color:#c3e0e5}.msg.nomatch{background:#fff8e1;border-color:#f1dc9c}
.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{background:var(--accent2);border-radius:8px;padding:.35rem .7rem}
.kpi b{display:block;font-size:1.15rem}
.exam{display:grid;grid-template-columns:repeat(auto-fill,minmax(128px,1fr));gap:.35rem}
.exam button{width:100%}
.result{border-left:3px solid var(--accent);padding:.2rem .7rem;margin:.5rem 0}
.result.abn{border-left-color:var(--warn)}
.result img{max-width:256px;border-radius:6px;border:1px solid var(--line);display:block;margin:.4rem 0}
.vitals td{padding:.2rem .4rem}
.flag{color:var(--warn);font-weight:700}
.sr{position:absolute;left:-9999px}
.scroll{max-height:480px;overflow-y:auto;border:1px solid var(--line);border-radius:6px}
table.compact td,table.compact th{padding:.22rem .45rem;font-size:.88rem}
table.compact thead th{position:sticky;top:0;background:#fff;z-index:1}
tr.group th{background:var(--accent2);color:var(--accent);font-size:.75rem}
"""


def e(value: Any) -> str:
    """``value`` as escaped HTML text (None as an empty string).

    Example:
        >>> e("<b>&")
        '&lt;b&gt;&amp;'
    """
    return "" if value is None else escape(str(value), quote=True)


def fmt_minutes(minutes: float) -> str:
    """Simulated time as ``'45 min'`` or ``'2 h 05 min'`` (days beyond 48 h).

    Example:
        >>> fmt_minutes(7), fmt_minutes(125), fmt_minutes(60 * 24 * 3)
        ('7 min', '2 h 05 min', '3.0 days')
    """
    m = round(float(minutes))
    if m < 60:
        return f"{m} min"
    if m < 48 * 60:
        return f"{m // 60} h {m % 60:02d} min"
    return f"{m / 1440:.1f} days"


def fmt_short(minutes: float) -> str:
    """A turnaround in few characters: ``'15 min'``, ``'1 h'``, ``'1 h 30'``, ``'3 d'``.

    Example:
        >>> fmt_short(15), fmt_short(60), fmt_short(90), fmt_short(4320)
        ('15 min', '1 h', '1 h 30', '3 d')
    """
    m = round(float(minutes))
    if m < 60:
        return f"{m} min"
    if m < 48 * 60:
        return f"{m // 60} h" + (f" {m % 60:02d}" if m % 60 else "")
    return f"{m / 1440:.0f} d" if m % 1440 == 0 else f"{m / 1440:.1f} d"


def fmt_cost(dollars: float) -> str:
    """A US dollar amount: ``'$1,250'``.

    Example:
        >>> fmt_cost(1250.4)
        '$1,250'
    """
    return f"${float(dollars):,.0f}"


def layout(title: str, body: str, *, footer: str, nav_extra: str = "", script: str = "") -> str:
    """A whole page: header with navigation, ``body`` inside ``<main>``, the attribution footer."""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)} · Hygeia tutor</title><style>{CSS}</style></head><body>"
            f'<header class="top"><a class="brand" href="/">Hygeia tutor</a><span class="muted" '
            f'style="color:#cfe7eb">virtual patients</span><nav aria-label="main">{nav_extra}'
            f'<a href="/">Cases &amp; sessions</a><a href="/instructor">Instructor</a></nav></header>'
            f"<main>{body}</main><footer>{footer}</footer>"
            + (f"<script>{script}</script>" if script else "") + "</body></html>")


def footer_html(version: str, attribution: str) -> str:
    """The footer every page carries: HPO release and the licence's attribution line."""
    return (f'<p id="hpo-version"><b>HPO release {e(version)}</b> · Hygeia tutor: simulated patients for teaching, '
            f"not for clinical use.</p><p id=\"attribution\">{e(attribution)}</p>")


def errors_box(title: str, problems: Sequence[str]) -> str:
    """A red box with a title and one line per problem (empty when there are none)."""
    if not problems:
        return ""
    items = "".join(f"<li>{e(p)}</li>" for p in problems)
    return f'<div class="error" role="alert"><b>{e(title)}</b><ul>{items}</ul></div>'


def error_page(title: str, message: str, *, footer: str, links: str = '<a href="/">Back to the cases</a>') -> str:
    """A page that says what went wrong (404s, bad input) and where to go next."""
    body = (f"<h1>{e(title)}</h1>" + errors_box(title, [message]) + f"<p>{links}</p>")
    return layout(title, body, footer=footer)


_ACUTE = '<span class="pill warn">acute</span>'


def _case_row(c: dict[str, Any]) -> str:
    return (f"<tr><td style=\"white-space:nowrap\"><b>{e(c['stem'])}</b></td><td>{e(c['who'])}</td><td>“{e(c['complaint'])}”</td>"
            f"<td>{_ACUTE if c['acute'] else ''}</td>"
            f'<td><form method="post" action="/sessions" class="row"><input type="hidden" name="case" '
            f'value="{e(c["stem"])}"><div><label class="sr" for="student-{e(c["stem"])}">Student name</label>'
            f'<input type="text" id="student-{e(c["stem"])}" name="student" placeholder="your name" size="12">'
            f'</div><div><button type="submit" name="start" value="{e(c["stem"])}">Start session</button></div>'
            f'</form></td><td><a href="/cases/{e(c["stem"])}/edit">edit</a></td></tr>')


def home_page(cases: list[dict[str, Any]], bad: list[tuple[str, list[str]]], sessions: list[dict[str, Any]], *,
              footer: str, form: dict[str, str] | None = None, problems: Sequence[str] = (),
              note: str = "") -> str:
    """The home page: the cases (disease hidden), files that fail the schema, a new-case form, the sessions.

    Args:
        cases: one dict per readable case: ``stem`` (its file name and URL key), ``who`` (age and sex),
            ``complaint``, ``acute``.
        bad: (file name, problems) of case files that fail the schema.
        sessions: summaries (see :func:`instructor_page`).
        form: the new-case form's values to show again after an error.
        problems: errors of the last new-case request, shown above the form.
        note: a confirmation line (a case was made).
    """
    form = form or {}
    rows = "".join(_case_row(c) for c in cases) or '<tr><td colspan="6" class="muted">No cases yet: make one below.</td></tr>'
    cases_html = (f'<section class="card" aria-labelledby="h-cases"><h2 id="h-cases">Cases</h2>'
                  f'<table id="cases"><thead><tr><th>Case</th><th>Patient</th><th>Presenting complaint</th><th></th>'
                  f"<th>Play</th><th>Author</th></tr></thead><tbody>{rows}</tbody></table></section>")
    bad_html = ""
    if bad:
        items = "".join(f'<li><b>{e(name)}</b> <a href="/cases/{e(name.removesuffix(".json"))}/raw">fix in the JSON '
                        f'editor</a><ul>{"".join(f"<li>{e(p)}</li>" for p in probs)}</ul></li>' for name, probs in bad)
        bad_html = (f'<section class="card" id="bad-cases" aria-labelledby="h-bad"><h2 id="h-bad">Case files that fail '
                    f'the schema ({len(bad)})</h2><div class="error"><ul>{items}</ul></div></section>')
    new_html = ('<section class="card" aria-labelledby="h-new"><h2 id="h-new">New case</h2>'
                + (f'<div class="note" role="status">{e(note)}</div>' if note else "")
                + errors_box("The case could not be made", problems)
                + f'<form method="post" action="/cases" id="new-case"><div class="row">'
                f'<div class="grow"><label for="disease">Disease: an id (ORPHA:558, OMIM:154700, HYGEIA:sepsis) or '
                f'words of its name</label><input type="text" id="disease" name="disease" required '
                f'value="{e(form.get("disease", ""))}" placeholder="ORPHA:558 or marfan"></div>'
                f'<div><label for="seed">Seed</label><input type="number" id="seed" name="seed" min="0" '
                f'value="{e(form.get("seed", ""))}" placeholder="random" size="8"></div>'
                f'<div><label for="noise">Noise</label><input type="number" id="noise" name="noise" min="0" max="1" '
                f'step="0.05" value="{e(form.get("noise", "0"))}"></div>'
                f'<div><label for="vague">Vague</label><input type="number" id="vague" name="vague" min="0" max="1" '
                f'step="0.05" value="{e(form.get("vague", "0"))}"></div>'
                f'<div><button type="submit">Make case</button></div></div>'
                f'<p class="small muted">Noise: the fraction of findings the patient misses, replaced by as many '
                f'unrelated ones. Vague: the fraction reported as a less specific term.</p></form></section>')
    srows = "".join(
        f'<tr><td><a href="/s/{e(s["id"])}">{e(s["id"])}</a></td><td>{e(s.get("student") or "—")}</td>'
        f'<td>{e(s.get("case_stem"))}</td><td class="num">{e(fmt_minutes(s.get("clock", 0)))}</td>'
        f'<td>{_status(s)}</td></tr>' for s in sessions)
    sessions_html = ('<section class="card" aria-labelledby="h-sessions"><h2 id="h-sessions">Sessions</h2>'
                     + (f'<table id="sessions"><thead><tr><th>Session</th><th>Student</th><th>Case</th>'
                        f'<th class="num">Simulated time</th><th>Status</th></tr></thead><tbody>{srows}</tbody></table>'
                        if sessions else '<p class="muted">No sessions yet: start one from a case above.</p>')
                     + "</section>")
    body = ('<h1>Virtual patients</h1><p class="muted">Take a history, examine, order tests, rank a differential and '
            "manage the patient; the report scores each step against an expert path. The diagnosis stays hidden "
            "until the session ends.</p>" + cases_html + bad_html + new_html + sessions_html)
    return layout("Cases", body, footer=footer)


def _status(s: dict[str, Any]) -> str:
    if s.get("ended"):
        return f'<span class="pill ok">ended</span> <a href="/s/{e(s["id"])}/report">report</a>'
    return '<span class="pill">in progress</span>'


def search_page(query: str, hits: Iterable[tuple[str, str, str]], form: dict[str, str], *, footer: str) -> str:
    """Diseases whose name matches the new-case search ((id, name, detail) each), with a button that makes its case."""
    rows = "".join(
        f'<tr><td>{e(did)}</td><td>{e(name)}</td><td class="small muted">{e(detail)}</td><td>'
        f'<form method="post" action="/cases"><input type="hidden" name="disease" value="{e(did)}">'
        f'<input type="hidden" name="seed" value="{e(form.get("seed", ""))}"><input type="hidden" name="noise" '
        f'value="{e(form.get("noise", "0"))}"><input type="hidden" name="vague" value="{e(form.get("vague", "0"))}">'
        f'<button type="submit" class="small">Make a case</button></form></td></tr>' for did, name, detail in hits)
    body = (f'<h1>Diseases matching “{e(query)}”</h1><section class="card">'
            f'<table id="disease-hits"><thead><tr><th>Id</th><th>Name</th><th>Annotations</th><th></th></tr>'
            f'</thead><tbody>{rows}</tbody></table><p><a href="/">Back</a></p></section>')
    return layout(f"Search {query}", body, footer=footer)


def _short(v: Any) -> str:
    return "—" if v is None else f"{float(v):.0f}"


def _part_names(sessions: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for s in sessions:
        for k in (s.get("score") or {}).get("parts", {}):
            if k not in names:
                names.append(k)
    return names


def _score_cells(s: dict[str, Any], parts: list[str]) -> str:
    sc = s.get("score")
    if not sc:
        return f'<td class="num muted" colspan="{len(parts) + 2}">in progress</td>'
    rank = sc.get("rank")
    cells = [f'<td class="num"><b>{e(_short(sc.get("overall")))}</b></td>',
             f'<td class="num">{"not listed" if rank is None else e(rank)}</td>']
    for p in parts:
        v = sc.get("parts", {}).get(p)
        cells.append(f'<td class="num">{"—" if v is None else f"{100 * float(v):.0f}%"}</td>')
    return "".join(cells)


def instructor_page(sessions: list[dict[str, Any]], *, footer: str) -> str:
    """Every session of the class: student, case and its disease, score parts, simulated time, cost, report link.

    Each summary holds ``id``, ``student``, ``case_stem``, ``disease`` (``{id, name}``), ``clock``, ``cost``,
    ``ended``, ``events``, ``started`` (ISO time) and, for ended sessions, ``score``
    (``{overall, rank, parts: {name: value}}``).
    """
    parts = _part_names(sessions)
    rows = "".join(
        f'<tr><td><a href="/s/{e(s["id"])}">{e(s["id"])}</a></td><td>{e(s.get("student") or "—")}</td>'
        f'<td>{e(s.get("case_stem"))}<div class="small muted">{e((s.get("disease") or {}).get("name"))} '
        f'({e((s.get("disease") or {}).get("id"))})</div></td>'
        f'<td class="small">{e(str(s.get("started", "")).replace("T", " ")[:16])}</td>'
        f'<td class="num">{e(s.get("events", 0))}</td><td class="num">{e(fmt_minutes(s.get("clock", 0)))}</td>'
        f'<td class="num">{e(fmt_cost(s.get("cost", 0)))}</td>{_score_cells(s, parts)}'
        f'<td>{_status(s)}</td></tr>' for s in sessions)
    ended = [s for s in sessions if s.get("score")]
    mean = (sum(float(s["score"].get("overall") or 0) for s in ended) / len(ended)) if ended else None
    summary = (f'<div class="kpi"><div>Sessions<b>{len(sessions)}</b></div><div>Ended<b>{len(ended)}</b></div>'
               f'<div>Mean score<b>{"—" if mean is None else f"{mean:.0f}"}</b></div></div>')
    heads = "".join(f'<th class="num">{e(p)}</th>' for p in parts)
    body = (f"<h1>Instructor view</h1><section class=\"card\">{summary}</section>"
            f'<section class="card" style="overflow-x:auto"><table id="class-sessions" class="small"><thead><tr><th>Session</th><th>Student</th>'
            f'<th>Case (diagnosis)</th><th>Started (UTC)</th><th class="num">Steps</th><th class="num">Simulated time'
            f'</th><th class="num">Cost</th><th class="num">Score</th><th class="num">Rank</th>{heads}<th>Status</th>'
            f'</tr></thead><tbody>{rows or "<tr><td colspan=10 class=muted>No sessions yet.</td></tr>"}</tbody>'
            f'</table><p class="small muted">Score: 0-100, the weighted parts of the session report; rank: where the '
            f"student's differential put the true diagnosis; parts: each part's credit.</p></section>")
    return layout("Instructor", body, footer=footer)
