"""Transaction Bundles a server can load twice, and in parts: conditional creates and conditional references.

- :func:`conditional_create`: the ``ifNoneExist`` query of a patient resource: its
  ``urn:uuid`` identifier (unique across runs, unlike a subject id), so a second load
  of the same Bundle finds it and creates nothing (FHIR R4 http.html#cond-update).
- :func:`split_entries`: one patient's entries as several Bundles of at most N entries.
  Entries are ordered so that each comes after every entry it references; a reference to
  an entry of an earlier part becomes a conditional reference (``Type?identifier=...``,
  FHIR R4 http.html#trules), which the server resolves to the resource it made then.

Example:
    >>> org = {"fullUrl": "urn:uuid:o", "request": {"method": "POST", "url": "Organization",
    ...        "ifNoneExist": "identifier=urn:hygeia:fhir:organization|TX"},
    ...        "resource": {"resourceType": "Organization", "id": "o"}}
    >>> pat = {"fullUrl": "urn:uuid:p", "request": {"method": "POST", "url": "Patient",
    ...        "ifNoneExist": "identifier=urn:ietf:rfc:3986|urn:uuid:p"},
    ...        "resource": {"resourceType": "Patient", "id": "p",
    ...                     "managingOrganization": {"reference": "urn:uuid:o"}}}
    >>> [[e["fullUrl"] for e in part] for part in split_entries([pat, org], 1)]
    [['urn:uuid:o'], ['urn:uuid:p']]
    >>> split_entries([pat, org], 1)[1][0]["resource"]["managingOrganization"]
    {'reference': 'Organization?identifier=urn:hygeia:fhir:organization|TX'}
"""

from __future__ import annotations

from typing import Any

from hygeia.export.fhir._codes import RESOURCE_ID_SYSTEM

__all__ = ["conditional_create", "conditional_reference", "split_entries"]


def conditional_create(res: dict) -> str:
    """The ``ifNoneExist`` query that finds ``res`` (by its ``urn:uuid`` identifier) on a server."""
    return f"identifier={RESOURCE_ID_SYSTEM}|urn:uuid:{res['id']}"


def conditional_reference(entry: dict) -> str:
    """A reference to ``entry``'s resource that a server resolves by search: ``Type?<its ifNoneExist>``."""
    return f"{entry['resource']['resourceType']}?{entry['request']['ifNoneExist']}"


def _references(obj: Any, out: list[str]) -> list[str]:
    if isinstance(obj, dict):
        ref = obj.get("reference")
        if isinstance(ref, str):
            out.append(ref)
        for k, v in obj.items():
            if k != "meta":
                _references(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _references(v, out)
    return out


def _ordered(entries: list[dict]) -> list[dict]:
    """``entries`` in their order, except that an entry moves after every entry it references."""
    by_url = {e["fullUrl"]: i for i, e in enumerate(entries)}
    needs = [[by_url[r] for r in _references(e["resource"], []) if r in by_url] for e in entries]
    done = [False] * len(entries)
    out: list[dict] = []
    for start in range(len(entries)):
        stack = [(start, iter(needs[start]))]
        seen = {start}
        while stack:  # depth-first, iterative: a long chain of references cannot overflow the stack
            i, deps = stack[-1]
            j = next((d for d in deps if not done[d] and d not in seen), None)
            if j is not None:
                seen.add(j)
                stack.append((j, iter(needs[j])))
                continue
            stack.pop()
            if not done[i]:
                done[i] = True
                out.append(entries[i])
    return out


def _rewrite(obj: Any, targets: dict[str, str]) -> Any:
    """A copy of ``obj`` whose references named in ``targets`` are replaced by their values."""
    if isinstance(obj, dict):
        out = {k: (v if k == "meta" else _rewrite(v, targets)) for k, v in obj.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in targets:
            out["reference"] = targets[ref]
        return out
    if isinstance(obj, list):
        return [_rewrite(v, targets) for v in obj]
    return obj


def split_entries(entries: list[dict], max_entries: int) -> list[list[dict]]:
    """Transaction entries as consecutive parts of at most ``max_entries`` entries, to be loaded in order.

    Each entry must carry ``request.ifNoneExist``. A reference from one part to an entry of an
    earlier part becomes that entry's conditional reference; references within a part keep
    their ``urn:uuid`` fullUrl. (Entries referencing each other in a cycle could leave a reference to
    a later part, which :func:`~hygeia.export.fhir.validate_fhir` reports; Hygeia's resources have none.)
    """
    ordered = _ordered(entries)
    parts = [ordered[k:k + max_entries] for k in range(0, len(ordered), max_entries)]
    earlier: dict[str, str] = {}
    out = []
    for part in parts:
        out.append([{**e, "resource": _rewrite(e["resource"], earlier)} if earlier else e for e in part])
        earlier.update((e["fullUrl"], conditional_reference(e)) for e in part)
    return out
