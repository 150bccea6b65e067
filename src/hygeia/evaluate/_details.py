"""Every number of the report that is not a headline, explained like the headline ones.

:func:`details` returns the rest of a section's scalar numbers as
:class:`~hygeia.evaluate._explain.Row` objects (label, value, sentence,
verdict, direction); :func:`column_rows` and :func:`pair_rows` judge each
column's shape and each column pair's trend; :func:`subgroup_verdicts` judges
each fairness subgroup. Thresholds are the ones in ``docs/evaluate.md``.

Example:
    >>> [(r.label, r.verdict) for r in details("utility", {"ratio": 0.97, "n_test": 100})]
    [('TSTR / TRTR', 'good'), ('Holdout rows scored', 'context')]
    >>> column_rows({"column_shapes_detail": {"age": 0.72}})[0].verdict
    'poor'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hygeia.evaluate._explain import (
    CONTEXT,
    HIGHER,
    LOWER,
    NOT_MEASURED,
    YARDSTICK,
    Row,
    _f,
    _num,
)

__all__ = ["SMALL_GROUP", "column_rows", "details", "pair_rows", "subgroup_verdicts"]

#: Subgroups with fewer rows than this (real, synthetic or holdout) are flagged as too small to judge.
SMALL_GROUP = 30


def _judge(v: Any, good: float, fair: float, *, higher: bool) -> str:
    n = _num(v)
    if n is None:
        return "—"
    if higher:
        return "good" if n >= good else "fair" if n >= fair else "poor"
    return "good" if n <= good else "fair" if n <= fair else "poor"


def _ctx(label: str, value: Any, sentence: str, verdict: str = "context") -> Row:
    return Row(label, value, sentence, verdict, YARDSTICK if verdict == "reference" else CONTEXT)


def _fidelity(d: Mapping[str, Any]) -> list[Row]:
    rows = []
    if d.get("pairs_total") is not None:
        rows.append(_ctx("Pairs in the headline", f"{d.get('pairs_counted')} of {d.get('pairs_total')}",
                         "Column pairs whose real association is strong enough to count in the headline pair-trend "
                         "score (|r| > 0.5 or Cramér's V > 0.3)."))
    for key, what in (("precision", "precision"), ("recall", "recall")):
        if f"manifold_{key}_reference" in d:
            rows.append(_ctx(f"Reference {what}", d[f"manifold_{key}_reference"], f"Manifold {what} of one half of "
                             "the real rows against the other half: what an independent draw scores.", "reference"))
    if "manifold_n_rows" in d:
        rows.append(_ctx("Manifold rows", d["manifold_n_rows"], f"Rows per table used for precision and recall "
                         f"(k = {d.get('manifold_k', '—')} nearest neighbours)."))
    return rows


def _utility(d: Mapping[str, Any]) -> list[Row]:
    if d.get("status") == NOT_MEASURED:
        return []
    rows = []
    if "ratio" in d:
        rows.append(Row("TSTR / TRTR", d["ratio"], "Share of the real-data score kept by training on synthetic data; "
                        "0.95 or more is good, 0.9 or more fair.", _judge(d["ratio"], 0.95, 0.9, higher=True), HIGHER))
    if "n_test" in d:
        rows.append(_ctx("Holdout rows scored", d["n_test"], f"Rows of the holdout both models were tested on "
                         f"({d.get('task', 'task')}, {d.get('metric', 'score')}, target {d.get('target')})."))
    return rows


def _attack_context(res: Mapping[str, Any], label: str) -> Row | None:
    if "attack_rate" not in res:
        return None
    note = f" {str(res['note']).capitalize()}." if res.get("note") else ""
    return _ctx(f"{label}: success rates", f"{_f(res.get('attack_rate'))} / {_f(res.get('control_rate'))} / "
                f"{_f(res.get('baseline_rate'))}", f"Attack, control and random-guess success rates over "
                f"{res.get('n_attacks', '—')} attacks; the risk compares the first two.{note}")


def _privacy(d: Mapping[str, Any]) -> list[Row]:
    rows = []
    if "holdout_exact_copy_rate" in d:
        rows.append(_ctx("Holdout exact copies", d["holdout_exact_copy_rate"], "Share of holdout rows identical to a "
                         "training row: duplicates the real data itself has, the floor for exact copies.", "reference"))
    if "nndr_mean" in d:
        rows.append(Row("Mean NNDR", d["nndr_mean"], "Mean ratio of the nearest to the second-nearest training "
                        "distance; 0.5 or more is good, below 0.2 poor.", _judge(d["nndr_mean"], 0.5, 0.2, higher=True),
                        HIGHER))
    if "dcr_median_synthetic_to_holdout" in d:
        rows.append(_ctx("Median DCR to holdout", d["dcr_median_synthetic_to_holdout"], "Median distance from a "
                         "synthetic row to its closest holdout row; much larger than the median DCR to training rows "
                         "means synthetic rows sit closer to the rows the generator saw.", "reference"))
    if "dcr_share_expected" in d:
        rows.append(_ctx("Expected DCR share", d["dcr_share_expected"], "The DCR share of a generator that does not "
                         "copy: the training rows' share of training and holdout rows together.", "reference"))
    if "dcr_reference_rows" in d:
        rows.append(_ctx("Training rows for DCR", d["dcr_reference_rows"], "Training rows each synthetic row's "
                         "distances are measured against."))
    attack = d.get("attack_rows")
    if isinstance(attack, Mapping):
        rows.append(_ctx("Attack rows", f"{attack.get('training')} / {attack.get('control') or '—'}",
                         "Training rows the singling-out, linkability and inference attacks target, and control rows "
                         "(holdout) they are compared with."))
    for key, label in (("singling_out", "Singling out"), ("linkability", "Linkability")):
        if isinstance(d.get(key), Mapping):
            rows.append(_attack_context(d[key], label))
    for secret, res in (d.get("attribute_inference") or {}).items():
        if isinstance(res, Mapping):
            rows.append(_attack_context(res, f"Attribute inference ({secret})"))
    if d.get("attribute_inference_note"):
        rows.append(_ctx("Attribute inference", NOT_MEASURED, str(d["attribute_inference_note"]).capitalize() + ".",
                         NOT_MEASURED))
    k = d.get("k_anonymity")
    if isinstance(k, Mapping):
        qi = ", ".join(map(str, k.get("quasi_identifiers") or []))
        if "k_real" in k:
            rows.append(_ctx("k-anonymity of the real rows", k["k_real"], f"The same on the real training rows "
                             f"(quasi-identifiers {qi}): k = 1 there too means the columns themselves single "
                             "people out.", "reference"))
        share = k.get("share_rows_in_classes_below_5")
        if share is not None:
            rows.append(Row("Rows in groups below 5", share, f"Share of synthetic rows whose {qi} combination is "
                            "shared by fewer than 5 rows; up to 0.01 is good, up to 0.05 fair.",
                            _judge(share, 0.01, 0.05, higher=False), LOWER))
        for secret, ell in (k.get("l_diversity") or {}).items():
            rows.append(Row(f"l-diversity ({secret})", ell, f"Fewest distinct values of {secret} in one group of "
                            "rows sharing the quasi-identifiers; 1 means the group reveals it; 3 or more is good.",
                            _judge(ell, 3, 2, higher=True), HIGHER))
    return [r for r in rows if r is not None]


def _fairness(d: Mapping[str, Any]) -> list[Row]:
    rows = []
    if d.get("columns"):
        rows.append(_ctx("Audited columns", ", ".join(map(str, d["columns"])), "Columns whose groups are compared "
                         "(numbers cut into bands: clinical age bands, else real quartiles)."))
    outcome = d.get("outcome")
    if isinstance(outcome, Mapping) and outcome:
        pos = f", rate of {outcome['positive']!r}" if outcome.get("positive") is not None else ""
        rows.append(_ctx("Outcome", f"{outcome.get('task')}{pos}", "What the outcome-rate error compares."))
    small = [g for g in d.get("subgroups") or [] if subgroup_verdicts(g).get("small")]
    if d.get("subgroups"):
        rows.append(Row("Subgroups under 30 rows", len(small), "Subgroups too small for their errors to mean much "
                        "(fewer than 30 real, synthetic or holdout rows); 0 is good.",
                        "good" if not small else "fair", LOWER))
    return rows


def _plausibility(d: Mapping[str, Any]) -> list[Row]:
    if "total_checked" not in d:
        return []
    applicable = [r for r in d.get("rules") or [] if r.get("applicable", True)]
    return [_ctx("Facts checked", d["total_checked"], f"Facts the {len(applicable)} applicable rules could check; "
                 f"{d.get('total_violations', 0)} broke a rule.")]


_SECTIONS = {"fidelity": _fidelity, "utility": _utility, "privacy": _privacy, "fairness": _fairness,
             "plausibility": _plausibility}


def details(section: str, data: Mapping[str, Any]) -> list[Row]:
    """The explained non-headline numbers of one report section (empty for unknown sections).

    Args:
        section: a key of ``report.json``.
        data: that section's dict.

    Returns:
        Rows in reading order.
    """
    build = _SECTIONS.get(section)
    return build(data) if build is not None and isinstance(data, Mapping) else []


def column_rows(fidelity: Mapping[str, Any]) -> list[Row]:
    """One row per column: its shape score (1 − KS or 1 − TV), judged like the headline (0.9 good, 0.8 fair)."""
    detail = fidelity.get("column_shapes_detail") or {}
    if not isinstance(detail, Mapping):
        return []
    return [Row(str(c), v, "", _judge(v, 0.9, 0.8, higher=True), HIGHER) for c, v in detail.items()]


def pair_rows(fidelity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict per column pair: the pair, its metric, score, real association, whether counted, and a verdict."""
    pairs = fidelity.get("column_pair_trends_detail") or {}
    if not isinstance(pairs, Mapping):
        return []
    out = [{"pair": k, "metric": v.get("metric"), "score": v.get("score"),
            "real association": v.get("real_association"), "in headline": v.get("counted"),
            "verdict": _judge(v.get("score"), 0.9, 0.8, higher=True)}
           for k, v in pairs.items() if isinstance(v, Mapping)]
    return sorted(out, key=lambda r: (not r["in headline"], _num(r["score"]) if _num(r["score"]) is not None else 2))


def subgroup_verdicts(group: Mapping[str, Any]) -> dict[str, Any]:
    """Verdicts of one fairness subgroup's errors, and whether it is too small to judge.

    Returns:
        ``{"representation": v, "outcome": v, "utility": v, "small": bool}``.
    """
    sizes = [_num(group.get(k)) for k in ("n_real", "n_synthetic", "n_holdout")]
    small = any(n is not None and n < SMALL_GROUP for n in sizes)
    return {
        "representation": _judge(group.get("representation_error"), 0.02, 0.05, higher=False),
        "outcome": _judge(group.get("outcome_rate_error"), 0.03, 0.1, higher=False),
        "utility": _judge(group.get("utility_gap"), 0.05, 0.1, higher=False),
        "small": small,
    }
