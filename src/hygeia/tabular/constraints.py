"""Constraints that every sampled row must satisfy.

A constraint is a small JSON-able dict, stored in the metadata:

* ``{"type": "range", "column": "age", "low": 0, "high": 120}`` — either bound may be omitted;
* ``{"type": "inequality", "low": "admit_time", "high": "discharge_time", "strict": false}``
  — ``low <= high`` (``<`` when strict) wherever both are present;
* ``{"type": "allowed", "columns": ["sex", "code"], "combinations": [["F", "O80"], ...]}``
  — only the listed combinations may appear (where all values are present);
  ``"combinations": "observed"`` takes the combinations seen in the real data.

Generators sample, keep the rows that satisfy every constraint and sample
again for the rest (:func:`sample_with_constraints`). :func:`check_constraints`
refuses real data that violates a declared constraint, naming it and a row.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 4]})
    >>> constraint_mask(df, [{"type": "inequality", "low": "a", "high": "b"}]).tolist()
    [True, True, True]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hygeia.errors import ConfigError, DataValidationError, SimulationError

if TYPE_CHECKING:
    from hygeia.tabular.metadata import Metadata

__all__ = ["CONSTRAINT_TYPES", "check_constraints", "constraint_mask", "resolve_constraints", "sample_with_constraints"]

CONSTRAINT_TYPES = ("range", "inequality", "allowed")


def _describe(c: dict[str, Any]) -> str:
    kind = c.get("type")
    if kind == "range":
        return f"range of {c.get('column')!r} [{c.get('low', '-inf')}, {c.get('high', 'inf')}]"
    if kind == "inequality":
        op = "<" if c.get("strict") else "<="
        return f"inequality {c.get('low')!r} {op} {c.get('high')!r}"
    if kind == "allowed":
        return f"allowed combinations of {c.get('columns')!r}"
    return repr(c)


def _validate(constraints: list[dict[str, Any]], columns: list[str]) -> list[str]:
    problems = []
    for i, c in enumerate(constraints):
        where = f"constraints[{i}]"
        if not isinstance(c, dict) or c.get("type") not in CONSTRAINT_TYPES:
            problems.append(f"{where}: type must be one of {CONSTRAINT_TYPES}; got {c!r}")
            continue
        needed = {"range": ["column"], "inequality": ["low", "high"], "allowed": ["columns", "combinations"]}[c["type"]]
        for key in needed:
            if key not in c:
                problems.append(f"{where} ({c['type']}): missing key {key!r}")
        cols = [c.get("column")] if c["type"] == "range" else (
            [c.get("low"), c.get("high")] if c["type"] == "inequality" else list(c.get("columns") or [])
        )
        for col in cols:
            if col is not None and col not in columns:
                problems.append(f"{where} ({_describe(c)}): no column {col!r}")
        if c["type"] == "range" and "low" not in c and "high" not in c:
            problems.append(f"{where} (range of {c.get('column')!r}): give 'low', 'high' or both")
    return problems


def resolve_constraints(df: pd.DataFrame, constraints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate ``constraints`` against ``df``'s columns and fill ``"observed"`` combinations."""
    problems = _validate(constraints, list(map(str, df.columns)))
    if problems:
        raise ConfigError("invalid constraints:\n" + "\n".join(f"  - {p}" for p in problems))
    out = []
    for c in constraints:
        c = dict(c)
        if c["type"] == "allowed" and c["combinations"] == "observed":
            sub = df[list(c["columns"])].dropna().drop_duplicates()
            c["combinations"] = [[_plain(v) for v in row] for row in sub.itertuples(index=False)]
        out.append(c)
    return out


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def constraint_mask(df: pd.DataFrame, constraints: list[dict[str, Any]]) -> np.ndarray:
    """Boolean array: which rows satisfy every constraint (missing values satisfy)."""
    ok = np.ones(len(df), dtype=bool)
    for c in constraints:
        ok &= _one_mask(df, c)
    return ok


def _one_mask(df: pd.DataFrame, c: dict[str, Any]) -> np.ndarray:
    kind = c["type"]
    if kind == "range":
        s = df[c["column"]]
        good = np.ones(len(df), dtype=bool)
        if c.get("low") is not None:
            good &= ~(s < _coerce(c["low"], s)).fillna(False).to_numpy(dtype=bool)
        if c.get("high") is not None:
            good &= ~(s > _coerce(c["high"], s)).fillna(False).to_numpy(dtype=bool)
        return good
    if kind == "inequality":
        lo, hi = df[c["low"]], df[c["high"]]
        bad = (lo >= hi) if c.get("strict") else (lo > hi)
        return ~bad.fillna(False).to_numpy(dtype=bool)
    cols = list(c["columns"])
    allowed = {tuple(_norm(v) for v in combo) for combo in c["combinations"]}
    sub = df[cols]
    present = sub.notna().all(axis=1).to_numpy()
    keys = [tuple(_norm(v) for v in row) for row in sub.itertuples(index=False)]
    inside = np.fromiter((k in allowed for k in keys), dtype=bool, count=len(keys))
    return ~present | inside


def _norm(v: Any) -> Any:
    v = _plain(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _coerce(bound: Any, s: pd.Series) -> Any:
    if pd.api.types.is_datetime64_any_dtype(s):
        return pd.Timestamp(bound)
    return bound


def check_constraints(df: pd.DataFrame, constraints: list[dict[str, Any]], meta: "Metadata | None" = None) -> None:
    """Raise :class:`DataValidationError` naming every constraint the real data violates."""
    resolved = resolve_constraints(df, constraints)
    problems = []
    for c in resolved:
        bad = ~_one_mask(df, c)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            problems.append(
                f"{_describe(c)} is violated by {int(bad.sum())} of {len(df)} rows (first: row {first}: "
                f"{df.iloc[first].to_dict()}); fix those rows or drop the constraint"
            )
    if problems:
        raise DataValidationError(problems, header="the data violates its declared constraints")


def sample_with_constraints(
    draw: Callable[[int, np.random.Generator], pd.DataFrame],
    n: int,
    constraints: list[dict[str, Any]],
    rng: np.random.Generator,
    *,
    max_rounds: int = 50,
) -> pd.DataFrame:
    """Rejection sampling: call ``draw(k, rng)`` until ``n`` rows satisfy ``constraints``.

    Raises:
        SimulationError: if fewer than ``n`` valid rows appear within ``max_rounds`` rounds
            (the constraints almost never hold under the fitted model).
    """
    if not constraints:
        return draw(n, rng).reset_index(drop=True)
    kept: list[pd.DataFrame] = []
    have = 0
    accept = 1.0
    for _ in range(max_rounds):
        want = n - have
        k = int(min(max(want / max(accept, 0.02) * 1.1, want), 50 * want + 100))
        batch = draw(k, rng)
        mask = constraint_mask(batch, constraints)
        accept = max(float(mask.mean()), 1e-3)
        good = batch[mask]
        kept.append(good.iloc[:want])
        have += min(len(good), want)
        if have >= n:
            return pd.concat(kept, ignore_index=True)
    raise SimulationError(
        f"only {have} of {n} sampled rows satisfied the constraints after {max_rounds} rounds "
        f"(acceptance {accept:.3%}); check that the constraints hold in the training data"
    )
