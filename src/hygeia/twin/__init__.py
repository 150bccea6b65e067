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
    "AverageEffect",
    "CoxPH",
    "DEFAULT_CONDITIONS",
    "DRLearner",
    "EFFECT_METHODS",
    "EffectLearner",
    "EffectsSimulator",
    "LEARNERS",
    "Prediction",
    "SLearner",
    "TLearner",
    "XLearner",
    "average_effect",
    "covariates_from_record",
    "BP_CLASSES",
    "BP_DRUGS",
    "PK_MODELS",
    "GLUCOSE_OUTPUTS",
    "ROUTES",
    "SEPSIS_POLICIES",
    "SIMULATORS",
    "VIRTUAL_PATIENTS",
    "BloodPressureSimulator",
    "Comparison",
    "Dose",
    "LinearPK",
    "GlucoseSimulator",
    "Output",
    "PKCovariates",
    "PKInput",
    "PKPDSimulator",
    "Params",
    "Plan",
    "PopulationPK",
    "SafetyAlert",
    "SepsisMDP",
    "SepsisSimulator",
    "Simulator",
    "Trajectories",
    "bp_reduction",
    "check_plan",
    "cockcroft_gault",
    "compare",
    "james_lbm",
    "load_plan",
    "pk_concentrations",
    "plan_from_dict",
    "read_nonmem_data",
    "register",
    "simulator_for",
]
