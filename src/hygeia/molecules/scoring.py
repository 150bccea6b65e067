"""Multi-parameter scoring of molecules, configured as data.

A scoring function turns a list of SMILES into scores in [0, 1] (invalid SMILES
score 0), as the reward of a generator or the oracle of an optimizer. It is
declared in a TOML or JSON file (or a dict) with three parts:

- ``components``: each computes a raw value from RDKit's ``Mol``
  (:data:`COMPONENTS`: QED, SA score, weight, logP, TPSA, H-bond donors and
  acceptors, rotatable bonds, Lipinski violations, Veber, rings, Tanimoto
  similarity to reference SMILES, SMARTS substructure, SMARTS alerts, a saved
  QSAR model) and maps it to [0, 1] with a ``transform`` that every component
  must state (:data:`TRANSFORMS`: ``maximize``, ``minimize``, ``linear``,
  ``sigmoid``, ``reverse_sigmoid``, ``double_sigmoid``/``window``, ``step``,
  ``gaussian``), so its direction is always explicit;
- ``aggregation``: ``"geometric"`` (weighted geometric mean, REINVENT's
  default: any component at 0 makes the total 0) or ``"arithmetic"``;
- ``filters``: hard filters (RDKit catalogues such as PAINS and Brenk, the
  MOSES filter, named SMARTS, a Lipinski or Veber rule); a molecule that
  raises any of them scores 0, and its hits are reported.

Example (TOML)::

    aggregation = "geometric"

    [[components]]
    component = "qed"
    transform = { type = "maximize" }

    [[components]]
    component = "sa"
    weight = 0.5
    transform = { type = "reverse_sigmoid", low = 2.5, high = 5.5, k = 0.5 }

    [filters]
    catalogs = ["PAINS", "BRENK"]

In Python:
    >>> f = ScoringFunction({
    ...     "components": [
    ...         {"component": "qed", "transform": {"type": "maximize"}},
    ...         {"component": "tpsa", "transform": {"type": "window", "low": 20, "high": 120}},
    ...     ],
    ...     "filters": {"catalogs": ["PAINS"]},
    ... })
    >>> scores = f(["CC(=O)Oc1ccccc1C(=O)O", "not a molecule", "O=C1C(=Cc2ccccc2)SC(=S)N1"])
    >>> [round(float(s), 3) for s in scores]
    [0.736, 0.0, 0.0]
    >>> f.score_table(["O=C1C(=Cc2ccccc2)SC(=S)N1"]).loc[0, "filter_hits"]
    'PAINS_A: ene_rhod_A(235)'
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.errors import ConfigError

try:
    from rdkit import Chem, DataStructs, rdBase
    from rdkit.Chem import QED as _QED
    from rdkit.Chem import Crippen, Descriptors, rdFingerprintGenerator
    from rdkit.Chem import rdMolDescriptors as _D
except ImportError:  # pragma: no cover - depends on the environment
    from hygeia.errors import MissingExtraError

    raise MissingExtraError("rdkit", "molecules", "Scoring molecules") from None

__all__ = [
    "COMPONENTS",
    "EXAMPLE_CONFIGS",
    "TRANSFORMS",
    "Component",
    "ScoringFunction",
    "Transform",
    "aromatic_rings",
    "example_config",
    "hba",
    "hbd",
    "lipinski_violations",
    "load_config",
    "logp",
    "molecular_weight",
    "qed",
    "rings",
    "rotatable_bonds",
    "sa_score",
    "tpsa",
    "veber_passes",
]

_RESOURCES = Path(__file__).with_name("resources")
#: Example configurations shipped with Hygeia (name -> file), see :func:`example_config`.
EXAMPLE_CONFIGS = {"druglike": "scoring_druglike.toml", "celecoxib": "scoring_celecoxib.json"}


# -- raw values: plain functions on RDKit's Mol --------------------------------------------------


def qed(mol: Chem.Mol) -> float:
    """Quantitative estimate of drug-likeness (Bickerton et al., 2012), in [0, 1]."""
    return float(_QED.qed(mol))


@lru_cache(maxsize=1)
def _sascorer():
    from rdkit.Contrib.SA_Score import sascorer

    return sascorer


def sa_score(mol: Chem.Mol) -> float:
    """Synthetic accessibility score (Ertl & Schuffenhauer, 2009): 1 (easy) to 10 (hard)."""
    return float(_sascorer().calculateScore(mol))


def molecular_weight(mol: Chem.Mol) -> float:
    """Average molecular weight (g/mol)."""
    return float(Descriptors.MolWt(mol))


def logp(mol: Chem.Mol) -> float:
    """Crippen's logP (Wildman & Crippen, 1999)."""
    return float(Crippen.MolLogP(mol))


def tpsa(mol: Chem.Mol) -> float:
    """Topological polar surface area (Ertl et al., 2000), Å²."""
    return float(_D.CalcTPSA(mol))


def hbd(mol: Chem.Mol) -> float:
    """Number of hydrogen-bond donors (RDKit's definition)."""
    return float(_D.CalcNumHBD(mol))


def hba(mol: Chem.Mol) -> float:
    """Number of hydrogen-bond acceptors (RDKit's definition)."""
    return float(_D.CalcNumHBA(mol))


def rotatable_bonds(mol: Chem.Mol) -> float:
    """Number of rotatable bonds."""
    return float(_D.CalcNumRotatableBonds(mol))


def rings(mol: Chem.Mol) -> float:
    """Number of rings (smallest set of smallest rings)."""
    return float(_D.CalcNumRings(mol))


def aromatic_rings(mol: Chem.Mol) -> float:
    """Number of aromatic rings."""
    return float(_D.CalcNumAromaticRings(mol))


def heavy_atoms(mol: Chem.Mol) -> float:
    """Number of heavy (non-hydrogen) atoms."""
    return float(mol.GetNumHeavyAtoms())


def lipinski_violations(mol: Chem.Mol) -> float:
    """Violations of Lipinski's rule of five (0-4), with its own donor/acceptor counts.

    The rules: weight ≤ 500, logP ≤ 5, at most 5 donors (NH + OH) and at most 10
    acceptors (N + O).
    """
    return float(
        (molecular_weight(mol) > 500)
        + (logp(mol) > 5)
        + (_D.CalcNumLipinskiHBD(mol) > 5)
        + (_D.CalcNumLipinskiHBA(mol) > 10)
    )


def veber_passes(mol: Chem.Mol) -> float:
    """1 if the molecule meets Veber's rules (≤ 10 rotatable bonds and TPSA ≤ 140 Å²), else 0."""
    return float(rotatable_bonds(mol) <= 10 and tpsa(mol) <= 140)


# -- transforms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transform:
    """A map of raw values to [0, 1], built by :meth:`from_spec`; NaN maps to 0."""

    type: str
    params: dict[str, float]
    fn: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)

    def __call__(self, values: Any) -> np.ndarray:
        x = np.asarray(values, dtype=np.float64)
        out = np.zeros_like(x)
        ok = np.isfinite(x)
        out[ok] = np.clip(self.fn(x[ok]), 0.0, 1.0)
        return out

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], *, where: str = "transform") -> "Transform":
        """Build from ``{"type": ..., <parameters>}``.

        Raises:
            ConfigError: for an unknown type, a missing, unknown or non-numeric parameter, or
                inconsistent bounds; the message names ``where``.
        """
        if not isinstance(spec, Mapping) or "type" not in spec:
            raise ConfigError(
                f"{where}: give the transform as a table with a 'type' (one of {', '.join(TRANSFORMS)}); got {spec!r}"
            )
        kind = spec["type"]
        if kind not in TRANSFORMS:
            raise ConfigError(f"{where}: unknown transform {kind!r}; known transforms: {', '.join(TRANSFORMS)}")
        required, defaults, build = TRANSFORMS[kind]
        given = {k: v for k, v in spec.items() if k != "type"}
        unknown = sorted(set(given) - set(required) - set(defaults))
        if unknown:
            allowed = ", ".join([*required, *defaults]) or "none"
            raise ConfigError(f"{where}: transform {kind!r} has no parameter(s) {unknown}; its parameters: {allowed}")
        missing = [k for k in required if k not in given]
        if missing:
            raise ConfigError(f"{where}: transform {kind!r} needs parameter(s) {missing}")
        params: dict[str, float] = {}
        for k, v in {**defaults, **given}.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
                raise ConfigError(f"{where}: transform {kind!r} parameter {k!r} must be a number; got {v!r}")
            params[k] = float(v)
        try:
            fn = build(**params)
        except ValueError as exc:
            raise ConfigError(f"{where}: transform {kind!r}: {exc}") from None
        return cls(kind, params, fn)


def _ramp(low: float, high: float) -> Callable[[np.ndarray], np.ndarray]:
    if low == high:
        raise ValueError(f"low and high must differ; both are {low}")
    return lambda x: (x - low) / (high - low)


def _maximize(low: float, high: float):
    if not low < high:
        raise ValueError(f"needs low < high; got low={low}, high={high}")
    return _ramp(low, high)


def _minimize(low: float, high: float):
    if not low < high:
        raise ValueError(f"needs low < high; got low={low}, high={high}")
    return lambda x: 1.0 - (x - low) / (high - low)


def _sigmoid(low: float, high: float, k: float):
    # REINVENT's sigmoid: 0.5 at (low + high) / 2, steepness k relative to the width high - low.
    if not low < high or k <= 0:
        raise ValueError(f"needs low < high and k > 0; got low={low}, high={high}, k={k}")
    mid = (low + high) / 2
    return lambda x: 1.0 / (1.0 + np.power(10.0, np.clip(10.0 * k * (mid - x) / (high - low), -300, 300)))


def _reverse_sigmoid(low: float, high: float, k: float):
    up = _sigmoid(low, high, k)
    return lambda x: 1.0 - up(x)


def _logistic(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _double_sigmoid(low: float, high: float, k: float):
    # Rises through 0.5 at low, falls through 0.5 at high; k: steepness (per unit of the raw value),
    # 0 meaning the default 10 / (high - low).
    if not low < high or k < 0:
        raise ValueError(f"needs low < high and k >= 0; got low={low}, high={high}, k={k}")
    kk = k or 10.0 / (high - low)
    return lambda x: _logistic(kk * (x - low)) * _logistic(kk * (high - x))


def _step(low: float, high: float):
    if not low <= high:
        raise ValueError(f"needs low <= high; got low={low}, high={high}")
    return lambda x: ((x >= low) & (x <= high)).astype(np.float64)


def _gaussian(mu: float, sigma: float):
    if sigma <= 0:
        raise ValueError(f"needs sigma > 0; got sigma={sigma}")
    return lambda x: np.exp(-0.5 * ((x - mu) / sigma) ** 2)


#: Transform type -> (required parameters, optional parameters with defaults, builder).
TRANSFORMS: dict[str, tuple[tuple[str, ...], dict[str, float], Callable[..., Callable]]] = {
    "maximize": ((), {"low": 0.0, "high": 1.0}, _maximize),
    "minimize": ((), {"low": 0.0, "high": 1.0}, _minimize),
    "linear": (("low", "high"), {}, _ramp),
    "sigmoid": (("low", "high"), {"k": 0.5}, _sigmoid),
    "reverse_sigmoid": (("low", "high"), {"k": 0.5}, _reverse_sigmoid),
    "double_sigmoid": (("low", "high"), {"k": 0.0}, _double_sigmoid),
    "window": (("low", "high"), {"k": 0.0}, _double_sigmoid),
    "step": ((), {"low": -math.inf, "high": math.inf}, _step),
    "gaussian": (("mu", "sigma"), {}, _gaussian),
}


# -- components ------------------------------------------------------------------------------------

MolFn = Callable[[Chem.Mol], float]
_SIMPLE: dict[str, MolFn] = {
    "qed": qed,
    "sa": sa_score,
    "molecular_weight": molecular_weight,
    "mw": molecular_weight,
    "logp": logp,
    "tpsa": tpsa,
    "hbd": hbd,
    "hba": hba,
    "rotatable_bonds": rotatable_bonds,
    "rings": rings,
    "aromatic_rings": aromatic_rings,
    "heavy_atoms": heavy_atoms,
    "lipinski": lipinski_violations,
    "veber": veber_passes,
}


def _similarity(where: str, smiles: Any = None, radius: Any = 2, n_bits: Any = 2048, aggregate: Any = "max", **_):
    refs = [smiles] if isinstance(smiles, str) else smiles
    if not isinstance(refs, list) or not refs or not all(isinstance(s, str) for s in refs):
        raise ConfigError(f"{where}: 'smiles' must be a SMILES string or a non-empty list of them; got {smiles!r}")
    if aggregate not in ("max", "mean"):
        raise ConfigError(f"{where}: 'aggregate' must be 'max' or 'mean'; got {aggregate!r}")
    for key, value in (("radius", radius), ("n_bits", n_bits)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "radius" else 1):
            raise ConfigError(f"{where}: {key!r} must be a {'non-negative' if key == 'radius' else 'positive'} integer; got {value!r}")
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    ref_fps = []
    for s in refs:
        with rdBase.BlockLogs():
            m = Chem.MolFromSmiles(s)
        if m is None:
            raise ConfigError(f"{where}: reference SMILES {s!r} does not parse; fix or remove it")
        ref_fps.append(gen.GetFingerprint(m))
    agg = max if aggregate == "max" else (lambda v: sum(v) / len(v))
    return lambda mol: float(agg(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(mol), ref_fps)))


def _substructure(where: str, smarts: Any = None, match: Any = "any", **_):
    from hygeia.molecules.filters import compile_smarts

    items = [smarts] if isinstance(smarts, str) else smarts
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{where}: 'smarts' must be a SMARTS string or a non-empty list of them; got {smarts!r}")
    if match not in ("any", "all"):
        raise ConfigError(f"{where}: 'match' must be 'any' or 'all'; got {match!r}")
    pats = [compile_smarts(s, where=where) for s in items]
    agg = any if match == "any" else all
    return lambda mol: float(agg(mol.HasSubstructMatch(p) for p in pats))


def _alerts(where: str, smarts: Any = None, catalogs: Any = None, **_):
    from hygeia.molecules.filters import SmartsFilter, get_filter

    parts = []
    if smarts is not None:
        if not isinstance(smarts, Mapping) or not smarts:
            raise ConfigError(f"{where}: 'smarts' must be a table name -> SMARTS; got {smarts!r}")
        parts.append(SmartsFilter(smarts, name=where))
    for name in catalogs or []:
        try:
            parts.append(get_filter(name))
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if not parts:
        raise ConfigError(f"{where}: give 'smarts' (name -> SMARTS) and/or 'catalogs' (e.g. ['PAINS'])")
    return lambda mol: float(sum(len(p.hits(mol)) for p in parts))


def _qsar(where: str, model: Any = None, base_dir: Path | None = None, **_):
    from hygeia.molecules.qsar import QSARModel

    if not isinstance(model, str) or not model:
        raise ConfigError(f"{where}: 'model' must be the path of a saved QSAR model folder; got {model!r}")
    path = Path(model)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        qsar = QSARModel.load(path)
    except Exception as exc:  # noqa: BLE001 - re-raised with the component named
        raise ConfigError(f"{where}: cannot load the QSAR model {str(path)!r}: {exc}") from exc
    return lambda mol: float(qsar.predict_mols([mol])[0])


#: Component -> (parameters it takes, builder). Simple descriptors take none.
_BUILT: dict[str, tuple[tuple[str, ...], Callable[..., MolFn]]] = {
    "similarity": (("smiles", "radius", "n_bits", "aggregate"), _similarity),
    "substructure": (("smarts", "match"), _substructure),
    "alerts": (("smarts", "catalogs"), _alerts),
    "qsar": (("model",), _qsar),
}
#: Every component a configuration may name.
COMPONENTS: tuple[str, ...] = (*_SIMPLE, *_BUILT)
_COMMON = ("component", "name", "weight", "transform")


@dataclass(frozen=True)
class Component:
    """One configured component: a raw value of a molecule, its weight and its transform."""

    name: str
    component: str
    weight: float
    transform: Transform
    params: dict[str, Any]
    fn: MolFn = field(repr=False, compare=False)


def _build_component(spec: Any, index: int, base_dir: Path | None) -> Component:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"components[{index}]: must be a table with a 'component' key; got {spec!r}")
    kind = spec.get("component")
    label = spec.get("name", kind)
    where = f"component {label!r}" if label is not None else f"components[{index}]"
    if kind not in COMPONENTS:
        raise ConfigError(f"{where}: unknown component {kind!r}; known components: {', '.join(COMPONENTS)}")
    if not isinstance(label, str) or not label:
        raise ConfigError(f"{where}: 'name' must be a non-empty string; got {label!r}")
    allowed = _BUILT[kind][0] if kind in _BUILT else ()
    unknown = sorted(set(spec) - set(_COMMON) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {unknown}; a {kind!r} component takes {', '.join([*_COMMON, *allowed])}"
        )
    weight = spec.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0 or math.isinf(weight):
        raise ConfigError(f"{where}: weight must be a positive number; got {weight!r}")
    if "transform" not in spec:
        raise ConfigError(
            f"{where}: states no transform; every component must declare its direction, e.g. "
            "transform = {type = \"maximize\"} or {type = \"minimize\", low = 1, high = 10}"
        )
    transform = Transform.from_spec(spec["transform"], where=where)
    params = {k: spec[k] for k in allowed if k in spec}
    fn = _BUILT[kind][1](where, base_dir=base_dir, **params) if kind in _BUILT else _SIMPLE[kind]
    return Component(label, kind, float(weight), transform, params, fn)


# -- hard filters ----------------------------------------------------------------------------------

_FILTER_KEYS = ("catalogs", "smarts", "lipinski", "veber")


def _build_filters(spec: Any) -> list[tuple[str, Callable[[Chem.Mol], list[str]]]]:
    from hygeia.molecules.filters import SmartsFilter, get_filter

    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        raise ConfigError(f"filters: must be a table with keys {', '.join(_FILTER_KEYS)}; got {spec!r}")
    unknown = sorted(set(spec) - set(_FILTER_KEYS))
    if unknown:
        raise ConfigError(f"filters: unknown key(s) {unknown}; known: {', '.join(_FILTER_KEYS)}")
    out: list[tuple[str, Callable[[Chem.Mol], list[str]]]] = []
    catalogs = spec.get("catalogs", [])
    if isinstance(catalogs, str) or not isinstance(catalogs, list):
        raise ConfigError(f"filters: 'catalogs' must be a list of names, e.g. ['PAINS', 'BRENK']; got {catalogs!r}")
    for name in catalogs:
        try:
            out.append((str(name), get_filter(name).hits))
        except ConfigError as exc:
            raise ConfigError(f"filters: {exc}") from None
    if "smarts" in spec:
        smarts = spec["smarts"]
        if not isinstance(smarts, Mapping) or not smarts:
            raise ConfigError(f"filters: 'smarts' must be a table name -> SMARTS; got {smarts!r}")
        flt = SmartsFilter(smarts, name="filters.smarts")
        out.append(("smarts", lambda mol, f=flt: [f"SMARTS: {h}" for h in f.hits(mol)]))
    if "lipinski" in spec:
        max_v = spec["lipinski"]
        if isinstance(max_v, bool) or not isinstance(max_v, int) or not 0 <= max_v <= 3:
            raise ConfigError(
                f"filters: 'lipinski' is the most rule-of-five violations allowed, an integer 0-3; got {max_v!r}"
            )
        out.append(("lipinski", lambda mol, m=max_v: _lipinski_hit(mol, m)))
    if spec.get("veber", False) is not False:
        if spec["veber"] is not True:
            raise ConfigError(f"filters: 'veber' must be true or false; got {spec['veber']!r}")
        out.append(("veber", lambda mol: [] if veber_passes(mol) else ["Veber: > 10 rotatable bonds or TPSA > 140"]))
    return out


def _lipinski_hit(mol: Chem.Mol, max_violations: int) -> list[str]:
    n = int(lipinski_violations(mol))
    return [f"Lipinski: {n} rule-of-five violations (> {max_violations})"] if n > max_violations else []


# -- the scoring function ------------------------------------------------------------------------

_TOP_KEYS = ("name", "description", "aggregation", "components", "filters")
_AGGREGATIONS = ("geometric", "arithmetic")


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a scoring configuration from a ``.toml`` or ``.json`` file.

    Raises:
        ConfigError: if the file is missing, has another extension, or does not parse.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"scoring config {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # pragma: no cover - Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            with open(p, "rb") as fh:
                return tomllib.load(fh)
        if suffix == ".json":
            data = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ConfigError(f"scoring config {str(p)!r} must hold a JSON object; got {type(data).__name__}")
            return data
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"scoring config {str(p)!r} does not parse: {exc}") from exc
    raise ConfigError(f"scoring config {str(p)!r}: use a .toml or .json file; got {suffix or 'no extension'!r}")


def example_config(name: str = "druglike") -> Path:
    """Path of a shipped example configuration (:data:`EXAMPLE_CONFIGS`)."""
    if name not in EXAMPLE_CONFIGS:
        raise ConfigError(f"unknown example config {name!r}; choose one of {', '.join(EXAMPLE_CONFIGS)}")
    return _RESOURCES / EXAMPLE_CONFIGS[name]


class ScoringFunction:
    """A multi-parameter score of molecules (see the module documentation).

    Args:
        config: the configuration as a dict (as read from TOML/JSON), stored unchanged.
        base_dir: folder that relative paths in the configuration (QSAR models) are relative to;
            default: the current directory (the config file's folder with :meth:`from_config`).

    Raises:
        ConfigError: for an unknown component or transform, a SMARTS that does not parse, a
            weight ≤ 0, ... (the message names the component).

    Example:
        >>> f = ScoringFunction.from_config(example_config("druglike"))
        >>> [c.name for c in f.components]
        ['qed', 'sa', 'tpsa']
    """

    def __init__(self, config: Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None) -> None:
        self.config = config
        self.base_dir = base_dir
        if not isinstance(config, Mapping):
            raise ConfigError(f"a scoring config must be a table (dict); got {type(config).__name__}")
        unknown = sorted(set(config) - set(_TOP_KEYS))
        if unknown:
            raise ConfigError(f"scoring config: unknown key(s) {unknown}; known keys: {', '.join(_TOP_KEYS)}")
        self.aggregation = config.get("aggregation", "geometric")
        if self.aggregation not in _AGGREGATIONS:
            raise ConfigError(f"scoring config: unknown aggregation {self.aggregation!r}; choose one of {_AGGREGATIONS}")
        specs = config.get("components")
        if not isinstance(specs, list) or not specs:
            raise ConfigError("scoring config: 'components' must be a non-empty list of component tables")
        folder = Path(base_dir) if base_dir is not None else None
        self.components = [_build_component(s, i, folder) for i, s in enumerate(specs)]
        names = [c.name for c in self.components]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"scoring config: component names {dup} are used twice; give each a distinct 'name'")
        self._filters = _build_filters(config.get("filters"))
        self._weights = np.array([c.weight for c in self.components])

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | str | os.PathLike[str]) -> "ScoringFunction":
        """Build from a dict or a ``.toml``/``.json`` file (relative paths inside are relative to it)."""
        if isinstance(config, Mapping):
            return cls(config)
        path = Path(config)
        return cls(load_config(path), base_dir=path.resolve().parent)

    def __repr__(self) -> str:
        names = ", ".join(c.name for c in self.components)
        return f"ScoringFunction([{names}], aggregation={self.aggregation!r}, filters={len(self._filters)})"

    # -- scoring ------------------------------------------------------------------------------------
    def _evaluate(self, smiles: Sequence[str]) -> tuple[list[bool], np.ndarray, list[list[str]]]:
        if isinstance(smiles, str):
            raise ConfigError("score a list of SMILES, not one string: f(['CCO']) rather than f('CCO')")
        raw = np.full((len(smiles), len(self.components)), np.nan)
        valid: list[bool] = []
        hits: list[list[str]] = []
        seen: dict[str, int] = {}  # a SMILES repeated in the batch is scored once
        for i, smi in enumerate(smiles):
            if isinstance(smi, str) and smi in seen:
                first = seen[smi]
                valid.append(valid[first])
                hits.append(hits[first])
                raw[i] = raw[first]
                continue
            if isinstance(smi, str):
                seen[smi] = i
            mol = None
            if isinstance(smi, str) and smi.strip():
                with rdBase.BlockLogs():
                    mol = Chem.MolFromSmiles(smi)
            if mol is not None and mol.GetNumAtoms() == 0:
                mol = None
            valid.append(mol is not None)
            if mol is None:
                hits.append([])
                continue
            hits.append([h for _, flt in self._filters for h in flt(mol)])
            for j, comp in enumerate(self.components):
                raw[i, j] = comp.fn(mol)
        return valid, raw, hits

    def _combine(self, valid: list[bool], raw: np.ndarray, hits: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        scores = np.column_stack([c.transform(raw[:, j]) for j, c in enumerate(self.components)])
        w = self._weights
        if self.aggregation == "geometric":
            total = np.prod(scores**w, axis=1) ** (1.0 / w.sum())
        else:
            total = scores @ w / w.sum()
        ok = np.array(valid, dtype=bool) & np.array([not h for h in hits], dtype=bool)
        return scores, np.where(ok, total, 0.0)

    def __call__(self, smiles: Sequence[str]) -> np.ndarray:
        """Scores in [0, 1], one per SMILES (0 for invalid or filtered molecules)."""
        valid, raw, hits = self._evaluate(smiles)
        return self._combine(valid, raw, hits)[1]

    def score_table(self, smiles: Sequence[str]):
        """A ``pandas.DataFrame``: each SMILES, its validity, every component's raw value (``<name>``)
        and transformed value (``<name>_score``), the filter hits (``filter_hits``, "; "-joined),
        ``passes_filters`` and the total ``score``."""
        import pandas as pd

        valid, raw, hits = self._evaluate(smiles)
        scores, total = self._combine(valid, raw, hits)
        data: dict[str, Any] = {"smiles": list(smiles), "valid": valid}
        for j, c in enumerate(self.components):
            data[c.name] = raw[:, j]
            data[f"{c.name}_score"] = scores[:, j]
        data["filter_hits"] = ["; ".join(h) for h in hits]
        data["passes_filters"] = [v and not h for v, h in zip(valid, hits)]
        data["score"] = total
        return pd.DataFrame(data)
