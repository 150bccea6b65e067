"""The whole audit: report shape, ranges, JSON, determinism, and input validation."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from hygeia.errors import DataValidationError
from hygeia.evaluate import evaluate_tables, infer_column_types


@pytest.fixture(scope="module")
def report(cohort, holdout, fresh):
    return evaluate_tables(
        cohort, fresh, holdout=holdout, target="diabetes", quasi_identifiers=["age", "sex"], sensitive=["race"], seed=7
    )


def test_report_shape_and_ranges(report):
    assert set(report) == {"fidelity", "utility", "privacy", "fairness", "caveats", "meta"}
    for section, key in [
        ("fidelity", "column_shapes"),
        ("fidelity", "column_pair_trends"),
        ("fidelity", "overall"),
        ("privacy", "exact_copy_rate"),
        ("privacy", "mia_auc"),
        ("privacy", "dcr_closer_to_train_share"),
    ]:
        assert 0.0 <= report[section][key] <= 1.0, (section, key)
    assert report["fidelity"]["overall"] > 0.85
    json.dumps(report, allow_nan=False)


def test_plot_data(report):
    f = report["fidelity"]
    age = f["marginals"]["age"]
    assert len(age["edges"]) == len(age["real"]) + 1 and sum(age["real"]) == pytest.approx(1.0)
    assert f["marginals"]["sex"]["categories"] == sorted(f["marginals"]["sex"]["categories"], key=f["marginals"]["sex"]["categories"].index)
    assert f["correlation"]["columns"] == ["age", "bmi", "sbp", "admit_date"]
    assert len(f["correlation"]["real"]) == 4
    assert report["privacy"]["dcr"]["synthetic_to_train"] and report["privacy"]["dcr"]["synthetic_to_holdout"]
    row = report["fairness"]["subgroups"][0]
    assert {"column", "group", "real_share", "synthetic_share", "real_rate", "synthetic_rate", "utility_gap"} <= set(row)


def test_deterministic(cohort, holdout, fresh, report):
    again = evaluate_tables(
        cohort, fresh, holdout=holdout, target="diabetes", quasi_identifiers=["age", "sex"], sensitive=["race"], seed=7
    )
    assert {k: v for k, v in again.items() if k != "meta"} == {k: v for k, v in report.items() if k != "meta"}


def test_column_types_detected_and_overridable(cohort):
    types = infer_column_types(cohort)
    assert types == {
        "patient_id": "id", "age": "numeric", "sex": "categorical", "race": "categorical",
        "bmi": "numeric", "sbp": "numeric", "admit_date": "datetime", "diabetes": "categorical",
    }
    assert infer_column_types(cohort, {"age": "categorical"})["age"] == "categorical"


def test_every_problem_is_named(cohort):
    synthetic = cohort.drop(columns=["bmi"]).assign(extra=1, age=["old"] * len(cohort))
    with pytest.raises(DataValidationError) as info:
        evaluate_tables(
            cohort, synthetic, target="outcome", quasi_identifiers=["zip"], column_types={"race": "numeric"}
        )
    message = str(info.value)
    assert "synthetic lacks column(s) of real: ['bmi']" in message
    assert "synthetic has column(s) not in real: ['extra']" in message
    assert "target 'outcome' is not a column of real" in message
    assert "quasi_identifiers names 'zip'" in message
    assert re.search(r"real column 'race' is declared numeric but holds 1500 value\(s\) that are not numbers", message)
    assert "synthetic column 'age' is declared numeric" in message
    assert "synthetic column 'race' is declared numeric" in message
    assert len(info.value.problems) == 7


def test_empty_tables_are_named(cohort):
    with pytest.raises(DataValidationError, match=re.escape("synthetic table is empty (0 rows, 8 columns)")):
        evaluate_tables(cohort, cohort.iloc[:0])
    with pytest.raises(DataValidationError, match="real table is empty"):
        evaluate_tables(pd.DataFrame(), cohort)


def test_time_without_event(cohort):
    with pytest.raises(DataValidationError, match="time_column and event_column must be given together"):
        evaluate_tables(cohort, cohort, time_column="age")


def test_without_holdout_nothing_is_scored_on_training_rows(cohort):
    report = evaluate_tables(cohort, cohort.copy(), target="diabetes", seed=7)
    u, p, f = report["utility"], report["privacy"], report["fairness"]
    assert u["status"] == "not measured" and "train_synthetic_test_real" not in u
    assert u["reason"].startswith("no holdout was given")
    assert p["mia_auc"] is None and p["dcr_closer_to_train_share"] is None
    assert set(p["not_measured"]) == {"mia_auc", "dcr_closer_to_train_share", "dcr_share_excess"}
    assert f["max_utility_gap"] is None and "utility_gap" in f["not_measured"]
    assert all(row["utility_gap"] is None for row in f["subgroups"])
    assert f["max_outcome_rate_error"] == pytest.approx(0.0)  # a model-free comparison is still made
    assert report["caveats"][0].startswith("No holdout was given: utility (TSTR/TRTR), membership inference")
    assert any("random guess as their control" in c for c in report["caveats"])


def test_with_holdout_the_caveats_do_not_claim_missing_measures(report):
    assert not any(c.startswith("No holdout") for c in report["caveats"])
    assert report["utility"]["status"] == "measured" and report["privacy"]["not_measured"] == {}
