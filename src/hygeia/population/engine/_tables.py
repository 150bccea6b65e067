"""Lookup tables read by ``lookup_table_transition`` (CSV files in ``lookup_tables/``)."""

from __future__ import annotations

import bisect
import csv
import math
import os

__all__ = ["YEAR_MS", "LookupTable"]

_RANGE_KEYS = ("age", "time")
#: The length of a year of age in a lookup table (365.2425 days), in milliseconds.
YEAR_MS = 31_556_952_000


def _norm(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, list):  # an entry row: compare its code
        v = v[4]
    return str(v).strip().lower()


def _parse_range(cell: str, where: str, problems: list[str]) -> tuple[float, float]:
    lo, sep, hi = cell.strip().partition("-")
    try:
        if not sep:
            return float(lo), float(lo)
        return float(lo), float(hi)
    except ValueError:
        problems.append(f"{where}: cannot read range {cell!r}; write it as low-high")
        return (0.0, -1.0)


class LookupTable:
    """A probability table keyed by person attributes; ``lookup`` returns cumulative probabilities.

    Rows are matched as written: the first row (in file order) whose keys equal
    the person's and whose ``age`` (whole years) and ``time`` (epoch ms) ranges,
    both ends included, hold the person's values. The range ends of a key's rows
    cut age and time into cells in which the matching row cannot change; the
    match is found once per cell and remembered, and ``next_change`` tells when
    the next cell begins.
    """

    __slots__ = ("path", "key_cols", "range_cols", "index", "getters", "edges", "cells", "age_at", "time_at")

    def __init__(self, path: str, outcomes: list[str], where: str, problems: list[str]) -> None:
        self.path = path
        self.index: dict[tuple, list] = {}
        #: Per key: (sorted age edges in years or None, sorted time edges in ms or None), filled on demand.
        self.edges: dict[tuple, tuple] = {}
        #: (key, age cell, time cell) -> cumulative probabilities of the matching row, or None.
        self.cells: dict[tuple, list | None] = {}
        self.key_cols: list[str] = []
        self.range_cols: list[str] = []
        self.age_at = self.time_at = None
        if not os.path.isfile(path):
            problems.append(f"{where}: lookup table {os.path.basename(path)!r} not found at {path}")
            return
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        if not rows:
            problems.append(f"{where}: lookup table {path} is empty")
            return
        header = [h.strip() for h in rows[0]]
        missing = [o for o in outcomes if o not in header]
        if missing:
            problems.append(f"{where}: lookup table {os.path.basename(path)} has no column for transition(s) {missing}")
            return
        out_idx = [header.index(o) for o in outcomes]
        keys = [i for i, h in enumerate(header) if h and h not in outcomes]
        self.range_cols = [header[i] for i in keys if header[i] in _RANGE_KEYS]
        self.key_cols = [header[i] for i in keys if header[i] not in _RANGE_KEYS]
        if "age" in self.range_cols:
            self.age_at = self.range_cols.index("age")
        if "time" in self.range_cols:
            self.time_at = self.range_cols.index("time")
        range_idx = [header.index(c) for c in self.range_cols]
        key_idx = [header.index(c) for c in self.key_cols]
        for n, r in enumerate(rows[1:], start=2):
            if not any(c.strip() for c in r):
                continue
            w = f"{where}: {os.path.basename(path)} line {n}"
            try:
                probs = [float(r[i]) for i in out_idx]
            except (ValueError, IndexError):
                problems.append(f"{w}: probabilities must be numbers")
                continue
            acc, cum = 0.0, []
            for p in probs:
                acc += p
                cum.append(acc)
            k = tuple(r[i].strip().lower() for i in key_idx)
            ranges = tuple(_parse_range(r[i], w, problems) for i in range_idx)
            self.index.setdefault(k, []).append((ranges, cum))
        self.getters = [_GETTERS.get(c) or _attribute_getter(c) for c in self.key_cols]

    def _key(self, person) -> tuple:
        getters = self.getters
        if len(getters) == 1:
            return (getters[0](person),)
        if not getters:
            return ()
        return tuple([g(person) for g in getters])

    def _edges_of(self, key: tuple, rows: list) -> tuple:
        """Integer values at which some row's range of ``key`` starts or stops holding."""
        def cut(i: int | None) -> list[int] | None:
            if i is None:
                return None
            return sorted({e for ranges, _ in rows for e in (math.ceil(ranges[i][0]), math.floor(ranges[i][1]) + 1)})

        e = self.edges[key] = (cut(self.age_at), cut(self.time_at))
        return e

    def lookup(self, person, t: int):
        """Cumulative probabilities of the row matching the person at ``t``, or None."""
        key = self._key(person)
        rows = self.index.get(key)
        if not rows:
            return None
        if not self.range_cols:
            return rows[0][1]
        edges = self.edges.get(key) or self._edges_of(key, rows)
        age_edges, time_edges = edges
        age = (t - person.birth) // YEAR_MS
        cell = (key, 0 if age_edges is None else bisect.bisect_right(age_edges, age),
                0 if time_edges is None else bisect.bisect_right(time_edges, t))
        try:
            return self.cells[cell]
        except KeyError:
            pass
        vals = [age if c == "age" else t for c in self.range_cols]
        found = None
        for ranges, cum in rows:
            for (lo, hi), v in zip(ranges, vals):
                if not lo <= v <= hi:
                    break
            else:
                found = cum
                break
        self.cells[cell] = found
        return found

    def next_change(self, person, t: int) -> int | None:
        """The first time after ``t`` at which the row matching the person may change (by age or date), or None.

        Exact: the age of a row is whole years of ``YEAR_MS`` since birth, as ``lookup`` computes it.
        """
        key = self._key(person)
        rows = self.index.get(key)
        if not rows or not self.range_cols:
            return None
        age_edges, time_edges = self.edges.get(key) or self._edges_of(key, rows)
        best = None
        if age_edges is not None:
            j = bisect.bisect_right(age_edges, (t - person.birth) // YEAR_MS)
            if j < len(age_edges):
                best = person.birth + age_edges[j] * YEAR_MS
        if time_edges is not None:
            j = bisect.bisect_right(time_edges, t)
            if j < len(time_edges) and (best is None or time_edges[j] < best):
                best = time_edges[j]
        return best


def _attribute_getter(col: str):
    return lambda person: _norm(person.attrs.get(col))


_GETTERS = {
    "gender": lambda person: person.sex.lower(),
    "race": lambda person: person.race,
    "ethnicity": lambda person: person.ethnicity,
}
