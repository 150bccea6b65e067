"""Distribution-learning metrics of the MOSES benchmark (Polykovskiy et al., 2020).

Written from the paper's definitions; ``G`` is the list of generated SMILES,
its valid molecules those RDKit parses (non-empty):

- ``valid``: share of ``G`` that is valid;
- ``unique@k``: share of distinct canonical SMILES among the first ``k`` valid
  molecules (all valid ones when fewer than ``k``);
- ``Novelty``: share of distinct valid molecules not in the training set;
- ``FCD``: Fréchet ChemNet Distance to a reference set (:mod:`.chemnet`);
- ``SNN``: mean over valid molecules of the Tanimoto similarity to the
  nearest reference molecule (Morgan radius 2, 1024 bits);
- ``Frag`` / ``Scaf``: cosine similarity of the counts of BRICS fragments /
  Bemis-Murcko scaffolds in the valid molecules and in the reference set;
  as in MOSES's published results, only scaffolds of two rings or more are
  counted (:data:`SCAFFOLD_MIN_RINGS`);
- ``IntDiv``/``IntDiv2``: as MOSES computes them, ``1 - mean_i (mean_j T(i, j)^p)^(1/p)``
  for p = 1, 2, over all valid molecules i and j (duplicates kept, i = j included): the
  p-th root is taken per molecule, then averaged (for p = 2 this is not
  ``1 - sqrt(mean T^2)``, the power mean over all pairs);
- ``Filters``: share of valid molecules passing the MOSES filters (:mod:`.filters`);
- ``logP``, ``SA``, ``QED``, ``weight`` (optional): Wasserstein-1 distance of
  the property's distribution to the reference set's.

:func:`moses_metrics` returns them all, as MOSES reports them, against the
MOSES test (``/Test``) and scaffold-test (``/TestSF``) sets by default. The
ChemNet statistics of those sets ship with Hygeia; their fingerprints,
fragments and scaffolds (and properties, if asked) are computed once and
cached under ``$HYGEIA_CACHE_DIR`` (default ``~/.cache/hygeia``).

Tanimoto similarities of one molecule to a whole set are computed by summing
the reference set's bit columns (one row of bytes per bit of the query), so
nearest-neighbour searches need no pairwise loop in Python.

Example:
    >>> fraction_valid(["CCO", "C1CC", "c1ccccc1"])
    0.6666666666666666
    >>> fraction_unique(["CCO", "OCC", "CCN"])
    0.6666666666666666
    >>> internal_diversity(["CCO", "CCO"])
    0.0
    >>> novelty(["CCO", "CCN"], train=["OCC"])
    0.5
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.atomic import atomic_output
from hygeia.errors import ConfigError, DataValidationError

try:
    from rdkit import Chem, rdBase
    from rdkit.Chem import BRICS, rdFingerprintGenerator, rdMolDescriptors
    from rdkit.Chem.Scaffolds import MurckoScaffold
except ImportError:  # pragma: no cover - depends on the environment
    from hygeia.errors import MissingExtraError

    raise MissingExtraError("rdkit", "molecules", "Molecule metrics") from None

__all__ = [
    "PROPERTIES",
    "SCAFFOLD_MIN_RINGS",
    "ReferenceStats",
    "TanimotoIndex",
    "brics_fragments",
    "cosine_similarity",
    "default_cache_dir",
    "filters_pass_rate",
    "fraction_unique",
    "fraction_valid",
    "fragment_similarity",
    "internal_diversity",
    "morgan_fingerprints",
    "moses_metrics",
    "moses_reference",
    "murcko_scaffold",
    "novelty",
    "parse_smiles",
    "property_distances",
    "reference_stats",
    "scaffold_similarity",
    "snn",
]

#: Properties compared by Wasserstein distance, in MOSES's names.
PROPERTIES = ("logP", "SA", "QED", "weight")
#: Fingerprint of SNN and IntDiv: Morgan, radius 2, 1024 bits.
FP_RADIUS, FP_BITS = 2, 1024
#: Scaffolds with fewer rings are not counted by Scaf (MOSES's reported numbers count these only).
SCAFFOLD_MIN_RINGS = 2
_RESOURCES = Path(__file__).with_name("resources")
_CACHE_VERSION = 1
#: Below this many molecules, work stays in this process even with ``workers > 1``.
_MIN_PARALLEL = 2000


# -- molecules and their features ---------------------------------------------------------------


def parse_smiles(smiles: Iterable[Any]) -> list[Chem.Mol | None]:
    """RDKit molecules, ``None`` for anything that is not a non-empty valid SMILES (quietly)."""
    return list(_iter_mols(smiles))


def _iter_mols(smiles: Iterable[Any]):
    """:func:`parse_smiles` one molecule at a time (only one RDKit molecule alive at once: an
    RDKit molecule takes tens of kilobytes, so a list of 30,000 would hold about a gigabyte)."""
    with rdBase.BlockLogs():
        for s in smiles:
            mol = Chem.MolFromSmiles(s) if isinstance(s, str) and s.strip() else None
            yield mol if mol is not None and mol.GetNumAtoms() > 0 else None


@lru_cache(maxsize=8)
def _morgan(radius: int, n_bits: int):
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


def morgan_fingerprints(mols: Sequence[Chem.Mol | str], *, radius: int = FP_RADIUS, n_bits: int = FP_BITS) -> np.ndarray:
    """Morgan bit fingerprints as a boolean array of shape (n, n_bits).

    Raises:
        DataValidationError: if a SMILES does not parse or a molecule is ``None``.
    """
    parsed = [parse_smiles([m])[0] if isinstance(m, str) else m for m in mols]
    bad = [f"item {i}: {mols[i]!r}" for i, m in enumerate(parsed) if m is None]
    if bad:
        raise DataValidationError(bad[:20], header="cannot fingerprint invalid molecules")
    gen = _morgan(int(radius), int(n_bits))
    out = np.zeros((len(parsed), n_bits), dtype=bool)
    for i, m in enumerate(parsed):
        out[i] = gen.GetFingerprintAsNumPy(m).astype(bool)
    return out


def brics_fragments(mol: Chem.Mol) -> list[str]:
    """The fragments left when every BRICS bond is broken (SMILES with labelled dummy atoms)."""
    return Chem.MolToSmiles(BRICS.BreakBRICSBonds(mol)).split(".")


def murcko_scaffold(mol: Chem.Mol, *, min_rings: int = 1) -> str | None:
    """The Bemis-Murcko scaffold's SMILES, or ``None`` if it has fewer than ``min_rings`` rings
    (an acyclic molecule has none)."""
    scaffold = MurckoScaffold.GetScaffoldForMol(mol)
    if scaffold.GetNumAtoms() == 0 or rdMolDescriptors.CalcNumRings(scaffold) < min_rings:
        return None
    return Chem.MolToSmiles(scaffold)


def cosine_similarity(a: dict[str, int] | Counter, b: dict[str, int] | Counter) -> float:
    """Cosine similarity of two count vectors given as dicts (0 when either is empty)."""
    dot = float(sum(v * b.get(k, 0) for k, v in a.items()))
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na > 0 and nb > 0 else 0.0


class TanimotoIndex:
    """Tanimoto similarities of query fingerprints to a fixed set.

    Args:
        fps: boolean fingerprints of the set, shape (n, n_bits).

    Example:
        >>> idx = TanimotoIndex(np.array([[1, 1, 0, 0], [0, 1, 1, 0]], bool))
        >>> [round(float(s), 3) for s in idx.similarities(np.array([1, 1, 1, 0], bool))]
        [0.667, 0.667]
    """

    def __init__(self, fps: np.ndarray) -> None:
        fps = np.asarray(fps, dtype=bool)
        if fps.ndim != 2:
            raise ConfigError(f"fingerprints must be a 2-D array (molecules x bits); got shape {fps.shape}")
        self.n, self.n_bits = fps.shape
        self._by_bit = np.ascontiguousarray(fps.T, dtype=np.uint8)
        self._counts = fps.sum(axis=1).astype(np.float32)
        self._acc8 = np.zeros(self.n, dtype=np.uint8)
        self._acc16 = np.zeros(self.n, dtype=np.uint16)

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Tanimoto similarity of one fingerprint to every member (two empty fingerprints: 1)."""
        bits = np.flatnonzero(query)
        acc = self._acc8 if len(bits) < 256 else self._acc16
        acc.fill(0)
        for b in bits:
            np.add(acc, self._by_bit[b], out=acc)
        inter = acc.astype(np.float32)
        union = self._counts - inter
        union += np.float32(len(bits))
        return np.divide(inter, union, out=np.ones_like(inter), where=union > 0)

    def max_similarity(self, queries: np.ndarray) -> np.ndarray:
        """For each query fingerprint, its largest similarity to the set."""
        return np.array([self.similarities(q).max() if self.n else 0.0 for q in queries], dtype=np.float64)

    def mean_power(self, queries: np.ndarray, p: float | Sequence[float] = 1.0) -> np.ndarray:
        """For each query fingerprint, the mean over the set of similarity ** p.

        With a sequence of exponents, one column per exponent (one pass over the set).
        """
        ps = [p] if np.isscalar(p) else list(p)
        out = np.empty((len(queries), len(ps)), dtype=np.float64)
        for i, q in enumerate(queries):
            s = self.similarities(q).astype(np.float64)
            out[i] = [(s if e == 1 else s**e).mean() for e in ps]
        return out[:, 0] if np.isscalar(p) else out

    def nearest(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Indices of the ``k`` most similar members for each query, shape (m, k)."""
        if not 1 <= k <= self.n:
            raise ConfigError(f"k must be between 1 and {self.n} (the set's size); got {k}")
        out = np.empty((len(queries), k), dtype=np.int64)
        for i, q in enumerate(queries):
            s = self.similarities(q)
            out[i] = np.argpartition(-s, k - 1)[:k] if k < self.n else np.arange(self.n)
        return out


# -- describing many molecules (optionally in worker processes) ----------------------------------


@dataclass
class _Described:
    canonical: list[str | None]
    fps: np.ndarray  # bool (n_valid, FP_BITS), rows of the valid molecules in order
    fragments: list[list[str]]  # per valid molecule
    scaffolds: list[str | None]
    passes: list[bool]
    properties: dict[str, np.ndarray]

    @property
    def valid(self) -> list[str]:
        return [c for c in self.canonical if c is not None]


def _describe_chunk(args: tuple[list[str], frozenset[str]]) -> list[tuple]:
    smiles, parts = args
    gen = _morgan(FP_RADIUS, FP_BITS)
    rows = []
    for mol in _iter_mols(smiles):
        if mol is None:
            rows.append((None,))
            continue
        row: list[Any] = [Chem.MolToSmiles(mol)]
        row.append(np.packbits(gen.GetFingerprintAsNumPy(mol).astype(bool)) if "fps" in parts else None)
        row.append(brics_fragments(mol) if "fragments" in parts else None)
        row.append(murcko_scaffold(mol, min_rings=SCAFFOLD_MIN_RINGS) if "scaffolds" in parts else None)
        if "filters" in parts:
            from hygeia.molecules.filters import moses_filter

            row.append(moses_filter().passes(mol))
        else:
            row.append(None)
        if "properties" in parts:
            from hygeia.molecules.scoring import logp, molecular_weight, qed, sa_score

            row.append((logp(mol), sa_score(mol), qed(mol), molecular_weight(mol)))
        else:
            row.append(None)
        rows.append(tuple(row))
    return rows


def _describe(smiles: Sequence[str], parts: Iterable[str], workers: int = 1) -> _Described:
    parts = frozenset(parts)
    smiles = list(smiles)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a positive integer; got {workers!r}")
    if workers == 1 or len(smiles) < _MIN_PARALLEL:
        rows = _describe_chunk((smiles, parts))
    else:
        size = max(200, math.ceil(len(smiles) / (workers * 8)))
        chunks = [(smiles[i : i + size], parts) for i in range(0, len(smiles), size)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            rows = [r for part in pool.map(_describe_chunk, chunks) for r in part]
    valid_rows = [r for r in rows if r[0] is not None]
    fps = (
        np.unpackbits(np.stack([r[1] for r in valid_rows]), axis=1, count=FP_BITS).astype(bool)
        if "fps" in parts and valid_rows
        else np.zeros((0, FP_BITS), dtype=bool)
    )
    props = {}
    if "properties" in parts:
        values = np.array([r[5] for r in valid_rows], dtype=np.float64).reshape(-1, len(PROPERTIES))
        props = {name: values[:, j] for j, name in enumerate(PROPERTIES)}
    return _Described(
        canonical=[r[0] for r in rows],
        fps=fps,
        fragments=[r[2] for r in valid_rows],
        scaffolds=[r[3] for r in valid_rows],
        passes=[r[4] for r in valid_rows],
        properties=props,
    )


def _counts(items: Iterable[Iterable[str | None]]) -> dict[str, int]:
    c: Counter[str] = Counter()
    for group in items:
        c.update(x for x in group if x is not None)
    return dict(c)


# -- reference statistics --------------------------------------------------------------------------


@dataclass
class ReferenceStats:
    """What the metrics need from a reference set, computed once.

    Attributes:
        n: number of valid reference molecules.
        fps: Morgan fingerprints (radius 2, 1024 bits), boolean (n, 1024).
        fragments: BRICS fragment counts.
        scaffolds: Bemis-Murcko scaffold counts.
        fcd: ChemNet statistics (:class:`~hygeia.molecules.chemnet.FCDStats`), or ``None``.
        properties: property name -> values (see :data:`PROPERTIES`), or ``None``.
    """

    n: int
    fps: np.ndarray
    fragments: dict[str, int]
    scaffolds: dict[str, int]
    fcd: Any = None
    properties: dict[str, np.ndarray] | None = None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to the folder ``path`` (``arrays.npz`` + ``counts.json.gz``), replacing it atomically."""
        dest = Path(path)
        with atomic_output(dest, folder=True, overwrite=True, what="reference statistics folder") as tmp:
            arrays: dict[str, np.ndarray] = {"fps": np.packbits(self.fps, axis=1)}
            if self.fcd is not None:
                arrays.update(fcd_mu=self.fcd.mu.astype(np.float32), fcd_sigma=self.fcd.sigma.astype(np.float32))
            for k, v in (self.properties or {}).items():
                arrays[f"property_{k}"] = np.asarray(v, dtype=np.float64)
            np.savez(tmp / "arrays.npz", **arrays)
            meta = {
                "format": "hygeia-reference-stats",
                "version": _CACHE_VERSION,
                "n": self.n,
                "fcd_n": None if self.fcd is None else self.fcd.n,
                "fragments": self.fragments,
                "scaffolds": self.scaffolds,
            }
            with gzip.open(tmp / "counts.json.gz", "wt", encoding="utf-8") as fh:
                json.dump(meta, fh)
        return dest

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "ReferenceStats":
        """Read a folder written by :meth:`save`.

        Raises:
            DataValidationError: if it is missing, unreadable or of another version.
        """
        from hygeia.molecules.chemnet import FCDStats

        folder = Path(path)
        try:
            with gzip.open(folder / "counts.json.gz", "rt", encoding="utf-8") as fh:
                meta = json.load(fh)
            with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError) as exc:
            raise DataValidationError([f"{folder}: {exc}"], header="unreadable reference statistics") from exc
        if meta.get("format") != "hygeia-reference-stats" or meta.get("version") != _CACHE_VERSION:
            raise DataValidationError([f"{folder}: format/version {meta.get('format')}/{meta.get('version')}"],
                                      header="reference statistics of another format; delete the folder to recompute")
        fcd = None
        if "fcd_mu" in arrays:
            fcd = FCDStats(arrays["fcd_mu"], arrays["fcd_sigma"], meta["fcd_n"])
        props = {k[len("property_"):]: v for k, v in arrays.items() if k.startswith("property_")} or None
        fps = np.unpackbits(arrays["fps"], axis=1, count=FP_BITS).astype(bool)
        return cls(int(meta["n"]), fps, meta["fragments"], meta["scaffolds"], fcd, props)


def reference_stats(
    smiles: Sequence[str], *, fcd: bool = True, properties: bool = False, workers: int = 1, **chemnet_kwargs: Any
) -> ReferenceStats:
    """Compute :class:`ReferenceStats` of a reference set (invalid SMILES are dropped).

    Args:
        smiles: the reference molecules.
        fcd: also compute ChemNet statistics (needs torch and fcd-torch's weights).
        properties: also compute logP, SA, QED and weight.
        workers: worker processes for the per-molecule work.
        **chemnet_kwargs: passed to :func:`~hygeia.molecules.chemnet.chemnet_activations`.

    Raises:
        DataValidationError: if no SMILES is valid.
    """
    parts = {"fps", "fragments", "scaffolds"} | ({"properties"} if properties else set())
    d = _describe(smiles, parts, workers)
    if not d.valid:
        raise DataValidationError([f"none of {len(d.canonical)} SMILES is valid"], header="empty reference set")
    stats = None
    if fcd:
        from hygeia.molecules.chemnet import fcd_stats

        stats = fcd_stats(d.valid, canonical=False, **chemnet_kwargs)
    return ReferenceStats(len(d.valid), d.fps, _counts(d.fragments), _counts([d.scaffolds]), stats,
                          d.properties or None)


def default_cache_dir() -> Path:
    """``$HYGEIA_CACHE_DIR``, else ``$XDG_CACHE_HOME/hygeia``, else ``~/.cache/hygeia``."""
    if os.environ.get("HYGEIA_CACHE_DIR"):
        return Path(os.environ["HYGEIA_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "hygeia"


def moses_counts_path(split: str) -> Path:
    """The shipped fragment and scaffold counts of a MOSES split."""
    return _RESOURCES / f"moses_{split}_counts.json.gz"


def moses_fcd_path(split: str) -> Path:
    """The shipped ChemNet statistics of a MOSES split."""
    return _RESOURCES / f"moses_{split}_fcd.npz"


def write_counts(path: str | os.PathLike[str], smiles: Sequence[str], *, workers: int = 1, **meta: Any) -> Path:
    """Write the BRICS fragment and scaffold counts of ``smiles`` to a ``.json.gz`` file (atomically)."""
    d = _describe(smiles, {"fragments", "scaffolds"}, workers)
    dest = Path(path)
    data = {"format": "hygeia-counts", "version": _CACHE_VERSION, "n": len(d.valid), "rdkit": rdBase.rdkitVersion,
            "scaffold_min_rings": SCAFFOLD_MIN_RINGS, **meta,
            "fragments": _counts(d.fragments), "scaffolds": _counts([d.scaffolds])}
    with atomic_output(dest, overwrite=True, what="counts file") as tmp, gzip.open(tmp, "wt", encoding="utf-8") as fh:
        json.dump(data, fh, sort_keys=True)
    return dest


def _read_counts(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("format") != "hygeia-counts" or data.get("version") != _CACHE_VERSION:
        raise DataValidationError([f"{path}: format/version {data.get('format')}/{data.get('version')}"],
                                  header="fragment/scaffold counts of another format")
    return data


def moses_reference(
    split: str = "test", *, cache_dir: str | os.PathLike[str] | None = None, properties: bool = False, workers: int = 1
) -> ReferenceStats:
    """:class:`ReferenceStats` of a MOSES split (``"test"`` or ``"test_scaffolds"``).

    The ChemNet statistics and the fragment and scaffold counts ship with Hygeia
    (``resources/moses_<split>_fcd.npz`` and ``moses_<split>_counts.json.gz``, made by
    ``scripts/moses_fcd_stats.py``). The fingerprints (and the properties, if asked) are
    computed on first use (about a minute of CPU per split; ``workers`` helps) and cached in
    ``cache_dir/molecules/moses-<split>``.

    Raises:
        ConfigError: for another split.
        DataValidationError: if the shipped statistics are missing.
        MissingExtraError: if ``molsets`` (which holds the MOSES data) is not installed.
    """
    from hygeia.molecules.chemnet import FCDStats
    from hygeia.molecules.data import moses_split

    if split not in ("test", "test_scaffolds"):
        raise ConfigError(f"MOSES reference split must be 'test' or 'test_scaffolds'; got {split!r}")
    missing = [str(p) for p in (moses_fcd_path(split), moses_counts_path(split)) if not p.is_file()]
    if missing:
        raise DataValidationError(
            missing, header="Hygeia's MOSES reference statistics are not installed (regenerate: scripts/moses_fcd_stats.py)"
        )
    counts = _read_counts(moses_counts_path(split))
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = folder / "molecules" / f"moses-{split}"
    stats: ReferenceStats | None = None
    if (folder / "counts.json.gz").is_file():
        try:
            stats = ReferenceStats.load(folder)
        except DataValidationError:
            stats = None  # stale or damaged cache: recompute below
    if stats is None or (properties and stats.properties is None):
        parts = {"fps"} if stats is None else set()
        d = _describe(moses_split(split), parts | ({"properties"} if properties else set()), workers)
        if stats is None:
            stats = ReferenceStats(len(d.valid), d.fps, counts["fragments"], counts["scaffolds"])
        if properties:
            stats.properties = d.properties
        stats.save(folder)
    stats.fragments, stats.scaffolds = counts["fragments"], counts["scaffolds"]
    stats.fcd = FCDStats.load(moses_fcd_path(split))
    return stats


# -- the metrics ------------------------------------------------------------------------------------


def _valid_canonical(smiles: Sequence[str]) -> list[str]:
    return [Chem.MolToSmiles(m) for m in parse_smiles(smiles) if m is not None]


def fraction_valid(smiles: Sequence[str]) -> float:
    """Share of SMILES that RDKit parses into a non-empty molecule."""
    if len(smiles) == 0:
        raise DataValidationError(["got no SMILES"], header="cannot measure validity")
    return sum(m is not None for m in parse_smiles(smiles)) / len(smiles)


def fraction_unique(smiles: Sequence[str], k: int | None = None) -> float:
    """Share of distinct canonical SMILES among the first ``k`` valid molecules (all if ``k`` is None)."""
    valid = _valid_canonical(smiles)
    if k is not None:
        valid = valid[:k]
    if not valid:
        raise DataValidationError(["no valid molecule"], header="cannot measure uniqueness")
    return len(set(valid)) / len(valid)


def novelty(generated: Sequence[str], train: Sequence[str] | set[str], *, canonicalize_train: bool = True) -> float:
    """Share of the distinct valid generated molecules that are not in ``train``.

    Args:
        generated: generated SMILES.
        train: training SMILES (canonicalised unless ``canonicalize_train`` is false, e.g. for a set
            already in RDKit's canonical form).
    """
    gen = set(_valid_canonical(generated))
    if not gen:
        raise DataValidationError(["no valid molecule"], header="cannot measure novelty")
    train_set = set(_valid_canonical(list(train))) if canonicalize_train else set(train)
    return len(gen - train_set) / len(gen)


def _fps(smiles_or_fps: Sequence[str] | np.ndarray) -> np.ndarray:
    if isinstance(smiles_or_fps, np.ndarray):
        return smiles_or_fps.astype(bool)
    mols = [m for m in parse_smiles(smiles_or_fps) if m is not None]
    if not mols:
        raise DataValidationError(["no valid molecule"], header="cannot fingerprint the molecules")
    return morgan_fingerprints(mols)


def _intdiv(mean_powers: np.ndarray, p: float) -> float:
    """IntDiv_p from each molecule's mean of T^p over the set: MOSES's per-molecule root, then mean."""
    return float(1.0 - np.mean(mean_powers ** (1.0 / p)))


def internal_diversity(generated: Sequence[str] | np.ndarray, p: int = 1) -> float:
    """IntDiv_p as MOSES computes it: ``1 - mean_i (mean_j T(i, j)^p)^(1/p)``.

    i and j run over all valid molecules, duplicates and i = j included; the root is
    taken per molecule before the mean (so IntDiv2 is not ``1 - sqrt(mean T^2)``).
    ``generated`` may also be a boolean fingerprint array.

    Example:
        >>> fps = np.array([[1, 0], [1, 0], [0, 1]], bool)  # two identical molecules and a third
        >>> round(internal_diversity(fps, p=2), 4)  # 1 - (2 * sqrt(2/3) + sqrt(1/3)) / 3
        0.2632
    """
    fps = _fps(generated)
    return _intdiv(TanimotoIndex(fps).mean_power(fps, p), p)


def _reference_fps(reference: Sequence[str] | ReferenceStats | np.ndarray) -> np.ndarray:
    return reference.fps if isinstance(reference, ReferenceStats) else _fps(reference)


def snn(generated: Sequence[str] | np.ndarray, reference: Sequence[str] | ReferenceStats | np.ndarray) -> float:
    """Mean Tanimoto similarity of each valid generated molecule to its nearest reference molecule."""
    return float(TanimotoIndex(_reference_fps(reference)).max_similarity(_fps(generated)).mean())


def _reference_counts(reference: Sequence[str] | ReferenceStats, kind: str) -> dict[str, int]:
    if isinstance(reference, ReferenceStats):
        return reference.fragments if kind == "fragments" else reference.scaffolds
    d = _describe(reference, {kind})
    return _counts(d.fragments) if kind == "fragments" else _counts([d.scaffolds])


def fragment_similarity(generated: Sequence[str], reference: Sequence[str] | ReferenceStats) -> float:
    """Cosine similarity of BRICS fragment counts (Frag)."""
    d = _describe(generated, {"fragments"})
    return cosine_similarity(_counts(d.fragments), _reference_counts(reference, "fragments"))


def scaffold_similarity(generated: Sequence[str], reference: Sequence[str] | ReferenceStats) -> float:
    """Cosine similarity of Bemis-Murcko scaffold counts (Scaf; scaffolds of two rings or more)."""
    d = _describe(generated, {"scaffolds"})
    return cosine_similarity(_counts([d.scaffolds]), _reference_counts(reference, "scaffolds"))


def filters_pass_rate(generated: Sequence[str]) -> float:
    """Share of valid molecules passing the MOSES filters (Filters)."""
    d = _describe(generated, {"filters"})
    if not d.passes:
        raise DataValidationError(["no valid molecule"], header="cannot measure the filter pass rate")
    return float(np.mean(d.passes))


def property_distances(
    generated: Sequence[str], reference: Sequence[str] | ReferenceStats, *, workers: int = 1
) -> dict[str, float]:
    """Wasserstein-1 distance of logP, SA, QED and weight between valid generated and reference molecules."""
    from scipy.stats import wasserstein_distance

    gen = _describe(generated, {"properties"}, workers).properties
    if isinstance(reference, ReferenceStats):
        if reference.properties is None:
            raise ConfigError("these reference statistics hold no properties; compute them with properties=True")
        ref = reference.properties
    else:
        ref = _describe(reference, {"properties"}, workers).properties
    return {k: float(wasserstein_distance(gen[k], ref[k])) for k in PROPERTIES}


# -- everything, as MOSES reports it ------------------------------------------------------------------


def _as_reference(ref: Any, split: str, name: str, *, fcd: bool, properties: bool, cache_dir, workers: int):
    if ref is False:
        return None
    if ref is None:
        return moses_reference(split, cache_dir=cache_dir, properties=properties, workers=workers)
    if isinstance(ref, ReferenceStats):
        return ref
    if isinstance(ref, str) or not isinstance(ref, Sequence):
        raise ConfigError(f"{name} must be a list of SMILES, ReferenceStats, None (MOSES) or False (skip); got {type(ref).__name__}")
    return reference_stats(ref, fcd=fcd, properties=properties, workers=workers)


def moses_metrics(
    generated: Sequence[str],
    *,
    train: Sequence[str] | None | bool = None,
    test: Sequence[str] | ReferenceStats | None | bool = None,
    test_scaffolds: Sequence[str] | ReferenceStats | None | bool = None,
    workers: int = 1,
    ks: Sequence[int] = (1000, 10000),
    fcd: bool = True,
    properties: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    **chemnet_kwargs: Any,
) -> dict[str, float]:
    """The MOSES metrics of generated SMILES, with MOSES's keys.

    Args:
        generated: generated SMILES (invalid ones count against ``valid`` only).
        train: training SMILES for ``Novelty``; ``None``: MOSES's training set (RDKit-canonical as
            stored); ``False``: skip.
        test: reference for the ``/Test`` metrics: SMILES, :class:`ReferenceStats`, ``None`` (MOSES
            test set) or ``False`` (skip). Property distances are measured against it.
        test_scaffolds: reference for the ``/TestSF`` metrics, likewise (``None``: MOSES scaffold test set).
        workers: worker processes for the per-molecule work (parsing, fingerprints, fragments,
            filters, properties).
        ks: the ``k`` of the ``unique@k`` keys.
        fcd: compute the FCD keys (needs torch and ChemNet's weights from fcd-torch).
        properties: add the Wasserstein distances ``logP``, ``SA``, ``QED``, ``weight`` to ``/Test``.
        cache_dir: where the MOSES reference statistics are cached (default :func:`default_cache_dir`).
        **chemnet_kwargs: passed to :func:`~hygeia.molecules.chemnet.chemnet_activations`
            (``batch_size``, ``device``).

    Returns:
        ``valid``, ``unique@k``..., ``FCD/Test``, ``SNN/Test``, ``Frag/Test``, ``Scaf/Test``, the same
        with ``/TestSF``, ``IntDiv``, ``IntDiv2``, ``Filters``, ``Novelty`` (and the properties).

    Raises:
        DataValidationError: if ``generated`` is empty or has fewer than two valid molecules.
    """
    if isinstance(generated, str) or len(generated) == 0:
        raise DataValidationError([f"got {generated!r:.60}"], header="moses_metrics needs a non-empty list of SMILES")
    if any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ConfigError(f"ks must be positive integers (the k of unique@k); got {list(ks)!r}")
    parts = {"fps", "fragments", "scaffolds", "filters"} | ({"properties"} if properties else set())
    d = _describe(generated, parts, workers)
    valid = d.valid
    if len(valid) < 2:
        raise DataValidationError(
            [f"{len(valid)} of {len(generated)} SMILES are valid"], header="moses_metrics needs at least two valid molecules"
        )
    out: dict[str, float] = {"valid": len(valid) / len(generated)}
    for k in ks:
        first = valid[:k]
        out[f"unique@{k}"] = len(set(first)) / len(first)
    gen_fcd = None
    if fcd:
        from hygeia.molecules.chemnet import fcd_stats

        gen_fcd = fcd_stats(valid, canonical=False, **chemnet_kwargs)
    frag_counts, scaf_counts = _counts(d.fragments), _counts([d.scaffolds])
    refs = (("Test", test, "test", "test"), ("TestSF", test_scaffolds, "test_scaffolds", "test_scaffolds"))
    for label, given, split, name in refs:
        ref = _as_reference(
            given, split, name, fcd=fcd, properties=properties and label == "Test", cache_dir=cache_dir, workers=workers
        )
        if ref is None:
            continue
        if fcd:
            from hygeia.molecules.chemnet import frechet_distance

            if ref.fcd is None:
                raise ConfigError(f"the {name} reference statistics hold no ChemNet statistics; compute them with fcd=True")
            out[f"FCD/{label}"] = frechet_distance(gen_fcd.mu, gen_fcd.sigma, ref.fcd.mu, ref.fcd.sigma)
        out[f"SNN/{label}"] = float(TanimotoIndex(ref.fps).max_similarity(d.fps).mean())
        out[f"Frag/{label}"] = cosine_similarity(frag_counts, ref.fragments)
        out[f"Scaf/{label}"] = cosine_similarity(scaf_counts, ref.scaffolds)
        if properties and label == "Test":
            from scipy.stats import wasserstein_distance

            if ref.properties is None:
                raise ConfigError("the test reference statistics hold no properties; compute them with properties=True")
            prop_out = {k: float(wasserstein_distance(d.properties[k], ref.properties[k])) for k in PROPERTIES}
        del ref
    powers = TanimotoIndex(d.fps).mean_power(d.fps, (1, 2))
    out["IntDiv"] = _intdiv(powers[:, 0], 1)
    out["IntDiv2"] = _intdiv(powers[:, 1], 2)
    out["Filters"] = float(np.mean(d.passes))
    if train is not False:
        if train is None:
            from hygeia.molecules.data import moses_split

            train_set = set(moses_split("train"))
        else:
            train_set = set(_describe(train, (), workers).valid)
        distinct = set(valid)
        out["Novelty"] = len(distinct - train_set) / len(distinct)
    if properties and test is not False:
        out.update(prop_out)
    return out
