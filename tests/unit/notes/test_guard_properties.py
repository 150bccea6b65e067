"""Property tests of the guard's parsers and of planted errors (hypothesis, derandomized)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.notes._facts import Fact
from hygeia.notes._guard import check_faithfulness, find_dates, find_numbers
from hygeia.notes._hallucinate import _date_text, plant_errors

DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
FORMATS = ("2000-01-01", "1/1/2000", "January 1, 2000", "1 January 2000")


@settings(derandomize=True, max_examples=200)
@given(DATES, st.sampled_from(FORMATS), st.sampled_from(["Seen on {}.", "{}: admitted", "Follow up ({})"]))
def test_every_written_date_is_read_back(day, like, template):
    written = _date_text(day, like)
    text = template.format(written)
    found = find_dates(text)
    assert [(text[s:e], iso) for s, e, iso in found] == [(written, day.isoformat())]
    assert all(not (s <= a < e) for a, _, _, _ in find_numbers(text) for s, e, _ in found)  # no date part is a number


@settings(derandomize=True, max_examples=200)
@given(st.decimals(min_value="0.01", max_value="5000", places=2), st.sampled_from(["mg", "mcg", "mL", "mmHg", "%"]))
def test_a_value_with_its_unit_is_supported_by_itself_and_not_by_another(value, unit):
    v = f"{value.normalize():f}"
    src = f"Dose {v} {unit} daily."
    assert check_faithfulness(src, f"Took {v} {unit}.").ok
    other = f"{value * 2 + 1:f}"
    assert [f.kind for f in check_faithfulness(src, f"Took {other} {unit}.").flags] == ["value"]


@settings(derandomize=True, max_examples=100)
@given(st.integers(0, 10_000), st.sampled_from(["Lisinopril 10 mg daily. ", "Denies chest pain. ", ""]),
       DATES)
def test_planted_errors_change_only_their_span(seed, prefix, day):
    text = f"{prefix}Seen {day.isoformat()} for pneumonia."
    facts = []
    if prefix.startswith("Lisinopril"):
        facts.append(Fact("medication", "Lisinopril 10 mg", 0, 16, "lisinopril", dose="10 mg"))
    i = text.index("pneumonia")
    facts.append(Fact("problem", "pneumonia", i, i + 9, "pneumonia"))
    for e in plant_errors(text, facts, seed, drugs=["metformin", "warfarin"]):
        assert e.text[e.start:e.end] == e.replacement
        tail = len(text) - (e.start + len(e.original))
        assert e.text[:e.start] == text[:e.start] or e.original == ""
        assert e.original == "" or e.text[len(e.text) - tail:] == text[len(text) - tail:]
        assert e.text != text
