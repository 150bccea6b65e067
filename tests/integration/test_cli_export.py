"""``hygeia export`` and ``hygeia generate --format``: the CLI over the exporters."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from hygeia.cli.main import main


def test_generate_with_formats_exports_into_the_run(tmp_path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["generate", "-n", "8", "--seed", "3", "--out", str(out), "--workers", "1",
                                       "--format", "csv", "--format", "omop"])
    assert result.exit_code == 0, result.output
    assert (out / "csv" / "patients.csv").is_file()
    assert (out / "omop.duckdb").is_file()
    assert re.search(r"\n  csv +[\d,]+ records -> .*csv/ \(\d+ files, [\d.]+ [kMG]?B\)\n", result.stdout)
    assert re.search(r"\n  omop +[\d,]+ records -> .*omop\.duckdb \([\d.]+ [kM]B\)\n", result.stdout)


def test_export_command_writes_the_format_and_refuses_to_overwrite(tmp_path) -> None:
    run = tmp_path / "run"
    runner = CliRunner()
    assert runner.invoke(main, ["generate", "-n", "5", "--seed", "1", "--out", str(run), "-q", "--workers", "1"]
                         ).exit_code == 0
    dest = tmp_path / "meds"
    first = runner.invoke(main, ["export", str(run), "--format", "meds", "--out", str(dest)])
    assert first.exit_code == 0, first.output
    assert (dest / "metadata" / "dataset.json").is_file()
    again = runner.invoke(main, ["export", str(run), "--format", "meds", "--out", str(dest)])
    assert again.exit_code == 2
    assert "already exists. Choose another --out, or pass --overwrite" in again.output


def test_omop_url_needs_the_omop_format(tmp_path) -> None:
    result = CliRunner().invoke(main, ["export", str(tmp_path), "--format", "csv", "--omop-url", "postgresql://x"])
    assert result.exit_code == 2
    assert "--omop-url goes with --format omop" in result.output


def test_export_with_notes_and_a_folder_that_is_not_notes(tmp_path) -> None:
    run, notes = tmp_path / "run", tmp_path / "notes"
    runner = CliRunner()
    assert runner.invoke(main, ["generate", "-n", "3", "--seed", "2", "--out", str(run), "-q", "--workers", "1"]
                         ).exit_code == 0
    assert runner.invoke(main, ["notes", "write", str(run), "--out", str(notes), "--seed", "1", "-q"]).exit_code == 0
    written = sum(json.loads((notes / "manifest.json").read_text())["counts"].values())
    result = runner.invoke(main, ["export", str(run), "--notes", str(notes), "--format", "omop",
                                  "--out", str(tmp_path / "cdm.duckdb")])
    assert result.exit_code == 0, result.output
    assert re.search(rf"\n  note +{written:,}\n", result.stdout)
    bad = runner.invoke(main, ["export", str(run), "--notes", str(run), "--format", "csv",
                               "--out", str(tmp_path / "csv")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "is not a notes folder (no manifest.json and notes/ in it)" in bad.output
    assert not (tmp_path / "csv").exists()
