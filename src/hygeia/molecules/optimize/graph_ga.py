"""A graph-based genetic algorithm for molecules (Jensen, 2019).

"A graph-based genetic algorithm and generative model/Monte Carlo tree search
for the exploration of chemical space" (Chem. Sci. 10, 3567) evolves molecules
as graphs:

- **crossover** cuts each parent in two, either at one acyclic single bond or at
  two bonds of one ring, and joins a piece of one parent to a piece of the other
  at the cut points (so a ring cut makes a new ring);
- **mutation** (with probability ``mutation_rate`` per child) makes one edit: append
  an atom, insert an atom into a bond, delete an atom, change an element, change a
  bond order, open a ring or close one;
- **selection**: parents are drawn with a weight that falls with their rank,
  ``1 / (0.01 * population_size + rank)`` (rank 0 the best; the rank weighting of
  Tripp et al., 2020), or, as in Jensen's paper, in proportion to their score; the
  next population is the best ``population_size`` distinct molecules among the
  population and its offspring.

Every child is sanitized by RDKit and kept only if it is one connected molecule of
at most ``max_heavy_atoms`` heavy atoms whose rings have 3 to 7 atoms, with no
double bond in a 3- or 4-ring and no cumulated double bonds in a ring. Edits work
on the Kekulé form, so aromatic rings can be cut, mutated and rebuilt.

The run starts from ``initial_size`` molecules drawn from ZINC-250k (or the
molecules given), scored by the oracle; the best ``population_size`` form the
first population. It stops when the oracle's budget is spent, after
``max_generations``, or when ``patience`` generations in a row bring no molecule
the oracle has not scored.

Example:
    >>> from rdkit.Chem import QED
    >>> from hygeia.molecules.optimize import Oracle
    >>> oracle = Oracle(lambda s: [QED.qed(Chem.MolFromSmiles(x)) for x in s], budget=60)
    >>> ga = GraphGA(population_size=10, offspring_size=10, initial_size=20,
    ...              initial_population=["CCO", "c1ccccc1", "CC(=O)Nc1ccccc1", "CCN(CC)CC", "OCCc1ccncc1"] * 4)
    >>> result = ga.optimize(oracle, seed=0)
    >>> result.stop_reason, result.metrics["n_calls"] <= 60
    ('budget', True)
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, MissingExtraError
from hygeia.molecules.optimize.oracle import BudgetExhausted, OptimizationResult, Oracle

try:
    from rdkit import Chem, rdBase
except ImportError:  # pragma: no cover - depends on the environment
    raise MissingExtraError("rdkit", "molecules", "The graph genetic algorithm") from None

__all__ = ["GraphGA", "crossover", "mutate"]

_SINGLE, _DOUBLE, _TRIPLE = Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE
_ORDER = {_SINGLE: 1, _DOUBLE: 2, _TRIPLE: 3}
_BOND = {1: _SINGLE, 2: _DOUBLE, 3: _TRIPLE}
#: Elements an edit may introduce, by the order of the bond that holds them, with weights
#: roughly following their frequency in drug-like molecules.
_APPEND = {
    1: (("C", "N", "O", "F", "S", "Cl", "Br"), (0.45, 0.2, 0.2, 0.06, 0.04, 0.04, 0.01)),
    2: (("C", "N", "O", "S"), (0.4, 0.2, 0.35, 0.05)),
    3: (("C", "N"), (0.5, 0.5)),
}
_CHANGE = (("C", "N", "O", "F", "S", "Cl", "Br"), (0.4, 0.25, 0.2, 0.05, 0.05, 0.04, 0.01))
_INSERT = (("C", "N", "O", "S"), (0.6, 0.2, 0.15, 0.05))
_MAX_RING = 7
_RING_ALLENE = Chem.MolFromSmarts("*=@*=@*")


# -- helpers ---------------------------------------------------------------------------------------
def _kekule(mol: Chem.Mol) -> Chem.RWMol:
    rw = Chem.RWMol(mol)
    Chem.Kekulize(rw, clearAromaticFlags=True)
    return rw


def _touch(rw: Chem.RWMol, *indices: int) -> None:
    """Let RDKit recompute the hydrogens of edited atoms from their new bonds."""
    for i in indices:
        atom = rw.GetAtomWithIdx(i)
        atom.SetNoImplicit(False)
        atom.SetNumExplicitHs(0)
        atom.SetNumRadicalElectrons(0)


def _rings_ok(mol: Chem.Mol) -> bool:
    """No ring above 7 atoms, no double bond in a 3- or 4-ring, no cumulated ring double bonds (Kekulé form)."""
    info = mol.GetRingInfo()
    if any(len(ring) > _MAX_RING for ring in info.AtomRings()):
        return False
    for ring in info.BondRings():
        if len(ring) <= 4 and any(mol.GetBondWithIdx(b).GetBondType() == _DOUBLE for b in ring):
            return False
    return not mol.HasSubstructMatch(_RING_ALLENE)


def _finish(mol: Chem.Mol, max_heavy_atoms: int) -> Chem.Mol | None:
    """The edited molecule, sanitized and read back from its SMILES; ``None`` if unacceptable."""
    try:
        mol = Chem.Mol(mol)
        Chem.SanitizeMol(mol)
    except (ValueError, RuntimeError):
        return None
    if not 1 < mol.GetNumAtoms() <= max_heavy_atoms or len(Chem.GetMolFrags(mol)) != 1:
        return None
    Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
    out = Chem.MolFromSmiles(Chem.MolToSmiles(mol))
    if out is None:
        return None
    # The ring checks read the Kekulé form, where aromatic double bonds are explicit.
    kek = Chem.Mol(out)
    try:
        Chem.Kekulize(kek, clearAromaticFlags=True)
    except (ValueError, RuntimeError):  # pragma: no cover - a parsed molecule kekulizes
        return None
    return out if _rings_ok(kek) else None


# -- mutations -------------------------------------------------------------------------------------
def _pick(rng: random.Random, options: tuple[tuple[str, ...], tuple[float, ...]], exclude: str = "") -> str:
    symbols, weights = options
    pairs = [(s, w) for s, w in zip(symbols, weights) if s != exclude]
    return rng.choices([s for s, _ in pairs], weights=[w for _, w in pairs])[0]


def _append_atom(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    sites = [i for i in range(mol.GetNumAtoms()) if mol.GetAtomWithIdx(i).GetTotalNumHs() > 0]
    if not sites:
        return None
    i = rng.choice(sites)
    free = mol.GetAtomWithIdx(i).GetTotalNumHs()
    order = rng.choices([1, 2, 3], weights=[0.8, 0.15, 0.05])[0]
    order = min(order, free)
    rw = _kekule(mol)
    j = rw.AddAtom(Chem.Atom(_pick(rng, _APPEND[order])))
    rw.AddBond(i, j, _BOND[order])
    _touch(rw, i)
    return rw.GetMol()


def _insert_atom(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    rw = _kekule(mol)
    if rw.GetNumBonds() == 0:
        return None
    bond = rw.GetBondWithIdx(rng.randrange(rw.GetNumBonds()))
    a, b, kind = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), bond.GetBondType()
    rw.RemoveBond(a, b)
    x = rw.AddAtom(Chem.Atom(_pick(rng, _INSERT)))
    rw.AddBond(a, x, kind)
    rw.AddBond(x, b, _SINGLE)
    _touch(rw, a, b)
    return rw.GetMol()


def _delete_atom(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    sites = [i for i in range(mol.GetNumAtoms()) if mol.GetAtomWithIdx(i).GetDegree() in (1, 2)]
    if not sites or mol.GetNumAtoms() <= 2:
        return None
    i = rng.choice(sites)
    rw = _kekule(mol)
    neighbours = [n.GetIdx() for n in rw.GetAtomWithIdx(i).GetNeighbors()]
    if len(neighbours) == 2:
        a, b = neighbours
        if rw.GetBondBetweenAtoms(a, b) is not None:
            return None
        rw.AddBond(a, b, _SINGLE)
    _touch(rw, *neighbours)
    rw.RemoveAtom(i)
    return rw.GetMol()


def _change_atom(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    i = rng.randrange(mol.GetNumAtoms())
    rw = _kekule(mol)
    atom = rw.GetAtomWithIdx(i)
    atom.SetAtomicNum(Chem.Atom(_pick(rng, _CHANGE, exclude=atom.GetSymbol())).GetAtomicNum())
    atom.SetFormalCharge(0)
    atom.SetIsotope(0)
    _touch(rw, i)
    return rw.GetMol()


def _change_bond(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    rw = _kekule(mol)
    if rw.GetNumBonds() == 0:
        return None
    bond = rw.GetBondWithIdx(rng.randrange(rw.GetNumBonds()))
    a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
    order = _ORDER.get(bond.GetBondType())
    if order is None:
        return None
    can_raise = order < 3 and min(mol.GetAtomWithIdx(a).GetTotalNumHs(), mol.GetAtomWithIdx(b).GetTotalNumHs()) > 0
    choices = ([order + 1] if can_raise else []) + ([order - 1] if order > 1 else [])
    if not choices:
        return None
    bond.SetBondType(_BOND[rng.choice(choices)])
    _touch(rw, a, b)
    return rw.GetMol()


def _open_ring(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    ring_bonds = sorted({b for ring in mol.GetRingInfo().BondRings() for b in ring})
    if not ring_bonds:
        return None
    rw = _kekule(mol)
    bond = rw.GetBondWithIdx(rng.choice(ring_bonds))
    a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
    rw.RemoveBond(a, b)
    _touch(rw, a, b)
    return rw.GetMol()


def _close_ring(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    dist = Chem.GetDistanceMatrix(mol)
    sites = [i for i in range(mol.GetNumAtoms()) if mol.GetAtomWithIdx(i).GetTotalNumHs() > 0]
    pairs = [(a, b) for k, a in enumerate(sites) for b in sites[k + 1:] if dist[a, b] in (4, 5)]  # 5- and 6-rings
    if not pairs:
        return None
    a, b = rng.choice(pairs)
    rw = _kekule(mol)
    rw.AddBond(a, b, _SINGLE)
    _touch(rw, a, b)
    return rw.GetMol()


_MUTATIONS = (_append_atom, _insert_atom, _delete_atom, _change_atom, _change_bond, _open_ring, _close_ring)


def mutate(mol: Chem.Mol, rng: random.Random, *, max_heavy_atoms: int = 50, tries: int = 10) -> Chem.Mol | None:
    """One random edit of ``mol`` (see the module documentation), sanitized; ``None`` if ``tries`` all fail.

    Example:
        >>> child = mutate(Chem.MolFromSmiles("c1ccccc1CCO"), random.Random(3))
        >>> child is not None and Chem.MolFromSmiles(Chem.MolToSmiles(child)) is not None
        True
    """
    with rdBase.BlockLogs():
        for _ in range(tries):
            edited = rng.choice(_MUTATIONS)(mol, rng)
            if edited is not None:
                out = _finish(edited, max_heavy_atoms)
                if out is not None:
                    return out
    return None


# -- crossover -------------------------------------------------------------------------------------
def _label_dummies(piece: Chem.Mol) -> Chem.Mol:
    """Turn the dummies' isotope labels (the cut they came from) into atom-map numbers for molzip."""
    for i in range(piece.GetNumAtoms()):
        atom = piece.GetAtomWithIdx(i)
        if atom.GetAtomicNum() == 0:
            atom.SetAtomMapNum(atom.GetIsotope())
            atom.SetIsotope(0)
    return piece


def _is_chain_single(bond: Chem.Bond) -> bool:
    return bond.GetBondType() == _SINGLE and not bond.IsInRing()


def _cut_chain(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    """One of the two pieces of ``mol`` cut at a random acyclic single bond (dummy mapped 1)."""
    bonds = [i for i in range(mol.GetNumBonds()) if _is_chain_single(mol.GetBondWithIdx(i))]
    if not bonds:
        return None
    cut = Chem.FragmentOnBonds(mol, [rng.choice(bonds)], addDummies=True, dummyLabels=[(1, 1)])
    pieces = Chem.GetMolFrags(cut, asMols=True, sanitizeFrags=False)
    return _label_dummies(rng.choice(pieces)) if len(pieces) == 2 else None


def _cut_ring(mol: Chem.Mol, rng: random.Random) -> Chem.Mol | None:
    """One of the two pieces of ``mol`` (Kekulé form) cut at two bonds of one ring (dummies mapped 1, 2)."""
    rings = [r for r in mol.GetRingInfo().BondRings() if len(r) >= 3]
    if not rings:
        return None
    kek = _kekule(mol).GetMol()
    for _ in range(3):
        first, second = rng.sample(list(rng.choice(rings)), 2)
        cut = Chem.FragmentOnBonds(kek, [first, second], addDummies=True, dummyLabels=[(1, 1), (2, 2)])
        pieces = Chem.GetMolFrags(cut, asMols=True, sanitizeFrags=False)
        if len(pieces) != 2:  # a fused ring system stays connected
            continue
        piece = rng.choice(pieces)
        labels = sorted(piece.GetAtomWithIdx(i).GetIsotope() for i in range(piece.GetNumAtoms())
                        if piece.GetAtomWithIdx(i).GetAtomicNum() == 0)
        if labels == [1, 2]:
            return _label_dummies(piece)
    return None


def _swap_maps(piece: Chem.Mol) -> Chem.Mol:
    piece = Chem.RWMol(piece)
    for atom in piece.GetAtoms():
        if atom.GetAtomMapNum() in (1, 2):
            atom.SetAtomMapNum(3 - atom.GetAtomMapNum())
    return piece.GetMol()


def crossover(parent_a: Chem.Mol, parent_b: Chem.Mol, rng: random.Random, *, max_heavy_atoms: int = 50,
              tries: int = 10) -> Chem.Mol | None:
    """A child joining a piece of ``parent_a`` to a piece of ``parent_b``; ``None`` if ``tries`` all fail.

    Half of the tries cut at two bonds of a ring in each parent (when both have rings),
    the others at one acyclic single bond.

    Example:
        >>> a, b = Chem.MolFromSmiles("c1ccccc1CCO"), Chem.MolFromSmiles("CC(=O)Nc1ccncc1")
        >>> child = crossover(a, b, random.Random(0))
        >>> child is not None
        True
    """
    with rdBase.BlockLogs():
        for _ in range(tries):
            if rng.random() < 0.5:
                pa, pb = _cut_ring(parent_a, rng), _cut_ring(parent_b, rng)
                if pb is not None and rng.random() < 0.5:
                    pb = _swap_maps(pb)
            else:
                pa, pb = _cut_chain(parent_a, rng), _cut_chain(parent_b, rng)
            if pa is None or pb is None:
                continue
            try:
                joined = Chem.molzip(pa, pb)
            except (ValueError, RuntimeError):
                continue
            child = _finish(joined, max_heavy_atoms)
            if child is not None:
                return child
    return None


# -- the algorithm ---------------------------------------------------------------------------------
class GraphGA:
    """Jensen's graph genetic algorithm, spending an :class:`Oracle`'s budget.

    Args:
        population_size: molecules kept from one generation to the next.
        offspring_size: children made per generation.
        mutation_rate: probability that a child is mutated after crossover.
        initial_size: molecules drawn from ``initial_population`` and scored to seed the run.
        initial_population: where the first molecules come from (default: ZINC-250k).
        selection: ``"rank"`` (parents drawn in proportion to ``1 / (0.01 * population_size + rank)``)
            or ``"score"`` (in proportion to their score, as Jensen).
        max_heavy_atoms: largest child kept.
        max_generations: stop after this many generations (``None``: when the budget is spent).
        patience: stop after this many generations in a row without a molecule new to the oracle.

    Population, offspring and mutation rate default to PMO's tuned Graph GA settings (120, 70,
    0.067; Gao et al., 2022). Rank selection is the default because it beat score-proportional
    selection in 4 of 4 runs at a 2,000-call budget (celecoxib rediscovery and perindopril MPO,
    mutation rate 0.067 and 0.3; ``benchmarks/molecules.py``).
    """

    name = "graph_ga"

    def __init__(self, *, population_size: int = 120, offspring_size: int = 70, mutation_rate: float = 0.067,
                 initial_size: int = 500, initial_population: Sequence[str] | None = None,
                 selection: str = "rank", max_heavy_atoms: int = 50, max_generations: int | None = None,
                 patience: int = 5) -> None:
        self.population_size = population_size
        self.offspring_size = offspring_size
        self.mutation_rate = mutation_rate
        self.initial_size = initial_size
        self.initial_population = initial_population
        self.selection = selection
        self.max_heavy_atoms = max_heavy_atoms
        self.max_generations = max_generations
        self.patience = patience

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (the initial population summarized by its size)."""
        params = dict(vars(self))
        if params["initial_population"] is not None:
            params["initial_population"] = f"{len(params['initial_population'])} molecules"
        return params

    def _validate(self) -> None:
        problems = []
        for name in ("population_size", "offspring_size", "initial_size", "max_heavy_atoms", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                problems.append(f"{name} must be a positive integer; got {value!r}")
        mg = self.max_generations
        if mg is not None and (isinstance(mg, bool) or not isinstance(mg, (int, np.integer)) or mg < 1):
            problems.append(f"max_generations must be a positive integer or None; got {mg!r}")
        if not (isinstance(self.mutation_rate, (int, float)) and 0 <= self.mutation_rate <= 1):
            problems.append(f"mutation_rate must be in [0, 1]; got {self.mutation_rate!r}")
        if self.selection not in ("score", "rank"):
            problems.append(f"selection must be 'score' or 'rank'; got {self.selection!r}")
        if self.initial_population is not None and (isinstance(self.initial_population, str)
                                                    or len(self.initial_population) == 0):
            problems.append("initial_population must be a non-empty list of SMILES (or None for ZINC-250k); "
                            f"got {self.initial_population!r:.60}")
        if problems:
            raise ConfigError("invalid GraphGA parameters:\n" + "\n".join(f"  - {p}" for p in problems))

    def _weights(self, scores: list[float]) -> list[float]:
        if self.selection == "rank":
            order = np.argsort(-np.asarray(scores), kind="stable")
            ranks = np.empty(len(scores))
            ranks[order] = np.arange(len(scores))
            return list(1.0 / (0.01 * len(scores) + ranks))
        return [s + 1e-6 for s in scores]

    def optimize(self, oracle: Oracle, *, seed: int | None = None) -> OptimizationResult:
        """Run the algorithm until ``oracle``'s budget is spent (or it stalls).

        Args:
            oracle: scores the molecules and keeps the account (use a fresh one per run).
            seed: makes the run reproducible (``None``: drawn from the OS and recorded).

        Returns:
            The oracle's history and figures, with one entry per generation in ``steps``.
        """
        self._validate()
        if not isinstance(oracle, Oracle):
            raise ConfigError(f"optimize needs an Oracle; got {type(oracle).__name__}. Wrap the score function: "
                              "Oracle(score_fn, budget=...).")
        seed = resolve_seed(seed)
        rng = random.Random(seed)
        if self.initial_population is None:
            from hygeia.molecules.data import zinc250k

            pool: Sequence[str] = zinc250k()
        else:
            pool = list(self.initial_population)
        start = [pool[i] for i in rng.sample(range(len(pool)), min(int(self.initial_size), len(pool)))]
        population: dict[str, tuple[float, Chem.Mol]] = {}
        steps: list[dict[str, Any]] = []
        stop = "budget"
        try:
            scores = oracle(start)
            with rdBase.BlockLogs():
                for smiles, score in zip(start, scores):
                    mol = Chem.MolFromSmiles(smiles)
                    if mol is not None and mol.GetNumAtoms() > 0:
                        population.setdefault(Chem.MolToSmiles(mol), (float(score), mol))
            population = self._select(population)
            if not population:
                raise ConfigError("none of the initial molecules is a valid SMILES; pass valid molecules "
                                  "as initial_population")
            stale, generation = 0, 0
            while True:
                if oracle.finished:
                    break
                if self.max_generations is not None and generation >= self.max_generations:
                    stop = "max_steps"
                    break
                generation += 1
                children = self._offspring(population, rng)
                before = oracle.n_calls
                child_scores = oracle([s for s, _ in children]) if children else np.zeros(0)
                new = oracle.n_calls - before
                for (smiles, mol), score in zip(children, child_scores):
                    population.setdefault(smiles, (float(score), mol))
                population = self._select(population)
                values = [v for v, _ in population.values()]
                steps.append({"generation": generation, "n_calls": oracle.n_calls, "offspring": len(children),
                              "new": new, "best": max(values), "mean": float(np.mean(values))})
                stale = 0 if new else stale + 1
                if stale >= self.patience:
                    stop = "no_new_molecules"
                    break
        except BudgetExhausted:
            stop = "budget"
        return OptimizationResult.from_oracle(oracle, optimizer=self.name, seed=seed, stop_reason=stop,
                                              steps=steps, params=self.get_params())

    def _select(self, population: dict[str, tuple[float, Chem.Mol]]) -> dict[str, tuple[float, Chem.Mol]]:
        ranked = sorted(population.items(), key=lambda kv: -kv[1][0])[: int(self.population_size)]
        return dict(ranked)

    def _offspring(self, population: dict[str, tuple[float, Chem.Mol]],
                   rng: random.Random) -> list[tuple[str, Chem.Mol]]:
        members = list(population.values())
        weights = self._weights([s for s, _ in members])
        children: list[tuple[str, Chem.Mol]] = []
        for _ in range(int(self.offspring_size)):
            (_, a), (_, b) = rng.choices(members, weights=weights, k=2)
            child = crossover(a, b, rng, max_heavy_atoms=int(self.max_heavy_atoms))
            if child is None:
                continue
            if rng.random() < self.mutation_rate:
                child = mutate(child, rng, max_heavy_atoms=int(self.max_heavy_atoms)) or child
            children.append((Chem.MolToSmiles(child), child))
        return children
