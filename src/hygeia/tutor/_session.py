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
the case's pertinent negatives under T. Exam and test findings are not known to the patient. A
child's history (under 16) is given by a parent. Acute cases follow ``case.vitals`` over the clock;
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
import functools
import itertools
import json
import re
import uuid
import zlib
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from hygeia.core.atomic import write_text
from hygeia.errors import ConfigError, DataValidationError, Problem
from hygeia.tutor._case import Action, Case, CaseFinding, TestResult, VitalSigns
from hygeia.tutor._hpo import Knowledge, Term, load_knowledge
from hygeia.tutor._match import _BODY, Match, match_question, normalise

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
_CHILD_AGE = 16.0  # a parent answers for a patient under 16 (as the case generator's chief complaint)
_UNMATCHED = (
    "Sorry, I'm not sure what you mean. Could you ask me another way?",
    "I don't quite follow, doctor. What do you want to know?",
    "Sorry, I don't understand the question.",
    "I'm not sure how to answer that. Could you put it differently?",
)


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


def _pick(options: tuple[str, ...], *key: object) -> str:
    """One of ``options``, the same for the same key (replies vary, replays do not)."""
    return options[zlib.crc32("|".join(map(str, key)).encode()) % len(options)]


def _lower(text: str) -> str:
    """Lower-case a label, keeping acronyms and eponyms' capitals where a word is all capitals."""
    return " ".join(w if (w.isupper() and len(w) > 1) else w.lower() for w in text.split())


_ABNORMAL = re.compile(r"^abnormal(?:ity)?(?: of)?(?: the)? (.*?)(?: morphology| physiology)?$", re.IGNORECASE)


def _phrase(term: Term, whose: str) -> str:
    """A term in everyday words: a layperson synonym that is not the label (nouns before adjectives), else the label."""
    lay = [s for s in term.lay if s.lower() != term.name.lower() and not _ABNORMAL.match(s)]
    lay.sort(key=lambda s: (s.lower().endswith(("ed", "y")) and " " not in s.strip(), s.lower().endswith("ed")))
    text = _lower(lay[0] if lay else term.name)
    m = _ABNORMAL.match(text)
    if m:
        return f"a problem with {whose} {m.group(1)}"
    return text


# Words that make an author's ``says`` a sentence rather than a phrase.
_FIRST_PERSON = frozenset(["i", "i've", "i'm", "i'd", "i'll", "my", "me", "mine", "myself", "he", "she", "his", "her",
                           "we", "our", "it's"])


def _is_sentence(text: str) -> bool:
    """True for words an author wrote as a sentence ("I can't catch my breath"), False for a phrase."""
    words = text.lower().replace("’", "'").split()
    return bool(words) and (words[0].strip(",.!") in ("yes", "yeah", "no") or text.rstrip()[-1] in ".!?"
                            or any(w.strip(",.!?") in _FIRST_PERSON for w in words))


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# Social notes of a case by topic, and third-person verbs turned into the patient's first person.
_SOCIAL_CLAUSE = {"smoking": r"smok|cigar|tobacco|vap", "alcohol": r"alcohol|drink|beer|wine",
                  "drugs": r"drug|cannabis", "work": r"work|retired|school|nursery|student|job|unemployed",
                  "home": r"lives|married|partner|family", "travel": r"travel|abroad"}
_FIRST_PERSON_VERBS = ((r"^has never\b", "I've never"), (r"^has\b", "I have"), (r"^does not\b", "I don't"),
                       (r"^is\b", "I'm"), (r"^retired$", "I'm retired"), (r"^lives with family\b", "I live with my family"),
                       (r"^works\b", "I work"), (r"^lives\b", "I live"), (r"^goes\b", "I go"), (r"^smokes\b", "I smoke"),
                       (r"^drinks\b", "I drink"), (r"^([a-z]+)s\b", r"I \1"))
# Words a student may use that describe the patient ("Are you tall?"): a denial says "I'm not ...".
_ADJECTIVE_WORDS = """tall short tired dizzy weak numb sweaty thirsty itchy yellow confused clumsy bendy flexible
sad anxious worried forgetful deaf blind hot feverish wheezy shaky floppy wobbly unsteady exhausted breathless sick
faint depressed nauseous nauseated breathless overweight underweight thin pale jaundiced"""
_ADJECTIVES = frozenset(_ADJECTIVE_WORDS.split())
_GENERIC = re.compile(r"\b(abnormal|abnormality|anomaly|disease|disorder|problems?)\b", re.IGNORECASE)


class Session:
    """One student's session with one case (see the module docstring).

    Args:
        case: the virtual patient.
        kb: the HPO knowledge base (default: :func:`~hygeia.tutor._hpo.load_knowledge`).
        id: the session id (default: a fresh random one).
        student: who plays it.

    Attributes:
        events: every step so far, in order. ``clock``: minutes since the start.
        differential: the ranked disease ids last entered. ``ended``: True after :meth:`end`.
        cost: US dollars spent on tests.

    Example:
        >>> from hygeia.tutor._case import Case, Patient
        >>> s = Session(Case("c", {"id": "ORPHA:558", "name": "Marfan syndrome"}, Patient(30, "male", "I'm here."), []))
        >>> r = s.ask("what is the weather like"); r.matched, r.text
        (False, "Sorry, I don't understand the question.")
        >>> s.set_differential(["Marfan syndrome", "OMIM:154700"]).text
        'Differential: 1. Marfan syndrome (ORPHA:558); 2. Marfan syndrome (OMIM:154700).'
    """

    def __init__(self, case: Case, *, kb: Knowledge | None = None, id: str | None = None,
                 student: str = "") -> None:
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
        self._child = case.patient.age_years < _CHILD_AGE
        female = case.patient.sex.lower().startswith("f")
        self._they, self._their = ("she", "her") if female else ("he", "his")

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
        return self._log("ask", text.strip(), reply, MINUTES["ask"])

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
            text = (f"{label}: {self._vitals_text(self.vitals_at(self.clock + MINUTES['exam']))}. "
                    + ("; ".join(words).capitalize() + "." if words else "Otherwise unremarkable."))
        if absent:
            text += " No " + ", no ".join(_lower(f.name) for f in absent) + "."
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
            f = self._finding(h)
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
        return "parent" if self._child else "patient"

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
            "elicited": self.elicited(), "events": [asdict(e) for e in self.events],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], case: Case, *, kb: Knowledge | None = None) -> Session:
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
            diff = [k for k in ("kind", "reply", "hpo", "negatives", "cost", "matched")
                    if getattr(got, k) != getattr(saved, k)] + (["t"] if abs(got.t - saved.t) > 1e-6 else [])
            if diff:
                k = diff[0]
                raise DataValidationError([Problem(where, f"{k} differs: the case now gives {getattr(got, k)!r}, "
                                                          f"the session file holds {getattr(saved, k)!r}")],
                                          header="the session does not replay on this case (was the case edited?)")
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
             items: list[str] | None = None) -> Reply:
        self.clock += minutes
        self.events.append(Event(self.clock, kind, inp, reply.text, list(reply.hpo), list(reply.negatives), cost,
                                 reply.matched, items))
        return reply

    def _finding(self, hpo: str) -> CaseFinding | None:
        for f in self.case.findings:
            if f.hpo == hpo:
                return f
        return None

    def _heard(self, f: CaseFinding) -> str:
        return f.reported_as or f.hpo

    def _label(self, hpo: str) -> str:
        t = self.kb.terms.get(self.kb.alt_ids.get(hpo, hpo))
        if t is not None:
            return t.name
        f = self._finding(hpo)
        return f.name if f is not None else hpo

    def _clinical(self, f: CaseFinding) -> str:
        return _lower(self._label(f.reported_as) if f.reported_as else f.name)

    # words of the patient (or of a child's parent)
    def _whose(self) -> str:
        return self._their if self._child else "my"

    def _has(self) -> str:
        return f"{self._they} has" if self._child else "I have"

    def _hasnt(self) -> str:
        return f"{self._they} hasn't had" if self._child else "I haven't had"

    def _words(self, hpo: str) -> str:
        t = self.kb.terms.get(self.kb.alt_ids.get(hpo, hpo))
        if t is None:
            f = self._finding(hpo)
            return _lower(f.name if f else hpo)
        return _phrase(t, self._whose())

    def _yes(self, fs: list[CaseFinding]) -> str:
        """"Yes" with each finding in the patient's words: an author's sentence as written, a phrase in a template."""
        sentences: list[str] = []
        phrases: list[str] = []
        for f in fs:
            said = (f.says or "").strip()
            if said and _is_sentence(said):
                sentences.append(re.sub(r"^(yes|yeah)[,.!]?\s*", "", said, flags=re.IGNORECASE).rstrip(".!"))
            elif said:
                phrases.append(_lower(said.split("/")[0].strip()))
            else:
                phrases.append(self._words(f.reported_as or f.hpo))
        phrases = list(dict.fromkeys(phrases))
        segments = list(dict.fromkeys(([f"{self._has()} " + _listed(phrases)] if phrases else []) + sentences))
        first = segments[0]
        if not re.match(r"^(I\b|I'|[A-Z]{2})", first):
            first = first[:1].lower() + first[1:]
        return " ".join([f"Yes, {first}."] + [f"{x[:1].upper()}{x[1:]}." for x in segments[1:]])

    def _no(self, typed: str, hpo: str, question: str) -> str:
        """A denial in the student's own words where they name the finding ("No, I haven't had any fits."),
        else in the term's words."""
        typed = typed.strip().lower()
        whose = self._whose()
        if typed in _ADJECTIVES:
            return f"No, {self._they} isn't {typed}." if self._child else f"No, I'm not {typed}."
        t = self.kb.terms.get(hpo)
        label = _lower(t.name) if t is not None else self._words(hpo)
        if hpo in _SYSTEM_WORDS or _GENERIC.search(label):
            body = _BODY_WORD.get(tuple(normalise(typed)), typed)
            return f"No, no problems with {whose} {body}." if body else "No, nothing like that."
        if not typed:
            return f"No, {self._hasnt()} {label}."
        m = re.search(r"\b(a|an|any)\s+(?:\w+\s+){0,2}?" + re.escape(typed.split()[0]), question.lower())
        if " " not in typed and typed.endswith("ing") and not m:
            return f"No, {self._they} hasn't been {typed}." if self._child else f"No, I haven't been {typed}."
        names = [t.name, *t.synonyms, *t.lay] if t is not None else []
        if (" " not in typed and typed.endswith("s")) or any(typed in (n.lower(), n.lower() + "s") for n in names):
            return f"No, {self._hasnt()} {m.group(1) + ' ' if m else ''}{typed}."
        return f"No, {self._hasnt()} {label}."                    # the words typed were not the finding's name

    def _answer(self, m: Match) -> Reply:
        if m.intent == "unknown":
            return Reply(_pick(_UNMATCHED, self.case.id, len(self.events), m.text), "ask", matched=False)
        if m.intent == "greeting":
            return Reply(self._greeting(m.text), "ask")
        if m.intent == "chief_complaint":
            found = self._complaint_findings()
            for f in found:
                self._elicited[f.hpo] = True
            return Reply(self._sentence(self.case.patient.chief_complaint) or "I just haven't been feeling right.",
                         "ask", list(dict.fromkeys(self._heard(f) for f in found)))
        if m.intent == "onset":
            return Reply(self._onset(m), "ask")
        if m.intent == "family":
            return Reply(self._family(), "ask")
        if m.intent == "medications":
            return Reply(self._medications(m.text), "ask")
        if m.intent == "social":
            return Reply(self._social(m.topic), "ask")
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
                texts.append(self._yes(yes))
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
                texts.append(f"Well, {self._has()} {self._words(f.reported_as or f.hpo)}, "
                             "but I couldn't tell you more than that.")
                self._elicited[f.hpo] = True
                hpo.append(self._heard(f))
                continue
            # the patient can only deny what they would know: history negatives are revealed, exam/test ones not
            neg = [f for f in history if not f.present and self.kb.ancestors(f.hpo) & asked_set]
            texts.append(self._no(words, asked[0], m.text))
            negatives.extend(h for h in asked if h not in negatives)
            for f in neg:
                self._elicited[f.hpo] = False
                if f.hpo not in negatives:
                    negatives.append(f.hpo)
        return Reply(self._merge(list(dict.fromkeys(texts))), "ask", list(dict.fromkeys(hpo)), negatives)

    def _merge(self, texts: list[str]) -> str:
        """Runs of denials of the same form in one sentence: "No, I haven't had chest pain or palpitations."."""
        out: list[str] = []
        for text in texts:
            head = next((p for p in (f"No, {self._hasnt()} ", "No, no problems with ") if text.startswith(p)), None)
            if head and out and out[-1].startswith(head) and not out[-1].endswith("!"):
                out[-1] = out[-1][:-1].replace(" or ", ", ") + " or " + text[len(head):]
            else:
                out.append(text)
        return " ".join(out)

    def _complaint_findings(self) -> list[CaseFinding]:
        """The present history findings the chief complaint tells of: those whose words (``says``, a layperson
        synonym or the label of the term the patient reports) it holds, or whose term a phrase of it names."""
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
            if heard in named or any(len(w) > 3 and w.lower().split("/")[0].strip() in cc for w in words):
                out[heard] = f
        return list(out.values())

    def _sentence(self, text: str) -> str:
        text = (text or "").strip()
        if text and text[-1] not in ".!?":
            text += "."
        return text[:1].upper() + text[1:]

    def _greeting(self, text: str) -> str:
        low = text.lower()
        if re.search(r"\b(thank|bye|goodbye)\b", low):
            return "Thank you, doctor."
        if re.search(r"how are you", low):
            return ("Worried about " + ("my " + ("daughter" if self._they == "she" else "son")) + ", to be honest."
                    if self._child else "Not great, to be honest, doctor.")
        name = self.case.patient.name
        if self._child:
            who = "daughter" if self._they == "she" else "son"
            return f"Hello, doctor. This is my {who}" + (f", {name}." if name else ".")
        return "Hello, doctor." + (f" I'm {name}." if name else "")

    def _age_text(self, years: float) -> str:
        if years <= 0:
            return "since birth"
        if years < 1:
            months = max(1, round(years * 12))
            return f"when {self._they if self._child else 'I'} was a baby, at about {months} month{'s' * (months > 1)}"
        return f"when {self._they if self._child else 'I'} was about {round(years)}"

    def _onset(self, m: Match) -> str:
        asked = {h for _w, hits in m.groups for h, s in hits if s >= hits[0][1] - 1e-9}
        onset = self.case.patient.onset_years
        what = "It"
        if asked:
            fs = [f for f in self.case.findings if f.present and f.channel == "history"
                  and self.kb.ancestors(f.hpo) & asked]
            if not fs:
                return f"{'She' if self._they == 'she' else 'He'} hasn't had that." if self._child else \
                    "I haven't had that."
            if fs[0].onset_years is not None:
                onset = fs[0].onset_years
            what = "That"
        if onset is None:
            return f"{what} started quite recently." if self.case.acute else f"I'm not sure exactly; {what.lower()} " \
                "came on gradually."
        ago = self.case.patient.age_years - onset
        if onset <= 0:
            return f"{what}'s been there since birth."
        when = self._age_text(onset)
        if ago >= 1:
            return f"{what} started {when}, about {round(ago)} year{'s' * (round(ago) != 1)} ago."
        if ago * 12 >= 1:
            months = round(ago * 12)
            return f"{what} started about {months} month{'s' * (months != 1)} ago."
        hours = ago * 365.25 * 24
        if hours < 1.5:
            return f"{what} started within the last hour or so."
        if hours < 36:
            return f"{what} started about {round(hours)} hours ago."
        days = round(hours / 24)
        return f"{what} started about {days} days ago." if days < 14 else f"{what} started a few weeks ago."

    def _family(self) -> str:
        """The family history in the informant's words (``family_text`` where the case lists no relatives).

        A child's history is given by the mother where she is listed (so "mother" becomes "I").
        """
        members = self.case.family
        if not members:
            if self.case.family_text:
                return self._sentence(self.case.family_text)
            return "Not that I know of. Nobody in the family has had anything like this."
        parts: list[str] = []
        for m in members:
            rel = m.relation.strip()
            me = self._child and rel == "mother"
            who = "I" if me else f"{self._their.capitalize() if self._child else 'My'} {rel}"
            note = (m.note or "").strip().rstrip(".")
            extra = ""
            if not m.affected:
                note, _, extra = re.sub(r"^healthy\b[;,]?\s*", "", note).partition(";")
                if "first cousins" in note:
                    note, extra = "", note
            if m.affected:
                what = note or "has had something similar"
                if me:
                    what = re.sub(r"\bher\b", "my", re.sub(r"^has\b", "have", what))
                parts.append(f"{who} {what}.")
            else:
                well = "I'm well myself" if me else f"{who} is well"
                parts.append(well + (f" ({note})" if note else "") + ".")
            if "first cousins" in extra:
                parts.append(f"{self._their.capitalize()} father and I are first cousins." if self._child
                             else "My parents are first cousins.")
        return " ".join(dict.fromkeys(parts))

    def _medications(self, text: str) -> str:
        meds = self.case.patient.medications
        lead = "She takes" if self._child and self._they == "she" else "He takes" if self._child else "I take"
        base = (f"{lead} " + (meds[0] if len(meds) == 1 else ", ".join(meds[:-1]) + " and " + meds[-1]) + "."
                if meds else ("No regular medicines." if self._child else "I'm not on any regular medicines."))
        if "allerg" in text.lower():
            base += " No allergies that I know of."
        return base

    def _social(self, topic: str) -> str:
        p = self.case.patient
        if topic == "age":
            age = p.age_years
            if age < 1:
                months = max(1, round(age * 12))
                return f"{'She' if self._they == 'she' else 'He'}'s {months} month{'s' * (months != 1)} old."
            return (f"{'She' if self._they == 'she' else 'He'}'s {int(age)}." if self._child else f"I'm {int(age)}.")
        if topic == "name":
            return (f"{'Her' if self._they == 'she' else 'His'} name is {p.name}." if self._child else
                    f"I'm {p.name}.") if p.name else "I'd rather we just got on, doctor."
        defaults = {"smoking": "No, I don't smoke.", "alcohol": "Just the odd drink, nothing much.",
                    "drugs": "No, never.", "work": "Nothing unusual there.", "home": "Things are fine at home.",
                    "travel": "No, I haven't been anywhere recently."}
        if self._child:
            defaults = {"smoking": "Nobody smokes at home.", "alcohol": "No, of course not.",
                        "drugs": "No.", "work": "Nothing unusual there.", "home": "We're all fine at home.",
                        "travel": "No, we haven't been anywhere recently."}
        clauses = [c.strip().rstrip(".") for c in re.split(r"[;.]", p.social or "") if c.strip()]
        hits = [c for c in clauses if _SOCIAL_CLAUSE.get(topic) and re.search(_SOCIAL_CLAUSE[topic], c, re.IGNORECASE)]
        if hits:
            return " ".join(self._sentence(self._person(c)) for c in hits)
        if topic not in defaults and clauses:
            return " ".join(self._sentence(self._person(c)) for c in clauses)
        return defaults.get(topic, "Nothing out of the ordinary.")

    def _person(self, clause: str) -> str:
        """A case's third-person note ("has never smoked") in the informant's words ("I've never smoked")."""
        c = clause.strip()
        if self._child:
            third = re.match(r"^[a-z]+s\b|^(has|is|does)\b", c, re.IGNORECASE)
            return f"{self._they} {c[:1].lower()}{c[1:]}" if third else c
        for pat, rep in _FIRST_PERSON_VERBS:
            new = re.sub(pat, rep, c, count=1, flags=re.IGNORECASE)
            if new != c:
                return new
        return c

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
            f = self._finding(h)
            (negatives if f is not None and not f.present else present).append(h)
        return present, negatives

    def _result_text(self, t: TestResult) -> str:
        text = self._sentence(t.result)
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
        return _extra_diseases().get(did, did)

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


_SYSTEM_WORDS = frozenset(h for ids in _BODY.values() for h in ids)
_BODY_WORD = {tuple(normalise(w)): w for w in sorted(_BODY, key=len)}
_VITAL_KEYS = ("heart_rate", "systolic", "diastolic", "resp_rate", "temp_c", "spo2")


def _num(x: Any) -> str:
    if x is None:
        return "?"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


@functools.cache
def _extra_diseases() -> dict[str, str]:
    """Diseases outside the HPO annotations a differential may name: the acute catalogue
    (``resources/tutor_acute/*.json``: id -> name), read once."""
    out: dict[str, str] = {}
    folder = resources.files("hygeia.tutor").joinpath("resources/tutor_acute")
    if not folder.is_dir():
        return out
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            try:
                data = json.loads(entry.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue  # the case generator reports a malformed file; a differential just cannot name it
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                out[data["id"]] = str(data.get("name", data["id"]))
    return out


# Abbreviations a student may type for an acute-catalogue disease (used where the catalogue holds the id).
_ACUTE_ALIASES = {"dka": "HYGEIA:diabetic_ketoacidosis", "pe": "HYGEIA:pulmonary_embolism",
                  "septic shock": "HYGEIA:sepsis"}


def _match_extra(text: str) -> str | None:
    """The acute-catalogue id that ``text`` names (its id, the id's words, its name, or words all in its name)."""
    low = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    if _ACUTE_ALIASES.get(low) in _extra_diseases():
        return _ACUTE_ALIASES[low]
    for did, name in _extra_diseases().items():
        short = did.split(":", 1)[-1].replace("_", " ").lower()
        if low in (did.lower(), short, name.lower()):
            return did
    words = low.split()
    for did, name in _extra_diseases().items():
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


def load_session(path: str | Path, case: Case, *, kb: Knowledge | None = None) -> Session:
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
    return Session.from_dict(data, case, kb=kb)
