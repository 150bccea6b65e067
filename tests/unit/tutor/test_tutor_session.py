"""Session: answers, exam, tests, differential, actions, the clock, acute vitals, JSON replay and resume."""

from __future__ import annotations

import copy
import doctest
import json
import re

import pytest

from hygeia.errors import ConfigError, DataValidationError
from hygeia.tutor import _session, _voice
from hygeia.tutor._case import Case
from hygeia.tutor._session import (
    EXAM_SYSTEMS,
    SESSION_SCHEMA,
    Session,
    load_session,
    news2,
    save_session,
)


def test_doctests():
    assert doctest.testmod(_session).failed == 0
    assert doctest.testmod(_voice).failed == 0


def test_yes_in_the_patients_words(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    r = s.ask("Are your fingers long?")
    assert r.text == "Yes, my fingers have always been long and thin."    # the author's words
    assert r.hpo == ["HP:0001166"] and r.matched
    r = s.ask("Do you have flexible joints?")                              # a layperson synonym
    assert r.text == "Yes, I have flexible joints." and r.hpo == ["HP:0001382"]
    assert "Joint hypermobility" not in r.text


def test_a_question_about_an_ancestor_is_answered_yes(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    r = s.ask("Any problems with your eyes?")                              # Abnormality of the eye > Myopia
    assert r.text.startswith("Yes") and r.hpo == ["HP:0000545"]
    assert "ectopia" not in r.text.lower()                                 # an exam finding: not known to her


def test_vague_finding_answers_with_the_vaguer_words(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    r = s.ask("Do you feel tired?")
    assert r.text == "Yes, I have tiredness."
    assert r.hpo == ["HP:0012378"]                                         # Fatigue, what she reports
    assert s.elicited()["HP:0012432"] is True                              # the case's finding, Chronic fatigue


def test_no_reveals_the_pertinent_negatives_under_the_term(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    r = s.ask("Do you get headaches?")
    assert r.text == "No, I haven't had headaches."
    assert r.negatives == ["HP:0002315"] and r.hpo == []
    r = s.ask("Any problems with your heart?")                             # a system: no history finding under it
    assert r.text == "No, no problems with my heart."
    assert "HP:0001653" not in r.negatives                                 # a test-channel negative stays hidden
    assert s.elicited() == {"HP:0002315": False}


def test_more_specific_than_the_finding(marfan_case, kb):
    r = Session(marfan_case, kb=kb).ask("Do you have high myopia?")
    assert r.text.startswith("Well, I have near sightedness") and r.hpo == ["HP:0000545"]


def test_two_findings_in_one_question(marfan_case, kb):
    r = Session(marfan_case, kb=kb).ask("Do you get headaches or fits?")
    assert r.negatives == ["HP:0002315", "HP:0001250"]
    assert "headaches" in r.text and "fits" in r.text


def test_unmatched_question_is_answered_as_a_person_would(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    r = s.ask("What's the weather like?")
    assert not r.matched and r.hpo == [] and r.negatives == []
    assert re.search(r"not sure|don't (quite )?(follow|understand)", r.text)
    assert s.events[-1].matched is False and s.events[-1].input == "What's the weather like?"
    assert s.clock == 1.0


def test_interview_intents(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    assert s.ask("What brings you in today?").text == "My chest went tight and I couldn't breathe last month."
    assert s.ask("When did it start?").text == "It started when I was about 19, about 5 years ago."
    assert s.ask("When did you become short-sighted?").text.startswith("That started when I was about 8")
    assert "mother" in s.ask("Any illnesses in the family?").text
    assert s.ask("Do you take any medicines?").text == "I'm not on any regular medicines."
    assert s.ask("How old are you?").text == "I'm 24."
    assert s.ask("Hello").text.startswith("Hello, doctor")


def test_a_child_is_spoken_for_by_a_parent(marfan_case, kb):
    marfan_case.patient.age_years = 6
    s = Session(marfan_case, kb=kb)
    assert s.ask("Does she have flexible joints?").text == "Yes, she has flexible joints."
    assert s.ask("Any headaches?").text == "No, she hasn't had any headaches."
    assert s.ask("How old is she?").text == "She's 6."


def test_exam_reveals_exam_findings_of_the_system(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    r = s.examine("eyes")
    assert r.text == "Eyes: ectopia lentis. No glaucoma."
    assert r.hpo == ["HP:0001083"] and r.negatives == ["HP:0000501"]
    r = s.examine("Cardiovascular")                                        # by label, any case
    assert r.text == "Cardiovascular: normal." and r.hpo == []
    assert s.clock == 6.0
    assert s.elicited() == {"HP:0001083": True, "HP:0000501": False}


def test_every_organ_system_has_an_exam(kb):
    covered = {h for _label, ids in EXAM_SYSTEMS.values() for h in ids}
    assert set(kb.systems) <= covered


def test_unknown_exam_test_action_name_the_value_and_the_choices(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    with pytest.raises(ConfigError, match=re.escape("unknown exam system 'brain': choose one of general, head_neck")):
        s.examine("brain")
    with pytest.raises(ConfigError, match=re.escape("unknown test 'mri': this case offers echo, cbc, gene_panel")):
        s.order("mri")
    with pytest.raises(ConfigError, match=re.escape("unknown action 'pray': choose one of admit")):
        s.act("pray")
    with pytest.raises(ConfigError, match="empty question"):
        s.ask("  ")
    assert s.events == [] and s.clock == 0.0


def test_order_charges_once_and_advances_the_clock(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    r = s.order("echo")
    assert r.text.startswith("Echocardiogram: Aortic root dilated")
    assert r.hpo == ["HP:0002616", "HP:0001634"] and r.negatives == ["HP:0001653"]
    assert (s.clock, s.cost, s.events[-1].cost) == (60.0, 450.0, 450.0)
    again = s.order("Echocardiogram")                                      # by name: the earlier result, free
    assert "already resulted at 1:00" in again.text and again.hpo == r.hpo
    assert (s.clock, s.cost, s.events[-1].cost) == (60.0, 450.0, 0.0)
    r = s.order("cbc")
    assert "Hemoglobin 13.1 g/dL (ref 12-15.5)" in r.text


def test_differential_by_id_and_name(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    r = s.set_differential(["Marfan syndrome", "loeys-dietz syndrome", "OMIM:154700", "ORPHA:558"])
    assert s.differential[0] == "ORPHA:558" and len(s.differential) == 3  # the duplicate dropped
    assert r.text.startswith("Differential: 1. Marfan syndrome (ORPHA:558); 2. Loeys-Dietz")
    with pytest.raises(ConfigError, match=re.escape("unknown disease 'zzqx disease'")):
        s.set_differential(["zzqx disease"])
    assert s.differential[0] == "ORPHA:558"


def test_actions_and_end(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    assert s.act("refer_genetics").text == "Done: Refer to clinical genetics."
    assert s.act("Refer to clinical genetics").text.startswith("Already done at 0:05")
    assert s.clock == 5.0 and s.done == {"refer_genetics": 5.0}
    assert "admit" in s.actions() and "refer_cardiology" in s.actions()
    r = s.end()
    assert s.ended and r.kind == "end" and "0 questions" in r.text
    with pytest.raises(ConfigError, match="has ended"):
        s.ask("Any headaches?")


def test_clock_and_events(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    s.ask("Any headaches?")
    s.examine("eyes")
    s.order("cbc")
    s.set_differential(["ORPHA:558"])
    s.act("admit")
    assert [(e.kind, e.t) for e in s.events] == [("ask", 1.0), ("exam", 4.0), ("order", 34.0),
                                                  ("differential", 34.0), ("action", 39.0)]


# -- acute cases -----------------------------------------------------------------------------------
def test_untreated_vitals_follow_the_case(sepsis_case, kb):
    s = Session(sepsis_case, kb=kb)
    assert s.vitals_now().heart_rate == 108 and s.state == "deteriorating"
    s.clock = 30.0
    v = s.vitals_now()
    assert (v.heart_rate, v.systolic) == (114.0, 98.0)                      # halfway between 0 and 60 min
    s.clock = 500.0
    assert s.vitals_now().systolic == 78 and s.state == "critical"


def test_priority_actions_in_time_stop_the_deterioration(sepsis_case, kb):
    s = Session(sepsis_case, kb=kb)
    for key in ("blood_cultures", "iv_antibiotics", "iv_fluids"):
        s.act(key)
    assert s.clock == 15.0
    at_fix = s.vitals_now()
    s.order("lactate")
    s.clock += 100
    later = s.vitals_now()
    assert later.heart_rate < at_fix.heart_rate and later.systolic > at_fix.systolic
    assert s.state == "stable"


def test_late_priority_actions_hold_the_vitals(sepsis_case, kb):
    s = Session(sepsis_case, kb=kb)
    s.order("lactate")
    s.clock = 90.0                                                          # deadlines (60 min) missed
    for key in ("blood_cultures", "iv_antibiotics", "iv_fluids"):
        s.act(key)
    held = s.vitals_now()
    s.clock = 400.0
    assert s.vitals_now().systolic == held.systolic and s.vitals_now().heart_rate == held.heart_rate
    assert s.state == "critical"


def test_general_exam_shows_the_vitals(sepsis_case, kb):
    r = Session(sepsis_case, kb=kb).examine("general")
    assert r.text.startswith("General: HR 109/min, BP 103/62 mmHg")
    assert "Nurse's note: flushed. Otherwise unremarkable." in r.text


def test_news2():
    from hygeia.tutor._case import VitalSigns
    assert news2(VitalSigns(0, 80, 120, 75, 16, 37.0, 97)) == 0
    assert news2(VitalSigns(0, 80, 120, 75, 16, 37.0, 97), oxygen=True) == 2
    assert news2(VitalSigns(0, 131, 90, 50, 25, 39.1, 91)) == 3 + 3 + 3 + 3 + 2


# -- JSON ------------------------------------------------------------------------------------------
def _play(s: Session) -> None:
    s.ask("Hello")
    s.ask("What brings you in?")
    s.ask("Do you have long fingers?")
    s.ask("Any headaches?")
    s.ask("What's the weather like?")
    s.examine("eyes")
    s.order("echo")
    s.set_differential(["Marfan syndrome", "Loeys-Dietz syndrome"])
    s.act("refer_genetics")


def test_round_trip(marfan_case, kb, tmp_path):
    s = Session(marfan_case, kb=kb, student="ana")
    _play(s)
    data = s.to_dict()
    assert data["schema"] == SESSION_SCHEMA and data["case"]["id"] == "marfan-test"
    json.dumps(data)
    back = Session.from_dict(json.loads(json.dumps(data)), marfan_case, kb=kb)
    assert back.to_dict() == data
    path = save_session(s, tmp_path / "s.json")
    assert load_session(path, marfan_case, kb=kb).to_dict() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]        # written aside and swapped in


def test_a_resumed_session_behaves_as_one_that_never_stopped(marfan_case, kb, tmp_path):
    one = Session(marfan_case, kb=kb, id="x")
    _play(one)
    save_session(one, tmp_path / "s.json")
    two = load_session(tmp_path / "s.json", marfan_case, kb=kb)
    for s in (one, two):
        s.order("echo")
        s.ask("Any problems with your eyes?")
        s.act("refer_genetics")
        s.end()
    a, b = one.to_dict(), two.to_dict()
    assert a == b
    assert one.elicited() == two.elicited() and one.cost == two.cost == 450.0


def test_acute_session_resumes_with_the_same_vitals(sepsis_case, kb, tmp_path):
    one = Session(sepsis_case, kb=kb)
    one.act("blood_cultures")
    one.order("lactate")
    save_session(one, tmp_path / "s.json")
    two = load_session(tmp_path / "s.json", sepsis_case, kb=kb)
    for s in (one, two):
        s.act("iv_antibiotics")
        s.act("iv_fluids")
        s.clock += 30
    assert one.vitals_now() == two.vitals_now() and one.state == two.state


def test_a_changed_case_is_refused_naming_the_first_differing_event(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    _play(s)
    data = s.to_dict()
    changed = copy.deepcopy(marfan_case)
    changed.findings[0].says = "Yes, my fingers are long."
    with pytest.raises(DataValidationError, match=re.escape("event 3 (ask 'Do you have long fingers?' at 0:03)")):
        Session.from_dict(data, changed, kb=kb)
    gone = copy.deepcopy(marfan_case)
    gone.tests = [t for t in gone.tests if t.key != "echo"]
    with pytest.raises(DataValidationError, match=re.escape("event 7 (order 'echo' at 1:08): the case no longer")):
        Session.from_dict(data, gone, kb=kb)


def test_bad_session_files(marfan_case, sepsis_case, kb, tmp_path):
    s = Session(marfan_case, kb=kb)
    s.ask("Any headaches?")
    with pytest.raises(DataValidationError, match="played on case 'marfan-test', not 'sepsis-test'"):
        Session.from_dict(s.to_dict(), sepsis_case, kb=kb)
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(DataValidationError, match="not JSON text"):
        load_session(bad, marfan_case, kb=kb)
    bad.write_text(json.dumps({"schema": "other/1", "events": "x"}))
    with pytest.raises(DataValidationError, match=r"(?s)schema: expected 'hygeia.tutor.session/1'.*events: missing"):
        load_session(bad, marfan_case, kb=kb)
    edited = s.to_dict()
    edited["events"][0]["reply"] = "Yes, terrible headaches."
    with pytest.raises(DataValidationError, match="reply differs"):
        Session.from_dict(edited, marfan_case, kb=kb)
    with pytest.raises(ConfigError, match="no session file"):
        load_session(tmp_path / "missing.json", marfan_case, kb=kb)


def test_replies_are_deterministic(marfan_case, kb):
    a, b = Session(marfan_case, kb=kb), Session(marfan_case, kb=kb)
    _play(a)
    _play(b)
    assert [e.reply for e in a.events] == [e.reply for e in b.events]


def test_case_fixture_is_a_valid_case(marfan_case):
    assert Case.from_dict(marfan_case.to_dict()) == marfan_case


# -- the patient's words ----------------------------------------------------------------------------
def test_says_as_a_sentence_or_as_a_phrase(sepsis_case, kb):
    sepsis_case.findings[0].says = "I've been burning up"                   # a sentence: as written
    s = Session(sepsis_case, kb=kb)
    assert s.ask("Have you had a fever?").text == "Yes, I've been burning up."
    sepsis_case.findings[0].says = "hot and cold spells/rigors"             # a phrase: in a template
    assert Session(sepsis_case, kb=kb).ask("Any fever?").text == "Yes, I have hot and cold spells."


def test_social_notes_in_the_first_person(marfan_case, kb):
    marfan_case.patient.social = "Works as a bus driver; has never smoked; drinks alcohol occasionally."
    s = Session(marfan_case, kb=kb)
    assert s.ask("Do you smoke?").text == "I've never smoked."
    assert s.ask("Do you drink alcohol?").text == "I drink alcohol occasionally."
    assert s.ask("What do you do for work?").text == "I work as a bus driver."
    marfan_case.patient.age_years = 9
    marfan_case.patient.social = "Lives with family; goes to school."
    s = Session(marfan_case, kb=kb)
    assert s.ask("Does she go to school?").text == "She goes to school."
    assert s.ask("Does anyone smoke at home?").text == "Nobody smokes at home."


def test_a_childs_family_history_is_told_by_the_mother(marfan_case, kb):
    marfan_case.patient.age_years = 9
    text = Session(marfan_case, kb=kb).ask("Does anything run in the family?").text
    assert text == "I had an operation on my aorta at 40. Her father is well."


def test_acute_onset_in_hours_and_acute_names_in_the_differential(sepsis_case, kb):
    sepsis_case.patient.onset_years = sepsis_case.patient.age_years - 20 / (365.25 * 24)
    s = Session(sepsis_case, kb=kb)
    assert s.ask("When did this start?").text == "It started about 20 hours ago."
    s.set_differential(["sepsis", "DKA", "pulmonary embolism"])
    assert s.differential == ["HYGEIA:sepsis", "HYGEIA:diabetic_ketoacidosis", "HYGEIA:pulmonary_embolism"]


# -- generated cases (Part A's generator) ------------------------------------------------------------
@pytest.fixture(scope="module")
def generated():
    from hygeia.tutor._generate import generate_case
    return {"marfan": generate_case("ORPHA:558", seed=1, images=False),
            "vague": generate_case("ORPHA:558", seed=2, images=False, vague=0.5, noise=0.2),
            "sepsis": generate_case("HYGEIA:sepsis", seed=1, images=False)}


@pytest.mark.parametrize("which", ["marfan", "vague", "sepsis"])
def test_generated_history_findings_are_found_by_their_names(generated, kb, which):
    case = generated[which]
    present = [f for f in case.findings if f.channel == "history" and f.present]
    assert present
    for f in present:
        s = Session(case, kb=kb)
        r = s.ask(f"Do you have {f.name.lower()}?")
        assert r.text.startswith("Yes") and s.elicited().get(f.hpo) is True, (f.name, r.text)
        assert (f.reported_as or f.hpo) in r.hpo


@pytest.mark.parametrize("which", ["marfan", "vague", "sepsis"])
def test_generated_exam_and_tests_reveal_every_finding_of_their_channel(generated, kb, which):
    case = generated[which]
    s = Session(case, kb=kb)
    for key in EXAM_SYSTEMS:
        s.examine(key)
    for t in case.tests:
        s.order(t.key)
    got = s.elicited()
    for f in case.findings:
        if f.channel == "exam" or (f.channel == "test" and any(f.hpo in t.reveals for t in case.tests)):
            assert got.get(f.hpo) is f.present, f.name
    assert s.cost == pytest.approx(sum(t.cost for t in case.tests))


def test_generated_sessions_replay_and_resume(generated, kb, tmp_path):
    case = generated["vague"]
    one = Session(case, kb=kb)
    for q in ("Hello", "What brings you in?", "When did it start?", "Any problems with your eyes?",
              "Do you get tired?", "Any family history?", "Any medications?", "Do you smoke?", "blah blah"):
        one.ask(q)
    one.examine("eyes")
    one.order(case.tests[0].key)
    save_session(one, tmp_path / "s.json")
    two = load_session(tmp_path / "s.json", case, kb=kb)
    for s in (one, two):
        s.set_differential(["Marfan syndrome"])
        s.act(case.actions[0].key if case.actions else "follow_up")
        s.end()
    assert one.to_dict() == two.to_dict()


def test_generated_acute_case_deteriorates_unless_treated(generated, kb):
    case = generated["sepsis"]
    prio = [a for a in case.actions if a.priority]
    assert prio
    untreated = Session(case, kb=kb)
    untreated.clock = max(v.minutes for v in case.vitals)
    assert untreated.state == "critical"
    treated = Session(case, kb=kb)
    for a in prio:
        treated.act(a.key)
    fixed = treated.vitals_now()
    treated.clock = max(v.minutes for v in case.vitals)
    assert treated.vitals_now().systolic >= fixed.systolic > untreated.vitals_now().systolic
    assert treated.state != "deteriorating"


def test_denials_in_one_sentence_and_long_questions_refused(marfan_case, kb):
    s = Session(marfan_case, kb=kb)
    assert s.ask("Do you get chest pain or palpitations?").text == "No, I haven't had chest pain or palpitations."
    with pytest.raises(ConfigError, match=re.escape("question too long (600 characters)")):
        s.ask("a" * 600)


@pytest.mark.parametrize("text", ["¿Tiene dolor de cabeza?", "头痛吗", "\x00\x01\x02", "asdfgh qwerty"])
def test_foreign_or_garbled_questions_are_not_understood(marfan_case, kb, text):
    r = Session(marfan_case, kb=kb).ask(text)
    assert not r.matched and r.hpo == [] and r.negatives == []


def test_the_chief_complaint_reveals_the_finding_it_tells_of(marfan_case, kb):
    marfan_case.patient.chief_complaint = "I've had spider fingers for years."
    s = Session(marfan_case, kb=kb)
    r = s.ask("What brings you in today?")
    assert r.hpo == ["HP:0001166"] and s.elicited() == {"HP:0001166": True}


def test_the_chief_complaint_names_a_findings_parent(sepsis_case, kb):
    from hygeia.tutor._case import CaseFinding
    sepsis_case.findings.append(CaseFinding("HP:0025145", "Rigors", True, "history", "HP:0025142"))
    r = Session(sepsis_case, kb=kb).ask("What's the problem?")          # "I've been shivering..."
    assert r.hpo == ["HP:0025145"]                                      # shivering: chills, the parent of rigors


def test_anything_else_volunteers_one_more_finding_until_all_are_told(marfan_case, kb):
    for f, p in zip(marfan_case.findings, (0.9, 0.5, 0.2, 0.7, 0.1)):
        f.frequency = p
    s = Session(marfan_case, kb=kb)
    s.ask("Are your fingers long?")                                           # arachnodactyly told already
    told = [s.ask("Anything else?") for _ in range(4)]
    assert [r.hpo for r in told] == [["HP:0012378"], ["HP:0000545"], ["HP:0002108"], ["HP:0001382"]]
    assert told[0].text == "Well, I have tiredness as well."                  # the most frequent first
    assert s.ask("Is there anything else?").text == "No, I think that's everything."


def test_the_course(marfan_case, sepsis_case, kb):
    marfan_case.disease = {"id": "OMIM:256850", "name": "Giant axonal neuropathy 1"}     # slowly progressive
    assert Session(marfan_case, kb=kb).ask("Has it got worse?").text == "It's been slowly getting worse."
    marfan_case.disease = {"id": "ORPHA:558", "name": "Marfan syndrome"}                # no course annotated
    assert Session(marfan_case, kb=kb).ask("Has it got worse?").text == "It's been about the same, really."
    late, on_time = Session(sepsis_case, kb=kb), Session(sepsis_case, kb=kb)
    late.clock = 90
    assert late.ask("Is it getting better or worse?").text == "It's getting worse, doctor. Quickly."
    for s in (late, on_time):
        for key in ("blood_cultures", "iv_antibiotics", "iv_fluids"):
            s.act(key)
        s.clock += 120
    assert late.ask("Is it getting better?").text == "About the same, I think."
    assert on_time.ask("Is it getting better?").text == "I think I'm a little better since you started treatment."


# -- an optional language-model voice ------------------------------------------------------------------
def _paraphrase_backend():
    """A stand-in language model (tests only): rewords an answer by a fixed rule, as a greedy model would."""
    from hygeia.notes._backends import Backend

    class Paraphrase(Backend):
        def _generate(self, prompt, **kw):
            answer = prompt.user.split("The answer to give: ")[1].split("\n")[0]
            return answer.replace("I haven't had", "I've never had").replace("Yes, ", "Yes, doctor, ")

    return Paraphrase()


def test_an_llm_voice_rewords_and_the_session_still_replays(marfan_case, kb, tmp_path):
    s = Session(marfan_case, kb=kb, llm=_paraphrase_backend())
    assert s.ask("Any headaches?").text == "No, I've never had any headaches."
    assert s.ask("Do you have flexible joints?").text == "Yes, doctor, I have flexible joints."
    s.examine("eyes")
    assert [e.voice for e in s.events] == ["llm", "llm", "rules"]
    assert s.to_dict()["voice"] == {"kind": "llm", "backend": "Paraphrase"}
    save_session(s, tmp_path / "s.json")
    back = load_session(tmp_path / "s.json", marfan_case, kb=kb)            # no model needed to resume
    assert [e.reply for e in back.events] == [e.reply for e in s.events]
    assert back.ask("Any fits?").text == "No, I haven't had any fits."        # continues with the rule-based voice
    changed = copy.deepcopy(marfan_case)
    changed.findings[11].present = True                                       # headache now present
    with pytest.raises(DataValidationError, match=re.escape("event 1 (ask 'Any headaches?' at 0:01): hpo differs")):
        load_session(tmp_path / "s.json", changed, kb=kb)


def test_an_llm_answer_that_flips_yes_and_no_is_refused(marfan_case, kb):
    from hygeia.notes._backends import Backend

    class Contrary(Backend):
        def _generate(self, prompt, **kw):
            return "Yes, all the time."

    s = Session(marfan_case, kb=kb, llm=Contrary())
    assert s.ask("Any headaches?").text == "No, I haven't had any headaches."
    assert s.events[-1].voice == "rules"


def test_family_carriers_and_consanguinity(marfan_case, kb):
    from hygeia.tutor._case import FamilyMember
    marfan_case.patient.age_years = 3
    marfan_case.patient.sex = "male"
    marfan_case.family = [FamilyMember("mother", False, "healthy (a carrier)"),
                          FamilyMember("father", False, "healthy; the parents are first cousins"),
                          FamilyMember("maternal uncle", True, "had similar problems")]
    s = Session(marfan_case, kb=kb)
    assert s.ask("Any family history?").text == ("I'm well myself, but I'm a carrier. His father is well. His "
                                                 "maternal uncle had similar problems. Yes, his father and I are "
                                                 "first cousins.")
    assert s.ask("Are you and his father related?").text == "Yes, his father and I are first cousins."
    marfan_case.family = []
    marfan_case.family_text = "No relative is known to be affected."
    marfan_case.patient.age_years = 30
    s = Session(marfan_case, kb=kb)
    assert s.ask("Does anything run in the family?").text.startswith("Not that I know of.")
    assert s.ask("Are your parents related?").text == "No, my parents aren't related."
