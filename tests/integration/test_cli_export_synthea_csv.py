"""``hygeia export RUN --format synthea-csv --out DIR`` and ``generate --format synthea-csv``: Synthea's CSV from the CLI."""

from __future__ import annotations

import re

from click.testing import CliRunner

from hygeia.cli.main import main


def test_export_synthea_csv_from_the_cli(tmp_path) -> None:
    run, out = tmp_path / "run", tmp_path / "synthea_csv"
    runner = CliRunner()
    made = runner.invoke(main, ["generate", "-n", "4", "--seed", "2", "--out", str(run), "--workers", "1",
                                "--format", "synthea-csv"])
    assert made.exit_code == 0, made.output
    assert re.search(r"\n  synthea-csv +[\d,]+ records -> .*synthea-csv/ \(18 files, [\d.]+ [kMG]?B\)\n", made.output)
    assert (run / "synthea-csv" / "patients.csv").is_file()
    result = runner.invoke(main, ["export", str(run), "--format", "synthea-csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 4 persons to Synthea CSV in" in result.output
    assert re.search(r"\n  encounters +[\d,]+\n", result.output)
    assert re.search(r"\n  skipped: diagnostic_report +[\d,]+\n", result.output)
    assert "ETL-Synthea" in result.output  # the next step
    assert (out / "patients.csv").read_text().startswith('"Id","BIRTHDATE","DEATHDATE",')
    assert len(list(out.glob("*.csv"))) == 18
    bad = runner.invoke(main, ["export", str(run), "--format", "synthea-csv", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0
    assert "--format synthea-csv writes a folder" in bad.output and "--out synthea_csv" in bad.output


def test_help_lists_synthea_csv() -> None:
    result = CliRunner().invoke(main, ["export", "--help"])
    assert result.exit_code == 0
    assert "synthea-csv" in result.output and "--format synthea-csv --out synthea_csv" in result.output
