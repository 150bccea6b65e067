"""The README's part 'tables' (evaluation, generators of tables, molecules and the service) in a fresh clone: see ``_readme``."""

from __future__ import annotations

from pathlib import Path

import pytest
from _readme import run_part


@pytest.mark.slow
def test_readme_tables_part_runs_in_a_fresh_clone(tmp_path: Path, omop_url: str | None) -> None:
    run_part("tables", tmp_path, omop_url)
