"""``hygeia export --format fhir --max-entries N``: Bundles a server accepts, from the CLI."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from hygeia.cli.main import main
from hygeia.export.fhir import validate_fhir


def test_max_entries_writes_bundles_of_at_most_n_entries(tmp_path) -> None:
    run, out = tmp_path / "run", tmp_path / "bundles"
    runner = CliRunner()
    assert runner.invoke(main, ["generate", "-n", "2", "--seed", "4", "--out", str(run), "-q", "--workers", "1"]
                         ).exit_code == 0
    result = runner.invoke(main, ["export", str(run), "--format", "fhir", "--max-entries", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.json"))
    sizes = [len(json.loads(f.read_text())["entry"]) for f in files]
    assert len(files) > 2 and max(sizes) <= 60
    assert all(re.fullmatch(r"patient-\d+(-part\d+of\d+)?\.json", f.name) for f in files)
    assert re.search(rf"\n  Bundle +{len(files):,}\n", result.stdout)
    assert validate_fhir(out).errors == []


def test_max_entries_is_refused_where_it_does_not_apply(tmp_path) -> None:
    runner = CliRunner()
    other = runner.invoke(main, ["export", str(tmp_path), "--format", "ndjson", "--max-entries", "10"])
    assert other.exit_code == 2 and "--max-entries goes with --format fhir" in other.output
    zero = runner.invoke(main, ["export", str(tmp_path), "--format", "fhir", "--max-entries", "0"])
    assert zero.exit_code == 2 and "Traceback" not in zero.output
    assert "Invalid value for '--max-entries': 0 is not in the range x>=1" in zero.output
