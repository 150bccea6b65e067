"""What a differentially private model may take from the metadata: declared fields, or released ones.

A DP guarantee covers what the noise protects. The metadata a DP model saves
(categories, bounds, decimals, nullability) is not noised: it is either public
knowledge the user *declared* (a codebook), or *detected* from the private
table, in which case saving it releases data outside the guarantee (a category
held by one patient would appear verbatim in ``spec.json``).

:func:`check_public_domain` refuses detected fields unless the user accepts in
words that they are released (``release_detected_metadata=True``, the CLI's
``--release-detected-metadata``), and :func:`domain_report` writes what the
model's ``privacy_report_`` says about them.

Example:
    >>> import pandas as pd
    >>> from hygeia.tabular.metadata import Metadata
    >>> meta = Metadata.detect(pd.DataFrame({"sex": ["F", "M", "F"]}))
    >>> check_public_domain(meta, {"sex": ["categories"]}, release=True, model="dp")
    [('sex', 'categories')]
"""

from __future__ import annotations

from typing import Any

from hygeia.errors import ConfigError
from hygeia.tabular.metadata import Metadata

__all__ = ["FIX", "check_public_domain", "domain_report", "guarantee_summary"]

#: The two ways out, in the CLI's words and the Python API's.
FIX = (
    "Either declare these fields from public knowledge (a codebook, not the data): "
    "`hygeia fit --public-metadata FILE` with FILE listing the categories, bounds, decimals and "
    "missing shares (in Python: ColumnSpec.declare(...), Metadata.as_declared(), or \"public\": true on "
    "the column in the metadata JSON); or accept that the detected values are released outside the guarantee: "
    "`hygeia fit --release-detected-metadata` (in Python: release_detected_metadata=True)."
)


def _value(meta: Metadata, column: str, field: str) -> str:
    v = getattr(meta.column(column), field)
    if field == "categories" and isinstance(v, list) and len(v) > 5:
        return f"{v[:5]!r} and {len(v) - 5} more"
    if field == "missing":
        return "nullable" if v else "never missing"
    return repr(v)


def check_public_domain(
    meta: Metadata, needed: dict[str, list[str]], *, release: bool, model: str
) -> list[tuple[str, str]]:
    """The ``(column, field)`` pairs of ``needed`` that were detected from the data.

    Args:
        meta: the metadata the model will use and save.
        needed: for each column, the data fields the model saves or relies on.
        release: whether the user accepted that detected fields are released.
        model: the model's name, for the message.

    Raises:
        ConfigError: when some needed field is detected and ``release`` is false; the
            message lists every such field with its value, and the two fixes.
    """
    detected = [
        (name, f)
        for name, fields in needed.items()
        for f in fields
        if meta.column(name).origin_of(f) == "detected"
    ]
    if detected and not release:
        lines = "\n".join(
            f"  - column {name!r}: {f} {_value(meta, name, f)} was detected from the data" for name, f in detected
        )
        raise ConfigError(
            f"the {model} model is differentially private, but its metadata has {len(detected)} field(s) read from "
            "the private table; saving them would put data values outside the (epsilon, delta) guarantee:\n"
            f"{lines}\n{FIX}"
        )
    return detected


def domain_report(meta: Metadata, needed: dict[str, list[str]], released: list[tuple[str, str]]) -> dict[str, Any]:
    """What ``privacy_report_`` says about the metadata: covered, declared public, released.

    Args:
        meta: the metadata the model saves.
        needed: the data fields the model saves or relies on, per column.
        released: the detected ``(column, field)`` pairs the user released.
    """
    declared = sorted(f"{name}.{f}" for name, fields in needed.items() for f in fields
                      if meta.column(name).origin_of(f) == "declared")
    return {
        "schema": "column names, types and dtypes: treated as public, outside the guarantee",
        "declared_public": declared,
        "released_detected": sorted(f"{name}.{f}" for name, f in released),
    }


def guarantee_summary(epsilon: float, delta: float, domain: dict[str, Any], estimated: list[str]) -> str:
    """One sentence per part: what the guarantee covers and what it does not."""
    parts = [f"(epsilon={epsilon:g}, delta={delta:g})-differential privacy for adding or removing one row covers "
             "the noised statistics" + (f" and the DP-estimated {', '.join(estimated)}" if estimated else "") + "."]
    parts.append("Not covered: column names, types and dtypes (public schema)")
    if domain["declared_public"]:
        parts[-1] += f"; fields declared public by the user: {', '.join(domain['declared_public'])}"
    if domain["released_detected"]:
        parts[-1] += ("; fields detected from the data and released by --release-detected-metadata: "
                      f"{', '.join(domain['released_detected'])}")
    parts[-1] += "."
    return " ".join(parts)
