"""The record invariants over Hygeia's own (embedded) modules, and the ``start`` record window.

A population made with the default modules must satisfy every invariant in
:mod:`_invariants`, whatever the library holds today. With ``start`` set the
records are a window: the same persons and the same simulation, with the facts
that ended before ``start`` dropped.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from _invariants import INVARIANTS, ONGOING_KINDS, Run

from hygeia.core.config import RunConfig
from hygeia.core.storage import connect, read_records
from hygeia.population.generate import generate
from hygeia.population.simulate import simulate_shard

N = 300
SEED = 4711
START = dt.date(2015, 1, 1)


def _make(tmp_path_factory: pytest.TempPathFactory, name: str, start: dt.date | None) -> Run:
    out = tmp_path_factory.mktemp(name) / "run"
    result = generate(n=N, seed=SEED, out=str(out), workers=2, start=start)
    return Run(path=result.out, n=N, start=start)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """300 persons with the embedded modules only, whole lifetimes."""
    return _make(tmp_path_factory, "default", None)


@pytest.fixture(scope="module")
def windowed_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The same 300 persons, with records from :data:`START` on."""
    return _make(tmp_path_factory, "windowed", START)


@pytest.fixture(scope="module", params=["default_run", "windowed_run"])
def run_and_con(request: pytest.FixtureRequest):
    run = request.getfixturevalue(request.param)
    con = connect(run.path)
    yield run, con
    con.close()


@pytest.mark.parametrize("name", sorted(INVARIANTS))
def test_invariant(run_and_con, name: str) -> None:
    run, con = run_and_con
    problems = INVARIANTS[name](con, run)
    assert not problems, "\n".join(problems)


# -- the record window --------------------------------------------------------------
def _at(d: dt.date) -> pa.Scalar:
    return pa.scalar(dt.datetime(d.year, d.month, d.day), pa.timestamp("us"))


def _expected_window(persons: pa.Table, events: pa.Table, start: dt.date) -> pa.Table:
    """The whole-life events a window from ``start`` keeps, for persons alive on ``start``.

    Kept: every fact from ``start`` on, and ongoing entries (conditions,
    medications...) not ended before it; encounter_ids of encounters that were
    dropped are cleared.
    """
    s = _at(start)
    alive = persons.filter(pc.or_kleene(pc.is_null(persons["death_time"]), pc.greater_equal(persons["death_time"], s)))
    events = events.filter(pc.is_in(events["subject_id"], alive["subject_id"]))
    ongoing = pc.and_kleene(
        pc.is_in(events["kind"], pa.array(ONGOING_KINDS)),
        pc.or_kleene(pc.is_null(events["end_time"]), pc.greater_equal(events["end_time"], s)),
    )
    kept = events.filter(pc.or_kleene(pc.greater_equal(events["time"], s), ongoing))
    encounters = kept.filter(pc.equal(kept["kind"], "encounter"))["encounter_id"]
    enc = kept["encounter_id"]
    dangling = pc.invert(pc.fill_null(pc.is_in(enc, encounters), False))
    cleared = pc.if_else(dangling, pa.scalar(None, pa.int64()), enc)
    return kept.set_column(kept.schema.get_field_index("encounter_id"), kept.schema.field("encounter_id"), cleared)


def _sorted(events: pa.Table) -> pa.Table:
    keys = ["subject_id", "time", "kind", "code", "state", "end_time", "encounter_id", "numeric_value", "text_value"]
    return events.sort_by([(k, "ascending") for k in keys])


def test_window_has_the_same_persons(default_run: Run, windowed_run: Run) -> None:
    whole, _ = read_records(default_run.path)
    window, _ = read_records(windowed_run.path)
    assert window.equals(whole)


def test_window_keeps_exactly_the_facts_not_ended_before_start(default_run: Run, windowed_run: Run) -> None:
    """Same simulation, filtered: for everyone alive on ``start``, the window is the whole record cut."""
    persons, whole = read_records(default_run.path)
    _, window = read_records(windowed_run.path)
    alive = persons.filter(
        pc.or_kleene(pc.is_null(persons["death_time"]), pc.greater_equal(persons["death_time"], _at(START)))
    )
    window = window.filter(pc.is_in(window["subject_id"], alive["subject_id"]))
    expected = _expected_window(persons, whole, START)
    assert expected.num_rows > 0 and pc.any(pc.less(expected["time"], _at(START))).as_py(), "nothing ongoing to test"
    assert _sorted(window).equals(_sorted(expected))


#: A tiny module: a lifelong condition at one year of age, and death a year later.
_EARLY_DEATH = {
    "name": "early_death",
    "remarks": ["Test fixture: a condition that never ends, then death."],
    "states": {
        "Initial": {"type": "Initial", "direct_transition": "Wait"},
        "Wait": {"type": "Delay", "exact": {"quantity": 1, "unit": "years"}, "direct_transition": "Onset"},
        "Onset": {
            "type": "ConditionOnset",
            "codes": [{"system": "SNOMED-CT", "code": "38341003", "display": "Hypertensive disorder"}],
            "direct_transition": "Wait_Again",
        },
        "Wait_Again": {"type": "Delay", "exact": {"quantity": 1, "unit": "years"}, "direct_transition": "Dies"},
        "Dies": {"type": "Death", "direct_transition": "Terminal"},
        "Terminal": {"type": "Terminal"},
    },
}


def test_window_drops_the_open_facts_of_persons_dead_before_start(tmp_path: Path) -> None:
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "early_death.json").write_text(json.dumps(_EARLY_DEATH))
    start = dt.date(2020, 1, 1)
    config = RunConfig(n=10, seed=1, modules=(str(folder),), default_modules=False, start=start)

    persons, events = simulate_shard(config, 0, config.n)

    dead_before = persons.filter(pc.less(persons["death_time"], _at(start)))["subject_id"]
    assert len(dead_before) > 0, "the fixture should make people who died before start"
    left = events.filter(pc.is_in(events["subject_id"], dead_before))
    assert left.num_rows == 0, left.select(["subject_id", "time", "end_time", "kind", "display"]).to_pylist()
