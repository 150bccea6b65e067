"""TDC's trained-classifier oracles of PMO (DRD2, GSK3B, JNK3), scored without their pickles' code.

PMO (Gao et al., 2022) scores three of its 23 objectives with classifiers that TDC
downloads as scikit-learn pickles: DRD2, an RBF support-vector machine with Platt
probabilities on 2,048-folded FCFP6 counts (Olivecrona et al., 2017); GSK3B and JNK3,
random forests of 100 trees on 2,048-bit ECFP4 (Li et al., 2018). The same files are
shipped by MolScore (MIT, ``pip install --no-deps molscore==1.9.5``; only its data files
are read, the package is never imported) and by TDC itself (``oracle/*_current.pkl``,
the files TDC loads with scikit-learn 0.24 or later). They were pickled by
scikit-learn 0.23, which today's scikit-learn cannot load.

So nothing here unpickles code. :func:`read_sklearn_pickle` reads a pickle with an
unpickler that builds only NumPy arrays and plain records (every scikit-learn class
becomes a record of its saved state; any other global is refused), and the models are
scored from those arrays in NumPy, as scikit-learn computes them:

- random forest: each tree's leaf class fractions, averaged over the trees
  (``RandomForestClassifier.predict_proba``);
- SVM: libsvm's decision value ``sum_i a_i exp(-gamma |x - s_i|^2) - rho`` through
  Platt's sigmoid ``1 / (1 + exp(A f + B))``, clipped to [1e-7, 1 - 1e-7]
  (``SVC(probability=True).predict_proba``).

The features are TDC's (``tdc/chem_utils/oracle/oracle.py``): for DRD2, RDKit Morgan
radius 3 feature-invariant counts, unfolded, each folded in ``index % 2048``; for GSK3B
and JNK3, the Morgan radius 2 bit vector of 2,048 bits.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import io
import os
import pickle
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from hygeia.errors import ConfigError, DataValidationError

from rdkit import Chem, rdBase  # objectives.py, which imports this module, checks RDKit first
from rdkit.Chem import rdFingerprintGenerator

__all__ = ["CLASSIFIERS", "Forest", "SupportVectorMachine", "classifier_score", "find_model", "read_sklearn_pickle"]

#: name -> (file TDC and MolScore ship, fingerprint, what it is)
CLASSIFIERS = {
    "drd2": ("drd2_current.pkl", "fcfp6_counts",
             "TDC's DRD2 classifier (an RBF SVM on folded FCFP6 counts, Olivecrona et al., 2017)"),
    "gsk3b": ("gsk3b_current.pkl", "ecfp4_bits",
              "TDC's GSK3B classifier (a random forest on ECFP4 bits, Li et al., 2018)"),
    "jnk3": ("jnk3_current.pkl", "ecfp4_bits",
             "TDC's JNK3 classifier (a random forest on ECFP4 bits, Li et al., 2018)"),
}
#: where to point Hygeia at a folder holding the files above (e.g. TDC's ``oracle/``)
ENV_VAR = "HYGEIA_TDC_ORACLES"
_MOLSCORE_DIR = "molscore/data/models/molopt"
_BITS = 2048


# -- reading pickles as data ----------------------------------------------------------------------
class Record:
    """The saved state of one object of a scikit-learn class, as plain attributes."""

    def __init__(self, *args) -> None:
        self.args = args
        self.state: dict = {}

    def __setstate__(self, state) -> None:
        self.state = dict(state) if isinstance(state, dict) else {"state": state}

    def __getitem__(self, key: str):
        return self.state[key]


# NumPy's array and scalar rebuilders, under the module names of NumPy 1 and 2.
_NUMPY = {(m, n) for m in ("numpy.core.multiarray", "numpy._core.multiarray") for n in ("_reconstruct", "scalar")}
_NUMPY |= {("numpy", "ndarray"), ("numpy", "dtype")}


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _NUMPY:
            return getattr(importlib.import_module(module), name)
        if module == "copyreg" and name == "_reconstructor":
            return _reconstructor
        if module.split(".")[0] == "sklearn":
            return type(name, (Record,), {"sklearn_class": f"{module}.{name}"})
        raise pickle.UnpicklingError(f"refused to load {module}.{name}: only NumPy arrays and scikit-learn "
                                     "models are read from a classifier file")


def _reconstructor(cls, base, state):
    if not (isinstance(cls, type) and issubclass(cls, Record)):
        raise pickle.UnpicklingError(f"refused to rebuild {cls!r}")
    return cls()


def read_sklearn_pickle(data: bytes | str | Path) -> Record:
    """Read a scikit-learn pickle as data: NumPy arrays and :class:`Record` objects, no code run.

    Args:
        data: the pickle's bytes or its path.

    Raises:
        DataValidationError: the file is not a pickle, or it names a global other than
            NumPy's array rebuilders and scikit-learn classes.

    Example:
        >>> import pickle
        >>> from sklearn.tree import DecisionTreeClassifier
        >>> tree = DecisionTreeClassifier(max_depth=1).fit([[0], [1]], [0, 1])
        >>> record = read_sklearn_pickle(pickle.dumps(tree))
        >>> record.sklearn_class, record["tree_"]["node_count"]
        ('sklearn.tree._classes.DecisionTreeClassifier', 3)
    """
    raw = Path(data).read_bytes() if isinstance(data, (str, Path)) else data
    try:
        return _DataUnpickler(io.BytesIO(raw)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        where = str(data) if isinstance(data, (str, Path)) else "the bytes given"
        raise DataValidationError([f"{where}: {e}"], header="cannot read the classifier file") from None


# -- the two model kinds --------------------------------------------------------------------------
class Forest:
    """A random forest's trees as flat arrays; :meth:`predict_proba` as scikit-learn's.

    Args:
        record: a ``RandomForestClassifier`` read by :func:`read_sklearn_pickle`.
    """

    def __init__(self, record: Record) -> None:
        trees = [est["tree_"] for est in record["estimators_"]]
        self.classes_ = np.asarray(record["classes_"])
        offsets = np.cumsum([0] + [t["node_count"] for t in trees])
        nodes = [t["nodes"] for t in trees]
        shift = lambda field, i: np.where(nodes[i][field] >= 0, nodes[i][field] + offsets[i], -1)  # noqa: E731
        self.left = np.concatenate([shift("left_child", i) for i in range(len(trees))])
        self.right = np.concatenate([shift("right_child", i) for i in range(len(trees))])
        self.feature = np.concatenate([n["feature"] for n in nodes]).astype(np.int64)
        self.threshold = np.concatenate([n["threshold"] for n in nodes])
        values = np.concatenate([t["values"][:, 0, :] for t in trees]).astype(float)
        totals = values.sum(axis=1, keepdims=True)
        self.leaf_proba = values / np.where(totals == 0, 1.0, totals)
        self.roots = offsets[:-1]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of each row of ``X`` (scikit-learn compares float32 features)."""
        X = np.asarray(X, dtype=np.float32)
        rows = np.arange(len(X))[:, None]
        node = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        while True:
            inner = self.left[node] >= 0
            if not inner.any():
                break
            go_left = X[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        return self.leaf_proba[node].mean(axis=1)


class SupportVectorMachine:
    """An RBF-kernel ``SVC(probability=True)``; :meth:`predict_proba` as libsvm computes it.

    Args:
        record: an ``SVC`` read by :func:`read_sklearn_pickle`.
    """

    def __init__(self, record: Record) -> None:
        kernel = record["kernel"]
        if kernel != "rbf" or not record["probability"]:
            raise DataValidationError([f"kernel {kernel!r}, probability={record['probability']}: only RBF SVMs "
                                       "with Platt probabilities are scored"], header="unsupported SVM")
        self.classes_ = np.asarray(record["classes_"])
        self.support_vectors = np.asarray(record["support_vectors_"], dtype=float)
        self.dual_coef = np.asarray(record["_dual_coef_"], dtype=float)[0]
        self.intercept = float(np.asarray(record["_intercept_"])[0])
        self.gamma = float(record["_gamma"])
        prob_a = record.state.get("_probA", record.state.get("probA_"))
        prob_b = record.state.get("_probB", record.state.get("probB_"))
        self.prob_a, self.prob_b = float(np.asarray(prob_a)[0]), float(np.asarray(prob_b)[0])
        self._sv_norms = (self.support_vectors ** 2).sum(axis=1)

    def decision(self, X: np.ndarray) -> np.ndarray:
        """libsvm's decision value (positive towards the first class)."""
        X = np.asarray(X, dtype=float)
        sq = (X ** 2).sum(axis=1)[:, None] + self._sv_norms[None, :] - 2.0 * X @ self.support_vectors.T
        return np.exp(-self.gamma * np.maximum(sq, 0.0)) @ self.dual_coef + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        f = self.decision(X) * self.prob_a + self.prob_b
        first = np.where(f >= 0, np.exp(-np.abs(f)) / (1.0 + np.exp(-np.abs(f))), 1.0 / (1.0 + np.exp(-np.abs(f))))
        return _couple_pair(np.clip(first, 1e-7, 1.0 - 1e-7))


def _couple_pair(r01: np.ndarray) -> np.ndarray:
    """libsvm's ``multiclass_probability`` for two classes, vectorized over samples.

    libsvm does not return the pairwise probability itself: it solves Wu, Lin & Weng's
    (2004) coupling problem iteratively from (1/2, 1/2) and stops once the residual is
    below 0.005 / k, so its probabilities near 1/2 differ from Platt's by up to about
    0.005. The same iteration is run here, so that the scores are libsvm's.
    """
    r10 = 1.0 - r01
    Q = np.empty((len(r01), 2, 2))
    Q[:, 0, 0], Q[:, 1, 1] = r10 ** 2, r01 ** 2
    Q[:, 0, 1] = Q[:, 1, 0] = -r10 * r01
    p = np.full((len(r01), 2), 0.5)
    active = np.ones(len(r01), dtype=bool)
    for _ in range(100):
        Qp = np.einsum("nij,nj->ni", Q, p)
        pQp = (p * Qp).sum(axis=1)
        active &= np.abs(Qp - pQp[:, None]).max(axis=1) >= 0.005 / 2
        if not active.any():
            break
        for t in range(2):
            diff = np.where(active, (-Qp[:, t] + pQp) / Q[:, t, t], 0.0)
            p[:, t] += diff
            pQp = (pQp + diff * (diff * Q[:, t, t] + 2 * Qp[:, t])) / (1 + diff) / (1 + diff)
            Qp = (Qp + diff[:, None] * Q[:, t, :]) / (1 + diff)[:, None]
            p /= (1 + diff)[:, None]
    return p


# -- features and scoring ---------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _morgan(radius: int, features: bool, size: int | None):
    kwargs = {"atomInvariantsGenerator": rdFingerprintGenerator.GetMorganFeatureAtomInvGen()} if features else {}
    if size is not None:
        kwargs["fpSize"] = size
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, **kwargs)


def features(mols: Sequence["Chem.Mol"], kind: str) -> np.ndarray:
    """TDC's feature matrix of ``mols``: ``"ecfp4_bits"`` or ``"fcfp6_counts"`` (2,048 columns)."""
    X = np.zeros((len(mols), _BITS), dtype=np.float64)
    if kind == "ecfp4_bits":
        gen = _morgan(2, False, _BITS)
        for i, mol in enumerate(mols):
            X[i] = gen.GetFingerprintAsNumPy(mol)
    elif kind == "fcfp6_counts":
        gen = _morgan(3, True, None)
        for i, mol in enumerate(mols):
            for idx, count in gen.GetSparseCountFingerprint(mol).GetNonzeroElements().items():
                X[i, idx % _BITS] += count
    else:  # pragma: no cover - CLASSIFIERS names only these
        raise ConfigError(f"unknown classifier feature {kind!r}")
    return X


def find_model(name: str) -> Path:
    """The classifier file of ``name``: in ``$HYGEIA_TDC_ORACLES``, else in MolScore's data files.

    Raises:
        ConfigError: neither holds it; the message says how to get it.
    """
    filename, _, what = CLASSIFIERS[name]
    tried = []
    folder = os.environ.get(ENV_VAR)
    if folder:
        path = Path(folder) / filename
        if path.is_file():
            return path
        tried.append(str(path))
    try:
        path = Path(importlib.metadata.distribution("molscore").locate_file(f"{_MOLSCORE_DIR}/{filename}"))
        if path.is_file():
            return path
        tried.append(str(path))
    except importlib.metadata.PackageNotFoundError:
        tried.append("the molscore package (not installed)")
    raise ConfigError(f"objective {name!r} needs {what}, the file {filename}; looked in {', '.join(tried)}. "
                      f"Install MolScore's data files with: pip install --no-deps molscore==1.9.5 (MIT; "
                      f"never imported), or set {ENV_VAR} to a folder holding TDC's {filename}")


@lru_cache(maxsize=None)
def _model(name: str):
    path = find_model(name)
    record = read_sklearn_pickle(path)
    kind = getattr(record, "sklearn_class", "")
    if kind.endswith("RandomForestClassifier"):
        return Forest(record)
    if kind.endswith(".SVC"):
        return SupportVectorMachine(record)
    raise DataValidationError([f"{path}: holds a {kind or type(record).__name__}, not a random forest or an SVM"],
                              header="unsupported classifier file")


def classifier_score(name: str):
    """A batch scorer for the PMO objective ``name`` (``drd2``, ``gsk3b``, ``jnk3``).

    Returns:
        A function from a list of RDKit molecules to the classifier's probability of
        activity for each (an array).
    """
    model = _model(name)
    kind = CLASSIFIERS[name][1]

    def score(mols: Sequence["Chem.Mol"]) -> np.ndarray:
        if not len(mols):
            return np.zeros(0)
        with rdBase.BlockLogs():
            X = features(mols, kind)
        return model.predict_proba(X)[:, 1]

    return score
