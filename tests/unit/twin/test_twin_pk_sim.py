"""The pkpd simulator: dosing units, safety alerts, bad plans, a twin from a record."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from hygeia.errors import ConfigError
from hygeia.twin import SIMULATORS, Dose, Plan, compare, simulator_for
from hygeia.twin._pk_models import PK_MODELS, PKCovariates, cockcroft_gault, james_lbm
from hygeia.twin._pk_simulator import PKPDSimulator

ADULT = {"weight_kg": 70.0, "height_cm": 175.0, "age_y": 40.0, "sex": "m", "creatinine_mg_dl": 1.0}


def vanco(times: int = 6, amount: float = 1000.0) -> Plan:
    return Plan("vanco", doses=(Dose("vancomycin", amount, "mg", route="iv_infusion", duration_h=1.0, every_h=12.0,
                                     times=times),), horizon_h=72.0)


def test_registered_and_built_by_name():
    assert SIMULATORS["pkpd"] is PKPDSimulator
    sim = simulator_for("pkpd", **ADULT)
    assert sim.settings()["propofol_model"] == "schnider"


def test_units_per_kg_and_per_minute_give_the_same_course():
    sim = PKPDSimulator(**ADULT)
    a = Plan("a", doses=(Dose("remifentanil", 0.2, "ug/kg/min", route="iv_infusion", duration_h=1.0),), horizon_h=1.5)
    b = Plan("b", doses=(Dose("remifentanil", 0.2 * 70 * 60, "ug/h", route="iv_infusion", duration_h=1.0),),
             horizon_h=1.5)
    c = Plan("c", doses=(Dose("remifentanil", 0.2 * 70 * 60 / 1000, "mg", route="iv_infusion", duration_h=1.0),),
             horizon_h=1.5)  # an amount unit on an infusion is that amount per hour (the Dose contract)
    runs = compare(sim, [a, b, c], n=1, seed=1).runs
    assert np.allclose(runs[0].values, runs[1].values) and np.allclose(runs[0].values, runs[2].values)
    assert runs[0].series("remifentanil_effect").max() > 0
    assert runs[0].series("propofol_plasma").max() == 0.0


def test_prior_draws_vary_only_where_the_paper_reports_variability():
    sim = PKPDSimulator(**ADULT)
    draws = sim.prior(50, seed=3)
    assert np.ptp(draws["propofol.v1"]) == 0.0  # Schnider: no random effects in the model
    assert np.std(np.log(draws["vancomycin.k10"] * draws["vancomycin.v1"])) == pytest.approx(0.147**0.5, rel=0.3)
    assert np.array_equal(draws["vancomycin.v1"], sim.prior(50, seed=3)["vancomycin.v1"])


def test_covariates_move_the_models_as_published():
    young = PK_MODELS["minto"].build(PKCovariates(70.0, 175.0, 20.0, "m"))
    old = PK_MODELS["minto"].build(PKCovariates(70.0, 175.0, 80.0, "m"))
    assert float(old.k10 * old.v1) < float(young.k10 * young.v1)  # clearance falls with age
    good = PK_MODELS["goti"].build(PKCovariates(70.0, None, 50.0, "m", 0.8))
    poor = PK_MODELS["goti"].build(PKCovariates(70.0, None, 50.0, "m", 3.0))
    assert float(poor.k10) < float(good.k10)
    assert cockcroft_gault(50, 70, "f", 1.0) == pytest.approx(0.85 * 90 * 70 / 72)
    assert james_lbm(70.0, 175.0, "f") < james_lbm(70.0, 175.0, "m")


def test_overdose_raises_alerts_and_concentrations_stay_non_negative():
    sim = PKPDSimulator(**ADULT)
    run = sim.simulate(Plan("big", doses=(Dose("propofol", 4.0, "mg/kg", route="iv_bolus"),), horizon_h=0.5),
                       n=3, seed=1)
    events = {(a.output, a.event) for a in run.alerts}
    assert ("propofol_effect", "over-sedation") in events
    assert all("lower physiological bound" not in a.event for a in run.alerts)
    assert run.values.min() >= 0.0
    high = sim.simulate(vanco(amount=2500.0), n=50, seed=1, step_h=0.5)
    alert = next(a for a in high.alerts if a.output == "vancomycin_auc24")
    assert alert.event == "nephrotoxic exposure" and alert.probability > 0.5
    low = sim.simulate(vanco(amount=250.0), n=50, seed=1, step_h=0.5)
    assert not [a for a in low.alerts if a.output == "vancomycin_auc24"]


def test_vancomycin_auc24_is_the_last_24_hours_of_exposure():
    sim = PKPDSimulator(**ADULT)
    run = sim.simulate(vanco(), n=2, seed=4, step_h=0.25)
    c = run.series("vancomycin_plasma")
    t = run.times_h
    last = t >= 48.0 - 1e-9
    assert np.allclose(run.series("vancomycin_auc24")[:, -1], np.trapezoid(c[:, last], t[last], axis=1), rtol=2e-3)


@pytest.mark.parametrize("dose,message", [
    (Dose("ketamine", 1.0, "mg", route="iv_bolus"),
     "unknown drug 'ketamine'; this simulator knows: propofol, remifentanil, vancomycin"),
    (Dose("propofol", -1.0, "mg", route="iv_bolus"), "amount -1.0 is negative; give a dose >= 0"),
    (Dose("propofol", 1.0, "mg/kg/h", route="iv_bolus"), "unit 'mg/kg/h' is a rate but the dose is a bolus"),
    (Dose("vancomycin", 1000.0, "mg", route="oral"), "route 'oral' is not modelled for vancomycin"),
    (Dose("propofol", 1.0, "mL", route="iv_bolus"), "unit 'mL' is not one of"),
])
def test_bad_doses_get_clear_errors(dose, message):
    sim = PKPDSimulator(**ADULT)
    with pytest.raises(ConfigError, match=re.escape(message)):
        sim.simulate(Plan("bad", doses=(dose,), horizon_h=1.0), n=1, seed=0)


def test_overlapping_infusions_are_refused():
    plan = Plan("overlap", doses=(Dose("propofol", 6.0, "mg/kg/h", route="iv_infusion", duration_h=1.0),
                                  Dose("propofol", 4.0, "mg/kg/h", at_h=0.5, route="iv_infusion", duration_h=1.0)))
    with pytest.raises(ConfigError, match=re.escape("overlaps the infusion started at 0 h")):
        PKPDSimulator(**ADULT).simulate(plan, n=1, seed=0)


def test_missing_covariates_are_named_with_the_fix():
    no_weight = PKPDSimulator(height_cm=175.0, age_y=40.0, sex="m")
    plan = Plan("p", doses=(Dose("propofol", 100.0, "mg", route="iv_bolus"),), horizon_h=0.2)
    with pytest.raises(ConfigError, match=re.escape("the schnider model needs weight_kg, which the patient lacks; "
                                                    "pass weight_kg=70 (LOINC 29463-7 in a record)")):
        no_weight.simulate(plan, n=1, seed=0)
    per_kg = Plan("k", doses=(Dose("propofol", 2.0, "mg/kg", route="iv_bolus"),), horizon_h=0.2)
    with pytest.raises(ConfigError, match=re.escape("a dose in mg/kg needs the patient's weight")):
        no_weight.simulate(per_kg, n=1, seed=0)
    with pytest.raises(ConfigError, match=re.escape("the goti model needs creatinine_mg_dl")):
        PKPDSimulator(weight_kg=70.0, age_y=40.0, sex="m").simulate(vanco(), n=1, seed=0)
    with pytest.raises(ConfigError, match=re.escape("propofol_model='eleveld' is not a propofol model")):
        PKPDSimulator(**ADULT, propofol_model="eleveld").simulate(plan, n=1, seed=0)
    with pytest.raises(ConfigError, match=re.escape("James' lean body mass is not valid at 180 kg")):
        PKPDSimulator(**{**ADULT, "weight_kg": 180.0, "height_cm": 160.0}).simulate(plan, n=1, seed=0)


def test_from_record_reads_the_latest_covariates():
    t = pd.Timestamp("2020-01-01")
    events = pd.DataFrame({
        "time": [t, t + pd.Timedelta(days=400), t, t + pd.Timedelta(days=10), t + pd.Timedelta(days=500)],
        "code": ["29463-7", "29463-7", "8302-2", "2160-0", "29463-7"],
        "numeric_value": [80.0, 78.0, 180.0, 1.3, np.nan],
    })
    person = {"subject_id": 7, "birth_time": pd.Timestamp("1960-01-01"), "sex": "F"}
    twin = PKPDSimulator.from_record(person, events, propofol_model="marsh")
    sim = twin.simulator
    assert (sim.weight_kg, sim.height_cm, sim.creatinine_mg_dl, sim.sex) == (78.0, 180.0, 1.3, "f")
    assert sim.age_y == pytest.approx(61.4, abs=0.1) and sim.propofol_model == "marsh"
    assert twin.taken["weight_kg"]["loinc"] == "29463-7"
    early = PKPDSimulator.from_record(person, events, at=t + pd.Timedelta(days=1)).simulator
    assert (early.weight_kg, early.creatinine_mg_dl) == (80.0, None)
    run = sim.simulate(vanco(2), n=5, seed=0, step_h=0.5)
    assert run.series("vancomycin_plasma").max() > 0
