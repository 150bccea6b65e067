"""Every attribute Synthea's corpus reads is set by a module, supplied by the lifecycle, or allow-listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hygeia.core.config import BUILTIN_MODULE_FOLDERS
from hygeia.population._attributes import (
    LIFECYCLE_ATTRIBUTES,
    NEVER_SET,
    NOT_SUPPLIED,
    classify,
)
from hygeia.population._corpus_scan import scan

#: Synthea's whole corpus, shipped with Hygeia (``--modules synthea``).
CORPUS = Path(BUILTIN_MODULE_FOLDERS["synthea"])


@pytest.fixture(scope="module")
def corpus_scan():
    return scan(CORPUS)


def test_every_attribute_read_has_a_supplier(corpus_scan) -> None:
    unknown = {a: sorted(m) for a, m in corpus_scan.unset_attributes().items() if classify(a) is None}
    assert not unknown, f"attributes read that no module sets and the lifecycle does not supply: {unknown}"


def test_the_lifecycle_supplies_the_cardiovascular_risks(corpus_scan) -> None:
    read = corpus_scan.unset_attributes()
    for name in ("mi_risk", "ihd_risk", "atrial_fibrillation_risk"):
        assert name in read and classify(name) == "lifecycle"


def test_the_lists_do_not_overlap() -> None:
    assert not (set(LIFECYCLE_ATTRIBUTES) & set(NOT_SUPPLIED))
    assert not (set(LIFECYCLE_ATTRIBUTES) & set(NEVER_SET))
    assert not (set(NOT_SUPPLIED) & set(NEVER_SET))


def test_scan_sees_each_way_of_reading_and_setting(tmp_path: Path) -> None:
    (tmp_path / "lookup_tables").mkdir()
    (tmp_path / "lookup_tables" / "t.csv").write_text("age,gender,ckd_stage,A,B\n0-100,M,1,0.5,0.5\n")
    module = {"name": "m", "states": {
        "Initial": {"type": "Initial", "lookup_table_transition": [
            {"transition": "A", "default_probability": 0.5, "lookup_table_name": "t.csv"},
            {"transition": "B", "default_probability": 0.5, "lookup_table_name": "t.csv"}]},
        "A": {"type": "Observation", "attribute": "obs_source", "vital_sign": "Blood Glucose",
              "direct_transition": "B"},
        "B": {"type": "ConditionOnset", "assign_to_attribute": "cond", "direct_transition": "C"},
        "C": {"type": "VitalSign", "vital_sign": "Weight", "expression": "#{bmi_input} * 2",
              "direct_transition": "D"},
        "D": {"type": "ConditionEnd", "referenced_by_attribute": "cond", "direct_transition": "E"},
        "E": {"type": "Counter", "attribute": "n", "action": "increment"}}}
    (tmp_path / "m.json").write_text(json.dumps(module))
    s = scan(tmp_path)
    assert set(s.unset_attributes()) == {"gender", "ckd_stage", "obs_source", "bmi_input"}
    assert {"cond", "n"} <= set(s.attributes_set)
    assert set(s.unset_vitals()) == {"Blood Glucose"} and set(s.vitals_set) == {"Weight"}
