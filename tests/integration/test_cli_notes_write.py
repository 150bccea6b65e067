"""``hygeia notes write``: a note per encounter, the summary, the seed printed, errors in the CLI's words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from hygeia.cli.main import main


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli_notes") / "run"
    res = CliRunner().invoke(main, ["generate", "-n", "4", "--seed", "2", "--out", str(out), "--workers", "1", "-q"])
    assert res.exit_code == 0, res.output
    return out


def test_write_summary_and_output(run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["notes", "write", str(run), "--out", str(tmp_path / "n")])
    assert res.exit_code == 0, res.output
    seed = int(re.search(r"pass --seed (\d+) to write the same notes again", res.output).group(1))
    manifest = json.loads((tmp_path / "n" / "manifest.json").read_text())
    assert manifest["seed"] == seed
    notes = pq.read_table(tmp_path / "n" / "notes").to_pylist()
    assert f"Wrote {len(notes):,} notes for {manifest['encounters']:,} encounters" in res.output
    assert f"{manifest['counts']['soap']:,} SOAP progress notes" in res.output
    again = CliRunner().invoke(main, ["notes", "write", str(run), "--out", str(tmp_path / "m"), "--seed", str(seed), "-q"])
    assert again.exit_code == 0 and again.output == ""
    assert pq.read_table(tmp_path / "m" / "notes").to_pylist() == notes


def test_kind_option(run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["notes", "write", str(run), "--out", str(tmp_path / "d"), "--kind", "hp",
                                    "--seed", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert {n["kind"] for n in pq.read_table(tmp_path / "d" / "notes").to_pylist()} == {"hp"}


def test_errors(run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["notes", "write", str(tmp_path), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "is not a Hygeia run folder" in res.output and "has no run.json" in res.output
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "f").write_text("keep")
    res = CliRunner().invoke(main, ["notes", "write", str(run), "--out", str(tmp_path / "taken")])
    assert res.exit_code == 2 and "pass --overwrite to replace it" in res.output
    assert (tmp_path / "taken" / "f").read_text() == "keep"
