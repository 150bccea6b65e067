"""De-identifying files: a text file, a folder of ``.txt`` files, or notes Parquet files.

The output has the input's shape (a file, a folder of the same file names, a Parquet file
with the same columns) and is written atomically. In a Parquet file, the ``text`` column
is de-identified and ``subject_id`` (where present) keys each patient's date shift. The
surrogate mapping is written only where ``mapping=`` names a file.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "note.txt").write_text("Seen by Dr. Okafor on 03/04/2021.")
    >>> r = deidentify_path(d / "note.txt", d / "clean.txt", seed=1)
    >>> r.counts, "Okafor" in (d / "clean.txt").read_text()
    ({'NAME': 1, 'DATE': 1}, False)
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hygeia.core.atomic import atomic_output, write_text
from hygeia.errors import ConfigError, DataValidationError, Problem
from hygeia.notes._deid import Deidentifier

__all__ = ["DeidPathResult", "deidentify_path"]


@dataclass(frozen=True)
class DeidPathResult:
    """What :func:`deidentify_path` did: texts read, identifiers replaced by type, the seed, seconds."""

    out: Path
    n_texts: int
    n_chars: int
    counts: dict[str, int]
    seed: int
    seconds: float
    n_empty: int = 0


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise DataValidationError([Problem(str(path), "is a binary file (it holds NUL bytes), not text. "
                                                      "Pass a UTF-8 text file, a folder of .txt files or a notes Parquet file.")],
                                  header="cannot de-identify")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataValidationError([Problem(str(path), f"is not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}). "
                                                      "Convert it first, e.g. iconv -f latin1 -t utf-8 IN > OUT.")],
                                  header="cannot de-identify") from None


def _write_parquet(table: object, dest: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, dest)


def _deid_table(path: Path, d: Deidentifier) -> tuple:
    """One notes Parquet file de-identified in memory: (table, counts, characters, empty texts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if "text" not in table.column_names:
        raise DataValidationError([Problem(str(path), f"has no 'text' column (columns: {', '.join(table.column_names)}). "
                                                      "Pass a notes Parquet file, e.g. one written by 'hygeia notes write'.")],
                                  header="cannot de-identify")
    texts = table.column("text").to_pylist()
    keys = table.column("subject_id").to_pylist() if "subject_id" in table.column_names else [None] * len(texts)
    counts: Counter[str] = Counter()
    clean, n_chars, n_empty = [], 0, 0
    for text, key in zip(texts, keys):
        if text is None:
            clean.append(None)
            continue
        r = d.transform(text, patient_key=key)
        counts.update(r.counts)
        n_chars += len(text)
        n_empty += not text.strip()
        clean.append(r.text)
    i = table.column_names.index("text")
    table = table.set_column(i, table.schema.field(i), pa.array(clean, type=table.schema.field(i).type))
    return table, counts, n_chars, n_empty


def deidentify_path(src: str | os.PathLike[str], out: str | os.PathLike[str], *, seed: int | None = None,
                    overwrite: bool = False, mapping: str | os.PathLike[str] | None = None,
                    locale: str = "us") -> DeidPathResult:
    """De-identify a text file, a folder of ``.txt`` files, or notes Parquet file(s) into ``out``.

    Args:
        src: the input: ``*.txt`` (any text file), a folder of ``.txt`` files, ``*.parquet``
            with a ``text`` column (``subject_id`` keys the per-patient date shift), or a folder
            of such Parquet files (``OUT/notes`` of ``hygeia notes write``, or ``OUT`` itself).
        out: the output, of the same shape.
        seed: seeds the surrogates (None: a fresh random seed, returned).
        overwrite: replace an existing ``out``.
        mapping: also write the original -> surrogate mapping and the date shifts to this JSON
            file. It re-identifies the notes: keep it apart from them.
        locale: the locale pack whose names are found and drawn.

    Returns:
        A :class:`DeidPathResult`.

    Raises:
        ConfigError: ``src`` does not exist or is of no known shape.
        DataValidationError: a file is binary or not UTF-8, a folder holds no ``.txt``, a Parquet
            file has no ``text`` column, or the only text is empty.
        OutputError: ``out`` exists and ``overwrite`` is false.
    """
    src, out = Path(src), Path(out)
    started = time.perf_counter()
    d = Deidentifier(seed=seed, locale=locale)
    counts: Counter[str] = Counter()
    n_chars = n_empty = 0
    if not src.exists():
        raise ConfigError(f"input {str(src)!r} does not exist. Pass a .txt file, a folder of .txt files or a notes .parquet file.")
    if src.is_dir() and (src / "manifest.json").is_file() and (src / "notes").is_dir():
        src = src / "notes"  # the output folder of 'hygeia notes write': its notes Parquet files
    if src.resolve() == out.resolve():
        raise ConfigError(f"out is the input {str(src)!r}; pass another out so the original stays intact.")
    if src.is_dir() and any(p.suffix == ".parquet" for p in src.iterdir()):
        parts = sorted(p for p in src.iterdir() if p.suffix == ".parquet" and p.is_file())
        tables = [_deid_table(p, d) for p in parts]  # every part read and checked before anything is written
        with atomic_output(out, folder=True, overwrite=overwrite, what="de-identified notes folder") as tmp:
            for p, (table, c, chars, empty) in zip(parts, tables):
                _write_parquet(table, tmp / p.name)
                counts.update(c)
                n_chars += chars
                n_empty += empty
        n_texts = sum(t[0].num_rows for t in tables)
    elif src.is_dir():
        files = sorted(p for p in src.iterdir() if p.suffix == ".txt" and p.is_file())
        if not files:
            raise DataValidationError([Problem(str(src), "holds no .txt or .parquet files. Pass a folder of .txt notes "
                                                "(one note a file) or of notes Parquet files (e.g. OUT/notes of 'hygeia notes write').")],
                                      header="cannot de-identify")
        texts = [_read_text(p) for p in files]  # every file checked before anything is written
        with atomic_output(out, folder=True, overwrite=overwrite, what="de-identified folder") as tmp:
            for p, text in zip(files, texts):
                r = d.transform(text, patient_key=p.stem)
                counts.update(r.counts)
                n_chars += len(text)
                n_empty += not text.strip()
                (tmp / p.name).write_text(r.text, encoding="utf-8")
        n_texts = len(files)
    elif src.suffix == ".parquet":
        table, c, n_chars, n_empty = _deid_table(src, d)
        counts.update(c)
        with atomic_output(out, overwrite=overwrite, what="de-identified notes") as tmp:
            _write_parquet(table, tmp)
        n_texts = table.num_rows
    elif src.is_file():
        text = _read_text(src)
        if not text.strip():
            raise DataValidationError([Problem(str(src), "is empty (no text to de-identify). Pass a file that holds a note.")],
                                      header="cannot de-identify")
        r = d.transform(text, patient_key=None)
        counts.update(r.counts)
        n_chars, n_texts = len(text), 1
        write_text(out, r.text, overwrite=overwrite, what="de-identified note")
    else:
        raise ConfigError(f"input {str(src)!r} is neither a file nor a folder. Pass a .txt file, a folder or a .parquet file.")
    if mapping is not None:
        doc = {"seed": d.seed_, "warning": "This file re-identifies the de-identified notes. Keep it apart from them.",
               "surrogates": [{"type": t, "original": o, "surrogate": s} for (t, o), s in sorted(d.mapping_.items())],
               "date_shift_days": {str(k): v for k, v in d.offsets_.items()}}
        write_text(mapping, json.dumps(doc, indent=1) + "\n", overwrite=overwrite, what="surrogate mapping")
    return DeidPathResult(out, n_texts, n_chars, dict(counts), d.seed_, time.perf_counter() - started, n_empty)
