"""The diagnostic model: propagated probabilities, background and excluded terms, posterior, information gain."""

from __future__ import annotations

import doctest
import math
import re

import numpy as np
import pytest

from hygeia.errors import ConfigError
from hygeia.tutor import _bayes
from hygeia.tutor._bayes import DiagnosticModel, top1_credit
from hygeia.tutor._case import Case, CaseFinding, Patient
from hygeia.tutor._hpo import DEFAULT_FREQUENCY, load_knowledge

MARFAN = "ORPHA:558"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture(scope="module")
def orpha(kb):
    return DiagnosticModel(kb, "ORPHA")


def test_doctests():
    assert doctest.testmod(_bayes).failed == 0


def test_ancestor_propagation_is_noisy_or(kb, orpha):
    # every phenotypic ancestor of Marfan's annotations: P = 1 - prod(1 - f) over the annotated terms at or below it
    d = kb.disease(MARFAN)
    freqs = {p.hpo: (DEFAULT_FREQUENCY if p.frequency is None else p.frequency) for p in d.phenotypes}
    checked = 0
    for t in ["HP:0000478", "HP:0001626", "HP:0000924", "HP:0001166"]:  # eye, cardiovascular, skeletal, arachnodactyly
        below = [f for a, f in freqs.items() if t in kb.ancestors(a)]
        expected = 1.0 - math.prod(1.0 - min(f, 1 - 1e-9) for f in below)
        assert orpha.probability(MARFAN, t) == pytest.approx(expected, abs=1e-9)
        checked += bool(below)
    assert checked == 4
    # nothing at or below the term: zero
    assert orpha.probability(MARFAN, "HP:0000007") == 0.0 or "HP:0000007" not in orpha.term_index


def test_background_and_excluded_terms(kb, orpha):
    # a disease with an excluded (NOT) term drops far more on observing it than one that just lacks it
    d = next(x for x in kb.diseases.values() if x.source == "ORPHA" and x.excluded and x.excluded[0] in orpha.term_index
             and len(x.phenotypes) > 5)
    e = d.excluded[0]
    i = orpha.index[d.id]
    base = orpha.log_posterior([])
    after = orpha.log_posterior([e])
    drop = after[i] - base[i]
    assert drop == pytest.approx(math.log(orpha.excluded / orpha.background))
    # a disease that neither has nor excludes the term is unchanged (the background is the reference)
    lacking = next(j for j, did in enumerate(orpha.ids) if orpha.probability(did, e) == 0 and orpha.E[j, orpha.term_index[e]] == 0)
    assert after[lacking] == base[lacking]


def test_posterior_ranks_marfan_and_is_normalized(orpha):
    post = orpha.posterior(["HP:0001166", "HP:0001083", "HP:0002647"])
    assert post[0][0] == MARFAN
    assert sum(p for _, p in post) == pytest.approx(1.0)
    assert len(post) == orpha.n_diseases


def test_reduce_keeps_specific_positives_and_general_negatives(kb, orpha):
    pos, neg = orpha.reduce(["HP:0001166", "HP:0001238", "HP:0001167"],  # arachnodactyly, slender finger, hand
                            ["HP:0000478", "HP:0000518", ("HP:0001250", "history")])  # eye, cataract, seizure
    assert pos == ["HP:0001166"]
    assert neg == [("HP:0000478", None), ("HP:0001250", "history")]


def test_posterior_covers_every_disease_and_is_repeatable(kb):
    # its speed is measured by benchmarks/tutor.py (no timed assertion here)
    m = DiagnosticModel(kb)
    assert m.n_diseases > 12_000
    pos, neg = ["HP:0001166", "HP:0001083", "HP:0001250", "HP:0000365"], ["HP:0001249", "HP:0000478"]
    first = m.log_posterior(pos, neg)
    assert len(first) == m.n_diseases and (m.log_posterior(pos, neg) == first).all()


def test_information_gain_prefers_a_term_that_splits_the_top(orpha):
    lp = orpha.log_posterior(["HP:0001166"])            # arachnodactyly: many candidates
    gains = orpha.information_gain(lp, k=30)
    assert gains and all(0.0 <= g <= 1.0 + 1e-9 for _, g in gains)
    assert gains[0][1] == max(g for _, g in gains)
    # asking it again is excluded; a term shared by nobody in the top k is not a candidate
    top = gains[0][0]
    assert top not in dict(orpha.information_gain(lp, k=30, exclude=[top]))
    # a term every top candidate has with the same probability gains nothing
    lp_one = np.full(orpha.n_diseases, -1e9)
    lp_one[orpha.index[MARFAN]] = 0.0
    assert max(g for _, g in orpha.information_gain(lp_one, k=1)) == pytest.approx(0.0, abs=1e-9)


def test_top1_credit_shares_ties():
    assert top1_credit(np.array([1.0, 3.0, 3.0, 3.0]), 2) == pytest.approx(1 / 3)
    assert top1_credit(np.array([1.0, 3.0]), 1) == 1.0
    assert top1_credit(np.array([1.0, 3.0]), 0) == 0.0


def _finding(kb, hpo, present=True):
    return CaseFinding(hpo, kb.term(hpo).name, present, "history", kb.system(hpo))


def test_discriminating_findings_of_a_marfan_case(kb, orpha):
    case = Case("c1", {"id": MARFAN, "name": "Marfan syndrome"}, Patient(17, "male", "tall and chest pain"),
                [_finding(kb, "HP:0001166"), _finding(kb, "HP:0001083"), _finding(kb, "HP:0000098"),
                 _finding(kb, "HP:0002647"), _finding(kb, "HP:0001249", present=False)])
    out = orpha.discriminating(case, 3)
    assert 1 <= len(out) <= 3
    assert all(d.llr > 0 and d.versus != MARFAN for d in out)
    assert out == sorted(out, key=lambda d: -d.llr)
    assert "HP:0001083" in {d.hpo for d in out}            # ectopia lentis separates Marfan from its mimics
    assert out[0].to_dict()["versus_name"]


def test_sampled_cases_are_diagnosed(kb, orpha):
    # cases drawn straight from the annotations (present findings only): the posterior puts the disease first
    rng = np.random.default_rng(20261206)
    eligible = [d for d in orpha.ids if len(kb.diseases[d].phenotypes) >= 10]
    credit = []
    for did in rng.choice(eligible, 60, replace=False):
        pos = [p.hpo for p in kb.diseases[did].phenotypes
               if rng.random() < (DEFAULT_FREQUENCY if p.frequency is None else p.frequency)]
        credit.append(top1_credit(orpha.log_posterior(pos), orpha.index[did]))
    assert np.mean(credit) >= 0.85


def test_errors_name_the_problem(kb, orpha):
    with pytest.raises(ConfigError, match=re.escape("unknown disease namespace 'ICD'")):
        DiagnosticModel(kb, "ICD")
    with pytest.raises(ConfigError, match=re.escape("background=0.7")):
        DiagnosticModel(kb, [MARFAN], background=0.7)
    with pytest.raises(ConfigError, match="without channel_of"):
        orpha.log_posterior([], [("HP:0000478", "history")])
    case = Case("c2", {"id": "OMIM:154700"}, Patient(1, "male", ""), [])
    with pytest.raises(ConfigError, match=re.escape("'OMIM:154700' is not a candidate")):
        orpha.discriminating(case)


def test_twins_share_the_top1_credit(kb, orpha):
    group = next(g for g in orpha._twin_groups.values() if len(g) > 1)
    assert orpha.twins(group[0]) == group
    assert orpha.top1([group[1]], group[0]) == pytest.approx(1 / len(group))
    assert orpha.top1([MARFAN], MARFAN) == 1.0 and orpha.top1([], MARFAN) == 0.0
    assert orpha.top1(["ORPHA:394"], MARFAN) == 0.0


def test_extra_candidates_outside_the_annotations(kb):
    from hygeia.tutor._hpo import Disease, Phenotype

    flu = Disease("HYGEIA:test_flu", "Test influenza", (Phenotype("HP:0001945", 0.9), Phenotype("HP:0012735", 0.8)))
    m = DiagnosticModel(kb, [MARFAN, "ORPHA:394"], extra=[flu])
    assert m.n_diseases == 3 and m.disease("HYGEIA:test_flu") is flu
    assert m.posterior(["HP:0001945", "HP:0012735"])[0][0] == "HYGEIA:test_flu"     # fever, cough
