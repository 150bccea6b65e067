"""The exporter interface and registry.

Every format is one :class:`Exporter` subclass registered under a name. An
exporter reads a Hygeia run folder shard by shard (:func:`iter_shards`), so
memory stays flat as N grows, and writes into a temporary path that is renamed
into place only when everything succeeded: an interrupted export leaves nothing
that looks complete.

Example:
    >>> from hygeia.export import EXPORTERS
    >>> sorted(EXPORTERS)  # doctest: +SKIP
    ['csv', 'fhir', 'meds', 'ndjson', 'omop']
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from hygeia.core.atomic import commit, discard, make_temp
from hygeia.core.progress import track
from hygeia.core.storage import iter_shards, read_run_info
from hygeia.errors import ConfigError
from hygeia.export._notes import NotesSource, with_notes

__all__ = ["EXPORTERS", "Exporter", "export", "register_exporter"]

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

    def __init__(self, **options: Any) -> None:
        self.options = options

    def write(self, shards: Iterator[tuple[pa.Table, pa.Table]], out: Path, run_info: dict) -> dict[str, int]:
        """Write every shard to ``out`` (a fresh temporary path); return counts written."""
        raise NotImplementedError

    def export(self, run: str | os.PathLike[str], out: str | os.PathLike[str], *, overwrite: bool = False,
               progress: bool = False, notes: str | os.PathLike[str] | None = None) -> dict:
        """Export the run folder ``run`` to ``out`` atomically; returns counts written.

        ``progress`` shows the persons exported on stderr (a bar in a terminal, plain lines otherwise).
        ``notes`` is the output folder of ``hygeia notes write`` for this run: its notes are exported
        as ``note`` events (see :mod:`hygeia.export._notes`).
        """
        info = read_run_info(run)
        source = NotesSource(notes, info) if notes is not None else None
        self.images = None
        if (Path(run) / "images" / "manifest.json").is_file():
            from hygeia.imaging._link import images_index

            self.images = images_index(run, info)
        dest = Path(out).expanduser()
        what = "export file" if self.single_file else "export folder"
        tmp = make_temp(dest, folder=False, overwrite=overwrite, what=what)
        tmp.unlink()  # the writer creates its own file or folder at this name
        try:
            shards = read_shards(run, info, f"exporting {self.format}", progress, source)
            counts = self.write(shards, tmp, info)
        except BaseException:
            discard(tmp)
            raise
        commit(tmp, dest, what=what)  # the previous export stays whole until the swap
        return counts


def read_shards(run: str | os.PathLike[str], info: dict, description: str, progress: bool,
                notes: NotesSource | None = None) -> Iterator[tuple[pa.Table, pa.Table]]:
    """The run's shards (with ``notes`` added as ``note`` events), counted on a progress bar."""
    shards = iter_shards(run)
    if notes is not None:
        shards = with_notes(shards, notes)
    return track(shards, total=(info.get("config") or {}).get("n"), weight=lambda s: s[0].num_rows,
                 unit="persons", description=description, quiet=not progress)


def export(run: str | os.PathLike[str], format: str, out: str | os.PathLike[str], *, overwrite: bool = False,
           progress: bool = False, notes: str | os.PathLike[str] | None = None, **options: Any) -> dict:
    """Export a run folder to ``format``; see :data:`EXPORTERS` for the formats.

    ``progress=True`` shows the persons exported on stderr (quiet by default). ``notes`` names the
    output folder of ``hygeia notes write`` for this run; its notes are exported too (FHIR
    DocumentReference and Composition, the OMOP ``note`` table, MEDS and CSV rows).

    Raises:
        ConfigError: an unknown format.
    """
    cls = EXPORTERS.get(format)
    if cls is None:
        raise ConfigError(f"unknown export format {format!r}; choose one of {sorted(EXPORTERS)}")
    return cls(**options).export(run, out, overwrite=overwrite, progress=progress, notes=notes)
