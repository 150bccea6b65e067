"""X-ray physics: line integrals, Poisson noise, bone brighter than soft tissue, the shadow of a mask."""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.errors import ConfigError
from hygeia.imaging._ct import MU_WATER_PER_MM
from hygeia.imaging._phantoms import chest_phantom, extremity_phantom, water_phantom
from hygeia.imaging._xray import line_integrals, project_mask, simulate_xray


def test_line_integral_through_a_water_cylinder() -> None:
    ph = water_phantom(size=128, slices=4, fov=250.0, radius=100.0)
    p = line_integrals(ph)
    assert p.shape == (4, 128)
    centre = float(p[:, 63:65].mean())  # the chord through the axis is the diameter
    assert centre == pytest.approx(2 * 100.0 * MU_WATER_PER_MM, rel=0.02)
    assert p[:, 0].max() == 0.0  # a ray through air only


def test_noise_is_poisson() -> None:
    ph = water_phantom(size=64, slices=64, radius=100.0)
    region = np.zeros((1, 64, 64), bool)
    region[0, :, 26:38] = True  # chords within 2% of the diameter
    stds = []
    for photons in (1e3, 1e5):
        a = simulate_xray(ph, photons=photons, blur_px=0.0, rng=np.random.default_rng(0))
        b = simulate_xray(ph, photons=photons, blur_px=0.0, rng=np.random.default_rng(1))
        stds.append(float(np.std(a[region] - b[region]) / np.sqrt(2)))
    # the log of Poisson counts: sigma ~ 1 / sqrt(I0 exp(-p))
    expected = 1.0 / np.sqrt(1e3 * np.exp(-2 * 100.0 * MU_WATER_PER_MM))
    assert stds[0] == pytest.approx(expected, rel=0.15)
    assert stds[0] / stds[1] == pytest.approx(10.0, rel=0.1)


def test_bone_and_lung_on_radiographs() -> None:
    wrist = extremity_phantom("wrist", size=64, rng=np.random.default_rng(0))
    img = simulate_xray(wrist, photons=1e6, rng=np.random.default_rng(0))[0]
    shadow = project_mask(wrist.parts["radius"])[0]
    soft = project_mask(wrist.parts["body"])[0] & ~project_mask(wrist.parts["bone"])[0]
    assert img[shadow].mean() > img[soft].mean()
    chest = chest_phantom(size=64, slices=64, thickness=400 / 64, z_centre=10.0, rng=np.random.default_rng(0))
    cxr = simulate_xray(chest, photons=1e6, rng=np.random.default_rng(0))[0]
    lungs = project_mask(chest.parts["lung_left"] | chest.parts["lung_right"])[0]
    spine_col = cxr[:, 30:34]
    assert cxr[lungs].mean() < spine_col.mean()  # lung fields darker than the mediastinum and spine
    assert cxr.shape == (64, 64)


def test_project_mask_puts_the_head_on_top() -> None:
    m = np.zeros((4, 3, 5), bool)
    m[3, 1, 2] = True  # top slice (largest z)
    s = project_mask(m)
    assert s.shape == (1, 4, 5) and s[0, 0, 2] and s.sum() == 1


def test_bad_photons() -> None:
    with pytest.raises(ConfigError, match="photons must be at least 10 per pixel; got 0"):
        simulate_xray(water_phantom(size=16), photons=0, rng=np.random.default_rng(0))
