"""How each calibration measure is read from a run's records (private).

A locale pack's ``targets.json`` names a measure by its id (``"hypertension"``);
this catalogue says how Hygeia measures it on the persons alive on ``--end``, so a
country's targets are data only and every pack's targets are measured alike.

A measure is a ``numerator``: a list of *clauses*, any of which puts a person in
it; an optional ``denominator`` (the persons it is a share of; default all the
living in the target's age band and sex); an optional ``exclude``; and a
``unit``: ``"proportion"`` (a share of persons) or ``"rate"`` (events per person
over the look-back, e.g. emergency visits per person-year). Clause kinds:

=================  ==================================================================
``condition``      ``codes``; ``status``: ``"active"`` on ``end``, ``"ever"`` before
                   it, or ``"past_year"`` (active at some time in the 365 days before)
``latest``         ``code`` of an observation; its latest value on or before ``end``
                   compared with ``min`` (>=) and/or ``below`` (<)
``latest_status``  ``code`` of an observation whose text value is a coded answer
                   (``"SNOMED-CT|8517006|Ex-smoker (finding)"``); ``answers``: codes
``measured``       ``code``: any observation of it on or before ``end``
``encounters``     ``encounter_class``; counts those in the 365 days before ``end`` (a
                   ``rate`` measure sums the counts; a ``proportion`` one counts the
                   persons with at least one)
``onsets``         ``codes`` of a condition; counts its onsets in the 365 days before
                   ``end``, only those recorded in an encounter of ``encounter_class``
                   when it is given (e.g. ankle sprains seen in emergency departments)
=================  ==================================================================

Two measures are built in and have no rows in ``targets.json``: ``population_share``
(the pyramid of the living, from the pack's ``age_sex`` block) and ``deaths`` (the
life table's expected deaths in the final year, from its ``life_table`` block).
"""

from __future__ import annotations

from typing import Any

__all__ = ["BUILTIN_MEASURES", "DEFAULT_TOLERANCE", "MEASURES", "measure_codes"]

_S = "SNOMED-CT"
_L = "LOINC"


def _c(*codes: str, system: str = _S) -> list[dict[str, str]]:
    return [{"system": system, "code": c} for c in codes]


#: Default relative tolerance by measure group; a target row may set its own.
DEFAULT_TOLERANCE = {"population": 0.10, "mortality": 0.20, "prevalence": 0.20, "utilisation": 0.20}

_DIABETES = _c("44054006", "46635009")  # type 2, type 1
_CURRENT_SMOKER = ["449868002", "428041000124106", "77176002", "65568007"]
_FORMER_SMOKER = ["8517006"]

#: measure id -> definition. ``group`` picks the default tolerance and the report section.
MEASURES: dict[str, dict[str, Any]] = {
    "hypertension": {
        "label": "Hypertension",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "diagnosed essential hypertension active on the end date, or a latest systolic "
                    ">= 140 or diastolic >= 90 mm[Hg]",
        "numerator": [
            {"condition": _c("59621000", "38341003"), "status": "active"},
            {"latest": {"system": _L, "code": "8480-6"}, "min": 140},
            {"latest": {"system": _L, "code": "8462-4"}, "min": 90},
        ],
    },
    "diabetes_diagnosed": {
        "label": "Diabetes (diagnosed)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "a diabetes mellitus diagnosis (type 1 or 2) before the end date",
        "numerator": [{"condition": _DIABETES, "status": "ever"}],
    },
    "prediabetes": {
        "label": "Prediabetes",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "no diabetes, and a prediabetes diagnosis active on the end date or a latest HbA1c "
                    "of 5.7-6.4% or fasting glucose of 100-125 mg/dL",
        "numerator": [
            {"condition": _c("15777000", "714628002"), "status": "active"},
            {"latest": {"system": _L, "code": "4548-4"}, "min": 5.7, "below": 6.5},
            {"latest": {"system": _L, "code": "2345-7"}, "min": 100, "below": 126},
        ],
        "exclude": [{"condition": _DIABETES, "status": "ever"}],
    },
    "coronary_heart_disease": {
        "label": "Coronary heart disease",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "ever diagnosed coronary heart disease, angina or myocardial infarction",
        "numerator": [{"condition": _c("53741008", "194828000", "399211009", "401314000", "401303003",
                                       "22298006", "414545008"), "status": "ever"}],
    },
    "copd": {
        "label": "COPD",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "ever diagnosed chronic obstructive pulmonary disease, emphysema or chronic bronchitis",
        "numerator": [{"condition": _c("13645005", "185086009", "87433001", "63480004"), "status": "ever"}],
    },
    "asthma_current": {
        "label": "Asthma (current)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "an asthma diagnosis active on the end date",
        "numerator": [{"condition": _c("195967001", "233678006"), "status": "active"}],
    },
    "depression_past_year": {
        "label": "Major depressive episode, past year (diagnosed)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "a diagnosed major depressive episode (single, recurrent or postpartum) active at some "
                    "time in the 365 days before the end date",
        "numerator": [{"condition": _c("36923009", "370143000", "58703003"), "status": "past_year"}],
    },
    "depression_ever": {
        "label": "Depression, ever diagnosed",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "a major depressive disorder diagnosis (single episode, recurrent or postpartum) at any "
                    "time before the end date",
        "numerator": [{"condition": _c("36923009", "370143000", "58703003"), "status": "ever"}],
    },
    "atrial_fibrillation": {
        "label": "Atrial fibrillation",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "ever diagnosed atrial fibrillation",
        "numerator": [{"condition": _c("49436004"), "status": "ever"}],
    },
    "heart_failure": {
        "label": "Heart failure",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "ever diagnosed heart failure",
        "numerator": [{"condition": _c("88805009", "84114007", "42343007"), "status": "ever"}],
    },
    "ckd": {
        "label": "Chronic kidney disease (stages 1-4)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "a chronic kidney disease diagnosis active on the end date, or a latest eGFR < 60 "
                    "or urine albumin/creatinine >= 30 mg/g",
        "numerator": [
            {"condition": _c("431855005", "431856006", "433144002", "431857002", "127013003"),
             "status": "active"},
            {"latest": {"system": _L, "code": "33914-3"}, "below": 60},
            {"latest": {"system": _L, "code": "14959-1"}, "min": 30},
        ],
    },
    "obesity": {
        "label": "Obesity (BMI >= 30)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "latest body mass index >= 30 kg/m2, among persons with one measured",
        "numerator": [{"latest": {"system": _L, "code": "39156-5"}, "min": 30}],
        "denominator": [{"measured": {"system": _L, "code": "39156-5"}}],
    },
    "underweight": {
        "label": "Underweight (BMI < 18.5)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "latest body mass index < 18.5 kg/m2, among persons with one measured",
        "numerator": [{"latest": {"system": _L, "code": "39156-5"}, "below": 18.5}],
        "denominator": [{"measured": {"system": _L, "code": "39156-5"}}],
    },
    "high_total_cholesterol": {
        "label": "High total cholesterol (>= 240 mg/dL)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "latest serum total cholesterol >= 240 mg/dL, among persons with one measured",
        "numerator": [{"latest": {"system": _L, "code": "2093-3"}, "min": 240}],
        "denominator": [{"measured": {"system": _L, "code": "2093-3"}}],
    },
    "low_hdl": {
        "label": "Low HDL cholesterol (< 40 mg/dL)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "latest serum HDL cholesterol < 40 mg/dL, among persons with one measured",
        "numerator": [{"latest": {"system": _L, "code": "2085-9"}, "below": 40}],
        "denominator": [{"measured": {"system": _L, "code": "2085-9"}}],
    },
    "smoking_current": {
        "label": "Current cigarette smoking",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "latest recorded tobacco smoking status is a current smoker, among persons with one recorded",
        "numerator": [{"latest_status": {"system": _L, "code": "72166-2"}, "answers": _CURRENT_SMOKER}],
        "denominator": [{"measured": {"system": _L, "code": "72166-2"}}],
    },
    "smoking_quit_ratio": {
        "label": "Quit ratio (former / ever smokers)",
        "group": "prevalence",
        "unit": "proportion",
        "describe": "latest recorded smoking status is ex-smoker, among persons whose latest status is a "
                    "current or former smoker",
        "numerator": [{"latest_status": {"system": _L, "code": "72166-2"}, "answers": _FORMER_SMOKER}],
        "denominator": [{"latest_status": {"system": _L, "code": "72166-2"},
                         "answers": _CURRENT_SMOKER + _FORMER_SMOKER}],
    },
    "ed_visits": {
        "label": "Emergency department visits per person-year",
        "group": "utilisation",
        "unit": "rate",
        "describe": "emergency encounters in the 365 days before the end date, per person alive on it",
        "numerator": [{"encounters": "emergency"}],
    },
    "urgent_care_past_year": {
        "label": "Urgent care visit in the past year",
        "group": "utilisation",
        "unit": "proportion",
        "describe": "at least one urgent care encounter in the 365 days before the end date",
        "numerator": [{"encounters": "urgentcare"}],
    },
    "wellness_past_year": {
        "label": "Wellness (check-up) visit in the past year",
        "group": "utilisation",
        "unit": "proportion",
        "describe": "at least one wellness encounter (check-up, well-child visit) in the 365 days before the end date",
        "numerator": [{"encounters": "wellness"}],
    },
    "ankle_sprain_ed": {
        "label": "Ankle sprains seen in emergency departments per person-year",
        "group": "utilisation",
        "unit": "rate",
        "describe": "ankle sprain diagnoses recorded in emergency encounters in the 365 days before the end date, "
                    "per person-year",
        "numerator": [{"onsets": _c("44465007"), "encounter_class": "emergency"}],
    },
    "concussion_ed": {
        "label": "Concussions (traumatic brain injury) seen in emergency departments per person-year",
        "group": "utilisation",
        "unit": "rate",
        "describe": "concussion and brain injury diagnoses recorded in emergency encounters in the 365 days "
                    "before the end date, per person-year",
        "numerator": [{"onsets": _c("62106007", "110030002", "127295002"), "encounter_class": "emergency"}],
    },
    "facial_laceration_ed": {
        "label": "Facial lacerations seen in emergency departments per person-year",
        "group": "utilisation",
        "unit": "rate",
        "describe": "facial laceration diagnoses recorded in emergency encounters in the 365 days before the end "
                    "date, per person-year",
        "numerator": [{"onsets": _c("370247008"), "encounter_class": "emergency"}],
    },
    "office_visits": {
        "label": "Physician office visits per person-year",
        "group": "utilisation",
        "unit": "rate",
        "describe": "ambulatory and wellness encounters in the 365 days before the end date, per person-year",
        "numerator": [{"encounters": "ambulatory"}, {"encounters": "wellness"}],
    },
}

#: Measured by :mod:`hygeia.population.calibrate` from the pack's own blocks.
BUILTIN_MEASURES: dict[str, dict[str, Any]] = {
    "population_share": {"label": "Share of the living (pyramid)", "group": "population", "unit": "proportion",
                         "describe": "persons alive on the end date in the band, over all persons alive on it"},
    "deaths": {"label": "Deaths in the final year", "group": "mortality", "unit": "count",
               "describe": "deaths in the 365 days before the end date, against the life table's expectation "
                           "for the person-time lived in that year"},
}


def measure_codes(measure: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (system, code) a measure's clauses read (to pre-filter the events once)."""
    out: set[tuple[str, str]] = set()
    for part in ("numerator", "denominator", "exclude"):
        for clause in measure.get(part, ()):
            for c in (*clause.get("condition", ()), *clause.get("onsets", ())):
                out.add((c["system"], c["code"]))
            for key in ("latest", "latest_status", "measured"):
                if key in clause:
                    out.add((clause[key]["system"], clause[key]["code"]))
    return out
