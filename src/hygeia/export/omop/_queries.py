"""Three analytic queries over a loaded CDM, in SQL that runs unchanged on DuckDB and PostgreSQL.

Portability rules the SQL follows, so both engines give identical answers:
counts are cast to ``BIGINT`` (PostgreSQL's ``SUM`` of integers is ``NUMERIC``);
ratios divide two ``DOUBLE PRECISION`` values (IEEE division, the same bits on
both); ages come from ``EXTRACT(YEAR ...)`` cast to ``INTEGER``; no integer
``/`` (DuckDB's is real division, PostgreSQL's truncates); rows are ordered by
integer keys first. Text keys (``condition_source_value``) order by the
database's collation, which may differ between databases: compare those rows as
sets.

- ``condition_prevalence``: for each age band (age at the end of the person's
  observation period) and condition, the persons in the band, those with the
  condition at any time, and the share.
- ``visits_per_person``: for each visit concept, visits, persons with one,
  visits per person (over all persons) and per visiting person.
- ``death_rate``: per gender concept (and ``0`` for everyone), persons, deaths,
  the crude death rate, observed person-years, deaths per 1,000 person-years.

Example:
    >>> columns, rows = run_query("cdm.duckdb", "death_rate")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["QUERIES", "run_query"]

_AGE_BANDS = ((0, 17), (18, 34), (35, 49), (50, 64), (65, 79), (80, None))


def _band_case(age: str) -> tuple[str, str]:
    """``CASE`` expressions for an age band's lower bound and its label."""
    starts, labels = [], []
    for lo, hi in _AGE_BANDS:
        cond = f"WHEN {age} <= {hi}" if hi is not None else "ELSE"
        starts.append(f"{cond} THEN {lo}" if hi is not None else f"ELSE {lo}")
        labels.append(f"{cond} THEN '{lo}-{hi}'" if hi is not None else f"ELSE '{lo}+'")
    return f"CASE {' '.join(starts)} END", f"CASE {' '.join(labels)} END"


_START, _LABEL = _band_case("a.age")

QUERIES: dict[str, str] = {
    "condition_prevalence": f"""
WITH ages AS (
    SELECT p.person_id,
           CAST(EXTRACT(YEAR FROM op.end_date) AS INTEGER) - p.year_of_birth AS age
    FROM person p
    JOIN (SELECT person_id, MAX(observation_period_end_date) AS end_date
          FROM observation_period GROUP BY person_id) op ON op.person_id = p.person_id
),
bands AS (
    SELECT a.person_id, {_START} AS age_band_start, {_LABEL} AS age_band FROM ages a
),
band_size AS (
    SELECT age_band_start, age_band, COUNT(*) AS persons FROM bands GROUP BY age_band_start, age_band
),
cases AS (
    SELECT b.age_band_start, c.condition_concept_id, c.condition_source_value,
           COUNT(DISTINCT c.person_id) AS persons_with_condition
    FROM condition_occurrence c JOIN bands b ON b.person_id = c.person_id
    GROUP BY b.age_band_start, c.condition_concept_id, c.condition_source_value
)
SELECT s.age_band_start, s.age_band, k.condition_concept_id, k.condition_source_value,
       CAST(k.persons_with_condition AS BIGINT) AS persons_with_condition,
       CAST(s.persons AS BIGINT) AS persons_in_band,
       CAST(k.persons_with_condition AS DOUBLE PRECISION) / CAST(s.persons AS DOUBLE PRECISION) AS prevalence
FROM cases k JOIN band_size s ON s.age_band_start = k.age_band_start
ORDER BY s.age_band_start, k.condition_concept_id, persons_with_condition DESC, k.condition_source_value
""",
    "visits_per_person": """
WITH per_person AS (
    SELECT person_id, visit_concept_id, COUNT(*) AS visits
    FROM visit_occurrence GROUP BY person_id, visit_concept_id
),
everyone AS (SELECT COUNT(*) AS persons FROM person)
SELECT pp.visit_concept_id,
       CAST(SUM(pp.visits) AS BIGINT) AS visits,
       CAST(COUNT(*) AS BIGINT) AS persons_with_visit,
       CAST(MIN(pp.visits) AS BIGINT) AS min_visits,
       CAST(MAX(pp.visits) AS BIGINT) AS max_visits,
       CAST(SUM(pp.visits) AS DOUBLE PRECISION) / CAST(MAX(e.persons) AS DOUBLE PRECISION) AS visits_per_person,
       CAST(SUM(pp.visits) AS DOUBLE PRECISION) / CAST(COUNT(*) AS DOUBLE PRECISION) AS visits_per_visiting_person
FROM per_person pp CROSS JOIN everyone e
GROUP BY pp.visit_concept_id
ORDER BY pp.visit_concept_id
""",
    "death_rate": """
WITH followed AS (
    SELECT p.person_id, p.gender_concept_id,
           CASE WHEN d.person_id IS NULL THEN 0 ELSE 1 END AS died,
           op.days
    FROM person p
    LEFT JOIN (SELECT DISTINCT person_id FROM death) d ON d.person_id = p.person_id
    LEFT JOIN (SELECT person_id,
                      SUM(observation_period_end_date - observation_period_start_date + 1) AS days
               FROM observation_period GROUP BY person_id) op ON op.person_id = p.person_id
),
groups AS (
    SELECT gender_concept_id, person_id, died, days FROM followed
    UNION ALL
    SELECT 0 AS gender_concept_id, person_id, died, days FROM followed
)
SELECT gender_concept_id,
       CAST(COUNT(*) AS BIGINT) AS persons,
       CAST(SUM(died) AS BIGINT) AS deaths,
       CAST(SUM(died) AS DOUBLE PRECISION) / CAST(COUNT(*) AS DOUBLE PRECISION) AS crude_death_rate,
       CAST(SUM(days) AS DOUBLE PRECISION) / CAST(365.25 AS DOUBLE PRECISION) AS person_years,
       CAST(1000 AS DOUBLE PRECISION) * CAST(SUM(died) AS DOUBLE PRECISION)
           / (CAST(SUM(days) AS DOUBLE PRECISION) / CAST(365.25 AS DOUBLE PRECISION)) AS deaths_per_1000_person_years
FROM groups
GROUP BY gender_concept_id
ORDER BY gender_concept_id
""",
}


def run_query(target: Any, name: str, *, schema: str | None = None) -> tuple[list[str], list[tuple]]:
    """Run one of :data:`QUERIES` and return ``(column names, rows)``.

    Args:
        target: a ``.duckdb`` file path, a ``postgresql://`` URL, an open DuckDB
            connection, or an open ``pg8000.native.Connection``.
        name: a key of :data:`QUERIES`.
        schema: PostgreSQL schema holding the CDM (default: the connection's).

    Raises:
        ConfigError: an unknown query name or a malformed URL.
        OutputError: the PostgreSQL server cannot be reached.
    """
    from hygeia.errors import ConfigError

    if name not in QUERIES:
        raise ConfigError(f"unknown OMOP query {name!r}; choose one of {sorted(QUERIES)}")
    sql = QUERIES[name]
    if isinstance(target, (str, os.PathLike)) and str(target).startswith(("postgresql://", "postgres://")):
        from hygeia.export.omop._load import connect_postgres

        con = connect_postgres(str(target))
        try:
            return _run_pg(con, sql, schema)
        finally:
            con.close()
    if isinstance(target, (str, os.PathLike)):
        import duckdb

        with duckdb.connect(str(target), read_only=True) as con:
            return _run_duckdb(con, sql)
    if hasattr(target, "run"):  # pg8000.native.Connection
        return _run_pg(target, sql, schema)
    return _run_duckdb(target, sql)


def _run_duckdb(con: Any, sql: str) -> tuple[list[str], list[tuple]]:
    cur = con.execute(sql)
    return [d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()]


def _run_pg(con: Any, sql: str, schema: str | None) -> tuple[list[str], list[tuple]]:
    if schema is not None:
        con.run("SELECT set_config('search_path', :s, false)", s=f'"{schema}"')
    rows = con.run(sql)
    return [c["name"] for c in con.columns], [tuple(r) for r in rows]
