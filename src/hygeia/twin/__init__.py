"""Personalized treatment simulation: one patient's outcomes under alternative plans.

A :class:`Simulator` (glucose-insulin, PK/PD, blood pressure, sepsis, data-driven
effects) runs declarative :class:`Plan` objects for one patient; its parameters are drawn
from a prior or from the posterior fitted to the patient's own observations
(:meth:`Simulator.calibrate`); :func:`compare` runs plans with common random numbers and
:class:`Trajectories` give intervals, time in range, exposure and safety alerts.
"""

from hygeia.twin._bp import BP_CLASSES, BP_DRUGS, BloodPressureSimulator, bp_reduction
from hygeia.twin._effects import LEARNERS, DRLearner, EffectLearner, Prediction, SLearner, TLearner, XLearner
from hygeia.twin._effects_average import METHODS as EFFECT_METHODS
from hygeia.twin._effects_average import AverageEffect, average_effect
from hygeia.twin._effects_cox import CoxPH
from hygeia.twin._effects_sim import DEFAULT_CONDITIONS, EffectsSimulator, covariates_from_record
from hygeia.twin._glucose import GLUCOSE_OUTPUTS, VIRTUAL_PATIENTS, GlucoseSimulator
from hygeia.twin._pk_linear import LinearPK, PKInput, pk_concentrations
from hygeia.twin._pk_models import PK_MODELS, PKCovariates, cockcroft_gault, james_lbm
from hygeia.twin._pk_popfit import PopulationPK, read_nonmem_data
from hygeia.twin._pk_simulator import PKPDSimulator
from hygeia.twin._plan import ROUTES, Dose, Plan, check_plan, load_plan, plan_from_dict
from hygeia.twin._sepsis import SEPSIS_POLICIES, SepsisMDP, SepsisSimulator, sofa_from_events
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
    share,
    simulator_for,
)
from hygeia.twin._twin import Twin, TwinResult, load_patient, simulate_twin, twin_from_record, write_twin

__all__ = [
    "BP_CLASSES",
    "BP_DRUGS",
    "DEFAULT_CONDITIONS",
    "EFFECT_METHODS",
    "GLUCOSE_OUTPUTS",
    "LEARNERS",
    "PK_MODELS",
    "ROUTES",
    "SEPSIS_POLICIES",
    "SIMULATORS",
    "VIRTUAL_PATIENTS",
    "AverageEffect",
    "BloodPressureSimulator",
    "Comparison",
    "CoxPH",
    "DRLearner",
    "Dose",
    "EffectLearner",
    "EffectsSimulator",
    "GlucoseSimulator",
    "LinearPK",
    "Output",
    "PKCovariates",
    "PKInput",
    "PKPDSimulator",
    "Params",
    "Plan",
    "PopulationPK",
    "Prediction",
    "SLearner",
    "SafetyAlert",
    "SepsisMDP",
    "SepsisSimulator",
    "Simulator",
    "TLearner",
    "Trajectories",
    "Twin",
    "TwinResult",
    "XLearner",
    "average_effect",
    "bp_reduction",
    "check_plan",
    "cockcroft_gault",
    "compare",
    "covariates_from_record",
    "james_lbm",
    "load_patient",
    "load_plan",
    "pk_concentrations",
    "plan_from_dict",
    "read_nonmem_data",
    "register",
    "share",
    "simulate_twin",
    "simulator_for",
    "sofa_from_events",
    "twin_from_record",
    "write_twin",
]
