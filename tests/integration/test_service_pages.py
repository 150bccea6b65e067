"""The service's web pages through Starlette's TestClient over ``create_app``: each page renders, sign-in and
sign-out, 401 -> /login, scopes, escaping of what users type, paths kept under the data root, and the jobs the
pages start (generate, export and its download, calibrate and its report, a molecule grid, cancel).
"""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")

from fastapi.testclient import TestClient

from hygeia.service import ServiceSettings, create_app
from hygeia.service._auth import COOKIE, create_token

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CN1CCC[C@H]1c1cccnc1"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An app over a data root with one run (8 persons) and a read and a write token."""
    from hygeia.population import generate

    root = tmp_path_factory.mktemp("data")
    generate(n=8, seed=5, out=str(root / "runs" / "demo"), workers=1)
    app = create_app(ServiceSettings(data_root=root))
    tokens = {s: create_token(app.state.store, f"user-{s}", s) for s in ("read", "write")}
    with TestClient(app) as client:
        yield app, client, tokens, root


def _as(client: TestClient, token: str | None) -> TestClient:
    client.cookies.clear()
    if token:
        client.cookies.set(COOKIE, token)
    return client


def test_without_a_token_every_page_redirects_to_login(site) -> None:
    app, client, _, _ = site
    c = _as(client, None)
    for path in ("/", "/runs", "/runs/demo", "/runs/demo/persons/1", "/jobs", "/reports", "/molecules", "/tutor/"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=" + quote(path, safe="/"), path
    r = c.post("/runs", data={"name": "x", "n": "3"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert app.state.store.list(kind="generate") == []
    page = c.get("/login?next=/runs/demo")
    assert page.status_code == 200 and 'name="token"' in page.text and 'value="/runs/demo"' in page.text
    assert "not accepted" not in page.text
    _as(client, "hyg_wrong")
    r = c.get("/runs", follow_redirects=True)
    assert r.url.path == "/login" and "not accepted" in r.text  # a stale or wrong cookie is said so


def test_login_sets_an_httponly_strict_cookie_and_logout_clears_it(site) -> None:
    _, client, tokens, _ = site
    c = _as(client, None)
    assert "Paste a token" in c.post("/login", data={"token": "  ", "next": "/"}).text
    r = c.post("/login", data={"token": tokens["read"], "next": "/runs/demo"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/runs/demo"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={tokens['read']};") and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower() and "Path=/" in cookie
    r = c.post("/login", data={"token": tokens["read"], "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/"  # only this site's own pages
    _as(client, tokens["read"])
    assert "user-read" in c.get("/").text
    r = c.post("/logout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert re.search(rf'{COOKIE}=""?;.*Max-Age=0', r.headers["set-cookie"])


def test_every_page_renders(site) -> None:
    _, client, tokens, _ = site
    c = _as(client, tokens["write"])
    home = c.get("/")
    assert home.status_code == 200 and 'id="generate-form"' in home.text and "/runs/demo" in home.text
    for path, needle in (("/runs", "demo"), ("/jobs", "Jobs"), ("/reports", "calibrate-form"),
                         ("/molecules", "sample-form")):
        r = c.get(path)
        assert r.status_code == 200 and needle in r.text, path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"] and r.headers["cache-control"] == \
            "no-store"
        assert "<script src" not in r.text and "<link" not in r.text and "http://" not in r.text.replace(
            'xmlns="http://www.w3.org/2000/svg"', "")  # nothing loads from elsewhere
    run = c.get("/runs/demo")
    assert run.status_code == 200
    assert re.search(r"<b>8</b>persons", run.text) and "<svg" in run.text and 'id="top-conditions"' in run.text
    assert run.text.count('href="/runs/demo/persons/') >= 8 and 'id="export-form"' in run.text
    found = c.get("/runs/demo", params={"q": "1"})
    assert "· 1 persons" in found.text
    assert c.get("/runs/nope").status_code == 404 and c.get("/jobs/nope").status_code == 404


def test_a_patient_page_shows_timeline_notes_and_images(site) -> None:
    from hygeia.core.storage import connect

    _, client, tokens, root = site
    c = _as(client, tokens["read"])
    con = connect(root / "runs" / "demo")
    imaged = [r[0] for r in con.execute("SELECT DISTINCT subject_id FROM events WHERE kind = 'imaging' ORDER BY 1")
              .fetchall()]
    everyone = [r[0] for r in con.execute("SELECT subject_id FROM persons ORDER BY 1").fetchall()]
    con.close()
    sid = imaged[0] if imaged else everyone[0]
    page = c.get(f"/runs/demo/persons/{sid}")
    assert page.status_code == 200
    assert 'id="timeline"' in page.text and 'id="demographics"' in page.text
    assert page.text.count('class="note-text"') >= 1  # notes written from the record
    if imaged:
        src = re.search(rf'src="(/runs/demo/persons/{sid}/images/[^"]+\.png)"', page.text).group(1)
        png = c.get(src)
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert (root / "cache" / "pages" / "demo" / str(sid)).is_dir()  # kept for the next view
    others = [s for s in everyone if s not in imaged]
    if others:
        assert "No imaging studies" in c.get(f"/runs/demo/persons/{others[0]}").text
    assert "rendered for this page" in page.text or not imaged
    kind = c.get(f"/runs/demo/persons/{sid}", params={"kind": "condition"})
    assert '<span class="kind">encounter</span>' not in kind.text and '<span class="kind">condition</span>' in kind.text
    assert c.get("/runs/demo/persons/999999").status_code == 404


def test_a_patient_page_shows_the_runs_own_images(site) -> None:
    """Where the run has rendered images (hygeia images link), the page shows those DICOM series."""
    import shutil

    from hygeia.core.storage import connect
    from hygeia.imaging import render_run_images

    _, client, tokens, root = site
    run = root / "runs" / "imaged"
    shutil.copytree(root / "runs" / "demo", run)
    con = connect(run)
    sid = con.execute("SELECT subject_id FROM events WHERE kind = 'imaging' GROUP BY 1 ORDER BY count(*), 1 "
                      "LIMIT 1").fetchone()[0]
    con.close()
    render_run_images(run, size=48)
    c = _as(client, tokens["read"])
    page = c.get(f"/runs/imaged/persons/{sid}")
    assert "rendered with the run" in page.text and "rendered for this page" not in page.text
    src = re.search(rf'src="(/runs/imaged/persons/{sid}/images/[^"]+\.png)"', page.text).group(1)
    png = c.get(src)
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.rmtree(root / "cache" / "pages" / "imaged")  # a series that cannot be read says so in its place
    shutil.rmtree(run / "images" / str(sid))
    broken = c.get(src)
    assert broken.status_code == 500 and broken.headers["content-type"].startswith("image/svg+xml")
    assert "could not be made" in broken.text


def test_user_text_is_escaped(site) -> None:
    _, client, tokens, _ = site
    c = _as(client, tokens["write"])
    evil = '<script>alert("x")</script>'
    r = c.get("/runs/demo", params={"q": evil, "condition": evil})
    assert r.status_code == 200 and evil not in r.text and "&lt;script&gt;alert(&quot;x&quot;)" in r.text
    r = c.get("/login", params={"next": '/"><img src=x onerror=alert(1)>'})
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text
    r = c.post("/runs", data={"name": "<b>bold</b>", "n": "3"})
    assert r.status_code == 400 and "<b>bold</b>" not in r.text and "&lt;b&gt;bold&lt;/b&gt;" in r.text
    r = c.get("/jobs", params={"kind": evil})
    assert evil not in r.text


def test_write_actions_need_the_write_scope(site) -> None:
    app, client, tokens, _ = site
    c = _as(client, tokens["read"])
    for path, data in (("/runs", {"name": "x", "n": "3"}), ("/runs/demo/export", {"fmt": "csv"}),
                       ("/reports/calibrate", {"run": "demo"}), ("/molecules/sample", {"n": "3"})):
        r = c.post(path, data=data)
        assert r.status_code == 403 and "write" in r.text, path
    assert app.state.store.list() == []
    for path in ("/", "/runs/demo", "/reports", "/molecules"):  # the forms are not offered to a reader
        page = c.get(path).text
        assert "read-only" in page and "<form method=\"post\" action=\"/runs" not in page, path


def test_the_tutor_is_behind_the_same_login(site) -> None:
    """The forwarding of /tutor/ (its links, redirects and scopes), over a small app in the tutor's place."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, RedirectResponse
    from starlette.routing import Route

    async def home(request):
        return HTMLResponse('<html><body><a href="/s/1">session</a><form action="/cases" method="post"></form>'
                            '<img src="/s/1/image/x"><a href="https://example.org/">out</a></body></html>')

    async def new_case(request):
        return RedirectResponse("/?made=case-1", status_code=303)

    app, client, tokens, _ = site
    app.state.pages_tutor_app = Starlette(routes=[Route("/", home), Route("/cases", new_case, methods=["POST"])])
    try:
        c = _as(client, tokens["read"])
        page = c.get("/tutor/")
        assert page.status_code == 200
        assert 'href="/tutor/s/1"' in page.text and 'action="/tutor/cases"' in page.text
        assert 'src="/tutor/s/1/image/x"' in page.text and 'href="https://example.org/"' in page.text
        assert "back-to-hygeia" in page.text and "user-read" in page.text
        assert c.post("/tutor/cases").status_code == 403  # posting needs write
        c = _as(client, tokens["write"])
        r = c.post("/tutor/cases", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/tutor/?made=case-1"
        assert c.get("/tutor", follow_redirects=False).headers["location"] == "/tutor/"
    finally:
        del app.state.pages_tutor_app


def test_jobs_from_the_pages(site) -> None:
    """Export (download a file and the zip), calibrate (its report), score molecules (the grid); a generation
    from the form is watched in test_service_chromium."""
    app, client, tokens, root = site
    runner = app.state.runner
    c = _as(client, tokens["write"])
    (root / "uploads").mkdir(exist_ok=True)
    (root / "uploads" / "mols.smi").write_text("\n".join(SMILES) + "\n")
    exp = c.post("/runs/demo/export", data={"fmt": "fhir"}, follow_redirects=False)
    exp_id = exp.headers["location"].rsplit("/", 1)[1]
    cal = c.post("/reports/calibrate", data={"run": "demo"}, follow_redirects=False)
    cal_id = cal.headers["location"].rsplit("/", 1)[1]
    mol = runner.submit("molecules-score", {"data": "uploads/mols.smi", "config": "druglike"}, "user-write")
    for job_id in (exp_id, cal_id, mol.id):
        job = runner.wait(job_id, timeout=180)
        assert job.status == "succeeded", (job.kind, job.message, runner.store.logs(job_id)[-5:])

    page = c.get(f"/jobs/{exp_id}")
    links = re.findall(rf'href="(/jobs/{exp_id}/files/[^"]+)"', page.text)
    bundle = c.get(next(h for h in links if h.endswith(".json")))
    assert bundle.status_code == 200 and "attachment" in bundle.headers["content-disposition"]
    assert bundle.json()["resourceType"] == "Bundle"
    zipped = c.get(next(h for h in links if h.endswith("/fhir")))
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
        assert len([n for n in z.namelist() if n.endswith(".json")]) == 8
    for bad in (f"/jobs/{exp_id}/files/%2E%2E/%2E%2E/service.db", f"/jobs/{exp_id}/files/runs/demo/run.json",
                f"/jobs/{exp_id}/files/jobs/{cal_id}/calibration/calibration.json"):
        assert c.get(bad).status_code == 404, bad  # only the job's own files

    reports = c.get("/reports").text
    link = re.search(rf'href="(/jobs/{cal_id}/view/[^"]+\.html)"', reports).group(1)
    report = c.get(link)
    assert report.status_code == 200 and 'id="back-to-job"' in report.text and "default-src 'none'" in \
        report.headers["content-security-policy"]

    grid = c.get(f"/molecules/{mol.id}")
    assert grid.status_code == 200 and grid.text.count("<svg") == len(SMILES)
    assert grid.text.count('class="mol"') == len(SMILES) and "qed" in grid.text.lower()
    assert "/live" not in c.get(f"/jobs/{exp_id}").text  # a finished job's page does not poll


def test_the_generation_form_queues_a_job_that_can_be_cancelled(tmp_path) -> None:
    app = create_app(ServiceSettings(data_root=tmp_path, job_workers=0))  # jobs stay queued
    token = create_token(app.state.store, "ana", "write")
    client = TestClient(app)
    client.cookies.set(COOKIE, token)
    form = {"name": "later", "n": "5", "seed": "2", "end": "2020-01-01", "images": "1", "formats": ["csv", "fhir"]}
    r = client.post("/runs", data=form, follow_redirects=False)
    job_url = r.headers["location"]
    (job,) = app.state.store.list(kind="generate")
    assert job_url == f"/jobs/{job.id}" and job.owner == "ana"
    assert job.params == {"name": "later", "n": 5, "seed": 2, "end": "2020-01-01", "images": True,
                          "formats": ["csv", "fhir"]}
    page = client.get(job_url)
    assert "queued" in page.text and 'id="cancel"' in page.text and f"/jobs/{job.id}/live" not in page.text
    assert "location.pathname" in page.text  # the poller
    assert 'id="live"' in client.get(job_url + "/live").text
    after = client.post(job_url + "/cancel")
    assert after.status_code == 200 and "cancelled" in after.text and 'id="cancel"' not in after.text


def test_the_run_and_patient_forms_queue_the_library_commands(tmp_path) -> None:
    """Render a run's images, write its notes, make a tutor case from a patient: the jobs and their params."""
    from hygeia.population import generate

    generate(n=2, seed=1, out=str(tmp_path / "runs" / "mini"), workers=1)
    app = create_app(ServiceSettings(data_root=tmp_path, job_workers=0))  # jobs stay queued
    client = TestClient(app)
    client.cookies.set(COOKIE, create_token(app.state.store, "ana", "write"))
    run_page, person_page = client.get("/runs/mini").text, client.get("/runs/mini/persons/1").text
    assert 'id="images-form"' in run_page and 'id="notes-form"' in run_page
    assert 'id="tutor-case-form"' in person_page
    for path, data in (("/runs/mini/images", {}), ("/runs/mini/notes", {}),
                       ("/runs/mini/persons/1/tutor-case", {"disease": "ORPHA:558", "seed": "4"})):
        r = client.post(path, data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/jobs/"), (path, r.text[:500])
    jobs = {j.kind: j.params for j in app.state.store.list()}
    assert jobs["images-link"] == {"run": "mini"} and jobs["notes-write"] == {"run": "mini"}
    assert jobs["tutor-case"] == {"disease": "ORPHA:558", "from_run": "mini", "subject": 1, "seed": 4}
    r = client.post("/runs/mini/persons/1/tutor-case", data={"disease": "ORPHA:558", "seed": "x<b>"})
    assert r.status_code == 400 and "x<b>" not in r.text  # the command's own words, escaped
