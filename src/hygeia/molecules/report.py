"""Write molecules with their scores: SMILES, CSV, SDF, and a self-contained HTML report.

Every writer goes through a temporary name and renames at the end, so an
interrupted or failed write leaves nothing.

Example:
    >>> import pandas as pd, tempfile, os
    >>> table = pd.DataFrame({"smiles": ["CCO", "c1ccccc1O"], "score": [0.4, 0.5]})
    >>> path = write_molecules(table, os.path.join(tempfile.mkdtemp(), "mols.sdf"))
    >>> path.read_text().count("$$$$")
    2
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from hygeia.core.atomic import atomic_output
from hygeia.errors import ConfigError

__all__ = ["MOLECULE_FORMATS", "grid_png", "write_molecules", "write_report"]

MOLECULE_FORMATS = (".smi", ".csv", ".sdf")


def write_molecules(table: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a table with a ``smiles`` column as ``.smi`` (one SMILES per line), ``.csv`` or ``.sdf``.

    In SDF every other column becomes a data field of its molecule; rows whose
    SMILES does not parse are left out of the SDF.
    """
    from rdkit import Chem, rdBase

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in MOLECULE_FORMATS:
        raise ConfigError(f"output {str(out)!r} must end in one of {', '.join(MOLECULE_FORMATS)}")
    if "smiles" not in table.columns:
        raise ConfigError(f"the table to write has no 'smiles' column (columns: {list(table.columns)})")
    with atomic_output(out, overwrite=overwrite, what="file") as tmp:
        if suffix == ".smi":
            tmp.write_text("".join(f"{s}\n" for s in table["smiles"]), encoding="utf-8")
        elif suffix == ".csv":
            table.to_csv(tmp, index=False)
        else:
            writer = Chem.SDWriter(str(tmp))
            try:
                with rdBase.BlockLogs():
                    for row in table.itertuples(index=False):
                        values = row._asdict()
                        mol = Chem.MolFromSmiles(values["smiles"]) if isinstance(values["smiles"], str) else None
                        if mol is None:
                            continue
                        mol.SetProp("_Name", values["smiles"])
                        for key, value in values.items():
                            if key != "smiles" and value is not None and value == value:
                                mol.SetProp(str(key), str(value))
                        writer.write(mol)
            finally:
                writer.close()
    return out


def grid_png(smiles: list[str], legends: list[str], *, per_row: int = 5, size: int = 220) -> bytes:
    """A PNG grid drawing of the molecules (RDKit's drawing), with one legend each."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import Draw

    with rdBase.BlockLogs():
        pairs = [(Chem.MolFromSmiles(s), lg) for s, lg in zip(smiles, legends)]
    pairs = [(m, lg) for m, lg in pairs if m is not None]
    if not pairs:
        return b""
    image = Draw.MolsToGridImage(
        [m for m, _ in pairs], molsPerRow=per_row, subImgSize=(size, size), legends=[lg for _, lg in pairs]
    )
    if isinstance(image, bytes):
        return image
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_report(
    path: str | os.PathLike[str], *, title: str, top: pd.DataFrame, summary: dict[str, Any], overwrite: bool = False
) -> Path:
    """A self-contained HTML report: the summary, a grid image of the top molecules and their table."""
    shown = top.head(20)
    legends = [f"#{i + 1}  score {row.score:.3f}" for i, row in enumerate(shown.itertuples())]
    png = grid_png(list(shown["smiles"]), legends)
    img = (
        f'<img alt="top molecules" src="data:image/png;base64,{base64.b64encode(png).decode()}">' if png else "<p>(no valid molecule)</p>"
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in shown.itertuples(index=False)
    )
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left}}pre{{background:#f6f6f6;padding:1em}}</style></head>
<body><h1>{html.escape(title)}</h1>
<h2>Summary</h2><pre>{html.escape(json.dumps(summary, indent=2, default=str))}</pre>
<h2>Top molecules</h2>{img}
<h2>Scores</h2><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
</body></html>
"""
    out = Path(path)
    with atomic_output(out, overwrite=overwrite, what="file") as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
