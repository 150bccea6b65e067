"""``--scheduler tcp://...``: the same shards run on a real Dask cluster reached over TCP."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hygeia.core.storage import read_records
from hygeia.population import generate

distributed = pytest.importorskip("distributed")


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


def test_tcp_scheduler_gives_the_same_records_as_one_worker(tmp_path) -> None:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        generate(n=30, seed=5, out=tmp_path / "dask", scheduler=address, shard_size=7)
    generate(n=30, seed=5, out=tmp_path / "local", workers=1, shard_size=7)
    (p1, e1), (p2, e2) = read_records(tmp_path / "dask"), read_records(tmp_path / "local")
    assert _sorted(p1, ["subject_id"]).equals(_sorted(p2, ["subject_id"]))
    keys = ["subject_id", "time", "kind", "code", "state", "module"]
    assert e1.num_rows == e2.num_rows > 0
    assert _sorted(e1, keys).equals(_sorted(e2, keys))
