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

__all__ = ["ATTRIBUTE_VITALS", "DIABETES_DRUG_HBA1C", "SYNTHEA_VITALS", "attribute_vital", "hba1c_percent",
           "synthea_normal", "synthea_vital", "uniform"]

_YEAR_MS = 31_556_952_000

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
    return round(v, 1)


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
    return round(max(cr * (0.85 if p.sex == "F" else 1.0), 0.1), 2)


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
    a = p.attrs
    if name == "Blood Glucose":
        return hba1c_percent(p, t, p.vital("BMI", t))
    if name in ("Total Cholesterol", "Triglycerides", "HDL", "LDL"):
        idx = _severity(p)
        return None if idx is None else round(_lipids(p, t, idx)[name], 1)
    if name == "Glucose":
        idx = _severity(p)
        if idx is None:
            return None
        idx = min(idx, 2)
        return round(_between(p, t, name, GLUCOSE[idx], GLUCOSE[idx + 1]), 1)
    if name == "Oxygen Saturation":
        return float(int(_between(p, t, name, *_HYPOXEMIA))) if "chf" in a and a["chf"] is not None else None
    if name in ("EGFR", "Creatinine", "Microalbumin Creatinine Ratio"):
        stage = _ckd_stage(p)
        if not stage:
            return None
        if name == "Microalbumin Creatinine Ratio":
            return round(_between(p, t, name, *_CKD_MCR[stage]), 1)
        crcl = _clearance(p, t, stage)
        if name == "EGFR":
            return round(crcl, 1)
        return _creatinine(p, t, crcl)
    if name in ("Systolic Blood Pressure", "Diastolic Blood Pressure"):
        if a.get("hypertension") is not True:
            return None
        if name == "Diastolic Blood Pressure":
            return round(_between(p, t, name, *_HTN_DIASTOLIC))
        lo, hi = (_HTN_SYSTOLIC[1], _HTN_SYSTOLIC[2]) if a.get("hypertension_severe") else _HTN_SYSTOLIC[:2]
        return round(_between(p, t, name, lo, hi))
    return None


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
        return {k: round(v, 1) for k, v in _lipids(p, t, 0).items()}
    if name == "EGFR":
        return {name: round(_clearance(p, t, 0), 1)}
    if name == "Creatinine":
        return {name: _creatinine(p, t, _clearance(p, t, 0))}
    rng = _SYNTHEA_NORMAL.get(name)
    if rng is None:
        return {}
    if name == "Oxygen Saturation":
        return {name: float(int(_between(p, t, name, *rng)))}
    return {name: round(_between(p, t, name, *rng), 1)}


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
