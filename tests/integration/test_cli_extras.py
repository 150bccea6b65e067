"""Extras degrade politely: in a virtual environment with the base install only, every command that needs an
optional package stops with the ``pip install 'hygeia[extra]'`` to run, exit status 2, no traceback and no output.

The environment is built once (``python -m venv`` + ``pip install -e`` of this checkout, a couple of minutes) into
a cache folder and reused while this checkout's dependencies stay the same: ``$HYGEIA_BASE_VENV`` if set, else
``~/.cache/hygeia-tests/basevenv-<hash>``, where building a new one deletes those of checkouts that are gone or unused for three days.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _base_venv() -> Path:
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + str(REPO).encode()).hexdigest()[:12]
    default = Path.home() / ".cache" / "hygeia-tests" / f"basevenv-{digest}"
    venv = Path(os.environ.get("HYGEIA_BASE_VENV", default))
    python = venv / "bin" / "python"
    ready = venv / ".hygeia-ready"
    if not ready.exists() and python.exists():  # built by hand (e.g. HYGEIA_BASE_VENV=/tmp/basevenv): reuse it if current
        probe = subprocess.run([str(python), "-c", "import hygeia, rich, hygeia.cli.main; print(hygeia.__file__)"],
                               capture_output=True, text=True, timeout=120)
        if probe.returncode == 0 and probe.stdout.startswith(str(REPO / "src")):
            ready.write_text(digest)
    if not ready.exists():
        if "HYGEIA_BASE_VENV" not in os.environ:
            _prune(default.parent, keep=venv)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
        res = subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(REPO)], capture_output=True,
                             text=True, timeout=1200)
        if res.returncode != 0:
            pytest.fail(f"could not build the base-install venv {venv}:\n{res.stderr[-3000:]}")
        ready.write_text(digest)
    (venv / ".hygeia-repo").write_text(str(REPO))
    return venv


def _prune(cache: Path, keep: Path) -> None:
    """Delete the cached base venvs of checkouts that are gone or unused for three days (each is some
    600 MB, and CI clones afresh for each run)."""
    import shutil
    import time

    for old in cache.glob("basevenv-*"):
        if old == keep or not old.is_dir():
            continue
        marker = old / ".hygeia-repo"  # rewritten at each use
        used = (marker if marker.is_file() else old).stat().st_mtime
        gone = marker.is_file() and not Path(marker.read_text().strip()).exists()
        if gone or time.time() - used > 3 * 86400:
            shutil.rmtree(old, ignore_errors=True)


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict:
    venv = _base_venv()
    python = str(venv / "bin" / "python")
    check = subprocess.run([python, "-c", "import hygeia, importlib.util as u; print(hygeia.__file__); "
                            "print([m for m in ('torch', 'rdkit', 'selfies', 'opacus', 'meds', 'pg8000', 'distributed') "
                            "if u.find_spec(m)])"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    where, present = check.stdout.splitlines()
    assert where.startswith(str(REPO / "src")), f"the base venv runs another checkout: {where}"
    assert present == "[]", f"the base venv has optional packages: {present}"
    root = tmp_path_factory.mktemp("base")
    (root / "table.csv").write_text("age,sex\n" + "".join(f"{20 + i},{'FM'[i % 2]}\n" for i in range(30)))
    (root / "mols.smi").write_text("CCO\nCCN\nc1ccccc1O\n")
    hygeia = [str(venv / "bin" / "hygeia")]
    run = subprocess.run([*hygeia, "generate", "-n", "2", "--seed", "1", "--workers", "1", "-q", "--out",
                          str(root / "run")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return {"cmd": hygeia, "root": root}


CASES = [
    (["molecules", "sample", "-n", "5", "--out", "{out}.smi"], "torch", "molecules"),
    (["molecules", "train", "{root}/mols.smi", "--steps", "1", "--out", "{out}"], "torch", "molecules"),
    (["molecules", "optimize", "--objective", "celecoxib_rediscovery", "--budget", "10", "--out", "{out}"],
     "torch", "molecules"),  # the default method is REINVENT: torch is named, not the graph GA
    (["molecules", "optimize", "--objective", "celecoxib_rediscovery", "--method", "graph_ga", "--budget", "10",
      "--out", "{out}"], "rdkit", "molecules"),
    (["molecules", "score", "{root}/mols.smi", "--config", "druglike", "--out", "{out}.csv"], "rdkit", "molecules"),
    (["molecules", "benchmark", "{root}/mols.smi", "--out", "{out}.json"], "rdkit", "molecules"),
    (["fit", "{root}/table.csv", "--model", "neural", "--out", "{out}"], "torch", "neural"),
    (["fit", "{root}/table.csv", "--model", "neural", "--epsilon", "1", "--release-detected-metadata", "--out",
      "{out}"], "opacus", "dp-neural"),
    (["export", "{root}/run", "--format", "meds", "--out", "{out}"], "meds", "meds"),
    (["export", "{root}/run", "--format", "omop", "--omop-url", "postgresql://user@localhost:9/cdm"], "pg8000",
     "postgres"),
    (["generate", "-n", "2", "--scheduler", "local-dask", "--out", "{out}"], "dask", "dask"),
]


@pytest.mark.parametrize(("args", "package", "extra"), CASES, ids=[" ".join(c[0][:2]) + f" [{c[2]}]" for c in CASES])
def test_missing_extra_is_named_politely(base: dict, tmp_path: Path, args: list[str], package: str, extra: str) -> None:
    out = tmp_path / "out"
    argv = [a.format(root=base["root"], out=out) for a in args]
    res = subprocess.run([*base["cmd"], *argv], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"pip install 'hygeia[{extra}]'" in res.stderr and package in res.stderr, res.stderr
    assert "Traceback" not in res.stderr + res.stdout and "ModuleNotFoundError" not in res.stderr
    assert res.stderr.startswith("Error: ")
    assert list(tmp_path.iterdir()) == []  # no output, no temporary leftovers
