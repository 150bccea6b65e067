"""A report that ``hygeia evaluate`` produced renders in headless Chromium.

Both reports come from the command itself, run on flchain (scikit-survival, test
time only): one with a holdout, one without, whose "not measured" sections must
show their reason. Chromium comes from Debian (``scripts/ensure-chromium.sh``
installs it when missing).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hygeia.cli.evaluate import evaluate_command
from hygeia.evaluate.report import SECTIONS

from _chromium import FLAGS, png_pixels
from _chromium import chromium as find_chromium
from _flchain import flchain, utility_table

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """Two report folders written by ``hygeia evaluate`` on 2,000 flchain training rows."""
    tmp = tmp_path_factory.mktemp("flchain")
    df = utility_table()
    train, holdout = df.iloc[:2000], df.iloc[2000:3000]
    boot = train.sample(len(train), replace=True, random_state=1).reset_index(drop=True)
    for name, frame in (("train", train), ("holdout", holdout), ("synthetic", boot)):
        frame.to_csv(tmp / f"{name}.csv", index=False)
    runner = CliRunner()
    out = {}
    for label, extra in (("with_holdout", ["--holdout", str(tmp / "holdout.csv"), "--quasi-identifiers", "age,sex"]),
                         ("no_holdout", [])):
        result = runner.invoke(evaluate_command, ["--real", str(tmp / "train.csv"), "--synthetic",
                                                  str(tmp / "synthetic.csv"), "--target", "death",
                                                  "--out", str(tmp / label), *extra])
        assert result.exit_code == 0, result.output
        out[label] = tmp / label
    return out


def _dom(chromium: str, html: Path, profile: Path) -> str:
    proc = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", html.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_report_with_holdout_renders_every_section_and_plot(reports, tmp_path) -> None:
    chromium = find_chromium()
    html = (reports["with_holdout"] / "report.html").resolve()
    data = json.loads((reports["with_holdout"] / "report.json").read_text())
    dom = _dom(chromium, html, tmp_path / "profile")
    for s in SECTIONS:
        assert f'<section id="{s}">' in dom, f"section {s!r} missing from the rendered DOM"
    for plot_id in ("fidelity-marginals", "fidelity-correlation", "privacy-dcr", "fairness-subgroups"):
        assert f'id="{plot_id}"' in dom and "<svg" in dom.split(f'id="{plot_id}"', 1)[1][:400]
    for s in ("fidelity", "utility", "privacy", "fairness"):
        table = dom.split(f'id="{s}-headline"', 1)[1].split("</table>", 1)[0]
        assert "What it means" in table and 'class="badge"' in table
    # The numbers on the page are the ones in report.json.
    assert f"{data['utility']['train_real_test_real']:.4g}" in dom.split('id="utility-headline"', 1)[1][:2000]
    assert data["privacy"]["exact_copy_rate"] > 0.3  # a bootstrap of the training rows...
    privacy = dom.split('id="privacy-headline"', 1)[1].split("</table>", 1)[0]
    assert "Exact copies" in privacy and ">poor<" in privacy  # ...is called out
    for caveat in data["caveats"]:
        assert caveat.replace("'", "&#x27;")[:60] in dom or caveat[:60] in dom
    # The summary on top names what was compared and a verdict per section; it precedes the sections.
    summary = dom.split('id="summary"', 1)[1].split("</table>", 1)[0]
    assert "2,000 synthetic rows against 2,000 real training rows and a holdout of 1,000" in summary
    assert dom.index('id="summary"') < dom.index('<section id="fidelity">')
    for s in ("Fidelity", "Utility", "Privacy", "Fairness"):
        assert f">{s}</a>" in summary
    assert "Overall verdict" in summary and ">poor<" in summary  # a bootstrap copy is never "good" overall
    # Every other number is explained too, with the direction that is better.
    privacy_more = dom.split('id="privacy-details"', 1)[1].split("</table>", 1)[0]
    assert "Holdout exact copies" in privacy_more and "lower is better" in privacy_more
    # Heat maps carry a colour scale and column labels; no cell prints a number when cells are small.
    corr = dom.split('id="fidelity-correlation"', 1)[1].split("</div>", 1)[0]
    assert corr.count("Pearson r") == 2 and "difference in r" in corr
    # 0/1 and label columns are bars; the empty violations chart is a sentence instead.
    assert 'id="plausibility-rates"' in dom
    rates = dom.split('id="plausibility-rates"', 1)[0].rsplit("<", 1)[1]
    assert rates.startswith("p ") and "<svg" not in dom.split('id="plausibility-rates"', 1)[1][:300]
    # The k = 1 warning (age is nearly unique) is in the warnings box.
    assert data["privacy"]["k_anonymity"]["k_synthetic"] == 1
    warnings = dom.split('<aside id="warnings">', 1)[1].split("</aside>", 1)[0]
    assert "k-anonymity is 1" in warnings

    png = tmp_path / "report.png"
    shot = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
                           "--window-size=1280,4000", html.as_uri()], capture_output=True, text=True, timeout=180)
    assert shot.returncode == 0 and png.is_file(), shot.stderr[-3000:]
    width, height, colours = png_pixels(png)
    assert (width, height) == (1280, 4000)
    assert len(colours) > 20, "the screenshot looks blank"
    assert any(p[2] > 150 and p[0] < 100 for p in colours), "no blue (real-data) bars were drawn"


def test_report_without_holdout_shows_why_sections_are_not_measured(reports, tmp_path) -> None:
    data = json.loads((reports["no_holdout"] / "report.json").read_text())
    assert data["utility"]["status"] == "not measured"
    assert data["caveats"][0].startswith("No holdout was given")
    dom = _dom(find_chromium(), (reports["no_holdout"] / "report.html").resolve(), tmp_path / "profile")
    utility = dom.split('id="utility-headline"', 1)[1].split("</table>", 1)[0]
    assert 'class="verdict-not-measured"' in utility and "No holdout was given: every real row was a training" in utility
    privacy = dom.split('id="privacy-headline"', 1)[1].split("</table>", 1)[0]
    assert privacy.count('class="verdict-not-measured"') == 3  # the DCR share, its excess, membership inference
    assert "train_synthetic_test_real" not in json.dumps(data["utility"])
    assert '<aside id="caveats">' in dom
    summary = dom.split('id="summary"', 1)[1].split("</table>", 1)[0]
    assert "with no holdout" in summary
    assert 'class="verdict-not-measured"><th><a href="#utility">Utility</a>' in summary


def test_console_summary_and_leaky_column_warning(tmp_path) -> None:
    """With chapter (cause of death) kept, 'hygeia evaluate' warns that it leaks the target and prints verdicts."""
    df = flchain().sample(1500, random_state=2).reset_index(drop=True)
    train, holdout = df.iloc[:1000], df.iloc[1000:]
    for name, frame in (("train", train), ("holdout", holdout),
                        ("synthetic", train.sample(len(train), replace=True, random_state=3))):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    result = CliRunner().invoke(evaluate_command, [
        "--real", str(tmp_path / "train.csv"), "--synthetic", str(tmp_path / "synthetic.csv"), "--holdout",
        str(tmp_path / "holdout.csv"), "--target", "death", "--seed", "0", "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert "fidelity (overall)" not in result.output
    for line in ("Overall: ", "  Fidelity:", "  Utility:", "  Privacy:"):
        assert line in result.output
    assert "Column 'chapter' alone predicts 'death' with AUC" in result.output
    assert f"Report: {tmp_path / 'report' / 'report.html'}" in result.output
    data = json.loads((tmp_path / "report" / "report.json").read_text())
    kinds = {w["kind"] for w in data["warnings"]}
    assert "leaky_column" in kinds
