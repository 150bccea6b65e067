"""The twin's ``report.html``: each output's course under every plan, with bands, targets and alerts.

One self-contained page, no JavaScript: a summary sentence per plan, one inline-SVG plot per
output (median line and 90% band per plan, the target range shaded, safety thresholds as
dashed lines), a table of outcomes at the horizon with intervals, the paired differences
between plans, the safety alerts, and how the simulation was made.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np

from hygeia.evaluate._svg import PALETTE, _short, nice_ticks, tick_label
from hygeia.twin._simulator import share

__all__ = ["band_plot", "render_report", "shown_outputs"]

_FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="11"'


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{v:.3g}"
    return escape(str(v))


def band_plot(runs: list, output: str, *, width: int = 680, height: int = 300) -> str:
    """One ``<svg>``: every plan's median and 90% band of ``output`` over time."""
    o = runs[0].output(output)
    left, right, top, bottom = 62, 190, 30, 42
    pw, ph = width - left - right, height - top - bottom
    stride = max(1, -(-len(runs[0].times_h) // 600))  # at most about 600 points a line; the CSV keeps all
    t = runs[0].times_h[::stride]
    bands = [r.quantiles(output, (0.05, 0.5, 0.95))[:, ::stride] for r in runs]
    lo = min(float(b[0].min()) for b in bands)
    hi = max(float(b[2].max()) for b in bands)
    marks = [v for r in runs if output in r.plan.targets for v in r.plan.targets[output]]
    marks += [v for v in (o.safe_low, o.safe_high) if math.isfinite(v)]
    near = [v for v in marks if lo - (hi - lo + 1e-9) <= v <= hi + (hi - lo + 1e-9)]
    lo, hi = min([lo] + near), max([hi] + near)
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    t0, t1 = float(t[0]), float(t[-1]) if t[-1] > t[0] else float(t[0]) + 1.0

    def x(v: float) -> float:
        return left + (v - t0) / (t1 - t0) * pw

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * ph

    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>']
    for r in runs:
        if output in r.plan.targets:
            a, b = r.plan.targets[output]
            a, b = max(a, lo), min(b, hi)
            if b > a:
                body.append(f'<rect x="{left}" y="{y(b):.1f}" width="{pw}" height="{y(a) - y(b):.1f}" '
                            f'fill="#2ca02c" fill-opacity="0.10"><title>target {a:g}-{b:g} {escape(o.unit)}</title></rect>')
            break
    for v, label in ((o.safe_low, o.low_event), (o.safe_high, o.high_event)):
        if math.isfinite(v) and lo <= v <= hi:
            body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#d62728" '
                        f'stroke-dasharray="5,3"/><text x="{left + pw - 4}" y="{y(v) - 3:.1f}" text-anchor="end" '
                        f'fill="#d62728">{escape(label)} ({v:g})</text>')
    for tick in nice_ticks(lo, hi):
        body.append(f'<line x1="{left - 4}" x2="{left}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#333"/>'
                    f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick_label(tick)}</text>')
    for tick in nice_ticks(t0, t1):
        body.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#333"/>'
                    f'<text x="{x(tick):.1f}" y="{top + ph + 16}" text-anchor="middle">{tick_label(tick)}</text>')
    for i, (r, band) in enumerate(zip(runs, bands)):
        colour = PALETTE[i % len(PALETTE)]
        upper = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(t, band[2]))
        lower = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(t[::-1], band[0][::-1]))
        body.append(f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.18" stroke="none"/>')
        body.append(f'<polyline points="{" ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(t, band[1]))}" '
                    f'fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = top + 14 + 18 * i
        body.append(f'<rect x="{left + pw + 12}" y="{ly - 9}" width="12" height="10" fill="{colour}"/>'
                    f'<text x="{left + pw + 28}" y="{ly}">{escape(_short(r.plan.name, 26))}</text>')
    body.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">hours from the start of the plan</text>')
    body.append(f'<text transform="translate(14,{top + ph / 2}) rotate(-90)" text-anchor="middle">'
                f'{escape(output)} ({escape(o.unit)})</text>')
    title = f"{output}: median and 90% band per plan"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" aria-label="{escape(title)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" {_FONT}>'
            f'<rect width="{width}" height="{height}" fill="#fff"/>'
            f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{escape(title)}</text>'
            + "".join(body) + "</svg>")


def shown_outputs(runs: list) -> list[str]:
    """The outputs worth showing: those not identically 0 under every plan (e.g. a drug no plan gives)."""
    return [o.name for o in runs[0].outputs if any(np.any(r.series(o.name) != 0.0) for r in runs)]


def _sentence(summary: dict[str, Any], alerts: list) -> str:
    parts = []
    for name, entry in summary["outputs"].items():
        if "time_in_target" in entry:
            tir = entry["time_in_target"]
            parts.append(f"{name} in its target {tir['range'][0]:g}-{tir['range'][1]:g} {entry['unit']} for "
                         f"{tir['median']:.0%} of the time (90% interval {tir['90'][0]:.0%}-{tir['90'][1]:.0%})")
    if alerts:
        worst = max(alerts, key=lambda a: a.probability)
        parts.append(f"{worst.event} in {share(worst.probability)} of simulations")
    else:
        parts.append("no safety threshold crossed in any simulation")
    return "; ".join(parts) + "."


def render_report(result: Any, data: dict[str, Any] | None = None, shown: list[str] | None = None) -> str:
    """The whole page for a :class:`~hygeia.twin.TwinResult`.

    ``data`` (its ``to_json()``) and ``shown`` (:func:`shown_outputs`) are worked out here when
    the caller has not already.
    """
    data = result.to_json() if data is None else data
    runs = result.runs
    sim = result.twin.simulator
    units = {o.name: o.unit for o in sim.outputs}
    head = (f"<p>Patient {escape(str(data['subject_id'] if data['subject_id'] is not None else 'given by hand'))}, "
            f"simulator <b>{escape(sim.name)}</b>, {result.n} parameter draws "
            f"({'posterior, calibrated to ' + str(data['observations']) + ' of the patient’s observations' if result.calibrated else 'prior: no observations to calibrate to'}), "
            f"seed {result.seed}. Every plan was run on the same draws and the same noise (common random numbers), "
            f"so differences between plans are the plans’ own. Bands are 90% intervals across draws; they show "
            f"how uncertain the outcome is for this patient, not a guarantee.</p>")
    plans = "".join(f"<li><b>{escape(r.plan.name)}</b>: {_sentence(s, r.alerts)}</li>"
                    for r, s in zip(runs, data["results"]))
    shown = shown_outputs(runs) if shown is None else shown
    figures = "".join(f'<figure>{band_plot(runs, o.name)}</figure>' for o in runs[0].outputs if o.name in shown)
    idle = [o.name for o in runs[0].outputs if o.name not in shown]
    if idle:
        figures += (f"<p>Not shown: {escape(', '.join(idle))}, which stay at 0 under every plan "
                    f"(no plan gives what drives them).</p>")
    rows = []
    for r, s in zip(runs, data["results"]):
        for name, e in s["outputs"].items():
            if name not in shown:
                continue
            tir = e.get("time_in_target")
            rows.append(f"<tr><td>{escape(r.plan.name)}</td><td>{escape(name)}</td><td>{_fmt(e['final_median'])} "
                        f"{escape(e['unit'])}</td><td>{_fmt(e['final_90'][0])} to {_fmt(e['final_90'][1])}</td>"
                        f"<td>{'-' if tir is None else format(tir['median'], '.0%')}</td></tr>")
    table = ("<table><tr><th>plan</th><th>output</th><th>median at the horizon</th><th>90% interval</th>"
             "<th>time in target (median)</th></tr>" + "".join(rows) + "</table>")
    diffs = ""
    if data.get("differences"):
        drows = "".join(
            f"<tr><td>{escape(d['plan'])} − {escape(d['versus'])}</td><td>{escape(d['output'])}</td>"
            f"<td>{_fmt(d['final_difference_median'])} {escape(d['unit'])}</td>"
            f"<td>{_fmt(d['final_difference_90'][0])} to {_fmt(d['final_difference_90'][1])}</td>"
            f"<td>{share(d['probability_higher'])}</td></tr>" for d in data["differences"] if d["output"] in shown)
        diffs = ("<h2>Differences between plans (paired)</h2><p>For each draw of the patient’s parameters, the "
                 "outcome under one plan minus the outcome under the first plan. An interval that excludes 0 means "
                 "the plans differ for this patient whatever the uncertain parameters are.</p><table><tr><th>plans</th>"
                 "<th>output</th><th>median difference</th><th>90% interval</th><th>share of draws higher</th></tr>"
                 + drows + "</table>")
    alerts = [f"<li><b>{escape(r.plan.name)}</b>: {escape(a.message(units.get(a.output, '')))}</li>"
              for r in runs for a in r.alerts]
    alerts_html = ("<h2>Safety</h2><ul class='alerts'>" + "".join(alerts) + "</ul>" if alerts else
                   "<h2>Safety</h2><p>No plan drove any output past a safety threshold or a physiological bound "
                   "in any simulation.</p>")
    taken = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>"
                    for k, v in (data["taken_from_record"] or {}).items())
    taken_html = (f"<h2>Taken from the record</h2><table>{taken}</table>" if taken else "")
    made = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>" for k, v in data["made_by"].items())
    style = ("body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:980px;margin:1.5em auto;padding:0 1em;"
             "color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
             "text-align:left;font-size:13px}th{background:#f0f0f0}figure{margin:1em 0}.alerts li{color:#a00}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Treatment simulation</title>"
            f"<style>{style}</style></head><body><h1>Treatment simulation</h1>{head}<h2>Plans</h2><ul>{plans}</ul>"
            f"{figures}<h2>At the horizon</h2>{table}{diffs}{alerts_html}{taken_html}"
            f"<h2>How it was made</h2><table>{made}</table></body></html>\n")

