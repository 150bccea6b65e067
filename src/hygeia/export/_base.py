"""The exporter interface and registry.

Every format is one :class:`Exporter` subclass registered under a name. An
exporter reads a Hygeia run folder shard by shard (:func:`iter_shards`), so
memory stays flat as N grows, and writes into a temporary path that is renamed
into place only when everything succeeded: an interrupted export leaves nothing
that looks complete. It writes through a :class:`~hygeia.export._checkpoint.Checkpoint`
(:attr:`Exporter.checkpoint`), which journals each shard once written, so that an
export killed outright continues with ``resume=True`` (``hygeia export --resume``)
and ends byte for byte as an uninterrupted one.

Example:
    >>> from hygeia.export import EXPORTERS
    >>> sorted(EXPORTERS)  # doctest: +SKIP
    ['csv', 'fhir', 'meds', 'ndjson', 'omop']
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from hygeia import __version__
from hygeia.core.atomic import commit
from hygeia.core.progress import Progress
from hygeia.core.storage import RUN_FILE, iter_shards, read_run_info
from hygeia.errors import ConfigError, Terminated
from hygeia.export._checkpoint import Checkpoint, open_checkpoint, supersede
from hygeia.export._notes import NotesSource, with_notes

__all__ = ["EXPORTERS", "Exporter", "export", "register_exporter", "shard_count"]

EXPORTERS: dict[str, type["Exporter"]] = {}


def register_exporter(name: str):
    """Class decorator: make an :class:`Exporter` available as ``--format name``."""

    def deco(cls: type[Exporter]) -> type[Exporter]:
        cls.format = name
        EXPORTERS[name] = cls
        return cls

    return deco


class Exporter:
    """Base class: subclasses implement :meth:`write` and may accept keyword options.

    ``__init__`` stores its keyword options unchanged (as ``self.options``).
    """

    format: ClassVar[str] = ""
    #: The run's rendered images (``RUN/images/manifest.json``), subject_id -> event key -> study;
    #: set by :meth:`export` (None without images). Exporters that carry image references read it.
    images: dict[int, dict] | None = None
    #: Whether the output is one file (True) or a folder (False).
    single_file: ClassVar[bool] = False

    #: Options that do not change the output (a resumed export may pass others).
    unkeyed_options: ClassVar[tuple[str, ...]] = ("workers",)
    #: What :meth:`write` writes through (set by :meth:`export`).
    checkpoint: Checkpoint | None = None

    def __init__(self, **options: Any) -> None:
        self.options = options

    def write(self, shards: Iterator[tuple[pa.Table, pa.Table]], out: Path, run_info: dict) -> dict[str, int]:
        """Write every shard to ``out`` (a fresh temporary path); return counts written.

        ``shards`` starts at shard :attr:`checkpoint.start <hygeia.export._checkpoint.Checkpoint.start>`:
        the earlier ones are written already (a resumed export), and the exporter first restores
        the state they journalled (:attr:`~hygeia.export._checkpoint.Checkpoint.states`).
        """
        raise NotImplementedError

    def checkpoint_for(self, out: Path) -> Checkpoint:
        """What :meth:`write` writes ``out`` through: the export's checkpoint, or (``write`` called on its
        own) a plain one that journals nothing."""
        ck = getattr(self, "checkpoint", None)
        if ck is None or Path(ck.tmp) != Path(out):
            ck = Checkpoint(Path(out), journal=False, header={})
        return ck

    def prepare(self, checkpoint: Checkpoint, shards: int) -> None:
        """Called before the shards are read: an exporter that keeps its own journal (OMOP's DuckDB file)
        sets ``checkpoint.start`` and ``checkpoint.states`` from it here."""

    def resume_key(self, run: str | os.PathLike[str], notes: str | os.PathLike[str] | None) -> dict[str, Any]:
        """What this export makes: a resumed export must have the same (format, options, input hashes)."""
        def digest(path: Path) -> str | None:
            return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None

        return {"hygeia_version": __version__, "format": self.format,
                "options": {k: v for k, v in sorted(self.options.items()) if k not in self.unkeyed_options},
                "run": digest(Path(run) / RUN_FILE),
                "notes": digest(Path(notes) / "manifest.json") if notes is not None else None,
                "images": digest(Path(run) / "images" / "manifest.json")}

    def export(self, run: str | os.PathLike[str], out: str | os.PathLike[str], *, overwrite: bool = False,
               progress: bool = False, notes: str | os.PathLike[str] | None = None, resume: bool = False,
               checkpoint: bool = True) -> dict:
        """Export the run folder ``run`` to ``out`` atomically; returns counts written.

        ``progress`` shows the persons exported on stderr (a bar in a terminal, plain lines otherwise).
        ``notes`` is the output folder of ``hygeia notes write`` for this run: its notes are exported
        as ``note`` events (see :mod:`hygeia.export._notes`). ``resume`` continues the export of
        ``run`` to ``out`` that was killed outright, from its shards written and verified (the same
        options must be passed; without an interrupted export it starts from the beginning).
        ``checkpoint=False`` writes without checksums or journal (only to measure their cost).

        Raises:
            ConfigError: with ``resume``, the interrupted export was made with other options
                (each difference is named).
            OutputError: ``out`` exists (without ``overwrite``) or cannot be written.
        """
        if resume and not checkpoint:
            raise ConfigError("resume=True needs checkpoint=True: the journal is what an export resumes from")
        info = read_run_info(run)
        source = NotesSource(notes, info) if notes is not None else None
        self.images = None
        if (Path(run) / "images" / "manifest.json").is_file():
            from hygeia.imaging._link import images_index

            self.images = images_index(run, info)
        dest = Path(out).expanduser()
        what = "export file" if self.single_file else "export folder"
        shards = shard_count(run)
        ck = open_checkpoint(dest, self.resume_key(run, notes), shards=shards, folder=not self.single_file,
                             overwrite=overwrite, resume=resume, journal=checkpoint, what=what, quiet=not progress)
        self.checkpoint = ck
        try:
            self.prepare(ck, shards)
            todo = read_shards(run, info, f"exporting {self.format}", progress, source, start=ck.start, checkpoint=ck)
            counts = self.write(todo, ck.tmp, info)
            ck.close()
        except (KeyboardInterrupt, Terminated) as e:  # Ctrl-C, SIGTERM: keep the journalled shards for --resume
            if ck.keep():
                e.kept = (ck.tmp, ck.journalled, shards)  # read by the CLI's "Stopped" message
            else:
                ck.discard()
            raise
        except BaseException:
            ck.discard()
            raise
        commit(ck.tmp, dest, what=what)  # the previous export stays whole until the swap
        supersede(dest)
        return counts


def shard_count(run: str | os.PathLike[str]) -> int:
    """The shards of a run folder (its ``part-*.parquet`` files)."""
    root = Path(run)
    return len({p.name for name in ("persons", "events") for p in (root / name).glob("*.parquet")})


def read_shards(run: str | os.PathLike[str], info: dict, description: str, progress: bool,
                notes: NotesSource | None = None, *, start: int = 0,
                checkpoint: Checkpoint | None = None) -> Iterator[tuple[pa.Table, pa.Table]]:
    """The run's shards from ``start`` on (with ``notes`` added as ``note`` events), counted on a progress bar.

    The persons of the shards before ``start`` count as done; each shard's persons are told to
    ``checkpoint`` (:meth:`~hygeia.export._checkpoint.Checkpoint.count`).
    """
    shards = iter_shards(run, start=start)
    if notes is not None:
        shards = with_notes(shards, notes, start=start)
    done = sum(int(p) for p in (checkpoint.persons_done if checkpoint is not None else []))
    return _tracked(shards, (info.get("config") or {}).get("n"), done, start, description, not progress, checkpoint)


def _tracked(shards: Iterator[tuple[pa.Table, pa.Table]], total: int | None, done: int, start: int,
             description: str, quiet: bool, checkpoint: Checkpoint | None) -> Iterator[tuple[pa.Table, pa.Table]]:
    with Progress(total, unit="persons", description=description, quiet=quiet) as bar:
        if done:
            bar.update(done)
        for index, shard in enumerate(shards, start):
            if checkpoint is not None:
                checkpoint.count(index, shard[0].num_rows)
            yield shard
            bar.update(shard[0].num_rows)


def export(run: str | os.PathLike[str], format: str, out: str | os.PathLike[str], *, overwrite: bool = False,
           progress: bool = False, notes: str | os.PathLike[str] | None = None, resume: bool = False,
           **options: Any) -> dict:
    """Export a run folder to ``format``; see :data:`EXPORTERS` for the formats.

    ``progress=True`` shows the persons exported on stderr (quiet by default). ``notes`` names the
    output folder of ``hygeia notes write`` for this run; its notes are exported too (FHIR
    DocumentReference and Composition, the OMOP ``note`` table, MEDS and CSV rows). ``resume=True``
    continues an export of ``run`` to ``out`` that was killed outright (SIGKILL, a power cut) from
    the shards it wrote and verified, with the same options; the output is the uninterrupted one.

    Raises:
        ConfigError: an unknown format, or a resume with options other than the interrupted export's.
    """
    cls = EXPORTERS.get(format)
    if cls is None:
        raise ConfigError(f"unknown export format {format!r}; choose one of {sorted(EXPORTERS)}")
    return cls(**options).export(run, out, overwrite=overwrite, progress=progress, notes=notes, resume=resume)
