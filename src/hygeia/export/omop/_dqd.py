"""OHDSI DataQualityDashboard's table- and field-level checks, as SQL for DuckDB and PostgreSQL.

The DataQualityDashboard (DQD, Apache-2.0) describes its checks for CDM 5.4 in
CSV files (``OMOP_CDMv5.4_Table_Level.csv``, ``OMOP_CDMv5.4_Field_Level.csv``):
which check applies to which table and field, and its threshold (the largest
percentage of violating rows that still passes). :func:`run_checks` reads those
files and runs each check as the DQD's SQL templates define it, translated to
SQL that DuckDB and PostgreSQL both accept; a check fails when
``100 * violated / denominator`` exceeds its threshold.

A check is *not applicable*, as in the DQD, when its table was not exported or
is empty, or when its field holds no value (except ``cdmTable``, ``cdmField``,
``isRequired``, ``measureValueCompleteness`` and ``measurePersonCompleteness``,
which always run). The vocabulary tables are left out, as the DQD leaves them
out by default (its ``tablesToExclude``).

Example:
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE person (person_id INTEGER)")
    >>> check = Check("TABLE", "cdmTable", "PERSON", None, 0.0, {})
    >>> evaluate(con, check, "duckdb").status
    'pass'
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from hygeia.export.omop._ddl import quote_name

__all__ = ["EXCLUDED_TABLES", "Check", "evaluate", "format_results", "load_checks", "run_checks"]

#: The DQD's default ``tablesToExclude``: the vocabulary tables (and the cohort tables).
EXCLUDED_TABLES = {"CONCEPT", "VOCABULARY", "CONCEPT_ANCESTOR", "CONCEPT_RELATIONSHIP", "CONCEPT_CLASS",
                   "CONCEPT_SYNONYM", "RELATIONSHIP", "DOMAIN", "SOURCE_TO_CONCEPT_MAP", "DRUG_STRENGTH", "COHORT",
                   "COHORT_DEFINITION"}

_TABLE_CHECKS = ("measurePersonCompleteness", "measureConditionEraCompleteness", "measureObservationPeriodOverlap")
_FIELD_CHECKS = ("isRequired", "cdmDatatype", "isPrimaryKey", "isForeignKey", "fkDomain", "fkClass",
                 "isStandardValidConcept", "measureValueCompleteness", "standardConceptRecordCompleteness",
                 "sourceConceptRecordCompleteness", "sourceValueCompleteness", "plausibleValueLow",
                 "plausibleValueHigh", "plausibleTemporalAfter", "plausibleDuringLife", "plausibleStartBeforeEnd",
                 "plausibleAfterBirth", "plausibleBeforeDeath", "withinVisitDates")
_ALWAYS = {"cdmTable", "cdmField", "isRequired", "measureValueCompleteness", "measurePersonCompleteness"}

Dialect = Literal["duckdb", "postgresql"]


@dataclass
class Check:
    """One DQD check on one table (and field) and, once run, its result."""

    level: str  # TABLE or FIELD
    name: str
    table: str
    field: str | None
    threshold: float
    params: dict[str, str]
    violated: int | None = None
    denominator: int | None = None
    status: str = "not run"  # pass, fail, not applicable
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pct(self) -> float | None:
        if self.violated is None or not self.denominator:
            return None if self.violated is None else 0.0
        return 100.0 * self.violated / self.denominator


def load_checks(folder: str | Path, version: str = "5.4") -> list[Check]:
    """Every table- and field-level check the DQD's CSV files in ``folder`` switch on."""
    folder = Path(folder)
    checks: list[Check] = []
    with open(folder / f"OMOP_CDMv{version}_Table_Level.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            table = row["cdmTableName"].upper()
            if table in EXCLUDED_TABLES:
                continue
            checks.append(Check("TABLE", "cdmTable", table, None, 0.0, {}))
            for name in _TABLE_CHECKS:
                if row.get(name) == "Yes":
                    checks.append(Check("TABLE", name, table, None, _threshold(row.get(name + "Threshold")), {}))
    with open(folder / f"OMOP_CDMv{version}_Field_Level.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            table = row["cdmTableName"].upper()
            if table in EXCLUDED_TABLES:
                continue
            name_field = row["cdmFieldName"].lower()
            params = {k: v for k, v in row.items() if v}
            checks.append(Check("FIELD", "cdmField", table, name_field, 0.0, params))
            for name in _FIELD_CHECKS:
                value = row.get(name) or ""
                if name in ("isRequired", "isPrimaryKey", "isForeignKey", "isStandardValidConcept",
                            "measureValueCompleteness", "standardConceptRecordCompleteness",
                            "sourceConceptRecordCompleteness", "sourceValueCompleteness", "plausibleTemporalAfter",
                            "plausibleDuringLife", "plausibleStartBeforeEnd", "plausibleAfterBirth",
                            "plausibleBeforeDeath", "withinVisitDates") and value != "Yes":
                    continue
                if name == "cdmDatatype" and value not in ("integer", "bigint"):
                    continue  # DQD checks the integer fields only
                if not value:
                    continue
                checks.append(Check("FIELD", name, table, name_field, _threshold(row.get(name + "Threshold")),
                                    params))
    return checks


def _threshold(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else 0.0
    except ValueError:
        return 0.0


# -- running ------------------------------------------------------------------------------
def _query(con: Any, sql: str) -> list[tuple]:
    if hasattr(con, "run"):  # pg8000.native.Connection
        return [tuple(r) for r in con.run(sql)]
    return con.execute(sql).fetchall()


def _columns(con: Any) -> dict[str, set[str]]:
    rows = _query(con, "SELECT table_name, column_name FROM information_schema.columns "
                       "WHERE table_schema = current_schema()")
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(str(table).upper(), set()).add(str(column).lower())
    return out


def _value(expr: str, dialect: Dialect) -> str:
    """A DQD plausible-value bound (SQL Server syntax) in standard SQL."""
    expr = expr.strip()
    m = re.fullmatch(r"'(\d{4})(\d{2})(\d{2})'", expr)
    if m:
        return f"CAST('{m.group(1)}-{m.group(2)}-{m.group(3)}' AS DATE)"
    m = re.fullmatch(r"DATEADD\(dd,\s*(-?\d+),\s*GETDATE\(\)\)", expr, re.I)
    if m:
        return f"(CURRENT_DATE + {int(m.group(1))})"
    m = re.fullmatch(r"YEAR\(GETDATE\(\)\)\s*([+-]\s*\d+)?", expr, re.I)
    if m:
        return f"(CAST(EXTRACT(YEAR FROM CURRENT_DATE) AS INTEGER) {m.group(1) or ''})"
    if re.fullmatch(r"-?\d+(\.\d+)?", expr):
        return expr
    raise ValueError(f"DQD bound {expr!r} is not understood")


_BIRTH = ("coalesce(CAST(pb.birth_datetime AS DATE), "
          "CAST(CAST(pb.year_of_birth AS VARCHAR) || '-' || CAST(coalesce(pb.month_of_birth, 1) AS VARCHAR) || '-' "
          "|| CAST(coalesce(pb.day_of_birth, 1) AS VARCHAR) AS DATE))")


def _violations_sql(c: Check, dialect: Dialect, tables: dict[str, set[str]]) -> tuple[str, str]:
    """(SQL counting violating rows, SQL counting the denominator) of one check."""
    t, f, p = c.table.lower(), quote_name(c.field) if c.field else None, c.params
    rows = f"SELECT count(*) FROM {t}"
    if c.name == "measurePersonCompleteness":
        return (f"SELECT count(*) FROM person p WHERE NOT EXISTS (SELECT 1 FROM {t} x WHERE x.person_id = p.person_id)",
                "SELECT count(*) FROM person")
    if c.name == "measureConditionEraCompleteness":
        return ("SELECT count(DISTINCT co.person_id) FROM condition_occurrence co WHERE NOT EXISTS "
                "(SELECT 1 FROM condition_era ce WHERE ce.person_id = co.person_id)",
                "SELECT count(DISTINCT person_id) FROM condition_occurrence")
    if c.name == "measureObservationPeriodOverlap":
        return ("SELECT count(*) FROM observation_period a JOIN observation_period b ON a.person_id = b.person_id "
                "AND a.observation_period_id <> b.observation_period_id "
                "AND a.observation_period_start_date <= b.observation_period_end_date "
                "AND a.observation_period_end_date >= b.observation_period_start_date", rows)
    if c.name == "isRequired":
        return f"SELECT count(*) FROM {t} WHERE {f} IS NULL", rows
    if c.name == "measureValueCompleteness":
        return f"SELECT count(*) FROM {t} WHERE {f} IS NULL", rows
    notnull = f"SELECT count(*) FROM {t} WHERE {f} IS NOT NULL"
    if c.name == "cdmDatatype":
        text = f"CAST({f} AS VARCHAR)"
        test = f"{text} !~ '^-?[0-9]+$'" if dialect == "postgresql" else f"NOT regexp_matches({text}, '^-?[0-9]+$')"
        return f"SELECT count(*) FROM {t} WHERE {f} IS NOT NULL AND {test}", rows
    if c.name == "isPrimaryKey":
        return (f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {t} GROUP BY {f} HAVING count(*) > 1) d",
                rows)
    if c.name == "isForeignKey":
        ft, ff = p["fkTableName"].lower(), p["fkFieldName"].lower()
        return (f"SELECT count(*) FROM {t} x WHERE x.{f} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {ft} y WHERE y.{ff} = x.{f})", rows)
    if c.name in ("fkDomain", "fkClass", "isStandardValidConcept"):
        if c.name == "fkDomain":
            cond = f"co.domain_id <> '{p['fkDomain']}'"
        elif c.name == "fkClass":
            cond = f"co.concept_class_id <> '{p['fkClass']}'"
        else:
            cond = "(coalesce(co.standard_concept, '') <> 'S' OR co.invalid_reason IS NOT NULL)"
        return (f"SELECT count(*) FROM {t} x JOIN concept co ON co.concept_id = x.{f} "
                f"WHERE co.concept_id <> 0 AND {cond}", rows)
    if c.name in ("standardConceptRecordCompleteness", "sourceConceptRecordCompleteness"):
        return f"SELECT count(*) FROM {t} WHERE {f} = 0", rows
    if c.name == "sourceValueCompleteness":
        std = p["standardConceptFieldName"].lower()
        return (f"SELECT count(DISTINCT {f}) FROM {t} WHERE {std} = 0",
                f"SELECT count(DISTINCT {f}) FROM {t}")
    if c.name == "plausibleValueLow":
        return f"SELECT count(*) FROM {t} WHERE {f} < {_value(p['plausibleValueLow'], dialect)}", notnull
    if c.name == "plausibleValueHigh":
        return f"SELECT count(*) FROM {t} WHERE {f} > {_value(p['plausibleValueHigh'], dialect)}", notnull
    if c.name == "plausibleTemporalAfter":
        at, af = p["plausibleTemporalAfterTableName"].lower(), p["plausibleTemporalAfterFieldName"].lower()
        after = _BIRTH if (at, af) == ("person", "birth_datetime") else f"CAST(pb.{af} AS DATE)"
        if at == t:
            return (f"SELECT count(*) FROM {t} pb WHERE coalesce({after}, CAST('1900-01-01' AS DATE)) > "
                    f"CAST(pb.{f} AS DATE)", notnull)
        return (f"SELECT count(*) FROM {t} x JOIN {at} pb ON pb.person_id = x.person_id "
                f"WHERE coalesce({after}, CAST('1900-01-01' AS DATE)) > CAST(x.{f} AS DATE)", notnull)
    if c.name in ("plausibleDuringLife", "plausibleBeforeDeath"):
        return (f"SELECT count(*) FROM {t} x JOIN death d ON d.person_id = x.person_id "
                f"WHERE CAST(x.{f} AS DATE) > d.death_date + 60", notnull)
    if c.name == "plausibleAfterBirth":
        return (f"SELECT count(*) FROM {t} x JOIN person pb ON pb.person_id = x.person_id "
                f"WHERE CAST(x.{f} AS DATE) < {_BIRTH}", notnull)
    if c.name == "plausibleStartBeforeEnd":
        end = p["plausibleStartBeforeEndFieldName"].lower()
        return (f"SELECT count(*) FROM {t} WHERE CAST({f} AS DATE) > CAST({end} AS DATE)", notnull)
    if c.name == "withinVisitDates":
        return (f"SELECT count(*) FROM {t} x JOIN visit_occurrence vo ON vo.visit_occurrence_id = x.visit_occurrence_id "
                f"WHERE CAST(x.{f} AS DATE) < vo.visit_start_date - 7 OR CAST(x.{f} AS DATE) > vo.visit_end_date + 7",
                f"SELECT count(*) FROM {t} x JOIN visit_occurrence vo ON vo.visit_occurrence_id = x.visit_occurrence_id")
    raise ValueError(f"unknown DQD check {c.name!r}")


def _stats(con: Any, tables: dict[str, set[str]]) -> dict[str, tuple[int, dict[str, int]]]:
    """Per table: its rows and each column's non-null values (one query per table)."""
    out = {}
    for table, columns in tables.items():
        cols = sorted(columns)
        row = _query(con, "SELECT count(*), " + ", ".join(f"count({quote_name(c)})" for c in cols)
                     + f" FROM {table.lower()}")[0]
        out[table] = (int(row[0]), {c: int(n) for c, n in zip(cols, row[1:])})
    return out


def evaluate(con: Any, check: Check, dialect: Dialect, tables: dict[str, set[str]] | None = None,
             stats: dict[str, tuple[int, dict[str, int]]] | None = None) -> Check:
    """Run one check; returns it with ``violated``, ``denominator`` and ``status`` filled."""
    tables = _columns(con) if tables is None else tables
    c = replace(check)
    if c.table not in tables:
        if c.name == "cdmTable":
            c.violated, c.denominator = 1, 1
            c.status = "fail" if c.threshold < 100 else "pass"
        else:
            c.status, c.reason = "not applicable", "table not exported"
        return c
    if c.name == "cdmTable":
        c.violated, c.denominator, c.status = 0, 1, "pass"
        return c
    if c.field is not None and c.field not in tables[c.table]:
        if c.name == "cdmField":
            c.violated, c.denominator, c.status = 1, 1, "fail"
        else:
            c.status, c.reason = "not applicable", "field missing"
        return c
    if c.name == "cdmField":
        c.violated, c.denominator, c.status = 0, 1, "pass"
        return c
    stats = _stats(con, {c.table: tables[c.table]}) if stats is None else stats
    rows, nonnull = stats[c.table]
    if c.name not in _ALWAYS:
        if rows == 0:
            c.status, c.reason = "not applicable", "table empty"
            return c
        if c.field is not None and nonnull.get(c.field, 0) == 0:
            c.status, c.reason = "not applicable", "field empty"
            return c
        needs = {"plausibleTemporalAfter": c.params.get("plausibleTemporalAfterTableName", "").upper(),
                 "isForeignKey": c.params.get("fkTableName", "").upper(),
                 "fkDomain": "CONCEPT", "fkClass": "CONCEPT", "isStandardValidConcept": "CONCEPT"}.get(c.name)
        if needs and needs not in tables:
            c.status, c.reason = "not applicable", f"{needs.lower()} not exported"
            return c
    violated_sql, denominator_sql = _violations_sql(c, dialect, tables)
    c.violated = int(_query(con, violated_sql)[0][0] or 0)
    t, f = c.table.lower(), quote_name(c.field) if c.field else None
    known = {f"SELECT count(*) FROM {t}": rows, f"SELECT count(*) FROM {t} WHERE {f} IS NOT NULL": nonnull.get(c.field or "")}
    denominator = known.get(denominator_sql)
    c.denominator = int(_query(con, denominator_sql)[0][0] or 0) if denominator is None else denominator
    c.status = "fail" if (c.pct or 0.0) > c.threshold else "pass"
    return c


def run_checks(con: Any, folder: str | Path, dialect: Dialect = "duckdb") -> list[Check]:
    """Every table- and field-level DQD check of ``folder``'s CSV files, run on ``con``'s current schema."""
    tables = _columns(con)
    stats = _stats(con, tables)
    return [evaluate(con, c, dialect, tables, stats) for c in load_checks(folder)]


def format_results(results: list[Check]) -> str:
    """A Markdown table: per check name, how many passed, failed and did not apply, and the case nearest its
    threshold (% of rows violating, the threshold, where)."""
    by: dict[str, list[Check]] = {}
    for r in results:
        by.setdefault(r.name, []).append(r)
    lines = ["| check | level | pass | fail | not applicable | nearest its threshold: % violated (threshold) where |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    for name, rs in by.items():
        ran = [r for r in rs if r.status in ("pass", "fail")]
        # the case nearest its threshold: the largest share of the threshold used (any violation of a 0 threshold first)
        worst = max(ran, key=lambda r: ((r.pct or 0.0) / r.threshold if r.threshold else
                                        (float("inf") if r.pct else 0.0), r.pct or 0.0), default=None)
        where = (f"{worst.pct or 0.0:.2f} ({worst.threshold:g}) {worst.table.lower()}"
                 f"{'.' + worst.field if worst.field else ''}") if worst else "-"
        lines.append(f"| {name} | {rs[0].level} | {sum(r.status == 'pass' for r in rs)} | "
                     f"{sum(r.status == 'fail' for r in rs)} | {sum(r.status == 'not applicable' for r in rs)} | "
                     f"{where} |")
    return "\n".join(lines)
