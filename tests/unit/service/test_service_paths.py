"""Every path a client names stays under the data root: '..', absolute paths and symlinks out are refused."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hygeia.errors import ConfigError
from hygeia.service._paths import PathRefused, check_name, relative, resolve


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "data" / "runs" / "demo").mkdir(parents=True)
    (tmp_path / "data" / "uploads").mkdir()
    (tmp_path / "data" / "uploads" / "a.csv").write_text("x\n1\n")
    (tmp_path / "secret.txt").write_text("secret")
    return tmp_path / "data"


@pytest.mark.parametrize(("path", "why"), [
    ("../secret.txt", "it goes up ('..')"),
    ("runs/../../secret.txt", "it goes up ('..')"),
    ("/etc/passwd", "it is absolute"),
    ("//etc/passwd", "it is absolute"),
    ("C:/Windows", "it is absolute"),
    ("runs\\..\\..\\secret.txt", "it holds a NUL byte or a backslash"),
    ("runs/\x00x", "it holds a NUL byte or a backslash"),
    ("runs/.demo.tmp-1234", "it names a hidden file"),
    ("service.db", "the service's database is not served"),
    ("service.db-wal", "the service's database is not served"),
    ("", "it is empty"),
])
def test_refused(root: Path, path: str, why: str) -> None:
    with pytest.raises(PathRefused, match=re.escape(why)):
        resolve(root, path)


def test_symlinks_out_of_the_root_are_refused(root: Path) -> None:
    os.symlink(root.parent / "secret.txt", root / "uploads" / "link.txt")
    os.symlink(root.parent, root / "uploads" / "up")
    with pytest.raises(PathRefused, match="leads out of the data root"):
        resolve(root, "uploads/link.txt")
    with pytest.raises(PathRefused, match="leads out of the data root"):
        resolve(root, "uploads/up/secret.txt")


def test_symlink_inside_the_root_is_followed(root: Path) -> None:
    os.symlink(root / "uploads" / "a.csv", root / "uploads" / "b.csv")
    assert resolve(root, "uploads/b.csv") == (root / "uploads" / "a.csv").resolve()


def test_accepted_and_must_exist(root: Path) -> None:
    assert resolve(root, "runs/demo") == root.resolve() / "runs" / "demo"
    assert resolve(root, "./uploads/a.csv", must_exist=True).read_text() == "x\n1\n"
    assert resolve(root, "uploads/new.csv") == root.resolve() / "uploads" / "new.csv"
    with pytest.raises(PathRefused, match="nothing is there"):
        resolve(root, "uploads/new.csv", must_exist=True)
    assert relative(root, root / "runs" / "demo") == "runs/demo"


@pytest.mark.parametrize("name", ["..", ".hidden", "a/b", "-rf", "", "x" * 101, "a b", "ä"])
def test_bad_names(name: str) -> None:
    with pytest.raises(ConfigError, match="is not allowed"):
        check_name(name)


def test_good_names() -> None:
    assert check_name("demo-1.v2_x") == "demo-1.v2_x"
