"""Locale packs: a country's demographics and clinical references as cited data.

A locale pack is a folder of data files, one file per *block* (``age_sex.json``,
``states.json``, ``life_table.json`` + ``life_table.csv`` ...). Every number
block names where its numbers come from (``source``: publication, table, year,
url), so a pack for another country is added as data only: the same files with
other numbers. :func:`load_locale` validates a pack completely on load and
raises one :class:`~hygeia.errors.LocaleError` listing every problem with its
file and field (the checks live in :mod:`hygeia.population._locale_schema`);
after that, sampling is plain table look-ups.

Sampling methods draw only from the ``random.Random`` they are given, so a
seeded generator gives the same people on every machine. They use precomputed
cumulative weights and :func:`bisect.bisect_right`, never numpy, because the
simulator calls them many times for every person it makes.

Example:
    >>> import random
    >>> pack = load_locale("us")
    >>> rng = random.Random(7)
    >>> age, sex = pack.sample_age_sex(rng)
    >>> 0.0 <= age < 102.0 and sex in ("M", "F")
    True
    >>> 170.0 < pack.height_cm(30.0, "M", 0.0) < 185.0
    True
"""

from __future__ import annotations

import functools
import math
import os
import random
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hygeia.errors import ConfigError, LocaleError, Problem
from hygeia.population._locale_schema import REQUIRED_BLOCKS, SEXES, VITAL_NAMES, read_pack

__all__ = [
    "LOCALES_DIR",
    "REQUIRED_BLOCKS",
    "VITAL_NAMES",
    "LocalePack",
    "Vaccine",
    "available_locales",
    "load_locale",
]

#: Folder that holds the packs shipped with Hygeia (one sub-folder per locale).
LOCALES_DIR = Path(__file__).with_name("locales")


@dataclass(frozen=True)
class Vaccine:
    """One vaccine of a routine schedule.

    Attributes:
        code: CVX code, e.g. ``"08"``.
        display: CVX short description.
        ages_months: ages (in months) at which the doses are given.
        series: a short name grouping doses of one series, e.g. ``"dtap"``.
        every_months: for recurring vaccines (influenza, Td), the interval.
        from_months: for recurring vaccines, the age of the first dose.

    Example:
        >>> flu = Vaccine("140", "Influenza", (), "influenza", every_months=12, from_months=6)
        >>> flu.doses_until(30)
        (6.0, 18.0, 30.0)
    """

    code: str
    display: str
    ages_months: tuple[float, ...]
    series: str
    every_months: float | None = None
    from_months: float | None = None

    def doses_until(self, age_months: float) -> tuple[float, ...]:
        """Ages (months) of every dose due up to and including ``age_months``."""
        ages = [float(a) for a in self.ages_months if a <= age_months]
        if self.every_months:
            a = float(self.from_months or 0.0)
            while a <= age_months:
                ages.append(a)
                a += self.every_months
        return tuple(sorted(ages))


# --------------------------------------------------------------------------- sampling tables


class _Categorical:
    """Values with cumulative probabilities; one ``rng.random()`` per draw."""

    __slots__ = ("values", "cum")

    def __init__(self, values: Iterable[Any], weights: Iterable[float]) -> None:
        self.values = tuple(values)
        weights = [float(w) for w in weights]
        total = sum(weights)
        acc, cum = 0.0, []
        for w in weights:
            acc += w
            cum.append(acc / total)
        cum[-1] = 1.0
        self.cum = tuple(cum)

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect_right(self.cum, rng.random())]


class _Bands:
    """Values attached to age bands ``[lo, next lo)``; look-up by bisect."""

    __slots__ = ("los", "values")

    def __init__(self, los: Iterable[float], values: Iterable[Any]) -> None:
        self.los = tuple(los)
        self.values = tuple(values)

    def at(self, age: float) -> Any:
        """The band holding ``age``; below the first band, the first."""
        i = bisect_right(self.los, age) - 1
        return self.values[i if i > 0 else 0]


def _lms_value(L: float, M: float, S: float, z: float) -> float:
    """The measurement at z-score ``z`` of an LMS (Box-Cox) reference."""
    if abs(L) < 1e-9:
        return M * math.exp(S * z)
    base = 1.0 + L * S * z
    return M * (base if base > 0.01 else 0.01) ** (1.0 / L)


class _LmsTable:
    """One LMS table (rows by age in months), linearly interpolated."""

    __slots__ = ("ages", "L", "M", "S", "lo", "hi")

    def __init__(self, rows: list[tuple[float, float, float, float]]) -> None:
        rows = sorted(rows)
        self.ages = tuple(r[0] for r in rows)
        self.L = tuple(r[1] for r in rows)
        self.M = tuple(r[2] for r in rows)
        self.S = tuple(r[3] for r in rows)
        self.lo, self.hi = self.ages[0], self.ages[-1]

    def value(self, months: float, z: float) -> float:
        ages = self.ages
        if months <= self.lo:
            return _lms_value(self.L[0], self.M[0], self.S[0], z)
        if months >= self.hi:
            return _lms_value(self.L[-1], self.M[-1], self.S[-1], z)
        i = bisect_right(ages, months) - 1
        f = (months - ages[i]) / (ages[i + 1] - ages[i])
        L = self.L[i] + f * (self.L[i + 1] - self.L[i])
        M = self.M[i] + f * (self.M[i + 1] - self.M[i])
        S = self.S[i] + f * (self.S[i + 1] - self.S[i])
        return _lms_value(L, M, S, z)


class _GrowthCurve:
    """Several LMS tables joined continuously: blended where they overlap,
    interpolated across gaps, held constant beyond both ends."""

    __slots__ = ("tables", "last_from", "last")

    def __init__(self, tables: list[_LmsTable]) -> None:
        self.tables = tuple(sorted(tables, key=lambda t: t.lo))
        #: From ``last_from`` months on (beyond every other table, in the last one) ``value``
        #: is the last table's value: the loop below would reach it with nothing to blend.
        self.last = self.tables[-1]
        self.last_from = max([self.last.lo] + [t.hi for t in self.tables[:-1]])

    def value(self, months: float, z: float) -> float:
        if months > self.last_from:
            return self.last.value(months, z)
        tabs = self.tables
        for k, tab in enumerate(tabs):
            if months < tab.lo and k > 0:  # in the gap after the previous table
                prev = tabs[k - 1]
                f = (months - prev.hi) / (tab.lo - prev.hi)
                return (1.0 - f) * prev.value(prev.hi, z) + f * tab.value(tab.lo, z)
            if months <= tab.hi or k == len(tabs) - 1:
                nxt = tabs[k + 1] if k + 1 < len(tabs) else None
                if nxt is not None and nxt.lo < tab.hi and months >= nxt.lo:
                    f = (months - nxt.lo) / (tab.hi - nxt.lo)
                    return (1.0 - f) * tab.value(months, z) + f * nxt.value(months, z)
                return tab.value(months, z)
        return tabs[-1].value(months, z)  # pragma: no cover - loop always returns


@dataclass(frozen=True)
class _Tables:
    """Everything :class:`LocalePack` samples from, precomputed on load."""

    age_sex: _Categorical  # values: (lo, width or None, sex)
    age_tail: dict[str, tuple[tuple[int, ...], tuple[float, ...]]]
    race_ethnicity: _Categorical
    states: _Categorical
    income: _Categorical  # values: (lo, hi or None)
    income_tail: tuple[float, float]  # (pareto alpha, cap)
    education: _Categorical
    marital_min_age: float
    marital_below: str
    marital: dict[str, _Bands]  # values: _Categorical
    language: dict[str, _Categorical]
    smoking: dict[str, _Bands]  # values: prevalence
    smoking_min_age: float
    smoking_initiation: _Categorical  # values: (lo, hi)
    smoking_quit: dict[str, _Bands] | None  # values: quit ratio (former / ever smokers)
    smoking_quit_min_age: float
    qx: dict[str, tuple[float, ...]]
    growth: dict[tuple[str, str], _GrowthCurve]
    vitals: dict[tuple[str, str], _Bands]  # values: (mean, sd)
    given_names: dict[str, tuple[str, ...]]
    family_names: tuple[str, ...]


# --------------------------------------------------------------------------- the pack


def _check_sex(sex: str) -> None:
    if sex not in SEXES:
        raise ConfigError(f"sex must be 'M' or 'F'; got {sex!r}.")


def _by_sex(table: Mapping[Any, Any], key: Any, sex: str) -> Any:
    """``table[key]``; a bad ``sex`` becomes a :class:`ConfigError` that says so."""
    try:
        return table[key]
    except KeyError:
        _check_sex(sex)
        raise


@dataclass(frozen=True, eq=False)
class LocalePack:
    """A loaded, validated locale pack. Build it with :func:`load_locale`.

    Attributes:
        name: the pack's name, e.g. ``"us"``.
        display_name: a human-readable name, e.g. ``"United States"``.
        reference_date: ISO date the demographic tables describe.
        path: the folder it was loaded from.
        immunizations: the routine immunization schedule.
        sources: block name -> citation of the data behind it.
        age_bands: the pyramid's bands as ``(age_lo, age_hi or None, males, females)``.
        targets: the national figures a run is calibrated to (``targets.json``; empty
            if the pack has none), each a dict with ``measure``, ``age_lo``, ``age_hi``,
            ``sex``, ``value``, ``definition``, ``year``, ``tolerance`` and ``source``.
        module_mortality: the deaths the default module library causes, by module,
            age and sex (``module_mortality.json``), or ``None``.

    Example:
        >>> import random
        >>> pack = load_locale("us")
        >>> isinstance(pack.sample_state(random.Random(1)), str)
        True
        >>> 0.0 < pack.annual_death_probability(80, "F") < 0.1
        True
    """

    name: str
    display_name: str
    reference_date: str
    path: str
    immunizations: tuple[Vaccine, ...]
    sources: Mapping[str, str]
    _t: _Tables = field(repr=False)
    age_bands: tuple[tuple[float, float | None, float, float], ...] = field(default=(), repr=False)
    targets: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    module_mortality: Mapping[str, Any] | None = field(default=None, repr=False)

    # -- demographics ---------------------------------------------------------------------------

    def sample_age_sex(self, rng: random.Random) -> tuple[float, str]:
        """Age in years on :attr:`reference_date` and sex (``"M"``/``"F"``).

        Ages are uniform within each band; the open top band follows the life
        table's person-years, reaching about 101.
        """
        t = self._t
        lo, width, sex = t.age_sex.draw(rng)
        if width is None:
            ages, cum = t.age_tail[sex]
            return ages[bisect_right(cum, rng.random())] + rng.random(), sex
        return lo + width * rng.random(), sex

    def sample_race_ethnicity(self, rng: random.Random) -> tuple[str, str]:
        """Race (Synthea vocabulary) and ethnicity (``hispanic``/``nonhispanic``), jointly."""
        return self._t.race_ethnicity.draw(rng)

    def sample_state(self, rng: random.Random) -> str:
        """State (or district) of residence, by full name."""
        return self._t.states.draw(rng)

    def sample_income(self, rng: random.Random) -> int:
        """Annual household income in whole units of the pack's currency."""
        lo, hi = self._t.income.draw(rng)
        u = rng.random()
        if hi is None:
            alpha, cap = self._t.income_tail
            return int(min(lo * (1.0 - u) ** (-1.0 / alpha), cap))
        return int(lo + (hi - lo) * u)

    def sample_education(self, rng: random.Random) -> str:
        """Highest educational attainment of an adult."""
        return self._t.education.draw(rng)

    def sample_marital_status(self, rng: random.Random, age_years: float, sex: str) -> str:
        """Marital status ``S``/``M``/``D``/``W`` for a person of that age and sex."""
        t = self._t
        if age_years < t.marital_min_age:
            return t.marital_below
        return _by_sex(t.marital, sex, sex).at(age_years).draw(rng)

    def sample_first_language(self, rng: random.Random, ethnicity: str) -> str:
        """Language spoken at home (``english``, ``spanish``, ``other`` ...)."""
        try:
            cat = self._t.language[ethnicity]
        except KeyError:
            raise ConfigError(
                f"unknown ethnicity {ethnicity!r}; expected one of {sorted(self._t.language)}."
            ) from None
        return cat.draw(rng)

    def sample_names(self, rng: random.Random, sex: str) -> tuple[str, str]:
        """A (given name, family name) pair; names only, drawn uniformly."""
        given = _by_sex(self._t.given_names, sex, sex)
        family = self._t.family_names
        return given[int(rng.random() * len(given))], family[int(rng.random() * len(family))]

    # -- behaviour and mortality ----------------------------------------------------------------

    def smoking_probability(self, age_years: float, sex: str) -> float:
        """Prevalence of current cigarette smoking at that age and sex."""
        t = self._t
        if age_years < t.smoking_min_age:
            return 0.0
        return _by_sex(t.smoking, sex, sex).at(age_years)

    def smoking_quit_ratio(self, age_years: float, sex: str) -> float:
        """Quit ratio at that age and sex: former smokers as a share of those who ever smoked.

        Zero below the pack's first quit-ratio band, or when the pack has none (every
        smoker is then a current smoker).
        """
        t = self._t
        if t.smoking_quit is None or age_years < t.smoking_quit_min_age:
            return 0.0
        return _by_sex(t.smoking_quit, sex, sex).at(age_years)

    def sample_smoking_initiation_age(self, rng: random.Random, before: float | None = None) -> float:
        """Age (years) at which a smoker started smoking.

        Args:
            rng: the random stream.
            before: if given, an age the draw must fall below (the pack's initiation
                distribution truncated there), for a person who has started by that age.

        Raises:
            ConfigError: ``before`` is at or below the youngest initiation age.
        """
        cat = self._t.smoking_initiation
        if before is None:
            lo, hi = cat.draw(rng)
            return lo + (hi - lo) * rng.random()
        masses, prev = [], 0.0
        for (lo, hi), cum in zip(cat.values, cat.cum):
            masses.append((cum - prev) * min(max((before - lo) / (hi - lo), 0.0), 1.0))
            prev = cum
        total = sum(masses)
        if total <= 0.0:
            raise ConfigError(f"nobody starts smoking before age {before}; the pack's initiation "
                              f"ages start at {cat.values[0][0]}.")
        v = rng.random() * total
        for (lo, hi), m in zip(cat.values, masses):
            if m > 0.0 and v < m:
                return lo + (min(before, hi) - lo) * (v / m)
            v -= m
        top = next(hi for (_, hi), m in zip(reversed(cat.values), reversed(masses)) if m > 0.0)
        return min(before, top) * (1.0 - 1e-12)  # rounding left v at the very top

    def annual_death_probability(self, age_years: int, sex: str) -> float:
        """q(x): probability of dying before the next birthday, from the life table.

        Ages above the table's last age take its last value.
        """
        q = _by_sex(self._t.qx, sex, sex)
        x = int(age_years)
        if x < 0:
            raise ConfigError(f"age_years must not be negative; got {age_years}.")
        return q[x] if x < len(q) else q[-1]

    def life_table_qx(self, sex: str) -> tuple[float, ...]:
        """The life table's q(x) for single ages 0, 1, ... (the last is the open interval)."""
        return _by_sex(self._t.qx, sex, sex)

    def life_expectancy(self, sex: str, age_years: int = 0) -> float:
        """Remaining life expectancy at an exact age, computed from q(x).

        Deaths fall mid-year, except in the first year of life (a0 = 0.1).
        """
        q = _by_sex(self._t.qx, sex, sex)
        alive, years = 1.0, 0.0
        for x in range(int(age_years), len(q)):
            dead = alive * q[x]
            years += alive - dead * (0.9 if x == 0 else 0.5)
            alive -= dead
        return years

    # -- clinical references --------------------------------------------------------------------

    def height_cm(self, age_years: float, sex: str, z: float) -> float:
        """Reference height (cm) at a z-score; continuous from birth to old age."""
        return _by_sex(self._t.growth, ("height", sex), sex).value(age_years * 12.0, z)

    def weight_kg(self, age_years: float, sex: str, z: float) -> float:
        """Reference weight (kg) at a z-score; continuous from birth to old age."""
        return _by_sex(self._t.growth, ("weight", sex), sex).value(age_years * 12.0, z)

    def growth_curve(self, kind: str, sex: str):
        """The ``(months, z) -> value`` function behind :meth:`height_cm` (``kind="height"``) or
        :meth:`weight_kg` (``"weight"``) for one sex, for callers that look it up once.

        Example:
            >>> pack = load_locale("us")
            >>> pack.growth_curve("height", "F")(30 * 12.0, 0.0) == pack.height_cm(30, "F", 0.0)
            True
        """
        return _by_sex(self._t.growth, (kind, sex), sex).value

    def vital_bands(self, name: str, sex: str) -> tuple[tuple[float, ...], tuple[tuple[float, float], ...]]:
        """``(age_los, (mean, sd) per band)`` behind :meth:`vital_reference` for one vital and sex:
        the band of an age is the last whose lower edge is at or below it (the first below all).

        Example:
            >>> from bisect import bisect_right
            >>> pack = load_locale("us")
            >>> los, values = pack.vital_bands("Heart Rate", "M")
            >>> values[max(bisect_right(los, 50.0) - 1, 0)] == pack.vital_reference("Heart Rate", 50.0, "M")
            True
        """
        self.vital_reference(name, 0.0, sex)  # the same errors for an unknown name or sex
        bands = self._t.vitals[(name, sex)]
        return bands.los, bands.values

    def vital_reference(self, name: str, age_years: float, sex: str) -> tuple[float, float]:
        """(mean, sd) of a vital sign or lab value for that age and sex; see :data:`VITAL_NAMES`."""
        try:
            bands = self._t.vitals[(name, sex)]
        except KeyError:
            _check_sex(sex)
            raise ConfigError(f"unknown vital {name!r}; expected one of {list(VITAL_NAMES)}.") from None
        return bands.at(age_years)


# --------------------------------------------------------------------------- loading


def available_locales() -> list[str]:
    """Names of the packs shipped with Hygeia, e.g. ``["us"]``."""
    if not LOCALES_DIR.is_dir():
        return []
    return sorted(p.name for p in LOCALES_DIR.iterdir() if (p / "pack.json").is_file())


def load_locale(name_or_path: str | os.PathLike[str]) -> LocalePack:
    """Load and validate a locale pack (cached per folder).

    Args:
        name_or_path: a shipped pack's name (see :func:`available_locales`) or
            the path of a pack folder.

    Returns:
        The validated :class:`LocalePack`.

    Raises:
        LocaleError: if the name is unknown, or if the pack is malformed; the
            error lists every problem found, each with its file and field.
    """
    key = os.fspath(name_or_path)
    names = available_locales()
    if key in names:
        folder = LOCALES_DIR / key
    elif Path(key).is_dir():
        folder = Path(key)
    else:
        raise LocaleError(
            [
                Problem(
                    repr(key),
                    f"no such locale; available locales: {', '.join(names) or '(none)'}. "
                    "Pass one of these names or the path of a locale pack folder.",
                )
            ],
            header="unknown locale",
        )
    return _load_folder(str(folder.resolve()))


@functools.lru_cache(maxsize=32)
def _load_folder(folder: str) -> LocalePack:
    path = Path(folder)
    blocks, sources = read_pack(path)
    return _build(path, blocks, sources)


# --------------------------------------------------------------------------- assembly


def _age_tail(qx: tuple[float, ...], start: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Single ages from ``start`` to the table's end, weighted by person-years lived."""
    alive, ages, weights = 1.0, [], []
    for x in range(start, len(qx)):
        dead = alive * qx[x]
        ages.append(x)
        weights.append(alive - 0.5 * dead)
        alive -= dead
    cat = _Categorical(ages, weights)
    return cat.values, cat.cum


def _sex_scaled_bands(block: dict[str, Any], cap: float = math.inf) -> dict[str, _Bands]:
    """A sex's rate by age from an ``overall`` / ``by_sex`` / ``by_age`` block: the age band's
    rate times (the sex's rate / the overall rate), at most ``cap`` (sex-by-age is not published)."""
    return {
        sex: _Bands([lo for lo, _ in block["by_age"]],
                    [min(v * block["by_sex"][sex] / block["overall"], cap) for _, v in block["by_age"]])
        for sex in SEXES
    }


def _build(path: Path, b: dict[str, Any], sources: dict[str, str]) -> LocalePack:
    qx = b["life_table"]
    age_values, age_weights = [], []
    for lo, hi, male, female in b["age_sex"]:
        for sex, count in (("M", male), ("F", female)):
            age_values.append((lo, None if hi is None else hi - lo, sex))
            age_weights.append(count)
    open_lo = int(b["age_sex"][-1][0])
    smoking = b["smoking"]
    quit = smoking.get("quit_ratio")
    income = b["income"]
    marital = b["marital_status"]
    tables = _Tables(
        age_sex=_Categorical(age_values, age_weights),
        age_tail={sex: _age_tail(qx[sex], open_lo) for sex in SEXES},
        race_ethnicity=_Categorical(b["race_ethnicity"].keys(), b["race_ethnicity"].values()),
        states=_Categorical(b["states"].keys(), b["states"].values()),
        income=_Categorical([(lo, hi) for lo, hi, _ in income["brackets"]],
                            [s for *_, s in income["brackets"]]),
        income_tail=(income["alpha"], income["cap"]),
        education=_Categorical(b["education"].keys(), b["education"].values()),
        marital_min_age=marital["min_age"],
        marital_below=marital["below"],
        marital={
            sex: _Bands([lo for lo, _ in rows], [_Categorical(sh.keys(), sh.values()) for _, sh in rows])
            for sex, rows in marital["by_sex"].items()
        },
        language={eth: _Categorical(sh.keys(), sh.values()) for eth, sh in b["language"].items()},
        smoking=_sex_scaled_bands(smoking),
        smoking_min_age=smoking["by_age"][0][0],
        smoking_initiation=_Categorical([(lo, hi) for lo, hi, _ in smoking["initiation"]],
                                        [s for *_, s in smoking["initiation"]]),
        smoking_quit=None if quit is None else _sex_scaled_bands(quit, cap=0.999),
        smoking_quit_min_age=0.0 if quit is None else quit["by_age"][0][0],
        qx=qx,
        growth={key: _GrowthCurve([_LmsTable(rows) for rows in tabs]) for key, tabs in b["growth"].items()},
        vitals={key: _Bands([lo for lo, _ in rows], [v for _, v in rows])
                for key, rows in b["vitals"].items()},
        given_names=b["names"]["given"],
        family_names=b["names"]["family"],
    )
    pack = b["pack"]
    return LocalePack(
        name=pack["name"],
        display_name=pack["display_name"],
        reference_date=pack["reference_date"],
        path=str(path),
        immunizations=tuple(Vaccine(*v) for v in b["immunizations"]),
        sources=dict(sources),
        _t=tables,
        age_bands=tuple(tuple(band) for band in b["age_sex"]),
        targets=tuple(b.get("targets") or ()),
        module_mortality=b.get("module_mortality"),
    )
