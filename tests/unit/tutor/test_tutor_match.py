"""match_question: free-text history questions -> HPO terms and interview intents."""

from __future__ import annotations

import doctest

import pytest

from hygeia.tutor import _match
from hygeia.tutor._match import INTENTS, match_question, normalise, phrase_index


def test_doctests():
    assert doctest.testmod(_match).failed == 0


def _top(text, kb):
    m = match_question(text, kb)
    return m.terms[0][0] if m.terms else None


@pytest.mark.parametrize(("question", "hpo"), [
    ("Do you get headaches?", "HP:0002315"),                   # name, plural
    ("Have you had any pain in your chest?", "HP:0100749"),    # words in another order
    ("Do you have long fingers?", "HP:0100807"),
    ("Do you have spider fingers?", "HP:0001166"),             # layperson synonym
    ("Any fits?", "HP:0001250"),                               # everyday word
    ("Do you get short of breath?", "HP:0002094"),
    ("Have you noticed any trouble breathing?", "HP:0002094"),
    ("Do you bruise easily?", "HP:0000978"),
    ("Do you have anaemia?", "HP:0001903"),                    # British spelling
    ("Any oedema?", "HP:0000969"),
    ("Do you have diarrhoea?", "HP:0002014"),
    ("Are you short-sighted?", "HP:0000545"),
    ("Any hearing loss?", "HP:0000365"),
    ("Have you ever had a collapsed lung?", "HP:0002107"),
    ("Do you have flat feet?", "HP:0001763"),
    ("Any stretch marks?", "HP:0001065"),
    ("Do you feel tired all the time?", "HP:0012378"),
    ("SEIZURES??", "HP:0001250"),                              # case and punctuation
    ("Do you have trouble seeing at night?", "HP:0000662"),
    ("Have you had any broken bones?", "HP:0002659"),
    ("Was she late to walk?", "HP:0031936"),
    ("Any tummy pain?", "HP:0002027"),
    ("Does he stop breathing at night?", "HP:0010535"),
    ("Was she born early?", "HP:0001622"),
    ("Was he a floppy baby?", "HP:0001252"),
    ("Any ringing in the ears?", "HP:0000360"),
    ("Any difficulty swallowing?", "HP:0002015"),
    ("Do you get a lot of infections?", "HP:0002719"),
    ("Is your speech slurred?", "HP:0001350"),
])
def test_findings(kb, question, hpo):
    m = match_question(question, kb)
    assert m.intent == "finding"
    assert m.terms[0][0] == hpo, [(h, kb.term(h).name) for h, _ in m.terms]


@pytest.mark.parametrize(("question", "system"), [
    ("Any problems with your eyes?", "HP:0000478"),
    ("Any trouble with your heart?", "HP:0001626"),
    ("Have you had problems with your kidneys?", "HP:0000077"),
    ("Anything wrong with your skin?", "HP:0000951"),
    ("Any issues with your joints?", "HP:0001367"),
])
def test_body_system_questions_map_to_a_system_level_term(kb, question, system):
    terms = [h for h, _ in match_question(question, kb).terms]
    assert system in terms


@pytest.mark.parametrize(("question", "intent"), [
    ("What brings you in today?", "chief_complaint"),
    ("What seems to be the problem?", "chief_complaint"),
    ("What's the problem?", "chief_complaint"),
    ("what is the matter", "chief_complaint"),
    ("How can I help you?", "chief_complaint"),
    ("What made you come in?", "chief_complaint"),
    ("So what's been happening?", "chief_complaint"),
    ("When did it start?", "onset"),
    ("Has it got worse?", "onset"),
    ("Is it getting better or worse?", "onset"),
    ("How long has this been going on?", "onset"),
    ("Does anyone in your family have anything similar?", "family"),
    ("Are your parents related?", "family"),
    ("Are you taking any medications?", "medications"),
    ("Any allergies?", "medications"),
    ("Do you smoke?", "social"),
    ("How old are you?", "social"),
    ("What do you do for work?", "social"),
    ("Hello, I'm Dr Smith.", "greeting"),
    ("Good morning", "greeting"),
    ("What's the weather like?", "unknown"),
    ("Do you like football?", "unknown"),
])
def test_intents(kb, question, intent):
    assert match_question(question, kb).intent == intent
    assert intent in INTENTS


@pytest.mark.parametrize("question", ["Anything else?", "Is there anything else?", "Any other problems?",
                                      "What else?", "Have you had any other symptoms?"])
def test_open_questions_for_more(kb, question):
    m = match_question(question, kb)
    assert (m.intent, m.topic) == ("chief_complaint", "more")
    assert match_question("Any other medicines?", kb).intent == "medications"
    assert match_question("Anyone else in the family?", kb).intent == "family"


def test_onset_and_family_keep_the_terms_they_name(kb):
    m = match_question("When did the seizures start?", kb)
    assert m.intent == "onset" and m.terms[0][0] == "HP:0001250"
    m = match_question("Does anyone in your family have seizures?", kb)
    assert m.intent == "family" and m.terms[0][0] == "HP:0001250"


@pytest.mark.parametrize("filler", ["have", "any", "Do you have any?", "Have you ever had anything?", "you",
                                    "problems", "Tell me more", "", "   ", "??!",
                                    "How was your weekend?", "Do you have a car?", "Did you see anyone?",
                                    "Have you seen a doctor before?",
                                    "Can I examine you?", "Do you understand?"])
def test_filler_matches_nothing(kb, filler):
    m = match_question(filler, kb)
    assert m.terms == [] and not m.matched


def test_two_findings_in_one_question_make_two_groups(kb):
    m = match_question("Any headaches or palpitations?", kb)
    assert [g[1][0][0] for g in m.groups] == ["HP:0002315", "HP:0001962"]


def test_acronyms_only_in_capitals(kb):
    assert {h for h, _ in match_question("Do you have ASD?", kb).terms} >= {"HP:0001631"}
    assert match_question("do you have asd?", kb).terms == []


def test_normalise_folds_spelling_plurals_and_filler():
    assert normalise("Haemorrhages") == normalise("hemorrhage")
    assert normalise("Oedema of the feet") == normalise("edema feet")
    assert normalise("behaviour") == normalise("behavior")
    assert normalise("Do you have any problems with your eyes?") == normalise("eye")
    assert normalise("généralisé") == normalise("generalize")


def test_index_is_built_once(kb):
    idx = phrase_index(kb)
    assert phrase_index(kb) is idx
    assert len(idx.phrases) > 30000


