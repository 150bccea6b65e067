"""Metadata detection and validation details not covered by the generator tests."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hygeia.errors import DataValidationError
from hygeia.tabular.metadata import Metadata


def test_object_column_of_numbers_with_missing_values_validates() -> None:
    df = pd.DataFrame({"n": pd.Series([1, None, 3, 4.5, 2] * 4, dtype=object), "g": list("abcde") * 4})
    meta = Metadata.detect(df)
    assert meta.column("n").type == "numeric"
    meta.validate(df)  # None is missing, not a bad value


def test_validate_names_a_value_that_is_not_a_number() -> None:
    df = pd.DataFrame({"n": [1.5, 2.5, 3.5, 4.5], "g": list("abab")})
    meta = Metadata.detect(df)
    meta.validate(df.assign(n=pd.Series([1.5, "twelve", None, 2.0], dtype=object)))  # 'twelve' reads as missing
    bad = df.assign(n=pd.Series(["twelve", "ten", None, "n/a"], dtype=object))
    with pytest.raises(DataValidationError, match=re.escape("none of its values is a number (e.g. 'twelve', 'ten'")):
        meta.validate(bad)
