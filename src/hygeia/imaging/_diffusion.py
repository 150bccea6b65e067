"""A label-conditional denoising diffusion model of 2-D images: MONAI's ``DiffusionModelUNet``.

Training is DDPM (Ho et al. 2020): an image scaled to ``[-1, 1]``, Gaussian noise added at
a random step of a linear-beta schedule, the network learns to predict that noise
(mean squared error), conditioned on the finding label through MONAI's class embedding.
Sampling is DDIM (Song et al. 2021) with ``sample_steps`` deterministic steps from a
seeded noise image, using an exponential moving average of the weights. Everything runs
on the CPU with one torch thread unless told otherwise; a budget in CPU seconds stops
training early (the steps done are recorded in the model's provenance).

The weights are saved as named arrays in ``arrays.npz`` (never a pickle) next to
``spec.json``, which holds the configuration, the labels, the intensity window and the
provenance (data hash, seed, steps, CPU seconds, versions).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hygeia.core.generator import register_generator
from hygeia.errors import ConfigError, MissingExtraError
from hygeia.imaging._baselines import (
    AugmentOnly,
    ImageGenerator,
    PCAGaussian,
    derive_seed,
)
from hygeia.imaging._latent import ImageLatentDiffusion

__all__ = ["GENERATORS", "ImageDiffusion", "fit_image_model", "sample_images"]


def _torch():
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "imaging", "The image diffusion model") from None
    return torch


def _monai():
    try:
        from monai.networks import nets, schedulers
    except ImportError:
        raise MissingExtraError("monai", "imaging", "The image diffusion model") from None
    return nets, schedulers


@register_generator("imaging.diffusion")
class ImageDiffusion(ImageGenerator):
    """DDPM-trained, DDIM-sampled ``DiffusionModelUNet`` conditional on the finding label.

    Args:
        channels: feature channels of the UNet's levels (each a multiple of ``norm_groups``);
            the image side must be divisible by ``2 ** (len(channels) - 1)``.
        attention: whether each level has self-attention (same length as ``channels``).
        res_blocks: residual blocks per level.
        norm_groups: group-normalisation groups.
        epochs: passes over the training images (the ceiling on training).
        max_steps: optional ceiling on optimizer steps.
        cpu_seconds: optional budget: training stops once it has used this many CPU seconds.
        batch_size: images per step.
        learning_rate: Adam's learning rate.
        ema_decay: decay of the moving average of the weights used for sampling (0: none).
        timesteps: steps of the training noise schedule.
        sample_steps: DDIM steps when sampling.
        workers: torch threads while fitting and sampling (1 by default: reproducible and polite).
        seed: fit seed (weights, noise, batches).

    Example:
        >>> import torch; torch.set_num_threads(1)
        >>> x = np.random.default_rng(0).normal(0, 1, (8, 16, 16)); y = ["none", "nodule"] * 4
        >>> m = ImageDiffusion(channels=(8, 8), attention=(False, False), norm_groups=4, epochs=1,
        ...                    batch_size=4, sample_steps=2, seed=0).fit(x, y)
        >>> m.sample(2, label="nodule", seed=1).shape
        (2, 16, 16)
    """

    def __init__(self, *, channels: Sequence[int] = (16, 32, 32), attention: Sequence[bool] = (False, False, True),
                 res_blocks: int = 1, norm_groups: int = 8, epochs: int = 50, max_steps: int | None = None,
                 cpu_seconds: float | None = None, batch_size: int = 32, learning_rate: float = 1e-3,
                 ema_decay: float = 0.995, timesteps: int = 1000, sample_steps: int = 50, workers: int = 1,
                 seed: int | None = None) -> None:
        self.channels = channels
        self.attention = attention
        self.res_blocks = res_blocks
        self.norm_groups = norm_groups
        self.epochs = epochs
        self.max_steps = max_steps
        self.cpu_seconds = cpu_seconds
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.ema_decay = ema_decay
        self.timesteps = timesteps
        self.sample_steps = sample_steps
        self.workers = workers
        self.seed = seed

    #: Called after every training step with ``(step, total_steps, loss)``; the CLI draws its bar from it.
    callback: Callable[[int, int, float], None] | None = None

    def _check_params(self, side: int) -> None:
        ch, att = list(self.channels), list(self.attention)
        if not ch or len(ch) != len(att) or any(int(c) % int(self.norm_groups) for c in ch):
            raise ConfigError(f"channels {tuple(ch)} and attention {tuple(att)} must have the same length and every "
                              f"channel count must be a multiple of norm_groups={self.norm_groups}; "
                              "pass e.g. channels=(32, 64, 64), attention=(False, False, True)")
        if side % (2 ** (len(ch) - 1)):
            raise ConfigError(f"images of side {side} cannot be halved {len(ch) - 1} times; resize them to a multiple "
                              f"of {2 ** (len(ch) - 1)} (e.g. 32 or 64 pixels) or pass fewer channels")
        for name in ("epochs", "batch_size", "timesteps", "sample_steps", "workers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"{name} must be a positive integer; got {v!r}. Pass e.g. {name}=10.")
        if self.sample_steps > self.timesteps:
            raise ConfigError(f"sample_steps={self.sample_steps} exceeds timesteps={self.timesteps}; pass fewer")

    def _network(self):
        nets, _ = _monai()
        return nets.DiffusionModelUNet(
            spatial_dims=2, in_channels=1, out_channels=1, channels=tuple(int(c) for c in self.channels),
            attention_levels=tuple(bool(a) for a in self.attention), num_res_blocks=int(self.res_blocks),
            norm_num_groups=int(self.norm_groups), num_head_channels=int(self.channels[-1]),
            num_class_embeds=len(self.labels_),
        )

    def _fit_scaled(self, x: np.ndarray, y: np.ndarray, seed: int) -> None:
        torch = _torch()
        _, schedulers = _monai()
        if x.shape[1] != x.shape[2]:
            raise ConfigError(f"images must be square for the diffusion model; got {x.shape[1]}x{x.shape[2]}; "
                              "crop or resize them (hygeia images fit does this with --size)")
        self._check_params(x.shape[1])
        threads = torch.get_num_threads()
        torch.set_num_threads(int(self.workers))
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(derive_seed(seed, 10))
                net = self._network()
                ema = copy.deepcopy(net).requires_grad_(False)
                scheduler = schedulers.DDPMScheduler(num_train_timesteps=int(self.timesteps))
                opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
                data = torch.from_numpy(x[:, None] * 2.0 - 1.0)
                cls = torch.from_numpy(y)
                rng = np.random.default_rng(derive_seed(seed, 11))
                per_epoch = max(1, int(np.ceil(len(x) / int(self.batch_size))))
                total = per_epoch * int(self.epochs)
                if self.max_steps is not None:
                    total = min(total, int(self.max_steps))
                start = time.process_time()
                step, losses, stopped = 0, [], "epochs"
                net.train()
                while step < total:
                    order = rng.permutation(len(x))
                    for b in range(per_epoch):
                        idx = torch.from_numpy(order[b * int(self.batch_size):(b + 1) * int(self.batch_size)])
                        batch, labels = data[idx], cls[idx]
                        noise = torch.randn_like(batch)
                        t = torch.randint(0, int(self.timesteps), (len(batch),)).long()
                        pred = net(scheduler.add_noise(batch, noise, t), timesteps=t, class_labels=labels)
                        loss = torch.nn.functional.mse_loss(pred, noise)
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                        opt.step()
                        with torch.no_grad():
                            d = float(self.ema_decay) if step > 0 else 0.0
                            for pe, pn in zip(ema.parameters(), net.parameters()):
                                pe.mul_(d).add_(pn.detach(), alpha=1.0 - d)
                        step += 1
                        losses.append(loss.item())
                        if self.callback is not None:
                            self.callback(step, total, losses[-1])
                        if self.cpu_seconds is not None and time.process_time() - start >= float(self.cpu_seconds):
                            stopped, total = "cpu_seconds", step
                        if step >= total:
                            break
        finally:
            torch.set_num_threads(threads)
        ema.eval()
        self.network_ = ema
        self.train_facts_ = {"steps": step, "stopped_by": stopped, "train_cpu_seconds": round(time.process_time() - start, 2),
                             "final_loss": round(float(np.mean(losses[-50:])), 5),
                             "parameters": int(sum(p.numel() for p in ema.parameters()))}

    def _fit_facts(self) -> dict[str, Any]:
        return dict(self.train_facts_)

    def _sample_scaled(self, y: np.ndarray, seed: int, batch: int = 256) -> np.ndarray:
        torch = _torch()
        _, schedulers = _monai()
        threads = torch.get_num_threads()
        torch.set_num_threads(int(self.workers))
        out = np.empty((len(y), *self.shape_), np.float32)
        try:
            gen = torch.Generator().manual_seed(int(seed))
            for s in range(0, len(y), batch):
                labels = torch.from_numpy(np.asarray(y[s:s + batch], np.int64))
                scheduler = schedulers.DDIMScheduler(num_train_timesteps=int(self.timesteps))
                scheduler.set_timesteps(int(self.sample_steps))
                img = torch.randn((len(labels), 1, *self.shape_), generator=gen)
                with torch.no_grad():
                    for t in scheduler.timesteps:
                        eps = self.network_(img, timesteps=torch.full((len(labels),), int(t)).long(),
                                            class_labels=labels)
                        img, _ = scheduler.step(eps, int(t), img)
                out[s:s + len(labels)] = ((img[:, 0].numpy() + 1.0) / 2.0)
        finally:
            torch.set_num_threads(threads)
        return out

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {f"weights.{k}": v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()}
        return {"train": self.train_facts_}, arrays

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        torch = _torch()
        net = self._network()
        net.load_state_dict({k[len("weights."):]: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()
                             if k.startswith("weights.")})
        net.eval().requires_grad_(False)
        self.network_ = net
        self.train_facts_ = dict(state.get("train", {}))


#: The image generators by the short name the CLI and :func:`fit_image_model` use.
GENERATORS: dict[str, type[ImageGenerator]] = {"diffusion": ImageDiffusion, "latent": ImageLatentDiffusion,
                                               "pca": PCAGaussian, "augment": AugmentOnly}


def fit_image_model(images: Any, labels: Any = None, *, kind: str = "latent", seed: int | None = None,
                    epochs: int | None = None, **params: Any) -> ImageGenerator:
    """Fit an image generator: ``images`` ``(n, y, x)`` with one finding label each.

    Args:
        images: the training images in their own units (HU for CT).
        labels: one finding label per image (None: one class).
        kind: ``'latent'`` (the default: latent diffusion on a whitened PCA latent), ``'diffusion'``
            (pixel diffusion with a MONAI UNet), ``'pca'`` or ``'augment'``.
        seed: fit seed (None: fresh entropy, recorded in the model).
        epochs: training passes (the two diffusion models only).
        **params: other constructor parameters of the chosen generator.

    Returns:
        The fitted generator (save it with ``.save(path)``; read it back with
        :func:`hygeia.core.generator.load_generator`).

    Example:
        >>> x = np.random.default_rng(0).normal(0, 1, (10, 8, 8))
        >>> fit_image_model(x, ["none"] * 5 + ["nodule"] * 5, kind="pca", seed=0).labels_
        ['nodule', 'none']
    """
    if kind not in GENERATORS:
        raise ConfigError(f"unknown image generator kind {kind!r}; choose one of {', '.join(GENERATORS)}, "
                          "e.g. kind='diffusion'")
    if epochs is not None:
        if kind not in ("diffusion", "latent"):
            raise ConfigError(f"epochs applies to the diffusion models only (kind='diffusion' or 'latent'), "
                              f"not kind={kind!r}")
        params["epochs"] = epochs
    return GENERATORS[kind](seed=seed, **params).fit(images, labels)


def sample_images(model: ImageGenerator, n: int, *, label: str | None = None,
                  seed: int | None = None) -> np.ndarray:
    """``n`` images from a fitted image generator (see :meth:`ImageGenerator.sample`).

    Example:
        >>> x = np.random.default_rng(0).normal(0, 1, (10, 8, 8))
        >>> sample_images(fit_image_model(x, kind="pca", seed=0), 4, seed=1).shape
        (4, 8, 8)
    """
    if not isinstance(model, ImageGenerator):
        raise ConfigError(f"model must be a fitted image generator, got {type(model).__name__}; "
                          "fit one with fit_image_model(images, labels)")
    return model.sample(n, label=label, seed=seed)
