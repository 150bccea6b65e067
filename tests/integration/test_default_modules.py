"""Hygeia's embedded module library loads, is documented, and cites its numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

#: A citation names a year (journal year, report edition, survey wave; 1900 to today) and, in the
#: same remark, a source: authors ("et al.", "Surname AB,"), a volume;issue:pages reference, a DOI,
#: a journal, or an agency, society or survey.
_YEAR = re.compile(r"\b(19\d\d|20[0-2]\d)\b")
_SOURCE = re.compile(
    r"et al\b|\b[A-Z][a-z]+(?:-[A-Z][a-z]+)? [A-Z]{1,3}[,.]|\b\d+\s*;\s*\d+\s*(?:\(\d+\))?\s*:\s*[eE]?\d+|\bdoi\b|"
    r"\b(?:CDC|NCHS|NVSR|NHIS|NHANES|BRFSS|NHAMCS|NAMCS|HCUP|NIS|MEPS|SEER|USRDS|USPSTF|ACIP|FDA|NIH|NHLBI|NIDDK|"
    r"NAEPP|WHO|AHA|ACC|ADA|GINA|GOLD|KDIGO|NICE|ESC|IDSA|ACOG|AAP|AAFP|ACR|AHRQ|CMS|Census|ATS|APA|DSM-5|NKF|"
    r"HRS|NSDUH|NVSS|SAMHSA|ESH|JNC|ACCP|NAMS|Medicare|MMWR)\b|"
    r"\b(?:Lancet|JAMA|BMJ|N Engl J Med|Circulation|Pediatrics|Diabetes Care|Chest|Thorax|Hypertension|Injury|Stroke)\b|"
    r"\b(?:Society|Association|Institute|Agency|Department|Organization|College|Academy|Task Force|Survey|Registry)\b"
)


def _cites(text: str) -> bool:
    """Whether one remark names both a year and a source."""
    return bool(_YEAR.search(text) and _SOURCE.search(text))


def test_the_citation_rule_needs_a_year_and_a_source():
    assert _cites("Winer RA et al., J Asthma 2012;49:16-22 (incidence).")
    assert _cites("About 280,000 operations in 2022 (American Society for Metabolic and Bariatric Surgery).")
    assert _cites("distal radius and ankle dominate (Court-Brown CM, Caesar B, Injury 2006).")
    assert not _cites("Patients aged 2000 days or more")  # a number that looks like a year is not a citation
    assert not _cites("Checked every year since 1999.")  # a year without a source
    assert not _cites("Guideline-based (AHA).")  # a source without a year
    assert not _cites("Projected for 2099 (CDC).")  # a year in the future

#: One SNOMED CT code per condition the library must cover (each diagnosed by some module).
_REQUIRED_CONDITIONS = {
    "hypertension": "59621000",
    "type 2 diabetes": "44054006",
    "asthma": "195967001",
    "COPD": "13645005",
    "heart failure": "88805009",
    "chronic kidney disease stage 3": "433144002",
    "depression": "370143000",
    "obesity": "162864005",
    "upper respiratory infection": "54150009",
    "influenza": "6142004",
    "cystitis": "38822007",
    "fracture of forearm": "65966004",
    "pregnancy": "72892002",
}


@pytest.fixture(scope="module")
def module_set():
    from hygeia.population.engine import default_modules_dir, load_modules

    return load_modules([default_modules_dir()])


@pytest.fixture(scope="module")
def raw_modules(module_set) -> dict[str, dict]:
    """The JSON of every module and submodule, keyed by file path."""
    paths = [m.path for m in module_set.modules] + [m.path for m in module_set.submodules.values()]
    return {p: json.loads(Path(p).read_text(encoding="utf-8")) for p in paths}


def _remark_texts(obj: dict) -> list[str]:
    remarks = obj.get("remarks") or []
    if isinstance(remarks, str):
        return [remarks]
    return [str(r) for r in remarks]


def test_library_has_enough_top_level_modules(module_set):
    assert len(module_set.modules) >= 15, [m.name for m in module_set.modules]
    assert all(not m.submodule for m in module_set.modules)


def test_every_top_level_module_has_remarks(module_set):
    missing = [m.name for m in module_set.modules if not any(str(r).strip() for r in m.remarks)]
    assert not missing, f"modules without remarks: {missing}"


def test_every_numeric_distribution_is_cited(raw_modules):
    uncited = []
    for path, data in raw_modules.items():
        module_cites = any(_cites(t) for t in _remark_texts(data))
        for name, state in data["states"].items():
            dist = state.get("distributed_transition")
            if not dist or not any(isinstance(d.get("distribution"), (int, float)) for d in dist):
                continue
            if not (module_cites or any(_cites(t) for t in _remark_texts(state))):
                uncited.append(f"{Path(path).name}:{name}")
    assert not uncited, f"distributed transitions without a cited source: {uncited}"


def test_probability_states_explain_their_numbers(raw_modules):
    """Stricter than the module-level rule: the state itself says where its numbers come from."""
    unexplained = []
    for path, data in raw_modules.items():
        for name, state in data["states"].items():
            probs = [d["distribution"] for d in state.get("distributed_transition", [])]
            for branch in state.get("complex_transition", []):
                probs += [d["distribution"] for d in branch.get("distributions", [])]
            if any(0 < p < 1 for p in probs) and not any(_cites(t) for t in _remark_texts(state)):
                unexplained.append(f"{Path(path).name}:{name}")
    assert not unexplained, unexplained


def test_required_conditions_are_covered(raw_modules):
    onset_codes = {
        c["code"]
        for data in raw_modules.values()
        for state in data["states"].values()
        if state["type"] == "ConditionOnset"
        for c in state.get("codes", [])
    }
    missing = {name: code for name, code in _REQUIRED_CONDITIONS.items() if code not in onset_codes}
    assert not missing, f"no module diagnoses: {missing}"


def test_chronic_medications_are_flagged(raw_modules):
    """Long-term drugs (ending only by MedicationEnd, not by a duration) are marked chronic."""
    unflagged = []
    for path, data in raw_modules.items():
        for name, state in data["states"].items():
            if state["type"] != "MedicationOrder" or state.get("administration"):
                continue
            rx = state.get("prescription") or {}
            if not state.get("chronic") and "duration" not in rx and not rx.get("as_needed"):
                unflagged.append(f"{Path(path).name}:{name}")
    assert not unflagged, unflagged
