"""Language-model backends behind one interface: an OpenAI-compatible HTTP server or a local transformers model.

Both are optional: the default summary writer needs neither. A backend turns a
:class:`~hygeia.notes.Prompt` (or a plain text) into a text with :meth:`Backend.generate`.

- :class:`OpenAICompatibleBackend` speaks the ``/v1/chat/completions`` JSON API with the
  standard library only; it works with a llama.cpp server, vLLM, Ollama and others.
- :class:`TransformersBackend` runs a local Hugging Face model (a folder, a hub name
  already in the local cache, or a ``.gguf`` file) on the CPU; it needs
  ``pip install 'hygeia[llm]'`` (transformers, gguf, accelerate). No weights are
  downloaded by Hygeia; offline by default.

:func:`backend_for` picks one from a string, as ``--backend`` gives it:
``http://host:port`` (a server) or ``transformers:PATH`` (a local model).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from hygeia.errors import ConfigError, HygeiaError, MissingExtraError
from hygeia.notes._prompts import Prompt

__all__ = ["BACKENDS", "Backend", "BackendError", "OpenAICompatibleBackend", "TransformersBackend", "backend_for"]


class BackendError(HygeiaError, RuntimeError):
    """A language-model backend could not answer: unreachable, refused, or an answer not in the expected format."""


class Backend:
    """A language model that writes a text from a prompt.

    Subclasses set :attr:`scheme` and implement :meth:`_generate`; :meth:`generate`
    checks the arguments.
    """

    #: The prefix of :func:`backend_for` strings for this backend.
    scheme: ClassVar[str] = ""

    def generate(self, prompt: Prompt | str, *, max_tokens: int = 400, temperature: float = 0.0,
                 seed: int | None = None, stop: Sequence[str] | None = None) -> str:
        """The model's text for a prompt.

        Args:
            prompt: a :class:`Prompt` (its messages, or its completion text for a base model) or a plain text.
            max_tokens: the most tokens to write.
            temperature: 0 for greedy decoding.
            seed: the sampling seed, when ``temperature > 0``.
            stop: strings that end the text (default: the prompt's ``stop``).

        Returns:
            The generated text, stripped, cut at the first stop string.
        """
        if max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {max_tokens}")
        if temperature < 0:
            raise ConfigError(f"temperature must be 0 or more, got {temperature}")
        if isinstance(prompt, str):
            prompt = Prompt("text", "", prompt, prompt)
        stops = tuple(prompt.stop if stop is None else stop)
        text = self._generate(prompt, max_tokens=max_tokens, temperature=temperature, seed=seed, stop=stops)
        text = text.strip()
        cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=len(text))
        return text[:cut].strip()

    def _generate(self, prompt: Prompt, *, max_tokens: int, temperature: float, seed: int | None,
                  stop: tuple[str, ...]) -> str:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What to record as provenance of a generated text: the backend and its model."""
        return {"backend": type(self).__name__}


class OpenAICompatibleBackend(Backend):
    """A server that answers ``POST {url}/v1/chat/completions`` in the OpenAI format.

    Args:
        url: the server's base URL (``http://127.0.0.1:8080``; a trailing ``/v1`` is accepted).
        model: the model name to ask for; ``None`` asks the server (``GET /v1/models``) and takes its first.
        timeout: seconds to wait for an answer.
        api_key: sent as a bearer token when given (default: ``$OPENAI_API_KEY`` if set).

    Example:
        >>> b = OpenAICompatibleBackend("http://127.0.0.1:8080/v1/", model="gemma")
        >>> b.url, b.describe()
        ('http://127.0.0.1:8080', {'backend': 'OpenAICompatibleBackend', 'url': 'http://127.0.0.1:8080', 'model': 'gemma'})
    """

    scheme = "http"

    def __init__(self, url: str, model: str | None = None, *, timeout: float = 120.0,
                 api_key: str | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--backend must be an http:// or https:// URL of an OpenAI-compatible server, "
                              f"got {url!r}; e.g. http://127.0.0.1:8080 for a llama.cpp server")
        if timeout <= 0:
            raise ConfigError(f"timeout must be positive seconds, got {timeout}")
        url = url.rstrip("/")
        self.url = url.removesuffix("/v1")
        self.model = model
        self.timeout = timeout
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")

    def describe(self) -> dict[str, Any]:
        """The backend, its URL and model."""
        return {"backend": type(self).__name__, "url": self.url, "model": self.model}

    def _request(self, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.url}{path}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace").strip()
            raise BackendError(f"the server at {url} answered HTTP {exc.code} {exc.reason}: {detail or '(no body)'}; "
                               "check the model name (--model) and that the server speaks the OpenAI API") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BackendError(f"cannot reach the language-model server at {url} ({reason}); start it (e.g. "
                               "'llama-server -m MODEL.gguf --port 8080') or pass the right --backend URL") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise BackendError(f"the server at {url} answered something that is not JSON "
                               f"({raw[:80]!r}); is --backend the URL of an OpenAI-compatible server?") from None

    def _model(self) -> str:
        if self.model is None:
            answer = self._request("/v1/models")
            try:
                self.model = str(answer["data"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise BackendError(f"the server at {self.url} lists no model at /v1/models ({str(answer)[:120]}); "
                                   "pass the model name with --model") from None
        return self.model

    def _generate(self, prompt: Prompt, *, max_tokens: int, temperature: float, seed: int | None,
                  stop: tuple[str, ...]) -> str:
        messages = prompt.messages() if prompt.system else [{"role": "user", "content": prompt.user}]
        body: dict[str, Any] = {"model": self._model(), "messages": messages, "max_tokens": max_tokens,
                                "temperature": temperature, "stream": False}
        if seed is not None:
            body["seed"] = seed
        if stop:
            body["stop"] = list(stop[:4])  # the OpenAI API takes up to four
        answer = self._request("/v1/chat/completions", body)
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"the server at {self.url}/v1/chat/completions answered without "
                               f"choices[0].message.content ({str(answer)[:160]}); it is not an OpenAI-compatible "
                               "chat server, or the request failed") from None
        if not isinstance(content, str):
            raise BackendError(f"the server at {self.url} returned a {type(content).__name__} as the message "
                               "content, not a text")
        return content


class TransformersBackend(Backend):
    """A local causal language model run by transformers on the CPU.

    Args:
        model: a model folder, a hub name already cached (nothing is downloaded), or a ``.gguf`` file
            (transformers de-quantizes it; needs the ``gguf`` package).
        threads: torch CPU threads (default 1).
        chat: use the tokenizer's chat template when it has one (``False``: the prompt's completion text).
        repetition_penalty: passed to ``generate`` (small base models repeat themselves).

    The model loads on first use (generating needs ``hygeia[llm]`` and the local model file).

    Example:
        >>> TransformersBackend("/models/gemma-3-270m-q4_k_m.gguf").describe()["model"]
        'gemma-3-270m-q4_k_m.gguf'
    """

    scheme = "transformers"

    def __init__(self, model: str | os.PathLike[str], *, threads: int = 1, chat: bool = True,
                 repetition_penalty: float = 1.3) -> None:
        self.model = str(model)
        self.threads = threads
        self.chat = chat
        self.repetition_penalty = repetition_penalty
        self._loaded: tuple[Any, Any] | None = None

    def describe(self) -> dict[str, Any]:
        """The backend, the model file or name, and the transformers version."""
        d: dict[str, Any] = {"backend": type(self).__name__, "model": Path(self.model).name,
                             "repetition_penalty": self.repetition_penalty}
        try:
            import transformers

            d["transformers"] = transformers.__version__
        except ImportError:
            pass
        return d

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is not None:
            return self._loaded
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise MissingExtraError("transformers", "llm", "The transformers language-model backend") from None
        torch.set_num_threads(self.threads)
        path = Path(self.model)
        kwargs: dict[str, Any] = {}
        where = self.model
        if path.suffix == ".gguf":
            if not path.is_file():
                raise ConfigError(f"no GGUF file at {path}; pass the path of a .gguf model file")
            where, kwargs = str(path.parent), {"gguf_file": path.name}
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, **kwargs)
        except ImportError as exc:
            raise MissingExtraError(str(exc.name or "gguf"), "llm", "Loading this model") from None
        except OSError as exc:
            raise ConfigError(f"cannot load the model {self.model!r} offline ({exc}); pass a local folder or .gguf "
                              "file (Hygeia downloads no weights)") from None
        model.eval()
        self._loaded = (tokenizer, model)
        return self._loaded

    def _generate(self, prompt: Prompt, *, max_tokens: int, temperature: float, seed: int | None,
                  stop: tuple[str, ...]) -> str:
        import torch

        tokenizer, model = self._load()
        if self.chat and getattr(tokenizer, "chat_template", None) and prompt.system:
            inputs = tokenizer.apply_chat_template(prompt.messages(), add_generation_prompt=True, return_tensors="pt",
                                                   return_dict=True)
        else:
            inputs = tokenizer(prompt.completion, return_tensors="pt")
        options: dict[str, Any] = {"max_new_tokens": max_tokens, "repetition_penalty": self.repetition_penalty,
                                   "do_sample": temperature > 0, "pad_token_id": tokenizer.eos_token_id}
        if stop:
            options.update(stop_strings=list(stop), tokenizer=tokenizer)
        if temperature > 0:
            options["temperature"] = temperature
            torch.manual_seed(0 if seed is None else seed)
        with torch.no_grad():
            out = model.generate(**inputs, **options)
        return str(tokenizer.decode(out[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True))


#: Backends by the scheme of their :func:`backend_for` string.
BACKENDS: dict[str, Callable[..., Backend]] = {"http": OpenAICompatibleBackend, "https": OpenAICompatibleBackend,
                                                 "transformers": TransformersBackend}


def backend_for(spec: str, *, model: str | None = None, timeout: float = 120.0) -> Backend:
    """The backend a ``--backend`` string names.

    Args:
        spec: ``http(s)://host:port`` for an OpenAI-compatible server, or ``transformers:PATH`` for a local model.
        model: the model name to ask a server for.
        timeout: seconds to wait for a server.

    Raises:
        ConfigError: a string of no known form.

    Example:
        >>> type(backend_for("http://127.0.0.1:8080")).__name__
        'OpenAICompatibleBackend'
        >>> backend_for("transformers:/models/m.gguf").model
        '/models/m.gguf'
    """
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme not in BACKENDS:
        raise ConfigError(f"unknown --backend {spec!r}; pass an OpenAI-compatible server URL "
                          "(http://127.0.0.1:8080) or transformers:PATH for a local model")
    if scheme in ("http", "https"):
        return OpenAICompatibleBackend(spec, model, timeout=timeout)
    if not rest:
        raise ConfigError("--backend transformers: needs a model after the colon, e.g. transformers:/models/m.gguf")
    return TransformersBackend(rest)
