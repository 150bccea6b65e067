"""Progress on long work and the summary at its end: the one console layer of every command.

Three things, built on `rich <https://github.com/Textualize/rich>`_:

- :class:`Progress` counts work done out of a total (or out of nothing known, as a
  spinner) on stderr. In a terminal it draws a live bar with the rate and the time left;
  when stderr is not a terminal (a log file, CI, a pipe) it writes a plain line now and
  then (at most every ``interval`` seconds) and one when the work ends, never escape codes.
  ``quiet=True`` draws nothing.
- :func:`status` is a :class:`Progress` without counts, for a phase ("reading the FHIR
  files", "fitting the copula").
- :class:`Summary` is the short human report a command prints at the end: a headline,
  a few aligned facts (counts, sizes, where the output is) and what to run or open next.

The Python API is quiet by default (``progress=False`` or ``quiet=True`` on the library
functions); the ``hygeia`` commands turn it on, and ``-q/--quiet`` turns it off again.

Example:
    >>> import io
    >>> log = io.StringIO()
    >>> with Progress(10, unit="persons", description="generating", stream=log) as bar:
    ...     bar.update(10)
    >>> log.getvalue()
    'generating: 10/10 persons (100%) in 0:00\\n'
    >>> print(Summary("Made 10 persons", [("output", "run/"), ("events", 1234)], ["hygeia inspect run"]).render())
    Made 10 persons
      output  run/
      events  1,234
    Next: hygeia inspect run
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, TypeVar

__all__ = [
    "Progress",
    "Summary",
    "describe_output",
    "format_duration",
    "format_number",
    "format_size",
    "path_size",
    "status",
    "track",
]

T = TypeVar("T")


def format_duration(seconds: float) -> str:
    """``75`` → ``'1:15'``; ``3700`` → ``'1:01:40'``.

    Example:
        >>> format_duration(75), format_duration(3700)
        ('1:15', '1:01:40')
    """
    s = max(0, int(round(seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_number(value: Any, digits: int = 3) -> str:
    """A number as a person reads it: integers with thousands separators, floats to
    ``digits`` significant digits (no scientific notation between 1e-4 and 1e15).

    Example:
        >>> format_number(1234567), format_number(0.9512209773803424), format_number(1234.5678)
        ('1,234,567', '0.951', '1,235')
        >>> format_number(float("nan")), format_number(True), format_number("n/a")
        ('n/a', 'yes', 'n/a')
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    if abs(value) < 1e-4:
        return f"{value:.{digits - 1}e}"
    decimals = digits - 1 - int(math.floor(math.log10(abs(value))))
    text = f"{value:.{max(decimals, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_size(n_bytes: int) -> str:
    """Bytes in decimal units.

    Example:
        >>> format_size(806_000_000), format_size(512)
        ('806 MB', '512 B')
    """
    size = float(n_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{format_number(size)} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def path_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(files, bytes)`` under ``path`` (a file counts as one).

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("hello")
        >>> path_size(d)
        (1, 5)
    """
    p = Path(path)
    if p.is_file():
        return 1, p.stat().st_size
    files = total = 0
    for root, _dirs, names in os.walk(p):
        for name in names:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
            files += 1
    return files, total


def describe_output(path: str | os.PathLike[str]) -> str:
    """``'out/ (12 files, 3.4 MB)'`` or ``'model.csv (120 kB)'``: where an output is and its size.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.txt"; _ = f.write_text("hello")
        >>> describe_output(f).endswith("a.txt (5 B)")
        True
    """
    p = Path(path)
    if not p.exists():
        return str(p)
    files, size = path_size(p)
    if p.is_dir():
        return f"{p}{os.sep} ({files:,} file{'s' if files != 1 else ''}, {format_size(size)})"
    return f"{p} ({format_size(size)})"


class Progress:
    """Counts work done out of ``total`` on stderr: a live bar in a terminal, plain lines elsewhere.

    Args:
        total: units of work expected; ``None`` when unknown (a spinner and a count).
        unit: name of a unit ("persons", "shards", "steps"), shown after the counts.
        description: what is being done ("exporting FHIR"), shown first.
        quiet: draw nothing at all.
        force: draw the live bar even when ``stream`` is not a terminal.
        stream: where to draw (default ``sys.stderr`` at construction).
        interval: least seconds between two plain lines (when not a terminal).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> with Progress(None, unit="files", description="reading", stream=out) as bar:
        ...     bar.update(3)
        >>> out.getvalue()
        'reading: 3 files in 0:00\\n'
    """

    def __init__(
        self,
        total: int | None,
        *,
        unit: str = "",
        description: str = "",
        quiet: bool = False,
        force: bool = False,
        stream: TextIO | None = None,
        interval: float = 10.0,
    ) -> None:
        self.total = None if total is None else max(0, int(total))
        self.unit = unit
        self.description = description
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.live = not quiet and (force or bool(isatty()))
        self.interval = interval
        self.count = 0
        self._start = time.monotonic()
        self._last_line = self._start
        self._closed = False
        self._phase = False  # a phase without counts (see status())
        self._rich: Any = None
        self._task: Any = None
        if self.live:
            self._start_live()

    # -- drawing ------------------------------------------------------------------
    def _start_live(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichProgress

        console = Console(file=self.stream, force_terminal=True, highlight=False)
        columns: list[Any] = [SpinnerColumn(finished_text="✓"), TextColumn("{task.description}"), BarColumn()]
        if self.total is not None:
            columns += [MofNCompleteColumn(), TextColumn(self.unit), TaskProgressColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[left]}")]
        else:
            columns += [TextColumn("{task.completed:,.0f} " + self.unit if self.unit else ""), TimeElapsedColumn()]
        self._rich = RichProgress(*columns, console=console, transient=False, redirect_stdout=False,
                                  redirect_stderr=False, refresh_per_second=8)
        self._rich.start()
        self._task = self._rich.add_task(self.description or "working", total=self.total, left="")

    def line(self, now: float | None = None, *, final: bool = False) -> str:
        """The plain line that describes the work now (what non-terminals get)."""
        now = time.monotonic() if now is None else now
        elapsed = now - self._start
        unit = f" {self.unit}" if self.unit else ""
        head = f"{self.description}: " if self.description else ""
        if self._phase:
            return f"{head}done in {format_duration(elapsed)}" if final else f"{head}{format_duration(elapsed)} elapsed"
        if self.total is None:
            counts = f"{self.count:,}{unit}"
        else:
            frac = min(1.0, self.count / self.total) if self.total else 1.0
            counts = f"{self.count:,}/{self.total:,}{unit} ({frac:.0%})"
        if final:
            return f"{head}{counts} in {format_duration(elapsed)}"
        tail = f", {format_duration(elapsed)} elapsed"
        if self.total and 0 < self.count < self.total:
            tail += f", about {format_duration(elapsed * (self.total - self.count) / self.count)} left"
        return head + counts + tail

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    # -- counting -----------------------------------------------------------------
    def update(self, n: int = 1) -> None:
        """Record ``n`` more units done (and redraw when due)."""
        self.count += n
        if self.quiet or self._closed:
            return
        if self.live:
            elapsed = time.monotonic() - self._start
            left = ""
            if self.total and 0 < self.count < self.total:
                left = f"about {format_duration(elapsed * (self.total - self.count) / self.count)} left"
            self._rich.update(self._task, completed=self.count, left=left)
            return
        now = time.monotonic()
        if now - self._last_line >= self.interval and (self.total is None or self.count < self.total):
            self._write(self.line(now))
            self._last_line = now

    advance = update

    def note(self, text: str) -> None:
        """Print a line of text (a warning, a fact) above the live bar, or plainly; nothing when quiet.

        Example:
            >>> import io
            >>> out = io.StringIO()
            >>> with Progress(2, unit="shards", stream=out) as bar:
            ...     bar.note("warning: shard 1 was computed again")
            >>> out.getvalue().splitlines()[0]
            'warning: shard 1 was computed again'
        """
        if self.quiet:
            return
        if self.live and not self._closed:
            self._rich.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self._write(text)

    def set_description(self, description: str) -> None:
        """Change what the bar says is being done (a new phase)."""
        self.description = description
        if self.live and not self._closed:
            self._rich.update(self._task, description=description)

    def close(self, *, ok: bool = True) -> None:
        """End the bar (or write the final plain line when ``ok``); idempotent."""
        if self._closed:
            return
        self._closed = True
        if self.quiet:
            return
        if self.live:
            if ok:
                done = self.count if self.total is None else max(self.count, self.total)
                self._rich.update(self._task, total=done, completed=done, left="")
            self._rich.stop()
        elif ok:
            self._write(self.line(final=True))

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(ok=exc_type is None)


@contextmanager
def status(description: str, *, quiet: bool = False, stream: TextIO | None = None,
           force: bool = False) -> Iterator[Progress]:
    """A phase without counts: a spinner and the time elapsed (plain: one line at the end).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> with status("fitting the copula", stream=out):
        ...     pass
        >>> out.getvalue()
        'fitting the copula: done in 0:00\\n'
    """
    bar = Progress(None, description=description, quiet=quiet, stream=stream, force=force)
    bar._phase = True
    with bar:
        yield bar


def track(items: Iterable[T], *, total: int | None = None, weight: Any = None, **options: Any) -> Iterator[T]:
    """Yield ``items`` while a :class:`Progress` counts them (``weight(item)`` units each, default 1).

    Args:
        items: what to iterate over.
        total: units expected (default ``len(items)`` where it has one).
        weight: units one item counts for (e.g. the persons in a shard).
        **options: passed to :class:`Progress` (``unit``, ``description``, ``quiet``...).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> sum(track([1, 2, 3], unit="shards", description="writing", stream=out))
        6
        >>> out.getvalue()
        'writing: 3/3 shards (100%) in 0:00\\n'
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(total, **options) as bar:
        for item in items:
            yield item
            bar.update(weight(item) if weight is not None else 1)


class Summary:
    """The short human report at the end of a command: headline, facts, what to do next.

    Args:
        headline: one sentence on what was done ("Exported 1,000 persons to FHIR R4").
        facts: ``(label, value)`` pairs, aligned; numbers are formatted with
            :func:`format_number`.
        next_steps: commands to run or files to open next.

    Example:
        >>> print(Summary("Scored 3 molecules", [("best score", 0.87654)], ["open scored.csv"]).render())
        Scored 3 molecules
          best score  0.877
        Next: open scored.csv
    """

    def __init__(self, headline: str, facts: Sequence[tuple[str, Any]] = (), next_steps: Sequence[str] = ()) -> None:
        self.headline = headline
        self.facts = list(facts)
        self.next_steps = list(next_steps)

    def add(self, label: str, value: Any) -> "Summary":
        """Add one fact; returns self."""
        self.facts.append((label, value))
        return self

    def render(self) -> str:
        """The summary as plain text (no colour), one fact a line."""
        lines = [self.headline]
        width = max((len(label) for label, _ in self.facts), default=0)
        for label, value in self.facts:
            text = value if isinstance(value, str) else format_number(value)
            lines.append(f"  {label:<{width}}  {text}")
        if self.next_steps:
            lines.append("Next: " + self.next_steps[0])
            lines += [f"      {step}" for step in self.next_steps[1:]]
        return "\n".join(lines)
