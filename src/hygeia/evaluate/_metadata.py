"""Column typing, input validation and the shared numeric encoding of the audit.

Every column is one of the types of the one detector that ``hygeia fit`` also uses
(:mod:`hygeia.core.columns`), so a column is compared as the type it was learned as:

* ``numeric``: numbers (compared with KS, Pearson, distances);
* ``categorical``: labels, booleans, codes, few-valued whole numbers (total variation);
* ``datetime``: timestamps, compared as numbers (nanoseconds since the epoch);
* ``id`` and ``text``: identifiers and free text; left out of every metric.

Types are detected and may be declared per column (``--type COL=TYPE``,
``--metadata FILE``, ``column_types=`` in Python). A column declared ``numeric``
reads values that are not numbers (``'unknown'``) as missing.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [40.5, 51.0], "sex": ["F", "M"]})
    >>> infer_column_types(df)
    {'age': 'numeric', 'sex': 'categorical'}
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hygeia.core.columns import COLUMN_TYPES, detect_types, to_datetimes, to_numbers
from hygeia.errors import DataValidationError

__all__ = ["COLUMN_TYPES", "UNCOMPARED", "Encoder", "TableSpec", "infer_column_types", "prepare", "validate_inputs"]

#: Column types left out of every metric.
UNCOMPARED = ("id", "text")
_MAX_ONE_HOT = 20


def infer_column_types(df: pd.DataFrame, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Each column's type, from the one detector (:func:`hygeia.core.columns.detect_types`).

    Args:
        df: the (real) table.
        overrides: ``{column: type}`` that wins over detection.

    Returns:
        ``{column: "numeric" | "categorical" | "datetime" | "id" | "text"}`` in column order.
    """
    return detect_types(df, overrides).types


def _check_convertible(df: pd.DataFrame, label: str, types: dict[str, str], problems: list[str]) -> None:
    for name, kind in types.items():
        if name not in df.columns or kind not in ("numeric", "datetime"):
            continue
        s = df[name]
        if kind == "numeric":
            if pd.api.types.is_bool_dtype(s):
                continue
            conv = to_numbers(s)
        else:
            if pd.api.types.is_datetime64_any_dtype(s):
                continue
            conv = to_datetimes(s)
        bad = s.notna() & conv.isna()
        # a numeric column reads text ('unknown') as missing; only a column with no number at all is refused
        if bad.any() and (kind == "datetime" or not (s.notna() & conv.notna()).any()):
            examples = ", ".join(repr(v) for v in s[bad].astype(str).unique()[:3])
            problems.append(
                f"{label} column {name!r} is declared {kind} but holds {int(bad.sum())} value(s) that are not"
                f" {'numbers' if kind == 'numeric' else 'dates'} (e.g. {examples}); clean them or declare it"
                f" 'categorical' in column_types"
            )


def validate_inputs(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    holdout: pd.DataFrame | None,
    target: str | None,
    time_column: str | None,
    event_column: str | None,
    quasi_identifiers: list[str] | None,
    sensitive: list[str] | None,
    subgroups: list[str] | None,
    column_types: dict[str, str] | None,
) -> dict[str, str]:
    """Check everything the audit needs at once; return the column types.

    Raises:
        DataValidationError: listing every problem found.
    """
    problems: list[str] = []
    frames = {"real": real, "synthetic": synthetic}
    if holdout is not None:
        frames["holdout"] = holdout
    for label, df in frames.items():
        if not isinstance(df, pd.DataFrame):
            problems.append(f"{label} must be a pandas DataFrame; got {type(df).__name__}")
        elif df.shape[0] == 0 or df.shape[1] == 0:
            problems.append(f"{label} table is empty ({df.shape[0]} rows, {df.shape[1]} columns); pass a table with data")
    if problems:
        raise DataValidationError(problems)
    cols = list(real.columns)
    if len(set(map(str, cols))) != len(cols):
        problems.append("real has duplicated column names; rename them")
    for label in ("synthetic", "holdout"):
        if label not in frames:
            continue
        other = frames[label]
        missing = [c for c in cols if c not in other.columns]
        extra = [c for c in other.columns if c not in cols]
        if missing:
            problems.append(f"{label} lacks column(s) of real: {missing}; the tables must have the same columns")
        if extra:
            problems.append(f"{label} has column(s) not in real: {extra}; the tables must have the same columns")
    for arg, value in (("target", target), ("time_column", time_column), ("event_column", event_column)):
        if value is not None and value not in cols:
            problems.append(f"{arg} {value!r} is not a column of real; columns are {cols}")
    if (time_column is None) != (event_column is None):
        problems.append("time_column and event_column must be given together (for the C-index)")
    for arg, values in (("quasi_identifiers", quasi_identifiers), ("sensitive", sensitive), ("subgroups", subgroups)):
        for value in values or []:
            if value not in cols:
                problems.append(f"{arg} names {value!r}, which is not a column of real; columns are {cols}")
    for name, kind in (column_types or {}).items():
        if name not in cols:
            problems.append(f"--type {name}={kind} (in Python: column_types) names {name!r}, which is not a column "
                            f"of real; columns are {cols}")
        if kind not in COLUMN_TYPES:
            problems.append(f"--type {name}={kind} (in Python: column_types): {kind!r} is not a column type; use one "
                            f"of {', '.join(COLUMN_TYPES)}")
    known = {k: v for k, v in (column_types or {}).items() if k in cols and v in COLUMN_TYPES}
    types = infer_column_types(real, known)
    for label, df in frames.items():
        _check_convertible(df, label, types, problems)
    if time_column in types and types[time_column] != "numeric":
        problems.append(f"time_column {time_column!r} must be numeric; it is {types[time_column]}")
    if target is not None and types.get(target) in UNCOMPARED:
        problems.append(f"target {target!r} is an {types[target]} column; choose an outcome column, or declare its "
                        f"type (--type {target}=categorical)")
    if not any(t not in UNCOMPARED for t in types.values()):
        problems.append("no column left to compare once id and text columns are set aside")
    if problems:
        raise DataValidationError(problems)
    return types


def prepare(df: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Coerce columns to their types: numbers and dates to float64, labels to strings (NaN kept)."""
    out = {}
    for name, kind in types.items():
        s = df[name]
        if kind == "numeric":
            out[name] = to_numbers(s).to_numpy(dtype="float64", na_value=np.nan)
        elif kind == "datetime":
            s = to_datetimes(s)
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_convert("UTC").dt.tz_localize(None)
            ns = s.astype("datetime64[ns]")
            vals = ns.to_numpy().astype("int64").astype("float64")
            vals[ns.isna().to_numpy()] = np.nan
            out[name] = vals
        elif kind == "categorical":
            values = s.astype(object)
            mask = s.isna().to_numpy()
            strs = np.array([str(v) for v in values.to_numpy()], dtype=object)
            strs[mask] = None
            out[name] = strs
        else:
            out[name] = s.to_numpy(dtype=object)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


@dataclass
class TableSpec:
    """Types of the audited columns."""

    types: dict[str, str]

    def columns(self, *kinds: str, exclude: tuple[str, ...] = ()) -> list[str]:
        return [c for c, t in self.types.items() if t in kinds and c not in exclude]


@dataclass
class Encoder:
    """Numeric encoding fitted on real data: scaled numbers, one-hot labels.

    Numbers and dates are standardised with the real mean and deviation, missing
    values imputed with the real median plus a missing flag; labels become one-hot
    columns of their most frequent values (others share one column) scaled by
    ``1/sqrt(2)`` so that two rows differing in one label are at distance 1.
    """

    columns: list[str]
    types: dict[str, str]
    stats_: dict[str, tuple[float, float, float, bool]] = field(default_factory=dict)
    levels_: dict[str, list[str]] = field(default_factory=dict)

    def fit(self, df: pd.DataFrame) -> Encoder:
        for c in self.columns:
            s = df[c]
            if self.types[c] in ("numeric", "datetime"):
                v = s.to_numpy(dtype=float)
                finite = v[~np.isnan(v)]
                if finite.size == 0:
                    self.stats_[c] = (0.0, 1.0, 0.0, True)
                    continue
                mean, std = float(finite.mean()), float(finite.std())
                self.stats_[c] = (mean, std if std > 0 else 1.0, float(np.median(finite)), bool(np.isnan(v).any()))
            else:
                counts = s.astype(object).where(s.notna(), "<NA>").value_counts()
                self.levels_[c] = [str(x) for x in counts.index[:_MAX_ONE_HOT]]
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        for c in self.columns:
            s = df[c]
            if self.types[c] in ("numeric", "datetime"):
                mean, std, median, has_nan = self.stats_[c]
                v = s.to_numpy(dtype=float)
                nan = np.isnan(v)
                v = np.where(nan, median, v)
                blocks.append(((v - mean) / std)[:, None])
                if has_nan:
                    blocks.append(nan.astype(float)[:, None])
            else:
                levels = self.levels_[c]
                vals = s.astype(object).where(s.notna(), "<NA>").to_numpy(dtype=object)
                codes = pd.Categorical(vals, categories=levels).codes
                onehot = np.zeros((len(vals), len(levels) + 1))
                onehot[np.arange(len(vals)), np.where(codes < 0, len(levels), codes)] = 1.0
                blocks.append(onehot / np.sqrt(2.0))
        if not blocks:
            return np.zeros((len(df), 1))
        return np.hstack(blocks).astype(np.float64)
