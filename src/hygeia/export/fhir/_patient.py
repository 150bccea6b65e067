"""Patient, Organization and Practitioner: persons rows <-> FHIR R4 (US Core shaped).

Hygeia's records hold no providers. Each state of residence gets one synthetic
Organization and one Practitioner (deterministic ids), and every Encounter of a
person living there names them; a person with no state gets the "Unknown" pair.
"""

from __future__ import annotations

import html
from typing import Any, Callable

from hygeia.export.fhir._codes import (
    EXT_PERSON, LEGACY_EXTENSIONS, ORG_SYSTEM, PRACTITIONER_SYSTEM, SUBJECT_ID_SYSTEM, format_date, format_time, parse_time,
    resource_id,
)

__all__ = ["organization", "patient", "person_from_patient", "practitioner", "provider_key"]

Ref = Callable[[str, str], dict]

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"
EXT_RACE, EXT_ETHNICITY, EXT_BIRTHSEX = f"{US_CORE}/us-core-race", f"{US_CORE}/us-core-ethnicity", \
    f"{US_CORE}/us-core-birthsex"
EXT_BIRTH_TIME = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
_OMB = "urn:oid:2.16.840.1.113883.6.238"
_NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"

#: Hygeia (Synthea) race -> (US Core sub-extension, CDC race code, display).
RACES = {
    "white": ("ombCategory", "2106-3", "White"),
    "black": ("ombCategory", "2054-5", "Black or African American"),
    "asian": ("ombCategory", "2028-9", "Asian"),
    "native": ("ombCategory", "1002-5", "American Indian or Alaska Native"),
    "hawaiian": ("ombCategory", "2076-8", "Native Hawaiian or Other Pacific Islander"),
    "other": ("detailed", "2131-1", "Other Race"),
}
ETHNICITIES = {"hispanic": ("2135-2", "Hispanic or Latino"), "nonhispanic": ("2186-5", "Not Hispanic or Latino")}
_RACE_BY_CODE = {code: name for name, (_, code, _d) in RACES.items()}
_ETH_BY_CODE = {code: name for name, (code, _d) in ETHNICITIES.items()}
GENDERS = {"M": "male", "F": "female"}
_SEX_BY_GENDER = {v: k for k, v in GENDERS.items()}
MARITAL = {"M": "Married", "S": "Never Married", "D": "Divorced", "W": "Widowed", "L": "Legally Separated",
           "A": "Annulled", "I": "Interlocutory", "P": "Polygamous", "T": "Domestic partner", "U": "unmarried"}
_MARITAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"

USPS = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS",
    "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI",
    "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
    "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI",
    "Wyoming": "WY", "Puerto Rico": "PR", "Guam": "GU", "American Samoa": "AS", "Virgin Islands": "VI",
    "Northern Mariana Islands": "MP",
}
_STATE_BY_USPS = {v: k for k, v in USPS.items()}


def provider_key(state: str | None) -> str:
    """The key of the synthetic Organization/Practitioner pair that serves a state."""
    return USPS.get(state or "", state or "Unknown")


def organization(key: str, meta: dict) -> dict:
    """The synthetic Organization (a clinic) of one state (US Core Organization elements)."""
    state = _STATE_BY_USPS.get(key, key)
    org = {"resourceType": "Organization", "id": resource_id("Organization", key), "meta": meta,
           "identifier": [{"system": ORG_SYSTEM, "value": key}], "active": True,
           "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type",
                                 "code": "prov", "display": "Healthcare Provider"}]}],
           "name": f"Hygeia synthetic clinic ({state})"}
    if key in _STATE_BY_USPS:
        org["address"] = [{"state": key, "country": "US"}]
    return org


def practitioner(key: str, meta: dict) -> dict:
    """The synthetic Practitioner of one state (US Core Practitioner: identifier and name)."""
    state = _STATE_BY_USPS.get(key, key)
    return {"resourceType": "Practitioner", "id": resource_id("Practitioner", key), "meta": meta,
            "identifier": [{"system": PRACTITIONER_SYSTEM, "value": key}], "active": True,
            "name": [{"use": "official", "text": f"Synthetic Clinician ({state})", "family": "Clinician",
                      "given": ["Synthetic"], "prefix": ["Dr."]}]}


def _race_ext(race: str) -> dict:
    sub, code, display = RACES.get(race, ("ombCategory", "UNK", "Unknown"))
    system = _NULL_FLAVOR if code == "UNK" else _OMB
    return {"url": EXT_RACE, "extension": [
        {"url": sub, "valueCoding": {"system": system, "code": code, "display": display}},
        {"url": "text", "valueString": display if code != "UNK" else race or "Unknown"}]}


def _ethnicity_ext(ethnicity: str) -> dict:
    code, display = ETHNICITIES.get(ethnicity, ("UNK", "Unknown"))
    system = _NULL_FLAVOR if code == "UNK" else _OMB
    return {"url": EXT_ETHNICITY, "extension": [
        {"url": "ombCategory", "valueCoding": {"system": system, "code": code, "display": display}},
        {"url": "text", "valueString": display if code != "UNK" else ethnicity or "Unknown"}]}


def patient(p: dict[str, Any], pid: str, meta: dict, ref: Ref) -> dict:
    """A Patient from one persons row (``p``: column name -> value, times in epoch us)."""
    key = provider_key(p["state"])
    res: dict[str, Any] = {"resourceType": "Patient", "id": pid, "meta": meta}
    person = [{"url": "locale", "valueString": p["locale"]}, {"url": "seed", "valueString": str(p["seed"])}]
    if p["income"] is not None:
        person.append({"url": "income", "valueDecimal": p["income"]})
    if p["education"]:
        person.append({"url": "education", "valueString": p["education"]})
    res["extension"] = [_race_ext(p["race"]), _ethnicity_ext(p["ethnicity"]),
                        {"url": EXT_PERSON, "extension": person}]
    if p["sex"] in GENDERS:
        res["extension"].insert(2, {"url": EXT_BIRTHSEX, "valueCode": p["sex"]})
    res["identifier"] = [{"system": SUBJECT_ID_SYSTEM, "value": str(p["subject_id"])}]
    name: dict[str, Any] = {}
    if p["family_name"]:
        name["family"] = p["family_name"]
    if p["given_name"]:
        name["given"] = [p["given_name"]]
    if name:
        res["name"] = [{"use": "official", **name}]
    res["gender"] = GENDERS.get(p["sex"], "unknown")
    res["birthDate"] = format_date(p["birth_time"])
    res["_birthDate"] = {"extension": [{"url": EXT_BIRTH_TIME, "valueDateTime": format_time(p["birth_time"])}]}
    if p["death_time"] is not None:
        res["deceasedDateTime"] = format_time(p["death_time"])
    if p["state"]:
        res["address"] = [{"state": USPS.get(p["state"], p["state"]), **({"country": "US"} if p["state"] in USPS
                                                                        else {})}]
    if p["marital_status"]:
        ms = p["marital_status"]
        res["maritalStatus"] = {"coding": [{"system": _MARITAL_SYSTEM, "code": ms, **(
            {"display": MARITAL[ms]} if ms in MARITAL else {})}]}
    res["generalPractitioner"] = [ref("Practitioner", resource_id("Practitioner", key))]
    res["managingOrganization"] = ref("Organization", resource_id("Organization", key))
    return res


def _sub(ext: list | None, url: str) -> dict | None:
    """The extension of ``ext`` with ``url`` (or with the legacy URL that meant it)."""
    for e in ext or ():
        if e.get("url") == url or LEGACY_EXTENSIONS.get(e.get("url")) == url:
            return e
    return None


def _coded_race(ext: dict | None) -> str | None:
    if ext is None:
        return None
    for e in ext.get("extension") or ():
        coding = e.get("valueCoding") or {}
        if e.get("url") in ("ombCategory", "detailed") and coding.get("code") in _RACE_BY_CODE:
            return _RACE_BY_CODE[coding["code"]]
    text = _sub(ext.get("extension"), "text")
    return (text or {}).get("valueString")


def person_from_patient(res: dict, subject_id: int, fallback_seed: int) -> dict[str, Any]:
    """A persons row from a Patient (the inverse of :func:`patient`; absent facts become defaults).

    Raises:
        ValueError: the Patient has no usable birth date.
    """
    ext = res.get("extension") or []
    birth = (_sub((res.get("_birthDate") or {}).get("extension"), EXT_BIRTH_TIME) or {}).get("valueDateTime")
    if birth is None and res.get("birthDate") is None:
        raise ValueError("Patient has no birthDate; Hygeia needs each person's birth date")
    birth_time = parse_time(birth or res["birthDate"])
    death = res.get("deceasedDateTime")
    race = _coded_race(_sub(ext, EXT_RACE))
    eth_ext = _sub(ext, EXT_ETHNICITY)
    ethnicity = None
    if eth_ext is not None:
        for e in eth_ext.get("extension") or ():
            code = (e.get("valueCoding") or {}).get("code")
            if code in _ETH_BY_CODE:
                ethnicity = _ETH_BY_CODE[code]
        if ethnicity is None:
            ethnicity = (_sub(eth_ext.get("extension"), "text") or {}).get("valueString")
    person = {e.get("url"): e for e in (_sub(ext, EXT_PERSON) or {}).get("extension") or ()}
    sex = _SEX_BY_GENDER.get(res.get("gender"))
    if sex is None:
        sex = (_sub(ext, EXT_BIRTHSEX) or {}).get("valueCode") or "U"
    names = res.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    address = (res.get("address") or [{}])[0]
    state = address.get("state")
    income = person.get("income", {}).get("valueDecimal")
    seed = person.get("seed", {}).get("valueString")
    marital = ((res.get("maritalStatus") or {}).get("coding") or [{}])[0].get("code")
    return {
        "subject_id": subject_id, "birth_time": birth_time,
        "death_time": parse_time(death) if isinstance(death, str) else None,
        "sex": sex, "race": race or "unknown", "ethnicity": ethnicity or "unknown",
        "locale": person.get("locale", {}).get("valueString") or "unknown",
        "given_name": (name.get("given") or [None])[0], "family_name": name.get("family"),
        "state": _STATE_BY_USPS.get(state, state) if state else None,
        "income": int(income) if income is not None else None,
        "education": person.get("education", {}).get("valueString"),
        "marital_status": marital,
        "seed": int(seed) if seed is not None and str(seed).isdigit() else fallback_seed,
    }


def narrative(text: str) -> dict:
    """A generated XHTML narrative holding ``text`` (escaped)."""
    return {"status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{html.escape(text, quote=False)}</div>'}

