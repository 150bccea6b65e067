"""Synthea's whole module corpus loads, and 1,000 patients run with all of it at once.

The corpus is Synthea's ``src/main/resources/modules`` as shipped with Hygeia
(``--modules synthea``; see ``src/hygeia/population/synthea/README.md``). The population is generated once per module and held to every
invariant in :mod:`_invariants`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _invariants import INVARIANTS, Run, require_synthea

from hygeia.core.schema import EVENT_KINDS
from hygeia.core.storage import connect, read_run_info
from hygeia.population.engine import load_modules
from hygeia.population.generate import generate

#: Synthea's corpus: modules run for everyone, and submodules in sub-folders (lookup_tables/ aside).
TOP_LEVEL_MODULES = 99
SUBMODULES = 157

N = 1_000
SEED = 20240601


def test_every_corpus_file_loads() -> None:
    corpus = require_synthea()
    files = (p.relative_to(corpus) for p in corpus.rglob("*.json"))
    on_disk = sorted(p for p in files if p.parts[0] != "lookup_tables")
    top = {p.stem for p in on_disk if len(p.parts) == 1}
    sub = {p.with_suffix("").as_posix() for p in on_disk if len(p.parts) > 1}

    modules = load_modules([corpus])

    assert (len(modules.modules), len(modules.submodules)) == (TOP_LEVEL_MODULES, SUBMODULES)
    assert {m.key for m in modules.modules} == top
    assert set(modules.submodules) == sub
    assert all(m.initial is not None for m in [*modules.modules, *modules.submodules.values()])


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, object]:
    """1,000 patients with every Synthea module (and none of Hygeia's), made once."""
    corpus = require_synthea()
    out = tmp_path_factory.mktemp("synthea") / "run"
    result = generate(n=N, seed=SEED, out=str(out), modules=[str(corpus)], default_modules=False, workers=2)
    return Run(path=result.out, n=N), result


@pytest.fixture(scope="module")
def con(population: tuple[Run, object]):
    connection = connect(population[0].path)
    yield connection
    connection.close()


@pytest.mark.slow
def test_thousand_patients_run_with_every_module(population, con) -> None:
    run, result = population
    assert (result.n_persons, result.seed) == (N, SEED)
    info = read_run_info(run.path)
    assert info["counts"]["persons"] == N and info["counts"]["events"] == result.n_events > N
    (source,) = info["modules"]
    assert source["source"] == "user" and Path(source["path"]) == require_synthea().resolve()
    assert len(source["modules"]) == TOP_LEVEL_MODULES + SUBMODULES, json.dumps(source["modules"])

    # All modules ran at once: a broad share of them left facts, of most kinds.
    (modules_seen,) = con.execute("SELECT count(DISTINCT module) FROM events WHERE module NOT LIKE '%/%'").fetchone()
    assert modules_seen >= 50, f"only {modules_seen} top-level modules produced facts for {N} patients"
    kinds = {k for (k,) in con.execute("SELECT DISTINCT kind FROM events").fetchall()}
    assert {"encounter", "condition", "medication", "observation", "procedure", "immunization", "death"} <= kinds
    assert kinds <= set(EVENT_KINDS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(INVARIANTS))
def test_invariant(population, con, name: str) -> None:
    problems = INVARIANTS[name](con, population[0])
    assert not problems, "\n".join(problems)
