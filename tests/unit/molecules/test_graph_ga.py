"""Graph GA: valid crossover and mutation products, improvement within a small budget, determinism, stops."""

from __future__ import annotations

import random
import re

import pytest
from rdkit import Chem
from rdkit.Chem.rdMolDescriptors import CalcNumRings

from hygeia.errors import ConfigError
from hygeia.molecules.data import zinc250k
from hygeia.molecules.objectives import objective
from hygeia.molecules.optimize import GraphGA, Oracle, crossover, mutate


@pytest.fixture(scope="module")
def pool() -> list[str]:
    return zinc250k()[:2000]


def _acceptable(mol: Chem.Mol, max_atoms: int) -> bool:
    back = Chem.MolFromSmiles(Chem.MolToSmiles(mol))
    rings = back.GetRingInfo().AtomRings() if back is not None else ()
    return (back is not None and back.GetNumAtoms() <= max_atoms and len(Chem.GetMolFrags(back)) == 1
            and all(3 <= len(r) <= 7 for r in rings))


def test_crossover_and_mutation_products_sanitize_and_respect_the_limits(pool):
    rng = random.Random(0)
    mols = [Chem.MolFromSmiles(s) for s in pool[:100]]
    children = [crossover(*rng.sample(mols, 2), rng, max_heavy_atoms=40) for _ in range(100)]
    mutants = [mutate(rng.choice(mols), rng, max_heavy_atoms=40) for _ in range(100)]
    made = [m for m in children + mutants if m is not None]
    assert len(made) >= 180  # they rarely give up
    assert all(_acceptable(m, 40) for m in made)
    parents = {Chem.MolToSmiles(m) for m in mols}
    assert len({Chem.MolToSmiles(m) for m in made} - parents) >= 150  # mostly new molecules


def test_ring_crossover_makes_new_rings():
    rng = random.Random(1)
    a, b = Chem.MolFromSmiles("c1ccccc1"), Chem.MolFromSmiles("C1CCNCC1")
    products = {Chem.MolToSmiles(m) for m in (crossover(a, b, rng) for _ in range(40)) if m is not None}
    # The parents have no acyclic single bond: every child comes from the ring cut and holds a ring.
    assert products and all(CalcNumRings(Chem.MolFromSmiles(s)) == 1 for s in products)
    assert any("N" in s for s in products)


def test_ga_improves_on_its_initial_population_within_300_calls(pool):
    oracle = Oracle(objective("celecoxib_rediscovery"), budget=300)
    result = GraphGA(population_size=30, offspring_size=30, initial_size=100,
                     initial_population=pool).optimize(oracle, seed=0)
    assert result.stop_reason == "budget" and result.metrics["n_calls"] == 300
    initial_best = max(result.scores[:100])
    assert max(result.scores[100:]) > initial_best + 0.05
    assert result.metrics["top10"] > sorted(result.scores[:100])[-10:][0]
    assert oracle.n_invalid == 0  # every proposed molecule sanitized
    assert all(Chem.MolFromSmiles(s) is not None for s in result.smiles)
    assert result.steps and result.steps[-1]["n_calls"] <= 300


def test_same_seed_same_run_other_seed_other_run(pool):
    def run(seed):
        oracle = Oracle(objective("perindopril_mpo"), budget=60)
        ga = GraphGA(population_size=10, offspring_size=10, initial_size=20, initial_population=pool)
        return ga.optimize(oracle, seed=seed)

    first, again, other = run(7), run(7), run(8)
    assert first.smiles == again.smiles and first.scores.tolist() == again.scores.tolist()
    assert first.smiles != other.smiles
    assert first.seed == 7


def test_stops_when_no_new_molecule_comes_and_after_max_generations(pool):
    # Methane has no bond to cut: no child can be made, so the run stalls.
    stalled = GraphGA(initial_population=["C"], patience=2).optimize(Oracle(objective("amlodipine_mpo")), seed=0)
    assert stalled.stop_reason == "no_new_molecules" and stalled.metrics["n_calls"] == 1
    capped = GraphGA(population_size=10, offspring_size=5, initial_size=10, max_generations=2,
                     initial_population=pool).optimize(Oracle(objective("amlodipine_mpo")), seed=0)
    assert capped.stop_reason == "max_steps" and len(capped.steps) == 2


def test_bad_settings_are_listed_together():
    msg = ("invalid GraphGA parameters:\n  - population_size must be a positive integer; got 0\n"
           "  - mutation_rate must be in [0, 1]; got 2\n  - selection must be 'score' or 'rank'; got 'best'")
    with pytest.raises(ConfigError, match=re.escape(msg)):
        GraphGA(population_size=0, mutation_rate=2, selection="best").optimize(Oracle(len), seed=0)
    with pytest.raises(ConfigError, match="optimize needs an Oracle; got builtin_function_or_method"):
        GraphGA().optimize(len, seed=0)
    with pytest.raises(ConfigError, match="none of the initial molecules is a valid SMILES"):
        GraphGA(initial_population=["junk(", "C1CC"]).optimize(Oracle(len), seed=0)


def test_score_selection_runs(pool):
    oracle = Oracle(objective("celecoxib_rediscovery"), budget=80)
    result = GraphGA(population_size=20, offspring_size=20, initial_size=40, selection="score",
                     initial_population=pool).optimize(oracle, seed=3)
    assert result.metrics["n_calls"] == 80 and result.params["selection"] == "score"
