"""The bad-input table of issue 13: every mistake gets its clear message in the CLI's words, exit status 2,
no traceback and no output left behind."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygeia.cli.main import main

_CHEM = pytest.mark.skipif(importlib.util.find_spec("rdkit") is None or importlib.util.find_spec("torch") is None,
                           reason="needs the molecules extra")
# a Python keyword where a CLI flag belongs: overwrite=True, n=1000, budget=10_000
_PYTHON_WORDS = re.compile(r"\b(overwrite|n|budget|seed|epsilon|delta)=|generator\.save|\(\w+=True\)")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder, a table, a model and a few malformed inputs, shared by every row."""
    root = tmp_path_factory.mktemp("inputs")
    runner = CliRunner()
    res = runner.invoke(main, ["generate", "-n", "2", "--seed", "1", "--workers", "1", "--out", str(root / "run"), "-q"])
    assert res.exit_code == 0, res.output
    (root / "table.csv").write_text("age,sex\n" + "".join(f"{20 + i},{'FM'[i % 2]}\n" for i in range(30)))
    res = runner.invoke(main, ["fit", str(root / "table.csv"), "--model", "copula", "--seed", "0", "--out",
                               str(root / "model"), "-q"])
    assert res.exit_code == 0, res.output
    (root / "existing.csv").write_text("keep me\n")
    (root / "existing.json").write_text("{}\n")
    (root / "bad.smi").write_text("CCO\nC1CC(\nCCN\n")
    (root / "good.smi").write_text("CCO\nCCN\nc1ccccc1O\n")
    (root / "truncated.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "a"}) + "\n{\"resourceType\": \n")
    (root / "not_a_run").mkdir()
    return root


# (arguments, what the message must say, the output that must not appear)
CASES = [
    (["generate", "-n", "0", "--out", "{tmp}/o"], "n must be a positive integer; got 0", "o"),
    (["generate", "-n", "2", "--seed", "-1", "--out", "{tmp}/o"], "seed must be a non-negative integer", "o"),
    (["generate", "-n", "2", "--locale", "xx", "--out", "{tmp}/o"], "xx", "o"),
    (["generate", "-n", "2", "--seed", "1", "--out", "{in}/run"], "pass --overwrite", None),
    (["inspect", "{in}/not_a_run"], "not a Hygeia run folder", None),
    (["export", "{in}/not_a_run", "--format", "csv", "--out", "{tmp}/o"], "not a Hygeia run folder", "o"),
    (["export", "{in}/run", "--format", "fhir", "--out", "{tmp}/o.json"],
     "--format fhir writes a folder: one FHIR R4 transaction Bundle (.json) per patient; --out", "o.json"),
    (["export", "{in}/run", "--format", "omop", "--out", "{tmp}/o"], "Pass e.g. --out cdm.duckdb", "o"),
    (["export", "{in}/run", "--format", "csv", "--out", "{in}/existing.csv"], "is a file", None),
    (["export", "{in}/run", "--format", "csv", "--omop-url", "postgresql://x"], "--omop-url goes with --format omop", None),
    (["import-fhir", "{tmp}/missing", "--out", "{tmp}/o"], "missing", "o"),
    (["import-fhir", "{in}/truncated.ndjson", "--out", "{tmp}/o"], "truncated.ndjson:2: not valid JSON", "o"),
    (["evaluate", "--real", "{tmp}/missing.csv", "--synthetic", "{in}/table.csv", "--out", "{tmp}/o"],
     "missing.csv", "o"),
    (["fit", "{tmp}/missing.csv", "--out", "{tmp}/o"], "does not exist", "o"),
    (["fit", "{in}/table.csv", "--model", "copula", "--epsilon", "1", "--out", "{tmp}/o"], "--epsilon applies", "o"),
    (["fit", "{in}/table.csv", "--model", "dp", "--epsilon", "0", "--release-detected-metadata", "--out", "{tmp}/o"],
     "Pass e.g. --epsilon 1.0", "o"),
    (["fit", "{in}/table.csv", "--set", "nonsense", "--out", "{tmp}/o"], "--set takes KEY=VALUE", "o"),
    (["fit", "{in}/table.csv", "--out", "{in}/model"], "pass --overwrite", None),
    (["sample", "{in}/model", "-n", "0", "--out", "{tmp}/o.csv"], "Pass e.g. -n 1000.", "o.csv"),
    (["sample", "{in}/not_a_run", "-n", "5", "--out", "{tmp}/o.csv"], "not a Hygeia model folder (save one with `hygeia fit`)",
     "o.csv"),
    (["sample", "{in}/model", "-n", "5", "--out", "{in}/existing.csv"], "pass --overwrite", None),
    (["metadata", "{in}/table.csv", "--out", "{in}/existing.json"], "pass --overwrite", None),
    pytest.param(["molecules", "score", "{in}/bad.smi", "--config", "druglike", "--out", "{tmp}/o.csv"],
                 "bad.smi:2: 'C1CC(' is not a valid SMILES", "o.csv", marks=_CHEM),
    pytest.param(["molecules", "score", "{in}/bad.smi", "--config", "druglike", "--out", "{tmp}/o.csv"],
                 "skip them with --skip-invalid", "o.csv", marks=_CHEM),
    pytest.param(["molecules", "train", "{in}/bad.smi", "--steps", "1", "--out", "{tmp}/o"], "--skip-invalid", "o",
                 marks=_CHEM),
    pytest.param(["molecules", "sample", "-n", "0", "--out", "{tmp}/o.smi"], "Pass e.g. -n 1000", "o.smi", marks=_CHEM),
    pytest.param(["molecules", "sample", "-n", "5", "--out", "{tmp}/o.txt"], "must end in one of .smi, .csv, .sdf",
                 "o.txt", marks=_CHEM),
    pytest.param(["molecules", "optimize", "--objective", "celecoxib_rediscovery", "--budget", "0", "--out", "{tmp}/o"],
                 "Pass e.g. --budget 2000", "o", marks=_CHEM),
    pytest.param(["molecules", "optimize", "--budget", "10", "--out", "{tmp}/o"], "exactly one of --config", "o",
                 marks=_CHEM),
    pytest.param(["molecules", "benchmark", "{in}/good.smi", "--no-fcd", "--out", "{in}/existing.json"],
                 "pass --overwrite", None, marks=_CHEM),
]


@pytest.mark.parametrize(("args", "message", "output"), CASES)
def test_bad_input_is_a_clean_error(files: Path, tmp_path: Path, args: list[str], message: str,
                                    output: str | None) -> None:
    before = {p: p.read_bytes() for p in files.iterdir() if p.is_file()}
    argv = [a.format(tmp=tmp_path, **{"in": files}) for a in args]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 2, res.output
    assert message in res.output, res.output
    assert res.output.startswith("Error: ") or "\nError: " in res.output or "Usage:" in res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    assert not _PYTHON_WORDS.search(res.output), res.output
    if output is not None:
        assert not (tmp_path / output).exists()
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name or ".old-" in p.name]
    assert {p: p.read_bytes() for p in files.iterdir() if p.is_file()} == before  # nothing replaced


def test_overwrite_on_every_writer(files: Path, tmp_path: Path) -> None:
    """Every command that writes a file or folder has --overwrite."""
    import click

    def commands(group: click.Group, prefix: str = ""):
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                yield from commands(cmd, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", cmd

    writers = {name: cmd for name, cmd in commands(main) if any(p.name == "out" for p in cmd.params)}
    assert {"generate", "export", "import-fhir", "evaluate", "fit", "sample", "metadata", "molecules train",
            "molecules sample", "molecules score", "molecules optimize", "molecules benchmark"} <= set(writers)
    missing = [name for name, cmd in writers.items() if not any(p.name == "overwrite" for p in cmd.params)]
    assert missing == []
