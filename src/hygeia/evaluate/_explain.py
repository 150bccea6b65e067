"""One sentence and a verdict for every headline number of the report.

:func:`headline` turns one section of ``report.json`` into rows of
``(label, value, sentence, verdict)`` for the HTML report. Verdicts are
``good``, ``fair``, ``poor``, ``reference`` (a yardstick, not a score),
``context`` (no threshold on its own) or ``not measured`` (then the sentence
is the reason). Each row also says which way is better (``direction``).
:func:`details` explains the section's other numbers the same way (see
``_details.py``); the thresholds are listed in ``docs/evaluate.md``.

Example:
    >>> rows = headline("utility", {"status": "not measured", "reason": "no holdout was given"})
    >>> rows[0].verdict, rows[0].sentence
    ('not measured', 'No holdout was given.')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["HIGHER", "LOWER", "NOT_MEASURED", "Row", "headline"]

NOT_MEASURED = "not measured"
HIGHER, LOWER, HALF = "higher is better", "lower is better", "0.5 is best"
NEAR_REF, NEAR_ZERO = "close to its reference is best", "near 0 is best"
YARDSTICK, CONTEXT = "yardstick", "for context"


@dataclass(frozen=True)
class Row:
    """One explained number."""

    label: str
    value: Any
    sentence: str
    verdict: str
    direction: str = ""


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(float(v)) else None


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return (text[:1].upper() + text[1:] + ".") if text else ""


def _higher(good: float, fair: float) -> Callable[[float], str]:
    return lambda v: "good" if v >= good else "fair" if v >= fair else "poor"


def _lower(good: float, fair: float) -> Callable[[float], str]:
    return lambda v: "good" if v <= good else "fair" if v <= fair else "poor"


def _f(v: Any) -> str:
    n = _num(v)
    return "—" if n is None else f"{n:.3g}"


def _row(d: Mapping[str, Any], key: str, label: str, sentence: str, judge: Callable[[float], str] | str,
         reasons: Mapping[str, str] | None = None, direction: str = "") -> Row | None:
    value = d.get(key)
    reason = (reasons or {}).get(key)
    if value is None and reason:
        return Row(label, NOT_MEASURED, _sentence(reason), NOT_MEASURED, direction)
    if key not in d:
        return None
    n = _num(value)
    verdict = judge if isinstance(judge, str) else ("—" if n is None else judge(n))
    if not direction:
        direction = YARDSTICK if verdict == "reference" else CONTEXT if verdict == "context" else ""
    return Row(label, value, sentence, verdict, direction)


def _fidelity(d: Mapping[str, Any]) -> list[Row | None]:
    def near_reference(key: str) -> Callable[[float], str]:
        ref = _num(d.get(f"{key}_reference"))
        if ref is None:
            return lambda v: "—"
        return lambda v: "good" if v >= ref - 0.05 else "fair" if v >= ref - 0.15 else "poor"

    counted, total = d.get("pairs_counted"), d.get("pairs_total")
    return [
        _row(d, "overall", "Overall quality", "Mean of the column-shape and headline pair-trend scores "
             "(SDMetrics' Quality Score); 1 means identical distributions; 0.9 or more is good.", _higher(0.9, 0.8)),
        _row(d, "column_shapes", "Column shapes", "How closely each column's distribution matches the real one "
             "(1 − KS statistic for numbers, 1 − total variation for labels), averaged over columns.",
             _higher(0.9, 0.8)),
        _row(d, "column_pair_trends", "Pair trends (headline)", f"How well relationships are kept, averaged over "
             f"the {counted} of {total} column pairs that are strongly associated in the real data (as SDMetrics' "
             "QualityReport counts them); 0.9 or more is good.", _higher(0.9, 0.8))
        if d.get("column_pair_trends") is not None or not counted else None,
        _row(d, "column_pair_trends_all_pairs", "Pair trends (all pairs)", "The same averaged over every pair; "
             "unassociated pairs score near 1 whatever the generator does, so this is shown for reference only.",
             "reference"),
        _row(d, "detection_auc", "Detection AUC", "AUC of a classifier telling synthetic rows from real ones; 0.5 "
             "means indistinguishable (0.4 to 0.6 is good), 1 means every synthetic row is recognisable, and well "
             "below 0.5 means synthetic rows duplicate real ones.",
             lambda v: "poor" if v < 0.4 else _lower(0.6, 0.75)(v)),
        _row(d, "manifold_precision", "Precision (realism)", "Share of synthetic rows lying among real rows (k-NN "
             f"manifold, Kynkäänniemi et al. 2019); an independent real sample scores "
             f"{_f(d.get('manifold_precision_reference'))}, and within 0.05 of that is good.",
             near_reference("manifold_precision")),
        _row(d, "manifold_recall", "Recall (coverage)", "Share of real rows covered by the synthetic rows' k-NN "
             f"manifold; an independent real sample scores {_f(d.get('manifold_recall_reference'))}, and within "
             "0.05 of that is good. A copy also scores high: see privacy for memorisation.",
             near_reference("manifold_recall")),
    ]


def _gap_verdict(d: Mapping[str, Any]) -> Callable[[float], str]:
    ci = d.get("gap_ci95")

    def judge(v: float) -> str:
        if isinstance(ci, list) and len(ci) == 2 and None not in ci:
            if ci[1] < 0:
                return "poor"  # synthetic beats real beyond noise: a sign that holdout rows leaked into training
            if ci[0] <= 0.0:
                return "good"
        return "good" if v <= 0.02 else "fair" if v <= 0.05 else "poor"

    return judge


def _utility(d: Mapping[str, Any]) -> list[Row | None]:
    if d.get("status") == NOT_MEASURED:
        return [Row("Utility (TSTR vs TRTR)", NOT_MEASURED, _sentence(str(d.get("reason", ""))), NOT_MEASURED)]
    metric = d.get("metric", "score")
    ci = d.get("gap_ci95")
    ci_text = f" (95 % bootstrap interval {_f(ci[0])} to {_f(ci[1])})" if isinstance(ci, list) and len(ci) == 2 else ""
    return [
        _row(d, "train_real_test_real", "TRTR", f"{metric} on the holdout of a model trained on the real training "
             "rows: the yardstick the synthetic data is compared with.", "reference"),
        _row(d, "train_synthetic_test_real", "TSTR", f"{metric} on the same holdout of the same model trained on "
             "the synthetic rows.", "context"),
        _row(d, "gap", "Gap (TRTR − TSTR)", f"How much is lost by training on synthetic data{ci_text}; an interval "
             "that holds 0 is good, one wholly below 0 (synthetic better than real) suggests leaked holdout rows.",
             _gap_verdict(d)),
    ]


def _privacy(d: Mapping[str, Any]) -> list[Row | None]:
    reasons = d.get("not_measured") or {}
    hold_copy = _num(d.get("holdout_exact_copy_rate")) or 0.0
    rows = [
        _row(d, "exact_copy_rate", "Exact copies", "Share of synthetic rows identical to a training row"
             + (f" (the holdout itself has {_f(hold_copy)})" if "holdout_exact_copy_rate" in d else "")
             + "; near 0 is good.", _lower(max(0.01, hold_copy + 0.005), 0.05)),
        _row(d, "dcr_median_synthetic_to_train", "Median DCR", "Median distance (standardised units) from a "
             f"synthetic row to its closest row among {d.get('dcr_reference_rows', 'all')} training rows; 0 means "
             "most rows are copies, otherwise judge it with the DCR share.",
             lambda v: "poor" if v == 0 else "context"),
        _row(d, "nndr_median", "Median NNDR", "Median ratio of the nearest to the second-nearest training distance; "
             "near 0 means a synthetic row sits on one specific person (0.5 or more is good).", _higher(0.5, 0.2)),
        _row(d, "dcr_closer_to_train_share", "DCR share", "Share of synthetic rows whose closest real row (training "
             f"and holdout together) is a training row; a generator that does not copy gets "
             f"{_f(d.get('dcr_share_expected'))}, the training rows' share of the two.", "context", reasons),
        _row(d, "dcr_share_excess", "DCR share excess", "The DCR share rescaled so that 0 is what a generator that "
             "does not copy gets and 1 means every synthetic row sits on a training row, whatever the holdout size; "
             "up to 0.1 is good.", _lower(0.1, 0.3), reasons),
        _row(d, "mia_auc", "Membership inference AUC", "AUC of an attacker guessing which real rows were training "
             "rows from their distance to the synthetic rows; 0.5 is ideal (good up to 0.55).",
             _lower(0.55, 0.6), reasons),
    ]
    control = ("holdout rows" if d.get("attack_control", "holdout") == "holdout"
               else "a random guess, as no holdout was given")
    for key, label in (("singling_out", "Singling-out risk"), ("linkability", "Linkability risk")):
        if isinstance(d.get(key), Mapping):
            rows.append(_risk_row(d[key], label, control))
    for secret, res in (d.get("attribute_inference") or {}).items():
        if isinstance(res, Mapping):
            rows.append(_risk_row(res, f"Attribute-inference risk ({secret})", control))
    k = d.get("k_anonymity")
    if isinstance(k, Mapping):
        rows.append(_row(k, "k_synthetic", "k-anonymity", "Size of the smallest group of synthetic rows sharing "
                         "the quasi-identifiers; 5 or more is good, 1 means someone is unique.", _higher(5, 2)))
    return rows


def _risk_row(res: Mapping[str, Any], label: str, control: str) -> Row | None:
    ci = res.get("ci")
    ci_text = f" (95 % interval {_f(ci[0])} to {_f(ci[1])})" if isinstance(ci, list) and len(ci) == 2 else ""
    return _row(res, "risk", label, f"Attack success beyond the control, {control}{ci_text}, as defined by "
                "anonymeter (Giomi et al. 2023); 0 is ideal, up to 0.1 is good.", _lower(0.1, 0.3))


def _fairness(d: Mapping[str, Any]) -> list[Row | None]:
    reasons = d.get("not_measured") or {}
    return [
        _row(d, "max_representation_error", "Worst representation error", "Largest difference between a "
             "subgroup's share of the synthetic and of the real rows; up to 0.02 is good.", _lower(0.02, 0.05)),
        _row(d, "max_outcome_rate_error", "Worst outcome-rate error", "Largest difference in outcome rate within "
             "one subgroup between synthetic and real rows; up to 0.03 is good.", _lower(0.03, 0.1), reasons),
        _row(d, "max_utility_gap", "Worst subgroup utility gap", "Largest TRTR − TSTR gap within one subgroup of "
             "the holdout; up to 0.05 is good (small groups are noisy).", _lower(0.05, 0.1), reasons),
    ]


def _plausibility(d: Mapping[str, Any]) -> list[Row | None]:
    if d.get("total_checked") == 0 and d.get("rules"):
        reasons = sorted({str(r.get("reason")) for r in d["rules"] if r.get("reason")})
        why = "no rule applies to these data" + (f" ({'; '.join(reasons)})" if reasons else "")
        return [Row("Rule violation rate", NOT_MEASURED, _sentence(why), NOT_MEASURED, LOWER)]
    return [_row(d, "overall_violation_rate", "Rule violation rate", "Share of checked facts that break a "
                 "clinical plausibility rule; up to 0.01 is good.", _lower(0.01, 0.05))]


_DIRECTIONS = {
    "Overall quality": HIGHER, "Column shapes": HIGHER, "Pair trends (headline)": HIGHER, "Detection AUC": HALF,
    "Precision (realism)": NEAR_REF, "Recall (coverage)": NEAR_REF, "TSTR": HIGHER,
    "Gap (TRTR − TSTR)": "lower is better (0: as useful as real data)", "Exact copies": LOWER,
    "Median DCR": "0 is bad; otherwise for context", "Median NNDR": HIGHER, "DCR share": "close to the expected share",
    "DCR share excess": LOWER, "Membership inference AUC": HALF, "k-anonymity": HIGHER,
    "Worst representation error": LOWER, "Worst outcome-rate error": LOWER, "Worst subgroup utility gap": LOWER,
    "Rule violation rate": LOWER, "Utility (TSTR vs TRTR)": "lower gap is better",
}


def _with_direction(row: Row) -> Row:
    if row.direction and row.direction not in (CONTEXT,):
        return row
    if row.label.endswith("risk") or row.label.startswith("Attribute-inference risk"):
        return replace(row, direction=LOWER)
    return replace(row, direction=_DIRECTIONS.get(row.label, row.direction or CONTEXT))


_SECTIONS: dict[str, Callable[[Mapping[str, Any]], list[Row | None]]] = {
    "fidelity": _fidelity, "utility": _utility, "privacy": _privacy, "fairness": _fairness,
    "plausibility": _plausibility,
}


def headline(section: str, data: Mapping[str, Any]) -> list[Row]:
    """The explained headline numbers of one report section (empty for unknown sections).

    Args:
        section: a key of ``report.json`` (``fidelity``, ``utility``, ...).
        data: that section's dict.

    Returns:
        The rows present in ``data``, in reading order.

    Example:
        >>> [r.verdict for r in headline("privacy", {"mia_auc": 0.51})]
        ['good']
    """
    build = _SECTIONS.get(section)
    if build is None or not isinstance(data, Mapping):
        return []
    return [_with_direction(r) for r in build(data) if r is not None]
