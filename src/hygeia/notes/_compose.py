"""One clinical note from one encounter of a record: sections of sentences, each with its provenance.

A note is built from the events of one person only. Every sentence carries the keys of
the events it states (:func:`event_key`) and a ``basis``:

- ``"events"``: the sentence states those events (a diagnosis, a medication, a value);
- ``"absence"``: the sentence states that the record holds *no* event of a kind up to the
  note's time ("No known drug allergies." only when no allergy was recorded by then);
- ``"advice"``: a standard instruction that states no fact about the patient;
- ``"protocol"``: the standard technique of a study type (a radiology report's
  TECHNIQUE), a description of how such a study is done, not a fact about the patient.

Wording varies: each statement has several phrasings and a per-note
:class:`random.Random` picks one; the facts stated do not depend on the draw.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hygeia.notes._radiology import Study, is_finding, studies_of, technique

__all__ = ["KINDS", "Note", "Sentence", "article", "clean", "compose_notes", "event_key", "is_social", "lower", "number",
           "sectioned_text",
           "unit_text", "visit_reason"]

#: Note kinds: SOAP progress note, History & Physical, discharge summary, radiology report (one per imaging study).
KINDS = ("soap", "hp", "discharge", "radiology")

_TAG = re.compile(r"\s*\((disorder|finding|procedure|regime/therapy|situation|qualifier value|observable entity|"
                  r"environment|morphologic abnormality|organism|substance|product|event|person)\)$")
_VITALS = {  # LOINC code -> (abbreviation, full name, unit shown, decimals)
    "8480-6": ("SBP", "systolic blood pressure", " mmHg", 0), "8462-4": ("DBP", "diastolic blood pressure", " mmHg", 0),
    "8867-4": ("HR", "heart rate", "/min", 0), "9279-1": ("RR", "respiratory rate", "/min", 0),
    "8310-5": ("T", "temperature", "°C", 1), "59408-5": ("SpO2", "oxygen saturation", "%", 0),
    "2708-6": ("SpO2", "oxygen saturation", "%", 0), "8302-2": ("Ht", "height", " cm", 1),
    "29463-7": ("Wt", "weight", " kg", 1), "39156-5": ("BMI", "BMI", " kg/m2", 1), "72514-3": ("Pain", "pain", "/10", 0),
}
_SMOKING = "72166-2"
_UNITS = {"Cel": "°C", "mL/min/{1.73_m2}": "mL/min/1.73m2", "n/a": ""}
#: Synthea's social-determinant screenings record their answers as conditions: SOCIAL HISTORY, not problems.
_SOCIAL_MODULES = ("encounter/sdoh_hrsn", "encounter/substance_use_screening", "encounter/hark_screening")


def unit_text(unit: str | None) -> str:
    """A UCUM unit as a note writes it: ``'mm[Hg]'`` -> ``'mmHg'``, ``'10*3/uL'`` -> ``'x10^3/uL'``, ``'{score}'`` -> ``''``.

    Example:
        >>> [unit_text(u) for u in ("mm[Hg]", "10*3/uL", "{INR}", "Cel", "mg/dL")]
        ['mmHg', 'x10^3/uL', '', '°C', 'mg/dL']
    """
    if not unit:
        return ""
    if unit in _UNITS:
        return _UNITS[unit]
    text = re.sub(r"\{[^}]*\}", "", unit).replace("[", "").replace("]", "")
    return re.sub(r"^10\*(\d+)", r"x10^\1", text)


def is_social(event: Mapping[str, Any]) -> bool:
    """Whether a condition event is a social finding (employment, housing, a screening answer), not a problem."""
    return (event.get("module") or "") in _SOCIAL_MODULES or (event.get("display") or "").endswith("(person)")
_SEX = {"F": "woman", "M": "man"}
_CHILD_SEX = {"F": "girl", "M": "boy"}


def event_key(event: Mapping[str, Any]) -> str:
    """The provenance key of one event: ``kind/code/time`` (time to the microsecond), ``=value`` if it has one.

    A record can hold two measurements of one code at one time (a hemoglobin in two
    panels); the value tells them apart, and events that share a key state the same fact.

    Example:
        >>> event_key({"kind": "condition", "code": "44054006", "time": dt.datetime(2020, 1, 2, 3, 4, 5)})
        'condition/44054006/2020-01-02T03:04:05.000000'
        >>> event_key({"kind": "observation", "code": "718-7", "time": dt.datetime(2020, 1, 2), "numeric_value": 11.7})
        'observation/718-7/2020-01-02T00:00:00.000000=11.7'
    """
    key = f"{event['kind']}/{event['code']}/{event['time']:%Y-%m-%dT%H:%M:%S.%f}"
    value = event.get("numeric_value")
    return key if value is None else f"{key}={value!r}"


def clean(display: str | None) -> str:
    """A display without its SNOMED semantic tag: ``'Asthma (disorder)'`` -> ``'Asthma'``."""
    return _TAG.sub("", display or "").strip()


def lower(name: str) -> str:
    """A name as written mid-sentence: ``'Essential hypertension'`` -> ``'essential hypertension'``, ``'COPD'`` kept."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


_VISITS = {
    "Encounter for symptom": "for evaluation of symptoms", "Follow-up encounter": "for a follow-up visit",
    "Emergency room admission": "to the emergency department", "Urgent care clinic": "to urgent care",
    "Hospital admission": "for hospital admission",
}


def visit_reason(display: str | None) -> str:
    """Why a visit happened, from its encounter type: ``'Follow-up encounter'`` -> ``'for a follow-up visit'``."""
    name = clean(display)
    return _VISITS.get(name) or f"for {article(name)} {lower(name)}"


def article(word: str) -> str:
    """``'an'`` before a vowel sound (``'an 8-year-old'``, ``'an obstetric'``), else ``'a'``."""
    w = word.lower()
    return "an" if w[:1] in "aeio8" or w.startswith(("11-", "18-", "11 ", "18 ")) or (w[:1] == "u" and w[1:2] != "n") \
        and not w.startswith(("uni", "use", "uri")) else "a"


def lab_name(display: str | None) -> str:
    """A LOINC long name shortened to its component: ``'Glucose [Mass/volume] in Serum'`` -> ``'Glucose'``."""
    return (display or "").split(" [")[0].strip()


def number(value: float, digits: int = 1) -> str:
    """A measured value as a note writes it: at most ``digits`` decimals, no trailing zero.

    Example:
        >>> number(98.34), number(98.34, 0), number(37.0)
        ('98.3', '98', '37')
    """
    text = f"{value:.{digits}f}"
    return text.removesuffix(".0") if digits else text


@dataclass(frozen=True)
class Sentence:
    """One statement of a note, the section it sits in, and the events it states."""

    section: str
    text: str
    events: tuple[str, ...] = ()
    basis: str = "events"

    def to_dict(self) -> dict[str, Any]:
        """The sentence as the JSON of the ``provenance`` column."""
        return {"section": self.section, "text": self.text, "events": list(self.events), "basis": self.basis}


def sectioned_text(title: str, sentences: Sequence[Sentence]) -> str:
    """A document as written: the title, then each section's header and its sentences as one paragraph.

    Example:
        >>> print(sectioned_text("Note", [Sentence("PLAN", "Rest."), Sentence("PLAN", "Fluids.")]))
        Note
        <BLANKLINE>
        PLAN:
        Rest. Fluids.
    """
    parts = [title]
    current = None
    for s in sentences:
        if s.section != current:
            parts.append(f"\n{s.section}:")
            current = s.section
            parts.append(s.text)
        else:
            parts[-1] += " " + s.text
    return "\n".join(parts)


@dataclass
class Note:
    """One clinical note: who, when, what kind, and its sentences with provenance.

    Example:
        >>> n = Note(1, 7, dt.datetime(2020, 1, 1), "soap", "physician", "Progress Note",
        ...          [Sentence("CHIEF COMPLAINT", "Cough.", ("condition/1/x",))])
        >>> print(n.text)
        Progress Note
        <BLANKLINE>
        CHIEF COMPLAINT:
        Cough.
    """

    subject_id: int
    encounter_id: int
    time: dt.datetime
    kind: str
    author_role: str
    title: str
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The note as written: the title, then each section header and its sentences."""
        return sectioned_text(self.title, self.sentences)

    def provenance(self) -> list[dict[str, Any]]:
        """Every sentence with its section, event keys and basis."""
        return [s.to_dict() for s in self.sentences]


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class _Writer:
    """Collects the sentences of one note, choosing each phrasing with the note's generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sentences: list[Sentence] = []
        self.section = ""

    def say(self, choices: Sequence[str], events: Sequence[Mapping[str, Any]] = (), basis: str = "events",
            **values: str) -> None:
        text = self.rng.choice(list(choices)).format(**values)
        self.sentences.append(Sentence(self.section, text[0].upper() + text[1:],
                                       tuple(event_key(e) for e in events), basis))


@dataclass
class _Context:
    """The record of one person as seen at one encounter."""

    person: Mapping[str, Any]
    encounter: Mapping[str, Any]
    events: list[Mapping[str, Any]]  # the person's events, sorted by time
    at: list[Mapping[str, Any]]  # the events of this encounter that the note covers
    signed: dt.datetime  # the note's time: when it is written, after every event it covers

    @property
    def start(self) -> dt.datetime:
        return self.encounter["time"]

    @property
    def end(self) -> dt.datetime:
        return self.encounter["end_time"] or self.encounter["time"]

    def age(self, when: dt.datetime) -> int:
        b = self.person["birth_time"]
        return when.year - b.year - ((when.month, when.day) < (b.month, b.day))

    def of(self, kind: str, *, social: bool = False) -> list[Mapping[str, Any]]:
        """The events of ``kind`` recorded at this encounter (conditions: problems, or social findings)."""
        return [e for e in self.at if e["kind"] == kind and (kind != "condition" or is_social(e) == social)]

    def active(self, kind: str, when: dt.datetime, *, before: bool = True,
               social: bool = False) -> list[Mapping[str, Any]]:
        """Events of ``kind`` begun by ``when`` (strictly before, if ``before``) and not ended by then."""
        out, seen = [], set()
        for e in self.events:
            if e["kind"] != kind or (e["time"] >= when if before else e["time"] > when):
                continue
            if kind == "condition" and is_social(e) != social:
                continue
            if e["end_time"] is not None and e["end_time"] <= when:
                continue
            name = clean(e["display"])
            if name not in seen:
                seen.add(name)
                out.append(e)
        return out

    def allergies(self, when: dt.datetime) -> list[Mapping[str, Any]]:
        return [e for e in self.events if e["kind"] == "allergy" and e["time"] <= when
                and (e["end_time"] is None or e["end_time"] > when)]

    def referred(self) -> list[Mapping[str, Any]]:
        """For an admission: the conditions found at another encounter in the day before (the emergency visit)."""
        if self.encounter.get("text_value") != "inpatient":
            return []
        since = self.start - dt.timedelta(days=1)
        return [e for e in self.events if e["kind"] == "condition" and since <= e["time"] <= self.start
                and e["encounter_id"] != self.encounter["encounter_id"] and not is_social(e)]

    def next_encounter(self) -> Mapping[str, Any] | None:
        """The first office visit within 90 days after this encounter ends, if the record has one."""
        until = self.end + dt.timedelta(days=90)
        return next((e for e in self.events if e["kind"] == "encounter" and self.end < e["time"] <= until
                     and e.get("text_value") in ("ambulatory", "wellness")), None)


def _patient(w: _Writer, c: _Context, when: dt.datetime, reason: str, reason_events: Sequence[Mapping[str, Any]],
             *, past: bool = False) -> None:
    age = c.age(when)
    sex = (_SEX if age >= 18 else _CHILD_SEX).get(str(c.person.get("sex")), "patient")
    days = max(0, (when - c.person["birth_time"]).days)
    if age >= 1:
        who = f"{age}-year-old {sex}"
    elif days >= 60:
        who = f"{days // 30}-month-old {sex}"
    else:
        who = f"{days // 7}-week-old {sex}" if days >= 14 else f"newborn {sex}"
    person_key = {"kind": "person", "code": str(c.person["subject_id"]), "time": c.person["birth_time"]}
    w.say(["{who} who presented {reason}.", "the patient, {a} {who}, was admitted {reason}."] if past else
          ["{who} who presents {reason}.", "the patient is {a} {who} seen {reason}.", "{who} presenting {reason}."], [person_key, c.encounter, *reason_events], who=who, reason=reason,
          a=article(who))


def _history(w: _Writer, c: _Context, *, with_pmh: bool) -> None:
    conditions = c.active("condition", c.start)
    if with_pmh:
        w.section = "PAST MEDICAL HISTORY"
        if conditions:
            w.say(["{items}.", "significant for {items}.", "history of {items}."], conditions,
                  items=_join([lower(clean(e["display"])) for e in conditions]))
        else:
            w.say(["no chronic conditions on record.", "no active problems recorded."], basis="absence")
    _medications(w, c, "MEDICATIONS", c.active("medication", c.start))
    _allergy(w, c, c.signed)


def _medications(w: _Writer, c: _Context, section: str, meds: Sequence[Mapping[str, Any]]) -> None:
    w.section = section
    if meds:
        for e in meds:
            w.say(["{med}.", "{med}, continued."] if section != "MEDICATIONS" else ["{med}."], [e],
                  med=clean(e["display"]))
    elif section == "MEDICATIONS":
        w.say(["none.", "no active medications.", "takes no medications."], basis="absence")
    else:
        w.say(["none.", "no medications at discharge."], basis="absence")


def _allergy(w: _Writer, c: _Context, when: dt.datetime) -> None:
    w.section = "ALLERGIES"
    found = c.allergies(when)
    allergens = [e for e in found if not (e["display"] or "").endswith("(finding)")]
    if allergens:
        w.say(["allergic to {items}.", "allergies: {items}.", "documented allergy to {items}."], allergens,
              items=_join([lower(clean(e["display"])) for e in allergens]))
    elif found:  # only findings such as 'Allergic disposition': an allergy is known, its allergen is not
        w.say(["{items} documented; no allergen recorded.", "{items} on record; allergen not specified."], found,
              items=_join([clean(e["display"]) for e in found]))
    else:
        w.say(["no known drug allergies.", "NKDA.", "no known allergies."], basis="absence")


def _vitals(w: _Writer, c: _Context) -> None:
    by = {e["code"]: e for e in c.of("observation") if e["code"] in _VITALS and e["numeric_value"] is not None}
    if not by:
        return
    w.section = "VITAL SIGNS"
    if "8480-6" in by and "8462-4" in by:
        systolic, diastolic = by.pop("8480-6"), by.pop("8462-4")
        w.say(["BP {v} mmHg.", "blood pressure {v} mmHg."], [systolic, diastolic],
              v=f"{number(systolic['numeric_value'], 0)}/{number(diastolic['numeric_value'], 0)}")
    for code, e in by.items():
        short, name, unit, digits = _VITALS[code]
        w.say(["{short} {v}{unit}.", "{name} {v}{unit}."], [e], short=short, name=name, unit=unit,
              v=number(e["numeric_value"], digits))


def _results(w: _Writer, c: _Context) -> None:
    labs = [e for e in c.of("observation") if e["code"] not in _VITALS and e["code"] != _SMOKING]
    if not labs:
        return
    w.section = "RESULTS"
    for e in labs:
        if e["numeric_value"] is not None:
            unit = unit_text(e["unit"])
            w.say(["{name} {value}{unit}.", "{name}: {value}{unit}."], [e], name=lab_name(e["display"]),
                  value=number(e["numeric_value"]), unit=(" " + unit) if unit and unit != "%" else unit)
        elif e["text_value"]:
            w.say(["{name}: {value}."], [e], name=lab_name(e["display"]),
                  value=clean(str(e["text_value"]).split("|")[-1]).lower())


def _social(w: _Writer, c: _Context) -> None:
    w.section = "SOCIAL HISTORY"
    smoking = [e for e in c.of("observation") if e["code"] == _SMOKING and e["text_value"]]
    if smoking:
        e = smoking[-1]
        w.say(["tobacco: {v}.", "smoking status: {v}."], [e], v=clean(str(e["text_value"]).split("|")[-1]).lower())
    social = c.active("condition", c.start, before=False, social=True)
    if social:
        w.say(["{items}.", "social history notable for {items}."], social,
              items=_join([lower(clean(e["display"])) for e in social]))


def _plan(w: _Writer, c: _Context) -> None:
    w.section = "ASSESSMENT AND PLAN"
    stated = False
    for e in c.referred() if not c.of("condition") else []:
        w.say(["admitted with {d}.", "{d}; admitted for further care."], [c.encounter, e], d=lower(clean(e["display"])))
        stated = True
    for e in c.of("condition"):
        w.say(["{d}.", "assessment: {d}.", "{d}, diagnosed at this visit."], [e], d=clean(e["display"]))
        stated = True
    for e in c.of("medication"):
        w.say(["start {m}.", "started on {m}.", "prescribed {m}."], [e], m=clean(e["display"]))
        stated = True
    for e in c.of("procedure"):
        w.say(["{p} performed.", "underwent {p}.", "{p} was done."], [e], p=lower(clean(e["display"])))
        stated = True
    for e in c.of("immunization"):
        w.say(["{v} vaccine given.", "administered {v} vaccine.", "immunized: {v}."], [e], v=e["display"])
        stated = True
    for e in c.of("careplan"):
        activities = f", including {e['text_value']}" if e["text_value"] else ""
        w.say(["care plan: {p}{a}.", "started {p}{a}."], [e], p=clean(e["display"]), a=activities)
        stated = True
    if not stated:
        ongoing = c.active("condition", c.start)
        if ongoing:
            w.say(["follow-up of {items}; no new findings recorded.", "{items} reviewed; no new diagnosis."],
                  ongoing, items=_join([lower(clean(e["display"])) for e in ongoing]))
        else:
            w.say(["no new problems identified.", "no acute findings recorded."], basis="absence")


def _reason(c: _Context) -> tuple[str, list[Mapping[str, Any]]]:
    conditions = c.of("condition") or c.referred()
    if conditions:
        return "with " + _join([lower(clean(e["display"])) for e in conditions]), conditions
    return visit_reason(c.encounter["display"]), []


def _complaint(w: _Writer, c: _Context, events: Sequence[Mapping[str, Any]]) -> None:
    w.section = "CHIEF COMPLAINT"
    if events:
        w.say(["{r}."], [c.encounter, *events], r=_join([clean(e["display"]) for e in events]))
    else:
        w.say(["{r}."], [c.encounter], r=clean(c.encounter["display"]))


def _opening(w: _Writer, c: _Context) -> None:
    """CHIEF COMPLAINT and the opening of HISTORY OF PRESENT ILLNESS (the visit's reason)."""
    reason, events = _reason(c)
    w.section = "CHIEF COMPLAINT"
    _complaint(w, c, events)
    w.section = "HISTORY OF PRESENT ILLNESS"
    _patient(w, c, c.start, reason, events)


def _soap(w: _Writer, c: _Context) -> None:
    _opening(w, c)
    ongoing = c.active("condition", c.start)
    if ongoing:
        w.say(["past history includes {items}.", "known history of {items}.", "other active problems: {items}."],
              ongoing, items=_join([lower(clean(e["display"])) for e in ongoing]))
    _history(w, c, with_pmh=False)
    _vitals(w, c)
    _results(w, c)
    _plan(w, c)


def _hp(w: _Writer, c: _Context) -> None:
    _opening(w, c)
    _history(w, c, with_pmh=True)
    _social(w, c)
    _vitals(w, c)
    _results(w, c)
    _plan(w, c)


def _discharge(w: _Writer, c: _Context) -> None:
    w.section = "ADMISSION DATE"
    w.say(["{d}."], [c.encounter], d=f"{c.start:%Y-%m-%d}")
    w.section = "DISCHARGE DATE"
    w.say(["{d}."], [c.encounter], d=f"{c.end:%Y-%m-%d}")
    conditions = c.of("condition") or c.referred()
    if conditions:
        w.section = "DISCHARGE DIAGNOSES"
        for e in conditions:
            w.say(["{d}."], [e], d=clean(e["display"]))
    else:
        w.section = "REASON FOR ADMISSION"
        w.say(["{d}."], [c.encounter], d=clean(c.encounter["display"]))
    w.section = "BRIEF HOSPITAL COURSE"
    reason, events = _reason(c)
    _patient(w, c, c.start, reason, events, past=True)
    days = max(0, (c.end.date() - c.start.date()).days)
    w.say(["the patient was admitted for {n} day{s}.", "length of stay was {n} day{s}."], [c.encounter],
          n=str(days), s="" if days == 1 else "s")
    for e in c.of("procedure"):
        w.say(["underwent {p}.", "{p} was performed during the stay."], [e], p=lower(clean(e["display"])))
    for e in c.of("medication"):
        w.say(["treated with {m}.", "received {m}."], [e], m=clean(e["display"]))
    _medications(w, c, "DISCHARGE MEDICATIONS", c.active("medication", c.end, before=False))
    _allergy(w, c, c.end)
    w.section = "DISCHARGE INSTRUCTIONS"
    for e in c.of("careplan"):
        activities = f": {e['text_value']}" if e["text_value"] else ""
        w.say(["follow the {p}{a}.", "continue the {p}{a}."], [e], p=lower(clean(e["display"])), a=activities)
    w.say(["return to the emergency department for new or worsening symptoms.",
           "seek care at once if symptoms worsen or new symptoms appear."], basis="advice")
    w.section = "FOLLOW-UP"
    nxt = c.next_encounter()
    if nxt is not None:
        w.say(["{what} on {d}.", "next visit: {what} on {d}."], [nxt], what=lower(clean(nxt["display"])),
              d=f"{nxt['time']:%Y-%m-%d}")
    else:
        w.say(["follow up with the primary care physician.", "see the primary care physician after discharge."],
              basis="advice")


def _radiology(w: _Writer, c: _Context, study: Study, events: Sequence[Mapping[str, Any]]) -> None:
    """A radiology report of one study (see :mod:`hygeia.notes._radiology`)."""
    first = events[0]
    when = first["time"]
    name = clean(first["display"])
    w.section = "EXAMINATION"
    w.say(["{s}, {d}.", "{s} performed on {d}.", "{s} ({d})."], events, s=name, d=f"{when:%Y-%m-%d}")
    problems = c.of("condition")
    shown = _unique([e for e in problems if is_finding(study, clean(e["display"]), e["display"])])
    w.section = "CLINICAL INDICATION"
    relevant = _unique([e for e in problems if study.can_show(clean(e["display"]))])
    if relevant:
        w.say(["{items}.", "evaluation of {items}."], relevant, items=_join([lower(clean(e["display"])) for e in relevant]))
    elif problems:
        relevant = _unique(problems)
        w.say(["{items}.", "clinical history: {items}."], relevant,
              items=_join([lower(clean(e["display"])) for e in relevant]))
    named = {clean(e["display"]).lower() for e in relevant}
    known = [e for e in c.active("condition", when)
             if study.can_show(clean(e["display"])) and clean(e["display"]).lower() not in named]
    if known:
        w.say(["known {items}.", "previously recorded {items}."], known, items=_join([lower(clean(e["display"])) for e in known]))
    if not relevant and not known:
        reason = lower(clean(c.encounter["display"]))
        w.say(["{r}.", "requested during {a} {r}."], [c.encounter], r=reason, a=article(reason))
    w.section = "COMPARISON"
    codes = {str(e["code"]) for e in events}
    prior = [e for e in c.events if e["time"] < when and e["kind"] in ("procedure", "imaging")
             and str(e["code"]) in codes]
    if prior:
        last = max(prior, key=lambda e: (e["time"], e["kind"] == "procedure"))
        w.say(["{s} dated {d}.", "prior {s} from {d}.", "{s} of {d}."], [last], s=lower(clean(last["display"])),
              d=f"{last['time']:%Y-%m-%d}")
    else:
        w.say(["none available.", "no prior study of this type on record."], basis="absence")
    w.section = "TECHNIQUE"
    w.say(technique(study), basis="protocol")
    w.section = "FINDINGS"
    if shown:
        for e in shown:
            w.say(["findings consistent with {d}.", "appearance consistent with {d}.",
                   "imaging features consistent with {d}."], [e], d=lower(clean(e["display"])))
    else:
        w.say(["no acute abnormality is recorded for this study.", "no abnormality is recorded for this study."],
              basis="absence")
    w.section = "IMPRESSION"
    if shown:
        for e in shown:
            w.say(["{d}.", "consistent with {d}."], [e], d=lower(clean(e["display"])))
    else:
        w.say(["no acute abnormality recorded.", "no recorded abnormality on this study."], basis="absence")


def _unique(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Events with distinct names, the first of each."""
    seen: set[str] = set()
    out = []
    for e in events:
        name = clean(e["display"]).lower()
        if name not in seen:
            seen.add(name)
            out.append(e)
    return out


_TITLES = {
    "ambulatory": ("Progress Note", "primary care physician"),
    "urgentcare": ("Urgent Care Note", "urgent care physician"),
    "emergency": ("Emergency Department Note", "emergency physician"),
    "wellness": ("History and Physical", "primary care physician"),
    "inpatient": ("Admission History and Physical", "attending physician"),
    "outpatient": ("Outpatient Note", "physician"),
    "virtual": ("Telehealth Note", "physician"),
    "home": ("Home Visit Note", "physician"),
    "snf": ("Skilled Nursing Facility Note", "attending physician"),
    "hospice": ("Hospice Note", "hospice physician"),
}
_ADMISSION_WORKUP = dt.timedelta(days=1)
_PLANS: dict[str, Callable[[_Writer, _Context], None]] = {"soap": _soap, "hp": _hp, "discharge": _discharge}


def kinds_for(encounter_class: str | None) -> tuple[str, ...]:
    """The note kinds written for an encounter class (``wellness`` -> ``('hp',)``)."""
    if encounter_class == "wellness":
        return ("hp",)
    if encounter_class == "inpatient":
        return ("hp", "discharge")
    return ("soap",)


def compose_notes(person: Mapping[str, Any], events: Sequence[Mapping[str, Any]], encounter: Mapping[str, Any],
                  rngs: Callable[[str], random.Random], kinds: Sequence[str] = KINDS) -> list[Note]:
    """The notes of one encounter (see :func:`hygeia.notes.note_for_encounter`).

    Args:
        person: the person's row of the ``persons`` table.
        events: all of the person's events, sorted by time.
        encounter: the encounter event.
        rngs: the generator of each note kind.
        kinds: the kinds to write, among those the encounter's class gets; ``radiology``: one report per
            imaging study of the encounter (:func:`hygeia.notes._radiology.imaging_study`).
    """
    eid = encounter["encounter_id"]
    events = list(events)
    at = [e for e in events if e["encounter_id"] == eid and e["kind"] != "encounter"]
    cls = encounter.get("text_value")
    title, role = _TITLES.get(cls or "", ("Progress Note", "physician"))
    start = encounter["time"]
    end = max([encounter["end_time"] or start, *(e["time"] for e in at)])
    out = []
    for kind in kinds_for(cls):
        if kind not in kinds:
            continue
        if kind == "hp" and cls == "inpatient":  # the admission H&P covers the first day, not the whole stay
            covered = [e for e in at if e["time"] <= start + _ADMISSION_WORKUP]
            signed = max([start, *(e["time"] for e in covered)])
        else:
            covered, signed = at, end
        c = _Context(person, encounter, events, covered, signed)
        w = _Writer(rngs(kind))
        _PLANS[kind](w, c)
        out.append(Note(int(person["subject_id"]), int(eid), signed, kind, role,
                        "Discharge Summary" if kind == "discharge" else title, w.sentences))
    if "radiology" in kinds:
        out += _radiology_notes(person, events, encounter, at, rngs("radiology"))
    return out


def _radiology_notes(person: Mapping[str, Any], events: list[Mapping[str, Any]], encounter: Mapping[str, Any],
                     at: list[Mapping[str, Any]], rng: random.Random) -> list[Note]:
    """One radiology report per imaging study of the encounter, signed once the study and what it cites are done."""
    out = []
    for study, mine in studies_of(at):
        start = mine[0]["time"]
        done = max([start, *(e["end_time"] for e in mine if e["end_time"] is not None)])
        c = _Context(person, encounter, events, at, done)
        w = _Writer(rng)
        _radiology(w, c, study, mine)
        cited = {k for s in w.sentences for k in s.events}
        signed = max([done, *(e["time"] for e in at if event_key(e) in cited)])
        echo = study.modality == "echo"
        out.append(Note(int(person["subject_id"]), int(encounter["encounter_id"]), signed, "radiology",
                        "cardiologist" if echo else "radiologist",
                        "Echocardiography Report" if echo else "Radiology Report", w.sentences))
    return out
