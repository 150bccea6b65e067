"""ChemNet and the Fréchet ChemNet Distance (FCD).

ChemNet (Preuer et al., *J. Chem. Inf. Model.* 58, 2018) reads a canonical
SMILES as a sequence of one-hot symbols and was trained to predict biological
activities; the 512 activations of its last LSTM layer describe a molecule.
The FCD between two sets of molecules is the Fréchet distance between Gaussians
fitted to those activations:

    FCD = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))

The network here is written in torch from the published architecture: two
1-D convolutions (32 filters, width 4, stride 2, "same" padding, SELU, no
bias), an LSTM of 128 units and an LSTM of 512 units, both reading the
sequence backwards, and the last output of the second LSTM. The pretrained
weights are read (as plain tensors, ``weights_only=True``) from the file
``ChemNet_v0.13_pretrained.pt`` of the MIT-licensed ``fcd-torch`` package,
which must be installed; nothing of that package is imported.

SMILES preprocessing, as published: RDKit's canonical SMILES, read up to its
first ``.``; a character followed by ``r``, ``i`` or ``l`` forms a
two-character symbol (``Cl``, ``Br``, ``Si``); symbols outside ChemNet's
35-symbol alphabet become ``X``; at most 349 symbols are kept, then the end
symbol ``.``; the one-hot matrix (350 x 35, zero-padded) is divided by 35.

Example:
    >>> chemnet_symbols("ClCBr")
    ['Cl', 'C', 'Br']
    >>> round(frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2)), 6)
    2.0
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from hygeia.core.atomic import atomic_output
from hygeia.errors import ConfigError, DataValidationError, MissingExtraError

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the environment
    raise MissingExtraError("torch", "molecules", "ChemNet (FCD)") from None


__all__ = [
    "CHEMNET_ALPHABET",
    "CHEMNET_LENGTH",
    "ChemNet",
    "FCDStats",
    "chemnet_activations",
    "chemnet_onehot",
    "chemnet_symbols",
    "fcd",
    "fcd_stats",
    "frechet_distance",
    "load_chemnet",
]

#: ChemNet's input alphabet, in the order of its input channels; ``X`` is "unknown", ``.`` ends.
CHEMNET_ALPHABET: tuple[str, ...] = (
    "C", "N", "O", "H", "F", "Cl", "P", "B", "Br", "S", "I", "Si", "#", "(", ")", "+", "-", "1",
    "2", "3", "4", "5", "6", "7", "8", "=", "[", "]", "@", "c", "n", "o", "s", "X", ".",
)  # fmt: skip
#: Length of ChemNet's input sequence (symbols plus end symbol plus padding).
CHEMNET_LENGTH = 350
_INDEX = {s: i for i, s in enumerate(CHEMNET_ALPHABET)}
_UNKNOWN = _INDEX["X"]
_END = _INDEX["."]
_SECOND_LETTERS = frozenset("ril")
_WEIGHTS_FILE = "ChemNet_v0.13_pretrained.pt"


def chemnet_symbols(smiles: str) -> list[str]:
    """Split a SMILES into ChemNet's symbols (before its end symbol), as published.

    The string is read up to its first ``.``; a character followed by ``r``,
    ``i`` or ``l`` forms one two-character symbol.
    """
    text = smiles.split(".", 1)[0]
    out: list[str] = []
    i = 0
    while i < len(text):
        if i + 1 < len(text) and text[i + 1] in _SECOND_LETTERS:
            out.append(text[i : i + 2])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return out


def _canonical(smiles: str) -> str:
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        raise DataValidationError(
            [f"invalid SMILES {smiles!r}"], header="ChemNet needs valid molecules (drop invalid SMILES first)"
        )
    return Chem.MolToSmiles(mol)


def chemnet_onehot(smiles: Sequence[str], *, canonical: bool = True) -> np.ndarray:
    """ChemNet's input for each SMILES: an array of shape (n, 350, 35), float32.

    Args:
        smiles: SMILES strings.
        canonical: rewrite each SMILES as RDKit's canonical SMILES first (as ChemNet expects).

    Raises:
        DataValidationError: if a SMILES does not parse (with ``canonical=True``).
    """
    out = np.zeros((len(smiles), CHEMNET_LENGTH, len(CHEMNET_ALPHABET)), dtype=np.float32)
    scale = np.float32(1.0 / len(CHEMNET_ALPHABET))
    for row, smi in enumerate(smiles):
        text = _canonical(smi) if canonical else smi
        codes = [_INDEX.get(s, _UNKNOWN) for s in chemnet_symbols(text)[: CHEMNET_LENGTH - 1]]
        codes.append(_END)
        out[row, np.arange(len(codes)), codes] = scale
    return out


def _weights_path() -> Path:
    spec = importlib.util.find_spec("fcd_torch")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("fcd-torch", "molecules", "ChemNet (FCD) reads its pretrained weights from fcd-torch and")
    return Path(next(iter(spec.submodule_search_locations))) / _WEIGHTS_FILE


def _same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow's "same" padding of (batch, channels, length): output length ceil(length / stride)."""
    length = x.shape[-1]
    out_len = -(-length // stride)
    total = max((out_len - 1) * stride + kernel - length, 0)
    return nn.functional.pad(x, (total // 2, total - total // 2))


class ChemNet(nn.Module):
    """ChemNet's feature extractor (see the module documentation).

    Input: (batch, 350, 35) one-hot rows from :func:`chemnet_onehot`; output: (batch, 512)
    activations. Load the pretrained weights with :func:`load_chemnet`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(len(CHEMNET_ALPHABET), 32, kernel_size=4, stride=2, bias=False)
        self.conv2 = nn.Conv1d(32, 32, kernel_size=4, stride=2, bias=False)
        self.lstm1 = nn.LSTM(32, 128, batch_first=True)
        self.lstm2 = nn.LSTM(128, 512, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(1, 2)  # (batch, channels, length)
        h = torch.selu(self.conv1(_same_pad(h, 4, 2)))
        h = torch.selu(self.conv2(_same_pad(h, 4, 2)))
        h = h.transpose(1, 2)  # (batch, length, channels)
        # Both LSTMs read their input backwards; the first returns its outputs in reading order.
        h, _ = self.lstm1(torch.flip(h, [1]))
        h, _ = self.lstm2(torch.flip(h, [1]))
        return h[:, -1, :]


_MODEL_CACHE: dict[str, ChemNet] = {}


def load_chemnet(path: str | os.PathLike[str] | None = None) -> ChemNet:
    """ChemNet with its pretrained weights, in evaluation mode (cached per path).

    Args:
        path: the ``ChemNet_v0.13_pretrained.pt`` file; default: the one installed with fcd-torch.

    Raises:
        MissingExtraError: if fcd-torch (which carries the weights) is not installed.
        DataValidationError: if the file does not hold ChemNet's four layers with the expected shapes.
    """
    file = Path(path) if path is not None else _weights_path()
    key = str(file.resolve())
    if key in _MODEL_CACHE:
        return _MODEL_CACHE[key]
    if not file.is_file():
        raise ConfigError(f"ChemNet weights file {str(file)!r} does not exist; install fcd-torch or pass its path")
    layers = torch.load(file, map_location="cpu", weights_only=True)
    expected = [("Conv1d", {"weight"}), ("Conv1d", {"weight"})] + [
        ("LSTM", {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"})
    ] * 2
    try:
        got = [(kind, set(cfg[0])) for kind, cfg in layers]
    except (TypeError, ValueError, IndexError):
        got = None
    if got != expected:
        raise DataValidationError(
            [f"{file}: layers {got!r}, expected {expected!r}"], header="not ChemNet v0.13 weights"
        )
    model = ChemNet()
    state = {}
    for name, (_, (weights, _, _)) in zip(("conv1", "conv2", "lstm1", "lstm2"), layers):
        state.update({f"{name}.{k}": v for k, v in weights.items()})
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise DataValidationError([f"{file}: {exc}"], header="ChemNet weights of the wrong shape") from exc
    model.eval()
    _MODEL_CACHE[key] = model
    return model


def chemnet_activations(
    smiles: Sequence[str],
    *,
    batch_size: int = 256,
    canonical: bool = True,
    model: ChemNet | None = None,
    device: str = "cpu",
) -> np.ndarray:
    """ChemNet's 512 activations for each SMILES, shape (n, 512), float32.

    Args:
        smiles: valid SMILES strings.
        batch_size: molecules per forward pass.
        canonical: canonicalise the SMILES with RDKit first (ChemNet's published input).
        model: a ChemNet from :func:`load_chemnet` (default: the installed weights).
        device: torch device to run on.

    Raises:
        DataValidationError: if a SMILES does not parse.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer; got {batch_size!r}")
    net = model if model is not None else load_chemnet()
    net = net.to(device)
    out = np.zeros((len(smiles), 512), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(smiles), batch_size):
            x = torch.from_numpy(chemnet_onehot(smiles[start : start + batch_size], canonical=canonical))
            out[start : start + len(x)] = net(x.to(device)).cpu().numpy()
    return out


class FCDStats:
    """Mean and covariance of ChemNet activations of one set of molecules.

    Args:
        mu: mean activation, shape (512,).
        sigma: covariance, shape (512, 512).
        n: number of molecules they were computed from.
    """

    def __init__(self, mu: np.ndarray, sigma: np.ndarray, n: int) -> None:
        self.mu = np.asarray(mu, dtype=np.float64)
        self.sigma = np.asarray(sigma, dtype=np.float64)
        self.n = int(n)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``mu``, ``sigma`` (float32) and ``n`` to an ``.npz`` file (atomically)."""
        with atomic_output(path, overwrite=True, what="ChemNet statistics file") as tmp:
            with open(tmp, "wb") as fh:  # a file object: np.savez would append ".npz" to a bare name
                np.savez_compressed(fh, mu=self.mu.astype(np.float32), sigma=self.sigma.astype(np.float32), n=self.n)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "FCDStats":
        """Read an ``.npz`` written by :meth:`save` (no pickles)."""
        with np.load(path, allow_pickle=False) as npz:
            return cls(npz["mu"], npz["sigma"], int(npz["n"]))


def fcd_stats(smiles: Sequence[str], **kwargs) -> FCDStats:
    """:class:`FCDStats` of a set of valid SMILES (keyword arguments go to :func:`chemnet_activations`).

    Raises:
        DataValidationError: with fewer than two molecules, or an invalid SMILES.
    """
    if len(smiles) < 2:
        raise DataValidationError(
            [f"got {len(smiles)} molecule(s)"], header="FCD needs at least two valid molecules per set"
        )
    act = chemnet_activations(smiles, **kwargs).astype(np.float64)
    return FCDStats(act.mean(0), np.cov(act, rowvar=False), len(smiles))


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    ``Tr((S1 S2)^(1/2))`` is computed as the sum of square roots of the eigenvalues of
    ``S1^(1/2) S2 S1^(1/2)`` (symmetric, positive semi-definite, same spectrum).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ConfigError(
            f"shapes do not match: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}"
        )
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = root1 @ s2 @ root1
    lam = np.linalg.eigvalsh((inner + inner.T) / 2)
    tr_cross = float(np.sqrt(np.clip(lam, 0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_cross)


def fcd(
    generated: Sequence[str] | FCDStats, reference: Sequence[str] | FCDStats, **kwargs
) -> float:
    """Fréchet ChemNet Distance between two sets of valid SMILES (or their :class:`FCDStats`).

    Keyword arguments go to :func:`chemnet_activations`.
    """
    a = generated if isinstance(generated, FCDStats) else fcd_stats(generated, **kwargs)
    b = reference if isinstance(reference, FCDStats) else fcd_stats(reference, **kwargs)
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
