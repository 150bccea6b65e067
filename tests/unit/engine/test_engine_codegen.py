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


def _leaves(cond, out: list) -> list:
    """Every leaf condition under ``cond``."""
    children = getattr(cond, "children", None)
    if children is not None:
        for c in children:
            _leaves(c, out)
    elif getattr(cond, "child", None) is not None:
        _leaves(cond.child, out)
    elif cond is not None:
        out.append(cond)
    return out


@pytest.mark.parametrize("folder", _folders(), ids=lambda f: f.name)
def test_inlined_comparisons_and_active_entries_match_the_reference(folder: Path) -> None:
    """Order comparisons of attributes and vital signs, and active-entry tests, are compiled inline:
    they must answer as ``test`` does for numbers, booleans, text, missing values and active codes."""
    from hygeia.population.engine import _logic as L
    from hygeia.population.engine._codegen import compile_test

    modules = load_modules([folder])
    leaves, codes, attrs = [], set(), set()
    for m in list(modules.modules) + list(modules.submodules.values()):
        for st in m.states.values():
            tr = st.transition
            for c in tr.conditions() if tr is not None else ():
                for leaf in _leaves(c, []):
                    if isinstance(leaf, (L.Attribute, L.VitalSign, L._Active)):
                        leaves.append(leaf)
                        if isinstance(leaf, L._Active):
                            codes.update(leaf.codes)
                        elif isinstance(leaf, L.Attribute):
                            attrs.add(leaf.attribute)
    assert leaves
    rng = random.Random(3)
    values = [None, True, False, 0, 1, 2, 3.5, -1, 250, "text", "2", [1], (1, 2)]
    codes = sorted(codes)
    for i, p in enumerate(_people(40, seed=11)):
        for a in sorted(attrs):
            p.attrs[a] = rng.choice(values)
        for table in ("conditions", "medications", "careplans", "allergies"):
            for c in rng.sample(codes, k=min(len(codes), 25)):
                getattr(p, table)[c] = [0] * 12
        vitals = {n: rng.choice([None, 5.0, 95.0, 140.0, 300.0]) for n in ("Systolic Blood Pressure", "BMI")}
        p.vital_fn = lambda person, name, t, vitals=vitals: vitals.get(name, 100.0)
        t = p.birth + (i % 95) * YEAR_MS
        for leaf in leaves:
            assert compile_test(leaf)(p, t) == leaf.test(p, t), (type(leaf).__name__, i)
