"""Finding a disease id by name: the authored acute diseases and the HPO's annotated ones."""

from __future__ import annotations

import functools

from hygeia.tutor._acute import acute_ids, load_acute
from hygeia.tutor._hpo import Knowledge, load_knowledge

__all__ = ["acute_names", "find_diseases"]


@functools.cache
def acute_names() -> dict[str, str]:
    """The authored acute diseases: id (``HYGEIA:sepsis``) -> name (their files are checked when read)."""
    return {did: str(load_acute(did).get("name", did)) for did in acute_ids()}


def find_diseases(text: str, *, limit: int = 20, kb: Knowledge | None = None) -> list[tuple[str, str, str]]:
    """Diseases whose name holds every word of ``text``: the acute ones first, then the HPO's, most annotated
    first; each ``(id, name, detail)``.

    Example:
        >>> [hit[0] for hit in find_diseases("septic shock")][:1]
        ['HYGEIA:sepsis']
        >>> [hit[0] for hit in find_diseases("marfan syndrome", limit=2)]
        ['OMIM:154700', 'ORPHA:558']
    """
    words = text.lower().split()
    if not words:
        return []
    kb = kb or load_knowledge()
    acute = [(i, n, "acute, authored") for i, n in acute_names().items() if all(w in n.lower() for w in words)]
    hpo = [(d.id, d.name, f"{len(d.phenotypes)} phenotypes") for d in kb.search_diseases(text, limit=limit)]
    return (acute + hpo)[:limit]
