"""``hygeia notes summarize``: from a run, a notes folder or note files; JSON with provenance; clear errors."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from hygeia.cli.main import main

NOTE = """Discharge Summary

ADMISSION DATE:
2024-02-01.

DISCHARGE DATE:
2024-02-04.

DISCHARGE DIAGNOSES:
Community acquired pneumonia.

DISCHARGE MEDICATIONS:
Amoxicillin 500 MG Oral Capsule.

ALLERGIES:
NKDA.
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli_summarize") / "run"
    res = CliRunner().invoke(main, ["generate", "-n", "20", "--seed", "1", "--out", str(out), "--workers", "1", "-q"])
    assert res.exit_code == 0, res.output
    return out


def test_from_a_run_json_with_provenance(run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["notes", "summarize", str(run), "--kind", "instructions", "--format", "json",
                                    "--out", str(tmp_path / "s.json")])
    assert res.exit_code == 0, res.output
    assert "Wrote the patient instructions" in res.output and "Flesch-Kincaid grade" in res.output
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["kind"] == "instructions" and doc["source"] == "record" and doc["writer"] == "faithful"
    assert doc["readability"]["flesch_kincaid_grade"] <= 8
    assert all(set(s) == {"section", "text", "events", "basis"} for s in doc["sentences"])
    assert any(s["events"] for s in doc["sentences"])
    again = CliRunner().invoke(main, ["notes", "summarize", str(run), "--subject", str(doc["subject_id"]),
                                      "--encounter", str(doc["encounter_id"]), "--kind", "instructions", "-q",
                                      "--format", "json"])
    assert again.exit_code == 0 and json.loads(again.stdout) == doc
    res = CliRunner().invoke(main, ["notes", "summarize", str(run), "--kind", "insurance", "--out",
                                    str(tmp_path / "s.json")])
    assert res.exit_code == 2 and "already exists" in res.output and "--overwrite" in res.output


def test_from_notes_written_and_from_files(run: Path, tmp_path: Path) -> None:
    written = tmp_path / "notes"
    assert CliRunner().invoke(main, ["notes", "write", str(run), "--out", str(written), "--seed", "1", "-q"]).exit_code == 0
    res = CliRunner().invoke(main, ["notes", "summarize", str(written), "--kind", "discharge", "-q"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("Discharge Summary") and "ADMISSION DATE:" in res.stdout
    note = tmp_path / "discharge.txt"
    note.write_text(NOTE)
    res = CliRunner().invoke(main, ["notes", "summarize", str(note), "--kind", "insurance", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["source"] == "notes"
    text = doc["text"]
    assert "Community acquired pneumonia (ICD-10-CM J18.9" in text and "Admitted 2024-02-01; discharged 2024-02-04." in text
    spans = [k for s in doc["sentences"] for k in s["events"]]
    assert spans and all(k.startswith(f"{note}:") for k in spans)


def test_bad_input(run: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\x00\x01\x02abc")
    foreign = tmp_path / "fr.txt"
    foreign.write_text("Le patient est sorti de l'hôpital hier soir avec sa famille, sans douleur ni fièvre.")
    for path, words in ((empty, "is empty"), (binary, "is a binary file"), (foreign, "not English"),
                        (tmp_path / "missing.txt", "does not exist")):
        res = CliRunner().invoke(main, ["notes", "summarize", str(path)])
        assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output, res.output
    res = CliRunner().invoke(main, ["notes", "summarize", str(run), "--subject", "999999"])
    assert res.exit_code == 2 and "subject_id 999999 is not in the run" in res.output
    res = CliRunner().invoke(main, ["notes", "summarize", str(empty), "--subject", "1"])
    assert res.exit_code == 2 and "Leave them out" in res.output
    res = CliRunner().invoke(main, ["notes", "summarize", str(run), "--backend", "ftp://localhost:8080"])
    assert res.exit_code == 2 and "unknown --backend" in res.output and "http://127.0.0.1:8080" in res.output
    res = CliRunner().invoke(main, ["notes", "summarize", str(run), "--model", "m"])
    assert res.exit_code == 2 and "--backend" in res.output


def test_a_folder_of_notes_is_one_stay(run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "stay"
    folder.mkdir()
    (folder / "a_admission.txt").write_text("CHIEF COMPLAINT:\nChest pain.\n\nMEDICATIONS:\nAspirin 81 MG Oral Tablet.\n")
    (folder / "b_discharge.txt").write_text(NOTE)
    res = CliRunner().invoke(main, ["notes", "summarize", str(folder), "--kind", "discharge", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    names = {k.rpartition(":")[0] for s in doc["sentences"] for k in s["events"]}
    assert names == {str(folder / "a_admission.txt"), str(folder / "b_discharge.txt")}
    assert "Stopped: Aspirin 81 MG Oral Tablet." in doc["text"] and "New: Amoxicillin 500 MG" in doc["text"]
    res = CliRunner().invoke(main, ["notes", "summarize", str(run), str(folder / "b_discharge.txt")])
    assert res.exit_code == 2 and "summarize one at a time" in res.output
    (tmp_path / "nothing").mkdir()
    res = CliRunner().invoke(main, ["notes", "summarize", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "holds no .txt notes" in res.output


class _Model(BaseHTTPRequestHandler):
    """STANDS IN for an OpenAI-compatible server (llama.cpp server, vLLM, Ollama): answers every chat completion with
    ``answer`` in the OpenAI JSON format and keeps the prompts it got. The real model behind a real server is
    exercised by the slow opt-in tests/integration/test_llm_gemma.py."""

    answer = ""
    prompts: ClassVar[list] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).prompts.append(body["messages"])
        out = json.dumps({"id": "c1", "object": "chat.completion", "model": body["model"], "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": type(self).answer}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out.encode())))
        self.end_headers()
        self.wfile.write(out.encode())


@pytest.fixture
def model_server():
    _Model.prompts = []
    httpd = HTTPServer(("127.0.0.1", 0), _Model)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_backend_text_kept_only_when_the_guard_passes_it(model_server: str, tmp_path: Path) -> None:
    note = tmp_path / "discharge.txt"
    note.write_text(NOTE)
    args = ["notes", "summarize", str(note), "--kind", "discharge", "--backend", model_server, "--model", "m",
            "--format", "json"]
    _Model.answer = ("Admitted 2024-02-01 with community acquired pneumonia, discharged 2024-02-04. "
                     "Discharge medication: amoxicillin 500 MG oral capsule. No known drug allergies.")
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "ok.json")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "ok.json").read_text())
    assert doc["writer"] == "llm" and doc["guard"]["action"] == "accepted" and doc["text"] == _Model.answer
    assert {s["basis"] for s in doc["sentences"]} == {"generated"}
    assert doc["guard"]["backend"] == {"backend": "OpenAICompatibleBackend", "url": model_server, "model": "m"}
    assert "nothing flagged" in res.output
    prompt = json.dumps(_Model.prompts[-1])
    assert "pneumonia" in prompt and "2024-02-01" in NOTE and "Discharge Summary" not in prompt  # facts, not the note

    _Model.answer = ("Admitted with community acquired pneumonia and sepsis. Discharged on warfarin 5 mg daily. "
                     "Follow up on 2024-03-15.")
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "bad.json")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "bad.json").read_text())
    assert doc["writer"] == "faithful" and doc["guard"]["action"] == "fallback"
    assert doc["guard"]["generated"] == _Model.answer and not doc["guard"]["report"]["ok"]
    assert {f["kind"] for f in doc["guard"]["report"]["flags"]} >= {"unsupported", "date"}
    assert doc["guard"]["final"]["ok"] and "warfarin" not in doc["text"]
    assert "the default writer's summary is given instead" in res.output


def test_backend_unreachable_names_the_url_and_writes_nothing(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    note = tmp_path / "discharge.txt"
    note.write_text(NOTE)
    res = CliRunner().invoke(main, ["notes", "summarize", str(note), "--backend", f"http://127.0.0.1:{port}",
                                    "--model", "m", "--out", str(tmp_path / "s.txt")])
    assert res.exit_code == 2 and f"127.0.0.1:{port}" in res.output and "Traceback" not in res.output, res.output
    assert not (tmp_path / "s.txt").exists()
