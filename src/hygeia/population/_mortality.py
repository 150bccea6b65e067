"""Cause-specific mortality of the module library, and what it leaves to the life table (private).

A life table counts deaths from every cause, those the modules model included. If
the lifecycle drew natural death from the whole life table and the modules killed
on top of it, the heart-failure deaths (say) would be counted twice. So the
lifecycle's natural hazard is the life table's minus the part the modules cause:

    mu_nat(x) = mu_lt(x) * (1 - f(x)),   f(x) = module deaths / life-table deaths at age x

``f`` is estimated once per module library and locale by simulation
(:func:`estimate_module_mortality`): persons of every age are simulated with
natural death turned off, and the deaths each module's Death states cause in the
last :data:`PILOT_YEARS` before the end date are counted against the person-years
lived in them, by single year of age and sex. The pack
stores the counts (``module_mortality.json``); a run pools them over each 5-year
age band and its two neighbours, ``f = sum(module deaths) / sum(person-years x
mu_lt)``, over the modules the run uses (:func:`module_share`).

Limits: ``f`` is an average over everyone of an age and sex; the natural hazard
does not depend on a person's diseases, while module deaths fall on the sick; and it is
an estimate (a pilot of 40,000 lives gives some hundreds of deaths per age band). Where the
modules alone kill more than the life table (``f > 1``), the natural hazard stays at
:data:`~hygeia.population._demography.NATURAL_FLOOR` of the life table's and total
deaths exceed it: that is a module to recalibrate, and ``hygeia calibrate`` shows it.
Only modules of Hygeia's embedded library are adjusted; the deaths of other
modules (``--modules DIR``) still add to the life table's, and ``run.json`` lists them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from hygeia.population._demography import DEFAULT_WINDOW_YEARS
from hygeia.population.engine._units import YEAR_MS

__all__ = ["BAND_YEARS", "PILOT_MAX_AGE", "PILOT_YEARS", "estimate_module_mortality", "module_share"]

#: Width of the age bands over which module deaths are pooled.
BAND_YEARS = 5
#: Ages on the end date of the pilot's persons are uniform on [0, PILOT_MAX_AGE).
PILOT_MAX_AGE = 105
#: Only deaths and person-years in the last PILOT_YEARS before the end date count: those of
#: the observation window, whose calendar years set the modules' treatments (Date conditions).
PILOT_YEARS = DEFAULT_WINDOW_YEARS
_SEXES = ("M", "F")


def _sha256(path: str | Path) -> str:
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _kills(module) -> bool:
    return any(type(st).__name__ == "Death" for st in module.states.values())


def _library_modules(module_set) -> dict[str, Any]:
    """The run's modules (and submodules) that come from Hygeia's embedded library, by key."""
    from hygeia.population.engine import default_modules_dir

    root = default_modules_dir().resolve()
    out = {}
    for m in [*module_set.modules, *module_set.submodules.values()]:
        try:
            Path(m.path).resolve().relative_to(root)
        except ValueError:
            continue
        out[m.key] = m
    return out


def module_share(pack, module_set) -> tuple[dict[str, list[float]] | None, dict[str, Any]]:
    """The share ``f`` of all-cause deaths by single year of age that the run's modules cause.

    Args:
        pack: the run's :class:`~hygeia.population.locale.LocalePack`.
        module_set: the run's :class:`~hygeia.population.engine.ModuleSet`.

    Returns:
        ``(share, info)``: sex -> ``f`` for ages 0, 1, ... (``None`` when nothing is
        adjusted), and a JSON-ready description for ``run.json``.
    """
    killers = sorted(m.key for m in [*module_set.modules, *module_set.submodules.values()] if _kills(m))
    table = pack.module_mortality
    if table is None:
        return None, {"adjusted_modules": [], "unadjusted_modules": killers,
                      "note": f"locale pack {pack.name!r} has no module_mortality block: module deaths add "
                              "to the life table's"}
    library = _library_modules(module_set)
    used = sorted(k for k in table["modules"] if k in library)
    stale = sorted(k for k in used if table["modules"][k]["sha256"] != _sha256(library[k].path))
    unadjusted = sorted(k for k in killers if k not in used)
    ages = table["ages"]
    share: dict[str, list[float]] = {}
    for sex in _SEXES:
        mu = [-math.log(1.0 - q) if q < 1.0 else 0.0 for q in pack.life_table_qx(sex)]
        py = table["person_years"][sex]
        expected = [py[x] * (mu[x] if x < len(mu) and mu[x] > 0 else mu[-2]) for x in range(ages)]
        deaths = [sum(table["modules"][k]["deaths"][sex][x] for k in used) for x in range(ages)]
        f = [0.0] * ages
        for lo in range(0, ages, BAND_YEARS):
            # pooled over the band and its neighbours: a 15-year moving ratio damps the pilot's noise
            pool = range(max(lo - BAND_YEARS, 0), min(lo + 2 * BAND_YEARS, ages))
            e = sum(expected[x] for x in pool)
            ratio = sum(deaths[x] for x in pool) / e if e > 0 else 0.0
            for x in range(lo, min(lo + BAND_YEARS, ages)):
                f[x] = ratio
        share[sex] = f
    info = {
        "adjusted_modules": used,
        "stale_estimates": stale,
        "unadjusted_modules": unadjusted,
        "estimated_with": dict(table.get("meta") or {}),
        "module_share_of_deaths": {
            sex: {f"{lo}-{lo + BAND_YEARS - 1}": round(share[sex][lo], 4) for lo in range(0, ages, BAND_YEARS)}
            for sex in _SEXES
        },
    }
    return (share if used else None), info


# --------------------------------------------------------------------------- estimation


class _PilotDemography:
    """Ages uniform on [0, PILOT_MAX_AGE), either sex, no natural death."""

    window_years = 0.0

    def sample_age_sex(self, rng: random.Random) -> tuple[float, str]:
        return PILOT_MAX_AGE * rng.random(), ("M" if rng.random() < 0.5 else "F")

    def sample_death(self, rng: random.Random, birth: int, sex: str, age: float) -> None:
        return None


def _pilot_chunk(job: tuple[dict, int, int]) -> tuple[dict, dict]:
    """Simulate persons ``first .. first+count-1`` of the pilot; returns (person-years, deaths)."""
    from hygeia.core.config import RunConfig
    from hygeia.core.seeding import SeedTree
    from hygeia.population.engine import Simulation, load_run_modules
    from hygeia.population.engine._person import KIND, MODULE
    from hygeia.population.lifecycle import Lifecycle, to_ms_date
    from hygeia.population.locale import load_locale

    options, first, count = job
    cfg = RunConfig(n=1, **options)
    modules = load_run_modules(cfg)
    end = to_ms_date(cfg.end)
    lifecycle = Lifecycle(load_locale(cfg.locale), end, demography=_PilotDemography())
    tree = SeedTree(cfg.seed)
    ages = PILOT_MAX_AGE + 1
    py = {sex: [0.0] * ages for sex in _SEXES}
    deaths: dict[str, dict[str, list[int]]] = {}
    for index in range(first, first + count):
        person = lifecycle.make_person(index + 1, tree.person_seed(index))
        sim = Simulation(person, modules, end)
        lifecycle.begin(person, sim)
        sim.run()
        stop = person.death_time if person.death_time is not None else end
        lived = max(0.0, (stop - person.birth) / YEAR_MS)
        first = max(0.0, (end - PILOT_YEARS * YEAR_MS - person.birth) / YEAR_MS)  # age at the period's start
        for k in range(int(first), min(int(lived) + 1, ages)):
            py[person.sex][k] += max(0.0, min(k + 1.0, lived) - max(float(k), first))
        if person.death_time is not None and lived >= first:
            row = next(r for r in reversed(person.rows) if r[KIND] == "death")
            k = min(int(lived), ages - 1)
            deaths.setdefault(row[MODULE], {sex: [0] * ages for sex in _SEXES})[person.sex][k] += 1
    return py, deaths


def estimate_module_mortality(*, n: int = 40_000, seed: int = 1, locale: str = "us",
                              end: dt.date | str | None = None, workers: int = 1,
                              chunk: int = 250) -> dict[str, Any]:
    """Count the deaths each module of the embedded library causes, by age and sex.

    Persons aged 0 to :data:`PILOT_MAX_AGE` on ``end`` (uniformly) live their whole lives
    with natural death turned off; every death is then one a module's Death state
    caused. The result is the ``module_mortality.json`` block of a locale pack.

    Args:
        n: persons to simulate.
        seed: the pilot's seed.
        locale: the locale pack whose people are simulated.
        end: the simulated present (default: the run default).
        workers: local processes.
        chunk: persons per task.

    Returns:
        The block as a JSON-ready dict (write it to ``locales/<locale>/module_mortality.json``).

    Example:
        >>> doc = estimate_module_mortality(n=4, seed=1)  # doctest: +SKIP
        >>> sorted(doc)[:3]  # doctest: +SKIP
        ['ages', 'end', 'hygeia_version']
    """
    from hygeia import __version__
    from hygeia.core.config import DEFAULT_END, RunConfig
    from hygeia.population.engine import load_run_modules

    cfg = RunConfig(n=max(n, 1), seed=seed, locale=locale, end=end or DEFAULT_END)
    options = {"seed": seed, "locale": locale, "end": cfg.end}
    jobs = [(options, first, min(chunk, n - first)) for first in range(0, n, chunk)]
    ages = PILOT_MAX_AGE + 1
    py = {sex: [0.0] * ages for sex in _SEXES}
    deaths: dict[str, dict[str, list[int]]] = {}
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as ex:
            results = list(ex.map(_pilot_chunk, jobs))
    else:
        results = [_pilot_chunk(job) for job in jobs]
    for part_py, part_deaths in results:
        for sex in _SEXES:
            py[sex] = [a + b for a, b in zip(py[sex], part_py[sex])]
        for key, by_sex in part_deaths.items():
            into = deaths.setdefault(key, {sex: [0] * ages for sex in _SEXES})
            for sex in _SEXES:
                into[sex] = [a + b for a, b in zip(into[sex], by_sex[sex])]
    library = _library_modules(load_run_modules(cfg))
    for key, m in library.items():  # a module that can kill but did not: estimated at zero
        if _kills(m):
            deaths.setdefault(key, {sex: [0] * ages for sex in _SEXES})
    return {
        "source": {
            "publication": "Hygeia: simulation of its embedded module library with natural death turned off "
                           "(hygeia.population._mortality.estimate_module_mortality)",
            "table": f"deaths caused by each module's Death states, and person-years lived, in the last "
                     f"{PILOT_YEARS:g} years before the end date, by single year of age and sex",
            "year": dt.date.today().year,
            "url": "docs/population.md#calibration",
            "note": "Derived, not published data: regenerate with `hygeia calibrate mortality --locale "
                    f"{locale}` whenever a module that can kill changes (a unit test checks the hashes).",
        },
        "persons": n,
        "seed": seed,
        "end": cfg.end.isoformat(),
        "hygeia_version": __version__,
        "ages": ages,
        "person_years": {sex: [round(v, 3) for v in py[sex]] for sex in _SEXES},
        "modules": {
            key: {"sha256": _sha256(library[key].path) if key in library else "unknown", "deaths": by_sex}
            for key, by_sex in sorted(deaths.items())
        },
    }


def share_summary(share: Mapping[str, list[float]] | None) -> str:
    """One line per sex of ``f`` by 10-year band (for the CLI)."""
    if not share:
        return "no module deaths are adjusted"
    lines = []
    for sex in _SEXES:
        f = share[sex]
        cells = [f"{lo}-{lo + 9}: {max(f[lo:lo + 10]):.2f}" for lo in range(0, min(len(f), 100), 10)]
        lines.append(f"{sex}: " + ", ".join(cells))
    return "\n".join(lines)
