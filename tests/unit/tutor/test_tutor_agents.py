"""Simulated students: they act only through the Session API; the reference agent diagnoses generated cases."""

from __future__ import annotations

import doctest
from typing import ClassVar

import numpy as np
import pytest

from hygeia.tutor import _agents
from hygeia.tutor._agents import (
    NoisyAgent,
    OracleAgent,
    RandomAgent,
    ReferenceAgent,
    model_for,
    play,
    question,
)
from hygeia.tutor._generate import generate_case
from hygeia.tutor._hpo import load_knowledge
from hygeia.tutor._session import Session


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture(scope="module")
def marfan(kb):
    return generate_case("ORPHA:558", seed=11, kb=kb, images=False)


def test_doctests():
    assert doctest.testmod(_agents).failed == 0


def test_questions_are_text_the_matcher_understands(kb):
    from hygeia.tutor._match import match_question

    for hpo in ("HP:0001166", "HP:0001250", "HP:0000365", "HP:0002650"):
        q = question(kb, hpo)
        assert q.startswith("Do you have ") and q.endswith("?")
        m = match_question(q, kb)
        assert m.intent == "finding" and hpo in dict(m.terms)


class _Spy(Session):
    """A Session that records which public methods an agent called."""

    calls: ClassVar[list[str]] = []

    def ask(self, text):
        self.calls.append("ask")
        return super().ask(text)

    def examine(self, key):
        self.calls.append("examine")
        return super().examine(key)

    def order(self, key):
        self.calls.append("order")
        return super().order(key)


def test_agents_play_through_the_session_only(kb, marfan):
    for agent in (ReferenceAgent(), OracleAgent(), NoisyAgent(), RandomAgent()):
        _Spy.calls = []
        s = play(agent, marfan, max_steps=12, seed=3, kb=kb, session_factory=_Spy)
        assert s.ended and s.differential
        steps = [e for e in s.events if e.kind in ("ask", "exam", "order")]
        assert 0 < len(steps) <= 12 and len(_Spy.calls) == len(steps)
        assert s.events[-1].kind == "end" and s.events[-2].kind == "differential"


def test_oracle_elicits_every_present_finding(kb, marfan):
    s = play(OracleAgent(), marfan, max_steps=100, kb=kb)
    elicited = s.elicited()
    wanted = [f.hpo for f in marfan.present() if f.source != "noise"]
    assert all(elicited.get(h) is True for h in wanted)
    assert s.differential[0] == "ORPHA:558"


def test_random_agent_is_seeded(kb, marfan):
    a = [e.input for e in play(RandomAgent(), marfan, max_steps=10, seed=5, kb=kb).events]
    b = [e.input for e in play(RandomAgent(), marfan, max_steps=10, seed=5, kb=kb).events]
    c = [e.input for e in play(RandomAgent(), marfan, max_steps=10, seed=6, kb=kb).events]
    assert a == b and a != c


def test_reference_agent_stops_when_confident(kb, marfan):
    s = play(ReferenceAgent(confidence=0.9), marfan, max_steps=40, kb=kb)
    steps = sum(e.kind in ("ask", "exam", "order") for e in s.events)
    assert steps < 40
    assert s.differential[0] == "ORPHA:558"
    # no gene lookup by default: the genetic test is never ordered
    assert "gene_panel" not in {e.input for e in s.events if e.kind == "order"}


def test_reference_agent_diagnoses_generated_cases(kb):
    # a small draw of the benchmark's evaluation (Orphanet diseases with >= 10 phenotypes; seed not a reported one)
    rng = np.random.default_rng(7)
    eligible = sorted(d.id for d in kb.diseases.values() if d.source == "ORPHA" and len(d.phenotypes) >= 10)
    credit = []
    for i, did in enumerate(rng.choice(eligible, 12, replace=False)):
        case = generate_case(str(did), seed=700 + i, kb=kb, images=False)
        s = play(ReferenceAgent(), case, max_steps=40, kb=kb)
        credit.append(model_for(case).top1(s.differential, str(did)))
    assert np.mean(credit) >= 0.75


def test_acute_case_priority_actions_first_and_diagnosed(kb):
    case = generate_case("HYGEIA:sepsis", seed=4, kb=kb, images=False)
    s = play(ReferenceAgent(), case, max_steps=30, kb=kb)
    done = {e.input: e.t for e in s.events if e.kind == "action"}
    prio = [a for a in case.actions if a.priority and not a.harmful]
    assert prio and all(a.key in done and done[a.key] <= a.within_minutes for a in prio if a.within_minutes)
    assert not any(a.key in done for a in case.actions if a.harmful)
    assert s.differential[0] == "HYGEIA:sepsis"
