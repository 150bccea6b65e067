"""Small inline-SVG plots for the evaluation report (no JavaScript, no external files).

Each function returns one ``<svg>`` element as a string: grouped bars, overlaid
histograms, and a heat map with its colour scale. Colours follow a fixed
two-series palette (real = blue, synthetic = orange) so every plot of the
report reads the same way. Axes carry labels and round tick values; tick
labels are kept inside the drawing (margins grow with the longest label),
and a heat map prints its numbers only when the cells are large enough to
hold them.

Example:
    >>> svg = bars(["a", "b"], {"real": [0.4, 0.6], "synthetic": [0.5, 0.5]}, title="sex")
    >>> svg.startswith("<svg") and "</svg>" in svg
    True
    >>> nice_ticks(0.0, 5200.0)
    [0.0, 2000.0, 4000.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["PALETTE", "bars", "has_data", "heatmap", "histogram", "histogram_of", "nice_ticks", "tick_label"]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
_FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
_CHAR_W = 6.2  # width of one 11px character, for margins and truncation


def _num(v: object) -> float:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def has_data(series: Mapping[str, Sequence[object]]) -> bool:
    """Whether any value of ``series`` is a finite non-zero number (else a chart would be empty)."""
    return any(_num(v) != 0.0 for vs in series.values() for v in vs)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else [0.0]
    raw = (hi - lo) / max(n, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks, k = [], 0
    while start + k * step <= hi + step * 1e-9:
        ticks.append(float(round(start + k * step, 12)))
        k += 1
    return ticks


def tick_label(v: float, step: float | None = None) -> str:
    """A short label for ``v``: no exponent for ordinary values, as few decimals as ``step`` needs."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6 or a < 1e-4:
        return f"{v:.2g}"
    if step is not None and step > 0:
        decimals = next((d for d in range(7) if abs(round(step, d) - step) < step * 1e-6), 6)
        return f"{v:.{decimals}f}"
    return f"{v:.4g}" if a < 1e4 else f"{v:.0f}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame(width: float, height: float, title: str, body: list[str], label: str) -> str:
    w, h = round(width), round(height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" aria-label="{escape(label)}" '
        f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" {_FONT} font-size="11">'
        f'<rect width="{w}" height="{h}" fill="#ffffff"/>'
        f'<text x="{w / 2:.1f}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{escape(title)}</text>'
    )
    return head + "".join(body) + "</svg>"


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    out, xx = [], x
    for i, name in enumerate(names):
        out.append(f'<rect x="{xx:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{xx + 14:.1f}" y="{y:.1f}">{escape(str(name))}</text>')
        xx += 30 + _CHAR_W * len(str(name))
    return out


def _y_axis(x0: float, y0: float, h: float, top: float, w: float, ylabel: str) -> tuple[list[str], float]:
    """Grid lines and labels of a y axis from 0 to ``top``; returns the parts and the axis maximum."""
    ticks = nice_ticks(0.0, top, 4)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else None
    if step and ticks[-1] < top - step * 1e-9:
        ticks.append(ticks[-1] + step)
    top = max(ticks[-1], top) if ticks else top
    out = [f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 - h}" stroke="#333"/>']
    for v in ticks:
        y = y0 - h * v / top
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{tick_label(v, step)}</text>')
    if ylabel:
        yc = y0 - h / 2
        out.append(f'<text x="13" y="{yc:.1f}" transform="rotate(-90 13 {yc:.1f})" text-anchor="middle">'
                   f"{escape(ylabel)}</text>")
    return out, top


def bars(
    categories: Sequence[object],
    series: Mapping[str, Sequence[object]],
    *,
    title: str = "",
    ylabel: str = "",
    xlabel: str = "",
    width: int | None = None,
    height: int = 300,
    top: float | None = None,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series.

    The width grows with the number of categories (``width`` sets it); labels
    are rotated when they would not fit under their group, and the bottom
    margin makes room for them. ``top`` fixes the y-axis maximum (e.g. 1 for rates).
    """
    cats = [str(c) for c in categories]
    names = list(series)
    values = {n: [_num(v) for v in series[n]] for n in names}
    n = max(len(cats), 1)
    group = min(90.0, max(22.0, 16.0 * len(names) + 12))
    left, right, upper = 58, 14, 44
    width = width or int(min(1100, max(440, left + right + n * group)))
    pw = width - left - right
    gw = pw / n
    every = max(1, math.ceil(n / 40))
    labels = [_short(c, 18) for c in cats]
    longest = max((len(lb) for lb in labels), default=1)
    rotate = longest * _CHAR_W > gw * every - 4
    label_h = (longest * _CHAR_W * 0.72 + 14) if rotate else 18
    bottom = label_h + (22 if xlabel else 8)
    height = int(max(height, upper + 140 + bottom))
    ph = height - bottom - upper
    x0, y0 = left, upper + ph
    peak = max([v for vs in values.values() for v in vs] + [0.0])
    body, axis_top = _y_axis(x0, y0, ph, top if top is not None else (peak if peak > 0 else 1.0), pw, ylabel)
    bw = min(gw * 0.8 / max(len(names), 1), 40.0)
    pad = (gw - bw * len(names)) / 2
    for i, c in enumerate(cats):
        for j, name in enumerate(names):
            v = values[name][i] if i < len(values[name]) else 0.0
            h = ph * max(v, 0.0) / axis_top
            x = x0 + i * gw + pad + j * bw
            body.append(
                f'<rect x="{x:.1f}" y="{y0 - h:.1f}" width="{max(bw - 1, 1):.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(name)} {escape(c)}: {tick_label(v)}</title></rect>'
            )
        if i % every == 0:
            cx = x0 + (i + 0.5) * gw
            if rotate:
                body.append(f'<text x="{cx + 3:.1f}" y="{y0 + 12}" text-anchor="end" '
                            f'transform="rotate(-45 {cx + 3:.1f} {y0 + 12})">{escape(labels[i])}</text>')
            else:
                body.append(f'<text x="{cx:.1f}" y="{y0 + 14}" text-anchor="middle">{escape(labels[i])}</text>')
    body.append(f'<line x1="{x0}" y1="{y0}" x2="{x0 + pw}" y2="{y0}" stroke="#333"/>')
    if xlabel:
        body.append(f'<text x="{x0 + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">{escape(xlabel)}</text>')
    body += _legend(names, x0 + 4, 34)
    return _frame(width, height, title, body, title or "bar chart")


def histogram(
    edges: Sequence[object],
    series: Mapping[str, Sequence[object]],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "share of rows",
    width: int = 440,
    height: int = 290,
) -> str:
    """Overlaid histograms over shared bin ``edges`` (``len(edges) == len(counts) + 1``)."""
    e = [_num(v) for v in edges]
    names = list(series)
    values = {n: [_num(v) for v in series[n]] for n in names}
    left, right, bottom, upper = 58, 22, 46, 44
    pw, ph = width - left - right, height - bottom - upper
    x0, y0 = left, height - bottom
    peak = max([v for vs in values.values() for v in vs] + [0.0])
    body, axis_top = _y_axis(x0, y0, ph, peak if peak > 0 else 1.0, pw, ylabel)
    lo, hi = (e[0], e[-1]) if len(e) >= 2 else (0.0, 1.0)
    span = (hi - lo) or 1.0

    def sx(v: float) -> float:
        return x0 + pw * (v - lo) / span

    for j, name in enumerate(names):
        colour = PALETTE[j % len(PALETTE)]
        for i, v in enumerate(values[name][: max(len(e) - 1, 0)]):
            h = ph * v / axis_top
            xa, xb = sx(e[i]), sx(e[i + 1])
            body.append(
                f'<rect x="{xa:.1f}" y="{y0 - h:.1f}" width="{max(xb - xa, 0.5):.1f}" height="{h:.1f}" '
                f'fill="{colour}" fill-opacity="0.45" stroke="{colour}" stroke-width="0.6">'
                f"<title>{escape(name)} [{tick_label(e[i])}, {tick_label(e[i + 1])}): {tick_label(v)}</title></rect>"
            )
    body.append(f'<line x1="{x0}" y1="{y0}" x2="{x0 + pw}" y2="{y0}" stroke="#333"/>')
    ticks = nice_ticks(lo, hi, 4)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else None
    for v in ticks:
        body.append(f'<line x1="{sx(v):.1f}" y1="{y0}" x2="{sx(v):.1f}" y2="{y0 + 4}" stroke="#333"/>')
        body.append(f'<text x="{sx(v):.1f}" y="{y0 + 16}" text-anchor="middle">{tick_label(v, step)}</text>')
    if xlabel:
        body.append(f'<text x="{x0 + pw / 2:.1f}" y="{height - 8}" text-anchor="middle">{escape(xlabel)}</text>')
    body += _legend(names, x0 + 4, 34)
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
    return histogram(edges, counts, title=title, xlabel=xlabel, width=560)


def _diverging(v: float, scale: float) -> str:
    """-scale blue .. 0 white .. +scale red."""
    v = max(-1.0, min(1.0, v / scale))
    if v >= 0:
        r, g, b = 255, int(255 * (1 - v * 0.8)), int(255 * (1 - v * 0.85))
    else:
        r, g, b = int(255 * (1 + v * 0.85)), int(255 * (1 + v * 0.6)), 255
    return f"rgb({r},{g},{b})"


def _colour_scale(x: float, y: float, h: float, scale: float, label: str) -> list[str]:
    """A vertical colour bar from -scale (bottom) to +scale (top) with five labelled ticks."""
    steps, out = 40, []
    for k in range(steps):
        v = scale * (1 - 2 * (k + 0.5) / steps)
        out.append(f'<rect x="{x:.1f}" y="{y + h * k / steps:.1f}" width="14" height="{h / steps + 0.6:.1f}" '
                   f'fill="{_diverging(v, scale)}"/>')
    out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="14" height="{h:.1f}" fill="none" stroke="#999"/>')
    for k in range(5):
        v = scale * (1 - k / 2)
        yy = y + h * k / 4
        out.append(f'<line x1="{x + 14:.1f}" y1="{yy:.1f}" x2="{x + 18:.1f}" y2="{yy:.1f}" stroke="#333"/>')
        out.append(f'<text x="{x + 21:.1f}" y="{yy + 4:.1f}">{tick_label(v, scale / 2)}</text>')
    xc = x + 58
    yc = y + h / 2
    out.append(f'<text x="{xc:.1f}" y="{yc:.1f}" transform="rotate(90 {xc:.1f} {yc:.1f})" text-anchor="middle">'
               f"{escape(label)}</text>")
    return out


def heatmap(
    labels: Sequence[object],
    matrix: Sequence[Sequence[object]],
    *,
    title: str = "",
    scale: float = 1.0,
    legend: str = "Pearson r",
    size: int = 300,
) -> str:
    """A heat map of values in ``[-scale, scale]`` with row and column labels and a colour scale.

    Cells print their value only when they are at least 34 pixels wide (else
    the value is in each cell's tooltip), so numbers never overlap.
    """
    labs = [str(x) for x in labels]
    n = max(len(labs), 1)
    short = [_short(lb, 16) for lb in labs]
    margin = 12 + _CHAR_W * max((len(s) for s in short), default=4)
    cell = max(10.0, min(48.0, size / n))
    grid = cell * n
    top = 30.0
    width = margin + grid + 96
    height = top + grid + margin * 0.72 + 12
    body = []
    for i in range(len(labs)):
        row = matrix[i] if i < len(matrix) else []
        for j in range(len(labs)):
            v = row[j] if j < len(row) else None
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            fill = _diverging(float(v), scale) if ok else "#dddddd"
            x, y = margin + j * cell, top + i * cell
            text = f"{float(v):.2f}" if ok else "n/a"
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" height="{cell:.1f}" fill="{fill}" stroke="#fff">'
                f"<title>{escape(labs[i])} × {escape(labs[j])}: {text}</title></rect>"
            )
            if cell >= 34:
                body.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 3.5:.1f}" text-anchor="middle" '
                            f'font-size="{min(11.0, cell / 3.6):.1f}">{text}</text>')
        body.append(f'<text x="{margin - 4:.1f}" y="{top + (i + 0.5) * cell + 4:.1f}" text-anchor="end">'
                    f"{escape(short[i])}</text>")
        cx, cy = margin + (i + 0.5) * cell + 3, top + grid + 8
        body.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="end" transform="rotate(-60 {cx:.1f} {cy:.1f})">'
                    f"{escape(short[i])}</text>")
    body += _colour_scale(margin + grid + 14, top, grid, scale, legend)
    return _frame(width, height, title, body, title or "heat map")
