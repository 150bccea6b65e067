"""The README works from a fresh clone with nothing beside it: every code block, in order, exits 0.

The repository is cloned (committed HEAD) into an empty temporary folder, so neither
``../shared`` nor any untracked file is there, and every ``sh`` and ``python`` block of
README.md runs in that clone, in order, as a user would paste it. The README is run in
``PARTS`` (runs of whole ``##`` sections), each in its own fresh clone and its own test file
(test_readme*.py), so that pytest-xdist's ``--dist loadfile`` can give them to different
workers (this module holds what they share); ``test_readme_parts_are_independent`` checks
that no two parts name the same ``runs/`` output, so running them apart is running them in
order. Blocks fenced as
``text`` are sample output and are not run; a block with any other fence fails the
test (say what it is). The already-built virtual environment serves the commands
(its ``bin`` on ``PATH``, nothing reinstalled), but ``PYTHONPATH`` points at the
clone's ``src``, and the test checks that ``hygeia`` is imported from the clone.

What the test changes in a block, and why (long runs get small sizes):

==========================================  ===========================================================
README                                      run here
==========================================  ===========================================================
``.venv/bin/CMD``                           ``CMD`` from the built environment (on ``PATH``)
``make demo``                               ``make demo VENV=<built env> -o <built env>/.installed
                                            DEMO_N=40`` (the demo without its install step, on 40
                                            persons instead of 1000)
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

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
RUN, SAMPLE = {"sh", "bash", "python"}, {"text"}
SIZES = [(r"(?<![\w-])-n 1000\b", "-n 40"), (r"(?<![\w-])-n 1500\b", "-n 300"),
         (r"(?<![\w-])-n 10000\b", "-n 200"), (r"--budget 2000\b", "--budget 60")]
#: The README's parts, in order: a part is named by the ``##`` heading it starts at and runs to the next
#: part's heading (the first part also has what comes before its heading). Each has its own test file.
PARTS = {
    "records": "## Set-up: two commands on a fresh machine",  # set-up, population, export, notes, de-identification
    "images": "## Medical images",  # images, treatment plans, virtual patients
    "tables": "## Evaluate synthetic data",  # evaluation, tables, molecules, the service
    "benchmarks": "## Benchmarks",  # the benchmark scripts and figures.py --write (to the end)
}
#: The first path component under ``runs/`` that a block names (what it writes or reads).
RUNS_PATH = re.compile(r"(?<![\w/.-])runs/([\w.-]+)")
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
        command = re.sub(r"^make demo\b", f"make demo VENV={venv} -o {venv}/.installed DEMO_N=40", command)
        for pattern, small in SIZES:
            command = re.sub(pattern, small, command)
        for script, extra in BENCH_SIZES.items():
            if script in command:
                command = f"{command} {extra} --out runs/bench/{Path(script).stem}-{len(lines)}.json"
        lines.append(command)
    return "set -euo pipefail\n" + "\n".join(lines) + "\n", skipped


def readme_parts(text: str) -> dict[str, list[tuple[str, str]]]:
    """The fenced blocks of each part of ``PARTS`` (see ``readme_blocks``); every block is in one part."""
    starts = []
    for name, heading in PARTS.items():
        found = [m.start() for m in re.finditer(rf"^{re.escape(heading)}[ \t]*$", text, re.MULTILINE)]
        assert len(found) == 1, f"README.md should have the heading {heading!r} (part {name!r}) once, not {len(found)} times"
        starts.append(found[0])
    assert starts == sorted(starts), f"the README's headings are no longer in the order of PARTS: {list(PARTS.values())}"
    bounds = [0, *starts[1:], len(text)]
    return {name: readme_blocks(text[bounds[i]:bounds[i + 1]]) for i, name in enumerate(PARTS)}


def runs_paths(blocks: list[tuple[str, str]]) -> set[str]:
    """The ``runs/X`` outputs (first path component) that the blocks name."""
    return {f"runs/{m.group(1)}" for _, body in blocks for m in RUNS_PATH.finditer(body)}


def _status(clone: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone, text=True,
                          capture_output=True, check=True).stdout


def run_part(part: str, tmp_path: Path, omop_url: str | None) -> None:
    """Clone the repository into ``tmp_path`` and run the part's blocks there, in order; each must exit 0."""
    clone = tmp_path / "hygeia"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hygeia"]  # nothing beside it: no ../shared
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(clone / "src"), "OMP_NUM_THREADS": "1"}
    where = subprocess.run([sys.executable, "-c", "import hygeia; print(hygeia.__file__)"], cwd=clone, env=env,
                           text=True, capture_output=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(clone), f"hygeia imported from {where}, not from the clone"
    text = (clone / "README.md").read_text(encoding="utf-8")
    unmarked = [body.splitlines()[0] for lang, body in readme_blocks(text) if lang not in RUN | SAMPLE]
    assert not unmarked, f"README blocks without a sh/python/text fence: {unmarked}"
    ran = 0
    for i, (lang, body) in enumerate(readme_parts(text)[part]):
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
        print(f"{part} block {i} ({lang}, {took:.0f} s){' skipped: ' + '; '.join(skipped) if skipped else ''}")
        assert proc.returncode == 0, (
            f"README part {part!r}, block {i} ({lang}) exited {proc.returncode}:\n{body}\n--- stderr ---\n"
            f"{proc.stderr[-4000:]}\n--- stdout ---\n{proc.stdout[-2000:]}")
        if "benchmarks/" not in body:
            assert _status(clone) == "", f"README part {part!r}, block {i} wrote outside the git-ignored runs/:\n" \
                                         f"{_status(clone)}"
        ran += 1
    assert ran >= 1 and (clone / "runs").is_dir()
