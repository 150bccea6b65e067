"""The canonical records: ``persons`` and ``events`` Arrow schemas.

Everything that describes patients passes through these two tables. They stay
close to the MEDS standard (``subject_id``, ``time``, ``code``,
``numeric_value``) so that MEDS tools read them directly; the extra columns
carry what FHIR and OMOP exporters need and the provenance of every fact
(``module`` and ``state``: which module state produced it).

Times are microsecond timestamps without a time zone (as in MEDS), meaning UTC.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["EVENTS_SCHEMA", "EVENT_KINDS", "PERSONS_SCHEMA", "TIME_UNIT"]

TIME_UNIT = "us"
_TS = pa.timestamp(TIME_UNIT)

#: One row per patient.
PERSONS_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("birth_time", _TS, nullable=False),
        pa.field("death_time", _TS),
        pa.field("sex", pa.string(), nullable=False),
        pa.field("race", pa.string(), nullable=False),
        pa.field("ethnicity", pa.string(), nullable=False),
        pa.field("locale", pa.string(), nullable=False),
        pa.field("given_name", pa.string()),
        pa.field("family_name", pa.string()),
        pa.field("state", pa.string()),
        pa.field("income", pa.int64()),
        pa.field("education", pa.string()),
        pa.field("marital_status", pa.string()),
        pa.field("seed", pa.uint64(), nullable=False),
    ],
    metadata={b"hygeia.table": b"persons", b"hygeia.schema_version": b"1"},
)

#: One row per clinical fact, with its provenance (``module``, ``state``).
EVENTS_SCHEMA = pa.schema(
    [
        pa.field("subject_id", pa.int64(), nullable=False),
        pa.field("time", _TS, nullable=False),
        pa.field("end_time", _TS),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("code_system", pa.string()),
        pa.field("code", pa.string()),
        pa.field("display", pa.string()),
        pa.field("numeric_value", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("text_value", pa.string()),
        pa.field("encounter_id", pa.int64()),
        pa.field("module", pa.string(), nullable=False),
        pa.field("state", pa.string(), nullable=False),
    ],
    metadata={b"hygeia.table": b"events", b"hygeia.schema_version": b"1"},
)

#: The values the ``kind`` column takes.
EVENT_KINDS = (
    "encounter",
    "condition",
    "medication",
    "observation",
    "procedure",
    "immunization",
    "allergy",
    "careplan",
    "device",
    "supply",
    "imaging",
    "diagnostic_report",
    "symptom",
    "note",
    "death",
)
