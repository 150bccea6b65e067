"""Laboratory analytes tied to HPO terms, with reference ranges and their sources (``resources/tutor_labs.csv``).

Each row of the table ties one analyte (LOINC code, name, unit, reference range) to the
HPO term whose presence moves it out of range and the direction it moves (``low`` or
``high``); a row without a term is an analyte reported with its panel but never tied to
a finding. ``sex`` restricts a row to one sex (haemoglobin, creatine kinase, ESR). Every
range names its published source in the ``source`` column.

A value is drawn outside the range in the row's direction when the case holds a present
finding at or below the row's term (anaemia lowers haemoglobin; microcytic anaemia lowers
it too), else inside the range (the middle 70%). How far outside is an assumption: an
analyte whose range spans a factor of two or more (enzymes, CRP, D-dimer, lactate,
creatinine...) rises to 1.2-5 times its upper limit (log-uniform); others move by 15-150% of
the range's width above it, or 15-80% of it below (never under 30% of the lower limit).

Example:
    >>> import numpy as np
    >>> rows = [r for r in lab_table() if r.loinc == "718-7" and r.sex == "female"]
    >>> rows[0].low, rows[0].high, rows[0].unit
    (12.0, 16.0, 'g/dL')
    >>> v = draw_value(rows[0], "low", np.random.default_rng(0))
    >>> v < 12.0
    True
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["LabRow", "draw_value", "lab_table", "lab_values", "panel_rows"]


@dataclass(frozen=True)
class LabRow:
    """One analyte of one panel, tied (or not) to an HPO term and a direction."""

    test: str
    hpo: str
    loinc: str
    name: str
    unit: str
    low: float
    high: float
    direction: str
    sex: str
    source: str


@functools.cache
def lab_table() -> tuple[LabRow, ...]:
    """Every row of ``resources/tutor_labs.csv`` (read once)."""
    text = resources.files("hygeia.tutor").joinpath("resources/tutor_labs.csv").read_text(encoding="utf-8")
    rows = []
    for r in csv.DictReader(text.splitlines()):
        rows.append(LabRow(r["test"], r["hpo"], r["loinc"], r["name"], r["unit"], float(r["low"]), float(r["high"]),
                           r["direction"], r["sex"], r["source"]))
    return tuple(rows)


def panel_rows(test: str, sex: str) -> list[LabRow]:
    """The rows of panel ``test`` that apply to a patient of ``sex``, in table order."""
    return [r for r in lab_table() if r.test == test and r.sex in ("", sex)]


def _decimals(row: LabRow) -> int:
    span = row.high - row.low
    return 0 if span >= 50 else 1 if span >= 1 else 2


def draw_value(row: LabRow, direction: str | None, rng: np.random.Generator,
               override: tuple[float, float] | None = None) -> float:
    """A value of ``row``'s analyte: outside its range toward ``direction`` ('low'/'high'), inside when None.

    ``override`` (an authored ``(low, high)`` range, e.g. an acute case's lactate) replaces the draw.
    """
    span = row.high - row.low
    if override is not None:
        value = rng.uniform(*override)
    elif direction == "high" and (row.low <= 0 or row.high >= 2 * row.low):
        value = row.high * float(np.exp(rng.uniform(np.log(1.2), np.log(5.0))))
    elif direction == "high":
        value = row.high + span * rng.uniform(0.15, 1.5)
    elif direction == "low":
        value = max(row.low - span * rng.uniform(0.15, 0.8), row.low * 0.3)
    else:
        value = rng.uniform(row.low + 0.15 * span, row.high - 0.15 * span)
    return round(float(value), _decimals(row))


def lab_values(test: str, sex: str, is_present: Callable[[str], bool], rng: np.random.Generator, *,
               overrides: dict[str, tuple[float, float]] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """The numeric results of panel ``test`` for one patient, and the HPO terms of the rows that came out abnormal.

    Args:
        test: panel key (``cbc``, ``metabolic_panel``...).
        sex: ``'male'`` or ``'female'``.
        is_present: True where the case holds a present finding at or below an HPO term.
        rng: the case's test stream.
        overrides: LOINC code -> authored ``(low, high)`` value range.

    Returns:
        ``values`` (each ``{name, value, unit, low, high, flag, loinc, source}``) and the abnormal rows' terms.
    """
    overrides = overrides or {}
    by_analyte: dict[str, list[LabRow]] = {}
    for r in panel_rows(test, sex):
        by_analyte.setdefault(r.loinc, []).append(r)
    values, hits = [], []
    for loinc, rows in by_analyte.items():
        direction, hit = None, None
        for r in rows:
            if r.hpo and r.direction and is_present(r.hpo):
                direction, hit = r.direction, r.hpo
                break
        row = rows[0]
        value = draw_value(row, direction, rng, overrides.get(loinc))
        flag = "H" if value > row.high else "L" if value < row.low else ""
        if hit and flag:
            hits.append(hit)
        values.append({"name": row.name, "value": value, "unit": row.unit, "low": row.low, "high": row.high,
                       "flag": flag, "loinc": loinc, "source": row.source})
    return values, hits


def lab_terms(rows: Iterable[LabRow]) -> set[str]:
    """The HPO terms a set of rows is tied to."""
    return {r.hpo for r in rows if r.hpo}
