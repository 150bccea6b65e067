"""2x super-resolution as a conditional model: a small UNet that takes the low-resolution image
(bicubic-upsampled, the conditioning channel) and predicts what bicubic interpolation misses.

The low-resolution images are made from the high-resolution ones by averaging 2x2 pixel
blocks (a detector with pixels twice as wide). The model starts exactly at bicubic
interpolation and can only move away from it where training shows that helps:

- the UNet's residual is multiplied by a learned gate that starts at 0;
- a back-projection term (the bicubic upsampling of what the 2x2 block means of the
  output miss of the input) has its own learned gate, also starting at 0;
- a share of the training images is held out for validation, and the weights kept are
  those of the epoch with the lowest validation error, the untrained (bicubic) state included.

:func:`superres_scores` compares the model with plain bicubic interpolation by PSNR and
SSIM on held-out images (``benchmarks/imaging_superres.py``).

Saved like every Hygeia model: ``spec.json`` (configuration, window, provenance) and
``arrays.npz`` (the weights), written atomically; no pickles.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.atomic import atomic_output
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError, OutputError
from hygeia.imaging._baselines import _versions, check_images, derive_seed

__all__ = ["SuperResolution2x", "bicubic2x", "downsample2x", "superres_scores"]

_FORMAT = "hygeia-superres"


def _torch():
    from hygeia.imaging._diffusion import _torch as t

    return t()


def _refiner(unet):
    """The network around the UNet: ``residual(cond, low) = g * unet(cond) + b * up(low - down(cond + g * unet))``.

    ``g`` and ``b`` are learned scalars that start at 0, so an untrained refiner adds exactly nothing.
    """
    torch = _torch()

    class _Refiner(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unet = unet
            self.gate = torch.nn.Parameter(torch.zeros(1))
            self.back_projection = torch.nn.Parameter(torch.zeros(1))

        def forward(self, cond, low):
            f = torch.nn.functional
            res = self.gate * self.unet(cond)
            miss = low - f.avg_pool2d(cond + res, 2)
            up = f.interpolate(miss, scale_factor=2, mode="bicubic", align_corners=False)
            return res + self.back_projection * up

    return _Refiner()


def downsample2x(images: np.ndarray) -> np.ndarray:
    """Average 2x2 pixel blocks: ``(n, 2h, 2w) -> (n, h, w)``.

    Example:
        >>> downsample2x(np.arange(16.0).reshape(1, 4, 4))[0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """
    x = np.asarray(images, np.float32)
    n, h, w = x.shape
    return x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2).mean(axis=(2, 4)).astype(np.float32)


def bicubic2x(images: np.ndarray) -> np.ndarray:
    """Bicubic interpolation to twice the size (the baseline, and the model's conditioning input)."""
    torch = _torch()
    x = torch.from_numpy(np.asarray(images, np.float32)[:, None])
    return torch.nn.functional.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)[:, 0].numpy()


class SuperResolution2x:
    """A conditional UNet (MONAI ``UNet``) that refines bicubic 2x upsampling, trained on high-resolution images.

    Args:
        channels: feature channels per UNet level.
        epochs: passes over the training images (0: the model is plain bicubic interpolation).
        batch_size: images per step.
        learning_rate: Adam's learning rate.
        validation_fraction: share of the training images held out to pick the best epoch
            (the untrained, bicubic state is a candidate); 0 keeps the last epoch.
        seed: training seed (None: fresh entropy, recorded).

    Example:
        >>> import torch; torch.set_num_threads(1)
        >>> hi = np.random.default_rng(0).normal(0, 1, (8, 16, 16))
        >>> m = SuperResolution2x(channels=(4, 8), epochs=1, seed=0).fit(hi)
        >>> m.upscale(downsample2x(hi[:2])).shape
        (2, 16, 16)
    """

    def __init__(self, *, channels: tuple[int, ...] = (16, 32, 64), epochs: int = 30, batch_size: int = 32,
                 learning_rate: float = 1e-3, validation_fraction: float = 0.2, seed: int | None = None) -> None:
        self.channels = channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.seed = seed

    def _network(self):
        from monai.networks.nets import UNet

        ch = tuple(int(c) for c in self.channels)
        return _refiner(UNet(spatial_dims=2, in_channels=1, out_channels=1, channels=ch,
                             strides=(2,) * (len(ch) - 1), num_res_units=1))

    def fit(self, images: Any) -> SuperResolution2x:
        """Learn from high-resolution images ``(n, y, x)`` (even sides), in their own units."""
        torch = _torch()
        x, _ = check_images(images)
        if x.shape[1] % (2 ** len(self.channels)) or x.shape[2] % (2 ** len(self.channels)):
            raise ConfigError(f"high-resolution images must have sides divisible by {2 ** len(self.channels)}; got "
                              f"{x.shape[1]}x{x.shape[2]}; resize them (e.g. to 64x64)")
        if not 0 <= float(self.validation_fraction) < 1:
            raise ConfigError(f"validation_fraction must be in [0, 1); got {self.validation_fraction}")
        self.seed_ = resolve_seed(self.seed)
        lo, hi = (float(v) for v in np.percentile(x, [0.5, 99.5]))
        self.window_ = (lo, hi if hi > lo else lo + 1.0)
        low = downsample2x(x)
        target = self._scale(x)
        cond = self._scale(bicubic2x(low))
        small = self._scale(low)
        rng = np.random.default_rng(derive_seed(self.seed_, 51))
        n_val = min(round(len(x) * float(self.validation_fraction)), len(x) - 1) if int(self.epochs) > 0 else 0
        order = rng.permutation(len(x))
        val, train = order[:n_val], order[n_val:]
        start = time.process_time()
        history: list[float] = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(self.seed_, 50))
            net = self._network()
            opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
            t_target, t_cond = torch.from_numpy(target[:, None]), torch.from_numpy(cond[:, None])
            t_small = torch.from_numpy(small[:, None])

            def val_loss() -> float:
                idx = torch.from_numpy(val)
                with torch.no_grad():
                    pred = t_cond[idx] + net(t_cond[idx], t_small[idx])
                    return float(torch.nn.functional.mse_loss(pred, t_target[idx]))

            best = (val_loss(), {k: v.clone() for k, v in net.state_dict().items()}) if n_val else None
            bicubic_mse = best[0] if best is not None else None
            best_epoch = 0
            for epoch in range(int(self.epochs)):
                net.train()
                perm = train[rng.permutation(len(train))]
                for b in range(0, len(perm), int(self.batch_size)):
                    idx = torch.from_numpy(perm[b:b + int(self.batch_size)])
                    pred = t_cond[idx] + net(t_cond[idx], t_small[idx])
                    loss = torch.nn.functional.mse_loss(pred, t_target[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                if best is not None:
                    net.eval()
                    history.append(round(val_loss(), 8))
                    if history[-1] < best[0]:
                        best, best_epoch = (history[-1], {k: v.clone() for k, v in net.state_dict().items()}), epoch + 1
            if best is not None:
                net.load_state_dict(best[1])
            else:
                best_epoch = int(self.epochs)
        self.network_ = net.eval().requires_grad_(False)
        self.provenance_ = {"data_sha256": hashlib.sha256(x.tobytes()).hexdigest(), "n_images": len(x),
                            "n_validation": int(n_val), "best_epoch": best_epoch, "validation_mse": history,
                            "validation_mse_bicubic": None if bicubic_mse is None else round(bicubic_mse, 8),
                            "gate": float(net.gate), "back_projection": float(net.back_projection),
                            "seed": self.seed_, "fit_cpu_seconds": round(time.process_time() - start, 3),
                            "versions": _versions()}
        return self

    def _scale(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.window_
        return ((np.asarray(x, np.float32) - lo) / (hi - lo)).astype(np.float32)

    def upscale(self, low: Any) -> np.ndarray:
        """Twice-as-large images from low-resolution ones ``(n, h, w)`` (same units as training)."""
        torch = _torch()
        if not hasattr(self, "network_"):
            raise ConfigError("this SuperResolution2x is not fitted yet; call fit(high_res_images) or load a model")
        x = np.asarray(low, np.float32)
        if x.ndim != 3 or not np.all(np.isfinite(x)):
            raise DataValidationError([f"got shape {x.shape}; pass an (n, y, x) array of finite pixels"],
                                      header="low-resolution images must be an (n, y, x) array")
        base = bicubic2x(x)
        cond = torch.from_numpy(self._scale(base)[:, None])
        with torch.no_grad():
            residual = self.network_(cond, torch.from_numpy(self._scale(x)[:, None]))[:, 0].numpy()
        lo, hi = self.window_
        # bicubic plus the residual in the images' own units: a zero residual gives bicubic exactly
        return (base + residual * np.float32(hi - lo)).astype(np.float32)

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write ``spec.json`` and ``arrays.npz`` to the folder ``path`` (atomic)."""
        if not hasattr(self, "network_"):
            raise ConfigError("this SuperResolution2x is not fitted yet; call fit(high_res_images) first")
        dest = Path(path)
        if dest.exists() and not overwrite:
            raise OutputError(f"model folder {str(dest)!r} already exists; choose a new path or pass overwrite=True")
        spec = {"format": _FORMAT, "spec_version": 2,
                "params": {"channels": list(self.channels), "epochs": self.epochs, "batch_size": self.batch_size,
                           "learning_rate": self.learning_rate, "validation_fraction": self.validation_fraction,
                           "seed": self.seed},
                "state": {"seed": self.seed_, "window": list(self.window_), "provenance": self.provenance_}}
        with atomic_output(dest, folder=True, overwrite=overwrite, what="model folder") as tmp:
            (tmp / "spec.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
            np.savez_compressed(tmp / "arrays.npz", **{k: v.numpy() for k, v in self.network_.state_dict().items()})
        return dest

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SuperResolution2x:
        """Read a folder written by :meth:`save`."""
        torch = _torch()
        folder = Path(path)
        try:
            spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise DataValidationError([f"{folder}: {e}"], header="not a super-resolution model folder") from None
        if not isinstance(spec, dict) or spec.get("format") != _FORMAT:
            raise DataValidationError([f"{folder}/spec.json: 'format' is not {_FORMAT!r}"],
                                      header="not a super-resolution model folder")
        params = dict(spec["params"])
        params["channels"] = tuple(params["channels"])
        model = cls(**params)
        model.seed_ = int(spec["state"]["seed"])
        model.window_ = tuple(spec["state"]["window"])
        model.provenance_ = spec["state"]["provenance"]
        net = model._network()
        with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
            state = {k: torch.from_numpy(npz[k]) for k in npz.files}
        if spec.get("spec_version", 1) < 2:  # a bare UNet whose residual was added in full, no back-projection
            state = {f"unet.{k}": v for k, v in state.items()}
            state["gate"], state["back_projection"] = torch.ones(1), torch.zeros(1)
        net.load_state_dict(state)
        model.network_ = net.eval().requires_grad_(False)
        return model


def superres_scores(model: SuperResolution2x, heldout: Any) -> dict[str, float]:
    """PSNR (dB) and SSIM of the model and of bicubic interpolation on held-out high-resolution images.

    Both are computed on the model's ``[0, 1]`` window (data range 1).
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    hi, _ = check_images(heldout)
    low = downsample2x(hi)
    truth = np.clip(model._scale(hi), 0, 1)
    out = {}
    for name, pred in (("model", model.upscale(low)), ("bicubic", bicubic2x(low))):
        p = np.clip(model._scale(pred), 0, 1)
        out[f"psnr_{name}"] = float(np.mean([peak_signal_noise_ratio(t, q, data_range=1.0) for t, q in zip(truth, p)]))
        out[f"ssim_{name}"] = float(np.mean([structural_similarity(t, q, data_range=1.0, gaussian_weights=True,
                                                                   sigma=1.5, use_sample_covariance=False)
                                             for t, q in zip(truth, p)]))
    return out
