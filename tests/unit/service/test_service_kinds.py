"""Job kinds are thin over the CLI: every kind's command exists, its params model offers the command's own
parameters (never the hidden ones), paths go under the data root, and the server's scheduler reaches generate."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from hygeia.cli.main import main
from hygeia.errors import ConfigError
from hygeia.service import ServiceSettings
from hygeia.service._kinds import (
    HIDE,
    KINDS,
    build_args,
    command_of,
    output_of,
    params_model,
)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_is_a_command_and_its_model_its_options(kind: str) -> None:
    cmd = command_of(kind)
    fields = params_model(kind).model_fields
    names = {KINDS[kind].rename.get(p.name, p.name) for p in cmd.params}
    hidden = {KINDS[kind].rename.get(p.name, p.name) for p in cmd.params
              if KINDS[kind].roles.get(p.name) in (HIDE, "scheduler") or p.name == "quiet"}
    assert set(fields) == names - hidden
    assert "quiet" not in fields and "omop_url" not in fields  # no progress switch, no outside database
    if kind == "notes-summarize":
        assert "backend" not in fields and "model" not in fields  # no outside language-model server


def test_scheduler_reaches_generate_and_hidden_params_are_refused(tmp_path: Path) -> None:
    s = ServiceSettings(data_root=tmp_path, scheduler="tcp://127.0.0.1:8786")
    args = build_args("generate", {"n": 5, "name": "demo", "modules": ["synthea"]}, s, "0123456789ab")
    assert args[args.index("--scheduler") + 1] == "tcp://127.0.0.1:8786"
    assert args[args.index("--modules") + 1] == "synthea"  # a name the command knows
    with pytest.raises(ConfigError, match=re.escape("unknown parameter(s) omop_url, workers")):
        build_args("generate", {"n": 5, "name": "demo", "workers": 8, "omop_url": "postgresql://x"}, s, "0" * 12)
    with pytest.raises(ConfigError, match=re.escape("'name' (the run's name under runs/) is required")):
        build_args("generate", {"n": 5}, s, "0" * 12)


def test_outputs_lie_under_the_data_root(tmp_path: Path) -> None:
    s = ServiceSettings(data_root=tmp_path)
    root = s.data_root
    assert output_of("generate", {"n": 1, "name": "a"}, s, "j1") == root / "runs" / "a"
    assert output_of("export", {"run": "a", "fmt": "omop"}, s, "j1") == root / "jobs" / "j1" / "omop.duckdb"
    assert output_of("export", {"run": "a", "fmt": "fhir", "out": "b"}, s, "j1") == root / "jobs" / "j1" / "b"
    assert output_of("tutor-case", {"disease": "x"}, s, "j1") == root / "tutor" / "cases" / "j1.json"
    assert output_of("images-link", {"run": "a"}, s, "j1") is None
    with pytest.raises(ConfigError, match="is not allowed"):
        output_of("export", {"run": "a", "fmt": "fhir", "out": "../b"}, s, "j1")


def test_params_are_checked_by_the_commands_parser(tmp_path: Path) -> None:
    s = ServiceSettings(data_root=tmp_path)
    with pytest.raises(ConfigError, match=re.escape("Invalid value for '--format'")):
        build_args("generate", {"n": 5, "name": "d", "formats": ["xml"]}, s, "0" * 12)
    with pytest.raises(ConfigError, match=re.escape("no run named 'nope'")):
        build_args("export", {"run": "nope", "fmt": "fhir"}, s, "0" * 12)
    with pytest.raises(ConfigError, match=re.escape("unknown job kind 'rm'")):
        command_of("rm")


def test_serve_refuses_bad_options_in_the_clis_words(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["serve", "--data-root", str(tmp_path), "--max-upload", "lots"])
    assert res.exit_code == 2 and "'lots' is not a size; write e.g. 200MB" in res.output
    res = CliRunner().invoke(main, ["serve", "--data-root", str(tmp_path), "--database", "mysql://x/y"])
    assert res.exit_code == 2 and "database must be a PostgreSQL URL" in res.output
    res = CliRunner().invoke(main, ["serve", "--data-root", str(tmp_path), "--create-token", "../x"])
    assert res.exit_code == 2 and "token name '../x' is not allowed" in res.output
    assert isinstance(main.commands["serve"], click.Command)


def test_serve_makes_and_revokes_tokens(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["serve", "--data-root", str(tmp_path), "--create-token", "ana", "--scope",
                                    "admin"])
    assert res.exit_code == 0 and res.stdout.strip().startswith("hyg_")
    res = CliRunner().invoke(main, ["serve", "--data-root", str(tmp_path), "--create-token", "ana"])
    assert res.exit_code == 2 and "hygeia serve --revoke-token ana" in res.output
    assert CliRunner().invoke(main, ["serve", "--data-root", str(tmp_path), "--revoke-token", "ana"]).exit_code == 0
    res = CliRunner().invoke(main, ["serve", "--data-root", str(tmp_path), "--revoke-token", "ana"])
    assert res.exit_code == 2 and "no token named 'ana'" in res.output and "The tokens are: none." in res.output
