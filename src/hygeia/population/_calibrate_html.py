"""The calibration page: ``calibration.html`` (private; see :mod:`hygeia.population.calibrate`).

One self-contained HTML file, no JavaScript: a summary, three kinds of inline SVG
plot (the pyramid of the living against the pack's, deaths by age against the life
table's expectation, each prevalence by age band against its targets with the
tolerance band and the 95% interval) and the table of every target with its source.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from hygeia.evaluate._svg import nice_ticks, tick_label

__all__ = ["render_html"]

SIM, TARGET, BAND = "#d95f02", "#1b6ca8", "#cfe3f3"
_FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="11"'
_STATUS_CLASS = {"pass": "pass", "within noise": "noise", "fail": "fail", "no data": "nodata"}


def _fmt(v: Any, unit: str = "proportion") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if unit == "proportion":
        return f"{100 * v:.1f}%"
    if unit == "count":
        return f"{v:.1f}" if v != int(v) else f"{int(v)}"
    return f"{v:.3g}"


def _svg(width: int, height: int, title: str, body: list[str], plot_id: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="{plot_id}" class="plot" role="img" '
            f'aria-label="{escape(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {_FONT}>'
            f'<rect width="{width}" height="{height}" fill="#fff"/>'
            f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{escape(title)}</text>'
            + "".join(body) + "</svg>")


def _legend(x: float, y: float) -> list[str]:
    return [f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{SIM}"/>',
            f'<text x="{x + 14}" y="{y}">simulated</text>',
            f'<rect x="{x + 90}" y="{y - 9}" width="10" height="10" fill="none" stroke="{TARGET}" stroke-width="2"/>',
            f'<text x="{x + 104}" y="{y}">target</text>']


def _y_axis(body: list[str], left: float, right: float, bottom: float, span: float, peak: float,
            scale: float = 1.0, suffix: str = "") -> float:
    """Round ticks (in display units: the value times ``scale``) from 0 to at least ``peak``; returns the axis top."""
    ticks = nice_ticks(0.0, peak * scale, 4)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else None
    if step and ticks[-1] < peak * scale - step * 1e-9:
        ticks.append(ticks[-1] + step)
    top = max(ticks[-1] / scale, peak) if ticks else peak
    for v in ticks:
        y = bottom - span * (v / scale) / top
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick_label(v, step)}{suffix}</text>')
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>')
    return top


def pyramid_svg(bands: Sequence[Mapping[str, Any]]) -> str:
    """Horizontal bars by 5-year band: men left, women right; target as an outline."""
    labels = sorted({(b["age_lo"], b["age_hi"]) for b in bands})
    width, row, top, mid = 640, 16, 40, 320
    height = top + row * len(labels) + 40
    peak = max([b["target"] for b in bands] + [b["simulated"] or 0 for b in bands] + [1e-9])
    scale = (mid - 60) / peak
    body = _legend(20, height - 12)
    for i, (lo, hi) in enumerate(reversed(labels)):
        y = top + i * row
        body.append(f'<text x="{mid}" y="{y + 11}" text-anchor="middle">{lo:g}{"+" if hi is None else f"-{hi - 1:g}"}</text>')
        for b in bands:
            if (b["age_lo"], b["age_hi"]) != (lo, hi):
                continue
            sim, tgt = (b["simulated"] or 0) * scale, b["target"] * scale
            if b["sex"] == "M":
                body.append(f'<rect x="{mid - 25 - sim:.1f}" y="{y + 2}" width="{sim:.1f}" height="{row - 4}" fill="{SIM}"/>')
                body.append(f'<rect x="{mid - 25 - tgt:.1f}" y="{y + 1}" width="{tgt:.1f}" height="{row - 2}" '
                            f'fill="none" stroke="{TARGET}" stroke-width="1.5"/>')
            else:
                body.append(f'<rect x="{mid + 25}" y="{y + 2}" width="{sim:.1f}" height="{row - 4}" fill="{SIM}"/>')
                body.append(f'<rect x="{mid + 25}" y="{y + 1}" width="{tgt:.1f}" height="{row - 2}" '
                            f'fill="none" stroke="{TARGET}" stroke-width="1.5"/>')
    body.append(f'<text x="{mid - 140}" y="34" text-anchor="middle">men</text>')
    body.append(f'<text x="{mid + 140}" y="34" text-anchor="middle">women</text>')
    return _svg(width, height, "Population on the end date: share by age and sex", body, "plot-pyramid")


def deaths_svg(series: Sequence[Mapping[str, Any]], title: str, plot_id: str) -> str:
    """Grouped vertical bars by age band: observed deaths against the life table's expectation."""
    width, height, left, bottom = 640, 300, 50, 250
    peak = max([s["observed"] for s in series] + [s["expected"] for s in series] + [1e-9])
    step = (width - left - 20) / max(len(series), 1)
    body = _legend(left, height - 12)
    peak = _y_axis(body, left, width - 10, bottom, 200, peak)
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#333"/>')
    for i, s in enumerate(series):
        x = left + i * step
        ho, he = 200 * s["observed"] / peak, 200 * s["expected"] / peak
        body.append(f'<rect x="{x + step * 0.15:.1f}" y="{bottom - ho:.1f}" width="{step * 0.35:.1f}" height="{ho:.1f}" fill="{SIM}"/>')
        body.append(f'<rect x="{x + step * 0.5:.1f}" y="{bottom - he:.1f}" width="{step * 0.35:.1f}" height="{he:.1f}" '
                    f'fill="none" stroke="{TARGET}" stroke-width="2"/>')
        label = f'{s["age_lo"]:g}+' if s["age_hi"] is None else f'{s["age_lo"]:g}-{s["age_hi"] - 1:g}'
        body.append(f'<text x="{x + step / 2:.1f}" y="{bottom + 14}" text-anchor="middle">{label}</text>')
    return _svg(width, height, title, body, plot_id)


def measure_svg(rows: Sequence[Mapping[str, Any]], plot_id: str) -> str:
    """One measure: per target row, the tolerance band (shaded), the target (line) and the simulated value with its 95% interval."""
    width, height, left, bottom = 640, 260, 50, 200
    unit = rows[0]["unit"]
    scale_f = 100 if unit == "proportion" else 1
    peak = max([r["target"] * (1 + r["tolerance"]) for r in rows]
               + [r["ci_high"] or 0 for r in rows] + [r["simulated"] or 0 for r in rows] + [1e-9]) * 1.05
    step = (width - left - 20) / max(len(rows), 1)

    body = _legend(left, height - 12)
    peak = _y_axis(body, left, width - 10, bottom, 170, peak, scale_f, "%" if unit == "proportion" else "")
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#333"/>')

    def y(v: float) -> float:
        return bottom - 170 * v / peak
    for i, r in enumerate(rows):
        x0, xc = left + i * step, left + (i + 0.5) * step
        lo_t, hi_t = r["target"] * (1 - r["tolerance"]), r["target"] * (1 + r["tolerance"])
        body.append(f'<rect x="{x0 + step * 0.1:.1f}" y="{y(hi_t):.1f}" width="{step * 0.8:.1f}" '
                    f'height="{y(lo_t) - y(hi_t):.1f}" fill="{BAND}"/>')
        body.append(f'<line x1="{x0 + step * 0.1:.1f}" y1="{y(r["target"]):.1f}" x2="{x0 + step * 0.9:.1f}" '
                    f'y2="{y(r["target"]):.1f}" stroke="{TARGET}" stroke-width="2"/>')
        if r["simulated"] is not None:
            if r["ci_low"] is not None and r["ci_high"] is not None:
                body.append(f'<line x1="{xc:.1f}" y1="{y(r["ci_low"]):.1f}" x2="{xc:.1f}" y2="{y(r["ci_high"]):.1f}" '
                            f'stroke="{SIM}" stroke-width="2"/>')
            body.append(f'<circle cx="{xc:.1f}" cy="{y(r["simulated"]):.1f}" r="4" fill="{SIM}"/>')
        sex = {"*": "", "M": " men", "F": " women"}[r["sex"]]
        body.append(f'<text x="{xc:.1f}" y="{bottom + 14}" text-anchor="middle">{escape(r["age_band"] + sex)}</text>')
    return _svg(width, height, rows[0]["label"], body, plot_id)


def _table(rows: Sequence[Mapping[str, Any]], table_id: str) -> str:
    head = ("<tr><th>Measure</th><th>Age</th><th>Sex</th><th>Target</th><th>Simulated</th><th>95% interval</th>"
            "<th>Relative error</th><th>Tolerance</th><th>n</th><th>Status</th><th>Source</th></tr>")
    body = []
    for r in rows:
        unit = r["unit"]
        rel = "-" if r["relative_error"] is None else f'{100 * r["relative_error"]:+.1f}%'
        ci = f'{_fmt(r["ci_low"], unit)} - {_fmt(r["ci_high"], unit)}'
        src = escape(r.get("source") or "")
        body.append(
            f'<tr class="{_STATUS_CLASS[r["status"]]}"><td title="{escape(r.get("measured_as") or "")}">'
            f'{escape(r["label"])}</td><td>{escape(r["age_band"])}</td><td>{escape(r["sex"])}</td>'
            f'<td>{_fmt(r["target"], unit)}</td><td>{_fmt(r["simulated"], unit)}</td><td>{ci}</td><td>{rel}</td>'
            f'<td>&plusmn;{100 * r["tolerance"]:.0f}%</td><td>{int(r["denominator"])}</td>'
            f'<td class="status">{escape(r["status"])}</td><td class="src" title="{src}">'
            f'{escape(r.get("definition") or "")[:90]}</td></tr>')
    return f'<table id="{table_id}">{head}{"".join(body)}</table>'


_CSS = """
body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
tr.pass td.status{background:#dff0d8}tr.noise td.status{background:#fcf8e3}tr.fail td.status{background:#f2dede}
tr.nodata td.status{background:#eee}td.src{max-width:320px;color:#555}
.summary span{display:inline-block;margin-right:16px;font-weight:bold}
figure{margin:12px 0}figcaption{font-size:12px;color:#555;max-width:640px}
"""


def render_html(report: Mapping[str, Any]) -> str:
    """The page for a report made by :func:`hygeia.population.calibrate.measure_run`."""
    rows = report["rows"]
    s = report["summary"]
    verdict = "all targets within tolerance or sampling noise" if s["fail"] == 0 else f'{s["fail"]} target(s) fail'
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Calibration: {escape(report['run'])}</title><style>{_CSS}</style></head><body>",
        "<h1>Calibration against national figures</h1>",
        (f"<p>Run <code>{escape(report['run'])}</code>: {report['persons']} persons, {report['alive_at_end']} alive "
         f"on {escape(report['end'])} (locale <code>{escape(report['locale'])}</code>, seed {report['seed']}).</p>"),
        (f'<p class="summary" id="summary"><span>{s["targets"]} targets</span><span>pass {s["pass"]}</span>'
         f'<span>within noise {s["within noise"]}</span><span>fail {s["fail"]}</span>'
         f'<span>no data {s["no data"]}</span> &mdash; {escape(verdict)}</p>'),
        ("<p>Pass: within the tolerance of the target. Within noise: outside it, but the 95% interval "
         "(Wilson for shares, exact Poisson for counts, for rates the wider of exact Poisson and the spread "
         "between persons) still meets the tolerance band. Fail: the whole "
         "interval lies outside the band. Hover a measure for how it is read from the records, a definition for "
         "its source.</p>"),
        '<section id="population"><h2>Population</h2>',
        (f'<figure>{pyramid_svg(report["plots"]["pyramid"]["bands"])}<figcaption>Share of all persons alive on the '
         "end date, by 5-year band and sex (bars) against the locale's pyramid (outlines).</figcaption></figure>"),
        _table([r for r in rows if r["group"] == "population"], "table-population"), "</section>",
        '<section id="mortality"><h2>Deaths</h2>',
    ]
    deaths = report["plots"]["deaths"]
    parts.append(f'<figure>{deaths_svg(deaths["final_year"]["bands"], "Deaths in the final year by age", "plot-deaths")}'
                 "<figcaption>Deaths in the year before the end date (bars) against those the life table expects "
                 "for the person-time lived in it (outlines).</figcaption></figure>")
    window = deaths.get("window")
    if window and window["years"] > 1:
        title = "Deaths in the last {:g} years by age".format(window["years"])
        parts.append(f'<figure>{deaths_svg(window["bands"], title, "plot-deaths-window")}</figure>')
    parts.append(_table([r for r in rows if r["group"] == "mortality"], "table-mortality"))
    by_module = report.get("deaths_final_year_by_module") or {}
    if by_module:
        parts.append("<p>Deaths in the final year by the module that caused them: "
                     + ", ".join(f"{escape(k)} {v}" for k, v in by_module.items()) + ".</p>")
    parts.append("</section><section id=\"prevalence\"><h2>Prevalence and utilisation</h2>")
    measures: dict[str, list] = {}
    for r in rows:
        if r["group"] in ("prevalence", "utilisation"):
            measures.setdefault(r["measure"], []).append(r)
    for m, mrows in measures.items():
        parts.append(f'<figure>{measure_svg(mrows, f"plot-{m}")}<figcaption>{escape(mrows[0]["measured_as"] or "")}'
                     "</figcaption></figure>")
    parts.append(_table([r for r in rows if r["group"] in ("prevalence", "utilisation")], "table-prevalence"))
    parts.append("</section><section id=\"sources\"><h2>Sources</h2><ul>")
    for src in sorted({r["source"] for r in rows if r.get("source")}):
        parts.append(f"<li>{escape(src)}</li>")
    parts.append("</ul></section></body></html>")
    return "".join(parts)
