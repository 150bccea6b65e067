"""What every table generator shares: metadata, sampling with constraints, provenance.

A table generator subclasses :class:`TabularGenerator` and implements

* ``_fit(df, meta)``: learn from the real table. ``df`` holds the modelled
  columns only (numeric, categorical, datetime; see :meth:`Metadata.modelled`),
  datetimes converted to float nanoseconds since the epoch;
* ``_sample(n, rng) -> DataFrame``: ``n`` rows of the modelled columns in the
  same form (numbers as floats, categories as their values, NaN/None missing);
* ``_get_model_state()`` / ``_set_model_state(state, arrays)``: the learned state.

The base class turns that into ``fit(data, metadata=None)`` and
``sample(n, *, seed=None)``: metadata is detected (or validated when given),
constraints are enforced by rejection, the output has the input's columns,
order and dtypes, and ``df.attrs["hygeia"]`` records generator, version and seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hygeia.core.generator import Generator
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError
from hygeia.tabular.constraints import (
    check_constraints,
    resolve_constraints,
    sample_with_constraints,
)
from hygeia.tabular.metadata import Metadata, to_utc_naive
from hygeia.tabular._marginals import plain_value as _plain

__all__ = ["TabularGenerator", "check_n", "to_model_frame"]


def check_n(n: Any) -> int:
    """``n`` as a positive int, or a :class:`ConfigError` that says so."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be a positive integer number of rows; got {n!r}. Pass e.g. n=1000.")
    return int(n)


def to_model_frame(df: pd.DataFrame, meta: Metadata) -> pd.DataFrame:
    """The modelled columns of ``df``: numbers as float, datetimes as float ns, categories as values."""
    out = {}
    for c in meta.modelled:
        s = df[c.name]
        if c.type == "numeric":
            out[c.name] = pd.to_numeric(s, errors="coerce").astype(float)
        elif c.type == "datetime":
            if not pd.api.types.is_datetime64_any_dtype(s):
                s = pd.to_datetime(s, errors="coerce", format="mixed")
            ns = to_utc_naive(s)
            out[c.name] = ns.astype("int64").astype(float).where(ns.notna(), np.nan)
        else:
            values = s.astype(object)
            out[c.name] = values.where(values.notna(), None).map(_plain)
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


class TabularGenerator(Generator):
    """Base class of the table generators (see the module documentation).

    ``fit`` and ``sample`` are templates over four hooks a subclass may override
    beyond the abstract ones: :meth:`_check_table` (validate the input, return the
    table and a private copy of the metadata), :meth:`_model_frame` (what ``_fit``
    learns from), and :meth:`_sample_table` (``n`` rows, or ``n`` subjects for a
    sequence model, from a seed). The caller's table and metadata are never modified.
    """

    def fit(self, data: pd.DataFrame, metadata: Metadata | None = None) -> "TabularGenerator":
        """Learn from ``data`` (a DataFrame); ``metadata`` is detected when not given.

        Raises:
            DataValidationError: every problem of the table at once.
            ConfigError: bad parameters, metadata or constraints.
        """
        df, meta = self._check_table(data, metadata)
        self._fit(self._model_frame(df, meta), meta)
        self.metadata_ = meta
        return self

    def _check_table(self, data: Any, metadata: Metadata | None) -> tuple[pd.DataFrame, Metadata]:
        """The table to learn from and a copy of its metadata (detected when ``None``), both checked."""
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError(
                [f"expected a pandas DataFrame, got {type(data).__name__}"], header="cannot learn from this table"
            )
        if metadata is None:
            meta = Metadata.detect(data)
        else:
            meta = metadata.copy()
            meta.validate(data, label="the training table")
            if len(data) < 2:
                raise DataValidationError(
                    [f"the table has {len(data)} rows; a generator needs at least 2 rows to learn from"],
                    header="cannot learn from this table",
                )
        if meta.constraints:
            meta.constraints = resolve_constraints(data, meta.constraints)
            check_constraints(data, meta.constraints, meta)
        if not meta.modelled:
            raise DataValidationError(
                [f"no column to learn from: every column is an id or text ({meta.names})"],
                header="cannot learn from this table",
            )
        return data, meta

    def _model_frame(self, df: pd.DataFrame, meta: Metadata) -> pd.DataFrame:
        """What :meth:`_fit` learns from: the modelled columns as numbers and labels."""
        return to_model_frame(df, meta)

    def sample(self, n: int, *, seed: int | None = None) -> pd.DataFrame:
        """``n`` synthetic rows with the training table's columns and dtypes."""
        self._check_fitted()
        n = check_n(n)
        seed = resolve_seed(seed)
        out = self._sample_table(n, seed)
        out.attrs["hygeia"] = {**self.provenance(seed), **out.attrs.get("hygeia", {})}
        return out

    def _sample_table(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` rows drawn with :meth:`_sample`, constraints enforced by rejection, ids renumbered."""
        rng = np.random.default_rng(seed)
        meta = self.metadata_

        def draw(k: int, rng: np.random.Generator) -> pd.DataFrame:
            return meta.restore(self._sample(k, rng))

        out = sample_with_constraints(draw, n, meta.constraints, rng)
        if meta.primary_key or meta.of_type("id"):
            out = meta.restore(out)  # renumber ids 0..n-1 after rejection
        return out

    def provenance(self, seed: int) -> dict[str, Any]:
        """What a sample records about where it came from (saved parameters only; no secrets)."""
        from hygeia import __version__

        return {"generator": self.generator_name, "hygeia_version": __version__, "seed": seed,
                "params": self.saved_params()}

    # -- state ----------------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = self._get_model_state()
        return {"metadata": self.metadata_.to_dict(), "model": state}, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.metadata_ = Metadata.from_dict(state["metadata"])
        self._set_model_state(state["model"], arrays)

    # -- hooks ----------------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame, meta: Metadata) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:  # pragma: no cover
        raise NotImplementedError

    def _set_model_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:  # pragma: no cover
        raise NotImplementedError
