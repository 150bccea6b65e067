"""Small inline-SVG plots for the evaluation report (no JavaScript, no external files).

Each function returns one ``<svg>`` element as a string: grouped bars, overlaid
histograms, and a correlation heat map. Colours follow a fixed two-series palette
(real = blue, synthetic = orange) so every plot of the report reads the same way.

Example:
    >>> svg = bars(["a", "b"], {"real": [0.4, 0.6], "synthetic": [0.5, 0.5]}, title="sex")
    >>> svg.startswith("<svg") and "</svg>" in svg
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["PALETTE", "bars", "heatmap", "histogram", "histogram_of"]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
_FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'


def _num(v: object) -> float:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000 or a < 0.01:
        return f"{v:.2g}"
    return f"{v:.3g}"


def _frame(width: int, height: int, title: str, body: list[str], label: str) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" aria-label="{escape(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" {_FONT} font-size="11">'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
        f'<text x="{width / 2:.1f}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{escape(title)}</text>'
    )
    return head + "".join(body) + "</svg>"


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for i, name in enumerate(names):
        xx = x + i * 110
        out.append(f'<rect x="{xx:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{xx + 14:.1f}" y="{y:.1f}">{escape(str(name))}</text>')
    return out


def _y_axis(x0: float, y0: float, h: float, top: float, w: float) -> list[str]:
    out = [f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 - h}" stroke="#333"/>']
    for k in range(5):
        v = top * k / 4
        y = y0 - h * k / 4
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    return out


def bars(
    categories: Sequence[object],
    series: Mapping[str, Sequence[object]],
    *,
    title: str = "",
    ylabel: str = "",
    width: int = 560,
    height: int = 300,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series."""
    cats = [str(c) for c in categories]
    names = list(series)
    values = {n: [_num(v) for v in series[n]] for n in names}
    top = max([v for vs in values.values() for v in vs] + [1e-12])
    left, right, bottom, upper = 56, 12, 70, 40
    pw, ph = width - left - right, height - bottom - upper
    x0, y0 = left, height - bottom
    body = _y_axis(x0, y0, ph, top, pw)
    n = max(len(cats), 1)
    gw = pw / n
    bw = gw * 0.8 / max(len(names), 1)
    for i, c in enumerate(cats):
        for j, name in enumerate(names):
            v = values[name][i] if i < len(values[name]) else 0.0
            h = ph * v / top
            x = x0 + i * gw + gw * 0.1 + j * bw
            body.append(
                f'<rect x="{x:.1f}" y="{y0 - h:.1f}" width="{max(bw - 1, 1):.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(name)} {escape(c)}: {_fmt(v)}</title></rect>'
            )
        if n <= 30 or i % math.ceil(n / 30) == 0:
            label = c if len(c) <= 14 else c[:13] + "…"
            cx = x0 + (i + 0.5) * gw
            body.append(
                f'<text x="{cx:.1f}" y="{y0 + 12}" text-anchor="end" '
                f'transform="rotate(-40 {cx:.1f} {y0 + 12})">{escape(label)}</text>'
            )
    body.append(f'<line x1="{x0}" y1="{y0}" x2="{x0 + pw}" y2="{y0}" stroke="#333"/>')
    if ylabel:
        body.append(f'<text x="12" y="{upper + ph / 2:.1f}" transform="rotate(-90 12 {upper + ph / 2:.1f})" '
                    f'text-anchor="middle">{escape(ylabel)}</text>')
    body += _legend(names, x0 + 4, 32)
    return _frame(width, height, title, body, title or "bar chart")


def histogram(
    edges: Sequence[object],
    series: Mapping[str, Sequence[object]],
    *,
    title: str = "",
    xlabel: str = "",
    width: int = 560,
    height: int = 300,
) -> str:
    """Overlaid histograms over shared bin ``edges`` (``len(edges) == len(counts) + 1``)."""
    e = [_num(v) for v in edges]
    names = list(series)
    values = {n: [_num(v) for v in series[n]] for n in names}
    top = max([v for vs in values.values() for v in vs] + [1e-12])
    left, right, bottom, upper = 56, 12, 44, 40
    pw, ph = width - left - right, height - bottom - upper
    x0, y0 = left, height - bottom
    body = _y_axis(x0, y0, ph, top, pw)
    lo, hi = (e[0], e[-1]) if len(e) >= 2 else (0.0, 1.0)
    span = (hi - lo) or 1.0

    def sx(v: float) -> float:
        return x0 + pw * (v - lo) / span

    for j, name in enumerate(names):
        colour = PALETTE[j % len(PALETTE)]
        for i, v in enumerate(values[name][: max(len(e) - 1, 0)]):
            h = ph * v / top
            xa, xb = sx(e[i]), sx(e[i + 1])
            body.append(
                f'<rect x="{xa:.1f}" y="{y0 - h:.1f}" width="{max(xb - xa, 0.5):.1f}" height="{h:.1f}" '
                f'fill="{colour}" fill-opacity="0.45" stroke="{colour}" stroke-width="0.6">'
                f"<title>{escape(name)} [{_fmt(e[i])}, {_fmt(e[i + 1])}): {_fmt(v)}</title></rect>"
            )
    body.append(f'<line x1="{x0}" y1="{y0}" x2="{x0 + pw}" y2="{y0}" stroke="#333"/>')
    for k in range(5):
        v = lo + span * k / 4
        body.append(f'<text x="{sx(v):.1f}" y="{y0 + 14}" text-anchor="middle">{_fmt(v)}</text>')
    if xlabel:
        body.append(f'<text x="{x0 + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">{escape(xlabel)}</text>')
    body += _legend(names, x0 + 4, 32)
    return _frame(width, height, title, body, title or "histogram")


def histogram_of(
    samples: Mapping[str, Sequence[object]], *, bins: int = 30, title: str = "", xlabel: str = ""
) -> str:
    """Bin raw ``samples`` (one list per series) on shared edges and draw :func:`histogram`."""
    clean = {k: [_num(v) for v in vs if v is not None] for k, vs in samples.items()}
    allv = [v for vs in clean.values() for v in vs]
    lo, hi = (min(allv), max(allv)) if allv else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    edges = [lo + (hi - lo) * i / bins for i in range(bins + 1)]
    counts = {}
    for k, vs in clean.items():
        c = [0.0] * bins
        for v in vs:
            c[min(int((v - lo) / (hi - lo) * bins), bins - 1)] += 1
        total = sum(c) or 1.0
        counts[k] = [x / total for x in c]
    return histogram(edges, counts, title=title, xlabel=xlabel)


def _diverging(v: float) -> str:
    """-1 blue .. 0 white .. +1 red."""
    v = max(-1.0, min(1.0, v))
    if v >= 0:
        r, g, b = 255, int(255 * (1 - v * 0.8)), int(255 * (1 - v * 0.85))
    else:
        r, g, b = int(255 * (1 + v * 0.85)), int(255 * (1 + v * 0.6)), 255
    return f"rgb({r},{g},{b})"


def heatmap(labels: Sequence[object], matrix: Sequence[Sequence[object]], *, title: str = "", size: int = 420) -> str:
    """A correlation heat map (values in [-1, 1]) with row and column labels."""
    labs = [str(x) for x in labels]
    n = max(len(labs), 1)
    margin = 110
    cell = (size - margin) / n
    width, height = size + 10, size + 30
    body = []
    for i in range(len(labs)):
        row = matrix[i] if i < len(matrix) else []
        for j in range(len(labs)):
            v = row[j] if j < len(row) else None
            ok = v is not None and isinstance(v, (int, float)) and math.isfinite(v)
            fill = _diverging(float(v)) if ok else "#dddddd"
            x, y = margin + j * cell, 30 + i * cell
            text = _fmt(float(v)) if ok else "n/a"
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" height="{cell:.1f}" fill="{fill}" stroke="#fff">'
                f"<title>{escape(labs[i])} × {escape(labs[j])}: {text}</title></rect>"
            )
            if n <= 12:
                body.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" '
                            f'font-size="9">{text}</text>')
        short = labs[i] if len(labs[i]) <= 16 else labs[i][:15] + "…"
        body.append(f'<text x="{margin - 4}" y="{30 + (i + 0.5) * cell + 4:.1f}" text-anchor="end">{escape(short)}</text>')
    return _frame(width, height, title, body, title or "heat map")
