"""One harness for the tests that run a web server in a subprocess on a free port of 127.0.0.1.

``Server`` starts the command (``{port}`` in it is replaced by a free port), sends its output to a log
file, and waits until the readiness probe answers: an HTTP GET of ``ready`` that returns 200 (or, with
``ready=None``, a TCP connection). A server that exits or does not answer in time fails the test with
the tail of its log. ``stop`` terminates it (SIGTERM, then SIGKILL after ``stop_timeout``); ``kill``
kills it outright, as a crash would. Used by the service's and the tutor's Chromium tests and the
service's restart test (benchmarks/service.py keeps its own few lines: it is not a test).

Example:
    >>> import sys, tempfile
    >>> from pathlib import Path
    >>> tmp = Path(tempfile.mkdtemp())
    >>> with Server([sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1",
    ...              "--directory", str(tmp)], log=tmp / "server.log", ready="/") as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
    >>> server.running
    False
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Self

#: ``hygeia`` as its console entry point runs it, with this interpreter.
HYGEIA = [sys.executable, "-c", "from hygeia.cli.main import run; run()"]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess on a free port of 127.0.0.1, returned once it answers.

    Args:
        command: the command line; each ``{port}`` in it becomes the chosen port.
        log: the file its stdout and stderr go to (shown when it fails to start).
        ready: the path an HTTP GET of which must answer 200, or None to wait for a TCP connection.
        timeout: seconds the server may take to answer.
        stop_timeout: seconds ``stop`` waits after SIGTERM before it kills the server.
    """

    def __init__(self, command: Sequence[str], *, log: Path, ready: str | None = "/", timeout: float = 60.0,
                 stop_timeout: float = 20.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log)
        self.stop_timeout = stop_timeout
        self._log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen([part.replace("{port}", str(self.port)) for part in command],
                                         stdout=self._log, stderr=subprocess.STDOUT)
        except BaseException:
            self._log.close()
            raise
        try:
            self._wait(ready, timeout)
        except BaseException:
            self.kill()
            raise

    def _answers(self, ready: str | None) -> bool:
        try:
            if ready is None:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            with urllib.request.urlopen(self.url + ready, timeout=5) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _wait(self, ready: str | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._answers(ready):
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited ({self.proc.returncode}) before it answered:\n{self.log_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer within {timeout:.0f} s:\n{self.log_text()}")
            time.sleep(0.1)

    @property
    def running(self) -> bool:
        """Whether the server process is still alive."""
        return self.proc.poll() is None

    def log_text(self, tail: int = 3000) -> str:
        """The last ``tail`` characters of the server's output."""
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is still running after ``stop_timeout`` seconds; closes the log."""
        if self.running:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait()
        self._log.close()

    def kill(self) -> None:
        """SIGKILL at once (a crash: the server cleans nothing up) and wait for it; closes the log."""
        if self.running:
            self.proc.kill()
        self.proc.wait()
        self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
