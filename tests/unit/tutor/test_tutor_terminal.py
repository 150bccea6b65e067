"""Terminal mode: commands, errors shown and play going on, saving after every command, resuming."""

from __future__ import annotations

import doctest
import io
import json

import pytest

from hygeia.errors import DataValidationError
from hygeia.tutor import _terminal
from hygeia.tutor._terminal import play_terminal


def test_doctests():
    assert doctest.testmod(_terminal).failed == 0


def _run(case, text, **kw):
    out = io.StringIO()
    s = play_terminal(case, input=io.StringIO(text), output=out, score=False, **kw)
    return s, out.getvalue()


def test_a_whole_session(marfan_case, kb):
    s, out = _run(marfan_case, "hello\nwhat brings you in?\nDo you have long fingers?\nask any headaches?\n"
                               "exam eyes\norder echo\nddx Marfan syndrome; Loeys-Dietz syndrome\n"
                               "do refer_genetics\nend\n", kb=kb)
    assert s.ended
    assert "Ana, a 24-year-old woman." in out
    assert "[0:03] Patient: Yes, my fingers have always been long and thin." in out
    assert "[0:04] Patient: No, I haven't had any headaches." in out
    assert "[0:07] Exam: Eyes: ectopia lentis. No glaucoma." in out
    assert "Result: Echocardiogram: Aortic root dilated" in out and "($450)" in out
    assert "Differential: 1. Marfan syndrome (ORPHA:558); 2. Loeys-Dietz syndrome" in out
    assert "Noted: Done: Refer to clinical genetics." in out
    assert "Findings elicited: Arachnodactyly, Ectopia lentis" in out
    assert "Diagnosis: Marfan syndrome (ORPHA:558)" in out
    assert [e.kind for e in s.events] == ["ask"] * 4 + ["exam", "order", "differential", "action", "end"]


def test_listings_and_errors_do_not_stop_play(marfan_case, kb):
    s, out = _run(marfan_case, "help\ntests\nsystems\nactions\nexam brain\norder mri\ndo pray\nexam\nvitals\n"
                               "Any headaches?\nquit\n", kb=kb)
    assert "ddx A; B; C" in out and "gene_panel" in out and "($1,200, 14 days)" in out
    assert "head_neck" in out and "refer_cardiology" in out
    assert "! unknown exam system 'brain': choose one of general" in out
    assert "! unknown test 'mri': this case offers echo, cbc, gene_panel." in out
    assert "! unknown action 'pray'" not in out                 # 'do pray' is not an action: asked as a question
    assert "! 'exam' needs an argument" in out
    assert "No vital signs are recorded" in out
    assert not s.ended and s.clock == 2.0                         # 'do pray' and 'Any headaches?'


def test_a_child_case_has_a_parent_speaking(marfan_case, kb):
    marfan_case.patient.age_years = 5
    _s, out = _run(marfan_case, "any headaches?\nquit\n", kb=kb)
    assert "Ana, a 5-year-old girl." in out and "[0:01] Parent: No, she hasn't had any headaches." in out


def test_acute_case_shows_vitals_after_each_step(sepsis_case, kb):
    _s, out = _run(sepsis_case, "do blood_cultures\ndo iv_antibiotics\ndo iv_fluids\nquit\n", kb=kb)
    assert "This is an acute case" in out
    assert out.count("Vitals at") == 4
    assert "The patient's observations stop getting worse." in out


def test_saves_after_every_command_and_resumes(marfan_case, kb, tmp_path):
    path = tmp_path / "session.json"
    s1, _ = _run(marfan_case, "Do you have long fingers?\nexam eyes\n", kb=kb, session_path=path)
    saved = json.loads(path.read_text())
    assert [e["kind"] for e in saved["events"]] == ["ask", "exam"] and not saved["ended"]
    s2, out = _run(marfan_case, "order echo\nend\n", kb=kb, session_path=path)
    assert "Resumed session" in out and "(2 steps so far)" in out
    assert s2.id == s1.id and s2.ended and s2.clock == 64.0
    assert json.loads(path.read_text())["ended"] is True
    _s3, out = _run(marfan_case, "Any headaches?\n", kb=kb, session_path=path)
    assert "This session has ended." in out and "Any headaches" not in out


def test_resuming_on_a_changed_case_is_refused(marfan_case, kb, tmp_path):
    path = tmp_path / "session.json"
    _run(marfan_case, "Do you have long fingers?\n", kb=kb, session_path=path)
    marfan_case.findings[0].says = "Yes."
    with pytest.raises(DataValidationError, match="event 1"):
        _run(marfan_case, "end\n", kb=kb, session_path=path)


def test_end_of_input_leaves_the_session_open(marfan_case, kb):
    s, out = _run(marfan_case, "Any headaches?", kb=kb)
    assert not s.ended and "End of input: the session is not ended." in out


class _Interrupting(io.StringIO):
    def __init__(self):
        super().__init__()
        self.lines = ["Any headaches?\n"]

    def readline(self, *args):
        if self.lines:
            return self.lines.pop()
        raise KeyboardInterrupt

    def isatty(self):
        return True


def test_ctrl_c_saves_and_leaves(marfan_case, kb, tmp_path):
    out = io.StringIO()
    s = play_terminal(marfan_case, input=_Interrupting(), output=out, score=False, kb=kb,
                      session_path=tmp_path / "s.json")
    assert "Interrupted at 0:01. The session is saved in" in out.getvalue()
    assert "[0:00] > " in out.getvalue() and "[0:01] > " in out.getvalue()      # a prompt at a terminal
    assert len(json.loads((tmp_path / "s.json").read_text())["events"]) == 1 and not s.ended


def test_a_language_model_can_word_the_answers(marfan_case, kb):
    from hygeia.notes._backends import Backend

    class Polite(Backend):                      # a stand-in model (tests only)
        def _generate(self, prompt, **kw):
            return prompt.user.split("The answer to give: ")[1].split("\n")[0].replace("No,", "No, doctor,")

    out = io.StringIO()
    play_terminal(marfan_case, input=io.StringIO("Any headaches?\nquit\n"), output=out, score=False, kb=kb,
                  llm=Polite())
    assert "[0:01] Patient: No, doctor, I haven't had any headaches." in out.getvalue()
