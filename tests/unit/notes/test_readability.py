"""Flesch-Kincaid grade and Flesch reading ease against values computed by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.notes import (
    count_syllables,
    flesch_kincaid_grade,
    flesch_reading_ease,
    readability,
)


@pytest.mark.parametrize(("word", "n"), [
    ("the", 1), ("cat", 1), ("table", 2), ("tables", 2), ("hospital", 3), ("medicine", 3), ("takes", 1),
    ("take", 1), ("jumped", 1), ("needed", 2), ("treated", 2), ("you", 1), ("yes", 1), ("doctor", 2),
    ("medication", 4), ("radio", 3), ("diet", 2), ("pressure", 2), ("boxes", 2), ("changes", 2), ("free", 1),
    ("breathing", 2), ("blood", 1), ("every", 2), ("pneumonia", 4), ("2020", 4), ("x", 1),
])
def test_syllables(word: str, n: int) -> None:
    assert count_syllables(word) == n


def test_one_sentence_by_hand() -> None:
    # 6 words, 1 sentence, 6 syllables: 0.39*6 + 11.8*1 - 15.59 = -1.45; 206.835 - 1.015*6 - 84.6*1 = 116.145
    r = readability("The cat sat on the mat.")
    assert (r.words, r.sentences, r.syllables) == (6, 1, 6)
    assert r.grade == pytest.approx(-1.45) and r.ease == pytest.approx(116.145, abs=0.006)


def test_two_sentences_by_hand() -> None:
    # "You stayed in the hospital." 5 words, 7 syllables (you stayed in the hos-pi-tal)
    # "Take your medicine every day." 5 words, 8 syllables (take your med-i-cine ev-ery day)
    # 10 words, 2 sentences, 15 syllables: grade 0.39*5 + 11.8*1.5 - 15.59 = 4.06; ease 206.835 - 5.075 - 126.9 = 74.86
    text = "You stayed in the hospital. Take your medicine every day."
    r = readability(text)
    assert (r.words, r.sentences, r.syllables) == (10, 2, 15)
    assert flesch_kincaid_grade(text) == pytest.approx(4.06)
    assert flesch_reading_ease(text) == pytest.approx(74.86)


def test_headings_are_sentences_and_empty_text_is_zero() -> None:
    r = readability("YOUR MEDICINES\nKeep taking it.")
    assert r.sentences == 2 and r.words == 5
    assert readability("") == readability("  ...  ")
    assert readability("").grade == 0.0 and readability("").words == 0


def test_long_words_raise_the_grade() -> None:
    plain = "Take one pill each day. Call us if you feel sick."
    dense = "Administer antihypertensive medication consistently. Communicate deteriorating symptomatology immediately."
    assert flesch_kincaid_grade(plain) < 4
    assert flesch_kincaid_grade(dense) > 12
    assert flesch_reading_ease(plain) > flesch_reading_ease(dense)


def test_close_to_textstat_where_installed() -> None:
    textstat = pytest.importorskip("textstat")  # LGPL via pyphen: a reference only, never a dependency
    text = ("You stayed in the hospital for two days. You were treated for a lung infection. "
            "Keep taking your medicine. Call your doctor if you feel worse.")
    assert abs(flesch_kincaid_grade(text) - textstat.flesch_kincaid_grade(text)) < 1.5


@settings(derandomize=True, max_examples=200)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=15))
def test_every_word_has_a_syllable_and_no_more_than_letters(word: str) -> None:
    assert 1 <= count_syllables(word) <= len(word)


@settings(derandomize=True, max_examples=100)
@given(st.lists(st.sampled_from(["You", "take", "medicine", "hospital", "go", "home", "pneumonia"]), min_size=1,
                max_size=10))
def test_repeating_a_sentence_keeps_the_grade(words: list[str]) -> None:
    sentence = " ".join(words) + "."
    assert readability(sentence).grade == readability(sentence + " " + sentence).grade
