"""Latent diffusion of 2-D images on a whitened PCA latent, conditional on the finding label.

The encoder is linear and exact: a PCA of all training images (every label together)
keeps ``components`` directions, and each image becomes its coordinates divided by the
standard deviation along them (a whitened latent, unit variance per coordinate). A small
residual multilayer perceptron learns, DDPM-style (Ho et al. 2020), to predict the noise
added to those latents at a random step of a cosine noise schedule (Nichol & Dhariwal
2021), given the step and the finding label. Sampling runs DDIM (Song et al. 2021) with
``sample_steps`` steps from seeded Gaussian noise through an exponential moving average of
the weights, then decodes: latent times the standard deviations, back through the PCA
directions, plus the mean image.

What the PCA leaves out (fine detail and most of the reconstruction noise) is put back
as Gaussian noise with the residual's own spatial covariance: the residual's principal
directions from ``components`` to ``components + residual_components`` with their
variances (a second, Gaussian PCA band), and the rest as independent per-pixel noise of
the leftover variance.

Unlike the PCA-Gaussian baseline, the latent distribution is not assumed Gaussian nor
the same shape for every label: the denoiser learns where nodules and consolidations
sit, which appear together and which do not. The model's files hold the PCA (mean image,
directions, scales) and the denoiser weights, never training images; the memorization
check of :func:`hygeia.imaging.evaluate_images` measures how close samples come to them.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hygeia.core.generator import register_generator
from hygeia.errors import ConfigError, MissingExtraError
from hygeia.imaging._baselines import ImageGenerator, derive_seed

__all__ = ["ImageLatentDiffusion"]


def _torch():
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "imaging", "The latent image diffusion model") from None
    return torch


def _cosine_alpha_bar(timesteps: int) -> np.ndarray:
    """Cumulative signal fractions ``alpha_bar[t]``, t = 0..T-1, of the cosine schedule (betas capped at 0.999)."""
    s = 0.008
    f = np.cos((np.arange(timesteps + 1) / timesteps + s) / (1 + s) * math.pi / 2) ** 2
    betas = np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
    return np.cumprod(1.0 - betas)


def _denoiser(dim: int, hidden: int, blocks: int, n_labels: int):
    torch = _torch()
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(hidden)
            self.fc1 = nn.Linear(hidden, hidden)
            self.cond = nn.Linear(hidden, hidden)
            self.fc2 = nn.Linear(hidden, hidden)

        def forward(self, h, c):
            return h + self.fc2(nn.functional.silu(self.fc1(nn.functional.silu(self.norm(h))) + self.cond(c)))

    class Denoiser(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(dim, hidden)
            self.time = nn.Sequential(nn.Linear(64, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
            self.label = nn.Embedding(n_labels, hidden)
            self.blocks = nn.ModuleList(Block() for _ in range(blocks))
            self.out = nn.Sequential(nn.LayerNorm(hidden), nn.SiLU(), nn.Linear(hidden, dim))
            self.register_buffer("freqs", torch.exp(-math.log(10_000.0) * torch.arange(32) / 32), persistent=False)

        def forward(self, z, t, labels):
            angles = t.float()[:, None] * self.freqs[None]
            c = nn.functional.silu(self.time(torch.cat([angles.sin(), angles.cos()], dim=1)) + self.label(labels))
            h = self.inp(z)
            for block in self.blocks:
                h = block(h, c)
            return self.out(h)

    return Denoiser()


@register_generator("imaging.latent_diffusion")
class ImageLatentDiffusion(ImageGenerator):
    """Label-conditional DDPM on a whitened PCA latent, sampled with DDIM, decoded through the PCA.

    Args:
        components: PCA directions of the latent (at most one less than the training images).
        residual_components: further PCA directions whose variance is put back as Gaussian noise.
        hidden: width of the denoiser's layers.
        blocks: residual blocks of the denoiser.
        epochs: passes over the training images (the ceiling on training).
        max_steps: optional ceiling on optimizer steps.
        cpu_seconds: optional budget: training stops once it has used this many CPU seconds.
        batch_size: latents per step.
        learning_rate: AdamW's peak learning rate (cosine decay to a tenth over the planned steps).
        weight_decay: AdamW's weight decay.
        ema_decay: decay of the moving average of the weights used for sampling (0: none).
        timesteps: steps of the training noise schedule (cosine).
        sample_steps: DDIM steps when sampling.
        eta: DDIM stochasticity (0: deterministic DDIM, 1: DDPM-like ancestral steps).
        workers: torch threads while fitting and sampling (1 by default: reproducible and polite).
        seed: fit seed (weights, noise, batches).

    Example:
        >>> import torch; torch.set_num_threads(1)
        >>> x = np.random.default_rng(0).normal(0, 1, (12, 16, 16)); y = ["none", "nodule"] * 6
        >>> m = ImageLatentDiffusion(components=6, residual_components=2, hidden=16, blocks=1, max_steps=3,
        ...                          sample_steps=2, seed=0).fit(x, y)
        >>> m.sample(2, label="nodule", seed=1).shape
        (2, 16, 16)
    """

    def __init__(self, *, components: int = 16, residual_components: int = 128, hidden: int = 128, blocks: int = 2,
                 epochs: int = 5_000, max_steps: int | None = None, cpu_seconds: float | None = None,
                 batch_size: int = 128, learning_rate: float = 1e-3, weight_decay: float = 0.0,
                 ema_decay: float = 0.999, timesteps: int = 1000, sample_steps: int = 100, eta: float = 1.0,
                 workers: int = 1, seed: int | None = None) -> None:
        self.components = components
        self.residual_components = residual_components
        self.hidden = hidden
        self.blocks = blocks
        self.epochs = epochs
        self.max_steps = max_steps
        self.cpu_seconds = cpu_seconds
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.ema_decay = ema_decay
        self.timesteps = timesteps
        self.sample_steps = sample_steps
        self.eta = eta
        self.workers = workers
        self.seed = seed

    #: Called after every training step with ``(step, total_steps, loss)``; the CLI draws its bar from it.
    callback: Callable[[int, int, float], None] | None = None

    def _check_params(self) -> None:
        for name in ("components", "hidden", "blocks", "epochs", "batch_size", "timesteps", "sample_steps", "workers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"{name} must be a positive integer; got {v!r}. Pass e.g. {name}=10.")
        r = self.residual_components
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0:
            raise ConfigError(f"residual_components must be an integer of at least 0; got {r!r}. "
                              "Pass e.g. residual_components=128.")
        if self.sample_steps > self.timesteps:
            raise ConfigError(f"sample_steps={self.sample_steps} exceeds timesteps={self.timesteps}; pass fewer")
        if not 0.0 <= float(self.eta) <= 1.0:
            raise ConfigError(f"eta must be between 0 and 1; got {self.eta!r}. Pass e.g. eta=1.0.")
        if not 0.0 <= float(self.ema_decay) < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1); got {self.ema_decay!r}. Pass e.g. ema_decay=0.999.")

    def _fit_scaled(self, x: np.ndarray, y: np.ndarray, seed: int) -> None:
        torch = _torch()
        self._check_params()
        flat = x.reshape(len(x), -1).astype(np.float64)
        mean = flat.mean(axis=0)
        _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
        sd = s / math.sqrt(max(len(x) - 1, 1))
        keep = int(min(self.components, max(len(x) - 1, 1), len(sd)))
        self.mean_ = mean.astype(np.float32)
        self.basis_ = vt[:keep].astype(np.float32)
        self.scales_ = np.maximum(sd[:keep], 1e-8).astype(np.float32)
        # Per label, what the kept directions leave out: its mean, its own principal directions and their
        # standard deviations (a Gaussian band), and the variance beyond them spread over the pixels.
        resid = (flat - mean) - ((flat - mean) @ vt[:keep].T) @ vt[:keep]
        self.residual_means_, self.residual_bases_, self.residual_scales_, self.pixel_noise_ = [], [], [], []
        for k in range(len(self.labels_)):
            rows = resid[y == k]
            r_mean = rows.mean(axis=0)
            _, rs, rvt = np.linalg.svd(rows - r_mean, full_matrices=False)
            rsd = rs / math.sqrt(max(len(rows) - 1, 1))
            band = int(min(self.residual_components, max(len(rows) - 1, 0), len(rsd)))
            self.residual_means_.append(r_mean.astype(np.float32))
            self.residual_bases_.append(rvt[:band].astype(np.float32))
            self.residual_scales_.append(rsd[:band].astype(np.float32))
            self.pixel_noise_.append(np.float32(math.sqrt(float(np.sum(rsd[band:] ** 2)) / flat.shape[1])))
        z = ((flat - mean) @ vt[:keep].T / self.scales_).astype(np.float32)
        # Predicted clean latents are clipped to the training latents' range per coordinate while sampling (the
        # first steps of a cosine schedule divide by a signal fraction near zero).
        self.latent_bound_ = (np.abs(z).max(axis=0) * 1.1 + 1e-3).astype(np.float32)

        alpha_bar = torch.from_numpy(_cosine_alpha_bar(int(self.timesteps)).astype(np.float32))
        threads = torch.get_num_threads()
        torch.set_num_threads(int(self.workers))
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(derive_seed(seed, 10))
                net = _denoiser(keep, int(self.hidden), int(self.blocks), len(self.labels_))
                ema = copy.deepcopy(net).requires_grad_(False)
                opt = torch.optim.AdamW(net.parameters(), lr=float(self.learning_rate),
                                        weight_decay=float(self.weight_decay))
                data, cls = torch.from_numpy(z), torch.from_numpy(y)
                rng = np.random.default_rng(derive_seed(seed, 11))
                size = int(min(self.batch_size, len(x)))
                per_epoch = max(1, len(x) // size)
                total = per_epoch * int(self.epochs)
                if self.max_steps is not None:
                    total = min(total, int(self.max_steps))
                planned = total
                start = time.process_time()
                step, losses, stopped = 0, [], "epochs"
                while step < total:
                    order = rng.permutation(len(x))
                    for b in range(per_epoch):
                        # Cosine learning-rate decay over the planned steps (or the CPU budget's share used).
                        frac = step / planned
                        if self.cpu_seconds is not None:
                            frac = max(frac, (time.process_time() - start) / float(self.cpu_seconds))
                        for group in opt.param_groups:
                            group["lr"] = float(self.learning_rate) * (0.1 + 0.45 * (1 + math.cos(math.pi * min(frac, 1.0))))
                        idx = torch.from_numpy(order[b * size:(b + 1) * size])
                        batch, labels = data[idx], cls[idx]
                        noise = torch.randn_like(batch)
                        t = torch.randint(0, int(self.timesteps), (len(batch),))
                        ab = alpha_bar[t][:, None]
                        pred = net(ab.sqrt() * batch + (1 - ab).sqrt() * noise, t, labels)
                        loss = torch.nn.functional.mse_loss(pred, noise)
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                        opt.step()
                        with torch.no_grad():
                            d = float(self.ema_decay) if step > 0 else 0.0
                            d = min(d, (1 + step) / (10 + step))
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
        self.network_ = ema.eval()
        self.train_facts_ = {"steps": step, "stopped_by": stopped,
                             "train_cpu_seconds": round(time.process_time() - start, 2),
                             "final_loss": round(float(np.mean(losses[-50:])), 5),
                             "parameters": int(sum(p.numel() for p in ema.parameters())),
                             "latent_components": keep,
                             "residual_components": [len(v) for v in self.residual_scales_]}

    def _fit_facts(self) -> dict[str, Any]:
        return dict(self.train_facts_)

    def _sample_latent(self, y: np.ndarray, gen) -> Any:
        torch = _torch()
        alpha_bar = _cosine_alpha_bar(int(self.timesteps))
        steps = np.unique(np.linspace(0, int(self.timesteps) - 1, int(self.sample_steps)).round().astype(int))[::-1]
        labels = torch.from_numpy(np.asarray(y, np.int64))
        z = torch.randn((len(y), len(self.scales_)), generator=gen)
        eta = float(self.eta)
        bound = torch.from_numpy(self.latent_bound_)
        with torch.no_grad():
            for i, t in enumerate(steps):
                ab = float(alpha_bar[t])
                ab_prev = float(alpha_bar[steps[i + 1]]) if i + 1 < len(steps) else 1.0
                eps = self.network_(z, torch.full((len(y),), int(t)), labels)
                x0 = torch.clamp((z - math.sqrt(1 - ab) * eps) / math.sqrt(ab), -bound, bound)
                eps = (z - math.sqrt(ab) * x0) / math.sqrt(1 - ab)
                sigma = eta * math.sqrt(max((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev), 0.0))
                z = math.sqrt(ab_prev) * x0 + math.sqrt(max(1 - ab_prev - sigma ** 2, 0.0)) * eps
                if sigma > 0:
                    z = z + sigma * torch.randn(z.shape, generator=gen)
        return z

    def _sample_scaled(self, y: np.ndarray, seed: int) -> np.ndarray:
        torch = _torch()
        threads = torch.get_num_threads()
        torch.set_num_threads(int(self.workers))
        try:
            gen = torch.Generator().manual_seed(int(seed))
            z = self._sample_latent(y, gen).numpy().astype(np.float64)
        finally:
            torch.set_num_threads(threads)
        rng = np.random.default_rng(derive_seed(seed, 1))
        flat = self.mean_ + (z * self.scales_) @ self.basis_
        for k in range(len(self.labels_)):
            idx = np.flatnonzero(y == k)
            if len(idx):
                e = rng.standard_normal((len(idx), len(self.residual_scales_[k]))) * self.residual_scales_[k]
                flat[idx] += self.residual_means_[k] + e @ self.residual_bases_[k] \
                    + rng.standard_normal((len(idx), flat.shape[1])) * float(self.pixel_noise_[k])
        return flat.reshape(len(y), *self.shape_).astype(np.float32)

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {f"weights.{k}": v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()}
        arrays.update(mean=self.mean_, basis=self.basis_, scales=self.scales_, latent_bound=self.latent_bound_,
                      pixel_noise=np.asarray(self.pixel_noise_, np.float32))
        for k in range(len(self.labels_)):
            arrays[f"residual_mean_{k}"], arrays[f"residual_basis_{k}"], arrays[f"residual_scales_{k}"] = (
                self.residual_means_[k], self.residual_bases_[k], self.residual_scales_[k])
        return {"train": self.train_facts_}, arrays

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        torch = _torch()
        self.mean_, self.basis_, self.scales_ = arrays["mean"], arrays["basis"], arrays["scales"]
        n = len(self.labels_)
        self.residual_means_ = [arrays[f"residual_mean_{k}"] for k in range(n)]
        self.residual_bases_ = [arrays[f"residual_basis_{k}"] for k in range(n)]
        self.residual_scales_ = [arrays[f"residual_scales_{k}"] for k in range(n)]
        self.pixel_noise_ = [np.float32(v) for v in arrays["pixel_noise"]]
        self.latent_bound_ = arrays["latent_bound"]
        net = _denoiser(len(self.scales_), int(self.hidden), int(self.blocks), len(self.labels_))
        net.load_state_dict({k[len("weights."):]: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()
                             if k.startswith("weights.")})
        self.network_ = net.eval().requires_grad_(False)
        self.train_facts_ = dict(state.get("train", {}))
