"""The ``caveats`` of a report: what its numbers do not show, in plain sentences.

Example:
    >>> notes = caveats({"pairs_counted": 0, "pairs_total": 3}, {"status": "measured"},
    ...                 {"not_measured": {}, "dcr_reference_rows": 10}, {"not_measured": {}},
    ...                 n_holdout=10, n_synthetic=10)
    >>> any("no column pair" in n for n in notes)
    True
"""

from __future__ import annotations

from typing import Any

from hygeia.evaluate._fidelity import ASSOCIATION_THRESHOLD, CORRELATION_THRESHOLD
from hygeia.evaluate._utility import NOT_MEASURED

__all__ = ["caveats"]

_SMALL_HOLDOUT = 500


def caveats(
    fidelity: dict[str, Any],
    utility: dict[str, Any],
    privacy: dict[str, Any],
    fairness: dict[str, Any],
    *,
    n_holdout: int | None,
    n_synthetic: int,
) -> list[str]:
    """Sentences a reader needs before trusting the numbers of one audit.

    Args:
        fidelity, utility, privacy, fairness: the audit's sections.
        n_holdout: holdout rows (``None`` when no holdout was given).
        n_synthetic: synthetic rows.

    Returns:
        A list of sentences, most important first.

    Example:
        >>> caveats({}, {"status": "not measured", "reason": "no outcome"}, {"not_measured": {}},
        ...         {"not_measured": {}}, n_holdout=None, n_synthetic=5)[0][:25]
        'No holdout was given: uti'
    """
    out: list[str] = []
    if n_holdout is None:
        out.append(
            "No holdout was given: utility (TSTR/TRTR), membership inference, the DCR share and per-subgroup "
            "utility gaps are not measured, because every real row was a training row and scoring on them would "
            "reward copying. Pass real rows kept out of training as the holdout to measure them."
        )
        out.append(
            "Without a holdout the singling-out, linkability and attribute-inference risks use a random guess as "
            "their control, so they show success beyond chance, not beyond what a model of the population "
            "(that generalises rather than memorises) would allow."
        )
        if fairness.get("outcome") is not None:
            out.append(
                "Fairness reports subgroup shares and outcome rates (they compare the synthetic table with the real "
                "one and need no model); per-subgroup utility gaps are not measured without a holdout."
            )
    elif n_holdout < _SMALL_HOLDOUT:
        out.append(
            f"The holdout has only {n_holdout} rows: utility, membership inference and the DCR share are noisy "
            f"at this size (see utility's gap_ci95)."
        )
    rows = privacy.get("attack_rows") or {}
    if rows.get("control") is not None and rows["control"] < rows["training"]:
        out.append(
            f"The singling-out, linkability and inference attacks target the {rows['training']} training rows and "
            f"use the {rows['control']} holdout rows as their control: a smaller control singles out and links "
            "less often than an equal-size one would, so these risks may be overstated (never understated). "
            "A holdout as large as the training set gives figures comparable with anonymeter's."
        )
    if utility.get("status") == NOT_MEASURED and n_holdout is not None:
        out.append(f"Utility is not measured: {utility.get('reason')}.")
    counted, total = fidelity.get("pairs_counted"), fidelity.get("pairs_total")
    if total:
        if counted:
            out.append(
                f"The headline pair-trend score averages the {counted} of {total} column pairs whose real "
                f"association is strong (|r| > {CORRELATION_THRESHOLD} or Cramér's V > {ASSOCIATION_THRESHOLD}, "
                "as SDMetrics' QualityReport does); the all-pairs mean is higher for any table, even one whose "
                "columns were shuffled independently."
            )
        else:
            out.append(
                f"The real table has no column pair with |r| > {CORRELATION_THRESHOLD} or Cramér's V > "
                f"{ASSOCIATION_THRESHOLD}, so there is no headline pair-trend score; the all-pairs mean says little."
            )
    out.append(
        "Manifold precision and recall measure realism and coverage, not novelty: a verbatim copy of the training "
        "rows scores as well as an independent draw (the *_reference values), or better. Memorisation shows in the "
        "privacy section (exact copies, DCR, membership inference)."
    )
    ref = privacy.get("dcr_reference_rows")
    if ref is not None:
        out.append(
            f"DCR and NNDR are measured against {ref} training rows (the whole training set up to 50,000 rows), "
            f"for up to 5,000 synthetic rows of {n_synthetic}."
        )
    return out
