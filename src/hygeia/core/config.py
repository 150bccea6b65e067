"""One typed configuration per run, saved beside the output as ``run.json``.

There is no global mutable configuration: a :class:`RunConfig` is built once,
validated once, handed to every worker, and written next to the records so
that every output says how it was made.

Example:
    >>> cfg = RunConfig(n=10, seed=1, out="output")
    >>> cfg.end.isoformat()
    '2026-01-01'
    >>> RunConfig.from_json(cfg.to_json()) == cfg
    True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from hygeia.errors import ConfigError

__all__ = ["BUILTIN_MODULE_FOLDERS", "DEFAULT_END", "RunConfig", "SPEC_VERSION", "resolve_module_folder"]

SPEC_VERSION = 1
#: A fixed default "present" so that the same seed gives the same records on any day.
DEFAULT_END = dt.date(2026, 1, 1)


def _as_date(value: Any, name: str, problems: list[str]) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{name} must be a date as YYYY-MM-DD; got {value!r}")
        return None


#: Module folders shipped with Hygeia, by the name ``--modules`` accepts.
BUILTIN_MODULE_FOLDERS = {
    "synthea": Path(__file__).resolve().parents[1] / "population" / "synthea" / "modules",
}


def resolve_module_folder(folder: str | os.PathLike[str]) -> str:
    """The folder a ``--modules`` value names: a built-in corpus by name, else the path itself.

    Example:
        >>> resolve_module_folder("synthea").endswith("synthea/modules")
        True
        >>> resolve_module_folder("./my_modules")
        './my_modules'
    """
    folder = str(folder)
    builtin = BUILTIN_MODULE_FOLDERS.get(folder)
    return str(builtin) if builtin is not None else folder


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Options of one population run.

    Args:
        n: number of persons to make, alive or dead (> 0).
        seed: run seed; ``None`` is resolved to fresh OS entropy by
            :func:`hygeia.core.seeding.resolve_seed` before the run starts.
        out: output folder.
        modules: extra folders of Synthea-format modules to run; the name
            ``"synthea"`` means Synthea's own corpus, shipped with Hygeia
            (:data:`BUILTIN_MODULE_FOLDERS`; write ``./synthea`` for a local folder of that name).
        default_modules: whether to run Hygeia's embedded module library too.
        locale: locale pack name (``"us"``).
        start: first date kept in the records; facts that ended before it are
            dropped (``None`` keeps whole lifetimes).
        end: the simulated "present": the population's ages follow the
            locale's age pyramid on this date and simulation stops there.
        workers: local worker processes (1 runs in-process).
        scheduler: address of a Dask scheduler (``tcp://host:8786``), or
            ``"local-dask"`` for an in-process Dask LocalCluster.
        shard_size: persons per shard (one Parquet file per shard and table).
    """

    n: int
    seed: int | None = None
    out: str = "output"
    modules: tuple[str, ...] = ()
    default_modules: bool = True
    locale: str = "us"
    start: dt.date | None = None
    end: dt.date = DEFAULT_END
    workers: int = 1
    scheduler: str | None = None
    shard_size: int = 250

    def __post_init__(self) -> None:
        problems: list[str] = []
        object.__setattr__(self, "modules", tuple(resolve_module_folder(m) for m in self.modules))
        object.__setattr__(self, "start", _as_date(self.start, "start", problems))
        end = _as_date(self.end, "end", problems)
        object.__setattr__(self, "end", end if end is not None else DEFAULT_END)
        for name in ("n", "workers", "shard_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                problems.append(f"{name} must be a positive integer; got {v!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0):
            problems.append(f"seed must be a non-negative integer; got {self.seed!r}")
        if self.start is not None and self.end is not None and self.start > self.end:
            problems.append(f"start ({self.start}) must not be after end ({self.end})")
        if not self.default_modules and not self.modules:
            problems.append("no modules to run: default_modules is off and no module folder was given (--modules DIR)")
        for m in self.modules:
            if not os.path.isdir(m):
                problems.append(f"module folder {m!r} does not exist or is not a folder")
        if self.scheduler is not None and not (
            self.scheduler == "local-dask" or self.scheduler.startswith(("tcp://", "tls://", "inproc://"))
        ):
            problems.append(
                f"scheduler must be a Dask address such as tcp://host:8786 (or 'local-dask'); got {self.scheduler!r}"
            )
        if problems:
            raise ConfigError("invalid run options:\n" + "\n".join(f"  - {p}" for p in problems))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, dates as ISO strings."""
        d = dataclasses.asdict(self)
        d["modules"] = list(self.modules)
        d["start"] = self.start.isoformat() if self.start else None
        d["end"] = self.end.isoformat()
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - fields)
        if unknown:
            raise ConfigError(f"unknown run option(s) {unknown}; known options are {sorted(fields)}")
        d = dict(d)
        if "modules" in d:
            d["modules"] = tuple(d["modules"])
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        return cls.from_dict(json.loads(text))
