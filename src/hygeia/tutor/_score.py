"""Scoring a played session: the diagnosis, the findings that mattered, questions, tests, actions, feedback.

:func:`score_session` reads a session's events against its case and a
:class:`~hygeia.tutor._bayes.DiagnosticModel`, and returns a :class:`Score`:

- **diagnosis**: the rank of the true disease in the student's differential (credit ``1/rank``,
  0 when it is not listed);
- **discriminating findings**: the case's findings that most separate its disease from the closest
  competitors (:meth:`DiagnosticModel.discriminating`), which the student elicited and which they
  missed. Credit: half the share elicited (weighted by how much each separates), half how far
  everything the student found separates the disease from those competitors, relative to the whole
  case (another route to the same separation counts);
- **questions**: the share that revealed a case finding or a pertinent negative (credit), the bits
  of posterior entropy each question removed on average, and the bits of evidence for the true
  disease (rise of log2 of its posterior) each gave;
- **tests**: appropriate (revealed a case finding, or a genetic test that confirms a disease with
  known genes) or unnecessary, with their cost (credit: the share of the spending that was appropriate);
- **priority actions** (acute cases and any case with priority actions): done by their deadline
  (credit 1), late (0.5) or not done (0); a harmful action done takes 0.5 off, down to 0.

The overall score is ``100 * sum(w_i * credit_i) / sum(w_i)`` over the parts that apply (a case with no
priority action leaves that part out) with :data:`WEIGHTS`: the diagnosis weighs most, since it is
what the case is for; the findings that separate it from its mimics next, since they are the
reasoning; tests and actions (the management) and question efficiency after. These weights are a
teaching choice (an assumption), not a validated instrument.

``expert`` is the :class:`~hygeia.tutor._agents.ReferenceAgent`'s session on the same case,
summarized side by side with the student's (steps, findings, cost, time, rank).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from hygeia.tutor._bayes import DiagnosticModel
from hygeia.tutor._case import Case
from hygeia.tutor._hpo import Knowledge, load_knowledge

__all__ = ["WEIGHTS", "Score", "feedback", "kind", "path_summary", "score_session"]

#: Weight of each part in the overall score (a teaching choice; see the module docstring).
WEIGHTS = {"diagnosis": 40.0, "discriminating": 20.0, "tests": 15.0, "actions": 15.0, "questions": 10.0}
#: How many discriminating findings a case is scored on.
N_DISCRIMINATING = 5


@dataclass
class Score:
    """The score of one session (JSON-ready through :meth:`to_dict`).

    Attributes:
        overall: 0-100, the weighted sum of ``parts`` over the parts that apply (see :data:`WEIGHTS`).
        parts: each part's credit in [0, 1] (``actions`` absent where the case has no priority action).
        rank: the true disease's rank in the differential (1 = first), None when not listed.
        discriminating: the discriminating findings, each with ``elicited`` and ``minutes`` (when).
        questions: ``{asked, informative, efficiency, bits_per_question}``.
        tests: one entry per test ordered: ``{key, name, cost, appropriate, why, minutes}``.
        actions: one entry per priority action: ``{key, name, done, minutes, within_minutes, on_time, why}``.
        harmful: harmful actions the student took.
        feedback: sentences a teacher would write.
        student: the student's path (:func:`path_summary`); ``expert`` the reference agent's, or None.
    """

    case_id: str
    disease_id: str
    disease_name: str
    overall: float
    parts: dict[str, float]
    rank: int | None
    differential: list[dict[str, Any]]
    discriminating: list[dict[str, Any]]
    questions: dict[str, Any]
    tests: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    harmful: list[str]
    feedback: list[str]
    student: dict[str, Any]
    expert: dict[str, Any] | None = None
    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    hpo_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)


def kind(event) -> str:
    """An event's kind as ``ask``, ``exam``, ``order``, ``ddx``, ``act``, ``end`` (or ``other``)."""
    k = str(event.kind).lower()
    for key, words in (("ask", ("ask", "question", "history")), ("exam", ("exam",)), ("order", ("order", "test")),
                       ("ddx", ("diff", "ddx")), ("act", ("act",)), ("end", ("end",))):
        if any(k.startswith(w) for w in words):
            return key
    return "other"


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def path_summary(session, *, kb: Knowledge | None = None) -> dict[str, Any]:
    """Steps, findings revealed, cost and time of a session, and its events in short form.

    Example:
        >>> from hygeia.tutor._generate import generate_case
        >>> from hygeia.tutor._agents import OracleAgent, play
        >>> s = path_summary(play(OracleAgent(), generate_case("ORPHA:558", seed=2, images=False)))
        >>> s["steps"] > 0 and s["findings"] > 0
        True
    """
    kb = kb if kb is not None else load_knowledge()
    events = [e for e in session.events if kind(e) in ("ask", "exam", "order", "act")]
    elicited = session.elicited()
    return {
        "steps": len(events),
        "questions": sum(kind(e) == "ask" for e in events),
        "examinations": sum(kind(e) == "exam" for e in events),
        "tests": sum(kind(e) == "order" for e in events),
        "findings": sum(bool(v) for v in elicited.values()),
        "negatives": sum(not v for v in elicited.values()),
        "cost": round(float(sum(e.cost or 0.0 for e in session.events)), 2),
        "minutes": round(float(session.clock), 1),
        "differential": list(session.differential),
        "path": [{"t": round(float(e.t), 1), "kind": kind(e), "input": e.input,
                  "found": [kb.term(h).name for h in e.hpo if h in kb.terms]} for e in events],
    }


def _rank(differential: list[str], did: str) -> int | None:
    return differential.index(did) + 1 if did in differential else None


def _question_part(session, model: DiagnosticModel) -> dict[str, Any]:
    """Informative share of the questions, and the diagnostic information each carried.

    A question is informative when it revealed a case finding or a pertinent negative (a finding of
    the case that is absent; a "no" about a term the case says nothing about is not one).
    ``bits_per_question`` is the mean drop of the posterior's entropy (bits) a question caused;
    ``bits_toward_diagnosis_per_question`` the mean rise of log2 P(true disease) (evidence for the
    right answer; negative where a question pointed away from it).
    """
    case: Case = session.case
    pertinent = {f.hpo for f in case.findings if not f.present}
    did = str(case.disease.get("id", ""))
    ti = model.index.get(did)
    pos: list[str] = []
    neg: list[str] = []
    p = model.normalize(model.log_posterior())
    asked = informative = 0
    bits: list[float] = []
    toward: list[float] = []
    for e in session.events:
        if kind(e) not in ("ask", "exam", "order"):
            continue
        pos.extend(e.hpo or ())
        neg.extend(e.negatives or ())
        q = model.normalize(model.log_posterior(pos, neg)) if (e.hpo or e.negatives) else p
        if kind(e) == "ask":
            asked += 1
            informative += bool(e.hpo) or any(n in pertinent for n in e.negatives or ())
            bits.append(_entropy(p) - _entropy(q))
            if ti is not None:
                toward.append(float(np.log2(max(q[ti], 1e-300)) - np.log2(max(p[ti], 1e-300))))
        p = q
    return {"asked": asked, "informative": informative,
            "efficiency": round(informative / asked, 4) if asked else 0.0,
            "bits_per_question": round(float(np.mean(bits)), 4) if bits else 0.0,
            "bits_toward_diagnosis_per_question": round(float(np.mean(toward)), 4) if toward else 0.0}


def _tests_part(session, case: Case, kb: Knowledge) -> list[dict[str, Any]]:
    by_key = {t.key: t for t in case.tests}
    out = []
    for e in session.events:
        if kind(e) != "order":
            continue
        t = by_key.get(str(e.input))
        if t is None:
            continue
        if e.hpo:
            names = [kb.terms[h].name.lower() if h in kb.terms else h for h in e.hpo]
            ok, why = True, "showed " + ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        elif t.kind == "genetic" and case.disease.get("genes"):
            ok, why = True, "confirms the diagnosis (a disease with known genes)"
        else:
            ok, why = False, "showed nothing this case needed"
        out.append({"key": t.key, "name": t.name, "cost": float(e.cost or t.cost), "appropriate": ok, "why": why,
                    "minutes": round(float(e.t), 1)})
    return out


def _actions_part(session, case: Case) -> tuple[list[dict[str, Any]], list[str]]:
    done: dict[str, float] = {}
    for e in session.events:
        if kind(e) == "act" and str(e.input) not in done:
            done[str(e.input)] = float(e.t)
    out = []
    for a in case.actions:
        if not a.priority:
            continue
        t = done.get(a.key)
        on_time = t is not None and (a.within_minutes is None or t <= a.within_minutes)
        out.append({"key": a.key, "name": a.name, "done": t is not None, "minutes": t,
                    "within_minutes": a.within_minutes, "on_time": on_time, "why": a.why})
    harmful = [a.name for a in case.actions if a.harmful and a.key in done]
    return out, harmful


def score_session(session, *, model: DiagnosticModel | None = None, expert: bool = True,
                  expert_steps: int = 40) -> Score:
    """Score a played session against its case (see the module docstring for the parts and weights).

    Args:
        session: a :class:`~hygeia.tutor._session.Session` (ended or not).
        model: the diagnostic model (the shared one over the case's namespace where None).
        expert: play the reference agent on the same case for the side-by-side expert path.
        expert_steps: the reference agent's step budget.

    Example:
        >>> from hygeia.tutor._generate import generate_case
        >>> from hygeia.tutor._agents import OracleAgent, play
        >>> score = score_session(play(OracleAgent(), generate_case("ORPHA:558", seed=2, images=False)))
        >>> 0 <= score.overall <= 100, score.expert["steps"] > 0
        (True, True)
    """
    from hygeia.tutor._agents import ReferenceAgent, model_for, play

    case: Case = session.case
    kb: Knowledge = getattr(session, "kb", None) or load_knowledge()
    model = model if model is not None else model_for(case)
    did = str(case.disease.get("id", ""))
    dname = str(case.disease.get("name", did))
    rank = _rank(list(session.differential), did)
    parts: dict[str, float] = {"diagnosis": 1.0 / rank if rank else 0.0}

    # findings that separate the disease from its mimics: elicited or missed
    elicited = session.elicited()
    when: dict[str, float] = {}
    for e in session.events:
        for h in list(e.hpo or ()) + list(e.negatives or ()):
            when.setdefault(h, float(e.t))
    disc = []
    if did in model.index:
        for d in model.discriminating(case, N_DISCRIMINATING):
            got = (d.finding in elicited) or (d.hpo in elicited)
            t = when.get(d.finding, when.get(d.hpo))
            disc.append({**d.to_dict(), "elicited": got, "minutes": t})
    total = sum(d["llr"] for d in disc)
    share = (sum(d["llr"] for d in disc if d["elicited"]) / total) if total > 0 else 1.0
    separation = _separation(session, model) if did in model.index else 0.0
    parts["discriminating"] = 0.5 * share + 0.5 * separation

    questions = _question_part(session, model)
    parts["questions"] = float(questions["efficiency"])

    tests = _tests_part(session, case, kb)
    spent = sum(t["cost"] for t in tests)
    parts["tests"] = (sum(t["cost"] for t in tests if t["appropriate"]) / spent) if spent > 0 else (
        1.0 if not tests or all(t["appropriate"] for t in tests) else 0.0)

    actions, harmful = _actions_part(session, case)
    if actions:
        credit = float(np.mean([1.0 if a["on_time"] else 0.5 if a["done"] else 0.0 for a in actions]))
        parts["actions"] = max(0.0, credit - 0.5 * len(harmful))
    elif harmful:
        parts["actions"] = 0.0

    overall = 100.0 * sum(WEIGHTS[k] * v for k, v in parts.items()) / sum(WEIGHTS[k] for k in parts)
    student = path_summary(session, kb=kb)
    expert_path = None
    if expert:
        ref = play(ReferenceAgent(), case, max_steps=expert_steps, kb=kb)
        expert_path = path_summary(ref, kb=kb)
        expert_path["rank"] = _rank(list(ref.differential), did)
    post = dict(model.posterior(*_elicited_evidence(session), top=None)) if did in model.index else {}
    differential = [{"id": d, "name": model.disease(d).name if d in model.index else (
                        kb.diseases[d].name if d in kb.diseases else d), "correct": d == did,
                     "posterior": round(post[d], 4) if d in post else None}
                    for d in session.differential]
    score = Score(case.id, did, dname, round(overall, 1), {k: round(v, 4) for k, v in parts.items()}, rank,
                  differential, disc, questions, tests, actions, harmful, [], student, expert_path,
                  hpo_version=kb.version)
    score.feedback = feedback(score, case)
    return score


def _separation(session, model: DiagnosticModel, competitors: int = 5) -> float:
    """How far the student's findings separate the disease from its closest competitors, against the whole case.

    The separation is ``P(true | true or one of the competitors)``, the ``competitors`` being the most
    probable other diseases given every finding of the case; the credit is how far the student's
    findings move it from its value before any finding towards its value given the whole case,
    clipped to [0, 1] (1 where the whole case cannot separate them either).
    """
    case: Case = session.case
    ti = model.index[str(case.disease["id"])]
    full = model.log_posterior(*model.case_evidence(case))
    others = full.copy()
    others[ti] = -np.inf
    comp = np.argsort(-others, kind="stable")[:competitors]

    def margin(lp: np.ndarray) -> float:  # P(true | true or a competitor)
        c = np.append(lp[comp], lp[ti])
        return float(model.normalize(c)[-1])

    whole, base = margin(full), margin(model.log_posterior())
    if whole <= base + 1e-9:
        return 1.0
    got = margin(model.log_posterior(*_elicited_evidence(session)))
    return float(np.clip((got - base) / (whole - base), 0.0, 1.0))


def _elicited_evidence(session) -> tuple[list[str], list[str]]:
    pos: list[str] = []
    neg: list[str] = []
    for e in session.events:
        pos.extend(e.hpo or ())
        neg.extend(e.negatives or ())
    return pos, neg


def _listing(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def feedback(score: Score, case: Case) -> list[str]:
    """Sentences a teacher would write about the session, most important first."""
    out: list[str] = []
    name = score.disease_name
    if score.rank == 1:
        out.append(f"You put {name} first in your differential.")
    elif score.rank:
        first = score.differential[0]["name"] if score.differential else "another disease"
        out.append(f"You ranked {name} {_ordinal(score.rank)}; your first was {first}.")
    else:
        out.append(f"Your differential did not include {name}." if score.differential
                   else f"You gave no differential; the diagnosis was {name}.")
    how = {"history": "ask about", "exam": "examine for", "test": "order a test that shows"}
    found = [d for d in score.discriminating if d["elicited"]]
    if found:
        names = [d["name"].lower() + ("" if d["present"] else " (absent)") for d in found]
        versus = list(dict.fromkeys(d["versus_name"] for d in found))
        out.append(f"You found {_listing(names)}, which separate{'s' if len(found) == 1 else ''} {name} from "
                   f"{_listing(versus)}.")
    for d in score.discriminating:
        if not d["elicited"]:
            what = d["name"].lower() if d["present"] else f"{d['name'].lower()} (absent here)"
            out.append(f"You did not {how.get(d['channel'], 'look for')} {what}, which separates {name} from "
                       f"{d['versus_name']}.")
    q = score.questions
    if q["asked"]:
        out.append(f"{q['informative']} of your {q['asked']} questions revealed a finding or a pertinent negative "
                   f"(on average {q['bits_per_question']:.2f} bits of diagnostic information and "
                   f"{q['bits_toward_diagnosis_per_question']:+.2f} bits of evidence for {name} per question).")
    waste = [t for t in score.tests if not t["appropriate"]]
    if waste:
        cost = sum(t["cost"] for t in waste)
        out.append(f"{len(waste)} of your {len(score.tests)} tests showed nothing this case needed "
                   f"({', '.join(t['name'] for t in waste[:4])}; ${cost:,.0f}).")
    for a in score.actions:
        due = f"{a['within_minutes']:.0f} min" if a["within_minutes"] is not None else "no set time"
        if a["on_time"]:
            out.append(f"You did '{a['name']}' at {a['minutes']:.0f} min, within the {due} it is due by.")
        elif a["done"]:
            out.append(f"You did '{a['name']}' at {a['minutes']:.0f} min, later than the {due} it is due by"
                       f"{': ' + a['why'] if a['why'] else ''}.")
        else:
            out.append(f"You did not do '{a['name']}' (due within {due}{': ' + a['why'] if a['why'] else ''}).")
    for h in score.harmful:
        out.append(f"'{h}' was harmful in this case.")
    if score.expert:
        e, s = score.expert, score.student
        er = f"ranked {name} {_ordinal(e['rank'])}" if e.get("rank") else f"did not list {name}"
        out.append(f"The expert path {er} after {e['steps']} steps ({e['findings']} findings, ${e['cost']:,.0f}, "
                   f"{e['minutes']:.0f} min); yours took {s['steps']} steps ({s['findings']} findings, "
                   f"${s['cost']:,.0f}, {s['minutes']:.0f} min).")
    return out
