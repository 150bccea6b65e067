"""Write a clinical note for every encounter of a run: ``notes/*.parquet`` and ``manifest.json``."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hygeia import __version__
from hygeia.core.atomic import atomic_output, refuse_foreign
from hygeia.core.progress import Progress
from hygeia.core.seeding import resolve_seed
from hygeia.core.storage import iter_shards, read_run_info
from hygeia.errors import ConfigError
from hygeia.notes._compose import KINDS, Note, compose_notes

__all__ = ["NOTES_SCHEMA", "WriteNotesResult", "note_for_encounter", "write_notes"]

#: Version of the notes folder layout (``manifest.json``'s ``spec_version``).
SPEC_VERSION = 1
MANIFEST = "manifest.json"
_STREAM_NOTES = 14  # the seed tree's branch for notes
_KIND_INDEX = {k: i for i, k in enumerate(KINDS)}

#: Columns of the ``notes`` table.
NOTES_SCHEMA = pa.schema([
    ("subject_id", pa.int64()), ("encounter_id", pa.int64()), ("time", pa.timestamp("us")),
    ("kind", pa.string()), ("author_role", pa.string()), ("title", pa.string()), ("text", pa.string()),
    ("provenance", pa.string()),
])


def _check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return KINDS
    chosen = tuple(dict.fromkeys(kinds))
    bad = [k for k in chosen if k not in KINDS]
    if bad or not chosen:
        raise ConfigError(f"kinds must be among {', '.join(KINDS)}; got {list(kinds)!r}. "
                          "Pass e.g. kinds=['soap', 'radiology'], or kinds=None for all.")
    return chosen


def _rngs(seed: int, subject_id: int, encounter_id: int) -> Any:
    def rng(kind: str) -> random.Random:
        seq = np.random.SeedSequence(seed, spawn_key=(_STREAM_NOTES, int(subject_id), int(encounter_id),
                                                      _KIND_INDEX[kind]))
        return random.Random(int(seq.generate_state(1, np.uint64)[0]))
    return rng


def note_for_encounter(person: Mapping[str, Any], events: Sequence[Mapping[str, Any]], encounter_id: int, *,
                       seed: int = 0, kinds: Iterable[str] | None = None) -> list[Note]:
    """The notes of one encounter: a SOAP note, an H&P, or an H&P and a discharge summary; radiology reports.

    Ambulatory, urgent-care and emergency encounters get a SOAP progress note; wellness
    visits a History & Physical; inpatient stays an admission H&P and a discharge summary.
    Every imaging study of the encounter (a chest radiograph, a CT, an echocardiogram...)
    also gets a radiology report (EXAMINATION, CLINICAL INDICATION, COMPARISON, TECHNIQUE,
    FINDINGS, IMPRESSION), written by a radiologist (a cardiologist for echocardiography).

    Args:
        person: the person's row of a run's ``persons`` table (``subject_id``, ``birth_time``, ``sex``).
        events: the person's rows of the ``events`` table (any order).
        encounter_id: the encounter to write about.
        seed: the wording seed; the same seed gives the same words.
        kinds: only these kinds (``soap``, ``hp``, ``discharge``, ``radiology``); None for all.

    Returns:
        The encounter's notes, each with its sentences and their provenance.

    Raises:
        ConfigError: ``encounter_id`` is not an encounter of ``events``, or a kind is unknown.

    Example:
        >>> import datetime as dt
        >>> t = dt.datetime(2020, 3, 1, 9)
        >>> person = {"subject_id": 1, "birth_time": dt.datetime(1970, 1, 1), "sex": "F"}
        >>> row = dict(subject_id=1, end_time=None, code_system="SNOMED-CT", numeric_value=None, unit=None,
        ...            encounter_id=5)
        >>> events = [{**row, "kind": "encounter", "time": t, "end_time": t, "code": "185345009",
        ...            "display": "Encounter for symptom (procedure)", "text_value": "ambulatory"},
        ...           {**row, "kind": "condition", "time": t, "code": "444814009",
        ...            "display": "Viral sinusitis (disorder)", "text_value": None}]
        >>> [note] = note_for_encounter(person, events, 5, seed=1)
        >>> note.kind, "Viral sinusitis" in note.text, "ALLERGIES:" in note.text
        ('soap', True, True)
    """
    chosen = _check_kinds(kinds)
    seed = resolve_seed(seed)
    ordered = _in_order(events)
    encounter = next((e for e in ordered if e["kind"] == "encounter" and e["encounter_id"] == encounter_id), None)
    if encounter is None:
        raise ConfigError(f"encounter_id {encounter_id} is not an encounter of these events. "
                          "Pass the encounter_id of an event whose kind is 'encounter'.")
    return compose_notes(person, ordered, encounter, _rngs(seed, person["subject_id"], encounter_id), chosen)


def _in_order(events: Iterable[Mapping[str, Any]]) -> list:
    """A person's events by time, an encounter before what happens at its start."""
    return sorted(events, key=lambda e: (e["time"], e["kind"] != "encounter"))


@dataclass
class WriteNotesResult:
    """What :func:`write_notes` wrote."""

    out: Path
    seed: int
    n_notes: int
    n_encounters: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def _table(notes: list[Note]) -> pa.Table:
    return pa.table({
        "subject_id": [n.subject_id for n in notes], "encounter_id": [n.encounter_id for n in notes],
        "time": [n.time for n in notes], "kind": [n.kind for n in notes],
        "author_role": [n.author_role for n in notes], "title": [n.title for n in notes],
        "text": [n.text for n in notes],
        "provenance": [json.dumps(n.provenance(), separators=(",", ":")) for n in notes],
    }, schema=NOTES_SCHEMA)


def write_notes(run: str | os.PathLike[str], out: str | os.PathLike[str], *, seed: int | None = None,
                kinds: Iterable[str] | None = None, overwrite: bool = False, quiet: bool = True) -> WriteNotesResult:
    """Write a note for every encounter of a run folder into ``out``.

    Writes ``out/notes/part-K.parquet`` (one file per shard of the run; columns of
    :data:`NOTES_SCHEMA`, ``provenance`` a JSON list of ``{section, text, events, basis}``)
    and ``out/manifest.json`` (seed, Hygeia version, source run, counts), atomically.

    Args:
        run: a run folder written by ``hygeia generate``.
        out: the folder to write (must not exist or be empty, unless ``overwrite``).
        seed: the wording seed; None draws a fresh one (recorded in the manifest).
        kinds: only these note kinds (``soap``, ``hp``, ``discharge``, ``radiology``); None for all.
        overwrite: replace ``out`` if it exists.
        quiet: draw no progress bar.

    Returns:
        The output folder, the seed used, and the number of notes of each kind.

    Raises:
        DataValidationError: ``run`` is not a run folder.
        ConfigError: a kind is unknown or the seed is negative.
        OutputError: ``out`` exists and ``overwrite`` is false, or it is a folder that is not empty and
            holds no ``manifest.json`` (never replaced, even with ``overwrite``).

    Example:
        >>> result = write_notes("output", "output_notes", seed=1)  # doctest: +SKIP
        >>> result.counts  # doctest: +SKIP
        {'discharge': 3, 'hp': 61, 'soap': 144, 'radiology': 9}
    """
    started = time.perf_counter()
    chosen = _check_kinds(kinds)
    info = read_run_info(run)  # raises a clear error for anything but a run folder
    dest = Path(out).expanduser()
    if overwrite:
        refuse_foreign(dest, MANIFEST, "a notes folder")
    seed = resolve_seed(seed)
    counts = {k: 0 for k in chosen}
    n_encounters = 0
    total = int(info.get("counts", {}).get("persons", 0)) or None
    with atomic_output(out, folder=True, overwrite=overwrite, what="notes folder") as tmp, \
            Progress(total, unit="persons", description="writing notes", quiet=quiet) as bar:
        (tmp / "notes").mkdir()
        for k, (persons, events) in enumerate(iter_shards(run)):
            by_person: dict[int, list[dict[str, Any]]] = {}
            for e in events.to_pylist():
                by_person.setdefault(e["subject_id"], []).append(e)
            notes: list[Note] = []
            for person in persons.to_pylist():
                mine = _in_order(by_person.get(person["subject_id"], []))
                for e in mine:
                    if e["kind"] == "encounter":
                        n_encounters += 1
                        notes += compose_notes(person, mine, e, _rngs(seed, person["subject_id"], e["encounter_id"]),
                                               chosen)
                bar.update(1)
            for n in notes:
                counts[n.kind] += 1
            pq.write_table(_table(notes), tmp / "notes" / f"part-{k:05d}.parquet")
        manifest = {
            "spec_version": SPEC_VERSION, "seed": seed, "hygeia_version": __version__,
            "source_run": {"path": str(Path(run).expanduser().absolute()),
                           "seed": (info.get("config") or {}).get("seed"),
                           "hygeia_version": info.get("hygeia_version"), "created_at": info.get("created_at")},
            "kinds": list(chosen), "counts": counts, "encounters": n_encounters,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return WriteNotesResult(Path(out), seed, sum(counts.values()), n_encounters, time.perf_counter() - started, counts)
