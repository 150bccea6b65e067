"""Test-wide settings: one BLAS/OpenMP thread and one torch thread.

The CI machines have two shared cores; a contended second thread makes small
matrix products and torch 10-100x slower, so every test runs single-threaded.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

_LIMITS = threadpool_limits(1)

try:
    import torch
except ImportError:  # torch is an optional extra
    torch = None
if torch is not None:
    torch.set_num_threads(1)


#: The test files that take longest (ranked by ``pytest --durations``), run first: ``make test`` hands
#: whole files to its two xdist workers in collection order (``--dist loadfile --no-loadscope-reorder``),
#: so a long file started last would leave the other worker idle while it finishes.
LONGEST_FIRST = (
    "tests/integration/test_fhir_1000.py",
    "tests/e2e/test_readme_benchmarks.py",
    "tests/e2e/test_readme.py",
    "tests/unit/twin/test_twin_glucose.py",
    "tests/unit/twin/test_twin_pk_calibrate.py",
    "tests/integration/test_images_link.py",
    "tests/e2e/test_readme_images.py",
    "tests/unit/export/test_fhir_roundtrip.py",
    "tests/integration/test_signals.py",
    "tests/unit/twin/test_twin_effects.py",
    "tests/integration/test_omop_postgres.py",
)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    root = config.rootpath
    items.sort(key=lambda item: rank.get(item.path.relative_to(root).as_posix() if item.path.is_relative_to(root)
                                         else "", len(rank)))  # stable: the rest keep their order
