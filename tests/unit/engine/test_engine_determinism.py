"""Results depend only on the modules and the person's seed."""

from __future__ import annotations

from engine_testkit import load, run


def test_same_seed_same_record() -> None:
    a = run(load("determinism.json"), seed=42)
    b = run(load("determinism.json"), seed=42)
    assert len(a.rows) > 100
    assert a.rows == b.rows
    assert a.symptoms == b.symptoms


def test_different_seeds_different_records() -> None:
    modules = load("determinism.json")
    records = [run(modules, seed=s).rows for s in range(5)]
    assert all(records[i] != records[j] for i in range(5) for j in range(i + 1, 5))
