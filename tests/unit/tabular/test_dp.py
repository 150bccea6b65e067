"""The differentially private table generator (tabular.dp): accounting, noise, domain, persistence, errors."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hygeia.core.generator import load_generator
from hygeia.errors import ConfigError, DataValidationError
from hygeia.tabular._privacy_accounting import epsilon_from_rho, gaussian_sigma, rho_from_epsilon
from hygeia.tabular.dp import DPSynthesizer
from hygeia.tabular.metadata import Metadata

SITES = [f"site{i:02d}" for i in range(12)]


def _frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A small clinical-looking table: dependent columns, a nullable lab, integers, a date."""
    rng = np.random.default_rng(seed)
    age = rng.normal(62, 11, n).clip(30, 95).round()
    sex = rng.choice(["F", "M"], n, p=[0.55, 0.45])
    lab = np.round(np.exp(rng.normal(0.1 + (age - 62) / 80, 0.35, n)), 2)
    lab[rng.random(n) < 0.15] = np.nan
    site = rng.choice(SITES, n, p=np.arange(1, 13) / 78)
    death = (rng.random(n) < 1 / (1 + np.exp(-(age - 70) / 4))).astype(int)
    visit = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), unit="D")
    return pd.DataFrame({"age": age, "sex": sex, "lab": lab, "site": site, "death": death, "visit": visit})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def model(data: pd.DataFrame) -> DPSynthesizer:
    return DPSynthesizer(epsilon=1.0, seed=11, release_detected_metadata=True).fit(data)


def _tv(a: pd.Series, b: pd.Series) -> float:
    p, q = a.value_counts(normalize=True, dropna=False), b.value_counts(normalize=True, dropna=False)
    keys = p.index.union(q.index)
    return 0.5 * float(sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys))


# -- accounting -----------------------------------------------------------------------------------------
def test_privacy_report_accounts_for_the_whole_budget(model: DPSynthesizer) -> None:
    report = model.privacy_report_
    rho = rho_from_epsilon(1.0, 1e-9)
    assert report["epsilon"] == 1.0 and report["delta"] == 1e-9
    assert report["rho"] == pytest.approx(rho, rel=1e-12)
    costs = [m["rho"] for m in report["measurements"]]
    assert math.fsum(costs) == pytest.approx(report["rho_spent"], rel=1e-12)
    assert report["rho_spent"] == pytest.approx(rho, rel=1e-9), "every step's share is spent"
    assert report["epsilon_spent"] == pytest.approx(epsilon_from_rho(report["rho_spent"], 1e-9))
    assert report["epsilon_spent"] <= 1.0 + 1e-9
    assert report["dp_bounds"] == ["age", "lab", "visit"] and report["range_not_found"] == []
    steps = report["steps"]
    assert set(steps) == {"bounds", "one_way", "select", "two_way"}
    assert math.fsum(s["share"] for s in steps.values()) == pytest.approx(1.0)
    for step, info in steps.items():
        spent = math.fsum(m["rho"] for m in report["measurements"] if m["step"] == step)
        assert spent == pytest.approx(info["rho"], rel=1e-9), step


def test_each_measurement_states_its_noise(model: DPSynthesizer) -> None:
    report = model.privacy_report_
    d = 6
    gaussian = [m for m in report["measurements"] if m["mechanism"] == "gaussian"]
    for m in gaussian:
        assert m["l2_sensitivity"] == 1.0
        assert m["sigma"] == pytest.approx(gaussian_sigma(m["rho"], 1.0))
    one_way = [m for m in gaussian if m["step"] == "one_way"]
    assert len(one_way) == d and len({round(m["rho"], 15) for m in one_way}) == 1
    bounds = [m for m in gaussian if m["step"] == "bounds"]
    assert sorted(m["label"] for m in bounds) == ["range of 'age'", "range of 'lab'", "range of 'visit'"]
    selections = [m for m in report["measurements"] if m["mechanism"] == "exponential"]
    assert len(selections) == d - 1
    for m in selections:
        assert m["epsilon"] == pytest.approx(math.sqrt(8 * m["rho"])) and m["score_sensitivity"] == 1.0
    two_way = [m for m in gaussian if m["step"] == "two_way"]
    pairs = report["selected_pairs"]
    assert len(two_way) == len(pairs) == d - 1
    assert [m["selected"] for m in selections] == pairs


def test_selected_pairs_form_a_spanning_tree(model: DPSynthesizer, data: pd.DataFrame) -> None:
    pairs = model.privacy_report_["selected_pairs"]
    nodes = {c: {c} for c in data.columns}
    for a, b in pairs:
        assert nodes[a] is not nodes[b], f"pair {a, b} closes a cycle"
        merged = nodes[a] | nodes[b]
        for c in merged:
            nodes[c] = merged
    assert nodes["age"] == set(data.columns)


def test_strongly_dependent_pair_is_selected_at_large_epsilon(data: pd.DataFrame) -> None:
    m = DPSynthesizer(epsilon=100.0, seed=0, release_detected_metadata=True).fit(data)
    assert sorted(["age", "death"]) in [sorted(p) for p in m.privacy_report_["selected_pairs"]]


# -- noise ----------------------------------------------------------------------------------------------
def test_noise_has_the_stated_sigma() -> None:
    rng = np.random.default_rng(3)
    codes = [f"c{i:03d}" for i in range(400)]
    df = pd.DataFrame({"code": rng.choice(codes, 4000), "flag": rng.choice(["a", "b"], 4000)})
    m = DPSynthesizer(epsilon=1.0, seed=5, release_detected_metadata=True).fit(df)
    state, arrays = m._get_model_state()
    attr = next(i for i, a in enumerate(m.attrs_) if a.name == "code")
    true = df["code"].map({c: k for k, c in enumerate(m.attrs_[attr].categories)}).value_counts().sort_index()
    error = arrays[f"noisy_one_way_{attr}"] - true.reindex(range(len(codes)), fill_value=0).to_numpy()
    sigma = next(x["sigma"] for x in m.privacy_report_["measurements"] if x["label"] == "one-way 'code'")
    assert abs(error.mean()) < 4 * sigma / math.sqrt(len(codes))
    assert error.std() == pytest.approx(sigma, rel=0.15)


def test_different_seeds_give_different_noise_and_the_same_seed_the_same(data: pd.DataFrame) -> None:
    a = DPSynthesizer(epsilon=1.0, seed=1, release_detected_metadata=True).fit(data)
    b = DPSynthesizer(epsilon=1.0, seed=2, release_detected_metadata=True).fit(data)
    c = DPSynthesizer(epsilon=1.0, seed=1, release_detected_metadata=True).fit(data)
    sa, sb, sc = (m._get_model_state()[1] for m in (a, b, c))
    assert not np.array_equal(sa["noisy_one_way_1"], sb["noisy_one_way_1"])
    assert sa.keys() == sc.keys() and all(np.array_equal(sa[k], sc[k]) for k in sa)
    assert a.privacy_report_ == c.privacy_report_
    pd.testing.assert_frame_equal(a.sample(500, seed=9), c.sample(500, seed=9))
    assert not a.sample(500, seed=9).equals(b.sample(500, seed=9))


def test_huge_epsilon_matches_the_data_closely(data: pd.DataFrame) -> None:
    m = DPSynthesizer(epsilon=1e6, bounds={"age": [0, 120]}, seed=0, release_detected_metadata=True).fit(data)
    synth = m.sample(20_000, seed=0)
    for col in ("sex", "site", "death"):
        assert _tv(synth[col], data[col]) < 0.02, col
    assert synth["lab"].isna().mean() == pytest.approx(data["lab"].isna().mean(), abs=0.015)
    for col in ("age", "lab"):
        qs = [0.1, 0.25, 0.5, 0.75, 0.9]
        real, fake = data[col].quantile(qs).to_numpy(), synth[col].quantile(qs).to_numpy()
        assert np.abs(real - fake).max() <= 0.05 * (data[col].max() - data[col].min()), col
    # the selected dependence age -> death survives
    real_rates = data.groupby(data["age"] > 70)["death"].mean().to_numpy()
    synth_rates = synth.groupby(synth["age"] > 70)["death"].mean().to_numpy()
    assert np.abs(synth_rates - real_rates).max() < 0.05


def test_tiny_epsilon_is_far_from_the_data(data: pd.DataFrame) -> None:
    m = DPSynthesizer(epsilon=0.01, seed=0, release_detected_metadata=True).fit(data)
    _, arrays = m._get_model_state()
    site = next(i for i, a in enumerate(m.attrs_) if a.name == "site")
    true = data["site"].value_counts().reindex(SITES).to_numpy()
    assert np.abs(arrays[f"noisy_one_way_{site}"] - true).mean() > 0.2 * len(data) / len(SITES)
    synth = m.sample(5000, seed=0)
    assert max(_tv(synth[c], data[c]) for c in ("site", "sex", "death")) > 0.05


# -- samples --------------------------------------------------------------------------------------------
def test_samples_follow_the_domain(model: DPSynthesizer, data: pd.DataFrame) -> None:
    synth = model.sample(5000, seed=4)
    assert list(synth.columns) == list(data.columns)
    assert set(synth["sex"]) <= {"F", "M"} and set(synth["site"]) <= set(SITES)
    assert set(synth["death"]) <= {0, 1} and synth["death"].dtype == data["death"].dtype
    assert synth["sex"].notna().all() and synth["age"].notna().all()
    assert synth["lab"].isna().any(), "the nullable lab keeps missing values"
    meta = model.metadata_
    for col in ("age", "lab"):
        spec = meta.column(col)
        values = synth[col].dropna()
        assert values.min() >= spec.low and values.max() <= spec.high, col
    assert np.allclose(synth["age"], synth["age"].round())
    lab = synth["lab"].dropna().to_numpy()
    assert np.allclose(lab * 100, np.round(lab * 100), atol=1e-6), "values stay on the 2-decimal lattice"
    assert pd.api.types.is_datetime64_any_dtype(synth["visit"])


def test_public_bounds_skip_range_estimation_and_bound_the_samples(data: pd.DataFrame) -> None:
    bounds = {"age": [18, 100], "lab": [0, 10], "visit": ["2014-01-01", "2021-01-01"]}
    m = DPSynthesizer(epsilon=1.0, bounds=bounds, seed=0, release_detected_metadata=True).fit(data)
    report = m.privacy_report_
    assert report["dp_bounds"] == [] and "bounds" not in report["steps"]
    assert report["public_inputs"]["bounds"] == ["age", "lab", "visit"]
    synth = m.sample(3000, seed=0)
    assert synth["age"].between(18, 100).all() and synth["lab"].dropna().between(0, 10).all()
    assert synth["visit"].between(pd.Timestamp("2014-01-01"), pd.Timestamp("2021-01-01")).all()


def test_dp_ranges_find_both_signs_and_single_octave_data() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "z": rng.normal(0, 1, 3000).round(3),  # both signs, many magnitudes
        "temp": rng.normal(37.0, 0.6, 3000).round(1),  # every value within one power of two
        "g": rng.choice(["a", "b"], 3000),
    })
    m = DPSynthesizer(epsilon=1.0, seed=0, release_detected_metadata=True).fit(df)
    assert m.privacy_report_["range_not_found"] == []
    synth = m.sample(5000, seed=0)
    assert (synth["z"] < -1).mean() == pytest.approx((df["z"] < -1).mean(), abs=0.05)
    assert (synth["z"] > 1).mean() == pytest.approx((df["z"] > 1).mean(), abs=0.05)
    assert synth["temp"].between(32, 64).all()
    assert synth["temp"].median() == pytest.approx(37.0, abs=0.5)


def test_a_range_hidden_by_the_noise_is_reported() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(100, 10, 60), "g": rng.choice(["a", "b"], 60)})
    m = DPSynthesizer(epsilon=0.05, seed=0, release_detected_metadata=True).fit(df)
    assert m.privacy_report_["range_not_found"] == ["x"]
    assert len(m.sample(20, seed=0)) == 20


def test_metadata_bounds_are_taken_as_public(data: pd.DataFrame) -> None:
    m = DPSynthesizer(epsilon=1.0, bounds="metadata", seed=0, release_detected_metadata=True).fit(data)
    assert m.privacy_report_["public_inputs"]["bounds"] == ["age", "lab", "visit"]
    synth = m.sample(2000, seed=0)
    assert synth["age"].between(data["age"].min(), data["age"].max()).all()


def test_small_tables_with_one_or_two_columns() -> None:
    rng = np.random.default_rng(0)
    one = pd.DataFrame({"x": rng.normal(5, 1, 500)})
    m1 = DPSynthesizer(epsilon=2.0, seed=0, release_detected_metadata=True).fit(one)
    assert m1.privacy_report_["selected_pairs"] == [] and set(m1.privacy_report_["steps"]) == {"bounds", "one_way"}
    assert len(m1.sample(10, seed=0)) == 10
    two = pd.DataFrame({"x": rng.normal(5, 1, 500), "g": rng.choice(["a", "b"], 500)})
    m2 = DPSynthesizer(epsilon=2.0, seed=0, release_detected_metadata=True).fit(two)
    assert "select" not in m2.privacy_report_["steps"], "one possible pair: nothing to select"
    assert m2.privacy_report_["rho_spent"] == pytest.approx(m2.privacy_report_["rho"])


# -- persistence ----------------------------------------------------------------------------------------
def test_save_load_round_trip_keeps_samples_and_report(model: DPSynthesizer, tmp_path: Path) -> None:
    folder = model.save(tmp_path / "dp")
    loaded = load_generator(folder)
    assert isinstance(loaded, DPSynthesizer)
    pd.testing.assert_frame_equal(loaded.sample(300, seed=5), model.sample(300, seed=5))
    assert loaded.privacy_report_ == json.loads(json.dumps(model.privacy_report_))


def test_saved_model_holds_no_noise_seed_and_no_raw_ranges(data: pd.DataFrame, tmp_path: Path) -> None:
    m = DPSynthesizer(epsilon=1.0, seed=987654321, release_detected_metadata=True).fit(data)
    text = (m.save(tmp_path / "dp") / "spec.json").read_text()
    assert "987654321" not in text
    saved = Metadata.from_dict(json.loads(text)["state"]["metadata"])
    lab = saved.column("lab")
    assert (lab.low, lab.high) != (data["lab"].min(), data["lab"].max())
    assert lab.missing != round(float(data["lab"].isna().mean()), 6)


# -- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("epsilon", [0, -1.0, math.inf, math.nan, "1"])
def test_bad_epsilon_is_refused(data: pd.DataFrame, epsilon: object) -> None:
    msg = (
        f"epsilon must be a finite number > 0 (smaller is more private); got epsilon={epsilon!r}. "
        "Pass e.g. epsilon=1.0"
    )
    with pytest.raises(ConfigError, match=re.escape(msg)):
        DPSynthesizer(epsilon=epsilon).fit(data)


@pytest.mark.parametrize("delta", [0, 1, 1.5, -1e-9])
def test_bad_delta_is_refused(data: pd.DataFrame, delta: object) -> None:
    msg = f"delta must be a number with 0 < delta < 1, far below 1/rows; got delta={delta!r}. Pass e.g. delta=1e-9."
    with pytest.raises(ConfigError, match=re.escape(msg)):
        DPSynthesizer(delta=delta).fit(data)


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"n_bins": 1}, "n_bins must be an integer >= 2; got n_bins=1"),
        ({"fine_bins": 8, "n_bins": 16}, "fine_bins (8) must be at least n_bins (16)"),
        ({"budget": {"one_way": 0}}, "budget must map some of"),
        ({"budget": {"select": 0}}, "budget gives select no share"),
        ({"budget": {"typo": 1}}, "budget must map some of"),
        ({"bounds": "data"}, "bounds must be None, 'metadata' or a dict"),
        ({"bounds": {"sex": [0, 1]}}, "bounds for 'sex': not a numeric or datetime column"),
        ({"bounds": {"age": [90, 10]}}, "bounds for 'age': need finite low <= high; got [90, 10]"),
        ({"max_categories": 5}, "column 'site' has 12 categories, more than max_categories=5"),
    ],
)
def test_bad_parameters_are_refused(data: pd.DataFrame, params: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)):
        DPSynthesizer(**params, seed=0, release_detected_metadata=True).fit(data)


def test_values_outside_the_declared_schema_are_refused(data: pd.DataFrame) -> None:
    meta = Metadata.detect(data)
    meta.column("site").categories = SITES[:10]
    meta.column("age").missing = 0.0
    bad = data.copy()
    bad.loc[0, "age"] = np.nan
    with pytest.raises(DataValidationError) as info:
        DPSynthesizer(seed=0, release_detected_metadata=True).fit(bad, meta)
    text = str(info.value)
    assert "column 'site' holds values outside its declared categories: ['site10', 'site11']" in text
    assert "column 'age' has missing values but the metadata says it has none" in text


def test_observed_combinations_are_refused(data: pd.DataFrame) -> None:
    observed = {"type": "allowed", "columns": ["sex", "site"], "combinations": "observed"}
    meta = Metadata.detect(data, constraints=[observed])
    with pytest.raises(ConfigError, match="combinations='observed'"):
        DPSynthesizer(seed=0, release_detected_metadata=True).fit(data, meta)
