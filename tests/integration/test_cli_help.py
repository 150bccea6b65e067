"""Every command has examples and help; every option says what it does; long commands take -q."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from hygeia.cli.main import main


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        out.append((f"{prefix}{name}", cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix}{name} ")
    return out


COMMANDS = _commands(main)
LONG = ["generate", "export", "import-fhir", "evaluate", "fit", "sample", "molecules train", "molecules sample",
        "molecules score", "molecules optimize", "molecules benchmark", "notes write"]


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_examples_and_option_help(name: str, cmd: click.Command) -> None:
    assert cmd.help, f"'hygeia {name}' has no help text"
    assert cmd.epilog and "hygeia " in cmd.epilog and "Example" in cmd.epilog, f"'hygeia {name}' has no examples"
    bare = [p.name for p in cmd.params if isinstance(p, click.Option) and not p.help]
    assert bare == [], f"options of 'hygeia {name}' without help: {bare}"
    res = CliRunner().invoke(main, [*name.split(), "--help"])
    assert res.exit_code == 0 and "Example" in res.output


@pytest.mark.parametrize("name", LONG)
def test_long_commands_take_quiet(name: str) -> None:
    cmd = dict(COMMANDS)[name]
    opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
    assert {"-q", "--quiet"} <= opts


@pytest.mark.parametrize("name", [n for n, c in COMMANDS if any(p.name == "seed" for p in c.params)])
def test_one_seed_default_fresh_entropy_recorded(name: str) -> None:
    seed = next(p for p in dict(COMMANDS)[name].params if p.name == "seed")
    assert seed.default is None and "fresh random" in (seed.help or ""), f"'hygeia {name} --seed': {seed.help}"
