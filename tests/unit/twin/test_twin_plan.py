"""Plans: TOML reading, expansion of repeated doses, and checks that gather every problem."""

from __future__ import annotations

import math
import re

import pytest

from hygeia.errors import ConfigError
from hygeia.twin import Dose, Plan, check_plan, load_plan, plan_from_dict

DRUGS = {"propofol": ["mg", "mg/kg", "mg/kg/h"], "amlodipine": ["mg"]}


def test_repeated_dose_expands_in_time_order():
    dose = Dose("amlodipine", 5.0, "mg", at_h=8.0, every_h=24.0, times=3)
    assert [d.at_h for d in dose.expand()] == [8.0, 32.0, 56.0]
    assert dose.end_h == 56.0
    plan = Plan("p", doses=(Dose("propofol", 2.0, "mg/kg", at_h=1.0, route="iv_bolus"), dose))
    assert [(d.drug, d.at_h) for d in plan.administrations()][:2] == [("propofol", 1.0), ("amlodipine", 8.0)]


def test_load_plan_reads_toml(tmp_path):
    path = tmp_path / "induction.toml"
    path.write_text('backend = "pkpd"\nhorizon_h = 2\n[[dose]]\ndrug = "propofol"\namount = 2\nunit = "mg/kg"\n'
                    'route = "iv_bolus"\n[[dose]]\ndrug = "propofol"\namount = 6\nunit = "mg/kg/h"\n'
                    'route = "iv_infusion"\nduration_h = 1\n[targets]\npropofol_plasma = [2.0, 4.0]\n'
                    '[settings]\nmodel = "marsh"\n')
    plan = load_plan(path)
    assert plan.name == "induction" and plan.backend == "pkpd" and plan.horizon_h == 2.0
    assert plan.doses[1] == Dose("propofol", 6.0, "mg/kg/h", 0.0, "iv_infusion", 1.0)
    assert plan.targets == {"propofol_plasma": (2.0, 4.0)} and plan.settings == {"model": "marsh"}
    check_plan(plan, DRUGS, backend="pkpd")
    assert plan.to_dict()["doses"][0]["drug"] == "propofol"


def test_load_plan_errors_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("does not exist; pass the path of a .toml plan")):
        load_plan(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[dose]\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_plan(bad)
    bad.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_plan(bad)


def test_malformed_plan_gathers_every_problem():
    with pytest.raises(ConfigError) as err:
        plan_from_dict({"colour": "red", "dose": [{"amount": 1}, {"drug": "x", "amount": "lots"}, 3],
                        "targets": {"sbp": [140, 120]}})
    text = str(err.value)
    for expected in ("unknown key 'colour'", "needs at least 'drug' and 'amount'", "a number is not a number",
                     "expected a table", "expected [low, high] with low <= high"):
        assert expected in text


def test_check_plan_gathers_every_problem():
    plan = Plan("bad", backend="glucose", horizon_h=math.inf, doses=(
        Dose("propofol", -1.0, "mg/kg", route="iv_bolus"),
        Dose("heroin", 1.0),
        Dose("propofol", 5.0, "ug", route="iv_bolus"),
        Dose("propofol", 5.0, "mg/kg/h", route="iv_infusion"),
        Dose("propofol", 5.0, "mg/kg/h", at_h=0.0, route="iv_infusion", duration_h=2.0),
        Dose("propofol", 3.0, "mg/kg/h", at_h=1.0, route="iv_infusion", duration_h=2.0),
        Dose("amlodipine", 5.0, "mg", route="orally", every_h=24.0, times=0),
        Dose("propofol", 1.0, "mg/kg/h", at_h=10.0, route="iv_infusion", duration_h=3.0, every_h=2.0, times=2),
    ))
    with pytest.raises(ConfigError) as err:
        check_plan(plan, DRUGS, backend="pkpd")
    text = str(err.value)
    for expected in ("written for 'glucose', not 'pkpd'", "horizon_h: inf is not a duration",
                     "amount -1.0 is negative", "unknown drug 'heroin'; this simulator knows: amlodipine, propofol",
                     "unit 'ug' is not one of mg, mg/kg, mg/kg/h", "an infusion needs duration_h > 0",
                     "overlaps the infusion started at 0 h", "route 'orally' is not one of", "times 0 must be >= 1",
                     "so they overlap"):
        assert expected in text, expected
