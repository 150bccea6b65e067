"""Structural alerts: RDKit catalogues, custom SMARTS and the MOSES filters."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("rdkit")

from rdkit import Chem  # noqa: E402

from hygeia.errors import ConfigError  # noqa: E402
from hygeia.molecules.data import moses_split  # noqa: E402
from hygeia.molecules.filters import (  # noqa: E402
    SmartsFilter,
    catalog_filter,
    compile_smarts,
    filter_names,
    get_filter,
    moses_filter,
    passes_moses_filters,
    smarts_filter,
)

RHODANINE = "O=C1C(=Cc2ccccc2)SC(=S)N1"  # 5-benzylidene rhodanine, a textbook PAINS (ene_rhod)
CATECHOL = "Oc1ccccc1O"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def mol(smiles: str) -> Chem.Mol:
    m = Chem.MolFromSmiles(smiles)
    assert m is not None
    return m


def test_pains_molecule_is_flagged_and_clean_one_passes() -> None:
    pains = get_filter("PAINS")
    assert pains.hits(mol(RHODANINE)) == ["PAINS_A: ene_rhod_A(235)"]
    assert not pains.passes(mol(RHODANINE))
    assert pains.passes(mol("CCO")) and pains.hits(mol("CCO")) == []
    assert get_filter("pains_a").hits(mol(RHODANINE)) == ["PAINS_A: ene_rhod_A(235)"]
    assert get_filter("PAINS_B").passes(mol(RHODANINE))


def test_brenk_and_combined_catalogues() -> None:
    assert "Brenk: Michael_acceptor_1" in get_filter("BRENK").hits(mol(RHODANINE))
    both = catalog_filter("PAINS", "BRENK")
    assert len(both.hits(mol(RHODANINE))) >= 2
    assert get_filter("NIH").passes(mol("CCO"))


def test_moses_rules() -> None:
    f = moses_filter()
    assert f.hits(mol("CC[NH3+]")) == ["charged atom"]
    assert f.hits(mol("CP(C)C")) == ["atoms not allowed: P"]
    assert f.hits(mol("C1CCCCCCC1")) == ["ring of 8 or more atoms"]
    assert f.passes(mol("C1CCCCCC1"))  # a 7-membered ring is allowed
    assert f.hits(mol("ClCC")) == ["MCF: MCF4"]  # halomethyl, an MCF alert
    assert "PAINS: ene_rhod_A(235)" in f.hits(mol(RHODANINE))
    assert "PAINS: catechol_A(92)" in f.hits(mol(CATECHOL))
    assert passes_moses_filters(mol("c1ccccc1CC(=O)N"))
    assert not passes_moses_filters(None)


def test_moses_test_molecules_pass_moses_filters() -> None:
    smiles = moses_split("test")[:150]
    assert all(passes_moses_filters(mol(s)) for s in smiles)


def test_fingerprint_screen_gives_the_same_hits_as_matching_every_pattern() -> None:
    patterns = moses_filter().alerts.smarts
    screened = SmartsFilter(patterns, explicit_hydrogens=True, screen=True)
    plain = SmartsFilter(patterns, explicit_hydrogens=True, screen=False)
    smiles = [RHODANINE, CATECHOL, ASPIRIN, "ClCC", "N=Nc1ccccc1", "Nc1ccc(N)cc1", "C=CC#N"] + moses_split("test")[:40]
    hits_seen = 0
    for s in smiles:
        assert screened.hits(mol(s)) == plain.hits(mol(s)), s
        assert screened.passes(mol(s)) == plain.passes(mol(s))
        hits_seen += bool(plain.hits(mol(s)))
    assert hits_seen >= 6


def test_custom_smarts() -> None:
    f = smarts_filter({"nitro": "[N+](=O)[O-]", "acyl_halide": "C(=O)[Cl,Br,I]"})
    assert f.hits(mol("c1ccccc1[N+](=O)[O-]")) == ["nitro"]
    assert f.hits(mol("CC(=O)Cl")) == ["acyl_halide"]
    assert f.passes(mol("CCO"))


def test_bad_smarts_names_the_pattern() -> None:
    with pytest.raises(ConfigError, match=re.escape("custom pattern 'broken': RDKit cannot parse the SMARTS 'C(('")):
        smarts_filter({"ok": "CC", "broken": "C(("}, name="custom")
    with pytest.raises(ConfigError, match="non-empty string"):
        compile_smarts("")


def test_unknown_filter_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=re.escape("unknown filter 'PAINZ'; known filters: PAINS")):
        get_filter("PAINZ")
    with pytest.raises(ConfigError, match="unknown filter catalogue"):
        catalog_filter("NOPE")
    assert "MOSES" in filter_names() and "BRENK" in filter_names()
