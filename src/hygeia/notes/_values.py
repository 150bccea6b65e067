"""Values in clinical text: measurements with units, doses, routes, frequencies, dates, intervals."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

__all__ = ["DATE", "find_dates", "medication_attributes", "measurement"]

_NUM = r"(\d+(?:\.\d+)?)"
#: Units a measurement may carry (as notes write them); matched case-insensitively, longest first.
UNITS = sorted({
    "%", "mmHg", "mm Hg", "/min", "bpm", "beats/min", "breaths/min", "/10", "°C", "°F", "C", "F", "degrees", "cm",
    "inches", "kg", "g", "lb", "lbs", "kg/m2", "kg/m^2", "mg/dL", "g/dL", "mmol/L", "mEq/L", "meq/L", "mg/L",
    "g/L", "U/L", "IU/L", "ng/mL", "pg/mL", "ng/dL", "ug/dL", "mcg/dL", "umol/L", "µmol/L", "fL", "pg", "mg/g",
    "mL/min/1.73m2", "mL/min/1.73 m2", "mL/min", "x10^3/uL", "x10^6/uL", "x10^9/L", "x10^12/L", "10*3/uL", "10*6/uL",
    "K/uL", "/uL", "/mm3", "cells/uL", "mIU/L", "uIU/mL", "mIU/mL", "sec", "seconds", "mm/h", "mm/hr", "ratio",
    "mOsm/kg", "L/min", "mL", "uL", "U/mL", "nmol/L", "pmol/L", "mg/24h", "g/24h", "{score}", "score", "points",
}, key=len, reverse=True)
_UNIT = "(?:" + "|".join(re.escape(u) for u in UNITS) + r")(?![A-Za-z0-9/])"
_MEASURE = re.compile(r"\s*(?:[:=]|\bof\b|\bwas\b|\bis\b|\bwere\b|\bat\b)?\s*(?:(?:<|>|<=|>=|~)\s*)?" + _NUM
                      + r"(?:\s*/\s*" + _NUM + r")?" + r"(?:\s*(" + _UNIT + r"))?", re.I)


def measurement(text: str, pos: int, limit: int, *, pair: bool = False) -> tuple[float, float | None, str | None, int] | None:
    """The value written right after ``pos`` (``': 7.2%'``, ``' 142/88 mmHg'``).

    Returns ``(value, second value or None, unit or None, end offset)`` or None. With
    ``pair`` a ``a/b`` pair is read (blood pressure); otherwise ``/10``, ``/min`` are units.

    Example:
        >>> measurement("HbA1c 7.2%", 5, 10), measurement("BP 142/88 mmHg.", 2, 15, pair=True)
        ((7.2, None, '%', 10), (142.0, 88.0, 'mmHg', 14))
        >>> measurement("Pain 3/10.", 4, 10)
        (3.0, None, '/10', 9)
    """
    m = _MEASURE.match(text, pos, limit)
    if not m:
        return None
    value = float(m.group(1))
    second = m.group(2)
    if second is not None and not pair:  # '3/10': a value over its scale ('/min' is read as a unit)
        if second in ("5", "10", "100"):
            return value, None, f"/{second}", m.end(2)
        return None
    unit = m.group(3)
    return value, (float(second) if second is not None else None), unit, m.end()


_DOSE = re.compile(r"\b" + _NUM + r"(?:\s*-\s*" + _NUM + r")?\s*(mg/mL|mcg/mL|mg/hr|unt/ml|mg/actuat|mcg/actuat|units?/hr|mg|mcg|µg|ug|g|mL|units?|"
                   r"unt|IU|mEq|meq|%|puffs?|tabs?|tablets?|caps?|capsules?|drops?|patch(?:es)?|sprays?|actuat)"
                   r"(?![A-Za-z])", re.I)
_ROUTES = [
    ("oral", r"PO|p\.o\.|by mouth|orally|oral"), ("intravenous", r"IV|i\.v\.|intravenous(?:ly)?|IVPB"),
    ("intramuscular", r"IM|i\.m\.|intramuscular(?:ly)?"),
    ("subcutaneous", r"SC|SQ|subq|subcut|s\.c\.|subcutaneous(?:ly)?"), ("sublingual", r"SL|sublingual(?:ly)?"),
    ("topical", r"topical(?:ly)?|cream|ointment"), ("inhaled", r"inhaled|inhalation|inhaler|nebulized|neb|MDI"),
    ("rectal", r"PR|rectal(?:ly)?|suppository"), ("transdermal", r"transdermal|patch"),
    ("nasal", r"intranasal|nasal(?:ly)?|nasal spray"), ("ophthalmic", r"ophthalmic|eye drops?"),
    ("injection", r"injection|injectable|prefilled syringe|auto-injector|pen injector|injector"),
]
_ROUTE = re.compile(r"(?<![\w.])(?:" + "|".join(f"(?P<r{i}>{p})" for i, (_, p) in enumerate(_ROUTES)) + r")(?![\w])", re.I)
_FREQS = [
    ("twice daily", r"b\.?i\.?d\.?|twice (?:a |per )?day|twice daily|two times (?:a |per )?day|2 times (?:a |per )?day"),
    ("three times daily", r"t\.?i\.?d\.?|three times (?:a |per )?day|three times daily|3 times (?:a |per )?day"),
    ("four times daily", r"q\.?i\.?d\.?|four times (?:a |per )?day|four times daily|4 times (?:a |per )?day"),
    ("at bedtime", r"q\.?h\.?s\.?|at bedtime|nightly|every night|h\.s\.|qpm|every evening"),
    ("every morning", r"q\.?a\.?m\.?|every morning|in the morning"),
    ("every other day", r"q\.?o\.?d\.?|every other day"),
    ("weekly", r"weekly|once (?:a |per )?week|every week|q\s?week"),
    ("monthly", r"monthly|once (?:a |per )?month|every month"),
    ("daily", r"daily|once daily|once (?:a |per )?day|q\.?d\.?|every day|qday|per day|a day"),
    ("every {n} hours", r"q\s?(\d{1,2})\s?h(?:ours?|rs?)?|every (\d{1,2}) hours"),
    ("as needed", r"p\.?r\.?n\.?|as needed"),
    ("once", r"once|x1|one time|single dose|stat"),
]
_FREQ = re.compile(r"(?<![\w])(?:" + "|".join(f"(?P<f{i}>{p})" for i, (_, p) in enumerate(_FREQS)) + r")(?![\w])", re.I)


def medication_attributes(text: str, start: int, end: int) -> tuple[str | None, str | None, str | None, int]:
    """Dose, route and frequency in ``text[start:end]`` (normalized), and the end of the last one found (or ``start``).

    Example:
        >>> medication_attributes("lisinopril 10 mg PO daily", 10, 25)
        ('10 mg', 'oral', 'daily', 25)
        >>> medication_attributes("metformin 500 MG Oral Tablet twice a day", 9, 40)
        ('500 mg', 'oral', 'twice daily', 40)
    """
    last = start
    dose = route = freq = None
    m = _DOSE.search(text, start, end)
    if m:
        hi = f"-{_num(m.group(2))}" if m.group(2) else ""
        dose = f"{_num(m.group(1))}{hi} {m.group(3).lower()}"
        last = max(last, m.end())
    r = _ROUTE.search(text, start, end)
    if r:
        i = int(next(k for k, v in r.groupdict().items() if v is not None)[1:])
        route = _ROUTES[i][0]
        last = max(last, r.end())
    found = []
    for f in _FREQ.finditer(text, start, end):
        key = next(k for k, v in f.groupdict().items() if v is not None)
        name = _FREQS[int(key[1:])][0]
        if "{n}" in name:
            n = next(g for g in f.groups() if g is not None and g.isdigit())
            name = "daily" if n == "24" else name.format(n=int(n))
        if name not in found:
            found.append(name)
        last = max(last, f.end())
    if found:
        freq = " ".join(found[:2])
    return dose, route, freq, last


def _num(text: str) -> str:
    return f"{float(text):g}"


_MONTHS = {m: i for i, ms in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], 1) for m in ms}
_MONTH = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
DATE = re.compile(
    r"(?<![\w/-])(?:(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"|(?P<um>\d{1,2})/(?P<ud>\d{1,2})/(?P<uy>\d{4}|\d{2})"
    r"|" + _MONTH.replace("(", "(?P<mn>", 1) + r"\s+(?P<md>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<my>\d{4})"
    r"|(?P<dd>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH.replace("(", "(?P<dn>", 1) + r",?\s+(?P<dy>\d{4}))(?![\w/])",
    re.I)


def find_dates(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, str]]:
    """``(start, end, ISO date)`` of every valid date in ``text[start:end]``.

    Example:
        >>> [d for *_, d in find_dates("Seen 03/01/2020, 2020-03-02 and March 3, 2020; BP 120/80.")]
        ['2020-03-01', '2020-03-02', '2020-03-03']
    """
    for m in DATE.finditer(text, start, len(text) if end is None else end):
        g = m.groupdict()
        if g["iy"]:
            y, mo, d = int(g["iy"]), int(g["im"]), int(g["id"])
        elif g["uy"]:
            y, mo, d = int(g["uy"]), int(g["um"]), int(g["ud"])
            if y < 100:
                y += 2000 if y <= 30 else 1900
        elif g["my"]:
            y, mo, d = int(g["my"]), _MONTHS[g["mn"].lower()], int(g["md"])
        else:
            y, mo, d = int(g["dy"]), _MONTHS[g["dn"].lower()], int(g["dd"])
        try:
            iso = dt.date(y, mo, d).isoformat()
        except ValueError:
            continue
        yield m.start(), m.end(), iso
