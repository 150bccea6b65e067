"""RunConfig: validation, round trip and seed resolution."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygeia.core.config import DEFAULT_END, RunConfig
from hygeia.core.seeding import SeedTree, resolve_seed
from hygeia.errors import ConfigError


def test_defaults() -> None:
    cfg = RunConfig(n=10)
    assert cfg.seed is None
    assert cfg.end == DEFAULT_END
    assert cfg.workers == 1 and cfg.shard_size == 250 and cfg.default_modules


@pytest.mark.parametrize("n", [0, -5])
def test_n_must_be_positive(n: int) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"n must be a positive integer; got {n}")):
        RunConfig(n=n)


@pytest.mark.parametrize("value", [1.5, "10", True])
def test_n_must_be_an_int(value: object) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"n must be a positive integer; got {value!r}")):
        RunConfig(n=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["workers", "shard_size"])
def test_workers_and_shard_size_positive(name: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{name} must be a positive integer; got 0")):
        RunConfig(n=1, **{name: 0})


def test_bad_dates() -> None:
    with pytest.raises(ConfigError, match=re.escape("end must be a date as YYYY-MM-DD; got '2026-13-01'")):
        RunConfig(n=1, end="2026-13-01")
    with pytest.raises(ConfigError, match=re.escape("start must be a date as YYYY-MM-DD; got 'yesterday'")):
        RunConfig(n=1, start="yesterday")


def test_start_after_end() -> None:
    with pytest.raises(ConfigError, match=re.escape("start (2030-01-01) must not be after end (2026-01-01)")):
        RunConfig(n=1, start="2030-01-01")


def test_dates_parsed() -> None:
    cfg = RunConfig(n=1, start="2000-01-01", end="2010-06-30")
    assert cfg.start == dt.date(2000, 1, 1) and cfg.end == dt.date(2010, 6, 30)


def test_negative_seed() -> None:
    with pytest.raises(ConfigError, match=re.escape("seed must be a non-negative integer; got -1")):
        RunConfig(n=1, seed=-1)


@pytest.mark.parametrize("address", ["localhost:8786", "http://x:8786", "dask"])
def test_bad_scheduler(address: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"got {address!r}")):
        RunConfig(n=1, scheduler=address)


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tls://h:1", "local-dask"])
def test_good_scheduler(address: str) -> None:
    assert RunConfig(n=1, scheduler=address).scheduler == address


def test_missing_module_folder(tmp_path) -> None:
    missing = str(tmp_path / "nope")
    with pytest.raises(ConfigError, match=re.escape(f"module folder {missing!r} does not exist")):
        RunConfig(n=1, modules=[missing])


def test_no_modules_at_all() -> None:
    with pytest.raises(ConfigError, match=re.escape("no modules to run")):
        RunConfig(n=1, default_modules=False)


def test_all_problems_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig(n=0, workers=0, end="bad", scheduler="nope")
    text = str(info.value)
    for part in ("n must be", "workers must be", "end must be", "scheduler must be"):
        assert part in text


def test_unknown_option() -> None:
    with pytest.raises(ConfigError, match=re.escape("unknown run option(s) ['colour']")):
        RunConfig.from_dict({"n": 1, "colour": "red"})


def test_json_round_trip(tmp_path) -> None:
    cfg = RunConfig(n=7, seed=3, modules=[str(tmp_path)], start="1990-01-01", end="2020-01-01", workers=2)
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert cfg.to_dict()["modules"] == [str(tmp_path)]


@given(
    n=st.integers(1, 10**9),
    seed=st.none() | st.integers(0, 2**63 - 1),
    end=st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    shard_size=st.integers(1, 10_000),
)
def test_round_trip_property(n: int, seed: int | None, end: dt.date, shard_size: int) -> None:
    cfg = RunConfig(n=n, seed=seed, end=end, shard_size=shard_size)
    assert RunConfig.from_dict(cfg.to_dict()) == cfg


def test_resolve_seed() -> None:
    assert resolve_seed(5) == 5
    a, b = resolve_seed(None), resolve_seed(None)
    assert a >= 0 and b >= 0 and a != b
    with pytest.raises(ConfigError, match=re.escape("seed must be a non-negative integer; got -3")):
        resolve_seed(-3)
    with pytest.raises(ConfigError, match=re.escape("got '7'")):
        resolve_seed("7")  # type: ignore[arg-type]


def test_seed_tree_is_stable() -> None:
    assert SeedTree(1).person_seed(10) == SeedTree(1).person_seed(10)
    assert SeedTree(1).person_seed(10) != SeedTree(2).person_seed(10)
