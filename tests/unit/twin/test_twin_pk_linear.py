"""The exact linear PK solver against closed forms and scipy's matrix exponential."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.linalg import expm

from hygeia.errors import ConfigError
from hygeia.twin._pk_linear import LinearPK, PKInput, expm_batch, pk_concentrations

T = np.linspace(0.0, 24.0, 97)


def test_one_compartment_bolus_and_infusion_match_closed_forms():
    v, k = np.array([20.0, 40.0]), np.array([0.1, 0.3])
    pk = LinearPK(v1=v, k10=k)
    bolus = pk_concentrations(pk, [PKInput(0.0, 500.0)], T)["plasma"]
    assert np.allclose(bolus, 500.0 / v[:, None] * np.exp(-k[:, None] * T), rtol=1e-10)
    inf = pk_concentrations(pk, [PKInput(2.0, 50.0, duration_h=3.0)], T)["plasma"]
    on = np.clip(T - 2.0, 0.0, 3.0)
    off = np.clip(T - 5.0, 0.0, None)
    expected = 50.0 / (k[:, None] * v[:, None]) * (1 - np.exp(-k[:, None] * on)) * np.exp(-k[:, None] * off)
    assert np.allclose(inf, expected, rtol=1e-10, atol=1e-12)


def test_oral_dose_follows_the_bateman_function():
    v, k, ka, f = 30.0, 0.2, 1.5, 0.8
    c = pk_concentrations(LinearPK(v1=v, k10=k, ka=ka, f=f), [PKInput(0.0, 400.0, oral=True)], T)["plasma"][0]
    bateman = f * 400.0 * ka / (v * (ka - k)) * (np.exp(-k * T) - np.exp(-ka * T))
    assert np.allclose(c, bateman, rtol=1e-9, atol=1e-12)


def test_two_compartment_bolus_is_biexponential():
    v1, cl, v2, q = 10.0, 5.0, 30.0, 8.0
    pk = LinearPK.from_clearances(v1=v1, cl=cl, v2=v2, q2=q)
    k10, k12, k21 = cl / v1, q / v1, q / v2
    s = k10 + k12 + k21
    alpha = (s + np.sqrt(s**2 - 4 * k10 * k21)) / 2
    beta = (s - np.sqrt(s**2 - 4 * k10 * k21)) / 2
    a = (alpha - k21) / (alpha - beta) / v1
    b = (k21 - beta) / (alpha - beta) / v1
    c = pk_concentrations(pk, [PKInput(0.0, 100.0)], T)
    assert np.allclose(c["plasma"][0], 100.0 * (a * np.exp(-alpha * T) + b * np.exp(-beta * T)), rtol=1e-9)
    # the AUC to infinity of a bolus is dose / CL
    long = np.array([0.0, 400.0])
    assert pk_concentrations(pk, [PKInput(0.0, 100.0)], long)["auc"][0, -1] == pytest.approx(100.0 / cl, rel=1e-8)


def test_effect_site_lags_plasma_and_equilibrates():
    pk = LinearPK(v1=5.0, k10=0.0, ke0=2.0)  # no elimination: Ce -> Cp = 20
    c = pk_concentrations(pk, [PKInput(0.0, 100.0)], np.array([0.0, 0.5, 20.0]))
    assert c["effect"][0, 0] == 0.0
    assert c["effect"][0, 1] == pytest.approx(20.0 * (1 - np.exp(-1.0)), rel=1e-10)
    assert c["effect"][0, 2] == pytest.approx(20.0, rel=1e-10)


def test_batched_expm_agrees_with_scipy_on_stiff_three_compartment_systems():
    pk = LinearPK.from_clearances(v1=[4.27, 15.0], cl=[110.0, 30.0], v2=[24.0, 30.0], q2=[80.0, 100.0],
                                  v3=[238.0, 200.0], q3=[50.0, 40.0], ke0=[27.0, 15.6], ka=[1.0, 0.0])
    a = pk.matrix()
    for dt in (1 / 3600, 0.25, 24.0, 500.0):
        got = expm_batch(a * dt)
        for i in range(2):
            want = expm(a[i] * dt)
            assert np.max(np.abs(got[i] - want)) <= 1e-12 * np.max(np.abs(want))


def test_bad_inputs_say_what_to_fix():
    with pytest.raises(ConfigError, match=re.escape("an oral dose needs an absorption rate constant ka > 0")):
        pk_concentrations(LinearPK(v1=1.0, k10=1.0), [PKInput(0.0, 1.0, oral=True)], T)
    with pytest.raises(ConfigError, match=re.escape("must be finite, rates >= 0 and v1 > 0")):
        LinearPK(v1=np.array([1.0, -2.0]), k10=0.1).matrix()
    with pytest.raises(ConfigError, match="sorted"):
        pk_concentrations(LinearPK(v1=1.0, k10=1.0), [], T[::-1])
