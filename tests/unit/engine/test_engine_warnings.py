"""Module warnings (questionable but runnable modules) reach the console as well as ``run.json``."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from engine_testkit import FIXTURES

from hygeia.population.generate import generate

FOLDER = FIXTURES / "warnings"
EXPECTED = (
    f"{FOLDER / 'dangling_device_end.json'}: state Remove: device names missing state 'No_Such_Device', so it will "
    "never match (Synthea ignores it too); name one of the module's states or remove 'device'"
)


def test_warnings_printed_on_stderr_and_saved_in_run_json(tmp_path, capsys) -> None:
    r = generate(n=2, seed=1, out=tmp_path / "run", modules=[str(FOLDER)], default_modules=False, workers=1,
                 quiet=False)
    assert r.module_warnings == (EXPECTED,)
    err = capsys.readouterr().err
    assert re.search(r"^1 module warning \(the run goes on; also in run.json 'module_warnings'\):$", err, re.M)
    assert f"  warning: {EXPECTED}\n" in err
    assert json.loads((tmp_path / "run" / "run.json").read_text())["module_warnings"] == [EXPECTED]


def test_quiet_run_prints_no_warnings(tmp_path, capsys) -> None:
    r = generate(n=1, seed=1, out=tmp_path / "run", modules=[str(FOLDER)], default_modules=False, workers=1)
    assert r.module_warnings == (EXPECTED,)
    assert "warning" not in capsys.readouterr().err


def test_cli_generate_shows_module_warnings(tmp_path) -> None:
    from hygeia.cli.main import main as cli

    res = CliRunner().invoke(cli, ["generate", "-n", "1", "--seed", "1", "--out", str(tmp_path / "run"), "--modules",
                                   str(FOLDER), "--no-default-modules", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert f"warning: {EXPECTED}" in res.output
