"""Loading and validating the inputs of an evaluation (CSV, Parquet, Hygeia run folders).

A run folder is compared through a person-level feature table built with DuckDB
(:func:`person_features`): age, sex, race, ethnicity, whether the person died,
and counts of encounters, conditions, medications, procedures and observations.
Every problem with the inputs is gathered into one :class:`DataValidationError`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hygeia.errors import DataValidationError

__all__ = ["Inputs", "load_inputs", "load_table", "person_features"]

_COUNTED_KINDS = ("encounter", "condition", "medication", "procedure", "observation")


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - depends on the environment
        from hygeia.errors import MissingExtraError

        raise MissingExtraError("pandas", "evaluate", "Evaluating synthetic data") from None
    return pd


def _is_run_folder(path: Path) -> bool:
    return path.is_dir() and (path / "run.json").is_file()


def person_features(run: str | os.PathLike[str]) -> Any:
    """One row per person of a run folder, as a pandas DataFrame (no identifiers).

    Ages are in years at death, or at the run's end date for the living.
    """
    from hygeia.core.storage import connect, read_run_info

    end = (read_run_info(run).get("config") or {}).get("end")
    con = connect(run, verify=True)
    try:
        ref = f"CAST('{end}' AS TIMESTAMP)" if end else "(SELECT max(time) FROM events)"
        counts = ", ".join(
            f"count(*) FILTER (WHERE e.kind = '{k}') AS n_{k}s" for k in _COUNTED_KINDS
        )
        sql = f"""
            WITH c AS (SELECT subject_id, {counts} FROM events e GROUP BY subject_id)
            SELECT
                round(date_diff('day', p.birth_time, coalesce(p.death_time, {ref})) / 365.25, 2) AS age,
                p.sex, p.race, p.ethnicity,
                CAST(p.death_time IS NOT NULL AS INTEGER) AS died,
                {", ".join(f"coalesce(c.n_{k}s, 0) AS n_{k}s" for k in _COUNTED_KINDS)}
            FROM persons p LEFT JOIN c USING (subject_id)
            ORDER BY p.subject_id
        """
        return con.execute(sql).df()
    finally:
        con.close()


def load_table(path: str | os.PathLike[str], role: str, problems: list[str]) -> Any:
    """Read one input as a DataFrame; record problems (and return None) instead of raising.

    Files go through the one table reader (:func:`hygeia.core.tables.read_table`), as for ``hygeia fit``.
    """
    _pandas()
    p = Path(path).expanduser()
    if not p.exists():
        problems.append(f"{role}: {str(p)!r} does not exist")
        return None
    if p.is_dir():
        if not _is_run_folder(p):
            problems.append(f"{role}: {str(p)!r} is a folder but not a Hygeia run folder (no run.json)")
            return None
        try:
            frame = person_features(p)
        except DataValidationError as e:
            problems += [f"{role}: {x}" for x in e.problems]
            return None
        if frame.empty:
            problems.append(f"{role}: the run folder {str(p)!r} has no persons")
            return None
        return frame
    from hygeia.core.tables import read_table

    try:
        return read_table(p)
    except DataValidationError as e:
        problems += [f"{role}: {x}" for x in e.problems]
        return None


@dataclasses.dataclass
class Inputs:
    """The loaded inputs of one evaluation."""

    real: Any
    synthetic: Any
    holdout: Any
    sources: dict[str, str]
    plausibility: Callable[[], dict[str, Any]]

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for role, frame in (("real", self.real), ("synthetic", self.synthetic), ("holdout", self.holdout)):
            if frame is not None:
                out[role] = {"source": self.sources[role], "rows": int(len(frame)), "columns": list(map(str, frame.columns))}
        return out


def load_inputs(
    real: str | os.PathLike[str],
    synthetic: str | os.PathLike[str],
    holdout: str | os.PathLike[str] | None = None,
    *,
    target: str | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    time_column: str | None = None,
    event_column: str | None = None,
    subgroups: Sequence[str] | None = None,
    extra_rule_files: Sequence[str | os.PathLike[str]] = (),
) -> Inputs:
    """Load and validate every input; raise one error naming every problem.

    Raises:
        DataValidationError: missing or empty files, unreadable files, columns that
            differ between real, synthetic and holdout, or named columns (target,
            quasi-identifiers, time/event, subgroups) that the real data lacks.
    """
    from hygeia.evaluate.plausibility import check_plausibility, check_table_plausibility, load_rules

    problems: list[str] = []
    frames = {"real": load_table(real, "real", problems), "synthetic": load_table(synthetic, "synthetic", problems)}
    if holdout is not None:
        frames["holdout"] = load_table(holdout, "holdout", problems)
    ref = frames["real"]
    if ref is not None:
        cols = [str(c) for c in ref.columns]
        for role in ("synthetic", "holdout"):
            other = frames.get(role)
            if other is None:
                continue
            have = [str(c) for c in other.columns]
            missing = [c for c in cols if c not in have]
            extra = [c for c in have if c not in cols]
            if missing or extra:
                problems.append(
                    f"{role}: columns do not match the real data: missing {missing}, unexpected {extra}"
                )
        named = [("target", target), ("time column", time_column), ("event column", event_column)]
        named += [("quasi-identifier", q) for q in quasi_identifiers or ()]
        named += [("subgroup column", s) for s in subgroups or ()]
        for what, col in named:
            if col is not None and col not in cols:
                problems.append(f"{what} {col!r} is not a column of the real data; columns are {cols}")
    try:
        load_rules(None, extra_rule_files)
    except DataValidationError as e:
        problems += [f"rules: {x}" for x in e.problems]
    if problems:
        raise DataValidationError(problems, header="cannot evaluate: the inputs have problems")

    syn_path = Path(synthetic).expanduser()
    if _is_run_folder(syn_path):
        from hygeia.core.storage import read_run_info

        end = (read_run_info(syn_path).get("config") or {}).get("end")

        def plausibility() -> dict[str, Any]:
            return check_plausibility(syn_path, extra_rule_files=extra_rule_files, follow_up_end=end)
    else:
        syn = frames["synthetic"]

        def plausibility() -> dict[str, Any]:
            return check_table_plausibility(syn, extra_rule_files=extra_rule_files)

    sources = {"real": str(real), "synthetic": str(synthetic), "holdout": str(holdout) if holdout else ""}
    return Inputs(frames["real"], frames["synthetic"], frames.get("holdout"), sources, plausibility)
