"""The CSV exporter streams: files are appended shard by shard, memory stays flat, interrupts leave nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.export import _base, export
from hygeia.export._csv import CSV_TABLES, OTHER_TABLE, CsvExporter
from hygeia.population import generate


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csv_stream") / "run"
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
    kinds = ["observation", "condition", "note", "encounter"]
    e = {f.name: [None] * n for f in EVENTS_SCHEMA}
    e.update(subject_id=[s for s in sids for _ in range(events_each)],
             time=[t0 + dt.timedelta(days=30 * (k % events_each)) for k in range(n)],
             kind=[kinds[k % 4] for k in range(n)], code_system=["LOINC"] * n, code=["8302-2"] * n,
             display=["Body height, with \"quotes\", commas"] * n, numeric_value=[170.0] * n, unit=["cm"] * n,
             module=["m"] * n, state=["s"] * n)
    return pa.table(p, schema=PERSONS_SCHEMA), pa.table(e, schema=EVENTS_SCHEMA)


def test_files_grow_shard_by_shard(run, tmp_path, monkeypatch):
    real = _base.iter_shards
    sizes: list[int] = []

    def lazy(path, start=0) -> Iterator[tuple[pa.Table, pa.Table]]:
        for shard in real(path, start):
            tmp = next(tmp_path.glob(".csv.tmp-????????"), None)
            sizes.append((tmp / "patients.csv").stat().st_size if tmp else 0)
            yield shard

    monkeypatch.setattr(_base, "iter_shards", lazy)
    counts = export(run, "csv", tmp_path / "csv")
    assert counts["patients"] == 24
    assert len(sizes) == 4 and sizes == sorted(set(sizes)), f"patients.csv did not grow per shard: {sizes}"


def test_memory_stays_flat_as_shards_grow_in_number(tmp_path):
    live: list[int] = []

    def shards(n: int) -> Iterator[tuple[pa.Table, pa.Table]]:
        for k in range(n):
            live.append(pa.total_allocated_bytes())
            yield synthetic_shard(k)

    counts = CsvExporter().write(shards(40), tmp_path / "c", {"seed": 1})
    assert counts["patients"] == 40 * 50
    assert counts["observations"] == counts["conditions"] == counts["notes"] == 40 * 50 * 10
    assert counts[OTHER_TABLE] == 0
    early, late = max(live[2:8]), max(live[-10:])
    assert late <= early * 1.5 + 1_000_000, f"Arrow memory grew from {early} to {late} bytes over 40 shards"
    notes = pcsv.read_csv(tmp_path / "c" / "notes.csv")
    assert notes.num_rows == 40 * 50 * 10
    assert set(notes["TITLE"].to_pylist()) == {"Body height, with \"quotes\", commas"}


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_export_leaves_no_output(run, tmp_path, monkeypatch, error):
    real = _base.iter_shards

    def broken(path, start=0):
        shards = real(path, start)
        yield next(shards)
        raise error("interrupted")

    monkeypatch.setattr(_base, "iter_shards", broken)
    with pytest.raises(error, match="interrupted") as info:
        export(run, "csv", tmp_path / "out" / "csv")
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    if error is KeyboardInterrupt:  # Ctrl-C: the journalled shards are kept for --resume, hidden, never csv/
        kept = info.value.kept[0]
        assert left == sorted([kept.name, kept.name + ".journal", kept.name + ".lock"])
        assert kept.name.startswith(".csv.tmp-")
    else:
        assert left == []  # neither csv/ nor .csv.tmp-*


def test_no_shards_gives_headers_only(tmp_path):
    counts = CsvExporter().write(iter(()), tmp_path / "c", {})
    assert set(counts.values()) == {0}
    for name in ["patients", *CSV_TABLES, OTHER_TABLE]:
        table = pcsv.read_csv(tmp_path / "c" / f"{name}.csv")
        assert table.num_rows == 0 and table.num_columns > 0
