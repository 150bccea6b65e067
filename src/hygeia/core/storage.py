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

import dataclasses
import errno
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hygeia.core.atomic import commit, discard, hold, make_temp, refuse_foreign
from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.errors import ConfigError, DataValidationError, OutputError, SimulationError

__all__ = ["RUN_FILE", "Interrupted", "RunWriter", "connect", "find_interrupted", "hash_folder", "iter_shards",
           "read_person", "read_records", "read_run_info"]

RUN_FILE = "run.json"
TABLES = {"persons": PERSONS_SCHEMA, "events": EVENTS_SCHEMA}
_COMPRESSION = "zstd"
_JOURNAL = ".checkpoint.jsonl"
_LOCK_FILE = ".lock"
_CHECKPOINT_VERSION = 1


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


def _fix(exc: OSError) -> str:
    """The fix for a failed write, by its cause."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ("The disk is full: free some space there or choose an --out on another disk "
                "(nothing half-written is kept; a previous output at --out is unchanged).")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "The location is read-only for you: choose an --out folder you can write to."
    return "Check free disk space and permissions."


@dataclasses.dataclass(frozen=True)
class Interrupted:
    """A run of an output folder that was killed before it finished (its temporary folder remains).

    Attributes:
        path: the temporary folder (``.OUT.tmp-XXXX``, beside ``OUT``).
        key: what the run makes (its options and modules), as its writer was given it.
        shards: the shards of the whole run.
        done: the shards its journal lists as written (verified only when resumed).
    """

    path: Path
    key: dict[str, Any]
    shards: int
    done: int


def _journal(tmp: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the complete entries of a checkpoint journal (a torn last line is ignored)."""
    header: dict[str, Any] = {}
    entries = []
    try:
        lines = (tmp / _JOURNAL).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return header, entries
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue  # the write of the last shard was cut short
        if not isinstance(obj, dict):
            continue
        if i == 0:
            header = obj
        else:
            entries.append(obj)
    return header, entries


def find_interrupted(out: str | os.PathLike[str]) -> list[Interrupted]:
    """The interrupted runs of ``out`` that could be resumed, newest first.

    Example:
        >>> find_interrupted("/nonexistent/run")
        []
    """
    dest = Path(out).expanduser().absolute()
    if not dest.parent.is_dir():
        return []
    found = []
    for tmp in dest.parent.glob(f".{dest.name}.tmp-*"):
        if not (tmp / _JOURNAL).is_file():
            continue
        header, entries = _journal(tmp)
        if header.get("hygeia_checkpoint") != _CHECKPOINT_VERSION:
            continue
        found.append((tmp.stat().st_mtime, Interrupted(tmp, header.get("key") or {}, int(header.get("shards", 0)),
                                                      len({e.get("shard") for e in entries}))))
    return [run for _, run in sorted(found, key=lambda x: -x[0])]


def _try_lock(tmp: Path) -> int | None:
    """Lock ``tmp`` for this process (released when it ends, however it ends); None if another holds it."""
    fd = os.open(tmp / _LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks; resuming a run still being written is on the user
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _matches(path: Path, record: dict[str, Any]) -> bool:
    """Whether ``path`` has the size and SHA-256 recorded when it was written."""
    try:
        if path.stat().st_size != record.get("bytes"):
            return False
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == record.get("sha256")
    except OSError:
        return False


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    """The leaves where two JSON values differ, as ``name old (now new)``."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in sorted(set(old) | set(new)) for d in _differences(old.get(k), new.get(k), k)]
    return [] if old == new else [f"{where or 'value'} {old!r} (now {new!r})"]


def _mismatch(out: Path, run: Interrupted, key: dict[str, Any] | None, shards: int) -> str:
    """Why an interrupted run cannot be resumed with these options, and what to do."""
    diffs = _differences(run.key, key or {})
    if run.shards != shards:
        diffs.append(f"{run.shards} shards (now {shards})")
    return (f"cannot resume the interrupted run of {str(out)!r} (in {run.path.name}, {run.done} of {run.shards} "
            f"shards done): it was made with other options: {'; '.join(diffs)}. Pass the same options to resume "
            "it, or leave out --resume to start over.")


class RunWriter:
    """Writes one run folder atomically, with a checkpoint so that a killed run can be resumed.

    The destination is checked when the writer is made (before any work);
    the temporary folder is created on ``__enter__``; :meth:`finish` writes
    ``run.json`` and renames. Leaving the ``with`` block without
    :meth:`finish` (an error, Ctrl-C) deletes the temporary folder, unless
    :meth:`keep` was called.

    Every Parquet file written is hashed (SHA-256); ``run.json`` records the hashes and sizes
    under ``files``, and the readers of this module check them. With a ``key`` (what makes
    the run's records: its options and modules), each finished shard is also appended to a
    journal in the temporary folder, ``.checkpoint.jsonl``. A run killed outright (SIGKILL,
    power loss) cannot delete its temporary folder; ``RunWriter(..., key=same, resume=True)``
    adopts it, keeps the shards whose files still match their hashes (:attr:`done`) and
    deletes the rest. A lock held on the folder while it is written keeps two writers apart.

    Args:
        out: the output folder to create.
        shards: how many shards will be written (sets the zero-padding).
        overwrite: replace ``out`` if it already holds a previous run.
        key: a JSON-serializable description of what the run makes; turns the journal on.
        checksums: hash the files and record the hashes in ``run.json`` (False only to measure
            what hashing costs; needs ``key=None``).
        resume: continue the interrupted run of ``out`` made with the same ``key`` (if there is
            one; otherwise start afresh).

    Raises:
        OutputError: if ``out`` exists and is not empty (without ``overwrite``),
            is a file, or its parent folder cannot be written.
        ConfigError: with ``resume``, if the interrupted runs of ``out`` were made with another ``key``.
    """

    def __init__(self, out: str | os.PathLike[str], *, shards: int = 1, overwrite: bool = False,
                 key: dict[str, Any] | None = None, checksums: bool = True, resume: bool = False) -> None:
        self.out = Path(out).expanduser().absolute()
        self.overwrite = overwrite
        self.shards = shards
        self.width = max(5, len(str(max(0, shards - 1))))
        self.key = key
        self.resume = resume
        self.tmp: Path | None = None
        self._made_parents: list[Path] = []
        self._lock: int | None = None
        self.counts = {name: 0 for name in TABLES}
        #: Files written so far, ``"persons/part-00000.parquet" -> {"sha256", "bytes", "rows"}``.
        self.files: dict[str, dict[str, Any]] = {}
        #: Shards already complete and verified when a run was resumed.
        self.done: set[int] = set()
        #: The temporary folder a resumed run continues (None for a fresh run).
        self.resumed_from: Path | None = None
        self.checksums = checksums
        if resume and key is None:
            raise ValueError("RunWriter(resume=True) needs the run's key")
        if key is not None and not checksums:
            raise ValueError("RunWriter(key=...) journals checksums: it needs checksums=True")
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
        """Create the temporary folder next to the destination (or adopt an interrupted one)."""
        if self.resume and self._adopt():
            return
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
            if self.key is not None:
                self._lock = _try_lock(self.tmp)
                header = {"hygeia_checkpoint": _CHECKPOINT_VERSION, "key": self.key, "shards": self.shards}
                with open(self.tmp / _JOURNAL, "w", encoding="utf-8") as f:
                    f.write(json.dumps(header, sort_keys=True, default=str) + "\n")
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
                f"{str(parent)!r} ({e.strerror or e}). {_fix(e)}"
            ) from None

    def _adopt(self) -> bool:
        """Take over the interrupted run of ``out`` made with this key; False if there is none."""
        others = []
        for run in find_interrupted(self.out):
            if run.key != self.key or run.shards != self.shards:
                others.append(run)
                continue
            lock = _try_lock(run.path)
            if lock is None:
                continue  # another process is writing it
            hold(run.path)  # the writer's hold, which sweep_abandoned honours, as on a fresh temporary folder
            self._lock, self.tmp, self.resumed_from = lock, run.path, run.path
            self._verify_journal(run.path)
            return True
        if others:
            raise ConfigError(_mismatch(self.out, others[0], self.key, self.shards))
        return False

    def _verify_journal(self, tmp: Path) -> None:
        """Keep the journal's shards whose files match their hashes; delete every other part file."""
        good: dict[int, dict[str, Any]] = {}
        for entry in _journal(tmp)[1]:
            index, files = entry.get("shard"), entry.get("files") or {}
            if not isinstance(index, int) or not 0 <= index < self.shards or set(files) != set(TABLES):
                continue
            if all(_matches(tmp / f["file"], f) for f in files.values()):
                good[index] = files
        keep = {f["file"] for files in good.values() for f in files.values()}
        for name in TABLES:
            (tmp / name).mkdir(exist_ok=True)
            for part in (tmp / name).iterdir():
                if f"{name}/{part.name}" not in keep:
                    part.unlink()
        header = {"hygeia_checkpoint": _CHECKPOINT_VERSION, "key": self.key, "shards": self.shards}
        lines = [header] + [{"shard": i, "files": good[i]} for i in sorted(good)]
        with open(tmp / _JOURNAL, "w", encoding="utf-8") as f:
            f.write("".join(json.dumps(x, sort_keys=True, default=str) + "\n" for x in lines))
        for index in sorted(good):
            self._record(index, good[index], journal=False)

    def _record(self, index: int, files: dict[str, dict[str, Any]], *, journal: bool = True) -> None:
        for name, f in files.items():
            self.counts[name] += f["rows"]
            self.files[f["file"]] = {k: f[k] for k in ("sha256", "bytes") if k in f}
        self.done.add(index)
        if journal and self.key is not None and self.tmp is not None:
            line = json.dumps({"shard": index, "files": files}, sort_keys=True) + "\n"
            with open(self.tmp / _JOURNAL, "a", encoding="utf-8") as f:
                f.write(line)

    def keep(self) -> Path | None:
        """Leave the temporary folder for a later ``resume`` (on an error worth retrying); returns it."""
        tmp, self.tmp = self.tmp, None
        self._unlock()
        self._made_parents = []
        return tmp

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def abort(self) -> None:
        """Delete everything this writer created (idempotent)."""
        self._unlock()
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
        """Write one shard's two tables as ``part-<index>.parquet`` files (and journal them)."""
        if self.tmp is None:
            raise RuntimeError("RunWriter.write_shard() called outside its `with` block")
        files = {}
        for name, table in (("persons", persons), ("events", events)):
            table = _conform(table, TABLES[name], name)
            rel = f"{name}/part-{index:0{self.width}d}.parquet"
            path = self.tmp / rel
            if not self.checksums:
                try:
                    pq.write_table(table, path, compression=_COMPRESSION)
                except OSError as e:
                    raise OutputError(f"cannot write {str(path)!r}: {e.strerror or e}. {_fix(e)}") from e
                files[name] = {"file": rel, "rows": table.num_rows}
                continue
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, compression=_COMPRESSION)
            data = sink.getvalue()
            try:
                with open(path, "wb") as f:
                    f.write(data)
            except OSError as e:
                raise OutputError(f"cannot write {str(path)!r}: {e.strerror or e}. {_fix(e)}") from e
            files[name] = {"file": rel, "sha256": "sha256:" + hashlib.sha256(data).hexdigest(), "bytes": data.size,
                           "rows": table.num_rows}
        try:
            self._record(index, files)
        except OSError as e:
            raise OutputError(f"cannot write {str(self.tmp / _JOURNAL)!r}: {e.strerror or e}. {_fix(e)}") from e

    def finish(self, info: dict[str, Any]) -> Path:
        """Write ``run.json`` (``info`` plus counts and file hashes) and move the run into place.

        Returns:
            The final output folder.
        """
        if self.tmp is None:
            raise RuntimeError("RunWriter.finish() called outside its `with` block")
        info = dict(info)
        info.setdefault("counts", {})
        info["counts"] = {**self.counts, **info["counts"]}
        if self.checksums:
            info["files"] = dict(sorted(self.files.items()))
        try:
            (self.tmp / RUN_FILE).write_text(json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")
            for name in (_JOURNAL, _LOCK_FILE):
                (self.tmp / name).unlink(missing_ok=True)
        except OSError as e:
            raise OutputError(f"cannot write {str(self.tmp / RUN_FILE)!r}: {e.strerror or e}. {_fix(e)}") from e
        commit(self.tmp, self.out, what="run folder")  # the old run stays whole until the swap
        self.tmp = None
        self._unlock()
        self._made_parents = []
        for run in find_interrupted(self.out):  # older interrupted runs of this folder are now superseded
            lock = _try_lock(run.path)
            if lock is not None:
                discard(run.path)
                os.close(lock)
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


_DAMAGED = ("{root!r} has damaged record files. Make the run again (hygeia generate with the options and seed "
            "in its run.json), or restore the files from a copy")


def _recorded(root: Path) -> dict[str, dict[str, Any]]:
    """The files ``run.json`` says were written, with their sizes and hashes (empty for older runs)."""
    files = read_run_info(root).get("files")
    return files if isinstance(files, dict) else {}


def _parts(root: Path, name: str, files: dict[str, dict[str, Any]] | None = None) -> list[Path]:
    """The Parquet files of table ``name``, checked for truncation (sizes, Parquet's head and tail marks).

    Raises:
        DataValidationError: naming each missing, truncated or corrupt file.
    """
    files = _recorded(root) if files is None else files
    parts = sorted((root / name).glob("*.parquet"))
    problems = []
    for p in parts:
        rec = files.get(f"{name}/{p.name}")
        try:
            size = p.stat().st_size
            with open(p, "rb") as f:
                head = f.read(4)
                f.seek(max(0, size - 4))
                tail = f.read(4)
        except OSError as e:
            problems.append(f"{p}: cannot be read ({e.strerror or e})")
            continue
        if isinstance(rec, dict) and rec.get("bytes") is not None and size != rec["bytes"]:
            problems.append(f"{p}: is {size:,} bytes but {rec['bytes']:,} were written: the file was truncated "
                            "or changed")
        elif size < 12 or head != b"PAR1" or tail != b"PAR1":
            problems.append(f"{p}: is not a complete Parquet file (it should begin and end with 'PAR1'): "
                            "it is truncated or corrupt")
    present = {f"{name}/{p.name}" for p in parts}
    problems += [f"{root / rel}: is missing (run.json lists it)" for rel in sorted(files)
                 if rel.startswith(f"{name}/") and rel not in present]
    if problems:
        raise DataValidationError(problems, header=_DAMAGED.format(root=str(root)))
    return parts


def _check_digest(path: Path, digest: str, rec: dict[str, Any] | None) -> None:
    """Raise if ``run.json`` records another SHA-256 for ``path`` than ``digest``."""
    if isinstance(rec, dict) and rec.get("sha256") and digest != rec["sha256"]:
        raise DataValidationError(
            [(f"{path}: its content differs from what was written (SHA-256 {digest[7:19]}..., "
              f"run.json records {str(rec['sha256'])[7:19]}...): the file is corrupt or was changed")],
            header=_DAMAGED.format(root=str(path.parent.parent)))


#: files this process has hashed and found as recorded, by (path, inode, size, mtime, recorded digest):
#: ``evaluate`` opens a verified connection for its inputs and again for the plausibility rules
_VERIFIED: set[tuple] = set()


def _verify_part(path: Path, rec: dict[str, Any] | None) -> None:
    """Check one Parquet file's SHA-256 against ``run.json`` (read in blocks, when recorded there).

    A file already found as recorded by this process, and unchanged since (same inode, size and
    modification time), is not hashed again.
    """
    if not (isinstance(rec, dict) and rec.get("sha256")):
        return
    st = path.stat()
    key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, str(rec["sha256"]))
    if key in _VERIFIED:
        return
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    _check_digest(path, "sha256:" + h.hexdigest(), rec)
    _VERIFIED.add(key)


def _read_part(path: Path, schema: pa.Schema, rec: dict[str, Any] | None) -> pa.Table:
    """Read one Parquet file, checking its SHA-256 against ``run.json`` when recorded there."""
    data = path.read_bytes()
    root = path.parent.parent
    if isinstance(rec, dict) and rec.get("sha256"):
        _check_digest(path, "sha256:" + hashlib.sha256(data).hexdigest(), rec)
    try:
        return pq.read_table(pa.BufferReader(data), schema=schema)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise DataValidationError([f"{path}: not a readable Parquet file of the {path.parent.name} table ({e})"],
                                  header=_DAMAGED.format(root=str(root))) from None


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
    files = _recorded(root)
    out = []
    for name, schema in TABLES.items():
        parts = _parts(root, name, files)
        if parts:
            out.append(pa.concat_tables(_read_part(p, schema, files.get(f"{name}/{p.name}")) for p in parts))
        else:
            out.append(schema.empty_table())
    return out[0], out[1]


def iter_shards(path: str | os.PathLike[str], start: int = 0) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Yield a run's ``(persons, events)`` one shard at a time (memory stays flat in N).

    The persons of one shard and their events come together (``part-K`` of both tables).
    ``start`` skips the first shards without reading them (a resumed export has them already).
    """
    root = _check_run_folder(path)
    files = _recorded(root)
    persons = {p.name: p for p in _parts(root, "persons", files)}
    events = {p.name: p for p in _parts(root, "events", files)}
    for name in sorted(set(persons) | set(events))[start:]:
        yield (
            _read_part(persons[name], TABLES["persons"], files.get(f"persons/{name}")) if name in persons
            else TABLES["persons"].empty_table(),
            _read_part(events[name], TABLES["events"], files.get(f"events/{name}")) if name in events
            else TABLES["events"].empty_table(),
        )


def connect(path: str | os.PathLike[str], *, verify: bool = False) -> Any:
    """An in-memory DuckDB connection with views ``persons`` and ``events``.

    Every Parquet file is checked for truncation (its size against ``run.json``, Parquet's head
    and tail marks); ``verify=True`` also checks each file's SHA-256 (reading the whole run once:
    ``evaluate`` and ``calibrate``, which read every record anyway, do; ``inspect`` does not).

    Raises:
        DataValidationError: naming each missing, truncated or (with ``verify``) changed file.

    Example:
        >>> con = connect("output")  # doctest: +SKIP
        >>> con.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall()  # doctest: +SKIP
    """
    import duckdb

    root = _check_run_folder(path).absolute()
    recorded = _recorded(root)
    con = duckdb.connect()
    for name in TABLES:
        found = _parts(root, name, recorded)
        if verify:
            for p in found:
                _verify_part(p, recorded.get(f"{name}/{p.name}"))
        parts = [str(p).replace("'", "''") for p in found]
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
