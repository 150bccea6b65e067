"""Clinical plausibility: rule checks over records, reported as violation rates.

Rules are data (``rules/default_rules.json``), validated on load; a user adds or
replaces rules with their own JSON files (``extra_rule_files``). Each rule has an
``id``, a ``description`` and one ``kind``; the kinds and the fields they read:

=========================  ===========================================================
kind                       fields
=========================  ===========================================================
``after_death``            ``tolerance_days`` (0), ``event_kinds`` / ``exclude_event_kinds``
``before_birth``           ``tolerance_days`` (0), ``event_kinds`` / ``exclude_event_kinds``
``sex_specific``           ``codes_by_sex``: ``{sex: [code, ...]}``; a code is
                           ``"8480-6"``, ``{"system", "code"}`` or ``{"system", "prefix"}``
``value_range``            ``checks``: ``[{name, code, system?, min?, max?, unit?, columns?}]``
``end_before_start``       ``column_pairs``: ``[[start, end], ...]`` (plain tables)
``encounter_containment``  ``tolerance_minutes`` (0)
``after_follow_up_end``    ``follow_up_column`` (a persons column), ``event_kinds``
=========================  ===========================================================

Over Hygeia records (``persons`` + ``events``) every rule applies. Over a plain
table (CSV/Parquet) only ``value_range`` (on the columns its checks name, or that
the caller maps) and ``end_before_start`` (on declared or known column pairs)
apply; the other rules are reported as not applicable. The checks run as DuckDB SQL.

Example:
    >>> import pyarrow as pa, datetime as dt
    >>> persons = pa.table({"subject_id": [1], "birth_time": [dt.datetime(1950, 1, 1)],
    ...                     "death_time": [dt.datetime(2000, 1, 1)], "sex": ["M"]})
    >>> events = pa.table({"subject_id": [1, 1], "time": [dt.datetime(1990, 1, 1), dt.datetime(2001, 1, 1)],
    ...                    "kind": ["encounter", "encounter"]})
    >>> result = check_plausibility(persons, events)
    >>> [r["violations"] for r in result["rules"] if r["id"] == "event_after_death"]
    [1]
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from hygeia.errors import DataValidationError

__all__ = [
    "RULE_KINDS",
    "check_plausibility",
    "check_table_plausibility",
    "default_rules_path",
    "load_rules",
]

#: How many example rows each rule reports.
N_EXAMPLES = 5

_EVENT_COLUMNS = {
    "subject_id": "BIGINT", "time": "TIMESTAMP", "end_time": "TIMESTAMP", "kind": "VARCHAR",
    "code_system": "VARCHAR", "code": "VARCHAR", "display": "VARCHAR", "numeric_value": "DOUBLE",
    "unit": "VARCHAR", "encounter_id": "BIGINT",
}
_PERSON_COLUMNS = {"subject_id": "BIGINT", "birth_time": "TIMESTAMP", "death_time": "TIMESTAMP", "sex": "VARCHAR"}


def default_rules_path() -> Path:
    """The path of Hygeia's default rule file."""
    return Path(__file__).with_name("rules") / "default_rules.json"


# -- loading and validation ---------------------------------------------------
def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_codes(codes: object, where: str, problems: list[str]) -> None:
    if not isinstance(codes, list) or not codes:
        problems.append(f"{where}: must be a non-empty list of codes")
        return
    for i, c in enumerate(codes):
        if isinstance(c, str) and c:
            continue
        if isinstance(c, dict) and (isinstance(c.get("code"), str) or isinstance(c.get("prefix"), str)):
            continue
        problems.append(f"{where}[{i}]: a code is a string or an object with 'code' or 'prefix' (got {c!r})")


def _validate_sex_specific(rule: dict, where: str, problems: list[str]) -> None:
    by_sex = rule.get("codes_by_sex")
    if not isinstance(by_sex, dict) or not by_sex:
        problems.append(f"{where}: 'codes_by_sex' must map a sex (e.g. 'F', 'M') to a list of codes")
        return
    for sex, codes in by_sex.items():
        _check_codes(codes, f"{where}.codes_by_sex.{sex}", problems)


def _validate_value_range(rule: dict, where: str, problems: list[str]) -> None:
    checks = rule.get("checks")
    if not isinstance(checks, list) or not checks:
        problems.append(f"{where}: 'checks' must be a non-empty list of {{name, code, min, max, unit}}")
        return
    for i, c in enumerate(checks):
        w = f"{where}.checks[{i}]"
        if not isinstance(c, dict):
            problems.append(f"{w}: must be an object (got {c!r})")
            continue
        if not isinstance(c.get("name"), str) or not c["name"]:
            problems.append(f"{w}: 'name' is required (e.g. 'heart_rate')")
        if not isinstance(c.get("code"), str) and not c.get("columns"):
            problems.append(f"{w}: needs a 'code' (records) or 'columns' (plain tables)")
        lo, hi = c.get("min"), c.get("max")
        if lo is None and hi is None:
            problems.append(f"{w}: needs 'min', 'max' or both")
        for key, v in (("min", lo), ("max", hi)):
            if v is not None and not _is_number(v):
                problems.append(f"{w}: {key!r} must be a number (got {v!r})")
        if _is_number(lo) and _is_number(hi) and lo > hi:
            problems.append(f"{w}: 'min' ({lo}) is greater than 'max' ({hi})")
        cols = c.get("columns", [])
        if not isinstance(cols, list) or not all(isinstance(x, str) for x in cols):
            problems.append(f"{w}: 'columns' must be a list of column names")


def _validate_pairs(rule: dict, where: str, problems: list[str]) -> None:
    pairs = rule.get("column_pairs", [])
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs
    ):
        problems.append(f"{where}: 'column_pairs' must be a list of [start, end] column names")


def _validate_tolerance(key: str) -> Callable[[dict, str, list[str]], None]:
    def check(rule: dict, where: str, problems: list[str]) -> None:
        v = rule.get(key, 0)
        if not _is_number(v) or v < 0:
            problems.append(f"{where}: {key!r} must be a number >= 0 (got {v!r})")

    return check


def _validate_follow_up(rule: dict, where: str, problems: list[str]) -> None:
    if not isinstance(rule.get("follow_up_column", "follow_up_end"), str):
        problems.append(f"{where}: 'follow_up_column' must be a column name of the persons table")


def _validate_kinds_filter(rule: dict, where: str, problems: list[str]) -> None:
    for key in ("event_kinds", "exclude_event_kinds"):
        v = rule.get(key)
        if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
            problems.append(f"{where}: {key!r} must be a list of event kinds (got {v!r})")


# -- the checks over records ----------------------------------------------------
def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _kinds_sql(rule: dict, alias: str = "e") -> str:
    sql = ""
    if rule.get("event_kinds"):
        sql += f" AND {alias}.kind IN ({', '.join(_q(k) for k in rule['event_kinds'])})"
    if rule.get("exclude_event_kinds"):
        sql += f" AND {alias}.kind NOT IN ({', '.join(_q(k) for k in rule['exclude_event_kinds'])})"
    return sql


def _code_match_sql(entries: Iterable[Any], alias: str = "e") -> str:
    """A SQL predicate true when the event's code is one of ``entries``."""
    terms = []
    for c in entries:
        if isinstance(c, str):
            terms.append(f"{alias}.code = {_q(c)}")
            continue
        sys_sql = f" AND {alias}.code_system = {_q(c['system'])}" if c.get("system") else ""
        if c.get("code") is not None:
            terms.append(f"({alias}.code = {_q(c['code'])}{sys_sql})")
        else:
            terms.append(f"(starts_with({alias}.code, {_q(c['prefix'])}){sys_sql})")
    return "(" + " OR ".join(terms) + ")" if terms else "FALSE"


def _run(con: Any, body: str, bad: str) -> tuple[int, int, list[dict]]:
    """Count rows of ``body`` (checked) and those where ``bad`` holds; return examples."""
    checked, violations = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {bad}) FROM ({body}) v"
    ).fetchone()
    examples = _rows(con.execute(f"SELECT * FROM ({body}) v WHERE {bad} ORDER BY ALL LIMIT {N_EXAMPLES}"))
    return int(checked), int(violations or 0), examples


def _rows(cursor: Any) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [{k: _jsonable(v) for k, v in zip(names, row)} for row in cursor.fetchall()]


def _jsonable(v: Any) -> Any:
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return _jsonable(v.item())
    return v


_EV = "e.subject_id, e.time, e.end_time, e.kind, e.code_system, e.code, e.display"


def _after_death(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]]:
    tol = float(rule.get("tolerance_days", 0)) * 86_400_000_000
    body = (
        f"SELECT {_EV}, p.death_time FROM events e JOIN persons p USING (subject_id) "
        f"WHERE p.death_time IS NOT NULL{_kinds_sql(rule)}"
    )
    return _run(con, body, f"epoch_us(time) > epoch_us(death_time) + {tol}")


def _before_birth(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]]:
    tol = float(rule.get("tolerance_days", 0)) * 86_400_000_000
    body = (
        f"SELECT {_EV}, p.birth_time FROM events e JOIN persons p USING (subject_id) "
        f"WHERE p.birth_time IS NOT NULL{_kinds_sql(rule)}"
    )
    return _run(con, body, f"epoch_us(time) < epoch_us(birth_time) - {tol}")


def _sex_specific(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]]:
    parts = []
    for sex, codes in rule["codes_by_sex"].items():
        parts.append(
            f"SELECT {_EV}, p.sex, {_q(sex)} AS expected_sex FROM events e JOIN persons p USING (subject_id) "
            f"WHERE p.sex IS NOT NULL AND {_code_match_sql(codes)}{_kinds_sql(rule)}"
        )
    return _run(con, " UNION ALL ".join(parts), "sex <> expected_sex")


def _value_range(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]]:
    parts = []
    for c in rule["checks"]:
        if not c.get("code"):
            continue
        code = {"system": c.get("system"), "code": c["code"]}
        unit = f" AND (e.unit IS NULL OR e.unit = {_q(c['unit'])})" if c.get("unit") else ""
        lo = "NULL" if c.get("min") is None else repr(float(c["min"]))
        hi = "NULL" if c.get("max") is None else repr(float(c["max"]))
        parts.append(
            f"SELECT {_EV}, e.numeric_value AS value, e.unit, {_q(c['name'])} AS check_name, "
            f"{lo}::DOUBLE AS min, {hi}::DOUBLE AS max FROM events e "
            f"WHERE e.numeric_value IS NOT NULL AND {_code_match_sql([code])}{unit}{_kinds_sql(rule)}"
        )
    if not parts:
        return 0, 0, []
    bad = "(isnan(value) OR (min IS NOT NULL AND value < min) OR (max IS NOT NULL AND value > max))"
    return _run(con, " UNION ALL ".join(parts), bad)


def _end_before_start(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]]:
    body = f"SELECT {_EV} FROM events e WHERE e.end_time IS NOT NULL{_kinds_sql(rule)}"
    return _run(con, body, "end_time < time")


def _encounter_containment(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]]:
    tol = float(rule.get("tolerance_minutes", 0)) * 60_000_000
    body = (
        f"SELECT {_EV}, e.encounter_id, c.time AS encounter_start, c.end_time AS encounter_end "
        "FROM events e JOIN events c ON c.encounter_id = e.encounter_id AND c.kind = 'encounter' "
        f"AND c.subject_id = e.subject_id WHERE e.kind <> 'encounter' AND e.encounter_id IS NOT NULL{_kinds_sql(rule)}"
    )
    bad = (
        f"(epoch_us(time) < epoch_us(encounter_start) - {tol} OR "
        f"(encounter_end IS NOT NULL AND epoch_us(time) > epoch_us(encounter_end) + {tol}))"
    )
    return _run(con, body, bad)


def _after_follow_up_end(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]] | str:
    col = rule.get("follow_up_column", "follow_up_end")
    if col in ctx["person_columns"]:
        end_sql = f"CAST(p.{_ident(col)} AS TIMESTAMP)"
        if ctx.get("follow_up_end") is not None:
            end_sql = f"coalesce({end_sql}, {_ts(ctx['follow_up_end'])})"
    elif ctx.get("follow_up_end") is not None:
        end_sql = _ts(ctx["follow_up_end"])
    else:
        return f"the persons table has no {col!r} column and no follow_up_end was given"
    body = (
        f"SELECT {_EV}, {end_sql} AS follow_up_end FROM events e JOIN persons p USING (subject_id) "
        f"WHERE {end_sql} IS NOT NULL{_kinds_sql(rule)}"
    )
    return _run(con, body, "time > follow_up_end")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ts(value: Any) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if isinstance(value, dt.datetime):
        value = value.isoformat(sep=" ")
    return f"CAST({_q(str(value))} AS TIMESTAMP)"


# -- the checks over plain tables -------------------------------------------------
def _table_value_range(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]] | str:
    mapping: Mapping[str, str] = ctx.get("columns") or {}
    lower = {c.lower(): c for c in ctx["table_columns"]}
    parts = []
    for c in rule["checks"]:
        cols = [col for col, name in mapping.items() if name == c["name"] and col in ctx["table_columns"]]
        cols += [lower[a.lower()] for a in c.get("columns", []) if a.lower() in lower and lower[a.lower()] not in cols]
        for col in dict.fromkeys(cols):
            lo = "NULL" if c.get("min") is None else repr(float(c["min"]))
            hi = "NULL" if c.get("max") is None else repr(float(c["max"]))
            parts.append(
                f"SELECT row_number, {_q(col)} AS column_name, {_q(c['name'])} AS check_name, "
                f"TRY_CAST({_ident(col)} AS DOUBLE) AS value, {lo}::DOUBLE AS min, {hi}::DOUBLE AS max "
                f"FROM data WHERE TRY_CAST({_ident(col)} AS DOUBLE) IS NOT NULL"
            )
    if not parts:
        return "no column of the table is declared for, or named like, this rule's checks"
    bad = "(isnan(value) OR (min IS NOT NULL AND value < min) OR (max IS NOT NULL AND value > max))"
    return _run(con, " UNION ALL ".join(parts), bad)


def _table_end_before_start(con: Any, rule: dict, ctx: dict) -> tuple[int, int, list[dict]] | str:
    cols = set(ctx["table_columns"])
    pairs = [tuple(p) for p in ctx.get("date_pairs") or ()]
    pairs += [tuple(p) for p in rule.get("column_pairs", []) if p[0] in cols and p[1] in cols]
    parts = []
    for start, end in dict.fromkeys(pairs):
        parts.append(
            f"SELECT row_number, {_q(start)} AS start_column, {_q(end)} AS end_column, "
            f"TRY_CAST({_ident(start)} AS TIMESTAMP) AS start, TRY_CAST({_ident(end)} AS TIMESTAMP) AS \"end\" "
            f"FROM data WHERE TRY_CAST({_ident(start)} AS TIMESTAMP) IS NOT NULL "
            f"AND TRY_CAST({_ident(end)} AS TIMESTAMP) IS NOT NULL"
        )
    if not parts:
        return "no (start, end) column pair is declared or known in this table"
    return _run(con, " UNION ALL ".join(parts), '"end" < start')


_Check = Callable[[Any, dict, dict], "tuple[int, int, list[dict]] | str"]

#: The rule kinds: validator, check over records, check over a plain table (or None).
RULE_KINDS: dict[str, tuple[Callable[[dict, str, list[str]], None], _Check, _Check | None]] = {
    "after_death": (_validate_tolerance("tolerance_days"), _after_death, None),
    "before_birth": (_validate_tolerance("tolerance_days"), _before_birth, None),
    "sex_specific": (_validate_sex_specific, _sex_specific, None),
    "value_range": (_validate_value_range, _value_range, _table_value_range),
    "end_before_start": (_validate_pairs, _end_before_start, _table_end_before_start),
    "encounter_containment": (_validate_tolerance("tolerance_minutes"), _encounter_containment, None),
    "after_follow_up_end": (_validate_follow_up, _after_follow_up_end, None),
}


def _read_rule_file(path: str | os.PathLike[str], problems: list[str]) -> list[Any]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{p}: rule file not found")
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.append(f"{p}: cannot read the rule file ({e})")
        return []
    rules = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(rules, list):
        problems.append(f"{p}: a rule file is a JSON list of rules or an object with a 'rules' list")
        return []
    return [(str(p), i, r) for i, r in enumerate(rules)]


def load_rules(
    rules: str | os.PathLike[str] | Sequence[Mapping[str, Any]] | None = None,
    extra_rule_files: Iterable[str | os.PathLike[str]] = (),
) -> list[dict[str, Any]]:
    """Load, merge and validate plausibility rules.

    Args:
        rules: the base rules: a rule file, a list of rule dicts, or ``None`` for
            Hygeia's defaults.
        extra_rule_files: more rule files; a rule whose ``id`` is already loaded
            replaces it (``"enabled": false`` removes it), a new ``id`` is added.

    Returns:
        The enabled rules, in order.

    Raises:
        DataValidationError: listing every problem in every rule.
    """
    problems: list[str] = []
    if rules is None:
        entries = _read_rule_file(default_rules_path(), problems)
    elif isinstance(rules, (str, os.PathLike)):
        entries = _read_rule_file(rules, problems)
    else:
        entries = [("rules", i, r) for i, r in enumerate(rules)]
    for path in extra_rule_files:
        entries += _read_rule_file(path, problems)
    merged: dict[str, dict] = {}
    seen: dict[tuple[str, str], int] = {}
    for source, i, rule in entries:
        where = f"{source} rule #{i}"
        if not isinstance(rule, dict):
            problems.append(f"{where}: a rule is an object (got {rule!r})")
            continue
        rid = rule.get("id")
        if not isinstance(rid, str) or not rid:
            problems.append(f"{where}: 'id' is required and must be a non-empty string")
            continue
        where = f"{source} rule {rid!r}"
        if (source, rid) in seen:
            problems.append(f"{where}: the id is used twice in the same file")
        seen[(source, rid)] = i
        if rule.get("enabled", True) is False:
            merged.pop(rid, None)
            continue
        if not isinstance(rule.get("description"), str) or not rule["description"]:
            problems.append(f"{where}: 'description' is required")
        kind = rule.get("kind")
        if kind not in RULE_KINDS:
            problems.append(f"{where}: unknown kind {kind!r}; expected one of {sorted(RULE_KINDS)}")
            continue
        _validate_kinds_filter(rule, where, problems)
        RULE_KINDS[kind][0](rule, where, problems)
        merged[rid] = dict(rule)
    if problems:
        raise DataValidationError(problems, header="invalid plausibility rules")
    return list(merged.values())


# -- running -----------------------------------------------------------------------
def _as_arrow(data: Any, name: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "to_arrow"):  # polars
        return data.to_arrow()
    try:
        return pa.Table.from_pandas(data, preserve_index=False)
    except (TypeError, pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise DataValidationError([f"{name}: cannot convert to an Arrow table ({e})"]) from None


def _conformed_view(con: Any, name: str, table: pa.Table, wanted: dict[str, str]) -> None:
    """Register ``table`` as ``name_raw`` and a view ``name`` with every ``wanted`` column."""
    con.register(f"{name}_raw", table)
    cols = []
    for col, typ in wanted.items():
        cols.append(f"CAST({_ident(col)} AS {typ}) AS {col}" if col in table.column_names else f"NULL::{typ} AS {col}")
    extra = [_ident(c) for c in table.column_names if c not in wanted]
    con.execute(f"CREATE VIEW {name} AS SELECT {', '.join(cols + extra)} FROM {name}_raw")


def _result(rule: dict, outcome: tuple[int, int, list[dict]] | str) -> dict[str, Any]:
    out = {"id": rule["id"], "description": rule["description"], "kind": rule["kind"]}
    if isinstance(outcome, str):
        return {**out, "applicable": False, "reason": outcome, "checked": 0, "violations": 0, "rate": 0.0,
                "examples": []}
    checked, violations, examples = outcome
    return {**out, "applicable": True, "checked": checked, "violations": violations,
            "rate": violations / checked if checked else 0.0, "examples": examples}


def _summary(results: list[dict], mode: str) -> dict[str, Any]:
    checked = sum(r["checked"] for r in results if r["applicable"])
    violations = sum(r["violations"] for r in results if r["applicable"])
    return {
        "mode": mode,
        "rules": results,
        "total_checked": checked,
        "total_violations": violations,
        "overall_violation_rate": violations / checked if checked else 0.0,
    }


def check_plausibility(
    persons: Any,
    events: Any = None,
    *,
    rules: str | os.PathLike[str] | Sequence[Mapping[str, Any]] | None = None,
    extra_rule_files: Iterable[str | os.PathLike[str]] = (),
    follow_up_end: dt.date | dt.datetime | str | None = None,
) -> dict[str, Any]:
    """Run the plausibility rules over Hygeia records.

    Args:
        persons: the ``persons`` table (Arrow or pandas), or a run folder (then
            ``events`` is left out and the run is queried in place with DuckDB).
        events: the ``events`` table.
        rules: base rules (see :func:`load_rules`); ``None`` for the defaults.
        extra_rule_files: rule files that add or replace rules.
        follow_up_end: the end of follow-up for persons whose ``follow_up_column``
            is missing or null (e.g. a run's end date).

    Returns:
        ``{"mode": "records", "rules": [{id, description, kind, applicable, checked,
        violations, rate, examples}], "total_checked", "total_violations",
        "overall_violation_rate"}``.

    Raises:
        DataValidationError: if a rule is malformed or a table lacks a required column.
    """
    import duckdb

    loaded = load_rules(rules, extra_rule_files)
    if events is None and isinstance(persons, (str, os.PathLike)):
        from hygeia.core.storage import connect

        con = connect(persons, verify=True)  # views over the run's Parquet files, canonical columns
        person_columns = {row[0] for row in con.execute("DESCRIBE persons").fetchall()}
    elif events is None:
        raise DataValidationError(["events: the events table is required with a persons table"])
    else:
        persons_t, events_t = _as_arrow(persons, "persons"), _as_arrow(events, "events")
        problems = [f"persons: missing column {c!r}" for c in ("subject_id",) if c not in persons_t.column_names]
        problems += [f"events: missing column {c!r}" for c in ("subject_id", "time") if c not in events_t.column_names]
        if problems:
            raise DataValidationError(problems, header="the records cannot be checked for plausibility")
        con = duckdb.connect()
        _conformed_view(con, "persons", persons_t, _PERSON_COLUMNS)
        _conformed_view(con, "events", events_t, _EVENT_COLUMNS)
        person_columns = set(persons_t.column_names)
    try:
        ctx = {"person_columns": person_columns, "follow_up_end": follow_up_end}
        results = [_result(r, RULE_KINDS[r["kind"]][1](con, r, ctx)) for r in loaded]
    finally:
        con.close()
    return _summary(results, "records")


def check_table_plausibility(
    table: Any,
    *,
    rules: str | os.PathLike[str] | Sequence[Mapping[str, Any]] | None = None,
    extra_rule_files: Iterable[str | os.PathLike[str]] = (),
    columns: Mapping[str, str] | None = None,
    date_pairs: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Run the rules that apply to one plain table (a CSV or Parquet file).

    Args:
        table: the table (Arrow or pandas).
        rules: base rules (see :func:`load_rules`).
        extra_rule_files: rule files that add or replace rules.
        columns: declares columns for ``value_range`` checks: ``{column: check name}``,
            e.g. ``{"hr_bpm": "heart_rate"}``. Columns named like a check's
            ``columns`` aliases are found without declaring them.
        date_pairs: ``(start, end)`` column pairs checked for dates out of order, in
            addition to the pairs a rule lists that the table has.

    Returns:
        The same shape as :func:`check_plausibility`, with ``"mode": "table"``;
        rules that need records are reported with ``applicable: false``.

    Raises:
        DataValidationError: if a rule is malformed or a declared column is missing.
    """
    import duckdb

    loaded = load_rules(rules, extra_rule_files)
    t = _as_arrow(table, "table")
    names = set(t.column_names)
    known_checks = {c["name"] for r in loaded if r["kind"] == "value_range" for c in r["checks"]}
    problems = [f"columns: {c!r} is not a column of the table" for c in (columns or {}) if c not in names]
    problems += [
        f"columns: {n!r} (for column {c!r}) is not a value_range check; known: {sorted(known_checks)}"
        for c, n in (columns or {}).items() if n not in known_checks
    ]
    pairs = [tuple(p) for p in date_pairs]
    problems += [f"date_pairs: {c!r} is not a column of the table" for p in pairs for c in p if c not in names]
    if problems:
        raise DataValidationError(problems, header="cannot check the table for plausibility")
    con = duckdb.connect()
    try:
        numbered = t.append_column("__row__", pa.array(range(t.num_rows), pa.int64()))
        con.register("data_raw", numbered)
        con.execute('CREATE VIEW data AS SELECT "__row__" AS row_number, * EXCLUDE ("__row__") FROM data_raw')
        ctx = {"table_columns": list(t.column_names), "columns": dict(columns or {}), "date_pairs": pairs}
        results = []
        for r in loaded:
            check = RULE_KINDS[r["kind"]][2]
            outcome = check(con, r, ctx) if check else "needs Hygeia records (persons and events), not a plain table"
            results.append(_result(r, outcome))
    finally:
        con.close()
    return _summary(results, "table")
