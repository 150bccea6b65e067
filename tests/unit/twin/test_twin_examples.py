"""Every plan in examples/twin/ reads and passes the checks of the back-end it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.twin import SIMULATORS, check_plan, load_plan

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples" / "twin").glob("*.toml"))


def test_there_are_examples_for_each_record_backend():
    assert {load_plan(p).backend for p in EXAMPLES} >= {"bp", "pkpd", "glucose", "sepsis"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_plan_is_valid(path):
    plan = load_plan(path)
    assert plan.backend in SIMULATORS and plan.name and plan.horizon_h > 0
    check_plan(plan, SIMULATORS[plan.backend].drugs, backend=plan.backend)
