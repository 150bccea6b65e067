"""Hygeia records -> FHIR R4 resources, one patient at a time.

One event row becomes one resource (see docs/fhir.md for the table). A row's
fields that have no natural home in its resource (a Device's time, an
Immunization's end) travel in Hygeia's ``record`` extension beside the row's
provenance (``module``, ``state``), so that :func:`hygeia.export.fhir.import_fhir`
gives back exactly what was exported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from hygeia.export.fhir._codes import (
    ENCOUNTER_ID_SYSTEM, EXT_RECORD, RESOURCE_ID_SYSTEM, finite, format_time, resource_id, system_uri,
)
from hygeia.export.fhir._datatypes import ALLERGY_CLINICAL as _ALLERGY_CLINICAL
from hygeia.export.fhir._datatypes import CONDITION_CLINICAL as _CLINICAL
from hygeia.export.fhir._datatypes import DAR_SYSTEM as _DAR_SYSTEM
from hygeia.export.fhir._datatypes import OBS_CAT as _OBS_CAT
from hygeia.export.fhir._datatypes import cc as _cc
from hygeia.export.fhir._datatypes import coded_text as _coded_text
from hygeia.export.fhir._datatypes import coding as _coding
from hygeia.export.fhir._datatypes import obs_category as _obs_category
from hygeia.export.fhir._datatypes import period as _period
from hygeia.export.fhir._datatypes import quantity as _quantity
from hygeia.export.fhir._notes import note_resources
from hygeia.export.fhir._patient import Ref, narrative, patient, provider_key
from hygeia.export.fhir._profiles import profiles

__all__ = ["DEATH_CODE", "ENCOUNTER_CLASSES", "KIND_TYPES", "patient_resources"]

#: The resource type each event kind becomes.
KIND_TYPES = {
    "encounter": "Encounter", "condition": "Condition", "medication": "MedicationRequest",
    "observation": "Observation", "procedure": "Procedure", "immunization": "Immunization",
    "allergy": "AllergyIntolerance", "careplan": "CarePlan", "device": "Device", "supply": "SupplyDelivery",
    "imaging": "ImagingStudy", "diagnostic_report": "DiagnosticReport", "death": "Observation",
    "note": "DocumentReference",
}
_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#: Hygeia encounter class -> v3 ActCode (the Hygeia class itself is kept in the record extension).
ENCOUNTER_CLASSES = {
    "wellness": ("AMB", "ambulatory"), "ambulatory": ("AMB", "ambulatory"), "outpatient": ("AMB", "ambulatory"),
    "urgentcare": ("AMB", "ambulatory"), "emergency": ("EMER", "emergency"), "inpatient": ("IMP", "inpatient encounter"),
    "snf": ("NONAC", "inpatient non-acute"), "home": ("HH", "home health"), "hospice": ("HH", "home health"),
    "virtual": ("VR", "virtual"),
}
#: Cause of death [US Standard Certificate of Death]: a ``death`` row is this Observation.
DEATH_CODE = ("http://loinc.org", "69453-9", "Cause of death [US Standard Certificate of Death]")
_BP_COMPONENTS = {"8480-6", "8462-4"}
_EVENT_FIELDS = ("time", "end_time", "numeric_value", "unit", "text_value", "encounter")


class _Builder:
    """Builds every resource of one patient; ``ref(type, id)`` makes references (Bundle or NDJSON style)."""

    def __init__(self, person: dict, rows: list[dict], seed: Any, meta: dict, ref: Ref,
                 images: dict[str, dict] | None = None) -> None:
        self.person, self.rows, self.seed, self.meta, self.ref = person, rows, seed, meta, ref
        self.images = images or {}
        sid = person["subject_id"]
        self.pid = resource_id(seed, "Patient", sid)
        key = provider_key(person["state"])
        self.org = ref("Organization", resource_id("Organization", key))
        self.practitioner = ref("Practitioner", resource_id("Practitioner", key))
        seen: dict[tuple, int] = defaultdict(int)
        self.ids: list[str] = []
        self.encounters: dict[int, str] = {}
        for r in rows:
            k = (r["kind"], r["time"], r["code_system"], r["code"], r["encounter_id"], r["module"], r["state"])
            n = seen[k]
            seen[k] += 1
            if r["kind"] == "encounter":
                rid = resource_id(seed, "Encounter", sid, r["encounter_id"], n)
                self.encounters.setdefault(r["encounter_id"], rid)
            else:
                rid = resource_id(seed, sid, *k, n)
            self.ids.append(rid)
        self.members = self._groups()

    def _groups(self) -> dict[int, list[int]]:
        """Row index of a report or panel head -> row indices of its observations."""
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, r in enumerate(self.rows):
            if r["kind"] in ("observation", "diagnostic_report"):
                groups[(r["time"], r["module"], r["state"], r["encounter_id"])].append(i)
        members = {}
        for idx in groups.values():
            if len(idx) < 2:
                continue
            reports = [i for i in idx if self.rows[i]["kind"] == "diagnostic_report"]
            obs = [i for i in idx if self.rows[i]["kind"] == "observation"]
            if len(reports) == 1:
                members[reports[0]] = obs
            elif not reports:
                head = self.rows[obs[0]]
                if head["numeric_value"] is None and head["text_value"] is None and head["unit"] is None:
                    members[obs[0]] = obs[1:]
        return members

    def resources(self, skipped: dict[str, int]) -> Iterator[dict]:
        yield _identified(patient(self.person, self.pid, self.meta, self.ref))
        for i, r in enumerate(self.rows):
            build = _BUILDERS.get(r["kind"])
            if build is None:
                key = f"{r['kind']} events (no FHIR mapping)"
                skipped[key] = skipped.get(key, 0) + 1
            elif r["kind"] == "note":
                yield from map(_identified, note_resources(self, i, r))
            else:
                yield _identified(build(self, i, r))

    # -- shared parts ------------------------------------------------------
    def _base(self, rtype: str, i: int, r: dict, used: tuple[str, ...]) -> dict:
        extras = [{"url": "module", "valueString": r["module"]}, {"url": "state", "valueString": r["state"]}]
        for f in _EVENT_FIELDS:
            if f in used:
                continue
            if f == "encounter":
                if r["encounter_id"] is not None:
                    enc = self.encounters.get(r["encounter_id"])
                    extras.append({"url": "encounter", "valueReference": self.ref("Encounter", enc)} if enc else
                                  {"url": "encounter_id", "valueString": str(r["encounter_id"])})
            elif r[f] is not None:
                v = r[f]
                if f in ("time", "end_time"):
                    extras.append({"url": f, "valueDateTime": format_time(v)})
                elif f == "numeric_value":
                    if finite(v):
                        extras.append({"url": f, "valueDecimal": v})
                else:
                    extras.append({"url": f, "valueString": v})
        return {"resourceType": rtype, "id": self.ids[i], "meta": self.meta,
                "extension": [{"url": EXT_RECORD, "extension": extras}]}

    def _subject(self, res: dict, r: dict, key: str = "subject") -> tuple[str, ...]:
        """Set the patient and encounter references; returns the fields it placed."""
        res[key] = self.ref("Patient", self.pid)
        enc = self.encounters.get(r["encounter_id"]) if r["encounter_id"] is not None else None
        if enc is not None:
            res["encounter"] = self.ref("Encounter", enc)
            return ("encounter",)
        return ()

    def _enc_ok(self, r: dict) -> tuple[str, ...]:
        return ("encounter",) if r["encounter_id"] is None or r["encounter_id"] in self.encounters else ()


def _identified(res: dict) -> dict:
    """``res`` with its ``urn:uuid`` identifier (what conditional creates and references search) and the
    profiles it conforms to in ``meta.profile``."""
    ident = {"system": RESOURCE_ID_SYSTEM, "value": f"urn:uuid:{res['id']}"}
    if res["resourceType"] == "Composition":  # Composition.identifier is 0..1
        res["identifier"] = ident
    else:
        res["identifier"] = [*res.get("identifier", ()), ident]
    declared = profiles(res)
    if declared:
        res["meta"] = {**res["meta"], "profile": declared}
    return res


# -- one builder per kind ----------------------------------------------------------
def _encounter(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("Encounter", i, r, ("time", "end_time", "encounter"))  # the class name goes to the extension
    res["identifier"] = [{"system": ENCOUNTER_ID_SYSTEM, "value": str(r["encounter_id"])}]
    res["status"] = "finished"
    code, display = ENCOUNTER_CLASSES.get(r["text_value"] or "", ("AMB", "ambulatory"))
    res["class"] = {"system": _ACT, "code": code, "display": display}
    res["type"] = [_cc(r["code_system"], r["code"], r["display"])]
    res["subject"] = b.ref("Patient", b.pid)
    res["participant"] = [{"type": [_coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF",
                                            "primary performer")], "individual": b.practitioner}]
    res["period"] = _period(r)
    res["serviceProvider"] = b.org
    return res


def _condition(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("Condition", i, r, ("time", "end_time") + b._enc_ok(r))
    ended = r["end_time"] is not None
    res["clinicalStatus"] = _coding(_CLINICAL, "resolved" if ended else "active", "Resolved" if ended else "Active")
    res["verificationStatus"] = _coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed",
                                        "Confirmed")
    res["category"] = [_coding("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis",
                               "Encounter Diagnosis")]
    res["code"] = _cc(r["code_system"], r["code"], r["display"])
    b._subject(res, r)
    res["onsetDateTime"] = format_time(r["time"])
    if ended:
        res["abatementDateTime"] = format_time(r["end_time"])
    res["recordedDate"] = format_time(r["time"])
    return res


def _medication(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("MedicationRequest", i, r, ("time", "end_time", "text_value") + b._enc_ok(r))
    res["status"] = "stopped" if r["end_time"] is not None else "active"
    res["intent"] = "order"
    if r["text_value"] == "chronic":
        res["courseOfTherapyType"] = _coding(
            "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy", "continuous",
            "Continuous long term therapy")
    res["medicationCodeableConcept"] = _cc(r["code_system"], r["code"], r["display"])
    b._subject(res, r)
    res["authoredOn"] = format_time(r["time"])
    res["requester"] = b.practitioner
    if r["text_value"] is not None and r["text_value"] != "chronic":
        res["note"] = [{"text": r["text_value"]}]
    if r["end_time"] is not None:
        res["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": _period(r)}}}]
    return res


def _observation(b: _Builder, i: int, r: dict) -> dict:
    text, unit = r["text_value"], r["unit"]
    number = r["numeric_value"] if finite(r["numeric_value"]) else None
    quantity = number is not None or (unit is not None and text is None)
    used = ("time", "end_time", "numeric_value") + b._enc_ok(r)
    used += ("unit",) if quantity else ("text_value",)
    res = b._base("Observation", i, r, used)
    res["status"] = "final"
    cat = _obs_category(r)
    res["category"] = [_coding(_OBS_CAT, cat, cat.replace("-", " ").title())]
    res["code"] = _cc(r["code_system"], r["code"], r["display"])
    b._subject(res, r)
    if r["end_time"] is not None:
        res["effectivePeriod"] = _period(r)
    else:
        res["effectiveDateTime"] = format_time(r["time"])
    members = b.members.get(i)
    coded = _coded_text(text) if text is not None and not quantity else None
    if quantity:
        res["valueQuantity"] = _quantity(number, unit)
    elif coded is not None:
        res["valueCodeableConcept"] = coded
    elif text is not None:
        res["valueString"] = text
    elif not members:
        res["dataAbsentReason"] = _coding(_DAR_SYSTEM, "unknown", "Unknown")
    if members:
        res["hasMember"] = [b.ref("Observation", b.ids[j]) for j in members]
        if r["code"] == "85354-9":  # US Core blood pressure: systolic and diastolic as components too
            comps = [{"code": _cc(m["code_system"], m["code"], m["display"]),
                      "valueQuantity": _quantity(m["numeric_value"], m["unit"])}
                     for m in (b.rows[j] for j in members)
                     if m["code"] in _BP_COMPONENTS and finite(m["numeric_value"])]
            if comps:
                res["component"] = comps
    return res


def _death(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("Observation", i, r, ("time",) + b._enc_ok(r))
    res["status"] = "final"
    res["category"] = [_coding(_OBS_CAT, "exam", "Exam")]
    res["code"] = _cc(*DEATH_CODE)
    b._subject(res, r)
    res["effectiveDateTime"] = format_time(r["time"])
    if r["code"] or r["display"]:
        res["valueCodeableConcept"] = _cc(r["code_system"], r["code"], r["display"])
    else:
        res["dataAbsentReason"] = _coding(_DAR_SYSTEM, "unknown", "Unknown")
    return res


def _procedure(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("Procedure", i, r, ("time", "end_time") + b._enc_ok(r))
    res["status"] = "completed"
    res["code"] = _cc(r["code_system"], r["code"], r["display"])
    b._subject(res, r)
    if r["end_time"] is not None:
        res["performedPeriod"] = _period(r)
    else:
        res["performedDateTime"] = format_time(r["time"])
    return res


def _immunization(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("Immunization", i, r, ("time",) + b._enc_ok(r))
    res["status"] = "completed"
    res["vaccineCode"] = _cc(r["code_system"], r["code"], r["display"])
    b._subject(res, r, "patient")
    res["occurrenceDateTime"] = format_time(r["time"])
    res["primarySource"] = True
    return res


def _allergy(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("AllergyIntolerance", i, r, ("time",) + b._enc_ok(r))
    ended = r["end_time"] is not None
    res["clinicalStatus"] = _coding(_ALLERGY_CLINICAL, "resolved" if ended else "active",
                                    "Resolved" if ended else "Active")
    res["verificationStatus"] = _coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                        "confirmed", "Confirmed")
    res["type"] = "allergy"
    if r["code_system"] == "RxNorm":
        res["category"] = ["medication"]
    res["code"] = _cc(r["code_system"], r["code"], r["display"])
    b._subject(res, r, "patient")
    res["onsetDateTime"] = format_time(r["time"])
    res["recordedDate"] = format_time(r["time"])
    return res


def _careplan(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("CarePlan", i, r, ("time", "end_time", "text_value") + b._enc_ok(r))
    activities = r["text_value"].split("; ") if r["text_value"] is not None else []
    ended = r["end_time"] is not None
    what = r["display"] or r["code"] or "care plan"
    res["text"] = narrative(f"Care plan: {what}." + (f" Activities: {r['text_value']}." if activities else ""))
    res["status"] = "completed" if ended else "active"
    res["intent"] = "plan"
    res["category"] = [_coding("http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "assess-plan",
                               "Assessment and Plan of Treatment"), _cc(r["code_system"], r["code"], r["display"])]
    b._subject(res, r)
    res["period"] = _period(r)
    if activities:
        res["activity"] = [{"detail": {"status": "completed" if ended else "in-progress", "code": {"text": a}}}
                           if a else {"detail": {"status": "completed" if ended else "in-progress"}}
                           for a in activities]
    return res


def _device(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("Device", i, r, ())
    res["status"] = "inactive" if r["end_time"] is not None else "active"
    res["type"] = _cc(r["code_system"], r["code"], r["display"])
    res["patient"] = b.ref("Patient", b.pid)
    return res


def _supply(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("SupplyDelivery", i, r, ("time", "numeric_value"))
    res["status"] = "completed"
    res["patient"] = b.ref("Patient", b.pid)
    item: dict[str, Any] = {"itemCodeableConcept": _cc(r["code_system"], r["code"], r["display"])}
    if finite(r["numeric_value"]):
        item = {"quantity": {"value": r["numeric_value"]}, **item}
    res["suppliedItem"] = item
    res["occurrenceDateTime"] = format_time(r["time"])
    return res


def _series(b: _Builder, i: int, text: str) -> list[dict] | None:
    out = []
    for k, part in enumerate(text.split("; ")):
        modality, sep, site = part.partition(":")
        if not sep or not modality or modality != modality.strip() or " " in modality:
            return None
        s = {"uid": "2.25." + str(int(resource_id(b.ids[i], "series", k).replace("-", ""), 16)),
             "modality": {"system": system_uri("DICOM-DCM"), "code": modality}}
        if site:
            s["bodySite"] = {"display": site}
        out.append(s)
    return out


def _rendered(s: dict, rendered: dict) -> dict:
    """Series ``s`` with the UIDs, body site and instances of the DICOM series rendered for it."""
    site = rendered["body_site"]
    out = {"uid": rendered["series_uid"], "number": rendered["series_number"], "modality": s["modality"],
           "numberOfInstances": len(rendered["instances"])}
    out["bodySite"] = {"system": system_uri(site["code_system"]), "code": site["code"],
                       "display": (s.get("bodySite") or {}).get("display") or site["display"]}
    sop = {"system": "urn:ietf:rfc:3986", "code": "urn:oid:" + rendered["sop_class_uid"]}
    out["instance"] = [{"uid": x["uid"], "sopClass": sop, "number": x["number"]} for x in rendered["instances"]]
    return out


def _imaging(b: _Builder, i: int, r: dict) -> dict:
    series = _series(b, i, r["text_value"]) if r["text_value"] else None
    res = b._base("ImagingStudy", i, r, ("time",) + (("text_value",) if series else ()) + b._enc_ok(r))
    # Images rendered for the run (hygeia images link): the study's UIDs are those of its DICOM files.
    linked = b.images.get(f"{r['subject_id']}|{r['time']}|{r['code'] or ''}|{r['state']}") if series else None
    study_uid = linked["study_uid"] if linked else "2.25." + str(int(b.ids[i].replace("-", ""), 16))
    res["identifier"] = [{"system": "urn:dicom:uid", "value": "urn:oid:" + study_uid}]
    res["status"] = "available"
    b._subject(res, r)
    res["started"] = format_time(r["time"])
    if linked and series:
        by_index = {s["series_index"]: s for s in linked["series"]}
        series = [_rendered(s, by_index[k]) if k in by_index else s for k, s in enumerate(series)]
    if series:
        res["numberOfSeries"] = len(series)
        if linked:
            res["numberOfInstances"] = sum(s.get("numberOfInstances", 0) for s in series)
    res["procedureCode"] = [_cc(r["code_system"], r["code"], r["display"])]
    if series:
        res["series"] = series
    return res


def _report(b: _Builder, i: int, r: dict) -> dict:
    res = b._base("DiagnosticReport", i, r, ("time", "end_time") + b._enc_ok(r))
    res["status"] = "final"
    res["category"] = [_coding("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")]
    res["code"] = _cc(r["code_system"], r["code"], r["display"])
    b._subject(res, r)
    if r["end_time"] is not None:
        res["effectivePeriod"] = _period(r)
    else:
        res["effectiveDateTime"] = format_time(r["time"])
    res["issued"] = format_time(r["time"])
    res["performer"] = [b.org]
    members = b.members.get(i)
    if members:
        res["result"] = [b.ref("Observation", b.ids[j]) for j in members]
    return res


_BUILDERS = {
    "encounter": _encounter, "condition": _condition, "medication": _medication, "observation": _observation,
    "procedure": _procedure, "immunization": _immunization, "allergy": _allergy, "careplan": _careplan,
    "device": _device, "supply": _supply, "imaging": _imaging, "diagnostic_report": _report, "death": _death,
    "note": note_resources,
}


def patient_resources(person: dict, rows: list[dict], seed: Any, meta: dict, ref: Ref,
                      skipped: dict[str, int] | None = None, images: dict[str, dict] | None = None) -> Iterator[dict]:
    """Every resource of one person: the Patient, then one resource per event row it maps.

    Args:
        person: the persons row (times in epoch microseconds).
        rows: the person's events rows, ordered by time (kinds without a mapping are skipped).
        seed: the run seed (part of every id, so two runs never share ids).
        meta: the ``meta`` element every resource carries.
        ref: makes a Reference from (type, id): ``urn:uuid:`` in Bundles, ``Type/id`` in NDJSON.
        skipped: counts the rows of kinds without a mapping (symptom), by kind.
        images: the person's studies in the run's ``images/manifest.json``, by
            :func:`hygeia.imaging.event_key`: their ImagingStudy carries the rendered DICOM
            series' StudyInstanceUID, series and instance UIDs (without it, UIDs derived from ids).
    """
    return _Builder(person, rows, seed, meta, ref, images).resources({} if skipped is None else skipped)
