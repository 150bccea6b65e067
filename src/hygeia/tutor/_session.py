"""A student's session with a virtual patient: ask, examine, order tests, rank a differential, act, end.

The session is the one engine every front end drives (the terminal, the web UI, the agents).
Each step advances a simulated clock (a question 1 minute, an examination 3, a test its
turnaround, an action 5), is logged as an :class:`Event` and returns a :class:`Reply`: the words
the patient, examiner or laboratory gives, and the HPO terms it reveals present (``hpo``) or
absent (``negatives``).

History questions are free text, matched to HPO terms by :func:`~hygeia.tutor._match.match_question`.
A question about term T gets "yes" from each present *history* finding F with T = F or T above F,
in the patient's words (F.says, else a layperson synonym, else the label; a vague case's patient
uses F.reported_as's words); "no" when no present history finding lies under T, which also reveals
the case's pertinent negatives under T. Exam and test findings are not known to the patient.
Interview questions get the case's own words: the chief complaint ("What brings you in?", which
also reveals the finding it tells of), "Anything else?" (the most frequent history finding not yet
told), the onset and the course, the family history, medicines, social history. A child's history
(under 16) is given by a parent; the wording is :class:`~hygeia.tutor._voice.PatientVoice`'s. Acute cases follow ``case.vitals`` over the clock;
when every priority action is done, deterioration stops (vitals hold; and improve towards normal
when every one was done in time); :attr:`Session.state` is ``'critical'`` at a NEWS2 score of 7 or
more (Royal College of Physicians, National Early Warning Score 2, 2017), else ``'deteriorating'``
or ``'stable'``.

A session is saved as JSON (schema ``hygeia.tutor.session/1``): the inputs and what was replied.
:meth:`Session.from_dict` replays the inputs on the case and checks each reply, so a file edited by
hand or a case changed since the session was played is refused, naming the first differing event.

Example:
    >>> from hygeia.tutor._case import Case, CaseFinding, Patient
    >>> case = Case("demo", {"id": "ORPHA:558", "name": "Marfan syndrome"},
    ...             Patient(24, "female", "My chest hurts when I run."),
    ...             [CaseFinding("HP:0001166", "Arachnodactyly", True, "history",
    ...                          says="Yes, my fingers have always been long and thin."),
    ...              CaseFinding("HP:0001083", "Ectopia lentis", True, "exam"),
    ...              CaseFinding("HP:0002315", "Headache", False, "history", source="absent")])
    >>> s = Session(case)
    >>> s.ask("Are your fingers long?").text
    'Yes, my fingers have always been long and thin.'
    >>> r = s.ask("Do you get headaches?"); r.text, r.negatives
    ("No, I haven't had headaches.", ['HP:0002315'])
    >>> s.examine("eyes").text
    'Eyes: ectopia lentis.'
    >>> s.clock, s.elicited()
    (5.0, {'HP:0001166': True, 'HP:0002315': False, 'HP:0001083': True})
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hygeia.core.atomic import write_text
from hygeia.errors import ConfigError, DataValidationError, Problem
from hygeia.tutor._case import Action, Case, CaseFinding, TestResult, VitalSigns
from hygeia.tutor._channels import channel
from hygeia.tutor._find import acute_names
from hygeia.tutor._hpo import Knowledge, load_knowledge
from hygeia.tutor._match import Match, match_question
from hygeia.tutor._voice import LLMVoice, PatientVoice, lower_label

if TYPE_CHECKING:
    from hygeia.notes._backends import Backend

__all__ = [
    "ACTIONS",
    "EXAM_SYSTEMS",
    "MAX_QUESTION",
    "MINUTES",
    "SESSION_SCHEMA",
    "Event",
    "Reply",
    "Session",
    "clock_text",
    "load_session",
    "news2",
    "save_session",
]

#: Schema id written into every session file.
SESSION_SCHEMA = "hygeia.tutor.session/1"
#: Minutes each kind of step takes on the session clock (a test takes its own turnaround).
MINUTES = {"ask": 1.0, "exam": 3.0, "action": 5.0, "differential": 0.0, "end": 0.0}

#: The longest question :meth:`Session.ask` accepts (characters).
MAX_QUESTION = 500
#: Examinations by system: key -> (label, HPO organ-system ids whose 'exam' findings it shows).
#: Every child of Phenotypic abnormality falls under one key, so every exam finding can be found.
EXAM_SYSTEMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "general": ("General", ("HP:0025142", "HP:0001871", "HP:0002715", "HP:0000818", "HP:0001939", "HP:0002664",
                            "HP:0001197", "HP:0025354")),
    "head_neck": ("Head and neck", ("HP:0000152",)),
    "eyes": ("Eyes", ("HP:0000478",)),
    "ears": ("Ears", ("HP:0000598",)),
    "cardiovascular": ("Cardiovascular", ("HP:0001626",)),
    "respiratory": ("Respiratory", ("HP:0002086", "HP:0045027")),
    "abdomen": ("Abdomen", ("HP:0025031",)),
    "genitourinary": ("Genitourinary", ("HP:0000119",)),
    "musculoskeletal": ("Musculoskeletal", ("HP:0033127",)),
    "limbs": ("Limbs", ("HP:0040064",)),
    "skin": ("Skin, hair and nails", ("HP:0001574", "HP:0000769")),
    "neurological": ("Neurological", ("HP:0000707", "HP:0001608")),
    "growth": ("Growth", ("HP:0001507",)),
}

#: Management actions offered in every case (a case's own ``actions`` add to them and win on a shared key).
ACTIONS: dict[str, Action] = {a.key: a for a in (
    Action("admit", "Admit to hospital"),
    Action("discharge", "Discharge home with safety-net advice"),
    Action("follow_up", "Arrange outpatient follow-up"),
    Action("senior_review", "Ask for a senior review"),
    Action("monitoring", "Start continuous monitoring of vital signs"),
    Action("iv_access", "Insert an intravenous cannula"),
    Action("oxygen", "Give supplemental oxygen"),
    Action("iv_fluids", "Give intravenous fluids"),
    Action("analgesia", "Give pain relief"),
    Action("patient_information", "Explain the working diagnosis and give written information"),
)}

# Vital signs a treated patient recovers towards (an assumption: healthy adult values), and how fast:
# half of the remaining gap closes every _RECOVERY_HALF_LIFE minutes (an assumption, not a cited rate).
_NORMAL_VITALS = VitalSigns(0.0, 80.0, 120.0, 75.0, 16.0, 37.0, 97.0)
_RECOVERY_HALF_LIFE = 60.0
def clock_text(minutes: float) -> str:
    """``minutes`` as ``H:MM`` (the session clock's display).

    Example:
        >>> clock_text(0), clock_text(75.2)
        ('0:00', '1:15')
    """
    m = round(minutes)
    return f"{m // 60}:{m % 60:02d}"


def news2(v: VitalSigns, *, oxygen: bool = False) -> int:
    """The NEWS2 aggregate score of ``v`` (alert patient, SpO2 scale 1).

    Thresholds: Royal College of Physicians, National Early Warning Score (NEWS) 2, 2017, chart 1.
    A score of 7 or more is the high-risk band (emergency response).

    Example:
        >>> news2(VitalSigns(0, 80, 120, 75, 16, 37.0, 97)), news2(VitalSigns(0, 125, 88, 50, 26, 39.3, 91))
        (0, 13)
    """
    s = 2 if oxygen else 0
    rr = v.resp_rate
    s += 3 if rr <= 8 else 1 if rr <= 11 else 0 if rr <= 20 else 2 if rr <= 24 else 3
    o = v.spo2
    s += 3 if o <= 91 else 2 if o <= 93 else 1 if o <= 95 else 0
    sbp = v.systolic
    s += 3 if sbp <= 90 else 2 if sbp <= 100 else 1 if sbp <= 110 else 0 if sbp < 220 else 3
    hr = v.heart_rate
    s += 3 if hr <= 40 else 1 if hr <= 50 else 0 if hr <= 90 else 1 if hr <= 110 else 2 if hr <= 130 else 3
    t = v.temp_c
    s += 3 if t <= 35.0 else 1 if t <= 36.0 else 0 if t <= 38.0 else 1 if t <= 39.0 else 2
    return s


@dataclass
class Reply:
    """What one step returns.

    Attributes:
        text: the words shown to the student (the patient's, the examiner's, the report).
        kind: ``'ask'``, ``'exam'``, ``'order'``, ``'differential'``, ``'action'`` or ``'end'``.
        hpo: terms learnt present (for a vague finding, the vaguer term the student heard).
        negatives: terms learnt absent.
        matched: False where a question matched nothing the patient understood.

    Example:
        >>> Reply("No, I haven't had any fits.", "ask", negatives=["HP:0001250"]).matched
        True
    """

    text: str
    kind: str
    hpo: list[str] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)
    matched: bool = True


@dataclass
class Event:
    """One logged step.

    Attributes:
        t: the session clock (minutes) when the step finished (its reply came).
        kind: as :attr:`Reply.kind`; ``input`` what was typed or chosen (a question, an exam system,
            a test key, an action key; the differential's items joined by ``'; '``).
        reply, hpo, negatives: as the :class:`Reply`.
        cost: US dollars charged (tests).
        matched: as :attr:`Reply.matched`.
        items: the differential as entered (differential events only).
        voice: who worded ``reply``: ``'rules'`` (the rule-based voice, checked on replay) or ``'llm'``
            (a language model rewording it; replay checks what it revealed, and keeps its words).

    Example:
        >>> e = Event(1.0, "ask", "Any fits?", "No, I haven't had any fits.", negatives=["HP:0001250"])
        >>> clock_text(e.t), e.cost
        ('0:01', 0.0)
    """

    t: float
    kind: str
    input: str
    reply: str
    hpo: list[str] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)
    cost: float = 0.0
    matched: bool = True
    items: list[str] | None = None
    voice: str = "rules"


class Session:
    """One student's session with one case (see the module docstring).

    Args:
        case: the virtual patient.
        kb: the HPO knowledge base (default: :func:`~hygeia.tutor._hpo.load_knowledge`).
        id: the session id (default: a fresh random one).
        student: who plays it.
        llm: a language-model backend (:func:`hygeia.notes.backend_for`) to reword the patient's answers
            (:class:`~hygeia.tutor._voice.LLMVoice`); None (the default) keeps the rule-based voice, offline.

    Attributes:
        events: every step so far, in order. ``clock``: minutes since the start.
        differential: the ranked disease ids last entered. ``ended``: True after :meth:`end`.
        cost: US dollars spent on tests.
        voice: the :class:`~hygeia.tutor._voice.PatientVoice` that words the patient's answers.

    Example:
        >>> from hygeia.tutor._case import Case, Patient
        >>> s = Session(Case("c", {"id": "ORPHA:558", "name": "Marfan syndrome"}, Patient(30, "male", "I'm here."), []))
        >>> r = s.ask("what is the weather like"); r.matched, r.text
        (False, "Sorry, I don't understand the question.")
        >>> s.set_differential(["Marfan syndrome", "OMIM:154700"]).text
        'Differential: 1. Marfan syndrome (ORPHA:558); 2. Marfan syndrome (OMIM:154700).'
    """

    def __init__(self, case: Case, *, kb: Knowledge | None = None, id: str | None = None,
                 student: str = "", llm: Backend | None = None) -> None:
        self.case = case
        self.kb = kb if kb is not None else load_knowledge()
        self.id = id or uuid.uuid4().hex[:12]
        self.student = student
        self.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.events: list[Event] = []
        self.clock = 0.0
        self.differential: list[str] = []
        self.ended = False
        self.cost = 0.0
        self._elicited: dict[str, bool] = {}
        self._ordered: dict[str, float] = {}      # test key -> clock when its result came
        self._done: dict[str, float] = {}         # action key -> clock when done
        self._tests = {t.key: t for t in case.tests}
        self._actions = {**ACTIONS, **{a.key: a for a in case.actions}}
        self._vitals = sorted(case.vitals, key=lambda v: v.minutes)
        self.voice = PatientVoice(case, self.kb) if llm is None else LLMVoice(case, self.kb, llm)

    # -- the student's steps ------------------------------------------------------------------
    def ask(self, text: str) -> Reply:
        """Ask the patient (or a child's parent) a free-text question."""
        self._check_open()
        if not text or not text.strip():
            raise ConfigError("empty question: type what you would ask the patient, e.g. 'Do you get headaches?'")
        if len(text) > MAX_QUESTION:
            raise ConfigError(f"question too long ({len(text)} characters): ask one thing at a time, in at most "
                              f"{MAX_QUESTION} characters")
        m = match_question(text, self.kb)
        reply = self._answer(m)
        worded = self.voice.reword(text.strip(), reply.text)
        voice = "rules" if worded == reply.text else self.voice.kind
        reply.text = worded
        return self._log("ask", text.strip(), reply, MINUTES["ask"], voice=voice)

    def examine(self, system_key: str) -> Reply:
        """Examine one system (a key of :data:`EXAM_SYSTEMS`, or its label)."""
        self._check_open()
        key = self._exam_key(system_key)
        label, ids = EXAM_SYSTEMS[key]
        found = [f for f in self.case.findings if f.channel == "exam" and self.kb.ancestors(f.hpo) & set(ids)]
        present = [f for f in found if f.present]
        absent = [f for f in found if not f.present]
        words = [self._clinical(f) for f in present]
        text = f"{label}: " + ("; ".join(words) if words else "normal") + "."
        if key == "general" and self._vitals:
            v = self.vitals_at(self.clock + MINUTES["exam"])
            looks = f"Nurse's note: {v.note.strip().rstrip('.')}. " if v is not None and v.note.strip() else ""
            text = (f"{label}: {self._vitals_text(v)}. {looks}"
                    + (_capital("; ".join(words)) + "." if words else "Otherwise unremarkable."))
        if absent:
            text += " No " + ", no ".join(lower_label(f.name) for f in absent) + "."
        reply = Reply(text, "exam", [self._heard(f) for f in present], [f.hpo for f in absent])
        for f in found:
            self._elicited[f.hpo] = f.present
        return self._log("exam", key, reply, MINUTES["exam"])

    def order(self, test_key: str) -> Reply:
        """Order a test (a key of the case's ``tests``, or its name); ordering it again shows the earlier result free."""
        self._check_open()
        t = self._test(test_key)
        present, negatives = self._test_findings(t)
        if t.key in self._ordered:
            text = f"{t.name} (already resulted at {clock_text(self._ordered[t.key])}): {self._result_text(t)}"
            return self._log("order", t.key, Reply(text, "order", present, negatives), 0.0)
        text = f"{t.name}: {self._result_text(t)}"
        for h in t.reveals:
            f = self.case.finding(h)
            if f is not None:
                self._elicited[f.hpo] = f.present
        self.cost += t.cost
        self._ordered[t.key] = self.clock + t.minutes
        return self._log("order", t.key, Reply(text, "order", present, negatives), t.minutes, cost=t.cost)

    def set_differential(self, items: list[str]) -> Reply:
        """Enter the ranked differential: disease ids (``ORPHA:558``) or names, most likely first."""
        self._check_open()
        ids: list[str] = []
        for item in items:
            if item.strip():
                d = self._disease_id(item)
                if d not in ids:
                    ids.append(d)
        self.differential = ids
        if ids:
            text = "Differential: " + "; ".join(f"{i}. {self.disease_name(d)} ({d})"
                                                for i, d in enumerate(ids, 1)) + "."
        else:
            text = "Differential cleared."
        reply = Reply(text, "differential")
        return self._log("differential", "; ".join(items), reply, MINUTES["differential"], items=list(items))

    def act(self, action_key: str) -> Reply:
        """Take a management action (a key of :meth:`actions`)."""
        self._check_open()
        key = self._action_key(action_key)
        a = self._actions[key]
        if key in self._done:
            text = f"Already done at {clock_text(self._done[key])}: {a.name}."
            return self._log("action", key, Reply(text, "action"), 0.0)
        self._done[key] = self.clock + MINUTES["action"]
        text = f"Done: {a.name}."
        prio = [p.key for p in self._actions.values() if p.priority]
        if self.case.acute and a.priority and prio and all(k in self._done for k in prio):
            text += " The patient's observations stop getting worse."
        return self._log("action", key, Reply(text, "action"), MINUTES["action"])

    def end(self) -> Reply:
        """End the session (no step is accepted after it)."""
        self._check_open()
        self.ended = True
        n_q = sum(e.kind == "ask" for e in self.events)
        text = (f"Session ended at {clock_text(self.clock)}: {n_q} question{'s' if n_q != 1 else ''}, "
                f"{len(self._ordered)} test{'s' if len(self._ordered) != 1 else ''} (${self.cost:,.0f}), "
                f"{len(self._done)} action{'s' if len(self._done) != 1 else ''}.")
        return self._log("end", "", Reply(text, "end"), MINUTES["end"])

    # -- what the session knows -------------------------------------------------------------
    def elicited(self) -> dict[str, bool]:
        """The case's findings revealed so far: HPO id -> present (True) or a pertinent negative (False)."""
        return dict(self._elicited)

    def actions(self) -> dict[str, Action]:
        """Every action the student may take here: :data:`ACTIONS` and the case's own."""
        return dict(self._actions)

    def tests(self) -> dict[str, TestResult]:
        """The tests the student may order, by key."""
        return dict(self._tests)

    @property
    def done(self) -> dict[str, float]:
        """Actions taken: key -> the clock when done."""
        return dict(self._done)

    @property
    def ordered(self) -> dict[str, float]:
        """Tests ordered: key -> the clock when the result came."""
        return dict(self._ordered)

    @property
    def informant(self) -> str:
        """Who answers the history: ``'patient'``, or ``'parent'`` for a child under 16."""
        return self.voice.informant

    def vitals_now(self) -> VitalSigns | None:
        """The vital signs at the current clock (None for a case without vital signs)."""
        return self.vitals_at(self.clock) if self._vitals else None

    def vitals_at(self, minutes: float) -> VitalSigns | None:
        """The vital signs at ``minutes``, given the priority actions done by then (None without vital signs).

        Untreated, they follow ``case.vitals`` (linear between its points, held past its ends). Once every
        priority action is done they stop there; when each was done by its deadline they then recover
        towards normal values (half the gap every 60 minutes; an assumption).
        """
        if not self._vitals:
            return None
        fixed = self._stabilised(minutes)
        if fixed is None:
            return self._trajectory(minutes)
        at_fix, on_time = self._trajectory(fixed[0]), fixed[1]
        if not on_time:
            return VitalSigns(minutes, *(getattr(at_fix, k) for k in _VITAL_KEYS), note=at_fix.note)
        w = 1.0 - 0.5 ** ((minutes - fixed[0]) / _RECOVERY_HALF_LIFE)
        vals = [getattr(at_fix, k) + w * (getattr(_NORMAL_VITALS, k) - getattr(at_fix, k)) for k in _VITAL_KEYS]
        return VitalSigns(minutes, *(round(x, 1) for x in vals), note="improving with treatment")

    @property
    def state(self) -> str:
        """``'critical'`` (NEWS2 >= 7), ``'deteriorating'`` (an acute case not yet stabilised) or ``'stable'``."""
        v = self.vitals_now()
        if v is None:
            return "stable"
        oxygen = any("oxygen" in k for k in self._done)
        if news2(v, oxygen=oxygen) >= 7:
            return "critical"
        if self.case.acute and self._stabilised(self.clock) is None:
            return "deteriorating"
        return "stable"

    def transcript(self) -> list[str]:
        """The session as lines of text, ``[H:MM] kind: input -> reply``."""
        return [f"[{clock_text(e.t)}] {e.kind}: {e.input} -> {e.reply}" if e.input else
                f"[{clock_text(e.t)}] {e.kind}: {e.reply}" for e in self.events]

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The session as JSON-ready data (schema ``hygeia.tutor.session/1``)."""
        from hygeia import __version__
        return {
            "schema": SESSION_SCHEMA, "id": self.id, "student": self.student, "created": self.created,
            "case": {"id": self.case.id, "disease": self.case.disease.get("id")},
            "hygeia": __version__, "clock": self.clock, "ended": self.ended, "cost": self.cost,
            "differential": list(self.differential), "state": self.state,
            "voice": self.voice.describe(), "elicited": self.elicited(), "events": [asdict(e) for e in self.events],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], case: Case, *, kb: Knowledge | None = None,
                  llm: Backend | None = None) -> Session:
        """Replay a saved session on ``case``, checking every reply against the saved one.

        Raises:
            DataValidationError: not a session file, played on another case, or a reply that differs
                (the case changed since): the first differing event is named.
        """
        problems = _check_session_data(data)
        if problems:
            raise DataValidationError(problems, header="not a readable tutor session")
        if data["case"].get("id") != case.id:
            raise DataValidationError([Problem("case.id", f"the session was played on case {data['case'].get('id')!r}, "
                                                          f"not {case.id!r}: load it with that case")],
                                      header="session and case do not match")
        s = cls(case, kb=kb, id=data["id"], student=data.get("student", ""))
        s.created = data.get("created", s.created)
        names = {f.name for f in fields(Event)}
        for i, raw in enumerate(data["events"]):
            saved = Event(**{k: v for k, v in raw.items() if k in names})
            where = f"event {i + 1} ({saved.kind} {saved.input!r} at {clock_text(saved.t)})"
            try:
                s._replay(saved)
            except ConfigError as exc:
                raise DataValidationError([Problem(where, f"the case no longer accepts it: {exc}")],
                                          header="the session does not replay on this case") from None
            got = s.events[-1]
            if saved.voice != "rules":           # a model's words: what it revealed is checked, its words kept
                got.reply, got.voice = saved.reply, saved.voice
            diff = [k for k in ("kind", "reply", "hpo", "negatives", "cost", "matched")
                    if getattr(got, k) != getattr(saved, k)] + (["t"] if abs(got.t - saved.t) > 1e-6 else [])
            if diff:
                k = diff[0]
                raise DataValidationError([Problem(where, f"{k} differs: the case now gives {getattr(got, k)!r}, "
                                                          f"the session file holds {getattr(saved, k)!r}")],
                                          header="the session does not replay on this case (was the case edited?)")
        if llm is not None:
            s.voice = LLMVoice(case, s.kb, llm)
        return s

    def _replay(self, e: Event) -> None:
        if e.kind == "ask":
            self.ask(e.input)
        elif e.kind == "exam":
            self.examine(e.input)
        elif e.kind == "order":
            self.order(e.input)
        elif e.kind == "differential":
            self.set_differential(e.items if e.items is not None else [x for x in e.input.split(";")])
        elif e.kind == "action":
            self.act(e.input)
        elif e.kind == "end":
            self.end()
        else:
            raise ConfigError(f"unknown event kind {e.kind!r}: expected one of ask, exam, order, differential, "
                              "action, end")

    # -- internals ----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.ended:
            raise ConfigError(f"session {self.id} has ended: start a new session to play the case again")

    def _log(self, kind: str, inp: str, reply: Reply, minutes: float, *, cost: float = 0.0,
             items: list[str] | None = None, voice: str = "rules") -> Reply:
        self.clock += minutes
        self.events.append(Event(self.clock, kind, inp, reply.text, list(reply.hpo), list(reply.negatives), cost,
                                 reply.matched, items, voice))
        return reply

    def _heard(self, f: CaseFinding) -> str:
        return f.reported_as or f.hpo

    def _label(self, hpo: str) -> str:
        t = self.kb.terms.get(self.kb.alt_ids.get(hpo, hpo))
        if t is not None:
            return t.name
        f = self.case.finding(hpo)
        return f.name if f is not None else hpo

    def _clinical(self, f: CaseFinding) -> str:
        return lower_label(self._label(f.reported_as) if f.reported_as else f.name)

    def _answer(self, m: Match) -> Reply:
        if m.intent == "unknown":
            return Reply(self.voice.unmatched(self.case.id, len(self.events), m.text), "ask", matched=False)
        if m.intent == "greeting":
            return Reply(self.voice.greeting(m.text), "ask")
        if m.intent == "chief_complaint" and m.topic == "more":
            return self._more()
        if m.intent == "chief_complaint":
            found = self._complaint_findings()
            for f in found:
                self._elicited[f.hpo] = True
            return Reply(self.voice.sentence(self.case.patient.chief_complaint) or "I just haven't been feeling right.",
                         "ask", list(dict.fromkeys(self._heard(f) for f in found)))
        if m.intent == "onset" and m.topic == "course":
            did = str(self.case.disease.get("id", ""))
            course = self.kb.diseases[did].course if did in self.kb.diseases else ()
            fixed = self._stabilised(self.clock)
            treated = None if fixed is None else fixed[1]
            return Reply(self.voice.course(course, self.state, treated), "ask")
        if m.intent == "onset":
            return Reply(self.voice.onset(m), "ask")
        if m.intent == "family":
            return Reply(self.voice.consanguinity() if m.topic == "consanguinity" else self.voice.family(), "ask")
        if m.intent == "medications":
            return Reply(self.voice.medications(m.text), "ask")
        if m.intent == "social":
            return Reply(self.voice.social(m.topic), "ask")
        return self._findings_answer(m)

    def _findings_answer(self, m: Match) -> Reply:
        texts: list[str] = []
        hpo: list[str] = []
        negatives: list[str] = []
        history = [f for f in self.case.findings if f.channel == "history"]
        for words, hits in m.groups:
            top = hits[0][1]
            asked = [h for h, s in hits if s >= top - 1e-9]
            asked_set = set(asked)
            yes = [f for f in history if f.present and self.kb.ancestors(f.hpo) & asked_set]
            if yes:
                texts.append(self.voice.yes(yes))
                for f in yes:
                    self._elicited[f.hpo] = True
                    hpo.append(self._heard(f))
                continue
            # a term more specific than what the patient has: they can say no more than what they have
            # (unless the case holds that very term as a pertinent negative: then it is a plain no)
            denied = any(not f.present and f.hpo in asked_set for f in history)
            above = [] if denied else [f for f in history
                                       if f.present and any(f.hpo in self.kb.ancestors(h) for h in asked)]
            if above:
                f = above[0]
                texts.append(self.voice.partial(f.reported_as or f.hpo))
                self._elicited[f.hpo] = True
                hpo.append(self._heard(f))
                continue
            # a finding only an examination or a test shows: the patient cannot tell, present or not
            how = channel(asked[0], self.kb)
            if how != "history":
                texts.append(self.voice.unsure(how))
                continue
            # the patient can only deny what they would know: history negatives are revealed, exam/test ones not
            neg = [f for f in history if not f.present and self.kb.ancestors(f.hpo) & asked_set]
            texts.append(self.voice.no(words, asked[0], m.text))
            negatives.extend(h for h in asked if h not in negatives)
            for f in neg:
                self._elicited[f.hpo] = False
                if f.hpo not in negatives:
                    negatives.append(f.hpo)
        return Reply(self.voice.merge(list(dict.fromkeys(texts))), "ask", list(dict.fromkeys(hpo)), negatives)

    def _more(self) -> Reply:
        """An open "Anything else?": the patient tells the most frequent history finding not yet told."""
        told = set(self._elicited) | {f.hpo for f in self._complaint_findings()}
        left = [f for f in self.case.findings if f.present and f.channel == "history" and f.hpo not in told]
        if not left:
            return Reply(self.voice.nothing_more(), "ask")
        f = min(left, key=lambda f: (-(0.5 if f.frequency is None else f.frequency), f.hpo))
        self._elicited[f.hpo] = True
        return Reply(self.voice.also(f), "ask", [self._heard(f)])

    def _complaint_findings(self) -> list[CaseFinding]:
        """The present history findings the chief complaint tells of: those whose words (``says``, a layperson
        synonym or the label of the term the patient reports) it holds, or whose term (or its parent) it names."""
        cc = (self.case.patient.chief_complaint or "").lower()
        if not cc:
            return []
        named = {h for _w, hits in match_question(cc, self.kb).groups for h, _s in hits}
        out: dict[str, CaseFinding] = {}     # one finding per term heard
        for f in self.case.findings:
            heard = self._heard(f)
            if not (f.present and f.channel == "history") or heard in out:
                continue
            t = self.kb.terms.get(heard)
            words = [f.says or "", f.name] + ([t.name, *t.lay] if t is not None else [])
            # the term, or its parent where that is not an organ-system-level term ("shivering": chills > rigors)
            close = {heard, *(p for p in (t.parents if t is not None else ())
                              if p in self.kb.terms and not _GENERIC_LABEL.search(self.kb.terms[p].name))}
            if close & named or any(len(w) > 3 and w.lower().split("/")[0].strip() in cc for w in words):
                out[heard] = f
        return list(out.values())

    def _exam_key(self, value: str) -> str:
        v = (value or "").strip().lower().replace("-", "_").replace(" ", "_")
        if v in EXAM_SYSTEMS:
            return v
        for k, (label, _ids) in EXAM_SYSTEMS.items():
            if v == label.lower().replace(" ", "_").replace(",", ""):
                return k
        raise ConfigError(f"unknown exam system {value!r}: choose one of {', '.join(EXAM_SYSTEMS)}")

    def _test(self, value: str) -> TestResult:
        v = (value or "").strip()
        if v in self._tests:
            return self._tests[v]
        for t in self._tests.values():
            if v.lower() in (t.key.lower(), t.name.lower()):
                return t
        close = difflib.get_close_matches(v.lower(), [k.lower() for k in self._tests], n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown test {value!r}: this case offers {', '.join(self._tests) or 'no tests'}.{hint}")

    def _action_key(self, value: str) -> str:
        v = (value or "").strip()
        if v in self._actions:
            return v
        for a in self._actions.values():
            if v.lower() in (a.key.lower(), a.name.lower()):
                return a.key
        raise ConfigError(f"unknown action {value!r}: choose one of {', '.join(self._actions)}")

    def _test_findings(self, t: TestResult) -> tuple[list[str], list[str]]:
        present, negatives = [], []
        for h in t.reveals:
            f = self.case.finding(h)
            (negatives if f is not None and not f.present else present).append(h)
        return present, negatives

    def _result_text(self, t: TestResult) -> str:
        text = self.voice.sentence(t.result)
        rows = []
        for v in t.values:
            rng = ""
            if v.get("low") is not None or v.get("high") is not None:
                rng = f" (ref {_num(v.get('low'))}-{_num(v.get('high'))})"
            flag = f" {v['flag']}" if v.get("flag") else ""
            rows.append(f"{v.get('name', '?')} {_num(v.get('value'))} {v.get('unit', '')}".rstrip() + rng + flag)
        return text + (" " + "; ".join(rows) + "." if rows else "")

    def _disease_id(self, item: str) -> str:
        text = item.strip()
        own = self.case.disease
        if text.lower() in {str(own.get("id", "")).lower(), str(own.get("name", "")).lower()}:
            return str(own["id"])
        extra = _match_extra(text)
        if extra is not None:
            return extra
        key = text.upper().replace("ORPHANET:", "ORPHA:")
        if key in self.kb.diseases:
            return key
        low = text.lower()
        by_name = [d for d in self.kb.diseases.values() if d.name.lower() == low]
        if by_name:
            by_name.sort(key=lambda d: (-len(d.phenotypes), d.id))
            return by_name[0].id
        hits = self.kb.search_diseases(text, limit=1)
        if hits:
            return hits[0].id
        close = difflib.get_close_matches(text, [d.name for d in self.kb.diseases.values()], n=3, cutoff=0.75)
        hint = f" Did you mean {'; '.join(close)}?" if close else ""
        raise ConfigError(f"unknown disease {item!r}: give an ORPHA/OMIM id or a name from the HPO annotations "
                          f"(find ids with: hygeia tutor diseases NAME).{hint}")

    def disease_name(self, did: str) -> str:
        """The name of disease ``did`` (the case's own, an HPO-annotated one, or an acute one)."""
        if did == self.case.disease.get("id"):
            return str(self.case.disease.get("name", did))
        if did in self.kb.diseases:
            return self.kb.diseases[did].name
        return acute_names().get(did, did)

    # acute cases
    def _trajectory(self, minutes: float) -> VitalSigns:
        vs = self._vitals
        if minutes <= vs[0].minutes:
            a = vs[0]
            return VitalSigns(minutes, *(getattr(a, k) for k in _VITAL_KEYS), note=a.note)
        for a, b in itertools.pairwise(vs):
            if minutes <= b.minutes:
                w = (minutes - a.minutes) / (b.minutes - a.minutes) if b.minutes > a.minutes else 1.0
                vals = [getattr(a, k) + w * (getattr(b, k) - getattr(a, k)) for k in _VITAL_KEYS]
                return VitalSigns(minutes, *(round(x, 1) for x in vals), note=(a.note if w < 1 else b.note))
        z = vs[-1]
        return VitalSigns(minutes, *(getattr(z, k) for k in _VITAL_KEYS), note=z.note)

    def _stabilised(self, minutes: float) -> tuple[float, bool] | None:
        """(when, on time) where every priority action was done by ``minutes``, else None."""
        prio = [a for a in self._actions.values() if a.priority]
        if not prio or any(a.key not in self._done or self._done[a.key] > minutes for a in prio):
            return None
        when = max(self._done[a.key] for a in prio)
        on_time = all(a.within_minutes is None or self._done[a.key] <= a.within_minutes for a in prio)
        return when, on_time

    def _vitals_text(self, v: VitalSigns | None) -> str:
        if v is None:
            return ""
        return (f"HR {v.heart_rate:.0f}/min, BP {v.systolic:.0f}/{v.diastolic:.0f} mmHg, RR {v.resp_rate:.0f}/min, "
                f"T {v.temp_c:.1f} °C, SpO2 {v.spo2:.0f}%")


_GENERIC_LABEL = re.compile(r"\b(abnormal|abnormality|anomaly|phenotypic)\b", re.IGNORECASE)
_VITAL_KEYS = ("heart_rate", "systolic", "diastolic", "resp_rate", "temp_c", "spo2")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _num(x: Any) -> str:
    if x is None:
        return "?"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


# Abbreviations a student may type for an acute-catalogue disease (used where the catalogue holds the id).
_ACUTE_ALIASES = {"dka": "HYGEIA:diabetic_ketoacidosis", "pe": "HYGEIA:pulmonary_embolism",
                  "septic shock": "HYGEIA:sepsis"}


def _match_extra(text: str) -> str | None:
    """The acute-catalogue id that ``text`` names (its id, the id's words, its name, or words all in its name)."""
    low = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    if _ACUTE_ALIASES.get(low) in acute_names():
        return _ACUTE_ALIASES[low]
    for did, name in acute_names().items():
        short = did.split(":", 1)[-1].replace("_", " ").lower()
        if low in (short, name.lower()) or text.strip().lower() == did.lower():
            return did
    words = low.split()
    for did, name in acute_names().items():
        if words and all(w in name.lower() for w in words):
            return did
    return None


def _check_session_data(data: Any) -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem("file", f"expected a JSON object, got {type(data).__name__}")]
    out = []
    if data.get("schema") != SESSION_SCHEMA:
        out.append(Problem("schema", f"expected {SESSION_SCHEMA!r}, got {data.get('schema')!r}"))
    if not isinstance(data.get("id"), str) or not data.get("id"):
        out.append(Problem("id", "missing or not a string"))
    if not isinstance(data.get("case"), dict):
        out.append(Problem("case", "missing: expected {id, disease}"))
    events = data.get("events")
    if not isinstance(events, list):
        out.append(Problem("events", "missing or not a list"))
    else:
        for i, e in enumerate(events):
            if not isinstance(e, dict) or not isinstance(e.get("kind"), str) or not isinstance(e.get("input"), str) \
                    or not isinstance(e.get("reply"), str) or not isinstance(e.get("t"), (int, float)):
                out.append(Problem(f"events[{i}]", "expected {t: number, kind: text, input: text, reply: text, ...}"))
    return out


def save_session(session: Session, path: str | Path) -> Path:
    """Write ``session`` as JSON to ``path`` atomically (replacing an earlier save); returns the path.

    Example:
        >>> import tempfile, pathlib
        >>> from hygeia.tutor._case import Case, Patient
        >>> case = Case("c", {"id": "ORPHA:558", "name": "Marfan syndrome"}, Patient(30, "male", "I'm tired."), [])
        >>> s = Session(case); _ = s.ask("What brings you in?")
        >>> p = save_session(s, pathlib.Path(tempfile.mkdtemp()) / "s.json")
        >>> load_session(p, case).events[0].reply
        "I'm tired."
    """
    return write_text(path, json.dumps(session.to_dict(), indent=1, ensure_ascii=False) + "\n", what="session file")


def load_session(path: str | Path, case: Case, *, kb: Knowledge | None = None,
                 llm: Backend | None = None) -> Session:
    """Read a session saved by :func:`save_session` and replay it on ``case`` (see :meth:`Session.from_dict`).

    Raises:
        DataValidationError: the file is not a session of this case, or does not replay on it.
        ConfigError: the file does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"no session file at {str(p)!r}: give the path a session was saved to")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataValidationError([Problem(str(p), f"not JSON text ({exc})")],
                                  header="not a readable tutor session") from None
    return Session.from_dict(data, case, kb=kb, llm=llm)
