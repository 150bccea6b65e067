"""Sequential CART: planted structure is kept, trees are data, saving is exact, bad input is refused."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeRegressor

from hygeia.core.generator import get_generator_class, load_generator
from hygeia.errors import ConfigError, DataValidationError
from hygeia.tabular.cart import CARTSynthesizer, apply_tree
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
def fitted(data: pd.DataFrame) -> CARTSynthesizer:
    return CARTSynthesizer().fit(data)


@pytest.fixture(scope="module")
def synthetic(fitted: CARTSynthesizer) -> pd.DataFrame:
    return fitted.sample(6000, seed=0)


def test_registered() -> None:
    assert get_generator_class("tabular.cart") is CARTSynthesizer


def test_strong_correlation_is_kept(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    real = np.corrcoef(data["x"], data["y"])[0, 1]
    assert abs(np.corrcoef(synthetic["x"], synthetic["y"])[0, 1] - real) < 0.03


def test_missingness_tied_to_another_column_is_kept(synthetic: pd.DataFrame) -> None:
    present = synthetic.groupby("death")["chapter"].apply(lambda c: c.notna().mean())
    assert present[0] < 0.01
    assert present[1] > 0.99


def test_outcome_depends_on_its_predictor(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    def rates(df: pd.DataFrame) -> pd.Series:
        return df.groupby(pd.cut(df["x"], [0, 45, 55, 65, 200]), observed=True)["death"].mean()

    assert np.abs(rates(synthetic) - rates(data)).max() < 0.05


def test_frequencies_and_missing_shares_are_kept(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    real, syn = data["grp"].value_counts(normalize=True), synthetic["grp"].value_counts(normalize=True)
    assert np.abs(real - syn).max() < 0.025
    assert abs(synthetic["lab"].isna().mean() - data["lab"].isna().mean()) < 0.025
    assert set(synthetic["chapter"].dropna()) <= set(data["chapter"].dropna())


def test_output_has_input_columns_dtypes_and_resolution(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    assert list(synthetic.columns) == list(data.columns)
    assert synthetic.dtypes.to_dict() == data.dtypes.to_dict()
    assert (synthetic["when"] == synthetic["when"].dt.normalize()).all()
    assert np.allclose(synthetic["lab"].dropna(), synthetic["lab"].dropna().round(2))


def test_values_are_smoothed_not_copied(data: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    assert np.isin(synthetic["y"], data["y"]).mean() < 0.001
    rows = pd.util.hash_pandas_object(synthetic, index=False)
    assert not rows.isin(pd.util.hash_pandas_object(data, index=False)).any()
    raw = CARTSynthesizer(smoothing="none").fit(data).sample(2000, seed=0)
    assert np.isin(raw["y"], data["y"]).all()  # without smoothing every value is a donor's


def test_leaves_hold_at_least_min_samples_leaf(fitted: CARTSynthesizer) -> None:
    for k, step in enumerate(fitted.steps_):
        sizes = np.diff(fitted.arrays_[f"{k}.offsets"])
        assert sizes.min() >= fitted.min_samples_leaf, step


def test_default_order_visits_discrete_columns_first(fitted: CARTSynthesizer) -> None:
    assert fitted.order_ == ["death", "chapter", "grp", "when", "x", "lab", "y"]  # then by distinct values
    other = CARTSynthesizer(order="data").fit(planted(300))
    assert other.order_ == list(planted(300).columns)


def test_seed_determinism(fitted: CARTSynthesizer) -> None:
    a, b, c = fitted.sample(300, seed=7), fitted.sample(300, seed=7), fitted.sample(300, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_save_load_gives_identical_samples_and_no_pickles(fitted: CARTSynthesizer, tmp_path) -> None:
    path = fitted.save(tmp_path / "model")
    loaded = load_generator(path)
    assert isinstance(loaded, CARTSynthesizer)
    pd.testing.assert_frame_equal(loaded.sample(500, seed=3), fitted.sample(500, seed=3))
    with np.load(path / "arrays.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
        assert {"1.left", "1.threshold", "1.donors", "1.offsets"} <= set(npz.files)
    spec = json.loads((path / "spec.json").read_text())
    assert spec["state"]["model"]["order"] == fitted.order_


def test_apply_tree_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4))
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:, 2] = np.nan_to_num(x[:, 2])  # no missing value seen for this feature in training
    y = np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) + rng.normal(size=3000)
    model = DecisionTreeRegressor(min_samples_leaf=5, random_state=0).fit(x.astype(np.float32), y)
    t = model.tree_
    tree = {
        "left": t.children_left, "right": t.children_right, "feature": t.feature, "threshold": t.threshold,
        "missing_left": t.missing_go_to_left, "leaf": np.arange(t.node_count),
    }
    new = rng.normal(size=(5000, 4))
    new[rng.random(new.shape) < 0.3] = np.nan
    for rows in (x, new):
        assert (apply_tree(tree, rows) == model.apply(rows.astype(np.float32))).all()


def test_constraints_hold_in_samples(data: pd.DataFrame) -> None:
    df = data.assign(y_hi=data["y"] + np.abs(data["y"]) * 0.1 + 0.01)
    df = df[df["x"].between(30, 70)]
    meta = Metadata.detect(
        df,
        constraints=[
            {"type": "inequality", "low": "y", "high": "y_hi"},
            {"type": "range", "column": "x", "low": 30, "high": 70},
            {"type": "allowed", "columns": ["grp", "death"], "combinations": [["a", 0], ["a", 1], ["b", 0], ["b", 1], ["c", 1], ["c", 0]]},
        ],
    )
    syn = CARTSynthesizer().fit(df, metadata=meta).sample(2000, seed=0)
    assert len(syn) == 2000
    assert (syn["y"] <= syn["y_hi"]).all()
    assert syn["x"].between(30, 70).all()


def test_high_cardinality_labels() -> None:
    rng = np.random.default_rng(1)
    n = 30_000
    codes = np.array([f"C{i:05d}" for i in range(10_000)])
    weights = 1 / np.arange(1, 10_001)
    code = rng.choice(codes, n, p=weights / weights.sum())
    rank = pd.Series(code).map({c: i for i, c in enumerate(codes)}).to_numpy()
    df = pd.DataFrame({"code": code, "v": np.log1p(rank) + rng.normal(scale=0.1, size=n), "g": rng.choice(["a", "b"], n)})
    model = CARTSynthesizer().fit(df)
    assert model.columns_["code"]["kind"] == "rank"
    syn = model.sample(20_000, seed=0)
    top = df["code"].value_counts(normalize=True).head(5)
    assert np.abs(syn["code"].value_counts(normalize=True).reindex(top.index).fillna(0) - top).max() < 0.01
    assert set(syn["code"]) <= set(df["code"])
    # the code still follows v: the most frequent code comes with small v
    assert syn.loc[syn["code"] == codes[0], "v"].mean() < 1.0


def test_small_table_and_constant_column() -> None:
    df = pd.DataFrame({"k": [1.5] * 12, "m": [np.nan] * 10 + [2.5, 3.5], "z": np.arange(12, dtype=float), "s": list("ab") * 6})
    syn = CARTSynthesizer().fit(df).sample(300, seed=0)
    assert (syn["k"] == 1.5).all()
    assert syn["m"].isna().mean() > 0.6
    assert set(syn["s"]) == {"a", "b"}


# -- bad input --------------------------------------------------------------------------------
def test_empty_table_is_refused() -> None:
    with pytest.raises(DataValidationError, match="no rows"):
        CARTSynthesizer().fit(pd.DataFrame({"a": pd.Series([], dtype=float)}))


def test_one_row_is_refused() -> None:
    with pytest.raises(DataValidationError, match=re.escape("the table has 1 row; a generator needs at least 2 rows")):
        CARTSynthesizer().fit(pd.DataFrame({"a": [1.0], "b": ["x"]}))


def test_all_missing_column_is_refused() -> None:
    with pytest.raises(DataValidationError, match=re.escape("column 'gone' is entirely missing")):
        CARTSynthesizer().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0], "gone": [np.nan] * 3}))


def test_mixed_types_in_one_column_are_labels_with_a_warning() -> None:
    df = pd.DataFrame({"a": [1.5, 2.0, 3.0, 4.0] * 10, "mix": [1, "two", 3, "four"] * 10})
    meta = CARTSynthesizer().fit(df).metadata_
    assert meta.column("mix").type == "categorical"
    assert meta.column("mix").categories == [1, 3, "four", "two"]
    [warning] = meta.warnings
    assert warning.startswith("column 'mix' mixes numbers with text: 50.0% of its values (20) are not numbers")
    assert "pass --type mix=numeric (those values become missing)" in warning


def test_constraint_the_data_violates_is_refused() -> None:
    df = pd.DataFrame({"age": [30.0, 140.0, 50.0]})
    with pytest.raises(DataValidationError, match=re.escape("range of 'age' [0, 120] is violated by 1 of 3 rows")):
        CARTSynthesizer().fit(df, metadata=Metadata(Metadata.detect(df).columns, constraints=[
            {"type": "range", "column": "age", "low": 0, "high": 120}
        ]))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_samples_leaf": 0}, "min_samples_leaf must be an integer >= 1; got 0"),
        ({"max_depth": 0}, "max_depth must be an integer >= 1; got 0"),
        ({"smoothing": "spline"}, "smoothing must be 'interpolate', 'kernel' or 'none'; got 'spline'"),
        ({"max_classes": 1}, "max_classes must be an integer >= 2; got 1"),
        ({"order": ["x", "nope"]}, "order must be 'data' or list every modelled column once"),
    ],
)
def test_bad_parameters_are_refused(params: dict, message: str, data: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        CARTSynthesizer(**params).fit(data.head(100))
