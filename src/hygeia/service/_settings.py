"""The service's settings: one frozen object made once and handed to :func:`~hygeia.service.create_app`.

Every file the service reads or writes lies under ``data_root``::

    data_root/service.db           the job store, tokens and audit log (SQLite; or --database PostgreSQL)
    data_root/runs/<name>/          population runs (the canonical run folder of 'hygeia generate')
    data_root/jobs/<job id>/        each job's log.txt and its outputs (exports, reports, models...)
    data_root/uploads/<name>        uploaded files (tables, notes, SMILES...)
    data_root/tutor/cases, data_root/tutor/sessions

Example:
    >>> import tempfile, pathlib
    >>> s = ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp()))
    >>> s.database is None, s.cors_origins, s.job_workers
    (True, (), 2)
    >>> s.database_url.startswith("sqlite:///")
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hygeia.errors import ConfigError

__all__ = ["ServiceSettings"]

FOLDERS = ("runs", "jobs", "uploads", "tutor/cases", "tutor/sessions")


@dataclass(frozen=True)
class ServiceSettings:
    """What one service instance serves and how.

    Args:
        data_root: the folder every file the service reads or writes lies under.
        database: ``None`` for the SQLite file ``data_root/service.db``; ``postgresql://user:pw@host:port/db``
            for PostgreSQL (a team's servers can then share one job store).
        scheduler: a Dask scheduler address (``tcp://host:8786``) for generate jobs; ``None`` runs them in
            local processes.
        max_upload_bytes: the largest upload accepted (larger ones get 413).
        cors_origins: origins allowed to call the API from a browser; empty: CORS off.
        job_workers: jobs running at once on this server (0: this server only queues jobs, for another
            server on the same ``database`` to run).

    Raises:
        ConfigError: a setting is out of range.
    """

    data_root: Path
    database: str | None = None
    scheduler: str | None = None
    max_upload_bytes: int = 200 * 2**20
    cors_origins: tuple[str, ...] = ()
    job_workers: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_root", Path(self.data_root).expanduser().resolve())
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        if self.max_upload_bytes < 1:
            raise ConfigError(f"max_upload_bytes must be at least 1; got {self.max_upload_bytes}. "
                              "Pass e.g. max_upload=200MB.")
        if self.job_workers < 0:
            raise ConfigError(f"job_workers must be 0 or more; got {self.job_workers}. Pass e.g. job_workers=2.")
        if self.database is not None and not self.database.startswith(("postgresql://", "postgres://")):
            raise ConfigError(f"database must be a PostgreSQL URL (postgresql://user:password@host:5432/db); "
                              f"got {self.database!r}. Leave it out to use SQLite in the data root.")

    @property
    def database_url(self) -> str:
        """The job store's URL: the PostgreSQL one given, or ``sqlite:///DATA_ROOT/service.db``."""
        return self.database or f"sqlite:///{self.data_root / 'service.db'}"

    def make_folders(self) -> None:
        """Create ``data_root`` and its standard sub-folders (idempotent)."""
        for name in FOLDERS:
            (self.data_root / name).mkdir(parents=True, exist_ok=True)
