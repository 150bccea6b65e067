"""REINVENT on a tiny prior: improvement, budget, determinism, mode-collapse stop, diversity filter."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from rdkit import Chem

from hygeia.errors import ConfigError
from hygeia.molecules.data import zinc250k
from hygeia.molecules.lm import ChemicalLM
from hygeia.molecules.optimize import DiversityFilter, Oracle, Reinvent

torch.set_num_threads(1)


def polar_fraction(smiles: list[str]) -> list[float]:
    """Share of heavy atoms that are N or O: an objective a tiny model can learn in a few steps."""
    out = []
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        out.append(sum(a.GetSymbol() in ("N", "O") for a in mol.GetAtoms()) / mol.GetNumAtoms())
    return out


@pytest.fixture(scope="module")
def small_molecules() -> list[str]:
    return [s for s in zinc250k() if len(s) <= 22][:500]


@pytest.fixture(scope="module")
def prior(small_molecules) -> ChemicalLM:
    return ChemicalLM(representation="selfies", hidden_dim=32, embedding_dim=16, num_layers=1, max_steps=20,
                      epochs=None, batch_size=32, learning_rate=1e-2, validation_fraction=0.0,
                      seed=0).fit(small_molecules)


@pytest.fixture(scope="module")
def smiles_prior(small_molecules) -> ChemicalLM:
    return ChemicalLM(representation="smiles", hidden_dim=32, embedding_dim=16, num_layers=1, max_steps=20,
                      epochs=None, batch_size=32, learning_rate=1e-2, validation_fraction=0.0,
                      seed=0).fit(small_molecules)


def test_reinvent_raises_the_mean_score_within_a_few_steps(prior):
    oracle = Oracle(polar_fraction, budget=5_000)
    result = Reinvent(prior=prior, batch_size=32, sigma=100, learning_rate=5e-3, max_steps=10).optimize(oracle,
                                                                                                       seed=0)
    means = [s["mean_score"] for s in result.steps]
    assert result.stop_reason == "max_steps" and len(means) == 10
    assert np.mean(means[-3:]) > np.mean(means[:3]) + 0.05
    assert all(Chem.MolFromSmiles(m) is not None for m in result.smiles)


def test_prior_is_left_untouched(prior):
    before = {k: v.clone() for k, v in prior.module_.state_dict().items()}
    Reinvent(prior=prior, batch_size=16, max_steps=2).optimize(Oracle(polar_fraction), seed=1)
    after = prior.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.requires_grad for p in prior.module_.parameters())


def test_same_seed_same_run(prior):
    def run(seed):
        return Reinvent(prior=prior, batch_size=16, max_steps=3).optimize(Oracle(polar_fraction), seed=seed)

    first, again, other = run(5), run(5), run(6)
    assert first.smiles == again.smiles and first.scores.tolist() == again.scores.tolist()
    assert [s["loss"] for s in first.steps] == [s["loss"] for s in again.steps]
    assert first.smiles != other.smiles


def test_budget_stops_the_run(prior):
    oracle = Oracle(polar_fraction, budget=40)
    result = Reinvent(prior=prior, batch_size=16).optimize(oracle, seed=0)
    assert result.stop_reason == "budget" and result.metrics["n_calls"] == 40 and oracle.finished


def test_smiles_prior_invalid_samples_score_zero_and_cost_nothing(smiles_prior):
    oracle = Oracle(polar_fraction, budget=1_000)
    result = Reinvent(prior=smiles_prior, batch_size=32, max_steps=3).optimize(oracle, seed=0)
    assert oracle.n_invalid > 0  # a barely trained SMILES model writes broken strings...
    assert all(Chem.MolFromSmiles(s) is not None for s in result.smiles)  # ...which are never scored
    # every distinct sample went to the oracle: invalid (free), repeated (free) or new (one call each)
    assert sum(s["sampled"] for s in result.steps) == oracle.n_invalid + oracle.n_repeats + oracle.n_calls
    assert sum(s["new"] for s in result.steps) == oracle.n_calls


def test_mode_collapse_stops_the_run(small_molecules):
    # A model that only knows ethanol keeps proposing it: after the first batch nothing is new.
    parrot = ChemicalLM(representation="selfies", hidden_dim=16, embedding_dim=8, num_layers=1, max_steps=60,
                        epochs=None, batch_size=16, learning_rate=3e-2, validation_fraction=0.0,
                        seed=0).fit(["CCO"] * 50)
    oracle = Oracle(polar_fraction, budget=1_000)
    result = Reinvent(prior=parrot, batch_size=16, patience=3, min_new_fraction=0.5,
                      max_steps=50).optimize(oracle, seed=0)
    assert result.stop_reason == "mode_collapse" and len(result.steps) < 50
    assert result.metrics["n_calls"] < 50


def test_transfer_learning_first(prior, small_molecules):
    result = Reinvent(prior=prior, batch_size=16, max_steps=2, fine_tune_smiles=small_molecules[:50],
                      fine_tune_steps=3).optimize(Oracle(polar_fraction), seed=0)
    assert len(result.steps) == 2 and result.params["fine_tune_smiles"] == "50 molecules"
    assert len(prior.training_log_) == 1  # the prior itself was not fine-tuned


def test_diversity_filter_zeroes_full_scaffold_buckets():
    df = DiversityFilter(bucket_size=2, min_score=0.5)
    smiles = ["c1ccccc1O", "c1ccccc1N", "c1ccccc1C", "c1ccccc1O", "C1CCCCC1O", "c1ccccc1F", None]
    rewards = df(smiles, np.array([0.9, 0.8, 0.7, 0.9, 0.6, 0.3, 0.0]))
    # benzene bucket fills with phenol and aniline; toluene is then zeroed, and so is phenol's repeat;
    # cyclohexanol has another scaffold, fluorobenzene scores below min_score and is left alone
    assert rewards.tolist() == [0.9, 0.8, 0.0, 0.0, 0.6, 0.3, 0.0]
    assert sorted(len(b) for b in df.buckets.values()) == [1, 2]


def test_bad_settings_are_listed_together(prior):
    msg = ("invalid Reinvent parameters:\n  - batch_size must be a positive integer; got 0\n"
           "  - sigma must be a positive number; got -1")
    with pytest.raises(ConfigError, match=re.escape(msg)):
        Reinvent(prior=prior, batch_size=0, sigma=-1).optimize(Oracle(polar_fraction), seed=0)
    with pytest.raises(ConfigError, match="prior must be a fitted ChemicalLM"):
        Reinvent(prior="my_model.ckpt").optimize(Oracle(polar_fraction), seed=0)
    with pytest.raises(ConfigError, match="optimize needs an Oracle"):
        Reinvent(prior=prior).optimize(polar_fraction, seed=0)
