"""The lifecycle's per-name vital-sign readers give what its generic ``_vital`` gives."""

from __future__ import annotations

import datetime as dt
import random

from hygeia.population.lifecycle import Lifecycle, to_ms_date
from hygeia.population.locale import load_locale

NAMES = ("Height", "Weight", "BMI", "Systolic Blood Pressure", "Diastolic Blood Pressure", "Heart Rate",
         "Respiration Rate", "Glucose", "Creatinine", "Total Cholesterol", "HDL", "LDL", "Triglycerides", "EGFR",
         "Blood Glucose", "Sodium", "Head Circumference", "No Such Vital")


def test_readers_match_the_generic_computation():
    pack = load_locale("us")
    end = to_ms_date(dt.date(2026, 1, 1))
    life = Lifecycle(pack, end)
    rng = random.Random(5)
    for i in range(60):
        p = life.make_person(i + 1, rng.randrange(2**32))
        for _ in range(8):
            t = rng.randrange(p.birth, end)
            for name in NAMES:
                p.vitals_t, p.vitals_now = None, {}  # no cached panel: both compute afresh
                fast = life._vital_compute(name)(p, t)
                p.vitals_t, p.vitals_now = None, {}
                assert fast == life._vital(p, name, t), (name, i, t)


def test_person_vital_goes_through_the_readers():
    pack = load_locale("us")
    end = to_ms_date(dt.date(2026, 1, 1))
    life = Lifecycle(pack, end)
    p = life.make_person(1, 12345)
    t = end - 5 * 365 * 86_400_000
    assert p.vital_readers is life._readers
    bmi = p.vital("BMI", t)
    assert "BMI" in life._readers and bmi == life.vital(p, "BMI", t)
    p.vitals["Height"] = 150.0  # a value a state set wins over the lifecycle's
    assert p.vital("Height", t) == 150.0
