"""Average effects: NHEFS (Hernán & Robins) by standardization, IPW and AIPW; errors."""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.errors import ConfigError, DataValidationError
from hygeia.twin import average_effect


@pytest.fixture(scope="module")
def nhefs():
    from causallib.datasets import load_nhefs

    data = load_nhefs()  # 1566 persons with wt82 measured; qsmk; the book's confounders and their squares
    return data.X.astype(float), data.a, data.y


@pytest.mark.parametrize("method", ["standardization", "ipw", "aipw"])
def test_nhefs_quitting_smoking_adds_3_4_kg(nhefs, method):
    """Must show: the effect of quitting smoking on weight gain is 3.4 +- 0.3 kg (What If, ch. 12-13)."""
    X, a, y = nhefs
    r = average_effect(X, a, y, method=method, n_boot=20, seed=1)
    assert r.estimate == pytest.approx(3.4, abs=0.3)
    assert r.arms == (0, 1) and r.n == 1566 and r.n_boot == 20
    assert r.ci[0] < r.estimate < r.ci[1] and 2.0 < r.ci[0] and r.ci[1] < 5.0
    assert r.means[1] - r.means[0] == pytest.approx(r.estimate)


def test_nhefs_ipw_robust_interval_matches_the_book(nhefs):
    # What If, section 12.2: 3.4 kg (95% CI 2.4 to 4.5) from the robust (sandwich) variance
    X, a, y = nhefs
    r = average_effect(X, a, y, method="ipw", n_boot=0)
    assert r.estimate == pytest.approx(3.44, abs=0.01)
    assert r.ci[0] == pytest.approx(2.4, abs=0.05) and r.ci[1] == pytest.approx(4.5, abs=0.05)


def test_ipw_recovers_a_confounded_effect():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 1))
    t = (rng.uniform(size=4000) < 1 / (1 + np.exp(-1.5 * x[:, 0]))).astype(int)
    y = 3 * x[:, 0] + 1.0 * t + rng.normal(size=4000)
    naive = y[t == 1].mean() - y[t == 0].mean()
    r = average_effect(x, t, y, method="ipw", n_boot=0)
    assert naive > 3 and r.estimate == pytest.approx(1.0, abs=3 * r.se + 0.05)


def test_errors():
    x, t, y = np.zeros((10, 1)), np.arange(10) % 2, np.ones(10)
    with pytest.raises(ConfigError, match="method 'gformula' is not one of standardization, ipw, aipw"):
        average_effect(x, t, y, method="gformula")
    with pytest.raises(ConfigError, match="standardization needs n_boot >= 1"):
        average_effect(x, t, y, n_boot=0)
    with pytest.raises(DataValidationError, match="give two arms"):
        average_effect(x, np.zeros(10), y)
    with pytest.raises(ConfigError, match="control 5"):
        average_effect(x, t, y, control=5)
