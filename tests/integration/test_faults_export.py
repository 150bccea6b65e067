"""Fault injection for exports: a killed export continues with ``--resume`` (issue 21).

The export runs in a child process leading a process group of its own (a forked copy of this
one, or the command line in a subprocess), and the test-only hook
``HYGEIA_TEST_KILL_EXPORT_SHARD`` (:mod:`hygeia.core._faults`) SIGKILLs that whole group, workers
included, once a chosen shard is written and before it is journalled: a power cut in the middle
of the export, with one shard torn. ``--resume`` must then end with the output an uninterrupted export writes:
byte for byte, except the two things that differ between any two exports anyway (a MEDS
dataset's ``created_at``, which a resumed export keeps from the export it continues; a DuckDB
file's bytes, compared table by table, row by row).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from hygeia.cli.main import main
from hygeia.core._faults import EXPORT_KILL_ENV, KILL_ENV
from hygeia.errors import ConfigError, Terminated
from hygeia.export import export
from hygeia.population import generate

HYGEIA = [sys.executable, "-c", "from hygeia.cli.main import run; run()"]  # the console entry point
OUT = {"fhir": "fhir", "ndjson": "bulk", "omop": "cdm.duckdb", "meds": "meds", "csv": "csv",
       "synthea-csv": "synthea"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run of five shards (records from 2020 on, so that every export takes a fraction of a second)."""
    out = tmp_path_factory.mktemp("run") / "run"
    generate(n=15, seed=5, shard_size=3, out=out, workers=1, start="2020-01-01")
    return out


def _killed_fork(run: Path, fmt: str, out: Path, at: int, **options: object) -> None:
    """Export in a forked child leading its own process group, SIGKILLed as a whole once shard ``at`` is written.

    (One process: worker processes would come from a forkserver this process may have started.)
    """
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.setpgid(0, 0)
            os.environ[EXPORT_KILL_ENV] = str(at)
            export(run, fmt, out, **options)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(3)
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    if done[0] == 0:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the export was not killed within 60 s")
    assert os.WIFSIGNALED(done[1]) and os.WTERMSIG(done[1]) == signal.SIGKILL, done


def _killed(*args: str, at: int) -> subprocess.CompletedProcess:
    """Run ``hygeia ARGS`` in a process group of its own, SIGKILLed as a whole once shard ``at`` is written."""
    env = {k: v for k, v in os.environ.items() if k not in (KILL_ENV, EXPORT_KILL_ENV)}
    env[EXPORT_KILL_ENV] = str(at)
    r = subprocess.run([*HYGEIA, *args], capture_output=True, text=True, timeout=120, env=env,
                       start_new_session=True)
    assert r.returncode == -signal.SIGKILL, r.stderr
    return r


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def _content(path: Path) -> dict[str, object]:
    """Every file's bytes (a MEDS dataset.json without created_at); a DuckDB file's rows, table by table."""
    if path.is_file():
        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                                "WHERE table_schema = 'main' ORDER BY table_name").fetchall()]
            return {t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
        finally:
            con.close()
    out: dict[str, object] = {}
    for p in sorted(path.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "dataset.json":
                meta = json.loads(data)
                assert meta.pop("created_at")
                data = json.dumps(meta, sort_keys=True).encode()
            out[p.relative_to(path).as_posix()] = data
    return out


@pytest.mark.parametrize("fmt", list(OUT))
def test_an_export_killed_mid_way_resumes_to_the_uninterrupted_output(run: Path, tmp_path: Path, fmt: str,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / OUT[fmt]
    _killed_fork(run, fmt, out, at=2)
    assert not out.exists()
    (tmp,) = [tmp_path / n for n in _temporaries(tmp_path) if not n.endswith((".journal", ".lock", ".wal"))]
    assert (tmp_path / (tmp.name + ".journal")).is_file()
    counts = export(run, fmt, out, resume=True, progress=True)
    err = capsys.readouterr().err
    assert f"resuming {tmp}: 2 of 5 shards already written and verified" in err, err
    reference = tmp_path / "reference" / OUT[fmt]
    assert export(run, fmt, reference) == counts
    assert _content(out) == _content(reference)
    assert _temporaries(tmp_path) == [], "the temporary, its journal and its lock file are gone"


def test_fhir_bundles_killed_with_workers_resume_and_a_damaged_file_is_redone(run: Path, tmp_path: Path,
                                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fhir"
    code = (f"from hygeia.export import export; export({str(run)!r}, 'fhir', {str(out)!r}, workers=2, "
            "max_entries=20)")  # the CLI has no --workers: the Python API, in a process of its own
    env = {k: v for k, v in os.environ.items() if k not in (KILL_ENV, EXPORT_KILL_ENV)}
    r = subprocess.run([sys.executable, "-c", code], env={**env, EXPORT_KILL_ENV: "3"}, capture_output=True,
                       text=True, timeout=120, start_new_session=True)
    assert r.returncode == -signal.SIGKILL, r.stderr  # the whole group: its two worker processes too
    (tmp,) = [tmp_path / n for n in _temporaries(tmp_path) if not n.endswith((".journal", ".lock"))]
    journal = json.loads((tmp_path / (tmp.name + ".journal")).read_text().splitlines()[2])  # shard 1's entry
    damaged = tmp / min(journal["files"])
    damaged.write_bytes(damaged.read_bytes()[:-2] + b"]}")  # same size, other bytes: only the SHA-256 sees it
    with pytest.raises(ConfigError, match=re.escape("--max-entries 20 (now 30)")):
        export(run, "fhir", out, resume=True, max_entries=30)
    export(run, "fhir", out, resume=True, progress=True, max_entries=20)  # one worker now: the same output
    assert "1 of 5 shards already written and verified" in capsys.readouterr().err
    assert _content(out) == _content(export_to(run, "fhir", tmp_path / "reference", max_entries=20))
    assert _temporaries(tmp_path) == []


def export_to(run: Path, fmt: str, out: Path, **options: object) -> Path:
    export(run, fmt, out, **options)
    return out


def test_a_damaged_journal_line_redoes_its_shard_and_the_stream_is_cut_back(run: Path, tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "csv"
    _killed("export", str(run), "--format", "csv", "--out", str(out), "-q", at=3)
    (journal,) = tmp_path.glob(".csv.tmp-*.journal")
    lines = journal.read_text().splitlines(keepends=True)
    assert len(lines) == 4  # the header and shards 0, 1 and 2 (shard 3 was written, not journalled)
    assert '"patients":3' in lines[2]
    lines[2] = lines[2].replace('"patients":3', '"patients":4', 1)  # shard 1's counts, changed on disk
    journal.write_text("".join(lines))
    export(run, "csv", out, resume=True, progress=True)
    assert "1 of 5 shards already written and verified" in capsys.readouterr().err
    assert _content(out) == _content(export_to(run, "csv", tmp_path / "reference"))


def test_other_options_are_refused_each_named_and_the_export_is_kept(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "meds"
    code = (f"from hygeia.export import export; export({str(run)!r}, 'meds', {str(out)!r}, "
            "splits={'train': 0.5, 'held_out': 0.5}, dataset_name='a')")
    env = {k: v for k, v in os.environ.items() if k not in (KILL_ENV, EXPORT_KILL_ENV)}
    r = subprocess.run([sys.executable, "-c", code], env={**env, EXPORT_KILL_ENV: "1"}, capture_output=True,
                       text=True, timeout=120, start_new_session=True)
    assert r.returncode == -signal.SIGKILL, r.stderr
    with pytest.raises(ConfigError) as e:
        export(run, "meds", out, resume=True, splits={"train": 0.6, "held_out": 0.4}, dataset_name="b")
    message = str(e.value)
    for words in ("cannot resume the interrupted export of", "1 of 5 shards done",
                  "--dataset-name 'a' (now 'b')", "--splits.held_out 0.5 (now 0.4)", "--splits.train 0.5 (now 0.6)",
                  "Pass the same options to resume it, or leave out --resume"):
        assert words in message, message
    assert len(_temporaries(tmp_path)) == 3, "a refused resume keeps the interrupted export (output, journal, lock)"
    r = subprocess.run([*HYGEIA, "export", str(run), "--format", "meds", "--out", str(out)], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert f"note: an interrupted export of {out} (1 of 5 shards done)" in r.stderr and "--resume" in r.stderr
    assert _temporaries(tmp_path) == [], "a finished export to the same --out supersedes the interrupted one"


def test_resume_with_nothing_to_resume_exports_from_the_start_and_says_so(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    r = subprocess.run([*HYGEIA, "export", str(run), "--format", "csv", "--out", str(out), "--resume"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"note: there is no interrupted export of {out} to resume: exporting from the start" in r.stderr
    assert "run the same command without it" in r.stderr
    assert _content(out) == _content(export_to(run, "csv", tmp_path / "reference"))
    r = CliRunner().invoke(main, ["export", str(run), "--format", "omop", "--omop-url", "postgresql://u@h/db",
                                  "--resume"])
    assert r.exit_code == 2 and "--resume goes with an export to a file or folder" in r.output, r.output


@pytest.mark.parametrize("stop", [KeyboardInterrupt, Terminated])
@pytest.mark.parametrize("fmt", ["ndjson", "csv", "omop"])
def test_an_export_stopped_by_ctrl_c_or_sigterm_keeps_its_shards_for_resume(run: Path, tmp_path: Path, fmt: str,
                                                                            stop: type[BaseException],
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from hygeia.export import _base

    real = _base.iter_shards

    def stopped_after_three(path, start=0):  # the signal arrives while shard 3 is read
        for i, shard in enumerate(real(path, start=start)):
            if i == 3:
                raise stop()
            yield shard

    out = tmp_path / OUT[fmt]
    monkeypatch.setattr(_base, "iter_shards", stopped_after_three)
    with pytest.raises(stop) as info:
        export(run, fmt, out)
    monkeypatch.setattr(_base, "iter_shards", real)
    kept, done, total = info.value.kept
    assert (done, total) == (3, 5) and kept.exists() and not out.exists()
    resumed = export(run, fmt, out, resume=True)
    reference = tmp_path / "reference" / OUT[fmt]
    assert export(run, fmt, reference) == resumed
    assert _content(out) == _content(reference)
    assert _temporaries(tmp_path) == []


def test_an_export_stopped_before_its_first_shard_leaves_nothing(run: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from hygeia.export import _base

    def stopped(path, start=0):
        raise KeyboardInterrupt
        yield  # a generator

    monkeypatch.setattr(_base, "iter_shards", stopped)
    with pytest.raises(KeyboardInterrupt) as info:
        export(run, "csv", tmp_path / "csv")
    assert not hasattr(info.value, "kept")
    assert list(tmp_path.iterdir()) == []
