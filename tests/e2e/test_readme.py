"""The README works from a fresh clone with nothing beside it: every code block, in order, exits 0.

The repository is cloned (committed HEAD) into an empty temporary folder, so neither
``../shared`` nor any untracked file is there, and every ``sh`` and ``python`` block of
README.md runs in that clone, in order, as a user would paste it. Blocks fenced as
``text`` are sample output and are not run; a block with any other fence fails the
test (say what it is). The already-built virtual environment serves the commands
(its ``bin`` on ``PATH``, nothing reinstalled), but ``PYTHONPATH`` points at the
clone's ``src``, and the test checks that ``hygeia`` is imported from the clone.

What the test changes in a block, and why (long runs get small sizes):

==========================================  ===========================================================
README                                      run here
==========================================  ===========================================================
``.venv/bin/CMD``                           ``CMD`` from the built environment (on ``PATH``)
``make demo``                               ``make demo VENV=<built env> -o <built env>/.installed``
                                            (the demo without its install step)
``make test``                               not run: it is the suite this test belongs to
a line with ``pip install``                 not run: the built environment has every extra
``--omop-url postgresql://...``             a fresh database made for this test on the server of
                                            ``$HYGEIA_TEST_POSTGRES_URL`` (dropped after); skipped without it
``-n 1000`` / ``-n 1500`` / ``-n 10000``    ``-n 40`` / ``-n 300`` / ``-n 200``
``--budget 2000``                           ``--budget 60``
``benchmarks/X.py ...``                     the same with small sizes appended (see ``BENCH_SIZES``) and
                                            ``--out runs/bench/X-K.json``, so the committed results (which
                                            ``figures.py --write`` then renders) are left alone
==========================================  ===========================================================

After each block that does not run a benchmark, the clone must be unchanged apart from
git-ignored files: every example writes under ``runs/``. (``figures.py --write``
re-renders the figures in place, by design.)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
RUN, SAMPLE = {"sh", "bash", "python"}, {"text"}
SIZES = [(r"(?<![\w-])-n 1000\b", "-n 40"), (r"(?<![\w-])-n 1500\b", "-n 300"),
         (r"(?<![\w-])-n 10000\b", "-n 200"), (r"--budget 2000\b", "--budget 60")]
#: Small sizes appended to each benchmark script's command (argparse: the last value wins).
BENCH_SIZES = {
    "benchmarks/population.py": "--n 10 --seeds 1 --sizes 20,40",
    "benchmarks/export.py": "--n 10 --seeds 1",
    "benchmarks/notes.py": "--n 5 --seeds 1",
    "benchmarks/summaries.py": "--n 20 --seeds 1",
    "benchmarks/deid.py": "--notes 4 --records 2",
    "benchmarks/extract.py": "--seeds 101 --persons 2",
    "benchmarks/guard.py": "--seeds 101 --persons 2 --notes 4",
    "benchmarks/imaging.py": "--parts render,io,link --quick --results-dir runs/bench/imaging",
    "benchmarks/twin.py": "--parts sepsis --quick --results-dir runs/bench/twin",
    "benchmarks/tutor.py": "--quick --parts generate,latency,frequencies",
    "benchmarks/evaluate.py": "--rows 300 --seeds 1",
    "benchmarks/tabular.py": "--datasets flchain --models copula --rows 200 --no-sdv --no-sequence",
    "benchmarks/molecules.py": "--n 40 --budget 30 --seeds 0 --objectives celecoxib_rediscovery",
}


def readme_blocks(text: str) -> list[tuple[str, str]]:
    """``(fence language, body)`` of every fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def _shell(body: str, omop_url: str | None = None) -> tuple[str, list[str]]:
    """The block as run here, and the lines left out (with why)."""
    venv = str(VENV_BIN.parent)
    lines, skipped = ["mkdir -p runs/bench"], []
    for line in body.replace("\\\n", " ").splitlines():
        command = line.split("#", 1)[0].strip()  # README commands have no '#' but their comments
        if not command:
            continue
        if "pip install" in command:
            skipped.append(f"{command} (the built environment has every extra)")
            continue
        if re.fullmatch(r"make test\b.*", command):
            skipped.append(f"{command} (the suite this test belongs to)")
            continue
        if "--omop-url" in command:
            url = omop_url
            if not url:
                skipped.append(f"{command} (no HYGEIA_TEST_POSTGRES_URL)")
                continue
            command = re.sub(r"--omop-url \S+", f"--omop-url {url}", command)
        command = command.replace(".venv/bin/", "")
        command = re.sub(r"^make demo\b", f"make demo VENV={venv} -o {venv}/.installed", command)
        for pattern, small in SIZES:
            command = re.sub(pattern, small, command)
        for script, extra in BENCH_SIZES.items():
            if script in command:
                command = f"{command} {extra} --out runs/bench/{Path(script).stem}-{len(lines)}.json"
        lines.append(command)
    return "set -euo pipefail\n" + "\n".join(lines) + "\n", skipped


@pytest.fixture
def omop_url():
    """A fresh, empty database on the test PostgreSQL server (None without one), dropped after."""
    base = os.environ.get("HYGEIA_TEST_POSTGRES_URL")
    if not base:
        yield None
        return
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import pg8000.native

    parts = urlsplit(base)
    name = f"hygeia_readme_{secrets.token_hex(4)}"
    admin = pg8000.native.Connection(user=parts.username or "postgres", host=parts.hostname or "127.0.0.1",
                                     port=parts.port or 5432, password=parts.password, database=parts.path.lstrip("/"))
    try:
        admin.run(f"CREATE DATABASE {name}")
        yield urlunsplit(parts._replace(path=f"/{name}"))
        admin.run(f"DROP DATABASE IF EXISTS {name}")
    finally:
        admin.close()


def _status(clone: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone, text=True,
                          capture_output=True, check=True).stdout


def test_markdown_blocks_are_parsed() -> None:
    text = "a\n```sh\necho 1 \\\n  2\n```\n```text\n$ out\n```\n"
    assert readme_blocks(text) == [("sh", "echo 1 \\\n  2\n"), ("text", "$ out\n")]
    script, skipped = _shell(".venv/bin/hygeia generate -n 1000 --out runs/x   # comment\npip install x\n")
    assert script.splitlines()[2:] == ["hygeia generate -n 40 --out runs/x"] and len(skipped) == 1
    script, _ = _shell("PYTHONHASHSEED=0 .venv/bin/python benchmarks/population.py   # population.json\n")
    assert script.splitlines()[2] == ("PYTHONHASHSEED=0 python benchmarks/population.py --n 10 --seeds 1 "
                                      "--sizes 20,40 --out runs/bench/population-1.json")


@pytest.mark.slow
def test_every_readme_block_runs_in_a_fresh_clone(tmp_path: Path, omop_url: str | None) -> None:
    clone = tmp_path / "hygeia"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hygeia"]  # nothing beside it: no ../shared
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(clone / "src"), "OMP_NUM_THREADS": "1"}
    where = subprocess.run([sys.executable, "-c", "import hygeia; print(hygeia.__file__)"], cwd=clone, env=env,
                           text=True, capture_output=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(clone), f"hygeia imported from {where}, not from the clone"
    blocks = readme_blocks((clone / "README.md").read_text(encoding="utf-8"))
    unmarked = [body.splitlines()[0] for lang, body in blocks if lang not in RUN | SAMPLE]
    assert not unmarked, f"README blocks without a sh/python/text fence: {unmarked}"
    ran = 0
    for i, (lang, body) in enumerate(blocks):
        if lang in SAMPLE:
            continue
        start = time.monotonic()
        if lang == "python":
            cmd, stdin, skipped = [sys.executable, "-"], body, []
        else:
            script, skipped = _shell(body, omop_url)
            cmd, stdin = [shutil.which("bash") or "bash", "-c", script], None
        proc = subprocess.run(cmd, input=stdin, cwd=clone, env=env, text=True, capture_output=True, timeout=1800, check=False)
        took = time.monotonic() - start
        print(f"block {i} ({lang}, {took:.0f} s){' skipped: ' + '; '.join(skipped) if skipped else ''}")
        assert proc.returncode == 0, (
            f"README block {i} ({lang}) exited {proc.returncode}:\n{body}\n--- stderr ---\n{proc.stderr[-4000:]}"
            f"\n--- stdout ---\n{proc.stdout[-2000:]}")
        if "benchmarks/" not in body:
            assert _status(clone) == "", f"README block {i} wrote outside the git-ignored runs/:\n{_status(clone)}"
        ran += 1
    assert ran >= 8 and (clone / "runs").is_dir()
