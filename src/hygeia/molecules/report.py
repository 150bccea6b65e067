"""Write molecules with their scores: SMILES, CSV, SDF, and a self-contained HTML report.

Every writer goes through a temporary name and renames at the end, so an
interrupted or failed write leaves nothing.

Example:
    >>> import pandas as pd, tempfile, os
    >>> table = pd.DataFrame({"smiles": ["CCO", "c1ccccc1O"], "score": [0.4, 0.5]})
    >>> path = write_molecules(table, os.path.join(tempfile.mkdtemp(), "mols.sdf"))
    >>> path.read_text().count("$$$$")
    2
"""

from __future__ import annotations

import html
import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from hygeia.core.atomic import atomic_output
from hygeia.errors import ConfigError

__all__ = ["MOLECULE_FORMATS", "describe_objective", "grid_png", "score_curve", "write_molecules", "write_report"]

MOLECULE_FORMATS = (".smi", ".csv", ".sdf")


def write_molecules(table: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a table with a ``smiles`` column as ``.smi`` (one SMILES per line), ``.csv`` or ``.sdf``.

    In SDF every other column becomes a data field of its molecule; rows whose
    SMILES does not parse are left out of the SDF.
    """
    from rdkit import Chem, rdBase

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in MOLECULE_FORMATS:
        raise ConfigError(f"output {str(out)!r} must end in one of {', '.join(MOLECULE_FORMATS)}")
    if "smiles" not in table.columns:
        raise ConfigError(f"the table to write has no 'smiles' column (columns: {list(table.columns)})")
    with atomic_output(out, overwrite=overwrite, what="file") as tmp:
        if suffix == ".smi":
            tmp.write_text("".join(f"{s}\n" for s in table["smiles"]), encoding="utf-8")
        elif suffix == ".csv":
            table.to_csv(tmp, index=False)
        else:
            writer = Chem.SDWriter(str(tmp))
            try:
                with rdBase.BlockLogs():
                    for row in table.itertuples(index=False):
                        values = row._asdict()
                        mol = Chem.MolFromSmiles(values["smiles"]) if isinstance(values["smiles"], str) else None
                        if mol is None:
                            continue
                        mol.SetProp("_Name", values["smiles"])
                        for key, value in values.items():
                            if key != "smiles" and value is not None and value == value:
                                mol.SetProp(str(key), str(value))
                        writer.write(mol)
            finally:
                writer.close()
    return out


def grid_png(smiles: list[str], legends: list[str], *, per_row: int = 5, size: int = 220) -> bytes:
    """A PNG grid drawing of the molecules (RDKit's drawing), with one legend each."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import Draw

    with rdBase.BlockLogs():
        pairs = [(Chem.MolFromSmiles(s), lg) for s, lg in zip(smiles, legends)]
    pairs = [(m, lg) for m, lg in pairs if m is not None]
    if not pairs:
        return b""
    image = Draw.MolsToGridImage(
        [m for m, _ in pairs], molsPerRow=per_row, subImgSize=(size, size), legends=[lg for _, lg in pairs]
    )
    if isinstance(image, bytes):
        return image
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


_TRANSFORM_WORDS = {
    "maximize": "higher is better", "minimize": "lower is better", "sigmoid": "higher is better (sigmoid)",
    "reverse_sigmoid": "lower is better (sigmoid)", "double_sigmoid": "inside a window", "window": "inside a window",
    "step": "inside a step window", "gaussian": "close to a target", "linear": "linear",
}
_STOP_WORDS = {
    "budget": "the oracle-call budget was spent", "mode_collapse": "the optimizer kept proposing the same molecules",
    "no_new_molecules": "the optimizer found no new molecule to score", "max_steps": "the step limit was reached",
}
_METHOD_WORDS = {
    "graph_ga": "graph genetic algorithm (crossover and mutation of molecular graphs, Jensen 2019)",
    "reinvent": "REINVENT (a chemical language model tuned by reinforcement learning, Olivecrona et al. 2017)",
}


def describe_objective(scorer: Any) -> str:
    """The objective of an optimization in words: a GuacaMol objective's goal or a scoring config's parts.

    Example:
        >>> from hygeia.molecules.scoring import ScoringFunction
        >>> describe_objective(ScoringFunction({"components": [
        ...     {"component": "qed", "transform": {"type": "maximize"}}], "filters": {"catalogs": ["PAINS"]}}))
        'geometric mean of qed (higher is better); molecules raising PAINS alerts score 0'
    """
    description = getattr(scorer, "description", "")
    config = getattr(scorer, "config", None)
    if not isinstance(config, dict):
        name = getattr(scorer, "name", "")
        return f"{name}: {description}" if name and description else description or name or repr(scorer)
    parts = []
    for c in getattr(scorer, "components", []):
        t = c.transform
        window = f" {t.params['low']:g}–{t.params['high']:g}" if {"low", "high"} <= set(t.params) and \
            t.type not in ("maximize", "minimize") else ""
        weight = f", weight {c.weight:g}" if c.weight != 1 else ""
        parts.append(f"{c.name} ({_TRANSFORM_WORDS.get(t.type, t.type)}{window}{weight})")
    text = f"{config.get('aggregation', 'geometric')} mean of " + ", ".join(parts)
    catalogs = (config.get("filters") or {}).get("catalogs") or []
    if catalogs:
        text += f"; molecules raising {', '.join(map(str, catalogs))} alerts score 0"
    return f"{config['description']} ({text})" if config.get("description") else text


def _alerts(smiles: list[str]) -> list[list[str]]:
    from rdkit import Chem, rdBase

    from hygeia.molecules.filters import catalog_filter

    flt = catalog_filter("PAINS", "BRENK")
    out = []
    with rdBase.BlockLogs():
        for s in smiles:
            mol = Chem.MolFromSmiles(s) if isinstance(s, str) else None
            out.append(flt.hits(mol) if mol is not None else ["invalid SMILES"])
    return out


def _mol_svg(smiles: str, size: tuple[int, int] = (230, 180)) -> str:
    from rdkit import Chem, rdBase
    from rdkit.Chem.Draw import rdMolDraw2D

    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) else None
    if mol is None:
        return '<p class="muted">(cannot draw)</p>'
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    svg = drawer.GetDrawingText()
    return svg[svg.index("<svg"):]


def score_curve(scores: Any, *, width: int = 760, height: int = 300) -> str | None:
    """An SVG of the best score so far and the mean of the 10 best so far against oracle calls (None if empty)."""
    import numpy as np

    y = np.asarray(scores, dtype=float)
    if y.size == 0:
        return None
    y = np.where(np.isfinite(y), y, 0.0)
    best = np.maximum.accumulate(y)
    top10 = np.full(y.size, np.nan)
    kept: list[float] = []
    for i, v in enumerate(y):  # the 10 best so far, kept sorted
        kept = sorted([*kept, float(v)], reverse=True)[:10]
        if len(kept) == 10:
            top10[i] = float(np.mean(kept))
    left, right, top, bottom = 56, 16, 40, 46
    pw, ph = width - left - right, height - top - bottom
    hi = max(1.0, float(best.max()))
    step = max(1, y.size // 400)
    idx = list(range(0, y.size, step)) + ([y.size - 1] if (y.size - 1) % step else [])

    def pt(i: int, v: float) -> str:
        return f"{left + pw * (i + 1) / y.size:.1f},{top + ph * (1 - v / hi):.1f}"

    parts = [f'<rect width="{width}" height="{height}" fill="#fff"/>',
             (f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">'
              "Score against oracle calls</text>")]
    for k in range(6):
        v = hi * k / 5
        yy = top + ph * (1 - k / 5)
        parts.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end">{v:.1f}</text>')
    for k in range(6):
        c = round(y.size * k / 5)
        xx = left + pw * c / y.size
        parts.append(f'<text x="{xx:.1f}" y="{top + ph + 16}" text-anchor="middle">{c}</text>')
    parts.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>'
                 f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>')
    dots = "".join(f'<circle cx="{pt(i, y[i]).split(",")[0]}" cy="{pt(i, y[i]).split(",")[1]}" r="1.3"/>' for i in idx)
    parts.append(f'<g fill="#9aa5b1" fill-opacity="0.6">{dots}</g>')
    parts.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{" ".join(pt(i, best[i]) for i in idx)}"/>')
    t_idx = [i for i in idx if np.isfinite(top10[i])]
    if t_idx:
        parts.append(f'<polyline fill="none" stroke="#ff7f0e" stroke-width="2" '
                     f'points="{" ".join(pt(i, top10[i]) for i in t_idx)}"/>')
    legend = [("#1f77b4", "best so far"), ("#ff7f0e", "mean of the 10 best so far"), ("#9aa5b1", "each call")]
    for j, (colour, name) in enumerate(legend):
        x = left + 8 + j * 200
        parts.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{colour}"/><text x="{x + 14}" y="35">{name}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">oracle calls (unique molecules scored)</text>'
                 f'<text x="13" y="{top + ph / 2}" transform="rotate(-90 13 {top + ph / 2})" text-anchor="middle">score</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="score-curve" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">'
            + "".join(parts) + "</svg>")


def _summary_rows(summary: dict[str, Any], objective: str, n_calls: int | None) -> list[tuple[str, str]]:
    m = summary.get("metrics") or {}
    method = str(summary.get("method", ""))
    budget = summary.get("budget")
    calls = n_calls if n_calls is not None else m.get("calls", m.get("n_calls"))
    rows = [("Objective", objective or str(summary.get("scoring", ""))),
            ("Method", _METHOD_WORDS.get(method, method)),
            ("Budget", f"{budget:,} oracle calls" if isinstance(budget, int) else str(budget))]
    if calls is not None:
        used = f"{calls:,}" + (f" ({calls / budget:.0%} of the budget)" if isinstance(budget, int) and budget else "")
        stop = summary.get("stop_reason")
        rows.append(("Calls used", used + (f"; stopped because {_STOP_WORDS.get(stop, stop)}" if stop else "")))
    for key, label in (("top1", "Best score"), ("top10", "Mean of the 10 best"), ("auc_top10", "AUC of the top-10 curve")):
        if isinstance(m.get(key), (int, float)):
            rows.append((label, f"{m[key]:.3f}" + (" (area under the top-10 mean over the budget, 1 is best; "
                                                   "rewards finding good molecules early)" if key == "auc_top10" else "")))
    if isinstance(summary.get("seconds"), (int, float)):
        rows.append(("Time", f"{summary['seconds']:.1f} s"))
    if summary.get("seed") is not None:
        rows.append(("Seed", str(summary["seed"])))
    prior = summary.get("prior")
    if isinstance(prior, dict) and prior.get("name"):
        rows.append(("Prior", f"{prior['name']} (weights digest {prior.get('weights_digest', '?')})"))
    return rows


def write_report(
    path: str | os.PathLike[str], *, title: str, top: pd.DataFrame, summary: dict[str, Any],
    calls: pd.DataFrame | None = None, scorer: Any = None, overwrite: bool = False,
) -> Path:
    """A self-contained HTML report of an optimization run.

    It shows a readable summary (the objective in words, method, budget, calls
    used, best score, time), the score-versus-calls curve (best so far and
    mean of the 10 best so far; needs ``calls``), a grid of the top molecules
    with their SMILES, score and PAINS/Brenk alerts, a warning banner when any
    of the top 10 raise an alert, and the score table.

    Args:
        path: the ``.html`` file to write.
        title: the page title.
        top: the best molecules, best first (``smiles``, ``score`` and any component columns).
        summary: the run's ``run.json`` dict (method, budget, seed, stop_reason, seconds, metrics...).
        calls: every oracle call in order (``smiles``, ``score``), for the curve.
        scorer: the scoring function or objective, described in words (else ``summary["scoring"]``).
        overwrite: replace an existing file.
    """
    shown = top.head(20)
    smiles = [str(s) for s in shown["smiles"]]
    alerts = _alerts(smiles)
    n_top = min(10, len(smiles))
    flagged = [(i, a) for i, a in enumerate(alerts[:n_top]) if a]
    banner = ""
    if flagged:
        names = "; ".join(f"#{i + 1}: {', '.join(a)}" for i, a in flagged)
        banner = (f'<aside id="alert-banner"><strong>{len(flagged)} of the top {n_top} molecules raise PAINS or Brenk '
                  f"structural alerts</strong> ({html.escape(names)}). Such molecules often give false positives in "
                  "assays or are reactive or toxic; add <code>[filters] catalogs = [\"PAINS\", \"BRENK\"]</code> "
                  "to the scoring config to score them 0.</aside>")
    cards = []
    for i, (smi, score, hits) in enumerate(zip(smiles, shown["score"], alerts)):
        flags = ("".join(f'<span class="alert">{html.escape(h)}</span>' for h in hits) if hits
                 else '<span class="clean">no PAINS/Brenk alert</span>')
        cards.append(f'<figure class="mol{" flagged" if hits else ""}">{_mol_svg(smi)}<figcaption>'
                     f'<b>#{i + 1}</b> score {float(score):.3f}<code class="smiles">{html.escape(smi)}</code>'
                     f"{flags}</figcaption></figure>")
    grid = f'<div class="grid" id="molecule-grid">{"".join(cards)}</div>' if cards else "<p>(no valid molecule)</p>"
    curve = score_curve(calls["score"]) if calls is not None and len(calls) else None
    curve_html = (f'<div id="curve">{curve}</div>' if curve else
                  '<p class="muted">No oracle-call history was given, so there is no score curve.</p>')
    objective = describe_objective(scorer) if scorer is not None else ""
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                   for k, v in _summary_rows(summary, objective, None if calls is None else len(calls)))
    table = shown.drop(columns=[c for c in ("alerts",) if c in shown.columns])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head>
<body><h1>{html.escape(title)}</h1>
<h2>Summary</h2><table class="summary" id="summary">{rows}</table>
<details><summary>Run details (run.json)</summary><pre>{html.escape(json.dumps(summary, indent=2, default=str))}</pre></details>
{banner}
<h2>Progress</h2>{curve_html}
<h2>Top molecules</h2><p class="muted">Best first; each with its SMILES and the PAINS and Brenk structural alerts it raises.</p>{grid}
<h2>Scores</h2><div class="scroll"><table class="scores"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>
</body></html>
"""
    out = Path(path)
    with atomic_output(out, overwrite=overwrite, what="file") as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return out


_CSS = """body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
table.summary{font-size:14px}table.summary th{background:#f4f6f8;white-space:nowrap}pre{background:#f6f6f6;padding:1em}
.scroll{overflow-x:auto}.muted{color:#666}h2{border-bottom:2px solid #1f77b4;padding-bottom:4px;margin-top:28px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:10px}
figure.mol{margin:0;border:1px solid #ddd;padding:4px;background:#fff}figure.mol.flagged{border-color:#d9534f}
figure.mol svg{display:block;margin:auto;max-width:100%;height:auto}figcaption{font-size:12px}
code.smiles{display:block;font-size:11px;overflow-wrap:anywhere;margin:3px 0;color:#333}
.alert{display:inline-block;background:#f8c9c9;color:#7f1d1d;border-radius:8px;padding:0 6px;margin:1px 2px 0 0}
.clean{display:inline-block;background:#c8ecc9;color:#14532d;border-radius:8px;padding:0 6px}
aside#alert-banner{border:1px solid #d9534f;background:#fdf0ef;padding:8px 16px;margin:16px 0}
"""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
