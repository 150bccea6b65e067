"""A real `hygeia generate` run, signalled mid-run, stops cleanly.

SIGINT (Ctrl-C) exits 130 and SIGTERM 143, as shells expect; the worker processes
are gone and a previous run at the same --out is unchanged. The shards finished
before the signal are kept (journalled with their checksums) for ``--resume``,
which then gives exactly the output of an uninterrupted run; a signal before any
shard is finished leaves no temporary output.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow

HYGEIA = [sys.executable, "-c", "from hygeia.cli.main import run; run()"]  # the console entry point


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_run_stops_workers_and_keeps_the_previous_run(tmp_path: Path, sig: int, code: int) -> None:
    out = tmp_path / "out"
    first = subprocess.run([*HYGEIA, "generate", "-n", "5", "--seed", "1", "--out", str(out), "--workers", "1"],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    proc = subprocess.Popen(
        [*HYGEIA, "generate", "-n", "50000", "--seed", "2", "--out", str(out), "--overwrite", "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # wait until the workers are computing shards into the temporary folder
        _wait_for(lambda: any(tmp_path.glob(".out.tmp-*/persons/part-*.parquet")) or proc.poll() is not None,
                  240, "the first shard")
        assert proc.poll() is None, proc.communicate()
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert workers, "the run should have worker processes"
        os.kill(proc.pid, sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()  # reap it and close its pipes
    assert proc.returncode == code, stderr
    assert "Stopped:" in stderr and "Traceback" not in stderr, stderr
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, f"processes left running: {[p.pid for p in alive]}"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")
    if left:  # shards were finished before the signal: kept for --resume, and the message says so
        assert len(left) == 1 and left[0].startswith(".out.tmp-"), left
        assert "--resume" in stderr and left[0] in stderr, stderr
        assert (tmp_path / left[0] / "persons").is_dir()
    else:
        assert "no partial output was left" in stderr, stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before, "the previous run was changed"


def test_a_terminated_run_resumes_to_the_uninterrupted_output(tmp_path: Path) -> None:
    sig, code = signal.SIGTERM, 143  # as a batch scheduler pre-empting a job sends (Ctrl-C takes the same path)
    args = ["generate", "-n", "400", "--shard-size", "25", "--seed", "3", "--workers", "1"]
    whole = subprocess.run([*HYGEIA, *args, "--out", str(tmp_path / "whole")], capture_output=True, text=True,
                           timeout=300)
    assert whole.returncode == 0, whole.stderr

    out = tmp_path / "out"
    proc = subprocess.Popen([*HYGEIA, *args, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        journals = lambda: list(tmp_path.glob(".out.tmp-*/.checkpoint.jsonl"))
        # two shards journalled (header + 2 lines), the run not finished
        _wait_for(lambda: any(len(j.read_text().splitlines()) >= 3 for j in journals()) or proc.poll() is not None,
                  240, "two finished shards")
        assert proc.poll() is None, "the run finished before the signal: make it longer"
        os.kill(proc.pid, sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, stderr
    assert "shards finished are kept in" in stderr and "--resume" in stderr, stderr
    assert not out.exists()

    again = subprocess.run([*HYGEIA, *args, "--out", str(out), "--resume"], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr, again.stderr
    parts = lambda root: {p.relative_to(root): p.read_bytes() for p in root.rglob("*.parquet")}
    assert parts(out) == parts(tmp_path / "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "whole"], "the kept shards were not cleaned up"
