"""Run Medplum's FHIR validator (tests/tooling/fhir/validate.mjs) from the tests.

The tooling installs itself: ``npm ci`` of tests/tooling/fhir/package-lock.json into
``~/.cache/hygeia-tests/fhir-node-<hash of the tooling files>`` (``HYGEIA_TEST_CACHE``
overrides the folder), once, under a file lock; later runs reuse it offline. Node.js and
npm come from PATH (``scripts/ensure-node.sh`` installs Debian's where they are missing);
``HYGEIA_SKIP_NODE=1`` skips the tests that need them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hygeia.export.fhir import DEFINITIONS_DIR

TOOLING = Path(__file__).resolve().parents[2] / "tooling" / "fhir"
_FILES = ("package.json", "package-lock.json", "validate.mjs")


def tooling_dir() -> Path:
    """The installed tooling (node_modules and validate.mjs); installs it on first use."""
    if os.environ.get("HYGEIA_SKIP_NODE") == "1":
        pytest.skip("HYGEIA_SKIP_NODE=1: tests that need Node.js skipped on request")
    if shutil.which("node") is None or shutil.which("npm") is None:  # a clean machine: Debian's packages
        subprocess.run(["bash", str(Path(__file__).resolve().parents[3] / "scripts" / "ensure-node.sh")],
                       capture_output=True, text=True, timeout=900)
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.fail("Node.js and npm are needed for Medplum's FHIR validator (tests/tooling/fhir); install them, "
                    "or set HYGEIA_SKIP_NODE=1 to skip these tests", pytrace=False)
    digest = hashlib.sha256(b"".join((TOOLING / f).read_bytes() for f in _FILES)).hexdigest()[:16]
    base = Path(os.environ.get("HYGEIA_TEST_CACHE", Path.home() / ".cache" / "hygeia-tests"))
    target = base / f"fhir-node-{digest}"
    if (target / "node_modules" / "@medplum" / "core" / "package.json").is_file():
        return target
    base.mkdir(parents=True, exist_ok=True)
    with open(base / f"fhir-node-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time (parallel test workers)
        if (target / "node_modules" / "@medplum" / "core" / "package.json").is_file():
            return target
        staging = base / f".fhir-node-{digest}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for f in _FILES:
            shutil.copy2(TOOLING / f, staging / f)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                              cwd=staging, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"npm ci of tests/tooling/fhir failed (the first run needs the npm registry):\n"
                        f"{done.stderr[-2000:]}", pytrace=False)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def medplum_validate(*inputs: Path) -> dict:
    """Medplum's report on FHIR files/folders: ``{resources, profiles, extensions, definitions, errors}``."""
    where = tooling_dir()
    done = subprocess.run(["node", str(where / "validate.mjs"), str(DEFINITIONS_DIR), *map(str, inputs)],
                          capture_output=True, text=True, timeout=300, cwd=where)
    if done.returncode != 0:
        raise AssertionError(f"validate.mjs failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)
