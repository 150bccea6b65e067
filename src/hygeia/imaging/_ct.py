"""CT physics: Hounsfield units -> attenuation -> projections -> Poisson noise -> filtered back projection.

Each axial slice of the phantom's HU map becomes linear attenuation at one effective
energy, ``mu = mu_water (1 + HU / 1000)``; a parallel-beam Radon transform
(:func:`skimage.transform.radon`) gives line integrals ``p`` (mm times 1/mm); each
detector reading is a Poisson draw of ``I0 exp(-p)`` photons (``I0``, the photons per
ray, is the dose knob: noise falls as ``1/sqrt(I0)``); the log ``-ln(I / I0)`` is
reconstructed by filtered back projection (:func:`skimage.transform.iradon`, ramp or
Shepp-Logan filter) and turned back into HU.

``mu_water`` at 70 keV, a typical effective energy of a 120 kVp beam, is 0.1929 cm^2/g
(interpolated between 0.2059 at 60 keV and 0.1837 at 80 keV in Hubbell JH, Seltzer SM,
NIST X-Ray Mass Attenuation Coefficients, NIST Standard Reference Database 126),
i.e. 0.01929 per mm for water of 1 g/cm^3.

Example:
    >>> import numpy as np
    >>> from hygeia.imaging._phantoms import water_phantom
    >>> hu = simulate_ct(water_phantom(size=32, slices=1), photons=1e6, rng=np.random.default_rng(0))
    >>> abs(float(hu[0, 12:20, 12:20].mean())) < 20
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hygeia.errors import ConfigError, MissingExtraError

__all__ = ["FILTERS", "MU_WATER_PER_MM", "hu_to_mu", "measured_contrast", "mu_to_hu", "noise_sigma", "reconstruct_slice",
           "simulate_ct"]

#: Linear attenuation of water at 70 keV, per mm (NIST XCOM / SRD 126: 0.1929 cm^2/g).
MU_WATER_PER_MM = 0.01929
#: Reconstruction filters filtered back projection offers.
FILTERS = ("ramp", "shepp-logan", "cosine", "hamming", "hann")


def hu_to_mu(hu: np.ndarray, mu_water: float = MU_WATER_PER_MM) -> np.ndarray:
    """Linear attenuation (1/mm) of CT numbers ``hu``; air (-1000 HU) and below attenuate nothing.

    Example:
        >>> hu_to_mu(np.array([-1000.0, 0.0, 1000.0])).round(5).tolist()
        [0.0, 0.01929, 0.03858]
    """
    return np.clip(mu_water * (1.0 + np.asarray(hu, np.float64) / 1000.0), 0.0, None)


def mu_to_hu(mu: np.ndarray, mu_water: float = MU_WATER_PER_MM) -> np.ndarray:
    """CT numbers of linear attenuations ``mu`` (1/mm).

    Example:
        >>> mu_to_hu(np.array([0.0, 0.01929])).tolist()
        [-1000.0, 0.0]
    """
    return 1000.0 * (np.asarray(mu, np.float64) / mu_water - 1.0)


def _skimage() -> Any:
    try:
        from skimage import transform
    except ImportError as e:
        raise MissingExtraError("scikit-image", "imaging", "CT rendering (Radon transform)") from e
    return transform


def _check(photons: float, angles: int, filter_name: str) -> None:
    if not np.isfinite(photons) or photons < 10:
        raise ConfigError(f"photons must be at least 10 photons per ray; got {photons!r}. Pass e.g. photons=1e5.")
    if isinstance(angles, bool) or not isinstance(angles, (int, np.integer)) or angles < 8:
        raise ConfigError(f"angles must be an integer of at least 8 projections; got {angles!r}. Pass e.g. angles=180.")
    if filter_name not in FILTERS:
        raise ConfigError(f"filter_name must be one of {', '.join(FILTERS)}; got {filter_name!r}")


def reconstruct_slice(hu: np.ndarray, pixel_mm: float, *, photons: float, rng: np.random.Generator,
                      angles: int = 180, filter_name: str = "ramp", mu_water: float = MU_WATER_PER_MM) -> np.ndarray:
    """Scan one square HU slice and reconstruct it: the CT image (HU) of that slice.

    Args:
        hu: ``(n, n)`` CT numbers; everything outside the inscribed circle must be air.
        pixel_mm: pixel size in mm.
        photons: photons per ray before the patient (``I0``).
        rng: generator of the Poisson noise.
        angles: projections over 180 degrees.
        filter_name: filtered back projection filter (see :data:`FILTERS`).
        mu_water: attenuation of water (1/mm) at the effective energy.

    Returns:
        ``(n, n)`` float32 reconstructed CT numbers.
    """
    transform = _skimage()
    n = hu.shape[0]
    if hu.ndim != 2 or hu.shape[1] != n:
        raise ConfigError(f"a CT slice must be square; got shape {hu.shape}")
    mu = hu_to_mu(hu, mu_water)
    yy, xx = np.mgrid[:n, :n] - (n // 2)
    mu[(yy**2 + xx**2) > (n // 2) ** 2] = 0.0  # the scanner sees nothing outside its circle
    theta = np.linspace(0.0, 180.0, angles, endpoint=False)
    line = transform.radon(mu, theta=theta, circle=True) * pixel_mm  # line integrals (unitless)
    counts = rng.poisson(photons * np.exp(-line))
    counts = np.maximum(counts, 1)  # a ray with no photon left reads as one (photon starvation)
    measured = -np.log(counts / photons) / pixel_mm
    mu_hat = transform.iradon(measured, theta=theta, filter_name=filter_name, circle=True, output_size=n)
    return mu_to_hu(mu_hat, mu_water).astype(np.float32)


def simulate_ct(phantom: Any, *, photons: float = 1e5, rng: np.random.Generator, angles: int = 180,
                filter_name: str = "ramp", mu_water: float = MU_WATER_PER_MM) -> np.ndarray:
    """CT of a phantom, slice by slice (parallel beam): ``(z, y, x)`` float32 HU.

    Args:
        phantom: a :class:`~hygeia.imaging._phantoms.Phantom` with square slices.
        photons: photons per ray (``I0``, the dose knob).
        rng: generator of the noise.
        angles: projections per slice over 180 degrees.
        filter_name: reconstruction filter.
        mu_water: attenuation of water (1/mm).
    """
    _check(photons, angles, filter_name)
    hu = phantom.map("hu")
    out = np.empty(hu.shape, np.float32)
    for k in range(hu.shape[0]):
        out[k] = reconstruct_slice(hu[k], phantom.spacing[2], photons=photons, rng=rng, angles=angles,
                                   filter_name=filter_name, mu_water=mu_water)
    return out


def _erode_in_plane(mask: np.ndarray, pixels: int) -> np.ndarray:
    from scipy import ndimage

    if pixels <= 0:
        return mask
    cross = np.zeros((1, 3, 3), bool)
    cross[0] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    return ndimage.binary_erosion(mask, cross, iterations=pixels)


def measured_contrast(image: np.ndarray, lesion: np.ndarray, background: np.ndarray, *,
                      erosion_px: int = 2) -> float:
    """Mean of ``image`` inside the lesion minus the mean of its background tissue, away from edges.

    Both masks are eroded in-plane by ``erosion_px`` pixels (reconstruction is slice by
    slice, so blur stays in the slice) and the background also loses the ring within
    ``erosion_px + 3`` pixels of the lesion, so that neither mean holds edge blur.

    Raises:
        ConfigError: nothing of a mask is left after erosion (use a larger lesion or less erosion).

    Example:
        >>> img = np.zeros((1, 20, 20)); les = np.zeros(img.shape, bool); les[0, 5:12, 5:12] = True
        >>> img[les] = 30.0
        >>> measured_contrast(img, les, ~les)
        30.0
    """
    from scipy import ndimage

    inner = _erode_in_plane(lesion, erosion_px)
    ring = np.zeros((1, 3, 3), bool)
    ring[0] = True
    near = ndimage.binary_dilation(lesion, ring, iterations=erosion_px + 3)
    back = _erode_in_plane(background & ~lesion, erosion_px) & ~near
    if not inner.any() or not back.any():
        raise ConfigError(f"nothing is left of the {'lesion' if not inner.any() else 'background'} after "
                          f"eroding {erosion_px} pixels; pass a larger lesion or erosion_px=1")
    return float(image[inner].mean() - image[back].mean())


def noise_sigma(first: np.ndarray, second: np.ndarray, region: np.ndarray) -> float:
    """Noise standard deviation in ``region`` from two scans of one object: ``std(first - second) / sqrt(2)``.

    The difference cancels the object and every deterministic artefact (streaks, edge
    ringing), leaving only the two independent noise draws.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(5, 2.0, 10_000), rng.normal(5, 2.0, 10_000)
        >>> round(noise_sigma(a, b, np.ones(10_000, bool)), 1)
        2.0
    """
    return float(np.std(first[region] - second[region]) / np.sqrt(2.0))
