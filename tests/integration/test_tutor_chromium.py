"""A whole tutor session played in headless Chromium through the DevTools protocol.

``serve`` runs the app in uvicorn on a free port (a subprocess); Debian's chromium is
driven over its DevTools websocket (``_cdp.Browser``): a case is made from the home page's
form, a session started, questions asked (one the patient cannot make sense of), a system
examined, an imaging test ordered (its rendered image shown), a differential found through the
disease search, an action taken, the session ended, its report opened; then the instructor
view lists the session with its score. The session page's screenshot is checked for the
page's colours and kept beside the test's temporary files.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

pytestmark = pytest.mark.slow  # about 16 s on 2 cores: the server's start (the HPO read) and Chromium's

pytest.importorskip("uvicorn")
pytest.importorskip("websocket")

from _cdp import Browser
from _chromium import png_pixels
from _servers import Server

DISEASE = "ORPHA:666"  # osteogenesis imperfecta: fractures, so the skeletal survey shows a rendered image
SEED = 2


#: ``hygeia.tutor._web.serve`` (uvicorn) over a cases and a sessions folder; ready once ``/`` answers 200.
SERVE = "import sys; from hygeia.tutor._web import serve; serve(sys.argv[1], sys.argv[2], port=int(sys.argv[3]))"


@pytest.fixture
def served(tmp_path):
    server = Server([sys.executable, "-c", SERVE, str(tmp_path / "cases"), str(tmp_path / "sessions"), "{port}"],
                    log=tmp_path / "server.log", ready="/", stop_timeout=15)
    try:
        browser = Browser(tmp_path / "profile", width=1280, height=1000)
    except BaseException:
        server.stop()
        raise
    try:
        yield server.url, browser, tmp_path
    finally:
        browser.close()
        server.stop()


def test_a_whole_session_is_played_in_chromium(served) -> None:
    url, b, tmp = served
    b.goto(url + "/")
    assert "Human Phenotype Ontology" in b.text("#attribution") and "HPO release" in b.text("#hpo-version")

    # a new case from the form
    b.fill("#disease", DISEASE)
    b.fill("#seed", str(SEED))
    assert "made=" in b.click("#new-case button[type=submit]")
    (case_file,) = (tmp / "cases").glob("*.json")
    case = json.loads(case_file.read_text())
    assert case["disease"]["id"] == DISEASE and case["provenance"]["seed"] == SEED
    listed = b.text("#cases")
    assert case_file.stem in listed and case["patient"]["chief_complaint"] in listed
    assert case["disease"]["name"].lower() not in listed.lower(), "the diagnosis must stay hidden from students"

    # a session
    b.fill(f"#student-{case_file.stem}", "Ada")
    session_url = b.click(f'button[name="start"][value="{case_file.stem}"]')
    sid = session_url.rstrip("/").rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{10}", sid)

    # questions: the complaint, a finding the patient has, words that mean nothing
    said = next(f for f in case["findings"] if f["present"] and f["channel"] == "history")
    for q in ("What brings you in today?", f"Have you had {said['name'].lower()}?", "xqzt blorf wibble?"):
        b.fill("#question", q)
        b.click("#ask")
    transcript = b.text("#transcript")
    assert "What brings you in today?" in transcript and "xqzt blorf wibble?" in transcript
    assert b.js("document.querySelectorAll('#transcript .msg.pt').length") == 3
    assert b.js("document.querySelectorAll('#transcript .msg.nomatch').length") == 1  # the patient says so
    assert b.text("#clock") == "3 min"

    # examine the skeleton's system, order the imaging test with a picture
    b.click('#exam-form button[value="musculoskeletal"]')
    assert "Examination" in b.text("#transcript").title()
    imaging = [t for t in case["tests"] if t["image"]]
    test = next((t for t in imaging if t["image"]["finding"]), imaging[0])  # an abnormal picture where there is one
    b.click(f'#order-form button[value="{test["key"]}"]')
    results = b.text("#results")
    assert test["name"] in results and test["result"].split(".")[0] in results
    loaded = b.js("new Promise(r=>{const i=document.querySelector('#results img');"
                  "if(i.complete)r(i.naturalWidth);else i.onload=()=>r(i.naturalWidth)})")
    assert loaded >= 64, "the rendered image did not load"
    assert b.text("#cost") == f"${test['cost']:,.0f}"

    # differential through the disease search
    words = case["disease"]["name"].split()[0]
    b.fill("#ddx-q", words)
    b.click("#ddx-search button")
    assert b.js(f"!!document.querySelector('#ddx-hits input[value=\"{DISEASE}\"]')")
    b.click(f'#ddx-hits form:has(input[value="{DISEASE}"]) button')
    assert case["disease"]["name"] in b.text("#ddx-list")

    # an action, then the screenshot of the page as the student sees it
    first = b.js("document.querySelector('#act-form button').value")
    b.click("#act-form button")
    assert b.js(f"document.querySelector('#act-form button[value=\"{first}\"]')") is None
    png = tmp / "session.png"
    png.write_bytes(b.screenshot())
    width, height, colours = png_pixels(png)
    assert width >= 1200 and height > 900  # the page less its scroll bar
    assert any(abs(p[0] - 0x0F) < 8 and abs(p[1] - 0x6C) < 8 and abs(p[2] - 0x7A) < 8 for p in colours), "no header"
    assert any(p[2] > 230 and p[0] < 230 and p[1] < 240 for p in colours), "no student (blue) bubbles"

    # end: the report
    report_url = b.click("#end")
    assert report_url.endswith(f"/s/{sid}/report")
    report = b.text()
    assert case["disease"]["name"] in report, "the report names the diagnosis"
    assert "Human Phenotype Ontology" in report
    b.goto(url + f"/s/{sid}")
    assert b.js("document.querySelector('#question').disabled") is True

    # the instructor sees the session and its score
    b.goto(url + "/instructor")
    row = b.js(f"[...document.querySelectorAll('#class-sessions tbody tr')].map(r=>r.innerText)"
               f".find(t=>t.includes('{sid}'))")
    assert row and "Ada" in row and "ended" in row and case["disease"]["name"] in row
    assert re.search(r"\b\d{1,3}\b", row.split("Ada", 1)[1])
