"""What a folder of Synthea-format modules reads and sets: attributes and vital signs.

A module reads an attribute through an ``Attribute`` condition, a
``referenced_by_attribute`` field, an Observation state's ``attribute`` value,
a ``#{name}`` expression, or a key column of a lookup table; it sets one with a
``SetAttribute`` or ``Counter`` state, an ``assign_to_attribute`` field or a
Physiology output of type ``Attribute``. It reads a vital sign through a
``Vital Sign`` condition or an Observation with a ``vital_sign`` and sets one
with a ``VitalSign`` state. Whatever is read and never set must come from the
lifecycle (Synthea's Java), which is what :func:`scan` is for.

Example:
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> m = {"name": "m", "states": {"Initial": {"type": "Initial", "conditional_transition": [
    ...     {"condition": {"condition_type": "Attribute", "attribute": "mi_risk", "operator": ">",
    ...                    "value": 0.1}, "transition": "S"}]},
    ...     "S": {"type": "SetAttribute", "attribute": "x", "value": 1}}}
    >>> _ = (d / "m.json").write_text(json.dumps(m))
    >>> s = scan(d)
    >>> sorted(s.unset_attributes()), sorted(s.attributes_set)
    (['mi_risk'], ['x'])
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CorpusScan", "scan"]

#: Lookup-table key columns the engine matches against time, not an attribute.
_TIME_COLUMNS = frozenset({"age", "time", "date"})
_EXPR = re.compile(r"#\{([^}]+)\}")


@dataclass
class CorpusScan:
    """Where each attribute and vital sign is read and set (module keys, e.g. ``heart/cabg``)."""

    attributes_read: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    attributes_set: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    vitals_read: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    vitals_set: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def unset_attributes(self) -> dict[str, set[str]]:
        """Attributes read by some module and set by none, with the modules that read them."""
        return {a: m for a, m in self.attributes_read.items() if a not in self.attributes_set}

    def unset_vitals(self) -> dict[str, set[str]]:
        """Vital signs read by some module and set by none."""
        return {v: m for v, m in self.vitals_read.items() if v not in self.vitals_set}


def _lookup_keys(path: Path, outcomes: set[str]) -> list[str]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), [])
    return [h.strip() for h in header if h.strip() and h.strip() not in outcomes
            and h.strip().lower() not in _TIME_COLUMNS]


def _walk(node, key: str, tables: Path, out: CorpusScan) -> None:
    if isinstance(node, list):
        for v in node:
            _walk(v, key, tables, out)
        return
    if isinstance(node, str):
        for name in _EXPR.findall(node):
            out.attributes_read[name.strip()].add(key)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    attr = node.get("attribute")
    if isinstance(attr, str):
        if kind in ("SetAttribute", "Counter"):
            out.attributes_set[attr].add(key)
        else:  # Attribute conditions, Observation values read from an attribute
            out.attributes_read[attr].add(key)
    if kind == "Attribute" and isinstance(node.get("to"), str):  # a Physiology output
        out.attributes_set[node["to"]].add(key)
    if isinstance(node.get("assign_to_attribute"), str):
        out.attributes_set[node["assign_to_attribute"]].add(key)
    if isinstance(node.get("referenced_by_attribute"), str):
        out.attributes_read[node["referenced_by_attribute"]].add(key)
    vs = node.get("vital_sign")
    if isinstance(vs, str):
        (out.vitals_set if kind == "VitalSign" else out.vitals_read)[vs].add(key)
    lt = node.get("lookup_table_transition")
    if isinstance(lt, list) and lt:
        name = lt[0].get("lookup_table_name")
        if isinstance(name, str):
            outcomes = {o.get("transition") for o in lt if isinstance(o, dict)}
            for col in _lookup_keys(tables / name, outcomes):
                out.attributes_read[col].add(key)
    for k, v in node.items():
        if k not in ("remarks", "display", "name"):
            _walk(v, key, tables, out)


def scan(folder: str | Path) -> CorpusScan:
    """Scan every module file under ``folder`` (``lookup_tables/`` holds the CSV tables).

    Args:
        folder: a Synthea-format module folder.

    Returns:
        A :class:`CorpusScan` of what the modules read and set.
    """
    root = Path(folder)
    tables = root / "lookup_tables"
    out = CorpusScan()
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root)
        if rel.parts[0] == "lookup_tables":
            continue
        with path.open(encoding="utf-8") as fh:
            _walk(json.load(fh).get("states", {}), rel.with_suffix("").as_posix(), tables, out)
    return out
