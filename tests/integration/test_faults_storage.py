"""Fault injection: a full disk and a read-only output (issue 21).

A full disk is a real one where the tests may mount file systems (root: a 384 KiB tmpfs), and
an ``OSError(ENOSPC)`` injected into the run writer's file writes everywhere else; a
read-only output is a tmpfs remounted read-only (root) or a folder without write permission.
Each asserts a clear error, the previous output unchanged and nothing half-written left.
"""

from __future__ import annotations

import builtins
import errno
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hygeia.core import storage
from hygeia.core.storage import hash_folder
from hygeia.errors import OutputError
from hygeia.population import generate


def _mount_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def _previous_run(folder: Path) -> tuple[Path, str]:
    out = folder / "run"
    generate(n=5, seed=1, shard_size=5, out=out, workers=1)
    return out, hash_folder(out)


def _assert_clean(folder: Path, out: Path, before: str) -> None:
    assert hash_folder(out) == before, "the previous run was changed"
    assert sorted(p.name for p in folder.iterdir()) == ["run"], "something half-written was left"


@pytest.fixture
def disk(tmp_path: Path):
    """A 384 KiB file system (None where this process cannot mount one)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if not _mount_tmpfs(mnt, "384k"):
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_real(disk: Path | None) -> None:
    if disk is None:
        pytest.skip("cannot mount a tmpfs here (not root); test_full_disk_injected covers the same path")
    out, before = _previous_run(disk)
    with pytest.raises(OutputError, match=re.escape("No space left on device. The disk is full")):
        generate(n=200, seed=2, shard_size=20, out=out, workers=1, overwrite=True)
    _assert_clean(disk, out, before)


def test_full_disk_injected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, before = _previous_run(tmp_path)
    written = []

    def full_after_two_shards(file, mode="r", *args, **kwargs):
        if "w" in mode and str(file).endswith(".parquet"):
            written.append(file)
            if len(written) > 4:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return builtins.open(file, mode, *args, **kwargs)

    monkeypatch.setattr(storage, "open", full_after_two_shards, raising=False)  # the run writer's file writes
    with pytest.raises(OutputError, match=re.escape("No space left on device. The disk is full")):
        generate(n=50, seed=2, shard_size=10, out=out, workers=1, overwrite=True)
    assert len(written) == 5
    _assert_clean(tmp_path, out, before)


def test_read_only_output(tmp_path: Path) -> None:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = _mount_tmpfs(mnt, "4m")
    try:
        out, before = _previous_run(mnt)
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        elif os.geteuid() != 0:
            mnt.chmod(0o555)
        else:
            pytest.skip("root without mount: permissions do not stop root from writing")
        with pytest.raises(OutputError, match=re.escape(f"cannot write the output folder {str(out)!r}")):
            generate(n=20, seed=2, shard_size=10, out=out, workers=1, overwrite=True)
        _assert_clean(mnt, out, before)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mnt)], check=False)
        else:
            mnt.chmod(0o755)
