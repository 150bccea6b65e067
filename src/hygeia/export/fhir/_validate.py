"""Validate a FHIR export offline: R4 (4.0.1) structure, required codes, references, provenance.

Two layers, every problem reported with its file, line and element path:

1. **Structure** — `fhirkit-rs <https://pypi.org/project/fhirkit-rs/>`_ checks each resource
   against the R4 4.0.1 structure definitions (all 146 resource types): element names,
   cardinalities, choice types, primitive formats (dateTime with a zone, ``id``, ``uri``...),
   empty strings and arrays, nested resources in Bundles. It needs no network.
2. **Hygeia's rules** — what fhirkit does not check and an export must keep: the required
   value-set bindings of the coded elements Hygeia writes (``status``, ``gender``...), the
   invariants ele-1 (no empty objects), ext-1, per-1, qty-3, obs-6, obs-7, bdl-3, every
   reference resolving inside the export (a Bundle's ``fullUrl``\\ s, or the ``Type/id`` of the
   NDJSON files), and the synthetic ``HTEST`` tag on every resource.

Example:
    >>> from hygeia.export.fhir import validate_fhir
    >>> report = validate_fhir("bulk")  # doctest: +SKIP
    >>> report.resources, report.errors  # doctest: +SKIP
    (702311, [])
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hygeia.errors import DataValidationError, MissingExtraError
from hygeia.export.fhir._codes import CANONICAL, HTEST_TAG, HYGEIA, parse_time
from hygeia.export.fhir._definitions import EXTENSIONS

__all__ = ["ValidationReport", "validate_fhir", "validate_resource"]

_REFERENCE = re.compile(r'"reference"\s*:\s*"((?:[^"\\]|\\.)*)"')
_HEAD = re.compile(r'\{"resourceType":"([A-Za-z]+)","id":"([A-Za-z0-9\-.]{1,64})"')
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_CONDITIONAL = re.compile(r"^[A-Z][A-Za-z]+\?identifier=[^&]+$")
_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_REQUEST = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
#: Required bindings (R4 4.0.1) of the coded elements Hygeia writes: (type, path) -> codes.
REQUIRED = {
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("Patient", "name.use"): {"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"},
    ("Practitioner", "name.use"): {"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"},
    ("Encounter", "status"): {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
                              "entered-in-error", "unknown"},
    ("Condition", "clinicalStatus.coding.code"): {"active", "recurrence", "relapse", "inactive", "remission",
                                                  "resolved"},
    ("Condition", "verificationStatus.coding.code"): {"unconfirmed", "provisional", "differential", "confirmed",
                                                      "refuted", "entered-in-error"},
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                                "entered-in-error", "unknown"},
    ("MedicationRequest", "status"): {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped",
                                      "draft", "unknown"},
    ("MedicationRequest", "intent"): {"proposal", "plan", "order", "original-order", "reflex-order",
                                      "filler-order", "instance-order", "option"},
    ("Procedure", "status"): {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
                              "entered-in-error", "unknown"},
    ("Immunization", "status"): {"completed", "entered-in-error", "not-done"},
    ("AllergyIntolerance", "clinicalStatus.coding.code"): {"active", "inactive", "resolved"},
    ("AllergyIntolerance", "verificationStatus.coding.code"): {"unconfirmed", "confirmed", "refuted",
                                                               "entered-in-error"},
    ("AllergyIntolerance", "type"): {"allergy", "intolerance"},
    ("AllergyIntolerance", "category"): {"food", "medication", "environment", "biologic"},
    ("CarePlan", "status"): _REQUEST,
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("CarePlan", "activity.detail.status"): {"not-started", "scheduled", "in-progress", "on-hold", "completed",
                                             "cancelled", "stopped", "unknown", "entered-in-error"},
    ("CarePlan", "text.status"): {"generated", "extensions", "additional", "empty"},
    ("DiagnosticReport", "status"): {"registered", "partial", "preliminary", "final", "amended", "corrected",
                                     "appended", "cancelled", "entered-in-error", "unknown"},
    ("ImagingStudy", "status"): {"registered", "available", "cancelled", "entered-in-error", "unknown"},
    ("Device", "status"): {"active", "inactive", "entered-in-error", "unknown"},
    ("SupplyDelivery", "status"): {"in-progress", "completed", "abandoned", "entered-in-error"},
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
    ("DocumentReference", "docStatus"): {"preliminary", "final", "amended", "entered-in-error"},
    ("Composition", "status"): {"preliminary", "final", "amended", "entered-in-error"},
    ("Composition", "section.text.status"): {"generated", "extensions", "additional", "empty"},
    ("Bundle", "type"): {"document", "message", "transaction", "transaction-response", "batch", "batch-response",
                         "history", "searchset", "collection"},
    ("Bundle", "entry.request.method"): {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"},
}
#: Hygeia's extensions by URL: (the resource types it may appear on, sub-extension -> (value type, min)).
_OUR_EXTENSIONS = {spec["url"]: (set(spec["context"]), {sub: (f"value{vtype[0].upper()}{vtype[1:]}", min_)
                                                       for sub, vtype, min_, _ in spec["slices"]})
                   for spec in EXTENSIONS.values()}
_BY_TYPE: dict[str, list[tuple[list[str], set[str]]]] = {}
for (_t, _p), _codes in REQUIRED.items():
    _BY_TYPE.setdefault(_t, []).append((_p.split("."), _codes))


@dataclass
class ValidationReport:
    """What :func:`validate_fhir` found: ``errors`` is empty when the export is valid."""

    resources: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    references: int = 0
    rules: bool = True

    def raise_for_errors(self) -> None:
        """Raise :class:`DataValidationError` listing every error (the first 200), if any."""
        if self.errors:
            shown = self.errors[:200] + ([f"... and {len(self.errors) - 200} more"] if len(self.errors) > 200 else [])
            raise DataValidationError(shown, header=f"FHIR validation failed ({len(self.errors)} errors)")


def _values(obj: object, path: list[str]) -> Iterator[object]:
    if not path:
        yield from (obj if isinstance(obj, list) else [obj])
        return
    for item in obj if isinstance(obj, list) else [obj]:
        if isinstance(item, dict) and path[0] in item:
            yield from _values(item[path[0]], path[1:])


def _problem(k: str, v: object) -> str | None:
    """The rule that element ``k`` with value ``v`` breaks (ele-1, ext-1, per-1, qty-3), if any."""
    if isinstance(v, dict):
        if not v:
            return "empty object (ele-1: an element needs a value or children)"
        if (k == "period" or k.endswith("Period")) and "start" in v and "end" in v:
            try:
                if parse_time(v["start"]) > parse_time(v["end"]):
                    return f"start {v['start']} is after end {v['end']} (per-1)"
            except (ValueError, TypeError):
                return None  # fhirkit reports the malformed dateTime
        elif (k == "quantity" or k.endswith("Quantity")) and "code" in v and "system" not in v:
            return "a quantity with a code needs a system (qty-3)"
        elif k == "extension" or k == "modifierExtension":
            has_value = any(x[:5] == "value" for x in v)
            if has_value == ("extension" in v):
                return "an extension has either a value or extensions (ext-1)"
    return None


def _scan(obj: dict, refs: list[str]) -> bool:
    """Collect references; True if some element breaks a rule (then :func:`_walk` says where)."""
    bad = False
    for k, v in obj.items():
        if type(v) is dict:
            if k == "resource":
                continue  # a Bundle entry's resource is checked on its own
            if _problem(k, v) is not None:
                bad = True
            ref = v.get("reference")
            if type(ref) is str:
                refs.append(ref)
            if _scan(v, refs):
                bad = True
        elif type(v) is list:
            for item in v:
                if type(item) is dict:
                    if _problem(k, item) is not None:
                        bad = True
                    ref = item.get("reference")
                    if type(ref) is str:
                        refs.append(ref)
                    if _scan(item, refs):
                        bad = True
    return bad


def _walk(obj: object, path: str, out: list[str]) -> None:
    """Every rule :func:`_scan` checks, with the element path of each problem."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "resource":
                continue
            for i, item in enumerate(v if isinstance(v, list) else [v]):
                where = f"{path}.{k}" + (f"[{i}]" if isinstance(v, list) else "")
                problem = _problem(k, item)
                if problem is not None:
                    out.append(f"{where}: {problem}")
                _walk(item, where, out)


def validate_resource(res: dict) -> tuple[list[str], list[str]]:
    """Hygeia's rules for one resource (not its structure): returns ``(errors, references)``."""
    rtype = res.get("resourceType", "?")
    out: list[str] = []
    refs: list[str] = []
    rid = res.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        out.append(f"{rtype}.id: {rid!r} is not a FHIR id ([A-Za-z0-9-.], 1 to 64 characters)")
    tags = (res.get("meta") or {}).get("tag") or []
    if not any(t.get("system") == HTEST_TAG["system"] and t.get("code") == HTEST_TAG["code"] for t in tags):
        out.append(f"{rtype}.meta.tag: no synthetic-data tag ({HTEST_TAG['system']}|{HTEST_TAG['code']})")
    for path, codes in _BY_TYPE.get(rtype, ()):
        for v in _values(res, path):
            if v not in codes:
                out.append(f"{rtype}.{'.'.join(path)}: {v!r} is not in the required value set {sorted(codes)}")
    for k, ext in enumerate(res.get("extension") or ()):
        if isinstance(ext, dict) and isinstance(ext.get("url"), str):
            out.extend(f"{rtype}.extension[{k}]: {e}" for e in _our_extension(rtype, ext))
    if rtype == "Observation":
        if "dataAbsentReason" in res and any(k.startswith("value") for k in res):
            out.append("Observation.dataAbsentReason: present with a value (obs-6)")
        code = json.dumps(res.get("code"), sort_keys=True)
        if any(json.dumps(c.get("code"), sort_keys=True) == code for c in res.get("component") or ()):
            out.append("Observation.component.code: same as Observation.code (obs-7)")
    if not res or _scan(res, refs):
        _walk(res, rtype, out)
        if not res:
            out.append(f"{rtype}: empty resource")
    return out, refs


def _our_extension(rtype: str, ext: dict) -> list[str]:
    """What an extension under Hygeia's namespaces breaks in its StructureDefinition (closed slicing: known
    parts only, each with its value type, required parts present once; the resource types it may be on)."""
    url = ext["url"]
    if url not in _OUR_EXTENSIONS:
        if url.startswith((CANONICAL, HYGEIA)):
            return [f"extension {url!r} has no StructureDefinition (Hygeia's are {sorted(_OUR_EXTENSIONS)}); "
                    "re-export with this version of Hygeia"]
        return []
    context, parts = _OUR_EXTENSIONS[url]
    out = [] if rtype in context else [f"extension {url!r} is not allowed on {rtype} (its context: {sorted(context)})"]
    seen: dict[str, int] = {}
    for sub in ext.get("extension") or ():
        name = sub.get("url") if isinstance(sub, dict) else None
        if name not in parts:
            out.append(f"{url}: unknown part {name!r} (the parts are {sorted(parts)})")
            continue
        seen[name] = seen.get(name, 0) + 1
        values = [k for k in sub if k.startswith("value")]
        if values != [parts[name][0]]:
            out.append(f"{url}: part {name!r} needs {parts[name][0]}, got {values or 'no value'}")
    out.extend(f"{url}: part {name!r} appears {n} times (at most once)" for name, n in seen.items() if n > 1)
    out.extend(f"{url}: required part {name!r} is missing" for name, (_, min_) in parts.items()
               if min_ and name not in seen)
    return out


def _structure_checker():
    try:
        import fhirkit
    except ImportError:
        raise MissingExtraError("fhirkit-rs", "fhir", "Validating FHIR R4 output") from None
    if fhirkit.FHIR_VERSION != "4.0.1":
        raise MissingExtraError("fhirkit-rs", "fhir", f"fhirkit {fhirkit.FHIR_VERSION} is not FHIR R4 4.0.1; validating")
    return fhirkit


def _check_lines(job: tuple[str, list[tuple[int, str]]], rules: bool = True) -> tuple[list[str], dict[str, int],
                                                                                 list[str], dict]:
    """Validate NDJSON lines: ``(errors, counts by type, ids defined, {reference: where first used})``."""
    where, items = job
    fk = _structure_checker()
    errors: list[str] = []
    by_type: dict[str, int] = {}
    defined: list[str] = []
    used: dict[str, str] = {}
    for n, text in items:
        loc = f"{where}:{n}"
        errors.extend(f"{loc}: {i.path}: {i.message}" for i in fk.validate(text) if i.severity == "error")
        head = None if rules else _HEAD.match(text)
        if head is not None:  # structure and references only: no need to parse the JSON again
            rtype, rid = head.groups()
            errs, refs = [], _REFERENCE.findall(text)
        else:
            try:
                res = json.loads(text)
            except json.JSONDecodeError:
                continue  # fhirkit has reported it
            rtype, rid = res.get("resourceType"), res.get("id")
            errs, refs = validate_resource(res) if rules else ([], _REFERENCE.findall(text))
        by_type[rtype] = by_type.get(rtype, 0) + 1
        errors.extend(f"{loc}: {e}" for e in errs)
        defined.append(f"{rtype}/{rid}")
        for ref in refs:
            if ref not in used:
                used[ref] = loc
    return errors, by_type, defined, used


def _check_bundles(paths: list[str], rules: bool = True) -> tuple[list[str], dict[str, int], int, list]:
    """Validate whole Bundle files: ``(errors, counts by type, references checked, conditional references
    used [(reference, file, where)])``."""
    fk = _structure_checker()
    report = ValidationReport(rules=rules)
    conditional: list = []
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        report.errors.extend(f"{path}: {i.path}: {i.message}" for i in fk.validate(text) if i.severity == "error")
        try:
            res = json.loads(text)
        except json.JSONDecodeError:
            continue
        if res.get("resourceType") == "Bundle":
            _bundle(path, res, report, None if rules else _REFERENCE.findall(text), conditional)
        else:
            errs, _refs = validate_resource(res)
            report.errors.extend(f"{path}: {e}" for e in errs)
            report.by_type[res.get("resourceType")] = report.by_type.get(res.get("resourceType"), 0) + 1
    return report.errors, report.by_type, report.references, conditional


def _conditional_targets(paths: list[str], wanted: set[str]) -> dict[str, str]:
    """The first Bundle file (in name order) defining each wanted ``Type?identifier=system|value``."""
    found: dict[str, str] = {}
    for path in sorted(paths):
        try:
            bundle = json.loads(Path(path).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # reported by the structure check
        for e in bundle.get("entry") or () if isinstance(bundle, dict) else ():
            for key in _identifier_keys((e or {}).get("resource") or {}):
                if key in wanted:
                    found.setdefault(key, path)
    return found


def _jobs(files: list[Path], batch: int, rules: bool) -> Iterator[tuple[str, tuple]]:
    bundles: list[str] = []
    for f in files:
        if f.suffix == ".json":
            bundles.append(str(f))
            if len(bundles) >= max(1, batch // 512):
                yield "bundles", (bundles, rules)
                bundles = []
            continue
        items: list[tuple[int, str]] = []
        with open(f, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    items.append((n, line))
                    if len(items) >= batch:
                        yield "lines", ((str(f), items), rules)
                        items = []
        if items:
            yield "lines", ((str(f), items), rules)
    if bundles:
        yield "bundles", (bundles, rules)


def _run_job(job: tuple[str, tuple]) -> tuple:
    kind, args = job
    return _check_lines(*args) if kind == "lines" else _check_bundles(*args)


def validate_fhir(path: str | os.PathLike[str], *, workers: int = 1, rules: bool = True,
                  batch: int = 4096) -> ValidationReport:
    """Validate a FHIR export folder: NDJSON files (``*.ndjson``) or Bundles (``*.json``).

    Args:
        path: the folder the ``ndjson`` or ``fhir`` exporter wrote (or one file).
        workers: processes that validate in parallel (the report is the same for any number).
        rules: also check Hygeia's rules (layer 2) on every resource; False checks the R4 structure
            and that every reference resolves (about twice as fast).
        batch: NDJSON lines per task.

    Returns:
        A :class:`ValidationReport`; call ``raise_for_errors()`` to fail on any error.

    Raises:
        MissingExtraError: fhirkit-rs is not installed (``pip install 'hygeia[fhir]'``).
        DataValidationError: ``path`` holds no FHIR files.
    """
    from hygeia.core.executors import ProcessExecutor

    _structure_checker()
    root = Path(path)
    files = [root] if root.is_file() else sorted(p for p in root.iterdir() if p.suffix in (".ndjson", ".json"))
    if not files:
        raise DataValidationError([f"{str(root)!r}: no .ndjson or .json files"],
                                  header="nothing to validate (point at an export folder)")
    report = ValidationReport(rules=rules)
    defined: set[str] = set()
    used: dict[str, str] = {}
    cond_used: list[tuple[str, str, str]] = []
    results = []
    with ProcessExecutor(workers) as ex:
        for job, result in ex.map_shards(_run_job, _jobs(files, batch, rules)):
            first = job[1][0][1][0][0] if job[0] == "lines" else 0
            key = job[1][0][0]
            results.append(((key, first), result[0]))
            for rtype, n in result[1].items():
                report.by_type[rtype] = report.by_type.get(rtype, 0) + n
            if job[0] == "lines":
                defined.update(result[2])
                for ref, loc in result[3].items():
                    used.setdefault(ref, loc)
                report.references += len(result[3])
            else:
                report.references += result[2]
                cond_used.extend(result[3])
    for _key, errors in sorted(results, key=lambda r: r[0]):
        report.errors.extend(errors)
    if cond_used:
        conditional = _conditional_targets([str(f) for f in files if f.suffix == ".json"], {r[0] for r in cond_used})
    for ref, path, where in sorted(cond_used):
        source = conditional.get(ref)
        if source is None:
            report.errors.append(f"{where}: conditional reference {ref!r} matches no resource of the export")
        elif source >= path:
            report.errors.append(f"{where}: conditional reference {ref!r} names a resource of {source}, which is not "
                                 "loaded before this Bundle (Bundles load in file-name order)")
    report.resources = sum(report.by_type.values())
    for ref, loc in used.items():
        if ref not in defined:
            report.errors.append(f"{loc}: reference {ref!r} resolves to no resource in the export")
    return report


def _identifier_keys(res: dict) -> Iterator[str]:
    """``Type?identifier=system|value`` of each identifier of ``res``: what a conditional reference to it reads."""
    idents = res.get("identifier")
    for ident in [idents] if isinstance(idents, dict) else idents or ():
        if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
            yield f"{res.get('resourceType')}?identifier={ident['system']}|{ident['value']}"


def _bundle(loc: str, bundle: dict, report: ValidationReport, all_refs: list[str] | None = None,
            conditional: list | None = None) -> None:
    """Bundle rules; with ``all_refs`` (every reference in the file) Hygeia's per-resource rules are skipped.

    A conditional reference (``Type?identifier=system|value``) must match a resource of a Bundle loaded
    before this one: ``conditional`` gathers them for :func:`validate_fhir` to check across files.
    """
    cond_used = conditional if conditional is not None else []
    entries = bundle.get("entry") or []
    errs, _ = validate_resource({k: v for k, v in bundle.items() if k != "entry"})
    report.errors.extend(f"{loc}: {e}" for e in errs)
    full = [e.get("fullUrl") for e in entries]
    if len(set(full)) != len(full):
        report.errors.append(f"{loc}: Bundle.entry.fullUrl: not unique")
    known = set(full)
    for i, e in enumerate(entries):
        res = e.get("resource") or {}
        where = f"{loc}: Bundle.entry[{i}]"
        if bundle.get("type") in ("transaction", "batch") and "request" not in e:
            report.errors.append(f"{where}: a transaction entry needs a request (bdl-3)")
        if not _UUID.match(e.get("fullUrl") or "") or e["fullUrl"][9:] != res.get("id"):
            report.errors.append(f"{where}.fullUrl: {e.get('fullUrl')!r} is not urn:uuid:<the resource id>")
        errs, refs = validate_resource(res) if all_refs is None else ([], [])
        report.errors.extend(f"{where}: {x}" for x in errs)
        report.resources += 1
        report.by_type[res.get("resourceType")] = report.by_type.get(res.get("resourceType"), 0) + 1
        for ref in refs:
            report.references += 1
            if _CONDITIONAL.match(ref):
                cond_used.append((ref, loc, where))
            elif ref not in known:
                report.errors.append(f"{where}: reference {ref!r} resolves to no entry of the Bundle")
    for ref in all_refs or ():
        report.references += 1
        if _CONDITIONAL.match(ref):
            cond_used.append((ref, loc, loc))
        elif ref not in known:
            report.errors.append(f"{loc}: reference {ref!r} resolves to no entry of the Bundle")
