"""MR physics: signal equations, tissue contrast by weighting, k-space undersampling, Rician noise at a set SNR."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hygeia.errors import ConfigError
from hygeia.imaging._mr import (
    bias_field,
    gradient_echo,
    sampling_mask,
    simulate_mr,
    spin_echo,
)
from hygeia.imaging._phantoms import label, water_phantom


def test_signal_equations() -> None:
    pd, t1, t2 = np.array(0.8), np.array(900.0), np.array(80.0)
    # long TR, zero TE: the proton density itself
    assert spin_echo(pd, t1, t2, tr=1e9, te=0.0) == pytest.approx(0.8)
    assert spin_echo(pd, t1, t2, tr=900.0, te=80.0) == pytest.approx(0.8 * (1 - np.exp(-1)) * np.exp(-1))
    # the Ernst angle maximises the spoiled gradient echo
    tr = 20.0
    ernst = np.rad2deg(np.arccos(np.exp(-tr / 900.0)))
    s = [float(gradient_echo(pd, t1, t2, tr=tr, te=0.0, flip_deg=a)) for a in (ernst - 3, ernst, ernst + 3)]
    assert s[1] > s[0] and s[1] > s[2]
    assert float(spin_echo(np.array(0.0), np.array(0.0), np.array(0.0), tr=500, te=10)) == 0.0


@pytest.fixture(scope="module")
def head():
    pytest.importorskip("nilearn")
    from hygeia.imaging._phantoms import head_phantom

    return head_phantom(size=64, slices=3, rng=np.random.default_rng(0))


def test_weighting_orders_tissues(head) -> None:
    def mean(img: np.ndarray, tissue: str) -> float:
        return float(img[head.labels == label(tissue)].mean())

    t1w, _, _ = simulate_mr(head, tr=500, te=15, snr=1e6, bias=0.0, rng=np.random.default_rng(0))
    t2w, _, _ = simulate_mr(head, tr=4000, te=100, snr=1e6, bias=0.0, rng=np.random.default_rng(0))
    assert mean(t1w, "white_matter") > mean(t1w, "grey_matter") > mean(t1w, "csf")
    assert mean(t2w, "csf") > mean(t2w, "grey_matter") > mean(t2w, "white_matter")


def test_rician_noise_at_set_snr() -> None:
    ph = water_phantom(size=64, slices=4, radius=70.0)
    img, signal, info = simulate_mr(ph, tr=3000, te=90, snr=20.0, bias=0.0, rng=np.random.default_rng(1))
    water = ph.labels == label("water")
    sigma = info["noise_sigma"]
    assert sigma == pytest.approx(float(signal[water].mean()) / 20.0)
    # magnitude of complex Gaussian noise: Rayleigh in the background (mean sigma sqrt(pi/2)), ~Gaussian in water
    corner = np.zeros(ph.shape, bool)
    corner[:, :8, :8] = True
    assert float(img[corner].mean()) == pytest.approx(sigma * np.sqrt(np.pi / 2), rel=0.15)
    assert float(img[water].std()) == pytest.approx(sigma, rel=0.15)
    assert float(img[water].mean()) == pytest.approx(float(signal[water].mean()), rel=0.02)


def test_undersampling_keeps_centre_and_aliases() -> None:
    m = sampling_mask(128, acceleration=4, rng=np.random.default_rng(0))
    assert m.sum() == 32 and m[59:69].all()
    ph = water_phantom(size=64, slices=1, radius=70.0)
    full, signal, _ = simulate_mr(ph, snr=1e6, bias=0.0, rng=np.random.default_rng(2))
    fast, _, info = simulate_mr(ph, snr=1e6, bias=0.0, acceleration=3, rng=np.random.default_rng(2))
    assert info["lines_acquired"] == round(64 / 3)
    assert np.abs(fast - signal).mean() > 5 * np.abs(full - signal).mean()


def test_bias_field_and_errors() -> None:
    f = bias_field((4, 16, 16), strength=0.3, rng=np.random.default_rng(0))
    assert f.min() >= 0.7 - 1e-6 and f.max() <= 1.3 + 1e-6 and f.std() > 0.01
    ph = water_phantom(size=16)
    with pytest.raises(ConfigError, match=re.escape("need TR > TE >= 0 (ms); got tr=50, te=60")):
        simulate_mr(ph, tr=50, te=60, rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="sequence must be one of se, gre; got 'fse'"):
        simulate_mr(ph, sequence="fse", rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="acceleration must be at least 1"):
        sampling_mask(16, acceleration=0.5, rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match=re.escape("acceleration must be at least 1 (1 = fully sampled); got 0.5")):
        simulate_mr(ph, acceleration=0.5, rng=np.random.default_rng(0))
