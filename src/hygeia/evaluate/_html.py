"""The HTML of the evaluation report: summary, warnings, caveats, one section per key.

:func:`render_html` turns a report dict into one self-contained page (inline
CSS and SVG, no script, nothing fetched). It opens with the overall summary
(what was compared, a verdict per section in words), then the warnings and
caveats, then one ``<section>`` per top-level key. Every number of a section
is in an explained table (label, value, which way is better, a traffic-light
verdict, one sentence); plots have axis labels and legends, heat maps a
colour scale, categorical and whole-number columns are drawn as bars, and a
chart with nothing to show is replaced by a sentence.

Example:
    >>> html = render_html({"fidelity": {"overall": 0.95}, "meta": {"n_real": 10, "n_synthetic": 10}})
    >>> 'id="summary"' in html and 'id="fidelity-headline"' in html
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from hygeia.evaluate import _svg
from hygeia.evaluate._details import column_rows, details, pair_rows, subgroup_verdicts
from hygeia.evaluate._explain import NOT_MEASURED, Row, headline
from hygeia.evaluate._summary import overview

__all__ = ["SECTIONS", "render_html"]

#: The top-level keys of a report, in the order the HTML shows them.
SECTIONS = ("fidelity", "utility", "privacy", "fairness", "plausibility", "meta")
_TITLES = {
    "fidelity": "Fidelity", "utility": "Utility", "privacy": "Privacy", "fairness": "Fairness",
    "plausibility": "Clinical plausibility", "meta": "About this report",
}
_MAX_MARGINALS = 40
_DCR_LABELS = {"synthetic_to_train": "to training rows", "synthetic_to_holdout": "to holdout rows"}


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "—" if v is None else ("yes" if v else "no")
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, dict)):
        text = json.dumps(v)
        return escape(text if len(text) <= 120 else text[:117] + "…")
    return escape(str(v))


def _scalars(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Flatten the scalar (and short list) entries of nested dicts into dotted keys."""
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out += _scalars(v, key + ".")
        elif isinstance(v, list):
            if len(v) <= 8 and all(not isinstance(x, (list, dict)) for x in v):
                out.append((key, v))
        else:
            out.append((key, v))
    return out


def _kv_table(d: Mapping[str, Any], skip: Sequence[str] = ()) -> str:
    rows = _scalars({k: v for k, v in d.items() if k not in skip})
    if not rows:
        return '<p class="muted">No values reported.</p>'
    body = "".join(f"<tr><th>{escape(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in rows)
    return f'<div class="scroll"><table class="kv"><tbody>{body}</tbody></table></div>'


def _raw(d: Mapping[str, Any], skip: Sequence[str] = ()) -> str:
    return f"<details><summary>Raw values (report.json keys)</summary>{_kv_table(d, skip)}</details>"


def _badge(verdict: str) -> str:
    return f'<span class="badge v-{escape(verdict.replace(" ", "-"))}">{escape(verdict)}</span>'


def _records_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                   *, table_id: str = "") -> str:
    if not rows:
        return '<p class="muted">None.</p>'
    cols = list(columns or dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    ident = f' id="{table_id}"' if table_id else ""
    return f'<div class="scroll"{ident}><table class="grid"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _cell(v: Any) -> str:
    if isinstance(v, tuple) and len(v) == 2:  # (value, verdict)
        return f"{_fmt(v[0])} {_badge(v[1])}" if v[1] in ("good", "fair", "poor") else _fmt(v[0])
    return _fmt(v)


def _explained(rows: Sequence[Row], table_id: str) -> str:
    if not rows:
        return ""
    body = "".join(
        f'<tr class="verdict-{escape(r.verdict.replace(" ", "-"))}"><th>{escape(r.label)}</th>'
        f'<td class="value">{escape(NOT_MEASURED) if r.value == NOT_MEASURED else _fmt(r.value)}</td>'
        f'<td class="direction">{escape(r.direction)}</td>'
        f'<td><span class="badge">{escape(r.verdict)}</span></td><td>{escape(r.sentence)}</td></tr>'
        for r in rows
    )
    head = ("<thead><tr><th>Metric</th><th>Value</th><th>Better</th><th>Verdict</th>"
            "<th>What it means</th></tr></thead>")
    return f'<table class="headline" id="{table_id}">{head}<tbody>{body}</tbody></table>'


def _figure(svg: str, caption: str = "") -> str:
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="plot">{svg}{cap}</figure>'


def _no_chart(text: str, ident: str) -> str:
    return f'<p class="muted no-chart" id="{ident}">{escape(text)}</p>'


def _pair(m: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        if n in m and m[n] is not None:
            return m[n]
    return None


def _whole_number_bins(edges: Sequence[float], real: Sequence[Any], syn: Sequence[Any]) -> list[int] | None:
    """The one whole number inside each non-empty bin, when every non-empty bin holds exactly one (0/1, counts)."""
    values: list[int] = []
    for i in range(len(edges) - 1):
        if not (_svg.has_data({"r": [real[i]]}) or _svg.has_data({"s": [syn[i]]})):
            continue
        lo, hi = edges[i], edges[i + 1]
        last = i == len(edges) - 2
        ints = [k for k in range(math.ceil(lo), math.floor(hi) + 1) if k < hi or (last and k == hi)]
        if len(ints) != 1:
            return None
        values.append(ints[0])
    return values if 0 < len(values) <= 30 else None


def _marginal_svg(col: str, m: Any) -> tuple[str | None, str]:
    """One column's real-vs-synthetic marginal (and a caption on missing values)."""
    if not isinstance(m, Mapping):
        return None, ""
    miss = m.get("missing")
    caption = ""
    if isinstance(miss, Mapping) and any(isinstance(v, (int, float)) and v > 0 for v in miss.values()):
        caption = (f"Missing: real {float(miss.get('real') or 0):.1%}, synthetic {float(miss.get('synthetic') or 0):.1%} "
                   "(shares are of the values present).")
    real, syn = _pair(m, "real", "real_counts", "real_freq"), _pair(m, "synthetic", "synthetic_counts", "synthetic_freq")
    label = "share of rows"
    if isinstance(real, Mapping) and isinstance(syn, Mapping):  # {category: share}
        cats = list(dict.fromkeys([*real, *syn]))
        return _svg.bars(cats, {"real": [real.get(c, 0) for c in cats], "synthetic": [syn.get(c, 0) for c in cats]},
                         title=col, ylabel=label, xlabel=col), caption
    if not (isinstance(real, list) and isinstance(syn, list)):
        return None, caption
    edges = _pair(m, "edges", "bin_edges")
    if isinstance(edges, list) and len(edges) == len(real) + 1:
        if all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in edges):
            ints = _whole_number_bins([float(e) for e in edges], real, syn)
            if ints is not None:  # 0/1 flags, small counts, years: one bar per value
                keep = [i for i in range(len(real)) if _svg.has_data({"x": [real[i], syn[i]]})]
                return _svg.bars([str(v) for v in ints], {"real": [real[i] for i in keep],
                                                          "synthetic": [syn[i] for i in keep]},
                                 title=col, ylabel=label, xlabel=col), caption
            return _svg.histogram(edges, {"real": real, "synthetic": syn}, title=col, xlabel=col), caption
        labels = [str(e)[:10] for e in edges[:-1]]  # dates as ISO strings: label bins by their start
        return _svg.bars(labels, {"real": real, "synthetic": syn}, title=col, ylabel=label,
                         xlabel=f"{col} (bin start)"), caption
    cats = _pair(m, "categories", "labels", "values")
    if isinstance(cats, list) and len(cats) == len(real):
        return _svg.bars(cats, {"real": real, "synthetic": syn}, title=col, ylabel=label, xlabel=col), caption
    return None, caption


def _summary_html(result: Mapping[str, Any]) -> str:
    o = overview(result)
    rows = "".join(
        f'<tr class="verdict-{escape(s["verdict"].replace(" ", "-"))}"><th><a href="#{s["section"]}">'
        f'{escape(_TITLES[s["section"]])}</a></th><td><span class="badge">{escape(s["verdict"])}</span></td>'
        f'<td>{escape(s["sentence"])}</td></tr>' for s in o["sections"]
    )
    because = f" ({escape(', '.join(o['because']))})" if o["because"] else ""
    n_warn = len(o["warnings"])
    warn = f' <a href="#warnings">{n_warn} warning(s)</a> below.' if n_warn else " No warnings."
    return (
        f'<div id="summary"><h2>Summary</h2><p>Compared {escape(o["compared"])}</p>'
        f'<p class="overall verdict-{escape(o["verdict"].replace(" ", "-"))}">Overall verdict: '
        f'<span class="badge">{escape(o["verdict"])}</span>{because}. A section takes the worst verdict of its '
        f"headline numbers; the overall verdict is the worst section's.{warn}</p>"
        f'<table class="headline" id="summary-sections"><tbody>{rows}</tbody></table></div>'
    )


def _warnings_html(result: Mapping[str, Any]) -> str:
    warnings = overview(result)["warnings"]
    if not warnings:
        return ""
    items = "".join(f'<li><a href="#{escape(str(w.get("section", "")))}">{escape(str(w.get("section", "")))}</a>: '
                    f'{escape(str(w.get("message", "")))}</li>' for w in warnings)
    return f'<aside id="warnings"><h2>Warnings</h2><ul>{items}</ul></aside>'


def _caveats_html(notes: Any) -> str:
    if not isinstance(notes, list) or not notes:
        return ""
    items = "".join(f"<li>{escape(str(n))}</li>" for n in notes)
    return f'<aside id="caveats"><h2>Caveats: read before using these numbers</h2><ul>{items}</ul></aside>'


def _measures(section: str, d: Mapping[str, Any]) -> str:
    out = _explained(headline(section, d), f"{section}-headline")
    more = details(section, d)
    if more:
        out += f"<h3>More measures</h3>{_explained(more, f'{section}-details')}"
    return out


def _section_fidelity(d: Mapping[str, Any]) -> str:
    parts = [_measures("fidelity", d)]
    cols = column_rows(d)
    if cols:
        cells = "".join(f'<div class="verdict-{r.verdict}"><span class="name">{escape(r.label)}</span> '
                        f'<span class="value">{_fmt(r.value)}</span> <span class="badge">{escape(r.verdict)}</span>'
                        "</div>" for r in cols)
        parts.append('<h3>Shape of each column</h3><p class="muted">1 − KS statistic (numbers, dates) or 1 − total '
                     "variation (labels); higher is better, 0.9 or more is good, 0.8 or more fair.</p>"
                     f'<div class="columns" id="fidelity-columns">{cells}</div>')
    pairs = pair_rows(d)
    if pairs:
        rows = [{**p, "score": (p["score"], p.pop("verdict"))} for p in pairs]
        parts.append("<details><summary>Trend of each column pair</summary>" + _records_table(rows) + "</details>")
    figs = []
    marginals = d.get("marginals") or {}
    if isinstance(marginals, Mapping):
        for col, m in list(marginals.items())[:_MAX_MARGINALS]:
            svg, caption = _marginal_svg(str(col), m)
            if svg:
                figs.append(_figure(svg, caption))
    if figs:
        parts.append('<h3>Marginal distributions</h3><p class="muted">Blue: real training rows; orange: synthetic '
                     "rows. Labels and whole-number columns are drawn as bars, other numbers as histograms.</p>"
                     f'<div class="plots" id="fidelity-marginals">{"".join(figs)}</div>')
    parts.append(_correlation(d.get("correlation")))
    parts.append(_raw(d, skip=("marginals", "correlation", "column_pair_trends_detail", "column_shapes_detail")))
    return "".join(parts)


def _correlation(corr: Any) -> str:
    if not (isinstance(corr, Mapping) and corr.get("columns")):
        return ""
    cols = corr["columns"]
    maps = [_figure(_svg.heatmap(cols, corr[k], title=f"{k.capitalize()} rows: correlation"))
            for k in ("real", "synthetic") if isinstance(corr.get(k), list)]
    if isinstance(corr.get("real"), list) and isinstance(corr.get("synthetic"), list):
        diff = [[_sub(b, a) for a, b in zip(ra, rb)] for ra, rb in zip(corr["real"], corr["synthetic"])]
        peak = max([abs(v) for row in diff for v in row if v is not None] + [0.0])
        scale = next((s for s in (0.05, 0.1, 0.2, 0.5, 1.0) if peak <= s), 1.0)
        maps.append(_figure(_svg.heatmap(cols, diff, title="Synthetic − real", scale=scale,
                                         legend="difference in r"),
                            f"Colour scale ±{scale:g}: the largest difference is {peak:.2f}."))
    return ('<h3>Correlation</h3><p class="muted">Pearson correlation of the numeric and date columns; hover a '
            f'cell for its value.</p><div class="plots" id="fidelity-correlation">{"".join(maps)}</div>')


def _sub(a: Any, b: Any) -> float | None:
    try:
        r = float(a) - float(b)
    except (TypeError, ValueError):
        return None
    return r if math.isfinite(r) else None


def _section_privacy(d: Mapping[str, Any]) -> str:
    parts = [_measures("privacy", d)]
    dcr = d.get("dcr") or {}
    samples = {_DCR_LABELS.get(k, k): v for k, v in dcr.items() if isinstance(v, list) and v} \
        if isinstance(dcr, Mapping) else {}
    if samples:
        svg = _svg.histogram_of(samples, title="Distance from each synthetic row to its closest real row",
                                xlabel="distance (standardised units)")
        parts.append('<h3>Distances to closest record</h3><div class="plots" id="privacy-dcr">'
                     f'{_figure(svg, "Mass piled at 0 means copies; a training curve left of the holdout curve means memorisation.")}</div>')
    parts.append(_raw(d, skip=("dcr",)))
    return "".join(parts)


def _section_fairness(d: Mapping[str, Any]) -> str:
    groups = [g for g in d.get("subgroups") or [] if isinstance(g, Mapping)]
    parts = [_measures("fairness", d)]
    if groups:
        labels = [f"{g.get('column')} {g.get('group')}" for g in groups]
        figs = [_figure(_svg.bars(labels, {"real": [g.get("real_share") for g in groups],
                                           "synthetic": [g.get("synthetic_share") for g in groups]},
                                  title="Share of rows in each subgroup", ylabel="share of rows", xlabel="subgroup"))]
        rates = {"real": [g.get("real_rate") for g in groups], "synthetic": [g.get("synthetic_rate") for g in groups]}
        if _svg.has_data(rates):
            figs.append(_figure(_svg.bars(labels, rates, title="Outcome rate in each subgroup",
                                          ylabel="outcome rate", xlabel="subgroup")))
        parts.append(f'<div class="plots" id="fairness-subgroups">{"".join(figs)}</div>')
        rows = []
        for g in groups:
            v = subgroup_verdicts(g)
            rows.append({
                "subgroup": f"{g.get('column')} = {g.get('group')}" + (" (under 30 rows)" if v["small"] else ""),
                "rows real / synthetic": f"{g.get('n_real', '—')} / {g.get('n_synthetic', '—')}",
                "share real / synthetic": f"{_fmt(g.get('real_share'))} / {_fmt(g.get('synthetic_share'))}",
                "representation error": (g.get("representation_error"), v["representation"]),
                "outcome rate real / synthetic": f"{_fmt(g.get('real_rate'))} / {_fmt(g.get('synthetic_rate'))}",
                "outcome-rate error": (g.get("outcome_rate_error"), v["outcome"]),
                "utility gap (holdout)": (g.get("utility_gap"), v["utility"]),
            })
        parts.append(_records_table(rows, table_id="fairness-table"))
    parts.append(_raw(d, skip=("subgroups",)))
    return "".join(parts)


def _section_plausibility(d: Mapping[str, Any]) -> str:
    rules = [r for r in d.get("rules") or [] if isinstance(r, Mapping)]
    parts = [_measures("plausibility", d)]
    if rules:
        applicable = [r for r in rules if r.get("applicable", True)]
        rates = {"violation rate": [r.get("rate") for r in applicable]}
        if applicable and _svg.has_data(rates):
            svg = _svg.bars([r.get("id") for r in applicable], rates, title="Share of checked facts breaking each rule",
                            ylabel="violation rate", xlabel="rule")
            parts.append(f'<div class="plots" id="plausibility-rates">{_figure(svg)}</div>')
        elif applicable:
            parts.append(_no_chart(f"No fact broke any of the {len(applicable)} applicable rules "
                                   f"({d.get('total_checked', 0)} checked): nothing to plot.", "plausibility-rates"))
        else:
            parts.append(_no_chart("No rule applies to these data, so nothing was checked: see the reason of each "
                                   "rule below.", "plausibility-rates"))
        rows = [{"rule": r.get("id"), "what it checks": r.get("description"),
                 "applies": r.get("applicable", True), "checked": r.get("checked"),
                 "violations": r.get("violations"), "rate": r.get("rate"), "why not": r.get("reason", "")}
                for r in rules]
        parts.append(_records_table(rows))
        for r in rules:
            if r.get("examples"):
                parts.append(f"<details><summary>Examples of {escape(str(r.get('id')))} "
                             f"({r.get('violations')} violations)</summary>{_records_table(r['examples'])}</details>")
    parts.append(_raw(d, skip=("rules",)))
    return "".join(parts)


def _section_utility(d: Mapping[str, Any]) -> str:
    return _measures("utility", d) + _raw(d)


def _section_generic(d: Mapping[str, Any]) -> str:
    parts = [_kv_table(d)]
    for k, v in d.items():
        if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
            parts.append(f"<h3>{escape(str(k))}</h3>{_records_table(v)}")
    return "".join(parts)


_RENDERERS = {
    "fidelity": _section_fidelity,
    "utility": _section_utility,
    "privacy": _section_privacy,
    "fairness": _section_fairness,
    "plausibility": _section_plausibility,
}

_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222;background:#fff}
h1{font-size:24px}h2{border-bottom:2px solid #1f77b4;padding-bottom:4px;margin-top:32px}
nav a{margin-right:14px}table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
table.kv th{background:#f4f6f8;font-weight:normal;font-family:monospace;word-break:break-all}
table.grid thead th{background:#f4f6f8}.muted{color:#666}.scroll{overflow-x:auto;max-width:100%}
.plots{display:flex;flex-wrap:wrap;gap:12px}figure.plot{margin:0;border:1px solid #eee;max-width:100%;overflow-x:auto}
figcaption{font-size:12px;color:#555;padding:2px 6px;max-width:420px}details{margin:6px 0}
table.headline{width:100%;font-size:14px}table.headline td.value{font-family:monospace;white-space:nowrap}
table.headline th{background:#f4f6f8;font-weight:600}td.direction{font-size:12px;color:#444;width:11em}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;background:#e6e6e6;white-space:nowrap}
.verdict-good .badge,.badge.v-good{background:#c8ecc9;color:#14532d}
.verdict-fair .badge,.badge.v-fair{background:#fdecc8;color:#7a4b00}
.verdict-poor .badge,.badge.v-poor{background:#f8c9c9;color:#7f1d1d}
.verdict-not-measured .badge{background:#dfe3ea;color:#333}.verdict-not-measured td{color:#444;font-style:italic}
#summary{border:1px solid #b8cde0;background:#f5f9fd;padding:4px 16px 10px;margin:16px 0}
#summary h2{border:none;margin-top:8px}p.overall{font-size:16px}p.overall .badge{font-size:16px}
aside#warnings{border:1px solid #d9534f;background:#fdf0ef;padding:4px 16px;margin:16px 0}
aside#caveats{border:1px solid #e0b252;background:#fff8e6;padding:4px 16px;margin:16px 0}
aside h2{border:none !important;margin-top:8px;font-size:18px}aside li{margin:4px 0}
.columns{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:4px 16px;font-size:13px}
.columns div{border-bottom:1px solid #eee;padding:2px 0;display:flex;gap:8px;align-items:center}
.columns .name{flex:1;font-weight:600;overflow-wrap:anywhere}.columns .value{font-family:monospace}
"""


def render_html(result: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    meta = result.get("meta") or {}
    nav = "".join(f'<a href="#{s}">{_TITLES[s]}</a>' for s in SECTIONS)
    sections = []
    for s in SECTIONS:
        d = result.get(s) or {}
        body = (_RENDERERS.get(s, _section_generic))(d) if isinstance(d, Mapping) else f"<p>{_fmt(d)}</p>"
        sections.append(f'<section id="{s}"><h2>{_TITLES[s]}</h2>{body}</section>')
    created = escape(str(meta.get("created_at", ""))) if isinstance(meta, Mapping) else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Hygeia evaluation report</title><style>{_CSS}</style></head><body>"
        f"<h1>Hygeia evaluation report</h1><p class=\"muted\">{created}</p><nav>{nav}</nav>"
        + _summary_html(result)
        + _warnings_html(result)
        + _caveats_html(result.get("caveats"))
        + "".join(sections)
        + "</body></html>\n"
    )
