"""Score extraction against hand-listed facts (the hand-written notes of the tests and the benchmark)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hygeia.notes._extract import extract
from hygeia.notes._facts import Fact

__all__ = ["expected_matches", "score_folder"]


def _agrees(f: Fact, attrs: dict[str, Any]) -> bool:
    for key, want in attrs.items():
        if key == "code":
            system, code = want.split(":", 1)
            if (system, code) not in f.codes:
                return False
        elif getattr(f, key) != want:
            return False
    return True


def expected_matches(facts: Sequence[Fact], rows: Sequence[Sequence[Any]]) -> list[tuple[Sequence[Any], bool]]:
    """Each expected row ``[kind, text, attrs]`` and whether a fact of that kind whose span contains ``text``
    (case-insensitive) has all of ``attrs``; a fact is used for one row at most.

    Example:
        >>> from hygeia.notes import extract
        >>> [ok for _, ok in expected_matches(extract("Denies fever.").facts, [["problem", "fever", {"negated": True}]])]
        [True]
    """
    used: set[int] = set()
    out = []
    for kind, text, attrs in rows:
        hit = next((i for i, f in enumerate(facts) if i not in used and f.kind == kind
                    and text.lower() in f.text.lower() and _agrees(f, attrs)), None)
        if hit is not None:
            used.add(hit)
        out.append(((kind, text, attrs), hit is not None))
    return out


def score_folder(folder: str | Path) -> dict[str, Any]:
    """Extract every note listed in ``folder/extract_expected.json`` and score it: found, expected, misses."""
    folder = Path(folder)
    expected = json.loads((folder / "extract_expected.json").read_text(encoding="utf-8"))
    found = total = 0
    misses = []
    for name, rows in expected.items():
        if name == "about":
            continue
        facts = extract((folder / name).read_text(encoding="utf-8")).facts
        for row, ok in expected_matches(facts, rows):
            total += 1
            found += ok
            if not ok:
                misses.append(f"{name}: {row[0]} {row[1]!r} {row[2]}")
    return {"notes": len(expected) - 1, "expected": total, "found": found,
            "recall": round(found / total, 4) if total else None, "misses": misses}
