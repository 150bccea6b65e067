"""Clinical notes as ``note`` events of the canonical records, for every exporter.

``hygeia notes write RUN --out DIR`` leaves the run untouched (runs are immutable,
with their ``run.json``) and writes ``DIR/notes/part-K.parquet`` (one file per shard
of the run) beside ``DIR/manifest.json``. An export that is given that folder
(``export(run, fmt, out, notes=DIR)``, ``hygeia export RUN --notes DIR``) adds each
shard's notes to its events as ``note`` events, so that every format maps one kind
of row. A ``note`` event is:

============  =============================================================
column        value
============  =============================================================
time          when the note was signed (its ``time``)
kind          ``note``
code_system   ``LOINC``
code          the document type: :data:`NOTE_TYPES` (``soap`` -> 11506-3)
display       the note's title (``Emergency Department Note``)
text_value    the note's text
encounter_id  the encounter it was written for
module        how it was made: ``notes-<hygeia version>:seed-<notes seed>``
state         ``<note kind>/<author role>`` (``discharge/attending physician``)
============  =============================================================

Example:
    >>> note_type("discharge")
    ('18842-5', 'Discharge summary')
    >>> note_author({"kind": "note", "state": "soap/primary care physician"})
    ('soap', 'primary care physician')
    >>> note_sections("Discharge Summary\\n\\nADMISSION DATE:\\n2020-01-02.\\n\\nFOLLOW-UP:\\nSee your doctor.")
    [('ADMISSION DATE', '2020-01-02.'), ('FOLLOW-UP', 'See your doctor.')]
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hygeia.core.schema import EVENTS_SCHEMA
from hygeia.errors import ConfigError, DataValidationError

__all__ = ["NOTE_TYPES", "NotesSource", "note_author", "note_events", "note_sections", "note_type", "with_notes"]

#: Note kind -> the LOINC document type (code, display) its ``note`` event carries.
NOTE_TYPES: dict[str, tuple[str, str]] = {
    "soap": ("11506-3", "Progress note"),
    "hp": ("34117-2", "History and physical note"),
    "discharge": ("18842-5", "Discharge summary"),
    "radiology": ("18748-4", "Diagnostic imaging study"),
}
#: LOINC code -> display, for every document type above.
NOTE_CODES: dict[str, str] = dict(NOTE_TYPES.values())
_MANIFEST = "manifest.json"
_NOTE_COLUMNS = ("subject_id", "encounter_id", "time", "kind", "author_role", "title", "text")
_HEADER = re.compile(r"^([A-Z][A-Z0-9 &/,()'-]*[A-Z)]):$")
_PROVENANCE = re.compile(r"^notes-[A-Za-z0-9.+_-]+:seed-\d+$")


def note_type(kind: str) -> tuple[str, str]:
    """The LOINC document type ``(code, display)`` of a note kind.

    Raises:
        DataValidationError: the kind has no document type here.
    """
    try:
        return NOTE_TYPES[kind]
    except KeyError:
        raise DataValidationError([f"note kind {kind!r} has no LOINC document type"],
                                  header=f"cannot export notes of kind {kind!r}; the kinds exported are "
                                         f"{', '.join(NOTE_TYPES)} (add its LOINC code to NOTE_TYPES)") from None


def note_author(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(note kind, author role)`` of a ``note`` event, from its ``state`` (``kind/role``); None where absent."""
    kind, sep, role = (event.get("state") or "").partition("/")
    if not sep or kind not in NOTE_TYPES:
        return None, None
    return kind, role or None


def is_notes_provenance(module: str | None) -> bool:
    """Whether ``module`` is the provenance of written notes (``notes-0.1.0:seed-7``)."""
    return bool(module) and _PROVENANCE.match(module) is not None


def note_sections(text: str) -> list[tuple[str, str]]:
    """The ``(header, body)`` sections of a note as Hygeia writes it (blocks that open with ``HEADER:``).

    Text before the first header (the title) is left out; a note without headers is one
    section, ``("NOTE", text)``.
    """
    sections: list[tuple[str, str]] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        first, _, body = block.strip().partition("\n")
        m = _HEADER.match(first.strip())
        if m:
            sections.append((m.group(1), body.strip()))
        elif sections:
            sections[-1] = (sections[-1][0], (sections[-1][1] + "\n\n" + block.strip()).strip())
    if not sections and text.strip():
        sections.append(("NOTE", text.strip()))
    return [(h, b) for h, b in sections if b]


def note_events(notes: pa.Table, provenance: str) -> pa.Table:
    """``note`` events (:data:`~hygeia.core.schema.EVENTS_SCHEMA`) from a table of notes.

    Args:
        notes: rows with the columns of :data:`hygeia.notes.NOTES_SCHEMA`.
        provenance: the ``module`` of every row: ``notes-<version>:seed-<seed>``.

    Returns:
        One ``note`` event per note, in the notes' order.

    Raises:
        DataValidationError: a column is missing or a kind has no LOINC document type.

    Example:
        >>> import datetime as dt
        >>> notes = pa.table({"subject_id": [1], "encounter_id": [7], "time": [dt.datetime(2020, 3, 1)],
        ...                   "kind": ["discharge"], "author_role": ["attending physician"],
        ...                   "title": ["Discharge Summary"], "text": ["Discharge Summary\\n\\nFOLLOW-UP:\\nIn 1 week."]})
        >>> e = note_events(notes, "notes-0.1.0:seed-1").to_pylist()[0]
        >>> e["kind"], e["code"], e["display"], e["module"], e["state"]
        ('note', '18842-5', 'Discharge Summary', 'notes-0.1.0:seed-1', 'discharge/attending physician')
    """
    missing = [c for c in _NOTE_COLUMNS if c not in notes.column_names]
    if missing:
        raise DataValidationError([f"missing columns {missing}"],
                                  header="a notes table needs the columns of hygeia.notes.NOTES_SCHEMA")
    kinds = notes["kind"].to_pylist()
    codes = [note_type(k)[0] for k in kinds]
    n = notes.num_rows
    role = pc.fill_null(notes["author_role"].cast(pa.string()), "")
    return pa.table({
        "subject_id": notes["subject_id"].cast(pa.int64()),
        "time": notes["time"].cast(EVENTS_SCHEMA.field("time").type),
        "end_time": pa.nulls(n, EVENTS_SCHEMA.field("end_time").type),
        "kind": pa.array(["note"] * n, pa.string()),
        "code_system": pa.array(["LOINC"] * n, pa.string()),
        "code": pa.array(codes, pa.string()),
        "display": notes["title"].cast(pa.string()),
        "numeric_value": pa.nulls(n, pa.float64()),
        "unit": pa.nulls(n, pa.string()),
        "text_value": notes["text"].cast(pa.string()),
        "encounter_id": notes["encounter_id"].cast(pa.int64()),
        "module": pa.array([provenance] * n, pa.string()),
        "state": pc.binary_join_element_wise(notes["kind"].cast(pa.string()), role, "/"),
    }, schema=EVENTS_SCHEMA)


class NotesSource:
    """The output folder of ``hygeia notes write``, checked against the run it is exported with.

    Args:
        path: the folder (``manifest.json`` and ``notes/part-K.parquet``).
        run_info: the run's ``run.json``.

    Raises:
        ConfigError: the folder is not a notes folder, or its notes were written from another run.
    """

    def __init__(self, path: str | os.PathLike[str], run_info: Mapping[str, Any]) -> None:
        root = Path(path).expanduser()
        fix = "Pass the --out folder of 'hygeia notes write RUN --out DIR' for this run"
        if not (root / _MANIFEST).is_file() or not (root / "notes").is_dir():
            raise ConfigError(f"--notes {str(root)!r} is not a notes folder (no {_MANIFEST} and notes/ in it). {fix}.")
        try:
            manifest = json.loads((root / _MANIFEST).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"--notes {str(root)!r}: {_MANIFEST} is not valid JSON ({e}). {fix}.") from None
        source = manifest.get("source_run") or {}
        run_seed = (run_info.get("config") or {}).get("seed", run_info.get("seed"))
        theirs = (source.get("seed"), source.get("created_at"))
        ours = (run_seed, run_info.get("created_at"))
        if theirs != ours:
            raise ConfigError(
                f"--notes {str(root)!r} holds notes written from another run (seed {theirs[0]}, created "
                f"{theirs[1]}); this run has seed {ours[0]}, created {ours[1]}. Write its notes first: "
                f"hygeia notes write RUN --out DIR, then pass --notes DIR.")
        self.root = root
        self.manifest = manifest
        self.provenance = f"notes-{manifest.get('hygeia_version')}:seed-{manifest.get('seed')}"
        self.parts = sorted((root / "notes").glob("part-*.parquet"))

    def shard(self, index: int, persons: pa.Table) -> pa.Table:
        """The ``note`` events of the run's shard ``index`` (whose persons are ``persons``)."""
        path = self.root / "notes" / f"part-{index:05d}.parquet"
        if not path.is_file():
            return EVENTS_SCHEMA.empty_table()
        events = note_events(pq.read_table(path), self.provenance)
        strangers = pc.invert(pc.is_in(events["subject_id"], persons["subject_id"]))
        if events.num_rows and pc.any(strangers).as_py():
            sid = events["subject_id"].filter(strangers)[0].as_py()
            raise ConfigError(f"--notes {str(self.root)!r}: {path.name} has notes of subject {sid}, who is not in "
                              f"shard {index} of the run; the notes folder does not belong to this run. Write its "
                              "notes again: hygeia notes write RUN --out DIR.")
        return events


def with_notes(shards: Iterator[tuple[pa.Table, pa.Table]], source: NotesSource,
               start: int = 0) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Each shard with its notes appended to its events as ``note`` events (the first is shard ``start``)."""
    n = start
    for index, (persons, events) in enumerate(shards, start):
        notes = source.shard(index, persons)
        yield persons, (pa.concat_tables([events, notes]) if notes.num_rows else events)
        n = index + 1
    extra = [p.name for p in source.parts if not p.name[5:-8].isdigit() or int(p.name[5:-8]) >= n]
    if extra:
        raise ConfigError(f"--notes {str(source.root)!r} has notes for shards the run does not have ({extra[0]}); "
                          "the notes folder does not belong to this run.")
