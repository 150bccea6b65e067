"""Test-wide settings: one BLAS/OpenMP thread and one torch thread.

The CI machines have two shared cores; a contended second thread makes small
matrix products and torch 10-100x slower, so every test runs single-threaded.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from threadpoolctl import threadpool_limits  # noqa: E402

_LIMITS = threadpool_limits(1)

try:
    import torch
except ImportError:  # torch is an optional extra
    torch = None
if torch is not None:
    torch.set_num_threads(1)
