"""Personalized treatment simulation: one patient's outcomes under alternative plans.

A :class:`Simulator` (glucose-insulin, PK/PD, blood pressure, sepsis, data-driven
effects) runs declarative :class:`Plan` objects for one patient; its parameters are drawn
from a prior or from the posterior fitted to the patient's own observations
(:meth:`Simulator.calibrate`); :func:`compare` runs plans with common random numbers and
:class:`Trajectories` give intervals, time in range, exposure and safety alerts.
"""

from hygeia.twin._bp import BP_CLASSES, BP_DRUGS, BloodPressureSimulator, bp_reduction
from hygeia.twin._plan import ROUTES, Dose, Plan, check_plan, load_plan, plan_from_dict
from hygeia.twin._sepsis import SEPSIS_POLICIES, SepsisMDP, SepsisSimulator
from hygeia.twin._simulator import (
    SIMULATORS,
    Comparison,
    Output,
    Params,
    SafetyAlert,
    Simulator,
    Trajectories,
    compare,
    register,
    simulator_for,
)

__all__ = [
    "BP_CLASSES",
    "BP_DRUGS",
    "ROUTES",
    "SEPSIS_POLICIES",
    "SIMULATORS",
    "BloodPressureSimulator",
    "Comparison",
    "Dose",
    "Output",
    "Params",
    "Plan",
    "SafetyAlert",
    "SepsisMDP",
    "SepsisSimulator",
    "Simulator",
    "Trajectories",
    "bp_reduction",
    "check_plan",
    "compare",
    "load_plan",
    "plan_from_dict",
    "register",
    "simulator_for",
]
