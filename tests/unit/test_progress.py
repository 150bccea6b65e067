"""The console layer: a live bar in a terminal, plain lines elsewhere, nothing when quiet, the summary."""

from __future__ import annotations

import io
import re

import pytest

from hygeia.core import progress as progress_mod
from hygeia.core.progress import (
    Progress,
    Summary,
    describe_output,
    format_duration,
    format_number,
    format_size,
    status,
    track,
)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_bar_in_a_terminal_shows_counts_and_ends_the_line() -> None:
    buf = _Tty()
    with Progress(4, unit="persons", description="generating", stream=buf) as bar:
        bar.update(4)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    assert "generating" in text and "4/4" in text and "persons" in text and "100%" in text
    assert text.endswith("\n")


def test_plain_lines_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 12.0, 20.0, 30.0])  # start, first update, second update, final line
    monkeypatch.setattr(progress_mod.time, "monotonic", lambda: next(clock))
    buf = io.StringIO()
    with Progress(100, unit="persons", description="generating", stream=buf, interval=10) as bar:
        bar.update(25)  # 12 s in: one line, with the time left
        bar.update(75)
    lines = buf.getvalue().splitlines()
    assert lines == ["generating: 25/100 persons (25%), 0:12 elapsed, about 0:36 left",
                     "generating: 100/100 persons (100%) in 0:30"]
    assert "\x1b" not in buf.getvalue() and "\r" not in buf.getvalue()


def test_quiet_draws_nothing_even_in_a_terminal() -> None:
    buf = _Tty()
    with Progress(4, stream=buf, quiet=True) as bar:
        bar.update(4)
    with status("fitting", stream=buf, quiet=True):
        pass
    assert buf.getvalue() == ""


def test_a_failed_phase_writes_no_done_line() -> None:
    buf = io.StringIO()
    with pytest.raises(RuntimeError), status("fitting", stream=buf):
        raise RuntimeError("boom")
    assert buf.getvalue() == ""


def test_status_and_track_plain() -> None:
    buf = io.StringIO()
    with status("reading FHIR", stream=buf):
        pass
    assert buf.getvalue() == "reading FHIR: done in 0:00\n"
    buf = io.StringIO()
    assert list(track([[1, 2], [3]], weight=len, total=3, unit="persons", description="exporting", stream=buf)) == [[1, 2], [3]]
    assert buf.getvalue() == "exporting: 3/3 persons (100%) in 0:00\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.9512209773803424, "0.951"), (1234567, "1,234,567"), (1234.5678, "1,235"), (12.3456, "12.3"),
     (0.000123456, "0.000123"), (1e-9, "1.00e-09"), (0.0, "0"), (3.0, "3"), (float("nan"), "n/a"), (False, "no")],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


def test_sizes_and_durations(tmp_path) -> None:
    assert format_size(999) == "999 B" and format_size(806_000_000) == "806 MB" and format_size(1_570_000_000) == "1.57 GB"
    assert format_duration(75) == "1:15" and format_duration(3700) == "1:01:40"
    (tmp_path / "a").write_bytes(b"x" * 1500)
    (tmp_path / "b").write_bytes(b"y" * 500)
    assert describe_output(tmp_path) == f"{tmp_path}/ (2 files, 2 kB)"
    assert describe_output(tmp_path / "a") == f"{tmp_path / 'a'} (1.5 kB)"


def test_summary_aligns_facts_and_lists_next_steps() -> None:
    text = Summary("Exported 3 persons", [("output", "fhir/"), ("Patient", 3), ("fidelity", 0.95123)],
                   ["hygeia import-fhir fhir --out back", "open fhir/"]).render()
    assert text.splitlines() == [
        "Exported 3 persons",
        "  output    fhir/",
        "  Patient   3",
        "  fidelity  0.951",
        "Next: hygeia import-fhir fhir --out back",
        "      open fhir/",
    ]
