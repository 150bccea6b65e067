"""Make a synthetic population and write it to a run folder.

:func:`generate` is the one entry point that the CLI (``hygeia generate``) and
the service call: it resolves and records the seed, validates the options and
the modules before touching the disk, splits the ``n`` persons into shards,
runs them on the configured executor, streams every finished shard to Parquet,
and moves the folder into place only once everything succeeded.

Example:
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "output")
    >>> result = generate(n=20, seed=1, out=out)
    >>> (result.seed, sorted(os.listdir(out)))
    (1, ['events', 'persons', 'run.json'])
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from hygeia import __version__
from hygeia.core._faults import maybe_kill
from hygeia.core.config import SPEC_VERSION, RunConfig
from hygeia.core.executors import Executor, make_executor
from hygeia.core.progress import Progress
from hygeia.core.seeding import resolve_seed
from hygeia.core.storage import RunWriter, find_interrupted, hash_folder
from hygeia.errors import ConfigError, Terminated, WorkerLostError

__all__ = ["DEFAULT_MODULES_DIR", "GenerateResult", "Shard", "generate", "module_sources"]

#: Hygeia's embedded module library.
DEFAULT_MODULES_DIR = Path(__file__).resolve().parent / "modules"


@dataclasses.dataclass(frozen=True)
class Shard:
    """Persons ``first .. first+count-1`` of a run, written as ``part-<index>``."""

    index: int
    first: int
    count: int

    def __str__(self) -> str:
        return f"{self.index} (persons {self.first} to {self.first + self.count - 1})"


@dataclasses.dataclass(frozen=True)
class GenerateResult:
    """What a run made and where.

    Attributes:
        out: the run folder.
        n_persons: rows written to ``persons``.
        n_events: rows written to ``events``.
        n_alive: persons alive on the end date (the others died before it).
        seconds: wall-clock time of the run.
        seed: the run seed (resolved; pass it again to reproduce the run).
        config: the full configuration, as saved in ``run.json``.
        module_warnings: what the module loader found questionable but ran anyway
            (also in ``run.json`` and, unless ``quiet``, printed on stderr).
    """

    out: Path
    n_persons: int
    n_events: int
    seconds: float
    seed: int
    config: RunConfig
    module_warnings: tuple[str, ...] = ()
    n_alive: int = 0


def _shards(n: int, size: int) -> Iterator[Shard]:
    for index, first in enumerate(range(0, n, size)):
        yield Shard(index, first, min(size, n - first))


def _run_shard(config: RunConfig, shard: Shard) -> tuple[pa.Table, pa.Table]:
    """Worker entry point: simulate one shard (module-level so it pickles)."""
    from hygeia.population import simulate  # imported here: reading runs needs no engine

    maybe_kill(shard.index)  # test-only fault injection (HYGEIA_TEST_KILL_SHARD); nothing when unset
    return simulate.simulate_shard(config, shard.first, shard.count)


def _alive(writer: RunWriter) -> int:
    """Persons alive on the end date (no death time), read back from the shards written."""
    import pyarrow.parquet as pq

    alive = 0
    for rel in writer.files:
        if rel.startswith("persons/"):
            alive += pq.read_table(writer.tmp / rel, columns=["death_time"]).column("death_time").null_count
    return alive


def module_sources(config: RunConfig) -> list[dict[str, Any]]:
    """The module folders a run uses, each with its module names and a content hash."""
    folders: list[tuple[str, Path]] = []
    if config.default_modules:
        folders.append(("default", DEFAULT_MODULES_DIR))
    folders.extend(("user", Path(m).resolve()) for m in config.modules)
    out = []
    for source, folder in folders:
        names = sorted(p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob("*.json")) if folder.is_dir() else []
        out.append({"source": source, "path": str(folder), "hash": hash_folder(folder), "modules": names})
    return out


def _demography_info(config: RunConfig) -> dict[str, Any]:
    """How births and deaths were drawn: the observation window, the module deaths taken out of the life table."""
    from hygeia.population import simulate

    return simulate.demography_info(config)


def _validate_modules(config: RunConfig) -> list[str]:
    """Load and validate every module before any output is created; returns the load warnings.

    Raises:
        ModuleValidationError: listing every problem in every module.
    """
    try:
        from hygeia.population.engine import load_run_modules
    except ImportError as e:
        # Tolerate only the engine, or its loader, not existing yet: an import
        # error from inside a broken engine must fail loudly.
        if e.name == "hygeia.population.engine":
            return []
        raise
    return list(load_run_modules(config).warnings)


def _print_module_warnings(warnings: list[str]) -> None:
    """Show the module loader's warnings on stderr (they are also saved in ``run.json``)."""
    n = len(warnings)
    print(f"{n} module warning{'s' if n != 1 else ''} (the run goes on; also in run.json 'module_warnings'):",
          file=sys.stderr)
    for w in warnings:
        print(f"  warning: {w}", file=sys.stderr)


def _run_key(config: RunConfig) -> dict[str, Any]:
    """What makes a run's records: its options (not where or on how many workers) and its modules' hashes."""
    options = config.to_dict()
    for where in ("out", "workers", "scheduler"):
        options.pop(where, None)
    key = {"hygeia_version": __version__, "config": options,
           "modules": [m["hash"] for m in module_sources(config)]}
    return json.loads(json.dumps(key, sort_keys=True, default=str))  # as the journal stores it


def _resume_seed(config: RunConfig) -> RunConfig:
    """With ``--resume`` and no ``--seed``, take the seed of the newest interrupted run of ``out``."""
    if config.seed is not None:
        return config
    for run in find_interrupted(config.out):
        seed = (run.key.get("config") or {}).get("seed")
        if isinstance(seed, int):
            return dataclasses.replace(config, seed=seed)
    return config


def _note(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr)


def _build_config(config: RunConfig | None, options: dict[str, Any]) -> RunConfig:
    if config is None:
        if "n" not in options:
            raise ConfigError(
                "generate() needs n, the number of persons to make; e.g. generate(n=100, seed=1, out='output')"
            )
        return RunConfig.from_dict(options)
    if not isinstance(config, RunConfig):
        raise ConfigError(f"config must be a RunConfig or None; got {type(config).__name__}")
    if options:
        fields = {f.name for f in dataclasses.fields(RunConfig)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise ConfigError(f"unknown run option(s) {unknown}; known options are {sorted(fields)}")
        config = dataclasses.replace(config, **options)
    return config


def generate(
    config: RunConfig | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    checkpoint: bool = True,
    quiet: bool = True,
    executor: Executor | None = None,
    **options: Any,
) -> GenerateResult:
    """Simulate a population and write it to ``config.out``.

    Args:
        config: the run options; or pass them as keywords (``n=100, seed=1``),
            which also override fields of ``config``.
        overwrite: replace ``out`` if it holds a previous run.
        resume: continue the interrupted run of ``out`` (one killed outright, or stopped by a
            :class:`~hygeia.errors.WorkerLostError`) from its shards already written and verified;
            the records are the same as those of an uninterrupted run. Pass the same options
            (the seed may be left out: the interrupted run's is taken). Without an interrupted
            run, the run starts from the beginning.
        checkpoint: hash every file written (recorded in ``run.json``, checked by the readers) and
            journal each finished shard so that a killed run can be resumed; False only to
            measure what this costs (``benchmarks/faults.py``).
        quiet: no progress bar (it is drawn on stderr only when that is a terminal) and no module
            warnings on stderr.
        executor: run on this executor instead of the one ``config`` asks for
            (it is not closed afterwards).
        **options: fields of :class:`~hygeia.core.config.RunConfig`.

    Returns:
        A :class:`GenerateResult`.

    Raises:
        ConfigError: an option is invalid, or the Dask scheduler cannot be reached.
        ModuleValidationError: a module is malformed (nothing is written).
        OutputError: ``out`` cannot be written (a full disk, a read-only folder: nothing is kept) or
            already holds something.
        SimulationError: a module failed while simulating a person (nothing is written).
        WorkerLostError: a shard's worker died more often than the executor retries; the shards
            written are kept for ``resume=True``.

    Example:
        >>> import tempfile, os
        >>> r = generate(n=10, seed=7, out=os.path.join(tempfile.mkdtemp(), "run"))
        >>> r.seed, r.config.n
        (7, 10)
    """
    started = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    config = _build_config(config, options)
    if resume:
        config = _resume_seed(config)
    config = dataclasses.replace(config, seed=resolve_seed(config.seed))
    warnings = _validate_modules(config)
    if warnings and not quiet:
        _print_module_warnings(warnings)
    shards = -(-config.n // config.shard_size)
    if resume and not checkpoint:
        raise ConfigError("resume=True needs checkpoint=True: the journal is what a run resumes from")
    key = _run_key(config) if checkpoint else None
    writer = RunWriter(config.out, shards=shards, overwrite=overwrite, key=key, checksums=checkpoint,
                       resume=resume)  # checks only
    if not resume:
        for run in find_interrupted(config.out)[:1]:
            _note(f"note: an interrupted run of {config.out} ({run.done} of {run.shards} shards done) is in "
                  f"{run.path}; pass --resume (resume=True) with its options to continue it instead", quiet)
    own_executor = executor is None
    ex = make_executor(config) if executor is None else executor
    try:
        task = functools.partial(_run_shard, config)
        with writer, Progress(config.n, unit="persons", description="generating", quiet=quiet) as bar:
            todo = [s for s in _shards(config.n, config.shard_size) if s.index not in writer.done]
            reused = shards - len(todo)
            if writer.resumed_from is not None:
                bar.note(f"resuming {writer.resumed_from}: {reused} of {shards} shards already written and verified")
            if reused:
                bar.update(config.n - sum(s.count for s in todo))
            lost_log = getattr(ex, "lost", [])  # an executor made outside Hygeia may not keep one
            seen_lost = len(lost_log)
            try:
                for shard, (persons, events) in ex.map_shards(task, todo):
                    writer.write_shard(shard.index, persons, events)
                    del persons, events
                    bar.update(shard.count)
                    for lost in lost_log[seen_lost:]:
                        bar.note(f"warning: the worker computing shard {lost['shard']} was {lost['worker']}; "
                                 "the shard was computed again")
                    seen_lost = len(lost_log)
            except (KeyboardInterrupt, Terminated) as e:
                if writer.done and key is not None:  # journalled shards: keep them for --resume
                    e.kept = (writer.keep(), len(writer.done), shards)  # read by the CLI's "Stopped" message
                raise
            except WorkerLostError as e:
                kept = writer.keep()
                raise WorkerLostError(
                    f"{e} The {len(writer.done)} shards finished are kept in {kept}: to continue from them, run "
                    "the same command again with --resume and fewer --workers (a resumed run needs the same "
                    "--shard-size)." if kept else str(e),
                    shard=e.shard, causes=e.causes) from None
            alive = _alive(writer)
            seconds = time.monotonic() - started
            info = {
                "hygeia_version": __version__,
                "spec_version": SPEC_VERSION,
                "config": config.to_dict(),
                "modules": module_sources(config),
                "module_warnings": warnings,
                "executor": repr(ex),
                "timing": {
                    "started_at": started_at.isoformat(),
                    "seconds": round(seconds, 3),
                },
                "counts": {"shards": shards, "persons": config.n, "alive_at_end": alive,
                           "dead_at_end": config.n - alive},
                "demography": _demography_info(config),
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            }
            if writer.resumed_from is not None:
                info["resumed"] = {"shards_reused": reused, "from": writer.resumed_from.name}
            if lost_log:
                info["lost_workers"] = list(lost_log)
            out = writer.finish(info)
    except (KeyboardInterrupt, Terminated):
        if own_executor:
            ex.abort()  # stop the workers now instead of waiting for their shards
        raise
    finally:
        if own_executor:
            ex.close()
    return GenerateResult(
        out=out,
        n_persons=writer.counts["persons"],
        n_events=writer.counts["events"],
        seconds=seconds,
        seed=config.seed,
        config=config,
        module_warnings=tuple(warnings),
        n_alive=alive,
    )
