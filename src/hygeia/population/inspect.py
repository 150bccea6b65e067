"""Summarize a run folder: counts, top conditions and an age pyramid.

Queries run in DuckDB straight over the Parquet shards, so a summary of
millions of persons needs little memory.

Example:
    >>> print(format_summary(summarize("output")))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from hygeia.core.config import DEFAULT_END
from hygeia.core.storage import connect, read_run_info

__all__ = ["format_summary", "summarize"]

BAND_YEARS = 5
TOP_BAND = 100  # the last band is "100+"
_SEX_LABELS = {"F": "female", "M": "male", "female": "female", "male": "male"}


def _band_labels(n_bands: int) -> list[str]:
    labels = []
    for i in range(n_bands):
        lo = i * BAND_YEARS
        labels.append(f"{lo}+" if lo >= TOP_BAND else f"{lo}-{lo + BAND_YEARS - 1}")
    return labels


def summarize(path: str | os.PathLike[str], *, top: int = 10) -> dict[str, Any]:
    """Key numbers of a run.

    Args:
        path: a run folder written by :func:`hygeia.population.generate`.
        top: how many of the most common conditions to list.

    Returns:
        A JSON-ready dict: ``path``, ``run`` (seed, version, dates), ``persons``,
        ``alive``, ``dead``, ``events``, ``events_by_kind``, ``top_conditions``
        (display, code and number of persons) and ``age_pyramid`` (5-year bands
        by sex of the persons alive at the run's end date).

    Raises:
        DataValidationError: if ``path`` is not a run folder.
    """
    info = read_run_info(path)
    cfg = info.get("config", {})
    end = dt.date.fromisoformat(cfg.get("end") or DEFAULT_END.isoformat())
    end_ts = dt.datetime.combine(end, dt.time())
    con = connect(path)
    try:
        persons, alive = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE birth_time <= $end AND (death_time IS NULL OR death_time > $end))"
            " FROM persons",
            {"end": end_ts},
        ).fetchone()
        by_kind = con.execute(
            "SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY n DESC, kind"
        ).fetchall()
        conditions = con.execute(
            "SELECT display, code_system, code, count(DISTINCT subject_id) AS n FROM events"
            " WHERE kind = 'condition' GROUP BY display, code_system, code"
            " ORDER BY n DESC, display LIMIT $top",
            {"top": top},
        ).fetchall()
        rows = con.execute(
            "SELECT sex, least(CAST(date_part('year', age($end, birth_time)) AS INTEGER) // $w, $top_band) AS band,"
            " count(*) FROM persons"
            " WHERE birth_time <= $end AND (death_time IS NULL OR death_time > $end)"
            " GROUP BY sex, band ORDER BY sex, band",
            {"end": end_ts, "w": BAND_YEARS, "top_band": TOP_BAND // BAND_YEARS},
        ).fetchall()
    finally:
        con.close()
    n_bands = max((band for _, band, _ in rows), default=-1) + 1
    by_sex: dict[str, list[int]] = {}
    for sex, band, n in rows:
        by_sex.setdefault(sex, [0] * n_bands)[band] = n
    return {
        "path": str(path),
        "run": {
            "seed": cfg.get("seed"),
            "hygeia_version": info.get("hygeia_version"),
            "created_at": info.get("created_at"),
            "n": cfg.get("n"),
            "locale": cfg.get("locale"),
            "start": cfg.get("start"),
            "end": end.isoformat(),
        },
        "persons": persons,
        "alive": alive,
        "dead": persons - alive,
        "events": sum(n for _, n in by_kind),
        "events_by_kind": {kind: n for kind, n in by_kind},
        "top_conditions": [
            {"display": d, "code_system": s, "code": c, "persons": n} for d, s, c, n in conditions
        ],
        "age_pyramid": {"as_of": end.isoformat(), "bands": _band_labels(n_bands), "by_sex": by_sex},
    }


def _pyramid_lines(pyramid: dict[str, Any], width: int = 24) -> list[str]:
    bands: list[str] = pyramid["bands"]
    by_sex: dict[str, list[int]] = pyramid["by_sex"]
    if not bands or not by_sex:
        return ["  (no living persons)"]
    sexes = sorted(by_sex, key=lambda s: (_SEX_LABELS.get(s, s) != "female", _SEX_LABELS.get(s, s) != "male", s))
    biggest = max(max(v) for v in by_sex.values()) or 1
    bw = max(len(b) for b in bands)

    def bar(n: int) -> str:
        return "#" * (round(n / biggest * width) if n else 0)

    lines = []
    if len(sexes) == 2:
        left, right = sexes
        cw = max(len(str(max(by_sex[s]))) for s in sexes)
        lw = width + 1 + cw
        lines.append(f"  {_SEX_LABELS.get(left, left):>{lw}} | {'age':^{bw}} | {_SEX_LABELS.get(right, right)}")
        for i in reversed(range(len(bands))):
            ln, rn = by_sex[left][i], by_sex[right][i]
            lcell = f"{bar(ln)} {ln:>{cw}}"
            lines.append(f"  {lcell:>{lw}} | {bands[i]:^{bw}} | {rn:<{cw}} {bar(rn)}".rstrip())
    else:
        for sex in sexes:
            lines.append(f"  {_SEX_LABELS.get(sex, sex)}")
            counts = by_sex[sex]
            cw = len(str(max(counts)))
            for i in reversed(range(len(bands))):
                lines.append(f"  {bands[i]:>{bw}} | {counts[i]:>{cw}} {bar(counts[i])}".rstrip())
    return lines


def format_summary(summary: dict[str, Any]) -> str:
    """A readable text of :func:`summarize`'s dict, with an age pyramid."""
    run = summary["run"]
    lines = [f"Run {summary['path']}"]
    meta = [f"seed {run['seed']}", f"hygeia {run['hygeia_version']}", f"present date {run['end']}"]
    if run.get("created_at"):
        meta.append(f"made {str(run['created_at'])[:19].replace('T', ' ')} UTC")
    lines.append("  " + ", ".join(meta))
    lines.append("")
    lines.append(f"Persons  {summary['persons']:>10,}   alive {summary['alive']:,}, dead {summary['dead']:,}")
    lines.append(f"Events   {summary['events']:>10,}")
    kinds = summary["events_by_kind"]
    kw = max((len(k) for k in kinds), default=0)
    for kind, n in kinds.items():
        lines.append(f"  {kind:<{kw}}  {n:>10,}")
    lines.append("")
    conds = summary["top_conditions"]
    lines.append(f"Top {len(conds)} conditions (persons ever diagnosed)" if conds else "Conditions: none recorded")
    dw = max((len(str(c["display"] or c["code"])) for c in conds), default=0)
    for i, c in enumerate(conds, 1):
        lines.append(f"  {i:>2}. {str(c['display'] or c['code']):<{dw}}  {c['persons']:>8,}")
    lines.append("")
    lines.append(f"Age pyramid of living persons on {summary['age_pyramid']['as_of']}")
    lines.extend(_pyramid_lines(summary["age_pyramid"]))
    return "\n".join(lines)
