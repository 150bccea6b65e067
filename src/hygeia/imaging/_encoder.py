"""Feature extractors trained here, on the user's own real images: nothing is downloaded.

FID and KID need an image encoder. The usual one (Inception-v3 trained on ImageNet) is a
download and knows nothing of CT slices, so Hygeia trains its own on the real TRAINING
images: :class:`ImageEncoder` is a small convolutional autoencoder with a head that
predicts the finding label, so its features carry both what the image looks like and
what it shows. It never sees held-out or synthetic images while it learns.

:func:`lesion_classifier_auc` trains a small CNN that tells findings apart and scores it
on other images: the train-on-synthetic / test-on-real utility check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hygeia.errors import ConfigError, MissingExtraError
from hygeia.imaging._baselines import check_images, derive_seed

__all__ = ["ImageEncoder", "lesion_classifier_auc"]


def _torch():
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "imaging", "The image encoder") from None
    return torch


def _scale(x: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    lo, hi = float(window[0]), float(window[1])
    return np.clip((np.asarray(x, np.float32) - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)[:, None]


def _nets(side: int, latent: int, n_labels: int):
    nn = _torch().nn
    cells = (side // 8) ** 2 * 64

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.Sequential(
                nn.Conv2d(1, 16, 3, 2, 1), nn.SiLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.SiLU(),
                nn.Conv2d(32, 64, 3, 2, 1), nn.SiLU(), nn.Flatten(), nn.Linear(cells, latent))
            self.up = nn.Sequential(
                nn.Linear(latent, cells), nn.SiLU(), nn.Unflatten(1, (64, side // 8, side // 8)),
                nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.SiLU(), nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.SiLU(),
                nn.ConvTranspose2d(16, 1, 4, 2, 1))
            self.head = nn.Linear(latent, n_labels)

        def forward(self, x):
            z = self.down(x)
            return z, self.up(z), self.head(z)

    return Encoder()


class ImageEncoder:
    """A convolutional autoencoder with a finding-label head, trained on real training images.

    Args:
        latent: feature dimension.
        epochs: training passes.
        batch_size: images per step.
        learning_rate: Adam's learning rate.
        label_weight: weight of the label cross-entropy next to the reconstruction error.
        seed: training seed.

    Example:
        >>> import torch; torch.set_num_threads(1)
        >>> x = np.random.default_rng(0).normal(0, 1, (16, 16, 16)); y = ["none", "nodule"] * 8
        >>> enc = ImageEncoder(latent=8, epochs=1, seed=0).fit(x, y)
        >>> enc.transform(x[:3]).shape
        (3, 8)
    """

    def __init__(self, *, latent: int = 64, epochs: int = 30, batch_size: int = 64, learning_rate: float = 2e-3,
                 label_weight: float = 0.1, seed: int = 0) -> None:
        self.latent = latent
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.label_weight = label_weight
        self.seed = seed

    def fit(self, images: Any, labels: Any = None) -> ImageEncoder:
        """Train on real training images (``(n, y, x)``, their own units) and their labels."""
        torch = _torch()
        x, y = check_images(images, labels)
        if x.shape[1] != x.shape[2] or x.shape[1] % 8:
            raise ConfigError(f"the encoder needs square images whose side is a multiple of 8; got "
                              f"{x.shape[1]}x{x.shape[2]}; resize them to 32 or 64 pixels")
        lo, hi = (float(v) for v in np.percentile(x, [0.5, 99.5]))
        self.window_ = (lo, hi if hi > lo else lo + 1.0)
        self.shape_ = tuple(x.shape[1:])
        self.labels_, y_idx = np.unique(y, return_inverse=True)
        data, target = torch.from_numpy(_scale(x, self.window_)), torch.from_numpy(y_idx.astype(np.int64))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(self.seed, 20))
            net = _nets(x.shape[1], int(self.latent), len(self.labels_))
            opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
            rng = np.random.default_rng(derive_seed(self.seed, 21))
            for _ in range(int(self.epochs)):
                order = rng.permutation(len(x))
                for b in range(0, len(x), int(self.batch_size)):
                    idx = torch.from_numpy(order[b:b + int(self.batch_size)])
                    _, recon, logits = net(data[idx])
                    loss = torch.nn.functional.mse_loss(recon, data[idx])
                    if len(self.labels_) > 1:
                        loss = loss + float(self.label_weight) * torch.nn.functional.cross_entropy(logits, target[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
        self.network_ = net.eval().requires_grad_(False)
        return self

    def transform(self, images: Any) -> np.ndarray:
        """Features ``(n, latent)`` of images in the training images' units."""
        torch = _torch()
        if not hasattr(self, "network_"):
            raise ConfigError("this ImageEncoder is not fitted yet; call fit(train_images, labels) first")
        x = np.asarray(images, np.float32)
        if x.ndim != 3 or x.shape[1:] != self.shape_:
            raise ConfigError(f"the encoder was trained on {self.shape_[0]}x{self.shape_[1]} images; got shape "
                              f"{x.shape}; resize the images to the training size")
        out = []
        with torch.no_grad():
            for b in range(0, len(x), 512):
                out.append(self.network_.down(torch.from_numpy(_scale(x[b:b + 512], self.window_))).numpy())
        return np.concatenate(out).astype(np.float64)


def _classifier(side: int, n_labels: int):
    nn = _torch().nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.SiLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.SiLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(32, n_labels))


def lesion_classifier_auc(train: Any, train_labels: Any, test: Any, test_labels: Any, *,
                          window: tuple[float, float], steps: int = 400, seed: int = 0) -> float:
    """Train a small CNN on ``train`` to tell the finding labels apart; its ROC AUC on ``test``.

    Two labels: the AUC of the label sorted last against the first (``'nodule'`` against
    ``'none'``); more: the one-vs-rest macro AUC. Both sets are scaled by ``window``. Training
    is ``steps`` Adam steps on random batches of 64 with random left-right flips.

    Raises:
        ConfigError: fewer than two labels, or a test label the training set lacks.
    """
    torch = _torch()
    from sklearn.metrics import roc_auc_score

    x, y = check_images(train, train_labels)
    tx, ty = check_images(test, test_labels)
    labels = sorted(set(y) | set(ty))
    if len(set(y)) < 2 or len(set(ty)) < 2:
        raise ConfigError(f"a lesion classifier needs at least two labels in both sets; got {sorted(set(y))} "
                          f"to train and {sorted(set(ty))} to test")
    yi = np.asarray([labels.index(v) for v in y])
    tyi = np.asarray([labels.index(v) for v in ty])
    data, target = torch.from_numpy(_scale(x, window)), torch.from_numpy(yi.astype(np.int64))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, 30))
        net = _classifier(x.shape[1], len(labels))
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        rng = np.random.default_rng(derive_seed(seed, 31))
        for _ in range(int(steps)):
            idx = torch.from_numpy(rng.choice(len(x), size=min(64, len(x)), replace=False))
            batch = data[idx]
            if rng.random() < 0.5:
                batch = torch.flip(batch, dims=(3,))
            loss = torch.nn.functional.cross_entropy(net(batch), target[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        prob = torch.softmax(net(torch.from_numpy(_scale(tx, window))), dim=1).numpy()
    if len(labels) == 2:
        return float(roc_auc_score(tyi, prob[:, 1]))
    return float(roc_auc_score(tyi, prob, multi_class="ovr", labels=list(range(len(labels)))))
