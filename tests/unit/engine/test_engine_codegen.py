"""Compiled choices (``_codegen``) decide exactly as the node-by-node reference does."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hygeia.core.config import BUILTIN_MODULE_FOLDERS
from hygeia.population.engine import Person, default_modules_dir, load_modules
from hygeia.population.engine._transitions import Complex, Conditional
from hygeia.population.engine._units import YEAR_MS

SYNTHEA = Path(BUILTIN_MODULE_FOLDERS["synthea"])  # Synthea's corpus, shipped with Hygeia


def _folders() -> list[Path]:
    return [default_modules_dir(), SYNTHEA]


def _people(n: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = Person(i + 1, i, -rng.randrange(0, 90) * YEAR_MS, rng.choice("MF"), rng.choice(
            ["white", "black", "asian", "native", "hawaiian", "other"]), rng.choice(["hispanic", "nonhispanic"]))
        p.ses = rng.choice(["Low", "Middle", "High"])
        for name in ("smoker", "pregnant", "diabetes", "hypertension", "ckd", "veteran", "obesity"):
            p.attrs[name] = rng.choice([True, False, None, 1, 0, 3])
        out.append(p)
    return out


@pytest.mark.parametrize("folder", _folders(), ids=lambda f: f.name)
def test_compiled_choices_match_the_reference(folder: Path) -> None:
    modules = load_modules([folder])
    people = _people(60, seed=7)
    checked = 0
    for m in list(modules.modules) + list(modules.submodules.values()):
        for st in m.states.values():
            tr = st.transition
            if not isinstance(tr, (Conditional, Complex)):
                continue
            for i, p in enumerate(people):
                t = p.birth + (i % 95) * YEAR_MS + i * 86_400_000
                # Both draw from the person's generator when a distribution is chosen: same seed, same draw.
                p.rng.seed(i)
                fast = tr.choose(p, t)
                p.rng.seed(i)
                assert fast is tr.choose_slow(p, t), (m.key, st.name, i)
                checked += 1
    assert checked > 100
