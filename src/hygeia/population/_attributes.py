"""Who supplies each attribute that Synthea-format modules read but no module sets.

Synthea sets some attributes in Java rather than in its modules. Hygeia's
lifecycle must supply those; :data:`LIFECYCLE_ATTRIBUTES` says where each one
comes from and which Java source it follows. :data:`NOT_SUPPLIED` lists the
ones Synthea's Java sets that Hygeia does not yet supply (a module reading one
sees it missing and takes its ``default`` or its "is nil" branch), and
:data:`NEVER_SET` the ones nothing sets in Synthea's Java or in the module
corpus checked (``../shared/synthea/modules``, a part of Synthea's corpus).
``scripts/attribute_table.py`` writes the table of ``docs/population.md`` from
these and a scan of the corpus (:mod:`hygeia.population._corpus_scan`).

Example:
    >>> LIFECYCLE_ATTRIBUTES["mi_risk"][0]
    'lifecycle: cardiovascular risk (_cardio.update_cardio_risk), yearly from age 40'
    >>> classify("mi_risk"), classify("stroke_history"), classify("no_such_attribute")
    ('lifecycle', 'never set', None)
"""

from __future__ import annotations

__all__ = ["LIFECYCLE_ATTRIBUTES", "NEVER_SET", "NOT_SUPPLIED", "classify"]

_CARDIO = "lifecycle: cardiovascular risk (_cardio.update_cardio_risk), yearly from age 40"
_PERSON = "lifecycle: Lifecycle.make_person"

#: name -> (what supplies it in Hygeia, the Synthea Java it follows).
LIFECYCLE_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "gender": ("engine: Person (sex drawn by Lifecycle.make_person)", "Person.GENDER, set by the Generator"),
    "race": ("engine: Person (locale pack)", "Person.RACE, set by the Generator from demographics"),
    "ethnicity": ("engine: Person (locale pack)", "Person.ETHNICITY, set by the Generator"),
    "state": (_PERSON + " (locale pack)", "Person.STATE, Location"),
    "income": (_PERSON + " (locale pack)", "Person.INCOME, Generator"),
    "education": (_PERSON + " (locale pack)", "Person.EDUCATION, Generator"),
    "first_language": (_PERSON + " (locale pack)", "Person.FIRST_LANGUAGE, Generator"),
    "marital_status": (_PERSON + " (locale pack)", "Person.MARITAL_STATUS, Generator"),
    "poverty_ratio": (_PERSON + " (income / US poverty threshold)", "Person.POVERTY_RATIO"),
    "insurance_status": (_PERSON + " and Lifecycle._medicare", "HealthInsuranceModule"),
    "RH_NEG": (_PERSON + " (ancestry-specific Rh(D)-negative share)", "LifecycleModule.birth"),
    "smoker": ("lifecycle: Lifecycle._smoking (smoking history: onset and quit from the pack's current smoking and quit ratio)", "LifecycleModule.startSmoking"),
    "quit smoking age": ("lifecycle: Lifecycle._smoking", "LifecycleModule.quitSmoking"),
    "mi_risk": (_CARDIO, "CardiovascularDiseaseModule.calculateAscvdRisk (ASCVD.ascvd10Year x MI_RATIO)"),
    "ihd_risk": (_CARDIO, "CardiovascularDiseaseModule.calculateAscvdRisk (monthly ASCVD risk x 5)"),
    "stroke_risk": (_CARDIO, "CardiovascularDiseaseModule.calculateStrokeRisk (CHADSVASC or ASCVD x STROKE_RATIO)"),
    "atrial_fibrillation_risk": (_CARDIO, ("CardiovascularDiseaseModule.calculateAtrialFibrillationRisk "
                                          "(Framingham.atrialFibrillation10Year)")),
    "BMI": ("lifecycle: the BMI vital sign (read through a #{BMI} expression)", "LifecycleModule.grow"),
}

#: Set by Synthea's Java, not (yet) by Hygeia: name -> the Java that sets it.
NOT_SUPPLIED: dict[str, str] = {
    "address": "LifecycleModule.birth (street address)",
    "birth_country": "Generator / Demographics (place of birth)",
    "sexual_orientation": "LifecycleModule.birth (biometrics.yml lifecycle.sexual_orientation)",
    "bmi_percentile": "LifecycleModule.grow (CDC growth charts)",
    "current_weight_length_percentile": "LifecycleModule.setCurrentWeightForLengthPercentile",
    "probability_of_fall_injury": "LifecycleModule.calculateFallRisk",
    "probability_of_lung_cancer": "LifecycleModule (veteran lung cancer risk)",
    "probability_of_no_lung_cancer": "LifecycleModule (veteran lung cancer risk)",
    "probability_of_lung_cancer_treatment": "LifecycleModule (veteran lung cancer risk)",
    "probability_of_no_lung_cancer_treatment": "LifecycleModule (veteran lung cancer risk)",
    "probability_of_no_suicide": "LifecycleModule (veteran suicide risk)",
    "food_insecurity": "Generator (social determinants of health)",
    "severe_housing_cost_burden": "Generator (social determinants of health)",
    "unemployed": "Generator (social determinants of health)",
    "no_vehicle_access": "Generator (social determinants of health)",
    "weight_loss_adherence": "WeightLossModule",
    "days_until_death": "Person / hospice (expected time to death)",
    "veteran_population_override": "Generator (a configuration override)",
    "dental_module_override": "Generator (a configuration override)",
    "calibration.pregnancy.preeclampsia": "Generator (calibration settings copied to attributes)",
    "calibration.pregnancy.eclampsia_de_novo": "Generator (calibration settings copied to attributes)",
    "calibration.pregnancy.eclampsia_given_preeclampsia": "Generator (calibration settings copied to attributes)",
    "calibration.pregnancy.premature_birth": "Generator (calibration settings copied to attributes)",
    "calibration.reproduction.exposure": "Generator (calibration settings copied to attributes)",
    "C19_FULLY_VACCINATED": "C19ImmunizationModule (COVID-19 vaccination, in Java)",
}

#: Set by nothing in Synthea's Java nor in the corpus checked: name -> why it is read anyway.
NEVER_SET: dict[str, str] = {
    "coronary_heart_disease": "its Java setter (CardiovascularDiseaseModule.onsetCoronaryHeartDisease) is "
                              "commented out upstream",
    "stroke_history": "its Java setter (CardiovascularDiseaseModule.getStroke) is commented out upstream",
    "covid19_bacterial_infection": "set by Synthea's COVID-19 modules, not part of the corpus checked",
    "chf_med_check": "no setter upstream; the module takes its nil branch",
    "diabetic_retinopathy_stage_code": "no setter upstream; read through a lookup table",
    "Ventilator Reason": "referenced by attribute, never assigned upstream",
    "savrr_ico_los": "no setter upstream; the distribution default applies",
    "bicuspid_aortic_valve": "no setter upstream; the module takes its nil branch",
    "orthodontic_appliance": "no setter upstream; the module takes its nil branch",
    "pregnancy": "no setter upstream (the corpus sets `pregnant`); the UTI modules take their nil branch",
    "GU_pregnancy_check": "no setter upstream (the UTI modules set `GU_Pregnancy_Check`; names are case-sensitive)",
    "UTI_ambulatory": "no setter upstream (the UTI modules set `UTI_Ambulatory`; names are case-sensitive)",
}


def classify(name: str) -> str | None:
    """``'lifecycle'``, ``'not supplied'``, ``'never set'`` or None for an unknown attribute."""
    if name in LIFECYCLE_ATTRIBUTES:
        return "lifecycle"
    if name in NOT_SUPPLIED:
        return "not supplied"
    if name in NEVER_SET:
        return "never set"
    return None
