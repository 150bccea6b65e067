"""The simulated person: attributes, vital signs and the health record being written.

A recorded fact is a row (a Python list, so that its end time can be set
later) in :attr:`Person.rows`, laid out as :data:`ROW_FIELDS` and then its
:func:`row_key` (at :data:`KEY`); the shard writer
turns rows into the canonical ``events`` table. Facts that can be ended
(conditions, medications, care plans, allergies, devices) are also indexed by
code in the matching ``active`` dict while they last.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from hygeia.population.engine._entries import Undiagnosed
from hygeia.population.engine._logic import RECORD_KEYS, record_key

__all__ = ["ROW_FIELDS", "ROW_KEY_FIELDS", "Person", "Undiagnosed", "row_key"]

#: Layout of one record row (subject_id is added when a shard is written).
ROW_FIELDS = (
    "time", "end_time", "kind", "code_system", "code", "display", "numeric_value", "unit",
    "text_value", "encounter_id", "module", "state",
)
T, END, KIND, SYSTEM, CODE, DISPLAY, VALUE, UNIT, TEXT, ENC, MODULE, STATE = range(12)
#: A row's 13th and last item: the :func:`row_key` of its fixed fields (kind, code, unit,
#: module, state), so that the shard writer converts those as one small table and an index
#: per row instead of seven strings per row.
KEY = 12

#: ``row_key`` -> ``(kind, code_system, code, display, unit, module, state)``, in key order.
ROW_KEY_FIELDS: list[tuple] = []
_ROW_KEYS: dict[tuple, int] = {}
_ROW_KEYS_LOCK = threading.Lock()


def row_key(kind: str, code: tuple | None, module: str, state: str, unit: str | None = None) -> int:
    """The index in :data:`ROW_KEY_FIELDS` of a row's fixed fields (added there on first use).

    Example:
        >>> k = row_key("observation", ("LOINC", "8867-4", "Heart rate"), "m", "s", "/min")
        >>> ROW_KEY_FIELDS[k]
        ('observation', 'LOINC', '8867-4', 'Heart rate', '/min', 'm', 's')
        >>> row_key("observation", ("LOINC", "8867-4", "Heart rate"), "m", "s", "/min") == k
        True
    """
    k = (kind, code, module, state, unit)
    i = _ROW_KEYS.get(k)
    if i is None:
        with _ROW_KEYS_LOCK:  # shards may run in threads of one process
            i = _ROW_KEYS.get(k)
            if i is None:
                c = code if code is not None else (None, None, None)
                ROW_KEY_FIELDS.append((kind, c[0], c[1], c[2], unit, module, state))
                i = _ROW_KEYS[k] = len(ROW_KEY_FIELDS) - 1
    return i

#: ``kind`` -> name of the Person dict that indexes the active entries of that kind.
ACTIVE_TABLE = {
    "condition": "conditions",
    "medication": "medications",
    "careplan": "careplans",
    "allergy": "allergies",
    "device": "devices",
}


class Person:
    """One simulated person.

    Args:
        subject_id: the person's id in the output (index + 1).
        seed: the person's own seed (from the run's seed tree).
        birth: birth time, epoch milliseconds.
        sex: ``"M"`` or ``"F"``.
        race, ethnicity: Synthea vocabulary (``white``... / ``hispanic``, ``nonhispanic``).
        vitals: a callable ``(person, name, t) -> float | None`` giving the
            lifecycle's value of a vital sign when no state has set it.
    """

    __slots__ = (
        "subject_id", "seed", "rng", "birth", "sex", "race", "ethnicity", "ses", "attrs", "vitals",
        "vital_fn", "rows", "conditions", "medications", "careplans", "allergies", "devices", "obs",
        "symptoms", "prior", "dirty", "alive", "death_time", "death_cause", "death_due", "next_encounter",
        "wellness", "lifecycle", "extra", "vitals_t", "vitals_now", "vital_readers",
    )

    def __init__(self, subject_id: int, seed: int, birth: int, sex: str, race: str, ethnicity: str,
                 vital_fn=None) -> None:
        self.subject_id = subject_id
        self.seed = seed
        self.rng = random.Random(seed)
        self.birth = birth
        self.sex = sex
        self.race = race
        self.ethnicity = ethnicity
        self.ses = "Middle"
        self.attrs: dict[str, Any] = {"gender": sex, "race": race, "ethnicity": ethnicity}
        self.vitals: dict[str, float] = {}
        self.vital_fn = vital_fn
        self.rows: list[list] = []
        self.conditions: dict[str, list] = {}
        self.medications: dict[str, list] = {}
        self.careplans: dict[str, list] = {}
        self.allergies: dict[str, list] = {}
        self.devices: dict[str, list] = {}
        self.obs: dict[str, Any] = {}
        self.symptoms: dict[str, dict[str, float]] = {}
        self.prior: dict[tuple[str, str], int] = {}
        #: What changed since the runner last looked: attribute names and record keys.
        self.dirty: set[str] = set()
        self.alive = True
        self.death_time: int | None = None
        self.death_cause: list | None = None
        self.death_due: int | None = None
        self.next_encounter = 1
        self.wellness: list | None = None
        self.lifecycle = None
        self.extra: dict[str, Any] = {}
        #: The instant whose computed vital signs ``vitals_now`` caches (the lifecycle's cache).
        self.vitals_t: int | None = None
        self.vitals_now: dict[str, float | None] = {}
        #: Optional ``name -> (person, t) -> value`` readers that give what ``vital_fn`` would for
        #: those names, one call shorter (the lifecycle sets its own; whoever replaces
        #: ``vital_fn`` must set this back to None).
        self.vital_readers: dict | None = None

    # -- reading -------------------------------------------------------------
    def age_years(self, t: int) -> float:
        return (t - self.birth) / 31_556_952_000

    def vital(self, name: str, t: int) -> float | None:
        """The current value of a vital sign: set by a state, else the lifecycle's."""
        v = self.vitals.get(name)
        if v is None:
            readers = self.vital_readers
            if readers is not None:
                read = readers.get(name)
                if read is not None:
                    return read(self, t)
            if self.vital_fn is not None:
                v = self.vital_fn(self, name, t)
        return v

    # -- writing -------------------------------------------------------------
    def record(self, t: int, kind: str, code: tuple | None, module: str, state: str, encounter: list | None,
               value: float | None = None, unit: str | None = None, text: str | None = None,
               end: int | None = None, key: int | None = None) -> list:
        """Append one fact; ``code`` is ``(system, code, display)``; returns its row.

        ``key``: the :func:`row_key` of (kind, code, module, state, unit), when the caller keeps it.
        """
        if encounter is not None:
            enc_id = encounter[ENC]
            if encounter[END] < t:
                encounter[END] = t
        else:
            enc_id = None
        if key is None:
            key = _ROW_KEYS.get((kind, code, module, state, unit))
            if key is None:
                key = row_key(kind, code, module, state, unit)
        if code is None:
            code = (None, None, None)
        row = [t, end, kind, code[0], code[1], code[2], value, unit, text, enc_id, module, state, key]
        self.rows.append(row)
        self.dirty.add(RECORD_KEYS.get(kind) or record_key(kind))
        return row

    def start_encounter(self, t: int, code: tuple, enc_class: str, module: str, state: str,
                        minutes: int = 15, key: int | None = None) -> list:
        """Open an encounter: its row is its own ``encounter`` (``encounter_id`` = its id).

        ``key``: the :func:`row_key` of ("encounter", code, module, state), when the caller keeps it.
        """
        enc_id = self.subject_id * 10_000_000 + self.next_encounter
        self.next_encounter += 1
        if key is None:
            key = _ROW_KEYS.get(("encounter", code, module, state, None))
            if key is None:
                key = row_key("encounter", code, module, state)
        row = [t, t + minutes * 60_000, "encounter", code[0], code[1], code[2], None, None, enc_class,
               enc_id, module, state, key]
        self.rows.append(row)
        self.dirty.add("@encounter")
        return row

    def activate(self, row: list) -> None:
        """Index a started condition/medication/care plan/allergy/device as active."""
        getattr(self, ACTIVE_TABLE[row[KIND]])[row[CODE]] = row

    def end_entry(self, row: list | None, t: int) -> bool:
        """End an active entry at ``t``; returns whether it was active.

        An :class:`Undiagnosed` entry ends the active entry of its code, if any (Synthea's
        ``ConditionEnd``/``AllergyEnd`` by ``referenced_by_attribute`` end by code).
        """
        if not isinstance(row, list):
            return False
        if type(row) is Undiagnosed:
            row[END] = t
            return self.end_code(row[KIND], row[CODE], t) if row[KIND] in ACTIVE_TABLE else False
        table = getattr(self, ACTIVE_TABLE.get(row[KIND], "extra"))
        if table.get(row[CODE]) is row:
            del table[row[CODE]]
            row[END] = t
            self.dirty.add(record_key(row[KIND]))
            return True
        return False

    def end_code(self, kind: str, code: str, t: int) -> bool:
        table = getattr(self, ACTIVE_TABLE[kind])
        row = table.pop(code, None)
        if row is None:
            return False
        row[END] = t
        self.dirty.add(record_key(kind))
        return True

    def die(self, t: int, cause: tuple | None, module: str, state: str) -> None:
        """Record death at ``t`` with an optional cause-of-death code."""
        if not self.alive:
            return
        self.alive = False
        self.death_time = t
        self.record(t, "death", cause or ("SNOMED-CT", "419620001", "Death (event)"), module, state, None)
