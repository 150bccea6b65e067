"""``hygeia twin simulate`` end to end: a generated patient, two plans, the folder and its page in Chromium."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from _chromium import FLAGS, png_pixels
from _chromium import chromium as find_chromium
from click.testing import CliRunner

from hygeia.cli.main import main
from hygeia.core.storage import connect
from hygeia.population import generate

ROOT = Path(__file__).resolve().parents[2]
PLANS = [str(ROOT / "examples" / "twin" / f"bp_{name}.toml") for name in ("continue", "intensify")]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("twinrun") / "run"
    generate(n=60, seed=3, out=str(out))
    subject = connect(out).execute("SELECT subject_id FROM events WHERE code = '8480-6' GROUP BY 1 "
                                   "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    return out, int(subject)


@pytest.fixture(scope="module")
def simulated(run, tmp_path_factory):
    path, subject = run
    out = tmp_path_factory.mktemp("twinout") / "twin"
    args = ["twin", "simulate", str(path), "--subject", str(subject), "--plan", PLANS[0], "--plan", PLANS[1],
            "--out", str(out), "-n", "60", "--seed", "4"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, subject, result.output


def test_simulate_writes_the_folder_and_summarises(simulated):
    out, subject, output = simulated
    assert f"subject {subject}" in output and "posterior: calibrated to" in output and "seed" in output
    data = json.loads((out / "twin.json").read_text())
    assert data["made_by"]["backend"] == "bp" and data["made_by"]["seed"] == 4 and data["made_by"]["calibrated"]
    assert [p["name"] for p in data["plans"]] == ["continue", "intensify"]
    assert data["subject_id"] == subject and "readings" in data["taken_from_record"]
    assert {d["output"] for d in data["differences"]} == {"sbp", "dbp", "sbp_reading", "dbp_reading"}
    csv = (out / "trajectories.csv").read_text().splitlines()
    assert csv[0] == "plan,output,unit,time_h,q05,q25,median,q75,q95" and len(csv) > 100


def test_same_seed_same_simulation(run, simulated, tmp_path):
    path, subject = run
    out = tmp_path / "again"
    result = CliRunner().invoke(main, ["twin", "simulate", str(path), "--subject", str(subject), "--plan", PLANS[0],
                                       "--plan", PLANS[1], "--out", str(out), "-n", "60", "--seed", "4", "-q"])
    assert result.exit_code == 0 and result.output == ""
    assert (out / "trajectories.csv").read_bytes() == (simulated[0] / "trajectories.csv").read_bytes()


def test_errors_speak_the_cli(run, tmp_path):
    path, subject = run
    bad = tmp_path / "bad.toml"
    bad.write_text('backend = "bp"\n[[dose]]\ndrug = "aspirin"\namount = -5\n')
    cases = [
        (["--subject", str(subject), "--plan", str(bad)], ["unknown drug 'aspirin'", "amount -5.0 is negative"]),
        (["--subject", "999999", "--plan", PLANS[0]], ["no person with subject id 999999"]),
        (["--subject", str(subject), "--plan", str(tmp_path / "none.toml")], ["does not exist"]),
        (["--subject", str(subject), "--plan", PLANS[0], "--backend", "nope"], ["no simulator 'nope'"]),
        (["--subject", str(subject), "--plan", PLANS[0], "-n", "0"], ["-n 200"]),
    ]
    for extra, expected in cases:
        out = tmp_path / "o"
        result = CliRunner().invoke(main, ["twin", "simulate", str(path), *extra, "--out", str(out)])
        assert result.exit_code == 2, result.output
        for text in expected:
            assert text in result.output, (text, result.output)
        assert not out.exists()


@pytest.mark.slow
def test_the_report_renders_in_chromium(simulated, tmp_path):
    out = simulated[0]
    chromium = find_chromium()
    html = (out / "report.html").resolve()
    proc = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", html.as_uri()],
                          check=False, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dom = proc.stdout
    assert dom.count("<svg") == 4 and "Differences between plans (paired)" in dom and "<h2>Safety</h2>" in dom
    png = tmp_path / "page.png"
    shot = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
                           "--window-size=1000,1600", html.as_uri()], check=False, capture_output=True, text=True,
                          timeout=180)
    assert shot.returncode == 0 and png.is_file(), shot.stderr[-3000:]
    _, _, colours = png_pixels(png)
    assert any(p[2] > 150 and p[0] < 80 for p in colours), "no blue plan drawn"
    assert any(p[0] > 200 and 100 < p[1] < 150 and p[2] < 60 for p in colours), "no orange plan drawn"
