"""Turn one shard of Hygeia records into rows of the OMOP CDM tables.

Each shard's ``persons`` and ``events`` Arrow tables are registered in a
DuckDB connection that also holds the vocabulary (:class:`Vocabulary`) and
mapped with one SQL statement per CDM table; the result of each is an Arrow
table whose columns are exactly the CDM table's (typed, with ``varchar(n)``
values cut to ``n`` characters), ready for either engine.

Clinical facts are first staged (``_STAGE``): each gets its source concept, the
standard concepts it "Maps to" (one row each) and the CDM table of that
concept's domain, so a procedure whose standard concept is an Observation lands
in ``observation``. ``condition_era`` and ``drug_era`` are derived from the
shard's own condition and drug rows (a person's records are all in one shard).

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
import os
import tempfile
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.errors import ConfigError, DataValidationError
from hygeia.export.omop._concepts import (
    DOMAIN_TABLES,
    EHR,
    ENGLISH,
    ETHNICITY,
    GENDER,
    PANELS,
    RACE,
    US_STATES,
    UTF8,
    VISIT,
    case_sql,
    route_sql,
)
from hygeia.export.omop._ddl import CDM_TABLES, sql_type, varchar_length
from hygeia.export.omop._vocabulary import SOURCE_VOCABULARIES, Vocabulary

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
               loc.location_id AS location_id, loc.location_id AS provider_id, loc.location_id AS care_site_id,
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
               {EHR} AS visit_type_concept_id, pp.provider_id, pp.provider_id AS care_site_id,
               CAST(e.encounter_id AS VARCHAR) AS visit_source_value, 0 AS visit_source_concept_id
        FROM e JOIN v ON v._row = e._row LEFT JOIN pp ON pp.subject_id = e.subject_id
        ORDER BY e._row""",
    "condition_occurrence": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY f._row, f.k) AS condition_occurrence_id,
               f.subject_id AS person_id, f.concept_id AS condition_concept_id,
               {_DATE.format("f.time")} AS condition_start_date, f.time AS condition_start_datetime,
               {_DATE.format("f.end_time")} AS condition_end_date, f.end_time AS condition_end_datetime,
               {EHR} AS condition_type_concept_id, f.provider_id,
               f.visit_occurrence_id, f.code AS condition_source_value,
               f.source_concept_id AS condition_source_concept_id
        FROM f WHERE f.target = 'condition_occurrence'
        ORDER BY f._row, f.k""",
    # days_supply: a course's days from start to end, both counted (OHDSI: end = start + days_supply - 1);
    # none for a chronic therapy or a course longer than a year (no one dispensing covers it).
    "drug_exposure": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY f._row, f.k) AS drug_exposure_id,
               f.subject_id AS person_id, f.concept_id AS drug_concept_id,
               {_DATE.format("f.time")} AS drug_exposure_start_date, f.time AS drug_exposure_start_datetime,
               {_DATE.format("coalesce(f.end_time, f.time)")} AS drug_exposure_end_date,
               coalesce(f.end_time, f.time) AS drug_exposure_end_datetime,
               {_DATE.format("f.end_time")} AS verbatim_end_date,
               {EHR} AS drug_type_concept_id,
               CASE WHEN f.kind = 'medication' AND f.end_time IS NOT NULL AND f.text_value IS DISTINCT FROM 'chronic'
                         AND date_diff('day', CAST(f.time AS DATE), CAST(f.end_time AS DATE)) < 365
                    THEN date_diff('day', CAST(f.time AS DATE), CAST(f.end_time AS DATE)) + 1 END AS days_supply,
               CASE WHEN f.route_source_value IS NOT NULL THEN coalesce(r.concept_id, 0) END AS route_concept_id,
               f.provider_id, f.visit_occurrence_id, f.code AS drug_source_value,
               f.source_concept_id AS drug_source_concept_id, f.route_source_value
        FROM f LEFT JOIN vroute r ON r.concept_code = f.route_code
        WHERE f.target = 'drug_exposure'
        ORDER BY f._row, f.k""",
    "procedure_occurrence": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY f._row, f.k) AS procedure_occurrence_id,
               f.subject_id AS person_id, f.concept_id AS procedure_concept_id,
               {_DATE.format("f.time")} AS procedure_date, f.time AS procedure_datetime,
               {_DATE.format("f.end_time")} AS procedure_end_date, f.end_time AS procedure_end_datetime,
               {EHR} AS procedure_type_concept_id, f.provider_id,
               f.visit_occurrence_id, f.code AS procedure_source_value,
               f.source_concept_id AS procedure_source_concept_id
        FROM f WHERE f.target = 'procedure_occurrence'
        ORDER BY f._row, f.k""",
    "device_exposure": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY f._row, f.k) AS device_exposure_id,
               f.subject_id AS person_id, f.concept_id AS device_concept_id,
               {_DATE.format("f.time")} AS device_exposure_start_date, f.time AS device_exposure_start_datetime,
               {_DATE.format("f.end_time")} AS device_exposure_end_date, f.end_time AS device_exposure_end_datetime,
               {EHR} AS device_type_concept_id, f.provider_id,
               f.visit_occurrence_id, f.code AS device_source_value,
               f.source_concept_id AS device_source_concept_id
        FROM f WHERE f.target = 'device_exposure'
        ORDER BY f._row, f.k""",
    "measurement": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY f._row, f.k) AS measurement_id,
               f.subject_id AS person_id, f.concept_id AS measurement_concept_id,
               {_DATE.format("f.time")} AS measurement_date, f.time AS measurement_datetime,
               {EHR} AS measurement_type_concept_id,
               CASE WHEN isfinite(f.numeric_value) THEN f.numeric_value END AS value_as_number,
               f.value_as_concept_id, f.unit_concept_id, f.provider_id,
               f.visit_occurrence_id, f.code AS measurement_source_value,
               f.source_concept_id AS measurement_source_concept_id,
               f.unit AS unit_source_value,
               CASE WHEN NOT isfinite(f.numeric_value) THEN CAST(f.numeric_value AS VARCHAR)
                    ELSE f.value_code END AS value_source_value
        FROM f WHERE f.target = 'measurement'
        ORDER BY f._row, f.k""",
    # Coded values arrive as "SYSTEM|CODE|DISPLAY": the display goes to value_as_string.
    "observation": f"""
        SELECT {{off}} + row_number() OVER (ORDER BY f._row, f.k) AS observation_id,
               f.subject_id AS person_id, f.concept_id AS observation_concept_id,
               {_DATE.format("f.time")} AS observation_date, f.time AS observation_datetime,
               {EHR} AS observation_type_concept_id,
               CASE WHEN isfinite(f.numeric_value) THEN f.numeric_value END AS value_as_number,
               f.value_text AS value_as_string, f.value_as_concept_id,
               f.unit_concept_id, f.provider_id,
               f.visit_occurrence_id, f.code AS observation_source_value,
               f.source_concept_id AS observation_source_concept_id,
               f.unit AS unit_source_value,
               coalesce(f.value_code, CASE WHEN NOT isfinite(f.numeric_value) THEN CAST(f.numeric_value AS VARCHAR)
                                      END) AS value_source_value
        FROM f WHERE f.target = 'observation'
        ORDER BY f._row, f.k""",
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
               {EHR} AS note_type_concept_id, coalesce(nm.concept_id, 0) AS note_class_concept_id,
               e.display AS note_title, coalesce(e.text_value, '') AS note_text,
               {UTF8} AS encoding_concept_id, {ENGLISH} AS language_concept_id,
               v.visit_occurrence_id, concat_ws('|', e.code, e.module) AS note_source_value
        FROM e LEFT JOIN v ON v.subject_id = e.subject_id AND v.encounter_id = e.encounter_id
             LEFT JOIN vmap nm ON nm.vocabulary_id = 'LOINC' AND nm.concept_code = e.code AND nm.k = 0
        WHERE e.kind = 'note'
        ORDER BY e._row""",
    "location": """
        SELECT location_id, state_code AS state, state AS location_source_value,
               locale AS country_source_value
        FROM loc WHERE location_id > {off}
        ORDER BY location_id""",
    # One synthetic clinic and clinician per location, as the FHIR export's Organization and Practitioner.
    "care_site": """
        SELECT location_id AS care_site_id,
               'Hygeia synthetic clinic (' || coalesce(state, locale) || ')' AS care_site_name,
               location_id, coalesce(state_code, state, locale) AS care_site_source_value
        FROM loc WHERE location_id > {off}
        ORDER BY location_id""",
    "provider": """
        SELECT location_id AS provider_id,
               'Synthetic Clinician (' || coalesce(state, locale) || ')' AS provider_name,
               location_id AS care_site_id, coalesce(state_code, state, locale) AS provider_source_value
        FROM loc WHERE location_id > {off}
        ORDER BY location_id""",
    # OHDSI's era rules: a condition without an end lasts one day; occurrences of one standard concept
    # whose start is at most 30 days after the previous end are one era.
    "condition_era": """
        WITH c AS (
            SELECT person_id, condition_concept_id AS cid, condition_start_date AS s,
                   coalesce(condition_end_date, condition_start_date + 1) AS e
            FROM co WHERE condition_concept_id <> 0),
        o AS (SELECT *, max(e) OVER (PARTITION BY person_id, cid ORDER BY s, e
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end FROM c),
        g AS (SELECT *, sum(CASE WHEN prev_end IS NULL OR s > prev_end + 30 THEN 1 ELSE 0 END)
                        OVER (PARTITION BY person_id, cid ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS era FROM o),
        r AS (SELECT person_id, cid, min(s) AS s, max(e) AS e, count(*) AS n FROM g GROUP BY person_id, cid, era)
        SELECT {off} + row_number() OVER (ORDER BY person_id, cid, s) AS condition_era_id, person_id,
               cid AS condition_concept_id, s AS condition_era_start_date, e AS condition_era_end_date,
               n AS condition_occurrence_count
        FROM r ORDER BY person_id, cid, s""",
    # Ingredient level (CONCEPT_ANCESTOR): overlapping exposures are merged into sub-exposures, then
    # sub-exposures at most 30 days apart into eras; gap_days = era days not covered by an exposure.
    "drug_era": """
        WITH d AS (
            SELECT de.person_id, i.ingredient_concept_id AS cid, de.drug_exposure_start_date AS s,
                   coalesce(de.drug_exposure_end_date, de.drug_exposure_start_date + coalesce(de.days_supply, 1)) AS e
            FROM de JOIN vingredient i ON i.drug_concept_id = de.drug_concept_id WHERE de.drug_concept_id <> 0),
        o1 AS (SELECT *, max(e) OVER (PARTITION BY person_id, cid ORDER BY s, e
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end FROM d),
        g1 AS (SELECT *, sum(CASE WHEN prev_end IS NULL OR s > prev_end THEN 1 ELSE 0 END)
                         OVER (PARTITION BY person_id, cid ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS sub FROM o1),
        x AS (SELECT person_id, cid, min(s) AS s, max(e) AS e, count(*) AS n FROM g1 GROUP BY person_id, cid, sub),
        o2 AS (SELECT *, max(e) OVER (PARTITION BY person_id, cid ORDER BY s, e
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end FROM x),
        g2 AS (SELECT *, sum(CASE WHEN prev_end IS NULL OR s > prev_end + 30 THEN 1 ELSE 0 END)
                         OVER (PARTITION BY person_id, cid ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS era FROM o2),
        r AS (SELECT person_id, cid, min(s) AS s, max(e) AS e, sum(n) AS n,
                     sum(date_diff('day', s, e)) AS exposed FROM g2 GROUP BY person_id, cid, era)
        SELECT {off} + row_number() OVER (ORDER BY person_id, cid, s) AS drug_era_id, person_id,
               cid AS drug_concept_id, s AS drug_era_start_date, e AS drug_era_end_date,
               n AS drug_exposure_count, date_diff('day', s, e) - exposed AS gap_days
        FROM r ORDER BY person_id, cid, s""",
}

# The clinical facts of one shard, each with its source and standard concept and the CDM table of the
# standard concept's domain ("Maps to" to several concepts: one row each, k = 0, 1...). Codes without a
# standard concept stay in the table of their Hygeia kind. Blood-pressure panels without a value are
# left out: their systolic and diastolic members are recorded as measurements of their own.
_STAGE = f"""
    CREATE OR REPLACE TEMP VIEW f AS
    WITH src AS (
        SELECT e.*, {case_sql("e.code_system", SOURCE_VOCABULARIES, "NULL")} AS vocab,
               CASE WHEN e.kind = 'condition' THEN 'condition_occurrence'
                    WHEN e.kind IN ('medication', 'immunization') THEN 'drug_exposure'
                    WHEN e.kind = 'procedure' THEN 'procedure_occurrence'
                    WHEN e.kind = 'device' THEN 'device_exposure'
                    WHEN e.kind = 'observation' AND e.numeric_value IS NOT NULL THEN 'measurement'
                    ELSE 'observation' END AS kind_table,
               regexp_matches(coalesce(e.text_value, ''), '^[^|]*[|][^|]*[|]') AS coded
        FROM e
        WHERE e.kind IN ('condition', 'medication', 'immunization', 'procedure', 'device', 'observation', 'allergy')
          AND NOT (e.kind = 'observation' AND e.code_system = 'LOINC' AND e.code IN ({", ".join(f"'{c}'" for c in PANELS)})
                   AND e.numeric_value IS NULL AND e.text_value IS NULL))
    SELECT src.*, coalesce(m.source_concept_id, 0) AS source_concept_id, coalesce(m.concept_id, 0) AS concept_id,
           coalesce(m.k, 0) AS k,
           CASE WHEN m.domain_id IS NULL THEN src.kind_table
                ELSE {case_sql("m.domain_id", DOMAIN_TABLES, "'observation'")} END AS target,
           CASE WHEN src.coded THEN regexp_extract(src.text_value, '^[^|]*[|][^|]*[|](.*)$', 1)
                ELSE src.text_value END AS value_text,
           CASE WHEN src.coded THEN split_part(src.text_value, '|', 2) ELSE src.text_value END AS value_code,
           CASE WHEN src.coded THEN coalesce(vv.concept_id, 0) END AS value_as_concept_id,
           CASE WHEN src.unit IS NOT NULL THEN coalesce(u.concept_id, 0) END AS unit_concept_id,
           CASE WHEN src.kind = 'medication' THEN {route_sql("src.display", 1)} END AS route_source_value,
           CASE WHEN src.kind = 'medication' THEN {route_sql("src.display", 0)} END AS route_code,
           v.visit_occurrence_id, pp.provider_id
    FROM src
    LEFT JOIN vmap m ON m.vocabulary_id = src.vocab AND m.concept_code = src.code
    LEFT JOIN vmap vv ON src.coded AND vv.k = 0
         AND vv.vocabulary_id = {case_sql("split_part(src.text_value, '|', 1)", SOURCE_VOCABULARIES, "NULL")}
         AND vv.concept_code = split_part(src.text_value, '|', 2)
    LEFT JOIN vunit u ON u.concept_code = src.unit
    LEFT JOIN v ON v.subject_id = src.subject_id AND v.encounter_id = src.encounter_id
    LEFT JOIN pp ON pp.subject_id = src.subject_id"""


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
        vocabulary: the :class:`Vocabulary` that maps source codes (default:
            Hygeia's own).
        start: the first day exported (``YYYY-MM-DD``), overriding the run's
            ``config.start``: events before it are left out, observation periods
            begin there (or at birth), persons who died before it are left out.
    """

    def __init__(self, run_info: dict, vocabulary: Vocabulary | None = None, start: str | None = None) -> None:
        config = run_info.get("config", {}) if isinstance(run_info, dict) else {}
        self.run_info = run_info if isinstance(run_info, dict) else {}
        self.window = _parse_date(start) if start is not None else None
        if start is not None and self.window is None:
            raise ConfigError(f"--start {start!r} is not a date; write it as YYYY-MM-DD, e.g. --start 2000-01-01")
        self.start = self.window or _parse_date(config.get("start"))
        self.end = _parse_date(config.get("end"))
        self.offsets = {table: 0 for table in CDM_TABLES}
        self.locations: dict[tuple[str, str | None], int] = {}
        self.vocabulary = vocabulary or Vocabulary(None)
        # An Athena download is gigabytes: keep it in a scratch DuckDB file (deleted by close()), not in memory.
        # (a scratch folder, not an output: removed by close(), or by the interpreter if close() never runs)
        self._scratch = (None if self.vocabulary.local
                         else tempfile.TemporaryDirectory(prefix="hygeia-omop-vocabulary-", ignore_cleanup_errors=True))
        self.con = duckdb.connect(os.path.join(self._scratch.name, "vocabulary.duckdb") if self._scratch
                                  else ":memory:")
        try:
            self.vocabulary.attach(self.con)
            self._sql = self._prepare()
        except BaseException:
            self.close()
            raise

    def _prepare(self) -> dict[str, str]:
        """Each table's full SELECT; the inner queries' columns are read from DuckDB itself."""
        con = self.con
        self._register(_with_row(PERSONS_SCHEMA.empty_table()), _with_row(EVENTS_SCHEMA.empty_table()), {}, 0)
        try:
            out = {}
            for table, inner in _SQL.items():
                sql = inner.format(off=0, start="p.birth_time", end="p.birth_time")
                produced = {d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description}
                out[table] = _final_select(table, inner, produced)
            return out
        finally:
            self._unregister()

    def _register(self, persons: pa.Table, events: pa.Table, locations: dict, visit_offset: int) -> None:
        con = self.con
        con.register("p", persons)
        con.register("e", events)
        con.register("loc", _locations_table(locations))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE v AS SELECT _row, subject_id, encounter_id, "
            f"{visit_offset} + row_number() OVER (ORDER BY _row) AS visit_occurrence_id "
            "FROM e WHERE kind = 'encounter'"
        )
        con.execute("CREATE OR REPLACE TEMP TABLE pp AS SELECT p.subject_id, loc.location_id AS provider_id "
                    "FROM p JOIN loc ON loc.locale = p.locale AND loc.state IS NOT DISTINCT FROM p.state")
        con.execute(_STAGE)
        for name, table in (("co", "condition_occurrence"), ("de", "drug_exposure")):
            cols = ", ".join(f"CAST(NULL AS {sql_type(t, 'duckdb')}) AS {n}" for n, t, _ in CDM_TABLES[table])
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols} LIMIT 0")

    def _unregister(self) -> None:
        for name in ("p", "e", "loc"):
            self.con.unregister(name)

    def close(self) -> None:
        self.con.close()
        if self._scratch:
            self._scratch.cleanup()
            self._scratch = None

    def transform(self, persons: pa.Table, events: pa.Table) -> Iterator[tuple[str, pa.Table]]:
        """Yield ``(cdm_table, rows)`` for one shard, tables in CDM order."""
        _check_ids(persons)
        con = self.con
        if self.window is not None:
            persons, events = _in_window(persons, events, self.window)
        persons, events = _with_row(persons), _with_row(events)
        loc_before = len(self.locations)
        for locale, state in zip(persons.column("locale").to_pylist(), persons.column("state").to_pylist()):
            self.locations.setdefault((locale, state), len(self.locations) + 1)
        self._register(persons, events, self.locations, self.offsets["visit_occurrence"])
        try:
            start = f"TIMESTAMP '{self.start}'" if self.start else "p.birth_time"
            end = f"TIMESTAMP '{self.end}'" if self.end else "coalesce(ev.last_time, p.birth_time)"
            for table in CDM_TABLES:
                sql = self._sql.get(table)
                if sql is None:  # dose_era, cdm_source: see cdm_source()
                    continue
                off = loc_before if table in ("location", "care_site", "provider") else self.offsets[table]
                rows = query_arrow(con, sql.format(off=off, start=start, end=end))
                if table in ("condition_occurrence", "drug_exposure"):  # the eras are derived from them
                    con.register("_rows", rows)
                    con.execute(f"CREATE OR REPLACE TEMP TABLE {'co' if table[0] == 'c' else 'de'} AS "
                                "SELECT * FROM _rows")
                    con.unregister("_rows")
                if table not in ("person", "death", "location", "care_site", "provider"):
                    self.offsets[table] += rows.num_rows
                    if self.offsets[table] > _INT32_MAX:
                        raise DataValidationError(
                            [f"{table}: more than {_INT32_MAX:,} rows"],
                            header="the records do not fit OMOP CDM 5.4's 32-bit ids; export fewer persons per database",
                        )
                yield table, rows
        finally:
            self._unregister()

    def cdm_source(self) -> pa.Table:
        """The one ``cdm_source`` row: what the export was made from, and with which vocabulary."""
        from hygeia import __version__

        info = self.run_info
        config = info.get("config") or {}
        made = _parse_date(info.get("created_at")) or self.end or "2000-01-01"
        seed = config.get("seed")
        description = (f"Synthetic records simulated by Hygeia {info.get('hygeia_version', __version__)} "
                       f"({config.get('n', '?')} persons, seed {seed}, locale {config.get('locale', '?')}, "
                       f"window {self.start or 'birth'} to {self.end or 'the last event'}). Not real patients.")
        vocabulary = ("Hygeia local concepts (ids > 2,000,000,000, not Athena)" if self.vocabulary.local
                      else f"Athena download: {self.vocabulary.version}")
        row = {
            "cdm_source_name": "Hygeia synthetic population",
            "cdm_source_abbreviation": "Hygeia",
            "cdm_holder": "Hygeia (synthetic data)",
            "source_description": description + " Vocabulary: " + vocabulary + ".",
            "source_documentation_reference": "Hygeia docs/omop.md",
            "cdm_etl_reference": f"hygeia export --format omop (Hygeia {__version__})",
            "source_release_date": made,
            "cdm_release_date": made,
            "cdm_version": "v5.4",
            "cdm_version_concept_id": self.vocabulary.cdm_version_concept_id,
            "vocabulary_version": self.vocabulary.version,
        }
        inner = "SELECT " + ", ".join(
            f"CAST({_sql_literal(v)} AS {'DATE' if k.endswith('_date') else 'VARCHAR'}) AS {k}"
            if not isinstance(v, int) else f"{v} AS {k}" for k, v in row.items())
        return query_arrow(self.con, _final_select("cdm_source", inner, set(row)))


def _sql_literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _in_window(persons: pa.Table, events: pa.Table, start: str) -> tuple[pa.Table, pa.Table]:
    """The persons alive on ``start`` and their events from ``start`` on."""
    day = pa.scalar(dt.datetime.fromisoformat(start), persons.schema.field("birth_time").type)
    alive = pc.or_kleene(pc.is_null(persons.column("death_time")),
                         pc.greater_equal(persons.column("death_time"), day))
    persons = persons.filter(pc.fill_null(alive, True))
    keep = pc.and_(pc.is_in(events.column("subject_id"), persons.column("subject_id")),
                   pc.greater_equal(events.column("time"), pa.scalar(day.as_py(), events.schema.field("time").type)))
    return persons, events.filter(keep)


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
