"""The evaluation report: report.json keys and ranges, the HTML sections, input errors, the CLI."""

from __future__ import annotations

import json
import math
import re

import pytest

pd = pytest.importorskip("pandas")

from click.testing import CliRunner  # noqa: E402

import hygeia.evaluate as evaluate_pkg  # noqa: E402
from hygeia.cli.evaluate import evaluate_command  # noqa: E402
from hygeia.errors import DataValidationError, OutputError  # noqa: E402
from hygeia.evaluate.report import SECTIONS, render_html, run_evaluation, write_report  # noqa: E402


def fake_evaluate_tables(real, synthetic, *, holdout=None, target=None, time_column=None, event_column=None,
                         quasi_identifiers=None, sensitive=None, subgroups=None, column_types=None, seed=0):
    """A stand-in with the shape of hygeia.evaluate.evaluate_tables (keeps these tests fast)."""
    cols = [c for c in real.columns if pd.api.types.is_numeric_dtype(real[c])]
    return {
        "fidelity": {
            "column_shapes": 0.9, "column_pair_trends": 0.8, "overall": 0.85, "detection_auc": 0.6,
            "alpha_precision": 0.7, "beta_recall": 0.75,
            "marginals": {
                "age": {"type": "numerical", "edges": [0, 25, 50, 75, 100],
                        "real": [0.1, 0.4, 0.3, 0.2], "synthetic": [0.2, 0.3, 0.3, 0.2]},
                "sex": {"type": "categorical", "categories": ["F", "M"], "real": [0.5, 0.5], "synthetic": [0.6, 0.4]},
                "admitted": {"type": "datetime", "edges": ["2020-01-01T00:00:00", "2021-01-01T00:00:00",
                                                          "2022-01-01T00:00:00"], "real": [0.5, 0.5],
                             "synthetic": [0.4, 0.6]},
            },
            "correlation": {"columns": cols, "real": [[1.0 if i == j else 0.3 for j in cols] for i in cols],
                            "synthetic": [[1.0 if i == j else 0.2 for j in cols] for i in cols]},
        },
        "utility": {"tstr": {"auc": 0.7}, "trtr": {"auc": 0.75}, "target": target},
        "privacy": {"exact_copy_rate": 0.0, "mia_auc": 0.52, "dcr_closer_to_train_share": 0.5,
                    "dcr": {"synthetic_to_train": [0.1, 0.2, 0.3, 0.5, 0.8],
                            "synthetic_to_holdout": [0.2, 0.3, 0.4] if holdout is not None else []}},
        "fairness": {"subgroups": [
            {"column": "sex", "group": "F", "real_share": 0.5, "synthetic_share": 0.6, "real_rate": 0.2,
             "synthetic_rate": 0.25, "utility_gap": 0.01},
            {"column": "sex", "group": "M", "real_share": 0.5, "synthetic_share": 0.4, "real_rate": 0.3,
             "synthetic_rate": 0.28, "utility_gap": float("nan")},
        ]},
        "meta": {"n_real": len(real), "n_synthetic": len(synthetic), "seed": seed},
    }


@pytest.fixture()
def fake(monkeypatch):
    monkeypatch.setattr(evaluate_pkg, "evaluate_tables", fake_evaluate_tables, raising=False)


def _frame(n: int = 40, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({
        "age": [20 + (i * 7) % 60 + shift for i in range(n)],
        "sex": ["F" if i % 2 else "M" for i in range(n)],
        "heart_rate": [60 + i % 30 for i in range(n)],
        "outcome": [i % 3 == 0 for i in range(n)],
    })


def _write(tmp_path, name: str, frame: pd.DataFrame) -> str:
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    return str(path)


def test_report_json_has_every_section_and_valid_ranges(tmp_path, fake) -> None:
    syn = _frame(shift=1.0)
    syn.loc[3, "heart_rate"] = 500  # a planted impossible vital sign
    out = tmp_path / "report"
    result = run_evaluation(_write(tmp_path, "real.csv", _frame()), _write(tmp_path, "syn.parquet", syn),
                            holdout=_write(tmp_path, "hold.csv", _frame(10)), target="outcome",
                            quasi_identifiers=["age", "sex"], out=out)
    data = json.loads((out / "report.json").read_text())
    assert set(SECTIONS) <= set(data)
    assert data == result
    vr = {r["id"]: r for r in data["plausibility"]["rules"]}["vital_signs_range"]
    assert (vr["checked"], vr["violations"]) == (40, 1)
    assert 0.0 <= data["plausibility"]["overall_violation_rate"] <= 1.0
    for r in data["plausibility"]["rules"]:
        assert 0.0 <= r["rate"] <= 1.0 and r["violations"] <= r["checked"]
    assert data["fairness"]["subgroups"][1]["utility_gap"] is None  # NaN written as null
    assert data["meta"]["inputs"]["synthetic"]["rows"] == 40
    assert data["meta"]["quasi_identifiers"] == ["age", "sex"]
    html = (out / "report.html").read_text()
    for s in SECTIONS:
        assert f'<section id="{s}">' in html
    for plot_id in ("fidelity-marginals", "fidelity-correlation", "privacy-dcr", "fairness-subgroups",
                    "plausibility-rates"):
        assert f'id="{plot_id}"' in html
    assert html.count("<svg") >= 8
    assert not re.search(r"<script|<link|https?://(?!www\.w3\.org/2000/svg)", html)  # self-contained
    assert not list(tmp_path.glob(".report.tmp-*"))


def test_write_report_fills_missing_sections_and_cleans_values(tmp_path) -> None:
    json_path, html_path = write_report({"fidelity": {"overall": math.inf}, "extra": {"x": 1}}, tmp_path / "r")
    data = json.loads(json_path.read_text())
    assert data["fidelity"]["overall"] is None
    assert all(data[s] == {} for s in SECTIONS[1:])
    assert "extra" in data
    assert all(f'id="{s}"' in html_path.read_text() for s in SECTIONS)


def test_render_html_tolerates_odd_shapes() -> None:
    html = render_html({"fidelity": {"marginals": {"x": {"weird": 1}, "y": [1, 2]}, "correlation": {}},
                        "privacy": {"dcr": {"synthetic_to_train": []}}, "fairness": {"subgroups": []},
                        "utility": "n/a", "plausibility": {}, "meta": {}})
    assert html.count("<section") == 6


def test_bad_input_names_every_problem(tmp_path, fake) -> None:
    real = _write(tmp_path, "real.csv", _frame())
    syn = _write(tmp_path, "syn.csv", _frame().drop(columns=["heart_rate"]).assign(bmi=22.0))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataValidationError) as info:
        run_evaluation(real, syn, holdout=str(empty), target="readmitted", quasi_identifiers=["age", "zip"],
                       out=tmp_path / "report")
    msg = str(info.value)
    assert msg.startswith("cannot evaluate: the inputs have problems (4 problems)")
    assert re.search(re.escape("synthetic: columns do not match the real data: missing ['heart_rate'], "
                               "unexpected ['bmi']"), msg)
    assert re.search(re.escape(f"holdout: {str(empty)!r} is empty"), msg)
    assert re.search(re.escape("target 'readmitted' is not a column of the real data"), msg)
    assert re.search(re.escape("quasi-identifier 'zip' is not a column of the real data"), msg)
    assert not (tmp_path / "report").exists()


def test_missing_files_and_header_only_csv(tmp_path, fake) -> None:
    header_only = tmp_path / "header.csv"
    header_only.write_text("age,sex\n")
    with pytest.raises(DataValidationError) as info:
        run_evaluation(str(tmp_path / "nope.csv"), str(header_only), holdout=str(tmp_path / "x.txt"),
                       out=tmp_path / "r")
    msg = str(info.value)
    assert re.search(re.escape(f"real: {str(tmp_path / 'nope.csv')!r} does not exist"), msg)
    assert re.search(re.escape(f"synthetic: {str(header_only)!r} has no rows"), msg)
    assert re.search(re.escape(f"holdout: {str(tmp_path / 'x.txt')!r} does not exist"), msg)


def test_existing_output_is_not_overwritten(tmp_path, fake) -> None:
    real = _write(tmp_path, "real.csv", _frame())
    out = tmp_path / "report"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(OutputError, match=re.escape("already exists and is not empty")):
        run_evaluation(real, real, out=out)
    run_evaluation(real, real, out=out, overwrite=True)
    assert (out / "report.html").is_file() and not (out / "keep.txt").exists()


def test_run_folders_compare_person_features(tmp_path, fake) -> None:
    from hygeia.core.storage import read_records
    from hygeia.cli.main import main

    runs = []
    for seed in (1, 2):
        out = tmp_path / f"run{seed}"
        result = CliRunner().invoke(main, ["generate", "-n", "15", "--seed", str(seed), "--out", str(out)])
        assert result.exit_code == 0, result.output
        runs.append(out)
    report = run_evaluation(runs[0], runs[1], out=tmp_path / "report", subgroups=["sex"])
    cols = report["meta"]["inputs"]["real"]["columns"]
    assert {"age", "sex", "race", "ethnicity", "died", "n_encounters", "n_conditions"} <= set(cols)
    assert report["meta"]["inputs"]["real"]["rows"] == 15
    plaus = report["plausibility"]
    assert plaus["mode"] == "records" and plaus["total_checked"] > 0
    assert plaus["total_checked"] >= read_records(runs[1])[1].num_rows  # before_birth checks every event


def test_cli_writes_report_and_reports_bad_input(tmp_path, fake) -> None:
    real = _write(tmp_path, "real.csv", _frame())
    syn = _write(tmp_path, "syn.csv", _frame(shift=2))
    out = tmp_path / "report"
    runner = CliRunner()
    result = runner.invoke(evaluate_command, ["--real", real, "--synthetic", syn, "--target", "outcome",
                                              "--quasi-identifiers", "age,sex", "--subgroups", "sex",
                                              "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    assert json.loads((out / "report.json").read_text())["meta"]["seed"] == 3
    bad = runner.invoke(evaluate_command, ["--real", real, "--synthetic", syn, "--target", "nope",
                                           "--out", str(tmp_path / "r2")])
    assert bad.exit_code == 2  # a HygeiaError shown as a CLI error, without a traceback
    assert "target 'nope' is not a column of the real data" in bad.output
    assert "Traceback" not in bad.output and not (tmp_path / "r2").exists()


def test_with_the_real_metrics_when_available(tmp_path) -> None:
    if not hasattr(evaluate_pkg, "evaluate_tables"):
        pytest.skip("hygeia.evaluate.evaluate_tables is not available yet")
    real = _write(tmp_path, "real.csv", _frame(60))
    syn = _write(tmp_path, "syn.csv", _frame(60, shift=1.5))
    hold = _write(tmp_path, "hold.csv", _frame(30, shift=0.5))
    data = run_evaluation(real, syn, holdout=hold, target="outcome", quasi_identifiers=["age", "sex"],
                          out=tmp_path / "report")
    assert set(SECTIONS) <= set(data)
    assert 0.0 <= data["fidelity"]["overall"] <= 1.0
    html = (tmp_path / "report" / "report.html").read_text()
    assert 'id="fidelity-marginals"' in html and 'id="privacy-dcr"' in html


def test_html_explains_each_headline_number_and_why_it_is_not_measured() -> None:
    from hygeia.evaluate._utility import NO_HOLDOUT_REASON

    result = {
        "fidelity": {"overall": 0.95, "column_shapes": 0.97, "column_pair_trends": 0.7,
                     "column_pair_trends_all_pairs": 0.97, "pairs_counted": 4, "pairs_total": 10},
        "utility": {"status": "not measured", "task": "classification", "reason": NO_HOLDOUT_REASON},
        "privacy": {"exact_copy_rate": 0.0, "mia_auc": None, "not_measured": {"mia_auc": NO_HOLDOUT_REASON}},
        "caveats": ["No holdout was given: utility is not measured."],
    }
    html = render_html(result)
    assert '<aside id="caveats">' in html and "No holdout was given: utility is not measured." in html
    fidelity = html.split('id="fidelity-headline"', 1)[1].split("</table>", 1)[0]
    assert fidelity.count("<tr class=") == 4
    assert '<tr class="verdict-poor"><th>Pair trends (headline)</th>' in fidelity
    assert "the 4 of 10 column pairs that are strongly associated" in fidelity
    utility = html.split('id="utility-headline"', 1)[1].split("</table>", 1)[0]
    assert '<span class="badge">not measured</span>' in utility and "No holdout was given: every real row" in utility
    privacy = html.split('id="privacy-headline"', 1)[1].split("</table>", 1)[0]
    assert '<tr class="verdict-good"><th>Exact copies</th>' in privacy
    assert '<tr class="verdict-not-measured"><th>Membership inference AUC</th>' in privacy
