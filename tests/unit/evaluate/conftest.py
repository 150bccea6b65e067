"""One small synthetic-cohort fixture shared by the evaluate unit tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_cohort(n: int, seed: int) -> pd.DataFrame:
    """A toy cohort: correlated vitals, a binary outcome, a date, an id."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 90, n).round()
    sex = rng.choice(["F", "M"], n)
    race = rng.choice(["white", "black", "asian", "other"], n, p=[0.6, 0.2, 0.1, 0.1])
    bmi = rng.normal(27, 4, n) + 0.05 * (age - 55)
    sbp = 100 + 0.6 * age + rng.normal(0, 8, n)
    logit = -6 + 0.06 * age + 0.08 * (bmi - 27) + 0.5 * (sex == "M")
    diabetes = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    admit = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365 * 3, n), unit="D")
    return pd.DataFrame(
        {
            "patient_id": np.arange(n) + seed * 1_000_000,
            "age": age,
            "sex": sex,
            "race": race,
            "bmi": bmi,
            "sbp": sbp,
            "admit_date": admit,
            "diabetes": diabetes,
        }
    )


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_cohort(1500, seed=1)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return make_cohort(1500, seed=2)


@pytest.fixture(scope="module")
def fresh() -> pd.DataFrame:
    """An independent draw from the same distribution: a 'perfect' generator."""
    return make_cohort(1500, seed=3)


@pytest.fixture(scope="module")
def make():
    """The cohort factory itself, for tests that need their own draw."""
    return make_cohort
