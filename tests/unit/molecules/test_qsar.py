"""QSAR models on fingerprints: fit, predict, save as data, load, use as a scoring component."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

from rdkit import Chem  # noqa: E402
from rdkit.Chem import Crippen  # noqa: E402

from hygeia.errors import ConfigError, DataValidationError, OutputError  # noqa: E402
from hygeia.molecules.data import moses_split  # noqa: E402
from hygeia.molecules.qsar import QSARModel  # noqa: E402
from hygeia.molecules.scoring import ScoringFunction  # noqa: E402


@pytest.fixture(scope="module")
def activity() -> tuple[list[str], np.ndarray]:
    """300 MOSES molecules with Crippen logP as a stand-in activity."""
    smiles = moses_split("test")[:300]
    y = np.array([Crippen.MolLogP(Chem.MolFromSmiles(s)) for s in smiles])
    return smiles, y


@pytest.mark.parametrize("method", ["linear", "knn"])
def test_regression_round_trip_gives_identical_predictions(activity, method, tmp_path: Path) -> None:
    smiles, y = activity
    model = QSARModel(task="regression", method=method, n_bits=1024, n_neighbors=3).fit(smiles[:250], y[:250])
    pred = model.predict(smiles + ["not smiles"])
    assert np.isnan(pred[-1]) and np.isfinite(pred[:-1]).all()
    if method == "linear":
        assert np.corrcoef(pred[:250], y[:250])[0, 1] > 0.9  # fits its training data
    assert np.corrcoef(pred[250:300], y[250:300])[0, 1] > 0.3  # and says something about new molecules
    model.save(tmp_path / "m")
    again = QSARModel.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict(smiles + ["not smiles"]), pred)
    assert again.get_params() == model.get_params()
    with np.load(tmp_path / "m" / "arrays.npz", allow_pickle=False) as npz:
        assert set(npz.files) == ({"coef"} if method == "linear" else {"train_fps", "train_y"})
    assert json.loads((tmp_path / "m" / "spec.json").read_text())["format"] == "hygeia-qsar"


@pytest.mark.parametrize("method", ["linear", "knn"])
def test_classification_probabilities_round_trip(activity, method, tmp_path: Path) -> None:
    smiles, y = activity
    labels = np.where(y > np.median(y), "active", "inactive")
    model = QSARModel(task="classification", method=method, n_neighbors=1).fit(smiles, labels)
    assert model.classes_.tolist() == ["active", "inactive"]  # probability of the second class
    p = model.predict(smiles)
    assert ((p >= 0) & (p <= 1)).all()
    assert ((p > 0.5) == (labels == "inactive")).mean() > 0.95  # on its training data
    model.save(tmp_path / "c")
    np.testing.assert_array_equal(QSARModel.load(tmp_path / "c").predict(smiles), p)


def test_from_csv_and_errors(tmp_path: Path, activity) -> None:
    smiles, y = activity
    csv = tmp_path / "act.csv"
    csv.write_text("smiles,pIC50\n" + "\n".join(f"{s},{v}" for s, v in zip(smiles[:30], y[:30])) + "\n")
    model = QSARModel.from_csv(csv, activity="pIC50", method="knn", n_neighbors=1)
    np.testing.assert_allclose(model.predict(smiles[:5]), y[:5])  # 1-NN of a training molecule is itself
    with pytest.raises(DataValidationError, match=re.escape("no column 'activity'")):
        QSARModel.from_csv(csv)
    with pytest.raises(DataValidationError, match=re.escape("row 1: 'C1CC' is not a valid SMILES")):
        QSARModel().fit(["CCO", "C1CC", "CCN"], [1.0, 2.0, 3.0])
    with pytest.raises(DataValidationError, match="exactly two classes"):
        QSARModel(task="classification").fit(["CCO", "CCN", "CCC"], [0, 1, 2])
    with pytest.raises(DataValidationError, match="3 SMILES but 2 activities"):
        QSARModel().fit(["CCO", "CCN", "CCC"], [0.0, 1.0])
    with pytest.raises(ConfigError, match=re.escape("task='ranking'")):
        QSARModel(task="ranking").fit(["CCO", "CCN"], [0.0, 1.0])
    with pytest.raises(ConfigError, match="not fitted"):
        QSARModel().predict(["CCO"])
    model.save(tmp_path / "m")
    with pytest.raises(OutputError, match="already exists"):
        model.save(tmp_path / "m")
    with pytest.raises(DataValidationError, match="not a readable QSAR model folder"):
        QSARModel.load(tmp_path / "nothing")


def test_qsar_component_reads_a_model_relative_to_the_config(activity, tmp_path: Path) -> None:
    smiles, y = activity
    model = QSARModel(n_bits=1024).fit(smiles, y)
    model.save(tmp_path / "models" / "logp")
    config = tmp_path / "score.toml"
    config.write_text(
        '[[components]]\ncomponent = "qsar"\nmodel = "models/logp"\n'
        'transform = { type = "linear", low = 0, high = 5 }\n',
        encoding="utf-8",
    )
    f = ScoringFunction.from_config(config)
    table = f.score_table(smiles[:10])
    np.testing.assert_allclose(table["qsar"], model.predict(smiles[:10]))
    np.testing.assert_allclose(table["score"], np.clip(model.predict(smiles[:10]) / 5, 0, 1))
    with pytest.raises(ConfigError, match=re.escape("component 'qsar': cannot load the QSAR model")):
        ScoringFunction({"components": [{"component": "qsar", "model": str(tmp_path / "none"),
                                         "transform": {"type": "maximize"}}]})
