"""How good, how varied, how private and how useful synthetic images are, offline.

Every metric compares synthetic images with REAL HELD-OUT images, in the features of an
:class:`~hygeia.imaging.ImageEncoder` trained on the real TRAINING images only; training
images are looked at by nothing but the memorization check, which needs them.

- **FID** (Heusel et al. 2017): Fréchet distance between Gaussians fitted to the real and
  synthetic features; lower is better, 0 for identical distributions.
- **KID** (Bińkowski et al. 2018): unbiased squared MMD with the cubic polynomial kernel,
  mean over random subsets; lower is better, about 0 for identical distributions.
- **Precision, recall, density, coverage** (Naeem et al. 2020, k nearest neighbours):
  precision, the share of synthetic images inside the real manifold (fidelity); recall, the
  share of real images inside the synthetic one (diversity); density, how many real
  neighbourhoods hold each synthetic image on average (1 for matching distributions);
  coverage, the share of real images with a synthetic image in their neighbourhood.
- **SSIM / MS-SSIM diversity**: mean structural similarity of random pairs of images of one
  set; compared with the same figure on real images (higher than real: less varied).
- **Memorization**: each synthetic image's pixel distance to its nearest training image
  against the same distance of held-out real images; copies sit much closer.
- **TSTR / TRTR**: a lesion classifier trained on synthetic (TSTR) or real training (TRTR)
  images, scored (ROC AUC) on the held-out real images.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hygeia.errors import ConfigError
from hygeia.imaging._baselines import check_images, derive_seed

__all__ = [
    "METRIC_MEANINGS",
    "evaluate_images",
    "frechet_distance",
    "kernel_distance",
    "memorization",
    "ms_ssim",
    "precision_recall_density_coverage",
    "ssim_diversity",
]

#: One sentence per metric: what it measures and which way is good.
METRIC_MEANINGS: dict[str, str] = {
    "fid": "Frechet distance between real and synthetic features; lower is better, 0 means the same distribution.",
    "kid": "Kernel distance (unbiased MMD^2) between real and synthetic features; lower is better, near 0 is "
           "indistinguishable.",
    "precision": "Share of synthetic images that fall among real ones (fidelity); higher is better, up to 1.",
    "recall": "Share of real images that the synthetic ones reach (variety); higher is better, up to 1.",
    "density": "How crowded real neighbourhoods are with synthetic images; about 1 for matching distributions, "
               "below 1 means off-manifold samples.",
    "coverage": "Share of real images with a synthetic image nearby; higher is better, up to 1.",
    "ssim_diversity": "Mean SSIM between random pairs of synthetic images; lower means more varied, and it should "
                      "be close to the real images' figure.",
    "ms_ssim_diversity": "Mean multi-scale SSIM between random pairs of synthetic images; close to the real "
                         "figure is good, much higher means mode collapse.",
    "memorization": "Median distance of synthetic images to their nearest training image over that of held-out "
                    "real images; 1 or more is good, well below 1 means training images are copied.",
    "tstr_auc": "Lesion classifier trained on synthetic, tested on held-out real images (ROC AUC); close to the "
                "train-on-real AUC means the synthetic images are as useful.",
    "trtr_auc": "The same classifier trained on real training images (the reference for TSTR).",
}


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``(n, d)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(0, 1, (500, 4)), rng.normal(0, 1, (500, 4))
        >>> frechet_distance(a, b) < 0.1 < frechet_distance(a, b + 1)
        True
    """
    from scipy import linalg

    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.atleast_2d(np.cov(real, rowvar=False)), np.atleast_2d(np.cov(fake, rowvar=False))
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.all(np.isfinite(covmean)):
        eps = 1e-6 * np.eye(len(s1))
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(max(0.0, np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)))


def kernel_distance(real: np.ndarray, fake: np.ndarray, *, subsets: int = 50, subset_size: int = 100,
                    seed: int = 0) -> tuple[float, float]:
    """KID: unbiased MMD² with the kernel ``(x·y / d + 1)³``, mean and standard deviation over subsets.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(0, 1, (300, 4)), rng.normal(0, 1, (300, 4))
        >>> abs(kernel_distance(a, b)[0]) < 0.05 < kernel_distance(a, b + 1)[0]
        True
    """
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise ConfigError(f"KID needs at least 2 real and 2 synthetic images; got {len(real)} and {len(fake)}")
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        vals.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                    - 2 * kxy.mean())
    return float(np.mean(vals)), float(np.std(vals))


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(d, 0.0))


def precision_recall_density_coverage(real: np.ndarray, fake: np.ndarray, *, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of Naeem et al. (2020) with ``k`` nearest neighbours.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(0, 1, (300, 2)), rng.normal(0, 1, (300, 2))
        >>> m = precision_recall_density_coverage(a, b)
        >>> m["precision"] > 0.8 and m["coverage"] > 0.8
        True
    """
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if len(real) <= k or len(fake) <= k:
        raise ConfigError(f"precision/recall with k={k} needs more than {k} real and synthetic images; got "
                          f"{len(real)} and {len(fake)}")
    rr, ff, rf = _pairwise(real, real), _pairwise(fake, fake), _pairwise(real, fake)
    r_rad = np.sort(rr, axis=1)[:, k]  # column 0 is the point itself
    f_rad = np.sort(ff, axis=1)[:, k]
    inside = rf <= r_rad[:, None]  # (real i, fake j): fake j in real i's ball
    return {
        "precision": float(inside.any(axis=0).mean()),
        "recall": float((rf <= f_rad[None, :]).any(axis=1).mean()),
        "density": float(inside.sum() / (k * len(fake))),
        "coverage": float((rf.min(axis=1) <= r_rad).mean()),
    }


_MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _ssim_parts(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> tuple[float, float]:
    """Mean luminance term and mean contrast-structure term of SSIM (Gaussian window, sigma 1.5)."""
    from scipy.ndimage import gaussian_filter

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    f = lambda z: gaussian_filter(z, 1.5, truncate=3.5)
    mu_a, mu_b = f(a), f(b)
    va, vb, cov = f(a * a) - mu_a ** 2, f(b * b) - mu_b ** 2, f(a * b) - mu_a * mu_b
    lum = (2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1)
    cs = (2 * cov + c2) / (va + vb + c2)
    return float(lum.mean()), float(cs.mean())


def ms_ssim(a: np.ndarray, b: np.ndarray, *, data_range: float = 1.0) -> float:
    """Multi-scale SSIM (Wang et al. 2003) of two 2-D images, with as many of the five scales as fit.

    Scales stop when a side would drop below 8 pixels (three at 32 px); the standard
    weights of the scales used are renormalised to sum to 1.

    Example:
        >>> x = np.random.default_rng(0).random((32, 32))
        >>> round(ms_ssim(x, x), 6)
        1.0
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scales = 1
    while scales < 5 and min(a.shape) // (2 ** scales) >= 8:
        scales += 1
    w = np.asarray(_MS_WEIGHTS[:scales])
    w = w / w.sum()
    out = 1.0
    for s in range(scales):
        lum, cs = _ssim_parts(a, b, data_range)
        out *= max(cs, 1e-6) ** w[s] if s < scales - 1 else max(lum * cs, 1e-6) ** w[s]
        a = a[: a.shape[0] // 2 * 2, : a.shape[1] // 2 * 2].reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).mean((1, 3))
        b = b[: b.shape[0] // 2 * 2, : b.shape[1] // 2 * 2].reshape(b.shape[0] // 2, 2, b.shape[1] // 2, 2).mean((1, 3))
    return float(out)


def ssim_diversity(images: np.ndarray, *, pairs: int = 200, seed: int = 0) -> dict[str, float]:
    """Mean SSIM and MS-SSIM over random pairs of distinct images (``[0, 1]`` scaled); lower = more varied.

    Example:
        >>> x = np.random.default_rng(0).random((10, 32, 32))
        >>> d = ssim_diversity(x, pairs=20); d["ssim"] < 0.1
        True
    """
    from skimage.metrics import structural_similarity

    x = np.asarray(images, np.float64)
    if len(x) < 2:
        raise ConfigError(f"diversity needs at least 2 images; got {len(x)}")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(x), pairs)
    j = (i + rng.integers(1, len(x), pairs)) % len(x)
    ss = [structural_similarity(x[a], x[b], data_range=1.0, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False) for a, b in zip(i, j)]
    ms = [ms_ssim(x[a], x[b]) for a, b in zip(i, j)]
    return {"ssim": float(np.mean(ss)), "ms_ssim": float(np.mean(ms))}


def memorization(synthetic: np.ndarray, train: np.ndarray, heldout: np.ndarray) -> dict[str, float]:
    """Nearest-training-image pixel distances (RMS per pixel) of synthetic and of held-out real images.

    Returns:
        ``synthetic_median``, ``heldout_median``, ``ratio`` (synthetic over held-out: 1 or
        more is good), the 5th percentiles, and ``share_closer_than_heldout_p5``: the share of
        synthetic images nearer a training image than 95% of held-out real ones are.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> train, held = rng.random((50, 8, 8)), rng.random((20, 8, 8))
        >>> memorization(train[:10], train, held)["ratio"]
        0.0
    """
    def nn(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, np.float64).reshape(len(a), -1)
        t = np.asarray(train, np.float64).reshape(len(train), -1)
        return _pairwise(a, t).min(axis=1) / np.sqrt(a.shape[1])

    syn, held = nn(synthetic), nn(heldout)
    p5 = float(np.percentile(held, 5))
    return {
        "synthetic_median": float(np.median(syn)),
        "heldout_median": float(np.median(held)),
        "ratio": float(np.median(syn) / np.median(held)) if np.median(held) > 0 else float("inf"),
        "synthetic_p5": float(np.percentile(syn, 5)),
        "heldout_p5": p5,
        "share_closer_than_heldout_p5": float(np.mean(syn < p5)),
    }


def evaluate_images(real: Any, real_labels: Any, synthetic: Any, synthetic_labels: Any = None, *,
                    train: Any = None, train_labels: Any = None, seed: int = 0, encoder_epochs: int = 30,
                    classifier_steps: int = 400, encoder: Any = None) -> dict[str, Any]:
    """Every metric of synthetic images against real held-out ones (see the module documentation).

    Args:
        real: held-out real images ``(n, y, x)`` (never used to train anything).
        real_labels: their finding labels.
        synthetic: synthetic images of the same size.
        synthetic_labels: their labels (needed for TSTR; None skips it).
        train: the real images the generator learned from: the encoder and the TRTR classifier
            learn from them and the memorization check measures against them. None: ``real``
            is split in halves, the first playing the training set (memorization is then skipped).
        train_labels: their labels.
        seed: seed of the encoder, the classifiers and the random subsets.
        encoder_epochs: training passes of the encoder.
        classifier_steps: training steps of the lesion classifiers.
        encoder: an :class:`~hygeia.imaging.ImageEncoder` already fitted on the same training
            images (to score several generators against one encoder); None trains one.

    Returns:
        ``{"metrics": {name: value}, "meanings": {name: sentence}, "sizes": {...}, "notes": [...]}``.
    """
    from hygeia.imaging._encoder import ImageEncoder, _scale, lesion_classifier_auc

    real_x, real_y = check_images(real, real_labels)
    syn_x, syn_y = check_images(synthetic, synthetic_labels)
    notes = []
    if train is None:
        order = np.random.default_rng(derive_seed(seed, 40)).permutation(len(real_x))
        half = len(order) // 2
        train_x, train_y = real_x[order[:half]], real_y[order[:half]]
        real_x, real_y = real_x[order[half:]], real_y[order[half:]]
        notes.append(f"no training images given: {half} of the real images trained the encoder and the TRTR "
                     f"classifier, the other {len(real_x)} were the held-out set; memorization was not measured")
        mem_train = None
    else:
        train_x, train_y = check_images(train, train_labels)
        mem_train = train_x
    shapes = {tuple(a.shape[1:]) for a in (real_x, syn_x, train_x)}
    if len(shapes) > 1:
        raise ConfigError(f"real, synthetic and training images must have one size; got {sorted(shapes)}; "
                          "resize them to one size (e.g. 32x32)")
    if encoder is None:
        encoder = ImageEncoder(epochs=encoder_epochs, seed=derive_seed(seed, 41)).fit(train_x, train_y)
    window = encoder.window_
    f_real, f_syn = encoder.transform(real_x), encoder.transform(syn_x)
    metrics: dict[str, Any] = {"fid": frechet_distance(f_real, f_syn)}
    kid, kid_std = kernel_distance(f_real, f_syn, seed=derive_seed(seed, 42))
    metrics["kid"], metrics["kid_std"] = kid, kid_std
    k = 5 if min(len(f_real), len(f_syn)) > 5 else max(1, min(len(f_real), len(f_syn)) - 1)
    metrics.update(precision_recall_density_coverage(f_real, f_syn, k=k))
    div_syn = ssim_diversity(_scale(syn_x, window)[:, 0], seed=derive_seed(seed, 43))
    div_real = ssim_diversity(_scale(real_x, window)[:, 0], seed=derive_seed(seed, 43))
    metrics["ssim_diversity"], metrics["ms_ssim_diversity"] = div_syn["ssim"], div_syn["ms_ssim"]
    metrics["ssim_diversity_real"], metrics["ms_ssim_diversity_real"] = div_real["ssim"], div_real["ms_ssim"]
    if mem_train is not None:
        mem = memorization(_scale(syn_x, window)[:, 0], _scale(mem_train, window)[:, 0],
                           _scale(real_x, window)[:, 0])
        metrics["memorization"] = mem["ratio"]
        metrics["memorization_detail"] = mem
    if synthetic_labels is not None and len(set(real_y)) > 1:
        if not set(real_y) <= set(syn_y):
            notes.append(f"TSTR skipped: the synthetic images lack labels {sorted(set(real_y) - set(syn_y))}")
        else:
            metrics["tstr_auc"] = lesion_classifier_auc(syn_x, syn_y, real_x, real_y, window=window,
                                                        steps=classifier_steps, seed=derive_seed(seed, 44))
            metrics["trtr_auc"] = lesion_classifier_auc(train_x, train_y, real_x, real_y, window=window,
                                                        steps=classifier_steps, seed=derive_seed(seed, 44))
            metrics["tstr_over_trtr"] = metrics["tstr_auc"] / metrics["trtr_auc"] if metrics["trtr_auc"] else None
    return {
        "metrics": metrics,
        "meanings": {k: v for k, v in METRIC_MEANINGS.items() if k in metrics},
        "sizes": {"real_heldout": len(real_x), "synthetic": len(syn_x), "train": len(train_x),
                  "image_shape": list(real_x.shape[1:]), "labels": sorted(set(real_y))},
        "encoder": {"kind": "convolutional autoencoder with a finding-label head, trained on the training images",
                    "latent": encoder.latent, "epochs": encoder.epochs},
        "seed": seed,
        "notes": notes,
    }
