"""Case files: ``write_case`` (atomic JSON), ``read_case`` and ``validate_case`` (the schema, every problem at once).

A case file is the JSON of :meth:`Case.to_dict` (schema ``hygeia.tutor.case/1``). Educators
edit it by hand, so :func:`validate_case` checks everything a reader relies on and lists
every problem it finds (where, and what is wrong): an unknown schema id, a missing or unknown
field, a value of the wrong type, an unknown HPO id, a channel that is not one of
``history``/``exam``/``test``, a finding source outside the documented ones, a frequency out
of 0..1, a test image that :func:`hygeia.imaging.render` cannot draw, duplicate test or
action keys. :func:`read_case` raises them together in one :class:`~hygeia.errors.DataValidationError`.

Example:
    >>> import tempfile, pathlib
    >>> from hygeia.tutor._generate import generate_case
    >>> case = generate_case("ORPHA:558", seed=3, tests=False)
    >>> path = write_case(case, pathlib.Path(tempfile.mkdtemp()) / "case.json")
    >>> read_case(path).to_dict() == case.to_dict()
    True
    >>> [str(p) for p in validate_case({"schema": "x"}, None)][0]
    "schema: unknown schema id 'x': expected 'hygeia.tutor.case/1'"
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from hygeia.errors import ConfigError, DataValidationError, Problem
from hygeia.tutor._case import CASE_SCHEMA, CHANNELS, Case
from hygeia.tutor._hpo import Knowledge, load_knowledge

__all__ = ["FINDING_SOURCES", "TEST_KINDS", "read_case", "validate_case", "write_case"]

#: Where a finding came from (``CaseFinding.source``).
FINDING_SOURCES = ("annotation", "excluded", "absent", "noise", "author")
#: Kinds of test (``TestResult.kind``).
TEST_KINDS = ("lab", "imaging", "physiology", "genetic")
_SEXES = ("male", "female")

# field -> (type, required); types: str, str?, bool, num, num?, list, list[str], dict, dict?
_CASE = {"schema": ("str", True), "id": ("str", True), "disease": ("dict", True), "patient": ("dict", True),
         "findings": ("list", True), "family": ("list", False), "family_text": ("str", False),
         "tests": ("list", False), "vitals": ("list", False), "actions": ("list", False), "acute": ("bool", False),
         "teaching_points": ("list[str]", False), "provenance": ("dict", False)}
_PATIENT = {"age_years": ("num", True), "sex": ("str", True), "chief_complaint": ("str", True),
            "onset_years": ("num?", False), "name": ("str", False), "medications": ("list[str]", False),
            "social": ("str", False), "history": ("list[str]", False)}
_FINDING = {"hpo": ("str", True), "name": ("str", True), "present": ("bool", True), "channel": ("str", True),
            "system": ("str?", False), "frequency": ("num?", False), "reported_as": ("str?", False),
            "says": ("str?", False), "source": ("str", False), "onset_years": ("num?", False)}
_FAMILY = {"relation": ("str", True), "affected": ("bool", True), "note": ("str", False)}
_TEST = {"key": ("str", True), "name": ("str", True), "kind": ("str", True), "cost": ("num", True),
         "minutes": ("num", True), "result": ("str", True), "abnormal": ("bool", False),
         "reveals": ("list[str]", False), "values": ("list", False), "image": ("dict?", False)}
_VITALS = {"minutes": ("num", True), "heart_rate": ("num", True), "systolic": ("num", True),
           "diastolic": ("num", True), "resp_rate": ("num", True), "temp_c": ("num", True), "spo2": ("num", True),
           "note": ("str", False)}
_ACTION = {"key": ("str", True), "name": ("str", True), "priority": ("bool", False),
           "within_minutes": ("num?", False), "why": ("str", False), "harmful": ("bool", False)}
_DISEASE = {"id": ("str", True), "name": ("str", True)}


def _type_ok(kind: str, v: Any) -> bool:
    if kind.endswith("?") and v is None:
        return True
    base = kind.rstrip("?")
    if base == "str":
        return isinstance(v, str)
    if base == "bool":
        return isinstance(v, bool)
    if base == "num":
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    if base == "dict":
        return isinstance(v, dict)
    if base == "list":
        return isinstance(v, list)
    if base == "list[str]":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    raise AssertionError(kind)


_WORDS = {"str": "a string", "str?": "a string or null", "bool": "true or false", "num": "a number",
          "num?": "a number or null", "dict": "an object", "dict?": "an object or null", "list": "a list",
          "list[str]": "a list of strings"}


def _fields(where: str, obj: Any, spec: dict[str, tuple[str, bool]], problems: list[Problem], *,
            extra_ok: bool = False) -> bool:
    """Check ``obj`` against ``spec``; False when it is not even an object."""
    if not isinstance(obj, dict):
        problems.append(Problem(where, f"expected an object, got {type(obj).__name__}"))
        return False
    for name, (kind, required) in spec.items():
        if name not in obj:
            if required:
                problems.append(Problem(where, f"missing field {name!r}"))
            continue
        if not _type_ok(kind, obj[name]):
            problems.append(Problem(f"{where}.{name}", f"expected {_WORDS[kind]}, got {obj[name]!r:.60}"))
    if not extra_ok:
        for name in obj:
            if name not in spec:
                problems.append(Problem(where, f"unknown field {name!r} (known: {', '.join(spec)})"))
    return True


def _hpo_ok(hpo: Any, kb: Knowledge | None) -> bool:
    return kb is None or not isinstance(hpo, str) or hpo in kb.terms or hpo in kb.alt_ids


def validate_case(data: Any, kb: Knowledge | None = None) -> list[Problem]:
    """Every problem of case data ``data`` against schema ``hygeia.tutor.case/1`` (empty when it is valid).

    Args:
        data: the parsed JSON of a case file.
        kb: the knowledge base HPO ids are checked against (None: HPO ids are not checked).

    Returns:
        :class:`~hygeia.errors.Problem` strings, ``"where: what"``, in document order.
    """
    from hygeia.imaging._render import BODY_PARTS, RENDER_MODALITIES

    problems: list[Problem] = []
    if not isinstance(data, dict):
        return [Problem("case", f"expected a JSON object, got {type(data).__name__}")]
    schema = data.get("schema")
    if schema != CASE_SCHEMA:
        problems.append(Problem("schema", f"unknown schema id {schema!r}: expected {CASE_SCHEMA!r}"
                                if "schema" in data else f"missing field 'schema' (expected {CASE_SCHEMA!r})"))
        if "schema" in data:
            return problems
    _fields("case", data, {k: v for k, v in _CASE.items() if k != "schema"} | {"schema": ("str", False)}, problems)
    if isinstance(data.get("disease"), dict):
        _fields("disease", data["disease"], _DISEASE, problems, extra_ok=True)
        did = data["disease"].get("id")
        if kb is not None and isinstance(did, str) and did not in kb.diseases and not did.upper().startswith(
                "HYGEIA:"):
            problems.append(Problem("disease.id", f"unknown disease {did!r}: expected an OMIM, ORPHA or DECIPHER id "
                                                  f"of HPO release {kb.version}, or HYGEIA:NAME for an authored one"))
    patient = data.get("patient")
    if isinstance(patient, dict) and _fields("patient", patient, _PATIENT, problems):
        if isinstance(patient.get("sex"), str) and patient["sex"] not in _SEXES:
            problems.append(Problem("patient.sex", f"expected 'male' or 'female', got {patient['sex']!r}"))
        age = patient.get("age_years")
        if _type_ok("num", age) and not 0 <= age <= 120:
            problems.append(Problem("patient.age_years", f"expected 0 to 120, got {age!r}"))
        onset = patient.get("onset_years")
        if _type_ok("num", age) and _type_ok("num", onset) and onset > age + 1e-6:
            problems.append(Problem("patient.onset_years", f"onset {onset!r} is after the patient's age {age!r}"))
    for i, f in enumerate(data.get("findings") or [] if isinstance(data.get("findings"), list) else []):
        where = f"findings[{i}]"
        if not _fields(where, f, _FINDING, problems):
            continue
        for key in ("hpo", "reported_as", "system"):
            if f.get(key) is not None and not _hpo_ok(f.get(key), kb):
                problems.append(Problem(f"{where}.{key}", f"unknown HPO term {f[key]!r}: expected an id like "
                                                          f"'HP:0001250' (HPO release {kb.version if kb else ''})"))
        if isinstance(f.get("channel"), str) and f["channel"] not in CHANNELS:
            problems.append(Problem(f"{where}.channel", f"bad channel {f['channel']!r}: expected one of "
                                                        f"{', '.join(CHANNELS)}"))
        if isinstance(f.get("source"), str) and f["source"] not in FINDING_SOURCES:
            problems.append(Problem(f"{where}.source", f"unknown source {f['source']!r}: expected one of "
                                                       f"{', '.join(FINDING_SOURCES)}"))
        fr = f.get("frequency")
        if _type_ok("num", fr) and not 0 <= fr <= 1:
            problems.append(Problem(f"{where}.frequency", f"expected a probability in 0..1, got {fr!r}"))
    for i, m in enumerate(data.get("family") or [] if isinstance(data.get("family"), list) else []):
        _fields(f"family[{i}]", m, _FAMILY, problems)
    keys: set[str] = set()
    for i, t in enumerate(data.get("tests") or [] if isinstance(data.get("tests"), list) else []):
        where = f"tests[{i}]"
        if not _fields(where, t, _TEST, problems):
            continue
        if isinstance(t.get("key"), str):
            if t["key"] in keys:
                problems.append(Problem(f"{where}.key", f"duplicate test key {t['key']!r}"))
            keys.add(t["key"])
        if isinstance(t.get("kind"), str) and t["kind"] not in TEST_KINDS:
            problems.append(Problem(f"{where}.kind", f"unknown kind {t['kind']!r}: expected one of "
                                                     f"{', '.join(TEST_KINDS)}"))
        for h in t.get("reveals") or [] if isinstance(t.get("reveals"), list) else []:
            if not _hpo_ok(h, kb):
                problems.append(Problem(f"{where}.reveals", f"unknown HPO term {h!r}"))
        for name in ("cost", "minutes"):
            if _type_ok("num", t.get(name)) and t[name] < 0:
                problems.append(Problem(f"{where}.{name}", f"expected a number of at least 0, got {t[name]!r}"))
        im = t.get("image")
        if isinstance(im, dict):
            mod, part, fnd = im.get("modality"), im.get("body_part"), im.get("finding")
            if mod not in RENDER_MODALITIES:
                problems.append(Problem(f"{where}.image.modality", f"expected one of {', '.join(RENDER_MODALITIES)}, "
                                                                   f"got {mod!r}"))
            if part not in BODY_PARTS:
                problems.append(Problem(f"{where}.image.body_part", f"expected one of {', '.join(BODY_PARTS)}, "
                                                                    f"got {part!r}"))
            elif fnd is not None and fnd not in BODY_PARTS[part]:
                problems.append(Problem(f"{where}.image.finding", f"a {part} image cannot show {fnd!r}; it shows: "
                                                                  f"{', '.join(BODY_PARTS[part]) or 'nothing'}"))
        for j, v in enumerate(t.get("values") or [] if isinstance(t.get("values"), list) else []):
            if not isinstance(v, dict) or not _type_ok("num", v.get("value")) or not isinstance(v.get("name"), str):
                problems.append(Problem(f"{where}.values[{j}]", "expected an object with a 'name' and a numeric "
                                                                "'value'"))
    for i, v in enumerate(data.get("vitals") or [] if isinstance(data.get("vitals"), list) else []):
        _fields(f"vitals[{i}]", v, _VITALS, problems)
    akeys: set[str] = set()
    for i, a in enumerate(data.get("actions") or [] if isinstance(data.get("actions"), list) else []):
        if _fields(f"actions[{i}]", a, _ACTION, problems) and isinstance(a.get("key"), str):
            if a["key"] in akeys:
                problems.append(Problem(f"actions[{i}].key", f"duplicate action key {a['key']!r}"))
            akeys.add(a["key"])
    return problems


def write_case(case: Case, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
    """Write ``case`` as JSON to ``path`` atomically (whole or not at all); returns the path."""
    from hygeia.core.atomic import write_text

    return write_text(path, json.dumps(case.to_dict(), indent=1, ensure_ascii=False) + "\n", overwrite=overwrite,
                      what="Case file")


def read_case(path: str | os.PathLike[str], *, kb: Knowledge | None = None) -> Case:
    """Read and check a case file.

    Raises:
        ConfigError: the file does not exist.
        DataValidationError: the file is not UTF-8 JSON, or does not match the schema (every problem listed).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"case file {str(path)!r} does not exist; write one with: hygeia tutor case --disease ID "
                          f"--out FILE")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataValidationError([Problem(str(path), "the file is empty; expected a case JSON document")],
                                  header="unreadable case file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DataValidationError([Problem(str(path), "not a text file (not UTF-8); expected a case JSON document")],
                                  header="unreadable case file") from None
    except json.JSONDecodeError as e:
        raise DataValidationError([Problem(str(path), f"not valid JSON: {e}")], header="unreadable case file") from None
    problems = validate_case(data, kb or load_knowledge())
    if problems:
        raise DataValidationError(problems, header=f"case file {path} does not match schema {CASE_SCHEMA}")
    return Case.from_dict(data)
