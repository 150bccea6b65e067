"""Compare a run with its locale's national figures: ``hygeia calibrate RUN``.

Every target of the run's locale pack (``targets.json``: prevalences, rates), the
pack's pyramid of the living on ``--end`` and its life table's deaths in the final
year are measured on the run and set beside the published value, by age band and
sex, with a 95% interval (Wilson for shares, exact Poisson for counts and rates) and
the relative error. A target

* **passes** when the simulated value is within its tolerance of the target (relative:
  +-10% for the pyramid, +-20% for prevalences, rates and deaths, unless its row says
  otherwise);
* is **within noise** when it is not, but the tolerance band still meets the 95%
  interval: the run is too small to tell;
* **fails** when the whole interval lies outside the tolerance band;
* has **no data** when the run has nobody in that age band and sex.

``--check`` fails on a failed target only. :func:`calibrate` writes
``calibration.json`` and ``calibration.html`` (plots: the pyramid, deaths by age,
each prevalence by age band against its targets) beside the run or into ``out``.

Example:
    >>> import tempfile, os
    >>> from hygeia.population import generate
    >>> run = os.path.join(tempfile.mkdtemp(), "run")
    >>> _ = generate(n=60, seed=1, out=run)
    >>> report = calibrate(run)
    >>> sorted(report["summary"])
    ['fail', 'no data', 'pass', 'targets', 'within noise']
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hygeia import __version__
from hygeia.core.config import DEFAULT_END
from hygeia.core.storage import connect, read_run_info
from hygeia.population._calibrate_measure import YEAR_SECONDS, person_table
from hygeia.population._demography import _hazards
from hygeia.population._measures import BUILTIN_MEASURES, DEFAULT_TOLERANCE, MEASURES

__all__ = [
    "SPEC_VERSION", "STATUSES", "calibrate", "fit_onsets", "measure_run", "poisson_interval", "rate_interval", "read_curve",
    "wilson",
]

SPEC_VERSION = 1
STATUSES = ("pass", "within noise", "fail", "no data")
#: Bands of the pyramid targets (years); the last is open.
PYRAMID_BANDS = (0, 10, 20, 30, 40, 50, 60, 70, 80)
#: Bands of the death targets: wide enough to hold deaths in a run of some thousands.
DEATH_BANDS = (0, 45, 65, 75, 85)
_Z = 1.959963984540054


def wilson(k: float, n: float, z: float = _Z) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion k/n.

    Example:
        >>> lo, hi = wilson(10, 100)
        >>> round(lo, 3), round(hi, 3)
        (0.055, 0.174)
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def poisson_interval(k: float) -> tuple[float, float]:
    """Exact (Garwood) 95% interval of a Poisson count k.

    Example:
        >>> [round(v, 2) for v in poisson_interval(10)]
        [4.8, 18.39]
    """
    from scipy.stats import chi2

    k = float(k)
    lo = 0.0 if k <= 0 else float(chi2.ppf(0.025, 2 * k) / 2)
    return (lo, float(chi2.ppf(0.975, 2 * k + 2) / 2))


def rate_interval(counts: np.ndarray, years: np.ndarray, z: float = _Z) -> tuple[float, float]:
    """95% interval of a rate (events per person-year) that holds when persons differ.

    The exact Poisson interval of the total count assumes every person has the same rate.
    Visits are not like that: a few persons in treatment have dozens a year, so the rate of
    a band moves between runs far more than a Poisson interval says. This is the union of
    that Poisson interval and the ratio estimator's interval (the sandwich variance
    ``n/(n-1) * sum((k_i - r * y_i)^2) / (sum y_i)^2`` of ``r = sum k_i / sum y_i``, for
    person i's count ``k_i`` over ``y_i`` years): Poisson's where counts are few, the
    person-level spread where a few heavy users dominate.

    Example:
        >>> lo, hi = rate_interval(np.array([0., 1, 0, 2, 40]), np.ones(5))
        >>> round(lo, 2), round(hi, 2)
        (0.0, 24.0)
        >>> [round(v, 2) for v in rate_interval(np.array([1., 1, 1, 1, 1]), np.ones(5))]  # Poisson's alone
        [0.32, 2.33]
    """
    n, k = float(years.sum()), float(counts.sum())
    if n <= 0:
        return (math.nan, math.nan)
    lo, hi = (v / n for v in poisson_interval(k))
    persons = len(counts)
    if persons > 1:
        r = k / n
        se = math.sqrt(persons / (persons - 1) * float(((counts - r * years) ** 2).sum())) / n
        lo, hi = min(lo, max(0.0, r - z * se)), max(hi, r + z * se)
    return (lo, hi)


def _status(value: float, lo: float, hi: float, target: float, tol: float, n: float) -> str:
    if n <= 0 or not math.isfinite(value):
        return "no data"
    if target == 0:
        return "pass" if value == 0 else ("within noise" if lo <= 0 else "fail")
    if abs(value / target - 1) <= tol + 1e-12:
        return "pass"
    band_lo, band_hi = target * (1 - tol), target * (1 + tol)
    return "within noise" if lo <= band_hi and hi >= band_lo else "fail"


def _band_label(lo: float, hi: float | None) -> str:
    if hi is None:
        return f"{lo:g}+"
    if hi - lo == 1:
        return f"{lo:g}"
    return f"{lo:g}-{hi - 1:g}" if float(hi).is_integer() else f"{lo:g}-{hi:g}"


def _row(measure: str, lo: float, hi: float | None, sex: str, target: float, value: float, ci: tuple[float, float],
         numerator: float, denominator: float, tol: float, **extra: Any) -> dict[str, Any]:
    spec = MEASURES.get(measure) or BUILTIN_MEASURES[measure]
    rel = value / target - 1 if target and math.isfinite(value) else None
    return {
        "measure": measure, "label": spec["label"], "group": spec["group"], "unit": spec["unit"],
        "age_lo": lo, "age_hi": hi, "age_band": _band_label(lo, hi), "sex": sex,
        "target": target, "simulated": None if not math.isfinite(value) else value,
        "ci_low": None if not math.isfinite(ci[0]) else ci[0], "ci_high": None if not math.isfinite(ci[1]) else ci[1],
        "relative_error": rel, "tolerance": tol, "numerator": numerator, "denominator": denominator,
        "status": _status(value, ci[0], ci[1], target, tol, denominator), **extra,
    }


def _in_band(df: pd.DataFrame, lo: float, hi: float | None, sex: str) -> np.ndarray:
    mask = (df["age"].to_numpy() >= lo) & ((df["age"].to_numpy() < hi) if hi is not None else True)
    if sex != "*":
        mask &= df["sex"].to_numpy() == sex
    return mask


def _target_rows(people: pd.DataFrame, targets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for t in targets:
        m = t["measure"]
        spec = MEASURES[m]
        mask = _in_band(people, t["age_lo"], t["age_hi"], t["sex"])
        if f"{m}:den" in people:
            mask &= people[f"{m}:den"].to_numpy() > 0
        n = float(mask.sum())
        k = float(people.loc[mask, m].sum()) if n else 0.0
        if spec["unit"] == "rate":
            counts = people.loc[mask, m].to_numpy(dtype=float)
            years = (people.loc[mask, f"{m}:years"].to_numpy(dtype=float) if f"{m}:years" in people
                     else np.ones_like(counts))  # person-years: infants lived part of the year
            n = float(years.sum())
            value = k / n if n else math.nan
            ci = rate_interval(counts, years)
        else:
            value = k / n if n else math.nan
            ci = wilson(k, n)
        tol = t.get("tolerance") or DEFAULT_TOLERANCE[spec["group"]]
        rows.append(_row(m, t["age_lo"], t["age_hi"], t["sex"], t["value"], value, ci, k, n, tol,
                         definition=t["definition"], source=t.get("source"), year=t.get("year"),
                         measured_as=spec["describe"]))
    return rows


def _pyramid_rows(people: pd.DataFrame, pack) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Share of the living by 10-year band and sex, against the pack's pyramid."""
    bands = pack.age_bands
    total = sum(m + f for _, _, m, f in bands)
    n = float(len(people))
    rows = []
    edges = list(PYRAMID_BANDS) + [None]
    for lo, hi in itertools.pairwise(edges):
        for sex in ("*", "M", "F"):
            cols = (2, 3) if sex == "*" else ((2,) if sex == "M" else (3,))
            target = sum(b[c] for b in bands for c in cols
                         if b[0] >= lo and (hi is None or (b[1] is not None and b[1] <= hi))) / total
            k = float(_in_band(people, lo, hi, sex).sum())
            rows.append(_row("population_share", lo, hi, sex, target, k / n if n else math.nan, wilson(k, n),
                             k, n, DEFAULT_TOLERANCE["population"],
                             definition="share of the resident population in the band (the pack's age_sex block)",
                             source=pack.sources.get("age_sex"), year=None,
                             measured_as=BUILTIN_MEASURES["population_share"]["describe"]))
    fine = []  # 5-year bands for the plot
    for b in bands:
        for sex, col in (("M", 2), ("F", 3)):
            k = float(_in_band(people, b[0], b[1], sex).sum())
            fine.append({"age_lo": b[0], "age_hi": b[1], "sex": sex, "target": b[col] / total,
                         "simulated": k / n if n else None})
    return rows, {"bands": fine, "alive": int(n)}


def _exposure(persons: pd.DataFrame, t0: float, t1: float, pack) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Life-table expected and observed deaths in [t0, t1) (epoch seconds), by single year of age and sex."""
    birth = persons["birth"].to_numpy()
    death = persons["death"].to_numpy()
    sex = persons["sex"].to_numpy()
    a = np.maximum(birth, t0)
    b = np.minimum(np.where(np.isnan(death), t1, death), t1)
    live = b > a
    age_a = (a - birth) / YEAR_SECONDS
    age_b = (b - birth) / YEAR_SECONDS
    k = np.floor(age_a)
    parts = []
    for s in ("M", "F"):
        mu = np.asarray(_hazards(pack.life_table_qx(s)))
        idx = (sex == s) & live
        lo_age, hi_age, k0 = age_a[idx], age_b[idx], k[idx]
        for j in range(math.ceil((t1 - t0) / YEAR_SECONDS) + 1):  # one piece per year of age crossed
            start = np.maximum(lo_age, k0 + j)
            years = np.clip(np.minimum(hi_age, k0 + j + 1) - start, 0.0, None)
            kk = np.minimum(k0 + j, len(mu) - 1).astype(int)
            parts.append(pd.DataFrame({"sex": s, "age": kk + 0.5, "expected": years * mu[kk]}))
    exp_df = pd.concat(parts, ignore_index=True)
    died = ~np.isnan(death) & (death >= t0) & (death < t1)
    age_at_death = np.where(died, (death - birth) / YEAR_SECONDS, np.nan)
    obs_df = pd.DataFrame({"sex": sex[died], "age": age_at_death[died]})
    return exp_df, obs_df


def _death_rows(con, end: dt.date, pack, window_years: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    persons = con.execute(
        "SELECT sex, epoch(birth_time) AS birth, epoch(death_time) AS death FROM persons"
    ).df()
    persons["death"] = persons["death"].astype("float64")
    persons["birth"] = persons["birth"].astype("float64")
    t1 = dt.datetime.combine(end, dt.time(), tzinfo=dt.timezone.utc).timestamp()
    rows, plot = [], {}
    for label, years in (("final_year", 1.0), ("window", window_years)):
        t0 = t1 - years * YEAR_SECONDS
        exp_df, obs_df = _exposure(persons, t0, t1, pack)
        edges = list(range(0, 100, 10)) + [None]
        plot[label] = {"years": years, "bands": [
            {"age_lo": lo, "age_hi": hi, "observed": float(_in_band(obs_df, lo, hi, "*").sum()),
             "expected": float(exp_df.loc[_in_band(exp_df, lo, hi, "*"), "expected"].sum())}
            for lo, hi in itertools.pairwise(edges)]}
        if label != "final_year":
            continue
        edges = list(DEATH_BANDS) + [None]
        cells = [(lo, hi, "*") for lo, hi in itertools.pairwise(edges)] + [(0, None, s) for s in ("*", "M", "F")]
        for lo, hi, sex in cells:
            e = float(exp_df.loc[_in_band(exp_df, lo, hi, sex), "expected"].sum())
            o = float(_in_band(obs_df, lo, hi, sex).sum())
            rows.append(_row("deaths", lo, hi, sex, e, o, poisson_interval(o), o, e,
                             DEFAULT_TOLERANCE["mortality"], definition="deaths expected from the life table's "
                             "hazards for the person-time lived in the final year",
                             source=pack.sources.get("life_table"), year=None,
                             measured_as=BUILTIN_MEASURES["deaths"]["describe"]))
    return rows, plot


def measure_run(run: str | os.PathLike[str], *, locale: str | None = None) -> dict[str, Any]:
    """Measure every target on a run folder (nothing is written).

    Args:
        run: a run folder written by :func:`hygeia.population.generate`.
        locale: the locale pack whose targets to use (default: the run's own).

    Returns:
        The calibration report as a JSON-ready dict (see :func:`calibrate`).

    Raises:
        DataValidationError: if ``run`` is not a run folder.
        LocaleError: if the locale pack is unknown or invalid.
    """
    from hygeia.population.locale import load_locale

    info = read_run_info(run)
    cfg = info.get("config", {})
    end = dt.date.fromisoformat(cfg.get("end") or DEFAULT_END.isoformat())
    pack = load_locale(locale or cfg.get("locale") or "us")
    window = float((info.get("demography") or {}).get("window_years") or 10.0)
    con = connect(run, verify=True)
    try:
        people = person_table(con, end, sorted({t["measure"] for t in pack.targets}))
        n_persons = con.execute("SELECT count(*) FROM persons").fetchone()[0]
        pyramid_rows, pyramid = _pyramid_rows(people, pack)
        death_rows, deaths = _death_rows(con, end, pack, window)
        causes = con.execute(
            "SELECT module, count(*) FROM events WHERE kind = 'death' AND time > $t0 AND time <= $end "
            "GROUP BY module ORDER BY 2 DESC, 1",
            {"t0": dt.datetime.combine(end, dt.time()) - dt.timedelta(days=365.2425),
             "end": dt.datetime.combine(end, dt.time())},
        ).fetchall()
    finally:
        con.close()
    rows = pyramid_rows + death_rows + _target_rows(people, pack.targets)
    summary = {"targets": len(rows), **{s: sum(r["status"] == s for r in rows) for s in STATUSES}}
    return {
        "spec_version": SPEC_VERSION,
        "hygeia_version": __version__,
        "run": str(Path(run).resolve()),
        "locale": pack.name,
        "end": end.isoformat(),
        "seed": cfg.get("seed"),
        "persons": n_persons,
        "alive_at_end": len(people),
        "window_years": window,
        "summary": summary,
        "rules": {
            "tolerance": DEFAULT_TOLERANCE,
            "pass": "the simulated value is within the tolerance (relative) of the target",
            "within noise": "outside the tolerance, but the 95% interval meets the tolerance band",
            "fail": "the whole 95% interval lies outside the tolerance band",
            "intervals": "Wilson score for shares; exact Poisson (Garwood) for counts; for rates, the union of "
                         "exact Poisson and the ratio estimator's sandwich interval over persons (visits vary "
                         "from person to person far more than Poisson's)",
        },
        "rows": rows,
        "plots": {"pyramid": pyramid, "deaths": deaths},
        "deaths_final_year_by_module": {str(k): int(v) for k, v in causes},
    }


def calibrate(run: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None,
              locale: str | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Measure a run against its targets and write ``calibration.json`` and ``calibration.html``.

    Args:
        run: a run folder.
        out: the folder to write into (default: the run folder); created if missing.
        locale: the locale pack whose targets to use (default: the run's own).
        overwrite: replace a ``calibration.json``/``calibration.html`` already there.

    Returns:
        The report (also in ``calibration.json``): ``summary`` counts by status,
        ``rows`` (one per target: measure, age band, sex, target, simulated, 95%
        interval, relative error, tolerance, status, source) and the plot data.

    Raises:
        DataValidationError: if ``run`` is not a run folder.
        OutputError: if ``out`` cannot be written, or already holds a calibration
            report (without ``overwrite``).
    """
    from hygeia.core.atomic import atomic_output, write_text
    from hygeia.errors import OutputError
    from hygeia.population._calibrate_html import render_html

    dest = Path(out) if out is not None else Path(run)
    existing = [p for p in (dest / "calibration.json", dest / "calibration.html") if p.exists()]
    if existing and not overwrite:
        raise OutputError(f"{str(existing[0])!r} already exists. Choose another --out, or pass --overwrite "
                          "(overwrite=True) to replace it.")
    report = measure_run(run, locale=locale)
    text = json.dumps(report, indent=1, allow_nan=False, default=_json_default)
    page = render_html(report)
    if dest.is_dir():
        write_text(dest / "calibration.json", text, what="calibration report")
        write_text(dest / "calibration.html", page, what="calibration page")
    else:
        with atomic_output(dest, folder=True, what="calibration folder") as tmp:
            (tmp / "calibration.json").write_text(text, encoding="utf-8")
            (tmp / "calibration.html").write_text(page, encoding="utf-8")
    return report


def _json_default(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    raise TypeError(f"not JSON serializable: {type(v).__name__}")


# --------------------------------------------------------------------------- the module authors' tool


def read_curve(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """A target prevalence curve from a CSV file with columns ``age_lo, age_hi, sex, value``.

    ``age_hi`` may be empty (an open band); ``sex`` is ``M``, ``F`` or ``*``.

    Raises:
        DataValidationError: listing every bad row.
    """
    import csv

    from hygeia.errors import DataValidationError

    problems, rows = [], []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, rec in enumerate(csv.DictReader(fh), start=2):
            try:
                lo = float(rec["age_lo"])
                hi = float(rec["age_hi"]) if (rec.get("age_hi") or "").strip() else None
                value = float(rec["value"])
                sex = (rec.get("sex") or "*").strip()
            except (KeyError, TypeError, ValueError) as e:
                problems.append(f"{path} line {i}: needs numbers age_lo, value (and age_hi or empty): {e}")
                continue
            if sex not in ("*", "M", "F") or value < 0 or (hi is not None and hi <= lo):
                problems.append(f"{path} line {i}: sex must be M, F or *, value >= 0 and age_hi > age_lo")
                continue
            rows.append({"age_lo": lo, "age_hi": hi, "sex": sex, "value": value})
    if problems or not rows:
        raise DataValidationError(problems or [f"{path}: no rows"], header="invalid target curve")
    return rows


def fit_onsets(module: str | os.PathLike[str], measure: str, *, targets: Sequence[Mapping[str, Any]] | None = None,
               n: int = 2000, seed: int = 1, iterations: int = 3, damping: float = 0.8, locale: str = "us",
               end: dt.date | str | None = None, workers: int = 1) -> dict[str, Any]:
    """Fit a module's onset probabilities to a target prevalence curve by age (or, with ``iterations=0``, assess them).

    The module runs with the rest of Hygeia's embedded library; see
    :mod:`hygeia.population._onset_fit` for which probabilities are fitted and how.

    Args:
        module: a module of the embedded library by key (``"copd"``), or the path of a
            module JSON (it joins the library under its file name, replacing any module of that key).
        measure: the measure (a :data:`~hygeia.population._measures.MEASURES` id) whose
            prevalence the targets give; its codes name the module's ConditionOnset states.
        targets: rows with ``age_lo``, ``age_hi`` (None: open), ``sex`` and ``value``
            (default: the locale pack's targets for ``measure``).
        n: persons simulated per iteration (the same persons every time).
        seed: the simulation seed.
        iterations: fitting steps (0: measure once and report how far off each is).
        damping: exponent on each step's correction factor (1: full step).
        locale: the locale pack.
        end: the simulated present (default: the run default).
        workers: local processes.

    Returns:
        ``parameters`` (state, option, condition, age range, before, after,
        ``suggested_factor``), ``before`` and ``after`` (each target row with its simulated
        value), ``history`` and ``fitted`` (the module JSON with the fitted values).

    Raises:
        ConfigError: the module or measure is unknown, or no target applies.
    """
    from hygeia.errors import ConfigError
    from hygeia.population._onset_fit import fit_module
    from hygeia.population.engine import default_modules_dir
    from hygeia.population.locale import load_locale

    if measure not in MEASURES:
        raise ConfigError(f"unknown measure {measure!r}; known measures are {sorted(MEASURES)}")
    path = Path(module)
    if path.suffix == ".json" and path.is_file():
        key = path.stem
    else:
        key = str(module)
        path = default_modules_dir() / f"{key}.json"
        if not path.is_file():
            names = sorted(p.stem for p in default_modules_dir().glob("*.json"))
            raise ConfigError(f"no module {key!r} in the embedded library; pass one of {names} or the path of a "
                              "module JSON file")
    if targets is None:
        targets = [t for t in load_locale(locale).targets if t["measure"] == measure]
    if not targets:
        raise ConfigError(f"no targets for measure {measure!r}: pass targets=[...] (or --curve FILE.csv)")
    rows = [{"age_lo": float(t["age_lo"]), "age_hi": None if t.get("age_hi") is None else float(t["age_hi"]),
             "sex": t.get("sex", "*"), "value": float(t["value"]),
             "age_band": _band_label(float(t["age_lo"]), None if t.get("age_hi") is None else float(t["age_hi"]))}
            for t in targets]
    end_date = dt.date.fromisoformat(end) if isinstance(end, str) else (end or DEFAULT_END)
    return fit_module(path, key, measure, rows, n=n, seed=seed, iterations=iterations, damping=damping,
                      locale=locale, end=end_date, workers=workers)
