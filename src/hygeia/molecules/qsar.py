"""QSAR models on Morgan fingerprints, trained on a user's activity data and saved as data.

A :class:`QSARModel` learns an activity from Morgan fingerprints (bit
vectors): ``method="linear"`` fits scikit-learn's ridge regression
(regression) or L2 logistic regression (binary classification) and keeps the
coefficients; ``method="knn"`` keeps the training fingerprints and predicts
from the ``n_neighbors`` most Tanimoto-similar ones (mean activity, or share
of actives). Predictions are computed by Hygeia from the stored arrays, so a
saved and reloaded model predicts exactly the same numbers. A model folder
holds ``spec.json`` (parameters, classes, training summary) and
``arrays.npz`` (coefficients or packed fingerprints), read with
``allow_pickle=False``; never pickles.

For classification, :meth:`QSARModel.predict` gives the probability of the
second class (the "active" one: ``1``, ``True`` or the larger label), in
[0, 1]; use it in a scoring configuration as a ``qsar`` component.

Example:
    >>> smiles = ["CCO", "CCCO", "CCCCO", "CCCCCO", "c1ccccc1", "c1ccccc1C", "c1ccccc1CC", "c1ccccc1O"]
    >>> model = QSARModel(task="classification", method="knn", n_neighbors=3).fit(smiles, [0, 0, 0, 0, 1, 1, 1, 1])
    >>> [round(float(p), 2) for p in model.predict(["CCCCCCO", "Cc1ccccc1C"])]
    [0.0, 1.0]
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.atomic import atomic_output
from hygeia.errors import ConfigError, DataValidationError, OutputError

__all__ = ["QSARModel"]

_FORMAT = "hygeia-qsar"
_SPEC_VERSION = 1
_TASKS = ("regression", "classification")
_METHODS = ("linear", "knn")


class QSARModel:
    """A QSAR model on Morgan fingerprints (see the module documentation).

    Args:
        task: ``"regression"`` or ``"classification"`` (two classes).
        method: ``"linear"`` (ridge / logistic regression) or ``"knn"`` (Tanimoto nearest neighbours).
        radius: Morgan radius.
        n_bits: fingerprint length.
        alpha: ridge penalty (linear regression).
        C: inverse L2 penalty (logistic regression).
        n_neighbors: neighbours averaged (kNN).
    """

    def __init__(
        self,
        *,
        task: str = "regression",
        method: str = "linear",
        radius: int = 2,
        n_bits: int = 2048,
        alpha: float = 1.0,
        C: float = 1.0,
        n_neighbors: int = 5,
    ) -> None:
        self.task = task
        self.method = method
        self.radius = radius
        self.n_bits = n_bits
        self.alpha = alpha
        self.C = C
        self.n_neighbors = n_neighbors

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, as given."""
        keys = ("task", "method", "radius", "n_bits", "alpha", "C", "n_neighbors")
        return {k: getattr(self, k) for k in keys}

    def __repr__(self) -> str:
        return f"QSARModel({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def _check_params(self) -> None:
        problems = []
        if self.task not in _TASKS:
            problems.append(f"task={self.task!r}: choose one of {_TASKS}")
        if self.method not in _METHODS:
            problems.append(f"method={self.method!r}: choose one of {_METHODS}")
        for key, low in (("radius", 0), ("n_bits", 1), ("n_neighbors", 1)):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                problems.append(f"{key}={v!r}: must be an integer >= {low}")
        for key in ("alpha", "C"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                problems.append(f"{key}={v!r}: must be a positive number")
        if problems:
            raise ConfigError("invalid QSARModel parameters: " + "; ".join(problems))

    # -- fingerprints -------------------------------------------------------------------------------
    def _fingerprints(self, mols: Sequence[Any]) -> np.ndarray:
        from hygeia.molecules.metrics import morgan_fingerprints

        return morgan_fingerprints(mols, radius=self.radius, n_bits=self.n_bits)

    # -- fitting --------------------------------------------------------------------------------------
    def fit(self, smiles: Sequence[str], y: Sequence[Any]) -> "QSARModel":
        """Learn from SMILES and their activities.

        Raises:
            DataValidationError: listing every SMILES that does not parse, a length mismatch,
                non-numeric or missing activities, or a classification target without exactly two classes.
        """
        self._check_params()
        from hygeia.molecules.metrics import parse_smiles

        smiles = list(smiles)
        y_arr = np.asarray(list(y))
        problems = []
        if len(smiles) != len(y_arr):
            problems.append(f"{len(smiles)} SMILES but {len(y_arr)} activities")
        if len(smiles) < 2:
            problems.append(f"need at least two molecules; got {len(smiles)}")
        mols = parse_smiles(smiles)
        bad = [f"row {i}: {s!r} is not a valid SMILES" for i, (s, m) in enumerate(zip(smiles, mols)) if m is None]
        problems += bad[:20] + ([f"... and {len(bad) - 20} more invalid SMILES"] if len(bad) > 20 else [])
        if self.task == "regression" and not problems:
            try:
                y_arr = y_arr.astype(np.float64)
            except (TypeError, ValueError):
                problems.append("regression needs numeric activities")
            else:
                if not np.isfinite(y_arr).all():
                    problems.append(f"{int((~np.isfinite(y_arr)).sum())} activities are missing or not finite")
        if self.task == "classification" and not problems:
            classes = np.unique(y_arr)
            if len(classes) != 2:
                problems.append(f"classification needs exactly two classes; got {classes.tolist()[:10]}")
        if problems:
            raise DataValidationError(problems, header="cannot fit the QSAR model")
        X = self._fingerprints(mols)
        self.n_train_ = len(smiles)
        if self.task == "classification":
            self.classes_ = np.unique(y_arr)
            target = (y_arr == self.classes_[1]).astype(np.float64)
        else:
            self.classes_ = None
            target = y_arr.astype(np.float64)
        if self.method == "linear":
            if self.task == "regression":
                from sklearn.linear_model import Ridge

                est = Ridge(alpha=float(self.alpha)).fit(X.astype(np.float64), target)
            else:
                from sklearn.linear_model import LogisticRegression

                est = LogisticRegression(C=float(self.C), max_iter=2000).fit(X.astype(np.float64), target)
            self.coef_ = np.ravel(est.coef_).astype(np.float64)
            self.intercept_ = float(np.ravel(est.intercept_)[0])
        else:
            self.train_fps_ = X
            self.train_y_ = target
        return self

    def is_fitted(self) -> bool:
        """Whether ``fit`` or ``load`` has run."""
        return hasattr(self, "n_train_")

    # -- prediction -------------------------------------------------------------------------------------
    def predict(self, smiles: Sequence[str]) -> np.ndarray:
        """Predicted activity (regression) or probability of the active class; NaN for invalid SMILES."""
        from hygeia.molecules.metrics import parse_smiles

        return self.predict_mols(parse_smiles(list(smiles)))

    def predict_mols(self, mols: Sequence[Any]) -> np.ndarray:
        """:meth:`predict` on RDKit molecules (``None`` gives NaN)."""
        if not self.is_fitted():
            raise ConfigError("this QSARModel is not fitted yet; call fit(smiles, y) or QSARModel.load(path)")
        out = np.full(len(mols), np.nan)
        keep = [i for i, m in enumerate(mols) if m is not None]
        if not keep:
            return out
        X = self._fingerprints([mols[i] for i in keep])
        if self.method == "linear":
            z = X.astype(np.float64) @ self.coef_ + self.intercept_
            pred = z if self.task == "regression" else 0.5 * (1.0 + np.tanh(0.5 * z))
        else:
            from hygeia.molecules.metrics import TanimotoIndex

            k = min(int(self.n_neighbors), len(self.train_y_))
            idx = TanimotoIndex(self.train_fps_).nearest(X, k)
            pred = self.train_y_[idx].mean(axis=1)
        out[keep] = pred
        return out

    # -- data in, data out ---------------------------------------------------------------------------
    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        *,
        activity: str = "activity",
        smiles: str = "smiles",
        **params: Any,
    ) -> "QSARModel":
        """Fit on a CSV file with a SMILES column and an activity column (other keywords: parameters).

        Raises:
            DataValidationError: if the file or a column is missing, or the data are invalid.
        """
        import pandas as pd

        p = Path(path)
        if not p.is_file():
            raise DataValidationError([f"{str(p)!r} does not exist"], header="cannot read the activity CSV")
        df = pd.read_csv(p)
        missing = [c for c in (smiles, activity) if c not in df.columns]
        if missing:
            raise DataValidationError(
                [f"{p}: no column {c!r} (columns: {list(df.columns)})" for c in missing],
                header="activity CSV lacks a column (pass smiles=... / activity=... to name yours)",
            )
        return cls(**params).fit(df[smiles].astype(str).tolist(), df[activity].tolist())

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the model folder ``path`` (``spec.json`` + ``arrays.npz``), atomically.

        Raises:
            ConfigError: before ``fit``.
            OutputError: if ``path`` exists (without ``overwrite``) or cannot be written.
        """
        if not self.is_fitted():
            raise ConfigError("this QSARModel is not fitted yet; call fit(smiles, y) before save")
        dest = Path(path)
        if dest.exists() and not overwrite:
            raise OutputError(f"model folder {str(dest)!r} already exists; choose a new path or pass overwrite=True")
        if dest.exists() and not (dest / "spec.json").is_file():
            raise OutputError(f"{str(dest)!r} exists and is not a model folder; refusing to replace it")
        from hygeia import __version__

        spec = {
            "format": _FORMAT,
            "spec_version": _SPEC_VERSION,
            "hygeia_version": __version__,
            "params": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in self.get_params().items()},
            "n_train": self.n_train_,
            "classes": None if self.classes_ is None else [_plain(c) for c in self.classes_],
        }
        if self.method == "linear":
            spec["intercept"] = self.intercept_
            arrays = {"coef": self.coef_}
        else:
            arrays = {"train_fps": np.packbits(self.train_fps_, axis=1), "train_y": self.train_y_}
        with atomic_output(dest, folder=True, overwrite=True, what="model folder") as tmp:
            (tmp / "spec.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
            np.savez_compressed(tmp / "arrays.npz", **arrays)
        return dest

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "QSARModel":
        """Read a model folder written by :meth:`save`.

        Raises:
            DataValidationError: if the folder is missing, not a QSAR model, or incomplete.
        """
        folder = Path(path)
        try:
            spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
            with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise DataValidationError([f"{folder}: {exc}"], header="not a readable QSAR model folder") from exc
        if not isinstance(spec, dict) or spec.get("format") != _FORMAT:
            raise DataValidationError([f"{folder}/spec.json: 'format' is not {_FORMAT!r}"], header="not a QSAR model")
        if int(spec.get("spec_version", 0)) > _SPEC_VERSION:
            raise DataValidationError(
                [f"{folder}: spec_version {spec['spec_version']} > {_SPEC_VERSION}"], header="QSAR model from a newer Hygeia"
            )
        model = cls(**spec["params"])
        model._check_params()
        model.n_train_ = int(spec["n_train"])
        model.classes_ = None if spec["classes"] is None else np.asarray(spec["classes"])
        needed = ["coef"] if model.method == "linear" else ["train_fps", "train_y"]
        missing = [k for k in needed if k not in arrays]
        if missing:
            raise DataValidationError([f"{folder}/arrays.npz lacks {missing}"], header="incomplete QSAR model folder")
        if model.method == "linear":
            model.coef_ = arrays["coef"].astype(np.float64)
            model.intercept_ = float(spec["intercept"])
        else:
            model.train_fps_ = np.unpackbits(arrays["train_fps"], axis=1, count=model.n_bits).astype(bool)
            model.train_y_ = arrays["train_y"].astype(np.float64)
        return model


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
