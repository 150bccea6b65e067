"""FHIR R4 resources -> Hygeia events rows (the inverse of :mod:`._resources`).

Each parser reads what any FHIR producer writes (Synthea's Bundles, a server's bulk
export) and, when the resource came from Hygeia, the ``record`` extension that
carries the row's provenance and the fields FHIR has no element for.
"""

from __future__ import annotations

import base64
from typing import Any, Callable

from hygeia.export.fhir._codes import EXT_RECORD, LEGACY_EXTENSIONS, hygeia_system, parse_time
from hygeia.export.fhir._resources import DEATH_CODE

__all__ = ["PARSERS", "SUBJECT_KEYS", "codeable", "record_extension"]

_CLASS_NAMES = {"AMB": "ambulatory", "EMER": "emergency", "IMP": "inpatient", "ACUTE": "inpatient",
                "NONAC": "snf", "HH": "home", "VR": "virtual", "OBSENC": "outpatient", "SS": "outpatient",
                "PRENC": "outpatient", "FLD": "ambulatory"}
_CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
#: Where each resource type names its patient.
SUBJECT_KEYS = {"Immunization": "patient", "AllergyIntolerance": "patient", "Device": "patient",
                "SupplyDelivery": "patient"}

Row = dict[str, Any]


def codeable(cc: dict | None) -> tuple[str | None, str | None, str | None]:
    """``(code_system, code, display)`` of a CodeableConcept's first coding (its text as display)."""
    if not cc:
        return None, None, None
    coding = (cc.get("coding") or [{}])[0]
    return hygeia_system(coding.get("system")), coding.get("code"), coding.get("display") or cc.get("text")


def record_extension(res: dict) -> dict[str, Any]:
    """The sub-extensions of Hygeia's ``record`` extension: module, state and carried fields.

    Exports made before Hygeia's StructureDefinitions named it ``urn:hygeia:fhir:record``; that URL is read too.
    """
    for e in res.get("extension") or ():
        url = e.get("url")
        if url == EXT_RECORD or LEGACY_EXTENSIONS.get(url) == EXT_RECORD:
            out = {}
            for sub in e.get("extension") or ():
                value = next((v for k, v in sub.items() if k.startswith("value")), None)
                out[sub.get("url")] = value
            return out
    return {}


def _t(text: str | None) -> int | None:
    return parse_time(text) if isinstance(text, str) else None


def _start(res: dict, *keys: str) -> int | None:
    """The first time found among ``keys`` (a dateTime, or a Period's start)."""
    for k in keys:
        v = res.get(k)
        if isinstance(v, str):
            return parse_time(v)
        if isinstance(v, dict) and v.get("start"):
            return parse_time(v["start"])
    return None


def _end(period: dict | None) -> int | None:
    return _t((period or {}).get("end"))


def _row(kind: str, time: int | None, code: tuple, end: int | None = None, value: float | None = None,
         unit: str | None = None, text: str | None = None) -> Row:
    return {"kind": kind, "time": time, "end_time": end, "code_system": code[0], "code": code[1],
            "display": code[2], "numeric_value": value, "unit": unit, "text_value": text}


def _encounter(res: dict) -> list[Row]:
    period = res.get("period") or {}
    klass = res.get("class") or {}
    text = _CLASS_NAMES.get(klass.get("code"), (klass.get("code") or "").lower() or None)
    return [_row("encounter", _t(period.get("start")), codeable((res.get("type") or [None])[0]), _end(period),
                 text=text)]


def _condition(res: dict) -> list[Row]:
    return [_row("condition", _start(res, "onsetDateTime", "onsetPeriod", "recordedDate"), codeable(res.get("code")),
                 _t(res.get("abatementDateTime")) or _end(res.get("abatementPeriod")))]


def _medication(res: dict) -> list[Row]:
    code = codeable(res.get("medicationCodeableConcept"))
    if code == (None, None, None) and res.get("medicationReference"):
        code = (None, None, res["medicationReference"].get("display"))
    bounds = (((res.get("dosageInstruction") or [{}])[0].get("timing") or {}).get("repeat") or {}).get(
        "boundsPeriod")
    course = codeable(res.get("courseOfTherapyType"))[1]
    note = (res.get("note") or [{}])[0].get("text")
    return [_row("medication", _start(res, "authoredOn"), code, _end(bounds),
                 text="chronic" if course == "continuous" else note)]


def _value(res: dict) -> tuple[float | None, str | None, str | None]:
    """``(numeric_value, unit, text_value)`` of an Observation or a component."""
    if "valueQuantity" in res:
        q = res["valueQuantity"]
        v = q.get("value")
        return (float(v) if v is not None else None), q.get("unit") or q.get("code"), None
    if "valueCodeableConcept" in res:
        system, code, display = codeable(res["valueCodeableConcept"])
        if code is None:
            return None, None, display
        return None, None, f"{system}|{code}|{display or ''}"
    for k in ("valueInteger", "valueDecimal"):
        if k in res:
            return float(res[k]), None, None
    for k in ("valueString", "valueBoolean", "valueDateTime", "valueTime", "valueDate"):
        if k in res:
            v = res[k]
            return None, None, (str(v).lower() if isinstance(v, bool) else str(v))
    return None, None, None


def _observation(res: dict) -> list[Row]:
    time = _start(res, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
    code = codeable(res.get("code"))
    if code[:2] == ("LOINC", DEATH_CODE[1]):
        return [_row("death", time, codeable(res.get("valueCodeableConcept")))]
    end = _end(res.get("effectivePeriod"))
    rows = [_row("observation", time, code, end, *_value(res))]
    if not res.get("hasMember"):  # a panel sent as components (Synthea's blood pressure): one row each
        for comp in res.get("component") or ():
            rows.append(_row("observation", time, codeable(comp.get("code")), end, *_value(comp)))
    return rows


def _procedure(res: dict) -> list[Row]:
    return [_row("procedure", _start(res, "performedDateTime", "performedPeriod"), codeable(res.get("code")),
                 _end(res.get("performedPeriod")))]


def _immunization(res: dict) -> list[Row]:
    return [_row("immunization", _start(res, "occurrenceDateTime", "recorded"), codeable(res.get("vaccineCode")))]


def _allergy(res: dict) -> list[Row]:
    return [_row("allergy", _start(res, "onsetDateTime", "onsetPeriod", "recordedDate"), codeable(res.get("code")))]


def _careplan(res: dict) -> list[Row]:
    cats = [c for c in res.get("category") or () if not any(
        x.get("system") == _CAREPLAN_CATEGORY for x in c.get("coding") or ())]
    parts = []
    for a in res.get("activity") or ():
        detail = a.get("detail") or {}
        parts.append(codeable(detail.get("code"))[2] or "")
    period = res.get("period")
    return [_row("careplan", _start(res, "period", "created"), codeable(cats[0] if cats else None), _end(period),
                 text="; ".join(parts) if parts else None)]


def _device(res: dict) -> list[Row]:
    return [_row("device", _start(res, "manufactureDate"), codeable(res.get("type")))]


def _supply(res: dict) -> list[Row]:
    item = res.get("suppliedItem") or {}
    qty = (item.get("quantity") or {}).get("value")
    return [_row("supply", _start(res, "occurrenceDateTime", "occurrencePeriod"),
                 codeable(item.get("itemCodeableConcept")), value=float(qty) if qty is not None else None)]


def _imaging(res: dict) -> list[Row]:
    parts = []
    for s in res.get("series") or ():
        site = s.get("bodySite") or {}
        parts.append(f"{(s.get('modality') or {}).get('code')}:{site.get('display') or site.get('code') or ''}")
    return [_row("imaging", _start(res, "started"), codeable((res.get("procedureCode") or [None])[0]),
                 text="; ".join(parts) if parts else None)]


def _report(res: dict) -> list[Row]:
    return [_row("diagnostic_report", _start(res, "effectiveDateTime", "effectivePeriod", "issued"),
                 codeable(res.get("code")), _end(res.get("effectivePeriod")))]


def _document(res: dict) -> list[Row]:
    """A DocumentReference: a ``note`` row (the text of its first text attachment, the title as display)."""
    attachment = next((c.get("attachment") or {} for c in res.get("content") or ()
                       if str((c.get("attachment") or {}).get("contentType", "")).startswith("text/")), {})
    data = attachment.get("data")
    text = base64.b64decode(data).decode("utf-8") if data else None
    system, code, display = codeable(res.get("type"))
    return [_row("note", _start(res, "date") or _t(attachment.get("creation")),
                 (system, code, attachment.get("title") or display), text=text)]


#: resourceType -> parser returning the resource's rows (without subject, encounter, provenance).
PARSERS: dict[str, Callable[[dict], list[Row]]] = {
    "Encounter": _encounter, "Condition": _condition, "MedicationRequest": _medication,
    "Observation": _observation, "Procedure": _procedure, "Immunization": _immunization,
    "AllergyIntolerance": _allergy, "CarePlan": _careplan, "Device": _device, "SupplyDelivery": _supply,
    "ImagingStudy": _imaging, "DiagnosticReport": _report, "DocumentReference": _document,
}
