"""Finding and adjusting a module's onset probabilities (hygeia.population._onset_fit)."""

from __future__ import annotations

import copy
import json

import pytest

from hygeia.population._measures import MEASURES, measure_codes
from hygeia.population._onset_fit import _factor, _set_probability, onset_parameters
from hygeia.population.engine._loader import default_modules_dir


def _module(name: str) -> dict:
    return json.loads((default_modules_dir() / f"{name}.json").read_text())


def _codes(measure: str) -> set:
    return measure_codes({"numerator": MEASURES[measure]["numerator"]})


def test_a_yearly_risk_loop_yields_one_probability_per_option_with_its_effective_ages() -> None:
    params = onset_parameters(_module("coronary_heart_disease"), _codes("coronary_heart_disease"))
    men = [p for p in params if p.state == "Yearly_CHD_Risk" and p.sex == "M"]
    assert len(men) == 15
    # options are tried in order: "age < 55" after the catch-all "age < 45" means 45-55
    assert [(p.age_lo, p.age_hi) for p in men[::3]] == [(0, 45), (45, 55), (55, 65), (65, 75), (75, None)]
    assert all(p.transition == "CHD_Begins" for p in men)


def test_draws_made_only_after_onset_are_not_onset_probabilities() -> None:
    params = onset_parameters(_module("asthma"), _codes("asthma_current"))
    assert {p.state for p in params} == {"Yearly_Asthma_Risk"}
    depression = onset_parameters(_module("depression"), _codes("depression_past_year"))
    assert "Care_Seeking" in {p.state for p in depression}  # diagnosed or not, before the diagnosis
    assert "Later_Recovery" not in {p.state for p in depression}


def test_setting_a_probability_keeps_its_distribution_summing_as_before() -> None:
    doc = _module("copd")
    params = onset_parameters(doc, _codes("copd"))
    p = params[0]
    dists = doc["states"][p.state]["complex_transition"][p.option]["distributions"]
    total = sum(d["distribution"] for d in dists)
    changed = copy.deepcopy(doc)
    _set_probability(changed, p, p.probability * 2, {p.entry})
    new = changed["states"][p.state]["complex_transition"][p.option]["distributions"]
    assert new[p.entry]["distribution"] == pytest.approx(2 * p.probability)
    assert sum(d["distribution"] for d in new) == pytest.approx(total)


def test_the_correction_is_a_damped_bounded_ratio_over_the_rows_in_range() -> None:
    p = onset_parameters(_module("copd"), _codes("copd"))[0]
    rows = [{"age_lo": 18.0, "age_hi": None, "sex": "*", "value": 0.06, "simulated": 0.015, "denominator": 100}]
    assert _factor(p, rows, 1.0) == pytest.approx(3.0)  # 4x asked, bounded to 3x in one step
    assert _factor(p, rows, 0.5) == pytest.approx(3.0 ** 0.5)
    rows[0]["simulated"] = 0.05
    assert _factor(p, rows, 1.0) == pytest.approx(1.2)
    rows[0]["age_hi"], rows[0]["age_lo"] = 5.0, 0.0
    assert _factor(p, [{**rows[0], "sex": "F"}], 1.0) == pytest.approx(1.2)  # p is for both sexes
