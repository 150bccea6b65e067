"""Gaussian copula: planted structure is kept, constraints hold, saving is exact, bad input is refused."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from hygeia.core.generator import get_generator_class, load_generator
from hygeia.errors import ConfigError, DataValidationError
from hygeia.tabular._marginals import CategoryCodec, datetime_step, interval_scores, quantile_grid
from hygeia.tabular.copula import GaussianCopula
from hygeia.tabular.metadata import Metadata


def planted(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Correlated numbers, an outcome, a label present only when the outcome is 1, skewed labels, gaps, dates."""
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, n)
    y = 0.9 * (x - 50) / 10 + np.sqrt(1 - 0.81) * rng.normal(size=n)
    death = (rng.random(n) < 1 / (1 + np.exp(-(x - 55) / 5))).astype(int)
    chapter = np.where(death == 1, rng.choice(["Circulatory", "Neoplasms", "Respiratory"], n, p=[0.5, 0.3, 0.2]), None)
    return pd.DataFrame(
        {
            "x": np.round(x, 1),
            "y": y,
            "death": death,
            "chapter": chapter,
            "grp": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
            "lab": np.where(rng.random(n) < 0.3, np.nan, np.round(rng.gamma(2, 1, n), 2)),
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        }
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return planted()


@pytest.fixture(scope="module")
def fitted(data: pd.DataFrame) -> GaussianCopula:
    return GaussianCopula().fit(data)


@pytest.fixture(scope="module")
def synthetic(fitted: GaussianCopula) -> pd.DataFrame:
    return fitted.sample(6000, seed=0)


def test_registered() -> None:
    assert get_generator_class("tabular.copula") is GaussianCopula


def test_strong_correlation_is_kept(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    real = np.corrcoef(data["x"], data["y"])[0, 1]
    syn = np.corrcoef(synthetic["x"], synthetic["y"])[0, 1]
    assert abs(real - syn) < 0.03


def test_missingness_tied_to_another_column_is_kept(synthetic: pd.DataFrame) -> None:
    present = synthetic.groupby("death")["chapter"].apply(lambda c: c.notna().mean())
    assert present[0] < 0.03
    assert present[1] > 0.95


def test_frequencies_and_missing_shares_are_kept(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    real = data["grp"].value_counts(normalize=True)
    syn = synthetic["grp"].value_counts(normalize=True)
    assert np.abs(real - syn).max() < 0.02
    assert abs(synthetic["lab"].isna().mean() - data["lab"].isna().mean()) < 0.02
    assert abs(synthetic["death"].mean() - data["death"].mean()) < 0.02
    observed = set(data["chapter"].dropna())
    assert set(synthetic["chapter"].dropna()) <= observed


def test_output_has_input_columns_dtypes_and_resolution(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    assert list(synthetic.columns) == list(data.columns)
    assert synthetic.dtypes.to_dict() == data.dtypes.to_dict()
    assert (synthetic["when"] == synthetic["when"].dt.normalize()).all()  # dates stay dates
    assert np.allclose(synthetic["x"], synthetic["x"].round(1))
    assert synthetic["x"].between(data["x"].min(), data["x"].max()).all()


def test_continuous_values_are_not_copied(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    # y has full precision: interpolating between quantiles never lands on a training value
    assert np.isin(synthetic["y"], data["y"]).mean() < 0.001
    rows = pd.util.hash_pandas_object(synthetic, index=False)
    assert not rows.isin(pd.util.hash_pandas_object(data, index=False)).any()


def test_seed_determinism(fitted: GaussianCopula) -> None:
    a, b, c = fitted.sample(300, seed=7), fitted.sample(300, seed=7), fitted.sample(300, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert a.attrs["hygeia"]["seed"] == 7


def test_save_load_gives_identical_samples(fitted: GaussianCopula, tmp_path) -> None:
    path = fitted.save(tmp_path / "model")
    loaded = load_generator(path)
    assert isinstance(loaded, GaussianCopula)
    pd.testing.assert_frame_equal(loaded.sample(500, seed=3), fitted.sample(500, seed=3))
    with np.load(path / "arrays.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


@pytest.mark.parametrize("marginal", ["normal", "lognormal", "uniform"])
def test_parametric_marginals(marginal: str, data: pd.DataFrame, tmp_path) -> None:
    model = GaussianCopula(marginal=marginal).fit(data)
    syn = model.sample(3000, seed=0)
    assert syn["x"].between(data["x"].min(), data["x"].max()).all()
    assert syn[["x", "y"]].corr(method="spearman").iloc[0, 1] > 0.8
    if marginal == "normal":
        assert abs(syn["x"].mean() - data["x"].mean()) < 1.0
        assert abs(syn["x"].std() - data["x"].std()) < 1.0
    pd.testing.assert_frame_equal(load_generator(model.save(tmp_path / "m")).sample(50, seed=1), model.sample(50, seed=1))


def test_constraints_hold_in_samples(data: pd.DataFrame) -> None:
    df = data.assign(y_hi=data["y"] + np.abs(data["y"]) * 0.1 + 0.01)
    allowed = [["a", 0], ["a", 1], ["b", 0], ["c", 1]]
    df = df[df["x"].between(30, 70) & pd.Series(list(zip(df["grp"], df["death"]))).isin(map(tuple, allowed)).to_numpy()]
    meta = Metadata.detect(
        df,
        constraints=[
            {"type": "inequality", "low": "y", "high": "y_hi"},
            {"type": "range", "column": "x", "low": 30, "high": 70},
            {"type": "allowed", "columns": ["grp", "death"], "combinations": "observed"},
        ],
    )
    syn = GaussianCopula().fit(df, metadata=meta).sample(2000, seed=0)
    assert len(syn) == 2000
    assert (syn["y"] <= syn["y_hi"]).all()
    assert syn["x"].between(30, 70).all()
    assert set(zip(syn["grp"], syn["death"])) <= set(map(tuple, allowed))


def test_high_cardinality_labels() -> None:
    rng = np.random.default_rng(1)
    n = 30_000
    codes = np.array([f"C{i:05d}" for i in range(10_000)])
    weights = 1 / np.arange(1, 10_001)
    df = pd.DataFrame({"code": rng.choice(codes, n, p=weights / weights.sum()), "v": rng.normal(size=n)})
    assert df["code"].nunique() > 5000
    model = GaussianCopula().fit(df)
    syn = model.sample(20_000, seed=0)
    top = df["code"].value_counts(normalize=True).head(5)
    assert np.abs(syn["code"].value_counts(normalize=True).reindex(top.index) - top).max() < 0.01
    assert set(syn["code"]) <= set(df["code"])


def test_constant_and_mostly_missing_columns() -> None:
    df = pd.DataFrame({"k": [1.5] * 50, "m": [np.nan] * 48 + [2.5, 3.5], "z": np.arange(50, dtype=float)})
    syn = GaussianCopula().fit(df).sample(400, seed=0)
    assert (syn["k"] == 1.5).all()
    assert 0.85 < syn["m"].isna().mean() <= 1.0


# -- bad input --------------------------------------------------------------------------------
def test_empty_table_is_refused() -> None:
    with pytest.raises(DataValidationError, match="no rows"):
        GaussianCopula().fit(pd.DataFrame({"a": pd.Series([], dtype=float)}))


def test_one_row_is_refused() -> None:
    with pytest.raises(DataValidationError, match=re.escape("the table has 1 row; a generator needs at least 2 rows")):
        GaussianCopula().fit(pd.DataFrame({"a": [1.0], "b": ["x"]}))


def test_all_missing_column_is_refused() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "gone": [None, None, None]})
    with pytest.raises(DataValidationError, match=re.escape("column 'gone' is entirely missing")):
        GaussianCopula().fit(df)


def test_mixed_types_in_one_column_are_labels_with_a_warning() -> None:
    df = pd.DataFrame({"a": [1.5, 2.0, 3.0, 4.0], "mix": [1, "two", 3, "four"]})
    model = GaussianCopula().fit(df)
    assert model.metadata_.column("mix").type == "categorical"
    assert "mixes numbers with text" in model.metadata_.warnings[0]
    assert set(map(str, model.sample(20, seed=0)["mix"])) <= {"1", "3", "two", "four"}


def test_constraint_the_data_violates_is_refused() -> None:
    df = pd.DataFrame({"lo": [1.0, 5.0, 2.0], "hi": [2.0, 3.0, 4.0]})
    rule = [{"type": "inequality", "low": "lo", "high": "hi"}]
    message = re.escape("inequality 'lo' <= 'hi' is violated by 1 of 3 rows (first: row 1")
    with pytest.raises(DataValidationError, match=message):
        Metadata.detect(df, constraints=rule)
    meta = Metadata.detect(df.iloc[[0, 2]], constraints=rule)  # declared on clean rows, then given dirty ones
    with pytest.raises(DataValidationError, match=message):
        GaussianCopula().fit(df, metadata=meta)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"marginal": "beta"}, "marginal must be one of"),
        ({"max_quantiles": 1}, "max_quantiles must be an integer >= 2; got 1"),
        ({"discrete_max": -1}, "discrete_max must be a non-negative integer; got -1"),
        ({"min_eigenvalue": 1.5}, "min_eigenvalue must be in [0, 1); got 1.5"),
    ],
)
def test_bad_parameters_are_refused(params: dict, message: str, data: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        GaussianCopula(**params).fit(data.head(50))


# -- the shared transforms ----------------------------------------------------------------------
def test_codec_orders_by_frequency_and_round_trips() -> None:
    codec = CategoryCodec.fit(["b", "a", "b", None, 3, 3, 3])
    assert codec.categories == [3, "b", "a"] and codec.counts == [3, 2, 1]
    assert codec.codes(["a", None, "unseen", 3.0]).tolist() == [2, 3, 3, 0]
    assert CategoryCodec.from_state(codec.to_state()) == codec


def test_interval_scores_spread_is_the_latent_correlation() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=200_000)
    codes = (z > 0.5).astype(int)
    probs = np.bincount(codes) / len(codes)
    scores, spread = interval_scores(codes, probs)
    assert abs(np.corrcoef(scores, z)[0, 1] - spread) < 0.01


def test_quantile_grid_caps_the_points_kept() -> None:
    probs, q = quantile_grid(np.arange(10_000.0), 100)
    assert len(q) == 100 and probs[0] > 0 and probs[-1] < 1
    assert datetime_step(np.array([86_400e9, 2 * 86_400e9])) == 86_400e9
    assert datetime_step(np.array([1.5e9, 3e9])) == 1e6
