"""zCDP accounting of the DP table generator: conversions, mechanisms, composition."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hygeia.tabular._privacy_accounting import (
    ZCDPAccountant,
    delta_from_rho,
    epsilon_bun_steinke,
    epsilon_from_rho,
    exponential_epsilon,
    gaussian_rho,
    gaussian_sigma,
    rho_from_epsilon,
)


@pytest.mark.parametrize("epsilon", [0.01, 0.1, 1.0, 3.0, 10.0, 1e3, 1e6])
@pytest.mark.parametrize("delta", [1e-12, 1e-9, 1e-5])
def test_rho_epsilon_round_trip(epsilon: float, delta: float) -> None:
    rho = rho_from_epsilon(epsilon, delta)
    assert rho > 0
    assert delta_from_rho(rho, epsilon) <= delta * (1 + 1e-9), "the rho chosen must satisfy (epsilon, delta)"
    assert epsilon_from_rho(rho, delta) == pytest.approx(epsilon, rel=1e-9)
    # rho is the largest such: a bit more would break the guarantee
    assert delta_from_rho(rho * (1 + 1e-6), epsilon) > delta


def test_delta_matches_a_brute_force_minimum_over_renyi_orders() -> None:
    rho, epsilon = 0.05, 1.0
    alpha = np.linspace(1.0001, 400.0, 2_000_000)
    log_delta = (alpha - 1) * (alpha * rho - epsilon) + alpha * np.log1p(-1 / alpha) - np.log(alpha - 1)
    assert delta_from_rho(rho, epsilon) == pytest.approx(float(np.exp(log_delta.min())), rel=1e-6)


@pytest.mark.parametrize("rho", [1e-4, 0.01, 0.5, 5.0])
def test_conversion_is_tighter_than_the_classic_bound(rho: float) -> None:
    for delta in (1e-9, 1e-6):
        assert epsilon_from_rho(rho, delta) < epsilon_bun_steinke(rho, delta)
        assert epsilon_bun_steinke(rho, delta) == pytest.approx(rho + 2 * math.sqrt(rho * math.log(1 / delta)))


def test_delta_grows_with_rho_and_shrinks_with_epsilon() -> None:
    deltas = [delta_from_rho(r, 1.0) for r in (0.001, 0.01, 0.1, 1.0)]
    assert deltas == sorted(deltas) and deltas[0] < 1e-50 and deltas[-1] > 0.1
    assert delta_from_rho(0.1, 2.0) < delta_from_rho(0.1, 1.0)
    assert delta_from_rho(0.0, 1.0) == 0.0


def test_gaussian_mechanism_sigma_from_rho_and_sensitivity() -> None:
    assert gaussian_sigma(0.5, 1.0) == pytest.approx(1.0)
    assert gaussian_sigma(0.02, 1.0) == pytest.approx(1 / math.sqrt(0.04))
    assert gaussian_sigma(0.02, 3.0) == pytest.approx(3 / math.sqrt(0.04))
    for rho in (1e-5, 0.3, 7.0):
        assert gaussian_rho(gaussian_sigma(rho, 2.0), 2.0) == pytest.approx(rho)


def test_exponential_mechanism_is_eps_squared_over_8_zcdp() -> None:
    for rho in (1e-4, 0.125, 2.0):
        assert exponential_epsilon(rho) ** 2 / 8 == pytest.approx(rho)
    assert exponential_epsilon(0.125) == pytest.approx(1.0)


def test_accountant_composition_adds_rho() -> None:
    acct = ZCDPAccountant(1.0)
    a = acct.spend_gaussian(0.25, "one-way a", step="one_way")
    b = acct.spend_gaussian(0.25, "two-way a x b", sensitivity=1.0, step="two_way")
    c = acct.spend_exponential(0.5, "select", step="select")
    assert acct.spent == pytest.approx(1.0) and acct.remaining == pytest.approx(0.0)
    assert a["sigma"] == pytest.approx(gaussian_sigma(0.25)) and b["mechanism"] == "gaussian"
    assert c["epsilon"] == pytest.approx(2.0) and c["mechanism"] == "exponential"
    assert [e["label"] for e in acct.entries] == ["one-way a", "two-way a x b", "select"]


def test_accountant_refuses_to_overspend() -> None:
    acct = ZCDPAccountant(0.1)
    acct.spend_gaussian(0.06, "first")
    with pytest.raises(ValueError, match=r"privacy budget exceeded: 'second' needs rho=0\.05"):
        acct.spend_gaussian(0.05, "second")
    with pytest.raises(ValueError, match="positive"):
        acct.spend_gaussian(0.0, "free")
    assert len(acct.entries) == 1


def test_rho_from_epsilon_rejects_bad_input() -> None:
    for eps, delta in ((0.0, 1e-9), (-1.0, 1e-9), (math.inf, 1e-9), (1.0, 0.0), (1.0, 1.0)):
        with pytest.raises(ValueError):
            rho_from_epsilon(eps, delta)
