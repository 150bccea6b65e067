"""Loading and validating folders of modules in Synthea's Generic Module Framework format.

Layout, as in Synthea: JSON files at the top of a folder are modules run for
every person; files in sub-folders are submodules, called by their relative
path without ``.json`` (``medications/ace_arb``); ``lookup_tables/`` holds the
CSV tables of lookup-table transitions. Every problem in every file is
collected and raised as one :class:`~hygeia.errors.ModuleValidationError`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from hygeia.errors import ModuleValidationError
from hygeia.population.engine._states import CallSubmodule, Delay, State, Terminal, compile_state
from hygeia.population.engine._tables import LookupTable

__all__ = ["Module", "ModuleSet", "default_modules_dir", "load_modules", "load_run_modules"]


def default_modules_dir() -> Path:
    """The folder of Hygeia's own embedded module library."""
    return Path(__file__).resolve().parent.parent / "modules"


@dataclass
class Module:
    """One compiled module: its key (provenance name), file, states and Initial state."""

    key: str
    name: str
    path: str
    states: dict[str, State]
    initial: State | None
    submodule: bool
    remarks: list[str] = field(default_factory=list)


@dataclass
class ModuleSet:
    """The modules of a run: those run for everyone, and the submodules they call.

    ``sources`` lists each folder loaded and its module count; the content hash that
    ``run.json`` records comes from :func:`hygeia.core.storage.hash_folder`, which
    also covers the lookup tables.
    """

    modules: list[Module]
    submodules: dict[str, Module]
    sources: list[dict]
    warnings: list[str] = field(default_factory=list)
    #: Every string the module files hold as a JSON value, and every key column of their
    #: lookup tables: a name no module mentions here (an attribute) is read by none of them.
    mentioned: frozenset = frozenset()

    def __len__(self) -> int:
        return len(self.modules)


class _Context:
    """What a module's states need while compiling: names, tables, references to check."""

    def __init__(self, key: str, path: str, folder: str | None, tables: dict) -> None:
        self.key = key
        self.path = path
        self.folder = folder
        self.tables = tables
        self.prior_refs: list[tuple[str, str, str | None]] = []
        self.submodule_refs: list[tuple[str, str]] = []
        self.state_refs: list[tuple[str, str, str]] = []

    def lookup_table(self, name: str, outcomes: list[str], where: str, problems: list[str]):
        base = self.folder or os.path.dirname(self.path)
        path = os.path.join(base, "lookup_tables", name)
        key = (path, tuple(outcomes))
        if key not in self.tables:
            self.tables[key] = LookupTable(path, outcomes, where, problems)
        return self.tables[key]


def _compile_module(key: str, path: str, folder: str | None, data, submodule: bool, tables: dict,
                    problems: list[str], warnings: list[str]) -> Module | None:
    if not isinstance(data, dict) or not isinstance(data.get("states"), dict):
        problems.append(f"{path}: a module must be an object with a 'states' object")
        return None
    ctx = _Context(key, path, folder, tables)
    states: dict[str, State] = {}
    for name, spec in data["states"].items():
        st = compile_state(name, spec, ctx, problems)
        if st is not None:
            states[name] = st
    for st in states.values():
        st.link(states, problems)
    initial = states.get("Initial")
    if "Initial" not in data["states"]:
        problems.append(f"{path}: module has no state named 'Initial'")
    for where, field_name, name in ctx.state_refs:
        if submodule and field_name == "target_encounter":
            continue  # a submodule's diagnosis may wait for an encounter of the module that calls it
        if name not in data["states"]:
            warnings.append(f"{where}: {field_name} names missing state {name!r}, so it will never match "
                            f"(Synthea ignores it too); name one of the module's states or remove {field_name!r}")
    for where, name, since in ctx.prior_refs:
        for n in (name, since):
            if n is not None and n not in data["states"]:
                problems.append(f"{where}: PriorState names missing state {n!r}")
            elif n is not None and n in states:
                states[n].tracked = True
    if not problems:
        for st in states.values():
            if isinstance(st, Delay):
                st.prepare_fast()
        _compress_direct_chains(states)
    m = Module(key, str(data.get("name", key)), path, states, initial, submodule, list(data.get("remarks") or []))
    m._submodule_refs = ctx.submodule_refs  # type: ignore[attr-defined]
    return m


def _keep_counters_private(texts: list[tuple[Module, bytes]]) -> None:
    """Step again every loop whose counter another module names (reads or writes it).

    A fast-forwarded loop keeps its counter's value only where the loop wakes up
    (:meth:`~hygeia.population.engine._states.Delay.prepare_fast`), so it must be the
    only reader and writer of that attribute; any other module file that holds the
    attribute's name as a JSON string vetoes it.
    """
    for m, _ in texts:
        for st in m.states.values():
            fast = st.fast
            if fast is not None and fast.counter is not None:
                name = json.dumps(fast.counter).encode()
                if fast.counter in _READ_BY_LIFECYCLE or any(other is not m and name in text for other, text in texts):
                    st.drop_fast()


#: Attributes that the lifecycle's own code reads or sets (vital signs, cardiovascular risk,
#: smoking, insurance, demographics): never a fast-forwarded loop's counter.
_READ_BY_LIFECYCLE = frozenset({
    "RH_NEG", "atrial_fibrillation", "blood_pressure_controlled", "chf", "ckd", "diabetes", "diabetes_severity",
    "education", "ethnicity", "ever_smoked", "gender", "hypertension", "hypertension_severe", "income",
    "insurance_status", "marital_status", "prediabetes", "quit smoking age", "race", "smoker", "state",
})


def _compress_direct_chains(states: dict[str, State]) -> None:
    """Let direct transitions jump over Simple states that only pass on directly.

    Such a state does nothing and chooses nothing, so skipping it changes no record;
    states asked about by a PriorState condition are never skipped.
    """
    for st in states.values():
        seen = 0
        nxt = st.direct
        while (nxt is not None and nxt.trivial and not nxt.tracked and nxt.direct is not None
               and nxt.direct is not st and seen < len(states)):
            nxt = nxt.direct
            seen += 1
        if nxt is not st.direct and nxt is not None:
            st.direct = nxt


def _may_pass_without_waiting(module: Module, waits_of_call) -> bool:
    """Whether some path from Initial reaches Terminal without any state where time can pass."""
    if module.initial is None:
        return False
    seen, stack = set(), [module.initial]
    while stack:
        st = stack.pop()
        if st.name in seen:
            continue
        seen.add(st.name)
        if isinstance(st, Terminal):
            return True
        if st.waits or (isinstance(st, CallSubmodule) and waits_of_call(st)):
            continue
        stack.extend(module.states[n] for n in st.targets() if n in module.states)
    return False


def _check_cycles(module: Module, waits_of_call, problems: list[str]) -> None:
    """Report every trap: states in which time never passes and from which no path leads out.

    Loops whose conditions can change as they run (a conditional exit) are
    allowed, as in Synthea; a closed loop of instant states is an endless loop.
    """
    instant = {
        name for name, st in module.states.items()
        if not (st.waits or (isinstance(st, CallSubmodule) and waits_of_call(st)) or isinstance(st, Terminal))
    }
    edges = {n: [t for t in module.states[n].targets() if t in module.states] for n in instant}
    # Strongly connected components (iterative Tarjan) of the instant sub-graph.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    for root in sorted(instant):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = [t for t in edges[node] if t in instant]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                cyclic = len(comp) > 1 or node in edges[node]
                closed = all(t in comp for n in comp for t in edges[n])
                dead_end = any(not edges[n] for n in comp)
                if cyclic and closed and not dead_end:
                    cycle = sorted(comp)
                    problems.append(
                        f"{module.path}: state {cycle[0]}: states {cycle} form a loop that never advances time "
                        "and cannot be left; add a Delay, a Guard or a wellness Encounter to it"
                    )


def _module_files(folder: Path) -> list[tuple[Path, bool]]:
    out = []
    for p in sorted(folder.rglob("*.json")):
        rel = p.relative_to(folder)
        if rel.parts[0] == "lookup_tables":
            continue
        out.append((p, len(rel.parts) > 1))
    return out


def load_modules(paths, *, strict: bool = False) -> ModuleSet:
    """Load and validate every module in ``paths`` (folders or single JSON files).

    Problems that make a module unrunnable are errors. A state named by a field
    other than a transition (``target_encounter``, ``condition_onset``,
    ``medication_order``...) that does not exist is a warning, kept in
    ``ModuleSet.warnings`` and in ``run.json``: Synthea's own modules have a few,
    and Synthea ignores them. ``strict=True`` makes warnings errors.

    Args:
        paths: an iterable of module folders and/or module files.
        strict: treat warnings as errors.

    Returns:
        The compiled :class:`ModuleSet`.

    Raises:
        ModuleValidationError: listing every problem found, each with file and state.

    Example:
        >>> ms = load_modules([default_modules_dir()])
        >>> len(ms) >= 15
        True
    """
    problems: list[str] = []
    warnings: list[str] = []
    tables: dict = {}
    modules: list[Module] = []
    submodules: dict[str, Module] = {}
    sources: list[dict] = []
    keys: set[str] = set()
    texts: list[tuple[Module, bytes]] = []
    mentioned: set[str] = set()
    for raw in paths:
        root = Path(raw)
        if root.is_dir():
            files = _module_files(root)
            folder = str(root)
        elif root.is_file():
            files, folder = [(root, False)], None
        else:
            problems.append(f"{root}: no such module folder or file")
            continue
        count = 0
        for path, is_sub in files:
            try:
                text = path.read_bytes()
                data = json.loads(text)
            except json.JSONDecodeError as e:
                problems.append(f"{path}: bad JSON at line {e.lineno} column {e.colno}: {e.msg}")
                continue
            except OSError as e:
                problems.append(f"{path}: cannot read ({e.strerror})")
                continue
            if is_sub:
                key = path.relative_to(root).with_suffix("").as_posix()
            else:
                key = path.stem
                if key in keys:
                    key = f"{root.name}/{path.stem}"
            m = _compile_module(key, str(path), folder, data, is_sub, tables, problems, warnings)
            if m is None:
                continue
            texts.append((m, text))
            _strings(data, mentioned)
            count += 1
            if is_sub:
                submodules.setdefault(key, m)
            else:
                keys.add(key)
                modules.append(m)
        sources.append({"path": str(root), "modules": count})
    # Bind CallSubmodule targets, then look for endless cycles.
    for m in modules + list(submodules.values()):
        for where, ref in m._submodule_refs:  # type: ignore[attr-defined]
            if isinstance(ref, str) and ref not in submodules:
                problems.append(f"{where}: submodule {ref!r} not found (looked for {ref}.json in a module folder)")
        for st in m.states.values():
            if isinstance(st, CallSubmodule):
                st.target = submodules.get(st.submodule)
    memo: dict[str, bool] = {}

    def waits_of_call(st: CallSubmodule) -> bool:
        sub = st.target
        if sub is None:
            return True
        if sub.key not in memo:
            memo[sub.key] = True  # recursion guard: assume it waits
            memo[sub.key] = not _may_pass_without_waiting(sub, waits_of_call)
        return memo[sub.key]

    for m in modules + list(submodules.values()):
        _check_cycles(m, waits_of_call, problems)
    _keep_counters_private(texts)
    if strict:
        problems.extend(warnings)
    if problems:
        raise ModuleValidationError(problems)
    for table in tables.values():
        mentioned.update(getattr(table, "key_cols", ()))
    return ModuleSet(modules, submodules, sources, warnings, frozenset(mentioned))


def _strings(data, out: set[str]) -> None:
    """Add every string value in a parsed JSON document to ``out``."""
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            out.add(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)


def load_run_modules(config) -> ModuleSet:
    """The modules of a run: the embedded library (unless turned off) and ``config.modules``.

    Raises:
        ModuleValidationError: listing every problem in every module.
    """
    paths = ([default_modules_dir()] if config.default_modules else []) + [Path(m) for m in config.modules]
    return load_modules(paths)
