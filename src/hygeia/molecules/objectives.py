"""GuacaMol goal-directed objectives, written from Brown et al. (2019).

"GuacaMol: Benchmarking Models for de Novo Molecular Design" (J. Chem. Inf. Model.
59, 1096) defines each goal as molecule-wise scores in [0, 1], each a property
passed through a *modifier*, combined by a geometric (MPOs) or arithmetic (hops)
mean. The same definitions are the PMO benchmark's oracles (Gao et al., 2022).

Modifiers (``x`` is the raw property):

- ``gaussian(mu, sigma)``: ``exp(-(x - mu)**2 / (2 sigma**2))``;
- ``min_gaussian(mu, sigma)``: 1 for ``x <= mu``, the Gaussian above (a cap);
- ``max_gaussian(mu, sigma)``: 1 for ``x >= mu``, the Gaussian below (a floor);
- ``clipped(upper_x, lower_x=0)``: linear from 0 at ``lower_x`` to 1 at ``upper_x``, clipped.

Fingerprints, compared by Tanimoto similarity on counts, as GuacaMol does:
``ECFP4``/``ECFP6`` (Morgan radius 2/3, unfolded counts), ``FCFP4`` (Morgan radius 2
with feature invariants), ``AP`` (atom pairs up to distance 10), ``PHCO`` (Gobbi
2D pharmacophores).

An objective is a callable on a list of SMILES returning an array; an invalid
SMILES scores 0.

PMO (Gao et al., 2022) runs 23 objectives through TDC's oracles (:data:`PMO_OBJECTIVES`).
Twenty are GuacaMol definitions or QED, all built here (TDC's isomer scoring counts
hydrogens as GuacaMol does since TDC 0.3.8; earlier TDC releases, which the PMO paper may
have used, counted the atoms of the SMILES string read as a formula). Three,
``drd2``, ``gsk3b`` and ``jnk3``, are TDC's trained classifiers (an SVM of Olivecrona et
al., 2017, and random forests of Li et al., 2018): their files are not shipped with Hygeia;
they are read as data (no pickled code is run) from MolScore's copy
(``pip install --no-deps molscore==1.9.5``) or from a folder named by
``HYGEIA_TDC_ORACLES``, and scored in NumPy exactly as scikit-learn scores them
(``hygeia.molecules._classifiers``). :func:`pmo_unavailable` says which cannot be built here.

Example:
    >>> celecoxib = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
    >>> objective("celecoxib_rediscovery")([celecoxib, "not a molecule"]).tolist()
    [1.0, 0.0]
    >>> "osimertinib_mpo" in objective_names()
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from hygeia.errors import ConfigError, MissingExtraError

__all__ = [
    "PMO_CLASSIFIERS",
    "PMO_OBJECTIVES",
    "TUNING_OBJECTIVES",
    "Objective",
    "clipped",
    "fingerprint",
    "gaussian",
    "max_gaussian",
    "min_gaussian",
    "objective",
    "objective_names",
    "pmo_unavailable",
]

try:
    from rdkit import Chem, DataStructs, rdBase
    from rdkit.Chem import QED, Descriptors, rdFingerprintGenerator, rdMolDescriptors
except ImportError:  # pragma: no cover - depends on the environment
    raise MissingExtraError("rdkit", "molecules", "GuacaMol objectives") from None

from hygeia.molecules._pharm2d import gobbi_fingerprint  # noqa: E402 - after the RDKit check

Modifier = Callable[[float], float]
MolScore = Callable[["Chem.Mol"], float]


# -- modifiers ---------------------------------------------------------------------------------
def gaussian(mu: float, sigma: float) -> Modifier:
    """Score 1 at ``mu``, falling as a Gaussian of width ``sigma`` on both sides."""
    return lambda x: math.exp(-0.5 * ((x - mu) / sigma) ** 2)


def min_gaussian(mu: float, sigma: float) -> Modifier:
    """Score 1 up to ``mu`` and a Gaussian fall above it (the property should stay below ``mu``)."""
    g = gaussian(mu, sigma)
    return lambda x: 1.0 if x <= mu else g(x)


def max_gaussian(mu: float, sigma: float) -> Modifier:
    """Score 1 from ``mu`` up and a Gaussian fall below it (the property should reach ``mu``)."""
    g = gaussian(mu, sigma)
    return lambda x: 1.0 if x >= mu else g(x)


def clipped(upper_x: float, lower_x: float = 0.0) -> Modifier:
    """0 at or below ``lower_x``, 1 at or above ``upper_x``, linear between."""
    span = upper_x - lower_x
    return lambda x: min(max((x - lower_x) / span, 0.0), 1.0)


def _identity(x: float) -> float:
    return float(x)


# -- fingerprints -------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _generator(kind: str):
    if kind == "ECFP4":
        return rdFingerprintGenerator.GetMorganGenerator(radius=2)
    if kind == "ECFP6":
        return rdFingerprintGenerator.GetMorganGenerator(radius=3)
    if kind == "FCFP4":
        return rdFingerprintGenerator.GetMorganGenerator(
            radius=2, atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen())
    if kind == "AP":
        return rdFingerprintGenerator.GetAtomPairGenerator(maxDistance=10)
    raise ConfigError(f"unknown fingerprint {kind!r}; choose one of 'ECFP4', 'ECFP6', 'FCFP4', 'AP', 'PHCO'")


def fingerprint(mol: "Chem.Mol", kind: str):
    """The fingerprint GuacaMol names ``kind`` (``ECFP4``, ``ECFP6``, ``FCFP4``, ``AP``, ``PHCO``)."""
    if kind == "PHCO":  # RDKit's Gen2DFingerprint with the Gobbi factory, bit for bit, faster
        return gobbi_fingerprint(mol)
    return _generator(kind).GetSparseCountFingerprint(mol)


def _mol(smiles: str) -> "Chem.Mol":
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:  # pragma: no cover - the targets below are valid
        raise ConfigError(f"target SMILES {smiles!r} does not parse")
    return mol


# -- molecule-wise scores --------------------------------------------------------------------------
def _similarity(target: str, kind: str, modifier: Modifier = _identity) -> MolScore:
    ref = fingerprint(_mol(target), kind)
    return lambda mol: modifier(DataStructs.TanimotoSimilarity(ref, fingerprint(mol, kind)))


def _descriptor(fn: Callable[["Chem.Mol"], float], modifier: Modifier) -> MolScore:
    return lambda mol: modifier(float(fn(mol)))


def _smarts(pattern: str, *, inverse: bool = False) -> MolScore:
    query = Chem.MolFromSmarts(pattern)
    return lambda mol: float(mol.HasSubstructMatch(query) != inverse)


def _element_counts(mol: "Chem.Mol") -> dict[str, int]:
    counts: dict[str, int] = {}
    for atom in Chem.AddHs(mol).GetAtoms():
        counts[atom.GetSymbol()] = counts.get(atom.GetSymbol(), 0) + 1
    return counts


def _isomer(formula: str) -> MolScore:
    """Closeness to a molecular formula: geometric mean of a Gaussian (sigma 1) on each
    element's count and one (sigma 2) on the total atom count, hydrogens included."""
    target = {el: int(n or 1) for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula)}
    total = sum(target.values())
    parts = [(el, gaussian(n, 1.0)) for el, n in target.items()]
    total_mod = gaussian(total, 2.0)

    def score(mol: "Chem.Mol") -> float:
        counts = _element_counts(mol)
        values = [mod(counts.get(el, 0)) for el, mod in parts] + [total_mod(sum(counts.values()))]
        return _geometric(values)

    return score


def _geometric(values: Sequence[float]) -> float:
    if min(values) <= 0.0:
        return 0.0
    return float(math.exp(sum(math.log(v) for v in values) / len(values)))


def _geometric_mean(parts: Sequence[MolScore]) -> MolScore:
    return lambda mol: _geometric([p(mol) for p in parts])


def _arithmetic_mean(parts: Sequence[MolScore]) -> MolScore:
    return lambda mol: float(sum(p(mol) for p in parts) / len(parts))


def _atom_count(symbol: str) -> Callable[["Chem.Mol"], float]:
    return lambda mol: float(sum(1 for a in mol.GetAtoms() if a.GetSymbol() == symbol))


# -- objectives ------------------------------------------------------------------------------------
class Objective:
    """A goal-directed objective: scores a list of SMILES in [0, 1] (invalid ones score 0).

    Args:
        name: the objective's name, e.g. ``"osimertinib_mpo"``.
        score_mol: the molecule-wise score of a parsed RDKit molecule.
        description: one line saying what the goal is.

    Example:
        >>> from rdkit.Chem import QED
        >>> qed = Objective("qed", QED.qed, "drug-likeness")
        >>> qed(["CCO", "c1ccccc1O", "C1CC"]).round(3).tolist()
        [0.407, 0.515, 0.0]
    """

    def __init__(self, name: str, score_mol: MolScore, description: str = "") -> None:
        self.name = name
        self.score_mol = score_mol
        self.description = description

    def __call__(self, smiles: Sequence[str]) -> np.ndarray:
        if isinstance(smiles, str):
            raise ConfigError(f"objective {self.name!r} takes a list of SMILES; got the string {smiles!r:.60}. "
                              "Wrap one molecule as [smiles].")
        out = np.zeros(len(smiles), dtype=float)
        with rdBase.BlockLogs():
            mols = [Chem.MolFromSmiles(s) if isinstance(s, str) and s else None for s in smiles]
            valid = [i for i, mol in enumerate(mols) if mol is not None and mol.GetNumAtoms() > 0]
            if valid:
                out[valid] = np.clip(self._score_mols([mols[i] for i in valid]), 0.0, 1.0)
        return out

    def _score_mols(self, mols: Sequence["Chem.Mol"]) -> np.ndarray:
        """Scores of parsed molecules (one by one; a subclass may score them in one batch)."""
        return np.array([float(self.score_mol(mol)) for mol in mols])

    def __repr__(self) -> str:
        return f"Objective({self.name!r})"


_CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
_TROGLITAZONE = "Cc1c(C)c2OC(C)(COc3ccc(CC4SC(=O)NC4=O)cc3)CCc2c(C)c1O"
_THIOTHIXENE = "CN(C)S(=O)(=O)c1ccc2Sc3ccccc3C(=CCCN4CCN(C)CC4)c2c1"
_OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
_FEXOFENADINE = "CC(C)(C(=O)O)c1ccc(cc1)C(O)CCCN2CCC(CC2)C(O)(c3ccccc3)c4ccccc4"
_RANOLAZINE = "COc1ccccc1OCC(O)CN2CCN(CC(=O)Nc3c(C)cccc3C)CC2"
_PERINDOPRIL = "O=C(OCC)C(NC(C(=O)N1C(C(=O)O)CC2CCCCC12)C)CCC"
_AMLODIPINE = r"Clc1ccccc1C2C(=C(/N/C(=C2/C(=O)OCC)COCCN)C)\C(=O)OC"
_SITAGLIPTIN = "Fc1cc(c(F)cc1F)CC(N)CC(=O)N3Cc2nnc(n2CC3)C(F)(F)F"
_ZALEPLON = "O=C(C)N(CC)C1=CC=CC(C2=CC=NC3=C(C=NN23)C#N)=C1"
_ALBUTEROL = "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1"
_MESTRANOL = "COc1ccc2[C@H]3CC[C@@]4(C)[C@@H](CC[C@@]4(O)C#C)[C@@H]3CCc2c1"
_ARIPIPRAZOLE = "Clc4cccc(N3CCN(CCCCOc2ccc1c(NC(=O)CC1)c2)CC3)c4Cl"
_CAMPHOR = "CC1(C)C2CCC1(C)C(=O)C2"
_MENTHOL = "CC(C)C1CCC(C)CC1O"
_TADALAFIL = "O=C1N(CC(N2C1CC3=C(C2C4=CC5=C(OCO5)C=C4)NC6=C3C=CC=C6)=O)C"
_SILDENAFIL = "CCCC1=NN(C2=C1N=C(NC2=O)C3=C(C=CC(=C3)S(=O)(=O)N4CCN(CC4)C)OCC)C"
_HOP_START = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
_HOP_SCAFFOLD = "[#7]-c1n[c;h1]nc2[c;h1]c(-[#8])[c;h0][c;h1]c12"


def _rediscovery(target: str) -> MolScore:
    return _similarity(target, "ECFP4")


def _osimertinib() -> MolScore:
    return _geometric_mean([
        _similarity(_OSIMERTINIB, "FCFP4", clipped(0.8)),
        _similarity(_OSIMERTINIB, "ECFP6", min_gaussian(0.85, 0.1)),
        _descriptor(Descriptors.TPSA, max_gaussian(100, 10)),
        _descriptor(Descriptors.MolLogP, min_gaussian(1, 1)),
    ])


def _fexofenadine() -> MolScore:
    return _geometric_mean([
        _similarity(_FEXOFENADINE, "AP", clipped(0.8)),
        _descriptor(Descriptors.TPSA, max_gaussian(90, 10)),
        _descriptor(Descriptors.MolLogP, min_gaussian(4, 1)),
    ])


def _ranolazine() -> MolScore:
    return _geometric_mean([
        _similarity(_RANOLAZINE, "AP", clipped(0.7)),
        _descriptor(Descriptors.MolLogP, max_gaussian(7, 1)),
        _descriptor(_atom_count("F"), gaussian(1, 1.0)),
        _descriptor(Descriptors.TPSA, max_gaussian(95, 20)),
    ])


def _perindopril() -> MolScore:
    return _geometric_mean([
        _similarity(_PERINDOPRIL, "ECFP4"),
        _descriptor(rdMolDescriptors.CalcNumAromaticRings, gaussian(2, 0.5)),
    ])


def _amlodipine() -> MolScore:
    return _geometric_mean([
        _similarity(_AMLODIPINE, "ECFP4"),
        _descriptor(rdMolDescriptors.CalcNumRings, gaussian(3, 0.5)),
    ])


def _sitagliptin() -> MolScore:
    ref = _mol(_SITAGLIPTIN)
    return _geometric_mean([
        _similarity(_SITAGLIPTIN, "ECFP4", gaussian(0, 0.1)),
        _descriptor(Descriptors.MolLogP, gaussian(Descriptors.MolLogP(ref), 0.2)),
        _descriptor(Descriptors.TPSA, gaussian(Descriptors.TPSA(ref), 5)),
        _isomer("C16H15F6N5O"),
    ])


def _zaleplon() -> MolScore:
    return _geometric_mean([_similarity(_ZALEPLON, "ECFP4"), _isomer("C19H17N3O2")])


def _valsartan() -> MolScore:
    # The valsartan substructure with sitagliptin's logP, TPSA and Bertz complexity.
    ref = _mol(_SITAGLIPTIN)
    return _geometric_mean([
        _smarts("CN(C=O)Cc1ccc(c2ccccc2)cc1"),
        _descriptor(Descriptors.MolLogP, gaussian(Descriptors.MolLogP(ref), 0.2)),
        _descriptor(Descriptors.TPSA, gaussian(Descriptors.TPSA(ref), 5)),
        _descriptor(Descriptors.BertzCT, gaussian(Descriptors.BertzCT(ref), 30)),
    ])


def _deco_hop() -> MolScore:
    return _arithmetic_mean([
        _similarity(_HOP_START, "PHCO", clipped(0.85)),
        _smarts("CS([#6])(=O)=O", inverse=True),
        _smarts("[#7]-c1ccc2ncsc2c1", inverse=True),
        _smarts(_HOP_SCAFFOLD),
    ])


def _scaffold_hop() -> MolScore:
    return _arithmetic_mean([
        _similarity(_HOP_START, "PHCO", clipped(0.75)),
        _smarts("[#6]-[#6]-[#6]-[#8]-[#6]~[#6]~[#6]~[#6]~[#6]-[#7]-c1ccc2ncsc2c1"),
        _smarts(_HOP_SCAFFOLD, inverse=True),
    ])


def _median(a: str, b: str, kind: str) -> MolScore:
    return _geometric_mean([_similarity(a, kind), _similarity(b, kind)])


_OBJECTIVES: dict[str, tuple[Callable[[], MolScore], str]] = {
    "celecoxib_rediscovery": (lambda: _rediscovery(_CELECOXIB), "ECFP4 similarity to celecoxib"),
    "troglitazone_rediscovery": (lambda: _rediscovery(_TROGLITAZONE), "ECFP4 similarity to troglitazone"),
    "thiothixene_rediscovery": (lambda: _rediscovery(_THIOTHIXENE), "ECFP4 similarity to thiothixene"),
    "osimertinib_mpo": (_osimertinib, "like osimertinib (FCFP4) but not identical (ECFP6), TPSA >= 100, logP <= 1"),
    "fexofenadine_mpo": (_fexofenadine, "like fexofenadine (AP), TPSA >= 90, logP <= 4"),
    "ranolazine_mpo": (_ranolazine, "like ranolazine (AP), logP >= 7, TPSA >= 95, one fluorine"),
    "perindopril_mpo": (_perindopril, "like perindopril (ECFP4) with two aromatic rings"),
    "amlodipine_mpo": (_amlodipine, "like amlodipine (ECFP4) with three rings"),
    "sitagliptin_mpo": (_sitagliptin, "unlike sitagliptin, with its logP, TPSA and formula C16H15F6N5O"),
    "zaleplon_mpo": (_zaleplon, "like zaleplon (ECFP4) with formula C19H17N3O2"),
    "valsartan_smarts": (_valsartan, "valsartan substructure with sitagliptin's logP, TPSA and Bertz index"),
    "deco_hop": (_deco_hop, "keep the quinazoline scaffold, change its decorations"),
    "scaffold_hop": (_scaffold_hop, "keep the decorations, change the quinazoline scaffold"),
    "albuterol_similarity": (lambda: _similarity(_ALBUTEROL, "FCFP4", clipped(0.75)),
                             "FCFP4 similarity to albuterol, full score from 0.75"),
    "mestranol_similarity": (lambda: _similarity(_MESTRANOL, "AP", clipped(0.75)),
                             "atom-pair similarity to mestranol, full score from 0.75"),
    "isomers_c7h8n2o2": (lambda: _isomer("C7H8N2O2"), "an isomer of C7H8N2O2"),
    "isomers_c9h10n2o2pf2cl": (lambda: _isomer("C9H10N2O2PF2Cl"), "an isomer of C9H10N2O2PF2Cl"),
    # GuacaMol's two goals outside PMO's 23: the set to tune optimizers on without touching PMO's
    "aripiprazole_similarity": (lambda: _similarity(_ARIPIPRAZOLE, "FCFP4", clipped(0.75)),
                                "FCFP4 similarity to aripiprazole, full score from 0.75 (GuacaMol; not in PMO)"),
    "isomers_c11h24": (lambda: _isomer("C11H24"), "an isomer of C11H24 (GuacaMol; not in PMO)"),
    "median1": (lambda: _median(_CAMPHOR, _MENTHOL, "ECFP4"), "as like camphor as menthol (ECFP4, geometric mean)"),
    "median2": (lambda: _median(_TADALAFIL, _SILDENAFIL, "ECFP6"),
                "as like tadalafil as sildenafil (ECFP6, geometric mean)"),
    "qed": (lambda: QED.qed, "drug-likeness (QED, Bickerton et al., 2012)"),
}

#: The 23 objectives of the PMO benchmark, in its order (Gao et al., 2022, table 2).
PMO_OBJECTIVES = (
    "albuterol_similarity", "amlodipine_mpo", "celecoxib_rediscovery", "deco_hop", "drd2", "fexofenadine_mpo",
    "gsk3b", "isomers_c7h8n2o2", "isomers_c9h10n2o2pf2cl", "jnk3", "median1", "median2", "mestranol_similarity",
    "osimertinib_mpo", "perindopril_mpo", "qed", "ranolazine_mpo", "scaffold_hop", "sitagliptin_mpo",
    "thiothixene_rediscovery", "troglitazone_rediscovery", "valsartan_smarts", "zaleplon_mpo",
)
#: GuacaMol objectives outside PMO's 23: tune optimizers on these, report on PMO's.
TUNING_OBJECTIVES = ("aripiprazole_similarity", "isomers_c11h24")
#: PMO objectives scored by TDC's trained classifiers (files read from MolScore or ``HYGEIA_TDC_ORACLES``).
PMO_CLASSIFIERS = ("drd2", "gsk3b", "jnk3")


class _ClassifierObjective(Objective):
    """A PMO classifier objective, scored in one batch (the models score arrays of fingerprints)."""

    def __init__(self, name: str) -> None:
        from hygeia.molecules._classifiers import CLASSIFIERS, classifier_score

        batch = classifier_score(name)
        super().__init__(name, lambda mol: float(batch([mol])[0]), CLASSIFIERS[name][2])
        self._batch = batch

    def _score_mols(self, mols: Sequence["Chem.Mol"]) -> np.ndarray:
        return self._batch(mols)


def pmo_unavailable() -> dict[str, str]:
    """The PMO objectives that cannot be built here, each with the reason and the fix."""
    from hygeia.molecules._classifiers import find_model

    missing = {}
    for name in PMO_CLASSIFIERS:
        try:
            find_model(name)
        except ConfigError as e:
            missing[name] = str(e)
    return missing


def objective_names() -> list[str]:
    """Names of the objectives :func:`objective` builds: GuacaMol's and PMO's classifiers."""
    return [*_OBJECTIVES, *PMO_CLASSIFIERS]


def objective(name: str) -> Objective:
    """Build the objective ``name`` (see :func:`objective_names`).

    Raises:
        ConfigError: for an unknown name, or a PMO classifier whose file is not found here
            (the message says how to get it).
    """
    if isinstance(name, str) and name in PMO_CLASSIFIERS:
        return _ClassifierObjective(name)
    try:
        factory, description = _OBJECTIVES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown objective {name!r}; choose one of {', '.join(objective_names())}") from None
    return Objective(name, factory(), description)
