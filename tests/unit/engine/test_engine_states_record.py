"""State types that write the health record: encounters, conditions, allergies, medications,
care plans, procedures, observations, reports, imaging, devices, supplies, symptoms, vital
signs, vaccines."""

from __future__ import annotations

import pytest
from engine_testkit import BIRTH, DAY, DELAY_MONTH, HOUR, MINUTE, YEAR, delay_years, load, one, rows, run, verdicts

HTN, DM, ASTHMA = "38341003", "44054006", "195967001"
PEANUT, LATEX = "91935009", "300916003"
LISINOPRIL, METFORMIN, INHALER = "314076", "860975", "895994"
DIABETES_PLAN, ASTHMA_PLAN = "698360004", "699728000"


def test_encounter_opens_a_visit_that_collects_facts_until_encounter_end() -> None:
    p = run("state_encounter.json")
    enc = one(p, "encounter")
    assert (enc.time, enc.end_time) == (BIRTH, BIRTH + 15 * MINUTE)
    assert (enc.code_system, enc.code, enc.text_value) == ("SNOMED-CT", "50849002", "emergency")
    assert (enc.module, enc.state) == ("state_encounter", "ER_Visit")
    assert enc.encounter_id is not None
    dx = one(p, "condition")
    assert (dx.code, dx.encounter_id) == (ASTHMA, enc.encounter_id)
    assert one(p, "observation").encounter_id is None


def test_encounter_ids_are_unique_per_encounter() -> None:
    p = run("state_encounter.json", wellness_every_years=1)
    ids = [r.encounter_id for r in rows(p, "encounter")]
    assert len(ids) == 31 and len(set(ids)) == len(ids)


def test_wellness_encounter_waits_for_the_next_wellness_visit_and_attaches_to_it() -> None:
    p = run("state_encounter_wellness.json", wellness_every_years=1)
    visits = rows(p, "encounter", module="lifecycle")
    step = YEAR  # wellness_every_years=1: first visit at half a step, then every step
    assert [v.time for v in visits[:3]] == [BIRTH + step // 2, BIRTH + step // 2 + step, BIRTH + step // 2 + 2 * step]
    assert all(v.text_value == "wellness" for v in visits)
    measured = one(p, "observation")
    third = visits[2]
    assert measured.time == third.time == BIRTH + step // 2 + 2 * step
    assert measured.encounter_id == third.encounter_id
    assert (measured.module, measured.state) == ("state_encounter_wellness", "Measure")
    assert len(rows(p, "encounter", module="state_encounter_wellness")) == 0


def test_wellness_encounter_without_wellness_visits_waits_forever() -> None:
    p = run("state_encounter_wellness.json")
    assert p.rows == []


def test_encounter_end_stretches_the_encounter_and_closes_it() -> None:
    p = run("state_encounter_end.json")
    enc = one(p, "encounter")
    assert (enc.time, enc.end_time, enc.text_value) == (BIRTH, BIRTH + 2 * HOUR, "ambulatory")
    after = one(p, "observation")
    assert after.time == BIRTH + 2 * HOUR and after.encounter_id is None


def test_condition_onset_now_deferred_to_target_encounter_and_in_it() -> None:
    p = run("state_condition_onset.json")
    visit = one(p, "encounter")
    assert visit.time == BIRTH + 2 * DELAY_MONTH
    htn = one(p, "condition", code=HTN)
    assert (htn.time, htn.end_time, htn.encounter_id, htn.state) == (BIRTH, None, None, "Hypertension")
    assert p.attrs["htn"][:12] == list(htn)  # then the row key (engine._person.KEY)
    dm = one(p, "condition", code=DM)  # reached at 1 month, diagnosed at the visit
    assert (dm.time, dm.encounter_id, dm.state) == (visit.time, visit.encounter_id, "Diabetes_At_Visit")
    asthma = one(p, "condition", code=ASTHMA)  # already in the target encounter: at once
    assert (asthma.time, asthma.encounter_id) == (visit.time, visit.encounter_id)
    assert set(p.conditions) == {HTN, DM, ASTHMA}


def test_condition_onset_with_target_encounter_is_not_recorded_before_it() -> None:
    p = run("state_condition_onset.json", end=BIRTH + 2 * DELAY_MONTH - 1)
    assert set(p.conditions) == {HTN}
    assert rows(p, "condition", code=DM) == []


def test_condition_end_by_onset_by_attribute_and_by_codes() -> None:
    p = run("state_condition_end.json")
    ends = {r.code: r.end_time for r in rows(p, "condition")}
    assert ends == {HTN: BIRTH + DAY, DM: BIRTH + 2 * DAY, ASTHMA: BIRTH + 3 * DAY}
    assert p.conditions == {}


def test_condition_end_leaves_the_condition_active_until_then() -> None:
    p = run("state_condition_end.json", end=BIRTH + DAY + HOUR)
    assert set(p.conditions) == {DM, ASTHMA}


def test_allergy_onset_and_end() -> None:
    p = run("state_allergy.json")
    got = {r.code: (r.time, r.end_time, r.module, r.state) for r in rows(p, "allergy")}
    assert got == {
        PEANUT: (BIRTH, BIRTH + delay_years(1), "state_allergy", "Peanut"),
        LATEX: (BIRTH, BIRTH + 2 * delay_years(1), "state_allergy", "Latex"),
    }
    assert p.allergies == {}
    assert p.attrs["peanut"][4] == PEANUT
    midway = run("state_allergy.json", end=BIRTH + delay_years(1) + DAY)
    assert set(midway.allergies) == {LATEX}


def test_medication_order_and_end() -> None:
    p = run("state_medication.json")
    visit = one(p, "encounter")
    lis = one(p, "medication", code=LISINOPRIL)
    met = one(p, "medication", code=METFORMIN)
    assert (lis.time, lis.text_value, lis.encounter_id) == (BIRTH, "chronic", visit.encounter_id)
    assert (met.time, met.text_value, met.encounter_id) == (BIRTH, None, visit.encounter_id)
    assert p.attrs["bp_med"] is not None and p.attrs["bp_med"][4] == LISINOPRIL
    assert lis.end_time == BIRTH + DELAY_MONTH  # by referenced_by_attribute
    assert met.end_time == BIRTH + DELAY_MONTH  # by medication_order
    first, renewal = rows(p, "medication", code=INHALER)
    assert (first.time, first.end_time) == (BIRTH, BIRTH + 2 * DELAY_MONTH)  # replaced by the renewal
    assert (renewal.time, renewal.end_time) == (BIRTH + 2 * DELAY_MONTH, BIRTH + 3 * DELAY_MONTH)  # by codes
    assert renewal.encounter_id is None
    assert p.medications == {}


def test_medication_is_active_until_it_ends() -> None:
    p = run("state_medication.json", end=BIRTH + DAY)
    assert set(p.medications) == {LISINOPRIL, METFORMIN, INHALER}


def test_careplan_start_and_end() -> None:
    p = run("state_careplan.json")
    dm = one(p, "careplan", code=DIABETES_PLAN)
    asthma = one(p, "careplan", code=ASTHMA_PLAN)
    assert (dm.time, dm.end_time, dm.text_value) == (BIRTH, BIRTH + 6 * DELAY_MONTH, "Diabetic diet; Exercise therapy")
    assert (asthma.time, asthma.end_time, asthma.text_value) == (BIRTH, BIRTH + 6 * DELAY_MONTH, None)
    assert p.careplans == {}
    assert set(run("state_careplan.json", end=BIRTH + DELAY_MONTH).careplans) == {DIABETES_PLAN, ASTHMA_PLAN}


def test_procedure_duration_sets_its_end_and_the_encounter_covers_it() -> None:
    p = run("state_procedure.json")
    visit = one(p, "encounter")
    thirty = one(p, "procedure", code="73761001")
    ranged = one(p, "procedure", code="387713003")
    instant = one(p, "procedure", code="46706006")
    assert (thirty.time, thirty.end_time) == (BIRTH, BIRTH + 30 * MINUTE)
    assert BIRTH + 60 * MINUTE <= ranged.end_time <= BIRTH + 120 * MINUTE
    assert instant.end_time is None
    assert visit.end_time == ranged.end_time
    assert {thirty.encounter_id, ranged.encounter_id, instant.encounter_id} == {visit.encounter_id}


def test_observation_values() -> None:
    p = run("state_observation.json", attributes={"score": 7, "label": "high"}, vitals={"BMI": 27.5})
    visit = one(p, "encounter")
    by_state = {r.state: r for r in rows(p, "observation")}
    assert set(by_state) == {"Temperature", "Glucose", "BMI", "Score", "Label", "Coded", "Text"}
    assert all(r.encounter_id == visit.encounter_id and r.time == BIRTH for r in by_state.values())
    t = by_state["Temperature"]
    assert (t.code_system, t.code, t.numeric_value, t.unit, t.text_value) == ("LOINC", "8331-1", 98.6, "[degF]", None)
    assert 70 <= by_state["Glucose"].numeric_value <= 100
    assert by_state["BMI"].numeric_value == 27.5
    assert (by_state["Score"].numeric_value, by_state["Score"].text_value) == (7.0, None)
    assert (by_state["Label"].numeric_value, by_state["Label"].text_value) == (None, "high")
    assert by_state["Coded"].text_value == "SNOMED-CT|260373001|Detected (qualifier value)"
    assert (by_state["Text"].numeric_value, by_state["Text"].text_value) == (None, "Yellow")


def test_observation_of_an_attribute_holding_a_code_records_the_code() -> None:
    p = run("state_observation_coded_attribute.json")
    obs = one(p, "observation", code="93035-4")
    assert (obs.numeric_value, obs.text_value) == (None, "LOINC|LA33-6|Yes")
    assert verdicts(p) == {"answered_yes": True}


@pytest.mark.parametrize(("fixture", "kind"), [("state_multi_observation.json", "observation"),
                                               ("state_diagnostic_report.json", "diagnostic_report")])
def test_multi_observation_and_diagnostic_report(fixture: str, kind: str) -> None:
    p = run(fixture)
    visit = one(p, "encounter")
    got = [(r.kind, r.code, r.numeric_value, r.unit) for r in rows(p) if r.kind != "encounter"]
    assert got == [(kind, "57698-3", None, None), ("observation", "2093-3", 190.0, "mg/dL"),
                   ("observation", "2085-9", 55.0, "mg/dL")]
    for r in rows(p):
        if r.kind != "encounter":
            assert (r.time, r.encounter_id, r.state) == (BIRTH, visit.encounter_id, "Lipid_Panel")


def test_imaging_study() -> None:
    p = run("state_imaging_study.json")
    img = one(p, "imaging")
    assert (img.code_system, img.code, img.display) == ("SNOMED-CT", "399208008", "Plain chest X-ray")
    assert img.text_value == "DX:Thoracic structure"
    assert img.encounter_id == one(p, "encounter").encounter_id


def test_device_and_device_end() -> None:
    p = run("state_device.json")
    dev = one(p, "device")
    assert (dev.code, dev.time, dev.end_time, dev.state) == ("72506001", BIRTH, BIRTH + delay_years(1), "Implant")
    assert p.devices == {}
    assert set(run("state_device.json", end=BIRTH + DAY).devices) == {"72506001"}


def test_supply_list() -> None:
    p = run("state_supply_list.json")
    visit = one(p, "encounter")
    got = [(r.code, r.numeric_value, r.encounter_id) for r in rows(p, "supply")]
    assert got == [("337388004", 2.0, visit.encounter_id), ("337414009", 1.0, visit.encounter_id)]


def test_symptom_severity_by_cause() -> None:
    p = run("state_symptom.json")
    fatigue = p.symptoms["Fatigue"]
    assert set(fatigue) == {"Anemia", "Flu"}
    assert fatigue["Anemia"] == 40 and 10 <= fatigue["Flu"] <= 20
    assert p.symptoms["Headache"] == {"state_symptom": 5}  # no cause given: the module
    assert p.rows == []


def test_symptom_probability() -> None:
    ms = load("state_symptom.json")
    n = 2000
    coughs = sum("Cough" in run(ms, seed=s).symptoms for s in range(n))
    assert coughs / n == pytest.approx(0.3, abs=0.045)  # 4 sigma


def test_vital_sign_sets_the_value_observations_read() -> None:
    p = run("state_vital_sign.json")
    assert p.vitals == {"Systolic Blood Pressure": 120}
    obs = one(p, "observation")
    assert (obs.code, obs.numeric_value, obs.unit) == ("8480-6", 120.0, "mm[Hg]")


def test_vaccine_records_an_immunization() -> None:
    p = run("state_vaccine.json")
    shot = one(p, "immunization")
    assert (shot.code_system, shot.code, shot.time) == ("CVX", "140", BIRTH)
    assert shot.encounter_id == one(p, "encounter").encounter_id
    assert (shot.module, shot.state) == ("state_vaccine", "Flu_Shot")


def test_imaging_study_with_a_duration_draws_it_as_a_procedure_does() -> None:
    """A Procedure state turned into an ImagingStudy with the same duration keeps the records and the draws."""
    for seed in (1, 2, 3):
        img, proc = run("state_imaging_study_duration.json", seed=seed), run("state_procedure_duration.json", seed=seed)
        study, done = one(img, "procedure"), one(proc, "procedure")
        assert 10 * MINUTE <= study.end_time - study.time <= 20 * MINUTE
        assert (study.time, study.end_time, study.code) == (done.time, done.end_time, done.code)
        keep = ("time", "end_time", "kind", "code", "encounter_id")
        assert [tuple(getattr(r, k) for k in keep) for r in rows(img) if r.kind != "imaging"] == [
            tuple(getattr(r, k) for k in keep) for r in rows(proc)]  # the follow-up Delay drew the same days
        assert one(img, "imaging").time == study.time
    plain = one(run("state_imaging_study.json"), "procedure")
    assert plain.end_time - plain.time == 30 * MINUTE  # without a duration: Synthea's 30 minutes
