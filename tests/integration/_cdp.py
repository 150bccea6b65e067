"""Drive headless Chromium through the DevTools protocol (websocket-client): navigate, evaluate, click, shoot.

Chromium starts with ``--remote-debugging-port=0``; the port it picked is the first line of
``DevToolsActivePort`` in its ``--user-data-dir``. :class:`Browser` connects to the first page
target and offers what the end-to-end tests need: ``goto`` (navigate and wait for the load
event), ``js`` (evaluate and return the value), ``submit`` (run script that clicks or submits,
then wait for the next page), ``screenshot`` (PNG bytes of the whole page).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket
from _chromium import FLAGS, chromium


class Browser:
    """Headless Chromium and one page, driven over the DevTools websocket."""

    def __init__(self, profile: Path, *, width: int = 1280, height: int = 1000, timeout: float = 30.0) -> None:
        self.timeout = timeout
        profile.mkdir(parents=True, exist_ok=True)
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        self._log = (profile / "chromium.log").open("wb")
        self.proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                      f"--window-size={width},{height}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                err = (profile / "chromium.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"chromium did not open its DevTools port:\n{err}")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as resp:
            targets = json.load(resp)
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
        self._id, self._events = 0, []
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self._events.append(msg)

    def wait(self, event: str) -> dict[str, Any]:
        """The next ``event`` (e.g. ``Page.loadEventFired``)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for i, msg in enumerate(self._events):
                if msg["method"] == event:
                    del self._events[: i + 1]
                    return msg.get("params", {})
            self._events.clear()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {self.timeout} s")
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self._events.append(msg)

    def js(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page and return its value (an exception in the page is raised here)."""
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"page script failed: {res['exceptionDetails']}\n{expression}")
        return res["result"].get("value")

    def goto(self, url: str) -> None:
        """Navigate to ``url`` and wait until it has loaded."""
        self._events.clear()
        self.call("Page.navigate", url=url)
        self.wait("Page.loadEventFired")

    def submit(self, script: str) -> str:
        """Run ``script`` (which clicks a button or submits a form), wait for the next page; its URL."""
        self._events.clear()
        self.js(script)
        self.wait("Page.loadEventFired")
        return self.js("location.href")

    def fill(self, selector: str, value: str) -> None:
        """Type ``value`` into the input matched by ``selector``."""
        ok = self.js(f"(()=>{{const el=document.querySelector({json.dumps(selector)});if(!el)return false;"
                     f"el.value={json.dumps(value)};el.dispatchEvent(new Event('input'));return true}})()")
        assert ok, f"no element {selector} on {self.js('location.href')}"

    def click(self, selector: str) -> str:
        """Click the element matched by ``selector`` and wait for the page it leads to; its URL."""
        found = self.js(f"!!document.querySelector({json.dumps(selector)})")
        assert found, f"no element {selector} on {self.js('location.href')}"
        return self.submit(f"document.querySelector({json.dumps(selector)}).click()")

    def text(self, selector: str = "body") -> str:
        """The visible text of the first element matched by ``selector`` ('' when none)."""
        return self.js(f"(document.querySelector({json.dumps(selector)})||{{innerText:''}}).innerText")

    def screenshot(self, *, full: bool = True) -> bytes:
        """A PNG of the page (the whole page when ``full``)."""
        params: dict[str, Any] = {"format": "png"}
        if full:
            w, h = self.js("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1})
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])

    def close(self) -> None:
        """Close the connection and stop Chromium."""
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
