"""Warnings a reader must see before the numbers: the report's ``warnings`` list.

Two sources:

* :func:`result_warnings` reads a finished report: a utility gap whose 95 %
  interval excludes 0, k-anonymity of 1, subgroups under 30 rows;
* :func:`data_warnings` reads the tables: *leaky* columns (one column alone
  predicts the target with AUC >= 0.95 on the real training rows, as a
  cause-of-death column predicts death) and columns whose type reads
  differently in the real and the synthetic (or holdout) table.

Each warning is a dict ``{"kind", "section", "message"}`` with a plain-sentence
message; ``kind`` is one of :data:`KINDS`.

Example:
    >>> w = result_warnings({"privacy": {"k_anonymity": {"k_synthetic": 1, "k_real": 3,
    ...                                                  "quasi_identifiers": ["age", "sex"]}}})
    >>> w[0]["kind"], w[0]["message"][:40]
    ('k_anonymity', 'k-anonymity is 1: at least one synthetic')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hygeia.core.columns import detect_types, not_numbers, to_numbers
from hygeia.evaluate._details import SMALL_GROUP, subgroup_verdicts
from hygeia.evaluate._metadata import infer_column_types

__all__ = ["KINDS", "LEAK_AUC", "data_warnings", "leaky_columns", "result_warnings", "type_disagreements"]

KINDS = ("utility_gap", "k_anonymity", "small_subgroup", "leaky_column", "type_disagreement", "mixed_type", "id_like",
         "declared_numeric")
#: A single column predicting the target with at least this AUC is called leaky.
LEAK_AUC = 0.95
_MAX_ROWS = 20_000
_BINS = 20


def _warn(kind: str, section: str, message: str) -> dict[str, str]:
    return {"kind": kind, "section": section, "message": message}


def _fmt(v: Any) -> str:
    return f"{float(v):.3g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def result_warnings(result: Mapping[str, Any]) -> list[dict[str, str]]:
    """Warnings read from a report's sections (utility gap, k = 1, small subgroups).

    Args:
        result: the report dict (``report.json``).

    Returns:
        Warning dicts, in section order.
    """
    out: list[dict[str, str]] = []

    def section(name: str) -> Mapping[str, Any]:
        value = result.get(name)
        return value if isinstance(value, Mapping) else {}

    util = section("utility")
    ci = util.get("gap_ci95")
    if isinstance(ci, list) and len(ci) == 2 and None not in ci:
        metric, gap = util.get("metric", "score"), util.get("gap")
        if ci[0] > 0:
            out.append(_warn("utility_gap", "utility", (
                f"A model trained on the synthetic rows does measurably worse than one trained on the real rows: "
                f"{metric} gap {_fmt(gap)} (95 % interval {_fmt(ci[0])} to {_fmt(ci[1])}, which excludes 0). "
                "Do not use the synthetic data for modelling where that loss matters.")))
        elif ci[1] < 0:
            out.append(_warn("utility_gap", "utility", (
                f"A model trained on the synthetic rows beats one trained on the real rows beyond noise ({metric} gap "
                f"{_fmt(gap)}, 95 % interval {_fmt(ci[0])} to {_fmt(ci[1])}): holdout rows may have leaked into "
                "the generator's training data. Check that the holdout was kept out of 'hygeia fit'.")))
    k = section("privacy").get("k_anonymity")
    if isinstance(k, Mapping) and k.get("k_synthetic") == 1:
        qi = ", ".join(map(str, k.get("quasi_identifiers") or []))
        real = (" The real rows also have k = 1: these columns single people out by themselves; coarsen them "
                "(age bands, 3-digit zip) before release." if k.get("k_real") == 1 else "")
        out.append(_warn("k_anonymity", "privacy", (
            f"k-anonymity is 1: at least one synthetic row is the only one with its combination of {qi}; "
            f"if that combination matches a real person, an attacker who knows it finds their row.{real}")))
    groups = section("fairness").get("subgroups") or []
    small = [g for g in groups if isinstance(g, Mapping) and subgroup_verdicts(g)["small"]]
    if small:
        names = ", ".join(f"{g.get('column')}={g.get('group')} (n = {g.get('n_real')} real, "
                          f"{g.get('n_synthetic')} synthetic)" for g in small[:6])
        more = f" and {len(small) - 6} more" if len(small) > 6 else ""
        out.append(_warn("small_subgroup", "fairness", (
            f"{len(small)} subgroup(s) have fewer than {SMALL_GROUP} rows: {names}{more}. Their representation, "
            "outcome-rate and utility errors are too noisy to judge; merge small groups or gather more rows.")))
    return out


def _codes(s: pd.Series) -> np.ndarray:
    """Integer codes of a column: quantile bins for numbers, labels otherwise; missing is its own code."""
    num = pd.to_numeric(s, errors="coerce") if not pd.api.types.is_bool_dtype(s) else s.astype(float)
    if pd.api.types.is_numeric_dtype(s) or (num.notna().sum() > 0.9 * s.notna().sum() and s.notna().any()):
        ranks = num.rank(method="dense")
        if ranks.max() > _BINS:
            ranks = pd.qcut(num, _BINS, labels=False, duplicates="drop")
        return ranks.fillna(-1).to_numpy(dtype=float).astype(int)
    return pd.factorize(s.astype(object).where(s.notna(), "\0missing"))[0]


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


def _cross_fitted_auc(codes: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
    """AUC of a column's per-value outcome rate, learned on one half and scored on the other (both ways)."""
    fold = rng.permutation(len(y)) % 2
    score = np.zeros(len(y))
    prior = y.mean()
    for f in (0, 1):
        fit, use = fold != f, fold == f
        frame = pd.DataFrame({"c": codes[fit], "y": y[fit]}).groupby("c")["y"].agg(["sum", "count"])
        rate = (frame["sum"] + prior) / (frame["count"] + 1.0)
        score[use] = pd.Series(codes[use]).map(rate).fillna(prior).to_numpy()
    return _auc(score, y)


def leaky_columns(
    real: pd.DataFrame, target: str, types: Mapping[str, str], *, seed: int = 0, skip: Sequence[str] = ()
) -> dict[str, float]:
    """Columns that alone predict a categorical ``target`` with AUC >= :data:`LEAK_AUC` on the real rows.

    Each column's values (numbers in 20 quantile bins, missing as a value) are
    mapped to the target rate learned on a random half of the rows and scored
    on the other half, so a column with one value per row does not look
    predictive. A multi-class target is averaged one-vs-rest.

    Returns:
        ``{column: AUC}`` for the leaky columns, highest first.
    """
    if target not in real.columns or types.get(target) not in ("categorical",):
        return {}
    rng = np.random.default_rng(seed)
    df = real if len(real) <= _MAX_ROWS else real.sample(_MAX_ROWS, random_state=seed)
    labels = df[target].astype(object).where(df[target].notna(), "\0missing")
    classes = labels.value_counts()
    classes = classes.index[:1] if len(classes) == 2 else classes.index
    found: dict[str, float] = {}
    for col, kind in types.items():
        if col == target or col in skip or kind in ("id", "text") or col not in df.columns:
            continue
        codes = _codes(df[col])
        aucs = [_cross_fitted_auc(codes, (labels == c).to_numpy(dtype=float), rng) for c in classes]
        aucs = [a for a in aucs if np.isfinite(a)]
        if aucs and float(np.mean(aucs)) >= LEAK_AUC:
            found[str(col)] = float(np.mean(aucs))
    return dict(sorted(found.items(), key=lambda kv: -kv[1]))


def _not_numbers(s: pd.Series) -> tuple[float, list[str]]:
    _, share, examples = not_numbers(s)
    return share, examples


def _family(kind: str | None, s: pd.Series) -> str | None:
    """``"numbers"`` for a column of numbers only (whatever its type: a sample may hold fewer distinct values)."""
    if kind in ("numeric", "categorical", "id") and not pd.api.types.is_bool_dtype(s):
        if not_numbers(s)[0] == 0 and to_numbers(s).notna().any():
            return "numbers"
    return kind


def type_disagreements(
    frames: Mapping[str, pd.DataFrame], used: Mapping[str, str], declared: Sequence[str] = ()
) -> list[dict[str, str]]:
    """Columns whose detected type differs between the real table and another (synthetic, holdout).

    Args:
        frames: ``{"real": df, "synthetic": df, "holdout": df}`` (holdout optional).
        used: the types the evaluation used (detected on the real table or declared).
        declared: columns whose type the user declared (not second-guessed here).
    """
    detected = {label: infer_column_types(df) for label, df in frames.items() if df is not None}
    out = []
    for col, kind in used.items():
        if col in declared:
            continue
        seen = {label: t.get(col) for label, t in detected.items() if col in t}
        if len({_family(t, frames[label][col]) for label, t in seen.items()}) <= 1:
            continue
        parts = []
        for label, t in seen.items():
            text = f"{t} in the {label} table"
            if t == "categorical":
                share, examples = _not_numbers(frames[label][col])
                if 0 < share < 1:
                    text += f" ({share:.0%} of its values are not numbers, e.g. {', '.join(map(repr, examples))})"
            parts.append(text)
        out.append(_warn("type_disagreement", "fidelity", (
            f"Column {col!r} reads as {'; '.join(parts)}. It was evaluated as {kind}, so its scores may mislead "
            + ("(numbers written as labels never match numbers). " if kind == "categorical" else
               "(values that are not numbers count as missing). ")
            + "Clean the values or declare the column's type the same way for 'hygeia fit' and 'hygeia evaluate'.")))
    return out


def data_warnings(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    types: Mapping[str, str],
    *,
    target: str | None = None,
    time_column: str | None = None,
    event_column: str | None = None,
    seed: int = 0,
    declared: Mapping[str, str] | None = None,
) -> list[dict[str, str]]:
    """Warnings read from the tables: how the real table's columns were typed, leaky columns, type disagreements.

    The typing notes are those ``hygeia fit`` prints for the same table (one detector,
    :mod:`hygeia.core.columns`): numbers mixed with text, id-like columns, text in a
    column declared numeric. Only the real training rows are used to find leaky
    columns: leakage is a property of the data, not a score of the generator.

    Args:
        declared: the types the user declared (``--type``, ``--metadata``); the others were detected.
    """
    known = {c: t for c, t in (declared or {}).items() if c in real.columns}
    out = [_warn(note.kind, "fidelity", note.message[:1].upper() + note.message[1:] + ".")
           for note in detect_types(real, known).notes]
    out += type_disagreements({"real": real, "synthetic": synthetic, "holdout": holdout}, types, list(known))
    outcome = target or event_column
    if outcome:
        kinds = {**types, outcome: "categorical"} if outcome == event_column else types
        skip = [c for c in (time_column, event_column) if c]
        for col, auc in leaky_columns(real, outcome, kinds, seed=seed, skip=skip).items():
            out.append(_warn("leaky_column", "utility", (
                f"Column {col!r} alone predicts {outcome!r} with AUC {auc:.3f} on the real rows: it probably records "
                f"the outcome itself (or something known only after it). Utility and attribute-inference figures "
                f"that use it are inflated; drop it, or use another target, for a fair test.")))
    return out
