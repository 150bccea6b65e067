"""``hygeia calibrate`` on real runs: the report, ``--check``, atomic output, run.json counts and the fit tool."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from hygeia.cli.main import main
from hygeia.population import generate
from hygeia.population.calibrate import STATUSES, calibrate, fit_onsets
from hygeia.population.engine import load_modules
from hygeia.population.locale import LOCALES_DIR


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "run"
    generate(n=400, seed=5, out=str(out))
    return out


def test_run_json_says_how_many_are_alive_and_how_births_and_deaths_were_drawn(run) -> None:
    import pyarrow.parquet as pq

    info = json.loads((run / "run.json").read_text())
    persons = pq.read_table(run / "persons").to_pandas()
    assert info["counts"]["persons"] == len(persons) == 400
    assert info["counts"]["alive_at_end"] == int(persons["death_time"].isna().sum())
    assert info["counts"]["alive_at_end"] + info["counts"]["dead_at_end"] == 400
    demo = info["demography"]
    assert demo["window_years"] == 10 and demo["window_start"] == "2016-01-01"
    mortality = demo["cause_specific_mortality"]
    assert "heart_failure" in mortality["adjusted_modules"] and mortality["stale_estimates"] == []


def test_calibrate_writes_both_files_with_every_target(run, tmp_path) -> None:
    out = tmp_path / "report"
    report = calibrate(run, out=out)
    assert sorted(p.name for p in out.iterdir()) == ["calibration.html", "calibration.json"]
    data = json.loads((out / "calibration.json").read_text())
    assert data["summary"] == report["summary"]
    assert sum(data["summary"][s] for s in STATUSES) == data["summary"]["targets"] == len(data["rows"])
    measures = {r["measure"] for r in data["rows"]}
    assert {"population_share", "deaths", "hypertension", "copd", "ed_visits"} <= measures
    for r in data["rows"]:
        assert r["status"] in STATUSES and r["tolerance"] in (0.1, 0.2)
        if r["status"] != "no data":
            assert r["ci_low"] <= r["simulated"] <= r["ci_high"]
    # the living are measured on the end date: the pyramid rows of both sexes add up to 1
    both = [r["simulated"] for r in data["rows"] if r["measure"] == "population_share" and r["sex"] == "*"]
    assert sum(both) == pytest.approx(1.0)
    html = (out / "calibration.html").read_text()
    for plot in ("plot-pyramid", "plot-deaths", "plot-hypertension", "plot-copd"):
        assert f'id="{plot}"' in html


def test_check_exits_non_zero_only_when_a_target_fails(run, tmp_path) -> None:
    pack = tmp_path / "strict"
    shutil.copytree(LOCALES_DIR / "us", pack)
    doc = json.loads((pack / "targets.json").read_text())
    doc["targets"] = [dict(doc["targets"][0], measure="hypertension", age_lo=60, age_hi=None, value=0.01)]
    (pack / "targets.json").write_text(json.dumps(doc))
    runner = CliRunner()
    failed = runner.invoke(main, ["calibrate", str(run), "--locale", str(pack), "--out", str(tmp_path / "a"), "--check"])
    assert failed.exit_code == 1, failed.output
    assert "hypertension" in failed.output and "calibration check failed" in failed.output
    without_check = runner.invoke(main, ["calibrate", str(run), "--locale", str(pack), "--out", str(tmp_path / "b")])
    assert without_check.exit_code == 0, without_check.output
    report = json.loads((tmp_path / "b" / "calibration.json").read_text())
    assert any(r["measure"] == "hypertension" and r["status"] == "fail" for r in report["rows"])


def test_a_failed_calibration_leaves_no_output(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["calibrate", str(tmp_path / "no_such_run"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_fit_tool_moves_onset_probabilities_toward_the_targets(tmp_path) -> None:
    targets = [{"age_lo": 18, "age_hi": None, "sex": "*", "value": 0.25}]  # far above what the module gives
    result = fit_onsets("asthma", "asthma_current", targets=targets, n=300, seed=3, iterations=1)
    before, after = result["before"][0]["simulated"], result["after"][0]["simulated"]
    assert after > before
    moved = {(p["state"], p["option"]): (p["before"], p["after"]) for p in result["parameters"]}
    for option in (6, 7, 8, 9):  # adult men and women, to 50 and after: the range of the target
        lo, hi = moved[("Yearly_Asthma_Risk", option)]
        assert hi > lo
    assert moved[("Yearly_Asthma_Risk", 0)][0] == moved[("Yearly_Asthma_Risk", 0)][1]  # under 5: no target, unchanged
    fitted = tmp_path / "lib"
    fitted.mkdir()
    (fitted / "asthma.json").write_text(json.dumps(result["fitted"]))
    assert len(load_modules([fitted])) == 1  # the fitted module still validates


@pytest.mark.slow
def test_the_cli_reports_onset_probabilities_and_re_estimates_module_mortality(tmp_path) -> None:
    curve = tmp_path / "curve.csv"
    curve.write_text("age_lo,age_hi,sex,value\n40,,*,0.06\n")
    runner = CliRunner()
    fit = runner.invoke(main, ["calibrate", "fit", "copd", "--measure", "copd", "--curve", str(curve), "-n", "150",
                               "--iterations", "0", "--report", str(tmp_path / "fit.json")])
    assert fit.exit_code == 0, fit.output
    assert "3 onset probabilities in 'copd'" in fit.output and "Yearly_COPD_Risk[0] -> COPD_Begins" in fit.output
    report = json.loads((tmp_path / "fit.json").read_text())
    assert all(p["before"] == p["after"] for p in report["parameters"])  # iterations 0: nothing changed
    bad = runner.invoke(main, ["calibrate", "fit", "no_such_module", "--measure", "copd"])
    assert bad.exit_code == 2 and "no module 'no_such_module'" in bad.output
    out = tmp_path / "mm.json"
    mortality = runner.invoke(main, ["calibrate", "mortality", "-n", "100", "--out", str(out)])
    assert mortality.exit_code == 0, mortality.output
    doc = json.loads(out.read_text())
    assert doc["persons"] == 100 and "heart_failure" in doc["modules"]
    assert len(doc["person_years"]["F"]) == doc["ages"]
