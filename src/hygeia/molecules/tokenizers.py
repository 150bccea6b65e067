"""Tokenizers for chemical language models, and the vocabulary that numbers tokens.

Two string representations of a molecule are supported:

- ``"smiles"``: SMILES split by the usual regular expression of chemical
  language models — a bracket atom (``[nH]``, ``[C@@H]``, ``[N+]``) is one token,
  so are ``Cl``, ``Br`` and two-digit ring closures (``%12``); every other
  character (atoms of the organic subset, bonds, branches, ring digits) is a token.
- ``"selfies"``: SELFIES (Krenn et al., 2020), one token per bracketed symbol;
  every sequence of SELFIES tokens decodes to a valid molecule.

Tokenizing never loses anything: ``"".join(tokenize(s)) == s``, and a
:class:`Vocabulary` encodes a string to integer ids and decodes them back to
the identical string.

Example:
    >>> tok = SmilesTokenizer()
    >>> tok.tokenize("CC(=O)Nc1ccc(Cl)cc1[C@@H]%10")
    ['C', 'C', '(', '=', 'O', ')', 'N', 'c', '1', 'c', 'c', 'c', '(', 'Cl', ')', 'c', 'c', '1', '[C@@H]', '%10']
    >>> vocab = Vocabulary.build(["CCO", "c1ccccc1"], tok)
    >>> vocab.decode(vocab.encode("OCC"))
    'OCC'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import ClassVar

from hygeia.errors import ConfigError, DataValidationError, MissingExtraError

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIAL_TOKENS",
    "SelfiesTokenizer",
    "SmilesTokenizer",
    "Tokenizer",
    "TokenizationError",
    "Vocabulary",
    "get_tokenizer",
]

PAD = "<pad>"
BOS = "<bos>"
EOS = "<eos>"
#: Special tokens, always the first ids of a vocabulary in this order (pad = 0).
SPECIAL_TOKENS = (PAD, BOS, EOS)

# A bracket atom; Br/Cl before single letters; ring closures %NN and %(NNN); then single
# characters: organic-subset atoms (aliphatic and aromatic), '*', ring digits, bonds,
# branches, dot, and the few other characters SMILES allows outside brackets.
_SMILES_TOKEN = re.compile(
    r"\[[^\[\]]+\]|Br|Cl|%\([0-9]+\)|%[0-9]{2}|[BCNOSPFIbcnosp*]|[0-9]|[-=#$:/\\().~+@?>]"
)


class TokenizationError(DataValidationError):
    """A string cannot be split into tokens, or holds a token the vocabulary lacks."""

    header = "cannot tokenize"


class Tokenizer:
    """Splits one molecule string into tokens and converts between SMILES and the representation."""

    name: ClassVar[str] = ""

    def tokenize(self, text: str) -> list[str]:  # pragma: no cover - abstract
        """The tokens of ``text`` (in this representation); joined, they give ``text`` back."""
        raise NotImplementedError

    def detokenize(self, tokens: Iterable[str]) -> str:
        """The string the tokens spell."""
        return "".join(tokens)

    def from_smiles(self, smiles: str) -> str:
        """``smiles`` written in this representation."""
        return smiles

    def to_smiles(self, text: str) -> str:
        """A SMILES string for ``text`` (written in this representation)."""
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SmilesTokenizer(Tokenizer):
    """SMILES split into atoms (bracket atoms whole), bonds, branches and ring closures."""

    name = "smiles"

    def tokenize(self, text: str) -> list[str]:
        """Tokens of a SMILES string.

        Raises:
            TokenizationError: if a character of ``text`` belongs to no SMILES token.
        """
        if not isinstance(text, str):
            raise TokenizationError([f"expected a SMILES string, got {type(text).__name__} {text!r}"])
        tokens: list[str] = []
        pos = 0
        for match in _SMILES_TOKEN.finditer(text):
            if match.start() != pos:
                break
            tokens.append(match.group())
            pos = match.end()
        if pos != len(text) or not text:
            where = "it is empty" if not text else f"character {text[pos]!r} at position {pos} starts no SMILES token"
            raise TokenizationError(
                [f"{text!r}: {where}"],
                header="not a tokenizable SMILES string (atoms outside the organic subset must be in brackets)",
            )
        return tokens


class SelfiesTokenizer(Tokenizer):
    """SELFIES split into its bracketed symbols (and ``.`` between fragments)."""

    name = "selfies"

    def __init__(self) -> None:
        _import_selfies()  # fail early, with the extra to install

    def tokenize(self, text: str) -> list[str]:
        """Tokens of a SELFIES string.

        Raises:
            TokenizationError: if ``text`` is not a sequence of ``[...]`` symbols.
        """
        if not isinstance(text, str):
            raise TokenizationError([f"expected a SELFIES string, got {type(text).__name__} {text!r}"])
        try:
            tokens = list(_import_selfies().split_selfies(text)) if text else []
        except ValueError:  # a hanging bracket
            tokens = []
        if not tokens or "".join(tokens) != text or any(not _is_selfies_symbol(t) for t in tokens):
            raise TokenizationError(
                [f"{text!r} is not a sequence of SELFIES symbols such as '[C][=O]'"], header="not a SELFIES string"
            )
        return tokens

    def from_smiles(self, smiles: str) -> str:
        """SMILES → SELFIES.

        Raises:
            TokenizationError: if SELFIES cannot encode ``smiles``.
        """
        sf = _import_selfies()
        try:
            out = sf.encoder(smiles, strict=True)
        except sf.EncoderError as exc:
            raise TokenizationError([f"{smiles!r}: {_first_line(exc)}"], header="SELFIES cannot encode") from None
        if not out:
            raise TokenizationError([f"{smiles!r}: empty encoding"], header="SELFIES cannot encode")
        return out

    def to_smiles(self, text: str) -> str:
        """SELFIES → SMILES (``""`` when the symbols encode no atom)."""
        sf = _import_selfies()
        try:
            return sf.decoder(text) or ""
        except sf.DecoderError:
            return ""


def _is_selfies_symbol(token: str) -> bool:
    return token == "." or (len(token) > 2 and token[0] == "[" and token[-1] == "]" and "[" not in token[1:-1])


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _import_selfies():
    try:
        import selfies
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("selfies", "molecules", "The SELFIES representation") from None
    return selfies


_TOKENIZERS: dict[str, type[Tokenizer]] = {"smiles": SmilesTokenizer, "selfies": SelfiesTokenizer}


def get_tokenizer(representation: str) -> Tokenizer:
    """The tokenizer of ``representation`` (``"smiles"`` or ``"selfies"``).

    Raises:
        ConfigError: for another name.
    """
    try:
        cls = _TOKENIZERS[representation]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown molecule representation {representation!r}; choose one of {', '.join(map(repr, _TOKENIZERS))}"
        ) from None
    return cls()


class Vocabulary:
    """Numbers the tokens of one representation; the special tokens come first.

    Args:
        tokens: every token, the special tokens ``<pad>``, ``<bos>``, ``<eos>`` first.
        tokenizer: the tokenizer that splits strings into these tokens.

    Example:
        >>> v = Vocabulary.build(["CC=O"], SmilesTokenizer())
        >>> v.tokens
        ['<pad>', '<bos>', '<eos>', '=', 'C', 'O']
        >>> v.encode("OC")
        [1, 5, 4, 2]
    """

    def __init__(self, tokens: Sequence[str], tokenizer: Tokenizer) -> None:
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ConfigError(
                f"a vocabulary must start with the special tokens {list(SPECIAL_TOKENS)}; got {tokens[:3]}"
            )
        if len(set(tokens)) != len(tokens):
            dupes = sorted({t for t in tokens if tokens.count(t) > 1})
            raise ConfigError(f"a vocabulary lists each token once; repeated: {dupes}")
        self.tokens = tokens
        self.tokenizer = tokenizer
        self.index = {t: i for i, t in enumerate(tokens)}

    pad_id = 0
    bos_id = 1
    eos_id = 2

    @classmethod
    def build(cls, strings: Iterable[str], tokenizer: Tokenizer) -> Vocabulary:
        """The vocabulary of every token in ``strings`` (written in the tokenizer's representation), sorted."""
        return cls.from_token_lists((tokenizer.tokenize(s) for s in strings), tokenizer)

    @classmethod
    def from_token_lists(cls, token_lists: Iterable[Iterable[str]], tokenizer: Tokenizer) -> Vocabulary:
        """The vocabulary of every token in already tokenized strings, sorted."""
        seen: set[str] = set()
        for tokens in token_lists:
            seen.update(tokens)
        return cls([*SPECIAL_TOKENS, *sorted(seen - set(SPECIAL_TOKENS))], tokenizer)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, {self.tokenizer.name})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Vocabulary)
            and self.tokens == other.tokens
            and self.tokenizer.name == other.tokenizer.name
        )

    __hash__ = None  # type: ignore[assignment]

    def encode_tokens(
        self, tokens: Sequence[str], *, text: str | None = None, bos: bool = True, eos: bool = True
    ) -> list[int]:
        """Ids of ``tokens`` (framed by ``<bos>``/``<eos>``); ``text`` names the string in errors."""
        try:
            ids = [self.index[t] for t in tokens]
        except KeyError as exc:
            unknown = sorted({t for t in tokens if t not in self.index})
            raise TokenizationError(
                [f"{text if text is not None else ''.join(tokens)!r} contains the token(s) {unknown}, "
                 "which the model's vocabulary lacks"],
                header="unknown tokens (fit the model on data that contains them, or leave these molecules out)",
            ) from exc
        return ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])

    def encode(self, text: str, *, bos: bool = True, eos: bool = True) -> list[int]:
        """Ids of ``text`` (a string in the tokenizer's representation), framed by ``<bos>``/``<eos>``.

        Raises:
            TokenizationError: if ``text`` cannot be tokenized or holds a token not in the vocabulary.
        """
        return self.encode_tokens(self.tokenizer.tokenize(text), text=text, bos=bos, eos=eos)

    def decode_tokens(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``, up to the first ``<eos>`` (``<bos>`` and ``<pad>`` skipped)."""
        out: list[str] = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if i in (self.pad_id, self.bos_id):
                continue
            out.append(self.tokens[i])
        return out

    def decode(self, ids: Iterable[int]) -> str:
        """The string ``ids`` spell (inverse of :meth:`encode`)."""
        return self.tokenizer.detokenize(self.decode_tokens(ids))

    def to_list(self) -> list[str]:
        """The tokens, as saved in JSON."""
        return list(self.tokens)

    def to_json(self) -> str:
        """The vocabulary as a JSON list of tokens."""
        return json.dumps(self.tokens)

    @classmethod
    def from_json(cls, text: str, tokenizer: Tokenizer) -> Vocabulary:
        """Read what :meth:`to_json` wrote."""
        tokens = json.loads(text)
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ConfigError(f"a saved vocabulary is a JSON list of strings; got {str(text)[:60]!r}")
        return cls(tokens, tokenizer)
