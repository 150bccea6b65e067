"""``--model auto``: the rules pick the documented generator and say why."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from hygeia.errors import ConfigError
from hygeia.tabular.auto import DEFAULT_MODEL, MIN_TREE_ROWS, choose_model
from hygeia.tabular.metadata import Metadata


def table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.normal(60, 10, n).round(1), "sex": rng.choice(["F", "M"], n), "death": rng.integers(0, 2, n)})


def visits() -> pd.DataFrame:
    return pd.DataFrame({"id": np.repeat(np.arange(50), 4), "day": np.tile([0, 30, 60, 90], 50), "bili": np.arange(200) / 10})


def test_default_table_model() -> None:
    name, params, reason = choose_model(table(600))
    assert name == DEFAULT_MODEL == "tabular.cart"
    assert params == {}
    assert "default table model for 600 rows x 3 modelled columns" in reason


def test_epsilon_picks_the_dp_model() -> None:
    name, params, reason = choose_model(table(500), epsilon=1)
    assert (name, params) == ("tabular.dp", {"epsilon": 1.0})
    assert "epsilon=1" in reason


def test_sequence_metadata_picks_the_sequence_model() -> None:
    df = visits()
    for meta in (Metadata.detect(df, sequence_key="id", sequence_index="day"), Metadata.detect(df, sequence_key="id")):
        name, params, reason = choose_model(df, meta)
        assert name == "tabular.sequence" and params == {}
        assert "sequence_key='id'" in reason


def test_small_table_picks_the_copula() -> None:
    name, _, reason = choose_model(table(MIN_TREE_ROWS - 1))
    assert name == "tabular.copula"
    assert f"{MIN_TREE_ROWS - 1} rows" in reason


def test_epsilon_with_a_sequence_is_refused() -> None:
    df = visits()
    with pytest.raises(ConfigError, match=re.escape("no sequence model is differentially private; drop --epsilon")):
        choose_model(df, Metadata.detect(df, sequence_key="id"), epsilon=1.0)


@pytest.mark.parametrize("epsilon", [0, -1.0, "1", True])
def test_bad_epsilon_is_refused(epsilon: object) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"epsilon must be a positive number; got {epsilon!r}")):
        choose_model(table(300), epsilon=epsilon)  # type: ignore[arg-type]


def test_fit_table_auto_fits_the_chosen_model() -> None:
    from hygeia.tabular.api import fit_table

    generator, choice = fit_table(table(600), model="auto", seed=0)
    assert choice.generator == "tabular.cart" and type(generator).generator_name == "tabular.cart"
    assert choice.reason.startswith("default table model")
    assert len(generator.sample(20, seed=1)) == 20
