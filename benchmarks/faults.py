"""Faults tried on ``hygeia generate`` and ``hygeia export`` and what checkpointing costs; writes ``benchmarks/results/faults.json``.

Two parts:

* **faults**: each fault of issue 21 is made to happen to a real run (the command line in a
  subprocess, ``--n`` persons in shards of ``--shard-size``): a worker SIGKILLed once and at
  every try, the main process and its whole process group SIGKILLed and then resumed, a full
  disk (a small tmpfs where this process may mount one, else an injected ``ENOSPC``), a
  read-only output, a truncated and a changed shard, a Dask worker lost mid-run; and, for
  every export format, ``hygeia export`` SIGKILLed with its whole process group once shard 2
  of 5 is written (before it is journalled: a torn shard), then ``--resume``. For each:
  the exit status, the first line the user sees, and whether the records (the Parquet bytes
  of ``persons/`` and ``events/``) or the export (every file's bytes; a MEDS ``dataset.json``
  without its ``created_at``; OMOP's DuckDB file table by table, row by row) equal those of
  the fault-free run, or, for a run that must fail, whether nothing half-written is left
  and a previous output is unchanged.
* **overhead**: the CPU seconds of a whole one-worker ``generate`` of ``--overhead-n`` persons
  (shards of 250, the default) with checkpointing (every file hashed, each shard journalled)
  and without (``checkpoint=False``), in one warm process, alternated, ``--rounds`` pairs per seed
  of ``--seeds`` (on a shared machine this end-to-end figure is noisy); the bookkeeping alone, with less
  noise: the CPU seconds of writing the same run's shards with and without it (10 times
  each), as a share of the whole ``generate``; the wall time of the retrying process pool against ``concurrent.futures``'
  ``ProcessPoolExecutor`` (no retries, the pool Hygeia used before) on two workers; and the CPU
  seconds of each format's whole export of a run of ``--export-n`` persons (shards of 50, records
  from 2016 on) with its checkpoints (files hashed, each shard journalled; OMOP: a transaction
  and a journal row per shard) and without (``checkpoint=False``), alternated, one pair per seed.

Usage::

    nice .venv/bin/python benchmarks/faults.py [--n 100] [--overhead-n 1000] [--export-n 500] [--seeds 1,2,3,4,5] [--rounds 2]
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
EXPORT_KILL_ENV = "HYGEIA_TEST_KILL_EXPORT_SHARD"  # hygeia.core._faults.EXPORT_KILL_ENV (test-only)
#: Every export format and its --out.
EXPORTS = {"fhir": "fhir", "ndjson": "bulk", "omop": "cdm.duckdb", "meds": "meds", "csv": "csv",
           "synthea-csv": "synthea"}



def _records(run: Path) -> str:
    from hygeia.core.storage import hash_folder

    return hash_folder(run / "persons") + hash_folder(run / "events")


def _cli(*args: str, kill: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    if kill:
        env[KILL_ENV] = kill
    return subprocess.run([*HYGEIA, *args], capture_output=True, text=True, env=env, timeout=600)


def _first_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("generating", "exporting"))]
    return lines[0] if lines else ""


def _export_content(path: Path) -> dict[str, Any]:
    """Every file's bytes (a MEDS dataset.json without created_at); a DuckDB file's rows, table by table."""
    import json

    if path.is_file():
        import duckdb

        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                                "WHERE table_schema = 'main' ORDER BY table_name").fetchall()]
            return {t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
        finally:
            con.close()
    out: dict[str, Any] = {}
    for p in sorted(path.rglob("*")) if path.is_dir() else []:
        if p.is_file():
            data = p.read_bytes()
            if p.name == "dataset.json":
                meta = json.loads(data)
                meta.pop("created_at", None)
                data = json.dumps(meta, sort_keys=True).encode()
            out[p.relative_to(path).as_posix()] = data
    return out


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
        self.run = ref

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

    def export_killed(self, fmt: str) -> Callable[[Path], dict[str, Any]]:
        """``hygeia export`` SIGKILLed with its process group once shard 2 is written, then ``--resume``."""
        def fault(d: Path) -> dict[str, Any]:
            from hygeia.export import export

            out = d / EXPORTS[fmt]
            env = {k: v for k, v in os.environ.items() if k not in (KILL_ENV, EXPORT_KILL_ENV)}
            r = subprocess.run([*HYGEIA, "export", str(self.run), "--format", fmt, "--out", str(out), "-q"],
                               capture_output=True, text=True, timeout=600, start_new_session=True, check=False,
                               env={**env, EXPORT_KILL_ENV: "2"})
            kept = sorted(_leftovers(d))
            resumed = _cli("export", str(self.run), "--format", fmt, "--out", str(out), "--resume")
            export(self.run, fmt, d / "fault_free" / EXPORTS[fmt])
            compared = {"omop": "every table's rows, in order (two DuckDB files differ in bytes even "
                                "uninterrupted)",
                        "meds": "every file's bytes (dataset.json without created_at, the time the export "
                                "began: a resumed export keeps the killed one's)"}.get(fmt, "every file's bytes")
            return {"exit": r.returncode, "user_sees": "(killed: nothing printed; the temporary output and its "
                    "journal stay)", "kept": kept, "resume_exit": resumed.returncode,
                    "resume_says": _first_line(resumed.stderr),
                    "output_equals_fault_free": _export_content(out) == _export_content(d / "fault_free" /
                                                                                         EXPORTS[fmt]),
                    "compared": compared, "left_behind": _leftovers(d)}

        return fault

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


def _export_overhead(n: int, seeds: list[int]) -> dict[str, Any]:
    """CPU seconds of each format's whole export with and without checkpoints, alternated, one pair per seed."""
    from hygeia.export import EXPORTERS
    from hygeia.population import generate

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for seed in seeds:
            run = Path(tmp) / f"run{seed}"
            generate(n=n, seed=seed, shard_size=50, out=run, workers=1, start="2016-01-01")
            runs.append(run)

        def timed(fmt: str, run: Path, checkpoint: bool) -> float:
            dest = Path(tmp) / ("x.duckdb" if fmt == "omop" else "x")
            t = time.process_time()
            EXPORTERS[fmt]().export(run, dest, overwrite=True, checkpoint=checkpoint)
            return time.process_time() - t

        total_on = total_off = 0.0
        for fmt in EXPORTS:
            timed(fmt, runs[0], False)  # warm-up: the format's modules loaded once, as in a long export
            on, off = [], []
            for i, run in enumerate(runs):
                for checkpoint in ((True, False) if i % 2 == 0 else (False, True)):
                    (on if checkpoint else off).append(timed(fmt, run, checkpoint))
            total_on, total_off = total_on + sum(on), total_off + sum(off)
            out[fmt] = {"cpu_seconds_with": _results.spread(on, 3), "cpu_seconds_without": _results.spread(off, 3),
                        "cpu_overhead_percent": _results.spread([100 * (a / b - 1) for a, b in zip(on, off)], 2),
                        "cpu_overhead_percent_of_means": round(100 * (sum(on) / sum(off) - 1), 2)}
            print(f"export {fmt}: {out[fmt]}", file=sys.stderr, flush=True)
    out["all_formats_cpu_overhead_percent_of_sums"] = round(100 * (total_on / total_off - 1), 2)
    out["pairs_per_format"] = len(seeds)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="persons of each fault run")
    ap.add_argument("--shard-size", type=int, default=20, help="persons per shard of the fault runs")
    ap.add_argument("--overhead-n", type=int, default=1000, help="persons of each overhead run (shards of 250)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="seeds of the overhead runs")
    ap.add_argument("--rounds", type=int, default=2, help="pairs of overhead runs per seed")
    ap.add_argument("--export-n", type=int, default=500, help="persons of each export overhead run (shards of 50)")
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
        for fmt in EXPORTS:
            faults.row(f"export --format {fmt} SIGKILLed with its process group mid-way (shard 2 of 5 written, not "
                       "journalled), then --resume", faults.export_killed(fmt))
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
    export_overhead = _export_overhead(args.export_n, seeds)
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
        "export_checkpoint_overhead": export_overhead,
        "process_pool_wall_seconds": {
            "retrying_pool": _results.spread(pool_new, 3),
            "concurrent_futures_pool": _results.spread(pool_old, 3),
            "workers": 2,
        },
    }
    doc = _results.envelope("faults", seeds=seeds,
                            sizes={"fault_run_persons": args.n, "fault_run_shard_size": args.shard_size,
                                   "overhead_run_persons": args.overhead_n, "overhead_shard_size": 250,
                                   "export_overhead_run_persons": args.export_n, "export_overhead_shard_size": 50,
                                   "export_overhead_run_start": "2016-01-01"},
                            figures=figures, argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
