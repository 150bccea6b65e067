"""Helpers shared by the engine's unit tests: load a fixture module, run it, read the record.

The fixtures (``fixtures/``) are tiny modules in Synthea's Generic Module Framework
format, one per state type, transition type and logic condition, as in Synthea's
``src/test/resources/generic/``. Markers and probes are observations coded in the
``urn:hygeia:test`` system: a marker records *when* a state was reached, a probe
records whether a condition held (value 1) or not (value 0).
"""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from pathlib import Path

from hygeia.population.engine import ModuleSet, Person, load_modules, simulate

FIXTURES = Path(__file__).resolve().parent / "fixtures"

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
#: Units of age (calendar averages, as Synthea's calendar ages): a year is 365.2425 days,
#: a month a twelfth of it.
YEAR = 31_556_952_000
MONTH = YEAR // 12
#: A month of a duration (a Delay, a PriorState window): 30 days, as Synthea's
#: ``Utilities.convertTime``.
DELAY_MONTH = 30 * DAY


def delay_years(n: float) -> int:
    """Milliseconds of an ``exact``/``range`` duration of ``n`` years: Synthea's
    ``Utilities.convertTime(String, double)``, ``(long) (365.25 * n)`` whole days."""
    return int(365.25 * n) * DAY

#: The layout of a record row (``hygeia.population.engine._person.ROW_FIELDS``).
FIELDS = ("time", "end_time", "kind", "code_system", "code", "display", "numeric_value", "unit", "text_value",
          "encounter_id", "module", "state")
Row = namedtuple("Row", FIELDS)

TEST_SYSTEM = "urn:hygeia:test"


def ms(when: str) -> int:
    """Epoch milliseconds (UTC) of an ISO date or date-time."""
    d = dt.datetime.fromisoformat(when)
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return int(d.timestamp() * 1000)


BIRTH = ms("2000-01-01")


def load(*names: str) -> ModuleSet:
    """Load fixture files or folders by their name under ``fixtures/``."""
    return load_modules([FIXTURES / n for n in names])


def run(modules: str | ModuleSet, **kw) -> Person:
    """Simulate one person (born 2000-01-01, to 2030-01-01, a white non-Hispanic woman, seed 1)."""
    if isinstance(modules, str):
        modules = load(modules)
    kw.setdefault("seed", 1)
    kw.setdefault("birth", "2000-01-01")
    kw.setdefault("end", "2030-01-01")
    return simulate(modules, **kw)


def rows(person: Person, kind: str | None = None, **match) -> list[Row]:
    """The person's rows as named tuples, optionally only those of ``kind`` matching ``field=value``."""
    out = []
    for r in person.rows:
        row = Row(*r[:12])
        if kind is not None and row.kind != kind:
            continue
        if all(getattr(row, k) == v for k, v in match.items()):
            out.append(row)
    return out


def one(person: Person, kind: str | None = None, **match) -> Row:
    """The single row matching; fails the test when there are none or several."""
    found = rows(person, kind, **match)
    assert len(found) == 1, f"expected one {kind or 'row'} matching {match}; got {found}"
    return found[0]


def marks(person: Person) -> dict[str, list[int]]:
    """Times at which each marker (``urn:hygeia:test`` observation) was recorded, by its code."""
    out: dict[str, list[int]] = {}
    for r in rows(person, "observation", code_system=TEST_SYSTEM):
        out.setdefault(r.code, []).append(r.time)
    return out


def verdicts(person: Person) -> dict[str, bool]:
    """What each probe found: ``{probe name: whether its condition held}``."""
    return {r.code: r.numeric_value == 1 for r in rows(person, "observation", code_system=TEST_SYSTEM)}


def ks_statistic(a: list[float], b: list[float]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic."""
    a, b = sorted(a), sorted(b)
    i = j = 0
    d = 0.0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        while i < len(a) and a[i] == x:
            i += 1
        while j < len(b) and b[j] == x:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    return d
