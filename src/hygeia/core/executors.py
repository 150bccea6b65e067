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

import collections
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, ClassVar, TypeVar

from hygeia.errors import ConfigError, MissingExtraError, Terminated, WorkerLostError

__all__ = [
    "DEFAULT_RETRIES",
    "DaskExecutor",
    "EXECUTORS",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "available_cpus",
    "default_workers",
    "describe_exit",
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

    def __init__(self) -> None:
        #: Shards whose worker died and that were computed again: ``{"shard", "worker", "attempt"}`` dicts.
        self.lost: list[dict[str, Any]] = []

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


#: How many times a shard whose worker died is computed again before the run stops.
DEFAULT_RETRIES = 2


def describe_exit(exitcode: int | None) -> str:
    """How a worker process ended, in words, with the likely cause.

    Example:
        >>> describe_exit(-9)
        'killed by SIGKILL (most likely the out-of-memory killer: the machine ran out of memory)'
        >>> describe_exit(3)
        'exited with code 3'
    """
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode == signal.SIGKILL:
            return f"killed by {name} (most likely the out-of-memory killer: the machine ran out of memory)"
        return f"killed by {name}"
    return f"exited with code {exitcode}"


def lost_error(shard: object, causes: list[str], retries: int) -> WorkerLostError:
    """The error for a shard whose workers died ``retries + 1`` times."""
    tries = len(causes)
    how = causes[0] if len(set(causes)) == 1 else "; ".join(causes)
    return WorkerLostError(
        f"shard {shard} was lost {tries} time{'s' if tries != 1 else ''}: its worker process was {how}"
        f"{' each time' if tries > 1 and len(set(causes)) == 1 else ''}. "
        f"It was computed again {retries} time{'s' if retries != 1 else ''} before giving up. "
        "Run with fewer --workers or a smaller --shard-size so that each worker needs less memory.",
        shard=shard, causes=tuple(causes),
    )


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (shown as its cause)."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


#: Shards sent ahead to each worker process, so that it starts the next one at once.
_AHEAD = 2


def _send_replies(conn: Connection, outbox: queue.Queue) -> None:
    """A worker's sender thread: send each reply, so that the worker computes on while the main
    process is busy (writing a shard) and not yet reading."""
    broken = False
    while True:
        reply = outbox.get()
        if reply is None:
            return
        if broken:
            continue  # the main process is gone: drain, so that the worker is never stuck
        try:
            conn.send(reply)
        except (BrokenPipeError, EOFError, OSError):
            broken = True
        except Exception as exc:  # a result that does not pickle (nothing was sent)
            conn.send((False, _portable(exc), traceback.format_exc()))
        del reply


def _serve(conn: Connection, running: Any) -> None:
    """A worker process: compute the ``(seq, fn, shard)`` tasks received on ``conn`` until it closes.

    ``running`` (shared memory) holds the ``seq`` of the task being computed, -1 between tasks: if
    the process dies, the main process knows which shard was the one it died on.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle; it stops us
    outbox: queue.Queue = queue.Queue(maxsize=1)
    sender = threading.Thread(target=_send_replies, args=(conn, outbox), daemon=True)
    sender.start()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        seq, fn, shard = task
        running.value = seq
        try:
            reply: tuple[bool, Any, str] = (True, fn(shard), "")
        except BaseException as exc:  # sent back and raised in the main process
            reply = (False, _portable(exc), traceback.format_exc())
        running.value = -1
        del task, fn, shard
        outbox.put(reply)
        del reply
    outbox.put(None)
    sender.join()


class _Slot:
    """One worker process, its end of the pipe, and the tasks sent to it (oldest first)."""

    __slots__ = ("conn", "proc", "running", "tasks")

    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.running = ctx.RawValue("q", -1)
        self.proc = ctx.Process(target=_serve, args=(child, self.running), daemon=True, name="hygeia-worker")
        self.proc.start()
        child.close()
        self.tasks: collections.deque[tuple[int, Any]] = collections.deque()

    def stop(self, *, kill: bool = False) -> None:
        if kill and self.proc.is_alive():
            self.proc.terminate()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        self.conn.close()
        self.proc.join(timeout=5 if kill else 60)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)


@register_executor("process")
class ProcessExecutor(Executor):
    """Runs shards in local worker processes, and recomputes the shards of workers that die.

    Workers are started with ``forkserver`` where the platform has it, else
    ``spawn`` (never ``fork``, which is unsafe with threads). With one worker
    it runs in this process, like :class:`SerialExecutor`.

    A worker that dies while computing a shard (killed by a signal, for instance by the
    kernel's out-of-memory killer) is replaced and its shard is computed again: shards are
    deterministic by seed, so the records do not change. The other workers keep their
    shards. A shard lost ``retries + 1`` times raises :class:`~hygeia.errors.WorkerLostError`
    naming the shard, how its worker ended and the fix. Each loss is recorded in
    :attr:`lost`.

    Args:
        workers: number of worker processes (>= 1).
        retries: how many times a lost shard is computed again (>= 0).

    Example:
        >>> with ProcessExecutor(1) as ex:
        ...     list(ex.map_shards(abs, [-1]))
        [(-1, 1)]
    """

    def __init__(self, workers: int, *, retries: int = DEFAULT_RETRIES) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be a positive integer; got {workers!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigError(f"retries must be an integer >= 0; got {retries!r}")
        super().__init__()
        self.workers = workers
        self.retries = retries
        self._slots: list[_Slot] = []

    def _context(self) -> Any:
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")

    def _start(self) -> list[_Slot]:
        if not self._slots:
            ctx = self._context()
            self._slots = [_Slot(ctx) for _ in range(self.workers)]
        return self._slots

    def _replace(self, slot: _Slot) -> _Slot:
        slot.stop(kill=True)
        new = _Slot(self._context())
        self._slots[self._slots.index(slot)] = new
        return new

    def _map(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[S, R]]:
        if self.workers == 1:
            yield from SerialExecutor()._map(fn, shards)
            return
        self._start()
        todo = enumerate(shards)
        again: collections.deque[tuple[int, S]] = collections.deque()  # shards of lost workers
        causes: dict[int, list[str]] = {}

        def feed(slot: _Slot) -> None:
            while len(slot.tasks) < _AHEAD:
                task = again.popleft() if again else next(todo, None)
                if task is None:
                    return
                try:
                    slot.conn.send((task[0], fn, task[1]))
                except (BrokenPipeError, OSError):  # it died
                    again.appendleft(task)
                    if slot.tasks:
                        return  # with shards: its sentinel tells the loop below, which charges them
                    slot = self._replace(slot)  # idle: nothing was lost
                    continue
                slot.tasks.append(task)

        def lost(slot: _Slot) -> None:
            """The worker died: charge the shard it was computing, send its shards elsewhere."""
            slot.proc.join(timeout=5)
            cause = describe_exit(slot.proc.exitcode)
            seq = slot.running.value
            culprit = next((t for t in slot.tasks if t[0] == seq), slot.tasks[0] if slot.tasks else None)
            if culprit is not None:
                tries = causes.setdefault(culprit[0], [])
                tries.append(cause)
                self.lost.append({"shard": str(culprit[1]), "worker": cause, "attempt": len(tries)})
                if len(tries) > self.retries:
                    raise lost_error(culprit[1], tries, self.retries)
            again.extendleft(reversed(slot.tasks))
            slot.tasks.clear()
            feed(self._replace(slot))

        try:
            for slot in list(self._slots):
                feed(slot)
            while True:
                busy = [s for s in self._slots if s.tasks]
                if not busy:
                    if not again:
                        break
                    for slot in list(self._slots):
                        feed(slot)
                    continue
                by_handle = {**{s.conn: s for s in busy}, **{s.proc.sentinel: s for s in busy}}
                ready = {id(by_handle[h]): by_handle[h] for h in wait(list(by_handle))}
                for slot in ready.values():  # one message each: a result, or the end of a dead worker
                    try:
                        ok, payload, tb = slot.conn.recv()
                    except (EOFError, OSError):
                        lost(slot)
                        continue
                    task = slot.tasks.popleft()
                    if not ok:
                        payload.__cause__ = _RemoteTraceback(tb)
                        raise payload
                    feed(slot)
                    yield task[1], payload
                    del payload
        finally:
            if any(s.tasks for s in self._slots):
                self.abort()  # shards still running (an error, or the caller stopped early)

    def close(self) -> None:
        slots, self._slots = self._slots, []
        for slot in slots:
            slot.stop()

    def abort(self) -> None:
        """Terminate the worker processes now (Ctrl-C, SIGTERM): no shard is waited for."""
        slots, self._slots = self._slots, []
        for slot in slots:
            slot.stop(kill=True)

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
        super().__init__()
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
                try:
                    result = fut.result()
                except distributed.KilledWorker as exc:
                    raise _dask_lost(shard, exc) from None
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


def _dask_lost(shard: object, exc: Any) -> WorkerLostError:
    """The error for a shard whose Dask workers kept dying (``distributed.KilledWorker``)."""
    tries = getattr(exc, "allowed_failures", None)
    times = f"{tries + 1} times" if isinstance(tries, int) else "too often"
    return WorkerLostError(
        f"shard {shard} was lost {times}: the Dask worker computing it died each time (the scheduler recomputes "
        "a lost task until its setting distributed.scheduler.allowed-failures is exceeded; the likeliest cause is "
        "memory: a worker over its memory limit is killed by its nanny or by the out-of-memory killer). "
        "Run with a smaller --shard-size, or give the Dask workers more memory (dask worker --memory-limit).",
        shard=shard, causes=(f"Dask worker {getattr(exc, 'last_worker', None) or '?'} died",),
    )


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
