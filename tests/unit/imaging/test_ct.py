"""CT physics: calibration (water 0 HU, air -1000 HU), noise ~ 1/sqrt(photons), lesion contrast kept."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("skimage")

from hygeia.errors import ConfigError
from hygeia.imaging._ct import (
    hu_to_mu,
    measured_contrast,
    mu_to_hu,
    noise_sigma,
    reconstruct_slice,
    simulate_ct,
)
from hygeia.imaging._lesions import insert_lesion
from hygeia.imaging._phantoms import chest_phantom, water_phantom


def _water_region(ph, radius_px: int) -> np.ndarray:
    n = ph.shape[1]
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    return np.broadcast_to((yy**2 + xx**2) <= radius_px**2, ph.shape)


def test_hu_mu_round_trip() -> None:
    hu = np.array([-1000.0, -850.0, 0.0, 40.0, 1000.0])
    assert np.allclose(mu_to_hu(hu_to_mu(hu)), hu)
    assert hu_to_mu(np.array([-1200.0]))[0] == 0.0  # nothing attenuates less than vacuum


def test_water_reads_zero_and_air_minus_1000() -> None:
    ph = water_phantom(size=64, slices=1, fov=300.0, radius=100.0)  # radius 21 pixels
    hu = simulate_ct(ph, photons=1e7, rng=np.random.default_rng(0))
    water = _water_region(ph, 16)
    assert abs(float(hu[water].mean())) < 3.0
    air = _water_region(ph, 29) & ~_water_region(ph, 25)  # inside the scan circle, outside the cylinder
    assert abs(float(hu[air].mean()) + 1000.0) < 5.0


def test_noise_scales_as_one_over_sqrt_photons() -> None:
    ph = water_phantom(size=64, slices=1)
    region = _water_region(ph, 18)
    sigma = {}
    for i, photons in enumerate((1e4, 1e5, 1e6)):
        a = simulate_ct(ph, photons=photons, rng=np.random.default_rng(10 + i))
        b = simulate_ct(ph, photons=photons, rng=np.random.default_rng(20 + i))
        sigma[photons] = noise_sigma(a, b, region)
    for photons, s in sigma.items():
        expected = sigma[1e4] * np.sqrt(1e4 / photons)
        assert abs(s / expected - 1.0) < 0.10, (photons, s, expected)


def test_nodule_contrast_within_10_hu_at_high_dose() -> None:
    ph = chest_phantom(size=128, slices=6, rng=np.random.default_rng(1))
    lung = ph.parts["lung_left"] | ph.parts["lung_right"]
    finding = insert_lesion(ph, "nodule", rng=np.random.default_rng(2), radius_mm=12)
    hu = simulate_ct(ph, photons=1e7, rng=np.random.default_rng(3))
    assert finding.contrast == pytest.approx(40.0 - (-850.0))
    assert abs(measured_contrast(hu, finding.mask, lung) - finding.contrast) <= 10.0


def test_same_rng_same_scan_and_errors() -> None:
    ph = water_phantom(size=32, slices=1)
    a = simulate_ct(ph, photons=1e4, rng=np.random.default_rng(4))
    b = simulate_ct(ph, photons=1e4, rng=np.random.default_rng(4))
    assert np.array_equal(a, b)
    with pytest.raises(ConfigError, match=re.escape("photons must be at least 10 photons per ray; got 1.0")):
        simulate_ct(ph, photons=1.0, rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="filter_name must be one of ramp"):
        simulate_ct(ph, filter_name="box", rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="a CT slice must be square"):
        reconstruct_slice(np.zeros((8, 10)), 1.0, photons=1e4, rng=np.random.default_rng(0))
