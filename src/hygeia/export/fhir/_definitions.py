"""StructureDefinitions of Hygeia's FHIR extensions, shipped as package data.

Every extension the exporters write has a canonical URL under ``hygeia.export.fhir._codes.CANONICAL``
(``https://hygeia.dev/fhir/StructureDefinition/<name>``) and a StructureDefinition in
``hygeia/export/fhir/definitions/StructureDefinition-<name>.json`` (FHIR R4 4.0.1, a
complex extension, with both differential and snapshot so that validators that do not
generate snapshots can use it). Load them into a server or validator before the data:

- ``record`` (on every resource made from an event): ``module`` and ``state`` (the module
  state that made it) and the row's fields FHIR has no element for.
- ``person`` (on Patient): ``locale``, ``seed``, ``income``, ``education``.

The files are generated from :data:`EXTENSIONS` (``python -m hygeia.export.fhir._definitions``
rewrites them; a test checks they match).

Example:
    >>> [d["url"] for d in definitions()]
    ['https://hygeia.dev/fhir/StructureDefinition/person', 'https://hygeia.dev/fhir/StructureDefinition/record']
    >>> structure_definition("record") == definitions()[1]
    True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hygeia.export.fhir._codes import EXT_PERSON, EXT_RECORD

__all__ = ["DEFINITIONS_DIR", "EXTENSIONS", "definitions", "structure_definition"]

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
_VERSION = "1.0.0"  # of the definitions (bump when an extension changes)
_DATE = "2026-12-06"
_FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_EVENT_TYPES = ("AllergyIntolerance", "CarePlan", "Condition", "Device", "DiagnosticReport", "DocumentReference",
                "Encounter", "ImagingStudy", "Immunization", "MedicationRequest", "Observation", "Procedure",
                "SupplyDelivery")

#: name -> url, title, description, contexts, and its sub-extensions (url, value type, min, meaning).
EXTENSIONS: dict[str, dict[str, Any]] = {
    "person": {
        "url": EXT_PERSON, "title": "Hygeia person",
        "description": "Attributes of a simulated person that FHIR's Patient has no element for: the locale pack "
                       "it was drawn from, its random seed, yearly income and education level.",
        "context": ("Patient",),
        "slices": [
            ("locale", "string", 1, "Locale pack the person was drawn from (e.g. us)"),
            ("seed", "string", 1, "The person's random seed (an unsigned 64-bit integer, as text)"),
            ("income", "decimal", 0, "Yearly income (US dollars)"),
            ("education", "string", 0, "Education level (Synthea's codes, e.g. bs_degree)"),
        ],
    },
    "record": {
        "url": EXT_RECORD, "title": "Hygeia record",
        "description": "Provenance of a resource made from one row of Hygeia's records: the module and state that "
                       "made it, and the fields of the row FHIR has no element for, so that the import gives back "
                       "exactly what was exported.",
        "context": _EVENT_TYPES,
        "slices": [
            ("module", "string", 1, "The module that made the row"),
            ("state", "string", 1, "The module state that made the row"),
            ("time", "dateTime", 0, "The row's time, where the resource has no element for it"),
            ("end_time", "dateTime", 0, "The row's end time, where the resource has no element for it"),
            ("numeric_value", "decimal", 0, "The row's number, where the resource has no element for it"),
            ("unit", "string", 0, "The row's unit, where the resource has no element for it"),
            ("text_value", "string", 0, "The row's text, where the resource has no element for it"),
            ("encounter", "Reference", 0, "The row's encounter, where the resource has no element for it"),
            ("encounter_id", "string", 0, "The row's encounter id when that encounter is not in the export"),
        ],
    },
}


def _el(eid: str, base: str, bmin: int, bmax: str, min_: int, max_: str, **more: Any) -> dict:
    path = ".".join(part.split(":")[0] for part in eid.split("."))
    out: dict[str, Any] = {"id": eid, "path": path}
    if "sliceName" in more:
        out["sliceName"] = more.pop("sliceName")
    out.update({k: v for k, v in more.items() if k in ("slicing",)})
    out["short"] = more.get("short", "Extension")
    out["definition"] = more.get("definition", out["short"])
    out.update({"min": min_, "max": max_, "base": {"path": base, "min": bmin, "max": bmax}})
    out.update({k: v for k, v in more.items() if k not in ("slicing", "short", "definition")})
    return out


_STRING = [{"extension": [{"url": _FHIR_TYPE, "valueUrl": "string"}], "code": "http://hl7.org/fhirpath/System.String"}]
_URI = [{"extension": [{"url": _FHIR_TYPE, "valueUrl": "uri"}], "code": "http://hl7.org/fhirpath/System.String"}]


def _elements(name: str, snapshot: bool) -> list[dict]:
    spec = EXTENSIONS[name]
    slicing = {"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}
    out = [_el("Extension", "Extension", 0, "*", 0, "1", short=spec["title"], definition=spec["description"])]
    if snapshot:
        out.append(_el("Extension.id", "Element.id", 0, "1", 0, "1", short="Unique id for inter-element referencing",
                       type=_STRING))
    out.append(_el("Extension.extension", "Element.extension", 0, "*", sum(s[2] for s in spec["slices"]), "*",
                   slicing=slicing, short="The parts of the extension", type=[{"code": "Extension"}]))
    for sub, vtype, min_, meaning in spec["slices"]:
        at = f"Extension.extension:{sub}"
        out.append(_el(at, "Element.extension", 0, "*", min_, "1", sliceName=sub, short=meaning,
                       type=[{"code": "Extension"}]))
        if snapshot:
            out.append(_el(f"{at}.id", "Element.id", 0, "1", 0, "1", short="Unique id for inter-element referencing",
                           type=_STRING))
        out.append(_el(f"{at}.extension", "Element.extension", 0, "*", 0, "0", short="No further extensions",
                       type=[{"code": "Extension"}]))
        out.append(_el(f"{at}.url", "Extension.url", 1, "1", 1, "1", short="identifies the part", type=_URI,
                       fixedUri=sub))
        vt: dict[str, Any] = {"code": vtype}
        if vtype == "Reference":
            vt["targetProfile"] = ["http://hl7.org/fhir/StructureDefinition/Encounter"]
        out.append(_el(f"{at}.value[x]", "Extension.value[x]", 0, "1", 1, "1", short=meaning, type=[vt]))
    out.append(_el("Extension.url", "Extension.url", 1, "1", 1, "1", short="identifies the meaning of the extension",
                   type=_URI, fixedUri=spec["url"]))
    out.append(_el("Extension.value[x]", "Extension.value[x]", 0, "1", 0, "0", short="Value of extension (none: "
                   "the parts carry the values)"))
    if not snapshot:  # the differential states only what differs from Extension
        for e in out:
            e.pop("base")
    return out


def structure_definition(name: str) -> dict:
    """The StructureDefinition (FHIR R4) of the extension ``name`` (a key of :data:`EXTENSIONS`)."""
    spec = EXTENSIONS[name]
    title = spec["title"]
    return {
        "resourceType": "StructureDefinition", "id": name, "url": spec["url"], "version": _VERSION,
        "name": "".join(w.capitalize() for w in title.split()), "title": title, "status": "active",
        "experimental": False, "date": _DATE, "publisher": "Hygeia", "description": spec["description"],
        "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": t} for t in spec["context"]],
        "type": "Extension", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "snapshot": {"element": _elements(name, snapshot=True)},
        "differential": {"element": _elements(name, snapshot=False)},
    }


def definitions() -> list[dict]:
    """The shipped StructureDefinitions (``definitions/*.json``), in file-name order."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(DEFINITIONS_DIR.glob("*.json"))]


def _write() -> None:
    from hygeia.core.atomic import write_text

    for name in EXTENSIONS:
        write_text(DEFINITIONS_DIR / f"StructureDefinition-{name}.json",
                   json.dumps(structure_definition(name), indent=2, ensure_ascii=False) + "\n", overwrite=True)


if __name__ == "__main__":
    _write()
