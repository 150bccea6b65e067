"""Fault injection: lost workers, killed runs resumed, damaged shards (issue 21).

Each test runs the real command line in a subprocess and asserts either that the output is
byte for byte the fault-free one (the Parquet files of ``persons/`` and ``events/``), or a
clean error with nothing half-written. Workers are killed with the test-only hook
``HYGEIA_TEST_KILL_SHARD`` (:mod:`hygeia.core._faults`): the process computing the chosen
shard SIGKILLs itself, as the out-of-memory killer would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hygeia.core._faults import KILL_ENV
from hygeia.core.storage import connect, hash_folder, read_records
from hygeia.errors import ConfigError, DataValidationError
from hygeia.export import export
from hygeia.population import generate

HYGEIA = [sys.executable, "-c", "from hygeia.cli.main import run; run()"]  # the console entry point
N, SEED, SHARD = 100, 3, 20  # five shards
ARGS = ["-n", str(N), "--seed", str(SEED), "--shard-size", str(SHARD)]


def _records(run: Path) -> tuple[str, str]:
    return hash_folder(run / "persons"), hash_folder(run / "events")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The fault-free records (one worker, in this process)."""
    out = tmp_path_factory.mktemp("ref") / "run"
    generate(n=N, seed=SEED, shard_size=SHARD, out=out, workers=1)
    return _records(out)


def _hygeia(*args: str, kill: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    if kill is not None:
        env[KILL_ENV] = kill
    return subprocess.run([*HYGEIA, *args], capture_output=True, text=True, timeout=timeout, env=env)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_a_killed_worker_is_replaced_and_its_shard_recomputed(tmp_path: Path, reference) -> None:
    out = tmp_path / "run"
    r = _hygeia("generate", *ARGS, "--out", str(out), "--workers", "2", kill=f"2:{tmp_path / 'died'}")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "died").exists(), "the hook should have killed a worker"
    assert "warning: the worker computing shard 2 (persons 40 to 59) was killed by SIGKILL" in r.stderr
    assert _records(out) == reference
    assert json.loads((out / "run.json").read_text())["lost_workers"][0]["attempt"] == 1
    assert _leftovers(tmp_path) == []


def test_a_shard_that_always_kills_its_worker_stops_cleanly_and_resumes(tmp_path: Path, reference) -> None:
    out = tmp_path / "run"
    r = _hygeia("generate", *ARGS, "--out", str(out), "--workers", "2", kill="3")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "BrokenProcessPool" not in r.stderr, r.stderr
    for words in ("shard 3 (persons 60 to 79) was lost 3 times", "killed by SIGKILL", "out-of-memory killer",
                  "fewer --workers", "smaller --shard-size", "--resume"):
        assert words in r.stderr, r.stderr
    assert not out.exists()
    kept = _leftovers(tmp_path)
    assert len(kept) == 1, "the shards finished are kept for --resume"
    r = _hygeia("generate", *ARGS, "--out", str(out), "--workers", "1", "--resume")
    assert r.returncode == 0, r.stderr
    assert re.search(r"resuming .*: [1-4] of 5 shards already written and verified", r.stderr), r.stderr
    assert _records(out) == reference
    assert _leftovers(tmp_path) == []


def test_a_killed_run_resumes_from_its_verified_shards(tmp_path: Path, reference) -> None:
    out = tmp_path / "run"
    # one worker: shards run in the main process, in order, so the whole run dies at shard 3 (a power cut)
    r = _hygeia("generate", *ARGS, "--out", str(out), "--workers", "1", kill="3")
    assert r.returncode == -signal.SIGKILL
    (tmp,) = [tmp_path / name for name in _leftovers(tmp_path)]
    # a shard torn by the kill, and a journalled one damaged since: both are recomputed
    (tmp / "persons" / "part-00004.parquet").write_bytes(b"PAR1 half a shard")
    damaged = tmp / "events" / "part-00001.parquet"
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    # without --resume: a new run, told that the old one could be resumed
    r = _hygeia("generate", *ARGS, "--out", str(out), "--shard-size", "25", "--resume")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "it was made with other options: shard_size 20 (now 25)" in r.stderr and "leave out --resume" in r.stderr
    r = _hygeia("generate", "-n", str(N), "--shard-size", str(SHARD), "--out", str(out), "--resume")  # no --seed
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stderr and "2 of 5 shards already written and verified" in r.stderr
    assert _records(out) == reference
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["seed"] == SEED and info["resumed"]["shards_reused"] == 2
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_sigkill_of_the_whole_process_group_then_resume(tmp_path: Path, reference) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen([*HYGEIA, "generate", "-n", "300", "--seed", str(SEED), "--shard-size", str(SHARD),
                             "--out", str(out), "--workers", "2", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            journals = list(tmp_path.glob(".run.tmp-*/.checkpoint.jsonl"))
            if journals and len(journals[0].read_text().splitlines()) >= 4:  # header + 3 shards
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the main process and its workers, at once
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stderr.close()
    assert not out.exists() and len(_leftovers(tmp_path)) == 1
    r = _hygeia("generate", "-n", "300", "--seed", str(SEED), "--shard-size", str(SHARD), "--out", str(out),
                "--workers", "2", "--resume")
    assert r.returncode == 0, r.stderr
    full = tmp_path / "full"
    generate(n=300, seed=SEED, shard_size=SHARD, out=full, workers=1)
    assert _records(out) == _records(full)
    assert _leftovers(tmp_path) == []


def test_resume_refuses_other_options_in_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    r = _hygeia("generate", "-n", "40", "--seed", "1", "--shard-size", "10", "--out", str(out), "--workers", "1",
                kill="2")
    assert r.returncode == -signal.SIGKILL
    with pytest.raises(ConfigError, match=re.escape("seed 1 (now 2)")):
        generate(n=40, seed=2, shard_size=10, out=out, resume=True)
    assert len(_leftovers(tmp_path)) == 1, "a refused resume keeps the interrupted run"
    generate(n=40, seed=2, shard_size=10, out=out, quiet=False)  # a fresh run says how to resume, then supersedes it
    err = capsys.readouterr().err
    assert f"note: an interrupted run of {out} (2 of 4 shards done)" in err and "pass --resume" in err, err
    assert _leftovers(tmp_path) == []


# -- damaged run folders: detected on read, with the file named -----------------
@pytest.fixture
def run(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    generate(n=30, seed=2, shard_size=10, out=out, workers=1)
    return out


def test_truncated_shard_is_named_by_inspect_export_and_evaluate(run: Path, tmp_path: Path) -> None:
    part = run / "events" / "part-00001.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    for args in (["inspect", str(run)],
                 ["export", str(run), "--format", "csv", "--out", str(tmp_path / "csv")],
                 ["evaluate", "--real", str(run), "--synthetic", str(run), "--out", str(tmp_path / "rep")]):
        r = _hygeia(*args)
        assert r.returncode != 0 and "Traceback" not in r.stderr, (args, r.stderr)
        assert str(part) in r.stderr and "truncated" in r.stderr, (args, r.stderr)
    assert _leftovers(tmp_path) == [] and not (tmp_path / "csv").exists() and not (tmp_path / "rep").exists()


def test_a_changed_byte_is_caught_by_its_checksum(run: Path, tmp_path: Path) -> None:
    part = run / "persons" / "part-00002.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, still 'PAR1' at both ends
    part.write_bytes(bytes(data))
    with pytest.raises(DataValidationError, match=re.escape(f"{part}: its content differs from what was written")):
        read_records(run)
    with pytest.raises(DataValidationError, match="corrupt or was changed"):
        export(run, "meds", tmp_path / "meds")
    assert not (tmp_path / "meds").exists() and _leftovers(tmp_path) == []
    for args in (["evaluate", "--real", str(run), "--synthetic", str(run), "--out", str(tmp_path / "rep")],
                 ["calibrate", str(run), "--out", str(tmp_path / "cal")]):
        r = _hygeia(*args)
        assert r.returncode != 0 and "Traceback" not in r.stderr, (args, r.stderr)
        assert f"{part}: its content differs from what was written" in r.stderr, (args, r.stderr)
    assert not (tmp_path / "rep").exists() and not (tmp_path / "cal").exists() and _leftovers(tmp_path) == []
    assert connect(run) is not None  # inspect's quick look checks sizes and Parquet's marks, not checksums


def test_a_missing_shard_is_named(run: Path) -> None:
    part = run / "persons" / "part-00000.parquet"
    part.unlink()
    with pytest.raises(DataValidationError, match=re.escape(f"{part}: is missing (run.json lists it)")):
        read_records(run)
