"""The Synthea CSV exporter streams: memory stays flat over many shards, an interrupt leaves nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.export import _base, export
from hygeia.export._synthea_csv import SYNTHEA_FILES, SyntheaCsvExporter
from hygeia.population import generate


def synthetic_shard(index: int, persons: int = 50, events_each: int = 40) -> tuple[pa.Table, pa.Table]:
    """A shard whose size does not depend on ``index``: each person one encounter and its facts."""
    t0 = dt.datetime(1960, 1, 1)
    sids = [index * persons + i + 1 for i in range(persons)]
    p = {f.name: [None] * persons for f in PERSONS_SCHEMA}
    p.update(subject_id=sids, birth_time=[t0] * persons, sex=["F", "M"] * (persons // 2), race=["white"] * persons,
             ethnicity=["nonhispanic"] * persons, locale=["us"] * persons, seed=list(range(persons)),
             state=["Ohio", "Texas"] * (persons // 2))
    n = persons * events_each
    kinds = ["observation", "condition", "note", "encounter"]
    e = {f.name: [None] * n for f in EVENTS_SCHEMA}
    e.update(subject_id=[s for s in sids for _ in range(events_each)],
             time=[t0 + dt.timedelta(days=30 * (k % events_each)) for k in range(n)],
             kind=[kinds[k % 4] for k in range(n)], code_system=["LOINC"] * n, code=["8302-2"] * n,
             display=["Body height, with \"quotes\", commas"] * n, numeric_value=[170.0] * n, unit=["cm"] * n,
             encounter_id=[s * 1000 + (k % events_each) // 4 for k, s in enumerate(
                 s for s in sids for _ in range(events_each))], module=["m"] * n, state=["s"] * n)
    return pa.table(p, schema=PERSONS_SCHEMA), pa.table(e, schema=EVENTS_SCHEMA)


def test_memory_stays_flat_as_shards_grow_in_number(tmp_path):
    live: list[int] = []

    def shards(n: int) -> Iterator[tuple[pa.Table, pa.Table]]:
        for k in range(n):
            live.append(pa.total_allocated_bytes())
            yield synthetic_shard(k)

    counts = SyntheaCsvExporter().write(shards(40), tmp_path / "s", {"seed": 1})
    assert counts["patients"] == 40 * 50
    assert counts["observations"] == counts["conditions"] == counts["encounters"] == 40 * 50 * 10
    assert counts["skipped: note"] == 40 * 50 * 10 and counts["organizations"] == counts["providers"] == 2
    early, late = max(live[2:8]), max(live[-10:])
    assert late <= early * 1.5 + 1_000_000, f"Arrow memory grew from {early} to {late} bytes over 40 shards"
    obs = pcsv.read_csv(tmp_path / "s" / "observations.csv")
    assert obs.num_rows == 40 * 50 * 10 and set(obs["DESCRIPTION"].to_pylist()) == {
        "Body height, with \"quotes\", commas"}


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_export_leaves_no_output(tmp_path, monkeypatch, error):
    run = tmp_path / "run"
    generate(n=4, seed=1, shard_size=2, out=run)
    real = _base.iter_shards

    def broken(path, start=0):
        shards = real(path, start)
        yield next(shards)
        raise error("interrupted")

    monkeypatch.setattr(_base, "iter_shards", broken)
    with pytest.raises(error, match="interrupted") as info:
        export(run, "synthea-csv", tmp_path / "out" / "synthea")
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    if error is KeyboardInterrupt:  # Ctrl-C: the journalled shards are kept for --resume, hidden, never synthea/
        kept = info.value.kept[0]
        assert left == sorted([kept.name, kept.name + ".journal", kept.name + ".lock"])
        assert kept.name.startswith(".synthea.tmp-")
    else:
        assert left == []  # neither synthea/ nor .synthea.tmp-*


def test_no_shards_gives_headers_only(tmp_path):
    counts = SyntheaCsvExporter().write(iter(()), tmp_path / "s", {})
    assert set(counts.values()) == {0} and set(counts) == set(SYNTHEA_FILES)
    for name in SYNTHEA_FILES:
        table = pcsv.read_csv(tmp_path / "s" / f"{name}.csv")
        assert table.num_rows == 0 and table.num_columns > 0
