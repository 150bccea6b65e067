"""Table metadata: what each column is, detected from a DataFrame, overridable, saved as JSON.

Every tabular generator starts from a :class:`Metadata`. A column is one of

* ``numeric``: numbers; ``integer`` says whether values are whole, ``decimals``
  how many decimal places the data shows (samples are rounded to it), ``low``
  / ``high`` the observed range;
* ``categorical``: labels, codes, booleans and integers with few distinct
  values; ``categories`` lists the observed values (JSON scalars);
* ``datetime``: timestamps (modelled as numbers, written back as timestamps);
* ``id``: identifiers (one distinct value per row); never modelled, samples get
  fresh ids ``0..n-1``;
* ``text``: free text; never modelled, samples get empty values.

Types come from the one detector that ``hygeia evaluate`` also uses
(:mod:`hygeia.core.columns`), so a column is the same type when a model learns it
and when the audit compares it. What detection was unsure of (numbers mixed with
text, columns that look like a row index) is in ``Metadata.warnings``; a column
declared ``numeric`` reads its text values (``'unknown'``) as missing.

``missing`` is the observed share of missing values; generators model
missingness as a separate indicator so it is reproduced.

Every field that can come from the data (:data:`DATA_FIELDS`: type,
nullability and missing share, ``integer``, ``decimals``, bounds, categories)
records its origin in ``ColumnSpec.origin``: ``"declared"`` (the user stated
it, e.g. from a codebook: public knowledge), ``"detected"`` (read from the
data by :meth:`Metadata.detect`) or ``"dp-estimate"`` (a differentially
private estimate written by a DP model). Differentially private models refuse
detected fields unless the user declares them (:meth:`ColumnSpec.declare`,
:meth:`Metadata.as_declared`, ``"public": true`` on a column in the JSON, or
``"origin": {"categories": "declared"}``) or accepts in words that they are
released. Metadata JSON has ``spec_version`` 2; version 1 files (no origins)
load with every field ``"detected"``.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [40.5, 51.0, 63.25], "sex": ["F", "M", "F"], "death": [0, 1, 0]})
    >>> meta = Metadata.detect(df)
    >>> [(c.name, c.type) for c in meta.columns]
    [('age', 'numeric'), ('sex', 'categorical'), ('death', 'categorical')]
    >>> Metadata.from_dict(meta.to_dict()) == meta
    True
    >>> meta.column("sex").origin_of("categories")
    'detected'
    >>> meta.column("sex").declare(categories=["F", "M", "X"]).origin_of("categories")
    'declared'
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hygeia.core.atomic import write_text
from hygeia.core.columns import (
    COLUMN_TYPES,
    detect_types,
    not_numbers,
    to_datetimes,
    to_numbers,
)
from hygeia.errors import ConfigError, DataValidationError

__all__ = ["COLUMN_TYPES", "DATA_FIELDS", "ORIGINS", "ColumnSpec", "Metadata", "METADATA_SPEC_VERSION", "to_utc_naive"]

METADATA_SPEC_VERSION = 2
#: Column fields whose values can be read from the data (and so may be private).
DATA_FIELDS = ("type", "missing", "integer", "decimals", "low", "high", "categories")
#: Where a field's value came from.
ORIGINS = ("declared", "detected", "dp-estimate")



@dataclass
class ColumnSpec:
    """One column: its type and what the data showed."""

    name: str
    type: str
    dtype: str = "object"
    missing: float = 0.0
    integer: bool = False
    decimals: int | None = None
    low: float | None = None
    high: float | None = None
    categories: list[Any] | None = None
    origin: dict[str, str] = field(default_factory=dict)

    def origin_of(self, name: str) -> str:
        """Where the field ``name`` came from: ``declared``, ``detected`` (the default) or ``dp-estimate``."""
        return self.origin.get(name, "detected")

    def declare(self, **values: Any) -> "ColumnSpec":
        """Set fields from public knowledge and mark them ``declared`` (no value: mark the current one).

        Example:
            >>> ColumnSpec("sex", "categorical").declare(categories=["F", "M"], missing=0.0).origin
            {'categories': 'declared', 'missing': 'declared'}

        Raises:
            ConfigError: for a name that is not one of :data:`DATA_FIELDS`.
        """
        for name, value in values.items():
            if name not in DATA_FIELDS:
                raise ConfigError(f"cannot declare {name!r} of column {self.name!r}; declarable fields are {DATA_FIELDS}")
            if value is not None:
                setattr(self, name, value)
            self.origin[name] = "declared"
        return self

    def data_fields(self) -> list[str]:
        """The :data:`DATA_FIELDS` this column has a value for."""
        return [f for f in DATA_FIELDS if getattr(self, f) is not None]

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None and k != "origin"}
        out["origin"] = {f: self.origin_of(f) for f in self.data_fields()}
        return out


@dataclass
class Metadata:
    """The columns of one table plus its keys and constraints.

    Args:
        columns: one :class:`ColumnSpec` per column, in table order.
        primary_key: the row id column, if any.
        sequence_key: for longitudinal tables, the column that identifies the subject.
        sequence_index: for longitudinal tables, the column that orders a subject's rows (time).
        constraints: list of constraint dicts (see :mod:`hygeia.tabular.constraints`).
    """

    columns: list[ColumnSpec]
    primary_key: str | None = None
    sequence_key: str | None = None
    sequence_index: str | None = None
    constraints: list[dict[str, Any]] = field(default_factory=list)
    #: What detection was unsure of (mixed numbers and text, id-like columns), in the CLI's words; not saved.
    warnings: list[str] = field(default_factory=list, compare=False, repr=False)

    # -- access ---------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise ConfigError(f"no column {name!r} in the metadata; columns are {self.names}")

    def of_type(self, *types: str) -> list[ColumnSpec]:
        return [c for c in self.columns if c.type in types]

    def copy(self) -> "Metadata":
        """A deep copy (generators work on one, never on the caller's metadata)."""
        return copy.deepcopy(self)

    def as_declared(self) -> "Metadata":
        """A copy with every field marked ``declared``: the user states it is public knowledge (a codebook).

        This is what ``hygeia fit --public-metadata FILE`` does with FILE. Use it only for
        metadata written from public knowledge; for metadata detected from the private table
        it turns the data's values into "public" ones and a DP guarantee would not cover them.
        """
        out = self.copy()
        for c in out.columns:
            c.origin = {f: "declared" for f in c.data_fields()}
        return out

    @property
    def modelled(self) -> list[ColumnSpec]:
        """Columns a generator learns (everything but ids and text)."""
        return [c for c in self.columns if c.type in ("numeric", "categorical", "datetime")]

    # -- detection ------------------------------------------------------------------------------
    @classmethod
    def detect(
        cls,
        df: pd.DataFrame,
        *,
        types: dict[str, str] | None = None,
        primary_key: str | None = None,
        sequence_key: str | None = None,
        sequence_index: str | None = None,
        constraints: list[dict[str, Any]] | None = None,
    ) -> "Metadata":
        """Detect the metadata of ``df``.

        Args:
            df: the real table.
            types: ``{column: type}`` overrides (one of :data:`COLUMN_TYPES`).
            primary_key, sequence_key, sequence_index, constraints: see the class.

        Raises:
            DataValidationError: every problem at once (empty table, duplicate or unknown
                column names, unknown types, all-missing columns, mixed types in a column...).
        """
        problems: list[str] = []
        types = dict(types or {})
        if not isinstance(df, pd.DataFrame):
            raise DataValidationError([f"expected a pandas DataFrame, got {type(df).__name__}"], header="invalid table")
        if df.shape[1] == 0:
            problems.append("the table has no columns")
        if len(df) == 0:
            problems.append("the table has no rows; a generator needs at least 2 rows to learn from")
        elif len(df) == 1:
            problems.append("the table has 1 row; a generator needs at least 2 rows to learn from")
        dupes = sorted({str(c) for c in df.columns if list(df.columns).count(c) > 1})
        if dupes:
            problems.append(f"duplicate column names {dupes}; rename them")
        for name, kind in types.items():
            if name not in df.columns:
                problems.append(f"type override for {name!r}: no such column (columns: {list(map(str, df.columns))})")
            if kind not in COLUMN_TYPES:
                problems.append(f"type override {name!r}: {kind!r} is not one of {COLUMN_TYPES}")
        for key, label in ((primary_key, "primary_key"), (sequence_key, "sequence_key"), (sequence_index, "sequence_index")):
            if key is not None and key not in df.columns:
                problems.append(f"{label} {key!r} is not a column")
        if problems:
            raise DataValidationError(problems, header="cannot learn from this table")
        forced = dict(types)
        if primary_key is not None:
            forced[primary_key] = "id"
        if sequence_key is not None:
            forced.setdefault(sequence_key, "id")
        found = detect_types(df, forced)
        columns = []
        for name in df.columns:
            col = _detect_column(str(name), df[name], found.types[name], problems)
            col.origin = {f: "detected" for f in col.data_fields()}
            if name in types or name == primary_key:
                col.origin["type"] = "declared"
            columns.append(col)
        if problems:
            raise DataValidationError(problems, header="cannot learn from this table")
        meta = cls(columns, primary_key, sequence_key, sequence_index, list(constraints or []))
        meta.warnings = [note.message for note in found.notes]
        if meta.constraints:
            from hygeia.tabular.constraints import check_constraints

            check_constraints(df, meta.constraints, meta)
        return meta

    # -- validation -----------------------------------------------------------------------------
    def validate(self, df: pd.DataFrame, *, label: str = "data") -> None:
        """Check that ``df`` has this metadata's columns with convertible values."""
        problems = []
        missing = [n for n in self.names if n not in df.columns]
        if missing:
            problems.append(f"{label} lacks columns {missing}")
        for c in self.columns:
            if c.name not in df.columns:
                continue
            s = df[c.name]
            if c.type == "numeric" and not _is_numeric(s):
                n_bad, _, examples = not_numbers(s)
                if n_bad and n_bad == s.notna().sum():
                    problems.append(
                        f"{label} column {c.name!r} is numeric in the metadata but none of its values is a number "
                        f"(e.g. {', '.join(map(repr, examples))}); declare it categorical")
            if c.type == "datetime" and not pd.api.types.is_datetime64_any_dtype(s):
                conv = to_datetimes(s)
                if (conv.isna() & s.notna()).any():
                    bad = s[conv.isna() & s.notna()].iloc[0]
                    problems.append(f"{label} column {c.name!r} is datetime in the metadata but holds {bad!r}")
        if problems:
            raise DataValidationError(problems, header=f"{label} does not match the metadata")

    # -- serialization --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The metadata as JSON-able data (``spec_version`` 2, every data field with its origin)."""
        return {
            "spec_version": METADATA_SPEC_VERSION,
            "columns": [c.to_dict() for c in self.columns],
            "primary_key": self.primary_key,
            "sequence_key": self.sequence_key,
            "sequence_index": self.sequence_index,
            "constraints": self.constraints,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Metadata":
        """Read :meth:`to_dict`'s output; version 1 (no origins) is upgraded with every field ``detected``.

        A column may say ``"public": true`` (every field declared) or give ``"origin"``
        per field; fields without an origin count as ``detected``.
        """
        problems = []
        version = data.get("spec_version")
        if version is None or int(version) > METADATA_SPEC_VERSION:
            problems.append(f"spec_version {version!r}: this Hygeia reads metadata up to version {METADATA_SPEC_VERSION}")
        known = {f.name for f in ColumnSpec.__dataclass_fields__.values()}
        cols = []
        for i, raw in enumerate(data.get("columns", [])):
            c = dict(raw)
            where = f"columns[{i}] ({c.get('name')!r})"
            if c.get("type") not in COLUMN_TYPES:
                problems.append(f"{where}: type {c.get('type')!r} is not one of {COLUMN_TYPES}")
                continue
            public = c.pop("public", False)
            unknown = sorted(set(c) - known)
            if unknown or not isinstance(public, bool):
                problems.append(f"{where}: unknown keys {unknown or ['public']}; 'public' takes true or false")
                continue
            origin = c.pop("origin", None) or {}
            bad = {k: v for k, v in origin.items() if k not in DATA_FIELDS or v not in ORIGINS}
            if bad:
                problems.append(f"{where}: origin {bad} is not a map from {DATA_FIELDS} to one of {ORIGINS}")
                continue
            col = ColumnSpec(**c)
            col.origin = {f: "declared" if public else origin.get(f, "detected") for f in col.data_fields()}
            cols.append(col)
        if not cols and not problems:
            problems.append("no columns")
        if problems:
            raise DataValidationError(problems, header="malformed metadata")
        return cls(
            cols, data.get("primary_key"), data.get("sequence_key"), data.get("sequence_index"),
            list(data.get("constraints", [])),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the metadata as JSON (edit it, then pass it back with ``load``)."""
        return write_text(path, json.dumps(self.to_dict(), indent=2) + "\n", what="metadata file")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Metadata":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataValidationError([f"{path}: {exc}"], header="unreadable metadata file") from exc
        return cls.from_dict(data)

    # -- restoring output -----------------------------------------------------------------------
    def restore(self, df: pd.DataFrame) -> pd.DataFrame:
        """Put sampled columns back into the input's order and dtypes.

        Numeric values are rounded to the observed ``decimals`` and clipped to the
        observed range; ids become ``0..n-1``; text columns are empty.
        """
        n = len(df)
        out = {}
        for c in self.columns:
            if c.type == "id":
                values = pd.Series(np.arange(n))
                out[c.name] = values.astype(str) if c.dtype in ("object", "string", "str") else values
                continue
            if c.type == "text":
                out[c.name] = pd.Series([None] * n, dtype="object")
                continue
            s = df[c.name].reset_index(drop=True) if c.name in df.columns else pd.Series([np.nan] * n)
            if c.type == "numeric":
                s = pd.to_numeric(s, errors="coerce")
                if c.low is not None and c.high is not None:
                    s = s.clip(c.low, c.high)
                if c.decimals is not None:
                    s = s.round(c.decimals)
                if c.integer:
                    s = s.round()
                out[c.name] = _cast(s, c.dtype)
            elif c.type == "datetime":
                if not pd.api.types.is_datetime64_any_dtype(s):
                    s = pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit="ns")
                out[c.name] = _with_zone(s, c.dtype)
            else:
                out[c.name] = _cast(s, c.dtype)
        return pd.DataFrame(out, columns=self.names)


def to_utc_naive(s: pd.Series) -> pd.Series:
    """Timestamps as ``datetime64[ns]``: time-zone-aware ones converted to UTC and made naive."""
    if getattr(s.dtype, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.astype("datetime64[ns]")


def _with_zone(s: pd.Series, dtype: str) -> pd.Series:
    """Naive UTC timestamps back in the time zone named by ``dtype`` (``datetime64[ns, Europe/Paris]``)."""
    zone = dtype[len("datetime64[ns, "):-1] if dtype.startswith("datetime64[ns, ") else None
    if zone is None:
        return s
    if getattr(s.dtype, "tz", None) is not None:
        return s.dt.tz_convert(zone)
    return s.dt.tz_localize("UTC").dt.tz_convert(zone)


def _cast(s: pd.Series, dtype: str) -> pd.Series:
    if dtype.startswith(("int", "uint")) and s.isna().any():
        return s.astype("Int64")
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _decimals(values: np.ndarray) -> int | None:
    """The number of decimal places the data shows (up to 6), or None for full precision."""
    v = values[np.isfinite(values)][:5000]
    for d in range(7):
        if np.allclose(v, np.round(v, d), rtol=0, atol=1e-9 * max(1.0, float(np.abs(v).max(initial=0)))):
            return d
    return None


def _json_scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return v
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _detect_column(name: str, s: pd.Series, kind: str, problems: list[str]) -> ColumnSpec:
    """The spec of a column of type ``kind`` (declared, or from :func:`hygeia.core.columns.detect_types`)."""
    n = len(s)
    missing = float(s.isna().mean()) if n else 0.0
    spec = ColumnSpec(name=name, type="categorical", dtype=str(s.dtype), missing=round(missing, 6))
    non_null = s.dropna()
    if len(non_null) == 0 and kind not in ("id", "text"):
        problems.append(
            f"column {name!r} is entirely missing; drop it or declare it type 'text' so it is carried as empty"
        )
        return spec
    spec.type = kind
    if kind == "numeric":
        values = to_numbers(non_null)
        if values.isna().all():
            examples = ", ".join(repr(v) for v in pd.unique(non_null.astype(str))[:3])
            problems.append(f"column {name!r} is declared numeric but none of its values is a number "
                            f"(e.g. {examples}); declare it categorical (--type {name}=categorical)")
            return spec
        if values.isna().any():  # declared numeric: text such as 'unknown' is read as missing
            spec.missing = round(float(missing + values.isna().sum() / n), 6)
            values = values.dropna()
        arr = values.to_numpy(dtype=float)
        if not np.isfinite(arr).all():
            problems.append(f"column {name!r} holds infinite values; replace them with missing values or bounds")
            return spec
        spec.integer = bool(np.all(arr == np.round(arr)))
        spec.decimals = 0 if spec.integer else _decimals(arr)
        spec.low, spec.high = float(arr.min()), float(arr.max())
    elif kind == "categorical":
        cats = pd.unique(non_null)
        try:
            cats = sorted(cats)
        except TypeError:
            cats = sorted(cats, key=lambda v: (type(v).__name__, str(v)))
        spec.categories = [_json_scalar(v) for v in cats]
    elif kind == "datetime":
        conv = to_datetimes(non_null)
        if conv.isna().any():
            bad = non_null[conv.isna()].iloc[0]
            problems.append(f"column {name!r} is datetime but holds {bad!r}; fix the value or declare it categorical")
            return spec
        tz = getattr(conv.dtype, "tz", None)
        spec.dtype = f"datetime64[ns, {tz}]" if tz is not None else "datetime64[ns]"
        ns = to_utc_naive(conv).astype("int64").to_numpy()
        spec.low, spec.high = float(ns.min()), float(ns.max())
    return spec


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
