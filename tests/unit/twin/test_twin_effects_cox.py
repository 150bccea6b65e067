"""The Cox model: ACTG 320 hazard ratio (Hammer et al. 1997), agreement with scikit-survival, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.errors import ConfigError, DataValidationError
from hygeia.twin import CoxPH


@pytest.fixture(scope="module")
def aids():
    from sksurv.datasets import load_aids

    X, y = load_aids(endpoint="aids")  # ACTG 320: AIDS-defining event or death; tx 1 = indinavir arm
    cov = pd.DataFrame({"tx": X["tx"].astype(float), "age": X["age"], "cd4": X["cd4"],
                        "karnof": X["karnof"].astype(float), "priorzdv": X["priorzdv"]})
    return cov, y["time"], y["censor"], y


def test_actg320_indinavir_hazard_ratio(aids):
    """Must show: HR of the indinavir arm within the published 0.50 (0.33-0.76)."""
    cov, time, event, _ = aids
    m = CoxPH().fit(cov[["tx"]], time, event)
    hr, (low, high) = m.hazard_ratios_[0], m.ci_[0]
    assert 0.33 <= hr <= 0.76
    assert hr == pytest.approx(0.50, abs=0.01) and low == pytest.approx(0.33, abs=0.01)
    assert high == pytest.approx(0.76, abs=0.01) and m.p_values_[0] < 0.01
    assert m.summary().loc["tx", "hazard_ratio"] == pytest.approx(hr)


def test_matches_scikit_survival_breslow(aids):
    from sksurv.linear_model import CoxPHSurvivalAnalysis

    cov, time, event, y = aids
    m = CoxPH().fit(cov, time, event)
    ref = CoxPHSurvivalAnalysis(ties="breslow").fit(cov.to_numpy(), y)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)
    times = np.array([30.0, 100.0, 250.0, 350.0])
    expected = np.array([f(times) for f in ref.predict_survival_function(cov.to_numpy()[:4])])
    np.testing.assert_allclose(m.predict_survival(cov.iloc[:4], times), expected, atol=1e-8)


def test_tied_times_match_scikit_survival():
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.util import Surv

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    time = np.ceil(rng.exponential(5 * np.exp(-0.7 * X[:, 0] + 0.3 * X[:, 1])))  # many ties
    event = rng.uniform(size=200) < 0.8
    m = CoxPH().fit(X, time, event)
    ref = CoxPHSurvivalAnalysis(ties="breslow").fit(X, Surv.from_arrays(event, time))
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)
    draws = m.sample_survival(X[:2], [1.0, 5.0, 10.0], 50, seed=1)
    assert draws.shape == (50, 2, 3) and np.all(np.diff(draws, axis=2) <= 0)


def test_errors():
    X = np.zeros((5, 1))
    with pytest.raises(DataValidationError, match="no events"):
        CoxPH().fit(X, np.arange(5.0), np.zeros(5, bool))
    with pytest.raises(DataValidationError, match="negative"):
        CoxPH().fit(X, -np.arange(5.0), np.ones(5, bool))
    with pytest.raises(ConfigError, match="singular"):
        CoxPH().fit(np.ones((5, 1)), np.arange(5.0), np.ones(5, bool))
    sep = np.array([[0.0], [0.0], [1.0], [1.0]])
    with pytest.raises(ConfigError, match="separate"):
        CoxPH().fit(sep, [1.0, 2.0, 3.0, 4.0], [True, True, False, False])
    with pytest.raises(ConfigError, match="not fitted"):
        CoxPH().predict_survival(X, [1.0])
