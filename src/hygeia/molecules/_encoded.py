"""A file of molecules' encoded forms (SELFIES or SMILES), so training can go on without re-encoding.

The first line is a JSON header: the format, the representation, the encoder's version
and a SHA-256 digest of the SMILES in order; then one encoded string per line. A file
whose header does not match the molecules at hand is not used (and is rewritten).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from hygeia.core.atomic import write_text

FORMAT = "hygeia-encoded-molecules"
VERSION = 1


def _header(molecules: Sequence[str], representation: str) -> dict:
    digest = hashlib.sha256()
    for s in molecules:
        digest.update(s.encode("utf-8"))
        digest.update(b"\n")
    encoder = ""
    if representation == "selfies":
        import selfies

        encoder = f"selfies {selfies.__version__}"
    return {"format": FORMAT, "version": VERSION, "representation": representation, "encoder": encoder,
            "molecules": len(molecules), "sha256": digest.hexdigest()}


def read_encoded(path: str | Path, molecules: Sequence[str], representation: str) -> list[str] | None:
    """The encoded strings kept in ``path`` for exactly these ``molecules``, else ``None``."""
    path = Path(path)
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as fh:
        try:
            header = json.loads(fh.readline())
        except json.JSONDecodeError:
            return None
        if header != _header(molecules, representation):
            return None
        texts = fh.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    return texts if len(texts) == len(molecules) else None


def write_encoded(path: str | Path, molecules: Sequence[str], representation: str, texts: Sequence[str]) -> None:
    """Keep ``texts`` (the encoded ``molecules``) in ``path``, written atomically."""
    header = json.dumps(_header(molecules, representation), sort_keys=True)
    write_text(path, header + "\n" + "".join(t + "\n" for t in texts), what="encoded molecules")
