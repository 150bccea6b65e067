"""A tiny progress bar on stderr: count/total, rate and time left.

It draws only when the stream is a terminal (or ``force=True``), never when
``quiet=True``, and redraws at most every ``interval`` seconds so that it costs
nothing next to the work it reports on.

Example:
    >>> import io
    >>> buf = io.StringIO()
    >>> with Progress(10, unit="persons", stream=buf, force=True, interval=0) as bar:
    ...     bar.update(10)
    >>> "10/10 persons" in buf.getvalue()
    True
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``75`` → ``'1:15'``; ``3700`` → ``'1:01:40'``."""
    s = max(0, int(round(seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Counts work done out of ``total`` and draws one updating line.

    Args:
        total: units of work expected.
        unit: name of a unit, shown after the counts.
        quiet: draw nothing.
        force: draw even when ``stream`` is not a terminal.
        stream: where to draw (default ``sys.stderr``).
        width: characters of the bar itself.
        interval: least seconds between redraws.
    """

    def __init__(
        self,
        total: int,
        *,
        unit: str = "",
        quiet: bool = False,
        force: bool = False,
        stream: TextIO | None = None,
        width: int = 28,
        interval: float = 0.1,
    ) -> None:
        self.total = max(0, int(total))
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.enabled = not quiet and (force or bool(isatty()))
        self.width = width
        self.interval = interval
        self.count = 0
        self._start = time.monotonic()
        self._last_draw = float("-inf")
        self._drawn = False

    def update(self, n: int = 1) -> None:
        """Record ``n`` more units done and redraw if due."""
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw >= self.interval or self.count >= self.total:
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The text of the bar as it would be drawn now."""
        now = time.monotonic() if now is None else now
        elapsed = max(now - self._start, 1e-9)
        frac = min(1.0, self.count / self.total) if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        rate = self.count / elapsed
        unit = f" {self.unit}" if self.unit else ""
        if self.count >= self.total:
            eta = f"in {format_duration(elapsed)}"
        elif rate > 0:
            eta = f"ETA {format_duration((self.total - self.count) / rate)}"
        else:
            eta = "ETA --:--"
        return f"[{bar}] {self.count}/{self.total}{unit} {frac:4.0%}  {rate:,.0f}{unit}/s  {eta}"

    def _draw(self, now: float) -> None:
        self.stream.write("\r\x1b[2K" + self.line(now))
        self.stream.flush()
        self._last_draw = now
        self._drawn = True

    def close(self) -> None:
        """Draw the final state and end the line (if anything was drawn)."""
        if self.enabled and self.count and not self._drawn:
            self._draw(time.monotonic())
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
