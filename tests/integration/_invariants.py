"""Invariants every population run must satisfy, checked over its Parquet files.

Each check is a function ``(con, run) -> list[str]`` registered in
:data:`INVARIANTS`: it returns one line per kind of violation (how many rows
and a few examples), so a failing test says what is wrong and where. The test
files parametrize over the registry, so every population they make is held to
the same conformance suite.

Example:
    >>> run = Run(path=Path("output"), n=100)  # doctest: +SKIP
    >>> con = connect(run.path)  # doctest: +SKIP
    >>> INVARIANTS["no_event_before_birth"](con, run)  # doctest: +SKIP
    []
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from hygeia.core.config import BUILTIN_MODULE_FOLDERS, DEFAULT_END
from hygeia.core.schema import EVENT_KINDS, EVENTS_SCHEMA, PERSONS_SCHEMA

__all__ = [
    "INVARIANTS",
    "ONGOING_KINDS",
    "REPO_ROOT",
    "Run",
    "SYNTHEA_MODULES",
    "check_all",
    "require_synthea",
]

#: The repository root (this file is tests/integration/_invariants.py).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Synthea's module corpus, shipped with Hygeia (``--modules synthea``).
SYNTHEA_MODULES = Path(BUILTIN_MODULE_FOLDERS["synthea"])

#: Kinds of fact that last (and may still be going on when a record window opens).
ONGOING_KINDS = ("condition", "medication", "careplan", "allergy", "device")

#: Modules whose facts only a female (``F``) can have, and only a male (``M``).
FEMALE_ONLY_MODULES = (
    "pregnancy",
    "female_reproduction",
    "contraceptive_maintenance",
    "contraceptives/clear_contraceptive",
    "contraceptives/female_sterilization",
    "contraceptives/implant_contraceptive",
    "contraceptives/injectable_contraceptive",
    "contraceptives/intrauterine_device",
    "contraceptives/oral_contraceptive",
    "contraceptives/patch_contraceptive",
    "contraceptives/ring_contraceptive",
)
MALE_ONLY_MODULES = ("prostate_cancer", "veteran_prostate_cancer", "contraceptives/male_sterilization")
#: SNOMED CT "Normal pregnancy (finding)".
PREGNANCY_CODE = "72892002"

_EXAMPLES = 5


def require_synthea() -> Path:
    """Synthea's module corpus as shipped with Hygeia (fails, never skips, if it is missing)."""
    assert SYNTHEA_MODULES.is_dir(), f"Synthea's corpus is missing from the package: {SYNTHEA_MODULES}"
    return SYNTHEA_MODULES


@dataclasses.dataclass(frozen=True)
class Run:
    """A finished run folder and the options that made it (what the checks compare against)."""

    path: Path
    n: int
    start: dt.date | None = None
    end: dt.date = DEFAULT_END


Check = Callable[[Any, Run], list[str]]
#: Every invariant, by name.
INVARIANTS: dict[str, Check] = {}


def invariant(fn: Check) -> Check:
    INVARIANTS[fn.__name__] = fn
    return fn


def _ts(d: dt.date) -> str:
    return f"TIMESTAMP '{d.isoformat()} 00:00:00'"


def _violations(con: Any, what: str, sql: str) -> list[str]:
    """``[]`` if ``sql`` selects no rows, else one line: the count and a few examples."""
    count = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    if not count:
        return []
    cur = con.execute(f"SELECT * FROM ({sql}) LIMIT {_EXAMPLES}")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return [f"{what}: {count} row(s), e.g. " + "; ".join(str(r) for r in rows)]


def check_all(con: Any, run: Run) -> dict[str, list[str]]:
    """Every invariant's violations, by name (only those that have some)."""
    out = {name: fn(con, run) for name, fn in INVARIANTS.items()}
    return {name: problems for name, problems in out.items() if problems}


# -- the persons table ---------------------------------------------------------
@invariant
def tables_have_the_canonical_schema(con: Any, run: Run) -> list[str]:
    problems = []
    for name, schema in (("persons", PERSONS_SCHEMA), ("events", EVENTS_SCHEMA)):
        for part in sorted((run.path / name).glob("*.parquet")):
            got = pq.read_schema(part)
            if not got.equals(schema, check_metadata=True):
                problems.append(f"{part}: schema differs from the canonical {name} schema:\n{got}")
    return problems


@invariant
def persons_are_numbered_1_to_n(con: Any, run: Run) -> list[str]:
    got = con.execute(
        "SELECT count(*), count(DISTINCT subject_id), min(subject_id), max(subject_id) FROM persons"
    ).fetchone()
    want = (run.n, run.n, 1, run.n)
    if got != want:
        return [f"(rows, distinct subject_ids, min, max) of persons is {got}; expected {want}"]
    return []


@invariant
def persons_have_a_known_sex(con: Any, run: Run) -> list[str]:
    return _violations(
        con, "persons whose sex is not M or F", "SELECT subject_id, sex FROM persons WHERE sex NOT IN ('M', 'F')"
    )


@invariant
def lifetimes_lie_inside_the_simulation(con: Any, run: Run) -> list[str]:
    end = _ts(run.end)
    return _violations(
        con,
        f"persons born after the end ({run.end}), or dying before birth or after the end",
        f"SELECT subject_id, birth_time, death_time FROM persons "
        f"WHERE birth_time > {end} OR death_time < birth_time OR death_time > {end}",
    )


# -- events against persons ----------------------------------------------------
@invariant
def events_belong_to_persons(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "events whose subject_id is not in persons",
        "SELECT e.subject_id, e.time, e.kind, e.module, e.state FROM events e ANTI JOIN persons p USING (subject_id)",
    )


@invariant
def no_event_before_birth(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "events before the person's birth",
        "SELECT e.subject_id, p.birth_time, e.time, e.kind, e.display, e.module, e.state "
        "FROM events e JOIN persons p USING (subject_id) WHERE e.time < p.birth_time",
    )


@invariant
def no_event_after_death(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "events that start or end after the person's death",
        "SELECT e.subject_id, p.death_time, e.time, e.end_time, e.kind, e.display, e.module, e.state "
        "FROM events e JOIN persons p USING (subject_id) "
        "WHERE e.time > p.death_time OR e.end_time > p.death_time",
    )


@invariant
def no_event_after_the_end(con: Any, run: Run) -> list[str]:
    end = _ts(run.end)
    return _violations(
        con,
        f"events that start or end after the simulation's end ({run.end})",
        f"SELECT subject_id, time, end_time, kind, display, module, state FROM events "
        f"WHERE time > {end} OR end_time > {end}",
    )


@invariant
def facts_end_after_they_start(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "events whose end_time is before their time",
        "SELECT subject_id, time, end_time, kind, display, module, state FROM events WHERE end_time < time",
    )


@invariant
def sex_specific_facts_match_sex(con: Any, run: Run) -> list[str]:
    female = ", ".join(f"'{m}'" for m in FEMALE_ONLY_MODULES)
    male = ", ".join(f"'{m}'" for m in MALE_ONLY_MODULES)
    cols = "e.subject_id, p.sex, e.time, e.kind, e.code, e.display, e.module, e.state"
    base = "FROM events e JOIN persons p USING (subject_id)"
    return _violations(
        con,
        "female-only facts (pregnancy, female reproduction, contraception) of males",
        f"SELECT {cols} {base} WHERE p.sex = 'M' AND (e.module IN ({female}) "
        f"OR (e.kind = 'condition' AND e.code = '{PREGNANCY_CODE}'))",
    ) + _violations(
        con,
        "male-only facts (prostate cancer, vasectomy) of females",
        f"SELECT {cols} {base} WHERE p.sex = 'F' AND e.module IN ({male})",
    )


# -- events on their own -------------------------------------------------------
@invariant
def events_record_their_provenance(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "events without a module or state",
        "SELECT subject_id, time, kind, display, module, state FROM events "
        "WHERE module IS NULL OR state IS NULL OR module = '' OR state = ''",
    )


@invariant
def kinds_are_canonical(con: Any, run: Run) -> list[str]:
    kinds = ", ".join(f"'{k}'" for k in EVENT_KINDS)
    return _violations(
        con,
        f"events whose kind is not one of {EVENT_KINDS}",
        f"SELECT kind, module, state, count(*) AS n FROM events WHERE kind NOT IN ({kinds}) GROUP BY ALL",
    )


@invariant
def numeric_values_are_finite(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "events with a NaN or infinite numeric_value",
        "SELECT subject_id, time, kind, display, numeric_value, module, state FROM events "
        "WHERE isnan(numeric_value) OR isinf(numeric_value)",
    )


@invariant
def events_are_sorted_by_subject_and_time(con: Any, run: Run) -> list[str]:
    """As :func:`hygeia.population.simulate.simulate_shard` promises, in file order."""
    problems = []
    last = None
    for part in sorted((run.path / "events").glob("*.parquet")):
        t = pq.read_table(part, columns=["subject_id", "time"])
        if t.num_rows == 0:
            continue
        sid = t["subject_id"].to_numpy()
        tm = t["time"].cast("int64").to_numpy()
        if last is not None and (sid[0], tm[0]) < last:
            problems.append(f"{part.name} starts before the end of the previous part")
        bad = (sid[1:] < sid[:-1]) | ((sid[1:] == sid[:-1]) & (tm[1:] < tm[:-1]))
        if bad.any():
            i = int(bad.nonzero()[0][0])
            problems.append(f"{part.name}: rows {i} and {i + 1} are out of (subject_id, time) order")
        last = (sid[-1], tm[-1])
    return problems


# -- encounters ----------------------------------------------------------------
@invariant
def encounter_rows_are_well_formed(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "encounter rows without an encounter_id or an end_time",
        "SELECT subject_id, time, end_time, encounter_id, module, state FROM events "
        "WHERE kind = 'encounter' AND (encounter_id IS NULL OR end_time IS NULL)",
    ) + _violations(
        con,
        "encounter_ids used by more than one encounter row",
        "SELECT encounter_id, count(*) AS n FROM events WHERE kind = 'encounter' "
        "GROUP BY encounter_id HAVING count(*) > 1",
    )


@invariant
def encounter_ids_resolve(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "events whose encounter_id names no encounter of the same person (dangling)",
        "SELECT e.subject_id, e.time, e.kind, e.display, e.encounter_id, e.module, e.state FROM events e "
        "WHERE e.encounter_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events x WHERE x.kind = 'encounter' "
        "AND x.encounter_id = e.encounter_id AND x.subject_id = e.subject_id)",
    )


@invariant
def events_lie_inside_their_encounter(con: Any, run: Run) -> list[str]:
    return _violations(
        con,
        "events outside their encounter's [time, end_time]",
        "SELECT e.subject_id, x.time AS encounter_time, x.end_time AS encounter_end, e.time, e.kind, "
        "e.display, e.module, e.state FROM events e JOIN events x "
        "ON x.kind = 'encounter' AND x.encounter_id = e.encounter_id AND x.subject_id = e.subject_id "
        "WHERE e.kind <> 'encounter' AND (e.time < x.time OR e.time > x.end_time)",
    )


# -- death -----------------------------------------------------------------------
@invariant
def death_rows_match_death_times(con: Any, run: Run) -> list[str]:
    """One death row, at death_time, per person who died (inside the record window)."""
    shown = f"p.death_time >= {_ts(run.start)}" if run.start else "TRUE"
    per_person = (
        f"SELECT p.subject_id, p.death_time, count(e.subject_id) AS death_rows, "
        f"coalesce(p.death_time IS NOT NULL AND {shown}, FALSE) AS expected "
        f"FROM persons p LEFT JOIN events e ON e.subject_id = p.subject_id AND e.kind = 'death' GROUP BY ALL"
    )
    return _violations(
        con,
        "persons without exactly one death row though they died (in the record window), or with one though not",
        f"SELECT * FROM ({per_person}) WHERE death_rows <> CASE WHEN expected THEN 1 ELSE 0 END",
    ) + _violations(
        con,
        "death rows at a time other than the person's death_time",
        "SELECT e.subject_id, p.death_time, e.time, e.module, e.state FROM events e JOIN persons p USING (subject_id) "
        "WHERE e.kind = 'death' AND e.time IS DISTINCT FROM p.death_time",
    )


# -- the record window (``start``) ---------------------------------------------------
@invariant
def nothing_ended_before_start(con: Any, run: Run) -> list[str]:
    """With ``start``: a fact before it is kept only while it is still ongoing."""
    if run.start is None:
        return []
    start = _ts(run.start)
    kinds = ", ".join(f"'{k}'" for k in ONGOING_KINDS)
    return _violations(
        con,
        f"events before start ({run.start}) that are not ongoing entries still open on it",
        f"SELECT subject_id, time, end_time, kind, display, module, state FROM events WHERE time < {start} "
        f"AND NOT (kind IN ({kinds}) AND (end_time IS NULL OR end_time >= {start}))",
    )

