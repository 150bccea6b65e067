"""FHIR R4 import: bulk NDJSON files or Bundles -> a Hygeia run folder.

Users bring existing FHIR data to Hygeia's evaluation and learned generators with
:func:`import_fhir`. It reads in two passes (Patients and Encounters first, then
every other resource), so memory holds the rows, never the JSON. Every problem
in the input (a truncated line, an unknown resourceType, an empty file, a
reference to a Patient that is not there) is gathered into one
:class:`~hygeia.errors.DataValidationError` naming file and line, before anything
is written; the run folder appears only when complete (:class:`RunWriter`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hygeia import __version__
from hygeia.core.progress import status, track
from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.core.storage import RunWriter
from hygeia.errors import DataValidationError
from hygeia.export.fhir._codes import ENCOUNTER_ID_SYSTEM, SUBJECT_ID_SYSTEM, parse_time
from hygeia.export.fhir._parse import PARSERS, SUBJECT_KEYS, record_extension
from hygeia.export.fhir._patient import person_from_patient

__all__ = ["R4_RESOURCE_TYPES", "import_fhir"]

#: Every resource type of FHIR R4 (4.0.1).
R4_RESOURCE_TYPES = frozenset("""
Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse AuditEvent Basic Binary
BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement CarePlan CareTeam CatalogEntry ChargeItem
ChargeItemDefinition Claim ClaimResponse ClinicalImpression CodeSystem Communication CommunicationRequest
CompartmentDefinition Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest DeviceUseStatement
DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest
EnrollmentResponse EpisodeOfCare EventDefinition Evidence EvidenceVariable ExampleScenario ExplanationOfBenefit
FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse HealthcareService ImagingStudy Immunization
ImmunizationEvaluation ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice Library Linkage List
Location Measure MeasureReport Media Medication MedicationAdministration MedicationDispense MedicationKnowledge
MedicationRequest MedicationStatement MedicinalProduct MedicinalProductAuthorization MedicinalProductContraindication
MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect MessageDefinition
MessageHeader MolecularSequence NamingSystem NutritionOrder Observation ObservationDefinition OperationDefinition
OperationOutcome Organization OrganizationAffiliation Parameters Patient PaymentNotice PaymentReconciliation Person
PlanDefinition Practitioner PractitionerRole Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson
RequestGroup ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen SpecimenDefinition StructureDefinition
StructureMap Subscription Substance SubstanceNucleicAcid SubstancePolymer SubstanceProtein
SubstanceReferenceInformation SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription
""".split())
_SEED = re.compile(r":seed-(\d+)$")
_REF = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/.*)?$")
_MAX_PROBLEMS = 50

Item = tuple[str, int, dict, dict[str, str]]  # file, line, resource, the Bundle's fullUrl -> Type/id


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise DataValidationError([f"{str(root)!r} does not exist"],
                                  header="nothing to import (give a folder of .ndjson or Bundle .json files)")
    files = sorted(p for p in root.iterdir() if p.suffix in (".ndjson", ".json") and p.is_file())
    if not files:
        raise DataValidationError([f"{str(root)!r} holds no .ndjson or .json files"],
                                  header="nothing to import (give a folder of .ndjson or Bundle .json files)")
    return files


def _read(files: list[Path], problems: list[str]) -> Iterator[Item]:
    """Every resource of the input with its file and line; problems are gathered, not raised."""
    for f in files:
        empty = True
        if f.suffix == ".ndjson":
            with open(f, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    empty = False
                    try:
                        res = json.loads(line)
                    except json.JSONDecodeError as e:
                        problems.append(
                            f"{f}:{n}: not valid JSON ({e.msg}, column {e.colno}); the line looks truncated. "
                            "Each NDJSON line must hold one complete FHIR resource: re-export the file, or delete "
                            "the broken line")
                        continue
                    yield from _unpack(str(f), n, res, problems)
        else:
            text = f.read_text(encoding="utf-8")
            if text.strip():
                empty = False
                try:
                    res = json.loads(text)
                except json.JSONDecodeError as e:
                    problems.append(f"{f}:{e.lineno}: not valid JSON ({e.msg}, line {e.lineno} column {e.colno}); "
                                    "the file looks truncated. Re-export it, or remove it from the import")
                    continue
                yield from _unpack(str(f), 1, res, problems)
        if empty:
            problems.append(f"{f}: the file is empty (no FHIR resources). Remove it, or re-run the export that "
                            "made it")


def _unpack(where: str, n: int, res: Any, problems: list[str]) -> Iterator[Item]:
    if not isinstance(res, dict) or "resourceType" not in res:
        problems.append(f"{where}:{n}: not a FHIR resource (a JSON object with a resourceType); fix or remove "
                        "this line")
        return
    rtype = res["resourceType"]
    if rtype not in R4_RESOURCE_TYPES:
        problems.append(f"{where}:{n}: unknown resourceType {rtype!r}: not a FHIR R4 (4.0.1) resource type. Fix "
                        "the resourceType (names are case-sensitive, e.g. 'Observation'), or remove this line")
        return
    if rtype != "Bundle":
        yield where, n, res, {}
        return
    entries = res.get("entry") or []
    urls = {e["fullUrl"]: f"{e['resource'].get('resourceType')}/{e['resource'].get('id')}"
            for e in entries if isinstance(e, dict) and e.get("fullUrl") and isinstance(e.get("resource"), dict)}
    for i, e in enumerate(entries):
        inner = e.get("resource") if isinstance(e, dict) else None
        if inner is not None:
            yield from ((w, m, r, urls) for w, m, r, _ in _unpack(f"{where} entry[{i}]", n, inner, problems))


def _key(ref: dict | None, urls: dict[str, str], conditional: dict[str, str] | None = None) -> str | None:
    """``Type/id`` of a Reference, whether a fullUrl in the Bundle, relative, absolute, or a conditional
    reference (``Patient?identifier=system|value``, as a Bundle split by ``max_entries`` writes) to a
    Patient or Encounter of the input."""
    text = (ref or {}).get("reference")
    if not isinstance(text, str):
        return None
    if text in urls:
        return urls[text]
    if conditional and text in conditional:
        return conditional[text]
    m = _REF.search(text)
    return f"{m.group(1)}/{m.group(2)}" if m else text


def _identifier(res: dict, system: str) -> int | None:
    for ident in res.get("identifier") or ():
        if ident.get("system") == system and str(ident.get("value", "")).lstrip("-").isdigit():
            return int(ident["value"])
    return None


def _seed64(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def import_fhir(path: str | os.PathLike[str], out: str | os.PathLike[str], *, overwrite: bool = False,
                shard_size: int = 250, progress: bool = False) -> dict[str, Any]:
    """Read FHIR R4 NDJSON files or Bundles into a Hygeia run folder (persons/, events/, run.json).

    Patients become persons; Encounter, Condition, MedicationRequest, Observation, Procedure,
    Immunization, AllergyIntolerance, CarePlan, Device, SupplyDelivery, ImagingStudy,
    DiagnosticReport and DocumentReference (a ``note``) become events (docs/fhir.md has the
    table). Other R4 types (Claim, Organization, Provenance, Composition...) are counted as skipped. A resource Hygeia exported comes
    back with its subject and encounter ids, provenance (module, state) and run seed.

    Args:
        path: a folder of ``*.ndjson`` and/or Bundle ``*.json`` files, or one such file.
        out: the run folder to write.
        overwrite: replace ``out`` if it holds a previous run.
        shard_size: persons per Parquet shard.
        progress: show progress on stderr (a bar in a terminal, plain lines otherwise).

    Returns:
        Counts: ``persons``, ``events``, ``resources`` read and ``skipped`` by reason.

    Raises:
        DataValidationError: the input has problems; every one is listed with file and line.
        OutputError: ``out`` cannot be written.

    Example:
        >>> from hygeia.export.fhir import import_fhir
        >>> import_fhir("bulk", "records")  # doctest: +SKIP
        {'persons': 1000, 'events': 702311, 'resources': 703361, 'skipped': {}}
    """
    root = Path(path).expanduser()
    RunWriter(out, overwrite=overwrite)  # checks the destination before any work
    files = _files(root)
    problems: list[str] = []
    # Pass 1: Patients and Encounters, so that every other resource can name its subject and encounter.
    patients: dict[str, tuple[str, int, dict]] = {}
    encounters: dict[str, tuple[str, int, dict, str | None]] = {}
    conditional: dict[str, str] = {}  # "Type?identifier=system|value" -> Type/id, for conditional references
    total = 0
    for where, n, res, urls in track(_read(files, problems), unit="resources", quiet=not progress,
                                     description="reading FHIR (pass 1 of 2: patients, encounters)"):
        total += 1
        rtype = res["resourceType"]
        if rtype == "Patient":
            patients.setdefault(f"Patient/{res.get('id')}", (where, n, res))
        elif rtype == "Encounter":
            encounters.setdefault(f"Encounter/{res.get('id')}", (where, n, res, res.get("subject"), urls))
        else:
            continue
        for ident in res.get("identifier") or ():
            if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
                conditional.setdefault(f"{rtype}?identifier={ident['system']}|{ident['value']}",
                                       f"{rtype}/{res.get('id')}")
    if problems:
        _raise(problems, root)
    encounters = {k: (where, n, res, _key(subject, urls, conditional))
                  for k, (where, n, res, subject, urls) in encounters.items()}
    ids = [_identifier(r, SUBJECT_ID_SYSTEM) for _, _, r in patients.values()]
    if None in ids or len(set(ids)) != len(ids):
        ids = list(range(1, len(patients) + 1))
    subject = dict(zip(patients, ids))
    persons, seeds = [], set()
    for (key, (where, n, res)), sid in zip(patients.items(), ids):
        try:
            persons.append(person_from_patient(res, sid, _seed64(key)))
        except (ValueError, TypeError) as e:
            problems.append(f"{where}:{n}: {key}: {e}")
        m = _SEED.search((res.get("meta") or {}).get("source") or "")
        seeds.add(int(m.group(1)) if m else None)
    enc_ids = [_identifier(r, ENCOUNTER_ID_SYSTEM) for _, _, r, _ in encounters.values()]
    if None in enc_ids or len(set(enc_ids)) != len(enc_ids):
        next_k: dict[int, int] = {}
        enc_ids = []
        for _, _, _, pkey in encounters.values():
            sid = subject.get(pkey, 0)
            next_k[sid] = next_k.get(sid, 0) + 1
            enc_ids.append(sid * 10_000_000 + next_k[sid])
    encounter = dict(zip(encounters, enc_ids))
    # Pass 2: every resource -> rows.
    cols: dict[str, list] = {name: [] for name in EVENTS_SCHEMA.names}
    skipped: dict[str, int] = {}
    for where, n, res, urls in track(_read(files, problems), total=total, unit="resources", quiet=not progress,
                                     description="reading FHIR (pass 2 of 2: events)"):
        rtype = res["resourceType"]
        parse = PARSERS.get(rtype)
        if parse is None:
            if rtype != "Patient":
                skipped[rtype] = skipped.get(rtype, 0) + 1
            continue
        _rows(where, n, res, urls, conditional, parse, subject, encounter, cols, problems, skipped)
        if len(problems) > _MAX_PROBLEMS:
            break
    if problems:
        _raise(problems, root)
    seed = seeds.pop() if len(seeds) == 1 else None
    with status("writing the run folder", quiet=not progress):
        counts = _write(out, overwrite, persons, cols, shard_size, {
            "config": {"seed": seed, "n": len(persons), "source": "fhir", "input": str(root)},
            "hygeia_version": __version__, "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
            "import": {"files": [str(f) for f in files], "resources": total, "skipped": skipped}})
    return {**counts, "resources": total, "skipped": skipped}


def _rows(where: str, n: int, res: dict, urls: dict, conditional: dict, parse, subject: dict, encounter: dict,
          cols: dict, problems: list[str], skipped: dict[str, int]) -> None:
    rtype = res["resourceType"]
    loc = f"{where}:{n}: {rtype}/{res.get('id')}"
    pkey = _key(res.get(SUBJECT_KEYS.get(rtype, "subject")), urls, conditional)
    if pkey not in subject:
        problems.append(f"{loc}: its patient reference {pkey!r} names no Patient in the input; include the "
                        "Patient resources (Patient.ndjson, or the Patient entry of the Bundle)")
        return
    try:
        rows = parse(res)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as e:
        problems.append(f"{loc}: cannot read it ({e}); fix the resource or remove it")
        return
    extra = record_extension(res)
    module = extra.get("module") or "fhir_import"
    state = extra.get("state") or rtype
    context = ((res.get("context") or {}).get("encounter") or [None])[0] if rtype == "DocumentReference" else None
    ekey = _key(extra.get("encounter") or res.get("encounter") or context, urls, conditional)
    if rtype == "Encounter":
        ekey = f"Encounter/{res.get('id')}"
    enc_id = encounter.get(ekey) if ekey else None
    if enc_id is None and extra.get("encounter_id"):
        enc_id = int(extra["encounter_id"])
    try:
        for k in ("time", "end_time"):
            if extra.get(k):
                extra[k] = parse_time(extra[k])
    except ValueError as e:
        problems.append(f"{loc}: {e}")
        return
    for i, row in enumerate(rows):
        if i == 0:  # carried fields belong to the resource's own row
            for k in ("time", "end_time", "numeric_value", "unit", "text_value"):
                if extra.get(k) is not None:
                    row[k] = float(extra[k]) if k == "numeric_value" else extra[k]
        if row["time"] is None:
            skipped[f"{rtype} without a time"] = skipped.get(f"{rtype} without a time", 0) + 1
            continue
        row.update(subject_id=subject[pkey], encounter_id=enc_id, module=module, state=state)
        for name, col in cols.items():
            col.append(row[name])


def _raise(problems: list[str], root: Path) -> None:
    shown = problems[:_MAX_PROBLEMS] + ([f"... stopped after {_MAX_PROBLEMS} problems"]
                                        if len(problems) > _MAX_PROBLEMS else [])
    raise DataValidationError(shown, header=f"cannot import FHIR from {str(root)!r}")


def _write(out: str | os.PathLike[str], overwrite: bool, persons: list[dict], cols: dict[str, list],
           shard_size: int, info: dict) -> dict:
    persons = sorted(persons, key=lambda p: p["subject_id"])
    ptable = pa.Table.from_pylist(persons, schema=PERSONS_SCHEMA)
    events = pa.Table.from_pydict({**cols}, schema=EVENTS_SCHEMA)
    events = events.append_column("_i", pa.array(np.arange(events.num_rows, dtype=np.int64)))
    events = events.take(pc.sort_indices(events, sort_keys=[("subject_id", "ascending"), ("time", "ascending"),
                                                           ("_i", "ascending")])).drop_columns(["_i"])
    subjects = events["subject_id"].to_numpy()
    n_shards = max(1, -(-len(persons) // shard_size))
    with RunWriter(out, shards=n_shards, overwrite=overwrite) as writer:
        for k in range(n_shards):
            shard = ptable.slice(k * shard_size, shard_size)
            if shard.num_rows:
                lo = np.searchsorted(subjects, shard["subject_id"][0].as_py(), "left")
                hi = np.searchsorted(subjects, shard["subject_id"][-1].as_py(), "right")
            else:
                lo = hi = 0
            writer.write_shard(k, shard, events.slice(lo, hi - lo))
        writer.finish(info)
    return {"persons": ptable.num_rows, "events": events.num_rows}
