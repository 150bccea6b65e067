"""FHIR R4 datatypes built from Hygeia row fields: CodeableConcept, Quantity, Period, categories."""

from __future__ import annotations

from typing import Any

from hygeia.export.fhir._codes import finite, format_time, system_uri, ucum_code

__all__ = ["ALLERGY_CLINICAL", "CONDITION_CLINICAL", "DAR_SYSTEM", "OBS_CAT", "cc", "coded_text", "coding",
           "obs_category", "period", "quantity"]

OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
_VITALS = {"8302-2", "29463-7", "39156-5", "8867-4", "9279-1", "8310-5", "85354-9", "8480-6", "8462-4", "59408-5",
           "2708-6", "8287-5", "9843-4", "77606-2", "59576-9", "8289-1", "3141-9"}
_SOCIAL = {"72166-2", "11367-0", "63586-2", "76690-7", "93025-5", "28245-9"}
_DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
DAR_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"


def cc(system: str | None, code: str | None, display: str | None) -> dict:
    """A CodeableConcept; a row without a code gets a data-absent-reason."""
    coding = {}
    if system is not None:
        coding["system"] = system_uri(system)
    if code:
        coding["code"] = code
    if display:
        coding["display"] = display
    if not coding:
        return {"extension": [{"url": _DAR, "valueCode": "unknown"}]}
    out = {"coding": [coding]}
    if display:
        out["text"] = display
    return out


def coding(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def quantity(value: float | None, unit: str | None) -> dict:
    q: dict[str, Any] = {}
    if finite(value):
        q["value"] = value
    if unit:
        q["unit"] = unit
        code = ucum_code(unit)
        if code is not None:
            q["system"], q["code"] = "http://unitsofmeasure.org", code
    return q


def period(r: dict) -> dict:
    p = {"start": format_time(r["time"])}
    if r["end_time"] is not None:
        p["end"] = format_time(r["end_time"])
    return p


def coded_text(text: str) -> dict | None:
    parts = text.split("|", 2)
    if len(parts) != 3 or not parts[0] or not parts[1] or parts[1] != parts[1].strip() or " " in parts[0]:
        return None
    return cc(parts[0], parts[1], parts[2] if parts[2] not in ("", "None") else None)


def obs_category(r: dict) -> str:
    code, unit = r["code"], r["unit"] or ""
    if code in _VITALS:
        return "vital-signs"
    if code in _SOCIAL:
        return "social-history"
    if "score" in unit or "{#}" == unit:
        return "survey"
    if finite(r["numeric_value"]) and unit:
        return "laboratory"
    return "exam"
