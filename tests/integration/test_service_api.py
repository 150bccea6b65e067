"""The REST API end to end with Starlette's TestClient: a real generate job, a person, a FHIR export and its
download; every route refuses a missing or wrong token and a too-low scope; uploads are bounded; paths stay
under the data root; a cancelled job leaves nothing; the audit log says who did what."""

from __future__ import annotations

import doctest
import io
import json
import os
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from hygeia.service import ServiceSettings, _api, _api_jobs, _jobs, create_app
from hygeia.service import app as app_module
from hygeia.service._auth import SCOPES, create_token, require

API = "/api/v1"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    root = tmp_path_factory.mktemp("service")
    app = create_app(ServiceSettings(data_root=root, max_upload_bytes=1000))
    headers = {s: {"Authorization": "Bearer " + create_token(app.state.store, s, s)} for s in SCOPES}
    with TestClient(app) as client:
        yield client, headers


def _wait(client: TestClient, auth: dict[str, str], job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"{API}/jobs/{job_id}", headers=auth).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def test_doctests() -> None:
    for module in (_api, _api_jobs, app_module, _jobs):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_generate_person_export_download(service: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = service
    r = client.post(f"{API}/jobs/generate", json={"n": 20, "seed": 1, "name": "demo"}, headers=h["write"])
    assert r.status_code == 202, r.text
    job = _wait(client, h["read"], r.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["path"] == "runs/demo" and job["result"]["summary"]["persons"] == 20
    assert job["progress"] == 1.0 and job["owner"] == "write"
    logs = client.get(f"{API}/jobs/{job['id']}/logs", headers=h["read"]).json()
    assert any(line.startswith("generating: 20/20 persons (100%)") for line in logs["lines"]), logs
    assert client.get(f"{API}/jobs/{job['id']}/logs", params={"after": logs["next"]}, headers=h["read"]).json()[
        "lines"] == []

    runs = client.get(f"{API}/runs", headers=h["read"]).json()
    assert [(r["name"], r["persons"], r["seed"]) for r in runs] == [("demo", 20, 1)]
    summary = client.get(f"{API}/runs/demo", headers=h["read"]).json()
    assert summary["persons"] == 20 and summary["path"] == "runs/demo" and summary["events"] > 0
    page = client.get(f"{API}/runs/demo/persons", params={"limit": 5, "offset": 2}, headers=h["read"]).json()
    assert page["total"] == 20 and len(page["persons"]) == 5
    subject = page["persons"][0]["subject_id"]
    record = client.get(f"{API}/runs/demo/persons/{subject}", headers=h["read"]).json()
    assert record["person"]["subject_id"] == subject and record["events"]
    assert all(e["subject_id"] == subject for e in record["events"])
    from hygeia.core.storage import read_person

    person, events = read_person(client.app.state.settings.data_root / "runs" / "demo", subject)
    assert len(record["events"]) == len(events) and record["person"]["birth_time"] == person["birth_time"].isoformat()
    assert [e["code"] for e in record["events"]] == events["code"].tolist()
    times = [e["time"] for e in record["events"]]
    assert times == sorted(times) and isinstance(times[0], str)
    assert client.get(f"{API}/runs/demo/persons/999999999", headers=h["read"]).status_code == 404
    assert client.get(f"{API}/runs/nope", headers=h["read"]).status_code == 404

    r = client.post(f"{API}/jobs/export", json={"run": "demo", "fmt": "fhir"}, headers=h["write"])
    assert r.status_code == 202, r.text
    export = _wait(client, h["read"], r.json()["id"])
    assert export["status"] == "succeeded", export
    assert export["result"]["path"] == f"jobs/{export['id']}/fhir" and len(export["result"]["files"]) == 20
    one = client.get(f"{API}/files/{export['result']['files'][0]}", headers=h["read"])
    assert one.status_code == 200 and json.loads(one.content)["resourceType"] == "Bundle"
    zipped = client.get(f"{API}/files/{export['result']['path']}", headers=h["read"])
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert len(names) == 20 and all(n.startswith("fhir/") and n.endswith(".json") for n in names)

    audit = client.get(f"{API}/audit", headers=h["admin"]).json()
    assert {(e["who"], e["method"], e["path"], e["status"], e["job_id"]) for e in audit} >= {
        ("write", "POST", f"{API}/jobs/generate", 202, job["id"]),
        ("write", "POST", f"{API}/jobs/export", 202, export["id"]),
        ("read", "GET", f"{API}/files/{export['result']['path']}", 200, None)}


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "0" if "subject" in m.group(0) else "x", path)


def _needed_scope(route: APIRoute) -> str:
    found = [s for s in SCOPES for d in route.dependant.dependencies if d.call is require(s)]
    assert len(found) == 1, route.path
    return found[0]


def test_every_route_refuses_missing_wrong_and_low_tokens(service: tuple[TestClient, dict[str, dict[str, str]]]
                                                           ) -> None:
    client, h = service
    scopes = {(m, API + r.path.replace(":path}", "}")): _needed_scope(r) for router in (_api.router, _api_jobs.router)
              for r in router.routes if isinstance(r, APIRoute) and r.path != "/health" for m in r.methods}
    spec = client.app.openapi()["paths"]  # every operation the app serves under /api/v1
    operations = {(m.upper(), p) for p, ops in spec.items() if p.startswith(API) for m in ops}
    assert operations - {("GET", f"{API}/health")} == set(scopes)
    scopes[("GET", f"{API}/openapi.json")] = "read"  # the spec itself (not in the spec)
    checked = 0
    for (method, path), needed in sorted(scopes.items()):
        url = _fill(path)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic YTpi"},
                        {"Cookie": "hygeia_token=wrong"}):
            r = client.request(method, url, headers=headers)
            assert r.status_code == 401, (method, url, headers, r.status_code, r.text)
            assert "a valid token is needed" in r.json()["detail"]
        for scope in SCOPES[:SCOPES.index(needed)]:
            r = client.request(method, url, headers=h[scope])
            assert r.status_code == 403, (method, url, scope, r.status_code)
            assert f"this needs {needed!r}" in r.json()["detail"]
        checked += 1
    assert checked >= 40  # every route of the API, one POST per job kind among them
    assert client.get(f"{API}/health").json()["status"] == "ok"


def test_the_cookie_is_a_token(service: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = service
    token = h["read"]["Authorization"].split()[1]
    assert client.get(f"{API}/jobs", headers={"Cookie": f"hygeia_token={token}"}).status_code == 200


def test_uploads_are_bounded(service: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = service
    ok = client.put(f"{API}/uploads/cohort.csv", content=b"age,sex\n40,F\n", headers=h["write"])
    assert ok.status_code == 201 and ok.json() == {"name": "cohort.csv", "path": "uploads/cohort.csv", "bytes": 13}
    assert client.put(f"{API}/uploads/cohort.csv", content=b"x", headers=h["write"]).status_code == 409
    big = client.put(f"{API}/uploads/big.csv", content=b"x" * 1001, headers=h["write"])
    assert big.status_code == 413 and "larger than this server's limit of 1,000 bytes" in big.json()["detail"]
    chunked = client.put(f"{API}/uploads/big.csv", content=iter([b"x" * 600, b"x" * 600]), headers=h["write"])
    assert chunked.status_code == 413
    empty = client.put(f"{API}/uploads/empty.csv", content=b"", headers=h["write"])
    assert empty.status_code == 400 and "the upload is empty" in empty.json()["detail"]
    assert client.put(f"{API}/uploads/x.exe", content=b"MZ", headers=h["write"]).status_code == 400
    root = client.app.state.settings.data_root
    assert sorted(p.name for p in (root / "uploads").iterdir()) == ["cohort.csv"]  # nothing half-written
    assert [u["name"] for u in client.get(f"{API}/uploads", headers=h["read"]).json()] == ["cohort.csv"]


def test_paths_stay_under_the_data_root(service: tuple[TestClient, dict[str, dict[str, str]]],
                                        tmp_path: Path) -> None:
    client, h = service
    root = client.app.state.settings.data_root
    (tmp_path / "secret.csv").write_text("a\n1\n")
    os.symlink(tmp_path / "secret.csv", root / "uploads" / "link.csv")
    try:
        for url in (f"{API}/files/%2e%2e/%2e%2e/etc/passwd", f"{API}/files//etc/passwd",
                    f"{API}/files/uploads/link.csv", f"{API}/files/service.db", f"{API}/files/runs/%2e%2e"):
            r = client.get(url, headers=h["read"])
            assert r.status_code in (400, 404) and "refused" in r.json()["detail"], (url, r.status_code, r.text)
        for data in ("../secret.csv", str(tmp_path / "secret.csv"), "uploads/link.csv"):
            r = client.post(f"{API}/jobs/fit", json={"data": data}, headers=h["write"])
            assert r.status_code == 400 and "is refused" in r.json()["detail"], (data, r.text)
        r = client.post(f"{API}/jobs/generate", json={"n": 5, "name": "../escape"}, headers=h["write"])
        assert r.status_code == 422
        r = client.post(f"{API}/jobs/export", json={"run": "demo", "fmt": "fhir", "out": "../../x"},
                        headers=h["write"])
        assert r.status_code == 422
    finally:
        (root / "uploads" / "link.csv").unlink()


def test_bad_params_get_the_commands_words(service: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = service
    r = client.post(f"{API}/jobs/export", json={"run": "nope", "fmt": "fhir"}, headers=h["write"])
    assert r.status_code == 400 and "no run named 'nope'" in r.json()["detail"]
    r = client.post(f"{API}/jobs/generate", json={"n": 5, "name": "x", "workers": 64}, headers=h["write"])
    assert r.status_code == 422  # not offered over the network
    r = client.post(f"{API}/jobs/images-render", json={"modality": "ct", "size": "big"}, headers=h["write"])
    assert r.status_code == 422
    kinds = {k["kind"]: k for k in client.get(f"{API}/kinds", headers=h["read"]).json()}
    assert {"generate", "export", "evaluate", "calibrate", "fit", "sample", "molecules-sample", "images-render",
            "notes-write", "notes-summarize", "notes-deid", "twin", "tutor-case"} <= set(kinds)
    assert kinds["generate"]["params"]["required"] == ["n", "name"]


def test_a_failed_job_says_why(service: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = service
    r = client.post(f"{API}/jobs/generate", json={"n": 5, "name": "bad", "locale": "zz"}, headers=h["write"])
    job = _wait(client, h["read"], r.json()["id"])
    assert job["status"] == "failed" and "'zz': no such locale" in job["message"]
    assert not (client.app.state.settings.data_root / "runs" / "bad").exists()


def test_cancel_a_running_job_leaves_nothing(service: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = service
    root = client.app.state.settings.data_root
    r = client.post(f"{API}/jobs/generate", json={"n": 5000, "seed": 2, "name": "big", "shard_size": 50},
                    headers=h["write"])
    job_id = r.json()["id"]
    deadline = time.monotonic() + 60
    while client.get(f"{API}/jobs/{job_id}", headers=h["read"]).json()["message"].startswith(("queued", "start",
                                                                                              "running")):
        assert time.monotonic() < deadline
        time.sleep(0.2)  # until the command has said something (it is writing)
    assert client.post(f"{API}/jobs/{job_id}/cancel", headers=h["read"]).status_code == 403
    r = client.post(f"{API}/jobs/{job_id}/cancel", headers=h["write"])
    assert r.status_code == 200
    job = _wait(client, h["read"], job_id, timeout=30)
    assert job["status"] == "cancelled", job
    assert not (root / "runs" / "big").exists() and not list((root / "runs").glob(".big*"))
    assert client.post(f"{API}/jobs/{job_id}/cancel", headers=h["write"]).status_code == 409


def test_cors_is_off_unless_asked(tmp_path: Path) -> None:
    pre = {"Origin": "https://lab.example.org", "Access-Control-Request-Method": "GET"}
    off = TestClient(create_app(ServiceSettings(data_root=tmp_path / "a")))
    assert "access-control-allow-origin" not in off.options(f"{API}/runs", headers=pre).headers
    on = TestClient(create_app(ServiceSettings(data_root=tmp_path / "b", cors_origins=("https://lab.example.org",))))
    assert on.options(f"{API}/runs", headers=pre).headers["access-control-allow-origin"] == "https://lab.example.org"
