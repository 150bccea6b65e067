"""The SNOMED CT -> ICD-10-CM table: every code valid, billable and described as CMS describes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hygeia.notes._summary_terms import ICD10CM, LAY, LAY_PROCEDURES

MODULES = Path(__file__).resolve().parents[3] / "src" / "hygeia" / "population" / "modules"


def _condition_codes() -> set[str]:
    out: set[str] = set()

    def walk(o: object) -> None:
        if isinstance(o, dict):
            if o.get("type") == "ConditionOnset":
                out.update(c["code"] for c in o.get("codes", []))
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    for p in MODULES.rglob("*.json"):
        walk(json.loads(p.read_text()))
    return out


def test_codes_are_cms_icd10cm() -> None:
    cm = pytest.importorskip("simple_icd_10_cm")
    for snomed, (code, description) in ICD10CM.items():
        assert cm.is_valid_item(code), (snomed, code)
        assert cm.is_leaf(code), f"{code} is a category, not a billable code"
        assert cm.get_description(code) == description, (snomed, code)


def test_default_library_conditions_have_lay_names_and_codes() -> None:
    codes = _condition_codes()
    assert codes, "no ConditionOnset codes found in the default modules"
    assert codes <= set(LAY), sorted(codes - set(LAY))
    unmapped = codes - set(ICD10CM)
    # the vertebral fracture's level is unknown, and an infection of a tooth may be an abscess, caries or
    # periodontitis, each coded apart: no code rather than a guessed one
    assert unmapped == {"15724005", "427898007"}, sorted(unmapped)


def test_lay_words_are_plain() -> None:
    for words in (*LAY.values(), *LAY_PROCEDURES.values()):
        assert words == words.strip() and len(words.split()) <= 8
