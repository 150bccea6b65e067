"""Locale packs: the shipped US pack loads, reproduces its sources, and bad packs are refused."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.errors import ConfigError, LocaleError
from hygeia.population.locale import (
    LOCALES_DIR,
    REQUIRED_BLOCKS,
    VITAL_NAMES,
    LocalePack,
    available_locales,
    load_locale,
)

US_DIR = LOCALES_DIR / "us"

# Fryar et al. 2021 (NHANES 2015-2018), median height of adults aged 30-39, cm.
NHANES_MEDIAN_HEIGHT_30_39 = {"M": 176.4, "F": 162.6}


@pytest.fixture(scope="module")
def us() -> LocalePack:
    return load_locale("us")


def _doc(name: str) -> dict:
    return json.loads((US_DIR / name).read_text(encoding="utf-8"))


def test_us_pack_loads_with_every_block_cited(us: LocalePack) -> None:
    assert "us" in available_locales()
    assert us.name == "us"
    assert us.reference_date == "2022-07-01"
    assert set(us.sources) == set(REQUIRED_BLOCKS) - {"pack"} | {"targets", "module_mortality"}  # + optional blocks
    assert all(us.sources.values())
    assert load_locale("us") is us  # cached
    assert load_locale(US_DIR) is us  # same folder, same cache entry


def test_shares_sum_to_one() -> None:
    def close(values) -> bool:
        return math.isclose(sum(values), 1.0, abs_tol=1e-3)

    assert close(_doc("education.json")["shares"].values())
    assert close(b["share"] for b in _doc("income.json")["brackets"])
    for row in _doc("marital_status.json")["rows"]:
        assert close(row["shares"].values()), row
    for entry in _doc("language.json")["by_ethnicity"].values():
        assert close(entry["shares"].values())
    assert close(b["share"] for b in _doc("smoking.json")["initiation_age"])
    states = _doc("states.json")["counts"]
    assert len(states) == 51 and "District of Columbia" in states and "Massachusetts" in states
    assert sum(states.values()) == 331_449_281  # 2020 Census resident population
    race = _doc("race_ethnicity.json")["rows"]
    assert sum(r["hispanic"] + r["nonhispanic"] for r in race) == 331_449_281


def test_sampled_age_sex_matches_pyramid(us: LocalePack) -> None:
    bands = _doc("age_sex.json")["bands"]
    total = sum(b["male"] + b["female"] for b in bands)
    los = [b["age_lo"] for b in bands]
    rng = random.Random(2024)
    n = 20_000
    seen: Counter = Counter()
    for _ in range(n):
        age, sex = us.sample_age_sex(rng)
        assert 0.0 <= age < 102.0
        band = max(i for i, lo in enumerate(los) if age >= lo)
        seen[(band, sex)] += 1
    for i, b in enumerate(bands):
        for sex, key in (("M", "male"), ("F", "female")):
            expected = b[key] / total
            # 5 standard errors of a 20k-draw proportion is under 0.007 for every cell.
            assert abs(seen[(i, sex)] / n - expected) < 0.007, (b, sex)
    male = sum(v for (_, s), v in seen.items() if s == "M") / n
    assert abs(male - sum(b["male"] for b in bands) / total) < 0.015


def test_open_age_band_follows_life_table_tail(us: LocalePack) -> None:
    rng = random.Random(5)
    old = [a for a, _ in (us.sample_age_sex(rng) for _ in range(60_000)) if a >= 85]
    assert old and max(old) < 102.0
    assert sum(a < 90 for a in old) > sum(a >= 95 for a in old) * 3  # thins out with age


def test_life_expectancy_matches_published_table(us: LocalePack) -> None:
    published = _doc("life_table.json")["life_expectancy_at_birth"]
    assert published == {"M": 76.3, "F": 81.4}  # NVSR 70(19), United States, 2019
    for sex in ("M", "F"):
        assert abs(us.life_expectancy(sex) - published[sex]) < 1.0
    assert us.annual_death_probability(0, "M") > us.annual_death_probability(10, "M")
    assert us.annual_death_probability(40, "M") > us.annual_death_probability(40, "F")
    assert us.annual_death_probability(130, "F") == us.annual_death_probability(100, "F") == 1.0


def test_height_at_30_matches_nhanes_median(us: LocalePack) -> None:
    for sex, median in NHANES_MEDIAN_HEIGHT_30_39.items():
        assert abs(us.height_cm(30.0, sex, 0.0) - median) < 1.0
    assert us.height_cm(30.0, "M", 0.0) > us.height_cm(30.0, "F", 0.0)
    assert 3.0 < us.weight_kg(0.0, "M", 0.0) < 4.0  # CDC birth weight median 3.53 kg
    assert 49.0 < us.height_cm(0.0, "M", 0.0) < 51.0  # CDC birth length median about 50 cm


# Landmark medians of the CDC 2000 growth charts (Kuczmarski et al. 2002), as recalled
# in growth.csv: (age in years, sex) -> (height cm, weight kg).
CDC_2000_MEDIANS = {
    (0.0, "M"): (49.9, 3.5),
    (1.0, "M"): (75.7, 10.2),
    (2.0, "M"): (87.0, 12.7),
    (10.0, "M"): (138.4, 32.0),
    (20.0, "M"): (176.8, 70.6),
    (1.0, "F"): (74.1, 9.5),
    (20.0, "F"): (163.3, 57.7),
}


def test_child_growth_medians_are_the_cdc_2000_medians(us: LocalePack) -> None:
    for (age, sex), (height, weight) in CDC_2000_MEDIANS.items():
        assert math.isclose(us.height_cm(age, sex, 0.0), height, rel_tol=0.01), (age, sex)
        assert math.isclose(us.weight_kg(age, sex, 0.0), weight, rel_tol=0.01), (age, sex)
    notes = [src.get("note", "") for src in _doc("growth.json")["sources"].values()]
    assert sum("recalled from the CDC 2000 growth charts" in n for n in notes) == 2


def test_growth_reference_is_continuous_in_age(us: LocalePack) -> None:
    # Where tables meet (infant -> child at 2-3 years, child -> adult at 20-25 years)
    # the reference must not jump.
    for sex in ("M", "F"):
        for z in (-2.0, 0.0, 2.0):
            for joint in (2.0, 2.9583, 3.0, 20.0, 25.0):
                for f in (us.height_cm, us.weight_kg):
                    assert abs(f(joint + 1e-7, sex, z) - f(joint - 1e-7, sex, z)) < 1e-3, (f, sex, z, joint)
            prev_h, prev_w = us.height_cm(0.0, sex, z), us.weight_kg(0.0, sex, z)
            for step in range(1, 10_001):  # 0 .. 100 years in 0.01-year steps
                age = step / 100
                h, w = us.height_cm(age, sex, z), us.weight_kg(age, sex, z)
                assert abs(h - prev_h) < 1.0 and abs(w - prev_w) < 0.5, (sex, z, age)
                prev_h, prev_w = h, w


@settings(max_examples=200, deadline=None)
@given(age=st.floats(0.0, 110.0), z=st.floats(-3.0, 3.0), sex=st.sampled_from(["M", "F"]))
def test_growth_values_are_positive_and_increase_with_z(age: float, z: float, sex: str) -> None:
    pack = load_locale("us")
    h, w = pack.height_cm(age, sex, z), pack.weight_kg(age, sex, z)
    assert 30.0 < h < 230.0 and 1.0 < w < 300.0
    assert pack.height_cm(age, sex, z + 0.5) > h
    assert pack.weight_kg(age, sex, z + 0.5) > w


def _draw_everything(pack: LocalePack, seed: int) -> list:
    rng = random.Random(seed)
    out = []
    for _ in range(200):
        age, sex = pack.sample_age_sex(rng)
        race, eth = pack.sample_race_ethnicity(rng)
        out.append((
            age, sex, race, eth,
            pack.sample_state(rng),
            pack.sample_income(rng),
            pack.sample_education(rng),
            pack.sample_marital_status(rng, age, sex),
            pack.sample_first_language(rng, eth),
            pack.sample_names(rng, sex),
            pack.sample_smoking_initiation_age(rng),
        ))
    return out


def test_sampling_is_deterministic(us: LocalePack) -> None:
    assert _draw_everything(us, 42) == _draw_everything(us, 42)
    assert _draw_everything(us, 42) != _draw_everything(us, 43)


def test_sampled_values_use_the_expected_vocabularies(us: LocalePack) -> None:
    rows = _draw_everything(us, 7)
    assert {r[2] for r in rows} <= {"white", "black", "asian", "native", "hawaiian", "other"}
    assert {r[3] for r in rows} <= {"hispanic", "nonhispanic"}
    assert {r[6] for r in rows} <= {"less_than_hs", "hs_degree", "some_college", "bs_degree"}
    assert {r[7] for r in rows} <= {"S", "M", "D", "W"}
    assert {r[8] for r in rows} <= {"english", "spanish", "other"}
    assert all(isinstance(r[5], int) and r[5] >= 0 for r in rows)
    assert all(12.0 <= r[10] < 26.0 for r in rows)
    rng = random.Random(0)
    assert us.sample_marital_status(rng, 9.0, "F") == "S"
    incomes = sorted(us.sample_income(rng) for _ in range(20_000))
    assert 60_000 < incomes[10_000] < 90_000  # ACS 2022 median household income $74,755


def test_smoking_prevalence(us: LocalePack) -> None:
    assert us.smoking_probability(8.0, "M") == 0.0
    assert us.smoking_probability(50.0, "M") > us.smoking_probability(50.0, "F")
    assert us.smoking_probability(50.0, "M") > us.smoking_probability(20.0, "M")
    assert all(0.0 <= us.smoking_probability(a, s) < 0.3 for a in range(0, 100) for s in "MF")


def test_vital_references(us: LocalePack) -> None:
    for name in VITAL_NAMES:
        for sex in ("M", "F"):
            for age in (0.1, 5.0, 15.0, 45.0, 90.0):
                mean, sd = us.vital_reference(name, age, sex)
                assert mean > 0 and sd > 0, (name, sex, age)
    assert us.vital_reference("Heart Rate", 0.1, "F")[0] > us.vital_reference("Heart Rate", 40, "F")[0]
    sbp = "Systolic Blood Pressure"
    assert us.vital_reference(sbp, 70, "M")[0] > us.vital_reference(sbp, 25, "M")[0]
    with pytest.raises(ConfigError, match=re.escape("unknown vital 'Pulse'")):
        us.vital_reference("Pulse", 40, "M")
    with pytest.raises(ConfigError, match=re.escape("sex must be 'M' or 'F'; got 'X'")):
        us.height_cm(40, "X", 0.0)


def test_immunization_schedule(us: LocalePack) -> None:
    by_series = {v.series: v for v in us.immunizations}
    assert by_series["dtap"].code == "20" and by_series["dtap"].ages_months == (2.0, 4.0, 6.0, 15.0, 48.0)
    assert by_series["hepb"].ages_months[0] == 0.0
    flu = by_series["influenza"]
    assert flu.code == "140" and flu.every_months == 12 and flu.from_months == 6
    assert flu.doses_until(30) == (6.0, 18.0, 30.0)
    assert by_series["td"].every_months == 120
    assert all(v.code.isdigit() and v.display for v in us.immunizations)


def test_malformed_pack_lists_every_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(US_DIR, broken)
    (broken / "states.json").unlink()
    education = json.loads((broken / "education.json").read_text())
    education["shares"]["bs_degree"] = 0.2
    (broken / "education.json").write_text(json.dumps(education))

    missing = "broken/states.json: required block 'states' is missing: add the file states.json."
    bad_sum = "broken/education.json, field 'shares': shares sum to 0.8430, expected 1 (within 0.001)."
    with pytest.raises(LocaleError, match=re.escape(missing)) as info:
        load_locale(broken)
    assert bad_sum in str(info.value)
    assert info.value.problems == [bad_sum, missing] or info.value.problems == [missing, bad_sum]


def test_block_without_source_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "nosource"
    shutil.copytree(US_DIR, broken)
    doc = json.loads((broken / "education.json").read_text())
    del doc["source"]
    (broken / "education.json").write_text(json.dumps(doc))
    with pytest.raises(LocaleError, match=re.escape("nosource/education.json, field 'source': no 'source'")):
        load_locale(str(broken))


def test_unknown_locale_names_the_available_ones() -> None:
    with pytest.raises(LocaleError, match=re.escape("no such locale; available locales: us.")):
        load_locale("atlantis")
