"""Reading and validating a locale pack's files (private; see :mod:`hygeia.population.locale`).

:func:`read_pack` reads every block of a pack folder, checks it completely and
returns the blocks in a plain parsed form (numbers, tuples and dicts); it
raises one :class:`~hygeia.errors.LocaleError` listing every problem with its
file and field. Each block has one parser, dispatched through ``_PARSERS``; a
parser takes ``(ctx, document, citations)``, records problems on ``ctx`` and
returns the block's parsed form or ``None``. Building the sampling tables from
the parsed blocks is the job of :mod:`hygeia.population.locale`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hygeia.errors import LocaleError, Problem
from hygeia.population._measures import MEASURES

__all__ = [
    "EDUCATION_LEVELS",
    "ETHNICITIES",
    "MARITAL_STATUSES",
    "OPTIONAL_BLOCKS",
    "RACES",
    "REQUIRED_BLOCKS",
    "SEXES",
    "SHARE_TOLERANCE",
    "VITAL_NAMES",
    "read_pack",
]

#: Every block a pack must have, and the file that holds it.
REQUIRED_BLOCKS: dict[str, str] = {
    "pack": "pack.json",
    "age_sex": "age_sex.json",
    "race_ethnicity": "race_ethnicity.json",
    "states": "states.json",
    "income": "income.json",
    "education": "education.json",
    "marital_status": "marital_status.json",
    "language": "language.json",
    "smoking": "smoking.json",
    "life_table": "life_table.json",
    "growth": "growth.json",
    "vitals": "vitals.json",
    "immunizations": "immunizations.json",
    "names": "names.json",
}

#: Blocks a pack may have; read and checked like the others when their file is there.
#: ``targets``: the national figures ``hygeia calibrate`` compares a run with;
#: ``module_mortality``: the deaths the default module library causes by age and sex,
#: estimated by simulation (:mod:`hygeia.population._mortality`).
OPTIONAL_BLOCKS: dict[str, str] = {
    "targets": "targets.json",
    "module_mortality": "module_mortality.json",
}

#: Names accepted by :meth:`LocalePack.vital_reference`; every pack provides all.
VITAL_NAMES = (
    "Systolic Blood Pressure",
    "Diastolic Blood Pressure",
    "Heart Rate",
    "Respiration Rate",
    "Oxygen Saturation",
    "Total Cholesterol",
    "LDL",
    "HDL",
    "Triglycerides",
    "Glucose",
    "Creatinine",
)

SEXES = ("M", "F")
RACES = ("white", "black", "asian", "native", "hawaiian", "other")  # Synthea's vocabulary
ETHNICITIES = ("hispanic", "nonhispanic")
EDUCATION_LEVELS = ("less_than_hs", "hs_degree", "some_college", "bs_degree")
MARITAL_STATUSES = ("S", "M", "D", "W")
SHARE_TOLERANCE = 1e-3
_SOURCE_FIELDS = ("publication", "table", "year", "url")


def read_pack(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Read and validate every block of the pack folder ``path``.

    Args:
        path: the pack folder.

    Returns:
        ``(blocks, sources)``: block name -> parsed block, and block name -> its
        citation (every block but ``pack``).

    Raises:
        LocaleError: listing every problem found, each with its file and field.
    """
    problems: list[Problem] = []
    blocks: dict[str, Any] = {}
    sources: dict[str, str] = {}
    present = {b: f for b, f in OPTIONAL_BLOCKS.items() if (path / f).is_file()}
    for block, filename in {**REQUIRED_BLOCKS, **present}.items():
        ctx = _Ctx(path, filename, problems)
        doc = ctx.read_json(block)
        if doc is None:
            continue
        if block != "pack":
            cited = ctx.sources(doc)
            if cited:
                sources[block] = " | ".join(dict.fromkeys(cited.values()))
        else:
            cited = {}
        try:
            parsed = _PARSERS[block](ctx, doc, cited)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a shape no check foresaw
            ctx.fail("", f"block '{block}' is malformed ({type(exc).__name__}: {exc}); "
                     "compare it with the same file of the 'us' pack.")
            continue
        if parsed is not None and not ctx.failed:
            blocks[block] = parsed
    if problems:
        raise LocaleError(problems, header=f"invalid locale pack {path.name!r} ({path})")
    return blocks, sources


class _Ctx:
    """Reads one block's file and records problems against it."""

    def __init__(self, folder: Path, filename: str, problems: list[Problem]) -> None:
        self.folder = folder
        self.filename = filename
        self.label = f"{folder.name}/{filename}"
        self.problems = problems
        self.failed = False

    def fail(self, where: str, message: str) -> None:
        self.failed = True
        spot = f"{self.label}, field '{where}'" if where else self.label
        self.problems.append(Problem(spot, message))

    def read_json(self, block: str) -> Any:
        file = self.folder / self.filename
        if not file.is_file():
            self.fail("", f"required block '{block}' is missing: add the file {self.filename}.")
            return None
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.fail("", f"cannot read block '{block}': {exc}.")
            return None
        if not isinstance(doc, dict):
            self.fail("", f"block '{block}' must be a JSON object; got {type(doc).__name__}.")
            return None
        return doc

    def read_csv(self, name: str, columns: Iterable[str], where: str) -> list[dict[str, str]] | None:
        file = self.folder / name
        if not file.is_file():
            self.fail(where, f"data file {name} is missing.")
            return None
        try:
            with file.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            self.fail(where, f"cannot read {name}: {exc}.")
            return None
        missing = [c for c in columns if not rows or c not in rows[0]]
        if missing:
            self.fail(where, f"{name} needs the columns {missing}; found {list(rows[0]) if rows else []}.")
            return None
        return rows

    # -- typed getters: each records a problem and returns None when the value is wrong

    def sources(self, doc: Mapping[str, Any]) -> dict[str, str]:
        """Citations of this block: {"": one} for ``source``, {name: ...} for ``sources``."""
        if "source" in doc:
            cite = self._citation(doc["source"], "source")
            return {"": cite} if cite else {}
        if isinstance(doc.get("sources"), dict) and doc["sources"]:
            out = {}
            for key, src in doc["sources"].items():
                cite = self._citation(src, f"sources.{key}")
                if cite:
                    out[key] = cite
            return out
        self.fail("source", "no 'source' (or 'sources') given; every number block must cite its origin "
                  "as {publication, table, year, url}.")
        return {}

    def _citation(self, src: Any, where: str) -> str | None:
        if not isinstance(src, dict):
            self.fail(where, f"must be an object with {list(_SOURCE_FIELDS)}; got {src!r}.")
            return None
        bad = [k for k in _SOURCE_FIELDS if not src.get(k) or not isinstance(src[k], (str, int))]
        if bad:
            self.fail(where, f"missing or empty citation fields {bad}.")
            return None
        if isinstance(src["year"], bool) or not isinstance(src["year"], int) or not 1800 <= src["year"] <= 2200:
            self.fail(f"{where}.year", f"must be the publication or data year, e.g. 2022; got {src['year']!r}.")
            return None
        return f"{src['publication']}, {src['table']} ({src['year']}). {src['url']}"

    def ref(self, row: Mapping[str, Any], where: str, cited: Mapping[str, str]) -> None:
        """Checks a row's ``ref`` names one of the block's ``sources`` (if it has several)."""
        if "" in cited or not cited:
            return
        if row.get("ref") not in cited:
            self.fail(f"{where}.ref",
                      f"must name one of the block's sources {sorted(cited)}; got {row.get('ref')!r}.")

    def number(self, obj: Any, key: str, where: str, *, lo: float | None = None,
               hi: float | None = None, optional: bool = False) -> float | None:
        value = obj.get(key) if isinstance(obj, dict) else None
        if value is None:
            if not optional:
                self.fail(f"{where}.{key}" if where else key, "is required (a number).")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(f"{where}.{key}" if where else key, f"must be a number; got {value!r}.")
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.fail(f"{where}.{key}" if where else key, f"must be within [{lo}, {hi}]; got {value!r}.")
            return None
        return float(value)

    def get(self, obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        value = obj.get(key) if isinstance(obj, dict) else None
        if not isinstance(value, kind) or (hasattr(value, "__len__") and len(value) == 0):
            name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.fail(f"{where}.{key}" if where else key, f"must be a non-empty {name}; got {value!r}.")
            return None
        return value

    def shares(self, obj: Any, where: str, allowed: Iterable[str] | None = None) -> dict[str, float] | None:
        """A {category: share} mapping: non-negative numbers summing to 1."""
        if not isinstance(obj, dict) or not obj:
            self.fail(where, f"must be a non-empty object of category: share; got {obj!r}.")
            return None
        out: dict[str, float] = {}
        for key in obj:
            v = self.number(obj, key, where, lo=0.0)
            if v is not None:
                out[key] = v
        if allowed is not None:
            unknown = sorted(set(obj) - set(allowed))
            if unknown:
                self.fail(where, f"unknown categories {unknown}; expected some of {list(allowed)}.")
        if len(out) == len(obj):
            self.check_sum(list(out.values()), where)
        return out if len(out) == len(obj) else None

    def check_sum(self, values: list[float], where: str) -> None:
        total = sum(values)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            self.fail(where, f"shares sum to {total:.4f}, expected 1 (within {SHARE_TOLERANCE}).")

    def counts(self, obj: Any, where: str) -> dict[str, float] | None:
        """A {category: count} mapping: non-negative numbers, positive total."""
        if not isinstance(obj, dict) or not obj:
            self.fail(where, f"must be a non-empty object of category: count; got {obj!r}.")
            return None
        out = {k: v for k in obj if (v := self.number(obj, k, where, lo=0.0)) is not None}
        if len(out) == len(obj) and sum(out.values()) <= 0:
            self.fail(where, "counts must not all be zero.")
        return out if len(out) == len(obj) else None

    def bands(self, rows: Any, where: str, *,
              first: float | None = None) -> list[tuple[float, float | None]] | None:
        """Contiguous age bands ``age_lo``/``age_hi`` (last ``age_hi`` null = open)."""
        if not isinstance(rows, list) or not rows:
            self.fail(where, f"must be a non-empty list of age bands; got {rows!r}.")
            return None
        out = []
        for i, row in enumerate(rows):
            lo = self.number(row, "age_lo", f"{where}[{i}]", lo=0.0)
            hi = self.number(row, "age_hi", f"{where}[{i}]", lo=0.0, optional=True)
            out.append((lo, hi))
        if any(lo is None for lo, _ in out):
            return None
        for i, (lo, hi) in enumerate(out):
            nxt = out[i + 1][0] if i + 1 < len(out) else None
            if hi is not None and hi <= lo:
                self.fail(f"{where}[{i}]", f"age_hi ({hi}) must be above age_lo ({lo}).")
            elif nxt is not None and hi != nxt:
                self.fail(f"{where}[{i}]", "bands must be contiguous and ordered: "
                          f"age_hi {hi} but the next band starts at {nxt}.")
        if first is not None and out[0][0] != first:
            self.fail(f"{where}[0]", f"the first band must start at age {first}; got {out[0][0]}.")
        return out


# --------------------------------------------------------------------------- block parsers
# Each takes (ctx, document, citations) and returns the block's parsed form, or None.


def _parse_pack(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    name = ctx.get(doc, "name", str, "")
    date = ctx.get(doc, "reference_date", str, "")
    if date is not None:
        try:
            _dt.date.fromisoformat(date)
        except ValueError:
            ctx.fail("reference_date", f"must be an ISO date like 2022-07-01; got {date!r}.")
    display = doc.get("display_name", name)
    return {"name": name, "display_name": display, "reference_date": date}


def _parse_age_sex(ctx: _Ctx, doc: dict, cited: dict) -> list | None:
    rows = doc.get("bands")
    spans = ctx.bands(rows, "bands", first=0.0)
    if spans is None:
        return None
    if spans[-1][1] is not None:
        ctx.fail("bands", "the last band must be open (age_hi null); it is spread using the life table.")
    out = []
    for i, ((lo, hi), row) in enumerate(zip(spans, rows)):
        male = ctx.number(row, "male", f"bands[{i}]", lo=0.0)
        female = ctx.number(row, "female", f"bands[{i}]", lo=0.0)
        out.append((lo, hi, male, female))
    return out


def _parse_race_ethnicity(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    rows = ctx.get(doc, "rows", list, "")
    if rows is None:
        return None
    weights: dict[tuple[str, str], float] = {}
    for i, row in enumerate(rows):
        race = row.get("race") if isinstance(row, dict) else None
        if race not in RACES:
            ctx.fail(f"rows[{i}].race", f"must be one of {list(RACES)}; got {race!r}.")
            continue
        for eth in ETHNICITIES:
            v = ctx.number(row, eth, f"rows[{i}]", lo=0.0)
            if v is not None:
                weights[(race, eth)] = weights.get((race, eth), 0.0) + v
    if weights and sum(weights.values()) <= 0:
        ctx.fail("rows", "counts must not all be zero.")
    return weights


def _parse_states(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    return ctx.counts(doc.get("counts"), "counts")


def _parse_income(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    rows = ctx.get(doc, "brackets", list, "")
    if rows is None:
        return None
    brackets = []
    for i, row in enumerate(rows):
        where = f"brackets[{i}]"
        lo = ctx.number(row, "lo", where, lo=0.0)
        hi = ctx.number(row, "hi", where, lo=0.0, optional=True)
        share = ctx.number(row, "share", where, lo=0.0)
        ctx.ref(row, where, cited)
        if lo is not None and hi is not None and hi <= lo:
            ctx.fail(where, f"hi ({hi}) must be above lo ({lo}).")
        brackets.append((lo, hi, share))
    if any(s is None for *_, s in brackets):
        return None
    ctx.check_sum([s for *_, s in brackets], "brackets")
    tail = doc.get("open_bracket", {})
    alpha, cap = 2.0, 1e7
    if any(hi is None for _, hi, _ in brackets):
        alpha = ctx.number(tail, "alpha", "open_bracket", lo=0.1)
        cap = ctx.number(tail, "max", "open_bracket", lo=0.0)
        ctx.ref(tail, "open_bracket", cited)
    return {"brackets": brackets, "alpha": alpha, "cap": cap}


def _parse_education(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    ctx.number(doc, "min_age", "", lo=0.0)
    return ctx.shares(doc.get("shares"), "shares", EDUCATION_LEVELS)


def _parse_marital(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    min_age = ctx.number(doc, "min_age", "", lo=0.0)
    below = doc.get("below_min_age")
    if below not in MARITAL_STATUSES:
        ctx.fail("below_min_age", f"must be one of {list(MARITAL_STATUSES)}; got {below!r}.")
    rows = ctx.get(doc, "rows", list, "")
    if rows is None or min_age is None:
        return None
    by_sex: dict[str, list] = {}
    for sex in SEXES:
        idx = [i for i, r in enumerate(rows) if isinstance(r, dict) and r.get("sex") == sex]
        if not idx:
            ctx.fail("rows", f"no rows for sex {sex!r}.")
            continue
        spans = ctx.bands([rows[i] for i in idx], f"rows(sex={sex})", first=min_age)
        shares = [ctx.shares(rows[i].get("shares"), f"rows[{i}].shares", MARITAL_STATUSES) for i in idx]
        if spans is not None:
            by_sex[sex] = [(lo, sh) for (lo, _), sh in zip(spans, shares)]
    return {"min_age": min_age, "below": below, "by_sex": by_sex}


def _parse_language(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    table = ctx.get(doc, "by_ethnicity", dict, "")
    if table is None:
        return None
    missing = [e for e in ETHNICITIES if e not in table]
    if missing:
        ctx.fail("by_ethnicity", f"needs an entry for each ethnicity; missing {missing}.")
    out = {}
    for eth, entry in table.items():
        ctx.ref(entry if isinstance(entry, dict) else {}, f"by_ethnicity.{eth}", cited)
        shares = entry.get("shares") if isinstance(entry, dict) else None
        out[eth] = ctx.shares(shares, f"by_ethnicity.{eth}.shares")
    return out


def _overall_sex_age(ctx: _Ctx, doc: dict, key: str, prefix: str, hi: float, cited: dict):
    """An ``overall`` / ``by_sex`` / ``by_age`` block of one quantity ``key`` (each entry cited).

    Returns ``(overall, by_sex, by_age, spans)``: ``by_age`` as ``[(age_lo, value)]``,
    ``spans`` ``None`` when the bands are invalid; a value that fails is ``None``.
    """
    overall = ctx.number(doc.get("overall"), key, f"{prefix}overall", lo=1e-9, hi=hi)
    ctx.ref(doc.get("overall") or {}, f"{prefix}overall", cited)
    by_sex = {}
    for sex in SEXES:
        entry = (doc.get("by_sex") or {}).get(sex)
        by_sex[sex] = ctx.number(entry, key, f"{prefix}by_sex.{sex}", lo=0.0, hi=hi)
        ctx.ref(entry or {}, f"{prefix}by_sex.{sex}", cited)
    rows = doc.get("by_age")
    spans = ctx.bands(rows, f"{prefix}by_age")
    by_age = []
    if spans is not None:
        for i, ((lo, _), row) in enumerate(zip(spans, rows)):
            by_age.append((lo, ctx.number(row, key, f"{prefix}by_age[{i}]", lo=0.0, hi=hi)))
            ctx.ref(row, f"{prefix}by_age[{i}]", cited)
    return overall, by_sex, by_age, spans


def _parse_smoking(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    overall, by_sex, by_age, _spans = _overall_sex_age(ctx, doc, "prevalence", "", 1.0, cited)
    init_rows = doc.get("initiation_age")
    init_spans = ctx.bands(init_rows, "initiation_age")
    initiation = []
    if init_spans is not None:
        for i, ((lo, hi), row) in enumerate(zip(init_spans, init_rows)):
            if hi is None:
                ctx.fail(f"initiation_age[{i}]", "initiation bands must be closed (age_hi given).")
            initiation.append((lo, hi, ctx.number(row, "share", f"initiation_age[{i}]", lo=0.0)))
            ctx.ref(row, f"initiation_age[{i}]", cited)
        if all(s is not None for *_, s in initiation):
            ctx.check_sum([s for *_, s in initiation], "initiation_age")
    quit_ratio = _parse_quit_ratio(ctx, doc.get("quit_ratio"), cited)
    if quit_ratio is not None and overall and None not in by_sex.values() and \
            all(p is not None for _, p in by_age):
        _check_ever_share(ctx, overall, by_sex, by_age, quit_ratio)
    return {"overall": overall, "by_sex": by_sex, "by_age": by_age, "initiation": initiation,
            "quit_ratio": quit_ratio}


def _parse_quit_ratio(ctx: _Ctx, doc: Any, cited: dict) -> dict | None:
    """The optional ``quit_ratio`` block (former / ever smokers); ``None`` when absent."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        ctx.fail("quit_ratio", f"must be an object with overall, by_sex and by_age; got {doc!r}.")
        return None
    overall, by_sex, by_age, spans = _overall_sex_age(ctx, doc, "ratio", "quit_ratio.", 0.999, cited)
    if overall is None or None in by_sex.values() or spans is None or any(r is None for _, r in by_age):
        return None
    return {"overall": overall, "by_sex": by_sex, "by_age": by_age}


def _check_ever_share(ctx: _Ctx, overall: float, by_sex: dict, by_age: list, quit: dict) -> None:
    """Every age and sex must have current / (1 - quit ratio) <= 1: the share that ever smoked."""
    edges = sorted({lo for lo, _ in by_age} | {lo for lo, _ in quit["by_age"]})
    for sex in SEXES:
        for age in edges:
            cur = [p for lo, p in by_age if lo <= age]
            q = [r for lo, r in quit["by_age"] if lo <= age]
            current = (cur[-1] if cur else 0.0) * by_sex[sex] / overall
            ratio = min((q[-1] if q else 0.0) * quit["by_sex"][sex] / quit["overall"], 0.999)
            if current / (1.0 - ratio) > 1.0:
                ctx.fail("quit_ratio", f"at age {age:g} ({sex}) current prevalence {current:.3f} and quit "
                         f"ratio {ratio:.3f} imply that {current / (1.0 - ratio):.0%} ever smoked; lower "
                         "the quit ratio or the prevalence so that current / (1 - quit ratio) <= 1.")


def _parse_life_table(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    columns = ctx.get(doc, "columns", dict, "")
    name = doc.get("file", "life_table.csv")
    if columns is None:
        return None
    missing = [k for k in ("age", *SEXES) if not isinstance(columns.get(k), str)]
    if missing:
        ctx.fail("columns", f"must name the CSV column for {missing}.")
        return None
    rows = ctx.read_csv(name, [columns[k] for k in ("age", *SEXES)], "file")
    if rows is None:
        return None
    qx: dict[str, list[float]] = {sex: [] for sex in SEXES}
    for i, row in enumerate(rows):
        try:
            age = int(row[columns["age"]])
        except (TypeError, ValueError):
            ctx.fail(f"{name} row {i + 2}", f"age must be an integer; got {row[columns['age']]!r}.")
            return None
        if age != i:
            ctx.fail(f"{name} row {i + 2}",
                     f"ages must run 0, 1, 2, ... without gaps; expected {i}, got {age}.")
            return None
        for sex in SEXES:
            try:
                q = float(row[columns[sex]])
            except (TypeError, ValueError):
                q = float("nan")
            if not 0.0 <= q <= 1.0:
                ctx.fail(f"{name} row {i + 2}",
                         f"q(x) for {sex} must be a probability in [0, 1]; got {row[columns[sex]]!r}.")
            qx[sex].append(q)
    if len(rows) < 101:
        ctx.fail("file", f"{name} must give single ages 0..100 at least; it has {len(rows)} rows.")
    return {sex: tuple(v) for sex, v in qx.items()}


def _parse_growth(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    """(measure, sex) -> its LMS tables, each a list of (age_months, L, M, S) rows by age."""
    tables = ctx.get(doc, "tables", dict, "")
    if tables is None:
        return None
    for tname, meta in tables.items():
        ctx.ref(meta if isinstance(meta, dict) else {}, f"tables.{tname}", cited)
    name = doc.get("file", "growth.csv")
    rows = ctx.read_csv(name, ["measure", "sex", "table", "age_months", "L", "M", "S"], "file")
    if rows is None:
        return None
    data: dict[tuple[str, str, str], list] = {}
    for i, row in enumerate(rows):
        where = f"{name} row {i + 2}"
        if row["table"] not in tables:
            ctx.fail(where, f"table {row['table']!r} is not described under 'tables' {sorted(tables)}.")
            continue
        if row["sex"] not in SEXES:
            ctx.fail(where, f"sex must be 'M' or 'F'; got {row['sex']!r}.")
            continue
        try:
            age, L, M, S = (float(row[k]) for k in ("age_months", "L", "M", "S"))
        except (TypeError, ValueError):
            ctx.fail(where, "age_months, L, M and S must be numbers.")
            continue
        if age < 0 or M <= 0 or S <= 0 or not all(map(math.isfinite, (age, L, M, S))):
            ctx.fail(where, f"needs age_months >= 0, M > 0 and S > 0; got {age}, {M}, {S}.")
            continue
        data.setdefault((row["measure"], row["sex"], row["table"]), []).append((age, L, M, S))
    curves: dict[tuple[str, str], list[list[tuple[float, float, float, float]]]] = {}
    for (measure, sex, tname), pts in data.items():
        if len({p[0] for p in pts}) != len(pts):
            ctx.fail("file", f"{name}: table {tname!r} ({measure}, {sex}) repeats an age.")
            continue
        curves.setdefault((measure, sex), []).append(sorted(pts))
    for measure in ("height", "weight"):
        for sex in SEXES:
            if (measure, sex) not in curves:
                ctx.fail("file", f"{name} has no {measure} rows for sex {sex!r}.")
    for key, tabs in curves.items():
        tabs.sort(key=lambda rows: rows[0][0])  # each table: rows sorted by age
        for a, b in zip(tabs, tabs[1:]):
            if b[-1][0] <= a[-1][0]:
                ctx.fail("file", f"{name}: a {key[0]} table for {key[1]} lies inside another; "
                         "each table must reach older ages than the one before.")
    return curves


def _parse_vitals(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    measures = ctx.get(doc, "measures", dict, "")
    if measures is None:
        return None
    missing = [n for n in VITAL_NAMES if n not in measures]
    if missing:
        ctx.fail("measures", f"missing required measures {missing}.")
    out: dict[tuple[str, str], list] = {}
    for mname, entry in measures.items():
        rows = entry.get("rows") if isinstance(entry, dict) else None
        if not isinstance(rows, list) or not rows:
            ctx.fail(f"measures.{mname}.rows", "must be a non-empty list.")
            continue
        parsed = []
        for i, row in enumerate(rows):
            where = f"measures.{mname}.rows[{i}]"
            sex = row.get("sex") if isinstance(row, dict) else None
            if sex not in ("*", *SEXES):
                ctx.fail(f"{where}.sex", f"must be 'M', 'F' or '*'; got {sex!r}.")
                continue
            lo = ctx.number(row, "age_lo", where, lo=0.0)
            mean = ctx.number(row, "mean", where)
            sd = ctx.number(row, "sd", where, lo=1e-12)
            ctx.ref(row, where, cited)
            if None not in (lo, mean, sd):
                parsed.append((sex, lo, mean, sd))
        for sex in SEXES:
            own = sorted((lo, (m, s)) for x, lo, m, s in parsed if x == sex)
            shared = sorted((lo, (m, s)) for x, lo, m, s in parsed if x == "*")
            first_own = own[0][0] if own else math.inf
            merged = sorted(own + [r for r in shared if r[0] < first_own])
            if not merged:
                ctx.fail(f"measures.{mname}", f"no rows apply to sex {sex!r}.")
            else:
                out[(mname, sex)] = merged
    return out


def _parse_immunizations(ctx: _Ctx, doc: dict, cited: dict) -> tuple | None:
    """The vaccines as (code, display, ages_months, series, every_months, from_months)."""
    rows = ctx.get(doc, "vaccines", list, "")
    if rows is None:
        return None
    vaccines = []
    for i, row in enumerate(rows):
        where = f"vaccines[{i}]"
        row = row if isinstance(row, dict) else {}
        code, display, series = (row.get(k) for k in ("code", "display", "series"))
        for key, val in (("code", code), ("display", display), ("series", series)):
            if not isinstance(val, str) or not val:
                ctx.fail(f"{where}.{key}", f"must be a non-empty string; got {val!r}.")
        ctx.ref(row, where, cited)
        ages = row.get("ages_months", [])
        if not isinstance(ages, list) or any(
            isinstance(a, bool) or not isinstance(a, (int, float)) or a < 0 for a in ages
        ):
            ctx.fail(f"{where}.ages_months", f"must be a list of ages >= 0 in months; got {ages!r}.")
            continue
        every = ctx.number(row, "every_months", where, lo=1e-9, optional=True)
        start = ctx.number(row, "from_months", where, lo=0.0, optional=True)
        if not ages and every is None:
            ctx.fail(where, "needs ages_months, or every_months for a recurring vaccine.")
        if every is not None and start is None:
            ctx.fail(where, "a recurring vaccine needs from_months as well as every_months.")
        vaccines.append((str(code), str(display), tuple(float(a) for a in sorted(ages)),
                         str(series), every, start))
    return tuple(vaccines)


def _parse_names(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    given = ctx.get(doc, "given", dict, "")
    family = ctx.get(doc, "family", dict, "")
    out: dict[str, tuple[str, ...]] = {}
    for sex in SEXES:
        names = ctx.get(given or {}, sex, list, "given")
        if names is not None:
            if not all(isinstance(n, str) and n for n in names):
                ctx.fail(f"given.{sex}", "must list non-empty strings.")
            out[sex] = tuple(names)
    fam = ctx.get(family or {}, "names", list, "family")
    if fam is not None and not all(isinstance(n, str) and n for n in fam):
        ctx.fail("family.names", "must list non-empty strings.")
    for part in ("given", "family"):
        ctx.ref(doc.get(part) if isinstance(doc.get(part), dict) else {}, part, cited)
    return {"given": out, "family": tuple(fam or ())}


def _parse_targets(ctx: _Ctx, doc: dict, cited: dict) -> list | None:
    """The calibration targets, each a dict with its citation resolved (see ``targets.json``)."""
    rows = ctx.get(doc, "targets", list, "")
    if rows is None:
        return None
    out = []
    for i, row in enumerate(rows):
        where = f"targets[{i}]"
        if not isinstance(row, dict):
            ctx.fail(where, f"must be an object; got {row!r}.")
            continue
        measure = row.get("measure")
        spec = MEASURES.get(measure) if isinstance(measure, str) else None
        if spec is None:
            ctx.fail(f"{where}.measure", f"unknown measure {measure!r}; known measures are {sorted(MEASURES)}.")
        lo = ctx.number(row, "age_lo", where, lo=0.0)
        hi = ctx.number(row, "age_hi", where, lo=0.0, optional=True)
        if lo is not None and hi is not None and hi <= lo:
            ctx.fail(where, f"age_hi ({hi}) must be above age_lo ({lo}).")
        sex = row.get("sex")
        if sex not in ("*", *SEXES):
            ctx.fail(f"{where}.sex", f"must be 'M', 'F' or '*' (both); got {sex!r}.")
        top = 1.0 if spec is not None and spec["unit"] == "proportion" else None
        value = ctx.number(row, "value", where, lo=0.0, hi=top)
        definition = row.get("definition")
        if not isinstance(definition, str) or not definition.strip():
            ctx.fail(f"{where}.definition", "must say how the source defines the measure (a non-empty string).")
        year = row.get("year")
        if isinstance(year, bool) or not isinstance(year, int) or not 1800 <= year <= 2200:
            ctx.fail(f"{where}.year", f"must be the data year, e.g. 2021; got {year!r}.")
        tolerance = ctx.number(row, "tolerance", where, lo=1e-6, hi=1.0, optional=True)
        ctx.ref(row, where, cited)
        source = cited.get(row.get("ref"), cited.get("")) if cited else None
        out.append({
            "measure": measure, "age_lo": lo, "age_hi": hi, "sex": sex, "value": value,
            "definition": definition, "year": year, "tolerance": tolerance, "source": source,
            "ref": row.get("ref"), "note": row.get("note"),
        })
    return out


def _parse_module_mortality(ctx: _Ctx, doc: dict, cited: dict) -> dict | None:
    """Deaths per module and person-years by single year of age and sex (see :mod:`hygeia.population._mortality`)."""
    ages = ctx.get(doc, "ages", int, "")
    exposure = ctx.get(doc, "person_years", dict, "")
    modules = ctx.get(doc, "modules", dict, "")
    if ages is None or exposure is None or modules is None:
        return None

    def series(obj: Any, where: str) -> dict[str, tuple[float, ...]] | None:
        out = {}
        for sex in SEXES:
            values = obj.get(sex) if isinstance(obj, dict) else None
            if (not isinstance(values, list) or len(values) != ages
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in values)):
                ctx.fail(f"{where}.{sex}", f"must list {ages} non-negative numbers, one per year of age.")
                return None
            out[sex] = tuple(float(v) for v in values)
        return out

    py = series(exposure, "person_years")
    parsed = {}
    for key, entry in modules.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(digest, str) or not digest:
            ctx.fail(f"modules.{key}.sha256", "must be the SHA-256 of the module file the deaths were counted with.")
            continue
        deaths = series(entry.get("deaths"), f"modules.{key}.deaths")
        if deaths is not None:
            parsed[key] = {"sha256": digest, "deaths": deaths}
    return {"ages": ages, "person_years": py, "modules": parsed,
            "meta": {k: doc.get(k) for k in ("persons", "seed", "end", "hygeia_version")}}


_PARSERS: dict[str, Callable[[_Ctx, dict, dict], Any]] = {
    "pack": _parse_pack,
    "age_sex": _parse_age_sex,
    "race_ethnicity": _parse_race_ethnicity,
    "states": _parse_states,
    "income": _parse_income,
    "education": _parse_education,
    "marital_status": _parse_marital,
    "language": _parse_language,
    "smoking": _parse_smoking,
    "life_table": _parse_life_table,
    "growth": _parse_growth,
    "vitals": _parse_vitals,
    "immunizations": _parse_immunizations,
    "names": _parse_names,
    "targets": _parse_targets,
    "module_mortality": _parse_module_mortality,
}
