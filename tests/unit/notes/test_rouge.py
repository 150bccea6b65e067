"""ROUGE-1/2/L against hand-computed values and, where installed, Google's rouge-score."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.notes import rouge, rouge_tokens

TEXTS = [
    ("the cat sat on the mat", "the cat lay on the mat"),
    ("Admitted with community acquired pneumonia. Treated with ceftriaxone 1 G.",
     "Community acquired pneumonia. Received ceftriaxone 1 G Injection. Length of stay: 3 days."),
    ("No known allergies.", "Allergic to penicillin V."),
    ("Hemoglobin: 11.7 g/dL. Hemoglobin: 11.7 g/dL.", "Hemoglobin: 11.7 g/dL."),
    ("a b c d e f", "f e d c b a"),
]


def test_by_hand() -> None:
    s = rouge("the cat sat on the mat", "the cat lay on the mat")
    # unigrams: candidate {the:2, cat, sat, on, mat}, reference {the:2, cat, lay, on, mat}: 5 shared of 6 and 6
    assert s["rouge1"].precision == s["rouge1"].recall == pytest.approx(5 / 6, abs=1e-4)
    # bigrams: 'the cat', 'on the', 'the mat' shared: 3 of 5 each
    assert s["rouge2"].f1 == pytest.approx(0.6)
    # LCS: the cat on the mat = 5
    assert s["rougeL"].recall == pytest.approx(5 / 6, abs=1e-4)


def test_edge_cases() -> None:
    assert rouge("", "")["rouge1"].f1 == 0.0
    assert rouge("same words here", "Same, words; here!")["rougeL"].f1 == 1.0
    clipped = rouge("the the the", "the")["rouge1"]
    assert clipped.precision == pytest.approx(1 / 3, abs=1e-4) and clipped.recall == 1.0
    assert rouge_tokens("Dose: 0.5 MG/ML") == ["dose", "0", "5", "mg", "ml"]


@pytest.mark.parametrize(("candidate", "reference"), TEXTS)
def test_same_as_rouge_score(candidate: str, reference: str) -> None:
    scorer_module = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = scorer_module.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    ref = scorer.score(reference, candidate)  # rouge-score takes (target, prediction)
    ours = rouge(candidate, reference)
    for name in ("rouge1", "rouge2", "rougeL"):
        assert ours[name].precision == pytest.approx(ref[name].precision, abs=1e-4)
        assert ours[name].recall == pytest.approx(ref[name].recall, abs=1e-4)
        assert ours[name].f1 == pytest.approx(ref[name].fmeasure, abs=1e-4)

WORDS = st.lists(st.sampled_from(["the", "cat", "pain", "chest", "10", "mg", "no", "allergies", "x"]), max_size=12)


@settings(derandomize=True, max_examples=200)
@given(WORDS, WORDS)
def test_rouge_invariants(a: list[str], b: list[str]) -> None:
    ab, ba = rouge(" ".join(a), " ".join(b)), rouge(" ".join(b), " ".join(a))
    for name in ("rouge1", "rouge2", "rougeL"):
        assert 0.0 <= ab[name].precision <= 1.0 and 0.0 <= ab[name].recall <= 1.0
        assert ab[name].precision == ba[name].recall and ab[name].f1 == ba[name].f1
    assert ab["rougeL"].recall <= ab["rouge1"].recall
    if a:
        assert rouge(" ".join(a), " ".join(a))["rougeL"].f1 == 1.0
