"""The one table reader: CSV and Parquet files as pandas DataFrames, for ``fit``, ``metadata`` and ``evaluate``.

Every command that reads a user's table reads it here, so a file means the same
columns and values everywhere; its column types then come from
:mod:`hygeia.core.columns`. Problems are reported as one
:class:`~hygeia.errors.DataValidationError` whose lines each name the file.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "cohort.csv")
    >>> from pathlib import Path
    >>> _ = Path(path).write_text("age,sex\\n41.5,F\\n63.0,M\\n")
    >>> read_table(path).shape
    (2, 2)
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from hygeia.errors import DataValidationError

__all__ = ["TABLE_SUFFIXES", "read_table"]

#: File suffixes read as tables, and how.
TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a ``.csv`` or ``.parquet`` file with at least one row.

    Args:
        path: the file.

    Returns:
        The table.

    Raises:
        DataValidationError: the file is missing, not a table file, empty, has no rows,
            or cannot be parsed (each problem names the file and what to do).
    """
    p = Path(path).expanduser()
    where = repr(str(p))
    if not p.exists():
        raise DataValidationError([f"{where} does not exist"], header="cannot read the table")
    kind = TABLE_SUFFIXES.get(p.suffix.lower())
    if not p.is_file() or kind is None:
        what = "a folder" if p.is_dir() else f"unknown file type {p.suffix or '(none)'!r}"
        problem = f"{where}: {what}; use .csv or .parquet"
        raise DataValidationError([problem], header="cannot read the table")
    if p.stat().st_size == 0:
        raise DataValidationError([f"{where} is empty"], header="cannot read the table")
    try:
        frame = pd.read_csv(p) if kind == "csv" else pd.read_parquet(p)
    except pd.errors.EmptyDataError:
        raise DataValidationError([f"{where} is empty"], header="cannot read the table") from None
    except Exception as exc:  # any parse failure is a problem of this file, named with its cause
        raise DataValidationError([f"cannot read {where} as {kind} ({type(exc).__name__}: {exc})"],
                                  header="cannot read the table") from exc
    if len(frame.columns) == 0:
        raise DataValidationError([f"{where} is empty"], header="cannot read the table")
    if len(frame) == 0:
        raise DataValidationError([f"{where} has no rows (only a header)"], header="cannot read the table")
    return frame
