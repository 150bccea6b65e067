"""Clinical plausibility rules: planted violations are counted exactly; rules are data."""

from __future__ import annotations

import datetime as dt
import json
import re

import pyarrow as pa
import pytest

from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.core.storage import RunWriter
from hygeia.errors import DataValidationError
from hygeia.evaluate.plausibility import check_plausibility, check_table_plausibility, load_rules

D = dt.datetime


def _persons() -> pa.Table:
    rows = [
        # subject, birth, death, sex, follow_up_end
        (1, D(1950, 1, 1), D(2010, 6, 1), "M", None),
        (2, D(1980, 1, 1), None, "F", D(2020, 1, 1)),
        (3, D(1990, 1, 1), None, "M", None),
    ]
    return pa.table({
        "subject_id": pa.array([r[0] for r in rows], pa.int64()),
        "birth_time": pa.array([r[1] for r in rows], pa.timestamp("us")),
        "death_time": pa.array([r[2] for r in rows], pa.timestamp("us")),
        "sex": [r[3] for r in rows],
        "follow_up_end": pa.array([r[4] for r in rows], pa.timestamp("us")),
    })


def _events() -> pa.Table:
    E = "encounter"
    rows = [
        # subject, time, end_time, kind, system, code, value, unit, encounter_id
        (1, D(2000, 1, 1, 9), D(2000, 1, 1, 10), E, "SNOMED-CT", "185349003", None, None, 10),
        (1, D(2000, 1, 1, 9, 30), None, "observation", "LOINC", "8867-4", 72.0, "/min", 10),
        (1, D(2000, 1, 1, 9, 31), None, "observation", "LOINC", "8867-4", 350.0, "/min", 10),  # HR too high
        (1, D(2000, 1, 1, 11), None, "observation", "LOINC", "8310-5", 37.0, "Cel", 10),  # outside encounter
        (1, D(2000, 1, 1, 9, 32), None, "observation", "LOINC", "8310-5", 98.6, "[degF]", 10),  # other unit: skipped
        (1, D(2005, 1, 1), None, "condition", "SNOMED-CT", "72892002", None, None, None),  # pregnancy in a man
        (1, D(2010, 6, 1), None, "death", "SNOMED-CT", "419620001", None, None, None),  # at death: fine
        (1, D(2011, 1, 1), None, E, "SNOMED-CT", "185349003", None, None, 11),  # after death
        (1, D(2012, 1, 1), None, "medication", "RxNorm", "1", None, None, None),  # after death
        (2, D(1979, 6, 1), None, "condition", "SNOMED-CT", "1", None, None, None),  # before birth
        (2, D(2001, 1, 1), D(2000, 1, 1), "medication", "RxNorm", "2", None, None, None),  # ends before start
        (2, D(2002, 1, 1), None, "condition", "SNOMED-CT", "72892002", None, None, None),  # pregnancy, woman: ok
        (2, D(2003, 1, 1), None, "condition", "ICD-10-CM", "C61", None, None, None),  # prostate cancer in a woman
        (2, D(2004, 1, 1), None, "observation", "LOINC", "8480-6", 30.0, "mm[Hg]", None),  # SBP too low
        (2, D(2004, 1, 1), None, "observation", "LOINC", "39156-5", 22.0, "kg/m2", None),
        (2, D(2021, 1, 1), None, E, "SNOMED-CT", "185349003", None, None, 12),  # after follow-up
        (3, D(2020, 1, 1), None, "observation", "LOINC", "8302-2", 300.0, "cm", None),  # height too tall
        (3, D(2020, 1, 1), None, E, "SNOMED-CT", "185349003", None, None, 13),
    ]
    names = ["subject_id", "time", "end_time", "kind", "code_system", "code", "numeric_value", "unit", "encounter_id"]
    cols = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    return pa.table({
        **cols,
        "subject_id": pa.array(cols["subject_id"], pa.int64()),
        "time": pa.array(cols["time"], pa.timestamp("us")),
        "end_time": pa.array(cols["end_time"], pa.timestamp("us")),
        "encounter_id": pa.array(cols["encounter_id"], pa.int64()),
    })


EXPECTED = {  # rule id -> (checked, violations)
    "event_after_death": (8, 2),  # 9 events of subject 1, less the death event
    "event_before_birth": (18, 1),
    "sex_specific_codes": (3, 2),
    "vital_signs_range": (6, 3),  # 2 HR, 1 temp (degF skipped), SBP, BMI, height
    "end_before_start": (2, 1),
    "encounter_containment": (4, 1),
    "visit_after_follow_up_end": (1, 1),  # only subject 2 has a follow_up_end
}


def _by_id(result: dict) -> dict:
    return {r["id"]: r for r in result["rules"]}


def test_planted_violations_are_counted_exactly() -> None:
    result = check_plausibility(_persons(), _events())
    rules = _by_id(result)
    assert set(rules) == set(EXPECTED)
    got = {rid: (r["checked"], r["violations"]) for rid, r in rules.items()}
    assert got == EXPECTED
    assert result["total_violations"] == sum(v for _, v in EXPECTED.values())
    assert result["total_checked"] == sum(c for c, _ in EXPECTED.values())
    assert result["overall_violation_rate"] == pytest.approx(11 / 42)
    assert rules["vital_signs_range"]["rate"] == pytest.approx(3 / 6)
    names = sorted(x["check_name"] for x in rules["vital_signs_range"]["examples"])
    assert names == ["body_height", "heart_rate", "systolic_bp"]
    death = rules["event_after_death"]["examples"]
    assert [x["time"] for x in death] == ["2011-01-01T00:00:00", "2012-01-01T00:00:00"]
    assert {x["code"] for x in rules["sex_specific_codes"]["examples"]} == {"72892002", "C61"}
    json.dumps(result, allow_nan=False)  # JSON-safe


def test_global_follow_up_end_and_pandas_input() -> None:
    pd = pytest.importorskip("pandas")
    persons = _persons().drop_columns(["follow_up_end"]).to_pandas()
    result = check_plausibility(persons, _events().to_pandas(), follow_up_end="2015-01-01")
    r = _by_id(result)["visit_after_follow_up_end"]
    assert (r["checked"], r["violations"]) == (4, 2)  # 4 encounters; those in 2021 and 2020 are late
    assert isinstance(persons, pd.DataFrame)


def test_follow_up_rule_not_applicable_without_column() -> None:
    result = check_plausibility(_persons().drop_columns(["follow_up_end"]), _events())
    r = _by_id(result)["visit_after_follow_up_end"]
    assert r["applicable"] is False and "follow_up_end" in r["reason"]


def test_run_folder_is_checked_with_duckdb(tmp_path) -> None:
    persons = _persons().drop_columns(["follow_up_end"])
    full_p = pa.table({
        **{n: persons[n] for n in persons.column_names},
        "race": ["white"] * 3, "ethnicity": ["nonhispanic"] * 3, "locale": ["us"] * 3,
        "given_name": [None] * 3, "family_name": [None] * 3, "state": [None] * 3,
        "income": pa.array([None] * 3, pa.int64()), "education": [None] * 3, "marital_status": [None] * 3,
        "seed": pa.array([0, 1, 2], pa.uint64()),
    }).select(PERSONS_SCHEMA.names).cast(PERSONS_SCHEMA)
    ev = _events()
    n = ev.num_rows
    full_e = pa.table({
        **{c: ev[c] for c in ev.column_names},
        "display": [None] * n, "text_value": [None] * n, "module": ["m"] * n, "state": ["s"] * n,
    }).select(EVENTS_SCHEMA.names).cast(EVENTS_SCHEMA)
    out = tmp_path / "run"
    with RunWriter(out) as w:
        w.write_shard(0, full_p, full_e)
        w.finish({"seed": 0})
    rules = _by_id(check_plausibility(out))
    for rid in ("event_after_death", "sex_specific_codes", "vital_signs_range", "encounter_containment"):
        assert (rules[rid]["checked"], rules[rid]["violations"]) == EXPECTED[rid]


def test_user_rule_files_extend_and_replace(tmp_path) -> None:
    extra = tmp_path / "my_rules.json"
    extra.write_text(json.dumps({"rules": [
        {"id": "glucose_range", "description": "Glucose in mg/dL is possible.", "kind": "value_range",
         "checks": [{"name": "glucose", "system": "LOINC", "code": "2345-7", "min": 10, "max": 2000, "unit": "mg/dL"}]},
        {"id": "vital_signs_range", "description": "Only heart rate, stricter.", "kind": "value_range",
         "checks": [{"name": "heart_rate", "code": "8867-4", "min": 30, "max": 80}]},
        {"id": "event_before_birth", "enabled": False},
    ]}))
    events = _events()
    glucose = pa.table({
        "subject_id": pa.array([3, 3], pa.int64()), "time": pa.array([D(2020, 1, 1)] * 2, pa.timestamp("us")),
        "kind": ["observation"] * 2, "code_system": ["LOINC"] * 2, "code": ["2345-7"] * 2,
        "numeric_value": [90.0, 5000.0], "unit": ["mg/dL"] * 2,
    })
    events = pa.concat_tables([events, glucose], promote_options="default")
    result = _by_id(check_plausibility(_persons(), events, extra_rule_files=[extra]))
    assert "event_before_birth" not in result
    assert (result["glucose_range"]["checked"], result["glucose_range"]["violations"]) == (2, 1)
    assert (result["vital_signs_range"]["checked"], result["vital_signs_range"]["violations"]) == (2, 1)
    assert len(load_rules(None, [extra])) == len(load_rules()) + 1 - 1


def test_bad_rules_name_every_problem(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([
        {"id": "a", "description": "x", "kind": "teleportation"},
        {"id": "b", "kind": "value_range", "checks": [{"name": "hr", "code": "1", "min": 5, "max": 1}]},
        {"description": "no id", "kind": "after_death"},
    ]))
    missing = tmp_path / "missing.json"
    with pytest.raises(DataValidationError) as info:
        load_rules(None, [bad, missing])
    msg = str(info.value)
    assert re.search(re.escape("rule 'a': unknown kind 'teleportation'"), msg)
    assert re.search(re.escape("rule 'b': 'description' is required"), msg)
    assert re.search(re.escape("rule 'b'.checks[0]: 'min' (5) is greater than 'max' (1)"), msg)
    assert re.search(re.escape("rule #2: 'id' is required"), msg)
    assert re.search(re.escape(f"{missing}: rule file not found"), msg)
    assert len(info.value.problems) == 5


def test_plain_table_applies_declared_columns_and_pairs() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({
        "heart_rate": [70, 400, None, 10],
        "pulse_bpm": [60, 61, 1000, 62],
        "admitted": ["2020-01-01", "2020-02-01", "2020-03-01", None],
        "discharged": ["2020-01-05", "2020-01-15", "2020-03-01", "2020-01-01"],
        "start_date": ["2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01"],
        "end_date": ["2019-01-01", "2020-01-01", "2021-01-01", "2020-01-01"],
    })
    result = check_table_plausibility(frame, columns={"pulse_bpm": "heart_rate"},
                                      date_pairs=[("admitted", "discharged")])
    rules = _by_id(result)
    assert result["mode"] == "table"
    assert (rules["vital_signs_range"]["checked"], rules["vital_signs_range"]["violations"]) == (7, 3)
    assert (rules["end_before_start"]["checked"], rules["end_before_start"]["violations"]) == (7, 2)
    assert {r["row_number"] for r in rules["end_before_start"]["examples"]} == {0, 1}
    for rid in ("event_after_death", "sex_specific_codes", "encounter_containment", "visit_after_follow_up_end"):
        assert rules[rid]["applicable"] is False
    assert result["overall_violation_rate"] == pytest.approx(5 / 14)


def test_plain_table_bad_declarations() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(DataValidationError) as info:
        check_table_plausibility(frame, columns={"hr": "heart_rate", "a": "pulse"}, date_pairs=[("a", "b")])
    msg = str(info.value)
    assert re.search(re.escape("columns: 'hr' is not a column of the table"), msg)
    assert re.search(re.escape("columns: 'pulse' (for column 'a') is not a value_range check"), msg)
    assert re.search(re.escape("date_pairs: 'b' is not a column of the table"), msg)
