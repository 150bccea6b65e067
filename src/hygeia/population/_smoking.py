"""Smoking histories (private): who ever smokes, from what age, and when they quit.

A person's birth cohort is their age on the simulation's end date. The locale pack
gives, at each age, the prevalence of current smoking and the quit ratio (former
smokers as a share of ever smokers), by sex; their quotient

    ever(age) = current(age) / (1 - quit ratio(age))

is the share of that cohort that has ever smoked by then. Older cohorts smoked
more (US: about 11% ever at 18-24, 46% at 65 and over), so this carries the
birth-cohort differences the survey sees. Each person then gets:

- ``ever``: with probability ``ever(age)``;
- ``onset``: an age drawn from the pack's initiation-age distribution, truncated
  at their age on the end date (they have started by then);
- ``quit``: with probability ``quit ratio(age)`` they have quit by the end date,
  at an age between onset and then, drawn from a constant cessation hazard since
  onset that makes exactly that share quit (the cohort's own hazard,
  ``-ln(1 - quit ratio) / years smoked``); otherwise ``None`` (still smoking).

So on the end date current smoking and the quit ratio match the pack by age and
sex in expectation, nobody smokes before onset, and every quit follows onset.
Relapse is not modelled (a quit is permanent).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["SmokingHistory", "draw_history", "ever_share"]


@dataclass(frozen=True, slots=True)
class SmokingHistory:
    """One person's regular-smoking history, as ages in years.

    Attributes:
        onset: age at which regular smoking began; ``None`` for a never smoker.
        quit: age at which they quit; ``None`` if they never smoked or still smoke
            on the end date.

    Example:
        >>> SmokingHistory(onset=16.5, quit=40.2).smoking_at(30.0)
        True
        >>> SmokingHistory(onset=16.5, quit=40.2).smoking_at(41.0)
        False
    """

    onset: float | None = None
    quit: float | None = None

    @property
    def ever(self) -> bool:
        """Whether they ever smoke (before the end date)."""
        return self.onset is not None

    def smoking_at(self, age: float) -> bool:
        """Whether they smoke at ``age`` (from onset, up to but not including the quit)."""
        return self.onset is not None and self.onset <= age and (self.quit is None or age < self.quit)


def ever_share(pack, age: float, sex: str) -> float:
    """Share of the cohort aged ``age`` on the end date that has ever smoked: current / (1 - quit ratio)."""
    current = pack.smoking_probability(age, sex)
    if current <= 0.0:
        return 0.0
    return min(current / (1.0 - pack.smoking_quit_ratio(age, sex)), 1.0)


def draw_history(pack, age_at_end: float, sex: str, u_ever: float, rng: random.Random) -> SmokingHistory:
    """Draw a smoking history for a person aged ``age_at_end`` on the end date.

    Args:
        pack: the :class:`~hygeia.population.locale.LocalePack` (its
            ``smoking_probability``, ``smoking_quit_ratio`` and
            ``sample_smoking_initiation_age``).
        age_at_end: the person's age (years) on the simulation's end date.
        sex: ``"M"`` or ``"F"``.
        u_ever: a uniform [0, 1) draw that decides whether they ever smoke.
        rng: the stream for the other draws (onset, whether and when they quit).

    Returns:
        Their :class:`SmokingHistory`.

    Example:
        >>> from hygeia.population.locale import load_locale
        >>> h = draw_history(load_locale("us"), 70.0, "M", 0.01, random.Random(3))
        >>> h.ever and 12.0 <= h.onset < 26.0
        True
    """
    if u_ever >= ever_share(pack, age_at_end, sex):
        return SmokingHistory()
    onset = pack.sample_smoking_initiation_age(rng, before=age_at_end)
    ratio = pack.smoking_quit_ratio(age_at_end, sex)
    if ratio <= 0.0 or rng.random() >= ratio:
        return SmokingHistory(onset=onset)
    # Quit within (onset, age_at_end] under a constant hazard h with 1 - exp(-h * years) = ratio:
    # the inverse of the truncated exponential CDF, (1 - exp(-h t)) / ratio = u.
    years = age_at_end - onset
    u = rng.random()
    t = years * math.log1p(-u * ratio) / math.log1p(-ratio)
    return SmokingHistory(onset=onset, quit=onset + min(max(t, 1e-6 * years), years))
