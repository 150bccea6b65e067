"""Executors: where the shards of a run are computed.

A run is split into independent shards; an :class:`Executor` maps one function
over them and yields each result as soon as it is ready, so that the caller can
stream it to disk. At most a few shards per worker are in flight at any time:
memory stays flat however many persons are made.

Executors are plugins behind one small interface and a registry:

    ``serial``   in this process (the default for one worker)
    ``process``  local worker processes (``spawn``/``forkserver``, never ``fork``)
    ``dask``     a Dask cluster: ``tcp://host:8786``, or ``local-dask`` for an
                 in-process ``distributed.LocalCluster``

Because every shard seeds itself from ``(run seed, person index)``, the records
are the same whichever executor computed them.

Example:
    >>> with SerialExecutor() as ex:
    ...     sorted(ex.map_shards(abs, [-2, 1, -3]))
    [(-3, 3), (-2, 2), (1, 1)]
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from hygeia.errors import ConfigError, MissingExtraError, Terminated

__all__ = [
    "DaskExecutor",
    "EXECUTORS",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "available_cpus",
    "default_workers",
    "make_executor",
    "raise_on_sigterm",
    "register_executor",
]

S = TypeVar("S")
R = TypeVar("R")

#: Registered executor classes by name.
EXECUTORS: dict[str, type["Executor"]] = {}


def register_executor(name: str) -> Callable[[type["Executor"]], type["Executor"]]:
    """Class decorator that registers an :class:`Executor` under ``name``."""

    def deco(cls: type[Executor]) -> type[Executor]:
        cls.name = name
        EXECUTORS[name] = cls
        return cls

    return deco


class Executor:
    """Maps a function over shards and yields results as they complete.

    Subclasses implement :meth:`_map`; :meth:`close` releases their resources.
    Executors are context managers.
    """

    name: ClassVar[str] = "base"

    def map_shards(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[S, R]]:
        """Apply ``fn`` to every shard.

        Args:
            fn: a picklable function of one shard (a module-level function or a
                :func:`functools.partial` of one, for process and Dask executors).
            shards: the shards, consumed lazily.

        Yields:
            ``(shard, fn(shard))`` pairs, in completion order (which may differ
            from the order of ``shards``). The first exception raised by ``fn``
            is re-raised here, and the shards not yet started are cancelled.
        """
        yield from self._map(fn, shards)

    def _map(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[S, R]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers or connections (idempotent)."""

    def abort(self) -> None:
        """Stop at once on an interruption: running shards are abandoned (default: :meth:`close`)."""
        self.close()

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and issubclass(exc_type, (KeyboardInterrupt, Terminated)):
            self.abort()
        else:
            self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@register_executor("serial")
class SerialExecutor(Executor):
    """Runs every shard in this process, one after the other, in order."""

    def _map(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[S, R]]:
        for shard in shards:
            yield shard, fn(shard)


def _window(workers: int) -> int:
    """How many shards may be in flight at once: enough to keep workers busy."""
    return 2 * workers


@register_executor("process")
class ProcessExecutor(Executor):
    """Runs shards in local worker processes.

    Workers are started with ``forkserver`` where the platform has it, else
    ``spawn`` (never ``fork``, which is unsafe with threads). With one worker
    it runs in this process, like :class:`SerialExecutor`.

    Args:
        workers: number of worker processes (>= 1).

    Example:
        >>> with ProcessExecutor(1) as ex:
        ...     list(ex.map_shards(abs, [-1]))
        [(-1, 1)]
    """

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be a positive integer; got {workers!r}")
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None

    def _get_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def _map(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[S, R]]:
        if self.workers == 1:
            yield from SerialExecutor()._map(fn, shards)
            return
        pool = self._get_pool()
        pending: dict[cf.Future[R], S] = {}
        todo = iter(shards)
        try:
            for shard in todo:
                pending[pool.submit(fn, shard)] = shard
                if len(pending) >= _window(self.workers):
                    break
            while pending:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    shard = pending.pop(fut)
                    result = fut.result()
                    del fut
                    for nxt in todo:
                        pending[pool.submit(fn, nxt)] = nxt
                        break
                    yield shard, result
                    del result
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Terminate the worker processes now (Ctrl-C, SIGTERM): no shard is waited for."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # concurrent.futures has no public way to stop running tasks before Python 3.14
        # (ProcessPoolExecutor.terminate_workers); its process table is the documented-in-code way.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers})"


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as e:
        raise MissingExtraError("dask[distributed]", "dask", "Running on a Dask cluster") from e
    return distributed


@register_executor("dask")
class DaskExecutor(Executor):
    """Runs shards on a Dask cluster.

    Args:
        address: a scheduler address (``tcp://host:8786``), or ``"local-dask"``
            to start an in-process ``distributed.LocalCluster`` (threads).
        workers: Dask workers of the local cluster (``local-dask`` only; >= 2
            keeps the distributed code path honest).
        timeout: seconds to wait when connecting to a remote scheduler.

    Raises:
        MissingExtraError: if ``dask[distributed]`` is not installed.
        ConfigError: if the scheduler cannot be reached.

    Example:
        >>> with DaskExecutor("local-dask") as ex:  # doctest: +SKIP
        ...     sorted(ex.map_shards(abs, [-1, -2]))
        [(-2, 2), (-1, 1)]
    """

    def __init__(self, address: str, *, workers: int = 2, timeout: float = 10.0) -> None:
        distributed = _import_distributed()
        self.address = address
        self._cluster = None
        try:
            if address == "local-dask":
                self._cluster = distributed.LocalCluster(
                    n_workers=max(2, workers),
                    threads_per_worker=1,
                    processes=False,
                    dashboard_address=None,
                )
                self._client = distributed.Client(self._cluster)
            else:
                self._client = distributed.Client(address, timeout=timeout)
        except (OSError, TimeoutError) as e:
            self.close()
            raise ConfigError(
                f"could not connect to the Dask scheduler at {address!r}: {e}. "
                "Check that the scheduler is running and reachable from here, "
                "or leave out --scheduler to run on local processes."
            ) from None

    def _map(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[S, R]]:
        distributed = _import_distributed()
        nworkers = max(1, len(self._client.scheduler_info().get("workers", {})))
        todo = iter(shards)
        pending: dict[Any, tuple[Any, S]] = {}
        queue = distributed.as_completed()

        def submit(shard: S) -> None:
            fut = self._client.submit(fn, shard, pure=False)
            pending[fut.key] = (fut, shard)
            queue.add(fut)

        try:
            for shard in todo:
                submit(shard)
                if len(pending) >= _window(nworkers):
                    break
            for fut in queue:
                _, shard = pending.pop(fut.key)
                result = fut.result()
                fut.release()
                del fut
                for nxt in todo:
                    submit(nxt)
                    break
                yield shard, result
                del result
        finally:
            queue.clear()
            if pending:
                self._client.cancel([f for f, _ in pending.values()])
            pending.clear()

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r})"


def _terminated(signum: int, frame: object) -> None:
    raise Terminated(f"received signal {signal.Signals(signum).name}")


def raise_on_sigterm() -> None:
    """Make SIGTERM raise :class:`~hygeia.errors.Terminated` in this process's main thread.

    A plain SIGTERM kills Python without unwinding, leaving temporary outputs and worker
    processes behind; raised as an exception, it runs every cleanup that Ctrl-C runs.
    The command line installs it; a library caller may too. No-op outside the main thread.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)


def available_cpus() -> int:
    """CPUs this process may use (respects affinity masks and containers)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(n: int, shard_size: int) -> int:
    """A sensible worker count: one per usable CPU, at most one per shard."""
    shards = -(-max(1, n) // max(1, shard_size))
    return max(1, min(available_cpus(), shards))


def make_executor(config: Any) -> Executor:
    """The executor a :class:`~hygeia.core.config.RunConfig` asks for.

    ``config.scheduler`` set → :class:`DaskExecutor`; otherwise
    ``config.workers > 1`` → :class:`ProcessExecutor`; else :class:`SerialExecutor`.
    """
    if config.scheduler:
        return EXECUTORS["dask"](config.scheduler, workers=config.workers)
    if config.workers > 1:
        return EXECUTORS["process"](config.workers)
    return EXECUTORS["serial"]()
