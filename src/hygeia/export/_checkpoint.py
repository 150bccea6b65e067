"""Checkpoints of an export, so that one killed outright continues with ``export --resume``.

An export is written into a hidden temporary ``.OUT.tmp-XXXX`` beside ``OUT`` and swapped into
place when complete (:mod:`hygeia.core.atomic`). Beside that temporary, its journal
``.OUT.tmp-XXXX.journal`` gets a header line (what the export makes, the run's shard count,
when the export began) and then one line per shard of the run, in shard order, once everything
the shard produced is written::

    {"shard": 3, "persons": 250, "files": {...}, "streams": {...}, "state": {...}, "check": "sha256:..."}

- ``files``: the files the shard wrote whole (a FHIR Bundle per patient, a MEDS data file),
  each with its size and SHA-256;
- ``streams``: the files appended shard after shard (CSV, NDJSON), each with its length after
  the shard and the SHA-256 of that prefix;
- ``state``: what the exporter carries from shard to shard (counts, the codes seen, the
  providers used), as this shard changed it;
- ``check``: the SHA-256 of the line's other fields: a damaged line is not trusted.

A process killed outright (SIGKILL, a power cut) cannot delete its temporary. A later export of
the same run to the same ``OUT`` with ``resume=True`` adopts it (:func:`open_checkpoint`): it
keeps the longest run of shards ``0..k-1`` whose lines are intact and whose files and stream
prefixes still match their checksums, cuts each stream back to its length after shard ``k-1``,
deletes every other file, and the exporter goes on from shard ``k`` with the state of the shards
kept. The output is byte for byte the one an uninterrupted export writes. The OMOP exporter
journals inside its DuckDB file instead, in the transaction of each shard
(:mod:`hygeia.export.omop._load`).

Example:
    >>> import tempfile, pathlib
    >>> dest = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> ck = open_checkpoint(dest, {"format": "demo"}, shards=2, folder=True)
    >>> f, resumed = ck.stream("rows.txt")
    >>> _ = f.write(b"shard 0\\n"); ck.shard_done(0, state={"rows": 1})
    >>> ck.close()  # killed here, say: the journal stays beside the temporary
    >>> ck = open_checkpoint(dest, {"format": "demo"}, shards=2, folder=True, resume=True)
    >>> ck.start, ck.states
    (1, [{'rows': 1}])
    >>> ck.discard()
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from hygeia.core._faults import EXPORT_KILL_ENV, maybe_kill
from hygeia.core.atomic import discard, hold, make_temp, refuse_existing, release
from hygeia.errors import ConfigError

__all__ = ["JOURNAL_SUFFIX", "Checkpoint", "Interrupted", "find_interrupted", "open_checkpoint", "supersede"]

#: The journal sits beside the temporary output: ``.OUT.tmp-XXXX.journal``.
JOURNAL_SUFFIX = ".journal"
_VERSION = 1
_CHUNK = 1 << 20


def _check(entry: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in entry.items() if k != "check"}, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def _line(entry: dict[str, Any]) -> str:
    return json.dumps({**entry, "check": _check(entry)}, sort_keys=True, separators=(",", ":")) + "\n"


def _read_journal(path: Path) -> tuple[dict[str, Any], list[dict[str, Any] | None]]:
    """The header and the entries of a journal; a damaged or torn line is ``None``."""
    header: dict[str, Any] = {}
    entries: list[dict[str, Any] | None] = []
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError:
        return header, entries
    if lines and lines[-1] == b"":
        lines.pop()
    for i, raw in enumerate(lines):
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            obj = None
        if not isinstance(obj, dict) or obj.get("check") != _check(obj):
            obj = None
        if i == 0:
            header = obj or {}
        else:
            entries.append(obj)
    return header, entries


class Interrupted:
    """An export of ``OUT`` killed before it finished: its temporary output and journal remain.

    Attributes:
        path: the temporary output (``.OUT.tmp-XXXX``).
        key: what the export makes (its format, options and input), as the journal records it.
        shards: the run's shards.
        done: the shards the journal lists as written (verified only when resumed).
    """

    def __init__(self, path: Path, header: dict[str, Any], done: int) -> None:
        self.path = path
        self.header = header
        self.key: dict[str, Any] = header.get("key") or {}
        self.shards = int(header.get("shards", 0))
        self.done = done


def find_interrupted(dest: str | os.PathLike[str]) -> list[Interrupted]:
    """The interrupted exports of ``dest`` that a journal describes, newest first.

    Example:
        >>> find_interrupted("/nonexistent/out")
        []
    """
    dest = Path(dest).expanduser().absolute()
    if not dest.parent.is_dir():
        return []
    found = []
    for journal in dest.parent.glob(f".{glob.escape(dest.name)}.tmp-*{JOURNAL_SUFFIX}"):
        header, entries = _read_journal(journal)
        if header.get("hygeia_export_checkpoint") != _VERSION:
            continue
        tmp = journal.with_name(journal.name[:-len(JOURNAL_SUFFIX)])
        done = 0
        for entry in entries:
            if entry is None or entry.get("shard") != done:
                break
            done += 1
        found.append((journal.stat().st_mtime, Interrupted(tmp, header, done)))
    return [run for _, run in sorted(found, key=lambda x: -x[0])]


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    """The leaves where two keys differ, in the CLI's words: ``--max-entries 500 (now 100)``."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in sorted(set(old) | set(new))
                for d in _differences(old.get(k), new.get(k), k if where in ("", "options") else f"{where}.{k}")]
    if old == new:
        return []
    top, dot, rest = where.partition(".")
    name = {"run": "the run's records (its run.json)", "notes": "--notes", "images": "the run's images",
            "format": "--format", "hygeia_version": "Hygeia version"}.get(where, f"--{top.replace('_', '-')}{dot}{rest}")
    return [f"{name} {old!r} (now {new!r})"]


def _mismatch(dest: Path, run: Interrupted, key: dict[str, Any], shards: int) -> str:
    diffs = _differences(run.key, key)
    if run.shards != shards:
        diffs.append(f"{run.shards} shards in the run (now {shards})")
    return (f"cannot resume the interrupted export of {str(dest)!r} (in {run.path.name}, {run.done} of {run.shards} "
            f"shards done): it was made with other options: {'; '.join(diffs)}. Pass the same options to resume "
            "it, or leave out --resume to export from the start.")


class _Stream:
    """A file appended shard after shard, hashing what is written (a file object for pyarrow and Python)."""

    closed = False

    def __init__(self, path: Path, offset: int, digest: Any, hashing: bool) -> None:
        self.path = path
        self.file = open(path, "r+b" if offset else "wb")  # noqa: SIM115 - closed by Checkpoint.close()
        if offset:
            self.file.truncate(offset)
            self.file.seek(offset)
        self.bytes = offset
        self.digest = digest if hashing else None

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self.digest is not None:
            self.digest.update(view)
        self.bytes += view.nbytes
        self.file.write(view)
        return view.nbytes

    def writelines(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:  # pyarrow's writers call this; the checkpoint closes the file itself
        self.flush()


class Checkpoint:
    """An export's temporary output and its journal: what the exporter writes through, shard by shard.

    Made by :func:`open_checkpoint`. An exporter writes the shards from :attr:`start` on (the
    earlier ones are done), first restoring its running state from :attr:`states`; it writes
    appended files through :meth:`stream`, whole files through :meth:`write_file`, and calls
    :meth:`shard_done` once everything a shard produced is written.

    Attributes:
        tmp: the temporary output (a folder or a file the exporter makes).
        start: the first shard still to write.
        states: the ``state`` each done shard journalled, in shard order.
        started_at: when the export began (an ISO 8601 time, kept by a resumed export).
        resumed_from: the interrupted export's temporary name (None for a fresh export).
    """

    def __init__(self, tmp: Path, *, journal: bool, header: dict[str, Any], start: int = 0,
                 states: list[dict[str, Any]] | None = None, streams: dict[str, tuple[int, Any]] | None = None,
                 resumed_from: str | None = None, persons: list[int] | None = None, quiet: bool = True) -> None:
        self.tmp = tmp
        self.journal = journal
        self.start = start
        self.states = states or []
        #: The persons of each done shard.
        self.persons_done: list[int] = [int(x) for x in (persons or [])]
        self.started_at = str(header.get("started_at"))
        self.resumed_from = resumed_from
        self._kept = streams or {}
        self._streams: dict[str, _Stream] = {}
        self._plain: list[pa.NativeFile] = []
        self._files: dict[str, dict[str, Any]] = {}
        self._persons: dict[int, int] = {}
        self._journal_path = tmp.with_name(tmp.name + JOURNAL_SUFFIX)
        self.quiet = quiet
        #: Shards journalled (all of them from 0, the resumed ones included).
        self.journalled = start

    def note(self, text: str) -> None:
        """Print a line for the user on stderr (unless quiet)."""
        _note(text, self.quiet)

    def resumed(self, rel: str) -> bool:
        """Whether the stream ``rel`` already holds the output of the shards done."""
        return rel in self._kept

    def stream(self, rel: str) -> tuple[BinaryIO, bool]:
        """Open the appended file ``rel`` (relative to :attr:`tmp`); returns it and whether it was resumed.

        A resumed stream already holds what the done shards wrote (CSV: with its header) and is
        positioned at its end.
        """
        offset, digest = self._kept.get(rel, (0, hashlib.sha256()))
        s = self._streams[rel] = _Stream(self.tmp / rel, offset, digest, self.journal)
        return s, rel in self._kept  # type: ignore[return-value]

    def arrow_sink(self, rel: str) -> tuple[pa.NativeFile, bool]:
        """:meth:`stream` as a pyarrow sink (for ``pyarrow.csv.CSVWriter``); returns it and whether it was resumed.

        Without a journal it is a plain ``pyarrow.OSFile``, as pyarrow opens for a path.
        """
        if not self.journal:
            f = pa.OSFile(str(self.tmp / rel), "wb")
            self._plain.append(f)
            return f, False
        stream, resumed = self.stream(rel)
        return pa.PythonFile(stream, mode="w"), resumed

    def write_file(self, rel: str, data: bytes | memoryview) -> None:
        """Write the whole file ``rel`` for the current shard (journalled with its SHA-256)."""
        path = self.tmp / rel
        with open(path, "wb") as f:
            f.write(data)
        if self.journal:
            self._files[rel] = {"bytes": memoryview(data).nbytes, "sha256": "sha256:" + hashlib.sha256(data).hexdigest()}

    def count(self, index: int, persons: int) -> None:
        """Record that shard ``index`` has ``persons`` persons (for the progress of a resumed export)."""
        self._persons[index] = persons

    def shard_done(self, index: int, state: dict[str, Any] | None = None) -> None:
        """Journal shard ``index``: everything it produced is written; ``state`` is how it changed the exporter's."""
        if not self.journal:
            self._files = {}
            return
        for s in self._streams.values():
            s.flush()
        maybe_kill(index, EXPORT_KILL_ENV)  # test-only fault injection; nothing when unset
        streams = {rel: (offset, digest) for rel, (offset, digest) in self._kept.items() if rel not in self._streams}
        streams.update({rel: (s.bytes, s.digest) for rel, s in self._streams.items()})
        entry = {"shard": index, "persons": self._persons.pop(index, None), "files": self._files,
                 "streams": {rel: {"bytes": offset, "sha256": "sha256:" + digest.copy().hexdigest()}
                             for rel, (offset, digest) in sorted(streams.items())},
                 "state": state or {}}
        self._files = {}
        with open(self._journal_path, "a", encoding="utf-8") as f:
            f.write(_line(entry))
        self.journalled = index + 1

    def close(self) -> None:
        """Close the streams (the journal stays until the output is committed or discarded)."""
        for s in self._streams.values():
            s.file.close()
        for f in self._plain:
            f.close()
        self._streams, self._plain = {}, []

    def keep_journal(self, shards: int) -> None:
        """Cut the journal back to its header and first ``shards`` entries (an exporter that verified its own)."""
        header, entries = _read_journal(self._journal_path)
        kept = []
        for i, entry in enumerate(entries[:shards]):
            if entry is None or entry.get("shard") != i:
                break
            kept.append(entry)
        with open(self._journal_path, "w", encoding="utf-8") as f:
            f.write("".join(_line(x) for x in [header, *kept]))

    def keep(self) -> bool:
        """Stop here and leave the temporary output with its journal for ``--resume``; False if no shard is journalled.

        For an export stopped by Ctrl-C or SIGTERM: the shards journalled so far are verified
        again when it is resumed, like those of an export killed outright.
        """
        if not self.journal or not self.journalled or not (self.tmp.exists() or self.tmp.is_symlink()):
            return False
        self.close()
        release(self.tmp)
        return True

    def discard(self) -> None:
        """Delete the temporary output and its journal."""
        self.close()
        discard(self.tmp)


def supersede(dest: str | os.PathLike[str]) -> list[Path]:
    """Delete the interrupted exports of ``dest`` that nobody is writing: a finished export supersedes them.

    Example:
        >>> supersede("/nonexistent/out")
        []
    """
    gone = []
    for run in find_interrupted(dest):
        if hold(run.path):
            discard(run.path)
            gone.append(run.path)
    return gone


def _key_json(key: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(key, sort_keys=True, default=str))


def open_checkpoint(dest: str | os.PathLike[str], key: dict[str, Any], *, shards: int, folder: bool,
                    overwrite: bool = False, resume: bool = False, journal: bool = True, what: str = "output",
                    quiet: bool = True) -> Checkpoint:
    """Reserve the temporary output of ``dest`` and start its journal, or, with ``resume``, adopt an interrupted one.

    Args:
        dest: the export's destination.
        key: what the export makes (format, options, a hash of its input): a resumed export must
            have the same.
        shards: the run's shard count.
        folder: the output is a folder (its streams and files go inside it) or one file.
        overwrite: allow replacing an existing ``dest``.
        resume: continue the interrupted export of ``dest`` made with ``key``; without one, start
            from the beginning (saying so unless ``quiet``).
        journal: False to write without checksums or journal (only to measure their cost).
        what: the output, in words, for errors.
        quiet: no notes on stderr.

    Raises:
        ConfigError: with ``resume``, the interrupted exports of ``dest`` were made with other
            options (each difference is listed).
        OutputError: ``dest`` exists (without ``overwrite``) or cannot be written.
    """
    dest = Path(dest).expanduser().absolute()
    key = _key_json(key)
    if resume:
        refuse_existing(dest, overwrite=overwrite, what=what)
        others = []
        for run in find_interrupted(dest):
            if run.key != key or run.shards != shards:
                others.append(run)
                continue
            if not hold(run.path):
                continue  # another process is writing it
            ck = _adopt(run, dest, shards, folder, quiet)
            ck.quiet = quiet
            return ck
        if others:
            raise ConfigError(_mismatch(dest, others[0], key, shards))
        _note(f"note: there is no interrupted export of {dest} to resume: exporting from the start (--resume "
              "is for an export that was killed; run the same command without it next time)", quiet)
    else:
        for run in find_interrupted(dest)[:1]:
            _note(f"note: an interrupted export of {dest} ({run.done} of {run.shards} shards done) is in "
                  f"{run.path}; pass --resume with its options to continue it instead", quiet)
    tmp = make_temp(dest, folder=False, overwrite=overwrite, what=what, create=False)
    header = {"hygeia_export_checkpoint": _VERSION, "key": key, "shards": shards,
              "started_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    try:
        if folder:
            tmp.mkdir()
        if journal:
            with open(tmp.with_name(tmp.name + JOURNAL_SUFFIX), "w", encoding="utf-8") as f:
                f.write(_line(header))
    except BaseException:
        discard(tmp)
        raise
    return Checkpoint(tmp, journal=journal, header=header, quiet=quiet)


def _note(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr)


def _matches(path: Path, record: Any) -> bool:
    try:
        if not isinstance(record, dict) or path.stat().st_size != record.get("bytes"):
            return False
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        return "sha256:" + h.hexdigest() == record.get("sha256")
    except OSError:
        return False


def _prefix_digests(path: Path, offsets: list[int]) -> dict[int, tuple[str, Any]]:
    """The SHA-256 of each prefix of ``path`` ending at one of ``offsets`` (one pass), with its hasher."""
    out: dict[int, tuple[str, Any]] = {}
    h = hashlib.sha256()
    pos = 0
    try:
        with open(path, "rb") as f:
            for end in sorted(set(offsets)):
                while pos < end:
                    chunk = f.read(min(_CHUNK, end - pos))
                    if not chunk:
                        return out
                    h.update(chunk)
                    pos += len(chunk)
                out[end] = ("sha256:" + h.hexdigest(), h.copy())
    except OSError:
        pass
    return out


def _adopt(run: Interrupted, dest: Path, shards: int, folder: bool, quiet: bool) -> Checkpoint:
    """Keep the longest prefix of verified shards of an interrupted export; delete the rest."""
    tmp = run.path
    journal_path = tmp.with_name(tmp.name + JOURNAL_SUFFIX)
    header, entries = _read_journal(journal_path)
    if not folder:  # one file (a database) journals inside itself: its exporter verifies what it holds
        return Checkpoint(tmp, journal=True, header=header, resumed_from=tmp.name)
    good: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):  # intact lines, in order, whose whole files match their checksums
        if entry is None or entry.get("shard") != i or not isinstance(entry.get("files"), dict) \
                or not isinstance(entry.get("streams"), dict):
            break
        if not all(_matches(tmp / rel, rec) for rel, rec in entry["files"].items()):
            break
        good.append(entry)
    offsets: dict[str, list[int]] = {}
    for entry in good:
        for rel, rec in entry["streams"].items():
            if isinstance(rec, dict) and isinstance(rec.get("bytes"), int):
                offsets.setdefault(rel, []).append(rec["bytes"])
    digests = {rel: _prefix_digests(tmp / rel, ends) for rel, ends in offsets.items()}

    def streams_ok(entry: dict[str, Any]) -> bool:
        return all(isinstance(rec, dict) and digests.get(rel, {}).get(rec.get("bytes"), ("",))[0] == rec.get("sha256")
                   for rel, rec in entry["streams"].items())

    while good and not streams_ok(good[-1]):  # a stream cut short or changed: go back to where it matched
        good.pop()
    kept_files = {rel for entry in good for rel in entry["files"]}
    kept_streams = ({rel: (rec["bytes"], digests[rel][rec["bytes"]][1]) for rel, rec in good[-1]["streams"].items()}
                    if good else {})
    if not good:  # nothing to keep: start again in the same temporary
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp)
        elif os.path.lexists(tmp):
            tmp.unlink()
        if folder:
            tmp.mkdir()
    else:
        keep = kept_files | set(kept_streams)
        for path in sorted(tmp.rglob("*"), reverse=True):
            rel = path.relative_to(tmp).as_posix()
            if path.is_file() and rel not in keep:
                path.unlink()
        for rel, (offset, _digest) in kept_streams.items():  # what the killed shard had appended goes
            os.truncate(tmp / rel, offset)
    with open(journal_path, "w", encoding="utf-8") as f:  # the journal of what is kept
        f.write("".join(_line(x) for x in [header, *good]))
    _note(f"resuming {tmp}: {len(good)} of {shards} shards already written and verified", quiet)
    return Checkpoint(tmp, journal=True, header=header, start=len(good), states=[e["state"] for e in good],
                      streams=kept_streams, resumed_from=tmp.name,
                      persons=[e.get("persons") or 0 for e in good])
