"""The README's first part (set-up, population, export, notes, de-identification) in a fresh clone, and the
parser and the split into parts that all test_readme*.py files use (see ``_readme``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _readme import (
    PARTS,
    ROOT,
    RUN,
    _shell,
    readme_blocks,
    readme_parts,
    run_part,
    runs_paths,
)


def test_markdown_blocks_are_parsed() -> None:
    text = "a\n```sh\necho 1 \\\n  2\n```\n```text\n$ out\n```\n"
    assert readme_blocks(text) == [("sh", "echo 1 \\\n  2\n"), ("text", "$ out\n")]
    script, skipped = _shell(".venv/bin/hygeia generate -n 1000 --out runs/x   # comment\npip install x\n")
    assert script.splitlines()[2:] == ["hygeia generate -n 40 --out runs/x"] and len(skipped) == 1
    script, _ = _shell("PYTHONHASHSEED=0 .venv/bin/python benchmarks/population.py   # population.json\n")
    assert script.splitlines()[2] == ("PYTHONHASHSEED=0 python benchmarks/population.py --n 10 --seeds 1 "
                                      "--sizes 20,40 --out runs/bench/population-1.json")
    script, _ = _shell("make demo\n")
    assert re.fullmatch(r"make demo VENV=\S+ -o \S+/\.installed DEMO_N=40", script.splitlines()[2])


def test_readme_parts_are_independent() -> None:
    """Every block is in one part, and no two parts name the same ``runs/`` output."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    parts = readme_parts(text)
    assert [b for blocks in parts.values() for b in blocks] == readme_blocks(text)
    assert sum(lang in RUN for lang, _ in readme_blocks(text)) >= 8
    for name, blocks in parts.items():
        assert any(lang in RUN for lang, _ in blocks), f"README part {name!r} runs nothing"
    names = list(PARTS)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            shared = runs_paths(parts[first]) & runs_paths(parts[second])
            assert not shared, f"README parts {first!r} and {second!r} both name {sorted(shared)}: they are run in " \
                               f"separate clones, so one may not use or overwrite what the other writes"
    assert runs_paths(parts["records"]) >= {"runs/population", "runs/notes_source"}  # the parser finds them


@pytest.mark.slow
def test_readme_records_part_runs_in_a_fresh_clone(tmp_path: Path, omop_url: str | None) -> None:
    run_part("records", tmp_path, omop_url)
