"""A :class:`Stay` from paths, as ``hygeia notes summarize`` takes them.

A path is a run folder (``hygeia generate``: the record of one encounter), the output
folder of ``hygeia notes write`` (the notes written for one encounter), a text file
holding a note, or a folder of ``.txt`` notes (several files: one stay).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hygeia.errors import ConfigError, DataValidationError, Problem
from hygeia.notes._summarize import Stay
from hygeia.notes._summary_notes import stay_from_notes
from hygeia.notes._summary_sources import stay_from_run

__all__ = ["note_names", "stay_from_paths"]

_HEADER = "cannot summarize"


def _read(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise DataValidationError([Problem(str(path), "is a binary file (it holds NUL bytes), not a note. Pass UTF-8 "
                                                      "text files, a folder of .txt notes, a run folder or a notes folder.")],
                                  header=_HEADER)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataValidationError([Problem(str(path), f"is not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}). "
                                                      "Convert it first, e.g. iconv -f latin1 -t utf-8 IN > OUT.")],
                                  header=_HEADER) from None


def note_names(notes: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Texts of notes by a name to cite them by: the kind, numbered when a kind repeats (two radiology reports).

    Example:
        >>> list(note_names([{"kind": "hp", "text": "a"}, {"kind": "radiology", "text": "b"},
        ...                  {"kind": "radiology", "text": "c"}]))
        ['hp', 'radiology-1', 'radiology-2']
    """
    counts = Counter(n["kind"] for n in notes)
    seen: Counter[str] = Counter()
    out = {}
    for n in notes:
        seen[n["kind"]] += 1
        out[n["kind"] if counts[n["kind"]] == 1 else f"{n['kind']}-{seen[n['kind']]}"] = n["text"]
    return out


def _written_notes(folder: Path, subject_id: int | None, encounter_id: int | None) -> Stay:
    import pyarrow.parquet as pq

    rows = pq.read_table(folder / "notes", columns=["subject_id", "encounter_id", "time", "kind", "text"]).to_pylist()
    mine = [r for r in rows if (subject_id is None or r["subject_id"] == subject_id)
            and (encounter_id is None or r["encounter_id"] == encounter_id)]
    if not mine:
        raise ConfigError(f"no note of {str(folder)!r} is for subject_id={subject_id} and encounter_id={encounter_id}. "
                          "Pass the ids of a note in its notes/ table, or leave them out for the first discharge summary.")
    discharges = [r for r in mine if r["kind"] == "discharge"] or mine
    # as for a run: the first person with a discharge summary, their last stay
    first = max((r for r in discharges if r["subject_id"] == discharges[0]["subject_id"]), key=lambda r: r["time"])
    notes = [r for r in mine if (r["subject_id"], r["encounter_id"]) == (first["subject_id"], first["encounter_id"])]
    stay = stay_from_notes(note_names(sorted(notes, key=lambda r: (r["kind"] == "discharge", r["time"]))))
    stay.subject_id, stay.encounter_id = first["subject_id"], first["encounter_id"]
    return stay


def stay_from_paths(paths: Sequence[str | os.PathLike[str]], *, subject_id: int | None = None,
                    encounter_id: int | None = None) -> Stay:
    """The stay that ``paths`` describe: one run folder, one notes folder, or note files.

    Args:
        paths: a run folder; or the output folder of ``hygeia notes write``; or one or more
            ``.txt`` notes (files, or folders of them) about one stay.
        subject_id: for a run or notes folder: the person (None: the first with an inpatient
            stay, or with a discharge summary).
        encounter_id: for a run or notes folder: the encounter (None: the person's last stay).

    Returns:
        The stay; for notes, its warnings name any note that is empty or not English.

    Raises:
        ConfigError: no path, a path that does not exist, a run or notes folder given with
            other paths, ids for note files, or ids not in the folder.
        DataValidationError: a file is binary or not UTF-8, a folder holds no ``.txt``, or
            the notes state nothing to summarize (every text empty, not English...).

    Example:
        >>> stay = stay_from_paths(["runs/notes_source"], subject_id=3)  # doctest: +SKIP
    """
    items = [Path(p).expanduser() for p in paths]
    if not items:
        raise ConfigError("no input: pass a run folder, a 'hygeia notes write' folder or note files.")
    for p in items:
        if not p.exists():
            raise ConfigError(f"input {str(p)!r} does not exist. Pass a run folder, a notes folder or .txt notes.")
    folders = [p for p in items if p.is_dir() and ((p / "run.json").is_file() or (p / "manifest.json").is_file())]
    if folders:
        if len(items) > 1:
            raise ConfigError(f"{str(folders[0])!r} is a run or notes folder: summarize one at a time, without other "
                              "inputs.")
        if (folders[0] / "run.json").is_file():
            return stay_from_run(folders[0], subject_id, encounter_id)
        return _written_notes(folders[0], subject_id, encounter_id)
    if subject_id is not None or encounter_id is not None:
        raise ConfigError("subject_id and encounter_id choose a stay of a run or notes folder; note files are one "
                          "stay already. Leave them out, or pass a run folder.")
    files: list[Path] = []
    for p in items:
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix == ".txt" and q.is_file())
            if not found:
                raise DataValidationError([Problem(str(p), "holds no .txt notes. Pass .txt files, a run folder or a "
                                                           "'hygeia notes write' folder.")], header=_HEADER)
            files += found
        else:
            files.append(p)
    texts = {str(p): _read(p) for p in files}
    if not any(t.strip() for t in texts.values()):
        raise DataValidationError([Problem(str(p), "is empty: there is no note to summarize.") for p in files],
                                  header=_HEADER)
    stay = stay_from_notes(texts)
    if not stay.items() and not stay.visit_sources and not stay.no_allergies:
        raise DataValidationError([Problem(*w.split(": ", 1)) for w in stay.warnings] +
                                  [Problem(", ".join(texts), "no problem, medication, result, allergy or date found to "
                                                             "summarize. Pass clinical notes in English.")],
                                  header=_HEADER)
    return stay
