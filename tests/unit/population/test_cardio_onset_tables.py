"""The yearly onset tables of atrial fibrillation, heart failure and coronary heart disease.

Each module draws its first onset once a year from a table of options: an age band, a sex (where
the literature gives a sex difference) and a risk-factor score, tried in order. The calibration
scales base rates; these checks hold the shape it relies on: risk rises with age and with the
score, men are never below women, and every option is reached by someone.
"""

from __future__ import annotations

import json

import pytest

from hygeia.population.engine import load_modules
from hygeia.population.engine._loader import default_modules_dir

#: module -> (yearly state, onset state, score attribute, sex-specific)
TABLES = {
    "atrial_fibrillation": ("Yearly_AF_Risk", "AF_Begins", "af_risk_score", True),
    "heart_failure": ("Yearly_HF_Risk", "HF_Begins", "hf_risk_score", False),
    "coronary_heart_disease": ("Yearly_CHD_Risk", "CHD_Begins", "chd_risk_factors", True),
}


def _options(name: str) -> list[dict]:
    """(sex, age_hi, score_max, probability) for each option, in order; None where unconstrained."""
    state, onset, attr, _ = TABLES[name]
    doc = json.loads((default_modules_dir() / f"{name}.json").read_text())
    out = []
    for opt in doc["states"][state]["complex_transition"]:
        cond = opt.get("condition")
        parts = [] if cond is None else cond.get("conditions", [cond])
        row = {"sex": None, "age_hi": None, "score_max": None}
        for c in parts:
            if c["condition_type"] == "Gender":
                row["sex"] = c["gender"]
            elif c["condition_type"] == "Age":
                assert c["operator"] == "<" and c["unit"] == "years"
                row["age_hi"] = c["quantity"]
            else:
                assert c["condition_type"] == "Attribute" and c["attribute"] == attr and c["operator"] == "<="
                row["score_max"] = c["value"]
        dist = {d["transition"]: d["distribution"] for d in opt["distributions"]}
        assert sum(dist.values()) == pytest.approx(1.0)
        row["p"] = dist[onset]
        out.append(row)
    return out


def _grid(name: str) -> dict:
    """(sex, age band index, score index) -> probability, leaving out the unrecorded-sex fallback."""
    rows = [r for r in _options(name) if r["sex"] is not None or not TABLES[name][3]]
    ages = sorted({r["age_hi"] for r in rows if r["age_hi"] is not None}) + [None]
    scores = sorted({r["score_max"] for r in rows if r["score_max"] is not None}) + [None]
    grid = {}
    for r in rows:
        key = (r["sex"], ages.index(r["age_hi"]), scores.index(r["score_max"]))
        assert key not in grid, f"{name}: option {key} appears twice"
        grid[key] = r["p"]
    sexes = {r["sex"] for r in rows}
    assert len(grid) == len(sexes) * len(ages) * len(scores), f"{name}: the table is not a full grid"
    return grid


def test_the_modules_load_and_each_table_is_a_full_grid() -> None:
    load_modules([default_modules_dir()], strict=True)  # with the submodules they call
    for name in TABLES:
        assert _grid(name)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_onset_rises_with_age_and_with_the_risk_score(name: str) -> None:
    grid = _grid(name)
    for (sex, age, score), p in grid.items():
        if (sex, age + 1, score) in grid:
            assert grid[(sex, age + 1, score)] >= p, (name, sex, age, score)
        if (sex, age, score + 1) in grid:
            assert grid[(sex, age, score + 1)] > p, (name, sex, age, score)


@pytest.mark.parametrize("name", [n for n, t in TABLES.items() if t[3]])
def test_men_are_never_below_women(name: str) -> None:
    grid = _grid(name)
    for (sex, age, score), p in grid.items():
        if sex == "F":
            assert grid[("M", age, score)] >= p, (name, age, score)


def test_heart_failure_weighs_three_atrial_fibrillation_points() -> None:
    """Benjamin et al. 1994: odds ratio 4.5-5.9 for heart failure, about 1.5 per other factor (1.5**3 = 3.4)."""
    doc = json.loads((default_modules_dir() / "atrial_fibrillation.json").read_text())
    assert doc["states"]["AFRisk_Add_Heart_Failure_0"]["amount"] == 3
    grid = _grid("atrial_fibrillation")
    assert grid[("F", 2, 1)] / grid[("F", 2, 0)] == pytest.approx(1.5, rel=0.02)
