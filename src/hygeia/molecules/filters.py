"""Structural alerts and the MOSES filters, as plain functions on RDKit's ``Mol``.

Three kinds of filter share one shape: ``hits(mol) -> list[str]`` names every
alert a molecule raises (empty when it passes) and ``passes(mol)`` is
``not hits(mol)``.

- :func:`catalog_filter` wraps RDKit's ``FilterCatalog`` (PAINS A/B/C, Brenk,
  NIH, ZINC, ChEMBL's alert sets);
- :func:`smarts_filter` compiles a user's named SMARTS patterns;
- :func:`moses_filter` is the filter of the MOSES benchmark (Polykovskiy et
  al., 2020): a molecule passes when its atoms are only C, N, S, O, F, Cl, Br
  and H, no atom is charged, no ring has 8 atoms or more, and it matches none
  of the medicinal-chemistry filters (MCF) and PAINS patterns shipped with
  MOSES (``mcf.csv``, ``wehi_pains.csv`` of the ``molsets`` wheel). Patterns
  are matched on the molecule with explicit hydrogens, since several of them
  name hydrogen atoms.

:func:`get_filter` returns a filter by name (``"PAINS"``, ``"BRENK"``,
``"MOSES"``...), cached, for configuration files.

Example:
    >>> from rdkit import Chem, DataStructs, rdBase
    >>> pains = get_filter("PAINS")
    >>> pains.hits(Chem.MolFromSmiles("CCO"))
    []
    >>> pains.passes(Chem.MolFromSmiles("O=C1C(=Cc2ccccc2)SC(=S)N1"))  # a rhodanine
    False
    >>> moses_filter().hits(Chem.MolFromSmiles("CC[NH3+]"))
    ['charged atom']
"""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from hygeia.errors import ConfigError, MissingExtraError

try:
    from rdkit import Chem, DataStructs, rdBase
    from rdkit.Chem import FilterCatalog as _FC
except ImportError:  # pragma: no cover - depends on the environment
    raise MissingExtraError("rdkit", "molecules", "Structural alerts") from None

__all__ = [
    "CATALOGS",
    "MOSES_ALLOWED_ATOMS",
    "CatalogFilter",
    "MosesFilter",
    "SmartsFilter",
    "catalog_filter",
    "compile_smarts",
    "filter_names",
    "get_filter",
    "moses_filter",
    "passes_moses_filters",
    "smarts_filter",
]

#: RDKit filter catalogues by the names used in configuration files.
CATALOGS = {
    "PAINS": "PAINS",
    "PAINS_A": "PAINS_A",
    "PAINS_B": "PAINS_B",
    "PAINS_C": "PAINS_C",
    "BRENK": "BRENK",
    "NIH": "NIH",
    "ZINC": "ZINC",
    "CHEMBL": "CHEMBL",
    "CHEMBL_BMS": "CHEMBL_BMS",
    "CHEMBL_DUNDEE": "CHEMBL_Dundee",
    "CHEMBL_GLAXO": "CHEMBL_Glaxo",
    "CHEMBL_INPHARMATICA": "CHEMBL_Inpharmatica",
    "CHEMBL_LINT": "CHEMBL_LINT",
    "CHEMBL_MLSMR": "CHEMBL_MLSMR",
    "CHEMBL_SURECHEMBL": "CHEMBL_SureChEMBL",
}
#: Elements a MOSES molecule may contain.
MOSES_ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
#: Smallest ring size MOSES rejects (its data set holds rings of at most 7 atoms).
MOSES_MIN_BAD_RING = 8


def compile_smarts(smarts: str, *, where: str = "SMARTS") -> Chem.Mol:
    """Parse one SMARTS pattern.

    Raises:
        ConfigError: naming ``where`` and the pattern if RDKit cannot parse it.
    """
    if not isinstance(smarts, str) or not smarts.strip():
        raise ConfigError(f"{where}: SMARTS must be a non-empty string; got {smarts!r}")
    with rdBase.BlockLogs():
        pattern = Chem.MolFromSmarts(smarts)
    if pattern is None:
        raise ConfigError(f"{where}: RDKit cannot parse the SMARTS {smarts!r}; check its brackets and atom syntax")
    return pattern


def _packed_bits(fp: DataStructs.ExplicitBitVect) -> np.ndarray:
    on = np.zeros(fp.GetNumBits(), dtype=bool)
    on[list(fp.GetOnBits())] = True
    return np.packbits(on)


class SmartsFilter:
    """Named SMARTS alerts.

    Args:
        patterns: name -> SMARTS.
        explicit_hydrogens: match on the molecule with explicit hydrogens (for patterns naming H atoms).
        name: what this filter is called in reports.
        screen: before matching, skip patterns whose RDKit pattern fingerprint is not contained in the
            molecule's (a necessary condition for a match); pays off for long lists. Default: more than
            50 patterns.

    Raises:
        ConfigError: if a pattern does not parse (the error names it).
    """

    def __init__(
        self,
        patterns: Mapping[str, str],
        *,
        explicit_hydrogens: bool = False,
        name: str = "smarts",
        screen: bool | None = None,
    ) -> None:
        self.name = name
        self.explicit_hydrogens = explicit_hydrogens
        self.smarts = dict(patterns)
        self._compiled = [(k, compile_smarts(v, where=f"{name} pattern {k!r}")) for k, v in self.smarts.items()]
        self.screen = len(self._compiled) > 50 if screen is None else bool(screen)
        if self.screen:  # one row of packed pattern-fingerprint bits per pattern
            self._screens = np.stack([_packed_bits(Chem.PatternFingerprint(p)) for _, p in self._compiled])

    def _candidates(self, mol: Chem.Mol) -> tuple[Chem.Mol, list[tuple[str, Chem.Mol]]]:
        target = Chem.AddHs(mol) if self.explicit_hydrogens else mol
        if not self.screen:
            return target, self._compiled
        # a pattern can match only if every bit of its fingerprint is set in the molecule's
        missing = self._screens & ~_packed_bits(Chem.PatternFingerprint(target))
        return target, [self._compiled[i] for i in np.flatnonzero(~missing.any(axis=1))]

    def hits(self, mol: Chem.Mol) -> list[str]:
        """Names of the patterns ``mol`` matches."""
        target, candidates = self._candidates(mol)
        return [k for k, p in candidates if target.HasSubstructMatch(p)]

    def passes(self, mol: Chem.Mol) -> bool:
        """Whether ``mol`` matches none of the patterns."""
        target, candidates = self._candidates(mol)
        return not any(target.HasSubstructMatch(p) for _, p in candidates)

    def __repr__(self) -> str:
        return f"SmartsFilter({self.name!r}, {len(self._compiled)} patterns)"


class CatalogFilter:
    """Alerts of one or more RDKit ``FilterCatalog`` catalogues (see :data:`CATALOGS`)."""

    def __init__(self, *names: str) -> None:
        params = _FC.FilterCatalogParams()
        for n in names:
            params.AddCatalog(getattr(_FC.FilterCatalogParams.FilterCatalogs, CATALOGS[n]))
        self.names = names
        self._catalog = _FC.FilterCatalog(params)

    def hits(self, mol: Chem.Mol) -> list[str]:
        """The catalogue entries ``mol`` matches, as ``"<filter set>: <description>"``
        (e.g. ``"PAINS_A: ene_rhod_A(235)"``, ``"Brenk: Michael_acceptor_1"``)."""
        out = []
        for e in self._catalog.GetMatches(mol):
            family = e.GetProp("FilterSet") if "FilterSet" in e.GetPropList() else "+".join(self.names)
            out.append(f"{family}: {e.GetDescription()}")
        return out

    def passes(self, mol: Chem.Mol) -> bool:
        """Whether ``mol`` matches no entry."""
        return not self._catalog.HasMatch(mol)

    def __repr__(self) -> str:
        return f"CatalogFilter({', '.join(map(repr, self.names))})"


def catalog_filter(*names: str) -> CatalogFilter:
    """A filter over RDKit catalogues, e.g. ``catalog_filter("PAINS", "BRENK")``.

    Raises:
        ConfigError: for an unknown catalogue name (the message lists the known ones).
    """
    unknown = [n for n in names if n not in CATALOGS]
    if unknown or not names:
        raise ConfigError(f"unknown filter catalogue(s) {unknown or names!r}; known: {', '.join(CATALOGS)}")
    return CatalogFilter(*names)


def smarts_filter(patterns: Mapping[str, str], *, name: str = "smarts") -> SmartsFilter:
    """A filter from named SMARTS patterns, e.g. ``smarts_filter({"nitro": "[N+](=O)[O-]"})``."""
    if not isinstance(patterns, Mapping) or not patterns:
        raise ConfigError(f"{name}: give the patterns as a non-empty mapping name -> SMARTS; got {patterns!r}")
    return SmartsFilter(patterns, name=name)


def _moses_metrics_dir() -> Path:
    spec = importlib.util.find_spec("moses")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations or not (Path(locations[0]) / "metrics" / "mcf.csv").is_file():
        raise MissingExtraError(
            "molsets", "molecules", "The MOSES filters read mcf.csv and wehi_pains.csv from molsets (pip install --no-deps molsets==0.3.1);"
        )
    return Path(locations[0]) / "metrics"


def _read_moses_patterns() -> dict[str, str]:
    folder = _moses_metrics_dir()
    patterns: dict[str, str] = {}
    with open(folder / "mcf.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            patterns[f"MCF: {row['names'].strip()}"] = row["smarts"].strip()
    with open(folder / "wehi_pains.csv", newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if len(row) >= 2:
                label = row[1].strip().removeprefix("<regId=").removesuffix(">")
                patterns[f"PAINS: {label}"] = row[0].strip()
    return patterns


class MosesFilter:
    """The MOSES benchmark's filter (see the module documentation)."""

    def __init__(self) -> None:
        self.alerts = SmartsFilter(_read_moses_patterns(), explicit_hydrogens=True, name="MOSES")

    def _rule_hits(self, mol: Chem.Mol) -> list[str]:
        out = []
        bad_atoms = sorted({a.GetSymbol() for a in mol.GetAtoms()} - MOSES_ALLOWED_ATOMS)
        if bad_atoms:
            out.append(f"atoms not allowed: {','.join(bad_atoms)}")
        if any(a.GetFormalCharge() != 0 for a in mol.GetAtoms()):
            out.append("charged atom")
        if any(len(r) >= MOSES_MIN_BAD_RING for r in mol.GetRingInfo().AtomRings()):
            out.append(f"ring of {MOSES_MIN_BAD_RING} or more atoms")
        return out

    def hits(self, mol: Chem.Mol) -> list[str]:
        """Every MOSES rule and pattern ``mol`` breaks."""
        return self._rule_hits(mol) + self.alerts.hits(mol)

    def passes(self, mol: Chem.Mol) -> bool:
        """Whether ``mol`` passes the MOSES filters."""
        return not self._rule_hits(mol) and self.alerts.passes(mol)

    def __repr__(self) -> str:
        return "MosesFilter()"


@lru_cache(maxsize=1)
def moses_filter() -> MosesFilter:
    """The MOSES filter (built once).

    Raises:
        MissingExtraError: if ``molsets`` (whose files hold the patterns) is not installed.
    """
    return MosesFilter()


def passes_moses_filters(mol: Chem.Mol | None) -> bool:
    """Whether a molecule passes the MOSES filters (``None`` does not)."""
    return mol is not None and moses_filter().passes(mol)


def filter_names() -> list[str]:
    """Names :func:`get_filter` knows."""
    return [*CATALOGS, "MOSES"]


@lru_cache(maxsize=None)
def get_filter(name: str) -> CatalogFilter | MosesFilter:
    """A filter by name: an RDKit catalogue (:data:`CATALOGS`) or ``"MOSES"``; case-insensitive.

    Raises:
        ConfigError: for an unknown name (the message lists the known ones).
    """
    key = str(name).upper()
    if key == "MOSES":
        return moses_filter()
    if key not in CATALOGS:
        raise ConfigError(f"unknown filter {name!r}; known filters: {', '.join(filter_names())}")
    return CatalogFilter(key)
