"""``meta.profile``: the profiles an exported resource conforms to, declared only where it does.

A resource declares a profile only when it carries every element the profile requires
(cardinality ``1..``, fixed and pattern values, the slices of a blood pressure's
components, the UCUM unit of a vital sign), and only profiles that the tests check with a
real validator (Medplum's ``validateResource`` over the profile's StructureDefinition) are
declared:

- US Core 5.0.1 Patient (a Patient with a name; every Patient carries identifier and gender),
  MedicationRequest and Blood Pressure (systolic and diastolic components both present);
- the R4 vital-signs profiles (``vitalsigns`` and the specific ``bodyweight``, ``bodyheight``,
  ``bmi``, ``heartrate``, ``resprate``, ``bodytemp``, ``headcircum``, ``oxygensat``) for vital
  signs sent in the unit the profile fixes. A blood pressure declares ``vitalsigns`` and US Core's
  profile, not R4's ``bp``: Medplum cannot evaluate ``bp``'s slices (discriminated by the codes of
  nested coding slices), so the tests could not check it.

US Core's other profiles (Encounter, Condition, Procedure, Immunization, AllergyIntolerance,
laboratory Observation...) are not declared: their StructureDefinitions are not available
offline to the tests (docs/fhir.md, Known gaps).

Example:
    >>> profiles({"resourceType": "Observation", "code": {"coding": [{"code": "8867-4"}]},
    ...           "valueQuantity": {"value": 70, "system": "http://unitsofmeasure.org", "code": "/min"}})
    ['http://hl7.org/fhir/StructureDefinition/vitalsigns', 'http://hl7.org/fhir/StructureDefinition/heartrate']
    >>> profiles({"resourceType": "Observation", "code": {"coding": [{"code": "8867-4"}]},
    ...           "valueQuantity": {"value": 70, "unit": "beats"}})
    []
"""

from __future__ import annotations

__all__ = ["US_CORE_PROFILE", "VITAL_PROFILE", "profiles"]

US_CORE_PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/"
VITAL_PROFILE = "http://hl7.org/fhir/StructureDefinition/"
_UCUM = "http://unitsofmeasure.org"
#: LOINC code of a vital sign -> (its R4 profile, the UCUM codes the profile allows).
_VITALS = {
    "29463-7": ("bodyweight", {"kg", "g", "[lb_av]"}),
    "8302-2": ("bodyheight", {"cm", "[in_i]"}),
    "39156-5": ("bmi", {"kg/m2"}),
    "8867-4": ("heartrate", {"/min"}),
    "9279-1": ("resprate", {"/min"}),
    "8310-5": ("bodytemp", {"Cel", "[degF]"}),
    "9843-4": ("headcircum", {"cm", "[in_i]"}),
    "2708-6": ("oxygensat", {"%"}),
}
_BP = ("85354-9", {"8480-6", "8462-4"})


def _code(cc: dict | None) -> str | None:
    return ((cc or {}).get("coding") or [{}])[0].get("code")


def _ucum(q: dict | None) -> str | None:
    q = q or {}
    return q.get("code") if q.get("system") == _UCUM and q.get("value") is not None else None


def profiles(res: dict) -> list[str]:
    """The canonical URLs of the profiles ``res`` conforms to (see the module docstring)."""
    rtype = res.get("resourceType")
    if rtype == "Patient":
        return [US_CORE_PROFILE + "us-core-patient"] if res.get("name") and res.get("identifier") else []
    if rtype == "MedicationRequest":
        return [US_CORE_PROFILE + "us-core-medicationrequest"] if res.get("requester") else []
    if rtype != "Observation":
        return []
    code = _code(res.get("code"))
    if code == _BP[0]:
        comps = {_code(c.get("code")): _ucum(c.get("valueQuantity")) for c in res.get("component") or ()}
        if all(comps.get(c) == "mm[Hg]" for c in _BP[1]):
            return [VITAL_PROFILE + "vitalsigns", US_CORE_PROFILE + "us-core-blood-pressure"]
        return []
    vital = _VITALS.get(code or "")
    if vital is not None and _ucum(res.get("valueQuantity")) in vital[1]:
        return [VITAL_PROFILE + "vitalsigns", VITAL_PROFILE + vital[0]]
    return []
