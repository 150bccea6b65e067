"""Must-show: propofol (Marsh, Schnider) and remifentanil (Minto) within 2% of pytci on the same dosing.

pytci (MIT, a test-time reference in the ``test`` extra) is run with its exact integrator:
a bolus, then three infusion rates of 20, 40 and 60 minutes, sampled every 10 s.
"""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.twin import Dose, Plan
from hygeia.twin._pk_simulator import PKPDSimulator

pytci_propofol = pytest.importorskip("PyTCI.models.propofol", reason="the reference is pytci: pip install pytci")
pytci_remi = pytest.importorskip("PyTCI.models.remifentanil", reason="the reference is pytci: pip install pytci")

STEPS = ((1.0, 20), (0.8, 40), (0.6, 60))  # share of the first rate, minutes
PATIENTS = ((40.0, 70.0, 175.0, "m"), (75.0, 55.0, 160.0, "f"), (25.0, 95.0, 190.0, "m"))


def pytci_course(model, bolus: float, rate_per_h: float) -> tuple[np.ndarray, np.ndarray]:
    model.set_integrator("exact")
    model.give_drug(bolus)
    cp, ce = [model.x1], [model.xeo]
    for share, minutes in STEPS:
        for _ in range(minutes * 6):
            model.giveoverseconds(share * rate_per_h / 3600.0, 10)
            cp.append(model.x1)
            ce.append(model.xeo)
    return np.array(cp), np.array(ce)


def hygeia_course(sim: PKPDSimulator, drug: str, bolus: float, rate_per_h: float, unit: str):
    doses, start = [Dose(drug, bolus, unit, route="iv_bolus")], 0.0
    for share, minutes in STEPS:
        doses.append(Dose(drug, share * rate_per_h, f"{unit}/h", at_h=start, route="iv_infusion",
                          duration_h=minutes / 60))
        start += minutes / 60
    run = sim.simulate(Plan("pytci", doses=tuple(doses), horizon_h=start), n=1, seed=0, step_h=10 / 3600)
    return run.series(f"{drug}_plasma")[0], run.series(f"{drug}_effect")[0]


def max_relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a[1:] - b[1:]) / b[1:]))


@pytest.mark.parametrize("age,weight,height,sex", PATIENTS)
@pytest.mark.parametrize("model", ["marsh", "schnider", "minto"])
def test_concentrations_within_two_percent_of_pytci(model, age, weight, height, sex):
    sim = PKPDSimulator(weight_kg=weight, height_cm=height, age_y=age, sex=sex,
                        propofol_model="marsh" if model == "marsh" else "schnider")
    if model == "minto":
        ref = pytci_remi.Minto(age, weight, height, sex)
        drug, unit, bolus, rate = "remifentanil", "ug", 1.0 * weight, 0.25 * 60 * weight  # 1 ug/kg, 0.25 ug/kg/min
    else:
        ref = pytci_propofol.Marsh(weight) if model == "marsh" else pytci_propofol.Schnider(age, weight, height, sex)
        drug, unit, bolus, rate = "propofol", "mg", 2.0 * weight, 10.0 * weight  # 2 mg/kg, 10 mg/kg/h
    cp_ref, ce_ref = pytci_course(ref, bolus, rate)
    cp, ce = hygeia_course(sim, drug, bolus, rate, unit)
    assert cp.shape == cp_ref.shape
    assert cp[0] == pytest.approx(cp_ref[0], rel=0.02)
    assert max_relative(cp, cp_ref) < 0.02
    assert max_relative(ce, ce_ref) < 0.02
