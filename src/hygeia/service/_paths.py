"""Every path a client names is resolved under the data root, or refused.

A client names files by paths relative to the data root (``runs/demo``, ``uploads/cohort.csv``,
``jobs/3f2a9c01b4de/report``). :func:`resolve` refuses absolute paths, ``..`` parts, hidden parts
(temporary outputs being written) and anything that, once symlinks are followed, lies outside the
data root. Names (of runs, uploads, output files) are single path parts of safe characters
(:func:`check_name`).

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> resolve(root, "runs/demo") == root.resolve() / "runs" / "demo"
    True
    >>> try:
    ...     resolve(root, "../etc/passwd")
    ... except PathRefused as exc:
    ...     print(exc)
    the path '../etc/passwd' is refused: it goes up ('..'). Name a path under the data root, such as runs/NAME or uploads/FILE.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from hygeia.errors import ConfigError

__all__ = ["PathRefused", "check_name", "relative", "resolve"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_PRIVATE = ("service.db",)  # the job store (token hashes, audit log) is never served


class PathRefused(ConfigError):
    """A client's path lies outside the data root, or names something the service does not serve."""


def _refuse(path: str, why: str) -> PathRefused:
    return PathRefused(f"the path {path!r} is refused: {why}. Name a path under the data root, "
                       "such as runs/NAME or uploads/FILE.")


def check_name(name: str, what: str = "name") -> str:
    """``name`` if it is one safe path part (letters, digits, ``.``, ``_``, ``-``; no leading dot).

    Raises:
        ConfigError: otherwise.

    Example:
        >>> check_name("demo-1")
        'demo-1'
    """
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise ConfigError(f"{what} {name!r} is not allowed: use 1-100 letters, digits, '.', '_' or '-', "
                          "not starting with '.' or '-'. Pass e.g. demo-1.")
    return name


def resolve(root: Path, path: str, *, must_exist: bool = False) -> Path:
    """The absolute path of ``path`` (relative to ``root``), following symlinks, checked to lie under ``root``.

    Args:
        root: the data root.
        path: a relative path with ``/`` separators.
        must_exist: refuse a path that does not exist.

    Raises:
        PathRefused: an absolute path, a ``..`` or hidden part, a NUL byte or backslash, a symlink out of
            ``root``, the service's own database, or (with ``must_exist``) a missing path.
    """
    if not isinstance(path, str) or not path.strip():
        raise _refuse(str(path), "it is empty")
    if "\x00" in path or "\\" in path:
        raise _refuse(path, "it holds a NUL byte or a backslash")
    pure = PurePosixPath(path)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", path):
        raise _refuse(path, "it is absolute")
    parts = [p for p in pure.parts if p != "."]
    if ".." in parts:
        raise _refuse(path, "it goes up ('..')")
    if any(p.startswith(".") for p in parts):
        raise _refuse(path, "it names a hidden file")
    if parts and parts[0].startswith(_PRIVATE):
        raise _refuse(path, "the service's database is not served")
    root = root.resolve()
    target = root.joinpath(*parts).resolve()
    if target != root and not target.is_relative_to(root):
        raise _refuse(path, "it leads out of the data root (a symbolic link)")
    if must_exist and not target.exists():
        raise _refuse(path, "nothing is there")
    return target


def relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root``, with ``/`` separators.

    Example:
        >>> relative(Path("/data"), Path("/data/runs/demo"))
        'runs/demo'
    """
    return Path(path).relative_to(root).as_posix()
