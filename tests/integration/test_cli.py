"""The ``hygeia`` command line: generate, inspect, and clean errors on bad input."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from hygeia import __version__
from hygeia.cli.main import main
from hygeia.core.config import RunConfig
from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.errors import SimulationError
from hygeia.population import simulate as simulate_mod


def fake_simulate_shard(config: RunConfig, first: int, count: int) -> tuple[pa.Table, pa.Table]:
    """A few rows per person with the canonical schemas."""
    n = count
    ids = list(range(first + 1, first + count + 1))
    births = [dt.datetime(1960 + (i * 7) % 60, 1 + i % 12, 1) for i in ids]
    persons = pa.Table.from_pydict(
        {
            "subject_id": ids,
            "birth_time": births,
            "death_time": [None] * n,
            "sex": ["F" if i % 2 else "M" for i in ids],
            "race": ["white"] * n,
            "ethnicity": ["nonhispanic"] * n,
            "locale": [config.locale] * n,
            "given_name": ["Ann"] * n,
            "family_name": ["Lee"] * n,
            "state": ["MA"] * n,
            "income": [40000] * n,
            "education": [None] * n,
            "marital_status": [None] * n,
            "seed": [config.seed + i for i in ids],
        },
        PERSONS_SCHEMA,
    )
    events = pa.Table.from_pydict(
        {
            "subject_id": ids,
            "time": births,
            "end_time": [None] * n,
            "kind": ["condition"] * n,
            "code_system": ["SNOMED-CT"] * n,
            "code": ["38341003"] * n,
            "display": ["Hypertension"] * n,
            "numeric_value": [None] * n,
            "unit": [None] * n,
            "text_value": [None] * n,
            "encounter_id": [None] * n,
            "module": ["fake"] * n,
            "state": ["Onset"] * n,
        },
        EVENTS_SCHEMA,
    )
    return persons, events


@pytest.fixture
def fake_sim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulate_mod, "simulate_shard", fake_simulate_shard)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def assert_no_output(out: Path) -> None:
    assert not out.exists()
    assert not list(out.parent.glob("." + out.name + ".tmp-*"))


def test_generate_then_inspect(tmp_path: Path, runner: CliRunner, fake_sim: None) -> None:
    out = tmp_path / "out"
    res = runner.invoke(main, ["generate", "-n", "12", "--seed", "4", "--out", str(out), "--shard-size", "5", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "Made 12 persons and 12 events" in res.stdout and re.search(r"seed +4\n", res.stdout)
    assert f"hygeia inspect {out}" in res.stdout
    assert len(list((out / "persons").glob("part-*.parquet"))) == 3
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["seed"] == 4 and info["config"]["n"] == 12 and info["config"]["shard_size"] == 5
    assert info["counts"]["persons"] == 12

    res = runner.invoke(main, ["inspect", str(out)])
    assert res.exit_code == 0, res.output
    assert "Persons" in res.stdout and "Hypertension" in res.stdout and "Age pyramid" in res.stdout

    res = runner.invoke(main, ["inspect", str(out), "--json"])
    assert json.loads(res.stdout)["persons"] == 12


def test_generate_without_seed_prints_it(tmp_path: Path, runner: CliRunner, fake_sim: None) -> None:
    out = tmp_path / "out"
    res = runner.invoke(main, ["generate", "-n", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    seed = json.loads((out / "run.json").read_text())["config"]["seed"]
    assert f"pass --seed {seed}" in res.stdout


def test_quiet(tmp_path: Path, runner: CliRunner, fake_sim: None) -> None:
    res = runner.invoke(main, ["generate", "-n", "2", "--seed", "1", "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0 and res.output == ""


def test_overwrite(tmp_path: Path, runner: CliRunner, fake_sim: None) -> None:
    out = tmp_path / "out"
    args = ["generate", "-n", "2", "--seed", "1", "--out", str(out)]
    assert runner.invoke(main, args).exit_code == 0
    res = runner.invoke(main, args)
    assert res.exit_code == 2
    assert "already exists and is not empty. Choose another --out folder, or pass --overwrite" in res.stderr
    assert "Traceback" not in res.output
    res = runner.invoke(main, [*args, "--overwrite", "-n", "3"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "run.json").read_text())["counts"]["persons"] == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-n", "0"], "n must be a positive integer; got 0"),
        (["-n", "-3"], "n must be a positive integer; got -3"),
        (["-n", "5", "--end", "2026-02-30"], "end must be a date as YYYY-MM-DD; got '2026-02-30'"),
        (["-n", "5", "--start", "soon"], "start must be a date as YYYY-MM-DD; got 'soon'"),
        (["-n", "5", "--scheduler", "localhost:8786"], "scheduler must be a Dask address such as tcp://host:8786"),
        (["-n", "5", "--workers", "0"], "workers must be a positive integer; got 0"),
        (["-n", "5", "--seed", "-1"], "seed must be a non-negative integer; got -1"),
        (["-n", "5", "--no-default-modules"], "no modules to run"),
    ],
)
def test_bad_input_is_a_clean_error(tmp_path: Path, runner: CliRunner, fake_sim: None, extra: list[str], message: str) -> None:
    out = tmp_path / "out"
    res = runner.invoke(main, ["generate", "--out", str(out), *extra])
    assert res.exit_code == 2, res.output
    assert re.search(re.escape(message), res.stderr)
    assert res.stderr.startswith("Error: ") and "Traceback" not in res.output
    assert_no_output(out)


def test_unknown_option(tmp_path: Path, runner: CliRunner) -> None:
    res = runner.invoke(main, ["generate", "-n", "5", "--out", str(tmp_path / "o"), "--colour", "red"])
    assert res.exit_code == 2
    assert "No such option '--colour'" in res.stderr
    assert_no_output(tmp_path / "o")


def test_missing_n(runner: CliRunner) -> None:
    res = runner.invoke(main, ["generate"])
    assert res.exit_code == 2 and "Missing option '-n'" in res.stderr


def test_unwritable_output(tmp_path: Path, runner: CliRunner, fake_sim: None) -> None:
    (tmp_path / "afile").write_text("not a folder")
    out = tmp_path / "afile" / "out"
    res = runner.invoke(main, ["generate", "-n", "3", "--seed", "1", "--out", str(out)])
    assert res.exit_code == 2
    assert re.search(re.escape(f"cannot write the output folder {str(out)!r}"), res.stderr)
    assert "Choose an --out folder whose parent you can write to" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_failure_mid_run_leaves_no_output(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(config: RunConfig, first: int, count: int) -> tuple[pa.Table, pa.Table]:
        if first > 0:
            raise SimulationError("module 'asthma' state 'Attack' failed for person 3: division by zero")
        return fake_simulate_shard(config, first, count)

    monkeypatch.setattr(simulate_mod, "simulate_shard", failing)
    out = tmp_path / "out"
    res = runner.invoke(main, ["generate", "-n", "6", "--seed", "1", "--out", str(out), "--shard-size", "2", "--workers", "1"])
    assert res.exit_code == 2
    assert "module 'asthma' state 'Attack' failed for person 3" in res.stderr
    assert_no_output(out)


def test_inspect_not_a_run(tmp_path: Path, runner: CliRunner) -> None:
    res = runner.invoke(main, ["inspect", str(tmp_path)])
    assert res.exit_code == 2
    assert re.search(re.escape(f"{str(tmp_path)!r} is not a Hygeia run folder"), res.stderr)
    assert "has no run.json" in res.stderr


def test_version_and_help(runner: CliRunner) -> None:
    res = runner.invoke(main, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"hygeia {__version__}"
    res = runner.invoke(main, ["generate", "--help"])
    assert res.exit_code == 0 and "hygeia generate -n 1000 --seed 1 --out output" in res.stdout
    res = runner.invoke(main, ["inspect", "--help"])
    assert res.exit_code == 0 and "hygeia inspect output" in res.stdout


def test_help_in_a_real_subprocess() -> None:
    exe = Path(sys.executable).parent / "hygeia"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from hygeia.cli.main import main; main()"]
    proc = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "generate" in proc.stdout and "inspect" in proc.stdout and "Example:" in proc.stdout


def test_real_simulator_on_worker_processes(tmp_path: Path, runner: CliRunner) -> None:
    """The real simulate_shard on 1 worker and on 2 processes gives the same records."""
    from hygeia.core.storage import read_records

    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        res = runner.invoke(
            main, ["generate", "-n", "4", "--seed", "3", "--shard-size", "2", "--workers", workers, "--out", str(out), "-q"]
        )
        assert res.exit_code == 0, res.output
        assert json.loads((out / "run.json").read_text())["counts"]["shards"] == 2
        assert len(list((out / "events").glob("part-*.parquet"))) == 2
        outs.append(read_records(out))
    (p1, e1), (p2, e2) = outs
    assert p1.equals(p2) and e1.equals(e2)
