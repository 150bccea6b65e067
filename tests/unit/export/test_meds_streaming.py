"""The MEDS exporter streams: shards are pulled lazily, memory stays flat, interrupts leave nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.export import _base, export
from hygeia.export._meds import MedsExporter
from hygeia.population import generate

meds = pytest.importorskip("meds")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("meds_stream") / "run"
    generate(n=24, seed=5, shard_size=6, out=out)  # four shards
    return out


def synthetic_shard(index: int, persons: int = 50, events_each: int = 40) -> tuple[pa.Table, pa.Table]:
    """A shard of canonical records whose size does not depend on ``index``."""
    t0 = dt.datetime(1960, 1, 1)
    sids = [index * persons + i + 1 for i in range(persons)]
    p = {f.name: [None] * persons for f in PERSONS_SCHEMA}
    p.update(subject_id=sids, birth_time=[t0] * persons, sex=["F", "M"] * (persons // 2), race=["white"] * persons,
             ethnicity=["nonhispanic"] * persons, locale=["us"] * persons, seed=list(range(persons)))
    n = persons * events_each
    e = {f.name: [None] * n for f in EVENTS_SCHEMA}
    e.update(subject_id=[s for s in sids for _ in range(events_each)],
             time=[t0 + dt.timedelta(days=30 * (k % events_each)) for k in range(n)],
             kind=["observation"] * n, code_system=["LOINC"] * n, code=["8302-2"] * n, display=["Body height"] * n,
             numeric_value=[170.0] * n, unit=["cm"] * n, module=["m"] * n, state=["s"] * n)
    return pa.table(p, schema=PERSONS_SCHEMA), pa.table(e, schema=EVENTS_SCHEMA)


def test_shards_are_pulled_lazily_and_written_before_the_next(run, tmp_path, monkeypatch):
    real = _base.iter_shards
    dest = tmp_path / "meds"
    pulled: list[int] = []

    def lazy(path, start=0) -> Iterator[tuple[pa.Table, pa.Table]]:
        for k, shard in enumerate(real(path, start)):
            if k:  # the previous shard is on disk before this one is read
                (tmp,) = tmp_path.glob(".meds.tmp-????????")
                assert list((tmp / "data").glob(f"*/{k - 1:05d}.parquet")), f"shard {k - 1} not written yet"
            pulled.append(k)
            yield shard

    monkeypatch.setattr(_base, "iter_shards", lazy)
    counts = export(run, "meds", dest)
    assert pulled == [0, 1, 2, 3]
    assert counts["subjects"] == 24
    assert {p.stem for p in (dest / "data").rglob("*.parquet")} == {f"{k:05d}" for k in range(4)}


def test_memory_stays_flat_as_shards_grow_in_number(tmp_path):
    live: list[int] = []

    def shards(n: int) -> Iterator[tuple[pa.Table, pa.Table]]:
        for k in range(n):
            live.append(pa.total_allocated_bytes())  # what the exporter holds between shards
            yield synthetic_shard(k)

    counts = MedsExporter().write(shards(40), tmp_path / "m", {"seed": 1})
    assert counts["subjects"] == 40 * 50 and counts["events"] == 40 * 50 * 40
    early, late = max(live[2:8]), max(live[-10:])
    assert late <= early * 1.5 + 1_000_000, f"Arrow memory grew from {early} to {late} bytes over 40 shards"
    for p in (tmp_path / "m" / "data").rglob("*.parquet"):
        meds.DataSchema.validate(pq.read_table(p))


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_export_leaves_no_output(run, tmp_path, monkeypatch, error):
    real = _base.iter_shards

    def broken(path, start=0):
        shards = real(path, start)
        yield next(shards)
        yield next(shards)
        raise error("interrupted")

    monkeypatch.setattr(_base, "iter_shards", broken)
    with pytest.raises(error, match="interrupted") as info:
        export(run, "meds", tmp_path / "out" / "meds")
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    if error is KeyboardInterrupt:  # Ctrl-C: the journalled shards are kept for --resume, hidden, never meds/
        kept = info.value.kept[0]
        assert left == sorted([kept.name, kept.name + ".journal", kept.name + ".lock"])
        assert kept.name.startswith(".meds.tmp-")
    else:
        assert left == []  # neither meds/ nor .meds.tmp-*


def test_an_empty_shard_is_fine(tmp_path):
    empty = (PERSONS_SCHEMA.empty_table(), EVENTS_SCHEMA.empty_table())
    counts = MedsExporter().write(iter([empty, synthetic_shard(0, persons=2, events_each=1)]), tmp_path / "m",
                                  {"seed": 1})
    assert counts["subjects"] == 2 and counts["events"] == 2
    meds.SubjectSplitSchema.validate(pq.read_table(tmp_path / "m" / meds.subject_splits_filepath))
    codes = pq.read_table(tmp_path / "m" / meds.code_metadata_filepath)
    meds.CodeMetadataSchema.validate(codes)
    assert {meds.birth_code, meds.death_code, "LOINC//8302-2"} <= set(codes["code"].to_pylist())
