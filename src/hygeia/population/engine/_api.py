"""Run modules for one person with every circumstance given: for testing and authoring modules.

Example:
    >>> from hygeia.population.engine import load_modules, default_modules_dir, simulate
    >>> p = simulate(load_modules([default_modules_dir()]), seed=1, birth="1960-01-01",
    ...              end="2020-01-01", sex="F", wellness_every_years=1)
    >>> p.alive and len(p.rows) > 0
    True
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hygeia.population.engine._person import Person
from hygeia.population.engine._runner import Simulation
from hygeia.population.engine._units import YEAR_MS

__all__ = ["simulate"]


def _ms(d: str | dt.date | dt.datetime | int) -> int:
    if isinstance(d, int):
        return d
    if isinstance(d, str):
        d = dt.datetime.fromisoformat(d)
    if not isinstance(d, dt.datetime):
        d = dt.datetime(d.year, d.month, d.day)
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return int(d.timestamp() * 1000)


def simulate(modules, *, seed: int = 0, birth: Any = "2000-01-01", end: Any = "2030-01-01", sex: str = "F",
             race: str = "white", ethnicity: str = "nonhispanic", attributes: dict | None = None,
             vitals: dict | None = None, wellness_every_years: float | None = None,
             death: Any = None) -> Person:
    """Simulate ``modules`` for one person, without the lifecycle's random draws.

    Args:
        modules: a :class:`ModuleSet` (``load_modules([...])``).
        seed: the person's seed.
        birth, end: birth and the end of the simulation (ISO dates, dates or epoch ms).
        sex, race, ethnicity: the person's traits (Synthea vocabulary).
        attributes: attributes set before any module starts (e.g. ``{"smoker": True}``).
        vitals: fixed vital signs (e.g. ``{"BMI": 32.0}``).
        wellness_every_years: schedule a wellness encounter at birth and then at this
            interval; None gives no wellness encounters.
        death: a time at which the person dies of natural causes, or None.

    Returns:
        The simulated :class:`Person`: ``rows`` (the record), ``attrs``, ``alive``...
    """
    b = _ms(birth)
    person = Person(1, seed, b, sex, race, ethnicity)
    person.attrs.update(attributes or {})
    person.vitals.update(vitals or {})
    if death is not None:
        person.death_due = _ms(death)
    sim = Simulation(person, modules, _ms(end))
    if wellness_every_years:
        step = int(wellness_every_years * YEAR_MS)

        def visit(_, t):
            enc = person.start_encounter(t, ("SNOMED-CT", "410620009", "Well child visit (procedure)"), "wellness",
                                         "lifecycle", "Wellness_Encounter")
            sim.wellness_visit(enc, t)
            sim.schedule(t + step, visit)

        sim.schedule(b + step // 2, visit)
    sim.run()
    return person
