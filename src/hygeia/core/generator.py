"""The one generator interface, and how generators are saved.

Every generator Hygeia has, whatever it makes (table rows, visit sequences,
molecules), has the scikit-learn/SDV shape:

- ``__init__`` takes keyword parameters and stores them unchanged;
- ``fit(data) -> self`` learns; learned attributes end in ``_``;
- ``sample(n, *, seed=None)`` returns what it makes;
- ``save(path)`` / :func:`load_generator` write and read a model folder.

A model folder holds ``spec.json`` (the generator's registered name, its
``spec_version``, the Hygeia version, the constructor parameters and the
learned state that is plain JSON) and ``arrays.npz`` (every learned array,
network weights included, read back with ``allow_pickle=False``). There are
never bare pickles: a saved model is data, readable without running code from
the folder. Saving writes to a temporary folder and renames it, so a failed
save leaves nothing.

One vocabulary across generators (the conformance suite checks it):

- ``seed``: the fit's randomness (weights, noise, batches) is a constructor
  parameter named ``seed`` on every generator whose fit draws random numbers;
  ``sample(n, *, seed=None)`` takes the sampling seed. No ``random_state``, no
  ``fit(..., seed=...)``. A generator may keep a seed out of its saved files
  (``unsaved_params``): the DP model's noise seed would let anyone subtract
  the noise;
- ``workers``: the one name for parallelism (as in ``hygeia generate
  --workers``), never ``n_jobs`` or ``threads``;
- ``privacy_report_``: every fitted model has one (a dict with at least
  ``guarantee`` and ``summary``); models without a formal guarantee say so.
  It is saved in ``spec.json`` under ``privacy``.

``fit`` is all-or-nothing and never mutates its arguments: the base class
clears the learned attributes before a fit and again when a fit fails, so a
failed (re)fit leaves the generator unfitted, never half-fitted.

Subclasses implement :meth:`Generator._get_state` and
:meth:`Generator._set_state` and register themselves:

    >>> @register_generator("example.constant")
    ... class Constant(Generator):
    ...     spec_version = 1
    ...     def __init__(self, value=0):
    ...         self.value = value
    ...     def fit(self, data):
    ...         self.n_ = len(data)
    ...         return self
    ...     def sample(self, n, *, seed=None):
    ...         self._check_fitted()
    ...         return [self.value] * n
    ...     def _get_state(self):
    ...         return {"n": self.n_}, {}
    ...     def _set_state(self, state, arrays):
    ...         self.n_ = state["n"]
    >>> Constant(value=3).fit([1, 2]).sample(2)
    [3, 3]
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from hygeia.core.atomic import atomic_output
from hygeia.errors import ConfigError, DataValidationError, OutputError

__all__ = [
    "Generator",
    "NO_GUARANTEE",
    "NotFittedError",
    "SPEC_FILE",
    "ARRAYS_FILE",
    "generator_names",
    "get_generator_class",
    "load_generator",
    "read_spec",
    "register_generator",
]

SPEC_FILE = "spec.json"
ARRAYS_FILE = "arrays.npz"
_FORMAT = "hygeia-generator"

_REGISTRY: dict[str, type["Generator"]] = {}

G = TypeVar("G", bound="Generator")


#: ``privacy_report_`` of a model without a formal privacy guarantee.
NO_GUARANTEE: dict[str, Any] = {
    "guarantee": "none",
    "summary": "no formal privacy guarantee: the model is learned from the data without differential privacy "
    "and its files may hold values of the training rows",
}


class NotFittedError(ConfigError):
    """``sample`` or ``save`` was called before ``fit``."""


def register_generator(name: str):
    """Class decorator: register a generator under ``name`` (e.g. ``"tabular.copula"``)."""

    def wrap(cls: type[G]) -> type[G]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"generator name {name!r} is registered twice ({_REGISTRY[name]} and {cls})")
        cls.generator_name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def generator_names() -> list[str]:
    """Names of the generators registered so far (import a package to register its own)."""
    return sorted(_REGISTRY)


def get_generator_class(name: str) -> type["Generator"]:
    """The class registered under ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown generator {name!r}; registered generators are {', '.join(generator_names()) or 'none'}"
        ) from None


class Generator:
    """Base class of every generator (see the module documentation)."""

    generator_name: ClassVar[str] = ""
    #: Version of this generator's saved state; bump when ``_get_state`` changes.
    spec_version: ClassVar[int] = 1
    #: Constructor parameters written as ``null`` in saved files and provenance (secrets such as a noise seed).
    unsaved_params: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "fit" in cls.__dict__:
            cls.fit = _all_or_nothing(cls.__dict__["fit"])

    # -- parameters ---------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, as given."""
        sig = inspect.signature(type(self).__init__)
        return {
            name: getattr(self, name)
            for name, p in sig.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

    def saved_params(self) -> dict[str, Any]:
        """The constructor parameters as saved and recorded in provenance (``unsaved_params`` as ``None``)."""
        return {k: (None if k in self.unsaved_params else v) for k, v in self.get_params().items()}

    @property
    def privacy_report_(self) -> dict[str, Any]:
        """What privacy the fitted model's files have (:data:`NO_GUARANTEE` unless the model sets one)."""
        self._check_fitted()
        report = self.__dict__.get("_privacy_report")
        return dict(NO_GUARANTEE) if report is None else report

    @privacy_report_.setter
    def privacy_report_(self, report: dict[str, Any] | None) -> None:
        self.__dict__["_privacy_report"] = report

    def _clear_fitted(self) -> None:
        """Forget everything learned (attributes ending in ``_``, and the privacy report)."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)
        self.__dict__.pop("_privacy_report", None)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def is_fitted(self) -> bool:
        """Whether ``fit`` (or ``load``) has run: some attribute ends in ``_``."""
        return any(k.endswith("_") and not k.startswith("__") for k in vars(self))

    def _check_fitted(self) -> None:
        if not self.is_fitted():
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data) first or load a saved model"
            )

    # -- the interface ------------------------------------------------------------------------
    def fit(self: G, data: Any) -> G:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, n: int, *, seed: int | None = None) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:  # pragma: no cover
        """Learned state: (plain-JSON part, named numpy arrays)."""
        raise NotImplementedError

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover
        """Restore what :meth:`_get_state` returned."""
        raise NotImplementedError

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the fitted model to the folder ``path`` (created; atomic).

        Raises:
            NotFittedError: before ``fit``.
            OutputError: if ``path`` exists (and ``overwrite`` is false) or cannot be written.
        """
        self._check_fitted()
        if not self.generator_name:
            raise TypeError(f"{type(self).__name__} is not registered; decorate it with @register_generator")
        dest = Path(path)
        if dest.exists() and not overwrite:
            raise OutputError(f"model folder {str(dest)!r} already exists; choose a new path or pass overwrite=True")
        if dest.exists() and not (dest / SPEC_FILE).is_file():
            raise OutputError(f"{str(dest)!r} exists and is not a Hygeia model folder; refusing to replace it")
        state, arrays = self._get_state()
        from hygeia import __version__

        spec = {
            "format": _FORMAT,
            "generator": self.generator_name,
            "module": type(self).__module__,
            "spec_version": self.spec_version,
            "hygeia_version": __version__,
            "params": _jsonable(self.saved_params()),
            "privacy": _jsonable(self.privacy_report_),
            "state": _jsonable(state),
            "arrays": sorted(arrays),
        }
        with atomic_output(dest, folder=True, overwrite=overwrite, what="model folder") as tmp:
            (tmp / SPEC_FILE).write_text(json.dumps(spec, indent=2, sort_keys=False) + "\n", encoding="utf-8")
            np.savez_compressed(tmp / ARRAYS_FILE, **{k: np.asarray(v) for k, v in arrays.items()})
        return dest

    @classmethod
    def load(cls: type[G], path: str | os.PathLike[str]) -> G:
        """Read a model folder written by :meth:`save` (must be this class or a subclass)."""
        model = load_generator(path)
        if not isinstance(model, cls):
            raise ConfigError(
                f"{str(path)!r} holds a {type(model).__name__} ({model.generator_name}), not a {cls.__name__}; "
                "use hygeia.core.generator.load_generator to load any model"
            )
        return model


def read_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``spec.json`` of a model folder, checked."""
    folder = Path(path)
    spec_path = folder / SPEC_FILE
    if not spec_path.is_file():
        raise DataValidationError(
            [f"{str(folder)!r} has no {SPEC_FILE}"],
            header="not a Hygeia model folder (save one with generator.save(path) or `hygeia fit`)",
        )
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataValidationError([f"{spec_path}: {exc}"], header="unreadable model spec") from exc
    problems = []
    if not isinstance(spec, dict) or spec.get("format") != _FORMAT:
        problems.append(f"{spec_path}: 'format' must be {_FORMAT!r}")
    else:
        for key in ("generator", "module", "spec_version", "params", "state"):
            if key not in spec:
                problems.append(f"{spec_path}: missing key {key!r}")
    if problems:
        raise DataValidationError(problems, header="malformed model spec")
    return spec


def load_generator(path: str | os.PathLike[str]) -> Generator:
    """Load any saved generator from its folder.

    Raises:
        DataValidationError: if the folder is not a model folder or its spec is malformed.
        ConfigError: if the generator is unknown or the spec version is newer than this Hygeia reads.
    """
    folder = Path(path)
    spec = read_spec(folder)
    module = str(spec["module"])
    if not module.startswith("hygeia."):
        raise ConfigError(f"{folder}: generator module {module!r} is not part of Hygeia; refusing to import it")
    if spec["generator"] not in _REGISTRY:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"{folder}: cannot import generator module {module!r}: {exc}") from exc
    cls = get_generator_class(spec["generator"])
    if int(spec["spec_version"]) > cls.spec_version:
        raise ConfigError(
            f"{folder}: saved with spec_version {spec['spec_version']} of {cls.generator_name}, "
            f"but this Hygeia reads up to {cls.spec_version}; upgrade Hygeia"
        )
    arrays: dict[str, np.ndarray] = {}
    arrays_path = folder / ARRAYS_FILE
    if arrays_path.is_file():
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    missing = sorted(set(spec.get("arrays", [])) - set(arrays))
    if missing:
        raise DataValidationError([f"{arrays_path}: missing arrays {missing}"], header="incomplete model folder")
    model = cls(**spec["params"])
    model._set_state(spec["state"], arrays)
    if isinstance(spec.get("privacy"), dict):
        model.privacy_report_ = spec["privacy"]
    return model


def _all_or_nothing(fit: Any) -> Any:
    """Wrap a ``fit`` so that it starts from an unfitted generator and leaves one when it fails."""
    if getattr(fit, "_all_or_nothing", False):
        return fit

    @functools.wraps(fit)
    def wrapped(self: Generator, *args: Any, **kwargs: Any) -> Any:
        outermost = not self.__dict__.get("_fitting", False)
        if outermost:
            self._clear_fitted()
            self.__dict__["_fitting"] = True
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            if outermost:
                self._clear_fitted()
            raise
        finally:
            if outermost:
                self.__dict__.pop("_fitting", None)

    wrapped._all_or_nothing = True  # type: ignore[attr-defined]
    return wrapped


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples so ``json.dumps`` accepts them; fail loudly otherwise."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot save {type(value).__name__} value {value!r} as JSON; put arrays in the arrays dict")
