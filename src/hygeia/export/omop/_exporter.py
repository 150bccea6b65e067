"""The ``omop`` exporter: OMOP CDM v5.4 into a DuckDB file or a PostgreSQL database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from hygeia.core.storage import read_run_info
from hygeia.errors import ConfigError
from hygeia.export._base import Exporter, read_shards, register_exporter
from hygeia.export._checkpoint import Checkpoint
from hygeia.export._notes import NotesSource
from hygeia.export.omop._load import DuckDBSink, PostgresSink, load
from hygeia.export.omop._vocabulary import Vocabulary

__all__ = ["OmopExporter"]

_OPTIONS = ("omop_url", "omop_schema", "vocabulary", "start")


@register_exporter("omop")
class OmopExporter(Exporter):
    """Export a run as OMOP CDM v5.4.

    Without ``omop_url`` the CDM goes into one DuckDB file (``out``), written
    under a temporary name and renamed when complete. With ``omop_url`` it is
    loaded into that PostgreSQL database in one transaction (``out`` is
    ignored): all tables appear together, or none do.

    Options:
        omop_url: ``postgresql://user[:password]@host[:port]/database``.
        omop_schema: PostgreSQL schema for the tables (created if missing);
            default the connection's current schema, normally ``public``.
        vocabulary: a folder of OHDSI Athena vocabulary files (``CONCEPT.csv``,
            ``CONCEPT_RELATIONSHIP.csv``...): source codes are mapped to its
            standard concepts and its tables are loaded. Default: Hygeia's own
            small vocabulary (synthetic local concept ids; see docs/omop.md).
        start: the first day exported (``YYYY-MM-DD``): events before it are
            left out and observation periods begin there (or at birth).

    Example:
        >>> from hygeia.export import export
        >>> export("output", "omop", "cdm.duckdb")  # doctest: +SKIP
        {'person': 1000, 'observation_period': 1000, 'visit_occurrence': 82344, ...}
        >>> export("output", "omop", None, omop_url="postgresql://me@localhost/cdm")  # doctest: +SKIP
        >>> export("output", "omop", "cdm.duckdb", vocabulary="athena", start="2000-01-01")  # doctest: +SKIP
    """

    single_file = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ConfigError(f"unknown omop export option(s) {unknown}; the options are {list(_OPTIONS)}")
        if options.get("omop_schema") is not None and not options.get("omop_url"):
            raise ConfigError("omop_schema goes with omop_url (a DuckDB file keeps its tables in 'main')")
        self.vocabulary = Vocabulary(options.get("vocabulary"))

    def export(self, run: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
               overwrite: bool = False, progress: bool = False, notes: str | os.PathLike[str] | None = None,
               resume: bool = False, checkpoint: bool = True) -> dict:
        """Export ``run``; see the class docstring. Returns rows written per CDM table."""
        url = self.options.get("omop_url")
        if not url:
            if out is None:
                raise ConfigError("an OMOP export needs an output path (--out cdm.duckdb) or --omop-url")
            return super().export(run, out, overwrite=overwrite, progress=progress, notes=notes, resume=resume,
                                  checkpoint=checkpoint)
        if resume:
            raise ConfigError("--resume goes with an export to a file or folder: a PostgreSQL load (--omop-url) "
                              "is one transaction, rolled back by the server when the export is killed. Run the "
                              "same command without --resume")
        info = read_run_info(run)
        source = NotesSource(notes, info) if notes is not None else None
        sink = PostgresSink(url, schema=self.options.get("omop_schema"), overwrite=overwrite)
        return load(read_shards(run, info, "loading OMOP into PostgreSQL", progress, source), sink, info,
                    self.vocabulary, self.options.get("start"))

    def prepare(self, checkpoint: Checkpoint, shards: int) -> None:
        """A resumed export reopens the DuckDB file it left and goes on after the shards committed there."""
        self._sink = DuckDBSink(checkpoint.tmp, journal=checkpoint.journal)
        if checkpoint.resumed_from is None:
            return
        states = self._sink.resume(shards)
        checkpoint.keep_journal(len(states or []))
        checkpoint.start = len(states or [])
        checkpoint.states = states or []
        checkpoint.persons_done = [int(s.get("persons", 0)) for s in checkpoint.states]
        checkpoint.note(f"resuming {checkpoint.tmp}: {checkpoint.start} of {shards} shards already written and "
                        "verified")

    def write(self, shards: Iterator[tuple[pa.Table, pa.Table]], out: Path, run_info: dict) -> dict[str, int]:
        ck = self.checkpoint_for(out)
        sink = getattr(self, "_sink", None)
        self._sink = None
        if sink is None or sink.path != Path(out):
            sink = DuckDBSink(out, journal=ck.journal)
        return load(shards, sink, run_info, self.vocabulary, self.options.get("start"), checkpoint=ck)
