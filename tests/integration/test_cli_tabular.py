"""``hygeia metadata`` / ``fit`` / ``sample``: a real table in, a model folder, a synthetic table out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from hygeia.cli.main import main


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    n = 400
    age = rng.normal(60, 12, n).round(1)
    sex = rng.choice(["F", "M"], n)
    sbp = (100 + 0.6 * age + rng.normal(0, 8, n)).round()
    died = (rng.random(n) < 1 / (1 + np.exp(-(age - 70) / 6))).astype(int)
    admit = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    df = pd.DataFrame({"patient_id": np.arange(n), "age": age, "sex": sex, "sbp": sbp, "died": died, "admit": admit})
    path = tmp_path_factory.mktemp("data") / "cohort.parquet"
    df.to_parquet(path)
    return path


def _run(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("model", ["auto", "copula", "cart"])
def test_fit_then_sample_keeps_the_columns(cohort: Path, tmp_path: Path, model: str) -> None:
    res = _run("fit", str(cohort), "--model", model, "--seed", "0", "--out", str(tmp_path / "m"))
    assert res.exit_code == 0, res.output
    assert "Fitted a " in res.output and "why " in res.output
    res = _run("sample", str(tmp_path / "m"), "-n", "250", "--seed", "3", "--out", str(tmp_path / "s.csv"))
    assert res.exit_code == 0, res.output
    real = pd.read_parquet(cohort)
    synth = pd.read_csv(tmp_path / "s.csv")
    assert list(synth.columns) == list(real.columns) and len(synth) == 250
    assert set(synth["sex"]) <= {"F", "M"}
    assert synth["patient_id"].tolist() == list(range(250))  # fresh ids, never the real ones
    prov = json.loads((tmp_path / "s.csv.hygeia.json").read_text())
    assert prov["seed"] == 3 and prov["n"] == 250 and prov["generator"].startswith("tabular.")
    # the same seed again gives the same file
    _run("sample", str(tmp_path / "m"), "-n", "250", "--seed", "3", "--out", str(tmp_path / "t.csv"))
    assert (tmp_path / "s.csv").read_bytes() == (tmp_path / "t.csv").read_bytes()


def test_parquet_output_carries_provenance(cohort: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    assert _run("fit", str(cohort), "--model", "copula", "--out", str(tmp_path / "m")).exit_code == 0
    assert _run("sample", str(tmp_path / "m"), "-n", "50", "--seed", "1", "--out", str(tmp_path / "s.parquet")).exit_code == 0
    meta = pq.read_schema(tmp_path / "s.parquet").metadata
    assert json.loads(meta[b"hygeia"])["seed"] == 1
    synth = pd.read_parquet(tmp_path / "s.parquet")
    assert pd.api.types.is_datetime64_any_dtype(synth["admit"])


def test_dp_fit_refuses_detected_metadata_and_names_both_fixes(cohort: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["fit", str(cohort), "--epsilon", "1", "--seed", "0", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2, res.output
    assert "column 'sex': categories ['F', 'M'] was detected from the data" in res.output
    assert "column 'age': decimals 1 was detected from the data" in res.output
    assert "--public-metadata FILE" in res.output and "--release-detected-metadata" in res.output
    assert not (tmp_path / "m").exists()


def test_dp_model_released_metadata_is_named_in_the_printed_guarantee(cohort: Path, tmp_path: Path) -> None:
    res = _run("fit", str(cohort), "--epsilon", "1", "--seed", "0", "--release-detected-metadata",
               "--out", str(tmp_path / "m"))
    assert res.exit_code == 0, res.output
    assert "tabular.dp" in res.output
    assert "privacy  (epsilon=1, delta=1e-09)-differential privacy for adding or removing one row covers" in res.output
    assert "released by --release-detected-metadata: admit.missing, age.decimals" in res.output
    assert "sex.categories" in res.output
    spec = json.loads((tmp_path / "m" / "spec.json").read_text())
    assert spec["generator"] == "tabular.dp" and spec["params"]["epsilon"] == 1.0
    assert spec["params"]["seed"] is None, "the noise seed is never saved"
    assert "sex.categories" in spec["privacy"]["public_inputs"]["released_detected"]


def test_dp_model_with_a_public_codebook(cohort: Path, tmp_path: Path) -> None:
    assert _run("metadata", str(cohort), "--out", str(tmp_path / "codebook.json")).exit_code == 0
    res = _run("fit", str(cohort), "--epsilon", "1", "--seed", "0", "--public-metadata", str(tmp_path / "codebook.json"),
               "--out", str(tmp_path / "m"))
    assert res.exit_code == 0, res.output
    assert "fields declared public by the user: admit.high, admit.low, admit.missing, age.decimals" in res.output
    assert "released" not in res.output and "DP-estimated" not in res.output  # declared bounds are used as they are


def test_non_dp_model_says_it_has_no_guarantee(cohort: Path, tmp_path: Path) -> None:
    res = _run("fit", str(cohort), "--model", "copula", "--out", str(tmp_path / "m"))
    assert res.exit_code == 0, res.output
    assert "privacy  no formal privacy guarantee" in res.output
    assert json.loads((tmp_path / "m" / "spec.json").read_text())["privacy"]["guarantee"] == "none"


def test_metadata_round_trip_with_an_override(cohort: Path, tmp_path: Path) -> None:
    res = _run("metadata", str(cohort), "--type", "sbp=categorical", "--out", str(tmp_path / "meta.json"))
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "meta.json").read_text())
    kinds = {c["name"]: c["type"] for c in meta["columns"]}
    assert kinds == {"patient_id": "id", "age": "numeric", "sex": "categorical", "sbp": "categorical",
                     "died": "categorical", "admit": "datetime"}
    res = _run("fit", str(cohort), "--model", "copula", "--metadata", str(tmp_path / "meta.json"), "--out", str(tmp_path / "m"))
    assert res.exit_code == 0, res.output


def test_sequence_model_from_the_cli(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    rows = []
    for sid in range(60):
        end = float(rng.integers(300, 2000))
        t = 0.0
        while t < end:
            rows.append({"sid": sid, "day": t, "end": end, "age": 40 + sid % 30, "lab": rng.normal(5, 1)})
            t += float(rng.integers(60, 400))
    path = tmp_path / "visits.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    res = _run("fit", str(path), "--sequence-key", "sid", "--sequence-index", "day", "--end-column", "end",
               "--seed", "0", "--out", str(tmp_path / "m"))
    assert res.exit_code == 0, res.output
    assert "tabular.sequence" in res.output
    res = _run("sample", str(tmp_path / "m"), "-n", "30", "--seed", "2", "--out", str(tmp_path / "s.csv"))
    assert res.exit_code == 0 and "30 subjects" in res.output
    synth = pd.read_csv(tmp_path / "s.csv")
    assert (synth["day"] <= synth["end"]).all()
    assert synth.groupby("sid")["day"].apply(lambda s: s.is_monotonic_increasing).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fit", "{data}", "--model", "copula", "--epsilon", "1", "--out", "{tmp}/m"], "--epsilon applies"),
        (["fit", "{data}", "--model", "copula", "--set", "nonsense=1", "--out", "{tmp}/m"], "no parameter"),
        (["fit", "{tmp}/missing.csv", "--out", "{tmp}/m"], "does not exist"),
        (["fit", "{tmp}/empty.csv", "--out", "{tmp}/m"], "is empty"),
        (["fit", "{tmp}/table.txt", "--out", "{tmp}/m"], "use .csv or .parquet"),
        (["sample", "{tmp}", "-n", "5", "--out", "{tmp}/s.csv"], "not a Hygeia model folder"),
        (["fit", "{data}", "--type", "age", "--out", "{tmp}/m"], "COLUMN=TYPE"),
        (["fit", "{data}", "--model", "copula", "--release-detected-metadata", "--out", "{tmp}/m"],
         "--release-detected-metadata applies to the differentially private models"),
        (["fit", "{data}", "--metadata", "{tmp}/a.json", "--public-metadata", "{tmp}/b.json", "--out", "{tmp}/m"],
         "both give the metadata; pass one"),
    ],
)
def test_bad_input_gives_a_clear_error_and_no_output(cohort: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "table.txt").write_text("a,b\n1,2\n")
    argv = [a.format(data=cohort, tmp=tmp_path) for a in args]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert not (tmp_path / "m").exists() and not (tmp_path / "s.csv").exists()


def test_sample_refuses_to_overwrite(cohort: Path, tmp_path: Path) -> None:
    assert _run("fit", str(cohort), "--model", "copula", "--out", str(tmp_path / "m")).exit_code == 0
    (tmp_path / "s.csv").write_text("keep me")
    res = CliRunner().invoke(main, ["sample", str(tmp_path / "m"), "-n", "5", "--out", str(tmp_path / "s.csv")])
    assert res.exit_code == 2 and "already exists" in res.output
    assert (tmp_path / "s.csv").read_text() == "keep me"
