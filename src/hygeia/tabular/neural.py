"""A neural table generator: a tabular variational autoencoder (TVAE), optionally DP-SGD.

:class:`NeuralSynthesizer` follows the TVAE of Xu et al. (NeurIPS 2019,
"Modeling Tabular Data using Conditional GAN"): an encoder maps a row to a
Gaussian latent code, a decoder maps the code back to a row, and training
maximises the evidence lower bound. Sampling draws codes from the prior and
decodes them.

How a row becomes a vector:

* a numeric or datetime column becomes one standard-normal score through its
  empirical distribution function (a quantile-normal transform). Columns with
  few distinct values (at most ``max(20, n / 20)``) are dequantized: a value's
  score is drawn uniformly inside its probability interval, and decoding maps
  back to the value whose interval holds the score, so every value keeps its
  exact share. Other columns keep a grid of at most 512 quantiles and decode by
  interpolation (new values between the observed ones). A column with missing
  values adds a two-way "missing" indicator; the score of a missing value is
  left out of the loss;
* a categorical column becomes a one-hot block (missing is a category of its
  own). A column with more than ``max_categories`` categories keeps the most
  frequent ``max_categories - 1`` and pools the rest into one "rare" category;
  a sampled "rare" draws one of the pooled values by its training frequency.

The decoder gives each numeric score a mean and a learned spread (one per
column), and each categorical block a softmax. Sampling is deterministic given
``seed``: latent codes, numeric noise and category draws come from numpy's
generator, and decoding always runs on the CPU.

Differential privacy: with ``epsilon`` set, training uses DP-SGD (per-example
gradient clipping to ``max_grad_norm``, Gaussian noise and Poisson-sampled
batches, through opacus), and the transform is learned from Gaussian-noised
histograms (20 bins per numeric column between its metadata bounds, log-spaced
for wide positive ranges; one count per category) instead of exact quantiles.
The histograms get about a fifth of the budget, DP-SGD the rest; both go
through opacus's RDP accountant, and the epsilon spent is recorded in
``privacy_report_`` (with delta, noise multipliers, sample rate and steps) and
in the saved model. The metadata the model saves and clips to (categories,
bounds, nullability, ``integer``/``decimals``) is outside the guarantee, so it
must be *declared* public (a codebook; see :mod:`hygeia.tabular.metadata`):
fields detected from the data are refused unless
``release_detected_metadata=True`` says in words that they are released. Values
outside the declared bounds are clipped to them, and a category outside the
declared ones counts as missing (the column must be declared nullable) so it
never reaches the saved files. ``privacy_report_["summary"]`` names what is
and is not covered. The noise comes from torch's seeded generator
(reproducible), not a cryptographic one; under DP the seed is not saved.

Weights are saved as numpy arrays in ``arrays.npz``; loading rebuilds the
network from them (no ``torch.save``, no pickles).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [40.5, 51.0, 63.25, 70.0] * 10, "sex": ["F", "M", "F", "M"] * 10})
    >>> model = NeuralSynthesizer(epochs=2, batch_size=20, seed=0).fit(df)
    >>> sample = model.sample(3, seed=1)
    >>> sample.columns.tolist(), set(sample["sex"]) <= {"F", "M"}
    (['age', 'sex'], True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from hygeia.core.generator import register_generator
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError, MissingExtraError
from hygeia.tabular._base import TabularGenerator
from hygeia.tabular._public_domain import check_public_domain, domain_report, guarantee_summary
from hygeia.tabular.metadata import Metadata

__all__ = ["NeuralSynthesizer"]

_MAX_QUANTILES = 512
_DP_BINS = 20
_DP_HISTOGRAM_SHARE = 0.2  # share of epsilon spent on the transform's histograms
_EPS = 1e-6
_CHUNK = 65_536  # rows decoded at a time while sampling
#: Renyi orders for the accountant. opacus's defaults stop at 63, too low for the strongly noised
#: histograms alone (their optimum order sits in the thousands; full-batch orders cost nothing);
#: orders of subsampled steps cost time linear in the order, so those stop at 1024.
_ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(11, 64)) + [int(a) for a in np.geomspace(64, 1024, 13)]
_ALPHAS_FULL_BATCH = _ALPHAS + [int(a) for a in np.geomspace(1200, 1e6, 40)]


def _torch():
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "neural", "The neural table generator") from None
    return torch


def _opacus():
    try:
        import opacus
    except ImportError:
        raise MissingExtraError("opacus", "dp-neural", "Differentially private training (epsilon=...)") from None
    return opacus


# ---------------------------------------------------------------------------------------------
# The transform: table <-> vectors
# ---------------------------------------------------------------------------------------------


class _Transform:
    """Turns the modelled columns into network inputs and decoder outputs back into columns.

    ``columns`` holds one dict per column: ``name``, ``kind`` ("num" or "cat"), and
    for "num": ``discrete`` (bool), ``missing`` (has an indicator); for "cat":
    ``values`` (kept categories, JSON scalars; ``None`` for missing) and ``rare``
    (the pooled values, empty when none). Arrays: ``{name}.v`` / ``{name}.p``
    (numeric knots: values and probabilities), ``{name}.rare_p`` (pooled frequencies).
    """

    def __init__(self, columns: list[dict[str, Any]], arrays: dict[str, np.ndarray]) -> None:
        self.columns = columns
        self.arrays = arrays
        self.num = [c for c in columns if c["kind"] == "num"]
        self.cat_blocks: list[tuple[str, int]] = []  # (column name, width) of each softmax block
        for c in columns:
            if c["kind"] == "num" and c["missing"]:
                self.cat_blocks.append((c["name"], 2))
            elif c["kind"] == "cat":
                self.cat_blocks.append((c["name"], len(c["values"]) + (1 if c["rare"] else 0)))
        self.n_num = len(self.num)
        self.width = self.n_num + sum(w for _, w in self.cat_blocks)

    # -- fitting ------------------------------------------------------------------------------
    @classmethod
    def fit(cls, df: pd.DataFrame, meta: Metadata, max_categories: int) -> "_Transform":
        columns: list[dict[str, Any]] = []
        arrays: dict[str, np.ndarray] = {}
        for spec in meta.modelled:
            s = df[spec.name]
            if spec.type in ("numeric", "datetime"):
                x = s.to_numpy(dtype=float)
                x = x[np.isfinite(x)]
                uniq, counts = np.unique(x, return_counts=True)
                discrete = len(uniq) <= max(20, len(x) // 20)
                if len(x) == 0:  # declared numeric but entirely missing: always sampled missing
                    v, p = np.zeros(1), np.ones(1)
                elif discrete:
                    v, p = uniq, np.cumsum(counts) / counts.sum()
                else:
                    p = np.linspace(0.0, 1.0, min(_MAX_QUANTILES, len(x)))
                    v, first = np.unique(np.quantile(x, p), return_index=True)
                    p = p[first]
                columns.append({"name": spec.name, "kind": "num", "discrete": bool(discrete),
                                "missing": bool(len(x) < len(s))})
                arrays[f"{spec.name}.v"], arrays[f"{spec.name}.p"] = v.astype(float), p.astype(float)
            else:
                counts = s.astype(object).where(s.notna(), None).value_counts(dropna=False)
                columns.append(_category_column(spec.name, list(counts.index), counts.to_numpy(float),
                                                max_categories, arrays))
        return cls(columns, arrays)

    @classmethod
    def fit_private(cls, df: pd.DataFrame, meta: Metadata, max_categories: int, noise_multiplier: float,
                    rng: np.random.Generator) -> "_Transform":
        """The transform from Gaussian-noised histograms (L2 sensitivity sqrt(#columns))."""
        columns: list[dict[str, Any]] = []
        arrays: dict[str, np.ndarray] = {}
        sigma = noise_multiplier * math.sqrt(len(meta.modelled))
        unseen: list[str] = []
        for spec in meta.modelled:
            s = df[spec.name]
            if spec.type in ("numeric", "datetime"):
                x = s.to_numpy(dtype=float)
                ok = np.isfinite(x)
                if spec.low is None or spec.high is None:
                    unseen.append(f"column {spec.name!r} has no low/high bounds in the metadata; set public bounds")
                    continue
                low, high = float(spec.low), float(spec.high)
                if high <= low:
                    high = low + 1.0
                if low > 0 and high / low >= 20:  # wide positive ranges (lab values): log-spaced bins
                    edges = np.geomspace(low, high, _DP_BINS + 1)
                else:
                    edges = np.linspace(low, high, _DP_BINS + 1)
                hist = np.histogram(np.clip(x[ok], low, high), bins=edges)[0].astype(float)
                hist = np.clip(hist + rng.normal(0.0, sigma, hist.shape), 0.0, None) + 1e-3
                p = np.r_[0.0, np.cumsum(hist) / hist.sum()]
                if not ok.all() and not spec.missing > 0:
                    unseen.append(f"column {spec.name!r} has missing values but its declared missing share is 0; "
                                  "declare it nullable (missing > 0)")
                    continue
                columns.append({"name": spec.name, "kind": "num", "discrete": False, "missing": bool(spec.missing > 0)})
                arrays[f"{spec.name}.v"], arrays[f"{spec.name}.p"] = edges, p
            else:
                values = list(spec.categories or [])
                if spec.missing > 0:
                    values.append(None)
                codes = {_key(v): i for i, v in enumerate(values)}
                observed = np.zeros(len(values))
                for v, k in s.astype(object).where(s.notna(), None).value_counts(dropna=False).items():
                    if _key(v) not in codes:
                        unseen.append(f"column {spec.name!r} holds {v!r}, not among its metadata categories {values}")
                        continue
                    observed[codes[_key(v)]] += k
                noisy = np.clip(observed + rng.normal(0.0, sigma, len(values)), 0.0, None) + 1e-3
                columns.append(_category_column(spec.name, values, noisy, max_categories, arrays))
        if unseen:
            raise DataValidationError(
                unseen, header="under DP the bounds and categories come from the metadata (public); complete it"
            )
        return cls(columns, arrays)

    # -- forward ------------------------------------------------------------------------------
    def encode(self, df: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(inputs [n, width], numeric presence mask [n, n_num], category codes [n, n_blocks])."""
        n = len(df)
        scores = np.zeros((n, self.n_num))
        present = np.ones((n, self.n_num))
        codes = np.zeros((n, len(self.cat_blocks)), dtype=np.int64)
        j = b = 0
        for c in self.columns:
            if c["kind"] == "num":
                x = df[c["name"]].to_numpy(dtype=float)
                ok = np.isfinite(x)
                scores[ok, j] = self._to_score(c, x[ok], rng)
                present[:, j] = ok
                if c["missing"]:
                    codes[:, b] = ~ok
                    b += 1
                j += 1
            else:
                index = {_key(v): i for i, v in enumerate(c["values"])}
                rare = len(c["values"])
                s = df[c["name"]].astype(object).where(df[c["name"]].notna(), None)
                codes[:, b] = [index.get(_key(v), rare) for v in s]
                b += 1
        onehots = [np.eye(w)[codes[:, i]] for i, (_, w) in enumerate(self.cat_blocks)]
        inputs = np.concatenate([scores, *onehots], axis=1) if onehots else scores
        return inputs.astype(np.float32), present.astype(np.float32), codes

    def _to_score(self, c: dict[str, Any], x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        v, p = self.arrays[f"{c['name']}.v"], self.arrays[f"{c['name']}.p"]
        if c["discrete"]:
            i = np.clip(np.searchsorted(v, x), 0, len(v) - 1)
            lower = np.where(i > 0, p[np.maximum(i - 1, 0)], 0.0)
            u = lower + rng.random(len(x)) * (p[i] - lower)
        else:
            u = np.interp(x, v, p) if len(v) > 1 else np.full(len(x), 0.5)
        return ndtri(np.clip(u, _EPS, 1 - _EPS))

    # -- backward -----------------------------------------------------------------------------
    def decode(self, scores: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Columns from sampled numeric scores [n, n_num] and category codes [n, n_blocks]."""
        out: dict[str, Any] = {}
        j = b = 0
        for c in self.columns:
            if c["kind"] == "num":
                v, p = self.arrays[f"{c['name']}.v"], self.arrays[f"{c['name']}.p"]
                u = ndtr(scores[:, j])
                if c["discrete"]:
                    x = v[np.clip(np.searchsorted(p, u), 0, len(v) - 1)]
                else:
                    x = np.interp(u, p, v) if len(v) > 1 else np.full(len(u), v[0])
                x = x.astype(float)
                if c["missing"]:
                    x[codes[:, b] == 1] = np.nan
                    b += 1
                out[c["name"]] = x
                j += 1
            else:
                values = np.empty(len(c["values"]) + 1, dtype=object)
                values[: len(c["values"])] = c["values"]
                col = values[codes[:, b]]
                pooled = codes[:, b] == len(c["values"])
                if pooled.any():
                    weights = self.arrays[f"{c['name']}.rare_p"]
                    col[pooled] = np.asarray(c["rare"], dtype=object)[rng.choice(len(weights), pooled.sum(), p=weights)]
                out[c["name"]] = col
                b += 1
        return pd.DataFrame(out)


def _key(v: Any) -> Any:
    """A dict key under which 1, 1.0 and True-like JSON round trips meet."""
    if v is None:
        return ("none",)
    if isinstance(v, (bool, np.bool_)):
        return ("bool", bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return ("num", float(v))
    return ("str", str(v))


def _category_column(name: str, values: list[Any], counts: np.ndarray, max_categories: int,
                     arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    order = np.argsort(-counts, kind="stable")
    if len(values) <= max_categories:
        return {"name": name, "kind": "cat", "values": [values[i] for i in sorted(order)], "rare": []}
    keep, pool = order[: max_categories - 1], order[max_categories - 1:]
    arrays[f"{name}.rare_p"] = counts[pool] / counts[pool].sum()
    return {"name": name, "kind": "cat", "values": [values[i] for i in keep], "rare": [values[i] for i in pool]}


# ---------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------


def _build_network(torch: Any, width: int, n_num: int, embedding_dim: int, hidden: Sequence[int]) -> Any:
    nn = torch.nn

    def mlp(sizes: list[int]) -> Any:
        layers: list[Any] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        return nn.Sequential(*layers)

    class TVAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = mlp([width, *hidden])
            self.mu = nn.Linear(hidden[-1] if hidden else width, embedding_dim)
            self.logvar = nn.Linear(hidden[-1] if hidden else width, embedding_dim)
            self.decoder = mlp([embedding_dim, *reversed(hidden)])
            self.out = nn.Linear(hidden[0] if hidden else embedding_dim, width)
            # One log-spread per numeric score, as a bias-only layer so opacus can clip it per example.
            self.log_sigma = nn.Linear(1, max(n_num, 1))
            nn.init.zeros_(self.log_sigma.weight)
            nn.init.zeros_(self.log_sigma.bias)
            self.log_sigma.weight.requires_grad_(False)

        def decode(self, z: Any) -> Any:
            return self.out(self.decoder(z))

        def forward(self, x: Any, noise: Any) -> tuple[Any, Any, Any, Any]:
            h = self.encoder(x)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + noise * torch.exp(0.5 * logvar)
            # The constant input follows x's requires_grad: opacus's backward hooks need inputs that do.
            one = torch.ones_like(x[:, :1]).requires_grad_(x.requires_grad)
            return self.decode(z), mu, logvar, self.log_sigma(one)

    return TVAE()


class _Loss:
    """Per-example negative ELBO terms of a batch (vectorised over the softmax blocks)."""

    def __init__(self, torch: Any, transform: _Transform, loss_factor: float, device: Any) -> None:
        self.torch = torch
        self.n_num = transform.n_num
        self.loss_factor = loss_factor
        widths = [w for _, w in transform.cat_blocks]
        self.n_blocks = len(widths)
        if widths:
            k = max(widths)
            index = np.zeros((len(widths), k), dtype=np.int64)
            pad = np.zeros((len(widths), k), dtype=np.float32)
            start = self.n_num
            for i, w in enumerate(widths):
                index[i, :w] = np.arange(start, start + w)
                pad[i, w:] = -1e9
                start += w
            self.index = torch.as_tensor(index, device=device)
            self.pad = torch.as_tensor(pad, device=device)

    def __call__(self, out: Any, x: Any, present: Any, codes: Any, mu: Any, logvar: Any, log_sigma: Any) -> Any:
        torch = self.torch
        total = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
        if self.n_num:
            ls = log_sigma[:, : self.n_num]
            err = (x[:, : self.n_num] - out[:, : self.n_num]) / ls.exp()
            total = total + self.loss_factor * ((0.5 * err.pow(2) + ls) * present).sum(dim=1)
        if self.n_blocks:
            logits = out[:, self.index] + self.pad
            logp = torch.log_softmax(logits, dim=2)
            total = total - logp.gather(2, codes.unsqueeze(2)).squeeze(2).sum(dim=1)
        return total


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


@register_generator("tabular.neural")
class NeuralSynthesizer(TabularGenerator):
    """Tabular variational autoencoder (TVAE), optionally trained with DP-SGD.

    Args:
        epochs: passes over the training rows; ``None`` means at least 40 and at least 1,000
            gradient steps (``max(40, ceil(1000 / steps per epoch))``), so small tables train
            enough; 20 under DP-SGD.
        batch_size: rows per gradient step (the expected size under DP-SGD's Poisson sampling);
            ``None`` means 250, and 1,000 under DP-SGD (where larger batches average the noise down).
        embedding_dim: size of the latent code.
        hidden_dims: widths of the encoder's hidden layers (the decoder mirrors them).
        learning_rate: Adam's learning rate; ``None`` means 1e-3, and 1e-2 under DP-SGD (fewer, noisier steps).
        weight_decay: Adam's L2 penalty.
        loss_factor: weight of the numeric reconstruction term (TVAE's default 2).
        max_categories: categorical columns with more categories keep the most frequent
            ``max_categories - 1`` and pool the rest (sampled by frequency).
        seed: seed of the training run (weights, batches, noise); ``None`` draws one, recorded in ``seed_``
            (under DP neither is saved: whoever knows the seed could subtract the noise).
        device: ``"cpu"`` or a CUDA device (``"cuda"``, ``"cuda:1"``) for training; sampling runs on the CPU.
        epsilon: privacy budget; when set, training is DP-SGD (needs opacus: ``pip install 'hygeia[dp-neural]'``).
        delta: DP delta; ``None`` means ``min(1e-5, 1 / (10 n))`` for ``n`` training rows.
        max_grad_norm: DP-SGD's per-example gradient clipping bound.
        release_detected_metadata: under DP, accept that metadata fields detected from the data
            (categories, bounds, nullability, decimals) are saved outside the guarantee; without it
            they must be declared public or the fit is refused.
        verbose: print the loss of each epoch.

    Example:
        >>> model = NeuralSynthesizer(epochs=50, seed=0)
        >>> model.get_params()["epochs"], model.get_params()["batch_size"]
        (50, None)
    """

    spec_version = 1

    def __init__(
        self,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        embedding_dim: int = 64,
        hidden_dims: Sequence[int] = (128, 128),
        learning_rate: float | None = None,
        weight_decay: float = 1e-5,
        loss_factor: float = 2.0,
        max_categories: int = 50,
        seed: int | None = None,
        device: str = "cpu",
        epsilon: float | None = None,
        delta: float | None = None,
        max_grad_norm: float = 1.0,
        release_detected_metadata: bool = False,
        verbose: bool = False,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.hidden_dims = hidden_dims
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.loss_factor = loss_factor
        self.max_categories = max_categories
        self.seed = seed
        self.device = device
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.release_detected_metadata = release_detected_metadata
        self.verbose = verbose

    # -- parameters ---------------------------------------------------------------------------
    def saved_params(self) -> dict[str, Any]:
        """The parameters as saved: under DP without the noise seed."""
        params = super().saved_params()
        if self.epsilon is not None:
            params["seed"] = None
        return params

    # -- the public domain under DP -------------------------------------------------------------
    def _check_table(self, data: Any, metadata: Metadata | None) -> tuple[pd.DataFrame, Metadata]:
        self._check_params()
        if self.epsilon is not None:
            _opacus()
        df, meta = super()._check_table(data, metadata)
        if self.epsilon is not None:
            self._needed = {c.name: ["missing"] + (["categories"] if c.type == "categorical" else ["low", "high"])
                            + (["integer"] + (["decimals"] if c.decimals is not None else [])
                               if c.type == "numeric" else [])
                            for c in meta.modelled}
            self._released = check_public_domain(meta, self._needed, release=bool(self.release_detected_metadata),
                                                 model="neural (DP-SGD)")
        return df, meta

    def _model_frame(self, df: pd.DataFrame, meta: Metadata) -> pd.DataFrame:
        """Under DP, values outside the declared domain: numbers clipped, categories made missing."""
        frame = super()._model_frame(df, meta)
        if self.epsilon is None:
            return frame
        for c in meta.modelled:
            s = frame[c.name]
            if c.type == "categorical" and c.missing > 0:
                allowed = {_key(v) for v in c.categories or []}
                frame[c.name] = s.map(lambda v: v if v is None or _key(v) in allowed else None)
            elif c.type != "categorical" and c.low is not None and c.high is not None:
                frame[c.name] = s.clip(float(c.low), float(c.high))
        return frame

    def _check_params(self) -> None:
        def positive_int(name: str) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"{name} must be a positive integer; got {v!r}. Pass e.g. {name}=100.")

        def positive(name: str, allow_zero: bool = False) -> None:
            v = getattr(self, name)
            ok = isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v)
            if not ok or v < 0 or (v == 0 and not allow_zero):
                bound = "non-negative" if allow_zero else "positive"
                raise ConfigError(f"{name} must be a {bound} number; got {v!r}.")

        positive_int("embedding_dim")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) is not None:
                positive_int(name)
        if self.max_categories in (0, 1) or isinstance(self.max_categories, bool):
            raise ConfigError(f"max_categories must be an integer >= 2; got {self.max_categories!r}.")
        positive_int("max_categories")
        hidden = self.hidden_dims
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence) or not all(
            isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h >= 1 for h in hidden
        ) or not hidden:
            raise ConfigError(f"hidden_dims must be a non-empty list of positive integers; got {hidden!r}. "
                              "Pass e.g. hidden_dims=(128, 128).")
        if self.learning_rate is not None:
            positive("learning_rate")
        positive("weight_decay", allow_zero=True)
        positive("loss_factor")
        positive("max_grad_norm")
        if self.epsilon is not None:
            positive("epsilon")
        if self.delta is not None and not (isinstance(self.delta, float) and 0 < self.delta < 1):
            raise ConfigError(f"delta must be a float in (0, 1); got {self.delta!r}. Pass e.g. delta=1e-5.")
        if not isinstance(self.device, str) or not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ConfigError(f"device must be 'cpu' or 'cuda' (or 'cuda:N'); got {self.device!r}.")
        resolve_seed(self.seed)

    def _torch_device(self, torch: Any) -> Any:
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"device={self.device!r} was asked for but torch sees no CUDA GPU; pass device='cpu'.")
        return torch.device(self.device)

    # -- fitting ------------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame, meta: Metadata) -> None:
        self._check_params()
        torch = _torch()
        if self.epsilon is not None:
            _opacus()
        device = self._torch_device(torch)
        seed = resolve_seed(self.seed)
        rng = np.random.default_rng(seed)
        n = len(df)
        dp = self.epsilon is not None
        batch = min(n, int(self.batch_size if self.batch_size is not None else 1000 if dp else 250))
        lr = float(self.learning_rate if self.learning_rate is not None else 1e-2 if dp else 1e-3)
        epochs = int(self.epochs) if self.epochs is not None else 20 if dp else _auto_epochs(n, batch)
        privacy: dict[str, Any] | None = None
        if self.epsilon is None:
            transform = _Transform.fit(df, meta, int(self.max_categories))
        else:
            delta = float(self.delta) if self.delta is not None else min(1e-5, 1.0 / (10 * n))
            per_epoch = math.ceil(n / batch)  # Poisson batches of rate 1 / per_epoch
            steps = epochs * per_epoch
            noise_hist, noise_sgd = _split_budget(float(self.epsilon), delta, 1.0 / per_epoch, steps)
            transform = _Transform.fit_private(df, meta, int(self.max_categories), noise_hist, rng)
            privacy = {"guarantee": "(epsilon, delta)-differential privacy for adding or removing one row "
                       "(DP-SGD and noised histograms, RDP accountant)",
                       "epsilon_target": float(self.epsilon), "delta": delta, "noise_multiplier": noise_sgd,
                       "histogram_noise_multiplier": noise_hist, "sample_rate": 1.0 / per_epoch, "steps": steps,
                       "max_grad_norm": float(self.max_grad_norm)}
        inputs, present, codes = transform.encode(df, rng)
        hidden = [int(h) for h in self.hidden_dims]
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            net = _build_network(torch, transform.width, transform.n_num, int(self.embedding_dim), hidden).to(device)
            loss_fn = _Loss(torch, transform, float(self.loss_factor), device)
            data = [torch.as_tensor(a, device=device) for a in (inputs, present, codes)]
            if privacy is None:
                history = self._train(torch, net, loss_fn, data, epochs, batch, lr)
            else:
                history, spent = self._train_private(torch, net, loss_fn, data, epochs, batch, lr, privacy, seed)
                privacy["epsilon"] = spent
                domain = domain_report(meta, self._needed, self._released)
                privacy["public_inputs"] = domain
                privacy["summary"] = guarantee_summary(spent, delta, domain, [])
        self.transform_ = transform
        self.network_ = net.to("cpu").eval()
        self.seed_ = seed
        self.loss_history_ = np.asarray(history, dtype=float)
        self.epochs_ = epochs
        self.privacy_report_ = privacy

    def _train(self, torch: Any, net: Any, loss_fn: _Loss, data: list[Any], epochs: int, batch: int,
               lr: float) -> list[float]:
        optimizer = _Adam(torch, [p for p in net.parameters() if p.requires_grad], lr, float(self.weight_decay))
        n = len(data[0])
        history = []
        net.train()
        for epoch in range(epochs):
            order = torch.randperm(n, device=data[0].device)
            total = 0.0
            for start in range(0, n - batch + 1, batch):
                idx = order[start: start + batch]
                x, present, codes = (d[idx] for d in data)
                out, mu, logvar, log_sigma = net(x, torch.randn(len(idx), int(self.embedding_dim), device=x.device))
                loss = loss_fn(out, x, present, codes, mu, logvar, log_sigma).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(idx)
            history.append(total / (n - n % batch))
            self._report(epoch, epochs, history[-1])
        return history

    def _train_private(self, torch: Any, net: Any, loss_fn: _Loss, data: list[Any], epochs: int, batch: int,
                       lr: float, privacy: dict[str, Any], seed: int) -> tuple[list[float], float]:
        from opacus import GradSampleModule
        from opacus.accountants import RDPAccountant
        from opacus.data_loader import DPDataLoader
        from opacus.optimizers import DPOptimizer

        n = len(data[0])
        sample_rate = privacy["sample_rate"]
        expected_batch = max(1, int(n * sample_rate))
        noise = torch.Generator(device=data[0].device).manual_seed(seed)
        sampling = torch.Generator().manual_seed(seed + 1)
        model = GradSampleModule(net, loss_reduction="mean")
        optimizer = DPOptimizer(
            torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=lr,
                             weight_decay=float(self.weight_decay)),
            noise_multiplier=privacy["noise_multiplier"], max_grad_norm=float(self.max_grad_norm),
            expected_batch_size=expected_batch, loss_reduction="mean", generator=noise,
        )
        accountant = RDPAccountant()
        # The transform's histograms: one Gaussian mechanism on the full data, before training.
        accountant.history.append((privacy["histogram_noise_multiplier"], 1.0, 1))
        loader = DPDataLoader.from_data_loader(
            torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*data), batch_size=batch),
            generator=sampling,
        )
        history = []
        model.train()
        steps = 0
        for epoch in range(epochs):
            total, count = 0.0, 0
            for x, present, codes in loader:
                steps += 1
                accountant.step(noise_multiplier=privacy["noise_multiplier"], sample_rate=sample_rate)
                if len(x) == 0:  # an empty Poisson batch: nothing to learn; still accounted (conservative)
                    continue
                optimizer.zero_grad(set_to_none=True)
                x.requires_grad_(True)  # opacus's per-example hooks fire cleanly only on inputs that need grads
                out, mu, logvar, log_sigma = model(x, torch.randn(len(x), int(self.embedding_dim), device=x.device))
                per_example = loss_fn(out, x, present, codes, mu, logvar, log_sigma)
                per_example.mean().backward()
                optimizer.step()
                total += float(per_example.detach().sum())
                count += len(x)
            history.append(total / max(count, 1))
            self._report(epoch, epochs, history[-1])
        model.to_standard_module()
        privacy["steps"] = steps
        return history, float(accountant.get_epsilon(delta=privacy["delta"], alphas=_ALPHAS))

    def _report(self, epoch: int, epochs: int, loss: float) -> None:
        if self.verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {loss:.4f}")

    # -- sampling -----------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        parts = [self._sample_chunk(min(_CHUNK, n - start), rng) for start in range(0, n, _CHUNK)]
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def _sample_chunk(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        torch = _torch()
        t = self.transform_
        z = rng.standard_normal((n, int(self.embedding_dim))).astype(np.float32)
        with torch.no_grad():
            net = self.network_
            out = net.decode(torch.from_numpy(z)).numpy().astype(float)
            sigma = np.exp(net.log_sigma.bias.numpy().astype(float))[: t.n_num]
        scores = out[:, : t.n_num] + rng.standard_normal((n, t.n_num)) * sigma
        codes = np.zeros((n, len(t.cat_blocks)), dtype=np.int64)
        start = t.n_num
        for b, (_, w) in enumerate(t.cat_blocks):  # one categorical draw per block, by inverse CDF
            logits = out[:, start: start + w]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            cdf = np.cumsum(p, axis=1)
            u = rng.random(n) * cdf[:, -1]
            codes[:, b] = np.minimum((cdf < u[:, None]).sum(axis=1), w - 1)
            start += w
        return t.decode(scores, codes, rng)

    # -- state --------------------------------------------------------------------------------
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {f"transform/{k}": v for k, v in self.transform_.arrays.items()}
        for k, v in self.network_.state_dict().items():
            arrays[f"network/{k}"] = v.detach().cpu().numpy()
        arrays["loss_history"] = self.loss_history_
        state = {"columns": self.transform_.columns, "epochs": self.epochs_,
                 "seed": None if self.epsilon is not None else self.seed_}
        return state, arrays

    def _set_model_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        torch = _torch()
        t = _Transform(state["columns"], {k[len("transform/"):]: v for k, v in arrays.items()
                                          if k.startswith("transform/")})
        hidden = [int(h) for h in self.hidden_dims]
        net = _build_network(torch, t.width, t.n_num, int(self.embedding_dim), hidden)
        weights = {k[len("network/"):]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                   if k.startswith("network/")}
        try:
            net.load_state_dict(weights)
        except RuntimeError as exc:
            raise DataValidationError([f"network weights do not match the saved parameters: {exc}"],
                                      header="corrupt neural model folder") from exc
        self.transform_ = t
        self.network_ = net.eval()
        self.seed_ = state["seed"]
        self.loss_history_ = np.asarray(arrays["loss_history"], dtype=float)
        if state.get("privacy"):  # models saved before the report moved to spec.json
            self.privacy_report_ = state["privacy"]
        self.epochs_ = int(state["epochs"])


class _Adam:
    """Adam (Kingma & Ba, 2015) with L2 weight decay added to the gradient, as ``torch.optim.Adam``.

    Written out because constructing ``torch.optim.Adam`` first imports torch's compiler stack
    (about 2 CPU-seconds per process), more than a seventh of the training budget.
    """

    def __init__(self, torch: Any, params: list[Any], lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.torch, self.params, self.lr, self.weight_decay = torch, params, lr, weight_decay
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        self.t += 1
        c1 = 1.0 - self.beta1**self.t
        c2 = 1.0 - self.beta2**self.t
        with self.torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v):
                if p.grad is None:
                    continue
                g = p.grad.add(p, alpha=self.weight_decay) if self.weight_decay else p.grad
                m.mul_(self.beta1).add_(g, alpha=1.0 - self.beta1)
                v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
                denom = (v / c2).sqrt_().add_(self.eps)
                p.addcdiv_(m, denom, value=-self.lr / c1)


def _auto_epochs(n: int, batch: int) -> int:
    """At least 40 epochs and at least 1,000 gradient steps."""
    return max(40, math.ceil(1000 / max(1, n // batch)))


def _split_budget(epsilon: float, delta: float, sample_rate: float, steps: int) -> tuple[float, float]:
    """Noise multipliers (histograms, DP-SGD) that together spend ``epsilon`` under RDP accounting."""
    from opacus.accountants import RDPAccountant

    def spent(history: list[tuple[float, float, int]]) -> float:
        acc = RDPAccountant()
        acc.history = list(history)
        alphas = _ALPHAS_FULL_BATCH if all(q == 1.0 for _, q, _ in history) else _ALPHAS
        return float(acc.get_epsilon(delta=delta, alphas=alphas))

    def search(target: float, history_of: Any) -> float:
        low, high = 0.1, 1.0
        while spent(history_of(high)) > target:
            low, high = high, high * 2
            if high > 1e6:
                raise ConfigError(f"epsilon={epsilon} is too small to train at all; raise epsilon or delta")
        for _ in range(14):  # bisection in log scale: the noise is within 0.005 % of the smallest that fits
            mid = math.sqrt(low * high)
            low, high = (mid, high) if spent(history_of(mid)) > target else (low, mid)
        return high

    noise_hist = search(_DP_HISTOGRAM_SHARE * epsilon, lambda s: [(s, 1.0, 1)])
    noise_sgd = search(epsilon, lambda s: [(noise_hist, 1.0, 1), (s, sample_rate, steps)])
    return noise_hist, noise_sgd
