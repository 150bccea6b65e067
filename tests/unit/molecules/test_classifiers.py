"""PMO's TDC classifier oracles (DRD2, GSK3B, JNK3): read as data, scored as scikit-learn scores them.

The files are MolScore's copies of TDC's (``pip install --no-deps molscore==1.9.5``, done by
the test install). scikit-learn 1.x loads the DRD2 SVM itself, so Hygeia's scores are
compared with its ``predict_proba``; the forests' trees are rebuilt in scikit-learn's own
``Tree`` (the node records gain today's extra field) and compared tree by tree. The
features are compared with RDKit's older fingerprint functions, the ones TDC calls.
"""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pytest
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import AllChem

from hygeia.errors import ConfigError, DataValidationError
from hygeia.molecules import _classifiers as C
from hygeia.molecules.objectives import objective

sklearn = pytest.importorskip("sklearn")
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from sklearn.tree._tree import Tree  # noqa: E402

# MOSES-like molecules and reference drugs: D2 antagonists, a GSK3 and a JNK inhibitor, others
DRUGS = {
    "haloperidol": "OC1(CCN(CCCC(=O)c2ccc(F)cc2)CC1)c1ccc(Cl)cc1",
    "risperidone": "Cc1nc2n(c(=O)c1CCN1CCC(CC1)c1noc3cc(F)ccc13)CCCC2",
    "aripiprazole": "Clc1cccc(N2CCN(CCCCOc3ccc4CCC(=O)Nc4c3)CC2)c1Cl",
    "CHIR-99021": "Cc1cnc([nH]1)-c1cnc(NCCNc2ccc(cn2)C#N)nc1-c1ccc(Cl)cc1Cl",
    "SP600125": "O=C1c2ccccc2-c2n[nH]c3cccc1c23",
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
}
MORE = ["CC(C)Cc1ccc(cc1)C(C)C(=O)O", "COc1ccc2[nH]cc(CCN(C)C)c2c1", "O=C(Nc1ccccc1)c1ccccn1",
        "CN1CCN(CC1)c1ccc(NC(=O)c2ccc(Cl)cc2)cc1", "Cc1ccc(S(=O)(=O)N2CCC(C(N)=O)CC2)cc1",
        "FC(F)(F)c1cccc(N2CCN(CCc3ccccc3)CC2)c1", "O=c1[nH]c2ccccc2n1C1CCN(Cc2ccccc2)CC1",
        "CCOC(=O)c1c(C)[nH]c(C)c1C(=O)c1ccccc1", "Nc1nc(-c2ccccc2)cs1", "OCC1OC(O)C(O)C(O)C1O"]
MOLS = [Chem.MolFromSmiles(s) for s in [*DRUGS.values(), *MORE]]


def test_a_forest_and_an_svm_pickled_by_todays_sklearn_score_exactly_as_sklearn() -> None:
    rng = np.random.default_rng(0)
    X = (rng.random((300, 40)) < 0.25).astype(float) * rng.integers(1, 4, (300, 40))
    y = (X[:, :4].sum(axis=1) + rng.random(300) > 2).astype(int)
    test = (rng.random((200, 40)) < 0.25).astype(float) * rng.integers(1, 4, (200, 40))
    forest = RandomForestClassifier(n_estimators=15, random_state=0).fit(X, y)
    ours = C.Forest(C.read_sklearn_pickle(pickle.dumps(forest)))
    np.testing.assert_array_equal(ours.predict_proba(test), forest.predict_proba(test))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability=True is deprecated in scikit-learn 1.9
        svm = SVC(probability=True, gamma=0.1, random_state=0).fit(X, y)
        expected = svm.predict_proba(test)
    ours = C.SupportVectorMachine(C.read_sklearn_pickle(pickle.dumps(svm)))
    # libsvm's iterative coupling included: near 1/2 its answer is not Platt's sigmoid itself
    np.testing.assert_allclose(ours.predict_proba(test), expected, rtol=0, atol=1e-12)


def test_a_pickle_that_would_run_code_is_refused(tmp_path) -> None:
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with pytest.raises(DataValidationError, match=re.escape("the bytes given: refused to load builtins.print")):
        C.read_sklearn_pickle(pickle.dumps(Evil()))
    (tmp_path / "x.pkl").write_bytes(b"not a pickle")
    with pytest.raises(DataValidationError, match=re.escape(f"cannot read the classifier file (1 problem):\n  - {tmp_path / 'x.pkl'}: ")):
        C.read_sklearn_pickle(tmp_path / "x.pkl")


def test_features_are_tdcs() -> None:
    with rdBase.BlockLogs():
        bits, counts = [], []
        for mol in MOLS:
            fp = AllChem.GetMorganFingerprintAsBitVect(mol, 2, nBits=2048)
            row = np.zeros((1,))
            DataStructs.ConvertToNumpyArray(fp, row)
            bits.append(row)
            row = np.zeros(2048)
            for idx, v in AllChem.GetMorganFingerprint(mol, 3, useCounts=True, useFeatures=True).GetNonzeroElements().items():
                row[idx % 2048] += v
            counts.append(row)
    np.testing.assert_array_equal(C.features(MOLS, "ecfp4_bits"), np.array(bits))
    np.testing.assert_array_equal(C.features(MOLS, "fcfp6_counts"), np.array(counts))


def test_drd2_scores_are_sklearns_on_the_real_model() -> None:
    path = C.find_model("drd2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pickled by scikit-learn 0.23
        reference = pickle.loads(path.read_bytes())  # noqa: S301 - MolScore's file, for the comparison only
    X = C.features(MOLS, "fcfp6_counts")
    expected = reference.predict_proba(X)[:, 1]
    np.testing.assert_allclose(objective("drd2")([Chem.MolToSmiles(m) for m in MOLS]), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["gsk3b", "jnk3"])
def test_forest_scores_are_sklearns_trees_on_the_real_models(name: str) -> None:
    record = C.read_sklearn_pickle(C.find_model(name))
    X = C.features(MOLS, "ecfp4_bits").astype(np.float32)
    per_tree = []
    for estimator in record["estimators_"]:
        saved = estimator["tree_"]
        nodes = saved["nodes"]
        upgraded = np.zeros(len(nodes), dtype=np.dtype(nodes.dtype.descr + [("missing_go_to_left", "u1")]))
        for field in nodes.dtype.names:
            upgraded[field] = nodes[field]
        tree = Tree(2048, np.array([2], dtype=np.intp), 1)
        tree.__setstate__({"max_depth": saved["max_depth"], "node_count": saved["node_count"],
                           "nodes": upgraded, "values": saved["values"]})
        leaf = tree.predict(X).reshape(len(X), -1)
        per_tree.append(leaf / leaf.sum(axis=1, keepdims=True))
    expected = np.mean(per_tree, axis=0)[:, 1]
    np.testing.assert_array_equal(objective(name)([Chem.MolToSmiles(m) for m in MOLS]), expected)


def test_the_classifiers_know_their_targets() -> None:
    names = list(DRUGS)
    scores = {o: dict(zip(names, objective(o)(list(DRUGS.values())))) for o in ("drd2", "gsk3b", "jnk3")}
    assert min(scores["drd2"][d] for d in ("haloperidol", "risperidone", "aripiprazole")) > 0.9
    assert max(scores["drd2"][d] for d in ("CHIR-99021", "SP600125", "aspirin", "caffeine")) < 0.05
    assert scores["gsk3b"]["CHIR-99021"] > 0.5 > max(scores["gsk3b"][d] for d in ("haloperidol", "aspirin"))
    assert scores["jnk3"]["SP600125"] > 0.5 > max(scores["jnk3"][d] for d in ("haloperidol", "aspirin"))
    assert objective("drd2")(["not a molecule", ""]).tolist() == [0.0, 0.0]


def test_a_missing_file_says_how_to_get_it(monkeypatch, tmp_path) -> None:
    import importlib.metadata

    def no_molscore(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", no_molscore)
    monkeypatch.setenv("HYGEIA_TDC_ORACLES", str(tmp_path))
    C._model.cache_clear()
    try:
        with pytest.raises(ConfigError, match=re.escape(
                f"objective 'jnk3' needs TDC's JNK3 classifier (a random forest on ECFP4 bits, Li et al., 2018), "
                f"the file jnk3_current.pkl; looked in {tmp_path / 'jnk3_current.pkl'}, the molscore package "
                "(not installed). Install MolScore's data files with: pip install --no-deps molscore==1.9.5")):
            objective("jnk3")
    finally:
        C._model.cache_clear()
