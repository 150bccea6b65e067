"""Turn one shard of Hygeia records into rows of the OMOP CDM tables.

Each shard's ``persons`` and ``events`` Arrow tables are registered in an
in-memory DuckDB and mapped with one SQL statement per CDM table; the result of
each is an Arrow table whose columns are exactly the CDM table's (typed, with
``varchar(n)`` values cut to ``n`` characters), ready for either engine.

Ids: ``person_id`` is Hygeia's ``subject_id``; every other table numbers its
rows 1, 2, 3... across the whole run (CDM 5.4 ids are 32-bit integers, and
Hygeia's encounter ids are not). The Hygeia encounter id is kept in
``visit_occurrence.visit_source_value`` and is how other rows find their visit.
Ids depend only on the records' order, so an export is deterministic.

Example:
    >>> from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
    >>> t = ShardTransformer({})
    >>> rows = dict(t.transform(PERSONS_SCHEMA.empty_table(), EVENTS_SCHEMA.empty_table()))
    >>> rows["person"].column_names[:3]
    ['person_id', 'gender_concept_id', 'year_of_birth']
    >>> t.close()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.errors import DataValidationError
from hygeia.export.omop._concepts import EHR, ENGLISH, ETHNICITY, GENDER, RACE, US_STATES, UTF8, VISIT, case_sql
from hygeia.export.omop._ddl import CDM_TABLES, sql_type, varchar_length

__all__ = ["ShardTransformer", "query_arrow"]

_INT32_MAX = 2**31 - 1

_DATE = "CAST({} AS DATE)"

# One SELECT per table; ``{off}`` is the id offset (rows already written), ``e`` the events.
_SQL: dict[str, str] = {
    "person": f"""
        SELECT p.subject_id AS person_id,
               {case_sql("p.sex", GENDER)} AS gender_concept_id,
               year(p.birth_time) AS year_of_birth,
               month(p.birth_time) AS month_of_birth,
               day(p.birth_time) AS day_of_birth,
               p.birth_time AS birth_datetime,
               {case_sql("p.race", RACE)} AS race_concept_id,
               {case_sql("p.ethnicity", ETHNICITY)} AS ethnicity_concept_id,
               loc.location_id AS location_id,
               CAST(p.subject_id AS VARCHAR) AS person_source_value,
               p.sex AS gender_source_value, 0 AS gender_source_concept_id,
               p.race AS race_source_value, 0 AS race_source_concept_id,
               p.ethnicity AS ethnicity_source_value, 0 AS ethnicity_source_concept_id
        FROM p LEFT JOIN loc ON loc.locale = p.locale AND loc.state IS NOT DISTINCT FROM p.state
        ORDER BY p._row""",
    "observation_period": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY p._row) AS observation_period_id,
               p.subject_id AS person_id,
               least(CAST(greatest(p.birth_time, {{start}}) AS DATE), CAST(ev.first_time AS DATE))
                   AS observation_period_start_date,
               greatest(CAST(coalesce(p.death_time, {{end}}) AS DATE), CAST(ev.last_time AS DATE),
                        CAST(greatest(p.birth_time, {{start}}) AS DATE)) AS observation_period_end_date,
               {EHR} AS period_type_concept_id
        FROM p LEFT JOIN (SELECT subject_id, min(time) AS first_time, max(time) AS last_time
                          FROM e WHERE kind <> 'death' GROUP BY subject_id) ev USING (subject_id)
        ORDER BY p._row""",
    "visit_occurrence": f"""
        SELECT v.visit_occurrence_id, e.subject_id AS person_id,
               {case_sql("e.text_value", VISIT)} AS visit_concept_id,
               {_DATE.format("e.time")} AS visit_start_date, e.time AS visit_start_datetime,
               {_DATE.format("coalesce(e.end_time, e.time)")} AS visit_end_date,
               coalesce(e.end_time, e.time) AS visit_end_datetime,
               {EHR} AS visit_type_concept_id,
               CAST(e.encounter_id AS VARCHAR) AS visit_source_value, 0 AS visit_source_concept_id
        FROM e JOIN v ON v._row = e._row
        ORDER BY e._row""",
    "condition_occurrence": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY e._row) AS condition_occurrence_id,
               e.subject_id AS person_id, 0 AS condition_concept_id,
               {_DATE.format("e.time")} AS condition_start_date, e.time AS condition_start_datetime,
               {_DATE.format("e.end_time")} AS condition_end_date, e.end_time AS condition_end_datetime,
               {EHR} AS condition_type_concept_id,
               v.visit_occurrence_id, e.code AS condition_source_value, 0 AS condition_source_concept_id
        FROM e LEFT JOIN v ON v.subject_id = e.subject_id AND v.encounter_id = e.encounter_id
        WHERE e.kind = 'condition'
        ORDER BY e._row""",
    "drug_exposure": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY e._row) AS drug_exposure_id,
               e.subject_id AS person_id, 0 AS drug_concept_id,
               {_DATE.format("e.time")} AS drug_exposure_start_date, e.time AS drug_exposure_start_datetime,
               {_DATE.format("coalesce(e.end_time, e.time)")} AS drug_exposure_end_date,
               coalesce(e.end_time, e.time) AS drug_exposure_end_datetime,
               {_DATE.format("e.end_time")} AS verbatim_end_date,
               {EHR} AS drug_type_concept_id,
               v.visit_occurrence_id, e.code AS drug_source_value, 0 AS drug_source_concept_id
        FROM e LEFT JOIN v ON v.subject_id = e.subject_id AND v.encounter_id = e.encounter_id
        WHERE e.kind IN ('medication', 'immunization')
        ORDER BY e._row""",
    "procedure_occurrence": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY e._row) AS procedure_occurrence_id,
               e.subject_id AS person_id, 0 AS procedure_concept_id,
               {_DATE.format("e.time")} AS procedure_date, e.time AS procedure_datetime,
               {_DATE.format("e.end_time")} AS procedure_end_date, e.end_time AS procedure_end_datetime,
               {EHR} AS procedure_type_concept_id,
               v.visit_occurrence_id, e.code AS procedure_source_value, 0 AS procedure_source_concept_id
        FROM e LEFT JOIN v ON v.subject_id = e.subject_id AND v.encounter_id = e.encounter_id
        WHERE e.kind = 'procedure'
        ORDER BY e._row""",
    "measurement": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY e._row) AS measurement_id,
               e.subject_id AS person_id, 0 AS measurement_concept_id,
               {_DATE.format("e.time")} AS measurement_date, e.time AS measurement_datetime,
               {EHR} AS measurement_type_concept_id,
               CASE WHEN isfinite(e.numeric_value) THEN e.numeric_value END AS value_as_number,
               CASE WHEN e.unit IS NOT NULL THEN 0 END AS unit_concept_id,
               v.visit_occurrence_id, e.code AS measurement_source_value, 0 AS measurement_source_concept_id,
               e.unit AS unit_source_value,
               CASE WHEN NOT isfinite(e.numeric_value) THEN CAST(e.numeric_value AS VARCHAR) END
                   AS value_source_value
        FROM e LEFT JOIN v ON v.subject_id = e.subject_id AND v.encounter_id = e.encounter_id
        WHERE e.kind = 'observation' AND e.numeric_value IS NOT NULL
        ORDER BY e._row""",
    # Coded values arrive as "SYSTEM|CODE|DISPLAY": the display goes to value_as_string.
    "observation": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY e._row) AS observation_id,
               e.subject_id AS person_id, 0 AS observation_concept_id,
               {_DATE.format("e.time")} AS observation_date, e.time AS observation_datetime,
               {EHR} AS observation_type_concept_id,
               CASE WHEN e.coded THEN regexp_extract(e.text_value, '^[^|]*[|][^|]*[|](.*)$', 1)
                    ELSE e.text_value END AS value_as_string,
               CASE WHEN e.coded THEN 0 END AS value_as_concept_id,
               CASE WHEN e.unit IS NOT NULL THEN 0 END AS unit_concept_id,
               v.visit_occurrence_id, e.code AS observation_source_value, 0 AS observation_source_concept_id,
               e.unit AS unit_source_value,
               CASE WHEN e.coded THEN split_part(e.text_value, '|', 2) ELSE e.text_value END AS value_source_value
        FROM (SELECT *, regexp_matches(coalesce(text_value, ''), '^[^|]*[|][^|]*[|]') AS coded FROM e) e
             LEFT JOIN v ON v.subject_id = e.subject_id AND v.encounter_id = e.encounter_id
        WHERE (e.kind = 'observation' AND e.numeric_value IS NULL) OR e.kind = 'allergy'
        ORDER BY e._row""",
    "death": f"""
        SELECT p.subject_id AS person_id, {_DATE.format("p.death_time")} AS death_date,
               p.death_time AS death_datetime, {EHR} AS death_type_concept_id
        FROM p WHERE p.death_time IS NOT NULL
        ORDER BY p._row""",
    # The LOINC document type goes to note_source_value with the note's provenance: "CODE|notes-VERSION:seed-N".
    "note": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY e._row) AS note_id,
               e.subject_id AS person_id,
               {_DATE.format("e.time")} AS note_date, e.time AS note_datetime,
               {EHR} AS note_type_concept_id, 0 AS note_class_concept_id,
               e.display AS note_title, coalesce(e.text_value, '') AS note_text,
               {UTF8} AS encoding_concept_id, {ENGLISH} AS language_concept_id,
               v.visit_occurrence_id, concat_ws('|', e.code, e.module) AS note_source_value
        FROM e LEFT JOIN v ON v.subject_id = e.subject_id AND v.encounter_id = e.encounter_id
        WHERE e.kind = 'note'
        ORDER BY e._row""",
    "location": """
        SELECT location_id, state_code AS state, state AS location_source_value,
               locale AS country_source_value
        FROM loc WHERE location_id > {off}
        ORDER BY location_id""",
}


def _final_select(table: str, inner: str, produced: set[str]) -> str:
    """Wrap ``inner`` (whose output columns are ``produced``) so the result has exactly the
    CDM table's columns, in order, typed, with ``varchar(n)`` values cut to ``n`` characters."""
    cols = []
    for name, typ, _ in CDM_TABLES[table]:
        expr = f"q.{name}" if name in produced else "NULL"
        n = varchar_length(typ)
        if n is not None:
            expr = f"left(CAST({expr} AS VARCHAR), {n})"
        cols.append(f"CAST({expr} AS {sql_type(typ, 'duckdb')}) AS {name}")
    return f"SELECT {', '.join(cols)} FROM ({inner}) q"


class ShardTransformer:
    """Maps shards to CDM rows, numbering ids across shards.

    Args:
        run_info: the run's ``run.json`` (its ``config.start`` and ``config.end``
            bound the observation periods).
    """

    def __init__(self, run_info: dict) -> None:
        config = run_info.get("config", {}) if isinstance(run_info, dict) else {}
        self.start = _parse_date(config.get("start"))
        self.end = _parse_date(config.get("end"))
        self.offsets = {table: 0 for table in CDM_TABLES}
        self.locations: dict[tuple[str, str | None], int] = {}
        self.con = duckdb.connect()
        self._sql = self._prepare()

    def _prepare(self) -> dict[str, str]:
        """Each table's full SELECT; the inner queries' columns are read from DuckDB itself."""
        con = self.con
        con.register("p", _with_row(PERSONS_SCHEMA.empty_table()))
        con.register("e", _with_row(EVENTS_SCHEMA.empty_table()))
        con.register("loc", _locations_table({}))
        con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT _row, subject_id, encounter_id, "
                    "CAST(0 AS BIGINT) AS visit_occurrence_id FROM e")
        try:
            out = {}
            for table, inner in _SQL.items():
                sql = inner.format(off=0, start="p.birth_time", end="p.birth_time")
                produced = {d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description}
                out[table] = _final_select(table, inner, produced)
            return out
        finally:
            for name in ("p", "e", "loc"):
                con.unregister(name)

    def close(self) -> None:
        self.con.close()

    def transform(self, persons: pa.Table, events: pa.Table) -> Iterator[tuple[str, pa.Table]]:
        """Yield ``(cdm_table, rows)`` for one shard, tables in CDM order."""
        _check_ids(persons)
        con = self.con
        persons, events = _with_row(persons), _with_row(events)
        loc_before = len(self.locations)
        for locale, state in zip(persons.column("locale").to_pylist(), persons.column("state").to_pylist()):
            self.locations.setdefault((locale, state), len(self.locations) + 1)
        loc = _locations_table(self.locations)
        con.register("p", persons)
        con.register("e", events)
        con.register("loc", loc)
        try:
            off = self.offsets["visit_occurrence"]
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE v AS SELECT _row, subject_id, encounter_id, "
                f"{off} + row_number() OVER (ORDER BY _row) AS visit_occurrence_id "
                "FROM e WHERE kind = 'encounter'"
            )
            start = f"TIMESTAMP '{self.start}'" if self.start else "p.birth_time"
            end = f"TIMESTAMP '{self.end}'" if self.end else "coalesce(ev.last_time, p.birth_time)"
            for table in CDM_TABLES:
                sql = self._sql.get(table)
                if sql is None:  # care_site, provider: Hygeia records have none
                    continue
                off = loc_before if table == "location" else self.offsets[table]
                rows = query_arrow(con, sql.format(off=off, start=start, end=end))
                if table in self.offsets and table not in ("person", "death", "location"):
                    self.offsets[table] += rows.num_rows
                    if self.offsets[table] > _INT32_MAX:
                        raise DataValidationError(
                            [f"{table}: more than {_INT32_MAX:,} rows"],
                            header="the records do not fit OMOP CDM 5.4's 32-bit ids; export fewer persons per database",
                        )
                yield table, rows
        finally:
            for name in ("p", "e", "loc"):
                con.unregister(name)


def query_arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The whole result of ``sql`` as an Arrow table (DuckDB 1.x and 2.x spell it differently)."""
    rel = con.sql(sql)
    fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
    return fetch()


def _with_row(table: pa.Table) -> pa.Table:
    """``table`` plus ``_row``: its row number, the order every id follows."""
    return table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _locations_table(locations: dict[tuple[str, str | None], int]) -> pa.Table:
    return pa.table({
        "location_id": pa.array(list(locations.values()), pa.int64()),
        "locale": pa.array([k[0] for k in locations], pa.string()),
        "state": pa.array([k[1] for k in locations], pa.string()),
        "state_code": pa.array([US_STATES.get(k[1] or "") if k[0] == "us" else None for k in locations], pa.string()),
    })


def _parse_date(value: object) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None


def _check_ids(persons: pa.Table) -> None:
    if persons.num_rows == 0:
        return
    ids = persons.column("subject_id")
    lo, hi = pc.min(ids).as_py(), pc.max(ids).as_py()
    bad = [v for v in (lo, hi) if v < 1 or v > _INT32_MAX]
    if bad:
        raise DataValidationError(
            [f"subject_id {bad[0]} is outside 1..{_INT32_MAX:,}"],
            header="OMOP CDM 5.4 person_id is a 32-bit integer; renumber the subjects before exporting",
        )
