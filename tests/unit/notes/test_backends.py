"""LLM backends: the OpenAI-compatible HTTP client, the backend registry, prompts built from facts only.

The HTTP tests talk to a tiny ``http.server`` started here that STANDS IN for an
OpenAI-compatible server (llama.cpp server, vLLM, Ollama): it answers
``/v1/models`` and ``/v1/chat/completions`` in the OpenAI JSON format, and records the
requests it got so the tests can check what the client sent. The real model behind a
real server is exercised by the slow opt-in test tests/integration/test_llm_gemma.py.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from hygeia.errors import ConfigError
from hygeia.notes._backends import (
    BackendError,
    OpenAICompatibleBackend,
    TransformersBackend,
    backend_for,
)
from hygeia.notes._facts import Extraction, Fact
from hygeia.notes._prompts import build_prompt, fact_line


class _StandIn(BaseHTTPRequestHandler):
    """Stands in for an OpenAI-compatible server; ``mode`` chooses a good or a bad answer."""

    mode = "ok"
    requests: ClassVar[list[tuple[str, dict | None]]] = []

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        type(self).requests.append((self.path, None))
        if self.path == "/v1/models" and self.mode != "nomodels":
            self._send(200, json.dumps({"object": "list", "data": [{"id": "stand-in-model", "object": "model"}]}).encode())
        else:
            self._send(200, json.dumps({"object": "list", "data": []}).encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        if self.mode == "500":
            self._send(500, b'{"error": "model not loaded"}')
        elif self.mode == "html":
            self._send(200, b"<html>hello</html>", "text/html")
        elif self.mode == "noc":
            self._send(200, json.dumps({"id": "x", "choices": []}).encode())
        else:
            last = body["messages"][-1]["content"]
            text = f"  Summary of {last.count('- ')} facts by {body['model']}.  "
            self._send(200, json.dumps({"id": "c1", "object": "chat.completion", "model": body["model"],
                                        "choices": [{"index": 0, "finish_reason": "stop",
                                                     "message": {"role": "assistant", "content": text}}]}).encode())


@pytest.fixture
def server():
    _StandIn.mode = "ok"
    _StandIn.requests = []
    httpd = HTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


FACTS = [Fact("problem", "pneumonia", 0, 9, "pneumonia"), Fact("medication", "amoxicillin 500 mg", 10, 28,
                                                              "amoxicillin", dose="500 mg", frequency="three times daily")]


def test_chat_completion_roundtrip(server):
    b = OpenAICompatibleBackend(server + "/v1")
    text = b.generate(build_prompt(FACTS), max_tokens=50, seed=3)
    assert text == "Summary of 2 facts by stand-in-model."
    paths = [p for p, _ in _StandIn.requests]
    assert paths == ["/v1/models", "/v1/chat/completions"]
    sent = _StandIn.requests[-1][1]
    assert sent["max_tokens"] == 50 and sent["seed"] == 3 and sent["temperature"] == 0.0
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert b.describe()["model"] == "stand-in-model"


def test_named_model_skips_the_listing(server):
    OpenAICompatibleBackend(server, model="gemma").generate("Hello")
    assert [p for p, _ in _StandIn.requests] == ["/v1/chat/completions"]
    assert _StandIn.requests[0][1]["model"] == "gemma"
    assert _StandIn.requests[0][1]["messages"] == [{"role": "user", "content": "Hello"}]


@pytest.mark.parametrize(("mode", "message"), [
    ("500", "answered HTTP 500"),
    ("html", "not JSON"),
    ("noc", "without choices[0].message.content"),
])
def test_bad_answers_name_the_url_and_the_fix(server, mode, message):
    _StandIn.mode = mode
    with pytest.raises(BackendError, match=re.escape(message)) as info:
        OpenAICompatibleBackend(server, model="m").generate("Hi")
    assert server in str(info.value)


def test_no_model_listed(server):
    _StandIn.mode = "nomodels"
    with pytest.raises(BackendError, match=re.escape("lists no model at /v1/models")):
        OpenAICompatibleBackend(server).generate("Hi")


def test_unreachable_server_says_how_to_start_one():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(BackendError, match=re.escape(f"cannot reach the language-model server at {url}")) as info:
        OpenAICompatibleBackend(url, model="m", timeout=5).generate("Hi")
    assert "--backend" in str(info.value)


def test_bad_arguments():
    with pytest.raises(ConfigError, match=re.escape("must be an http:// or https:// URL")):
        OpenAICompatibleBackend("localhost:8080")
    with pytest.raises(ConfigError, match=re.escape("max_tokens must be at least 1")):
        OpenAICompatibleBackend("http://x").generate("Hi", max_tokens=0)
    with pytest.raises(ConfigError, match=re.escape("unknown --backend 'ollama'")):
        backend_for("ollama")
    with pytest.raises(ConfigError, match=re.escape("needs a model after the colon")):
        backend_for("transformers:")
    assert isinstance(backend_for("transformers:/m.gguf"), TransformersBackend)


def test_transformers_backend_missing_gguf_file(tmp_path):
    pytest.importorskip("transformers")
    with pytest.raises(ConfigError, match=re.escape("no GGUF file at")):
        TransformersBackend(tmp_path / "absent.gguf").generate("Hi")


def test_prompt_carries_facts_not_the_note():
    note = "Patient: Jennifer Nguyen, MRN 123456. Pneumonia. Amoxicillin 500 mg three times daily."
    ext = Extraction(note, facts=[Fact("problem", "Pneumonia", 39, 48, "pneumonia"),
                                  Fact("medication", "Amoxicillin 500 mg", 50, 68, "amoxicillin", dose="500 mg",
                                       frequency="three times daily"),
                                  Fact("problem", "Pneumonia", 39, 48, "pneumonia")])
    for kind in ("discharge", "instructions", "insurance"):
        p = build_prompt(ext, kind)
        whole = p.completion + p.system + p.user
        assert "Nguyen" not in whole and "123456" not in whole
        assert p.user.count("- Problem: pneumonia") == 1  # repeated facts once
        assert "- Medication: amoxicillin 500 mg three times daily" in p.user
    with pytest.raises(ConfigError, match=re.escape("unknown summary kind 'letter'")):
        build_prompt(ext, "letter")
    with pytest.raises(ConfigError, match=re.escape("no facts to write from")):
        build_prompt([], "discharge")


def test_fact_line_context_and_dates():
    assert fact_line(Fact("problem", "x", 0, 1, "diabetes", family=True)) == "Problem: diabetes (family member)"
    assert fact_line(Fact("date", "x", 0, 1, "admission", date="2020-03-01")) == "Date: admission 2020-03-01"
    assert fact_line(Fact("follow_up", "x", 0, 1, "primary care", date="2020-04-01")) == \
        "Follow-up: primary care on 2020-04-01"


def test_stop_strings_are_sent_and_applied(server):
    b = OpenAICompatibleBackend(server, model="m")
    p = build_prompt(FACTS)
    assert b.generate(p) == "Summary of 2 facts by m."
    assert _StandIn.requests[-1][1]["stop"] == list(p.stop)
    assert b.generate("Hi", stop=["by"]) == "Summary of 0 facts"  # cut where a stop string starts
    assert "stop" not in _StandIn.requests[-1][1] or _StandIn.requests[-1][1]["stop"] == ["by"]


def test_base_model_prompt_has_one_invented_example_and_codes_only_for_letters():
    coded = [Fact("problem", "HTN", 0, 3, "hypertension", codes=(("ICD-10-CM", "I10"), ("SNOMED-CT", "1"), ("X", "2")))]
    p = build_prompt(coded, "discharge")
    assert p.completion.count("Facts:") == 2 and "cellulitis" in p.completion and "I10" not in p.user
    assert p.completion.endswith("- Problem: hypertension\n\nDischarge summary:\n")
    assert "- Problem: hypertension [ICD-10-CM I10; SNOMED-CT 1]" in build_prompt(coded, "insurance").user


def test_transformers_backend_names_the_extra_when_missing(monkeypatch, tmp_path):
    import sys

    from hygeia.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "transformers", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=re.escape("pip install 'hygeia[llm]'")):
        TransformersBackend(tmp_path / "m.gguf").generate("Hi")
