"""Reading calibration measures from records with DuckDB (private; see :mod:`hygeia.population.calibrate`).

:func:`person_table` returns one row per person alive on ``end`` with one column
per measure (its numerator: 0/1, or a count for rates) and one per measure with a
denominator of its own; the caller aggregates it by age band and sex. Events are
filtered once to the codes the measures read, so each measure's SQL runs over a
small table. A ``rate`` measure also gets ``<id>:years``, the person-years each
person lived in the 365-day look-back (less than a year for infants), its exposure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from hygeia.population._measures import MEASURES, measure_codes

__all__ = ["YEAR_SECONDS", "person_table"]

YEAR_SECONDS = 365.2425 * 86400
_LOOK_BACK_YEARS = 365 * 86400 / YEAR_SECONDS  # the encounters clause's 365 days
_STATUS = {
    "active": "(end_time IS NULL OR end_time > $end)",
    "ever": "TRUE",
    "past_year": "(end_time IS NULL OR end_time > $end - INTERVAL 365 DAY)",
}


def _q(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _codes_sql(codes: Iterable[Mapping[str, str]], alias: str = "") -> str:
    by_system: dict[str, list[str]] = {}
    for c in codes:
        by_system.setdefault(c["system"], []).append(c["code"])
    parts = [f"({alias}code_system = {_q(s)} AND {alias}code IN ({', '.join(map(_q, cs))}))"
             for s, cs in by_system.items()]
    return "(" + " OR ".join(parts) + ")"


def _latest(code: Mapping[str, str], column: str) -> str:
    return (f"SELECT subject_id, arg_max({column}, time) AS v FROM ev WHERE kind = 'observation' "
            f"AND {_codes_sql([code])} AND {column} IS NOT NULL GROUP BY subject_id")


def _clause_sql(clause: Mapping[str, Any]) -> str:
    """SQL giving ``subject_id, n`` for the persons a clause selects (n = 1, or a count)."""
    if "condition" in clause:
        status = _STATUS[clause.get("status", "active")]
        return (f"SELECT DISTINCT subject_id, 1 AS n FROM ev WHERE kind = 'condition' "
                f"AND {_codes_sql(clause['condition'])} AND {status}")
    if "latest" in clause:
        cond = ["TRUE"]
        if clause.get("min") is not None:
            cond.append(f"v >= {float(clause['min'])}")
        if clause.get("below") is not None:
            cond.append(f"v < {float(clause['below'])}")
        return f"SELECT subject_id, 1 AS n FROM ({_latest(clause['latest'], 'numeric_value')}) WHERE {' AND '.join(cond)}"
    if "latest_status" in clause:
        answers = ", ".join(map(_q, clause["answers"]))
        return (f"SELECT subject_id, 1 AS n FROM ({_latest(clause['latest_status'], 'text_value')}) "
                f"WHERE split_part(v, '|', 2) IN ({answers})")
    if "measured" in clause:
        return (f"SELECT DISTINCT subject_id, 1 AS n FROM ev WHERE kind = 'observation' "
                f"AND {_codes_sql([clause['measured']])}")
    if "onsets" in clause:
        where = (f"c.kind = 'condition' AND {_codes_sql(clause['onsets'], 'c.')} "
                 "AND c.time > $end - INTERVAL 365 DAY")
        if clause.get("encounter_class") is None:
            return f"SELECT subject_id, count(*) AS n FROM ev c WHERE {where} GROUP BY subject_id"
        return (f"SELECT c.subject_id, count(*) AS n FROM ev c JOIN ev e ON e.kind = 'encounter' "
                f"AND e.subject_id = c.subject_id AND e.encounter_id = c.encounter_id "
                f"AND e.text_value = {_q(clause['encounter_class'])} WHERE {where} GROUP BY c.subject_id")
    if "encounters" in clause:
        return (f"SELECT subject_id, count(*) AS n FROM ev WHERE kind = 'encounter' "
                f"AND text_value = {_q(clause['encounters'])} AND time > $end - INTERVAL 365 DAY "
                f"GROUP BY subject_id")
    raise ValueError(f"unknown clause {sorted(clause)}")  # the catalogue is checked by tests


def _union(con, clauses: Iterable[Mapping[str, Any]], end: dt.datetime, count: bool) -> pd.Series:
    """Per subject: 1 if any clause selects them (or the summed count, for rates)."""
    frames = []
    for c in clauses:
        sql = _clause_sql(c)
        frames.append(con.execute(sql, {"end": end} if "$end" in sql else None).df())
    if not frames:
        return pd.Series(dtype="float64")
    both = pd.concat(frames)
    if both.empty:
        return pd.Series(dtype="float64")
    agg = both.groupby("subject_id")["n"]
    return (agg.sum() if count else agg.max().clip(upper=1)).astype("float64")


def person_table(con, end: dt.date, measures: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per person alive on ``end``: ``subject_id``, ``sex``, ``age`` and the measures.

    Args:
        con: a DuckDB connection with ``persons`` and ``events`` views (a run folder's
            :func:`hygeia.core.storage.connect`, or registered Arrow tables).
        end: the run's end date.
        measures: measure ids of :data:`MEASURES` (default: all).

    Returns:
        A DataFrame with a column per measure (its numerator); for measures with a
        denominator of their own, a column ``<id>:den`` (0/1); for rates, a column
        ``<id>:years`` (the person-years lived in the look-back).
    """
    end_ts = dt.datetime.combine(end, dt.time())
    con.execute("SET enable_progress_bar = false")
    ids = list(MEASURES) if measures is None else list(measures)
    living = con.execute(
        "SELECT subject_id, sex, epoch(CAST($end AS TIMESTAMP)) - epoch(birth_time) AS age FROM persons "
        "WHERE birth_time <= $end AND (death_time IS NULL OR death_time > $end) ORDER BY subject_id",
        {"end": end_ts},
    ).df()
    living["age"] = living["age"].astype("float64") / YEAR_SECONDS
    codes = set().union(*(measure_codes(MEASURES[m]) for m in ids)) if ids else set()
    clauses = [c for m in ids for c in MEASURES[m]["numerator"]]
    classes = sorted({c["encounters"] for c in clauses if "encounters" in c}
                     | {c["encounter_class"] for c in clauses if c.get("encounter_class")})
    # onsets by encounter class join a condition to its encounter; hand-made records without the
    # column have no encounters to join, so those clauses count nothing there
    has_id = "encounter_id" in {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    encounter_id = ", encounter_id" if has_id else ", CAST(NULL AS BIGINT) AS encounter_id"
    where = [_codes_sql([{"system": s, "code": c} for s, c in sorted(codes)])] if codes else []
    if classes:
        where.append(f"(kind = 'encounter' AND text_value IN ({', '.join(map(_q, classes))}) "
                     "AND time > $end - INTERVAL 365 DAY)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ev AS SELECT subject_id, time, end_time, kind, code_system, code, "
        f"numeric_value, text_value{encounter_id} FROM events WHERE time <= $end AND ({' OR '.join(where) or 'FALSE'})",
        {"end": end_ts},
    )
    index = living["subject_id"]
    for m in ids:
        spec = MEASURES[m]
        rate = spec["unit"] == "rate"
        num = _union(con, spec["numerator"], end_ts, rate)
        if spec.get("exclude"):
            excluded = _union(con, spec["exclude"], end_ts, False)
            num = num[~num.index.isin(excluded.index)]
        living[m] = index.map(num).fillna(0.0).to_numpy(dtype=np.float64)
        if rate:
            living[f"{m}:years"] = np.minimum(living["age"].to_numpy(dtype=np.float64), _LOOK_BACK_YEARS)
        if spec.get("denominator"):
            den = _union(con, spec["denominator"], end_ts, False)
            living[f"{m}:den"] = index.isin(den.index).to_numpy(dtype=np.float64)
    con.execute("DROP TABLE IF EXISTS ev")
    return living
