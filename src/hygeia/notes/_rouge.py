"""ROUGE-1, ROUGE-2 and ROUGE-L between a candidate text and a reference (Lin 2004).

Texts are tokenized as the reference implementation (Google's ``rouge-score``) does by
default: lower case, every character other than ``a-z0-9`` a separator, no stemming.

- ROUGE-N: the n-grams the two texts share (each counted at most as often as it occurs
  in both), over the candidate's n-grams (precision) and the reference's (recall);
- ROUGE-L: the longest common subsequence of tokens, over the candidate's and the
  reference's lengths.

F1 is the harmonic mean of precision and recall (0 when both are 0).

Example:
    >>> s = rouge("the cat sat on the mat", "the cat lay on the mat")
    >>> s["rouge1"].recall, s["rouge2"].f1, s["rougeL"].precision
    (0.8333, 0.6, 0.8333)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RougeScore", "rouge", "rouge_tokens"]

_SEPARATOR = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class RougeScore:
    """Precision, recall and F1 of one ROUGE variant, rounded to 4 decimals."""

    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict[str, float]:
        """``{"precision", "recall", "f1"}``."""
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


def rouge_tokens(text: str) -> list[str]:
    """The tokens ROUGE compares: lower case, split at every character other than ``a-z0-9``.

    Example:
        >>> rouge_tokens("BP 120/80 mmHg; lisinopril 10 MG.")
        ['bp', '120', '80', 'mmhg', 'lisinopril', '10', 'mg']
    """
    return [t for t in _SEPARATOR.split(text.lower()) if t]


def _score(overlap: int, n_candidate: int, n_reference: int) -> RougeScore:
    p = overlap / n_candidate if n_candidate else 0.0
    r = overlap / n_reference if n_reference else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return RougeScore(round(p, 4), round(r, 4), round(f, 4))


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge(candidate: str, reference: str) -> dict[str, RougeScore]:
    """ROUGE-1, ROUGE-2 and ROUGE-L of ``candidate`` against ``reference``.

    Args:
        candidate: the text scored (a generated summary).
        reference: the text it is scored against.

    Returns:
        ``{"rouge1": ..., "rouge2": ..., "rougeL": ...}``, each a :class:`RougeScore`.

    Example:
        >>> rouge("no known allergies", "no known allergies")["rougeL"].f1
        1.0
        >>> rouge("", "anything")["rouge1"].f1
        0.0
    """
    c, r = rouge_tokens(candidate), rouge_tokens(reference)
    out = {}
    for n in (1, 2):
        cn, rn = _ngrams(c, n), _ngrams(r, n)
        out[f"rouge{n}"] = _score(sum((cn & rn).values()), sum(cn.values()), sum(rn.values()))
    out["rougeL"] = _score(_lcs(c, r), len(c), len(r))
    return out
