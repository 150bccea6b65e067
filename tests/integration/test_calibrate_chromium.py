"""The page ``hygeia calibrate`` writes renders in headless Chromium, plots and all.

Chromium comes from Debian (``scripts/ensure-chromium.sh`` installs it when missing);
the helpers are those of the evaluation report's Chromium test.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from hygeia.cli.main import main
from hygeia.population import generate

from _chromium import FLAGS, png_pixels
from _chromium import chromium as find_chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("calpage")
    generate(n=300, seed=11, out=str(tmp / "run"))
    result = CliRunner().invoke(main, ["calibrate", str(tmp / "run"), "--out", str(tmp / "report"), "-q"])
    assert result.exit_code == 0, result.output
    return tmp / "report"


def test_the_calibration_page_renders_every_section_and_plot(page, tmp_path) -> None:
    chromium = find_chromium()
    html = (page / "calibration.html").resolve()
    data = json.loads((page / "calibration.json").read_text())
    proc = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", html.as_uri()],
                          check=False, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dom = proc.stdout
    for section in ("population", "mortality", "prevalence", "sources"):
        assert f'<section id="{section}">' in dom
    measures = sorted({r["measure"] for r in data["rows"] if r["group"] in ("prevalence", "utilisation")})
    for plot in ["plot-pyramid", "plot-deaths", *(f"plot-{m}" for m in measures)]:
        assert f'id="{plot}"' in dom, plot
    s = data["summary"]
    assert f'pass {s["pass"]}' in dom and f'fail {s["fail"]}' in dom
    table = dom.split('id="table-prevalence"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr") == 1 + sum(r["group"] in ("prevalence", "utilisation") for r in data["rows"])

    png = tmp_path / "page.png"
    shot = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
                           "--window-size=1280,3000", html.as_uri()], check=False, capture_output=True, text=True, timeout=180)
    assert shot.returncode == 0 and png.is_file(), shot.stderr[-3000:]
    width, height, colours = png_pixels(png)
    assert (width, height) == (1280, 3000)
    assert any(p[0] > 200 and 80 < p[1] < 110 and p[2] < 30 for p in colours), "no simulated (orange) bars drawn"
    assert any(p[2] > 150 and p[0] < 60 for p in colours), "no target (blue) outlines drawn"
