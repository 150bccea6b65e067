"""Simulate one shard of persons into the canonical ``persons`` / ``events`` tables.

Each worker process loads the run's modules and locale pack once (cached by
the options that determine them) and then simulates any shard it is handed.
Person ``i`` of a run always gets the seed ``SeedTree(seed).person_seed(i)``, so
a shard's records depend only on the run options and the person indexes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import operator
import threading
from functools import lru_cache

import numpy as np
import pyarrow as pa

from hygeia.core.config import RunConfig
from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.core.seeding import SeedTree
from hygeia.errors import ConfigError
from hygeia.population._cardio import CARDIO_ATTRIBUTES
from hygeia.population._demography import DEFAULT_WINDOW_YEARS, Demography
from hygeia.population._mortality import module_share
from hygeia.population.engine import Person, Simulation, load_run_modules
from hygeia.population.engine._person import END, ENC, KEY, KIND, ROW_KEY_FIELDS, TEXT, VALUE, T
from hygeia.population.lifecycle import Lifecycle, to_ms_date

__all__ = ["demography_info", "simulate_person", "simulate_shard"]

_by_time = operator.itemgetter(T)
_ONGOING = frozenset({"condition", "medication", "careplan", "allergy", "device"})


@lru_cache(maxsize=4)
def _context(modules: tuple[str, ...], default_modules: bool, locale: str, end: dt.date):
    from hygeia.population.locale import load_locale

    cfg = RunConfig(n=1, modules=modules, default_modules=default_modules, locale=locale, end=end)
    # Synthea-format modules alone see Synthea's biometrics, as in Synthea; Hygeia's own
    # modules are calibrated to the pack's reference values (docs/population.md).
    biometrics = "pack" if default_modules else "synthea"
    module_set, pack = load_run_modules(cfg), load_locale(locale)
    share, info = module_share(pack, module_set)
    demography = Demography(pack, to_ms_date(end), window_years=DEFAULT_WINDOW_YEARS, module_share=share)
    demography.info = {"window_years": DEFAULT_WINDOW_YEARS, "cause_specific_mortality": info}
    # Only the cardiovascular risk attributes that some module reads are kept up to date.
    cardio = [a for a in CARDIO_ATTRIBUTES if a in module_set.mentioned]
    return module_set, Lifecycle(pack, to_ms_date(end), biometrics=biometrics, demography=demography,
                                 cardio_attributes=cardio)


def _run_context(config: RunConfig):
    return _context(config.modules, config.default_modules, config.locale, config.end)


def demography_info(config: RunConfig) -> dict:
    """How the run's births and deaths are drawn, for ``run.json`` (see :mod:`hygeia.population._demography`)."""
    demography = _run_context(config)[1].demography
    years = int(demography.window_years)
    end = config.end
    start = end.replace(year=end.year - years, day=min(end.day, 28) if end.month == 2 else end.day)
    return {
        "method": "persons are a sample of everyone alive at some time in the observation window (the years "
                  "before the end date; --start only trims the records), from a stationary population with "
                  "the locale's pyramid on the end date and its life table's death rates; modules' deaths "
                  "replace part of the life table's hazard",
        "window_start": start.isoformat(),
        **demography.info,
    }


def simulate_person(config: RunConfig, index: int, *, context=None) -> Person:
    """Simulate person ``index`` (0-based) of the run described by ``config``.

    Example:
        >>> from hygeia.core.config import RunConfig
        >>> p = simulate_person(RunConfig(n=1, seed=7), 0)
        >>> p.subject_id, len(p.rows) > 0
        (1, True)
    """
    if config.seed is None:
        raise ConfigError("simulate_person needs a concrete seed; resolve it first (hygeia.core.seeding.resolve_seed)")
    modules, lifecycle = _run_context(config) if context is None else context
    seed = SeedTree(config.seed).person_seed(index)
    person = lifecycle.make_person(index + 1, seed)
    sim = Simulation(person, modules, lifecycle.end)
    lifecycle.begin(person, sim)
    sim.run()
    return person


def _keep_from(rows: list[list], start: int, death: int | None) -> list[list]:
    """Facts still relevant on ``start``: everything from then on, and what is still ongoing.

    An entry without an end is ongoing until the person's death, if they died.
    """
    if death is not None and death < start:
        return []
    kept = [
        r for r in rows
        if r[T] >= start or (r[KIND] in _ONGOING and (r[END] is None or r[END] >= start))
    ]
    encounters = {r[ENC] for r in kept if r[KIND] == "encounter"}
    for r in kept:
        if r[ENC] is not None and r[ENC] not in encounters:
            r[ENC] = None
    return kept


def _ts(values: list) -> pa.Array:
    return pa.array(values, pa.int64()).cast(pa.timestamp("ms")).cast(pa.timestamp("us"))


def simulate_shard(config: RunConfig, first: int, count: int, *, context=None) -> tuple[pa.Table, pa.Table]:
    """Simulate persons ``first .. first+count-1`` (0-based indexes) of a run.

    ``config.seed`` must already be resolved to an int. The result depends only
    on (config, person index), never on which worker runs it or on shard size.
    The subject_id of person index i is i + 1.

    ``context`` (``(ModuleSet, Lifecycle)``) replaces the run's own modules and
    lifecycle: the calibration tool runs edited copies of a module this way.

    Returns:
        ``(persons, events)`` with :data:`PERSONS_SCHEMA` and :data:`EVENTS_SCHEMA`,
        events sorted by (subject_id, time).
    """
    with _no_cyclic_gc():
        return _simulate_shard(config, first, count, context)


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _no_cyclic_gc():
    """Pause the cyclic garbage collector while simulating (thread-safe, re-entrant).

    The engine frees each person by reference counting (it breaks its own cycles),
    so the cyclic collector only costs time here: it would rescan every live row.
    Shards may run in several threads of one process (Dask), so the collector is
    turned back on only when the last of them finishes, and only if it was on.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


#: The fields of a record row that vary from row to row, and its row key (times as epoch-ms
#: integers): Arrow converts them, as tuples, to columns in one pass.
_VARYING_NAMES = ("time", "end_time", "key", "numeric_value", "text_value", "encounter_id")
_varying = operator.itemgetter(T, END, KEY, VALUE, TEXT, ENC)
_VARYING_TYPE = pa.struct([pa.field(n, pa.int64() if n in ("time", "end_time", "key") else EVENTS_SCHEMA.field(n).type)
                           for n in _VARYING_NAMES])
#: The fixed fields of each row key (``ROW_KEY_FIELDS``), taken by the rows' keys.
_FIXED_NAMES = ("kind", "code_system", "code", "display", "unit", "module", "state")
_FIXED_TYPE = pa.struct([EVENTS_SCHEMA.field(n) for n in _FIXED_NAMES])


def _simulate_shard(config: RunConfig, first: int, count: int, context=None) -> tuple[pa.Table, pa.Table]:
    start = to_ms_date(config.start) if config.start is not None else None
    pcols: dict[str, list] = {f.name: [] for f in PERSONS_SCHEMA}
    all_rows: list[tuple] = []
    subjects: list[int] = []  # each person with events, and how many (their subject_id column, made at once)
    counts: list[int] = []
    if context is None and count:
        context = _run_context(config)  # looked up once for the shard, not once per person
    for index in range(first, first + count):
        p = simulate_person(config, index, context=context)
        a = p.attrs
        for k, v in (
            ("subject_id", p.subject_id), ("birth_time", p.birth), ("death_time", p.death_time), ("sex", p.sex),
            ("race", p.race), ("ethnicity", p.ethnicity), ("locale", config.locale),
            ("given_name", a.get("given_name")), ("family_name", a.get("family_name")), ("state", a.get("state")),
            ("income", a.get("income")), ("education", a.get("education")),
            ("marital_status", a.get("marital_status")), ("seed", p.seed),
        ):
            pcols[k].append(v)
        rows = p.rows if start is None else _keep_from(p.rows, start, p.death_time)
        if not rows:
            continue
        rows.sort(key=_by_time)
        subjects.append(p.subject_id)
        counts.append(len(rows))
        all_rows.extend(map(_varying, rows))
    pcols["birth_time"] = _ts(pcols["birth_time"])
    pcols["death_time"] = _ts(pcols["death_time"])
    persons = pa.Table.from_pydict(pcols, schema=PERSONS_SCHEMA)
    varying = dict(zip(_VARYING_NAMES, pa.array(all_rows, _VARYING_TYPE).flatten()))
    fixed = dict(zip(_FIXED_NAMES, _row_keys().take(varying.pop("key")).flatten()))
    arrays = [pa.array(np.repeat(np.array(subjects, np.int64), np.array(counts, np.int64)), pa.int64())]
    for field in EVENTS_SCHEMA:
        if field.name == "subject_id":
            continue
        col = varying[field.name] if field.name in varying else fixed[field.name]
        if field.name in ("time", "end_time"):
            col = col.cast(pa.timestamp("ms")).cast(pa.timestamp("us"))
        arrays.append(col)
    events = pa.Table.from_arrays(arrays, schema=EVENTS_SCHEMA)
    return persons, events


_keys_cache: list = [0, None]


def _row_keys() -> pa.StructArray:
    """:data:`~hygeia.population.engine._person.ROW_KEY_FIELDS` as an Arrow struct array (remade when it grew)."""
    n = len(ROW_KEY_FIELDS)
    if _keys_cache[0] != n or _keys_cache[1] is None:
        _keys_cache[1] = pa.array(ROW_KEY_FIELDS[:n], _FIXED_TYPE)
        _keys_cache[0] = n
    return _keys_cache[1]

