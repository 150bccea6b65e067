"""The same seed gives the same records, whatever computes them and however they are split.

Every person draws its randomness from ``(run seed, person index)`` alone, so
one worker, local processes, a Dask cluster, any shard size and any
``PYTHONHASHSEED`` must all write identical ``persons`` and ``events`` tables.
The population is ~40 patients with every Synthea module, which exercises
most of the engine's state types.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from _invariants import REPO_ROOT, require_synthea

from hygeia.core.config import RunConfig
from hygeia.core.storage import read_records
from hygeia.population.generate import generate
from hygeia.population.simulate import simulate_shard

N = 40
SEED = 97

#: Event sort order: the brief's key, then every other column to break ties.
_EVENT_KEYS = ["subject_id", "time", "kind", "code", "state", "end_time", "encounter_id", "module",
               "code_system", "display", "numeric_value", "unit", "text_value"]

Records = tuple[pa.Table, pa.Table]


def _sorted(persons: pa.Table, events: pa.Table) -> Records:
    return persons.sort_by("subject_id"), events.sort_by([(k, "ascending") for k in _EVENT_KEYS])


def _records(path: Path) -> Records:
    return _sorted(*read_records(path))


def _first_difference(a: pa.Table, b: pa.Table) -> str:
    if a.schema != b.schema:
        return f"schemas differ:\n{a.schema}\nvs\n{b.schema}"
    if a.num_rows != b.num_rows:
        return f"{a.num_rows} rows vs {b.num_rows}"
    for name in a.column_names:
        same = pc.fill_null(pc.equal(a[name], b[name]), False)
        both_null = pc.and_(pc.is_null(a[name]), pc.is_null(b[name]))
        differs = pc.invert(pc.or_(same, both_null))
        if pc.any(differs).as_py():
            i = pc.index(differs, True).as_py()
            got, want = a.slice(i, 1).to_pylist(), b.slice(i, 1).to_pylist()
            return f"first difference at row {i}, column {name!r}:\n{got}\nvs\n{want}"
    return "tables differ in metadata only"


def assert_same_records(got: Records, want: Records) -> None:
    for name, g, w in zip(("persons", "events"), got, want):
        assert g.equals(w, check_metadata=True), f"{name}: {_first_difference(g, w)}"


def _generate(tmp_path_factory: pytest.TempPathFactory, name: str, **options) -> Records:
    options = {"n": N, "seed": SEED, "modules": [str(require_synthea())], "default_modules": False, **options}
    out = tmp_path_factory.mktemp(name) / "run"
    generate(out=str(out), **options)
    return _records(out)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Records:
    """In this process, one worker, one shard of 50."""
    return _generate(tmp_path_factory, "baseline", workers=1, shard_size=50)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"workers": 2, "shard_size": 10}, id="2-processes"),
        pytest.param({"scheduler": "local-dask", "workers": 2, "shard_size": 10}, id="local-dask"),
    ],
)
def test_same_seed_same_records_on_any_executor(tmp_path_factory, baseline: Records, options: dict) -> None:
    assert_same_records(_generate(tmp_path_factory, "executor", **options), baseline)


def test_shard_size_does_not_change_records(tmp_path_factory, baseline: Records) -> None:
    assert_same_records(_generate(tmp_path_factory, "shards7", workers=1, shard_size=7), baseline)


def test_a_shard_depends_only_on_its_person_indexes(baseline: Records) -> None:
    config = RunConfig(n=N, seed=SEED, modules=(str(require_synthea()),), default_modules=False)
    got = _sorted(*simulate_shard(config, 13, 9))  # persons 14..22
    persons, events = baseline
    ids = pa.array(range(14, 23), pa.int64())
    want = (persons.filter(pc.is_in(persons["subject_id"], ids)), events.filter(pc.is_in(events["subject_id"], ids)))
    assert_same_records(got, want)


def test_hash_seed_does_not_change_records(tmp_path: Path, baseline: Records) -> None:
    """Set and dict iteration over strings must not steer any draw."""
    hash_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    out = tmp_path / "run"
    code = (
        "import sys; from hygeia.population.generate import generate; "
        "generate(n=int(sys.argv[1]), seed=int(sys.argv[2]), out=sys.argv[3], modules=[sys.argv[4]], "
        "default_modules=False, workers=1, shard_size=50)"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(N), str(SEED), str(out), str(require_synthea())],
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        cwd=REPO_ROOT,
        check=True,
        timeout=300,
    )
    assert_same_records(_records(out), baseline)


def test_different_seed_different_records(tmp_path_factory, baseline: Records) -> None:
    persons, events = _generate(tmp_path_factory, "other-seed", workers=1, shard_size=50, seed=SEED + 1)
    base_persons, base_events = baseline
    drop_seed = [c for c in persons.column_names if c != "seed"]
    assert not persons.select(drop_seed).equals(base_persons.select(drop_seed))
    assert not events.equals(base_events)
    # Not just a shift: the two populations are born on different days.
    assert set(persons["birth_time"].to_pylist()).isdisjoint(base_persons["birth_time"].to_pylist())


def test_threads_running_shards_leave_the_garbage_collector_as_it_was() -> None:
    import gc
    import threading

    from hygeia.core.config import RunConfig
    from hygeia.population.simulate import simulate_shard

    cfg = RunConfig(n=4, seed=2)
    assert gc.isenabled()
    threads = [threading.Thread(target=simulate_shard, args=(cfg, i, 2)) for i in (0, 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert gc.isenabled()
