"""Clinical notes -> FHIR R4: a DocumentReference per ``note`` event, and a Composition per discharge summary.

A DocumentReference (US Core shaped) indexes the note: ``status`` current, ``type``
its LOINC document type, ``category`` clinical-note, the patient, ``date``, the
author (the state's synthetic Practitioner, with the author role as the reference's
display), ``context.encounter``, and the text as a ``text/plain; charset=utf-8``
attachment (base64). How the note was made travels in ``meta.source``
(``urn:hygeia:fhir:notes-<version>:seed-<seed>``), in ``description`` and in the
``record`` extension (``module``, ``state`` = ``kind/author role``) that
:func:`hygeia.export.fhir.import_fhir` reads back.

A discharge summary is also a Composition (``type`` LOINC 18842-5): one section per
section of the note (Brief Hospital Course, Discharge Instructions...), each with its
text as narrative.
"""

from __future__ import annotations

import base64
from typing import Any

from hygeia.export._notes import (
    NOTE_CODES,
    NOTE_TYPES,
    is_notes_provenance,
    note_author,
    note_sections,
)
from hygeia.export.fhir._codes import HYGEIA, format_time, resource_id
from hygeia.export.fhir._datatypes import cc, coding
from hygeia.export.fhir._patient import narrative

__all__ = ["DOCUMENT_CATEGORY", "note_resources"]

#: US Core DocumentReference category: a clinical note.
DOCUMENT_CATEGORY = ("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note",
                     "Clinical Note")
CONTENT_TYPE = "text/plain; charset=utf-8"
_DISCHARGE = NOTE_TYPES["discharge"]


def _author(b: Any, role: str | None) -> dict:
    author = dict(b.practitioner)
    if role:
        author["display"] = role[:1].upper() + role[1:]
    return author


def note_resources(b: Any, i: int, r: dict) -> list[dict]:
    """The resources of one ``note`` row: its DocumentReference, and a Composition for a discharge summary.

    Args:
        b: the patient's resource builder (``hygeia.export.fhir._resources._Builder``).
        i: the row's index among the patient's rows.
        r: the row.
    """
    _kind, role = note_author(r)
    res = b._base("DocumentReference", i, r, ("time", "text_value") + b._enc_ok(r))
    provenance = r["module"] if is_notes_provenance(r["module"]) else None
    if provenance:
        res["meta"] = {**b.meta, "source": f"{HYGEIA}:{provenance}"}
    res["status"] = "current"
    res["docStatus"] = "final"
    loinc = NOTE_CODES.get(r["code"]) if r["code_system"] == "LOINC" else None
    res["type"] = cc(r["code_system"], r["code"], loinc or r["display"])
    res["category"] = [coding(*DOCUMENT_CATEGORY)]
    res["subject"] = b.ref("Patient", b.pid)
    res["date"] = format_time(r["time"])
    res["author"] = [_author(b, role)]
    what = r["display"] or loinc or "Clinical note"
    res["description"] = (f"{what}, written from the record by Hygeia ({provenance})" if provenance else what)
    attachment: dict[str, Any] = {"contentType": CONTENT_TYPE, "language": "en"}
    if r["text_value"]:
        attachment["data"] = base64.b64encode(r["text_value"].encode("utf-8")).decode("ascii")
    if r["display"]:
        attachment["title"] = r["display"]
    attachment["creation"] = format_time(r["time"])
    res["content"] = [{"attachment": attachment}]
    enc = b.encounters.get(r["encounter_id"]) if r["encounter_id"] is not None else None
    if enc is not None:
        res["context"] = {"encounter": [b.ref("Encounter", enc)]}
    out = [res]
    if (r["code_system"], r["code"]) == ("LOINC", _DISCHARGE[0]):
        out.append(_composition(b, i, r, res, role))
    return out


def _composition(b: Any, i: int, r: dict, doc: dict, role: str | None) -> dict:
    """The discharge summary as a Composition: one section (title and narrative) per section of the note."""
    comp: dict[str, Any] = {"resourceType": "Composition", "id": resource_id(b.ids[i], "Composition"),
                            "meta": doc["meta"], "status": "final", "type": cc("LOINC", *_DISCHARGE),
                            "category": doc["category"], "subject": doc["subject"]}
    if "context" in doc:
        comp["encounter"] = doc["context"]["encounter"][0]
    comp["date"] = doc["date"]
    comp["author"] = [_author(b, role)]
    comp["title"] = r["display"] or _DISCHARGE[1]
    sections = note_sections(r["text_value"] or "")
    if sections:
        comp["section"] = [{"title": title.title(), "text": narrative(body)} for title, body in sections]
    return comp
