"""X-ray physics: digitally reconstructed radiographs (DRR) of a phantom with quantum noise.

Line integrals of the linear attenuation (at the CT effective energy, see
:mod:`hygeia.imaging._ct`) along the anterior-posterior axis (a frontal, PA or AP view:
parallel rays, no scatter) give the transmission ``I0 exp(-p)`` at each detector pixel;
the counts are Poisson draws, blurred by the detector's point spread (a Gaussian), and
the image shown is ``-ln(I / I0)``: bone bright, air dark, as radiographs are read.

The image is one slice ``(1, rows, cols)``: rows run from the patient's head to the feet
(or proximal to distal along a limb), columns from the patient's right to left (a PA
chest as it is hung for reading).

Example:
    >>> import numpy as np
    >>> from hygeia.imaging._phantoms import extremity_phantom
    >>> img = simulate_xray(extremity_phantom("wrist", size=32), photons=1e5, rng=np.random.default_rng(0))
    >>> img.shape
    (1, 32, 32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hygeia.errors import ConfigError
from hygeia.imaging._ct import MU_WATER_PER_MM, hu_to_mu

__all__ = ["line_integrals", "project_mask", "simulate_xray"]


def line_integrals(phantom: Any, *, mu_water: float = MU_WATER_PER_MM, hu: np.ndarray | None = None) -> np.ndarray:
    """``(rows, cols)`` line integrals of attenuation through the phantom along y, head (proximal) at the top."""
    mu = hu_to_mu(phantom.map("hu") if hu is None else hu, mu_water)
    return (mu.sum(axis=1) * phantom.spacing[1])[::-1]


def project_mask(mask: np.ndarray) -> np.ndarray:
    """The 2-D shadow ``(1, rows, cols)`` of a 3-D ``(z, y, x)`` mask on a frontal radiograph."""
    return mask.any(axis=1)[::-1][None]


def simulate_xray(phantom: Any, *, photons: float = 1e5, blur_px: float = 0.6, rng: np.random.Generator,
                  mu_water: float = MU_WATER_PER_MM) -> np.ndarray:
    """A frontal radiograph of ``phantom``: ``(1, rows, cols)`` float32 ``-ln(I / I0)``.

    Args:
        phantom: a :class:`~hygeia.imaging._phantoms.Phantom` (z, y, x).
        photons: photons per detector pixel before the patient (``I0``).
        blur_px: detector blur (Gaussian sigma in pixels; 0 for none).
        rng: generator of the quantum noise.
        mu_water: attenuation of water (1/mm).
    """
    if not np.isfinite(photons) or photons < 10:
        raise ConfigError(f"photons must be at least 10 per pixel; got {photons!r}. Pass e.g. photons=1e5.")
    from scipy import ndimage

    expected = photons * np.exp(-line_integrals(phantom, mu_water=mu_water))
    counts = np.maximum(rng.poisson(expected), 1).astype(np.float64)
    if blur_px > 0:
        counts = ndimage.gaussian_filter(counts, blur_px)
    return (-np.log(counts / photons))[None].astype(np.float32)
