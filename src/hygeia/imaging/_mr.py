"""MR physics: tissue maps -> spin-echo or gradient-echo signal -> bias field -> k-space -> Rician noise.

The signal of each voxel follows the steady-state equations of the two basic sequences
(Haacke EM et al., Magnetic Resonance Imaging: Physical Principles and Sequence Design,
1999; Bernstein MA et al., Handbook of MRI Pulse Sequences, 2004):

- spin echo: ``S = PD (1 - exp(-TR/T1)) exp(-TE/T2)``;
- spoiled gradient echo with flip angle ``a``:
  ``S = PD sin(a) (1 - E1) / (1 - cos(a) E1) exp(-TE/T2*)``, ``E1 = exp(-TR/T1)``.

A smooth multiplicative bias field (receive-coil inhomogeneity) scales the signal; each
slice goes to k-space by an orthonormal 2-D FFT, where phase-encoding lines may be left
out (the centre lines always kept, outer lines drawn at random) and complex Gaussian
noise is added on the lines acquired; the zero-filled inverse FFT's magnitude is the
image, so its noise is Rician, as in a real magnitude image.

``snr`` is the mean noise-free foreground signal over the noise standard deviation of
one channel.

Example:
    >>> import numpy as np
    >>> round(float(spin_echo(np.array(1.0), np.array(1000.0), np.array(100.0), tr=1000, te=100)), 4)
    0.2325
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hygeia.errors import ConfigError

__all__ = ["SEQUENCES", "bias_field", "gradient_echo", "sampling_mask", "simulate_mr", "spin_echo"]

#: Pulse sequences: spin echo and spoiled gradient echo.
SEQUENCES = ("se", "gre")


def _decay(te: float, t: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return np.where(t > 0, np.exp(-te / np.where(t > 0, t, 1.0)), 0.0)


def _recovery(tr: float, t1: np.ndarray) -> np.ndarray:
    return np.where(t1 > 0, np.exp(-tr / np.where(t1 > 0, t1, 1.0)), 1.0)


def spin_echo(pd: np.ndarray, t1: np.ndarray, t2: np.ndarray, *, tr: float, te: float) -> np.ndarray:
    """Spin-echo signal ``PD (1 - exp(-TR/T1)) exp(-TE/T2)`` (times in ms; T = 0 means no signal).

    Example:
        >>> spin_echo(np.array([1.0, 0.0]), np.array([500.0, 0.0]), np.array([70.0, 0.0]), tr=500, te=15).round(3)
        array([0.51, 0.  ])
    """
    return np.asarray(pd) * (1.0 - _recovery(tr, np.asarray(t1))) * _decay(te, np.asarray(t2))


def gradient_echo(pd: np.ndarray, t1: np.ndarray, t2s: np.ndarray, *, tr: float, te: float,
                  flip_deg: float) -> np.ndarray:
    """Spoiled gradient-echo signal ``PD sin(a) (1 - E1) / (1 - cos(a) E1) exp(-TE/T2*)``.

    Example:
        >>> float(gradient_echo(np.array(1.0), np.array(1000.0), np.array(50.0), tr=20, te=5, flip_deg=90).round(4))
        0.0179
    """
    a = np.deg2rad(flip_deg)
    e1 = _recovery(tr, np.asarray(t1))
    return np.asarray(pd) * np.sin(a) * (1.0 - e1) / (1.0 - np.cos(a) * e1) * _decay(te, np.asarray(t2s))


def bias_field(shape: tuple[int, int, int], *, strength: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth multiplicative field around 1 (``1 +/- strength`` at most): a random quadratic in x, y, z.

    Example:
        >>> f = bias_field((2, 8, 8), strength=0.2, rng=np.random.default_rng(0))
        >>> bool(f.min() >= 0.8 and f.max() <= 1.2)
        True
    """
    if not 0 <= strength < 1:
        raise ConfigError(f"bias strength must be in [0, 1); got {strength!r}. Pass e.g. bias=0.2.")
    nz, ny, nx = shape
    z, y, x = np.meshgrid(np.linspace(-1, 1, nz), np.linspace(-1, 1, ny), np.linspace(-1, 1, nx), indexing="ij")
    terms = [x, y, 0.3 * z, x * y, x**2 - 0.5, y**2 - 0.5]
    f = sum(c * t for c, t in zip(rng.normal(size=len(terms)), terms, strict=True))
    peak = float(np.abs(f).max())
    return (1.0 + (strength * f / peak if peak > 0 else 0.0)).astype(np.float32)


def sampling_mask(n: int, *, acceleration: float, centre_fraction: float = 0.08,
                  rng: np.random.Generator) -> np.ndarray:
    """Which of ``n`` phase-encoding lines are acquired: the centre ones plus random outer ones, ``n / acceleration`` in all.

    Example:
        >>> m = sampling_mask(64, acceleration=4, rng=np.random.default_rng(0))
        >>> int(m.sum()), bool(m[30:34].all())
        (16, True)
    """
    if not np.isfinite(acceleration) or acceleration < 1:
        raise ConfigError(f"acceleration must be at least 1 (1 = fully sampled); got {acceleration!r}")
    mask = np.zeros(n, bool)
    keep = max(1, round(n / acceleration))
    n_centre = min(keep, max(1, round(n * centre_fraction)))
    start = n // 2 - n_centre // 2
    mask[start:start + n_centre] = True
    outer = np.flatnonzero(~mask)
    mask[rng.choice(outer, size=keep - n_centre, replace=False)] = True
    return mask


def simulate_mr(phantom: Any, *, sequence: str = "se", tr: float = 3000.0, te: float = 90.0, flip_deg: float = 30.0,
                snr: float = 30.0, bias: float = 0.2, acceleration: float = 1.0, rng: np.random.Generator,
                ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """MR magnitude image of a phantom.

    Args:
        phantom: a :class:`~hygeia.imaging._phantoms.Phantom`.
        sequence: ``'se'`` (spin echo) or ``'gre'`` (spoiled gradient echo).
        tr: repetition time in ms.
        te: echo time in ms.
        flip_deg: flip angle of the gradient echo in degrees.
        snr: mean foreground signal over noise standard deviation (per channel).
        bias: bias field strength (0 = none).
        acceleration: undersampling factor of the phase-encoding lines (1 = full).
        rng: generator of the bias field, the sampling pattern and the noise.

    Returns:
        ``(image, signal, info)``: the ``(z, y, x)`` float32 magnitude image, the noise-free
        signal (bias applied, fully sampled), and ``info``: the noise sigma, the lines
        acquired and the bias field.
    """
    if sequence not in SEQUENCES:
        raise ConfigError(f"sequence must be one of {', '.join(SEQUENCES)}; got {sequence!r}")
    if not (tr > 0 and te >= 0 and te < tr):
        raise ConfigError(f"need TR > TE >= 0 (ms); got tr={tr!r}, te={te!r}")
    if not snr > 0:
        raise ConfigError(f"snr must be positive; got {snr!r}. Pass e.g. snr=30.")
    if not (np.isfinite(acceleration) and acceleration >= 1):
        raise ConfigError(f"acceleration must be at least 1 (1 = fully sampled); got {acceleration!r}. "
                          "Pass e.g. acceleration=2.")
    pd, t1 = phantom.map("pd"), phantom.map("t1")
    if sequence == "se":
        signal = spin_echo(pd, t1, phantom.map("t2"), tr=tr, te=te)
    else:
        signal = gradient_echo(pd, t1, phantom.map("t2s"), tr=tr, te=te, flip_deg=flip_deg)
    field = bias_field(phantom.shape, strength=bias, rng=rng)
    signal = (signal * field).astype(np.float32)
    fg = signal[phantom.labels != 0]
    level = float(fg.mean()) if fg.size and fg.mean() > 0 else float(signal.max() or 1.0)
    sigma = level / snr
    ny = phantom.shape[1]
    lines = sampling_mask(ny, acceleration=acceleration, rng=rng) if acceleration > 1 else np.ones(ny, bool)
    k = np.fft.fftshift(np.fft.fft2(signal, norm="ortho"), axes=(1, 2))
    k = k + sigma * (rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape))
    k[:, ~lines, :] = 0.0
    image = np.abs(np.fft.ifft2(np.fft.ifftshift(k, axes=(1, 2)), norm="ortho")).astype(np.float32)
    return image, signal, {"noise_sigma": sigma, "lines_acquired": int(lines.sum()), "lines": ny, "bias_field": field}
