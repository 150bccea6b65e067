"""The one exception hierarchy of Hygeia.

Every error a user can cause derives from :class:`HygeiaError`. A message says
what was wrong, the value received, and how to fix it. Validation gathers every
problem it finds into one error rather than stopping at the first.

    HygeiaError
    ├── ConfigError            a run option or argument is invalid
    ├── ModuleValidationError  one or more disease modules are malformed
    ├── LocaleError            a locale pack is missing or malformed
    ├── DataValidationError    input data does not match what was declared
    ├── OutputError            the output location cannot be written
    ├── SimulationError        a module failed while simulating a person
    │   └── WorkerLostError    a worker process died (killed, out of memory) too often
    └── MissingExtraError      an optional dependency is not installed

    Terminated (a BaseException, like KeyboardInterrupt)  SIGTERM received: unwind and clean up
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "DataValidationError",
    "HygeiaError",
    "LocaleError",
    "MissingExtraError",
    "ModuleValidationError",
    "OutputError",
    "Problem",
    "SimulationError",
    "Terminated",
    "WorkerLostError",
]


class HygeiaError(Exception):
    """Base class of every error Hygeia raises on purpose."""


class Terminated(BaseException):
    """The process received SIGTERM: like :class:`KeyboardInterrupt`, it unwinds every
    ``with`` block (temporary outputs deleted, workers stopped) and is never swallowed by
    ``except Exception``. See :func:`hygeia.core.executors.raise_on_sigterm`."""


class ConfigError(HygeiaError, ValueError):
    """A run option or argument is invalid."""


class OutputError(HygeiaError, OSError):
    """The output location cannot be written, or already holds something else."""


class SimulationError(HygeiaError, RuntimeError):
    """A module failed while simulating one person (names module, state, person)."""


class WorkerLostError(SimulationError):
    """A shard's worker died (a signal such as SIGKILL from the out-of-memory killer) more often than
    the executor retries; names the shard, how the worker ended and the fix."""

    def __init__(self, message: str, *, shard: object = None, causes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.shard = shard
        self.causes = causes

    def __reduce__(self):  # keep the keyword attributes through pickling (Dask, worker processes)
        return (_rebuild_worker_lost, (str(self), self.shard, self.causes))


def _rebuild_worker_lost(message: str, shard: object, causes: tuple[str, ...]) -> "WorkerLostError":
    return WorkerLostError(message, shard=shard, causes=causes)


class MissingExtraError(HygeiaError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package {package!r}, which is not installed. "
            f"Install it with: pip install 'hygeia[{extra}]'"
        )
        self.package = package
        self.extra = extra


class Problem(str):
    """One problem found during validation: where it is, and what is wrong."""

    def __new__(cls, where: str, message: str) -> "Problem":
        obj = super().__new__(cls, f"{where}: {message}")
        obj.where = where
        obj.message = message
        return obj


class _ProblemsError(HygeiaError, ValueError):
    """An error that carries every problem found, listed under one header."""

    header = "invalid input"

    def __init__(self, problems: Iterable[str], header: str | None = None) -> None:
        self.problems = list(problems)
        head = header or self.header
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"{head} ({n} problem{'s' if n != 1 else ''}):\n{lines}")


class ModuleValidationError(_ProblemsError):
    """One or more disease modules are malformed; lists each problem with file and state."""

    header = "malformed module(s)"


class LocaleError(_ProblemsError):
    """A locale pack is missing or malformed."""

    header = "invalid locale pack"


class DataValidationError(_ProblemsError):
    """Input data does not match what was declared."""

    header = "invalid data"
