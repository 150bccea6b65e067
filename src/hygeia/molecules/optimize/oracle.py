"""A scoring oracle with a call budget, and the PMO sample-efficiency metrics.

The Practical Molecular Optimization benchmark (PMO; Gao et al., 2022, "Sample
efficiency matters") compares optimizers by how many *oracle calls* they need,
not by how many molecules they write. :class:`Oracle` wraps a score function
(``list[str] -> array`` in [0, 1]) and keeps that account:

- each SMILES is parsed and written as RDKit's canonical SMILES; one that does
  not parse scores 0 and costs nothing;
- a molecule scored before is answered from the cache and costs nothing, so a
  call counts *unique* molecules;
- once ``budget`` molecules have been scored, asking for a new one raises
  :class:`BudgetExhausted` (after scoring those of the batch that still fit), the
  signal on which every optimizer stops;
- the scored molecules are kept in call order, from which :meth:`Oracle.auc_top_k`
  computes PMO's AUC top-k and :meth:`Oracle.top_mean` the top-1/10/100 means.

AUC top-k: let ``f(c)`` be the mean of the ``k`` best scores among the first
``c`` calls (the mean of all of them while ``c < k``), with ``f(0) = 0``. ``f`` is
read every ``freq`` calls and after the last call, joined by straight lines
(trapezoids); if the run stopped before the budget, the curve is extended at its
last value up to the budget. The area is divided by the budget, so a run that
finds a molecule scoring 1 on its first call has AUC close to 1.

Example:
    >>> oracle = Oracle(lambda smiles: [len(s) / 10 for s in smiles], budget=3, freq=1, top_k=1)
    >>> oracle(["CCO", "OCC", "C1CC"]).tolist()   # OCC is ethanol again: free; C1CC does not parse
    [0.3, 0.3, 0.0]
    >>> oracle.n_calls, oracle.n_invalid
    (1, 1)
    >>> round(oracle.auc_top_k(), 4)   # (0 + 0.3) / 2 * 1, then 0.3 for the 2 calls left; / 3
    0.25
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hygeia.errors import ConfigError, HygeiaError
from hygeia.molecules.data import canonical

__all__ = ["BudgetExhausted", "OptimizationResult", "Oracle"]

ScoreFunction = Callable[[list[str]], Any]


class BudgetExhausted(HygeiaError, RuntimeError):
    """The oracle's budget of unique molecule calls is spent.

    Optimizers catch it and stop; the molecules of the batch that still fitted in
    the budget have been scored and recorded.
    """


def _positive_int(name: str, value: Any, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}. Pass e.g. {name}={example}.")
    return int(value)


class Oracle:
    """Counts, caches and records the calls of a molecule score function.

    Args:
        score_fn: scores a list of SMILES, returning one finite number per molecule
            (PMO objectives lie in [0, 1]).
        budget: how many unique valid molecules may be scored.
        freq: how often (in calls) the top-k curve is read for :meth:`auc_top_k`.
        top_k: ``k`` of the AUC top-k.

    Attributes:
        smiles: the canonical SMILES scored, in call order.
        scores: their scores, in the same order.
        n_invalid: how many proposed strings did not parse (never charged).
        n_repeats: how many valid proposals were answered from the cache.

    Raises:
        ConfigError: if ``score_fn`` is not callable or a count is not a positive integer.
    """

    def __init__(self, score_fn: ScoreFunction, budget: int = 10_000, *, freq: int = 100, top_k: int = 10) -> None:
        if not callable(score_fn):
            raise ConfigError(f"score_fn must be callable on a list of SMILES; got {score_fn!r}.")
        self.score_fn = score_fn
        self.budget = _positive_int("budget", budget, "10_000")
        self.freq = _positive_int("freq", freq, "100")
        self.top_k = _positive_int("top_k", top_k, "10")
        self.smiles: list[str] = []
        self.scores: list[float] = []
        self.n_invalid = 0
        self.n_repeats = 0
        self._cache: dict[str, float] = {}

    # -- account -------------------------------------------------------------------------------
    @property
    def n_calls(self) -> int:
        """Unique molecules scored so far (what the budget counts)."""
        return len(self.smiles)

    @property
    def remaining(self) -> int:
        """Calls left in the budget."""
        return self.budget - self.n_calls

    @property
    def finished(self) -> bool:
        """Whether the budget is spent."""
        return self.n_calls >= self.budget

    def __contains__(self, smiles: str) -> bool:
        """Whether ``smiles`` (any valid spelling) has been scored already."""
        key = canonical(smiles)
        return key is not None and key in self._cache

    # -- scoring -------------------------------------------------------------------------------
    def __call__(self, smiles: Sequence[str]) -> np.ndarray:
        """Score a batch of SMILES.

        Args:
            smiles: the molecules, any spelling; invalid ones score 0 and are not charged.

        Returns:
            One score per input, in input order.

        Raises:
            BudgetExhausted: if the batch holds more new molecules than the budget has
                left; those that fit are scored and recorded first.
            ConfigError: if ``smiles`` is a bare string, or the score function returns
                the wrong number of scores or a non-finite one.
        """
        if isinstance(smiles, str) or not isinstance(smiles, (Sequence, np.ndarray)):
            raise ConfigError(f"Oracle takes a list of SMILES; got {type(smiles).__name__} {smiles!r:.60}. "
                              "Wrap one molecule as [smiles].")
        keys: list[str | None] = [canonical(s) if isinstance(s, str) else None for s in smiles]
        new: list[str] = []
        seen: set[str] = set()
        for key in keys:
            if key is None:
                self.n_invalid += 1
            elif key in self._cache or key in seen:
                self.n_repeats += 1
            else:
                seen.add(key)
                new.append(key)
        fits = new[: max(self.remaining, 0)]
        if fits:
            values = self._score(fits)
            for key, value in zip(fits, values):
                self._cache[key] = value
                self.smiles.append(key)
                self.scores.append(value)
        if len(fits) < len(new):
            raise BudgetExhausted(
                f"the oracle budget of {self.budget} unique molecules is spent; "
                f"{len(new) - len(fits)} new molecule(s) of this batch were not scored. "
                "Create an Oracle with a larger budget to go on."
            )
        return np.array([0.0 if key is None else self._cache[key] for key in keys], dtype=float)

    def _score(self, smiles: list[str]) -> list[float]:
        raw = self.score_fn(list(smiles))
        try:
            values = np.asarray(raw, dtype=float).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"the score function returned {type(raw).__name__}, not numbers: {exc}. "
                              "It must return one number per SMILES.") from exc
        if values.shape[0] != len(smiles):
            raise ConfigError(f"the score function returned {values.shape[0]} scores for {len(smiles)} SMILES; "
                              "it must return exactly one per SMILES.")
        bad = [s for s, v in zip(smiles, values) if not math.isfinite(v)]
        if bad:
            raise ConfigError(f"the score function returned a non-finite score for {len(bad)} molecule(s), "
                              f"e.g. {bad[0]!r}; return a finite number (0 for a molecule it cannot score).")
        return [float(v) for v in values]

    # -- metrics -------------------------------------------------------------------------------
    def top_mean(self, k: int) -> float:
        """Mean of the ``k`` best scores so far (of all of them if fewer; 0 before any call)."""
        k = _positive_int("k", k, "10")
        if not self.scores:
            return 0.0
        best = np.sort(np.asarray(self.scores))[::-1][:k]
        return float(best.mean())

    def auc_top_k(self, k: int | None = None, freq: int | None = None) -> float:
        """PMO's area under the top-k curve, normalized by the budget (see the module docs).

        Args:
            k: how many best scores to average (default: ``top_k``).
            freq: calls between readings of the curve (default: ``freq``).
        """
        k = self.top_k if k is None else _positive_int("k", k, "10")
        freq = self.freq if freq is None else _positive_int("freq", freq, "100")
        scores = self.scores[: self.budget]
        n = len(scores)
        if n == 0:
            return 0.0
        checkpoints = list(range(freq, n, freq)) + [n]
        area, prev_calls, prev_value = 0.0, 0, 0.0
        best: list[float] = []  # the k best so far, sorted descending
        done = 0
        for c in checkpoints:
            for s in scores[done:c]:
                if len(best) < k or s > best[-1]:
                    best.append(s)
                    best.sort(reverse=True)
                    del best[k:]
            done = c
            value = sum(best) / len(best)
            area += (c - prev_calls) * (prev_value + value) / 2.0
            prev_calls, prev_value = c, value
        area += (self.budget - n) * prev_value
        return area / self.budget

    def summary(self) -> dict[str, float | int]:
        """The PMO figures of this run: AUC top-k, top-1/10/100 means and the call counts."""
        return {
            f"auc_top{self.top_k}": self.auc_top_k(),
            "top1": self.top_mean(1),
            "top10": self.top_mean(10),
            "top100": self.top_mean(100),
            "n_calls": self.n_calls,
            "budget": self.budget,
            "n_invalid": self.n_invalid,
            "n_repeats": self.n_repeats,
        }

    def best(self, n: int = 10) -> list[tuple[str, float]]:
        """The ``n`` best molecules scored so far, best first (ties in call order)."""
        n = _positive_int("n", n, "10")
        order = sorted(range(len(self.scores)), key=lambda i: (-self.scores[i], i))[:n]
        return [(self.smiles[i], self.scores[i]) for i in order]


@dataclass
class OptimizationResult:
    """What an optimizer returns: the oracle's history and figures, and how the run went.

    Attributes:
        optimizer: the optimizer's name (``"reinvent"``, ``"graph_ga"``...).
        seed: the seed the run used (drawn from the OS if none was given).
        stop_reason: ``"budget"``, ``"mode_collapse"``, ``"no_new_molecules"`` or ``"max_steps"``.
        smiles: the canonical SMILES scored, in call order.
        scores: their scores.
        metrics: :meth:`Oracle.summary` at the end of the run.
        steps: one dict of statistics per optimizer step (batch or generation).
        params: the optimizer's parameters.
    """

    optimizer: str
    seed: int
    stop_reason: str
    smiles: list[str]
    scores: np.ndarray
    metrics: dict[str, float | int]
    steps: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_oracle(cls, oracle: Oracle, *, optimizer: str, seed: int, stop_reason: str,
                    steps: list[dict[str, Any]], params: dict[str, Any]) -> "OptimizationResult":
        """Collect the result of a run from the oracle it used."""
        return cls(optimizer=optimizer, seed=seed, stop_reason=stop_reason, smiles=list(oracle.smiles),
                   scores=np.asarray(oracle.scores, dtype=float), metrics=oracle.summary(), steps=steps,
                   params=params)

    def top(self, n: int = 10) -> list[tuple[str, float]]:
        """The ``n`` best molecules of the run, best first."""
        order = sorted(range(len(self.scores)), key=lambda i: (-self.scores[i], i))[:n]
        return [(self.smiles[i], float(self.scores[i])) for i in order]
