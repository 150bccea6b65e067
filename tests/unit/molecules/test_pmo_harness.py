"""The resumable PMO harness of benchmarks/molecules.py (--part pmo): runs appended, skipped when present."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("rdkit")

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
