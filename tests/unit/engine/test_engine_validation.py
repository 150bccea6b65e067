"""Validation at load: every problem in every file, in one ModuleValidationError."""

from __future__ import annotations

import re

import pytest
from engine_testkit import FIXTURES, load, marks, run

from hygeia.errors import ModuleValidationError, SimulationError
from hygeia.population.engine import load_modules

MANY = FIXTURES / "invalid_many_problems.json"
BAD_JSON = FIXTURES / "invalid_bad_json.json"

#: What load() must report for the two broken fixtures, each naming its file and state.
EXPECTED = [
    f"{MANY}: state Mystery: unknown state type 'Teleport'; known types are [",
    f"{MANY}: state Lost.direct_transition: transition to missing state 'Nowhere'",
    f"{MANY}: state Ping: states ['Ping', 'Pong'] form a loop that never advances time and cannot be left; "
    "add a Delay, a Guard or a wellness Encounter to it",
    f"{MANY}: state Table.lookup_table_transition: lookup table 'no_such_table.csv' not found at "
    f"{FIXTURES / 'lookup_tables' / 'no_such_table.csv'}",
    f"{BAD_JSON}: bad JSON at line 4 column 35: Expecting property name enclosed in double quotes",
    f"{MANY}: state Call: submodule 'nope/missing' not found (looked for nope/missing.json in a module folder)",
    f"{MANY}: state Check.conditional_transition[0].condition: unknown condition_type 'Phase Of Moon'; "
    "known types are [",
    f"{MANY}: state Wait.distribution: unknown distribution kind 'WEIBULL'; "
    "use EXACT, UNIFORM, GAUSSIAN, EXPONENTIAL or TRIANGULAR",
]


@pytest.mark.parametrize("problem", EXPECTED, ids=[
    "unknown-state-type", "missing-state", "instant-loop", "missing-lookup-table", "bad-json",
    "missing-submodule", "unknown-condition-type", "unknown-distribution-kind"])
def test_each_problem_is_reported_with_file_and_state(problem: str) -> None:
    with pytest.raises(ModuleValidationError, match=re.escape(problem)):
        load(MANY.name, BAD_JSON.name)


def test_one_error_lists_every_problem_once() -> None:
    with pytest.raises(ModuleValidationError, match=re.escape("malformed module(s) (8 problems):")) as err:
        load(MANY.name, BAD_JSON.name)
    problems = err.value.problems
    assert len(problems) == len(EXPECTED)
    for expected in EXPECTED:
        assert sum(p.startswith(expected) for p in problems) == 1, expected


def test_a_loop_with_a_conditional_exit_is_accepted_and_leaves() -> None:
    p = run("loop_with_exit.json")
    assert p.attrs["laps"] == 3
    assert list(marks(p)) == ["done"]


def test_a_loop_whose_exit_never_comes_fails_at_run_time_naming_the_module() -> None:
    with pytest.raises(SimulationError, match=re.escape("module 'loop_with_exit' looped")):
        run("loop_with_exit.json", attributes={"laps": -10**6})


def test_references_to_missing_states_are_warnings_and_errors_when_strict() -> None:
    path = FIXTURES / "invalid_state_references.json"
    modules = load_modules([path])  # Synthea's own corpus has a few: they load, with warnings
    assert any(w.startswith(f"{path}: state Diagnose") and "'Vist'" in w for w in modules.warnings), modules.warnings
    with pytest.raises(ModuleValidationError) as err:
        load_modules([path], strict=True)
    problems = err.value.problems
    assert any(p.startswith(f"{path}: state Diagnose") and "'Vist'" in p for p in problems), problems
    assert any(p.startswith(f"{path}: state Resolve") and "'Diagnosis'" in p for p in problems), problems
