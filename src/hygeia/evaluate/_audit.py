"""One audit of fidelity, utility, privacy and fairness for a real/synthetic pair.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"age": rng.normal(60, 10, 200), "sex": rng.choice(["F", "M"], 200)})
    >>> report = evaluate_tables(real, real.sample(frac=1, random_state=1), holdout=real)
    >>> round(report["fidelity"]["overall"], 3)
    1.0
"""

from __future__ import annotations

import math
import time
from importlib import metadata as _md

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from hygeia.core.seeding import SeedTree
from hygeia.evaluate._fairness import fairness as _fairness
from hygeia.evaluate._caveats import caveats as _caveats
from hygeia.evaluate._coverage import knn_precision_recall
from hygeia.evaluate._fidelity import (
    column_pair_trends,
    column_shapes,
    correlation_matrices,
    detection_auc,
    marginals,
    pair_trend_scores,
)
from hygeia.evaluate._metadata import Encoder, prepare, validate_inputs
from hygeia.evaluate._privacy import privacy as _privacy
from hygeia.evaluate._utility import outcome_task
from hygeia.evaluate._utility import utility as _utility

__all__ = ["evaluate_tables", "jsonable"]

_STREAM_FIDELITY, _STREAM_UTILITY, _STREAM_PRIVACY = 101, 102, 103


def jsonable(value):
    """Turn numpy scalars/arrays into Python ones and NaN/inf into ``None``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    return value


def _mean(values) -> float:
    vals = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(vals)) if vals else float("nan")


def _seed(tree: SeedTree, stream: int) -> int:
    return int(tree.child(stream, 0).generate_state(1)[0])


def _version() -> str:
    try:
        return _md.version("hygeia")
    except _md.PackageNotFoundError:  # pragma: no cover - source checkout
        return "unknown"


def evaluate_tables(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    time_column: str | None = None,
    event_column: str | None = None,
    quasi_identifiers: list[str] | None = None,
    sensitive: list[str] | None = None,
    subgroups: list[str] | None = None,
    column_types: dict[str, str] | None = None,
    seed: int = 0,
) -> dict:
    """Audit a synthetic table against the real table it was learned from.

    Nothing is scored on the rows the generator learned from: without a
    ``holdout``, utility (TSTR/TRTR), membership inference, the DCR share and
    per-subgroup utility gaps are "not measured", with the reason in the
    section's ``not_measured`` (or ``reason``) field and in ``caveats``.

    Args:
        real: the training table the generator saw.
        synthetic: the generated table (same columns).
        holdout: real rows the generator did not see; needed for utility, the DCR
            share, membership inference and attack controls.
        target: outcome column for utility and fairness.
        time_column, event_column: survival outcome (C-index utility).
        quasi_identifiers: columns an attacker may know (k-anonymity, linkability).
        sensitive: columns to protect (attribute inference, l-diversity).
        subgroups: fairness columns; by default those named like sex, race, ethnicity, age.
        column_types: declared types, ``{column: "numeric" | "categorical" | "datetime" | "id" | "text"}``;
            the rest are detected (:mod:`hygeia.core.columns`, as ``hygeia fit`` does).
        seed: seeds every subsample and model.

    Returns:
        ``{"fidelity", "utility", "privacy", "fairness", "caveats", "meta"}``,
        JSON-ready (NaN becomes ``None``); ``caveats`` is a list of sentences on
        what the numbers do not show.

    Raises:
        DataValidationError: naming every problem with the inputs.
    """
    types = validate_inputs(
        real, synthetic, holdout=holdout, target=target, time_column=time_column, event_column=event_column,
        quasi_identifiers=quasi_identifiers, sensitive=sensitive, subgroups=subgroups, column_types=column_types,
    )
    # Models here are small; one OpenMP thread avoids oversubscription stalls on busy machines.
    with threadpool_limits(limits=1, user_api="openmp"):
        result = _audit(
            real, synthetic, holdout, types, target=target, time_column=time_column, event_column=event_column,
            quasi_identifiers=quasi_identifiers, sensitive=sensitive, subgroups=subgroups, seed=seed,
        )
    result["meta"]["declared_types"] = sorted(str(c) for c in (column_types or {}) if c in types)
    return result


def _audit(real, synthetic, holdout, types, *, target, time_column, event_column, quasi_identifiers, sensitive,
           subgroups, seed) -> dict:
    tree = SeedTree(seed)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    r, s = prepare(real, types), prepare(synthetic, types)
    h = prepare(holdout, types) if holdout is not None else None

    t0 = time.perf_counter()
    shapes = column_shapes(r, s, types)
    pairs = column_pair_trends(r, s, types)
    cols = [c for c, t in types.items() if t not in ("id", "text")]
    enc = Encoder(cols, types).fit(r)
    xr, xs = enc.transform(r), enc.transform(s)
    f_seed = _seed(tree, _STREAM_FIDELITY)
    shape_score, pair_scores = _mean(shapes.values()), pair_trend_scores(pairs)
    coverage = knn_precision_recall(xr, xs, seed=f_seed)
    fidelity = {
        "column_shapes": shape_score,
        **pair_scores,
        "overall": _mean([shape_score, pair_scores["column_pair_trends"]]),
        "column_shapes_detail": shapes,
        "column_pair_trends_detail": pairs,
        "detection_auc": detection_auc(xr, xs, seed=f_seed),
        **{f"manifold_{k}": v for k, v in coverage.items()},
        "marginals": marginals(r, s, types),
        "correlation": correlation_matrices(r, s, types),
    }
    timings["fidelity"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    utility, predictions = _utility(
        r, s, h, types, target=target, time_column=time_column, event_column=event_column,
        seed=_seed(tree, _STREAM_UTILITY) % (2**31),
    )
    timings["utility"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    privacy = _privacy(
        r, s, h, types, target=target, quasi_identifiers=quasi_identifiers, sensitive=sensitive,
        seed=_seed(tree, _STREAM_PRIVACY),
    )
    timings["privacy"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    fair = _fairness(
        r, s, types, subgroups=subgroups, target=target, event_column=event_column, predictions=predictions,
        task=outcome_task(types, r, target, time_column),
    )
    timings["fairness"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - start

    meta = {
        "hygeia_version": _version(),
        "seed": int(seed),
        "n_real": int(len(real)),
        "n_synthetic": int(len(synthetic)),
        "n_holdout": None if holdout is None else int(len(holdout)),
        "column_types": types,
        "target": target,
        "time_column": time_column,
        "event_column": event_column,
        "quasi_identifiers": quasi_identifiers,
        "sensitive": sensitive,
        "seconds": timings,
    }
    notes = _caveats(fidelity, utility, privacy, fair, n_holdout=meta["n_holdout"], n_synthetic=len(synthetic))
    return jsonable({"fidelity": fidelity, "utility": utility, "privacy": privacy, "fairness": fair,
                     "caveats": notes, "meta": meta})
