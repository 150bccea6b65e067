"""moses_metrics agrees with MOSES's own computation (molecularsets/moses, moses/metrics/metrics.py and
utils.py: get_all_metrics, average_agg_tanimoto, cos_similarity, fragmenter, compute_scaffold, novelty),
rebuilt here step by step from RDKit, on a small planted set (FCD is checked against fcd_torch in
test_metrics.py)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

pytest.importorskip("rdkit")
scipy = pytest.importorskip("scipy")

from rdkit import Chem, rdBase  # noqa: E402
from rdkit.Chem import AllChem, Crippen, Descriptors  # noqa: E402
from rdkit.Chem import QED as RDKitQED  # noqa: E402
from rdkit.Chem.Scaffolds import MurckoScaffold  # noqa: E402
from scipy.spatial.distance import cosine as cos_distance  # noqa: E402
from scipy.stats import wasserstein_distance  # noqa: E402

from hygeia.molecules.data import moses_split  # noqa: E402
from hygeia.molecules.metrics import moses_metrics  # noqa: E402
from hygeia.molecules.scoring import sa_score  # noqa: E402


def _fps(mols):  # MOSES fingerprint(fp_type='morgan'): r=2, 1024 bits
    with rdBase.BlockLogs():
        return np.array([np.asarray(AllChem.GetMorganFingerprintAsBitVect(m, 2, nBits=1024), dtype="uint8")
                         for m in mols])


def _agg_tanimoto(stock, gen, agg, p=1):  # MOSES average_agg_tanimoto, one batch
    x, y = stock.astype(float), gen.astype(float).T
    tp = x @ y
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = tp / (x.sum(1, keepdims=True) + y.sum(0, keepdims=True) - tp)
    jac[np.isnan(jac)] = 1
    jac = jac**p
    out = jac.max(0) if agg == "max" else jac.mean(0)
    return np.mean(out ** (1 / p))


def _cos(ref, gen):  # MOSES cos_similarity
    keys = np.unique(list(ref) + list(gen))
    return 1 - cos_distance([ref.get(k, 0) for k in keys], [gen.get(k, 0) for k in keys])


def _scaffold(mol):  # MOSES compute_scaffold(min_rings=2)
    scaffold = MurckoScaffold.GetScaffoldForMol(mol)
    smiles = Chem.MolToSmiles(scaffold)
    return None if smiles == "" or scaffold.GetRingInfo().NumRings() < 2 else smiles


def test_moses_metrics_match_moses_computation() -> None:
    test = moses_split("test")
    gen = test[:40] + test[:5] + ["C1CC", "", "not a smiles"] + moses_split("test_scaffolds")[:20]
    ref, ref_sf, train = test[100:180], moses_split("test_scaffolds")[100:160], test[30:60]
    ours = moses_metrics(gen, train=train, test=ref, test_scaffolds=ref_sf, fcd=False, properties=True, ks=(10, 50))

    with rdBase.BlockLogs():
        parsed = [Chem.MolFromSmiles(s) if s else None for s in gen]
    expected = {"valid": 1 - parsed.count(None) / len(gen)}
    canon = [Chem.MolToSmiles(m) for m in parsed if m is not None]
    for k in (10, 50):
        expected[f"unique@{k}"] = len(set(canon[:k])) / len(canon[:k])
    mols = [Chem.MolFromSmiles(s) for s in canon]
    gen_fps = _fps(mols)
    for label, reference in (("Test", ref), ("TestSF", ref_sf)):
        ref_mols = [Chem.MolFromSmiles(s) for s in reference]
        expected[f"SNN/{label}"] = _agg_tanimoto(_fps(ref_mols), gen_fps, "max")
        frags = [Counter(f for m in ms for f in Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(m)).split("."))
                 for ms in (ref_mols, mols)]
        expected[f"Frag/{label}"] = _cos(*frags)
        scafs = [Counter(s for s in map(_scaffold, ms) if s is not None) for ms in (ref_mols, mols)]
        expected[f"Scaf/{label}"] = _cos(*scafs)
    expected["IntDiv"] = 1 - _agg_tanimoto(gen_fps, gen_fps, "mean")
    expected["IntDiv2"] = 1 - _agg_tanimoto(gen_fps, gen_fps, "mean", p=2)
    expected["Novelty"] = len(set(canon) - {Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in train}) / len(set(canon))
    ref_mols = [Chem.MolFromSmiles(s) for s in ref]
    for name, fn in (("logP", Crippen.MolLogP), ("SA", sa_score), ("QED", RDKitQED.qed), ("weight", Descriptors.MolWt)):
        expected[name] = wasserstein_distance([fn(m) for m in ref_mols], [fn(m) for m in mols])

    assert set(ours) == set(expected) | {"Filters"}
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=1e-6), key  # MOSES computes Tanimoto in float32 too
    assert 0 < ours["Filters"] <= 1
