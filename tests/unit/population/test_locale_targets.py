"""Calibration targets and module mortality as locale-pack data, validated on load."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from hygeia.errors import LocaleError
from hygeia.population._measures import MEASURES
from hygeia.population._mortality import _library_modules, _sha256
from hygeia.population.engine import load_modules
from hygeia.population.engine._loader import default_modules_dir
from hygeia.population.locale import LOCALES_DIR, load_locale


def test_every_us_target_is_cited_defined_and_measurable() -> None:
    pack = load_locale("us")
    assert len(pack.targets) >= 40
    for t in pack.targets:
        assert t["measure"] in MEASURES
        assert t["source"] and re.search(r"\(\d{4}\)\. https?://", t["source"]), t
        assert t["definition"] and 1900 <= t["year"] <= 2030
        if MEASURES[t["measure"]]["unit"] == "proportion":
            assert 0 < t["value"] < 1
    measures = {t["measure"] for t in pack.targets}
    for needed in ("hypertension", "diabetes_diagnosed", "prediabetes", "coronary_heart_disease", "copd",
                   "asthma_current", "depression_past_year", "atrial_fibrillation", "heart_failure", "ckd",
                   "obesity", "smoking_current", "smoking_quit_ratio", "ed_visits"):
        assert needed in measures
    af = {t["sex"]: t["value"] for t in pack.targets if t["measure"] == "atrial_fibrillation" and t["age_lo"] == 20
          and t["age_hi"] is None}
    assert af["M"] > af["F"]  # more common in men, as every study finds


def _pack_copy(tmp_path):
    dest = tmp_path / "xx"
    shutil.copytree(LOCALES_DIR / "us", dest)
    return dest


def test_bad_targets_are_all_reported_at_once(tmp_path) -> None:
    dest = _pack_copy(tmp_path)
    doc = json.loads((dest / "targets.json").read_text())
    doc["targets"][0]["measure"] = "gout"
    doc["targets"][1]["value"] = 1.7
    doc["targets"][2]["sex"] = "X"
    doc["targets"][3]["definition"] = ""
    doc["targets"][4]["ref"] = "nowhere"
    doc["targets"][5]["age_hi"] = 10
    (dest / "targets.json").write_text(json.dumps(doc))
    with pytest.raises(LocaleError) as err:
        load_locale(dest)
    text = str(err.value)
    for fragment in ("targets[0].measure", "unknown measure 'gout'", "targets[1].value", "targets[2].sex",
                     "targets[3].definition", "targets[4].ref", "targets[5]", "age_hi (10.0) must be above"):
        assert fragment in text, fragment


def test_a_pack_without_targets_or_module_mortality_still_loads(tmp_path) -> None:
    dest = _pack_copy(tmp_path)
    (dest / "targets.json").unlink()
    (dest / "module_mortality.json").unlink(missing_ok=True)
    pack = load_locale(dest)
    assert pack.targets == () and pack.module_mortality is None


def test_a_malformed_module_mortality_block_is_refused(tmp_path) -> None:
    dest = _pack_copy(tmp_path)
    doc = json.loads((dest / "module_mortality.json").read_text())
    doc["person_years"]["M"] = doc["person_years"]["M"][:-1]
    (dest / "module_mortality.json").write_text(json.dumps(doc))
    with pytest.raises(LocaleError, match=re.escape("person_years.M")):
        load_locale(dest)


def test_module_mortality_was_estimated_with_the_modules_as_they_are() -> None:
    """A module that can kill changed: re-estimate with `hygeia calibrate mortality --workers 4 --overwrite`."""
    table = load_locale("us").module_mortality
    assert table is not None
    library = _library_modules(load_modules([default_modules_dir()]))
    stale = sorted(k for k, v in table["modules"].items() if k in library and v["sha256"] != _sha256(library[k].path))
    killers = sorted(k for k, m in library.items() if any(type(s).__name__ == "Death" for s in m.states.values()))
    missing = sorted(set(killers) - set(table["modules"]))
    assert not stale and not missing, (
        f"locales/us/module_mortality.json is out of date (changed: {stale}, missing: {missing}); "
        "regenerate it with: hygeia calibrate mortality --workers 4 --overwrite"
    )
