"""``hygeia export --format omop --vocabulary DIR --start DATE``: Athena vocabularies and the window from the CLI."""

from __future__ import annotations

from pathlib import Path

import duckdb
from click.testing import CliRunner

from hygeia.cli.main import main

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "omop_vocabulary"


def test_export_with_a_vocabulary_and_a_start(tmp_path: Path) -> None:
    run, out = tmp_path / "run", tmp_path / "cdm.duckdb"
    runner = CliRunner()
    assert runner.invoke(main, ["generate", "-n", "8", "--seed", "2", "--out", str(run), "-q", "--workers", "1"]
                         ).exit_code == 0
    result = runner.invoke(main, ["export", str(run), "--format", "omop", "--vocabulary", str(FIXTURE),
                                  "--start", "1990-01-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "concept " in result.output and "condition_era" in result.output
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("SELECT min(observation_period_start_date) >= DATE '1990-01-01' "
                           "FROM observation_period").fetchall() == [(True,)]
        assert con.execute("SELECT count(*) FROM concept WHERE vocabulary_id = 'ICD10CM'").fetchall()[0][0] > 0


def test_bad_vocabulary_and_start_are_refused_without_a_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    run = tmp_path / "run"
    assert runner.invoke(main, ["generate", "-n", "3", "--seed", "2", "--out", str(run), "-q", "--workers", "1"]
                         ).exit_code == 0
    missing = runner.invoke(main, ["export", str(run), "--format", "omop", "--vocabulary", str(tmp_path / "nope"),
                                   "--out", str(tmp_path / "a.duckdb")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output
    assert "is not a folder; download the vocabularies from https://athena.ohdsi.org" in missing.output
    bad_start = runner.invoke(main, ["export", str(run), "--format", "omop", "--start", "yesterday",
                                     "--out", str(tmp_path / "b.duckdb")])
    assert bad_start.exit_code != 0 and "--start 'yesterday' is not a date" in bad_start.output
    assert not (tmp_path / "b.duckdb").exists()
    wrong_format = runner.invoke(main, ["export", str(run), "--format", "csv", "--vocabulary", str(FIXTURE),
                                        "--out", str(tmp_path / "csv")])
    assert wrong_format.exit_code == 2 and "--vocabulary goes with --format omop" in wrong_format.output
