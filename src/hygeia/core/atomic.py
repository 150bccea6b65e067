"""The one atomic writer: write aside, swap, roll back.

Every Hygeia output — run folders, model folders, exports, reports, molecule files,
cached reference statistics — is written under a hidden temporary sibling of its
destination and swapped into place only when it is complete. A crash, a kill or an
error at any point leaves the destination holding either the previous output, whole,
or the new one, whole: never neither, never a mixture.

How the swap works:

- a file replaces a file with ``os.replace`` (one atomic ``rename``);
- a folder (or a file replacing a folder, or the reverse) is exchanged with the
  destination in one atomic ``renameat2(RENAME_EXCHANGE)`` call on Linux; the old
  output, now at the temporary name, is deleted afterwards;
- where the exchange is not available (another OS, a file system without it), the old
  output is first renamed to ``.NAME.old-XXXX`` and the new one renamed into place; a
  failure between the two renames puts the old one back, and a crash between them is
  repaired by :func:`recover`, which every writer runs on its destination first.

The writing process holds an exclusive ``flock`` on its temporary output until the swap
(the kernel drops it when the process dies, even by SIGKILL). A writer that creates the
temporary output itself (a DuckDB file, a folder another library makes) reserves only its
name, ``make_temp(..., create=False)``, and holds a lock file beside it,
``.NAME.tmp-XXXX.lock``, from the start. A temporary output and its companions
(``.NAME.tmp-XXXX.*``: that lock file, an export's journal, a database's write-ahead log)
are one temporary: they are deleted together. A temporary that no process holds is what a
writer killed outright left behind: the next successful write to the same destination
deletes it (:func:`sweep_abandoned`), and never one that a writer still holds.

Example:
    >>> import tempfile, pathlib
    >>> dest = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> with atomic_output(dest, folder=True) as tmp:
    ...     _ = (tmp / "spec.json").write_text("{}")
    >>> sorted(p.name for p in dest.iterdir())
    ['spec.json']
    >>> with atomic_output(dest / "notes.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (dest / "notes.txt").read_text()
    'hello'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import glob
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hygeia.errors import OutputError

try:  # POSIX advisory locks: the writer's hold on its temporary output
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, so nothing is ever swept
    fcntl = None  # type: ignore[assignment]

__all__ = ["atomic_output", "commit", "discard", "hold", "make_temp", "recover", "refuse_existing", "refuse_foreign",
           "release", "sweep_abandoned", "write_text"]

_TMP = ".tmp-"
_OLD = ".old-"
_TOKEN_HEX = 8  # the random part of a temporary's name: .NAME.tmp-XXXXXXXX
_LOCK = ".lock"


def _step(name: str) -> None:
    """Called after each step of a swap; tests replace it to kill the writer there."""


# -- the exchange system call --------------------------------------------------
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _load_renameat2() -> Callable[[bytes, bytes], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int

    def exchange(a: bytes, b: bytes) -> int:
        if fn(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE) == 0:
            return 0
        return ctypes.get_errno()

    return exchange


_exchange = _load_renameat2()


def _swap_in(tmp: Path, dest: Path) -> Path | None:
    """Put ``tmp`` at ``dest`` atomically; return where the old output now is (or None)."""
    if not os.path.lexists(dest):
        os.rename(tmp, dest)
        return None
    if tmp.is_file() and not tmp.is_symlink() and dest.is_file() and not dest.is_symlink():
        os.replace(tmp, dest)  # atomic for two files
        return None
    if _exchange is not None:
        err = _exchange(os.fsencode(tmp), os.fsencode(dest))
        if err == 0:
            return tmp  # the old output now sits at the temporary name
        # EINVAL/ENOSYS/EXDEV...: the file system cannot exchange; fall back to two renames
    old = dest.with_name(f".{dest.name}{_OLD}{secrets.token_hex(4)}")
    os.rename(dest, old)
    _step("old-moved-aside")
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(old, dest)  # roll back
        raise
    return old


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


# -- the writer's hold on its temporary output ----------------------------------
#: temporary path -> the descriptor whose ``flock`` says "a writer is at work here".
_HELD: dict[str, int] = {}
#: A temporary output younger than this is never swept: its writer may not hold it yet.
_SWEEP_MIN_AGE_S = 60.0


def _lock_file(tmp: Path) -> Path:
    """The lock file beside a temporary whose writer creates the output itself."""
    return tmp.with_name(tmp.name + _LOCK)


def _flock(path: Path) -> int | None:
    """An open descriptor of ``path`` with an exclusive flock on it; None if another process holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _hold(tmp: Path) -> bool:
    if fcntl is None:
        return True
    if str(tmp) in _HELD:
        return True
    lock = _lock_file(tmp)
    fd = _flock(lock if lock.exists() else tmp)
    if fd is None:
        return False
    _HELD[str(tmp)] = fd
    return True


def _release(tmp: Path) -> None:
    fd = _HELD.pop(str(tmp), None)
    if fd is not None:
        os.close(fd)


def release(tmp: str | os.PathLike[str]) -> None:
    """Let go of the writer's hold on a temporary output that is kept for later (an interrupted export).

    Nothing is deleted: the temporary stays for a process that continues it (:func:`hold`), and
    the next successful write to the same destination sweeps it (:func:`sweep_abandoned`).

    Example:
        >>> import tempfile, pathlib
        >>> tmp = make_temp(pathlib.Path(tempfile.mkdtemp()) / "out.csv", folder=False)
        >>> release(tmp)
        >>> tmp.exists(), hold(tmp)  # still there, and free to be taken again
        (True, True)
        >>> discard(tmp)
    """
    _release(Path(tmp))


def hold(tmp: str | os.PathLike[str]) -> bool:
    """Take the writer's hold on an existing temporary output (to resume writing it); False if another holds it.

    A temporary left by a writer killed outright is held by nobody; a process that continues
    it (``export --resume``) takes the hold first, so that no sweep deletes it while it works.
    :func:`commit` and :func:`discard` release it.

    Example:
        >>> import tempfile, pathlib
        >>> tmp = make_temp(pathlib.Path(tempfile.mkdtemp()) / "out.csv", folder=False)
        >>> hold(tmp)  # this process holds it already
        True
        >>> discard(tmp)
    """
    return _hold(Path(tmp))


def _family(tmp: Path) -> list[Path]:
    """A temporary output's companions beside it (``.NAME.tmp-XXXX.*``), the lock file last."""
    try:
        found = [p for p in tmp.parent.glob(glob.escape(tmp.name) + ".*") if p.name != tmp.name]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name.endswith(_LOCK))


def _remove_all(tmp: Path) -> None:
    """Delete a temporary output and its companions (the lock file last)."""
    _remove(tmp)
    for p in _family(tmp):
        _remove(p)


def sweep_abandoned(dest: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary siblings of ``dest`` that no writer holds any more; returns them.

    A writer killed outright (SIGKILL, the out-of-memory killer, a power cut) leaves its
    ``.NAME.tmp-*`` behind. The kernel released its lock when it died, so a sibling whose
    lock can be taken is abandoned. The lock is the one on the temporary output itself, or on
    its lock file ``.NAME.tmp-XXXX.lock`` where the writer creates the output itself
    (``make_temp(..., create=False)``). One held by a live writer, or younger than a minute
    (its writer may not have taken the lock yet), is left alone, with its companions
    (``.NAME.tmp-XXXX.*``). :func:`commit` runs this after every successful swap.

    Example:
        >>> import tempfile, pathlib
        >>> sweep_abandoned(pathlib.Path(tempfile.mkdtemp()) / "out")
        []
    """
    if fcntl is None:
        return []
    dest = Path(dest).expanduser().absolute()
    swept: list[Path] = []
    prefix = f".{dest.name}{_TMP}"
    try:
        candidates = list(dest.parent.glob(glob.escape(prefix) + "*"))
    except OSError:
        return swept
    groups: dict[str, list[Path]] = {}
    for p in candidates:  # one temporary and its companions: .NAME.tmp-XXXXXXXX[.suffix]
        groups.setdefault(p.name[:len(prefix) + _TOKEN_HEX], []).append(p)
    now = time.time()
    for base_name, members in sorted(groups.items()):
        base = dest.parent / base_name
        if str(base) in _HELD:
            continue
        lock = _lock_file(base)
        target = lock if os.path.lexists(lock) else base if os.path.lexists(base) else None
        try:
            if target is None:  # companions alone (the temporary went; its writer was killed before removing them)
                if any(now - p.lstat().st_mtime < _SWEEP_MIN_AGE_S for p in members):
                    continue
                fd = None
            else:
                if now - target.lstat().st_mtime < _SWEEP_MIN_AGE_S or target.is_symlink():
                    continue
                fd = _flock(target)
                if fd is None:  # a live writer holds it
                    continue
        except OSError:
            continue
        try:
            for p in sorted(members, key=lambda p: (p.name.endswith(_LOCK), p.name)):
                _remove(p)
            swept.append(base)
        finally:
            if fd is not None:
                os.close(fd)
    return swept


# -- public helpers ------------------------------------------------------------
def recover(dest: str | os.PathLike[str]) -> None:
    """Repair ``dest`` after a writer was killed mid-swap, and delete leftovers.

    If ``dest`` is missing and a ``.NAME.old-*`` sibling exists (a crash between the
    two renames of the fallback swap), that old output is put back; other ``.old-*``
    siblings are deleted. Temporary siblings (``.NAME.tmp-*``) are left alone here: they may
    belong to a writer still running, and never hold the only copy of anything (the
    abandoned ones go after the next successful write, :func:`sweep_abandoned`).
    """
    dest = Path(dest).expanduser().absolute()
    parent = dest.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{dest.name}{_OLD}*"), key=lambda p: p.stat().st_mtime if p.exists() else 0)
    if olds and not os.path.lexists(dest):
        os.rename(olds.pop(), dest)
    for p in olds:
        _remove(p)


def refuse_existing(dest: str | os.PathLike[str], *, overwrite: bool = False, what: str = "output") -> None:
    """Repair ``dest`` (:func:`recover`) and refuse it if it exists, is not an empty folder and ``overwrite`` is off.

    :func:`make_temp` checks this first; a writer that continues an interrupted temporary
    output instead of making one checks it alone.

    Raises:
        OutputError: ``dest`` exists, in the CLI's words (``--out``, ``--overwrite``).

    Example:
        >>> refuse_existing("/nonexistent/out")  # nothing there: fine
    """
    dest = Path(dest).expanduser().absolute()
    recover(dest)
    if os.path.lexists(dest) and not overwrite and not (dest.is_dir() and not any(dest.iterdir())):
        raise OutputError(f"{what} {str(dest)!r} already exists. Choose another --out, or pass --overwrite "
                          "to replace it.")


def make_temp(dest: str | os.PathLike[str], *, folder: bool, overwrite: bool = False, what: str = "output",
              create: bool = True) -> Path:
    """Create the hidden temporary sibling of ``dest`` that :func:`commit` will swap in.

    Args:
        dest: the final path.
        folder: make an empty folder (True) or reserve an empty file (False). The name is
            hidden and ends in ``.tmp-XXXX``, so no tool mistakes it for a finished output
            (pass an open file to writers that would append a suffix, such as ``np.savez``).
        overwrite: allow replacing an existing ``dest``; without it an existing
            non-empty ``dest`` is refused before anything is written.
        what: what the output is, for error messages ("model folder", "report"...).
        create: False to only reserve the name, for a writer that creates the file or folder
            itself (``folder`` is then ignored): nothing is made at the returned path, and the
            hold is taken on the lock file ``.NAME.tmp-XXXX.lock`` beside it, so no sweep
            deletes what the writer makes there however long it works.

    Example:
        >>> import tempfile, pathlib
        >>> dest = pathlib.Path(tempfile.mkdtemp()) / "cdm.duckdb"
        >>> tmp = make_temp(dest, folder=False, create=False)
        >>> tmp.exists(), sorted(p.name[-5:] for p in dest.parent.iterdir())
        (False, ['.lock'])
        >>> _ = tmp.write_text("made by the writer")
        >>> commit(tmp, dest).read_text(), sorted(p.name for p in dest.parent.iterdir())
        ('made by the writer', ['cdm.duckdb'])

    Raises:
        OutputError: ``dest`` exists (without ``overwrite``) or its folder cannot be written. Its
            message speaks the CLI's words (``--out``, ``--overwrite``): in Python these are the
            destination argument and ``overwrite=True``.
    """
    dest = Path(dest).expanduser().absolute()
    refuse_existing(dest, overwrite=overwrite, what=what)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}{_TMP}{secrets.token_hex(_TOKEN_HEX // 2)}")
        mask = os.umask(0)
        os.umask(mask)
        if not create:
            fd = os.open(_lock_file(tmp), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~mask)
            os.close(fd)
            if os.path.lexists(tmp):  # pragma: no cover - a 32-bit random name already taken
                os.unlink(_lock_file(tmp))
                raise FileExistsError(errno.EEXIST, "temporary name taken", str(tmp))
        elif folder:
            tmp.mkdir(mode=0o777 & ~mask)
        else:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~mask)
            os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write the {what} {str(dest)!r}: {exc.strerror or exc}. "
                          "Choose a path in a folder you can write to, and check free disk space.") from None
    _hold(tmp)
    return tmp


def commit(tmp: str | os.PathLike[str], dest: str | os.PathLike[str], *, what: str = "output") -> Path:
    """Swap the finished ``tmp`` into ``dest`` and delete the old output; returns ``dest``.

    On an error the old output stays (or is put back) at ``dest`` and ``tmp`` is deleted.
    """
    tmp, dest = Path(tmp), Path(dest).expanduser().absolute()
    _step("written")
    try:
        old = _swap_in(tmp, dest)
    except OSError as exc:
        _release(tmp)
        _remove_all(tmp)
        raise OutputError(f"cannot move the finished {what} into {str(dest)!r}: {exc.strerror or exc}. "
                          "The previous output, if any, is unchanged.") from None
    _release(tmp)
    _step("swapped")
    if old is not None:
        _remove(old)
    for companion in _family(tmp):  # its lock file, a journal: the temporary is gone
        _remove(companion)
    _step("cleaned")
    sweep_abandoned(dest)
    return dest


def discard(tmp: str | os.PathLike[str] | None) -> None:
    """Delete a temporary output and its companions beside it (idempotent)."""
    if tmp is not None:
        _release(Path(tmp))
        _remove_all(Path(tmp))


@contextmanager
def atomic_output(dest: str | os.PathLike[str], *, folder: bool = False, overwrite: bool = False,
                  what: str = "output") -> Iterator[Path]:
    """Write ``dest`` atomically: yields a temporary path; swaps it in if the block succeeds.

    Args:
        dest: the file or folder to write.
        folder: yield an empty folder (True) or an empty file path (False).
        overwrite: replace an existing ``dest``.
        what: what the output is, named in errors.

    Raises:
        OutputError: ``dest`` exists (without ``overwrite``) or cannot be written.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
        >>> with atomic_output(out) as tmp:
        ...     _ = tmp.write_text("x\\n1\\n")
        >>> out.read_text()
        'x\\n1\\n'
    """
    tmp = make_temp(dest, folder=folder, overwrite=overwrite, what=what)
    try:
        yield tmp
    except BaseException:
        discard(tmp)
        raise
    commit(tmp, dest, what=what)


def refuse_foreign(dest: str | os.PathLike[str], marker: str, looks_like: str) -> None:
    """Refuse to replace a non-empty folder that lacks ``marker``: it is not one of ours.

    ``overwrite`` replaces what Hygeia wrote before (a run folder with its ``run.json``, a
    notes folder with its ``manifest.json``), never a folder of someone else's files.

    Raises:
        OutputError: ``dest`` is a non-empty folder without ``dest/marker``.

    Example:
        >>> refuse_foreign("/nonexistent/folder", "run.json", "a Hygeia output")  # nothing there: fine
    """
    dest = Path(dest)
    if dest.is_dir() and any(dest.iterdir()) and not (dest / marker).is_file():
        raise OutputError(f"refusing to overwrite {str(dest)!r}: it is not empty and does not look like "
                          f"{looks_like} (no {marker}). Choose another --out folder, or delete it yourself.")


def write_text(dest: str | os.PathLike[str], text: str, *, overwrite: bool = True, what: str = "file") -> Path:
    """Write ``text`` (UTF-8) to ``dest`` atomically; returns ``dest``."""
    with atomic_output(dest, overwrite=overwrite, what=what) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(dest)

