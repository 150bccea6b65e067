"""The service's Must-show in headless Chromium: sign in, start a run, watch it finish, open a patient, export FHIR,
download it.

``hygeia serve`` runs in a subprocess on a free port of 127.0.0.1 over a fresh data root, with a write
token made by ``hygeia serve --create-token``. Chromium (driven over its DevTools websocket,
``_cdp.Browser``) is sent to ``/`` and lands on the sign-in page; it pastes the token, fills the
dashboard's generation form (30 persons), watches the job page's progress (its inline script polls the
server every second) until the run is done, opens the run, opens a patient with imaging studies (the
timeline, the notes written from the record, the rendered images), starts a FHIR export from the run
page, waits for that job, and downloads one Bundle through the browser's own download (the cookie is
HttpOnly, so only the browser can fetch it). The downloaded file is checked as an R4 transaction
Bundle of that patient (the zip of a whole export is checked in test_service_pages). Each step's
screenshot is saved to ``$HYGEIA_SHOTS`` (default: the test's temporary folder) and checked for the
header's colour.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # about 25 s on 2 shared cores: the server's start, two jobs, Chromium

pytest.importorskip("uvicorn")
pytest.importorskip("websocket")

from _cdp import Browser
from _chromium import png_pixels
from _servers import HYGEIA, Server

N = 30
SEED = 3


def _server(root: Path, log: Path) -> tuple[Server, str]:
    """``hygeia serve`` over ``root`` on a free port, and a write token made by ``--create-token``."""
    made = subprocess.run([*HYGEIA, "serve", "--data-root", str(root), "--create-token", "e2e", "--scope", "write"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    server = Server([*HYGEIA, "serve", "--data-root", str(root), "--port", "{port}"], log=log,
                    ready="/api/v1/health")
    return server, made.stdout.split()[0]


@pytest.fixture
def served(tmp_path):
    server, token = _server(tmp_path / "data", tmp_path / "server.log")
    try:
        browser = Browser(tmp_path / "profile", width=1280, height=900, timeout=60)
    except BaseException:
        server.stop()
        raise
    try:
        yield server, token, browser, tmp_path
    finally:
        browser.close()
        server.stop()


def _wait_for(b: Browser, expression: str, timeout: float = 90.0) -> None:
    """Wait until ``expression`` is true in the page (the page's own script updates it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if b.js(expression):
                return
        except RuntimeError:  # the page was reloading
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {expression} on {b.js('location.href')}:\n" \
                                            f"{b.text()[:2000]}"
        time.sleep(0.25)


def _shot(b: Browser, folder: Path, name: str, *, check: bool = False) -> Path:
    """Save the whole page as ``folder/name``; with ``check``, look for the header's colour in it."""
    path = folder / name
    path.write_bytes(b.screenshot())
    if check:  # png_pixels is pure Python: one page is enough
        width, _, colours = png_pixels(path)
        assert width >= 1200
        assert any(abs(p[0] - 0x0F) < 8 and abs(p[1] - 0x6C) < 8 and abs(p[2] - 0x7A) < 8 for p in colours), \
            f"{name}: no header colour"
    return path


def _images_loaded(b: Browser) -> int:
    """Wait for the page's images; the number that loaded with a picture."""
    return b.js("Promise.all([...document.images].map(i=>i.complete?0:new Promise(r=>{i.onload=i.onerror=r})))"
                ".then(()=>[...document.images].filter(i=>i.naturalWidth>=64).length)")


def test_run_watch_patient_export_download_in_chromium(served) -> None:
    server, token, b, tmp = served
    shots = Path(os.environ.get("HYGEIA_SHOTS") or tmp / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    url = server.url

    # not signed in: the dashboard sends the browser to the sign-in page
    b.goto(url + "/")
    assert b.js("location.pathname") == "/login"
    b.fill("#token", "hyg_not-a-token")
    b.click("#login-form button")
    assert b.js("location.pathname") == "/login" and "not accepted" in b.text(".error")
    b.fill("#token", token)
    assert b.click("#login-form button") == url + "/"
    assert "e2e" in b.text("header") and b.js("document.cookie") == ""  # the token cookie is HttpOnly
    _shot(b, shots, "01-dashboard.png", check=True)

    # start a run from the form, watch its job page until the run is done
    b.fill("#g-name", "e2e")
    b.fill("#g-n", str(N))
    b.fill("#g-seed", str(SEED))
    job_url = b.click("#generate")
    assert "/jobs/" in job_url
    assert b.js("document.querySelector('#live').dataset.status") in ("queued", "running", "succeeded")
    _shot(b, shots, "02-job-running.png")
    _wait_for(b, "!!document.querySelector('#open-run')")  # the page's poller reloads it when the job ends
    assert "succeeded" in b.text("#status") and f"Made {N} persons" in b.text("#summary")
    assert "generating" in b.text("#log")
    _shot(b, shots, "03-job-done.png")

    # the run: counts, pyramid, conditions, persons
    b.click("#open-run")
    assert b.js("location.pathname") == "/runs/e2e"
    assert b.text("#stats").split()[0] == str(N)
    assert b.js("document.querySelectorAll('svg rect').length") >= 2  # the pyramid's bars
    assert b.js("document.querySelectorAll('#top-conditions tbody tr').length") >= 3
    assert b.js("document.querySelectorAll('#persons tbody tr').length") == 25  # the first page
    _shot(b, shots, "04-run.png")

    # a patient with imaging studies: timeline, notes, images side by side
    from hygeia.core.storage import connect

    con = connect(tmp / "data" / "runs" / "e2e")
    sid = con.execute("SELECT subject_id FROM events WHERE kind = 'imaging' GROUP BY 1 ORDER BY count(*), 1 "
                      "LIMIT 1").fetchone()[0]
    con.close()
    b.fill("#p-q", str(sid))
    b.click("#person-search button")
    b.click(f'#persons a[href="/runs/e2e/persons/{sid}"]')
    assert b.js("document.querySelectorAll('#timeline tbody tr').length") > 10
    assert "Subject id" in b.text("#demographics") and str(sid) in b.text("#demographics")
    assert b.js("document.querySelectorAll('#notes .note-text').length") >= 1
    assert "Radiology Report" in b.text("#notes")  # the default encounter is one with an imaging study
    assert _images_loaded(b) >= 1, "no image of the patient's imaging studies loaded"
    _shot(b, shots, "05-patient.png")

    # export the run to FHIR from the run page; download one Bundle through the browser
    b.goto(url + "/runs/e2e")
    b.js("document.querySelector('#x-format').value = 'fhir'")
    assert "/jobs/" in b.click("#export")
    _wait_for(b, "!!document.querySelector('#files')")
    assert "succeeded" in b.text("#status")
    _shot(b, shots, "06-export-done.png")
    downloads = tmp / "downloads"
    downloads.mkdir()
    b.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
    name = f"patient-{sid}.json"
    b.js(f"document.querySelector('#files a[href$=\"/{name}\"]').click()")
    deadline = time.monotonic() + 30
    while not (downloads / name).is_file():
        assert time.monotonic() < deadline, f"the download did not arrive: {sorted(os.listdir(downloads))}"
        time.sleep(0.1)
    bundle = json.loads((downloads / name).read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Encounter", "Condition", "Observation", "ImagingStudy"} <= kinds
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert any(i.get("value") == str(sid) for i in patient.get("identifier", []))

    # sign out: the pages send the browser back to the sign-in page
    b.click("#logout")
    assert b.js("location.pathname") == "/login"
    b.goto(url + "/runs/e2e")
    assert b.js("location.pathname") == "/login"
