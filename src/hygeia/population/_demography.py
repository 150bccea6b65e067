"""Births and natural deaths that agree with the pack's pyramid and life table (private).

The persons of a run are a sample of everyone who was alive at some time in the
*observation window* ``[end - W, end]`` (``W`` = :data:`DEFAULT_WINDOW_YEARS`;
``--start`` only trims the records), under a stationary population whose living
on ``end`` follow the pack's age pyramid and whose deaths follow its life table:

* The birth cohort now aged ``a`` started with ``C(a) = P(a) / S(a)`` members
  (``P``: the pyramid's density of the living at age ``a`` by sex; ``S``: the life
  table's survival to ``a``), so that its survivors on ``end`` are ``P(a)``.
* Natural death is drawn from the *natural* hazard ``mu_nat = mu_lt x (1 - f)``,
  where ``f`` is the share of all-cause deaths at that age that the run's modules
  cause themselves (:mod:`hygeia.population._mortality`): a module's Death
  state replaces that part of the life-table hazard instead of adding to it, and
  the total hazard a person meets is again the life table's, on average.
* A cohort member is in the window if no natural death came before ``end - W``,
  so cohort ``a`` is drawn with weight ``C(a) x S_nat(a - W)`` and its natural
  death is then drawn *conditioned* on surviving to ``a - W``. Module deaths are
  not conditioned (a module may kill before the window; such a person is kept),
  so the living on ``end`` are ``C x S_nat x S_mod = P`` and deaths in any year of
  the window follow ``mu_lt`` by age.

Hazards are constant within each year of age (``mu = -ln(1 - q)``); the life
table's open last age (``q = 1``) takes the hazard of the age before it, held
constant, so a few persons pass 100. Everything a draw needs is precomputed, and a
person costs one categorical draw and one exponential walk over years of age.

Example:
    >>> import random
    >>> from hygeia.population.locale import load_locale
    >>> d = Demography(load_locale("us"), end=0, window_years=10.0)
    >>> age, sex = d.sample_age_sex(random.Random(1))
    >>> 0.0 <= age < 110.0 and sex in ("M", "F")
    True
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from hygeia.population.engine._units import YEAR_MS
from hygeia.population.locale import _Categorical

__all__ = ["DEFAULT_WINDOW_YEARS", "MAX_AGE", "NATURAL_FLOOR", "Demography"]

#: Years before ``--end`` that a run observes when no ``--start`` is given.
DEFAULT_WINDOW_YEARS = 10.0
#: Oldest age at ``end`` a person may have (the pyramid's open band is spread up to it).
MAX_AGE = 110
#: The natural hazard never falls below this share of the life table's, whatever the
#: modules are estimated to cause: every age has deaths that no module models.
NATURAL_FLOOR = 0.1
_STEP = 0.25  # years: the grid on which the cohort weights are tabulated
_SEXES = ("M", "F")


def _hazards(qx: Sequence[float]) -> list[float]:
    """Yearly hazards -ln(1 - q) up to MAX_AGE; q = 1 (an open interval) repeats the hazard before it."""
    mu: list[float] = []
    for q in qx:
        mu.append(-math.log(1.0 - q) if q < 1.0 else (mu[-1] if mu else 1.0))
    while len(mu) <= MAX_AGE + 1:
        mu.append(mu[-1])
    return mu


def _cumulative(mu: Sequence[float]) -> list[float]:
    out = [0.0]
    for m in mu:
        out.append(out[-1] + m)
    return out


def _at(cum: Sequence[float], mu: Sequence[float], age: float) -> float:
    """Cumulative hazard from birth to ``age`` (piecewise constant hazard per year)."""
    k = int(age)
    return cum[k] + mu[k] * (age - k)


class Demography:
    """Draws a person's age on ``end``, sex and natural death.

    Args:
        pack: the :class:`~hygeia.population.locale.LocalePack` (pyramid and life table).
        end: the run's end, epoch ms.
        window_years: ``W``, the length of the observation window before ``end``.
        module_share: sex -> the share of all-cause deaths, by single year of age,
            that the run's modules cause (``f`` above); ``None`` for none.
    """

    def __init__(self, pack, end: int, window_years: float = DEFAULT_WINDOW_YEARS,
                 module_share: Mapping[str, Sequence[float]] | None = None) -> None:
        self.end = end
        self.window_years = float(window_years)
        self.mu_lt: dict[str, list[float]] = {}
        self.mu_nat: dict[str, list[float]] = {}
        cum_lt: dict[str, list[float]] = {}
        cum_nat: dict[str, list[float]] = {}
        for sex in _SEXES:
            mu = _hazards(pack.life_table_qx(sex))
            share = list((module_share or {}).get(sex, ()))
            nat = [m * max(1.0 - (share[x] if x < len(share) else (share[-1] if share else 0.0)), NATURAL_FLOOR)
                   for x, m in enumerate(mu)]
            self.mu_lt[sex], self.mu_nat[sex] = mu, nat
            cum_lt[sex], cum_nat[sex] = _cumulative(mu), _cumulative(nat)
        self._cum_nat = cum_nat
        values, weights = [], []
        w = self.window_years
        for sex in _SEXES:
            for lo, density in self._pyramid_cells(pack, sex, cum_lt[sex]):
                mid = lo + _STEP / 2
                gain = _at(cum_lt[sex], self.mu_lt[sex], mid) - _at(cum_nat[sex], self.mu_nat[sex], max(mid - w, 0.0))
                values.append((lo, sex))
                weights.append(density * math.exp(gain))
        self._cells = _Categorical(values, weights)

    @staticmethod
    def _pyramid_cells(pack, sex: str, cum_lt: Sequence[float]):
        """(cell start, density of the living on ``end``) on the _STEP grid, for one sex.

        Uniform within each closed band; the open top band is spread in proportion to
        survival (a stationary tail), up to MAX_AGE.
        """
        col = 2 if sex == "M" else 3
        mu = _hazards(pack.life_table_qx(sex))
        n = round(MAX_AGE / _STEP)
        for band in pack.age_bands:
            lo, hi, count = band[0], band[1], band[col]
            start = round(lo / _STEP)
            if hi is not None:
                stop = round(hi / _STEP)
                for i in range(start, stop):
                    yield i * _STEP, count / (stop - start)
                continue
            surv = [math.exp(-_at(cum_lt, mu, (i + 0.5) * _STEP)) for i in range(start, n)]
            total = sum(surv)
            for i, s in zip(range(start, n), surv):
                yield i * _STEP, count * s / total

    # -- draws ----------------------------------------------------------------------------------
    def sample_age_sex(self, rng: random.Random) -> tuple[float, str]:
        """Age (years) on ``end`` the person has or would have had, and sex."""
        lo, sex = self._cells.draw(rng)
        return lo + _STEP * rng.random(), sex

    def sample_death(self, rng: random.Random, birth: int, sex: str, age: float) -> int | None:
        """Natural death (epoch ms) of a person ``age`` years old on ``end``; ``None`` if after ``end``.

        Drawn from the natural hazard, conditioned on surviving to the window's start.
        """
        mu = self.mu_nat[sex]
        x = max(age - self.window_years, 0.0)
        need = -math.log(1.0 - rng.random())  # Exp(1): the cumulative hazard at death
        while True:
            k = min(int(x), MAX_AGE)
            rate = mu[k]
            span = (k + 1 - x) if k < MAX_AGE else math.inf
            if rate * span >= need:
                x += need / rate
                break
            need -= rate * span
            x = k + 1.0
            if x > age:
                return None
        if x >= age:
            return None
        return birth + int(x * YEAR_MS)

    # -- what a run reports ----------------------------------------------------------------------
    def natural_survival(self, sex: str, age: float) -> float:
        """Survival to ``age`` under the natural hazard alone (for tests and reports)."""
        return math.exp(-_at(self._cum_nat[sex], self.mu_nat[sex], age))
