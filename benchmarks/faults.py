"""Faults tried on ``hygeia generate`` and what checkpointing costs; writes ``benchmarks/results/faults.json``.

Two parts:

* **faults**: each fault of issue 21 is made to happen to a real run (the command line in a
  subprocess, ``--n`` persons in shards of ``--shard-size``): a worker SIGKILLed once and at
  every try, the main process and its whole process group SIGKILLed and then resumed, a full
  disk (a small tmpfs where this process may mount one, else an injected ``ENOSPC``), a
  read-only output, a truncated and a changed shard, a Dask worker lost mid-run. For each:
  the exit status, the first line the user sees, and whether the records (the Parquet bytes
  of ``persons/`` and ``events/``) equal those of the fault-free run, or, for a run that must
  fail, whether nothing half-written is left and a previous output is unchanged.
* **overhead**: the CPU seconds of a whole one-worker ``generate`` of ``--overhead-n`` persons
  (shards of 250, the default) with checkpointing (every file hashed, each shard journalled)
  and without (``checkpoint=False``), in one warm process, alternated, ``--rounds`` pairs per seed
  of ``--seeds`` (on a shared machine this end-to-end figure is noisy); the bookkeeping alone, with less
  noise: the CPU seconds of writing the same run's shards with and without it (10 times
  each), as a share of the whole ``generate``; and the wall time of the retrying process pool against ``concurrent.futures``'
  ``ProcessPoolExecutor`` (no retries, the pool Hygeia used before) on two workers.

Usage::

    nice .venv/bin/python benchmarks/faults.py [--n 100] [--overhead-n 1000] [--seeds 1,2,3,4,5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import builtins
import concurrent.futures as cf
import errno
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

HYGEIA = [sys.executable, "-c", "from hygeia.cli.main import run; run()"]
KILL_ENV = "HYGEIA_TEST_KILL_SHARD"  # hygeia.core._faults.KILL_ENV (test-only)



def _records(run: Path) -> str:
    from hygeia.core.storage import hash_folder

    return hash_folder(run / "persons") + hash_folder(run / "events")


def _cli(*args: str, kill: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    if kill:
        env[KILL_ENV] = kill
    return subprocess.run([*HYGEIA, *args], capture_output=True, text=True, env=env, timeout=600)


def _first_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("generating")]
    return lines[0] if lines else ""


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".tmp-" in p.name]


class _Faults:
    """Runs each fault in its own temporary folder and records one row per fault."""

    def __init__(self, n: int, shard: int, seed: int) -> None:
        self.args = ["-n", str(n), "--seed", str(seed), "--shard-size", str(shard)]
        self.n, self.shard, self.seed = n, shard, seed
        self.last = str(max(1, -(-n // shard) - 1))  # the shard killed at every try: the last one
        self.rows: list[dict[str, Any]] = []
        self.root = Path(tempfile.mkdtemp(prefix="hygeia-faults-"))
        ref = self.root / "reference"
        from hygeia.population import generate

        generate(n=n, seed=seed, shard_size=shard, out=ref, workers=1)
        self.reference = _records(ref)

    def row(self, fault: str, fn: Callable[[Path], dict[str, Any]]) -> None:
        folder = self.root / f"f{len(self.rows)}"
        folder.mkdir()
        row = {"fault": fault, **fn(folder)}
        self.rows.append(row)
        print(f"{fault}: {row}", file=sys.stderr, flush=True)

    def same(self, out: Path) -> bool:
        return out.is_dir() and _records(out) == self.reference

    # -- the faults ------------------------------------------------------------
    def worker_once(self, d: Path) -> dict[str, Any]:
        r = _cli("generate", *self.args, "--out", str(d / "run"), "--workers", "2", kill=f"2:{d / 'died'}")
        return {"exit": r.returncode, "user_sees": _first_line(r.stderr), "output_equals_fault_free": self.same(d / "run"),
                "left_behind": _leftovers(d)}

    def worker_always(self, d: Path) -> dict[str, Any]:
        r = _cli("generate", *self.args, "--out", str(d / "run"), "--workers", "2", kill=self.last)
        resumed = _cli("generate", *self.args, "--out", str(d / "run"), "--workers", "2", "--resume")
        warnings = sum(ln.startswith("warning:") for ln in r.stderr.splitlines())
        error = next((ln for ln in r.stderr.splitlines() if ln.startswith("Error:")), "")
        return {"exit": r.returncode, "user_sees": f"{warnings} warnings like the row above, then: {error}",
                "then": "--resume, without the fault",
                "resume_exit": resumed.returncode, "resume_says": _first_line(resumed.stderr),
                "output_equals_fault_free": self.same(d / "run"), "left_behind": _leftovers(d)}

    def main_killed(self, d: Path) -> dict[str, Any]:
        r = _cli("generate", *self.args, "--out", str(d / "run"), "--workers", "1", kill=self.last)
        kept = _leftovers(d)
        resumed = _cli("generate", *self.args, "--out", str(d / "run"), "--workers", "1", "--resume")
        return {"exit": r.returncode, "user_sees": "(killed: nothing printed; the temporary folder stays)",
                "kept": kept, "resume_exit": resumed.returncode, "resume_says": _first_line(resumed.stderr),
                "output_equals_fault_free": self.same(d / "run"), "left_behind": _leftovers(d)}

    def group_killed(self, d: Path) -> dict[str, Any]:
        out = d / "run"
        proc = subprocess.Popen([*HYGEIA, "generate", *self.args, "--out", str(out), "--workers", "2", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            journals = list(d.glob(".run.tmp-*/.checkpoint.jsonl"))
            if journals and len(journals[0].read_text().splitlines()) >= 3:  # header and two shards
                break
            time.sleep(0.02)
        killed = proc.poll() is None
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        resumed = _cli("generate", *self.args, "--out", str(out), "--workers", "2", "--resume")
        return {"exit": proc.returncode, "killed_mid_run": killed, "user_sees": "(killed: nothing printed)",
                "resume_exit": resumed.returncode, "resume_says": _first_line(resumed.stderr),
                "output_equals_fault_free": self.same(out), "left_behind": _leftovers(d)}

    def _previous(self, d: Path) -> tuple[Path, str]:
        from hygeia.core.storage import hash_folder
        from hygeia.population import generate

        generate(n=5, seed=1, shard_size=5, out=d / "run", workers=1)
        return d / "run", hash_folder(d / "run")

    def _failing_generate(self, d: Path, out: Path, before: str, **kw: Any) -> dict[str, Any]:
        from hygeia.core.storage import hash_folder
        from hygeia.errors import HygeiaError
        from hygeia.population import generate

        try:
            generate(n=200, seed=2, shard_size=20, out=out, workers=1, overwrite=True, **kw)
            seen = "(no error)"
        except HygeiaError as e:
            seen = f"Error: {e}"
        return {"user_sees": seen, "previous_output_unchanged": hash_folder(out) == before,
                "left_behind": _leftovers(d)}

    def full_disk(self, d: Path) -> dict[str, Any]:
        mnt = d / "disk"
        mnt.mkdir()
        if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=384k", "tmpfs", str(mnt)],
                                                capture_output=True).returncode == 0:
            try:
                out, before = self._previous(mnt)
                return {"how": "a 384 KiB tmpfs", **self._failing_generate(mnt, out, before)}
            finally:
                subprocess.run(["umount", "-l", str(mnt)], check=False)
        from hygeia.core import storage

        out, before = self._previous(mnt)
        count = [0]

        def full(file: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
            if "w" in mode and str(file).endswith(".parquet"):
                count[0] += 1
                if count[0] > 4:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
            return builtins.open(file, mode, *a, **k)

        storage.open = full
        try:
            return {"how": "ENOSPC injected into the run writer's writes", **self._failing_generate(mnt, out, before)}
        finally:
            del storage.open

    def read_only(self, d: Path) -> dict[str, Any]:
        mnt = d / "disk"
        mnt.mkdir()
        mounted = os.geteuid() == 0 and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True).returncode == 0
        try:
            out, before = self._previous(mnt)
            if mounted:
                subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
            else:
                mnt.chmod(0o555)
            return {"how": "tmpfs remounted read-only" if mounted else "folder mode 555",
                    **self._failing_generate(mnt, out, before)}
        finally:
            if mounted:
                subprocess.run(["umount", "-l", str(mnt)], check=False)
            else:
                mnt.chmod(0o755)

    def _damaged(self, d: Path, damage: Callable[[Path], None], *args: str) -> dict[str, Any]:
        from hygeia.population import generate

        run = d / "run"
        generate(n=self.n, seed=self.seed, shard_size=self.shard, out=run, workers=1)
        damage(run / "events" / "part-00001.parquet")
        r = _cli(*[a.replace("RUN", str(run)).replace("DIR", str(d)) for a in args])
        lines = [ln.strip() for ln in r.stderr.splitlines() if ln.strip()]
        return {"command": " ".join(args), "exit": r.returncode, "user_sees": " / ".join(lines[:2]),
                "traceback": "Traceback" in r.stderr, "left_behind": _leftovers(d)}

    def truncated(self, d: Path) -> dict[str, Any]:
        def cut(p: Path) -> None:
            p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])

        return self._damaged(d, cut, "inspect", "RUN")

    def changed(self, d: Path) -> dict[str, Any]:
        def flip(p: Path) -> None:
            data = bytearray(p.read_bytes())
            data[len(data) // 2] ^= 0xFF
            p.write_bytes(bytes(data))

        return self._damaged(d, flip, "export", "RUN", "--format", "csv", "--out", "DIR/csv")

    def dask_worker(self, d: Path) -> dict[str, Any]:
        import distributed

        from hygeia.population import generate

        os.environ[KILL_ENV] = f"1:{d / 'died'}"
        try:
            with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                          dashboard_address=None, silence_logs=50) as cluster:
                generate(n=self.n, seed=self.seed, shard_size=self.shard, out=d / "run",
                         scheduler=cluster.scheduler_address)
        finally:
            del os.environ[KILL_ENV]
        return {"how": "LocalCluster(processes=True, n_workers=2); the worker computing shard 1 SIGKILLs itself",
                "worker_died": (d / "died").exists(), "user_sees": "nothing (Dask recomputes the task)",
                "output_equals_fault_free": self.same(d / "run"), "left_behind": _leftovers(d)}


def _timed(n: int, seed: int, checkpoint: bool) -> tuple[float, float]:
    """CPU and wall seconds of one whole one-worker ``generate`` in this (warm) process."""
    from hygeia.population import generate

    with tempfile.TemporaryDirectory() as tmp:
        cpu, wall = time.process_time(), time.perf_counter()
        generate(n=n, seed=seed, out=Path(tmp) / "run", workers=1, checkpoint=checkpoint)
        return time.process_time() - cpu, time.perf_counter() - wall


class _PoolReference:
    """The executor Hygeia used before issue 21: ``concurrent.futures.ProcessPoolExecutor``, no retries."""

    lost: list = []

    def __init__(self, workers: int) -> None:
        ctx = multiprocessing.get_context("forkserver")
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        self.workers = workers

    def map_shards(self, fn, shards):
        pending, todo = {}, iter(shards)
        for shard in todo:
            pending[self.pool.submit(fn, shard)] = shard
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                shard = pending.pop(fut)
                for nxt in todo:
                    pending[self.pool.submit(fn, nxt)] = nxt
                    break
                yield shard, fut.result()

    def close(self) -> None:
        self.pool.shutdown()


def _bookkeeping(n: int, seed: int, reps: int) -> dict[str, Any]:
    """CPU seconds of writing one run's shards with and without checkpointing, against its whole generate."""
    from hygeia.core.storage import RunWriter, iter_shards
    from hygeia.population import generate

    with tempfile.TemporaryDirectory() as tmp:
        t = time.process_time()
        generate(n=n, seed=seed, out=Path(tmp) / "run", workers=1, checkpoint=False)
        generate_cpu = time.process_time() - t
        shards = list(iter_shards(Path(tmp) / "run"))

        def write(checkpoint: bool, i: int) -> float:
            out = Path(tmp) / f"w{i}-{checkpoint}"
            writer = RunWriter(out, shards=len(shards), key={"rep": i} if checkpoint else None, checksums=checkpoint)
            t = time.process_time()
            with writer:
                for k, (persons, events) in enumerate(shards):
                    writer.write_shard(k, persons, events)
                writer.finish({})
            return time.process_time() - t

        on, off = [], []
        for i in range(reps):
            for checkpoint in ((True, False) if i % 2 == 0 else (False, True)):
                (on if checkpoint else off).append(write(checkpoint, i))
    extra = sum(on) / reps - sum(off) / reps
    return {"generate_cpu_seconds": round(generate_cpu, 3), "shards": len(shards),
            "write_cpu_seconds_with": _results.spread(on, 4), "write_cpu_seconds_without": _results.spread(off, 4),
            "extra_cpu_seconds_per_run": round(extra, 4),
            "overhead_percent_of_generate": round(100 * extra / generate_cpu, 2)}


def _pool_wall(n: int, seed: int, reference: bool) -> float:
    from hygeia.core.executors import ProcessExecutor
    from hygeia.population import generate

    ex = _PoolReference(2) if reference else ProcessExecutor(2)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        generate(n=n, seed=seed, out=Path(tmp) / "run", workers=2, executor=ex)
        wall = time.perf_counter() - t
    ex.close()
    return wall


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="persons of each fault run")
    ap.add_argument("--shard-size", type=int, default=20, help="persons per shard of the fault runs")
    ap.add_argument("--overhead-n", type=int, default=1000, help="persons of each overhead run (shards of 250)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="seeds of the overhead runs")
    ap.add_argument("--rounds", type=int, default=2, help="pairs of overhead runs per seed")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/faults.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]

    faults = _Faults(args.n, args.shard_size, seed=3)
    try:
        faults.row("a worker SIGKILLed once (as by the OOM killer)", faults.worker_once)
        faults.row("a worker SIGKILLed at every try of one shard", faults.worker_always)
        faults.row("the main process SIGKILLed (one worker), then --resume", faults.main_killed)
        faults.row("the whole process group SIGKILLed mid-run (two workers), then --resume", faults.group_killed)
        faults.row("full disk", faults.full_disk)
        faults.row("read-only output (replacing a previous run)", faults.read_only)
        faults.row("a truncated shard in a run folder", faults.truncated)
        faults.row("a shard with one byte changed (same size)", faults.changed)
        faults.row("a Dask worker lost mid-run", faults.dask_worker)
    finally:
        shutil.rmtree(faults.root, ignore_errors=True)

    on, off = [], []
    _timed(args.overhead_n, seeds[0], False)  # warm-up: modules loaded and compiled once, as in a long run
    pairs = [seed for seed in seeds for _ in range(args.rounds)]
    for i, seed in enumerate(pairs):  # alternate the order, so that drift hits both alike
        for checkpoint in ((True, False) if i % 2 == 0 else (False, True)):
            (on if checkpoint else off).append(_timed(args.overhead_n, seed, checkpoint))
        print(f"seed {seed}: with {on[-1]}, without {off[-1]}", file=sys.stderr, flush=True)
    ratios = [a[0] / b[0] - 1 for a, b in zip(on, off)]
    bookkeeping = _bookkeeping(args.overhead_n, seeds[0], reps=10)
    print(f"bookkeeping: {bookkeeping}", file=sys.stderr, flush=True)
    pool_new, pool_old = [], []
    for i, seed in enumerate(seeds):  # every seed: a spread needs five values
        for ref in ((False, True) if i % 2 == 0 else (True, False)):
            (pool_old if ref else pool_new).append(_pool_wall(args.overhead_n, seed, ref))
    figures = {
        "faults": faults.rows,
        "checkpoint_overhead": {
            "cpu_seconds_with": _results.spread([c for c, _ in on], 3),
            "cpu_seconds_without": _results.spread([c for c, _ in off], 3),
            "wall_seconds_with": _results.spread([w for _, w in on], 3),
            "wall_seconds_without": _results.spread([w for _, w in off], 3),
            "cpu_overhead_percent": _results.spread([100 * r for r in ratios], 2),
            "pairs": len(pairs),
            "cpu_overhead_percent_of_means": round(100 * (sum(c for c, _ in on) / sum(c for c, _ in off) - 1), 2),
            "bookkeeping_alone": bookkeeping,
        },
        "process_pool_wall_seconds": {
            "retrying_pool": _results.spread(pool_new, 3),
            "concurrent_futures_pool": _results.spread(pool_old, 3),
            "workers": 2,
        },
    }
    doc = _results.envelope("faults", seeds=seeds,
                            sizes={"fault_run_persons": args.n, "fault_run_shard_size": args.shard_size,
                                   "overhead_run_persons": args.overhead_n, "overhead_shard_size": 250},
                            figures=figures, argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
