"""The neural table generator (TVAE): training, sampling, persistence, seeds, DP-SGD, bad input."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pandas as pd
import pytest

from hygeia.core.generator import SPEC_FILE, load_generator
from hygeia.errors import ConfigError, MissingExtraError
from hygeia.tabular.neural import NeuralSynthesizer, _auto_epochs

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

TINY = {"epochs": 3, "batch_size": 64, "embedding_dim": 8, "hidden_dims": (16,)}
WARDS = [f"ward-{i}" for i in range(12)]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """300 rows: a skewed lab with missing values, an integer, a date, labels with missing and many wards."""
    rng = np.random.default_rng(0)
    n = 300
    age = rng.integers(20, 90, n)
    sex = rng.choice(["F", "M"], n)
    lab = np.round(np.exp(rng.normal(0.5 + 0.01 * age, 0.4)), 2)
    lab[rng.random(n) < 0.2] = np.nan
    death = (rng.random(n) < 1 / (1 + np.exp(-(age - 60) / 8))).astype(int)
    smoker = rng.choice(["never", "former", "current", None], n, p=[0.5, 0.25, 0.15, 0.1])
    ward = rng.choice(WARDS, n, p=np.r_[np.full(4, 0.2), np.full(8, 0.025)])
    admitted = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    return pd.DataFrame({"age": age, "sex": sex, "lab": lab, "death": death, "smoker": smoker,
                         "ward": ward, "admitted": admitted})


@pytest.fixture(scope="module")
def fitted(table: pd.DataFrame) -> NeuralSynthesizer:
    return NeuralSynthesizer(**{**TINY, "epochs": 30}, learning_rate=5e-3, max_categories=6, seed=0).fit(table)


def test_loss_decreases(fitted: NeuralSynthesizer) -> None:
    history = fitted.loss_history_
    assert len(history) == fitted.epochs_ == 30 and np.isfinite(history).all()
    assert history[-5:].mean() < 0.9 * history[:5].mean()


def test_default_epochs_give_small_tables_enough_steps() -> None:
    assert _auto_epochs(6300, 250) == 40  # 25 steps an epoch: 40 epochs = 1,000 steps
    assert _auto_epochs(921, 250) == 334  # 3 steps an epoch
    assert _auto_epochs(100_000, 250) == 40


def test_samples_have_the_columns_types_and_categories(fitted: NeuralSynthesizer, table: pd.DataFrame) -> None:
    out = fitted.sample(500, seed=1)
    assert list(out.columns) == list(table.columns)
    assert out.dtypes.to_dict() == table.dtypes.to_dict()
    assert set(out["sex"]) <= {"F", "M"}
    assert set(out["death"]) <= {0, 1}
    assert set(out["smoker"].dropna()) <= {"never", "former", "current"}
    assert 0 < out["smoker"].isna().mean() < 0.3  # missing is a category of its own
    assert 0 < out["lab"].isna().mean() < 0.5  # missing indicator of a numeric column
    assert out["age"].between(20, 89).all() and (out["age"] == out["age"].round()).all()
    assert out["admitted"].between(table["admitted"].min(), table["admitted"].max()).all()
    assert out.attrs["hygeia"]["generator"] == "tabular.neural"


def test_rare_categories_are_pooled_and_sampled_by_frequency(fitted: NeuralSynthesizer) -> None:
    ward = next(c for c in fitted.transform_.columns if c["name"] == "ward")
    assert len(ward["values"]) == 5 and len(ward["rare"]) == 7  # 6 outputs: top 5 + one pooled "rare"
    out = fitted.sample(2000, seed=2)
    assert set(out["ward"]) <= set(WARDS)
    assert set(out["ward"]) & set(ward["rare"])  # pooled values come back


def test_save_load_gives_identical_samples(fitted: NeuralSynthesizer, tmp_path) -> None:
    folder = fitted.save(tmp_path / "tvae")
    assert sorted(p.name for p in folder.iterdir()) == ["arrays.npz", "spec.json"]
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        assert any(k.startswith("network/") for k in npz.files)
    loaded = load_generator(folder)
    assert isinstance(loaded, NeuralSynthesizer)
    pd.testing.assert_frame_equal(loaded.sample(200, seed=5), fitted.sample(200, seed=5))


def test_seed_determinism(table: pd.DataFrame) -> None:
    a = NeuralSynthesizer(**TINY, seed=3).fit(table)
    b = NeuralSynthesizer(**TINY, seed=3).fit(table)
    c = NeuralSynthesizer(**TINY, seed=4).fit(table)
    np.testing.assert_array_equal(a.loss_history_, b.loss_history_)
    pd.testing.assert_frame_equal(a.sample(100, seed=9), b.sample(100, seed=9))
    assert not a.sample(100, seed=9).equals(a.sample(100, seed=10))
    assert not np.array_equal(a.loss_history_, c.loss_history_)


def test_large_samples_are_decoded_in_chunks(fitted: NeuralSynthesizer, monkeypatch) -> None:
    from hygeia.tabular import neural

    monkeypatch.setattr(neural, "_CHUNK", 64)
    a, b = fitted.sample(150, seed=4), fitted.sample(150, seed=4)
    assert len(a) == 150 and a.index.tolist() == list(range(150))
    pd.testing.assert_frame_equal(a, b)


def test_seed_none_is_drawn_and_recorded(table: pd.DataFrame) -> None:
    model = NeuralSynthesizer(**{**TINY, "epochs": 1}).fit(table)
    assert isinstance(model.seed_, int) and model.seed is None


def test_dp_sgd_records_the_epsilon_spent(table: pd.DataFrame, tmp_path) -> None:
    pytest.importorskip("opacus")
    model = NeuralSynthesizer(**{**TINY, "epochs": 1}, epsilon=1.0, delta=1e-5, max_grad_norm=1.0, seed=0,
                              release_detected_metadata=True)
    model.fit(table)
    spent = model.privacy_report_["epsilon"]
    assert 0.5 < spent <= 1.0 + 1e-6
    assert model.privacy_report_["steps"] >= 1 and model.privacy_report_["noise_multiplier"] > 0
    assert "ward.categories" in model.privacy_report_["public_inputs"]["released_detected"]
    out = model.sample(50, seed=0)
    assert list(out.columns) == list(table.columns)
    spec = json.loads((model.save(tmp_path / "dp") / SPEC_FILE).read_text())
    assert spec["privacy"]["epsilon"] == pytest.approx(spent)
    assert spec["params"]["seed"] is None and spec["state"]["model"]["seed"] is None, "the noise seed is not saved"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer; got 0"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer; got 2.5"),
        ({"embedding_dim": True}, "embedding_dim must be a positive integer; got True"),
        ({"hidden_dims": []}, "hidden_dims must be a non-empty list of positive integers; got []"),
        ({"hidden_dims": (16, 0)}, "hidden_dims must be a non-empty list of positive integers; got (16, 0)"),
        ({"learning_rate": 0}, "learning_rate must be a positive number; got 0"),
        ({"weight_decay": -1.0}, "weight_decay must be a non-negative number; got -1.0"),
        ({"max_categories": 1}, "max_categories must be an integer >= 2; got 1"),
        ({"epsilon": -1.0}, "epsilon must be a positive number; got -1.0"),
        ({"delta": 2.0}, "delta must be a float in (0, 1); got 2.0"),
        ({"max_grad_norm": float("nan")}, "max_grad_norm must be a positive number; got nan"),
        ({"device": "tpu"}, "device must be 'cpu' or 'cuda' (or 'cuda:N'); got 'tpu'"),
        ({"seed": -1}, "seed must be a non-negative integer; got -1"),
    ],
)
def test_bad_params_are_refused(table: pd.DataFrame, params: dict, message: str) -> None:
    model = NeuralSynthesizer(**{**TINY, **params})
    with pytest.raises(ConfigError, match=re.escape(message)):
        model.fit(table)
    assert not model.is_fitted()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_without_a_gpu_is_refused(table: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=re.escape("device='cuda' was asked for but torch sees no CUDA GPU")):
        NeuralSynthesizer(**TINY, device="cuda").fit(table)


def test_missing_torch_names_the_extra(table: pd.DataFrame, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingExtraError, match=re.escape("pip install 'hygeia[neural]'")):
        NeuralSynthesizer(**TINY).fit(table)


def test_missing_opacus_names_the_extra(table: pd.DataFrame, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "opacus", None)
    with pytest.raises(MissingExtraError, match=re.escape("pip install 'hygeia[dp-neural]'")):
        NeuralSynthesizer(**TINY, epsilon=1.0).fit(table)
