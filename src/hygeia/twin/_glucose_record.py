"""Build the glucose twin from a Hygeia patient record.

What is taken from the record (everything before ``at``, by default the last event):

- **age** (from ``birth_time``) picks the virtual cohort: under 13 child, 13-19 adolescent,
  20 and over adult (simglucose's cohorts span 7-12, 14-19 and 26-68 years);
- **body weight** (LOINC 29463-7, the latest) picks the cohort's virtual patient of the
  nearest weight and becomes the model's body weight (without one: the cohort's #001 at
  its own weight);
- **glucose** (LOINC 2339-0 blood, 2345-7 serum/plasma; the median of the latest three)
  centres the prior on fasting glucose (``basal_glucose_mg_dl``), clipped to 70-300 mg/dL;
- **diabetes conditions** (SNOMED CT, any display naming diabetes, still active) and
  **insulin medications** (RxNorm, any display naming insulin, still active) are reported in
  ``Twin.taken``. The UVA/Padova model is a type 1 model (no insulin of the patient's own);
  for a record without type 1 diabetes this is said in ``taken["note"]``.

Laboratory glucose readings months apart are no CGM trace: the twin comes without
observations to calibrate to; pass a CGM trace and the plan given with it to
:meth:`GlucoseSimulator.calibrate`.

Example:
    >>> import pandas as pd
    >>> from hygeia.twin._glucose import GlucoseSimulator
    >>> person = {"subject_id": 7, "birth_time": pd.Timestamp("2010-03-01")}
    >>> events = pd.DataFrame({"time": pd.to_datetime(["2024-01-05", "2024-01-05"]),
    ...     "end_time": pd.NaT, "kind": ["observation", "observation"], "code_system": "LOINC",
    ...     "code": ["29463-7", "2345-7"], "display": ["Body weight", "Glucose"], "numeric_value": [44.0, 160.0]})
    >>> twin = GlucoseSimulator.from_record(person, events)
    >>> twin.simulator.patient, twin.simulator.body_weight_kg, twin.simulator.basal_glucose_mg_dl
    ('adolescent#009', 44.0, 160.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hygeia.errors import DataValidationError
from hygeia.twin._glucose_model import cohort_table

__all__ = ["GLUCOSE_LOINC", "WEIGHT_LOINC", "glucose_twin_from_record"]

WEIGHT_LOINC = "29463-7"
GLUCOSE_LOINC = ("2339-0", "2345-7")
TYPE_1_SNOMED = "46635009"


def _active(rows: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    if "end_time" not in rows:
        return rows
    end = pd.to_datetime(rows["end_time"])
    return rows[end.isna() | (end > at)]


def glucose_twin_from_record(cls: type, person: Mapping[str, Any], events: pd.DataFrame | list[Mapping[str, Any]], *,
                             at: Any = None, **options: Any) -> Any:
    """The glucose :class:`~hygeia.twin.Twin` of one patient (see the module docstring).

    Args:
        cls: the simulator class (:class:`GlucoseSimulator`).
        person: the ``persons`` row (``birth_time``, ``subject_id``).
        events: the person's events (``kind``, ``code``, ``display``, ``numeric_value``, ``time``, ``end_time``).
        at: when the twin starts (default: the last event's time); later events are ignored.
        options: passed on to the simulator (e.g. ``calibration_draws``).

    Raises:
        DataValidationError: when ``events`` lacks the columns read.
    """
    from hygeia.twin._twin import Twin

    ev = pd.DataFrame(events)
    missing = {"time", "code", "numeric_value"} - set(ev.columns) if len(ev) else set()
    if missing:
        raise DataValidationError([(f"events lack column(s) {', '.join(sorted(missing))}; pass the events table of "
                                    "a hygeia run (hygeia.twin.load_patient reads one)")])
    if len(ev):
        ev = ev.assign(time=pd.to_datetime(ev["time"]))
    at = pd.Timestamp(at) if at is not None else (ev["time"].max() if len(ev) else pd.Timestamp.now())
    if len(ev):
        ev = ev[ev["time"] <= at]
    taken: dict[str, Any] = {"at": str(at)}
    birth = person.get("birth_time")
    age = None if birth is None or pd.isna(birth) else (at - pd.Timestamp(birth)).days / 365.25
    cohort = "adult" if age is None or age >= 20 else "adolescent" if age >= 13 else "child"
    taken["age_y"] = None if age is None else round(age, 1)
    taken["cohort"] = cohort + ("" if age is not None else " (no birth time: adult assumed)")
    table = cohort_table()
    members = table[table.index.str.startswith(cohort + "#")]

    def numeric(codes: tuple[str, ...]) -> pd.DataFrame:
        if not len(ev):
            return ev
        rows = ev[ev["code"].astype(str).isin(codes) & ev["numeric_value"].notna()]
        return rows.sort_values("time")

    weights = numeric((WEIGHT_LOINC,))
    weight = float(weights["numeric_value"].iloc[-1]) if len(weights) else None
    if weight is not None and weight > 0:
        patient = str((members["BW"] - weight).abs().idxmin())
        taken["weight_kg"] = {"value": weight, "loinc": WEIGHT_LOINC, "time": str(weights["time"].iloc[-1])}
    else:
        patient, weight = f"{cohort}#001", None
        taken["weight_kg"] = None
    taken["virtual_patient"] = patient
    glucose = numeric(GLUCOSE_LOINC)
    basal = None
    if len(glucose):
        latest = glucose["numeric_value"].iloc[-3:].astype(float)
        basal = float(np.clip(latest.median(), 70.0, 300.0))
        taken["glucose_mg_dl"] = {"values": latest.tolist(), "loinc": sorted(set(glucose["code"].iloc[-3:].astype(str))),
                                  "last_time": str(glucose["time"].iloc[-1]), "prior_centre": basal}
    text = ev["display"].astype(str).str.lower() if len(ev) and "display" in ev else pd.Series(dtype=str)
    kind = ev["kind"] if len(ev) and "kind" in ev else pd.Series("", index=ev.index, dtype=str)
    diabetes = _active(ev[(kind == "condition") & text.str.contains("diabet")], at) if len(ev) else ev
    insulin = _active(ev[(kind == "medication") & text.str.contains("insulin")], at) if len(ev) else ev
    taken["diabetes"] = sorted(set(diabetes["display"].astype(str))) if len(diabetes) else []
    taken["insulin"] = sorted(set(insulin["display"].astype(str))) if len(insulin) else []
    type_1 = len(diabetes) and (diabetes["code"].astype(str) == TYPE_1_SNOMED).any()
    if not type_1:
        taken["note"] = ("the UVA/Padova model describes type 1 diabetes (no insulin of the patient's own); the record "
                         + ("has no type 1 diabetes, so the twin shows glucose as if insulin came only from the plan"
                            if taken["diabetes"] else "has no diabetes; the twin is a type 1 virtual patient"))
    sim = cls(patient=patient, body_weight_kg=weight, basal_glucose_mg_dl=basal, **options)
    return Twin(sim, taken=taken, subject_id=int(person["subject_id"]) if "subject_id" in person else None)
