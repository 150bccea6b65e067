"""The report that ``hygeia molecules optimize`` writes renders in headless Chromium and explains the run.

A small graph-GA run (100 oracle calls, seed 1) on celecoxib rediscovery: the
summary says the objective in words, the curve is drawn, every grid molecule
has its SMILES and its alerts, and the alert banner names the flagged top
molecules. Chromium comes from Debian (``scripts/ensure-chromium.sh``).
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from _chromium import FLAGS
from _chromium import chromium as find_chromium

pytest.importorskip("rdkit")
pytest.importorskip("torch")

from hygeia.cli.main import main
from hygeia.molecules.report import write_report

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mol") / "run"
    result = CliRunner().invoke(main, ["molecules", "optimize", "--objective", "celecoxib_rediscovery", "--method",
                                       "graph_ga", "--budget", "100", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_optimize_report_renders_summary_curve_and_flagged_grid(run: Path, tmp_path: Path) -> None:
    html_path = (run / "report.html").resolve()
    proc = subprocess.run([find_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           html_path.as_uri()], capture_output=True, text=True, check=False, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dom = proc.stdout
    summary = dom.split('id="summary"', 1)[1].split("</table>", 1)[0]
    assert "ECFP4 similarity to celecoxib" in summary  # the objective in words, not a JSON dump
    assert "graph genetic algorithm" in summary and "100 oracle calls" in summary
    assert "stopped because the oracle-call budget was spent" in summary
    run_json = json.loads((run / "run.json").read_text())
    assert f"{run_json['metrics']['top1']:.3f}" in summary
    curve = dom.split('id="score-curve"', 1)[1].split("</svg>", 1)[0]
    assert curve.count("<polyline") == 2 and "best so far" in curve and "mean of the 10 best so far" in curve
    grid = dom.split('id="molecule-grid"', 1)[1]
    cards = re.findall(r'<figure class="mol( flagged)?">(.*?)</figure>', grid, flags=re.DOTALL)
    assert len(cards) == 20
    top = [line.split(",")[1] for line in (run / "molecules.csv").read_text().splitlines()[1:]]
    for flagged, card in cards:
        smiles = html.unescape(re.search(r'<code class="smiles">(.*?)</code>', card).group(1))
        assert smiles in top  # a SMILES that the run scored
        assert "<svg" in card  # its drawing
        assert ('class="alert"' in card) == bool(flagged) and (("no PAINS/Brenk alert" in card) != bool(flagged))
    n_flagged_top10 = sum(1 for flagged, _ in cards[:10] if flagged)
    if n_flagged_top10:
        banner = dom.split('id="alert-banner"', 1)[1].split("</aside>", 1)[0]
        assert f"{n_flagged_top10} of the top 10 molecules raise PAINS or Brenk" in banner
    else:
        assert 'id="alert-banner"' not in dom

    png = tmp_path / "report.png"
    shot = subprocess.run([find_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
                           "--window-size=1280,2400", html_path.as_uri()], capture_output=True, text=True, check=False, timeout=180)
    assert shot.returncode == 0 and png.stat().st_size > 50_000, shot.stderr[-3000:]


def test_banner_names_alerts_and_no_curve_without_history(tmp_path: Path) -> None:
    import pandas as pd

    rhodanine = "O=C1C(=Cc2ccccc2)SC(=S)N1"  # a PAINS rhodanine
    top = pd.DataFrame({"smiles": [rhodanine, "CCO"], "score": [0.9, 0.5]})
    path = write_report(tmp_path / "r.html", title="t", top=top, summary={"method": "graph_ga", "budget": 10})
    text = path.read_text()
    assert "1 of the top 2 molecules raise PAINS or Brenk" in text and "ene_rhod" in text
    assert "No oracle-call history was given" in text
    assert not re.search(r"<script|<link|(?:src|href)=[\"']https?://", text)  # self-contained
