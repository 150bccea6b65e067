"""``hygeia notes deid``: a file, a folder and a notes Parquet file; the seed printed; errors in the CLI's words."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from hygeia.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notes" / "phi_note.txt"


def test_deid_file_summary_seed_and_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "clean.txt"
    res = CliRunner().invoke(main, ["notes", "deid", str(EXAMPLE), "--out", str(out)])
    assert res.exit_code == 0, res.output
    seed = int(re.search(r"pass --seed (\d+) for the same surrogates", res.output).group(1))
    assert re.search(r"identifiers\s+\d+: .*NAME", res.output)
    text = out.read_text()
    for phi in ("Okafor", "0048213", "(555) 123-4567", "linda.okafor@example.net", "PM-7731-AX", "62704", "92-year"):
        assert phi not in text
    again = CliRunner().invoke(main, ["notes", "deid", str(EXAMPLE), "--out", str(out), "--seed", str(seed)])
    assert again.exit_code == 2 and "pass --overwrite" in again.output
    again = CliRunner().invoke(main, ["notes", "deid", str(EXAMPLE), "--out", str(out), "--seed", str(seed),
                                      "--overwrite", "-q"])
    assert again.exit_code == 0 and again.output == "" and out.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.txt"]  # no mapping without --mapping


def test_deid_folder_parquet_and_mapping(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Mr. Okafor seen 2021-03-04.")
    res = CliRunner().invoke(main, ["notes", "deid", str(folder), "--out", str(tmp_path / "out"), "--seed", "1",
                                    "--mapping", str(tmp_path / "map.json")])
    assert res.exit_code == 0, res.output
    assert "Okafor" not in (tmp_path / "out" / "a.txt").read_text() and (tmp_path / "map.json").is_file()
    pq.write_table(pa.table({"subject_id": [7], "text": ["Call (555) 123-4567."]}), tmp_path / "n.parquet")
    res = CliRunner().invoke(main, ["notes", "deid", str(tmp_path / "n.parquet"), "--out", str(tmp_path / "o.parquet"),
                                    "--seed", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert "123-4567" not in pq.read_table(tmp_path / "o.parquet").column("text")[0].as_py()


def test_deid_bad_input(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_bytes(b"\x00\x01\x02")
    res = CliRunner().invoke(main, ["notes", "deid", str(tmp_path / "b.txt"), "--out", str(tmp_path / "o.txt")])
    assert res.exit_code == 2 and "is a binary file" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o.txt").exists()


def test_deid_notes_written_from_records(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["generate", "-n", "3", "--seed", "5", "--out", str(tmp_path / "run"), "--workers", "1", "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["notes", "write", str(tmp_path / "run"), "--out", str(tmp_path / "w"), "--seed", "1", "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["notes", "deid", str(tmp_path / "w" / "notes"), "--out", str(tmp_path / "d"), "--seed", "1"])
    assert res.exit_code == 0, res.output
    before = pq.read_table(tmp_path / "w" / "notes")
    after = pq.read_table(tmp_path / "d")
    assert after.num_rows == before.num_rows and after.column_names == before.column_names
    assert after.drop(["text"]).equals(before.drop(["text"]))
