"""GuacaMol objectives: modifiers, exact values on the reference molecules, and expected orderings."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from hygeia.errors import ConfigError
from hygeia.molecules.objectives import (
    PMO_CLASSIFIERS,
    PMO_OBJECTIVES,
    TUNING_OBJECTIVES,
    Objective,
    clipped,
    gaussian,
    max_gaussian,
    min_gaussian,
    objective,
    objective_names,
    pmo_unavailable,
)

CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
ZALEPLON = "O=C(C)N(CC)C1=CC=CC(C2=CC=NC3=C(C=NN23)C#N)=C1"
SITAGLIPTIN = "Fc1cc(c(F)cc1F)CC(N)CC(=O)N3Cc2nnc(n2CC3)C(F)(F)F"
HOP_START = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def test_modifiers():
    assert gaussian(2, 1)(2) == 1.0
    assert gaussian(2, 1)(3) == pytest.approx(math.exp(-0.5))
    assert gaussian(2, 1)(1) == gaussian(2, 1)(3)
    assert min_gaussian(1, 1)(-5) == 1.0 and min_gaussian(1, 1)(3) == pytest.approx(math.exp(-2))
    assert max_gaussian(100, 10)(150) == 1.0 and max_gaussian(100, 10)(90) == pytest.approx(math.exp(-0.5))
    assert clipped(0.8)(0.4) == pytest.approx(0.5) and clipped(0.8)(0.9) == 1.0 and clipped(0.8)(-1) == 0.0
    assert clipped(1.0, 0.5)(0.75) == pytest.approx(0.5)


@pytest.mark.parametrize("name, smiles", [
    ("celecoxib_rediscovery", CELECOXIB),
    ("celecoxib_rediscovery", "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1"),  # another spelling
    ("troglitazone_rediscovery", "Cc1c(C)c2OC(C)(COc3ccc(CC4SC(=O)NC4=O)cc3)CCc2c(C)c1O"),
    ("thiothixene_rediscovery", "CN(C)S(=O)(=O)c1ccc2Sc3ccccc3C(=CCCN4CCN(C)CC4)c2c1"),
    ("albuterol_similarity", "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1"),
    ("mestranol_similarity", "COc1ccc2[C@H]3CC[C@@]4(C)[C@@H](CC[C@@]4(O)C#C)[C@@H]3CCc2c1"),
    ("isomers_c7h8n2o2", "Cc1ccc(N)c([N+](=O)[O-])c1"),  # 4-methyl-2-nitroaniline is C7H8N2O2
    ("isomers_c9h10n2o2pf2cl", "NC(=O)c1cc(C)c(OP(F)(F)Cl)cc1N=C"),
    ("aripiprazole_similarity", "Clc1cccc(N2CCN(CCCCOc3ccc4CCC(=O)Nc4c3)CC2)c1Cl"),
    ("isomers_c11h24", "CC(C)CC(C)(C)CCCC"),  # a branched undecane
])
def test_rediscovering_the_target_scores_one(name, smiles):
    assert objective(name)([smiles]).tolist() == [1.0]


def test_celecoxib_rediscovery_orders_known_analogues():
    mavacoxib = "FC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"  # celecoxib with F for CH3
    valdecoxib = "Cc1onc(c1-c1ccc(cc1)S(N)(=O)=O)-c1ccccc1"  # another coxib, another scaffold
    scores = objective("celecoxib_rediscovery")([CELECOXIB, mavacoxib, valdecoxib, ASPIRIN])
    assert scores[0] == 1.0 > scores[1] > scores[2] > scores[3] > 0


def test_osimertinib_mpo_of_osimertinib_is_the_geometric_mean_of_its_parts():
    mol = Chem.MolFromSmiles(OSIMERTINIB)
    parts = [
        1.0,  # FCFP4 similarity 1, clipped at 0.8
        math.exp(-0.5 * ((1.0 - 0.85) / 0.1) ** 2),  # ECFP6 similarity 1 is above the 0.85 cap
        max_gaussian(100, 10)(Descriptors.TPSA(mol)),
        min_gaussian(1, 1)(Descriptors.MolLogP(mol)),
    ]
    expected = float(np.prod(parts) ** 0.25)
    assert objective("osimertinib_mpo")([OSIMERTINIB])[0] == pytest.approx(expected, rel=1e-9)
    assert 0.1 < expected < 0.2


def test_zaleplon_mpo_of_zaleplon_is_penalized_by_the_formula():
    # zaleplon is C17H15N5O; the target formula C19H17N3O2 (41 atoms with H, zaleplon 38):
    # element Gaussians (sigma 1) e^-2, e^-2, e^-2, e^-0.5; total atoms (sigma 2) e^-1.125
    isomer = math.exp((-2 - 2 - 2 - 0.5 - 1.125) / 5)
    assert objective("zaleplon_mpo")([ZALEPLON])[0] == pytest.approx(math.sqrt(isomer), rel=1e-9)


def test_sitagliptin_mpo_wants_its_properties_without_its_structure():
    # Sitagliptin itself has the target formula, logP and TPSA, but similarity 1 gives e^-50.
    assert objective("sitagliptin_mpo")([SITAGLIPTIN])[0] == pytest.approx(math.exp(-50 / 4), rel=1e-6)


def test_hops_start_from_known_values():
    # deco hop: pharmacophore similarity 1, both decorations present (0, 0), scaffold kept (1)
    assert objective("deco_hop")([HOP_START])[0] == pytest.approx(0.5)
    # scaffold hop: pharmacophore similarity 1, decoration present (1), scaffold kept (0)
    assert objective("scaffold_hop")([HOP_START])[0] == pytest.approx(2 / 3)


def test_valsartan_smarts_needs_the_substructure():
    assert objective("valsartan_smarts")([ASPIRIN, SITAGLIPTIN]).tolist() == [0.0, 0.0]
    valsartan = "CCCCC(=O)N(Cc1ccc(cc1)c2ccccc2c3nn[nH]n3)[C@@H](C(C)C)C(=O)O"
    assert objective("valsartan_smarts")([valsartan])[0] > 0


def test_every_objective_scores_in_unit_interval_and_invalid_as_zero():
    molecules = [CELECOXIB, OSIMERTINIB, ZALEPLON, ASPIRIN, "c1ccccc1", "C", "not a molecule", ""]
    assert len(objective_names()) >= 10
    for name in objective_names():
        scores = objective(name)(molecules)
        assert scores.shape == (len(molecules),)
        assert np.all((scores >= 0) & (scores <= 1)), name
        assert scores[-2:].tolist() == [0.0, 0.0], name


def test_objective_wraps_a_molecule_function_and_refuses_a_bare_string():
    count_n = Objective("nitrogens", lambda m: sum(a.GetSymbol() == "N" for a in m.GetAtoms()) / 4)
    assert count_n(["CCN", "NCCN", "C1CC"]).tolist() == [0.25, 0.5, 0.0]
    with pytest.raises(ConfigError, match=re.escape("takes a list of SMILES; got the string 'CCN'")):
        count_n("CCN")


def test_unknown_objective_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown objective 'celecoxib'; choose one of celecoxib_rediscovery"):
        objective("celecoxib")


def test_the_tuning_objectives_lie_outside_pmo():
    assert set(TUNING_OBJECTIVES) <= set(objective_names()) and not set(TUNING_OBJECTIVES) & set(PMO_OBJECTIVES)
    assert objective("isomers_c11h24")(["CCCCCCCCCC"])[0] < 0.5  # decane: one carbon and two hydrogens short


def test_the_pmo_suite_is_built_whole():
    # the three classifiers' files come from MolScore's data files, installed for the tests
    assert len(PMO_OBJECTIVES) == 23 and set(PMO_CLASSIFIERS) == {"drd2", "gsk3b", "jnk3"}
    assert [n for n in PMO_OBJECTIVES if n not in objective_names()] == []
    assert pmo_unavailable() == {}


def test_median_and_qed_objectives():
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    camphor, menthol = "CC1(C)C2CCC1(C)C(=O)C2", "CC(C)C1CCC(C)CC1O"
    ecfp4 = rdFingerprintGenerator.GetMorganGenerator(radius=2)
    sim = DataStructs.TanimotoSimilarity(*(ecfp4.GetSparseCountFingerprint(Chem.MolFromSmiles(s))
                                           for s in (camphor, menthol)))
    # the geometric mean of the similarities to camphor (1 for camphor itself) and to menthol
    assert objective("median1")([camphor, menthol]).tolist() == pytest.approx([math.sqrt(sim)] * 2)
    assert objective("median2")(["O=C1N(CC(N2C1CC3=C(C2C4=CC5=C(OCO5)C=C4)NC6=C3C=CC=C6)=O)C"])[0] > 0.2
    assert objective("qed")([ASPIRIN])[0] == pytest.approx(0.550, abs=1e-3)
