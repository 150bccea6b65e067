"""The vocabulary of extraction: surface forms -> concepts with codes, matched longest-first on tokens.

The lexicon ships precomputed in ``resources/lexicon.json.gz`` (built by
:mod:`hygeia.notes._lexicon_build`) and is loaded once per process, on first use.
Matching is case-insensitive on normalized tokens (lower case, hyphens and apostrophes
dropped, simple plurals reduced: ``'allergies'`` -> ``'allergy'``), on token boundaries,
and the longest surface form wins.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EXTENDED", "LEXICON_PATH", "Concept", "Lexicon", "Token", "lexicon", "normalize", "tokens"]

RESOURCES = Path(__file__).resolve().parent / "resources"
LEXICON_PATH = RESOURCES / "lexicon.json.gz"
#: Version of the lexicon file's layout.
SPEC_VERSION = 1
_TOKEN = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")
_SKIP = frozenset("-'’")
_END = ""
#: An extended-release form: its code never stands for the immediate-release drug of the same dose.
EXTENDED = re.compile(r"\b(?:(?i:extended release|24 hr|12 hr)|ER|XR|XL|SR|CR|LA)\b")


def norm_token(word: str) -> str:
    """One token as the lexicon stores it: lower case, a simple plural reduced.

    Example:
        >>> [norm_token(w) for w in ("Allergies", "Peanuts", "diabetes", "mass", "CKD")]
        ['allergy', 'peanut', 'diabete', 'mass', 'ckd']
    """
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")) and w.isalpha():
        return w[:-1]
    return w


def normalize(text: str) -> list[str]:
    """The normalized tokens of a name.

    Example:
        >>> normalize("Follow-up of Alzheimer's disease")
        ['follow', 'up', 'of', 'alzheimer', 's', 'disease']
    """
    return [norm_token(m.group()) for m in _TOKEN.finditer(text) if m.group() not in _SKIP]


@dataclass(frozen=True)
class Token:
    """One token of a text: its normalized form, its span and the text as written."""

    norm: str
    start: int
    end: int
    raw: str


def tokens(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The tokens of ``text[start:end]`` with spans in ``text``.

    Example:
        >>> [(t.norm, t.start) for t in tokens("No HTN.")]
        [('no', 0), ('htn', 3), ('.', 6)]
    """
    out = []
    for m in _TOKEN.finditer(text, start, len(text) if end is None else end):
        raw = m.group()
        if raw not in _SKIP:
            out.append(Token(norm_token(raw), m.start(), m.end(), raw))
    return out


@dataclass(frozen=True)
class Concept:
    """A concept of the lexicon: its kind (``problem``, ``medication``, ``allergen``, ``lab``, ``vital``,
    ``procedure``, ``immunization``, ``class``), its name and its ``(system, code)`` pairs."""

    kind: str
    name: str
    codes: tuple[tuple[str, str], ...]


class Lexicon:
    """Surface forms -> concepts, matched longest-first.

    Example:
        >>> lex = Lexicon({"concepts": [["problem", "hypertension", [["ICD-10-CM", "I10"]]]],
        ...                "surfaces": {"htn": [0], "hypertension": [0]}, "products": {}})
        >>> text = "Hx of HTN."
        >>> [(text[a:b], [c.name for c in cs]) for a, b, cs in lex.find(text)]
        [('HTN', ['hypertension'])]
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.concepts = [Concept(k, n, tuple((s, c) for s, c in codes)) for k, n, codes in data["concepts"]]
        self.products: dict[str, list[str]] = data.get("products", {})
        self.sources: dict[str, str] = data.get("sources", {})
        self.surfaces = len(data["surfaces"])
        self._names = {(c.kind, c.name): c for c in self.concepts}
        self._trie: dict[str, Any] = {}
        for surface, ids in data["surfaces"].items():
            node = self._trie
            for tok in surface.split(" "):
                node = node.setdefault(tok, {})
            node[_END] = tuple(self.concepts[i] for i in ids)

    def match_at(self, toks: list[Token], i: int) -> tuple[int, tuple[Concept, ...]] | None:
        """The longest surface starting at token ``i``: ``(end token index, concepts)``, or None."""
        node = self._trie
        best = None
        j = i
        while j < len(toks):
            node = node.get(toks[j].norm)
            if node is None:
                break
            j += 1
            if _END in node:
                best = (j, node[_END])
        return best

    def find(self, text: str) -> list[tuple[int, int, tuple[Concept, ...]]]:
        """Non-overlapping longest matches in ``text``: ``(start, end, concepts)``."""
        toks = tokens(text)
        out, i = [], 0
        while i < len(toks):
            hit = self.match_at(toks, i)
            if hit is None:
                i += 1
                continue
            j, concepts = hit
            out.append((toks[i].start, toks[j - 1].end, concepts))
            i = j
        return out

    def named(self, kind: str, name: str) -> Concept | None:
        """The concept of this kind and name, if the lexicon has it."""
        return self._names.get((kind, name))

    def product(self, ingredient: str, dose: str, extended: bool = False) -> tuple[tuple[str, str], ...]:
        """RxNorm codes of the single-ingredient products with this dose (``'metformin'``, ``'500 mg'``), extended
        release or not."""
        return tuple(("RxNorm", c) for c in self.products.get(f"{ingredient}|{dose}|{'er' if extended else ''}", ()))


@functools.lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lexicon, loaded once per process."""
    with gzip.open(LEXICON_PATH, "rt", encoding="utf-8") as f:
        return Lexicon(json.load(f))
