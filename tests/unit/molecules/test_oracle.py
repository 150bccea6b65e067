"""The oracle: unique-call counting, canonical cache, budget, PMO AUC top-k on hand-computed sequences."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hygeia.errors import ConfigError
from hygeia.molecules.optimize import BudgetExhausted, OptimizationResult, Oracle

# Alkanes C1..C6: canonical SMILES are the plain strings, so tests can name the scores.
TABLE = {"C": 0.1, "CC": 0.5, "CCC": 0.3, "CCCC": 0.9, "CCCCC": 0.2, "CCCCCC": 0.4}


class Recorder:
    """A score function that looks scores up and records every batch it is asked for."""

    def __init__(self, table=TABLE):
        self.table = table
        self.batches: list[list[str]] = []

    def __call__(self, smiles):
        self.batches.append(list(smiles))
        return [self.table[s] for s in smiles]


def test_repeats_and_other_spellings_are_free_and_invalid_molecules_score_zero():
    fn = Recorder({"CCO": 0.7, "c1ccccc1": 0.2})
    oracle = Oracle(fn, budget=10)
    scores = oracle(["CCO", "OCC", "C(O)C", "not a smiles", "", "C1=CC=CC=C1", "c1ccccc1"])
    assert scores.tolist() == [0.7, 0.7, 0.7, 0.0, 0.0, 0.2, 0.2]
    assert oracle.n_calls == 2 and oracle.n_invalid == 2 and oracle.n_repeats == 3
    assert fn.batches == [["CCO", "c1ccccc1"]]  # only new molecules, canonical, once each
    assert oracle(["OCC"]).tolist() == [0.7]
    assert fn.batches == [["CCO", "c1ccccc1"]] and oracle.n_calls == 2
    assert oracle.smiles == ["CCO", "c1ccccc1"] and oracle.scores == [0.7, 0.2]
    assert "C(C)O" in oracle and "CCN" not in oracle and "junk(" not in oracle


def test_budget_scores_what_fits_then_signals_exhaustion():
    fn = Recorder()
    oracle = Oracle(fn, budget=3)
    assert oracle(["C", "CC"]).tolist() == [0.1, 0.5]
    with pytest.raises(BudgetExhausted, match="budget of 3 unique molecules is spent; 2 new molecule"):
        oracle(["CCC", "CC", "CCCC", "CCCCC"])
    assert oracle.smiles == ["C", "CC", "CCC"] and oracle.finished and oracle.remaining == 0
    assert fn.batches == [["C", "CC"], ["CCC"]]
    # Cached molecules are still answered after the budget is spent; new ones are not.
    assert oracle(["CCC", "C", "nonsense"]).tolist() == [0.3, 0.1, 0.0]
    with pytest.raises(BudgetExhausted):
        oracle(["CCCCCC"])
    assert oracle.n_calls == 3


def test_auc_top_k_on_a_hand_computed_run_that_stops_early():
    oracle = Oracle(Recorder(), budget=10, freq=2, top_k=2)
    oracle(["C", "CC", "CCC", "CCCC", "CCCCC"])  # scores 0.1 0.5 0.3 0.9 0.2
    # top-2 means: after 2 calls 0.3, after 4 calls 0.7, after 5 calls 0.7.
    # area: 2*(0+0.3)/2 + 2*(0.3+0.7)/2 + 1*(0.7+0.7)/2 + (10-5)*0.7 = 0.3+1.0+0.7+3.5 = 5.5
    assert oracle.auc_top_k() == pytest.approx(0.55)
    # Other k and freq: k=1, freq=1 -> maxima 0.1 0.5 0.5 0.9 0.9
    # area: 0.05 + 0.3 + 0.5 + 0.7 + 0.9 + 5*0.9 = 6.95
    assert oracle.auc_top_k(k=1, freq=1) == pytest.approx(0.695)


def test_auc_top_k_on_a_run_that_spends_the_whole_budget():
    oracle = Oracle(Recorder(), budget=4, freq=2, top_k=1)
    oracle(["CCC", "CCCCCC", "C", "CCCC"])  # 0.3 0.4 0.1 0.9
    # maxima at 2 and 4 calls: 0.4 and 0.9; area 2*0.4/2 + 2*(0.4+0.9)/2 = 1.7
    assert oracle.auc_top_k() == pytest.approx(1.7 / 4)


def test_auc_of_a_perfect_first_call_is_close_to_one_and_empty_run_is_zero():
    oracle = Oracle(lambda s: [1.0] * len(s), budget=100, freq=10, top_k=1)
    assert oracle.auc_top_k() == 0.0
    oracle(["CCO"])
    assert oracle.auc_top_k() == pytest.approx((0.5 + 99) / 100)


def test_top_means_and_summary():
    oracle = Oracle(Recorder(), budget=50)
    oracle(list(TABLE))
    assert oracle.top_mean(1) == 0.9
    assert oracle.top_mean(2) == pytest.approx(0.7)
    assert oracle.top_mean(100) == pytest.approx(np.mean(list(TABLE.values())))  # fewer than k: all of them
    summary = oracle.summary()
    assert summary["top1"] == 0.9 and summary["n_calls"] == 6 and summary["budget"] == 50
    assert summary["top10"] == summary["top100"] == pytest.approx(2.4 / 6)
    assert summary["auc_top10"] == pytest.approx(oracle.auc_top_k())
    assert oracle.best(2) == [("CCCC", 0.9), ("CC", 0.5)]


def test_result_collects_the_oracle_history():
    oracle = Oracle(Recorder(), budget=10)
    oracle(["CC", "C"])
    result = OptimizationResult.from_oracle(oracle, optimizer="x", seed=1, stop_reason="budget", steps=[],
                                            params={})
    assert result.smiles == ["CC", "C"] and result.scores.tolist() == [0.5, 0.1]
    assert result.top(1) == [("CC", 0.5)] and result.metrics["n_calls"] == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"budget": 0}, "budget must be a positive integer; got 0"),
    ({"budget": 2.5}, "budget must be a positive integer; got 2.5"),
    ({"freq": -1}, "freq must be a positive integer; got -1"),
    ({"top_k": True}, "top_k must be a positive integer; got True"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Oracle(Recorder(), **kwargs)
    with pytest.raises(ConfigError, match="score_fn must be callable"):
        Oracle("not callable")


def test_bad_inputs_and_bad_score_functions_are_reported():
    with pytest.raises(ConfigError, match=re.escape("Oracle takes a list of SMILES; got str 'CCO'")):
        Oracle(Recorder())("CCO")
    with pytest.raises(ConfigError, match="returned 1 scores for 2 SMILES"):
        Oracle(lambda s: [0.5])(["CCO", "CCN"])
    with pytest.raises(ConfigError, match="non-finite score for 1 molecule"):
        Oracle(lambda s: [float("nan")] * len(s))(["CCO"])
    with pytest.raises(ConfigError, match="not numbers"):
        Oracle(lambda s: ["high"] * len(s))(["CCO"])
    oracle = Oracle(lambda s: [float("nan")] * len(s))
    with pytest.raises(ConfigError):
        oracle(["CCO"])
    assert oracle.n_calls == 0  # a failed batch is not recorded
