"""Calibration measures read from records, intervals and statuses (hygeia.population.calibrate).

One tiny hand-made population, where each measure's answer is known.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from hygeia.population._calibrate_measure import person_table
from hygeia.population._measures import MEASURES, measure_codes
from hygeia.population.calibrate import _status, poisson_interval, rate_interval, wilson

END = dt.date(2026, 1, 1)


def _t(y: int, m: int = 1, d: int = 1) -> dt.datetime:
    return dt.datetime(y, m, d)


def _records() -> tuple[pa.Table, pa.Table]:
    persons = pa.table({
        "subject_id": [1, 2, 3, 4, 5],
        "birth_time": [_t(1960), _t(1990), _t(1950), _t(2000), _t(1940)],
        "death_time": [None, None, None, None, _t(2020)],
        "sex": ["M", "F", "F", "M", "M"],
    }, schema=pa.schema([("subject_id", pa.int64()), ("birth_time", pa.timestamp("us")),
                         ("death_time", pa.timestamp("us")), ("sex", pa.string())]))
    rows = [
        # 1: hypertension by diagnosis; diabetes; a former smoker; an ED visit last year and one long ago
        (1, _t(2010), None, "condition", "SNOMED-CT", "59621000", None, None),
        (1, _t(2015), None, "condition", "SNOMED-CT", "44054006", None, None),
        (1, _t(2025, 3), None, "observation", "LOINC", "4548-4", 6.0, None),  # A1c in range, but diabetic
        (1, _t(2020), None, "observation", "LOINC", "72166-2", None, "SNOMED-CT|449868002|Smokes tobacco daily (finding)"),
        (1, _t(2024), None, "observation", "LOINC", "72166-2", None, "SNOMED-CT|8517006|Ex-smoker (finding)"),
        (1, _t(2025, 6), _t(2025, 6, 2), "encounter", None, None, None, "emergency"),
        (1, _t(2019), _t(2019, 1, 2), "encounter", None, None, None, "emergency"),
        # 2: hypertension by a latest reading only; prediabetes by A1c; depression ended 6 months ago; obese
        (2, _t(2020), None, "observation", "LOINC", "8480-6", 120.0, None),
        (2, _t(2025), None, "observation", "LOINC", "8480-6", 150.0, None),
        (2, _t(2025), None, "observation", "LOINC", "4548-4", 5.9, None),
        (2, _t(2024, 3), _t(2025, 7), "condition", "SNOMED-CT", "36923009", None, None),
        (2, _t(2025), None, "observation", "LOINC", "39156-5", 31.0, None),
        (2, _t(2025), None, "observation", "LOINC", "72166-2", None, "SNOMED-CT|266919005|Never smoked tobacco (finding)"),
        # 3: a high reading long ago, normal now; depression ended two years ago; resolved asthma; thin
        (3, _t(2015), None, "observation", "LOINC", "8480-6", 170.0, None),
        (3, _t(2024), None, "observation", "LOINC", "8480-6", 118.0, None),
        (3, _t(2021), _t(2023), "condition", "SNOMED-CT", "36923009", None, None),
        (3, _t(2000), _t(2010), "condition", "SNOMED-CT", "195967001", None, None),
        (3, _t(2025), None, "observation", "LOINC", "39156-5", 22.0, None),
        # 4: current asthma, a current smoker, a visit after the end date (not counted)
        (4, _t(2010), None, "condition", "SNOMED-CT", "233678006", None, None),
        (4, _t(2025), None, "observation", "LOINC", "72166-2", None, "SNOMED-CT|449868002|Smokes tobacco daily (finding)"),
        (4, _t(2026, 2), _t(2026, 2, 2), "encounter", None, None, None, "emergency"),
        # 5 died before the end date: never counted
        (5, _t(2010), None, "condition", "SNOMED-CT", "59621000", None, None),
    ]
    cols = list(zip(*rows))
    events = pa.table({
        "subject_id": pa.array(cols[0], pa.int64()), "time": pa.array(cols[1], pa.timestamp("us")),
        "end_time": pa.array(cols[2], pa.timestamp("us")), "kind": pa.array(cols[3]),
        "code_system": pa.array(cols[4], pa.string()), "code": pa.array(cols[5], pa.string()),
        "numeric_value": pa.array(cols[6], pa.float64()), "text_value": pa.array(cols[7], pa.string()),
    })
    return persons, events


@pytest.fixture(scope="module")
def table():
    persons, events = _records()
    con = duckdb.connect()
    con.register("persons", persons)
    con.register("events", events)
    out = person_table(con, END).set_index("subject_id")
    con.close()
    return out


def test_only_the_living_are_measured_with_their_age_on_the_end_date(table) -> None:
    assert list(table.index) == [1, 2, 3, 4]
    assert table.loc[1, "age"] == pytest.approx(66.0, abs=0.01)


@pytest.mark.parametrize(("measure", "expected"), [
    ("hypertension", {1: 1, 2: 1, 3: 0, 4: 0}),
    ("diabetes_diagnosed", {1: 1, 2: 0, 3: 0, 4: 0}),
    ("prediabetes", {1: 0, 2: 1, 3: 0, 4: 0}),
    ("depression_past_year", {1: 0, 2: 1, 3: 0, 4: 0}),
    ("asthma_current", {1: 0, 2: 0, 3: 0, 4: 1}),
    ("obesity", {1: 0, 2: 1, 3: 0, 4: 0}),
    ("smoking_current", {1: 0, 2: 0, 3: 0, 4: 1}),
    ("smoking_quit_ratio", {1: 1, 2: 0, 3: 0, 4: 0}),
    ("ed_visits", {1: 1, 2: 0, 3: 0, 4: 0}),
])
def test_each_measure_reads_what_its_definition_says(table, measure, expected) -> None:
    assert table[measure].to_dict() == expected


def test_measures_with_their_own_denominator(table) -> None:
    assert table["obesity:den"].to_dict() == {1: 0, 2: 1, 3: 1, 4: 0}  # a BMI on record
    assert table["smoking_quit_ratio:den"].to_dict() == {1: 1, 2: 0, 3: 0, 4: 1}  # ever smokers


def test_every_measure_has_a_label_a_group_and_codes_or_encounters() -> None:
    for name, spec in MEASURES.items():
        assert spec["label"] and spec["group"] in ("prevalence", "utilisation") and spec["describe"], name
        assert measure_codes(spec) or any("encounters" in c for c in spec["numerator"]), name


def test_wilson_and_poisson_intervals() -> None:
    lo, hi = wilson(0, 50)
    assert lo == 0.0 and 0.06 < hi < 0.08
    lo, hi = wilson(50, 50)
    assert hi == 1.0 and lo > 0.9
    assert poisson_interval(0) == (0.0, pytest.approx(3.689, abs=1e-3))
    lo, hi = poisson_interval(100)
    assert 81 < lo < 82 and 121 < hi < 122


@pytest.mark.parametrize(("value", "lo", "hi", "status"), [
    (0.11, 0.10, 0.12, "pass"),        # within 20% of 0.10
    (0.13, 0.08, 0.20, "within noise"),  # outside, but the interval meets [0.08, 0.12]
    (0.20, 0.15, 0.25, "fail"),         # the whole interval above 0.12
])
def test_status_compares_the_interval_with_the_tolerance_band(value, lo, hi, status) -> None:
    assert _status(value, lo, hi, 0.10, 0.20, 100) == status
    assert _status(float("nan"), 0, 0, 0.10, 0.20, 0) == "no data"


def test_the_rate_interval_covers_the_rate_when_a_few_persons_have_many_visits() -> None:
    # 600 persons a band; visits a year gamma-Poisson (most 2-6, a few in treatment with dozens),
    # as the visit rates of a run are: the exact Poisson interval of the total misses the true rate
    # far more often than 5%, the person-level interval about as often as it should
    rng = np.random.default_rng(0)
    true_rate, misses_poisson, misses_rate, reps = 5.0, 0, 0, 400
    for _ in range(reps):
        counts = rng.poisson(rng.gamma(shape=0.3, scale=true_rate / 0.3, size=600)).astype(float)
        years = np.ones_like(counts)
        lo, hi = (v / years.sum() for v in poisson_interval(counts.sum()))
        misses_poisson += not lo <= true_rate <= hi
        lo, hi = rate_interval(counts, years)
        misses_rate += not lo <= true_rate <= hi
    assert misses_poisson / reps > 0.3
    assert misses_rate / reps < 0.09
    # equal persons: the Poisson interval alone, which is then right
    assert rate_interval(np.full(50, 2.0), np.ones(50)) == tuple(v / 50 for v in poisson_interval(100))
