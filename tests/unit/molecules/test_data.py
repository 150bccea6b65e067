"""Benchmark molecule sets from installed wheels, and reading a user's SMILES files."""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path

import pytest

pytest.importorskip("rdkit")

from hygeia.errors import ConfigError, DataValidationError, MissingExtraError  # noqa: E402
from hygeia.molecules import data  # noqa: E402
from hygeia.molecules.data import canonical, moses_split, read_smiles, zinc250k  # noqa: E402


def test_moses_splits_have_their_published_sizes() -> None:
    test = moses_split("test")
    assert len(test) == 176_074
    assert len(moses_split("test_scaffolds")) == 176_225
    assert test[0] == "CC1C2CCC(C2)C1CN(CCO)C(=O)c1ccc(Cl)cc1"
    assert all(isinstance(s, str) and s and s != "SMILES" for s in test[:100])


@pytest.mark.slow
def test_moses_train_size() -> None:
    train = moses_split("train")
    assert len(train) == 1_584_663
    assert train[0] == "CCCS(=O)c1ccc2[nH]c(=NC(=O)OC)[nH]c2c1"


def test_unknown_moses_split_is_refused() -> None:
    with pytest.raises(ConfigError, match=re.escape("unknown MOSES split 'valid'")):
        moses_split("valid")


def test_missing_molsets_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name, *a: None if name == "moses" else real(name, *a))
    with pytest.raises(MissingExtraError, match=re.escape("pip install --no-deps molsets==0.3.1")):
        moses_split("test")


def test_zinc250k() -> None:
    zinc = zinc250k()
    assert len(zinc) == 249_456
    assert all(s == s.strip() and s for s in zinc[:1000])


def test_canonical() -> None:
    assert canonical("OC1=CC=CC=C1") == "Oc1ccccc1"
    assert canonical("c1ccccc1O") == canonical("Oc1ccccc1")
    for bad in ("C1CC", "not smiles", "", "   ", None):
        assert canonical(bad) is None


def test_read_smi_with_names_comments_and_header(tmp_path: Path) -> None:
    p = tmp_path / "mols.smi"
    p.write_text("smiles name\n# a comment\nOC1=CC=CC=C1 phenol\n\nCCO\tethanol\nC(=O)O\n")
    assert read_smiles(p) == ["Oc1ccccc1", "CCO", "O=CO"]


def test_read_csv_with_a_smiles_column(tmp_path: Path) -> None:
    p = tmp_path / "mols.csv"
    p.write_text('id,SMILES,activity\n1,CCO,0.5\n2,"C1=CC=CC=C1",1.2\n')
    assert read_smiles(p) == ["CCO", "c1ccccc1"]


def test_read_gzipped_txt(tmp_path: Path) -> None:
    p = tmp_path / "mols.txt.gz"
    p.write_bytes(gzip.compress(b"CCN\nCCC\n"))
    assert read_smiles(p) == ["CCN", "CCC"]


def test_invalid_lines_are_named_by_line_number(tmp_path: Path) -> None:
    p = tmp_path / "mols.smi"
    p.write_text("CCO\nC1CC broken\nc1ccccc1\nXYZ\n")
    with pytest.raises(DataValidationError) as info:
        read_smiles(p)
    msg = str(info.value)
    assert f"{p}:2: 'C1CC' is not a valid SMILES (RDKit could not parse it)" in msg
    assert f"{p}:4: 'XYZ' is not a valid SMILES" in msg
    assert "2 of 4 lines" in msg
    assert ":1:" not in msg and ":3:" not in msg


def test_invalid_csv_row_names_its_line(tmp_path: Path) -> None:
    p = tmp_path / "mols.csv"
    p.write_text("smiles\nCCO\nC(\n")
    with pytest.raises(DataValidationError, match=re.escape(f"{p}:3: 'C(' is not a valid SMILES")):
        read_smiles(p)


def test_many_invalid_lines_are_capped_with_a_count(tmp_path: Path) -> None:
    p = tmp_path / "mols.smi"
    p.write_text("\n".join(["CCO"] + ["C1CC"] * 30) + "\n")
    with pytest.raises(DataValidationError) as info:
        read_smiles(p)
    assert len(info.value.problems) == 21
    assert info.value.problems[-1] == "... and 10 more"
    assert info.value.problems[0].startswith(f"{p}:2:")


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "smiles\n"])
def test_empty_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    p = tmp_path / "empty.smi"
    p.write_text(content)
    with pytest.raises(DataValidationError, match="empty molecule file"):
        read_smiles(p)


def test_empty_csv_and_missing_column(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_text("smiles\n")
    with pytest.raises(DataValidationError, match="empty molecule file"):
        read_smiles(p)
    q = tmp_path / "nocol.csv"
    q.write_text("id,mol\n1,CCO\n")
    with pytest.raises(DataValidationError, match=re.escape("no 'smiles' column")):
        read_smiles(q)


def test_missing_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="does not exist"):
        read_smiles(tmp_path / "nope.smi")
    p = tmp_path / "mols.sdf"
    p.write_text("CCO\n")
    with pytest.raises(DataValidationError, match=re.escape("unknown extension '.sdf'")):
        read_smiles(p)
