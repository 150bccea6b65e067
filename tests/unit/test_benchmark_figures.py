"""Every figure in README, docs/ and tabular/auto.py agrees with benchmarks/results/*.json.

The convention (markers around each figure, generated tables, the lint of
markerless numbers) is described in benchmarks/README.md; the checker is
benchmarks/figures.py.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: result files a benchmark must have written beyond ``<script>.json`` (one per part).
PARTS = {"molecules.py": ["molecules-moses", "molecules-goal", "molecules-oracles", "molecules-representations",
                                    "molecules-tune"]}
#: files under benchmarks/ that are helpers, not benchmarks.
HELPERS = {"_results.py", "_parts.py", "figures.py", "tabular_datasets.py", "tabular_measure.py"}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def figures():
    return _load("figures")


def _spreads(node: Any, path: str = "") -> list[tuple[str, dict]]:
    if isinstance(node, dict):
        if {"mean", "std", "n", "values"} <= set(node):
            return [(path, node)]
        return [x for k, v in node.items() for x in _spreads(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _spreads(v, f"{path}.{i}")]
    return []


def test_every_benchmark_has_its_result_files_with_provenance() -> None:
    results = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in (ROOT / "benchmarks" / "results").glob("*.json")}
    scripts = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if p.name not in HELPERS)
    assert scripts
    for script in scripts:
        names = PARTS.get(script, [script.removesuffix(".py")])
        for name in names:
            assert name in results, f"benchmarks/{script} has not written benchmarks/results/{name}.json; run it"
            assert results[name]["command"].startswith(f".venv/bin/python benchmarks/{script}"), name
    for name, doc in results.items():
        assert doc["benchmark"] == name
        assert re.fullmatch(r"[0-9a-f]{40}", doc["git"]["commit"]) and isinstance(doc["git"]["dirty"], bool), name
        for key in ("platform", "cpu_count", "python", "packages"):
            assert key in doc["machine"], f"{name}.json: machine.{key} missing"
        assert re.match(r"\d{4}-\d\d-\d\dT", doc["date"]), name
        assert isinstance(doc["seeds"], list) and isinstance(doc["sizes"], dict) and doc["figures"], name
        for where, spread in _spreads(doc["figures"]):
            assert spread["n"] >= 5 and len(spread["values"]) == spread["n"], f"{name}.json{where}: under 5 seeds"


def test_documents_agree_with_the_result_files(figures) -> None:
    problems = figures.check()
    assert not problems, "\n".join(problems)


def test_the_documents_hold_marked_figures_and_tables(figures) -> None:
    texts = "".join(p.read_text(encoding="utf-8") for p in figures.documents())
    assert len(figures.FIG.findall(texts)) >= 10
    assert {m["name"] for m in figures.TABLE.finditer(texts)} >= {
        "population", "export", "tabular-flchain", "tabular-choice", "molecules-moses"}


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """A copy of the documents and the result files, to break."""
    for rel in ("README.md", "docs", "benchmarks/results", "src/hygeia/tabular/auto.py"):
        src, dst = ROOT / rel, tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    return tmp_path


def test_a_changed_figure_fails(figures, copy: Path) -> None:
    assert figures.check(copy) == []
    readme = copy / "README.md"
    text = readme.read_text(encoding="utf-8")
    m = figures.FIG.search(text)
    changed = m["value"].replace(m["value"][0], "9" if m["value"][0] != "9" else "8", 1)
    readme.write_text(text[:m.start("value")] + changed + text[m.end("value"):], encoding="utf-8")
    problems = figures.check(copy)
    assert len(problems) == 1 and f"{m['file']}:{m['path']} reads {changed!r}" in problems[0]


def test_a_changed_table_cell_fails(figures, copy: Path) -> None:
    doc = copy / "docs" / "molecules.md"
    text = doc.read_text(encoding="utf-8")
    m = re.search(r"<!-- table molecules-moses -->\n.*?\| valid \| (\d)", text, re.DOTALL)
    text = text[:m.start(1)] + ("7" if m[1] != "7" else "6") + text[m.end(1):]
    doc.write_text(text, encoding="utf-8")
    assert any("table molecules-moses differs" in p for p in figures.check(copy))


def test_a_changed_result_file_fails(figures, copy: Path) -> None:
    path = copy / "benchmarks" / "results" / "population.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["figures"]["default_modules"]["patients_per_cpu_second"]["mean"] += 1000
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert figures.check(copy), "the documents still claim the old figure"


def test_markers_that_point_nowhere_fail(figures, copy: Path) -> None:
    doc = copy / "docs" / "population.md"
    doc.write_text(doc.read_text(encoding="utf-8")
                   + "\nA <!-- fig population:figures.no_such .1f -->1.0<!-- /fig --> figure.\n"
                   + "A <!-- fig no-such-file:figures .1f -->1.0<!-- /fig --> figure.\n"
                   + "<!-- table no-such-table -->\n<!-- /table -->\n", encoding="utf-8")
    problems = "\n".join(figures.check(copy))
    assert "has no 'figures.no_such'" in problems
    assert "no benchmarks/results/no-such-file.json" in problems
    assert "no table renderer 'no-such-table'" in problems


@pytest.mark.parametrize("line", [
    "The export takes 12.6 s on a laptop.",
    "It peaks at 270 MB for 200 persons.",
    "about 100,000 rows a second",
    "~65 µs per resource",
    "quality ~0.97",
    "18 % of one pass",
])
def test_a_markerless_measured_number_fails(figures, copy: Path, line: str) -> None:
    doc = copy / "docs" / "omop.md"
    doc.write_text(doc.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    assert any("looks measured" in p for p in figures.check(copy)), line


def test_any_markerless_number_in_a_benchmark_section_fails(figures, copy: Path) -> None:
    doc = copy / "docs" / "population.md"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n## Benchmark\n\nCART quality 0.975 on flchain.\n",
                   encoding="utf-8")
    assert any("number '0.975' in a benchmark section" in p for p in figures.check(copy))


@pytest.mark.parametrize("line", [
    "A timeout of 10 s<!-- setting --> applies.",
    "Run `hygeia generate -n 1000 --seed 1  # 5 s` (a figure in code is not checked).",
    "Tables under 500 rows use the copula; shards hold 250 persons.",
])
def test_settings_code_and_plain_counts_pass(figures, copy: Path, line: str) -> None:
    doc = copy / "docs" / "omop.md"
    doc.write_text(doc.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    assert figures.check(copy) == []


def test_write_renders_what_check_expects(figures, copy: Path) -> None:
    doc = copy / "docs" / "molecules.md"
    text = doc.read_text(encoding="utf-8")
    blank = figures.TABLE.sub(lambda m: m["open"] + m["close"], text)
    doc.write_text(blank, encoding="utf-8")
    assert figures.check(copy)
    figures.write(copy)
    assert doc.read_text(encoding="utf-8") == text
    assert figures.check(copy) == []
