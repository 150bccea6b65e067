"""SMILES and SELFIES tokenizers and the vocabulary: exact round trips and clear errors."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("selfies")
pytest.importorskip("rdkit")

import selfies as sf  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hygeia.errors import ConfigError  # noqa: E402
from hygeia.molecules.data import moses_split  # noqa: E402
from hygeia.molecules.tokenizers import (  # noqa: E402
    SPECIAL_TOKENS,
    SelfiesTokenizer,
    SmilesTokenizer,
    TokenizationError,
    Vocabulary,
    get_tokenizer,
)

_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def moses_sample() -> list[str]:
    return moses_split("test")[::100]  # 1,761 molecules


# a few SMILES with every kind of token, beyond what MOSES holds
_EXTRA_SMILES = [
    "[Na+].[Cl-]",
    "C[C@@H](N)C(=O)O",
    "F/C=C/F",
    "C1CC2CCC3CCC4CCC5CCC6CCC7CCC8CCC9CCC%10CCC%11CCC%10C%11C9C8C7C6C5C4C3C2C1",
    "c1ccc2[nH]ccc2c1",
    "BrC(Cl)I",
    "B(O)(O)c1ccccc1",
    "[13CH4]",
    "[O-][N+](=O)c1ccccc1",
    "C#N",
    "[Se]1C=CC=C1",
    "*CC*",
    "C%(123)CC%(123)",
]


def test_smiles_tokens_follow_the_usual_regex() -> None:
    tok = SmilesTokenizer()
    assert tok.tokenize("CC(=O)Nc1ccc(Cl)cc1Br") == [
        "C", "C", "(", "=", "O", ")", "N", "c", "1", "c", "c", "c", "(", "Cl", ")", "c", "c", "1", "Br",
    ]
    assert tok.tokenize("[C@@H]1CC%12") == ["[C@@H]", "1", "C", "C", "%12"]
    assert tok.tokenize("[Na+].[Cl-]") == ["[Na+]", ".", "[Cl-]"]
    assert tok.tokenize("F/C=C\\F") == ["F", "/", "C", "=", "C", "\\", "F"]
    assert tok.tokenize("C%(123)C") == ["C", "%(123)", "C"]


def test_selfies_tokens_are_bracketed_symbols() -> None:
    tok = SelfiesTokenizer()
    assert tok.tokenize("[C][=O].[Na+1]") == ["[C]", "[=O]", ".", "[Na+1]"]
    text = tok.from_smiles("c1ccccc1O")
    assert tok.detokenize(tok.tokenize(text)) == text
    assert tok.to_smiles(text) == sf.decoder(text)


@pytest.mark.parametrize("smiles", _EXTRA_SMILES)
def test_smiles_round_trip_on_hand_picked_strings(smiles: str) -> None:
    tok = SmilesTokenizer()
    vocab = Vocabulary.build([smiles], tok)
    assert "".join(tok.tokenize(smiles)) == smiles
    assert vocab.decode(vocab.encode(smiles)) == smiles


def test_smiles_round_trip_on_moses(moses_sample: list[str]) -> None:
    tok = SmilesTokenizer()
    vocab = Vocabulary.build(moses_sample, tok)

    @_SETTINGS
    @given(st.sampled_from(moses_sample))
    def check(smiles: str) -> None:
        tokens = tok.tokenize(smiles)
        assert "".join(tokens) == smiles
        ids = vocab.encode(smiles)
        assert ids[0] == vocab.bos_id and ids[-1] == vocab.eos_id
        assert vocab.decode(ids) == smiles

    check()
    # and every molecule of the sample, not only the ones hypothesis drew
    assert all(vocab.decode(vocab.encode(s)) == s for s in moses_sample)


def test_selfies_round_trip_on_moses(moses_sample: list[str]) -> None:
    tok = SelfiesTokenizer()
    texts = [tok.from_smiles(s) for s in moses_sample[:300]]
    vocab = Vocabulary.build(texts, tok)
    assert all(vocab.decode(vocab.encode(t)) == t for t in texts)


_ALPHABET = sorted(sf.get_semantic_robust_alphabet())


@_SETTINGS
@given(st.lists(st.sampled_from(_ALPHABET), min_size=1, max_size=40))
def test_generated_selfies_round_trip(symbols: list[str]) -> None:
    tok = SelfiesTokenizer()
    text = "".join(symbols)
    assert tok.tokenize(text) == symbols
    vocab = Vocabulary.build([text], tok)
    assert vocab.decode(vocab.encode(text)) == text
    # every SELFIES decodes to a SMILES (possibly empty) without error
    assert isinstance(tok.to_smiles(text), str)


def test_vocabulary_layout_and_json_round_trip() -> None:
    tok = SmilesTokenizer()
    vocab = Vocabulary.build(["CCO", "c1ccccc1Cl"], tok)
    assert tuple(vocab.tokens[:3]) == SPECIAL_TOKENS
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2)
    assert json.loads(vocab.to_json()) == vocab.tokens
    again = Vocabulary.from_json(vocab.to_json(), tok)
    assert again == vocab
    assert again.encode("ClC") == vocab.encode("ClC")
    # decoding stops at <eos> and skips <bos>/<pad>
    ids = vocab.encode("CO") + [vocab.index["C"], 0, 0]
    assert vocab.decode(ids) == "CO"


def test_unknown_token_error_names_the_token_and_the_string() -> None:
    vocab = Vocabulary.build(["CCO"], SmilesTokenizer())
    with pytest.raises(TokenizationError, match=re.escape("'CCCl' contains the token(s) ['Cl']")):
        vocab.encode("CCCl")


def test_untokenizable_smiles_names_the_character() -> None:
    tok = SmilesTokenizer()
    with pytest.raises(TokenizationError, match=re.escape("character 'X' at position 2")):
        tok.tokenize("CCXC")
    with pytest.raises(TokenizationError, match="empty"):
        tok.tokenize("")
    with pytest.raises(TokenizationError, match="not a SELFIES"):
        SelfiesTokenizer().tokenize("[C]C")


def test_selfies_encoder_failure_is_a_clear_error() -> None:
    with pytest.raises(TokenizationError, match=re.escape("'C1CC'")):
        SelfiesTokenizer().from_smiles("C1CC")


def test_bad_vocabularies_and_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="special tokens"):
        Vocabulary(["C", "O"], SmilesTokenizer())
    with pytest.raises(ConfigError, match="repeated"):
        Vocabulary([*SPECIAL_TOKENS, "C", "C"], SmilesTokenizer())
    with pytest.raises(ConfigError, match="unknown molecule representation 'inchi'"):
        get_tokenizer("inchi")
