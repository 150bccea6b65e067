"""What every learned image generator shares, and the two baselines always reported beside them.

:class:`ImageGenerator` is the one generator interface (:mod:`hygeia.core.generator`) for
2-D images: ``fit(images, labels=None) -> self`` on an ``(n, y, x)`` array in the images'
own units (HU for CT) with one finding label per image (``'none'``, ``'nodule'``...),
``sample(n, *, label=None, seed=None)`` back in those units, ``save``/``load`` as
``spec.json`` + ``arrays.npz``. Images are scaled to ``[0, 1]`` through a window taken from
the training images (their 0.5th and 99.5th percentiles), kept in the model.

Baselines:

- :class:`PCAGaussian`: per label, a PCA of the training images and a Gaussian in PCA
  space (independent components with the PCA variances), mapped back to pixels;
- :class:`AugmentOnly`: a training image of the label, flipped left-right, rotated by a few
  degrees and jittered in intensity. It copies training images **by construction**: it is
  the yardstick of memorization, never a private generator.
"""

from __future__ import annotations

import hashlib
import platform
import time
from typing import Any, ClassVar

import numpy as np

from hygeia.core.generator import Generator, register_generator
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError

__all__ = ["AugmentOnly", "ImageGenerator", "PCAGaussian", "check_images", "derive_seed"]

#: The label given to every image when ``fit`` gets no labels.
NO_LABEL = "image"


def derive_seed(seed: int, index: int) -> int:
    """A 63-bit seed derived from ``(seed, index)`` (one branch of the seed tree)."""
    return int(np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1, np.uint64)[0] >> np.uint64(1))


def check_images(images: Any, labels: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate 2-D images and their labels; return ``(float32 (n, y, x) copy, str labels)``.

    Args:
        images: an ``(n, y, x)`` array (or ``(n, 1, y, x)``), at least 2 images, all values finite.
        labels: one finding label per image, or None (every image gets the label ``'image'``).

    Raises:
        DataValidationError: the images or labels do not fit (every problem listed).

    Example:
        >>> x, y = check_images(np.zeros((2, 8, 8)), ["none", "nodule"])
        >>> x.shape, y.tolist()
        ((2, 8, 8), ['none', 'nodule'])
    """
    problems = []
    if not isinstance(images, np.ndarray):
        if hasattr(images, "columns") or not isinstance(images, (list, tuple)):
            raise DataValidationError([f"got a {type(images).__name__}; pass an (n, y, x) numpy array of images"],
                                      header="images must be an array")
        images = np.asarray(images)
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or x.size == 0:
        raise DataValidationError([f"got shape {x.shape}; pass an (n, y, x) array of 2-D images (one slice each)"],
                                  header="images must be an (n, y, x) array")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise DataValidationError([f"got dtype {x.dtype}; pass real-valued pixels"], header="invalid images")
    if len(x) < 2:
        problems.append(f"got {len(x)} image; a generator needs at least 2")
    if min(x.shape[1:]) < 8:
        problems.append(f"images are {x.shape[1]}x{x.shape[2]} pixels; they must be at least 8x8")
    if not np.all(np.isfinite(x)):
        problems.append(f"{int(np.sum(~np.isfinite(x)))} pixels are NaN or infinite")
    if labels is None:
        y = np.full(len(x), NO_LABEL)
    else:
        y = np.asarray([str(v) for v in labels])
        if len(y) != len(x):
            problems.append(f"got {len(y)} labels for {len(x)} images; pass one label per image")
        elif any(not v.strip() for v in y):
            problems.append("a label is empty; name every image's finding (e.g. 'none', 'nodule')")
    if problems:
        raise DataValidationError(problems, header="invalid images")
    return x.astype(np.float32, copy=True), y


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be a positive integer; got {n!r}. Pass e.g. n=100.")
    return int(n)


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("hygeia", "numpy", "torch", "monai", "scikit-image"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


class ImageGenerator(Generator):
    """Base of the image generators: validation, the intensity window, labels, provenance and saving.

    Subclasses implement ``_fit_scaled(x, y, seed)`` on images scaled to ``[0, 1]`` with
    integer labels, ``_sample_scaled(y, seed)`` returning ``[0, 1]`` images for integer
    labels ``y``, and ``_state()`` / ``_restore(state, arrays)`` for what they learned.
    """

    #: Whether the model's files hold training images (or pieces of them) as they are.
    stores_training_images: ClassVar[bool] = False

    def fit(self, images: Any, labels: Any = None) -> ImageGenerator:
        """Learn from ``images`` (``(n, y, x)``, the images' own units) and their finding ``labels``.

        Returns:
            self, fitted: ``labels_``, ``shape_``, ``window_`` and ``provenance_`` are set.

        Raises:
            DataValidationError: bad images or labels.
        """
        x, y = check_images(images, labels)
        seed = resolve_seed(getattr(self, "seed", None))
        names, y_idx, counts = np.unique(y, return_inverse=True, return_counts=True)
        lo, hi = (float(v) for v in np.percentile(x, [0.5, 99.5]))
        if hi <= lo:
            hi = lo + 1.0
        start_cpu, start = time.process_time(), time.perf_counter()
        self.seed_ = seed
        self.labels_ = [str(v) for v in names]
        self.label_counts_ = [int(c) for c in counts]
        self.shape_ = (int(x.shape[1]), int(x.shape[2]))
        self.window_ = (lo, hi)
        self._fit_scaled(np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32), y_idx.astype(np.int64), seed)
        self.provenance_ = {
            "data_sha256": hashlib.sha256(np.ascontiguousarray(x).tobytes() + "\0".join(y).encode()).hexdigest(),
            "n_images": len(x),
            "seed": seed,
            "fit_cpu_seconds": round(time.process_time() - start_cpu, 3),
            "fit_seconds": round(time.perf_counter() - start, 3),
            "versions": _versions(),
            **self._fit_facts(),
        }
        return self

    def _fit_facts(self) -> dict[str, Any]:
        return {}

    def _label_index(self, label: str) -> int:
        if label not in self.labels_:
            raise ConfigError(f"label {label!r} is not one the model learned; choose one of "
                              f"{', '.join(self.labels_)}, e.g. label={self.labels_[-1]!r}")
        return self.labels_.index(label)

    def sample_labeled(self, n: int, *, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` images with labels in the training proportions: ``(images, labels)``.

        The labels are stratified: each label gets the whole part of its share of ``n``, the
        few left over go to labels drawn with probabilities in proportion to the fractional
        parts, and the order is shuffled (the label mix does not vary from draw to draw, which
        would only add noise to metrics such as FID).
        """
        self._check_fitted()
        n = _check_n(n)
        seed = resolve_seed(seed)
        rng = np.random.default_rng(derive_seed(seed, 0))
        share = n * np.asarray(self.label_counts_, float) / sum(self.label_counts_)
        counts = np.floor(share).astype(int)
        left = n - int(counts.sum())
        if left:
            frac = share - counts
            counts[rng.choice(len(share), size=left, replace=False, p=frac / frac.sum())] += 1
        y = rng.permutation(np.repeat(np.arange(len(share)), counts))
        return self._unscale(self._sample_scaled(y, derive_seed(seed, 1))), np.asarray(self.labels_)[y]

    def sample(self, n: int, *, label: str | None = None, seed: int | None = None) -> np.ndarray:
        """``n`` images ``(n, y, x)`` in the training images' units.

        Args:
            n: how many.
            label: the finding every image shows; None draws labels in the training proportions.
            seed: sampling seed (None: fresh entropy).
        """
        if label is None:
            return self.sample_labeled(n, seed=seed)[0]
        self._check_fitted()
        n = _check_n(n)
        y = np.full(n, self._label_index(label))
        return self._unscale(self._sample_scaled(y, derive_seed(resolve_seed(seed), 1)))

    def _unscale(self, x01: np.ndarray) -> np.ndarray:
        lo, hi = self.window_
        return (np.clip(x01, 0.0, 1.0) * (hi - lo) + lo).astype(np.float32)

    # -- persistence ------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = self._state()
        base = {"seed": self.seed_, "labels": self.labels_, "label_counts": self.label_counts_,
                "shape": list(self.shape_), "window": list(self.window_), "provenance": self.provenance_}
        return {**base, "model": state}, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.seed_ = int(state["seed"])
        self.labels_ = list(state["labels"])
        self.label_counts_ = [int(c) for c in state["label_counts"]]
        self.shape_ = tuple(int(s) for s in state["shape"])
        self.window_ = tuple(float(w) for w in state["window"])
        self.provenance_ = dict(state["provenance"])
        self._restore(state["model"], arrays)

    # -- for subclasses -----------------------------------------------------------------------
    def _fit_scaled(self, x: np.ndarray, y: np.ndarray, seed: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample_scaled(self, y: np.ndarray, seed: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover
        raise NotImplementedError


@register_generator("imaging.pca")
class PCAGaussian(ImageGenerator):
    """Per label: PCA of the training images, a Gaussian in PCA space, back to pixels.

    Args:
        n_components: PCA components kept per label (at most one less than the label's images).
        seed: fit seed (PCA is exact; recorded in provenance).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(0, 1, (20, 8, 8)); y = ["none"] * 10 + ["nodule"] * 10
        >>> m = PCAGaussian(n_components=4, seed=0).fit(x, y)
        >>> m.sample(3, label="nodule", seed=1).shape
        (3, 8, 8)
    """

    stores_training_images = False

    def __init__(self, *, n_components: int = 24, seed: int | None = None) -> None:
        self.n_components = n_components
        self.seed = seed

    def _fit_scaled(self, x: np.ndarray, y: np.ndarray, seed: int) -> None:
        if isinstance(self.n_components, bool) or not isinstance(self.n_components, (int, np.integer)) \
                or self.n_components < 1:
            raise ConfigError(f"n_components must be a positive integer; got {self.n_components!r}. "
                              "Pass e.g. n_components=24.")
        flat = x.reshape(len(x), -1).astype(np.float64)
        self.means_, self.components_, self.scales_ = [], [], []
        for k in range(len(self.labels_)):
            rows = flat[y == k]
            mean = rows.mean(axis=0)
            keep = max(1, min(int(self.n_components), len(rows) - 1))
            _, s, vt = np.linalg.svd(rows - mean, full_matrices=False)
            self.means_.append(mean.astype(np.float32))
            self.components_.append(vt[:keep].astype(np.float32))
            self.scales_.append((s[:keep] / np.sqrt(max(len(rows) - 1, 1))).astype(np.float32))

    def _sample_scaled(self, y: np.ndarray, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((len(y), *self.shape_), np.float32)
        for k in range(len(self.labels_)):
            idx = np.flatnonzero(y == k)
            if len(idx):
                z = rng.standard_normal((len(idx), len(self.scales_[k]))) * self.scales_[k]
                out[idx] = (self.means_[k] + z @ self.components_[k]).reshape(len(idx), *self.shape_)
        return out

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {}
        for k in range(len(self.labels_)):
            arrays[f"mean_{k}"], arrays[f"components_{k}"], arrays[f"scales_{k}"] = (
                self.means_[k], self.components_[k], self.scales_[k])
        return {}, arrays

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        n = len(self.labels_)
        self.means_ = [arrays[f"mean_{k}"] for k in range(n)]
        self.components_ = [arrays[f"components_{k}"] for k in range(n)]
        self.scales_ = [arrays[f"scales_{k}"] for k in range(n)]


@register_generator("imaging.augment")
class AugmentOnly(ImageGenerator):
    """Augmented copies of training images: a left-right flip, a small rotation, intensity jitter.

    Its samples **are** training images, transformed: it is the memorization yardstick and
    the "augmentation only" baseline, never a private generator (its ``privacy_report_``
    says so, and its model folder holds the training images).

    Args:
        max_degrees: rotations are drawn uniformly in ``[-max_degrees, max_degrees]``.
        jitter: intensity scale drawn in ``[1 - jitter, 1 + jitter]`` and shift in ``[-jitter/2, jitter/2]``
            (on the ``[0, 1]`` window).
        flip: whether half the copies are flipped left-right.
        seed: fit seed (recorded).

    Example:
        >>> x = np.random.default_rng(0).normal(0, 1, (4, 8, 8))
        >>> AugmentOnly(seed=0).fit(x).sample(2, seed=1).shape
        (2, 8, 8)
    """

    stores_training_images = True

    def __init__(self, *, max_degrees: float = 10.0, jitter: float = 0.05, flip: bool = True,
                 seed: int | None = None) -> None:
        self.max_degrees = max_degrees
        self.jitter = jitter
        self.flip = flip
        self.seed = seed

    def _fit_scaled(self, x: np.ndarray, y: np.ndarray, seed: int) -> None:
        self.images_ = x
        self.image_labels_ = y
        self.privacy_report_ = {
            "guarantee": "none",
            "summary": "augmentation-only baseline: every sample is a training image, flipped, rotated and "
                       "jittered, and the model folder holds the training images themselves",
        }

    def _sample_scaled(self, y: np.ndarray, seed: int) -> np.ndarray:
        from scipy import ndimage

        rng = np.random.default_rng(seed)
        out = np.empty((len(y), *self.shape_), np.float32)
        for i, k in enumerate(y):
            src = self.images_[rng.choice(np.flatnonzero(self.image_labels_ == k))]
            if self.flip and rng.random() < 0.5:
                src = src[:, ::-1]
            angle = rng.uniform(-self.max_degrees, self.max_degrees)
            img = ndimage.rotate(src, angle, reshape=False, order=1, mode="nearest")
            scale, shift = rng.uniform(1 - self.jitter, 1 + self.jitter), rng.uniform(-self.jitter, self.jitter) / 2
            out[i] = img * scale + shift
        return out

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {"images": self.images_, "image_labels": self.image_labels_}

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.images_ = arrays["images"].astype(np.float32)
        self.image_labels_ = arrays["image_labels"].astype(np.int64)
