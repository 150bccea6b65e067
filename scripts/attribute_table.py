"""Print the Markdown table of attributes a module corpus reads and no module sets, with who supplies each.

Usage::

    .venv/bin/python scripts/attribute_table.py [MODULE_FOLDER]   # default: Synthea's corpus shipped with Hygeia

The output is the table in ``docs/population.md`` ("Attributes the lifecycle supplies").
"""

from __future__ import annotations

import sys
from pathlib import Path

from hygeia.population._attributes import LIFECYCLE_ATTRIBUTES, NEVER_SET, NOT_SUPPLIED
from hygeia.population._corpus_scan import scan


def table(folder: str | Path) -> str:
    """The Markdown table for the corpus in ``folder``."""
    s = scan(folder)
    lines = ["| Attribute | Read by (modules) | Supplied by | Synthea sets it in |", "|---|---|---|---|"]
    for name, readers in sorted(s.unset_attributes().items(), key=lambda kv: kv[0].lower()):
        mods = ", ".join(sorted(readers)[:3]) + (f" (+{len(readers) - 3})" if len(readers) > 3 else "")
        if name in LIFECYCLE_ATTRIBUTES:
            who, java = LIFECYCLE_ATTRIBUTES[name]
        elif name in NOT_SUPPLIED:
            who, java = "**not supplied yet** (module default applies)", NOT_SUPPLIED[name]
        elif name in NEVER_SET:
            who, java = "nobody (allow-listed)", NEVER_SET[name]
        else:
            who, java = "**UNKNOWN**", "?"
        lines.append(f"| `{name}` | {mods} | {who} | {java} |")
    return "\n".join(lines)


if __name__ == "__main__":
    from hygeia.core.config import BUILTIN_MODULE_FOLDERS

    print(table(sys.argv[1] if len(sys.argv) > 1 else BUILTIN_MODULE_FOLDERS["synthea"]))
