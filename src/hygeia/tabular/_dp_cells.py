"""The cells of the DP table model: grids, encodings, coarse bins, estimation and sampling.

Everything here is post-processing of noisy measurements (or plain encoding of
the data before they are measured); :mod:`hygeia.tabular.dp` does the measuring
and the privacy accounting. See that module's documentation for the method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Powers of two covered by the DP range histogram; magnitudes below 2**_E_MIN count as zero.
_E_MIN, _E_MAX = -20, 70
#: Penalty per bucket (in noise standard deviations) when locating the data in the range histogram.
_RANGE_PENALTY = 2.0
#: Data are located in a noisy histogram only when its heaviest three cells exceed this many noise SDs.
_FOUND_SD = 4.0
#: Buckets taken around the heaviest ones when nothing in the range histogram clears the noise.
_WINDOW = 8
#: A sign is kept when its noisy mass in the range exceeds this many noise standard deviations.
_SIGN_SD = 3.0
#: A category (or the missing cell) gets its own coarse bin when its noisy count reaches this many sigmas.
_RARE_SD = 3.0
#: Numeric coarse bins: about sqrt(N / (_CELL_SD * sigma)), so two-way cells stay above the noise.
_CELL_SD = 3.0
_IPF_ITERATIONS = 500
#: Cells of the linear region around zero, below the magnitudes' range.
_ZERO_CELLS = 8
#: Penalty per cell (in noise standard deviations) when cutting the fine grid's empty tails.
_TRIM_PENALTY = 0.75


@dataclass
class _Attr:
    """One modelled column as the model sees it: cells, coarse bins and their public description."""

    name: str
    kind: str  # numeric | datetime | categorical
    nullable: bool
    categories: list[Any] | None = None
    edges: np.ndarray | None = None  # numeric/datetime: fine cell edges
    step: float | None = None  # lattice step of the values (10**-decimals), None for continuous
    dp_bounds: bool = False
    groups: np.ndarray | None = None  # cell -> coarse bin
    within: np.ndarray | None = None  # share of each cell inside its coarse bin

    @property
    def n_cells(self) -> int:
        base = len(self.categories) if self.kind == "categorical" else len(self.edges) - 1
        return base + int(self.nullable)

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1


# -- grids and encodings ----------------------------------------------------------------------------
_N_OCTAVES = _E_MAX - _E_MIN + 1
_N_OCTAVE_CELLS = 2 * _N_OCTAVES + 1


def _octave_index(x: np.ndarray) -> np.ndarray:
    """Bucket of each value by sign and power of two, most negative first; tiny magnitudes in the middle."""
    ax = np.abs(x)
    small = ax < 2.0**_E_MIN
    e = np.clip(np.floor(np.log2(np.where(small, 1.0, ax))), _E_MIN, _E_MAX).astype(np.int64)
    idx = np.where(x < 0, _E_MAX - e, _N_OCTAVES + 1 + (e - _E_MIN))
    return np.where(small, _N_OCTAVES, idx).astype(np.int64)


def _octave_grid(noisy: np.ndarray, sigma: float, sigma_one: float, fine_bins: int) -> tuple[np.ndarray, bool]:
    """Fine cell edges from the noisy sign/power-of-two histogram (post-processing only).

    The magnitudes' range comes from the histogram folded over the sign (see
    :func:`_support`; when that finds nothing, the ``_WINDOW`` adjacent octaves with
    the largest noisy mass); each sign is kept when its noisy mass in that range
    clears the noise (non-negative values are assumed when neither does).
    Magnitudes below the range form one linear region around zero (``_ZERO_CELLS``
    cells). The number of cells grows with the noisy row count relative to the
    one-way noise ``sigma_one`` (at most ``fine_bins``); each octave gets cells in
    proportion to its noisy mass (at least one). Returns the edges and whether
    the data were found above the noise.
    """
    neg, pos = noisy[:_N_OCTAVES][::-1], noisy[_N_OCTAVES + 1 :]  # both by magnitude, smallest first
    folded = neg + pos
    found = _support(folded, sigma * math.sqrt(2.0), _RANGE_PENALTY)
    if found is None:
        lo = int(np.argmax(np.convolve(folded, np.ones(_WINDOW), mode="valid")))
        hi = lo + _WINDOW - 1
    else:
        lo, hi = found
    octaves = np.arange(lo, hi + 1)
    noise = sigma * math.sqrt(len(octaves))
    has_neg, has_pos = neg[octaves].sum() > _SIGN_SD * noise, pos[octaves].sum() > _SIGN_SD * noise
    has_pos = has_pos or not has_neg  # when the noise hides the sign, assume non-negative values
    sides = [(side, mass) for side, mass, keep in ((-1, neg, has_neg), (1, pos, has_pos)) if keep]
    mass = np.concatenate([np.maximum(m[octaves], 0.0) for _, m in sides])
    total = max(float(mass.sum()), 1.0)
    n_cells = int(np.clip(round(2.0 * (total / sigma_one) ** (2.0 / 3.0)), 8, fine_bins))
    share = mass / mass.sum() if mass.sum() > 0 else np.full(len(mass), 1.0 / len(mass))
    inner = 2.0 ** (lo + _E_MIN)
    parts = [np.linspace(-inner if has_neg else 0.0, inner if has_pos else 0.0, _ZERO_CELLS + 1)]
    for (side, _), shares in zip(sides, np.split(share, len(sides))):
        for e, s in zip(octaves + _E_MIN, shares):
            k = max(1, int(round(n_cells * s)))
            parts.append(side * np.linspace(2.0**e, 2.0 ** (e + 1), k + 1))
    return np.unique(np.concatenate(parts)), found is not None


def _trim(a: _Attr, noisy: np.ndarray, sigma: float) -> np.ndarray:
    """Cut the grid's empty tails, judged from the noisy one-way (post-processing only).

    Returns the one-way restricted to the kept cells (plus the missing cell);
    ``a.edges`` shrinks to them. See :func:`_support`.
    """
    k = len(a.edges) - 1
    found = _support(noisy[:k], sigma, _TRIM_PENALTY)
    if found is None:
        return noisy
    lo, hi = found
    a.edges = a.edges[lo : hi + 2]
    return np.concatenate([noisy[lo:hi + 1], noisy[k:]])


def _support(cells: np.ndarray, sigma: float, penalty: float) -> tuple[int, int] | None:
    """Where the data plausibly lie in a noisy histogram: ``(first, last)`` cell, or None.

    Each cell scores ``count / sigma - penalty``, so a running sum of scores drifts
    down across empty cells. Starting from the heaviest cell of the heaviest three
    adjacent cells, the last cell is where the running sum to the right peaks and the first where the
    running sum to the left peaks; gaps inside the data are crossed when the data
    beyond outweigh them. None when even the heaviest three cells hold less than
    ``_FOUND_SD`` standard deviations of their noise (pure noise reaches that
    somewhere among 100 cells with probability about 0.3%).
    """
    k = len(cells)
    window = np.convolve(cells, np.ones(3), mode="same")
    centre = int(np.argmax(window))
    if window[centre] <= _FOUND_SD * sigma * math.sqrt(3.0):
        return None
    anchor = max(centre - 1, 0) + int(np.argmax(cells[max(centre - 1, 0) : centre + 2]))
    score = cells / sigma - penalty
    right = np.cumsum(score[anchor:])
    left = np.cumsum(score[anchor::-1])
    return anchor - int(np.argmax(left)), min(anchor + int(np.argmax(right)), k - 1)


def _snap(edges: np.ndarray, step: float | None) -> np.ndarray:
    """Move edges half-way between lattice points so every cell holds whole lattice values."""
    if step is None or len(edges) < 2 or (edges[-1] - edges[0]) / step > 1e12:
        return edges
    snapped = (np.ceil(edges / step - 1e-9) - 0.5) * step
    snapped[-1] = max(snapped[-1], snapped[0] + step)
    out = np.unique(snapped)
    return out if len(out) >= 2 else np.array([out[0], out[0] + step])


def _encode(a: _Attr, values: np.ndarray) -> np.ndarray:
    """Cell index of each value (the last cell is 'missing' when the column is nullable)."""
    if a.kind == "categorical":
        return values
    k = len(a.edges) - 1
    idx = np.clip(np.searchsorted(a.edges, np.nan_to_num(values), side="right") - 1, 0, k - 1)
    return np.where(np.isnan(values), k, idx).astype(np.int64)


# -- coarse bins ------------------------------------------------------------------------------------
def _coarse_groups(a: _Attr, cells: np.ndarray, sigma_two: float, n_bins: int) -> np.ndarray:
    """Map each cell to a coarse bin, from the projected noisy one-way (post-processing only)."""
    threshold = _RARE_SD * sigma_two
    if a.kind == "categorical":
        k = len(a.categories) + int(a.nullable)
        common = np.flatnonzero(cells[:k] >= threshold)
        groups = np.full(k, len(common), dtype=np.int64)  # the rare cells share one bin
        groups[common] = np.arange(len(common))
        return groups
    k = len(a.edges) - 1
    values = cells[:k]
    total = values.sum()
    want = int(np.clip(math.floor(math.sqrt(max(total, 0.0) / (_CELL_SD * sigma_two))), 2, n_bins))
    want = min(want, k)
    if total <= 0:
        values = np.ones(k)
        total = float(k)
    middle = (np.cumsum(values) - values / 2.0) / total
    raw = np.minimum((middle * want).astype(np.int64), want - 1)
    _, groups = np.unique(raw, return_inverse=True)
    groups = groups.astype(np.int64)
    if a.nullable:
        if cells[k] >= threshold:
            groups = np.append(groups, groups.max() + 1)
        else:
            sizes = np.bincount(groups, weights=values)
            groups = np.append(groups, int(np.argmax(sizes)))
    return groups


def _within_shares(cells: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each cell's share of its coarse bin (uniform where the bin has no mass)."""
    mass = np.bincount(groups, weights=cells)
    size = np.bincount(groups)
    share = np.where(mass[groups] > 0, cells / np.where(mass[groups] > 0, mass[groups], 1.0), 1.0 / size[groups])
    return share


# -- estimation -------------------------------------------------------------------------------------
def _weighted_total(measurements: list[tuple[np.ndarray, float]]) -> float:
    """Inverse-variance weighted estimate of the row count from noisy tables."""
    num = sum(t.sum() / (s**2 * t.size) for t, s in measurements)
    den = sum(1.0 / (s**2 * t.size) for t, s in measurements)
    return max(float(num / den), 1.0)


def _project_simplex(v: np.ndarray, total: float) -> np.ndarray:
    """Euclidean projection of ``v`` onto {x >= 0, sum(x) = total}."""
    flat = np.asarray(v, dtype=float).ravel()
    u = np.sort(flat)[::-1]
    css = np.cumsum(u) - total
    ranks = np.arange(1, len(u) + 1)
    ok = u - css / ranks > 0
    r = int(ranks[ok][-1])
    theta = css[ok][-1] / r
    return np.maximum(flat - theta, 0.0).reshape(np.shape(v))


def _fit_table(noisy: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Non-negative table close to ``noisy`` whose margins are ``rows`` and ``cols`` (projection + IPF)."""
    total = rows.sum()
    table = _project_simplex(noisy, total)
    table = table + 1e-6 * np.outer(rows, cols) / max(total, 1e-12)
    for _ in range(_IPF_ITERATIONS):
        r = table.sum(axis=1)
        table *= np.divide(rows, r, out=np.zeros_like(r), where=r > 0)[:, None]
        c = table.sum(axis=0)
        table *= np.divide(cols, c, out=np.zeros_like(c), where=c > 0)[None, :]
        if np.abs(table.sum(axis=1) - rows).max() <= 1e-9 * max(total, 1.0):
            break
    return table


def _contingency(x: np.ndarray, y: np.ndarray, kx: int, ky: int) -> np.ndarray:
    return np.bincount(x * ky + y, minlength=kx * ky).reshape(kx, ky).astype(float)


def _orient(d: int, edges: list[tuple[int, int]]) -> tuple[list[int], dict[int, int]]:
    """Breadth-first order of the tree from attribute 0, and each node's parent."""
    neighbours: dict[int, list[int]] = {i: [] for i in range(d)}
    for u, v in edges:
        neighbours[u].append(v)
        neighbours[v].append(u)
    order, parent, seen = [0], {}, {0}
    for node in order:
        for nb in sorted(neighbours[node]):
            if nb not in seen:
                seen.add(nb)
                parent[nb] = node
                order.append(nb)
    return order, parent


# -- sampling ---------------------------------------------------------------------------------------
def _draw(cond: np.ndarray, given: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from the row ``given[i]`` of the conditional table ``cond``."""
    cum = np.cumsum(cond, axis=1)
    cum /= np.where(cum[:, -1:] > 0, cum[:, -1:], 1.0)
    u = rng.random(len(given))
    out = np.empty(len(given), dtype=np.int64)
    for g in np.unique(given):
        mask = given == g
        out[mask] = np.minimum(np.searchsorted(cum[g], u[mask], side="right"), cond.shape[1] - 1)
    return out


def _draw_cells(a: _Attr, groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(len(groups))
    out = np.empty(len(groups), dtype=np.int64)
    for g in np.unique(groups):
        members = np.flatnonzero(a.groups == g)
        cum = np.cumsum(a.within[members])
        mask = groups == g
        pos = np.searchsorted(cum / cum[-1], u[mask], side="right")
        out[mask] = members[np.minimum(pos, len(members) - 1)]
    return out


def _decode(a: _Attr, cells: np.ndarray, rng: np.random.Generator) -> Any:
    if a.kind == "categorical":
        values = np.array(list(a.categories) + [None], dtype=object)
        return values[np.minimum(cells, len(values) - 1)]
    k = len(a.edges) - 1
    missing = cells >= k
    c = np.minimum(cells, k - 1)
    lo, hi = a.edges[c], a.edges[c + 1]
    if a.step is not None and (a.edges[-1] - a.edges[0]) / a.step <= 1e12:
        first = np.ceil(lo / a.step - 1e-9)
        count = np.maximum(np.floor(hi / a.step + 1e-9) - first + 1, 1)
        count = np.where(first * a.step >= hi, 1, count)
        x = (first + np.floor(rng.random(len(c)) * count)) * a.step
        x = np.minimum(x, hi)
    else:
        x = lo + rng.random(len(c)) * (hi - lo)
    return np.where(missing, np.nan, x)
