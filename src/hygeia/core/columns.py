"""The one column-type detector: what ``hygeia fit`` and ``hygeia evaluate`` both call a column.

A column is one of :data:`COLUMN_TYPES`:

* ``numeric``: numbers;
* ``categorical``: labels, codes, booleans, and whole numbers with at most
  :data:`MAX_INTEGER_CATEGORIES` distinct values (0/1 flags, grades);
* ``datetime``: timestamps, or strings that read as dates;
* ``id``: identifiers: a column named like one (``id``, ``patient_id``) whose values
  are all distinct, a row index (whole numbers counting up by one row by row, or
  distinct ones in a column named like pandas' ``Unnamed: 0``), or distinct
  strings; never modelled, never compared;
* ``text``: free text (long or spaced strings, mostly distinct); never modelled.

Detection never fails and never drops data silently; what it is unsure of it says
in a :class:`TypeNote` (the CLI prints it, the evaluation report lists it):

* ``mixed_type``: numbers with some strings (``"12.5"`` and ``"unknown"``). The
  column is read as ``categorical`` (lossless); the note gives the share of values
  that are not numbers, examples, and the two fixes: ``--type COL=numeric`` (those
  values become missing) or ``--type COL=categorical`` (keep them as labels);
* ``id_like``: a column typed ``id`` from its values alone (a row index, distinct
  strings); the fix if it is data: ``--type COL=numeric`` or ``COL=categorical``;
* ``declared_numeric``: a column declared numeric that holds strings: they are
  read as missing, and the note says how many.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"row": range(40), "lab": ["1.5", "2.0", "unknown", "3.25"] * 10,
    ...                    "sex": ["F", "M"] * 20})
    >>> found = detect_types(df)
    >>> found.types
    {'row': 'id', 'lab': 'categorical', 'sex': 'categorical'}
    >>> [(n.column, n.kind) for n in found.notes]
    [('row', 'id_like'), ('lab', 'mixed_type')]
    >>> detect_types(df, {"lab": "numeric"}).types["lab"]
    'numeric'
    >>> int(to_numbers(df["lab"]).isna().sum())  # what --type lab=numeric does to 'unknown'
    10
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "COLUMN_TYPES", "MAX_INTEGER_CATEGORIES", "ColumnTypes", "TypeNote", "detect_column", "detect_types",
    "not_numbers", "to_datetimes", "to_numbers", "type_option",
]

COLUMN_TYPES = ("numeric", "categorical", "datetime", "id", "text")
#: Whole-number columns with at most this many distinct values are categorical.
MAX_INTEGER_CATEGORIES = 10
#: A column of strings at least this long on average (or mostly with spaces) is text.
TEXT_MIN_LENGTH = 30
#: A column is mixed when at least this share of its values are numbers and some are not.
MIXED_MIN_NUMBERS = 0.5
#: A row index must have more rows than this to be called one from its values alone.
INDEX_MIN_ROWS = 20
_NAMED_INDEX = re.compile(r"^(unnamed: \d+|index|rownames|row|row_?number|\.\.\.1|)$")
_NUMBER_KINDS = (int, float, np.integer, np.floating)


@dataclass(frozen=True)
class TypeNote:
    """Something the detector was unsure of: ``kind`` (``mixed_type``, ``id_like``, ``declared_numeric``)."""

    column: str
    kind: str
    message: str


@dataclass
class ColumnTypes:
    """The types of a table's columns (in table order) and the notes of their detection."""

    types: dict[str, str]
    notes: list[TypeNote] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)


def is_named_id(name: str) -> bool:
    """Whether a column name says it is an identifier (``id``, ``patient_id``, ``person.id``, ``id_x``)."""
    lowered = str(name).lower()
    return lowered == "id" or lowered.endswith(("_id", ".id")) or lowered.startswith("id_")


def _is_number_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def to_numbers(s: pd.Series) -> pd.Series:
    """The column as float numbers; values that are not numbers (``'unknown'``) become missing."""
    if _is_number_dtype(s):
        return s.astype("float64")
    return pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce").astype("float64")


def not_numbers(s: pd.Series) -> tuple[int, float, list[str]]:
    """How many present values are not numbers, their share of the present values, and up to 3 examples."""
    present = s.dropna()
    if len(present) == 0 or _is_number_dtype(s):
        return 0, 0.0, []
    bad = present[to_numbers(present).isna()]
    examples = [str(v) for v in pd.unique(bad.astype(str))[:3]]
    return len(bad), len(bad) / len(present), examples


def to_datetimes(s: pd.Series) -> pd.Series:
    """The column as timestamps (ISO 8601 first, then any format pandas reads); unreadable values become NaT."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    text = s.astype("string")
    iso = pd.to_datetime(text, errors="coerce", format="ISO8601")
    rest = iso.isna() & s.notna()
    if not rest.any():
        return iso
    mixed = pd.to_datetime(text[rest], errors="coerce", format="mixed")
    if getattr(iso.dtype, "tz", None) is not None or getattr(mixed.dtype, "tz", None) is not None:
        return pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    out = iso.astype("datetime64[ns]")
    out[rest] = mixed.astype("datetime64[ns]")
    return out


def type_option(name: str, kind: str) -> str:
    """The ``--type`` option that declares column ``name`` as ``kind``, quoted for a shell where needed.

    Example:
        >>> type_option("Unnamed: 0", "numeric")
        "--type 'Unnamed: 0=numeric'"
    """
    return f"--type {shlex.quote(f'{name}={kind}')}"


def _mixed_note(name: str, n_bad: int, share: float, examples: list[str], numbers: list[str]) -> TypeNote:
    return TypeNote(name, "mixed_type", (
        f"column {name!r} mixes numbers with text: {share:.1%} of its values ({n_bad:,}) are not numbers "
        f"(e.g. {', '.join(map(repr, examples))}), the rest are (e.g. {', '.join(map(repr, numbers))}); "
        f"it is read as categorical, every distinct value a label. If the text means 'missing', pass "
        f"{type_option(name, 'numeric')} (those values become missing); to keep them as labels, pass "
        f"{type_option(name, 'categorical')}"))


def _id_note(name: str, why: str, data_type: str) -> TypeNote:
    return TypeNote(name, "id_like", (
        f"column {name!r} looks like an identifier ({why}); it is typed id: not modelled and not compared. "
        f"If it is data, pass {type_option(name, data_type)}"))


def detect_column(name: str, s: pd.Series) -> tuple[str, TypeNote | None]:
    """The type of one column and, when detection had to guess, a note saying so.

    Args:
        name: the column's name (names like ``patient_id`` mark identifiers).
        s: its values.

    Returns:
        ``(type, note or None)``; the type is one of :data:`COLUMN_TYPES`.

    Example:
        >>> detect_column("age", pd.Series([31.5, 40.0, 57.25]))
        ('numeric', None)
    """
    name = str(name)
    if pd.api.types.is_bool_dtype(s):
        return "categorical", None
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime", None
    present = s.dropna()
    if len(present) == 0:
        return ("numeric" if _is_number_dtype(s) else "categorical"), None
    distinct = int(present.nunique())
    all_distinct = distinct == len(present) and len(s) > 1
    if is_named_id(name) and all_distinct:
        return "id", None
    if _is_number_dtype(s):
        return _numeric_column(name, s, present, distinct)
    kinds = {type(v) for v in present.head(10_000)}
    if all(issubclass(k, _NUMBER_KINDS) and not issubclass(k, (bool, np.bool_)) for k in kinds):
        return _numeric_column(name, s, to_numbers(present), distinct)
    strings = present.astype(str)
    n_bad, share, examples = not_numbers(present)
    if n_bad < len(present) and 1 - share >= MIXED_MIN_NUMBERS:
        numbers = [str(v) for v in pd.unique(strings[to_numbers(present).notna()])[:2]]
        return "categorical", _mixed_note(name, n_bad, share, examples, numbers)
    if distinct > max(20, len(present) // 2):
        if strings.str.len().mean() >= TEXT_MIN_LENGTH or strings.str.contains(" ").mean() > 0.5:
            return "text", None
        if all_distinct:
            return "id", _id_note(name, f"all {len(present):,} values are distinct strings", "categorical")
    dated = 20 < distinct <= len(present) // 2
    dated = dated or (distinct <= 20 and bool(strings.str.contains(r"\d{4}-\d{2}-\d{2}").all()))
    if dated and to_datetimes(strings.head(200)).notna().all():
        return "datetime", None
    return "categorical", None


def _numeric_column(name: str, s: pd.Series, present: pd.Series, distinct: int) -> tuple[str, TypeNote | None]:
    arr = present.to_numpy(dtype=float)
    finite = arr[np.isfinite(arr)]
    whole = bool(np.all(finite == np.round(finite)))
    if whole and distinct <= MAX_INTEGER_CATEGORIES:
        return "categorical", None
    counts_rows = whole and finite.size == len(s) and distinct > INDEX_MIN_ROWS and bool(np.all(np.diff(arr) == 1))
    if counts_rows or (whole and distinct == len(s) and _NAMED_INDEX.match(name.lower())):
        low, high = int(finite.min()), int(finite.max())
        how = "counting up by 1 row by row" if counts_rows else "distinct, in a column named like an index"
        why = f"whole numbers {low:,}..{high:,} {how}: a row index"
        return "id", _id_note(name, why, "numeric")
    return "numeric", None


def detect_types(df: pd.DataFrame, overrides: Mapping[str, str] | None = None) -> ColumnTypes:
    """Detect every column's type; ``overrides`` (``{column: type}``) win and are recorded as declared.

    A column declared ``numeric`` that holds some strings gets a ``declared_numeric``
    note (they will be read as missing). Unknown columns or types in ``overrides``
    are the caller's to report (each caller words that error for its own options).

    Args:
        df: the table.
        overrides: declared types (``--type COL=TYPE``, a metadata file).

    Returns:
        A :class:`ColumnTypes`.

    Example:
        >>> detect_types(pd.DataFrame({"patient_id": [7, 3, 9], "sbp": [120.5, 131.0, 118.25]})).types
        {'patient_id': 'id', 'sbp': 'numeric'}
    """
    overrides = dict(overrides or {})
    out = ColumnTypes({})
    for name in df.columns:
        s = df[name]
        if name in overrides:
            kind = overrides[name]
            out.types[name] = kind
            out.declared.append(str(name))
            if kind == "numeric":
                n_bad, share, examples = not_numbers(s)
                if 0 < n_bad < s.notna().sum():
                    out.notes.append(TypeNote(str(name), "declared_numeric", (
                        f"column {name!r} is declared numeric: {n_bad:,} of its values ({share:.1%}, e.g. "
                        f"{', '.join(map(repr, examples))}) are not numbers and are read as missing")))
            continue
        kind, note = detect_column(str(name), s)
        out.types[name] = kind
        if note is not None:
            out.notes.append(note)
    return out
