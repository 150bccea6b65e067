"""Run storage, executors, progress and the generate() pipeline (with a fake simulator)."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import math
import re
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import hygeia
from hygeia.core import executors as ex_mod
from hygeia.core.config import SPEC_VERSION, RunConfig
from hygeia.core.executors import (
    DaskExecutor,
    EXECUTORS,
    ProcessExecutor,
    SerialExecutor,
    default_workers,
    make_executor,
)
from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.core.storage import RunWriter, connect, hash_folder, read_records, read_run_info
from hygeia.errors import (
    ConfigError,
    DataValidationError,
    MissingExtraError,
    ModuleValidationError,
    OutputError,
    SimulationError,
)
from hygeia.population import generate
from hygeia.population import simulate as simulate_mod
from hygeia.population.inspect import format_summary, summarize

# -- a fake simulator: a few rows with the canonical schemas -----------------------------


def fake_simulate_shard(config: RunConfig, first: int, count: int) -> tuple[pa.Table, pa.Table]:
    """Deterministic rows that depend only on (seed, person index)."""
    base = dt.datetime(1950, 1, 1)
    persons: dict[str, list] = {f.name: [] for f in PERSONS_SCHEMA}
    events: dict[str, list] = {f.name: [] for f in EVENTS_SCHEMA}
    for i in range(first, first + count):
        sid = i + 1
        birth = base + dt.timedelta(days=(config.seed * 7 + i * 3653) % 27000)
        death = birth + dt.timedelta(days=100) if i % 5 == 4 else None
        row = dict(
            subject_id=sid, birth_time=birth, death_time=death, sex="F" if i % 2 else "M",
            race="white", ethnicity="nonhispanic", locale=config.locale, given_name="Ann",
            family_name="Lee", state="MA", income=50000 + i, education="bs_degree",
            marital_status="M", seed=(config.seed + i) % 2**64,
        )
        for k, v in row.items():
            persons[k].append(v)
        facts = [("encounter", "Wellness visit"), ("condition", "Hypertension" if i % 2 else "Asthma")]
        for j, (kind, display) in enumerate(facts):
            ev = dict(
                subject_id=sid, time=birth + dt.timedelta(days=365 * (j + 1)), end_time=None, kind=kind,
                code_system="SNOMED-CT", code=str(1000 + len(display)), display=display, numeric_value=None,
                unit=None, text_value=None, encounter_id=sid * 10, module="fake", state=f"s{j}",
            )
            for k, v in ev.items():
                events[k].append(v)
    return pa.Table.from_pydict(persons, PERSONS_SCHEMA), pa.Table.from_pydict(events, EVENTS_SCHEMA)


@pytest.fixture
def fake_sim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulate_mod, "simulate_shard", fake_simulate_shard)


def assert_no_output(out: Path) -> None:
    assert not out.exists()
    assert not list(out.parent.glob("." + out.name + ".tmp-*"))
    assert not list(out.parent.glob("." + out.name + ".old-*"))


def _tables(n: int = 3) -> tuple[pa.Table, pa.Table]:
    return fake_simulate_shard(RunConfig(n=n, seed=1), 0, n)


# -- RunWriter ------------------------------------------------------------------------


def test_writer_layout_and_atomic_rename(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with RunWriter(out, shards=2) as w:
        p, e = _tables()
        w.write_shard(1, p, e)
        w.write_shard(0, p, e)
        assert not out.exists()  # nothing final until finish()
        assert len(list(tmp_path.glob(".run.tmp-*"))) == 1
        w.finish({"hello": 1})
    assert sorted(x.name for x in (out / "persons").iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert sorted(x.name for x in (out / "events").iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    info = read_run_info(out)
    assert info["hello"] == 1 and info["counts"] == {"persons": 6, "events": 12}
    assert not list(tmp_path.glob(".run.tmp-*"))


def test_writer_padding_grows_with_shard_count(tmp_path: Path) -> None:
    assert RunWriter(tmp_path / "a", shards=100_000).width == 5
    assert RunWriter(tmp_path / "a", shards=100_001).width == 6


def test_error_inside_writer_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er" / "run"
    with pytest.raises(RuntimeError, match="boom"):
        with RunWriter(out) as w:
            w.write_shard(0, *_tables())
            raise RuntimeError("boom")
    assert not (tmp_path / "deep").exists()  # parents it made are removed too
    assert list(tmp_path.iterdir()) == []


def test_existing_non_empty_output(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match=re.escape("already exists and is not empty. Choose another --out folder, or pass --overwrite")):
        RunWriter(out)
    assert (out / "keep.txt").read_text() == "mine"


def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(OutputError, match=re.escape("does not look like a Hygeia output (no run.json)")):
        RunWriter(out, overwrite=True)
    assert (out / "thesis.tex").exists()


def test_overwrite_replaces_a_previous_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    for k in (1, 2):
        with RunWriter(out, overwrite=True) as w:
            w.write_shard(0, *_tables(k))
            w.finish({"k": k})
    assert read_run_info(out)["k"] == 2
    assert read_records(out)[0].num_rows == 2
    assert sorted(x.name for x in tmp_path.iterdir()) == ["run"]


def test_empty_existing_folder_is_fine(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    with RunWriter(out) as w:
        w.write_shard(0, *_tables())
        w.finish({})
    assert (out / "run.json").is_file()


def test_output_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(OutputError, match=re.escape("exists and is not a folder")):
        RunWriter(f)


def test_unwritable_parent(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "out"
    w = RunWriter(out)
    with pytest.raises(OutputError, match=re.escape(f"cannot write the output folder {str(out)!r}")) as info:
        with w:
            pass
    assert "Choose an --out folder whose parent you can write to" in str(info.value)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["afile"]


def test_shard_with_wrong_schema(tmp_path: Path) -> None:
    p, e = _tables()
    with pytest.raises(SimulationError, match=re.escape("missing columns ['seed']")):
        with RunWriter(tmp_path / "run") as w:
            w.write_shard(0, p.drop_columns(["seed"]), e)
    assert_no_output(tmp_path / "run")


def test_shard_is_cast_to_the_canonical_schema(tmp_path: Path) -> None:
    p, e = _tables()
    p = p.select(list(reversed(p.column_names))).replace_schema_metadata(None)
    with RunWriter(tmp_path / "run") as w:
        w.write_shard(0, p, e)
        w.finish({})
    persons, _ = read_records(tmp_path / "run")
    assert persons.schema.equals(PERSONS_SCHEMA, check_metadata=True)


def test_read_records_and_connect(tmp_path: Path) -> None:
    out = tmp_path / "it's here"  # a quote in the path must not break SQL
    with RunWriter(out, shards=2) as w:
        w.write_shard(0, *fake_simulate_shard(RunConfig(n=4, seed=1), 0, 2))
        w.write_shard(1, *fake_simulate_shard(RunConfig(n=4, seed=1), 2, 2))
        w.finish({})
    persons, events = read_records(out)
    assert persons.column("subject_id").to_pylist() == [1, 2, 3, 4]
    assert events.num_rows == 8 and events.schema.equals(EVENTS_SCHEMA)
    con = connect(out)
    assert con.execute("SELECT count(*) FROM persons").fetchone()[0] == 4
    assert dict(con.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall()) == {"encounter": 4, "condition": 4}


def test_connect_with_no_parts(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with RunWriter(out) as w:
        w.finish({})
    assert connect(out).execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert read_records(out)[1].schema.equals(EVENTS_SCHEMA)


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=re.escape("has no run.json")):
        read_records(tmp_path)
    with pytest.raises(DataValidationError, match=re.escape("does not exist or is not a folder")):
        connect(tmp_path / "missing")


def test_hash_folder(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    h1 = hash_folder(tmp_path)
    (tmp_path / ".hidden").write_text("ignored")
    assert hash_folder(tmp_path) == h1
    (tmp_path / "a.json").write_text('{"x": 1}')
    assert hash_folder(tmp_path) != h1
    assert hash_folder(tmp_path / "missing").startswith("sha256:")


# -- executors ----------------------------------------------------------------------


def test_registry() -> None:
    assert {"serial", "process", "dask"} <= set(EXECUTORS)
    assert isinstance(make_executor(RunConfig(n=1)), SerialExecutor)
    with make_executor(RunConfig(n=1, workers=3)) as ex:
        assert isinstance(ex, ProcessExecutor) and ex.workers == 3


def test_serial_executor() -> None:
    with SerialExecutor() as ex:
        assert list(ex.map_shards(abs, [-1, -2])) == [(-1, 1), (-2, 2)]


def test_process_executor_results_and_errors() -> None:
    with ProcessExecutor(2) as ex:
        assert sorted(ex.map_shards(abs, range(-9, 0))) == [(i, -i) for i in range(-9, 0)]
        with pytest.raises(ValueError, match="math domain error"):
            list(ex.map_shards(math.sqrt, [4, -1, 9, 16, 25, 36, 49]))


@pytest.mark.parametrize("make", [lambda: ProcessExecutor(2), lambda: DaskExecutor("local-dask", workers=2)])
def test_executors_keep_few_shards_in_flight(make) -> None:
    """Memory stays flat in N: shards are pulled lazily, a bounded window at a time."""
    pulled = 0

    def shards():
        nonlocal pulled
        for i in range(10_000):
            pulled += 1
            yield i

    with make() as ex:
        it = ex.map_shards(abs, shards())
        next(it)
        assert pulled <= 6  # 2 x workers in flight, plus one refill
        it.close()


def test_process_executor_one_worker_is_in_process() -> None:
    ex = ProcessExecutor(1)
    assert list(ex.map_shards(abs, [-3])) == [(-3, 3)]
    assert ex._slots == []  # no worker process was started


def test_process_executor_bad_workers() -> None:
    with pytest.raises(ConfigError, match=re.escape("workers must be a positive integer; got 0")):
        ProcessExecutor(0)


def test_local_dask_executor() -> None:
    with DaskExecutor("local-dask") as ex:
        assert sorted(ex.map_shards(abs, range(-5, 0))) == [(i, -i) for i in range(-5, 0)]


def test_unreachable_scheduler() -> None:
    with pytest.raises(ConfigError, match=re.escape("could not connect to the Dask scheduler at 'tcp://127.0.0.1:1'")):
        DaskExecutor("tcp://127.0.0.1:1", timeout=0.5)


def test_missing_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=re.escape("pip install 'hygeia[dask]'")):
        DaskExecutor("local-dask")


def test_default_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex_mod, "available_cpus", lambda: 8)
    assert default_workers(100, 250) == 1
    assert default_workers(1000, 250) == 4
    assert default_workers(10**6, 250) == 8


# -- generate -----------------------------------------------------------------------


def test_generate_writes_a_run(tmp_path: Path, fake_sim: None) -> None:
    out = tmp_path / "run"
    r = generate(n=7, seed=3, out=str(out), shard_size=3)
    assert (r.n_persons, r.n_events, r.seed, r.out) == (7, 14, 3, out.absolute())
    assert sorted(x.name for x in (out / "persons").iterdir()) == [f"part-0000{i}.parquet" for i in range(3)]
    info = json.loads((out / "run.json").read_text())
    assert info["config"] == RunConfig(n=7, seed=3, out=str(out), shard_size=3).to_dict()
    assert info["hygeia_version"] == hygeia.__version__
    assert info["spec_version"] == SPEC_VERSION
    alive = info["counts"].pop("alive_at_end")
    assert info["counts"] == {"persons": 7, "events": 14, "shards": 3, "dead_at_end": 7 - alive}
    assert info["modules"][0]["source"] == "default" and info["modules"][0]["hash"].startswith("sha256:")
    assert info["timing"]["seconds"] >= 0
    assert dt.datetime.fromisoformat(info["created_at"]).tzinfo is not None


def test_generate_records_a_resolved_seed(tmp_path: Path, fake_sim: None) -> None:
    r = generate(n=2, out=str(tmp_path / "run"))
    assert isinstance(r.seed, int)
    assert read_run_info(tmp_path / "run")["config"]["seed"] == r.seed


def test_generate_user_modules_are_recorded(tmp_path: Path, fake_sim: None, monkeypatch: pytest.MonkeyPatch) -> None:
    gen = importlib.import_module("hygeia.population.generate")  # the module, not the function
    monkeypatch.setattr(gen, "_validate_modules", lambda config: [])  # no load warnings
    monkeypatch.setattr(gen, "_demography_info", lambda config: {})  # it reads the (here bogus) modules
    mods = tmp_path / "mods"
    (mods / "sub").mkdir(parents=True)
    (mods / "flu.json").write_text("{}")
    (mods / "sub" / "cold.json").write_text("{}")
    generate(n=2, seed=1, out=str(tmp_path / "run"), modules=[str(mods)], default_modules=False)
    (entry,) = read_run_info(tmp_path / "run")["modules"]
    assert entry["source"] == "user" and entry["modules"] == ["flu", "sub/cold"]
    assert entry["hash"] == hash_folder(mods)


def test_generate_is_deterministic_across_executors(tmp_path: Path, fake_sim: None) -> None:
    a = generate(n=9, seed=5, out=str(tmp_path / "a"), shard_size=2)
    b = generate(n=9, seed=5, out=str(tmp_path / "b"), shard_size=4, scheduler="local-dask", workers=2)
    pa_, ea = read_records(a.out)
    pb, eb = read_records(b.out)
    assert pa_.equals(pb) and ea.equals(eb)


def test_generate_failure_mid_run_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(config: RunConfig, first: int, count: int) -> tuple[pa.Table, pa.Table]:
        if first >= 4:
            raise SimulationError("module 'flu' state 'Sick' failed for person 5")
        return fake_simulate_shard(config, first, count)

    monkeypatch.setattr(simulate_mod, "simulate_shard", failing)
    out = tmp_path / "run"
    with pytest.raises(SimulationError, match=re.escape("module 'flu' state 'Sick' failed for person 5")):
        generate(n=10, seed=1, out=str(out), shard_size=2)
    assert_no_output(out)
    assert list(tmp_path.iterdir()) == []


def test_generate_failure_keeps_previous_run(tmp_path: Path, fake_sim: None, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    generate(n=3, seed=1, out=str(out))
    monkeypatch.setattr(simulate_mod, "simulate_shard", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        generate(n=3, seed=2, out=str(out), overwrite=True)
    assert read_run_info(out)["config"]["seed"] == 1
    assert sorted(x.name for x in tmp_path.iterdir()) == ["run"]


def test_generate_validates_modules_before_writing(tmp_path: Path, fake_sim: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import hygeia.population.engine as engine

    def bad(config: RunConfig) -> None:
        raise ModuleValidationError(["flu.json: state 'Start': unknown type 'Begin'"])

    monkeypatch.setattr(engine, "load_run_modules", bad, raising=False)
    out = tmp_path / "run"
    with pytest.raises(ModuleValidationError, match=re.escape("flu.json: state 'Start': unknown type 'Begin'")):
        generate(n=3, seed=1, out=str(out))
    assert_no_output(out)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n": 0}, "n must be a positive integer; got 0"),
        ({"n": 2, "end": "2026-02-30"}, "end must be a date as YYYY-MM-DD; got '2026-02-30'"),
        ({"n": 2, "scheduler": "localhost"}, "scheduler must be a Dask address"),
        ({"n": 2, "colour": 1}, "unknown run option(s) ['colour']"),
        ({}, "generate() needs n"),
    ],
)
def test_generate_bad_options(tmp_path: Path, fake_sim: None, options: dict, message: str) -> None:
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=re.escape(message)):
        generate(out=str(out), **options)
    assert_no_output(out)


def test_generate_config_plus_overrides(tmp_path: Path, fake_sim: None) -> None:
    cfg = RunConfig(n=100, seed=1, out=str(tmp_path / "run"))
    r = generate(cfg, n=2)
    assert r.n_persons == 2 and r.config.n == 2


# -- inspect ------------------------------------------------------------------------


def test_summarize(tmp_path: Path, fake_sim: None) -> None:
    out = tmp_path / "run"
    generate(n=10, seed=1, out=str(out), shard_size=4)
    s = summarize(out)
    assert (s["persons"], s["alive"], s["dead"], s["events"]) == (10, 8, 2, 20)
    assert s["events_by_kind"] == {"condition": 10, "encounter": 10}
    assert [(c["display"], c["persons"]) for c in s["top_conditions"]] == [("Asthma", 5), ("Hypertension", 5)]
    pyramid = s["age_pyramid"]
    assert pyramid["as_of"] == "2026-01-01" and pyramid["bands"][0] == "0-4"
    assert sum(sum(v) for v in pyramid["by_sex"].values()) == 8
    assert set(pyramid["by_sex"]) == {"F", "M"}
    text = format_summary(s)
    assert "Persons" in text and "Hypertension" in text and "female" in text and "#" in text
    json.dumps(s)  # JSON-ready


def test_format_summary_empty_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with RunWriter(out) as w:
        w.finish({"config": RunConfig(n=1, seed=1).to_dict()})
    text = format_summary(summarize(out))
    assert "(no living persons)" in text and "Conditions: none recorded" in text


def test_a_verified_file_is_hashed_once_until_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # evaluate verifies a run's files for its inputs and again for the plausibility rules
    import hashlib
    import os

    from hygeia.core import storage

    out = tmp_path / "run"
    with RunWriter(out, shards=1) as w:
        w.write_shard(0, *_tables())
        w.finish({})
    hashed = []
    real = hashlib.sha256
    monkeypatch.setattr(storage.hashlib, "sha256", lambda *a: hashed.append(1) or real(*a))
    connect(out, verify=True)
    assert len(hashed) == 2  # persons and events
    connect(out, verify=True)
    assert len(hashed) == 2
    part = next((out / "events").iterdir())
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size; written later, so its modification time moves on
    st = part.stat()
    part.write_bytes(bytes(data))
    os.utime(part, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(DataValidationError, match=re.escape(f"{part}: its content differs from what was written")):
        connect(out, verify=True)
