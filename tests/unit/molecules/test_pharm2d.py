"""Hygeia's Gobbi 2D pharmacophore fingerprint is RDKit's, bit for bit (the hop objectives' PHCO)."""

from __future__ import annotations

import random

import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

from hygeia.molecules._pharm2d import gobbi_bits, gobbi_fingerprint
from hygeia.molecules.data import zinc250k
from hygeia.molecules.objectives import objective

HOP_START = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
# edge cases: fragments (disconnected features set no bit), salts, acids, a lone atom, no features,
# an atom in two families (a basic nitrogen that also accepts), uncommon atoms (family X)
EDGES = ["C.C", "CC(=O)O.CCN", "[Na+].[Cl-]", "C", "c1ccccc1", "O=C(O)CCN", "CN(C)CCCN1c2ccccc2Sc2ccc(Cl)cc21",
         "OB(O)c1ccccc1", "C[Si](C)(C)OCC[Se]C", "NC(=O)c1ccc[nH]1", "CCCCCCCCCCCCCCCC(=O)O", HOP_START]


def _rdkit(mol):
    return Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory)


def test_the_bits_are_rdkits_on_zinc_molecules_and_edge_cases() -> None:
    smiles = random.Random(0).sample(zinc250k(), 300) + EDGES
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        assert gobbi_bits(mol) == set(_rdkit(mol).GetOnBits()), s


def test_the_fingerprint_is_the_same_object_kind_and_similarity() -> None:
    ref = Chem.MolFromSmiles(HOP_START)
    for s in EDGES + random.Random(1).sample(zinc250k(), 30):
        mol = Chem.MolFromSmiles(s)
        ours, theirs = gobbi_fingerprint(mol), _rdkit(mol)
        assert type(ours) is type(theirs) and ours.GetNumBits() == theirs.GetNumBits()
        assert DataStructs.TanimotoSimilarity(gobbi_fingerprint(ref), ours) == pytest.approx(
            DataStructs.TanimotoSimilarity(_rdkit(ref), theirs), abs=0)


def test_hop_objectives_score_as_with_rdkits_fingerprint(monkeypatch) -> None:
    smiles = random.Random(2).sample(zinc250k(), 40) + [HOP_START, "CCCOc1cc2ncnc(Nc3ccc(F)cc3)c2cc1OC"]
    fast = {name: objective(name)(smiles) for name in ("deco_hop", "scaffold_hop")}
    import hygeia.molecules.objectives as objectives

    monkeypatch.setattr(objectives, "gobbi_fingerprint", _rdkit)
    for name, scores in fast.items():
        assert scores.tolist() == objective(name)(smiles).tolist(), name
