"""MEDS export: a Medical Event Data Standard dataset, streamed shard by shard.

The output folder is a MEDS root that the ``meds`` package's schemas accept::

    OUT/data/train/00000.parquet      one file per (split, run shard); every subject
    OUT/data/tuning/00000.parquet     lives in exactly one file, its rows contiguous
    OUT/data/held_out/00000.parquet   and sorted by time (static rows, time null, first)
    OUT/metadata/codes.parquet        code, description, parent_codes
    OUT/metadata/subject_splits.parquet
    OUT/metadata/dataset.json

Codes are ``SYSTEM//CODE`` (``SNOMED-CT//44054006``, ``LOINC//8302-2``); birth
and death are the package's ``MEDS_BIRTH`` and ``MEDS_DEATH``; demographics are
static codes with a null time (``GENDER//F``, ``RACE//white``). Every canonical
event becomes one row; ``end_time``, ``kind``, ``unit``, ``encounter_id``,
``module`` and ``state`` travel as extension columns declared in
``dataset.json``. A clinical note (a ``note`` event) is one row whose code is
its LOINC document type (``LOINC//18842-5``) and whose ``text_value`` is the
note. Subjects are split by hashing ``(run seed, subject_id)``, so the split of
a subject never depends on sharding or worker count.

Memory stays flat as N grows: one shard is in memory at a time; the split file
gets a row group per shard; only the dictionary of distinct codes is kept. Each
shard's files (with their SHA-256), its subject splits and the codes it added are
journalled, so an export killed outright continues with ``resume=True``; the
dataset's ``created_at`` is when the export began (a resumed export keeps it).

Example:
    >>> from hygeia.export import export
    >>> counts = export("output", "meds", "output-meds")  # doctest: +SKIP
    >>> counts["subjects"]  # doctest: +SKIP
    1000
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import hygeia
from hygeia.errors import ConfigError, MissingExtraError
from hygeia.export._base import Exporter, register_exporter
from hygeia.export._notes import NOTE_CODES

__all__ = ["DEFAULT_SPLITS", "MedsExporter", "STATIC_CODES", "assign_splits", "meds_code"]

#: Fractions of subjects per split (MEDS's sentinel split names).
DEFAULT_SPLITS: dict[str, float] = {"train": 0.8, "tuning": 0.1, "held_out": 0.1}

#: ``persons`` column -> static code prefix (``GENDER//F``); ``INCOME`` carries its value.
STATIC_CODES: dict[str, str] = {
    "sex": "GENDER",
    "race": "RACE",
    "ethnicity": "ETHNICITY",
    "marital_status": "MARITAL_STATUS",
    "education": "EDUCATION",
}
_INCOME_CODE = "INCOME"

#: Canonical code systems -> the OMOP vocabulary_id used in ``parent_codes`` links.
OMOP_VOCABULARIES: dict[str, str] = {"SNOMED-CT": "SNOMED", "LOINC": "LOINC", "RxNorm": "RxNorm", "CVX": "CVX"}

_SEP = "//"
_EXTENSIONS = {
    "raw_source_id_columns": ["encounter_id"],
    "code_modifier_columns": ["unit"],
    "other_extension_columns": ["end_time", "kind", "module", "state"],
}
_COMPRESSION = "zstd"
#: Each shard's subject splits, kept until the end (``subject_splits.parquet`` is one file).
_SPLIT_PIECES = ".subject_splits"


def _meds() -> ModuleType:
    try:
        import meds
    except ImportError:
        raise MissingExtraError("meds", "meds", "Exporting to MEDS") from None
    return meds


def meds_code(system: str | None, code: str | None, kind: str = "event") -> str:
    """The MEDS code of one canonical fact: ``SYSTEM//CODE``.

    A fact without a system is just its code; one without a code is ``HYGEIA//KIND``.

    Example:
        >>> meds_code("SNOMED-CT", "44054006")
        'SNOMED-CT//44054006'
        >>> meds_code(None, None, "note")
        'HYGEIA//NOTE'
    """
    if code is None:
        return f"HYGEIA{_SEP}{kind.upper()}"
    return code if system is None else f"{system}{_SEP}{code}"


def _check_splits(splits: Any) -> dict[str, float]:
    problems = []
    if not isinstance(splits, Mapping) or not splits:
        raise ConfigError(f"splits must be a non-empty mapping of split name to fraction; got {splits!r}. "
                          f"Pass e.g. splits={DEFAULT_SPLITS!r}.")
    for name, frac in splits.items():
        if not isinstance(name, str) or not name:
            problems.append(f"split name {name!r} is not a non-empty string")
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not math.isfinite(frac) or frac < 0:
            problems.append(f"split {name!r} has fraction {frac!r}; want a number >= 0")
    if not problems and not math.isclose(sum(splits.values()), 1.0, abs_tol=1e-9):
        problems.append(f"fractions sum to {sum(splits.values()):g}; want 1")
    if problems:
        raise ConfigError(f"invalid splits {dict(splits)!r}: " + "; ".join(problems)
                          + f". Pass e.g. splits={DEFAULT_SPLITS!r}.")
    return {str(k): float(v) for k, v in splits.items()}


def assign_splits(subject_ids: pa.Array | np.ndarray, seed: int,
                  splits: Mapping[str, float] = DEFAULT_SPLITS) -> pa.Array:
    """The split of each subject: a hash of ``(seed, subject_id)`` cut at the fractions.

    Deterministic, and independent of sharding, order and worker count.

    Args:
        subject_ids: int64 subject ids.
        seed: the run seed.
        splits: split name -> fraction of subjects (fractions sum to 1).

    Returns:
        A string array of split names, aligned with ``subject_ids``.

    Raises:
        ConfigError: if ``splits`` is malformed.

    Example:
        >>> assign_splits(pa.array([1, 2, 3]), seed=1).to_pylist() == assign_splits(
        ...     pa.array([3, 2, 1]), seed=1).to_pylist()[::-1]
        True
    """
    fractions = _check_splits(splits)
    ids = np.asarray(subject_ids, dtype=np.int64).astype(np.uint64)
    key = int.from_bytes(hashlib.blake2b(f"hygeia.meds.split:{int(seed)}".encode(), digest_size=8).digest(), "little")
    z = ids ^ np.uint64(key)  # splitmix64 finalizer: a bijective, well-mixed hash
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) / float(2**53)
    names = list(fractions)
    cuts = np.cumsum([fractions[n] for n in names])[:-1]
    index = np.searchsorted(cuts, u, side="right")
    return pa.array(np.asarray(names, dtype=object)[index], pa.string())


def _data_schema(meds: ModuleType) -> pa.Schema:
    """MEDS's columns with the package's own types, then Hygeia's extension columns."""
    core = meds.DataSchema.schema()
    ts = core.field("time").type
    return pa.schema([
        pa.field("subject_id", core.field("subject_id").type, nullable=False),
        pa.field("time", ts),
        pa.field("code", core.field("code").type, nullable=False),
        pa.field("numeric_value", core.field("numeric_value").type),
        pa.field("text_value", core.field("text_value").type),
        pa.field("end_time", ts),
        pa.field("kind", pa.string()),
        pa.field("unit", pa.string()),
        pa.field("encounter_id", pa.int64()),
        pa.field("module", pa.string()),
        pa.field("state", pa.string()),
    ])


def _rows(schema: pa.Schema, n: int, **cols: Any) -> pa.Table:
    """A table of ``schema`` with the given columns (arrays or scalars) and nulls elsewhere."""
    arrays = []
    for f in schema:
        v = cols.get(f.name)
        if v is None:
            arrays.append(pa.nulls(n, f.type))
        elif isinstance(v, (pa.Array, pa.ChunkedArray)):
            arrays.append(v.cast(f.type))
        else:
            arrays.append(pa.array([v] * n, f.type))
    return pa.table(arrays, schema=schema)


class _Codes:
    """The distinct codes seen, with the first description and OMOP parent links."""

    def __init__(self) -> None:
        self.codes: dict[str, tuple[str | None, str | None]] = {}

    def add(self, code: str, description: str | None, parent: str | None = None) -> None:
        if code not in self.codes:
            self.codes[code] = (description, parent)

    def add_events(self, events: pa.Table, codes: pa.Array) -> None:
        table = pa.table({"c": codes, "s": events["code_system"], "k": events["code"], "d": events["display"]})
        firsts = table.group_by("c", use_threads=False).aggregate([("s", "first"), ("k", "first"), ("d", "first")])
        for code, system, raw, desc in zip(*(firsts[c].to_pylist() for c in ("c", "s_first", "k_first", "d_first"))):
            vocab = OMOP_VOCABULARIES.get(system)
            self.add(code, desc, f"{vocab}/{raw}" if vocab and raw else None)

    def table(self, meds: ModuleType) -> pa.Table:
        core = meds.CodeMetadataSchema.schema()
        names = sorted(self.codes)
        return pa.table({
            "code": pa.array(names, core.field("code").type),
            "description": pa.array([self.codes[c][0] for c in names], core.field("description").type),
            "parent_codes": pa.array([[p] if (p := self.codes[c][1]) else None for c in names],
                                     core.field("parent_codes").type),
        })


@register_exporter("meds")
class MedsExporter(Exporter):
    """Writes a MEDS dataset (``data/``, ``metadata/``) from a Hygeia run.

    Options (keywords, stored unchanged):
        splits: split name -> fraction of subjects (default 80/10/10 train/tuning/held_out).
        dataset_name: ``dataset.json``'s name (default ``"hygeia"``).

    Example:
        >>> MedsExporter(splits={"train": 0.9, "held_out": 0.1}).export("output", "meds")  # doctest: +SKIP
        {'subjects': ..., 'rows': ..., ...}
    """

    def write(self, shards: Iterator[tuple[pa.Table, pa.Table]], out: Path, run_info: dict) -> dict[str, int]:
        meds = _meds()
        ck = self.checkpoint_for(out)
        splits = _check_splits(self.options.get("splits", DEFAULT_SPLITS))
        seed = _run_seed(run_info)
        schema = _data_schema(meds)
        split_schema = meds.SubjectSplitSchema.schema()
        data_dir = out / meds.data_subdirectory
        meta_dir = out / "metadata"
        for folder in (data_dir, meta_dir, out / _SPLIT_PIECES):
            folder.mkdir(parents=True, exist_ok=True)
        codes = _Codes()
        codes.add(meds.birth_code, "Birth")
        codes.add(meds.death_code, "Death")
        counts = {"subjects": 0, "events": 0, "rows": 0, "files": 0, **{f"subjects_{s}": 0 for s in splits}}
        for state in ck.states:  # the shards a resumed export has already written
            for name, n in state["counts"].items():
                counts[name] += n
            for code, description, parent in state["codes"]:
                codes.add(code, description, parent)
        pieces: list[pa.Table] = []  # without a journal, the subject splits stay in memory (a few bytes a person)
        for index, (persons, events) in enumerate(shards, ck.start):
            known = len(codes.codes)
            shard_counts = dict.fromkeys(counts, 0)
            table = _shard_rows(meds, schema, persons, events, codes)
            sids = persons["subject_id"]
            person_split = assign_splits(sids.to_numpy(), seed, splits)
            piece = pa.table([sids, person_split], schema=split_schema)
            if ck.journal:  # kept on disk, with the shard, for a resumed export
                ck.write_file(f"{_SPLIT_PIECES}/{index:05d}.arrow", _ipc(piece))
            else:
                pieces.append(piece)
            row_split = assign_splits(table["subject_id"].to_numpy(), seed, splits)
            for name in splits:
                part = table.filter(pc.equal(row_split, name))
                shard_counts[f"subjects_{name}"] += int(pc.sum(pc.equal(person_split, name)).as_py() or 0)
                if part.num_rows:
                    (data_dir / name).mkdir(exist_ok=True)
                    sink = pa.BufferOutputStream()
                    pq.write_table(part, sink, compression=_COMPRESSION)
                    ck.write_file(f"{meds.data_subdirectory}/{name}/{index:05d}.parquet", sink.getvalue())
                    shard_counts["files"] += 1
            shard_counts["subjects"] += persons.num_rows
            shard_counts["events"] += events.num_rows
            shard_counts["rows"] += table.num_rows
            for name, n in shard_counts.items():
                counts[name] += n
            ck.shard_done(index, {"counts": {k: n for k, n in shard_counts.items() if n},
                                  "codes": [[c, d, p] for c, (d, p) in islice(codes.codes.items(), known, None)]})
        # the subject splits of every shard, as one Parquet file (a row group per shard)
        with pq.ParquetWriter(out / meds.subject_splits_filepath, split_schema, compression=_COMPRESSION) as sw:
            for path in sorted((out / _SPLIT_PIECES).glob("*.arrow")):
                with pa.ipc.open_stream(pa.memory_map(str(path))) as reader:
                    sw.write_table(reader.read_all().cast(split_schema))
            for piece in pieces:
                sw.write_table(piece)
        shutil.rmtree(out / _SPLIT_PIECES)
        pq.write_table(codes.table(meds), out / meds.code_metadata_filepath, compression=_COMPRESSION)
        counts["codes"] = len(codes.codes)
        meta = _dataset_metadata(meds, run_info, seed, self.options.get("dataset_name", "hygeia"), splits,
                                 ck.started_at)
        (out / meds.dataset_metadata_filepath).write_text(json.dumps(meta, indent=2) + "\n")
        return counts


def _ipc(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _run_seed(run_info: Mapping[str, Any]) -> int:
    seed = run_info.get("seed", (run_info.get("config") or {}).get("seed"))
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"the run's run.json records no integer seed (got {seed!r}); the MEDS subject split "
                          "is derived from it. Re-generate the run with `hygeia generate --seed N`.")
    return seed


def _shard_rows(meds: ModuleType, schema: pa.Schema, persons: pa.Table, events: pa.Table, codes: _Codes) -> pa.Table:
    """One shard's MEDS rows: static, birth, events, death; sorted by subject then time."""
    parts = []
    sid = persons["subject_id"]
    for column, prefix in STATIC_CODES.items():
        values = persons[column]
        keep = pc.is_valid(values)
        code = pc.binary_join_element_wise(prefix, values.filter(keep), _SEP)
        parts.append(_rows(schema, len(code), subject_id=sid.filter(keep), code=code, kind="static"))
        for v in pc.unique(values.filter(keep)).to_pylist():
            codes.add(f"{prefix}{_SEP}{v}", f"{prefix.replace('_', ' ').lower()}: {v}")
    keep = pc.is_valid(persons["income"])
    n = pc.sum(keep).as_py() or 0
    parts.append(_rows(schema, n, subject_id=sid.filter(keep), code=_INCOME_CODE, kind="static",
                       numeric_value=persons["income"].filter(keep)))
    if n:
        codes.add(_INCOME_CODE, "household income (numeric_value, USD per year)")
    parts.append(_rows(schema, persons.num_rows, subject_id=sid, time=persons["birth_time"], code=meds.birth_code,
                       kind="birth"))
    code = pc.coalesce(
        pc.binary_join_element_wise(events["code_system"], events["code"], _SEP),
        events["code"],
        pc.binary_join_element_wise("HYGEIA", pc.utf8_upper(events["kind"]), _SEP),
    )
    notes = events.filter(pc.equal(events["kind"], "note"))
    for system, raw in zip(notes["code_system"].to_pylist(), notes["code"].to_pylist()):
        if system == "LOINC" and raw in NOTE_CODES:  # a note's display is its title: describe the document type
            codes.add(f"LOINC{_SEP}{raw}", NOTE_CODES[raw], f"LOINC/{raw}")
    codes.add_events(events, code)
    parts.append(_rows(
        schema, events.num_rows, code=code,
        **{c: events[c] for c in ("subject_id", "time", "end_time", "kind", "numeric_value", "unit", "text_value",
                                  "encounter_id", "module", "state")},
    ))
    dead = pc.is_valid(persons["death_time"])
    parts.append(_rows(schema, pc.sum(dead).as_py() or 0, subject_id=sid.filter(dead),
                       time=persons["death_time"].filter(dead), code=meds.death_code, kind="death"))
    table = pa.concat_tables(parts)
    # Static rows (null time) first, without null_placement (its spelling changed in pyarrow 25).
    # A stable sort: within one time, static < birth < events < death (the order of `parts`).
    timed = pc.is_valid(table["time"])
    order = pc.sort_indices(pa.table({"s": table["subject_id"], "t": timed, "u": table["time"]}),
                            sort_keys=[("s", "ascending"), ("t", "ascending"), ("u", "ascending")])
    return table.take(order)


def _dataset_metadata(meds: ModuleType, run_info: Mapping[str, Any], seed: int, name: str,
                      splits: Mapping[str, float], created_at: str | None = None) -> dict[str, Any]:
    version = run_info.get("hygeia_version") or run_info.get("version") or hygeia.__version__
    return {
        "dataset_name": str(name),
        "dataset_version": f"{version}+seed{seed}",
        "etl_name": "hygeia",
        "etl_version": hygeia.__version__,
        "meds_version": meds.__version__,
        "created_at": created_at or dt.datetime.now(dt.timezone.utc).isoformat(),
        **_EXTENSIONS,
        "hygeia": {"seed": seed, "run_created_at": run_info.get("created_at"), "splits": dict(splits)},
    }
