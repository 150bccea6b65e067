"""Lookup tables read by ``lookup_table_transition`` (CSV files in ``lookup_tables/``)."""

from __future__ import annotations

import bisect
import csv
import os

__all__ = ["LookupTable"]

_RANGE_KEYS = ("age", "time")


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
    """A probability table keyed by person attributes; ``lookup`` returns cumulative probabilities."""

    __slots__ = ("path", "key_cols", "range_cols", "index", "getters", "by_age", "edges")

    def __init__(self, path: str, outcomes: list[str], where: str, problems: list[str]) -> None:
        self.path = path
        self.index: dict[tuple, list] = {}
        self.edges: dict[tuple, list] = {}  # age edges of the rows of each key, filled on demand
        self.key_cols: list[str] = []
        self.range_cols: list[str] = []
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
        self.by_age = self.range_cols == ["age"]

    def next_age_edge(self, person, years: int) -> float | None:
        """The next age (whole years) above ``years`` at which this person's matching row may change."""
        key = tuple(g(person) for g in self.getters)
        edges = self.edges.get(key)
        if edges is None:
            rows = self.index.get(key) or ()
            i = self.range_cols.index("age")
            edges = self.edges[key] = sorted({e for ranges, _ in rows for e in (ranges[i][0], ranges[i][1] + 1)})
        j = bisect.bisect_right(edges, years)
        return edges[j] if j < len(edges) else None

    def lookup(self, person, t: int):
        """Cumulative probabilities of the row matching the person at ``t``, or None."""
        getters = self.getters
        if len(getters) == 1:
            rows = self.index.get((getters[0](person),))
        else:
            rows = self.index.get(tuple(g(person) for g in getters))
        if not rows:
            return None
        if not self.range_cols:
            return rows[0][1]
        if self.by_age:
            age = (t - person.birth) // 31_556_952_000
            for ranges, cum in rows:
                lo, hi = ranges[0]
                if lo <= age <= hi:
                    return cum
            return None
        vals = [(t - person.birth) // 31_556_952_000 if c == "age" else t for c in self.range_cols]
        for ranges, cum in rows:
            for (lo, hi), v in zip(ranges, vals):
                if not lo <= v <= hi:
                    break
            else:
                return cum
        return None


def _attribute_getter(col: str):
    return lambda person: _norm(person.attrs.get(col))


_GETTERS = {
    "gender": lambda person: person.sex.lower(),
    "race": lambda person: person.race,
    "ethnicity": lambda person: person.ethnicity,
}
