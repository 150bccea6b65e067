"""Time units, durations and value distributions of the module format.

Times inside the engine are integer milliseconds since the Unix epoch (UTC),
as in Synthea; they become Arrow timestamps only when a shard is written.

Two tables, because Synthea measures two things differently:

- :data:`MS`, calendar averages (a year of 365.2425 days, a month a twelfth of it),
  for ages: Synthea's ``Person.ageInYears``/``ageInMonths`` count calendar years and
  months since birth, which these averages approximate.
- :data:`DURATION_MS` and :func:`duration_ms`, for durations (delays, ``within``
  windows, procedure lengths, delayed deaths), exactly as Synthea's
  ``org.mitre.synthea.helpers.Utilities.convertTime``: a month is 30 days, and a
  year 365 days for a whole quantity (the ``long`` overload: ``(long) 365.25 * value``
  casts 365.25 before multiplying) or ``(long) (365.25 * value)`` whole days for a
  fractional one (the ``double`` overload, which also truncates months and weeks to
  whole days, days to whole hours, hours to whole minutes, minutes to whole seconds).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

__all__ = [
    "DURATION_MS",
    "MS",
    "YEAR_MS",
    "compile_distribution",
    "compile_duration",
    "duration_ms",
    "number_sampler",
    "round1",
    "rounder",
    "to_ms",
]

#: Milliseconds per unit, calendar averages: for ages (see the module docstring).
MS: dict[str, int] = {
    "milliseconds": 1,
    "seconds": 1000,
    "minutes": 60_000,
    "hours": 3_600_000,
    "days": 86_400_000,
    "weeks": 7 * 86_400_000,
    "months": 2_629_746_000,  # 365.2425 / 12 days
    "years": 31_556_952_000,  # 365.2425 days
}
YEAR_MS = MS["years"]
DAY_MS = MS["days"]

#: Milliseconds per whole unit of a duration: ``Utilities.convertTime(String, long)``.
#: ``milliseconds`` is Hygeia's own (Synthea's modules do not use it).
DURATION_MS: dict[str, int] = {
    "milliseconds": 1,
    "seconds": 1000,
    "minutes": 60_000,
    "hours": 3_600_000,
    "days": DAY_MS,
    "weeks": 7 * DAY_MS,
    "months": 30 * DAY_MS,
    "years": 365 * DAY_MS,  # (long) 365.25 * value: the cast binds to 365.25
}

#: ``Utilities.convertTime(String, double)``: unit -> (factor, ms), the duration being
#: ``(long) (factor * value)`` whole steps of ``ms`` (Java's cast truncates toward zero).
_FRACTIONAL: dict[str, tuple[float, int]] = {
    "milliseconds": (1.0, 1),
    "seconds": (1000.0, 1),
    "minutes": (60.0, 1000),
    "hours": (60.0, 60_000),
    "days": (24.0, 3_600_000),
    "weeks": (7.0, DAY_MS),
    "months": (30.0, DAY_MS),
    "years": (365.25, DAY_MS),
}


def duration_ms(quantity: float, unit: str, *, whole: bool = False) -> int:
    """Milliseconds of a duration, as Synthea's ``Utilities.convertTime``.

    Args:
        quantity: How many ``unit``.
        unit: A key of :data:`DURATION_MS`.
        whole: Use the ``long`` overload (the quantity is truncated to a whole number,
            a year is 365 days); otherwise the ``double`` overload (a year is 365.25
            days, truncated to whole days).

    Returns:
        Whole milliseconds.

    Example:
        >>> duration_ms(1, "months") // DAY_MS, duration_ms(2, "years") // DAY_MS
        (30, 730)
        >>> duration_ms(2, "years", whole=True) // DAY_MS
        730
        >>> duration_ms(4, "years") // DAY_MS, duration_ms(4, "years", whole=True) // DAY_MS
        (1461, 1460)
    """
    if whole:
        return int(quantity) * DURATION_MS[unit]
    factor, step = _FRACTIONAL[unit]
    return int(factor * quantity) * step


def to_ms(quantity: float, unit: str) -> int:
    """Convert ``quantity`` of ``unit`` to whole milliseconds (calendar-average units, as ages)."""
    return int(round(quantity * MS[unit]))


def _unit(spec: dict, where: str, problems: list[str], default: str | None = None) -> str | None:
    unit = spec.get("unit", default)
    if unit not in MS:
        problems.append(f"{where}: unknown time unit {unit!r}; use one of {sorted(MS)}")
        return None
    return unit


def _num(d: dict, key: str, where: str, problems: list[str]) -> float | None:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        problems.append(f"{where}: {key!r} must be a number; got {v!r}")
        return None
    return float(v)


Sampler = Callable[[random.Random], float]


def compile_distribution(spec: Any, where: str, problems: list[str]) -> Sampler | None:
    """Compile a ``{"kind": ..., "parameters": {...}, "round": bool}`` distribution.

    Kinds: EXACT (value), UNIFORM (low, high), GAUSSIAN (mean, standardDeviation,
    optional min/max), EXPONENTIAL (mean), TRIANGULAR (min, mode, max).
    """
    if not isinstance(spec, dict):
        problems.append(f"{where}: distribution must be an object; got {spec!r}")
        return None
    kind = spec.get("kind")
    p = spec.get("parameters", {})
    if not isinstance(p, dict):
        problems.append(f"{where}: distribution parameters must be an object; got {p!r}")
        return None
    n = len(problems)
    f: Sampler | None = None
    if kind == "EXACT":
        v = _num(p, "value", where, problems)
        f = (lambda rng, v=v: v) if v is not None else None
    elif kind == "UNIFORM":
        lo, hi = _num(p, "low", where, problems), _num(p, "high", where, problems)
        if lo is not None and hi is not None:
            f = lambda rng, lo=lo, hi=hi: lo + (hi - lo) * rng.random()  # noqa: E731
    elif kind == "GAUSSIAN":
        mu, sd = _num(p, "mean", where, problems), _num(p, "standardDeviation", where, problems)
        lo, hi = p.get("min", -math.inf), p.get("max", math.inf)
        if mu is not None and sd is not None:
            if sd < 0:
                problems.append(f"{where}: GAUSSIAN standardDeviation must be >= 0; got {sd}")

            def f(rng: random.Random, mu=mu, sd=sd, lo=lo, hi=hi) -> float:
                return min(max(rng.gauss(mu, sd), lo), hi)
    elif kind == "EXPONENTIAL":
        mean = _num(p, "mean", where, problems)
        if mean is not None:
            if mean <= 0:
                problems.append(f"{where}: EXPONENTIAL mean must be > 0; got {mean}")
            else:
                f = lambda rng, lam=1.0 / mean: rng.expovariate(lam)  # noqa: E731
    elif kind == "TRIANGULAR":
        lo, mode, hi = (_num(p, k, where, problems) for k in ("min", "mode", "max"))
        if None not in (lo, mode, hi):
            f = lambda rng, lo=lo, mode=mode, hi=hi: rng.triangular(lo, hi, mode)  # noqa: E731
    else:
        problems.append(
            f"{where}: unknown distribution kind {kind!r}; use EXACT, UNIFORM, GAUSSIAN, EXPONENTIAL or TRIANGULAR"
        )
    if len(problems) > n or f is None:
        return None
    if spec.get("round"):
        g = f
        f = lambda rng, g=g: float(round(g(rng)))  # noqa: E731
    return f


def rounder(digits: int) -> Callable[[float], float]:
    """``round(x, digits)`` for a float ``x``: the same float, in a third of the time.

    Python's ``round`` rounds the exact binary value to ``digits`` decimals (half to
    even) through a decimal string, then reads that string back: the nearest float to
    ``k / 10**digits`` for the integer ``k`` it found. Here ``k`` comes from ``x * 10**digits``,
    whose rounding error (under 1e-7 while it is below 1e9) cannot change which integer
    is nearest unless the fraction is within 1e-6 of a half, and ``k / 10**digits`` is
    that same nearest float (one correctly rounded division of two exact numbers). Near a
    half, beyond 1e9, or for infinities and NaN, it calls ``round``. Only for floats (on
    an int ``round`` returns an int).

    Example:
        >>> r = rounder(1)
        >>> r(2.25), round(2.25, 1), r(-0.04), r(172.34999)
        (2.2, 2.2, -0.0, 172.3)
    """
    if not 0 <= digits <= 6:
        return lambda x: round(x, digits)
    scale = 10.0 ** digits
    limit = 1e9 / scale
    floor, copysign = math.floor, math.copysign

    def fast_round(x: float) -> float:
        if -limit < x < limit:
            y = x * scale
            k = floor(y)
            f = y - k
            if f < 0.499999 or f > 0.500001:
                if f > 0.5:
                    k += 1
                return k / scale if k else copysign(0.0, x)
        return round(x, digits)
    return fast_round


#: ``round(x, 1)`` for floats (see :func:`rounder`).
round1 = rounder(1)


def number_sampler(spec: dict, where: str, problems: list[str]) -> Sampler | None:
    """A value from ``exact`` ({quantity} or {value}), ``range`` ({low, high}) or ``distribution``.

    Returns None (and records no problem) when none of the three keys is present.
    """
    if "exact" in spec:
        e = spec["exact"]
        key = "quantity" if isinstance(e, dict) and "quantity" in e else "value"
        v = _num(e, key, where + ".exact", problems) if isinstance(e, dict) else None
        if not isinstance(e, dict):
            problems.append(f"{where}: 'exact' must be an object; got {e!r}")
        return (lambda rng, v=v: v) if v is not None else None
    if "range" in spec:
        r = spec["range"]
        if not isinstance(r, dict):
            problems.append(f"{where}: 'range' must be an object with low and high; got {r!r}")
            return None
        lo, hi = _num(r, "low", where + ".range", problems), _num(r, "high", where + ".range", problems)
        if lo is None or hi is None:
            return None
        if r.get("decimals") is not None:
            rnd = rounder(int(r["decimals"]))
            return lambda rng, lo=lo, hi=hi, rnd=rnd: rnd(lo + (hi - lo) * rng.random())
        return lambda rng, lo=lo, hi=hi: lo + (hi - lo) * rng.random()
    if "distribution" in spec:
        return compile_distribution(spec["distribution"], where + ".distribution", problems)
    return None


def compile_duration(
    spec: dict,
    where: str,
    problems: list[str],
    default_unit: str | None = None,
    *,
    whole_distribution: bool = False,
):
    """Compile a duration (``exact``/``range``/``distribution`` plus ``unit``) to a ms sampler.

    The quantity goes through Synthea's ``Utilities.convertTime`` (:func:`duration_ms`):
    the ``double`` overload for ``exact`` and ``range`` (Java reads them as ``Double``, or
    draws a ``double`` from the range), and for a ``distribution`` unless
    ``whole_distribution``, where Java casts the drawn value to ``long`` first
    (``State.Delay.endOfDelay``: ``convertTime(unit, (long) distribution.generate(person))``).

    Returns a callable ``rng -> int ms`` (never negative) or None when the spec has no duration.
    """
    if not any(k in spec for k in ("exact", "range", "distribution")):
        return None
    inner = spec.get("exact") or spec.get("range") or {}
    unit_holder = inner if isinstance(inner, dict) and "unit" in inner else spec
    unit = _unit(unit_holder, where, problems, default_unit)
    f = number_sampler(spec, where, problems)
    if unit is None or f is None:
        return None
    if whole_distribution and "exact" not in spec and "range" not in spec:
        step = DURATION_MS[unit]

        def duration(rng, f=f, step=step) -> int:
            ms = int(f(rng)) * step
            return ms if ms > 0 else 0
    else:
        factor, step = _FRACTIONAL[unit]

        def duration(rng, f=f, factor=factor, step=step) -> int:
            ms = int(factor * f(rng)) * step
            return ms if ms > 0 else 0

    return duration
