"""The page shell of ``hygeia serve``: one stylesheet, the header and navigation, and small HTML helpers.

Every page is plain server-rendered HTML: inline CSS, inline SVG charts, no external fonts,
scripts or stylesheets, so the pages work offline and behind any proxy. Everything a user
typed or a file held goes through :func:`e` (HTML escaping) before it reaches a page.

Example:
    >>> html = shell("Runs", "<p>hello</p>", user="ana")
    >>> html.startswith("<!doctype html>") and "<title>Runs · Hygeia</title>" in html
    True
    >>> e('<script>alert("x")</script>')
    '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["CSS", "bar", "e", "fmt_int", "pill", "pyramid_svg", "qs", "shell", "status_pill", "table", "u"]

CSS = """
:root{--ink:#1d2733;--muted:#5b6776;--line:#d8dee6;--bg:#f4f6f9;--card:#fff;--accent:#0f6c7a;--accent2:#e8f3f5;
--warn:#b3261e;--warnbg:#fdecea;--ok:#1e7b34;--okbg:#e7f5ea;--run:#8a5a00;--runbg:#fff4dc;--f:#c2477a;--m:#2f6db5}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:var(--bg)}
a{color:var(--accent)}
header.top{background:var(--accent);color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;align-items:center;
flex-wrap:wrap}
header.top a{color:#fff;text-decoration:none;font-weight:600}
header.top a[aria-current=page]{text-decoration:underline;text-underline-offset:4px}
header.top .brand{font-size:1.15rem;letter-spacing:.02em}
header.top nav{display:flex;gap:1rem;flex-wrap:wrap}
header.top .who{margin-left:auto;display:flex;gap:.6rem;align-items:center;color:#cfe7eb;font-size:.9rem}
header.top .who button{background:transparent;border-color:#cfe7eb;color:#fff;padding:.15rem .6rem}
main{max-width:1280px;margin:0 auto;padding:1rem 1.2rem 2rem}
h1{font-size:1.45rem;margin:.4rem 0 .8rem}h2{font-size:1.1rem;margin:0 0 .6rem}h3{font-size:.98rem;margin:.8rem 0 .4rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.9rem 1rem;margin-bottom:1rem;
min-width:0}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem;align-items:start}
.grid3{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:1rem;align-items:start}
@media (max-width:900px){.grid2,.grid3{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);
vertical-align:top}th{font-size:.82rem;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
label{font-weight:600;font-size:.9rem;display:block;margin:.3rem 0 .15rem}
input[type=text],input[type=number],input[type=search],input[type=password],select,textarea{font:inherit;
padding:.38rem .5rem;border:1px solid #b7c1cc;border-radius:6px;background:#fff;color:var(--ink);max-width:100%}
input:focus,select:focus,textarea:focus,button:focus,a:focus{outline:2px solid #f0a500;outline-offset:1px}
textarea{width:100%;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
button,.button{font:inherit;font-size:.9rem;padding:.38rem .8rem;border-radius:6px;border:1px solid var(--accent);
background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--warn);border-color:var(--warn)}
.row{display:flex;gap:.6rem;align-items:flex-end;flex-wrap:wrap}.row>div{flex:0 1 auto}
.muted{color:var(--muted)}.small{font-size:.85rem}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.8rem;font-weight:600;
background:var(--accent2);color:var(--accent)}
.pill.ok{background:var(--okbg);color:var(--ok)}.pill.bad{background:var(--warnbg);color:var(--warn)}
.pill.run{background:var(--runbg);color:var(--run)}
.error{background:var(--warnbg);border:1px solid #f3b7b2;color:var(--warn);border-radius:8px;padding:.6rem .9rem;
margin-bottom:1rem}
.note{background:var(--accent2);border:1px solid #bcdfe5;border-radius:8px;padding:.6rem .9rem;margin-bottom:1rem}
.bar{height:14px;background:#e3e8ee;border-radius:7px;overflow:hidden}
.bar>span{display:block;height:100%;background:var(--accent)}
.stats{display:flex;gap:1rem;flex-wrap:wrap;margin:0;padding:0;list-style:none}
.stats li{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.5rem .9rem;min-width:8rem}
.stats b{display:block;font-size:1.35rem;font-variant-numeric:tabular-nums}
pre.log{background:#0f1720;color:#d6e2ee;padding:.7rem;border-radius:6px;max-height:22rem;overflow:auto;
font-size:.8rem;white-space:pre-wrap;word-break:break-word;margin:0}
pre.note-text{white-space:pre-wrap;font-size:.85rem;background:#fbfcfd;border:1px solid var(--line);
border-radius:6px;padding:.6rem;margin:.3rem 0 .8rem;max-height:28rem;overflow:auto}
.scroll{max-height:36rem;overflow:auto}
.kind{font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
.imgs{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:.8rem}
figure{margin:0}figure img{width:100%;height:auto;background:#000;border-radius:4px}
#timeline td:first-child{white-space:nowrap}#timeline td:nth-child(3){max-width:14rem}
figcaption{font-size:.85rem;color:var(--muted)}
.mols{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:.8rem}
.mol{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.4rem;text-align:center}
.mol svg{max-width:100%;height:auto}.mol code{font-size:.72rem;word-break:break-all;display:block}
.pager{display:flex;gap:.8rem;align-items:center;margin-top:.6rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
"""

_NAV = (("/", "Dashboard"), ("/runs", "Runs"), ("/jobs", "Jobs"), ("/reports", "Reports"),
        ("/molecules", "Molecules"), ("/tutor/", "Tutor"))


def e(value: Any) -> str:
    """``value`` as text, HTML-escaped (quotes too, so it is safe inside attributes).

    Example:
        >>> e("a & b"), e(None)
        ('a &amp; b', '')
    """
    return "" if value is None else html.escape(str(value), quote=True)


def u(part: Any) -> str:
    """One URL path segment, percent-encoded (``/`` too).

    Example:
        >>> u("my run/1")
        'my%20run%2F1'
    """
    return quote(str(part), safe="")


def qs(**params: Any) -> str:
    """A query string of the parameters that are not None (``''`` when none).

    Example:
        >>> qs(q="a b", page=2, kind=None)
        '?q=a+b&page=2'
    """
    kept = {k: v for k, v in params.items() if v is not None and v != ""}
    return "?" + urlencode(kept) if kept else ""


def fmt_int(n: Any) -> str:
    """An integer with thousands separators (``'—'`` for None).

    Example:
        >>> fmt_int(12345), fmt_int(None)
        ('12,345', '—')
    """
    return "—" if n is None else f"{int(n):,}"


def pill(text: str, tone: str = "") -> str:
    """A small rounded label; ``tone`` is ``''``, ``'ok'``, ``'bad'`` or ``'run'``."""
    return f'<span class="pill {e(tone)}">{e(text)}</span>'


def status_pill(status: str) -> str:
    """A job status as a coloured label.

    Example:
        >>> status_pill("failed")
        '<span class="pill bad">failed</span>'
    """
    tone = {"succeeded": "ok", "failed": "bad", "cancelled": "bad", "running": "run", "queued": "run"}.get(status, "")
    return pill(status, tone)


def bar(fraction: float | None, label: str) -> str:
    """A progress bar (an indeterminate one at 0 when ``fraction`` is None), labelled for screen readers."""
    pct = 0.0 if fraction is None else max(0.0, min(1.0, float(fraction))) * 100
    return (f'<div class="bar" role="progressbar" aria-label="{e(label)}" aria-valuemin="0" aria-valuemax="100" '
            f'aria-valuenow="{pct:.0f}"><span style="width:{pct:.1f}%"></span></div>')


def shell(title: str, body: str, *, user: str | None = None, active: str = "", script: str = "",
          status: str = "") -> str:
    """A whole page: the header with navigation and the signed-in user, ``body`` inside ``<main>``.

    Args:
        title: the page's title (escaped here).
        body: the page's HTML (already escaped by its builder).
        user: the signed-in token's name (None on the login page: no navigation).
        active: the navigation link marked as the current page (e.g. ``'/runs'``).
        script: inline JavaScript run at the end of the page.
        status: a line under the header (e.g. a notice after an action), escaped here.
    """
    nav = ""
    if user is not None:
        links = "".join(f'<a href="{href}"' + (' aria-current="page"' if href == active else "") + f">{e(name)}</a>"
                        for href, name in _NAV)
        nav = (f'<nav aria-label="main">{links}</nav><div class="who"><span>signed in as <b>{e(user)}</b></span>'
               f'<form method="post" action="/logout"><button type="submit" id="logout">Sign out</button></form></div>')
    notice = f'<div class="note" role="status">{e(status)}</div>' if status else ""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)} · Hygeia</title><style>{CSS}</style></head><body>"
            f'<header class="top"><a class="brand" href="/">Hygeia</a>{nav}</header>'
            f"<main>{notice}{body}</main>" + (f"<script>{script}</script>" if script else "") + "</body></html>")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = (), caption: str = "",
          empty: str = "Nothing yet.", id: str = "") -> str:
    """An HTML table; cells are already HTML (escape them with :func:`e`); ``numeric`` columns align right."""
    rows = list(rows)
    attr = f' id="{e(id)}"' if id else ""
    if not rows:
        return f'<p class="muted"{attr}>{e(empty)}</p>'
    num = set(numeric)
    head = "".join(f'<th scope="col"{" class=num" if i in num else ""}>{e(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in num else ""}>{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    cap = f'<caption class="sr">{e(caption)}</caption>' if caption else ""
    return f"<table{attr}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def pyramid_svg(bands: Sequence[str], female: Sequence[int], male: Sequence[int], *, width: int = 560) -> str:
    """A population pyramid: one row per age band (youngest at the bottom), women left, men right.

    Example:
        >>> svg = pyramid_svg(["0-9", "10-19"], [3, 1], [2, 4])
        >>> svg.startswith("<svg") and svg.count("<rect") == 4 and "10-19" in svg
        True
    """
    row, gap, label_w, top = 18, 3, 56, 22
    height = top + len(bands) * (row + gap) + 24
    half = (width - label_w) / 2
    most = max([*female, *male, 1])
    mid_l, mid_r = half, half + label_w
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
              f'aria-labelledby="pyr-title"><title id="pyr-title">Population pyramid: persons by age band and sex '
              f"(women left, men right)</title>"),
             (f'<text x="{mid_l - 4}" y="14" text-anchor="end" font-size="12" fill="#c2477a" font-weight="600">'
              f"Women ({sum(female):,})</text>"),
             f'<text x="{mid_r + 4}" y="14" font-size="12" fill="#2f6db5" font-weight="600">Men ({sum(male):,})</text>']
    for i, band in enumerate(reversed(list(bands))):
        k = len(bands) - 1 - i
        y = top + i * (row + gap)
        wf, wm = female[k] / most * (half - 30), male[k] / most * (half - 30)
        parts.append(f'<rect x="{mid_l - wf:.1f}" y="{y}" width="{wf:.1f}" height="{row}" fill="#c2477a" rx="2">'
                     + f"<title>{e(band)}: {female[k]} women</title></rect>")
        parts.append(f'<rect x="{mid_r:.1f}" y="{y}" width="{wm:.1f}" height="{row}" fill="#2f6db5" rx="2">'
                     + f"<title>{e(band)}: {male[k]} men</title></rect>")
        parts.append(f'<text x="{(mid_l + mid_r) / 2}" y="{y + row - 5}" text-anchor="middle" font-size="11" '
                     f'fill="#1d2733">{e(band)}</text>')
        if female[k]:
            parts.append(f'<text x="{mid_l - wf - 4:.1f}" y="{y + row - 5}" text-anchor="end" font-size="10" '
                         f'fill="#5b6776">{female[k]}</text>')
        if male[k]:
            parts.append(f'<text x="{mid_r + wm + 4:.1f}" y="{y + row - 5}" font-size="10" fill="#5b6776">'
                         f"{male[k]}</text>")
    parts.append(f'<text x="{(mid_l + mid_r) / 2}" y="{height - 6}" text-anchor="middle" font-size="11" '
                 f'fill="#5b6776">age (years)</text></svg>')
    return "".join(parts)
