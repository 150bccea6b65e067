"""What DP models may save: declared metadata only, unless detected values are released in words.

The central test plants a value held by one patient and scans every byte of
every file of the saved model folder (``.npz`` arrays decoded) for it.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hygeia.errors import ConfigError
from hygeia.tabular._public_domain import FIX
from hygeia.tabular.dp import DPSynthesizer
from hygeia.tabular.metadata import ColumnSpec, Metadata

PLANTED_LABEL = "ZQX-UNIQUE-4471"
PLANTED_NUMBER = 98765.4321


def _table(n: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "diagnosis": rng.choice(["A", "B", "C"], n).astype(object),
        "lab": np.round(rng.normal(5.0, 1.0, n), 4),
        "age": rng.integers(20, 90, n).astype(float),
    })
    df.loc[17, "diagnosis"] = PLANTED_LABEL  # one patient's unique value
    df.loc[17, "lab"] = PLANTED_NUMBER
    return df


def _codebook(lab_bounds: bool) -> Metadata:
    """Public knowledge about the table, written without looking at it."""
    lab = ColumnSpec("lab", "numeric", dtype="float64").declare(integer=False, decimals=4, missing=0.0)
    if lab_bounds:
        lab.declare(low=0.0, high=20.0)
    return Metadata([
        ColumnSpec("diagnosis", "categorical").declare(categories=["A", "B", "C"], missing=0.01),
        lab,
        ColumnSpec("age", "numeric", dtype="float64").declare(integer=True, decimals=0, missing=0.0, low=0.0, high=120.0),
    ])


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in (_walk(k) + _walk(v))]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value]


def _leaks(folder: Path) -> list[str]:
    """Every place in ``folder`` where the planted label or number appears."""
    found = []
    number_bytes = [struct.pack("<d", PLANTED_NUMBER), struct.pack("<f", PLANTED_NUMBER)]
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, f"{folder} holds no files"
    for path in files:
        raw = path.read_bytes()
        texts = [raw]
        if path.suffix == ".npz":
            with zipfile.ZipFile(path) as zf:
                texts += [zf.read(name) for name in zf.namelist()]
            with np.load(path, allow_pickle=False) as npz:
                for key in npz.files:
                    arr = npz[key]
                    texts.append(key.encode())
                    texts.append(arr.tobytes())
                    if arr.dtype.kind in "US":
                        texts.append("".join(map(str, arr.ravel())).encode())
                    if arr.dtype.kind in "fiu" and arr.size and np.isclose(
                        arr.astype(float), PLANTED_NUMBER, rtol=1e-7, atol=0
                    ).any():
                        found.append(f"{path.name}:{key} holds {PLANTED_NUMBER}")
        if path.suffix == ".json":
            for v in _walk(json.loads(raw)):
                if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isclose(v, PLANTED_NUMBER, rtol=1e-7):
                    found.append(f"{path.name} holds the number {v}")
        for blob in texts:
            if PLANTED_LABEL.encode() in blob or PLANTED_LABEL.encode("utf-16-le") in blob:
                found.append(f"{path.name} holds {PLANTED_LABEL!r}")
            if b"98765.432" in blob or any(nb in blob for nb in number_bytes):
                found.append(f"{path.name} holds the bytes of {PLANTED_NUMBER}")
    return found


def test_scanner_finds_a_planted_value_when_it_is_released(tmp_path: Path) -> None:
    """Control: with detected metadata released in words, the unique category is saved, and the scan sees it."""
    model = DPSynthesizer(epsilon=1.0, seed=0, release_detected_metadata=True).fit(_table())
    assert any(PLANTED_LABEL in leak for leak in _leaks(model.save(tmp_path / "m")))
    assert "diagnosis.categories" in model.privacy_report_["public_inputs"]["released_detected"]


def test_dp_model_folder_never_holds_a_unique_value(tmp_path: Path) -> None:
    table = _table()
    meta = _codebook(lab_bounds=False)
    model = DPSynthesizer(epsilon=1.0, seed=0).fit(table, meta)
    folder = model.save(tmp_path / "m")
    assert _leaks(folder) == []
    saved = model.metadata_.column("lab")
    assert saved.origin_of("low") == saved.origin_of("high") == "dp-estimate"
    assert (saved.low, saved.high) != (table["lab"].min(), table["lab"].max())
    charged = [m["label"] for m in model.privacy_report_["measurements"] if m.get("step") == "bounds"]
    assert charged == ["range of 'lab'"], "the lab range is estimated with DP and charged to the budget"
    assert model.privacy_report_["public_inputs"]["released_detected"] == []
    assert "diagnosis.categories" in model.privacy_report_["public_inputs"]["declared_public"]
    assert set(model.sample(2000, seed=1)["diagnosis"].dropna()) <= {"A", "B", "C"}


def test_neural_dp_sgd_model_folder_never_holds_a_unique_value(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("opacus")
    torch.set_num_threads(1)
    from hygeia.tabular.neural import NeuralSynthesizer

    tiny = {"epochs": 1, "batch_size": 200, "embedding_dim": 4, "hidden_dims": (8,), "seed": 0}
    model = NeuralSynthesizer(**tiny, epsilon=1.0).fit(_table(), _codebook(lab_bounds=True))
    assert _leaks(model.save(tmp_path / "m")) == []
    assert model.privacy_report_["public_inputs"]["released_detected"] == []
    assert model.sample(500, seed=2)["lab"].max() <= 20.0
    control = NeuralSynthesizer(**tiny, epsilon=1.0, release_detected_metadata=True).fit(_table())
    assert any(PLANTED_LABEL in leak for leak in _leaks(control.save(tmp_path / "control")))


def test_detected_metadata_is_refused_with_every_field_and_both_fixes() -> None:
    df = pd.DataFrame({"sex": ["F", "M"] * 20, "bmi": [21.5, 30.25] * 20})
    expected = (
        "the dp model is differentially private, but its metadata has 5 field(s) read from the private table; "
        "saving them would put data values outside the (epsilon, delta) guarantee:\n"
        "  - column 'sex': missing never missing was detected from the data\n"
        "  - column 'sex': categories ['F', 'M'] was detected from the data\n"
        "  - column 'bmi': missing never missing was detected from the data\n"
        "  - column 'bmi': integer False was detected from the data\n"
        "  - column 'bmi': decimals 2 was detected from the data\n" + FIX
    )
    model = DPSynthesizer(epsilon=1.0)
    with pytest.raises(ConfigError, match=re.escape(expected)):
        model.fit(df)
    assert not model.is_fitted()


def test_an_undeclared_category_outside_a_non_nullable_domain_is_refused() -> None:
    meta = _codebook(lab_bounds=True)
    meta.column("diagnosis").declare(missing=0.0)
    with pytest.raises(Exception, match=re.escape(
        "column 'diagnosis' holds values outside its declared categories: ['ZQX-UNIQUE-4471']; add them to the "
        "column's categories (the categories are the public domain), or declare the column nullable (missing > 0)"
    )):
        DPSynthesizer(epsilon=1.0, seed=0).fit(_table(), meta)


# -- metadata origins ------------------------------------------------------------------------------------
def test_origins_round_trip_and_version_1_files_are_upgraded(tmp_path: Path) -> None:
    meta = Metadata.detect(pd.DataFrame({"sex": ["F", "M", "F"], "bmi": [21.5, 30.25, 25.0]}), types={"sex": "categorical"})
    assert meta.column("sex").origin == {"type": "declared", "missing": "detected", "integer": "detected",
                                         "categories": "detected"}
    data = meta.to_dict()
    assert data["spec_version"] == 2 and data["columns"][1]["origin"]["decimals"] == "detected"
    assert Metadata.from_dict(json.loads(json.dumps(data))) == meta
    v1 = json.loads(json.dumps(data))
    v1["spec_version"] = 1
    for c in v1["columns"]:
        del c["origin"]
    upgraded = Metadata.from_dict(v1)
    assert all(c.origin_of(f) == "detected" for c in upgraded.columns for f in c.data_fields())
    v1["columns"][0]["public"] = True
    assert Metadata.from_dict(v1).column("sex").origin_of("categories") == "declared"
    assert meta.as_declared().column("bmi").origin_of("decimals") == "declared"
    assert meta.column("bmi").origin_of("decimals") == "detected", "as_declared returns a copy"


def test_a_bad_origin_is_refused() -> None:
    data = {"spec_version": 2, "columns": [{"name": "x", "type": "numeric", "origin": {"low": "guessed"}}]}
    with pytest.raises(Exception, match=re.escape("columns[0] ('x'): origin {'low': 'guessed'} is not a map from")):
        Metadata.from_dict(data)
    with pytest.raises(ConfigError, match=re.escape("cannot declare 'colour' of column 'x'")):
        ColumnSpec("x", "numeric").declare(colour="red")


# -- time zones ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["copula", "cart", "dp", "neural"])
def test_time_zone_aware_datetimes_round_trip(model: str) -> None:
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({
        "admit": pd.Timestamp("2021-03-01", tz="Europe/Paris") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
        "age": rng.integers(20, 90, n).astype(float),
    })
    if model == "neural":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(1)
        from hygeia.tabular.neural import NeuralSynthesizer

        gen = NeuralSynthesizer(epochs=1, embedding_dim=4, hidden_dims=(8,), seed=0)
    elif model == "dp":
        gen = DPSynthesizer(epsilon=5.0, seed=0, release_detected_metadata=True)
    else:
        from hygeia.tabular.api import MODELS, _generator_class

        assert model in MODELS
        gen = _generator_class(model)()
    out = gen.fit(df).sample(50, seed=1)
    assert str(out["admit"].dtype) == "datetime64[ns, Europe/Paris]"
    assert out["admit"].notna().all()


def test_time_zone_aware_static_column_in_the_sequence_model() -> None:
    from hygeia.tabular.sequence import SequenceSynthesizer

    rng = np.random.default_rng(0)
    rows = []
    for i in range(40):
        enrolled = pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(0, 300)))
        for day in sorted({0, *rng.integers(1, 300, 3).tolist()}):
            rows.append({"id": i, "enrolled": enrolled, "day": day, "lab": float(rng.normal(5))})
    real = pd.DataFrame(rows)
    fake = SequenceSynthesizer(sequence_key="id", sequence_index="day", static_model="copula").fit(real).sample(10, seed=0)
    assert str(fake["enrolled"].dtype) == "datetime64[ns, UTC]"
