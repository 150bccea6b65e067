"""Cardiovascular risk attributes, as Synthea's Java ``CardiovascularDiseaseModule`` sets them.

Synthea's corpus starts myocardial infarction, stable ischemic heart disease
and atrial fibrillation from monthly probabilities that no module computes:
``myocardial_infarction.json`` reads ``mi_risk``,
``stable_ischemic_heart_disease.json`` reads ``ihd_risk`` and
``atrial_fibrillation.json`` reads ``atrial_fibrillation_risk`` (each in a
one-month Delay loop), and a stroke module may read ``stroke_risk``. Synthea
computes them each time step in ``CardiovascularDiseaseModule.process``:

* ``calculateAscvdRisk``: the 10-year hard-ASCVD risk of the Pooled Cohort
  Equations (Goff et al., Circulation 2014;129:S49-S73, Appendix 7 Table A;
  ``risk_calculators/ASCVD.ascvd10Year``), for ages 40-79, turned into a
  30-day risk; ``mi_risk`` is half of it (``ASCVD.MI_RATIO``) and
  ``ihd_risk`` five times it.
* ``calculateAtrialFibrillationRisk``: the Framingham atrial-fibrillation points
  (age from 45, BMI >= 30, systolic >= 160, treated blood pressure;
  ``risk_calculators/Framingham.atrialFibrillation10Year``), 10-year risk
  turned into a 30-day risk.
* ``calculateStrokeRisk``: with atrial fibrillation, the CHA2DS2-VASc one-year
  risk (``risk_calculators/CHADSVASC.strokeRisk1Year``) per 30 days; without,
  half the monthly ASCVD risk (``ASCVD.STROKE_RATIO``).

Out of those calculators' ranges Synthea returns -1, which becomes a small
negative probability that a distributed transition never takes; Hygeia stores 0.

Example:
    >>> r = ascvd_10y(age=55, sex="M", race="white", sbp=120, total_chol=213, hdl=50,
    ...               smoker=False, diabetic=False, treated_bp=False)
    >>> round(r, 3)
    0.054
    >>> per_period(0.1, 3652, 30) < 0.1 / 100
    True
"""

from __future__ import annotations

import math

__all__ = ["CARDIO_ATTRIBUTES", "af_10y", "ascvd_10y", "chadsvasc_1y", "per_period", "update_cardio_risk"]

#: Attributes this module sets.
CARDIO_ATTRIBUTES = ("ascvd_risk", "mi_risk", "ihd_risk", "stroke_risk", "atrial_fibrillation_risk")

#: Pooled Cohort Equations, coefficient columns (white women, African-American women, white
#: men, African-American men). Rows: ln age, ln age squared, ln total cholesterol, ln age x
#: ln TC, ln HDL, ln age x ln HDL, ln treated SBP, ln age x ln treated SBP, ln untreated SBP,
#: ln age x ln untreated SBP, smoker, ln age x smoker, diabetes; then the mean of the sum
#: and the baseline 10-year survival (Goff et al. 2014, Appendix 7 Table A).
_PCE = (
    (-29.799, 4.884, 13.540, -3.114, -13.578, 3.149, 2.019, 0.0, 1.957, 0.0, 7.574, -1.665, 0.661, -29.18, 0.9665),
    (17.114, 0.0, 0.940, 0.0, -18.920, 4.475, 29.291, -6.432, 27.820, -6.087, 0.691, 0.0, 0.874, 86.61, 0.9533),
    (12.344, 0.0, 11.853, -2.664, -7.990, 1.769, 1.797, 0.0, 1.764, 0.0, 7.837, -1.795, 0.658, 61.18, 0.9144),
    (2.469, 0.0, 0.302, 0.0, -0.307, 0.0, 1.916, 0.0, 1.809, 0.0, 0.549, 0.0, 0.645, 19.54, 0.8954),
)
MI_RATIO = 0.5
STROKE_RATIO = 0.5
IHD_FACTOR = 5.0

#: Framingham atrial-fibrillation points for age bands 45-49, 50-54, ..., 80-84, 85+.
_AF_AGE = {"M": (1, 2, 3, 4, 5, 6, 7, 7, 8), "F": (-3, -2, 0, 1, 3, 4, 6, 7, 8)}
#: 10-year atrial-fibrillation risk by points 0 (or less) .. 10 (or more).
_AF_RISK = (0.01, 0.02, 0.02, 0.03, 0.04, 0.06, 0.08, 0.12, 0.16, 0.22, 0.3)
#: One-year stroke risk by CHA2DS2-VASc score 0..9 (Synthea's CHADSVASC.SCORE_TO_RISK).
_CHADSVASC_RISK = (0.002, 0.006, 0.022, 0.032, 0.048, 0.072, 0.097, 0.112, 0.108, 0.122)

_TEN_YEARS_DAYS = 3652
_ONE_YEAR_DAYS = 365
_ONE_MONTH_DAYS = 30
_YEAR_MS = 31_556_952_000
HISTORY_OF_MI = "399211009"
STROKE = "230690007"


def per_period(risk: float, period_days: float, step_days: float) -> float:
    """Risk over ``step_days`` of a constant hazard with ``risk`` over ``period_days``.

    As Synthea's ``Utilities.convertRiskToTimestep``; a negative ``risk`` (Synthea's
    "not applicable") gives 0.
    """
    if risk <= 0.0:
        return 0.0
    return 1.0 - (1.0 - min(risk, 1.0)) ** (step_days / period_days)


def ascvd_10y(age: int, sex: str, race: str, sbp: float, total_chol: float, hdl: float,
              smoker: bool, diabetic: bool, treated_bp: bool) -> float:
    """10-year hard-ASCVD risk (Pooled Cohort Equations); -1 outside ages 40-79.

    ``treated_bp`` follows Synthea, which treats the ``hypertension`` attribute as treated
    blood pressure. Race ``black`` uses the African-American equations, every other race
    the white ones.
    """
    if age < 40 or age > 79:
        return -1.0
    c = _PCE[(2 if sex == "M" else 0) + (1 if race == "black" else 0)]
    la = math.log(age)
    lt = math.log(total_chol)
    lh = math.log(max(hdl, 1.0))
    ls = math.log(sbp)
    s = smoker and 1.0 or 0.0
    tr, un = (ls, 0.0) if treated_bp else (0.0, ls)
    x = (la, la * la, lt, la * lt, lh, la * lh, tr, la * tr, un, la * un, s, la * s, diabetic and 1.0 or 0.0)
    total = sum(ci * xi for ci, xi in zip(c, x))
    return 1.0 - c[14] ** math.exp(total - c[13])


def af_10y(age: int, sex: str, bmi: float, sbp: float, bp_treated: bool) -> float:
    """10-year atrial-fibrillation risk from Framingham points; -1 under 45.

    The caller returns -1 too once ``atrial_fibrillation`` is set, as Synthea does.
    """
    if age < 45:
        return -1.0
    pts = _AF_AGE["M" if sex == "M" else "F"][min((age - 45) // 5, 8)]
    pts += (bmi >= 30) + (sbp >= 160) + bool(bp_treated)
    return _AF_RISK[max(0, min(pts, 10))]


def chadsvasc_1y(age: int, sex: str, chf: bool, hypertension: bool, diabetes: bool,
                 vascular: bool, prior_stroke: bool) -> float:
    """One-year stroke risk by CHA2DS2-VASc score (CHADSVASC.strokeRisk1Year)."""
    score = (2 if age >= 75 else 1 if age >= 65 else 0) + (sex == "F") + chf + hypertension + diabetes
    score += vascular + 2 * prior_stroke
    return _CHADSVASC_RISK[min(score, 9)]


def _set(p, name: str, value: float) -> None:
    if p.attrs.get(name) != value:
        p.attrs[name] = value
        p.dirty.add(name)


def update_cardio_risk(p, t: int, names=CARDIO_ATTRIBUTES) -> None:
    """Set ``p``'s cardiovascular risk attributes at ``t`` (marks the changed ones dirty).

    Reads the vital signs (systolic blood pressure, total cholesterol, HDL, BMI) and
    the attributes ``gender``, ``race``, ``smoker``, ``diabetes``, ``hypertension``,
    ``blood_pressure_controlled``, ``atrial_fibrillation`` and ``chf``, and the active
    conditions history of myocardial infarction and stroke.

    ``names``: the attributes to keep (those some module reads); the others are not
    computed (the vital signs' reads change nothing, so the records are the same).
    """
    if not names:
        return
    a = p.attrs
    age = int((t - p.birth) / _YEAR_MS)
    if age > 79 and "atrial_fibrillation_risk" not in names and "stroke_risk" not in names:
        # The Pooled Cohort Equations stop at 79: the risks are their "not applicable" ones
        # whatever the vital signs, so those are not read.
        _set(p, "ascvd_risk", -1.0)
        _set(p, "mi_risk", 0.0)
        _set(p, "ihd_risk", 0.0)
        return
    sex = p.sex
    sbp = p.vital("Systolic Blood Pressure", t)
    tc = p.vital("Total Cholesterol", t)
    hdl = p.vital("HDL", t)
    if sbp is None or tc is None or hdl is None:
        return
    ascvd = ascvd_10y(age, sex, p.race, sbp, tc, hdl, bool(a.get("smoker")), bool(a.get("diabetes")),
                      bool(a.get("hypertension")))
    monthly = per_period(ascvd, _TEN_YEARS_DAYS, _ONE_MONTH_DAYS)
    _set(p, "ascvd_risk", ascvd)
    _set(p, "mi_risk", monthly * MI_RATIO)
    _set(p, "ihd_risk", monthly * IHD_FACTOR)
    if "atrial_fibrillation_risk" not in names and "stroke_risk" not in names:
        return
    has_af = a.get("atrial_fibrillation") is not None
    bmi = p.vital("BMI", t)
    if has_af or bmi is None:
        af = -1.0
    else:
        af = af_10y(age, sex, bmi, sbp, bool(a.get("blood_pressure_controlled")))
    _set(p, "atrial_fibrillation_risk", per_period(af, _TEN_YEARS_DAYS, _ONE_MONTH_DAYS))
    if has_af:
        risk = chadsvasc_1y(age, sex, a.get("chf") is not None, a.get("hypertension") is not None,
                            a.get("diabetes") is not None, HISTORY_OF_MI in p.conditions, STROKE in p.conditions)
        stroke = per_period(risk, _ONE_YEAR_DAYS, _ONE_MONTH_DAYS)
    else:
        stroke = monthly * STROKE_RATIO
    _set(p, "stroke_risk", stroke)
