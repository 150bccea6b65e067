"""Play a virtual patient in the terminal: type questions, examine, order tests, rank a differential, act.

:func:`play_terminal` reads commands line by line (from the keyboard or any text stream) and drives a
:class:`~hygeia.tutor._session.Session`. With ``session_path`` the session is saved after every
command and an existing file there is resumed, replayed on the case first. At the end it prints the
score (:func:`hygeia.tutor._score.score_session`).

Commands (plain text is a question)::

    ask TEXT          ask the patient (or just type the question)
    exam SYSTEM       examine a system (``systems`` lists them)
    order TEST        order a test (``tests`` lists them with costs)
    ddx A; B; C       your differential, most likely first (ids or names)
    do ACTION         take an action (``actions`` lists them)
    tests | systems | actions | vitals | help
    end               end the session and see your score
    quit              leave without ending (the saved session can be resumed)

Example:
    >>> import io
    >>> from hygeia.tutor._case import Case, CaseFinding, Patient
    >>> case = Case("demo", {"id": "ORPHA:558", "name": "Marfan syndrome"}, Patient(24, "female", "My chest hurts."),
    ...             [CaseFinding("HP:0002315", "Headache", False, "history")])
    >>> out = io.StringIO()
    >>> s = play_terminal(case, input=io.StringIO("Do you get headaches?\\nquit\\n"), output=out, score=False)
    >>> print(out.getvalue().splitlines()[1])
    [0:01] Patient: No, I haven't had headaches.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from hygeia.errors import ConfigError, HygeiaError
from hygeia.tutor._case import Case
from hygeia.tutor._hpo import Knowledge
from hygeia.tutor._score import score_session
from hygeia.tutor._session import (
    EXAM_SYSTEMS,
    Reply,
    Session,
    clock_text,
    load_session,
    save_session,
)

if TYPE_CHECKING:
    from hygeia.notes._backends import Backend

__all__ = ["COMMANDS", "play_terminal", "summary_text"]

#: The terminal's commands and what each does (``help`` prints them).
COMMANDS = {
    "ask TEXT": "ask the patient a question (or just type it)",
    "exam SYSTEM": "examine a system (see 'systems')",
    "order TEST": "order a test (see 'tests')",
    "ddx A; B; C": "set your differential, most likely first (disease ids or names)",
    "do ACTION": "take a management action (see 'actions')",
    "tests": "list the tests you can order, with cost and turnaround",
    "systems": "list the systems you can examine",
    "actions": "list the actions you can take",
    "vitals": "show the vital signs now (acute cases)",
    "help": "show this list",
    "end": "end the session and see your score",
    "quit": "leave without ending (resume later from the saved session)",
}
_SPEAKER = {"ask": "Patient", "exam": "Exam", "order": "Result", "differential": "Noted", "action": "Noted",
            "end": "End"}


def _intro(session: Session) -> str:
    p = session.case.patient
    sex = {"female": "woman", "male": "man"}.get(p.sex.lower(), p.sex)
    if p.age_years < 18:
        sex = {"female": "girl", "male": "boy"}.get(p.sex.lower(), "child")
    age = f"{int(p.age_years)}-year-old" if p.age_years >= 1 else f"{max(1, round(p.age_years * 12))}-month-old"
    who = f"{p.name}, a {age} {sex}" if p.name else f"A {age} {sex}"
    lines = [f"{who}. Type 'help' for the commands; plain text asks the patient."]
    if session.case.acute:
        lines.append("This is an acute case: the clock is running.")
    return "\n".join(lines)


def _vitals_line(session: Session) -> str:
    v = session.vitals_now()
    if v is None:
        return "No vital signs are recorded for this case."
    return (f"Vitals at {clock_text(session.clock)}: HR {v.heart_rate:.0f}/min, BP {v.systolic:.0f}/"
            f"{v.diastolic:.0f} mmHg, RR {v.resp_rate:.0f}/min, T {v.temp_c:.1f} °C, SpO2 {v.spo2:.0f}% "
            f"({session.state})")


def _listing(session: Session, what: str) -> str:
    if what == "tests":
        rows = [f"  {t.key:<22} {t.name} (${t.cost:,.0f}, {_duration(t.minutes)})" for t in session.tests().values()]
        return "Tests:\n" + ("\n".join(rows) if rows else "  (none in this case)")
    if what == "systems":
        return "Systems:\n" + "\n".join(f"  {k:<16} {label}" for k, (label, _ids) in EXAM_SYSTEMS.items())
    if what == "actions":
        return "Actions:\n" + "\n".join(f"  {a.key:<22} {a.name}" for a in session.actions().values())
    return "Commands:\n" + "\n".join(f"  {k:<14} {v}" for k, v in COMMANDS.items())


def _duration(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 2 * 24 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / (24 * 60):.0f} days"


def _is_action(session: Session, text: str) -> bool:
    low = text.strip().lower()
    return any(low in (a.key.lower(), a.name.lower()) for a in session.actions().values())


def summary_text(session: Session, *, score: bool = True) -> str:
    """The end-of-session summary: the score and feedback (:func:`score_session`), else what was found.

    With ``score=False`` it lists the findings elicited and the differential.
    """
    if score:
        sc = score_session(session)
        lines = [f"Score: {sc.overall:.0f}/100 ({', '.join(f'{k} {v:.0%}' for k, v in sc.parts.items())})",
                 f"Diagnosis: {sc.disease_name} ({sc.disease_id}); "
                 + (f"you ranked it {sc.rank}." if sc.rank else "it was not in your differential.")]
        lines.extend(f"- {f}" for f in sc.feedback)
        return "\n".join(lines)
    lines = []
    kb = session.kb
    found = session.elicited()
    pos = [kb.terms[h].name if h in kb.terms else h for h, p in found.items() if p]
    neg = [kb.terms[h].name if h in kb.terms else h for h, p in found.items() if not p]
    lines.append("Findings elicited: " + (", ".join(pos) if pos else "none"))
    lines.append("Pertinent negatives: " + (", ".join(neg) if neg else "none"))
    ddx = [session.disease_name(d) for d in session.differential]
    lines.append("Your differential: " + ("; ".join(ddx) if ddx else "none given"))
    lines.append(f"Diagnosis: {session.case.disease.get('name', '?')} ({session.case.disease.get('id', '?')})")
    return "\n".join(lines)


def play_terminal(case: Case, *, input: IO[str] | None = None, output: IO[str] | None = None,
                  session_path: str | Path | None = None, kb: Knowledge | None = None, student: str = "",
                  score: bool = True, llm: Backend | None = None) -> Session:
    """Play ``case`` in the terminal; returns the session (ended, or left by ``quit`` / end of input).

    Args:
        case: the virtual patient.
        input: where commands are read, one per line (default: standard input).
        output: where replies are written (default: standard output).
        session_path: save the session here after every command; an existing file is resumed.
        kb: the HPO knowledge base (default: the shared one).
        student: the student's name, recorded in the session.
        score: print the score at the end (False lists the findings instead).
        llm: a language-model backend to word the patient's answers (default: the rule-based voice, offline).

    Raises:
        DataValidationError: ``session_path`` holds a session that does not replay on ``case``.
    """
    input = sys.stdin if input is None else input        # looked up now: a caller may have redirected them
    output = sys.stdout if output is None else output

    def say(text: str) -> None:
        output.write(text + "\n")
        output.flush()

    path = Path(session_path) if session_path is not None else None
    if path is not None and path.exists():
        session = load_session(path, case, kb=kb, llm=llm)
        say(f"Resumed session {session.id} at {clock_text(session.clock)} ({len(session.events)} steps so far).")
        if session.ended:
            say("This session has ended.")
            say(summary_text(session, score=score))
            return session
    else:
        session = Session(case, kb=kb, student=student, llm=llm)
    say(_intro(session))
    if case.acute:
        say(_vitals_line(session))

    def save() -> None:
        if path is not None:
            save_session(session, path)

    steps: dict[str, Callable[[str], Reply]] = {
        "ask": session.ask, "exam": session.examine, "examine": session.examine, "order": session.order,
        "do": session.act, "act": session.act,
        "ddx": lambda arg: session.set_differential([x.strip() for x in arg.split(";") if x.strip()]),
    }
    save()
    try:
        tty = bool(getattr(input, "isatty", lambda: False)())
        while True:
            if tty:
                output.write(f"[{clock_text(session.clock)}] > ")
                output.flush()
            raw = input.readline()
            if not raw:
                break
            line = raw.strip()
            if not line:
                continue
            word, _, arg = line.partition(" ")
            cmd = word.lower()
            arg = arg.strip()
            if cmd in ("tests", "systems", "actions", "help", "?") and not arg:
                say(_listing(session, "help" if cmd == "?" else cmd))
                continue
            if cmd == "vitals" and not arg:
                say(_vitals_line(session))
                continue
            if cmd in ("quit", "exit") and not arg:
                save()
                say(f"Left at {clock_text(session.clock)}." + (f" The session is saved in {path}." if path else ""))
                return session
            try:
                if cmd == "end" and not arg:
                    reply = session.end()
                elif cmd in ("do", "act") and arg and not _is_action(session, arg):
                    reply = session.ask(line)  # "Do you get headaches?" is a question, not an action
                elif cmd in steps:
                    if not arg and cmd != "ddx":
                        raise ConfigError(f"'{cmd}' needs an argument: see 'help'")
                    reply = steps[cmd](arg)
                else:
                    reply = session.ask(line)
            except HygeiaError as exc:
                say(f"! {exc}")
                continue
            save()
            speaker = session.informant.capitalize() if reply.kind == "ask" else _SPEAKER.get(reply.kind, "")
            say(f"[{clock_text(session.clock)}] {speaker}: {reply.text}"
                + (f" (${session.events[-1].cost:,.0f})" if session.events[-1].cost else ""))
            if case.acute and reply.kind != "end":
                say(_vitals_line(session))
            if session.ended:
                say(summary_text(session, score=score))
                return session
    except KeyboardInterrupt:
        save()
        say(f"\nInterrupted at {clock_text(session.clock)}." + (f" The session is saved in {path}." if path else ""))
        return session
    save()
    say("End of input: the session is not ended." + (f" It is saved in {path}." if path else ""))
    return session
