"""CSV export: one file per table, in the spirit of Synthea's CSV export.

For spreadsheet users. The output folder holds ``patients.csv`` and one file per
kind of clinical fact (``encounters.csv``, ``conditions.csv``,
``observations.csv``...), each with a header row even when empty. Columns follow
Synthea's names (``START``, ``STOP``, ``PATIENT``, ``ENCOUNTER``, ``SYSTEM``,
``CODE``, ``DESCRIPTION``, ``VALUE``, ``UNITS``...), times are ISO 8601 in UTC
(``2021-08-30T19:42:44.372Z``), and every fact carries its provenance
(``MODULE``, ``STATE``: which module state made it). Clinical notes (``note``
events, e.g. from ``export(..., notes=DIR)``) go to ``notes.csv`` with their
LOINC document type, title, kind, author role and text. Facts of a kind without
a table of their own (death causes, symptoms) go to ``other_events.csv`` so
nothing is dropped.

Files are appended shard by shard with :class:`pyarrow.csv.CSVWriter` (header
once), so memory stays flat as N grows. Each file's length and SHA-256 after every
shard are journalled, so an export killed outright is cut back to its last whole
shard and continued (``resume=True``), byte for byte as if uninterrupted.

Example:
    >>> from hygeia.export import export
    >>> export("output", "csv", "output-csv")["patients"]  # doctest: +SKIP
    1000
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from hygeia.export._base import Exporter, register_exporter

__all__ = ["CSV_TABLES", "CsvExporter", "OTHER_TABLE", "PATIENT_COLUMNS"]

_STR, _INT, _FLOAT, _BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # %S carries the milliseconds of a timestamp[ms]


def _iso(column: str) -> Callable[[pa.Table], pa.Array]:
    def get(t: pa.Table) -> pa.Array:
        return pc.strftime(t[column].cast(pa.timestamp("ms"), safe=False), format=_TIME_FORMAT)
    return get


def _col(column: str) -> Callable[[pa.Table], pa.Array]:
    return lambda t: t[column]


def _value(t: pa.Table) -> pa.Array:
    return pc.coalesce(t["numeric_value"].cast(_STR), t["text_value"])


def _value_type(t: pa.Table) -> pa.Array:
    return pc.if_else(pc.is_valid(t["numeric_value"]), "numeric",
                      pc.if_else(pc.is_valid(t["text_value"]), "text", pa.scalar(None, _STR)))


def _note_part(field: str) -> Callable[[pa.Table], pa.Array]:
    """The note kind or author role of ``note`` rows: their ``state`` is ``kind/author role``."""
    def get(t: pa.Table) -> pa.Array:
        parts = pc.extract_regex(t["state"], r"^(?P<kind>[a-z_]+)/(?P<role>.*)$")
        return pc.struct_field(parts, field)
    return get


def _chronic(t: pa.Table) -> pa.Array:
    return pc.fill_null(pc.equal(t["text_value"], "chronic"), False)


#: One output column: (header, type, how to compute it from a table of canonical rows).
Column = tuple[str, pa.DataType, Callable[[pa.Table], pa.Array]]

_START: Column = ("START", _STR, _iso("time"))
_STOP: Column = ("STOP", _STR, _iso("end_time"))
_DATE: Column = ("DATE", _STR, _iso("time"))
_PATIENT: Column = ("PATIENT", _INT, _col("subject_id"))
_ENCOUNTER: Column = ("ENCOUNTER", _INT, _col("encounter_id"))
_CODED: tuple[Column, ...] = (("SYSTEM", _STR, _col("code_system")), ("CODE", _STR, _col("code")),
                              ("DESCRIPTION", _STR, _col("display")))
_PROVENANCE: tuple[Column, ...] = (("MODULE", _STR, _col("module")), ("STATE", _STR, _col("state")))
_SPAN = (_START, _STOP, _PATIENT, _ENCOUNTER, *_CODED)
_POINT = (_DATE, _PATIENT, _ENCOUNTER, *_CODED)

#: ``patients.csv``: one row per person.
PATIENT_COLUMNS: tuple[Column, ...] = (
    ("Id", _INT, _col("subject_id")),
    ("BIRTHDATE", _STR, _iso("birth_time")),
    ("DEATHDATE", _STR, _iso("death_time")),
    ("FIRST", _STR, _col("given_name")),
    ("LAST", _STR, _col("family_name")),
    ("GENDER", _STR, _col("sex")),
    ("RACE", _STR, _col("race")),
    ("ETHNICITY", _STR, _col("ethnicity")),
    ("MARITAL", _STR, _col("marital_status")),
    ("EDUCATION", _STR, _col("education")),
    ("INCOME", _INT, _col("income")),
    ("STATE", _STR, _col("state")),
    ("LOCALE", _STR, _col("locale")),
    ("SEED", _STR, lambda t: t["seed"].cast(_STR)),  # text: uint64 does not survive spreadsheets
)

#: Event tables: file stem -> (the ``kind`` values it holds, its columns).
CSV_TABLES: dict[str, tuple[tuple[str, ...], tuple[Column, ...]]] = {
    "encounters": (("encounter",), (
        ("Id", _INT, _col("encounter_id")), _START, _STOP, _PATIENT,
        ("ENCOUNTERCLASS", _STR, _col("text_value")), *_CODED, *_PROVENANCE)),
    "conditions": (("condition",), (*_SPAN, *_PROVENANCE)),
    "medications": (("medication",), (*_SPAN, ("CHRONIC", _BOOL, _chronic), *_PROVENANCE)),
    "observations": (("observation",), (
        *_POINT, ("VALUE", _STR, _value), ("UNITS", _STR, _col("unit")), ("TYPE", _STR, _value_type),
        *_PROVENANCE)),
    "procedures": (("procedure",), (*_SPAN, *_PROVENANCE)),
    "immunizations": (("immunization",), (*_POINT, *_PROVENANCE)),
    "allergies": (("allergy",), (*_SPAN, *_PROVENANCE)),
    "careplans": (("careplan",), (*_SPAN, ("ACTIVITIES", _STR, _col("text_value")), *_PROVENANCE)),
    "devices": (("device",), (*_SPAN, *_PROVENANCE)),
    "supplies": (("supply",), (*_POINT, ("QUANTITY", _FLOAT, _col("numeric_value")), *_PROVENANCE)),
    "imaging_studies": (("imaging",), (*_POINT, ("SERIES", _STR, _col("text_value")), *_PROVENANCE)),
    "diagnostic_reports": (("diagnostic_report",), (*_POINT, *_PROVENANCE)),
    "notes": (("note",), (
        _DATE, _PATIENT, _ENCOUNTER, ("SYSTEM", _STR, _col("code_system")), ("CODE", _STR, _col("code")),
        ("TITLE", _STR, _col("display")), ("NOTE_KIND", _STR, _note_part("kind")),
        ("AUTHOR_ROLE", _STR, _note_part("role")), ("TEXT", _STR, _col("text_value")), *_PROVENANCE)),
}

#: Every other kind (death causes, symptoms, future kinds) goes here, with all fields.
OTHER_TABLE = "other_events"
_OTHER_COLUMNS: tuple[Column, ...] = (
    _START, _STOP, _PATIENT, _ENCOUNTER, ("KIND", _STR, _col("kind")), *_CODED,
    ("VALUE", _FLOAT, _col("numeric_value")), ("UNITS", _STR, _col("unit")), ("TEXT", _STR, _col("text_value")),
    *_PROVENANCE,
)


def _schema(columns: tuple[Column, ...]) -> pa.Schema:
    return pa.schema([pa.field(name, typ) for name, typ, _ in columns])


def _build(table: pa.Table, columns: tuple[Column, ...], schema: pa.Schema) -> pa.Table:
    return pa.table([get(table).cast(typ) for _, typ, get in columns], schema=schema)


@register_exporter("csv")
class CsvExporter(Exporter):
    """Writes ``patients.csv`` and one CSV per kind of fact (Synthea-style columns).

    Example:
        >>> CsvExporter().export("output", "output-csv")  # doctest: +SKIP
        {'patients': ..., 'encounters': ..., ...}
    """

    def write(self, shards: Iterator[tuple[pa.Table, pa.Table]], out: Path, run_info: dict) -> dict[str, int]:
        ck = self.checkpoint_for(out)
        out.mkdir(parents=True, exist_ok=True)
        layout = {"patients": PATIENT_COLUMNS, **{k: cols for k, (_, cols) in CSV_TABLES.items()},
                  OTHER_TABLE: _OTHER_COLUMNS}
        schemas = {name: _schema(cols) for name, cols in layout.items()}
        known = pa.array([k for kinds, _ in CSV_TABLES.values() for k in kinds], _STR)
        counts = dict.fromkeys(layout, 0)
        for state in ck.states:  # the shards a resumed export has already written
            for name, n in state.items():
                counts[name] += n
        writers: dict[str, pcsv.CSVWriter] = {}
        try:
            for name, schema in schemas.items():  # every file exists, with its header, even when empty
                sink, resumed = ck.arrow_sink(f"{name}.csv")
                writers[name] = pcsv.CSVWriter(sink, schema,
                                               write_options=pcsv.WriteOptions(include_header=not resumed))
            for index, (persons, events) in enumerate(shards, ck.start):
                parts = {"patients": persons, OTHER_TABLE: events.filter(pc.invert(pc.is_in(events["kind"], known)))}
                for name, (kinds, _) in CSV_TABLES.items():
                    parts[name] = events.filter(pc.is_in(events["kind"], pa.array(kinds, _STR)))
                written = {}
                for name, rows in parts.items():
                    if rows.num_rows:
                        writers[name].write_table(_build(rows, layout[name], schemas[name]))
                        written[name] = rows.num_rows
                for name, n in written.items():
                    counts[name] += n
                ck.shard_done(index, written)
        finally:
            for w in writers.values():
                w.close()
            ck.close()
        return counts
