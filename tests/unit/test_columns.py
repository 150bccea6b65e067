"""One column-type detector (core/columns.py) for `hygeia fit` and `hygeia evaluate`: same types, same warnings."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from hygeia.cli.main import main
from hygeia.core.columns import detect_column, detect_types, to_numbers
from hygeia.evaluate import infer_column_types
from hygeia.tabular.metadata import Metadata


def _table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A CSV-like table: a row index, a lab value with 14% 'unknown', an id, labels, a 0/1 flag, dates, notes."""
    rng = np.random.default_rng(seed)
    lab = rng.normal(5.0, 1.0, n).round(2).astype(object)
    lab[rng.permutation(n)[: int(0.14 * n)]] = "unknown"
    return pd.DataFrame({
        "Unnamed: 0": np.arange(n),
        "lab": lab.astype(str),
        "patient_id": rng.permutation(n) + 10_000,
        "sex": rng.choice(["F", "M"], n),
        "died": rng.integers(0, 2, n),
        "age": rng.uniform(20, 90, n).round(1),
        "admitted": [f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        "note": [f"patient {i} seen for follow-up of a chronic condition" for i in range(n)],
    })


def test_fit_and_evaluate_type_every_column_alike() -> None:
    df = _table()
    expected = {"Unnamed: 0": "id", "lab": "categorical", "patient_id": "id", "sex": "categorical",
                "died": "categorical", "age": "numeric", "admitted": "datetime", "note": "text"}
    assert infer_column_types(df) == expected
    assert {c.name: c.type for c in Metadata.detect(df).columns} == expected
    declared = {"lab": "numeric", "Unnamed: 0": "numeric"}
    assert infer_column_types(df, declared) == {c.name: c.type for c in Metadata.detect(df, types=declared).columns}


def test_mixed_column_is_named_with_its_share_examples_and_both_fixes() -> None:
    notes = {n.column: n for n in detect_types(_table()).notes}
    assert set(notes) == {"Unnamed: 0", "lab"}
    lab = notes["lab"]
    assert lab.kind == "mixed_type"
    assert lab.message.startswith("column 'lab' mixes numbers with text: 14.0% of its values (42) are not numbers "
                                  "(e.g. 'unknown'), the rest are (e.g. ")
    assert lab.message.endswith("pass --type lab=numeric (those values become missing); to keep them as labels, "
                                "pass --type lab=categorical")
    index = notes["Unnamed: 0"]
    assert index.kind == "id_like"
    assert index.message == ("column 'Unnamed: 0' looks like an identifier (whole numbers 0..299 counting up by 1 row "
                             "by row: a row index); it is typed id: not modelled and not compared. If it is data, "
                             "pass --type 'Unnamed: 0=numeric'")


def test_declared_numeric_reads_text_as_missing_in_fit_and_evaluate() -> None:
    df = _table()
    meta = Metadata.detect(df, types={"lab": "numeric"})
    lab = meta.column("lab")
    assert (lab.type, lab.missing) == ("numeric", pytest.approx(0.14))
    assert meta.warnings[1:] == [("column 'lab' is declared numeric: 42 of its values (14.0%, e.g. 'unknown') are "
                                  "not numbers and are read as missing")]
    assert int(to_numbers(df["lab"]).isna().sum()) == 42


@pytest.mark.parametrize(("name", "values", "kind"), [
    ("score", list(range(5, 65)), "id"),               # counts up by one, row by row: an index
    ("score", list(range(60, 0, -1)), "numeric"),      # counts down: data
    ("score", list(np.random.default_rng(0).permutation(60)), "numeric"),  # distinct, but no order and no id name
    ("subject_id", ["a", "b", "c"], "id"),
    ("grade", [1, 2, 3, 1, 2, 3], "categorical"),
    ("flag", [True, False, True], "categorical"),
])
def test_index_and_id_rules(name: str, values: list, kind: str) -> None:
    assert detect_column(name, pd.Series(values))[0] == kind


def test_evaluate_cli_takes_type_and_metadata_and_records_them(tmp_path) -> None:
    df = _table(200).drop(columns=["note", "admitted"])
    real, syn = tmp_path / "real.csv", tmp_path / "syn.csv"
    df.to_csv(real, index=False)
    _table(200, seed=1).drop(columns=["note", "admitted"]).to_csv(syn, index=False)
    runner = CliRunner()
    meta = tmp_path / "meta.json"
    Metadata.detect(df, types={"sex": "categorical"}).save(meta)
    res = runner.invoke(main, ["evaluate", "--real", str(real), "--synthetic", str(syn), "--metadata", str(meta),
                               "--type", "lab=numeric", "--seed", "0", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["meta"]["column_types"]["lab"] == "numeric"
    assert report["meta"]["declared_types"] == sorted(df.columns)
    assert report["fidelity"]["column_shapes_detail"]["lab"] > 0.8  # compared as numbers on both sides
    kinds = [w["kind"] for w in report["warnings"]]
    assert "declared_numeric" in kinds and "mixed_type" not in kinds
    res = runner.invoke(main, ["evaluate", "--real", str(real), "--synthetic", str(syn), "--seed", "0",
                               "--out", str(tmp_path / "r2")])
    assert res.exit_code == 0, res.output
    assert re.search(r"Column 'lab' mixes numbers with text: 14\.0% of its values \(28\)", res.output)
    assert "Column 'Unnamed: 0' looks like an identifier" in res.output


def test_evaluate_cli_bad_type_is_a_cli_error(tmp_path) -> None:
    df = _table(50)
    df.to_csv(tmp_path / "real.csv", index=False)
    args = ["evaluate", "--real", str(tmp_path / "real.csv"), "--synthetic", str(tmp_path / "real.csv"),
            "--out", str(tmp_path / "r")]
    res = CliRunner().invoke(main, [*args, "--type", "lab"])
    assert res.exit_code == 2 and "--type takes COLUMN=TYPE (e.g. --type zip=categorical); got 'lab'" in res.output
    res = CliRunner().invoke(main, [*args, "--type", "lab=number", "--type", "nope=id"])
    assert res.exit_code == 2
    assert "--type lab=number: 'number' is not a column type; use one of numeric, categorical" in res.output
    assert "--type nope=id names 'nope', which is not a column of real" in res.output
    assert "in Python" not in res.output and not (tmp_path / "r").exists()


def test_fit_cli_prints_the_same_warnings(tmp_path) -> None:
    df = _table(120).drop(columns=["note"])
    df.to_csv(tmp_path / "t.csv", index=False)
    res = CliRunner().invoke(main, ["fit", str(tmp_path / "t.csv"), "--model", "copula", "--seed", "0",
                                    "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert "Warning: column 'lab' mixes numbers with text: 13.3% of its values (16) are not numbers" in res.output
    assert "Warning: column 'Unnamed: 0' looks like an identifier" in res.output
