"""The evaluation report: ``report.json`` plus a self-contained ``report.html``.

:func:`run_evaluation` is what ``hygeia evaluate`` runs: it loads the real,
synthetic and (optional) holdout data (CSV, Parquet, or Hygeia run folders),
validates them, computes the metrics (:func:`hygeia.evaluate.evaluate_tables`)
and the clinical plausibility checks, and writes both files atomically.
:func:`write_report` turns a result dict into the two files. The HTML has one
``<section>`` per top-level key (``fidelity``, ``utility``, ``privacy``,
``fairness``, ``plausibility``, ``meta``), readable tables and inline SVG plots;
it needs no network, script or style sheet from elsewhere. Each section opens
with its headline numbers, one sentence each on what the number means and a
verdict (good, fair, poor; "not measured" with the reason); the report's
``caveats`` are listed above the sections.

Example:
    >>> import tempfile
    >>> result = {"fidelity": {"overall": 0.9}, "utility": {}, "privacy": {}, "fairness": {},
    ...           "plausibility": {"rules": [], "overall_violation_rate": 0.0}, "meta": {"seed": 0}}
    >>> json_path, html_path = write_report(result, tempfile.mkdtemp())
    >>> json_path.name, html_path.name
    ('report.json', 'report.html')
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from hygeia.core.atomic import atomic_output, write_text
from hygeia.evaluate import _svg
from hygeia.evaluate._explain import NOT_MEASURED, headline
from hygeia.evaluate._inputs import load_inputs
from hygeia.errors import OutputError

__all__ = ["SECTIONS", "render_html", "run_evaluation", "write_report"]

#: The top-level keys of a report, in the order the HTML shows them.
SECTIONS = ("fidelity", "utility", "privacy", "fairness", "plausibility", "meta")
_TITLES = {
    "fidelity": "Fidelity", "utility": "Utility", "privacy": "Privacy", "fairness": "Fairness",
    "plausibility": "Clinical plausibility", "meta": "About this report",
}
_MAX_MARGINALS = 40
_DCR_LABELS = {"synthetic_to_train": "to training rows", "synthetic_to_holdout": "to holdout rows"}


# -- JSON ----------------------------------------------------------------------------
def _clean(v: Any) -> Any:
    """A JSON-safe copy: NaN/inf -> None, numpy scalars/arrays -> Python, dates -> ISO."""
    if isinstance(v, Mapping):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [_clean(x) for x in v]
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, Path):
        return str(v)
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        return _clean(v.tolist())
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return _clean(v.item())
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)


# -- HTML pieces -----------------------------------------------------------------------
def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v).lower()
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


def _kv_rows(rows: Sequence[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _kv_table(d: Mapping[str, Any], skip: Sequence[str] = ()) -> str:
    """Scalars in one table; a nested dict with many entries folds into its own <details>."""
    kept = {k: v for k, v in d.items() if k not in skip}
    main = {k: v for k, v in kept.items() if not (isinstance(v, Mapping) and len(_scalars(v)) > 8)}
    rows = _scalars(main)
    out = _kv_rows(rows) if rows else ""
    for k, v in kept.items():
        if k not in main:
            out += f"<details><summary>{escape(str(k))}</summary>{_kv_rows(_scalars(v))}</details>"
    return out or '<p class="muted">No values reported.</p>'


def _records_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return '<p class="muted">None.</p>'
    cols = list(columns or dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _figure(svg: str, caption: str = "") -> str:
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="plot">{svg}{cap}</figure>'


def _pair(m: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        if n in m and m[n] is not None:
            return m[n]
    return None


def _marginal_svg(col: str, m: Any) -> str | None:
    """Draw one column's real-vs-synthetic marginal from the shapes evaluate_tables uses."""
    if not isinstance(m, Mapping):
        return None
    real, syn = _pair(m, "real", "real_counts", "real_freq"), _pair(m, "synthetic", "synthetic_counts", "synthetic_freq")
    if isinstance(real, Mapping) and isinstance(syn, Mapping):  # {category: share}
        cats = list(dict.fromkeys([*real, *syn]))
        return _svg.bars(cats, {"real": [real.get(c, 0) for c in cats], "synthetic": [syn.get(c, 0) for c in cats]},
                         title=col, ylabel="share")
    if isinstance(real, list) and isinstance(syn, list):
        edges = _pair(m, "edges", "bin_edges", "bins")
        if isinstance(edges, list) and len(edges) == len(real) + 1:
            if all(isinstance(e, (int, float)) for e in edges):
                return _svg.histogram(edges, {"real": real, "synthetic": syn}, title=col, xlabel=col)
            labels = [str(e)[:10] for e in edges[:-1]]  # dates as ISO strings: label bins by their start
            return _svg.bars(labels, {"real": real, "synthetic": syn}, title=col, ylabel="share")
        cats = _pair(m, "categories", "labels", "values", "bins")
        if isinstance(cats, list) and len(cats) == len(real):
            return _svg.bars(cats, {"real": real, "synthetic": syn}, title=col, ylabel="share")
        if isinstance(edges, list) and len(edges) == len(real):  # bin centres
            return _svg.bars([_fmt(e) for e in edges], {"real": real, "synthetic": syn}, title=col)
    return None


def _headline(section: str, d: Mapping[str, Any]) -> str:
    """The explained headline numbers of one section, as a table with verdict badges."""
    rows = headline(section, d)
    if not rows:
        return ""
    body = "".join(
        f'<tr class="verdict-{escape(r.verdict.replace(" ", "-"))}"><th>{escape(r.label)}</th>'
        f"<td class=\"value\">{escape(NOT_MEASURED) if r.value == NOT_MEASURED else _fmt(r.value)}</td>"
        f'<td><span class="badge">{escape(r.verdict)}</span></td><td>{escape(r.sentence)}</td></tr>'
        for r in rows
    )
    head = "<thead><tr><th>Metric</th><th>Value</th><th>Verdict</th><th>What it means</th></tr></thead>"
    return f'<table class="headline" id="{section}-headline">{head}<tbody>{body}</tbody></table>'


def _all_values(table: str) -> str:
    return f"<details><summary>All values</summary>{table}</details>"


def _caveats_html(notes: Any) -> str:
    if not isinstance(notes, list) or not notes:
        return ""
    items = "".join(f"<li>{escape(str(n))}</li>" for n in notes)
    return f'<aside id="caveats"><h2>Caveats: read before using these numbers</h2><ul>{items}</ul></aside>'


def _section_fidelity(d: Mapping[str, Any]) -> str:
    parts = [_headline("fidelity", d),
             _all_values(_kv_table(d, skip=("marginals", "correlation", "column_pair_trends_detail"))
                         + _pairs_table(d.get("column_pair_trends_detail")))]
    marginals = d.get("marginals") or {}
    figs = []
    if isinstance(marginals, Mapping):
        for col, m in list(marginals.items())[:_MAX_MARGINALS]:
            svg = _marginal_svg(str(col), m)
            if svg:
                figs.append(_figure(svg))
    if figs:
        parts.append(f'<h3>Marginal distributions</h3><div class="plots" id="fidelity-marginals">{"".join(figs)}</div>')
    corr = d.get("correlation") or {}
    if isinstance(corr, Mapping) and corr.get("columns"):
        cols = corr["columns"]
        maps = [
            _figure(_svg.heatmap(cols, corr[k], title=f"{k} correlation"))
            for k in ("real", "synthetic") if isinstance(corr.get(k), list)
        ]
        if isinstance(corr.get("real"), list) and isinstance(corr.get("synthetic"), list):
            diff = [[_sub(b, a) for a, b in zip(ra, rb)] for ra, rb in zip(corr["real"], corr["synthetic"])]
            maps.append(_figure(_svg.heatmap(cols, diff, title="synthetic − real")))
        parts.append(f'<h3>Correlation</h3><div class="plots" id="fidelity-correlation">{"".join(maps)}</div>')
    return "".join(parts)


def _pairs_table(pairs: Any) -> str:
    if not isinstance(pairs, Mapping) or not pairs:
        return ""
    rows = [{"pair": k, "metric": v.get("metric"), "score": v.get("score"),
             "real association": v.get("real_association"), "in headline": v.get("counted")}
            for k, v in pairs.items() if isinstance(v, Mapping)]
    return f"<h3>Column pairs</h3>{_records_table(rows)}"


def _sub(a: Any, b: Any) -> float | None:
    try:
        r = float(a) - float(b)
    except (TypeError, ValueError):
        return None
    return r if math.isfinite(r) else None


def _section_privacy(d: Mapping[str, Any]) -> str:
    parts = [_headline("privacy", d), _all_values(_kv_table(d, skip=("dcr",)))]
    dcr = d.get("dcr") or {}
    samples = {_DCR_LABELS.get(k, k): v for k, v in dcr.items() if isinstance(v, list) and v} \
        if isinstance(dcr, Mapping) else {}
    if samples:
        svg = _svg.histogram_of(samples, title="Distance to closest record", xlabel="distance")
        parts.append(f'<h3>Distances to closest record</h3><div class="plots" id="privacy-dcr">{_figure(svg)}</div>')
    return "".join(parts)


def _section_fairness(d: Mapping[str, Any]) -> str:
    groups = d.get("subgroups") or []
    parts = [_headline("fairness", d), _all_values(_kv_table(d, skip=("subgroups",)))]
    if groups:
        labels = [f"{g.get('column')}={g.get('group')}" for g in groups]
        figs = [_figure(_svg.bars(labels, {"real": [g.get("real_share") for g in groups],
                                           "synthetic": [g.get("synthetic_share") for g in groups]},
                                  title="Subgroup shares", ylabel="share", width=max(560, 40 * len(groups))))]
        if any(g.get("real_rate") is not None for g in groups):
            figs.append(_figure(_svg.bars(labels, {"real": [g.get("real_rate") for g in groups],
                                                   "synthetic": [g.get("synthetic_rate") for g in groups]},
                                          title="Outcome rate by subgroup", ylabel="rate",
                                          width=max(560, 40 * len(groups)))))
        parts.append(f'<div class="plots" id="fairness-subgroups">{"".join(figs)}</div>')
        parts.append(_records_table(groups))
    return "".join(parts)


def _section_plausibility(d: Mapping[str, Any]) -> str:
    rules = d.get("rules") or []
    parts = [_headline("plausibility", d), _all_values(_kv_table(d, skip=("rules",)))]
    if rules:
        rows = [{"id": r.get("id"), "description": r.get("description"),
                 "applicable": r.get("applicable", True), "checked": r.get("checked"),
                 "violations": r.get("violations"), "rate": r.get("rate"), "note": r.get("reason", "")}
                for r in rules]
        parts.append(_records_table(rows))
        applicable = [r for r in rules if r.get("applicable", True)]
        if applicable:
            svg = _svg.bars([r.get("id") for r in applicable], {"violation rate": [r.get("rate") for r in applicable]},
                            title="Violation rate by rule", ylabel="rate")
            parts.append(f'<div class="plots" id="plausibility-rates">{_figure(svg)}</div>')
        for r in rules:
            if r.get("examples"):
                parts.append(f"<details><summary>Examples of {escape(str(r.get('id')))} "
                             f"({r.get('violations')} violations)</summary>{_records_table(r['examples'])}</details>")
    return "".join(parts)


def _section_utility(d: Mapping[str, Any]) -> str:
    return _headline("utility", d) + _all_values(_kv_table(d))


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
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1200px;color:#222;background:#fff}
h1{font-size:24px}h2{border-bottom:2px solid #1f77b4;padding-bottom:4px;margin-top:32px}
nav a{margin-right:14px}table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
table.kv th{background:#f4f6f8;font-weight:normal;font-family:monospace}
table.grid thead th{background:#f4f6f8}.muted{color:#777}
.plots{display:flex;flex-wrap:wrap;gap:12px}figure.plot{margin:0;border:1px solid #eee}
figcaption{font-size:12px;color:#555;padding:2px 6px}details{margin:6px 0}
table.headline{width:100%;font-size:14px}table.headline td.value{font-family:monospace;white-space:nowrap}
table.headline th{background:#f4f6f8;font-weight:600;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;background:#e6e6e6;white-space:nowrap}
.verdict-good .badge{background:#c8ecc9;color:#14532d}.verdict-fair .badge{background:#fdecc8;color:#7a4b00}
.verdict-poor .badge{background:#f8c9c9;color:#7f1d1d}.verdict-not-measured .badge{background:#dfe3ea;color:#333}
.verdict-not-measured td{color:#444;font-style:italic}
aside#caveats{border:1px solid #e0b252;background:#fff8e6;padding:4px 16px;margin:16px 0}
aside#caveats h2{border:none;margin-top:8px;font-size:18px}
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
        + _caveats_html(result.get("caveats"))
        + "".join(sections)
        + "</body></html>\n"
    )


def write_report(result: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``out_dir`` (created if missing).

    Missing top-level keys are written as empty objects, so ``report.json``
    always has exactly :data:`SECTIONS` (plus any other keys ``result`` has).

    Returns:
        ``(json_path, html_path)``.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the report folder {str(out)!r}: {e}. Choose another --out.") from None
    data = _clean({**{s: {} for s in SECTIONS}, **dict(result)})
    json_path, html_path = out / "report.json", out / "report.html"
    for path, text in ((json_path, json.dumps(data, indent=2, allow_nan=False) + "\n"), (html_path, render_html(data))):
        write_text(path, text, what="report file")
    return json_path, html_path


def run_evaluation(
    real: str | os.PathLike[str],
    synthetic: str | os.PathLike[str],
    holdout: str | os.PathLike[str] | None = None,
    target: str | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    out: str | os.PathLike[str] = "report",
    *,
    time_column: str | None = None,
    event_column: str | None = None,
    subgroups: Sequence[str] | None = None,
    seed: int = 0,
    extra_rule_files: Sequence[str | os.PathLike[str]] = (),
    overwrite: bool = False,
) -> dict[str, Any]:
    """Evaluate synthetic data against real data and write the report to ``out``.

    Args:
        real: the real (training) data: a CSV or Parquet file, or a Hygeia run folder.
        synthetic: the synthetic data, in the same form.
        holdout: real data kept out of training (for privacy and utility), optional.
        target: the outcome column (utility, fairness rates).
        quasi_identifiers: columns an attacker may know (privacy).
        out: the report folder; written to a temporary sibling and renamed.
        time_column, event_column: survival columns, when the data has them.
        subgroups: columns whose groups the fairness section compares.
        seed: seed of every random choice in the metrics.
        extra_rule_files: plausibility rule files added to the defaults.
        overwrite: replace an existing report folder.

    Returns:
        The report as written to ``report.json``.

    Raises:
        DataValidationError: listing every problem with the inputs.
        OutputError: if ``out`` exists (without ``overwrite``) or cannot be written.
    """
    from hygeia.evaluate import evaluate_tables

    dest = Path(out).expanduser().absolute()
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())) and not overwrite:
        raise OutputError(f"output {str(dest)!r} already exists and is not empty. "
                          "Choose another --out folder, or pass --overwrite.")
    inputs = load_inputs(real, synthetic, holdout, target=target, quasi_identifiers=quasi_identifiers,
                         time_column=time_column, event_column=event_column, subgroups=subgroups,
                         extra_rule_files=extra_rule_files)
    result = dict(evaluate_tables(
        inputs.real, inputs.synthetic, holdout=inputs.holdout, target=target, time_column=time_column,
        event_column=event_column, quasi_identifiers=list(quasi_identifiers) if quasi_identifiers else None,
        subgroups=list(subgroups) if subgroups else None, seed=seed,
    ))
    result["plausibility"] = inputs.plausibility()
    meta = dict(result.get("meta") or {})
    meta.update({
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs.describe(), "seed": seed, "target": target,
        "quasi_identifiers": list(quasi_identifiers or []), "subgroups": list(subgroups or []),
    })
    result["meta"] = meta
    _write_atomically(result, dest)
    return _clean({**{s: {} for s in SECTIONS}, **result})


def _write_atomically(result: Mapping[str, Any], dest: Path) -> None:
    with atomic_output(dest, folder=True, overwrite=True, what="report folder") as tmp:
        write_report(result, tmp)
