"""Vital signs and labs that follow a person's conditions, as Synthea's lifecycle computes them.

Synthea recomputes most vital signs every time step in Java, from attributes
the modules set, not in its modules: ``LifecycleModule.calculateVitalSigns``
(lipids and glucose from ``diabetes_severity``, HbA1c from ``diabetes`` /
``prediabetes`` / BMI and diabetes drugs (``estimateHbA1c``), oxygen saturation
from ``chf``, eGFR, microalbumin/creatinine ratio and creatinine from the
``ckd`` stage (``reverseCalculateCreatinine``)) and
``BloodPressureValueGenerator.calculateMean`` (blood pressure from
``hypertension`` and ``hypertension_severe``). The ranges are those of
Synthea's ``src/main/resources/biometrics.yml``.

:func:`attribute_vital` gives the value of one of those vital signs when the
person's attributes drive it, and ``None`` when they do not, so that the
lifecycle falls back to the locale pack's reference values (healthy people
keep the pack's calibrated lipids, glucose, blood pressure and kidney
function). HbA1c (Synthea's ``Blood Glucose`` vital sign, in %) has no pack
value: it always comes from here.

:func:`synthea_vital` gives, in addition, the value Synthea gives a person whom
no attribute drives (its ``biometrics.yml`` "normal" ranges: total cholesterol
160-200, triglycerides 100-150, HDL 59-80 mg/dL, glucose 64-100 mg/dL,
systolic 100-139 and diastolic 70-89 mm[Hg]...). The lifecycle uses it when
only Synthea-format modules run (see ``Lifecycle(biometrics="synthea")``), so
that Synthea's modules and its cardiovascular risk see the values Synthea's
Java computes; Hygeia's own modules keep the pack's calibrated values.

Where Synthea draws a fresh uniform value each time step, Hygeia draws it
from a hash of (person seed, minute, vital sign), so a value depends only on
the person and the instant (see :func:`uniform`).

Example:
    >>> from hygeia.population.engine._person import Person
    >>> p = Person(1, 42, 0, "F", "white", "nonhispanic")
    >>> p.attrs["diabetes"] = True
    >>> hba1c_percent(p, t=0, bmi=36.0)
    9.0
    >>> p.attrs["prediabetes"], p.attrs["diabetes"] = True, False
    >>> 5.8 <= hba1c_percent(p, t=0, bmi=36.0) <= 6.4
    True
"""

from __future__ import annotations

import math
from statistics import NormalDist

from hygeia.population.engine._units import round1, rounder

__all__ = ["ATTRIBUTE_VITALS", "ATTRIBUTE_VITAL_FN", "DIABETES_DRUG_HBA1C", "LIPID_NAMES", "STATIN_ADHERENCE",
           "STATIN_LDL_LOWERING", "SYNTHEA_VITALS", "attribute_vital", "growth_z", "hba1c_percent", "ldl_sampson",
           "normal_cdf", "normal_inv_cdf", "pack_lipids", "synthea_normal", "synthea_vital", "uniform"]

_YEAR_MS = 31_556_952_000
#: ``round(x, 2)`` for floats (see :func:`~hygeia.population.engine._units.rounder`).
_round2 = rounder(2)

#: biometrics.yml ``metabolic.lipid_panel``: band edges indexed by ``diabetes_severity``.
CHOLESTEROL = (160, 200, 239, 259, 279, 300)
TRIGLYCERIDES = (100, 150, 199, 499, 550, 600)
HDL = (80, 59, 40, 20, 10, 0)
#: biometrics.yml ``metabolic.basic_panel.glucose`` (mg/dL): normal minimum, prediabetic, diabetic, max.
GLUCOSE = (64, 100, 125, 200)
#: ``creatinine_clearance`` (mL/min) and ``microalbumin_creatinine_ratio`` (mg/g) by ``ckd`` stage 1-4.
_CKD_CLEARANCE = {1: (60, 90), 2: (30, 59), 3: (15, 29), 4: (1, 15)}
_CKD_MCR = {1: (0, 17), 2: (17, 30), 3: (30, 300), 4: (300, 600)}
_NORMAL_CLEARANCE = {"F": (56, 161), "M": (77, 160)}
#: ``cardiovascular.oxygen_saturation.hypoxemia`` (%), used while ``chf`` is set.
_HYPOXEMIA = (75, 89)
#: ``metabolic.blood_pressure.hypertensive`` (mm[Hg]): systolic bands (mild, severe), diastolic.
_HTN_SYSTOLIC = (140, 160, 200)
_HTN_DIASTOLIC = (90, 120)

#: RxNorm code -> change in HbA1c (percentage points) while the drug is active, for people
#: with diabetes or prediabetes (LifecycleModule.createDrugImpactsMap, after Diabetes
#: Forecast 2013: metformin and sulfonylureas 1.5-2 points, GLP-1 agonists and DPP-4
#: inhibitors 0.5-1, insulin up to 6).
DIABETES_DRUG_HBA1C = {
    "860975": -1.5,   # metformin
    "897122": -0.5,   # liraglutide
    "1373463": -0.5,  # canagliflozin
    "106892": -3.0,   # basal insulin
    "865098": -6.0,   # prandial insulin
}

#: Vital signs whose value can follow attributes here.
ATTRIBUTE_VITALS = frozenset({
    "Blood Glucose", "Glucose", "Total Cholesterol", "Triglycerides", "HDL", "LDL", "Oxygen Saturation",
    "EGFR", "Creatinine", "Microalbumin Creatinine Ratio", "Systolic Blood Pressure", "Diastolic Blood Pressure",
})
_SALT = {name: (i + 1) * 0x9E3779B1 for i, name in enumerate(sorted(ATTRIBUTE_VITALS | {"lipids"}))}

#: biometrics.yml ranges Synthea draws from (uniformly, each time step) for a person whom no
#: attribute drives: ``metabolic.blood_pressure.normal`` (BloodPressureValueGenerator.calculateMean),
#: ``metabolic.basic_panel`` normal ranges and the first glucose band, ``cardiovascular`` and
#: ``respiratory`` normal ranges (LifecycleModule.calculateVitalSigns).
_SYNTHEA_NORMAL = {
    "Systolic Blood Pressure": (100, 139), "Diastolic Blood Pressure": (70, 89),
    "Glucose": (GLUCOSE[0], GLUCOSE[1]), "Oxygen Saturation": (90, 99),
    "Microalbumin Creatinine Ratio": (0, 17), "Urea Nitrogen": (7, 20), "Carbon Dioxide": (20, 29),
    "Chloride": (101, 111), "Potassium": (3.7, 5.2), "Sodium": (136, 144), "Calcium": (8.5, 10.2),
    "Heart Rate": (60, 100), "Respiration Rate": (12, 16),
}
#: Vital signs :func:`synthea_vital` always answers.
SYNTHEA_VITALS = ATTRIBUTE_VITALS | frozenset(_SYNTHEA_NORMAL)
for _i, _name in enumerate(sorted(SYNTHEA_VITALS - ATTRIBUTE_VITALS)):
    _SALT[_name] = (len(_SALT) + _i + 1) * 0x9E3779B1


def uniform(seed: int, t: int, key: str) -> float:
    """A uniform [0, 1) draw fixed by (person seed, minute of ``t``, ``key``).

    Example:
        >>> uniform(1, 0, "HDL") == uniform(1, 59_999, "HDL")
        True
    """
    h = (seed * 0x100000001B3 ^ (t // 60_000) * 0xC2B2AE3D ^ _SALT.get(key, 0x27D4EB2F)) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    return (h >> 11) / 9007199254740992.0


def _between(p, t: int, key: str, lo: float, hi: float) -> float:
    return lo + (hi - lo) * uniform(p.seed, t, key)


def hba1c_percent(p, t: int, bmi: float | None) -> float:
    """HbA1c (%) as ``LifecycleModule.estimateHbA1c``, less the active diabetes drugs' effect.

    With ``diabetes``: BMI / 4 bounded to 6.6-12.0 (BMI 27 or less gives 6.6, over 48
    gives 12.0); with ``prediabetes``: uniform 5.8-6.4; otherwise uniform 5.0-5.7.
    """
    a = p.attrs
    diabetes = bool(a.get("diabetes"))
    prediabetes = bool(a.get("prediabetes"))
    if diabetes:
        b = 27.0 if bmi is None else bmi
        v = 12.0 if b > 48.0 else (6.6 if b <= 27.0 else b / 4.0)
    elif prediabetes:
        v = _between(p, t, "Blood Glucose", 5.8, 6.4)
    else:
        v = _between(p, t, "Blood Glucose", 5.0, 5.7)
    if diabetes or prediabetes:
        meds = p.medications
        for code, delta in DIABETES_DRUG_HBA1C.items():
            if code in meds:
                v += delta
    return round1(v)


#: HbA1c (%) of an adult without diabetes: mean at 40 years, rise per year of age, SD between
#: persons. Pani LN et al., Effect of aging on A1C levels in individuals without diabetes,
#: Diabetes Care 2008;31:1991-1996 (NHANES 2001-2004, 3,270 adults without diabetes): A1C rises
#: 0.010 points a year of age; the 97.5th percentile is 5.6% under 40 and 6.2% at 70 and over
#: (so the spread widens with age: SD about 0.2 under 40, 0.3 at 70). Wang Y et al., Prim Care
#: Diabetes 2020;14:453-458 (NHANES 1999-2014): 0.008-0.009 points a year, alike in men and
#: women. The rise used, 0.011 a year, lies between the NHANES and Framingham Offspring slopes
#: (0.010 and 0.014). The level (5.30% at 40) and the SD (0.28 + 0.003 per year from 40) were set so that,
#: with the pack's fasting glucose, the simulated share with A1C 5.7-6.4% or fasting glucose
#: 100-125 mg/dL matches the National Diabetes Statistics Report's prediabetes by age band
#: (seeds 1-99); the A1C share itself rose from about 10% (1999-2002) to 20% or more
#: (2011-2014) of US adults as assays and obesity changed (Bullard KM et al., Diabetes Care
#: 2013;36:2286-2293), so the 2001-2004 levels are too low for 2017-2020.
HBA1C_NONDIABETIC = {"mean_at_40": 5.30, "per_year": 0.011, "sd_at_40": 0.28, "sd_per_year": 0.003}
#: Correlation between persons of HbA1c with fasting glucose among adults without diabetes
#: (about 0.4-0.5 in NHANES analyses, e.g. Selvin E et al., Diabetes Care 2009;32:828-833
#: report most of those with A1C > 6% have fasting glucose >= 100 mg/dL); a modelling value.
HBA1C_GLUCOSE_RHO = 0.45
#: Within-person (visit-to-visit) SD of HbA1c, percentage points: a biological CV of about 2%
#: (Ricos C et al., Scand J Clin Lab Invest 1999;59:491-500, desirable-specification database).
HBA1C_WITHIN_SD = 0.1


def hba1c_nondiabetic(p, t: int, age: float, below: float = 6.45) -> float:
    """HbA1c (%) at ``t`` of an adult without diabetes, by age (:data:`HBA1C_NONDIABETIC`).

    The person's level is a fixed z-score correlated (:data:`HBA1C_GLUCOSE_RHO`) with their
    own fasting-glucose z-score (``p.extra["z"]["Glucose"]``), placed on the mean and SD for
    their age, plus a visit-to-visit wobble (:data:`HBA1C_WITHIN_SD`); the person keeps their
    rank from visit to visit and year to year. Drawn below ``below`` (6.5% is diabetes, which
    the diabetes module gives), by rank as the lifecycle does for blood pressure.

    Example:
        >>> from hygeia.population.engine._person import Person
        >>> p = Person(1, 42, 0, "F", "white", "nonhispanic")
        >>> p.extra["z"] = {"Glucose": 0.0}
        >>> 4.5 <= hba1c_nondiabetic(p, 0, 50.0) < 6.5
        True
    """
    c = HBA1C_NONDIABETIC
    years = max(age, 18.0) - 40.0
    mean = c["mean_at_40"] + c["per_year"] * years
    sd = max(c["sd_at_40"] + c["sd_per_year"] * years, 0.15)
    zg = p.extra.get("z", {}).get("Glucose", 0.0)
    own = p.extra.get("hba1c_own")  # the person's own draw (fixed: uniform at t = 0)
    if own is None:
        own = p.extra["hba1c_own"] = normal_inv_cdf(min(max(uniform(p.seed, 0, "HbA1c own"), 1e-9), 1.0 - 1e-9))
    r = HBA1C_GLUCOSE_RHO
    z = r * zg + _SQRT(1.0 - r * r) * own
    between = _SQRT(max(sd * sd - HBA1C_WITHIN_SD * HBA1C_WITHIN_SD, 0.0))
    total = _SQRT(between * between + HBA1C_WITHIN_SD * HBA1C_WITHIN_SD)
    z = (between * z + HBA1C_WITHIN_SD * _visit_z(p, t, "Blood Glucose")) / total
    cut = (below - mean) / total
    u = normal_cdf(z) * normal_cdf(cut)
    z = normal_inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))
    return min(round1(max(mean + total * z, 4.0)), 6.4)


def _severity(p) -> int | None:
    s = p.attrs.get("diabetes_severity")
    if s is None or isinstance(s, bool) or not isinstance(s, (int, float)):
        return None
    return max(0, min(int(s), 4))


def _lipids(p, t: int, idx: int) -> dict[str, float]:
    """Total cholesterol, triglycerides, HDL and LDL (Friedewald) from one severity band."""
    u = uniform(p.seed, t, "lipids")
    w = uniform(p.seed, t, "HDL")
    v = uniform(p.seed, t, "Triglycerides")
    tc = CHOLESTEROL[idx] + (CHOLESTEROL[idx + 1] - CHOLESTEROL[idx]) * u
    tg = TRIGLYCERIDES[idx] + (TRIGLYCERIDES[idx + 1] - TRIGLYCERIDES[idx]) * v
    hdl = HDL[idx] + (HDL[idx + 1] - HDL[idx]) * w
    return {"Total Cholesterol": tc, "Triglycerides": tg, "HDL": hdl, "LDL": tc - hdl - 0.2 * tg}


def _ckd_stage(p) -> int:
    s = p.attrs.get("ckd")
    if isinstance(s, bool) or not isinstance(s, (int, float)):
        return 0
    return int(s) if 1 <= s <= 4 else 0


def _creatinine(p, t: int, crcl: float) -> float:
    """Cockcroft-Gault solved for creatinine (LifecycleModule.reverseCalculateCreatinine)."""
    age = int((t - p.birth) / _YEAR_MS)
    weight = p.vital("Weight", t) or 70.0
    cr = (140.0 - age) * weight / (72.0 * max(1.0, min(crcl, 100.0)))
    return _round2(max(cr * (0.85 if p.sex == "F" else 1.0), 0.1))


def _clearance(p, t: int, stage: int) -> float:
    lo, hi = _CKD_CLEARANCE.get(stage) or _NORMAL_CLEARANCE.get(p.sex, _NORMAL_CLEARANCE["M"])
    return _between(p, t, "EGFR", lo, hi)


def attribute_vital(p, name: str, t: int) -> float | None:
    """The value of vital sign ``name`` that ``p``'s attributes dictate at ``t``, else ``None``.

    Args:
        p: the person (reads ``attrs``, ``medications``, ``sex``, ``seed``, ``birth`` and,
            for HbA1c and creatinine, the BMI and weight vital signs).
        name: a Synthea vital-sign name (``"Blood Glucose"`` is HbA1c in %).
        t: epoch ms.

    Returns:
        The value, or ``None`` when no attribute drives this vital sign now.
    """
    fn = ATTRIBUTE_VITAL_FN.get(name)
    return fn(p, t) if fn is not None else None


def _hba1c(p, t: int) -> float:
    return hba1c_percent(p, t, p.vital("BMI", t))


def _lipid(name: str):
    def value(p, t: int) -> float | None:
        idx = _severity(p)
        return None if idx is None else round1(_lipids(p, t, idx)[name])
    return value


def _glucose(p, t: int) -> float | None:
    idx = _severity(p)
    if idx is None:
        return None
    idx = min(idx, 2)
    return round1(_between(p, t, "Glucose", GLUCOSE[idx], GLUCOSE[idx + 1]))


def _oxygen(p, t: int) -> float | None:
    a = p.attrs
    return float(int(_between(p, t, "Oxygen Saturation", *_HYPOXEMIA))) if "chf" in a and a["chf"] is not None else None


def _kidney(name: str):
    def value(p, t: int) -> float | None:
        stage = _ckd_stage(p)
        if not stage:
            return None
        if name == "Microalbumin Creatinine Ratio":
            return round1(_between(p, t, name, *_CKD_MCR[stage]))
        crcl = _clearance(p, t, stage)
        if name == "EGFR":
            return round1(crcl)
        return _creatinine(p, t, crcl)
    return value


def _systolic(p, t: int) -> float | None:
    a = p.attrs
    if a.get("hypertension") is not True:
        return None
    lo, hi = (_HTN_SYSTOLIC[1], _HTN_SYSTOLIC[2]) if a.get("hypertension_severe") else _HTN_SYSTOLIC[:2]
    return round(_between(p, t, "Systolic Blood Pressure", lo, hi))


def _diastolic(p, t: int) -> float | None:
    if p.attrs.get("hypertension") is not True:
        return None
    return round(_between(p, t, "Diastolic Blood Pressure", *_HTN_DIASTOLIC))


#: Vital-sign name -> ``(person, t) -> value or None``: :func:`attribute_vital` for that name,
#: looked up once instead of through a chain of tests (the lifecycle reads it on every read).
ATTRIBUTE_VITAL_FN = {
    "Blood Glucose": _hba1c,
    **{n: _lipid(n) for n in ("Total Cholesterol", "Triglycerides", "HDL", "LDL")},
    "Glucose": _glucose,
    "Oxygen Saturation": _oxygen,
    **{n: _kidney(n) for n in ("EGFR", "Creatinine", "Microalbumin Creatinine Ratio")},
    "Systolic Blood Pressure": _systolic,
    "Diastolic Blood Pressure": _diastolic,
}
assert frozenset(ATTRIBUTE_VITAL_FN) == ATTRIBUTE_VITALS


def synthea_normal(p, name: str, t: int) -> dict[str, float]:
    """Synthea's value of vital sign ``name`` for a person whom no attribute drives.

    A uniform draw from the ``biometrics.yml`` "normal" range, as
    ``LifecycleModule.calculateVitalSigns`` (lipids from the first ``lipid_panel`` band,
    glucose from the first glucose band, creatinine clearance by sex, creatinine by
    Cockcroft-Gault) and ``BloodPressureValueGenerator.calculateMean`` draw it. Returns
    ``{name: value}``, or the whole lipid panel when ``name`` is one of its four values
    (one draw gives all four, as in Synthea); empty for a vital sign Synthea's lifecycle
    does not compute here (height, weight, BMI...).
    """
    if name in ("Total Cholesterol", "Triglycerides", "HDL", "LDL"):
        return {k: round1(v) for k, v in _lipids(p, t, 0).items()}
    if name == "EGFR":
        return {name: round1(_clearance(p, t, 0))}
    if name == "Creatinine":
        return {name: _creatinine(p, t, _clearance(p, t, 0))}
    rng = _SYNTHEA_NORMAL.get(name)
    if rng is None:
        return {}
    if name == "Oxygen Saturation":
        return {name: float(int(_between(p, t, name, *rng)))}
    return {name: round1(_between(p, t, name, *rng))}


def synthea_vital(p, name: str, t: int) -> float | None:
    """The value Synthea's Java gives vital sign ``name`` of ``p`` at ``t``, attributes or not.

    :func:`attribute_vital` where an attribute drives the value, else :func:`synthea_normal`;
    ``None`` for a vital sign Synthea's lifecycle does not compute here.

    Example:
        >>> from hygeia.population.engine._person import Person
        >>> p = Person(1, 42, 0, "F", "white", "nonhispanic")
        >>> 59 <= synthea_vital(p, "HDL", 0) <= 80 and 100 <= synthea_vital(p, "Systolic Blood Pressure", 0) <= 139
        True
    """
    v = attribute_vital(p, name, t)
    return v if v is not None else synthea_normal(p, name, t).get(name)


# --------------------------------------------------------------------------- the pack's lipid panel

#: The four values of a lipid panel, all computed together by :func:`pack_lipids`.
LIPID_NAMES = ("Total Cholesterol", "HDL", "Triglycerides", "LDL")

#: Correlations, between persons, of total cholesterol, HDL cholesterol and log triglycerides
#: (TC-HDL, TC-lnTG, HDL-lnTG). Approximate values of the order reported for US adults in
#: population lipid surveys (weakly positive TC-HDL, moderately positive TC-TG, moderately
#: negative HDL-TG); a modelling choice, not a transcription of a published table.
_LIPID_CORR = (0.15, 0.35, -0.45)

#: Within-person (visit-to-visit) biological coefficients of variation: total cholesterol
#: 6.1%, HDL 7.4%, triglycerides 23.7% (Smith SJ, Cooper GR, Myers GL, Sampson EJ.
#: Biological variability in concentrations of serum lipids. Clin Chem 1993;39:1012-1022,
#: composite predicted values; approximate transcription). The rest of the population
#: spread is the person's own level, which tracks over time.
_LIPID_WITHIN_CV = {"Total Cholesterol": 0.061, "HDL": 0.074, "Triglycerides": 0.237}

#: RxNorm code -> fraction by which the statin lowers LDL cholesterol. Law MR, Wald NJ,
#: Rudnicka AR, BMJ 2003;326:1423-1429 (164 placebo-controlled trials): atorvastatin 80 mg
#: 55%; atorvastatin 10, simvastatin 40, lovastatin 40 mg about 37-40%; each doubling of the
#: dose adds about 6 points (atorvastatin 20 and rosuvastatin 10 mg 43%, simvastatin 20 mg
#: 32%, lovastatin 20 mg 29%, pravastatin 40 mg 29%). The 2018 AHA/ACC cholesterol guideline
#: (Grundy SM et al., Circulation 2019;139:e1082-e1143, Table 3) calls >= 50% high
#: intensity and 30-49% moderate intensity.
STATIN_LDL_LOWERING = {
    "617310": 0.43,   # atorvastatin 20 mg
    "259255": 0.55,   # atorvastatin 80 mg
    "859747": 0.43,   # rosuvastatin 10 mg
    "312961": 0.32,   # simvastatin 20 mg
    "904475": 0.29,   # pravastatin 40 mg
    "197904": 0.29,   # lovastatin 20 mg
}
#: Effect of a statin on HDL (+5%) and triglycerides (-10% at moderate, -20% at high
#: intensity): statins raise HDL cholesterol by about 5-10% and lower triglycerides by
#: about 10-30% in a dose-dependent way (2018 AHA/ACC guideline; the products' labels).
_STATIN_HDL = 1.05
_STATIN_TG = {False: 0.90, True: 0.80}
#: Share of statin users who adhere (proportion of days covered >= 80%): 57% after a median
#: of 24 months (50% in primary, 66% in secondary prevention; Naderi SH, Bestwick JP, Wald
#: DS, Am J Med 2012;125:882-887, 376,162 patients). Adherence is a fixed trait of the
#: person; a non-adherent person's panel shows half the drug's effect (a modelling choice
#: for partial coverage, not a published figure).
STATIN_ADHERENCE = 0.57
_NON_ADHERENT_EFFECT = 0.5

_NORMAL = NormalDist()
_SQRT = math.sqrt
_ERF = math.erf
_SQRT2 = math.sqrt(2.0)
try:  # the function NormalDist.inv_cdf calls once it has checked its argument (CPython 3.9+)
    from statistics import _normal_dist_inv_cdf as _INV_CDF
except ImportError:  # pragma: no cover - another Python
    def _INV_CDF(p: float, mu: float, sigma: float) -> float:
        return NormalDist(mu, sigma).inv_cdf(p)


def normal_cdf(x: float) -> float:
    """The standard normal CDF: ``NormalDist().cdf(x)``, the same float, without the method's overhead.

    Example:
        >>> normal_cdf(0.3) == NormalDist().cdf(0.3)
        True
    """
    return 0.5 * (1.0 + _ERF(x / _SQRT2))


def normal_inv_cdf(u: float) -> float:
    """The standard normal quantile of ``u`` in (0, 1): ``NormalDist().inv_cdf(u)``, the same float.

    Example:
        >>> normal_inv_cdf(0.8) == NormalDist().inv_cdf(0.8)
        True
    """
    return _INV_CDF(u, 0.0, 1.0)


def _lipid_factors() -> tuple[tuple[float, ...], ...]:
    """Cholesky factor of :data:`_LIPID_CORR` (rows: TC, HDL, lnTG)."""
    r12, r13, r23 = _LIPID_CORR
    a22 = _SQRT(1.0 - r12 * r12)
    a32 = (r23 - r12 * r13) / a22
    return (1.0, 0.0, 0.0), (r12, a22, 0.0), (r13, a32, _SQRT(1.0 - r13 * r13 - a32 * a32))


_CHOL = _lipid_factors()


def ldl_sampson(tc: float, hdl: float, tg: float) -> float:
    """LDL cholesterol (mg/dL) by the NIH equation 2 (Sampson M et al., JAMA Cardiol 2020;5:540-548).

    ``TC/0.948 - HDL/0.971 - (TG/8.56 + TG x non-HDL/2140 - TG^2/16100) - 9.44``; valid
    for triglycerides up to 800 mg/dL, unlike Friedewald's ``TC - HDL - TG/5`` (400).

    Example:
        >>> round(ldl_sampson(200, 50, 150), 1)
        123.4
    """
    return tc / 0.948 - hdl / 0.971 - (tg / 8.56 + tg * (tc - hdl) / 2140.0 - tg * tg / 16100.0) - 9.44


def _tc_for_ldl(ldl: float, hdl: float, tg: float) -> float:
    """Total cholesterol that gives ``ldl`` by :func:`ldl_sampson` (the equation is linear in TC)."""
    return (ldl + hdl / 0.971 + tg / 8.56 - tg * hdl / 2140.0 - tg * tg / 16100.0 + 9.44) / (1.0 / 0.948 - tg / 2140.0)


def _log_normal(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of a log-normal with that mean and SD (memoised: the pack has few of them)."""
    key = (mean, sd)
    out = _LOG_NORMAL.get(key)
    if out is None:
        s2 = math.log1p((sd / mean) ** 2)
        out = _LOG_NORMAL[key] = (math.log(mean) - s2 / 2.0, _SQRT(s2))
    return out


_LOG_NORMAL: dict[tuple[float, float], tuple[float, float]] = {}


def _visit_z(p, t: int, key: str) -> float:
    u = uniform(p.seed, t, key)
    return _INV_CDF(min(max(u, 1e-9), 1.0 - 1e-9), 0.0, 1.0)


def _visit_z_of(seed: int, minute: int, salt: int) -> float:
    """``_visit_z`` from the minute of ``t`` and the key's salt (:func:`uniform` inlined: the same float)."""
    h = (seed * 0x100000001B3 ^ minute * 0xC2B2AE3D ^ salt) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    u = (h >> 11) / 9007199254740992.0
    return _INV_CDF(min(max(u, 1e-9), 1.0 - 1e-9), 0.0, 1.0)


_SALT_TC, _SALT_HDL, _SALT_TG = (_SALT.get(k, 0x27D4EB2F) for k in ("Total Cholesterol", "HDL", "Triglycerides"))
_CV_TC, _CV_HDL, _CV_TG = (_LIPID_WITHIN_CV[k] for k in ("Total Cholesterol", "HDL", "Triglycerides"))


def pack_lipids(p, t: int, age: float, reference) -> dict[str, float]:
    """A person's lipid panel at ``t`` around the pack's references: TC, HDL, TG and LDL.

    The person's own levels are fixed z-scores (``p.extra["z"]`` for total cholesterol,
    HDL and triglycerides, correlated by :data:`_LIPID_CORR`) placed on the pack's mean
    and SD for their age and sex, so a person tracks from visit to visit and the panel
    follows the pack's age trend; each visit adds the within-person variation of
    :data:`_LIPID_WITHIN_CV`. Total cholesterol is normal, HDL and triglycerides are
    log-normal. LDL is calculated from the three by :func:`ldl_sampson`, as a laboratory
    does. An active statin (:data:`STATIN_LDL_LOWERING`) lowers LDL by its fraction,
    raises HDL by 5% and lowers triglycerides by 10% (20% at high intensity), half of
    that in a person who does not adhere (:data:`STATIN_ADHERENCE`); total cholesterol is
    what the treated LDL, HDL and triglycerides add up to.

    Args:
        p: the person (reads ``extra["z"]``, ``seed``, ``sex`` and ``medications``).
        t: epoch ms.
        age: age in years at ``t``.
        reference: ``(name, age, sex) -> (mean, sd)``, e.g. ``LocalePack.vital_reference``.

    Returns:
        ``{"Total Cholesterol", "HDL", "Triglycerides", "LDL"}`` in mg/dL, rounded to 0.1.
    """
    extra = p.extra
    own = extra.get("lipid_z")  # the person's correlated levels: fixed, so computed once
    if own is None:
        z = extra["z"]
        base = (z["Total Cholesterol"], z["HDL"], z["Triglycerides"])
        own = extra["lipid_z"] = tuple(sum(c * b for c, b in zip(row, base)) for row in _CHOL)
    zt, zh, zg = own
    sex = p.sex
    seed, minute = p.seed, t // 60_000  # uniform(p.seed, t, key) for the three visit draws
    mean, sd = reference("Total Cholesterol", age, sex)
    w = mean * _CV_TC
    tc = mean + _SQRT(max(sd * sd - w * w, 0.0)) * zt + w * _visit_z_of(seed, minute, _SALT_TC)
    m, s = reference("HDL", age, sex)
    mu, sigma = _log_normal(m, s)
    within = _CV_HDL
    hdl = math.exp(mu + _SQRT(max(sigma * sigma - within * within, 0.0)) * zh
                   + within * _visit_z_of(seed, minute, _SALT_HDL))
    m, s = reference("Triglycerides", age, sex)
    mu, sigma = _log_normal(m, s)
    within = _CV_TG
    tg = math.exp(mu + _SQRT(max(sigma * sigma - within * within, 0.0)) * zg
                  + within * _visit_z_of(seed, minute, _SALT_TG))
    tg = min(tg, 800.0)
    tc = max(tc, hdl + 60.0)  # untreated LDL stays above about 40 mg/dL
    ldl = ldl_sampson(tc, hdl, tg)
    lowering = 0.0
    meds = p.medications
    if meds:
        for code in meds:  # the strongest active statin's
            lowering = max(lowering, STATIN_LDL_LOWERING.get(code, 0.0))
    if lowering:
        taken = 1.0 if uniform(p.seed, 0, "statin adherence") < STATIN_ADHERENCE else _NON_ADHERENT_EFFECT
        ldl *= 1.0 - lowering * taken
        hdl *= 1.0 + (_STATIN_HDL - 1.0) * taken
        tg *= 1.0 - (1.0 - _STATIN_TG[lowering >= 0.5]) * taken
        tc = _tc_for_ldl(ldl, hdl, tg)
    return {"Total Cholesterol": round1(tc), "HDL": round1(hdl), "Triglycerides": round1(tg),
            "LDL": round1(ldl)}


# --------------------------------------------------------------------------- growth z-scores

#: Correlation of a person's weight-for-age z-score with their height-for-age z-score:
#: 0.6 in childhood (to 18 years) and 0.55 in adults (from 25, linear between). Taller
#: children and adults are heavier, so BMI varies less than weight alone; the values were
#: fitted so that, with the pack's adult weight curves, the simulated adult BMI
#: distribution matches NHANES underweight (BMI < 18.5, 1.6% of adults) and obesity by
#: age (see the locale pack's targets); they are not published correlations.
HEIGHT_WEIGHT_RHO = (0.6, 0.55)
#: z-scores are truncated at these limits: height-for-age |z| <= 4 and weight-for-age
#: |z| <= 3.5 (both the person's own weight draw and the combined weight z-score), inside the CDC's biologically implausible value cut-offs (height z < -5 or
#: > 4, weight z < -5 or > 8; CDC, "Modified z-scores in the CDC growth charts", 2000
#: growth chart SAS program notes), so no record shows an impossible height, weight or BMI.
GROWTH_Z_LIMITS = {"height": 4.0, "weight": 3.5}


def growth_z(z: dict, age: float) -> tuple[float, float]:
    """(height z, weight z) of a person at ``age`` from their own draws ``z["height"]``, ``z["weight"]``.

    Example:
        >>> growth_z({"height": 5.0, "weight": 0.0}, 40.0)
        (4.0, 2.2)
    """
    lim_h, lim_w = GROWTH_Z_LIMITS["height"], GROWTH_Z_LIMITS["weight"]
    zh = max(-lim_h, min(lim_h, z["height"]))
    child, adult = HEIGHT_WEIGHT_RHO
    rho = child if age <= 18.0 else adult if age >= 25.0 else child + (adult - child) * (age - 18.0) / 7.0
    own = max(-lim_w, min(lim_w, z["weight"]))  # the part of weight that height does not explain
    zw = rho * zh + _SQRT(1.0 - rho * rho) * own
    return zh, max(-lim_w, min(lim_w, zw))
