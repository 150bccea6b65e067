"""The one atomic writer: killed at every step, the destination is the old output or the new one."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hygeia.core import atomic
from hygeia.core.atomic import atomic_output, recover, write_text
from hygeia.errors import OutputError

OLD = {"a.txt": "old a", "b.txt": "old b"}
NEW = {"a.txt": "new a", "b.txt": "new b", "c.txt": "new c"}

# The child writes NEW over OLD and kills itself (SIGKILL, as the OOM killer would) at one step.
_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from hygeia.core import atomic

    dest, kill_at, mode, fallback = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    if fallback:
        atomic._exchange = None          # the two-rename path of systems without renameat2

    def step(name):
        if name == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    atomic._step = step
    new = {"a.txt": "new a", "b.txt": "new b", "c.txt": "new c"}
    if mode == "folder":
        with atomic.atomic_output(dest, folder=True, overwrite=True) as tmp:
            for i, (name, text) in enumerate(new.items()):
                (tmp / name).write_text(text)
                if kill_at == "mid-write" and i == 1:
                    os.kill(os.getpid(), signal.SIGKILL)
    else:
        with atomic.atomic_output(dest, overwrite=True) as tmp:
            tmp.write_text("new file")
            if kill_at == "mid-write":
                os.kill(os.getpid(), signal.SIGKILL)
    """
)

FOLDER_STEPS = ["mid-write", "written", "old-moved-aside", "swapped", "cleaned", "never"]


def _make_old_folder(dest: Path) -> None:
    dest.mkdir()
    for name, text in OLD.items():
        (dest / name).write_text(text)


def _content(dest: Path) -> dict[str, str] | None:
    if not dest.is_dir():
        return None
    return {p.name: p.read_text() for p in sorted(dest.iterdir())}


def _run_child(dest: Path, kill_at: str, mode: str, fallback: bool) -> int:
    res = subprocess.run([sys.executable, "-c", _CHILD, str(dest), kill_at, mode, "1" if fallback else "0"],
                         capture_output=True, text=True, timeout=60)
    return res.returncode


@pytest.mark.parametrize(("fallback", "kill_at"), [
    *[(False, s) for s in FOLDER_STEPS if s != "old-moved-aside"],  # the exchange path has no such step
    *[(True, s) for s in FOLDER_STEPS],
])
def test_folder_killed_at_each_step_is_old_or_new(tmp_path: Path, kill_at: str, fallback: bool) -> None:
    if not fallback and atomic._exchange is None:
        pytest.skip("renameat2 is not available on this system")
    dest = tmp_path / "out"
    _make_old_folder(dest)
    rc = _run_child(dest, kill_at, "folder", fallback)
    assert rc == (0 if kill_at == "never" else -signal.SIGKILL)
    after_kill = _content(dest)
    if fallback and kill_at == "old-moved-aside":
        # the one window of the fallback: the old output sits aside until recover() puts it back
        assert after_kill is None and len(list(tmp_path.glob(".out.old-*"))) == 1
    else:
        assert after_kill in (OLD, NEW)  # whole, right after the kill
    recover(dest)  # what every writer runs on its destination first
    expected = OLD if kill_at in ("mid-write", "written", "old-moved-aside") else NEW
    assert _content(dest) == expected
    assert not list(tmp_path.glob(".out.old-*"))
    # the next write after a crash works and leaves the new output
    with atomic_output(dest, folder=True, overwrite=True) as tmp:
        (tmp / "z.txt").write_text("z")
    assert _content(dest) == {"z.txt": "z"}


@pytest.mark.parametrize("kill_at", ["mid-write", "written", "swapped", "never"])
def test_file_killed_at_each_step_is_old_or_new(tmp_path: Path, kill_at: str) -> None:
    dest = tmp_path / "table.csv"
    dest.write_text("old file")
    rc = _run_child(dest, kill_at, "file", False)
    assert rc == (0 if kill_at == "never" else -signal.SIGKILL)
    assert dest.read_text() == ("old file" if kill_at in ("mid-write", "written") else "new file")


_HOLDER = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from hygeia.core import atomic

    tmp = atomic.make_temp(Path(sys.argv[1]), folder=sys.argv[2] == "folder", overwrite=True)
    (tmp / "part.txt").write_text("half") if tmp.is_dir() else tmp.write_text("half")
    print(tmp, flush=True)
    if sys.argv[3] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("mode", ["folder", "file"])
def test_a_killed_writers_temporary_goes_with_the_next_write_a_live_ones_stays(tmp_path: Path, mode: str) -> None:
    dest = tmp_path / ("out" if mode == "folder" else "out.csv")
    dead = subprocess.run([sys.executable, "-c", _HOLDER, str(dest), mode, "die"], capture_output=True, text=True,
                          timeout=60)
    assert dead.returncode == -signal.SIGKILL
    abandoned = Path(dead.stdout.strip())
    live = subprocess.Popen([sys.executable, "-c", _HOLDER, str(dest), mode, "live"], stdout=subprocess.PIPE, text=True)
    try:
        held = Path(live.stdout.readline().strip())
        assert abandoned.exists() and held.exists()
        for tmp in (abandoned, held):  # old enough to be looked at (a fresh one is never swept)
            os.utime(tmp, (1_000_000_000, 1_000_000_000))
        recover(dest)  # a new writer starting leaves both alone: the dead one may be resumable
        assert abandoned.exists()
        with atomic_output(dest, folder=mode == "folder", overwrite=True) as tmp:
            (tmp / "z.txt").write_text("z") if mode == "folder" else tmp.write_text("z")
        assert not abandoned.exists()  # its writer was killed outright: nobody holds it
        assert held.exists()  # its writer is still at work
    finally:
        live.kill()
        live.wait()
        live.stdout.close()
    assert atomic.sweep_abandoned(dest) == [held]  # once its writer is gone


_RESERVER = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from hygeia.core import atomic

    tmp = atomic.make_temp(Path(sys.argv[1]), folder=False, overwrite=True, create=False)
    tmp.mkdir()  # the writer makes its own output at the reserved name, as an export does
    (tmp / "part.txt").write_text("half")
    tmp.with_name(tmp.name + ".journal").write_text("{}")  # a companion beside it
    print(tmp, flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)
    """
)


def test_a_live_export_temporary_older_than_a_minute_is_never_swept_an_abandoned_one_is(tmp_path: Path) -> None:
    dest = tmp_path / "export"
    dead = subprocess.run([sys.executable, "-c", _RESERVER, str(dest), "die"], capture_output=True, text=True,
                          timeout=60)
    assert dead.returncode == -signal.SIGKILL
    abandoned = Path(dead.stdout.strip())
    live = subprocess.Popen([sys.executable, "-c", _RESERVER, str(dest), "live"], stdout=subprocess.PIPE, text=True)
    try:
        held = Path(live.stdout.readline().strip())
        assert abandoned.is_dir() and held.is_dir()
        for p in tmp_path.iterdir():  # every temporary and companion is hours old
            os.utime(p, (1_000_000_000, 1_000_000_000))
        with atomic_output(dest, folder=True, overwrite=True) as tmp:  # another write to the same destination
            (tmp / "z.txt").write_text("z")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["export", held.name, held.name + ".journal", held.name + ".lock"]), "the abandoned one went, whole"
        assert (held / "part.txt").read_text() == "half"
    finally:
        live.kill()
        live.wait()
        live.stdout.close()
    assert atomic.sweep_abandoned(dest) == [held]  # once its writer is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_a_reserved_name_is_released_on_discard(tmp_path: Path) -> None:
    tmp = atomic.make_temp(tmp_path / "cdm.duckdb", folder=False, create=False)
    assert not tmp.exists() and atomic.hold(tmp)
    tmp.write_text("made by the writer")
    atomic.discard(tmp)
    assert list(tmp_path.iterdir()) == []


def test_error_in_the_block_keeps_the_old_output_and_leaves_no_temporary(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    _make_old_folder(dest)
    with pytest.raises(ZeroDivisionError):
        with atomic_output(dest, folder=True, overwrite=True) as tmp:
            (tmp / "a.txt").write_text("half")
            1 / 0
    assert _content(dest) == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_swap_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "out"
    _make_old_folder(dest)
    monkeypatch.setattr(atomic, "_exchange", None)
    real_rename = os.rename

    def rename(src: object, dst: object) -> None:
        if ".tmp-" in str(src):  # the second rename of the fallback fails
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OutputError, match=re.escape("No space left on device. The previous output, if any, is unchanged.")):
        with atomic_output(dest, folder=True, overwrite=True) as tmp:
            (tmp / "a.txt").write_text("new")
    assert _content(dest) == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_existing_output_is_refused_without_overwrite(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    _make_old_folder(dest)
    with pytest.raises(OutputError, match=re.escape(f"output {str(dest)!r} already exists. Choose another --out, "
                                                    "or pass --overwrite to replace it.")):
        with atomic_output(dest, folder=True):
            pass
    assert _content(dest) == OLD


def test_unwritable_parent_is_named(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("x")
        dest = blocker / "out"  # a file where a folder should be: fails for root too
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        dest = ro / "out"
    with pytest.raises(OutputError, match=re.escape(f"cannot write the report {str(dest)!r}")):
        write_text(dest, "x", what="report")


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "f.txt", "x")
        with atomic_output(tmp_path / "d", folder=True) as tmp:
            (tmp / "x").write_text("x")
    finally:
        os.umask(mask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


def test_every_writer_goes_through_the_one_helper() -> None:
    """No module but core/atomic.py renames, replaces or makes temporary outputs of its own."""
    root = Path(atomic.__file__).resolve().parents[1]
    pattern = re.compile(r"\bos\.(replace|rename)\(|\.rename\(|\bmkstemp\(|\bmkdtemp\(|shutil\.move\(")
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "atomic.py" and path.parent.name == "core":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and ">>>" not in line:
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not offenders, "write through hygeia.core.atomic instead:\n" + "\n".join(offenders)
