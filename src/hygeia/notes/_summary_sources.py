"""Where a :class:`Stay` comes from: one encounter of a person's record, or a run folder.

Items of a record carry the :func:`event_key` of the events they state. Only what the
record holds by the end of the encounter is used, except the follow-up: the next office
visit within 90 days, as the notes writer states it (a visit the record schedules).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hygeia.errors import ConfigError
from hygeia.notes._compose import _Context, clean, event_key, lab_name, unit_text
from hygeia.notes._summarize import Stay, StayItem
from hygeia.notes._summary_terms import ICD10CM
from hygeia.notes._write import _in_order

__all__ = ["find_stays", "stay_from_record", "stay_from_run"]

_SEX = {"F": ("woman", "girl"), "M": ("man", "boy")}
_SMOKING = "72166-2"
#: Encounter classes a summary is most often asked for, in order of preference.
_PREFERRED = ("inpatient", "emergency", "urgentcare", "ambulatory", "wellness")


def _who(c: _Context) -> str:
    age = c.age(c.start)
    adult, child = _SEX.get(str(c.person.get("sex")), ("patient", "child"))
    if age >= 1:
        return f"{age}-year-old {adult if age >= 18 else child}"
    months = max(0, (c.start - c.person["birth_time"]).days) // 30
    return f"{months}-month-old {child}" if months else f"newborn {child}"


def _codes(e: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    codes = [(str(e.get("code_system") or "SNOMED-CT"), str(e["code"]))]
    if e["kind"] == "condition" and e["code"] in ICD10CM:
        codes.append(("ICD-10-CM", ICD10CM[e["code"]][0]))
    return tuple(codes)


def _item(kind: str, e: Mapping[str, Any], **extra: Any) -> StayItem:
    return StayItem(kind, clean(e["display"]), (event_key(e),), _codes(e), **extra)


def _unique(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    seen, out = set(), []
    for e in events:
        name = clean(e["display"])
        if name not in seen:
            seen.add(name)
            out.append(e)
    return out


def stay_from_record(person: Mapping[str, Any], events: Sequence[Mapping[str, Any]], encounter_id: int) -> Stay:
    """The facts of one encounter of a person's record, each item with the keys of its events.

    Medications are compared with those active before the stay: ``new`` (active at
    discharge, not before), ``continued``, ``stopped`` (active before, ended by discharge)
    and ``given`` (started and ended during the stay). Results are the encounter's
    measurements; problems are the conditions active at its end.

    Args:
        person: the person's row of a run's ``persons`` table.
        events: the person's rows of the ``events`` table (any order).
        encounter_id: the encounter (an inpatient stay, an emergency visit, any encounter).

    Returns:
        The stay.

    Raises:
        ConfigError: ``encounter_id`` is not an encounter of ``events``.

    Example:
        >>> import datetime as dt
        >>> t = dt.datetime(2020, 3, 1, 9)
        >>> person = {"subject_id": 1, "birth_time": dt.datetime(1950, 1, 1), "sex": "F"}
        >>> row = dict(subject_id=1, end_time=None, code_system="SNOMED-CT", numeric_value=None, unit=None,
        ...            encounter_id=5, text_value=None)
        >>> events = [{**row, "kind": "encounter", "time": t, "end_time": t + dt.timedelta(days=2), "code": "32485007",
        ...            "display": "Hospital admission (procedure)", "text_value": "inpatient"},
        ...           {**row, "kind": "condition", "time": t, "code": "385093006",
        ...            "display": "Community acquired pneumonia (disorder)"}]
        >>> stay = stay_from_record(person, events, 5)
        >>> stay.patient.name, stay.reasons[0].name, stay.reasons[0].code("ICD-10-CM"), stay.days
        ('70-year-old woman', 'Community acquired pneumonia', 'J18.9', 2)
    """
    ordered = _in_order(events)
    encounter = next((e for e in ordered if e["kind"] == "encounter" and e["encounter_id"] == encounter_id), None)
    if encounter is None:
        raise ConfigError(f"encounter_id {encounter_id} is not an encounter of these events. "
                          "Pass the encounter_id of an event whose kind is 'encounter'.")
    at = [e for e in ordered if e["encounter_id"] == encounter_id and e["kind"] != "encounter"]
    end = max([encounter["end_time"] or encounter["time"], *(e["time"] for e in at)])
    c = _Context(person, encounter, ordered, at, end)
    enc_key = event_key(encounter)
    person_key = event_key({"kind": "person", "code": str(person["subject_id"]), "time": person["birth_time"]})

    reasons = [_item("problem", e) for e in _unique(c.of("condition") or c.referred())]
    named = {r.name for r in reasons}
    problems = [_item("problem", e) for e in c.active("condition", end, before=False) if clean(e["display"]) not in named]

    before = {clean(e["display"]): e for e in c.active("medication", c.start)}
    after = {clean(e["display"]): e for e in c.active("medication", end, before=False)}
    meds = [_item("medication", e, status="continued" if name in before else "new") for name, e in after.items()]
    meds += [_item("medication", e, status="stopped") for name, e in before.items() if name not in after]
    meds += [_item("medication", e, status="given") for e in _unique(c.of("medication"))
             if clean(e["display"]) not in after and clean(e["display"]) not in before]

    results = []
    for e in c.of("observation"):
        date = f"{e['time']:%Y-%m-%d}"
        if e["numeric_value"] is not None:
            results.append(StayItem("lab", lab_name(e["display"]), (event_key(e),), _codes(e), e["numeric_value"],
                                    unit_text(e["unit"]), date=date))
        elif e["text_value"] and e["code"] != _SMOKING:
            results.append(StayItem("lab", lab_name(e["display"]), (event_key(e),), _codes(e), date=date,
                                    detail=clean(str(e["text_value"]).split("|")[-1])))

    allergies = [_item("allergy", e) for e in c.allergies(end)]
    nxt = c.next_encounter()
    follow = [StayItem("follow_up", clean(nxt["display"]), (event_key(nxt),), _codes(nxt),
                       date=f"{nxt['time']:%Y-%m-%d}")] if nxt is not None else []
    return Stay(
        "record", int(person["subject_id"]), int(encounter_id), encounter.get("text_value") or "unknown",
        visit=clean(encounter["display"]), start=f"{c.start:%Y-%m-%d}", end=f"{c.end:%Y-%m-%d}",
        visit_sources=(enc_key,), patient=StayItem("patient", _who(c), (person_key, enc_key)), reasons=reasons,
        problems=problems, procedures=[_item("procedure", e, date=f"{e['time']:%Y-%m-%d}") for e in c.of("procedure")],
        results=results, medications=meds, allergies=allergies, no_allergies=not allergies,
        careplans=[_item("careplan", e, detail=e["text_value"] or None) for e in c.of("careplan")],
        follow_up=follow,
    )


def find_stays(events: Iterable[Mapping[str, Any]], settings: Sequence[str] = _PREFERRED) -> list[Mapping[str, Any]]:
    """A person's encounters of the first class of ``settings`` that they have (inpatient stays first), by time.

    Example:
        >>> import datetime as dt
        >>> t = dt.datetime(2020, 1, 1)
        >>> enc = [dict(kind="encounter", time=t, text_value="ambulatory", encounter_id=1),
        ...        dict(kind="encounter", time=t, text_value="inpatient", encounter_id=2)]
        >>> [e["encounter_id"] for e in find_stays(enc)]
        [2]
    """
    encounters = [e for e in events if e["kind"] == "encounter"]
    for setting in settings:
        found = sorted((e for e in encounters if e.get("text_value") == setting), key=lambda e: e["time"])
        if found:
            return found
    return []


def stay_from_run(run: str | os.PathLike[str], subject_id: int | None = None,
                  encounter_id: int | None = None) -> Stay:
    """The stay of one encounter of a run folder.

    Args:
        run: a run folder written by ``hygeia generate``.
        subject_id: the person; None takes the first person with an inpatient stay.
        encounter_id: the encounter; None takes the person's last encounter of the
            first class they have among inpatient, emergency, urgent care, ambulatory, wellness.

    Returns:
        The stay (:func:`stay_from_record`).

    Raises:
        DataValidationError: ``run`` is not a run folder.
        ConfigError: the person or the encounter is not in the run.

    Example:
        >>> stay = stay_from_run("runs/notes_source", subject_id=3)  # doctest: +SKIP
    """
    from hygeia.core.storage import iter_shards

    candidates: list[tuple[int, int]] = []
    for persons, events in iter_shards(run):
        ids = persons.column("subject_id").to_pylist()
        wanted = ids if subject_id is None else [i for i in ids if i == subject_id]
        if not wanted:
            continue
        rows = events.filter(_is_in(events.column("subject_id"), wanted)).to_pylist()
        by: dict[int, list[dict[str, Any]]] = {}
        for e in rows:
            by.setdefault(e["subject_id"], []).append(e)
        for person in persons.to_pylist():
            sid = person["subject_id"]
            if sid not in wanted:
                continue
            mine = by.get(sid, [])
            if encounter_id is not None:
                if any(e["kind"] == "encounter" and e["encounter_id"] == encounter_id for e in mine):
                    return stay_from_record(person, mine, encounter_id)
                continue
            stays = find_stays(mine, ("inpatient",) if subject_id is None else _PREFERRED)
            if stays:
                return stay_from_record(person, mine, stays[-1]["encounter_id"])
            candidates.append((sid, len(mine)))
    if subject_id is not None and not candidates and encounter_id is None:
        raise ConfigError(f"subject_id {subject_id} is not in the run {str(run)!r}. Pass the subject_id of a person "
                          "of the run (its persons table), or leave subject_id out for the first with an inpatient stay.")
    if encounter_id is not None:
        raise ConfigError(f"encounter_id {encounter_id} is not an encounter of "
                          f"{'subject_id ' + str(subject_id) if subject_id is not None else 'the run'} in {str(run)!r}. "
                          "Pass an encounter_id of an event whose kind is 'encounter', or leave encounter_id out for the last stay.")
    raise ConfigError(f"no person of the run {str(run)!r} has "
                      f"{'an encounter' if subject_id is not None else 'an inpatient stay'}. "
                      "Pass subject_id=... and encounter_id=... of an encounter of the run.")


def _is_in(column: Any, values: Sequence[int]) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.is_in(column, value_set=pa.array(values, type=column.type))
