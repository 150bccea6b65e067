"""report.html renders in headless Chromium: every section is present, the plots draw.

Chromium comes from Debian (``scripts/ensure-chromium.sh`` installs it when missing).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

import hygeia.evaluate as evaluate_pkg  # noqa: E402
from hygeia.evaluate.report import SECTIONS, run_evaluation  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "ensure-chromium.sh")], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"could not install chromium:\n{proc.stderr[-3000:]}"
    return proc.stdout.strip().splitlines()[-1]


def _fake_evaluate_tables(real, synthetic, *, holdout=None, seed=0, **_):
    cols = ["age", "heart_rate"]
    return {
        "fidelity": {"overall": 0.85, "detection_auc": 0.6, "marginals": {
            "age": {"edges": [0, 25, 50, 75, 100], "real": [0.1, 0.4, 0.3, 0.2], "synthetic": [0.2, 0.3, 0.3, 0.2]},
            "sex": {"categories": ["F", "M"], "real": [0.5, 0.5], "synthetic": [0.6, 0.4]}},
            "correlation": {"columns": cols, "real": [[1, 0.3], [0.3, 1]], "synthetic": [[1, 0.1], [0.1, 1]]}},
        "utility": {"tstr_auc": 0.7},
        "privacy": {"exact_copy_rate": 0.0, "mia_auc": 0.5,
                    "dcr": {"synthetic_to_train": [0.1, 0.2, 0.4], "synthetic_to_holdout": [0.2, 0.3, 0.5]}},
        "fairness": {"subgroups": [
            {"column": "sex", "group": g, "real_share": 0.5, "synthetic_share": s, "real_rate": 0.2,
             "synthetic_rate": 0.3, "utility_gap": 0.0} for g, s in (("F", 0.6), ("M", 0.4))]},
        "meta": {"seed": seed},
    }


def _png_pixels(path: Path) -> tuple[int, int, set[bytes]]:
    """Width, height and a sample of distinct pixels of an 8-bit RGB(A) PNG (no Pillow needed)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    seen: set[bytes] = set()
    prev = bytearray(stride)
    for y in range(height):  # undo the PNG row filters
        f = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa_, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa_ <= pb and pa_ <= pc else b if pb <= pc else c)) & 255
        if y % 8 == 0:
            seen.update(bytes(row[x:x + 3]) for x in range(0, stride, bpp * 4))
        prev = row
    return width, height, seen


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path, monkeypatch) -> None:
    chromium = _chromium()
    monkeypatch.setattr(evaluate_pkg, "evaluate_tables", _fake_evaluate_tables, raising=False)
    frame = pd.DataFrame({"age": [30, 40, 50, 60] * 5, "sex": ["F", "M"] * 10,
                          "heart_rate": [60, 70, 80, 400] * 5})
    frame.to_csv(tmp_path / "real.csv", index=False)
    frame.to_csv(tmp_path / "syn.csv", index=False)
    run_evaluation(str(tmp_path / "real.csv"), str(tmp_path / "syn.csv"), out=tmp_path / "report")
    html = (tmp_path / "report" / "report.html").resolve()

    base = [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-3000:]
    for s in SECTIONS:
        assert f'<section id="{s}">' in dom.stdout, f"section {s!r} missing from the rendered DOM"
    for plot_id in ("fidelity-marginals", "fidelity-correlation", "privacy-dcr", "fairness-subgroups",
                    "plausibility-rates"):
        assert f'id="{plot_id}"' in dom.stdout and "<svg" in dom.stdout.split(f'id="{plot_id}"', 1)[1][:400]
    assert dom.stdout.count("<svg") >= 7

    png = tmp_path / "report.png"
    shot = subprocess.run([*base, f"--screenshot={png}", "--window-size=1280,4000", html.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert shot.returncode == 0 and png.is_file(), shot.stderr[-3000:]
    assert png.stat().st_size > 20_000
    width, height, colours = _png_pixels(png)
    assert (width, height) == (1280, 4000)
    assert len(colours) > 20, "the screenshot looks blank"
    assert any(p[2] > 150 and p[0] < 100 for p in colours), "no blue (real-data) bars were drawn"
