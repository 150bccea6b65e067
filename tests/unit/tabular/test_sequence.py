"""The visit-sequence generator: temporal constraints by construction, subjects, persistence, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hygeia.core.generator import load_generator
from hygeia.errors import ConfigError, DataValidationError
from hygeia.tabular.metadata import Metadata
from hygeia.tabular.sequence import SequenceSynthesizer


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrix products run fastest (and steadiest) on one thread of the shared machine."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


def _visits(subjects: int = 80, seed: int = 0, *, first_day=lambda rng: 0) -> pd.DataFrame:
    """A small long table: static end/status/age/sex, visits with a drifting lab, a flag and a stage."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(subjects):
        end = int(rng.integers(200, 4000))
        start = int(first_day(rng))
        k = int(rng.integers(1, 9))
        days = np.unique(np.concatenate([[start], rng.integers(start + 1, end, size=k - 1)])) if end > start + 1 else [start]
        level, stage = rng.normal(1.0, 0.5), int(rng.integers(1, 4))
        for d in days:
            level += rng.normal(0.05, 0.1)
            stage = min(4, stage + int(rng.random() < 0.1))
            flag = float(rng.random() < 0.3) if rng.random() > 0.1 else np.nan
            rows.append({"pid": 100 + i, "end": end, "status": int(end < 1500), "age": round(float(rng.uniform(30, 75)), 1) if d == start else None,
                         "sex": "mf"[i % 2], "day": int(d), "lab": round(float(np.exp(level + rng.normal(0, 0.1))), 1),
                         "flag": flag, "stage": stage})
    df = pd.DataFrame(rows)
    df["age"] = df.groupby("pid")["age"].transform("first")
    return df


def _model(**params) -> SequenceSynthesizer:
    return SequenceSynthesizer(**{"sequence_key": "pid", "sequence_index": "day", "end_column": "end", **params})


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return _visits()


@pytest.fixture(scope="module")
def fitted(real) -> SequenceSynthesizer:
    with pytest.importorskip("threadpoolctl").threadpool_limits(1):
        return _model(event_column="status").fit(real)


def _check_constraints(fake: pd.DataFrame, *, key="pid", index="day", end="end", strict=True, first=0) -> None:
    g = fake.groupby(key, sort=False)
    assert (g[index].diff().dropna() > 0).all(), "visit times must strictly increase within a subject"
    if end is not None:
        after = fake[index] >= fake[end] if strict else fake[index] > fake[end]
        assert not after.any(), f"{int(after.sum())} visits at or after the follow-up end"
    if first is not None:
        assert (g[index].min() == first).all()


def test_sample_keeps_every_constraint_and_the_table_shape(fitted, real) -> None:
    fake = fitted.sample(300, seed=1)
    assert list(fake.columns) == list(real.columns)
    assert (fake.dtypes == real.dtypes).all()
    assert sorted(fake["pid"].unique()) == list(range(300))
    assert fake.groupby("pid")["day"].is_monotonic_increasing.all()
    _check_constraints(fake)
    for col in ("end", "status", "age", "sex"):
        assert (fake.groupby("pid")[col].nunique(dropna=False) == 1).all(), f"{col} must be constant within a subject"
    assert fitted.static_columns_ == ["end", "status", "age", "sex"]
    assert set(fake["stage"].unique()) <= set(real["stage"].unique())
    assert set(fake["flag"].dropna().unique()) <= {0.0, 1.0}
    assert 0.02 < fake["flag"].isna().mean() < 0.25  # about 10% missing in the data
    prov = fake.attrs["hygeia"]
    assert prov["generator"] == "tabular.sequence" and prov["seed"] == 1 and prov["subjects"] == 300
    assert prov["visits"] == len(fake)


def test_visit_counts_and_trajectories_follow_the_data(fitted, real) -> None:
    fake = fitted.sample(400, seed=2)
    k_real, k_fake = real.groupby("pid").size(), fake.groupby("pid").size()
    assert abs(k_fake.mean() - k_real.mean()) < 0.2 * k_real.mean()
    assert k_fake.max() <= k_real.max()
    cdf = lambda k, x: (k.to_numpy()[:, None] <= x).mean(axis=0)  # noqa: E731
    grid = np.arange(1, k_real.max() + 1)
    assert np.abs(cdf(k_real, grid) - cdf(k_fake, grid)).max() < 0.2
    # the lab drifts within a subject: consecutive visits stay correlated
    lag = lambda d: np.corrcoef(*d.assign(p=d.groupby("pid")["lab"].shift()).dropna(subset=["p"])[["lab", "p"]].to_numpy().T)[0, 1]  # noqa: E731
    assert lag(fake) > 0.5 and abs(lag(fake) - lag(real)) < 0.2


def test_same_seed_same_sample_and_save_load(fitted, tmp_path: Path) -> None:
    a = fitted.sample(25, seed=5)
    pd.testing.assert_frame_equal(a, fitted.sample(25, seed=5))
    assert not a.equals(fitted.sample(25, seed=6))
    folder = fitted.save(tmp_path / "model")
    loaded = load_generator(folder)
    assert isinstance(loaded, SequenceSynthesizer)
    pd.testing.assert_frame_equal(loaded.sample(25, seed=5), a)
    assert SequenceSynthesizer.load(folder).get_params() == fitted.get_params()
    refit = _model(event_column="status").fit(_visits())
    pd.testing.assert_frame_equal(refit.sample(25, seed=5), a)  # fitting is deterministic too


def test_copula_as_the_subject_model(real, tmp_path: Path) -> None:
    model = _model(static_model="copula").fit(real)
    fake = model.sample(100, seed=0)
    _check_constraints(fake)
    loaded = load_generator(model.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.sample(30, seed=3), model.sample(30, seed=3))


def test_metadata_names_the_keys() -> None:
    df = _visits(40, seed=3)
    meta = Metadata.detect(df, sequence_key="pid", sequence_index="day")
    fake = SequenceSynthesizer(end_column="end", static_model="copula").fit(df, metadata=meta).sample(20, seed=0)
    _check_constraints(fake)


def test_without_an_end_column_times_still_increase() -> None:
    df = _visits(60, seed=4).drop(columns=["end"])
    fake = _model(end_column=None, static_model="copula").fit(df).sample(100, seed=0)
    _check_constraints(fake, end=None)


def test_first_visit_learned_when_it_varies() -> None:
    df = _visits(60, seed=5, first_day=lambda rng: rng.integers(0, 100))
    model = _model(static_model="copula").fit(df)
    assert model.t0_ is None
    fake = model.sample(150, seed=0)
    _check_constraints(fake, first=None)
    assert fake.groupby("pid")["day"].min().nunique() > 5


def test_crowded_follow_up_still_fits_on_the_day_grid() -> None:
    """Visits on every day up to an end one day later: the clamps, not rejection, keep the constraints."""
    rng = np.random.default_rng(6)
    rows = [{"pid": i, "end": k, "day": d, "lab": float(rng.normal())} for i, k in enumerate(rng.integers(1, 7, 50)) for d in range(k)]
    df = pd.DataFrame(rows)
    fake = _model(static_model="copula").fit(df).sample(300, seed=0)
    _check_constraints(fake)
    assert (fake.groupby("pid").size() <= fake.groupby("pid")["end"].first()).all()
    assert fake.attrs["hygeia"]["visits_capped"] > 0  # the copula proposes more visits than some ends allow


def test_visits_on_the_end_day_allow_equality_and_fractional_times() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(50):
        end = round(float(rng.uniform(1, 10)), 2)
        times = np.unique(np.round(np.concatenate([[0.0], rng.uniform(0, end, int(rng.integers(0, 4))), [end]]), 2))
        rows += [{"pid": f"P{i}", "end": end, "years": t, "lab": float(rng.normal())} for t in times]
    df = pd.DataFrame(rows)
    model = SequenceSynthesizer(sequence_key="pid", sequence_index="years", end_column="end", static_model="copula").fit(df)
    assert not model.strict_ and model.step_ == pytest.approx(0.01)
    fake = model.sample(200, seed=0)
    assert fake["pid"].iloc[0] == "0" and fake["pid"].dtype == df["pid"].dtype
    _check_constraints(fake, key="pid", index="years", strict=False)
    assert np.allclose(fake["years"], fake["years"].round(2))


def test_single_visit_subjects_only() -> None:
    df = pd.DataFrame({"pid": range(30), "end": np.arange(30) * 10 + 50, "day": 0, "lab": np.linspace(1, 2, 30)})
    fake = _model(static_model="copula").fit(df).sample(20, seed=0)
    assert (fake.groupby("pid").size() == 1).all() and (fake["day"] == 0).all()


# -- bad input ------------------------------------------------------------------------------------
def test_no_sequence_key_is_refused(real) -> None:
    with pytest.raises(ConfigError, match=re.escape("no sequence key")):
        SequenceSynthesizer(sequence_index="day").fit(real)
    with pytest.raises(ConfigError, match=re.escape("no sequence index")):
        SequenceSynthesizer(sequence_key="pid").fit(real)


def test_visit_after_its_own_follow_up_end_names_the_subject(real) -> None:
    bad = real.copy()
    row = bad.index[bad["pid"] == 107][-1]
    bad.loc[row, "day"] = bad.loc[row, "end"] + 5
    with pytest.raises(DataValidationError, match=re.escape("subject 107: visit at day=")) as info:
        _model().fit(bad)
    assert "after end=" in str(info.value) and "df = df[df['day'] <= df['end']]" in str(info.value)


def test_non_numeric_time_is_refused(real) -> None:
    bad = real.assign(day=real["day"].astype(str).where(real.index != 3, "baseline"))
    with pytest.raises(DataValidationError, match=re.escape("visit-time column 'day' must be numeric")) as info:
        _model().fit(bad)
    assert "'baseline'" in str(info.value)
    dates = real.assign(day=pd.Timestamp("2020-01-01") + pd.to_timedelta(real["day"], unit="D"))
    with pytest.raises(DataValidationError, match=re.escape("must be numeric")):
        _model().fit(dates)


def test_duplicate_visit_times_and_varying_static_columns_are_refused(real) -> None:
    dup = pd.concat([real, real.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=re.escape("two visits at the same 'day' (e.g. subject 100")):
        _model().fit(dup)
    varying = real.copy()
    varying.loc[varying["pid"] == 101, "end"] = np.arange((varying["pid"] == 101).sum()) + 4000
    with pytest.raises(DataValidationError, match=re.escape("follow-up end column 'end' varies within subject 101")):
        _model().fit(varying)
    with pytest.raises(DataValidationError, match=re.escape("static column 'lab' varies within subject")):
        _model(static_columns=["lab"]).fit(real)


def test_other_bad_input(real) -> None:
    with pytest.raises(DataValidationError, match=re.escape("end_column 'futime' is not a column")):
        _model(end_column="futime").fit(real)
    with pytest.raises(DataValidationError, match="expected a pandas DataFrame"):
        _model().fit(real.to_dict())
    with pytest.raises(ConfigError, match=re.escape("static_model must name a table generator")):
        _model(static_model="tabular.sequence").fit(real)
    with pytest.raises(DataValidationError, match=re.escape("at least 2")):
        _model().fit(real[real["pid"] == 100])
    model = _model(static_model="copula")
    with pytest.raises(DataValidationError):
        model.fit(real.assign(day=real["day"].astype(float).where(real.index != 0, np.nan)))
    assert not model.is_fitted(), "a failed fit leaves no fitted state"
