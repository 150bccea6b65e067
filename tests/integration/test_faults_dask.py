"""Fault injection on Dask: a worker of a real ``LocalCluster`` dies mid-run (issue 21).

The cluster's workers are processes under nannies; the test-only hook ``HYGEIA_TEST_KILL_SHARD``
(:mod:`hygeia.core._faults`) makes the worker that computes shard 1 SIGKILL itself once. The
nanny starts a new worker, the scheduler gives the shard to a live one, and the records are
byte for byte those of a fault-free run on one local worker.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hygeia.core._faults import KILL_ENV
from hygeia.core.executors import _dask_lost
from hygeia.core.storage import hash_folder
from hygeia.errors import WorkerLostError
from hygeia.population import generate
from hygeia.population.generate import Shard

distributed = pytest.importorskip("distributed")


def _records(run: Path) -> tuple[str, str]:
    return hash_folder(run / "persons"), hash_folder(run / "events")


@pytest.mark.slow
def test_a_dask_worker_lost_mid_run_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "died"
    monkeypatch.setenv(KILL_ENV, f"1:{marker}")  # read by the worker processes the cluster starts
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster:
        generate(n=60, seed=4, shard_size=15, out=tmp_path / "dask", scheduler=cluster.scheduler_address)
    monkeypatch.delenv(KILL_ENV)
    assert marker.exists(), "the hook should have killed a Dask worker"
    generate(n=60, seed=4, shard_size=15, out=tmp_path / "local", workers=1)
    assert _records(tmp_path / "dask") == _records(tmp_path / "local")


def test_a_shard_that_keeps_killing_dask_workers_is_named() -> None:
    lost = distributed.KilledWorker("run_shard-abc", "tcp://127.0.0.1:4242", allowed_failures=3)
    err = _dask_lost(Shard(4, 80, 20), lost)
    assert isinstance(err, WorkerLostError)
    assert re.match(re.escape("shard 4 (persons 80 to 99) was lost 4 times: the Dask worker computing it died"),
                    str(err))
    assert "smaller --shard-size" in str(err) and "tcp://127.0.0.1:4242" in err.causes[0]
