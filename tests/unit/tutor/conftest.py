"""Tiny hand-built cases (real HPO ids) for the session engine's tests.

``marfan_case``: a 24-year-old woman with Marfan syndrome (ORPHA:558): history, exam and test
findings, one vague finding, pertinent negatives, three tests, a family history.
``sepsis_case``: an acute case whose vital signs worsen over two hours unless three priority
actions are done within 60 minutes. Values are made up for the tests (not clinical data).
"""

from __future__ import annotations

import pytest

from hygeia.tutor._case import (
    Action,
    Case,
    CaseFinding,
    FamilyMember,
    Patient,
    TestResult,
    VitalSigns,
)
from hygeia.tutor._hpo import load_knowledge


@pytest.fixture(scope="session")
def kb():
    return load_knowledge()


def _marfan() -> Case:
    f = CaseFinding
    findings = [
        f("HP:0001166", "Arachnodactyly", True, "history", "HP:0033127",
          says="Yes, my fingers have always been long and thin."),
        f("HP:0000545", "Myopia", True, "history", "HP:0000478", onset_years=8.0),
        f("HP:0002108", "Spontaneous pneumothorax", True, "history", "HP:0002086", onset_years=19.0),
        f("HP:0012432", "Chronic fatigue", True, "history", "HP:0025142", reported_as="HP:0012378"),
        f("HP:0001382", "Joint hypermobility", True, "history", "HP:0033127"),
        f("HP:0001083", "Ectopia lentis", True, "exam", "HP:0000478"),
        f("HP:0000768", "Pectus carinatum", True, "exam", "HP:0033127"),
        f("HP:0001519", "Disproportionate tall stature", True, "exam", "HP:0001507"),
        f("HP:0001065", "Striae distensae", True, "exam", "HP:0001574"),
        f("HP:0002616", "Aortic root aneurysm", True, "test", "HP:0001626"),
        f("HP:0001634", "Mitral valve prolapse", True, "test", "HP:0001626"),
        f("HP:0002315", "Headache", False, "history", "HP:0000707", source="absent"),
        f("HP:0001250", "Seizure", False, "history", "HP:0000707", source="absent"),
        f("HP:0000501", "Glaucoma", False, "exam", "HP:0000478", source="absent"),
        f("HP:0001252", "Hypotonia", False, "exam", "HP:0033127", source="absent"),
        f("HP:0001653", "Mitral regurgitation", False, "test", "HP:0001626", source="absent"),
    ]
    tests = [
        TestResult("echo", "Echocardiogram", "imaging", 450.0, 60.0,
                   "Aortic root dilated at 4.6 cm; mitral valve prolapse without regurgitation", True,
                   ["HP:0002616", "HP:0001634", "HP:0001653"]),
        TestResult("cbc", "Complete blood count", "lab", 11.0, 30.0, "Normal", False, [],
                   [{"name": "Hemoglobin", "value": 13.1, "unit": "g/dL", "low": 12.0, "high": 15.5, "flag": "",
                     "loinc": "718-7", "source": "test fixture"}]),
        TestResult("gene_panel", "Connective tissue gene panel", "genetic", 1200.0, 20160.0,
                   "Pathogenic variant in FBN1 (heterozygous)", True, []),
    ]
    return Case(
        "marfan-test", {"id": "ORPHA:558", "name": "Marfan syndrome", "source": "ORPHA",
                        "inheritance": ["autosomal dominant"], "genes": ["FBN1"]},
        Patient(24.0, "female", "my chest went tight and I couldn't breathe last month", onset_years=19.0,
                name="Ana"),
        findings,
        family=[FamilyMember("mother", True, "had an operation on her aorta at 40"),
                FamilyMember("father", False)],
        tests=tests,
        actions=[Action("refer_genetics", "Refer to clinical genetics", priority=True),
                 Action("refer_cardiology", "Refer to cardiology", priority=True)],
        teaching_points=["Marfan syndrome is autosomal dominant; FBN1."],
        provenance={"made_by": "tests/unit/tutor/conftest.py"},
    )


def _sepsis() -> Case:
    f = CaseFinding
    return Case(
        "sepsis-test", {"id": "HYGEIA:sepsis", "name": "Sepsis", "source": "HYGEIA"},
        Patient(67.0, "male", "I've been shivering and feel terrible since yesterday", name="Bill"),
        [f("HP:0001945", "Fever", True, "history", "HP:0001939"),
         f("HP:0001289", "Confusion", True, "exam", "HP:0000707"),
         f("HP:0003128", "Lactic acidosis", True, "test", "HP:0001939"),
         f("HP:0100749", "Chest pain", False, "history", "HP:0045027", source="absent")],
        tests=[TestResult("lactate", "Lactate", "lab", 20.0, 20.0, "Raised lactate", True, ["HP:0003128"],
                          [{"name": "Lactate", "value": 4.1, "unit": "mmol/L", "low": 0.5, "high": 2.0, "flag": "H",
                            "loinc": "2524-7", "source": "test fixture"}])],
        vitals=[VitalSigns(0, 108, 104, 62, 22, 38.6, 95, "flushed"),
                VitalSigns(60, 120, 92, 55, 26, 39.0, 93, "drowsy"),
                VitalSigns(120, 136, 78, 45, 30, 39.3, 90, "barely rousable")],
        actions=[Action("blood_cultures", "Take blood cultures", True, 60, "before antibiotics"),
                 Action("iv_antibiotics", "Give IV antibiotics", True, 60, "within the hour"),
                 Action("iv_fluids", "Give a 30 mL/kg IV crystalloid bolus", True, 60, "hypotension"),
                 Action("sedate", "Give a sedative", harmful=True)],
        acute=True,
    )


@pytest.fixture
def marfan_case() -> Case:
    return _marfan()


@pytest.fixture
def sepsis_case() -> Case:
    return _sepsis()
