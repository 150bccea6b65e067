"""Zero-concentrated differential privacy (zCDP) accounting for the DP table generator.

The synthesizer spends a budget ``rho`` (zCDP, Bun & Steinke 2016) on Gaussian
measurements and exponential-mechanism selections; zCDP composes by adding
``rho``. The user's ``(epsilon, delta)`` is turned into the largest ``rho``
whose guarantee is ``(epsilon, delta)``-DP, and the ``rho`` actually spent is
turned back into the ``epsilon`` it guarantees at that ``delta``.

Formulas (neighbouring tables differ by adding or removing one row):

* Gaussian mechanism, L2 sensitivity ``s``, noise ``N(0, sigma^2)``:
  ``rho = s^2 / (2 sigma^2)`` (Bun & Steinke 2016, Prop. 1.6), so
  ``sigma = s / sqrt(2 rho)``.
* Exponential mechanism with parameter ``epsilon`` (choose ``r`` with
  probability proportional to ``exp(epsilon * q(r) / (2 s))``, ``s`` the
  sensitivity of the scores) is ``epsilon``-bounded-range, hence
  ``epsilon^2 / 8``-zCDP (Cesar & Rogers 2021, Lemma 3.2): ``epsilon = sqrt(8 rho)``.
* zCDP to (epsilon, delta)-DP: ``rho``-zCDP is ``(epsilon, delta)``-DP with
  ``delta = inf_{a > 1} exp((a - 1)(a rho - epsilon)) / (a - 1) * (1 - 1/a)^a``
  (Canonne, Kamath & Steinke 2020, Prop. 12 / Cor. 13), tighter than the
  classic ``epsilon = rho + 2 sqrt(rho log(1/delta))`` (Bun & Steinke, Prop. 1.3).

Example:
    >>> rho = rho_from_epsilon(1.0, 1e-9)
    >>> round(rho, 5)
    0.01497
    >>> abs(epsilon_from_rho(rho, 1e-9) - 1.0) < 1e-6
    True
    >>> acct = ZCDPAccountant(rho)
    >>> m = acct.spend_gaussian(rho / 2, "one-way age")
    >>> round(m["sigma"], 3), round(acct.remaining / rho, 3)
    (8.172, 0.5)
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "ZCDPAccountant",
    "delta_from_rho",
    "epsilon_bun_steinke",
    "epsilon_from_rho",
    "exponential_epsilon",
    "gaussian_rho",
    "gaussian_sigma",
    "rho_from_epsilon",
]

_BISECTIONS = 200


def _log_delta_at(alpha: float, rho: float, epsilon: float) -> float:
    """log of the CKS bound on delta at Rényi order ``alpha`` (> 1)."""
    return (alpha - 1.0) * (alpha * rho - epsilon) + alpha * math.log1p(-1.0 / alpha) - math.log(alpha - 1.0)


def delta_from_rho(rho: float, epsilon: float) -> float:
    """The smallest ``delta`` for which ``rho``-zCDP implies ``(epsilon, delta)``-DP (CKS 2020).

    The bound is minimised over the Rényi order ``a``; its logarithm is convex in
    ``a`` with derivative ``(2a - 1) rho - epsilon + log(1 - 1/a)``, found by bisection.
    """
    if rho < 0 or epsilon < 0:
        raise ValueError(f"rho and epsilon must be non-negative; got rho={rho}, epsilon={epsilon}")
    if rho == 0:
        return 0.0
    if math.isinf(rho):
        return 1.0

    def slope(a: float) -> float:
        return (2.0 * a - 1.0) * rho - epsilon + math.log1p(-1.0 / a)

    lo, hi = 1.0 + 1e-12, max(2.0, (epsilon / rho + 1.0) / 2.0 + 1.0)
    while slope(hi) < 0:
        hi *= 2.0
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if slope(mid) < 0:
            lo = mid
        else:
            hi = mid
    log_delta = min(_log_delta_at(hi, rho, epsilon), _log_delta_at(max(lo, 1.0 + 1e-12), rho, epsilon))
    return 1.0 if log_delta >= 0 else math.exp(log_delta)


def epsilon_bun_steinke(rho: float, delta: float) -> float:
    """The classic conversion ``rho + 2 sqrt(rho log(1/delta))`` (looser than :func:`epsilon_from_rho`)."""
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


def epsilon_from_rho(rho: float, delta: float) -> float:
    """The smallest ``epsilon`` (rounded up) such that ``rho``-zCDP is ``(epsilon, delta)``-DP."""
    if rho == 0:
        return 0.0
    lo, hi = 0.0, epsilon_bun_steinke(rho, delta)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if delta_from_rho(rho, mid) <= delta:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-12 * max(1.0, hi):
            break
    return hi


def rho_from_epsilon(epsilon: float, delta: float) -> float:
    """The largest ``rho`` (rounded down) such that ``rho``-zCDP is ``(epsilon, delta)``-DP."""
    if not (epsilon > 0 and math.isfinite(epsilon)) or not (0 < delta < 1):
        raise ValueError(f"need a finite epsilon > 0 and 0 < delta < 1; got epsilon={epsilon}, delta={delta}")
    lo, hi = 0.0, epsilon  # rho = epsilon already gives delta > 0; grow until it exceeds the target
    while delta_from_rho(hi, epsilon) <= delta:
        lo, hi = hi, hi * 2.0
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if delta_from_rho(mid, epsilon) <= delta:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(hi, 1e-300):
            break
    return lo


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """Noise standard deviation of a Gaussian measurement that costs ``rho`` (``s / sqrt(2 rho)``)."""
    if rho <= 0:
        raise ValueError(f"rho must be positive; got {rho}")
    return sensitivity / math.sqrt(2.0 * rho)


def gaussian_rho(sigma: float, sensitivity: float = 1.0) -> float:
    """zCDP cost of Gaussian noise ``sigma`` on a query of L2 sensitivity ``s`` (``s^2 / (2 sigma^2)``)."""
    return sensitivity**2 / (2.0 * sigma**2)


def exponential_epsilon(rho: float) -> float:
    """Parameter of an exponential mechanism that costs ``rho`` (``sqrt(8 rho)``)."""
    return math.sqrt(8.0 * rho)


class ZCDPAccountant:
    """Keeps the ledger of one fit: the budget, each mechanism's cost, what remains.

    Args:
        rho: the total zCDP budget.

    Every ``spend_*`` call records one entry (its label, mechanism, cost and
    noise) and refuses to overspend (beyond floating-point rounding).
    """

    def __init__(self, rho: float) -> None:
        self.rho = float(rho)
        self.entries: list[dict[str, Any]] = []

    @property
    def spent(self) -> float:
        return math.fsum(e["rho"] for e in self.entries)

    @property
    def remaining(self) -> float:
        return max(0.0, self.rho - self.spent)

    def _record(self, entry: dict[str, Any]) -> dict[str, Any]:
        if entry["rho"] <= 0:
            raise ValueError(f"a mechanism must cost a positive rho; got {entry['rho']} for {entry['label']!r}")
        if self.spent + entry["rho"] > self.rho * (1.0 + 1e-9):
            raise ValueError(
                f"privacy budget exceeded: {entry['label']!r} needs rho={entry['rho']:.6g} "
                f"but only {self.remaining:.6g} of {self.rho:.6g} remains"
            )
        self.entries.append(entry)
        return entry

    def spend_gaussian(self, rho: float, label: str, *, sensitivity: float = 1.0, step: str = "") -> dict[str, Any]:
        """Record a Gaussian measurement costing ``rho``; returns the entry, with its ``sigma``."""
        return self._record({
            "step": step, "label": label, "mechanism": "gaussian", "rho": float(rho),
            "l2_sensitivity": float(sensitivity), "sigma": gaussian_sigma(rho, sensitivity),
        })

    def spend_exponential(self, rho: float, label: str, *, sensitivity: float = 1.0, step: str = "") -> dict[str, Any]:
        """Record an exponential-mechanism selection costing ``rho``; returns the entry, with its ``epsilon``."""
        return self._record({
            "step": step, "label": label, "mechanism": "exponential", "rho": float(rho),
            "score_sensitivity": float(sensitivity), "epsilon": exponential_epsilon(rho),
        })
