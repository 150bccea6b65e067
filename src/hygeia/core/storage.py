"""Run storage: sharded Parquet records plus ``run.json``, written atomically.

A run folder looks like::

    OUT/persons/part-00000.parquet   one file per shard, shard index zero-padded
    OUT/events/part-00000.parquet
    OUT/run.json                     config (seed resolved), versions, module hashes,
                                     timing and counts

:class:`RunWriter` writes everything into a hidden sibling ``OUT.tmp-<random>``
and renames it to ``OUT`` only when the run is complete, so an interrupted or
failed run never leaves a folder that looks finished. DuckDB is the query
engine over a finished run (:func:`connect`).

Example:
    >>> import tempfile, pathlib
    >>> from hygeia.core.schema import PERSONS_SCHEMA, EVENTS_SCHEMA
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with RunWriter(out, shards=1) as w:
    ...     w.write_shard(0, PERSONS_SCHEMA.empty_table(), EVENTS_SCHEMA.empty_table())
    ...     _ = w.finish({"seed": 1})
    >>> sorted(p.name for p in out.iterdir())
    ['events', 'persons', 'run.json']
    >>> read_records(out)[0].num_rows
    0
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hygeia.core.atomic import commit, discard, make_temp, refuse_foreign
from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.errors import DataValidationError, OutputError, SimulationError

__all__ = ["RUN_FILE", "RunWriter", "connect", "hash_folder", "iter_shards", "read_person", "read_records",
           "read_run_info"]

RUN_FILE = "run.json"
TABLES = {"persons": PERSONS_SCHEMA, "events": EVENTS_SCHEMA}
_COMPRESSION = "zstd"


def _conform(table: pa.Table, schema: pa.Schema, name: str) -> pa.Table:
    """Return ``table`` with exactly ``schema`` (columns in order, metadata kept)."""
    if table.schema.equals(schema, check_metadata=True):
        return table
    missing = [f for f in schema.names if f not in table.column_names]
    extra = [f for f in table.column_names if f not in schema.names]
    if missing or extra:
        raise SimulationError(
            f"a shard's {name} table does not match the canonical schema: "
            f"missing columns {missing}, unexpected columns {extra}"
        )
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        raise SimulationError(f"a shard's {name} table cannot be cast to the canonical schema: {e}") from e


def hash_folder(path: str | os.PathLike[str]) -> str:
    """A SHA-256 of a folder's files (relative paths and contents, sorted).

    Hidden files and ``__pycache__`` are ignored; a missing folder hashes as empty.
    """
    root = Path(path)
    h = hashlib.sha256()
    if root.is_dir():
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
        )
        for p in files:
            rel = p.relative_to(root).as_posix().encode()
            h.update(len(rel).to_bytes(8, "little") + rel)
            data = p.read_bytes()
            h.update(len(data).to_bytes(8, "little") + data)
    return "sha256:" + h.hexdigest()


class RunWriter:
    """Writes one run folder atomically.

    The destination is checked when the writer is made (before any work);
    the temporary folder is created on ``__enter__``; :meth:`finish` writes
    ``run.json`` and renames. Leaving the ``with`` block without
    :meth:`finish` (an error, Ctrl-C) deletes the temporary folder.

    Args:
        out: the output folder to create.
        shards: how many shards will be written (sets the zero-padding).
        overwrite: replace ``out`` if it already holds a previous run.

    Raises:
        OutputError: if ``out`` exists and is not empty (without ``overwrite``),
            is a file, or its parent folder cannot be written.
    """

    def __init__(self, out: str | os.PathLike[str], *, shards: int = 1, overwrite: bool = False) -> None:
        self.out = Path(out).expanduser().absolute()
        self.overwrite = overwrite
        self.width = max(5, len(str(max(0, shards - 1))))
        self.tmp: Path | None = None
        self._made_parents: list[Path] = []
        self.counts = {name: 0 for name in TABLES}
        self._check_destination()

    def _check_destination(self) -> None:
        out = self.out
        if out.is_file() or (out.exists() and not out.is_dir()):
            raise OutputError(f"output path {str(out)!r} exists and is not a folder. Choose another --out folder.")
        if out.is_dir() and any(out.iterdir()):
            if not self.overwrite:
                raise OutputError(
                    f"output folder {str(out)!r} already exists and is not empty. "
                    "Choose another --out folder, or pass --overwrite (overwrite=True) to replace it."
                )
            refuse_foreign(out, RUN_FILE, "a Hygeia output")

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> "RunWriter":
        self.open()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.tmp is not None:
            self.abort()

    def open(self) -> None:
        """Create the temporary folder next to the destination."""
        parent = self.out.parent
        missing = []
        p = parent
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
        self._made_parents = missing
        try:
            self.tmp = make_temp(self.out, folder=True, overwrite=True, what="output folder")
            for name in TABLES:
                (self.tmp / name).mkdir()
        except OutputError:
            self.abort()
            raise OutputError(
                f"cannot write the output folder {str(self.out)!r}: cannot create files in "
                f"{str(parent)!r}. Choose an --out folder whose parent you can write to."
            ) from None
        except OSError as e:
            self.abort()
            raise OutputError(
                f"cannot write the output folder {str(self.out)!r}: cannot create files in "
                f"{str(parent)!r} ({e.strerror or e}). Choose an --out folder whose parent you can write to."
            ) from None

    def abort(self) -> None:
        """Delete everything this writer created (idempotent)."""
        discard(self.tmp)
        self.tmp = None
        for p in self._made_parents:  # innermost first; only if still empty
            try:
                p.rmdir()
            except FileNotFoundError:
                continue
            except OSError:
                break
        self._made_parents = []

    # -- writing -----------------------------------------------------------
    def write_shard(self, index: int, persons: pa.Table, events: pa.Table) -> None:
        """Write one shard's two tables as ``part-<index>.parquet`` files."""
        if self.tmp is None:
            raise RuntimeError("RunWriter.write_shard() called outside its `with` block")
        for name, table in (("persons", persons), ("events", events)):
            table = _conform(table, TABLES[name], name)
            path = self.tmp / name / f"part-{index:0{self.width}d}.parquet"
            try:
                pq.write_table(table, path, compression=_COMPRESSION)
            except OSError as e:
                raise OutputError(f"cannot write {str(path)!r}: {e}. Check free disk space and permissions.") from e
            self.counts[name] += table.num_rows

    def finish(self, info: dict[str, Any]) -> Path:
        """Write ``run.json`` (``info`` plus counts) and move the run into place.

        Returns:
            The final output folder.
        """
        if self.tmp is None:
            raise RuntimeError("RunWriter.finish() called outside its `with` block")
        info = dict(info)
        info.setdefault("counts", {})
        info["counts"] = {**self.counts, **info["counts"]}
        (self.tmp / RUN_FILE).write_text(json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")
        commit(self.tmp, self.out, what="run folder")  # the old run stays whole until the swap
        self.tmp = None
        self._made_parents = []
        return self.out


# -- reading -----------------------------------------------------------------
def _check_run_folder(path: str | os.PathLike[str]) -> Path:
    root = Path(path).expanduser()
    problems = []
    if not root.is_dir():
        problems.append(f"{str(root)!r} does not exist or is not a folder")
    else:
        if not (root / RUN_FILE).is_file():
            problems.append(f"{str(root)!r} has no {RUN_FILE}")
        for name in TABLES:
            if not (root / name).is_dir():
                problems.append(f"{str(root)!r} has no {name}/ folder")
    if problems:
        raise DataValidationError(
            problems,
            header=f"{str(root)!r} is not a Hygeia run folder (make one with `hygeia generate --out DIR`)",
        )
    return root


def _parts(root: Path, name: str) -> list[Path]:
    return sorted((root / name).glob("*.parquet"))


def read_run_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``run.json`` of a run folder."""
    root = _check_run_folder(path)
    try:
        return json.loads((root / RUN_FILE).read_text())
    except json.JSONDecodeError as e:
        raise DataValidationError([f"{root / RUN_FILE}: not valid JSON ({e})"]) from None


def read_records(path: str | os.PathLike[str]) -> tuple[pa.Table, pa.Table]:
    """Read a whole run into memory as ``(persons, events)`` Arrow tables.

    For large runs prefer :func:`connect` and query with SQL.
    """
    root = _check_run_folder(path)
    out = []
    for name, schema in TABLES.items():
        parts = _parts(root, name)
        if parts:
            out.append(pa.concat_tables(pq.read_table(p, schema=schema) for p in parts))
        else:
            out.append(schema.empty_table())
    return out[0], out[1]


def iter_shards(path: str | os.PathLike[str]) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Yield a run's ``(persons, events)`` one shard at a time (memory stays flat in N).

    The persons of one shard and their events come together (``part-K`` of both tables).
    """
    root = _check_run_folder(path)
    persons = {p.name: p for p in _parts(root, "persons")}
    events = {p.name: p for p in _parts(root, "events")}
    for name in sorted(set(persons) | set(events)):
        yield (
            pq.read_table(persons[name], schema=TABLES["persons"]) if name in persons
            else TABLES["persons"].empty_table(),
            pq.read_table(events[name], schema=TABLES["events"]) if name in events
            else TABLES["events"].empty_table(),
        )


def connect(path: str | os.PathLike[str]) -> Any:
    """An in-memory DuckDB connection with views ``persons`` and ``events``.

    Example:
        >>> con = connect("output")  # doctest: +SKIP
        >>> con.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall()  # doctest: +SKIP
    """
    import duckdb

    root = _check_run_folder(path).absolute()
    con = duckdb.connect()
    for name in TABLES:
        parts = [str(p).replace("'", "''") for p in _parts(root, name)]
        if parts:
            files = "[" + ", ".join(f"'{p}'" for p in parts) + "]"
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files})")
        else:
            con.register(f"{name}_empty", TABLES[name].empty_table())
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_empty")
    return con


def read_person(run: str | os.PathLike[str], subject_id: int | None = None) -> tuple[dict[str, Any], Any]:
    """One person of a ``hygeia generate`` run (a dict of the ``persons`` row) and their events (a pandas
    DataFrame, time-ordered).

    Args:
        run: the run folder.
        subject_id: the person; ``None`` takes the first person of the run.

    Raises:
        DataValidationError: when the folder is not a run or has no such person.
    """
    con = connect(run)
    if subject_id is None:
        row = con.execute("SELECT min(subject_id) FROM persons").fetchone()
        if row is None or row[0] is None:
            raise DataValidationError([f"{os.fspath(run)}: the run has no persons; generate one with hygeia generate"])
        subject_id = int(row[0])
    persons = con.execute("SELECT * FROM persons WHERE subject_id = ?", [int(subject_id)]).df()
    if persons.empty:
        ids = [r[0] for r in con.execute("SELECT subject_id FROM persons ORDER BY subject_id LIMIT 5").fetchall()]
        raise DataValidationError([(f"{os.fspath(run)}: no person with subject id {subject_id}; "
                                    f"the run's first ids are {', '.join(map(str, ids))}")])
    events = con.execute("SELECT * FROM events WHERE subject_id = ? ORDER BY time, kind, code",
                         [int(subject_id)]).df()
    return persons.iloc[0].to_dict(), events
