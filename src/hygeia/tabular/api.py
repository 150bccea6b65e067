"""Fit a table generator to a file and sample from a saved model: what ``hygeia fit``/``sample`` run.

Example:
    >>> import pandas as pd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> df = pd.DataFrame({"age": [31.5, 47.0, 52.5, 60.0, 71.5, 38.0] * 5, "sex": list("FMFMFF") * 5})
    >>> df.to_csv(os.path.join(d, "real.csv"), index=False)
    >>> model, choice = fit_file(os.path.join(d, "real.csv"), model="copula", out=os.path.join(d, "model"), seed=0)
    >>> path = sample_file(os.path.join(d, "model"), 10, seed=1, out=os.path.join(d, "synth.parquet"))
    >>> list(read_table(path).columns)
    ['age', 'sex']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hygeia.core.atomic import atomic_output, write_text
from hygeia.core.generator import Generator, get_generator_class, load_generator
from hygeia.core.tables import read_table
from hygeia.errors import ConfigError, OutputError
from hygeia.tabular.metadata import Metadata

__all__ = ["MODELS", "ModelChoice", "fit_file", "fit_table", "read_table", "sample_file", "write_table"]

#: CLI model names -> registered generator names (and the module that registers each).
MODELS = {
    "copula": ("tabular.copula", "hygeia.tabular.copula"),
    "cart": ("tabular.cart", "hygeia.tabular.cart"),
    "dp": ("tabular.dp", "hygeia.tabular.dp"),
    "neural": ("tabular.neural", "hygeia.tabular.neural"),
    "sequence": ("tabular.sequence", "hygeia.tabular.sequence"),
}
_TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass
class ModelChoice:
    """Which generator was fitted, with which parameters, and why."""

    model: str
    generator: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    #: What type detection was unsure of (:attr:`Metadata.warnings`), for the user to read.
    warnings: list[str] = field(default_factory=list)


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], *, provenance: dict[str, Any], overwrite: bool = False) -> Path:
    """Write ``df`` to ``.csv`` or ``.parquet`` (by extension) atomically, plus ``PATH.hygeia.json``.

    Parquet files also carry the provenance in their schema metadata (key ``hygeia``).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in _TABLE_SUFFIXES:
        raise ConfigError(f"output {str(p)!r} must end in .csv or .parquet (got {suffix or 'no extension'!r})")
    side = p.with_name(p.name + ".hygeia.json")
    if p.exists() and not overwrite:
        raise OutputError(f"{str(p)!r} already exists; choose a new path or pass --overwrite")
    with atomic_output(p, overwrite=overwrite, what="sample file") as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            meta = dict(table.schema.metadata or {})
            meta[b"hygeia"] = json.dumps(provenance).encode()
            pq.write_table(table.replace_schema_metadata(meta), tmp)
        # the side file goes first: a crash before the table's swap leaves the old table
        # beside a newer provenance file, never a new table without one
        write_text(side, json.dumps(provenance, indent=2) + "\n", what="provenance file")
    return p


def _generator_class(model: str) -> type[Generator]:
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; choose one of auto, {', '.join(MODELS)}")
    name, module = MODELS[model]
    import importlib

    importlib.import_module(module)
    return get_generator_class(name)


def fit_table(
    df: pd.DataFrame,
    *,
    model: str = "auto",
    metadata: Metadata | None = None,
    epsilon: float | None = None,
    delta: float | None = None,
    params: dict[str, Any] | None = None,
    seed: int | None = None,
    release_detected_metadata: bool = False,
) -> tuple[Generator, ModelChoice]:
    """Fit the named generator (or the one ``auto`` picks) to ``df``.

    Args:
        df: the real table.
        model: ``auto`` or one of :data:`MODELS`.
        metadata: column types, keys and constraints (detected when ``None``).
        epsilon, delta: differential privacy budget (``auto`` then picks the DP model).
        params: extra constructor parameters of the generator.
        seed: seed of the fit's randomness where the generator takes one (its ``seed`` parameter).
        release_detected_metadata: DP models only: accept that metadata detected from the data
            is saved outside the guarantee (else such metadata is refused; see
            :mod:`hygeia.tabular._public_domain`).

    Raises:
        ConfigError: an unknown model or parameter, or an option the model does not take.
    """
    if model not in ("auto", *MODELS):
        raise ConfigError(f"unknown model {model!r}; choose one of auto, {', '.join(MODELS)}")
    meta = metadata if metadata is not None else Metadata.detect(df)
    params = dict(params or {})
    if model == "auto":
        from hygeia.tabular.auto import choose_model

        name, auto_params, reason = choose_model(df, meta, epsilon=epsilon)
        model = next(k for k, (reg, _) in MODELS.items() if reg == name)
        params = {**auto_params, **params}
    else:
        reason = f"asked for with --model {model}"
    cls = _generator_class(model)
    accepted = cls().get_params()
    if epsilon is not None:
        if "epsilon" not in accepted:
            raise ConfigError(f"--epsilon applies to the dp (and neural) models, not to {model!r}; drop it or use --model dp")
        params["epsilon"] = epsilon
    if delta is not None:
        if "delta" not in accepted:
            raise ConfigError(f"--delta applies to the dp (and neural) models, not to {model!r}")
        params["delta"] = delta
    if release_detected_metadata:
        if "release_detected_metadata" not in accepted:
            raise ConfigError(
                f"--release-detected-metadata applies to the differentially private models (dp, neural with "
                f"--epsilon), not to {model!r}; drop it"
            )
        params["release_detected_metadata"] = True
    if seed is not None and "seed" in accepted and "seed" not in params:
        params["seed"] = seed
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigError(f"{model} model has no parameter(s) {unknown}; its parameters are {sorted(accepted)}")
    generator = cls(**params).fit(df, metadata=meta)
    return generator, ModelChoice(model, cls.generator_name, params, reason, list(meta.warnings))


def fit_file(
    data: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    model: str = "auto",
    metadata: str | os.PathLike[str] | Metadata | None = None,
    overwrite: bool = False,
    **kwargs: Any,
) -> tuple[Generator, ModelChoice]:
    """Read ``data``, fit, and save the model folder to ``out`` (see :func:`fit_table`)."""
    if Path(out).exists() and not overwrite:
        raise OutputError(f"model folder {str(out)!r} already exists; choose a new path or pass --overwrite")
    df = read_table(data)
    meta = Metadata.load(metadata) if isinstance(metadata, (str, os.PathLike)) else metadata
    generator, choice = fit_table(df, model=model, metadata=meta, **kwargs)
    generator.save(out, overwrite=overwrite)
    return generator, choice


def sample_file(
    model_dir: str | os.PathLike[str], n: int, *, seed: int | None, out: str | os.PathLike[str], overwrite: bool = False
) -> Path:
    """Load a saved model, sample ``n`` rows (or subjects) and write them to ``out``."""
    suffix = Path(out).suffix.lower()
    if suffix not in _TABLE_SUFFIXES:
        raise ConfigError(f"output {str(out)!r} must end in .csv or .parquet (got {suffix or 'no extension'!r})")
    if Path(out).exists() and not overwrite:
        raise OutputError(f"{str(out)!r} already exists; choose a new path or pass --overwrite")
    generator = load_generator(model_dir)
    df = generator.sample(n, seed=seed)
    provenance = dict(df.attrs.get("hygeia", {}))
    provenance["model"] = str(Path(model_dir).resolve())
    provenance["n"] = int(n)
    return write_table(df, out, provenance=provenance, overwrite=overwrite)
