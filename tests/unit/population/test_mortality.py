"""Module deaths taken out of the life table (hygeia.population._mortality.module_share)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from hygeia.population._mortality import BAND_YEARS, _sha256, module_share
from hygeia.population.engine import load_modules
from hygeia.population.engine._loader import default_modules_dir
from hygeia.population.locale import load_locale

AGES = 106


@pytest.fixture(scope="module")
def library():
    return load_modules([default_modules_dir()])


def _pack_with(table):
    return dataclasses.replace(load_locale("us"), module_mortality=table)


def test_the_share_is_module_deaths_over_life_table_deaths_in_the_same_person_years(library) -> None:
    py = {sex: [1000.0] * AGES for sex in ("M", "F")}
    deaths = {sex: [0] * AGES for sex in ("M", "F")}
    deaths["M"][72] = 30  # all in the 70-74 band
    table = {"ages": AGES, "person_years": py, "meta": {},
             "modules": {"copd": {"sha256": _sha256(default_modules_dir() / "copd.json"), "deaths": deaths}}}
    pack = _pack_with(table)
    share, info = module_share(pack, library)
    mu = [-math.log(1 - q) for q in pack.life_table_qx("M")[:100]]
    # pooled over the band and its neighbours: 65-79 for 70-74, 70-84 for 75-79...
    assert share["M"][70] == share["M"][74] == pytest.approx(30 / (1000 * sum(mu[65:80])))
    assert share["M"][77] == pytest.approx(30 / (1000 * sum(mu[70:85])))
    assert share["M"][66] == pytest.approx(30 / (1000 * sum(mu[60:75])))
    assert share["M"][64] == 0.0 and share["M"][85] == 0.0 and share["F"][72] == 0.0
    assert info["adjusted_modules"] == ["copd"] and info["stale_estimates"] == []
    assert "heart_failure" in info["unadjusted_modules"]  # it can kill, and the table does not cover it
    assert set(info["module_share_of_deaths"]["M"]) == {f"{lo}-{lo + BAND_YEARS - 1}" for lo in range(0, AGES, 5)}


def test_an_estimate_for_another_version_of_a_module_is_reported_stale(library) -> None:
    zero = {sex: [0] * AGES for sex in ("M", "F")}
    table = {"ages": AGES, "person_years": {s: [1.0] * AGES for s in ("M", "F")}, "meta": {},
             "modules": {"copd": {"sha256": "sha256:0", "deaths": zero}}}
    _, info = module_share(_pack_with(table), library)
    assert info["stale_estimates"] == ["copd"]


def test_user_modules_are_never_adjusted(library, tmp_path) -> None:
    import shutil

    shutil.copy(default_modules_dir() / "copd.json", tmp_path / "copd.json")
    share, info = module_share(load_locale("us"), load_modules([tmp_path]))
    assert share is None and info["adjusted_modules"] == [] and info["unadjusted_modules"] == ["copd"]


def test_without_a_table_module_deaths_add_to_the_life_table(library) -> None:
    share, info = module_share(_pack_with(None), library)
    assert share is None and "no module_mortality block" in info["note"]
