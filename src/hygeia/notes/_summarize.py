"""Summaries of a stay: a discharge summary, patient instructions, an insurance letter.

A summary is written in two steps, so that any writer can be plugged in and checked:

1. a source gives a :class:`Stay`, the facts of one stay, each a :class:`StayItem` with
   its provenance: event keys (:func:`stay_from_record`, from a person's record) or
   character spans of note texts (``"note.txt:120-135"``, from the notes);
2. a writer turns the stay into sentences (:class:`FaithfulWriter` by default; an LLM
   backend may take its place), and an optional guard checks, repairs or rejects them.

The default writer is faithful by construction: every sentence states only items of
the stay and carries their sources (basis ``"events"``), states an absence the stay
shows ("No known allergies." only when none is recorded: basis ``"absence"``), or is
standard advice that states nothing about the patient (basis ``"advice"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hygeia.errors import ConfigError
from hygeia.notes._compose import Sentence, lower, number, sectioned_text
from hygeia.notes._facts import Fact
from hygeia.notes._readability import Readability, readability
from hygeia.notes._summary_terms import LAY, LAY_FORMS, LAY_PROCEDURES

__all__ = ["SUMMARY_KINDS", "FaithfulWriter", "Stay", "StayItem", "Summary", "SummaryWriter", "summarize"]

#: What :func:`summarize` writes.
SUMMARY_KINDS = ("discharge", "instructions", "insurance")
#: Medication status relative to before the stay.
MED_STATUS = ("new", "continued", "stopped", "given")


@dataclass(frozen=True)
class StayItem:
    """One fact of a stay, as written in a clinical document, and where it comes from.

    Example:
        >>> item = StayItem("problem", "Essential hypertension", ("condition/59621000/2020-01-01T00:00:00.000000",),
        ...                 codes=(("SNOMED-CT", "59621000"), ("ICD-10-CM", "I10")))
        >>> item.code("ICD-10-CM"), item.code("RxNorm")
        ('I10', None)
    """

    #: ``problem``, ``medication``, ``allergy``, ``lab``, ``procedure``, ``follow_up``, ``careplan``, ``patient``.
    kind: str
    #: The name as a clinician writes it (``'Essential hypertension'``, ``'lisinopril 10 MG Oral Tablet'``).
    name: str
    #: Provenance: event keys of a record, or ``'FILE:START-END'`` spans of note texts.
    sources: tuple[str, ...]
    #: ``(system, code)`` pairs: ``('SNOMED-CT', '59621000')``, ``('ICD-10-CM', 'I10')``...
    codes: tuple[tuple[str, str], ...] = ()
    value: float | None = None
    unit: str | None = None
    #: Medications: ``new``, ``continued``, ``stopped`` (relative to before the stay) or ``given`` (only during it).
    status: str | None = None
    #: ISO date the item is stated for (a follow-up visit, a result).
    date: str | None = None
    #: Further words the source gives (a care plan's activities).
    detail: str | None = None

    def code(self, system: str) -> str | None:
        """The item's first code in ``system``, or None."""
        return next((c for s, c in self.codes if s == system), None)


@dataclass
class Stay:
    """The facts of one stay (or visit) that a summary may state, each with its sources.

    Example:
        >>> stay = Stay("record", setting="inpatient", start="2020-03-01", end="2020-03-03", visit_sources=("e",))
        >>> stay.days, stay.is_admission
        (2, True)
    """

    #: ``"record"`` or ``"notes"``.
    source: str
    subject_id: int | None = None
    encounter_id: int | None = None
    #: The encounter class (``inpatient``, ``emergency``, ``ambulatory``...), or ``"unknown"``.
    setting: str = "unknown"
    #: The encounter's name (``'Hospital admission'``), its start and end dates (ISO), and their sources.
    visit: str | None = None
    start: str | None = None
    end: str | None = None
    visit_sources: tuple[str, ...] = ()
    #: ``'67-year-old woman'`` and its sources (the person, the encounter).
    patient: StayItem | None = None
    #: What the stay was for, other active problems at its end, and the rest.
    reasons: list[StayItem] = field(default_factory=list)
    problems: list[StayItem] = field(default_factory=list)
    #: Problems a note states as past ("history of ..."), kept apart from the active ones.
    history: list[StayItem] = field(default_factory=list)
    procedures: list[StayItem] = field(default_factory=list)
    results: list[StayItem] = field(default_factory=list)
    medications: list[StayItem] = field(default_factory=list)
    allergies: list[StayItem] = field(default_factory=list)
    #: Sources of a stated absence of allergies (a note's "NKDA"); empty for a record, whose absence is its own.
    no_allergy_sources: tuple[str, ...] = ()
    #: Whether the source shows the absence of allergies (a record without any, a note that says so).
    no_allergies: bool = False
    careplans: list[StayItem] = field(default_factory=list)
    follow_up: list[StayItem] = field(default_factory=list)
    #: Problems met reading the source (an empty note, text that is not English...), each a sentence.
    warnings: list[str] = field(default_factory=list)
    #: From notes: the extracted facts the stay was built from (spans in their own note).
    facts: list[Fact] = field(default_factory=list)

    @property
    def is_admission(self) -> bool:
        """Whether the stay is an inpatient admission (then its dates are admission and discharge)."""
        return self.setting == "inpatient"

    @property
    def days(self) -> int | None:
        """Length of stay in calendar days, if both dates are known."""
        if not (self.start and self.end):
            return None
        import datetime as dt
        return (dt.date.fromisoformat(self.end) - dt.date.fromisoformat(self.start)).days

    def items(self) -> list[StayItem]:
        """Every item of the stay (what a guard compares a generated text against)."""
        out = [self.patient] if self.patient else []
        return out + [*self.reasons, *self.problems, *self.history, *self.procedures, *self.results, *self.medications,
                      *self.allergies, *self.careplans, *self.follow_up]

    def source_facts(self) -> list[Fact]:
        """The facts an LLM prompt may use and a guard checks a generated text against.

        From notes, the facts extraction found that the stay states; from a record, the
        facts extracted from the faithful discharge summary of the stay (every one backed
        by an event).

        Example:
            >>> stay = Stay("record", reasons=[StayItem("problem", "Community acquired pneumonia", ("k",))])
            >>> sorted({f.concept for f in stay.source_facts() if f.kind == "problem"})
            ['community acquired pneumonia']
        """
        if self.source == "notes":
            return list(self.facts)
        from hygeia.notes._extract import extract

        return extract(summarize(self, "discharge").text).facts

    def sources(self) -> set[str]:
        """Every source key the stay holds (a sentence may cite only these)."""
        return {k for item in self.items() for k in item.sources} | set(self.visit_sources) | set(
            self.no_allergy_sources)


@dataclass
class Summary:
    """One written summary: its kind, title and sentences with provenance.

    Example:
        >>> s = Summary("discharge", "Discharge Summary", [Sentence("ALLERGIES", "No known allergies.", (), "absence")])
        >>> print(s.text)
        Discharge Summary
        <BLANKLINE>
        ALLERGIES:
        No known allergies.
    """

    kind: str
    title: str
    sentences: list[Sentence] = field(default_factory=list)
    subject_id: int | None = None
    encounter_id: int | None = None
    #: Where the facts came from (``record`` or ``notes``) and who wrote the words.
    source: str = "record"
    writer: str = "faithful"
    #: What a guard reported, if one ran (free-form JSON-ready data).
    guard: dict[str, Any] | None = None
    #: A language model's text as the guard passed it (its layout kept); ``None`` for the faithful writer.
    written: str | None = None

    @property
    def text(self) -> str:
        """The summary as written: the title, then each section header and its sentences."""
        return self.written if self.written is not None else sectioned_text(self.title, self.sentences)

    @property
    def body(self) -> str:
        """The sentences alone, one paragraph per section, no headers (what readability and ROUGE read)."""
        return "\n".join(s.text for s in self.sentences)

    def readability(self) -> Readability:
        """Flesch-Kincaid grade and Flesch reading ease of the sentences (headers left out)."""
        return readability(self.body)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data: its text, every sentence with provenance, readability for instructions."""
        out: dict[str, Any] = {"kind": self.kind, "title": self.title, "subject_id": self.subject_id,
                               "encounter_id": self.encounter_id, "source": self.source, "writer": self.writer,
                               "text": self.text, "sentences": [s.to_dict() for s in self.sentences]}
        if self.kind == "instructions":
            r = self.readability()
            out["readability"] = {"flesch_kincaid_grade": r.grade, "flesch_reading_ease": r.ease, "words": r.words,
                                  "sentences": r.sentences, "syllables": r.syllables}
        if self.guard is not None:
            out["guard"] = self.guard
        return out


class SummaryWriter(Protocol):
    """What writes a summary's sentences from a stay: the faithful writer, or an LLM backend."""

    name: str

    def write(self, stay: Stay, kind: str) -> list[Sentence]:
        """The sentences of a summary of ``kind`` about ``stay``."""
        ...


#: A guard: checks a written summary against its stay; returns it (flagged, repaired or replaced).
Guard = Callable[[Summary, Stay], Summary]

_TITLES = {
    "discharge": ("Discharge Summary", "Visit Summary"),
    "instructions": ("Your Hospital Stay: What to Do Next", "Your Visit: What to Do Next"),
    "insurance": ("Letter of Medical Necessity", "Letter of Medical Necessity"),
}


def _check_kind(kind: str) -> str:
    if kind not in SUMMARY_KINDS:
        raise ConfigError(f"kind must be one of {', '.join(SUMMARY_KINDS)}; got {kind!r}. Pass e.g. kind='discharge'.")
    return kind


def summarize(stay: Stay, kind: str = "discharge", *, writer: SummaryWriter | None = None,
              guard: Guard | None = None) -> Summary:
    """Write a summary of ``kind`` about ``stay``.

    Args:
        stay: the facts of the stay (:func:`stay_from_record`, :func:`stay_from_notes`).
        kind: ``discharge`` (discharge summary), ``instructions`` (plain-language patient
            instructions) or ``insurance`` (prior-authorization letter with ICD-10-CM codes).
        writer: what writes the sentences; None for the :class:`FaithfulWriter`.
        guard: called with the written summary and the stay; returns the summary to keep.

    Returns:
        The summary: title, sentences with provenance, the writer's name.

    Raises:
        ConfigError: ``kind`` is unknown.

    Example:
        >>> stay = Stay("record", 1, 9, "inpatient", "Hospital admission", "2020-03-01", "2020-03-03", ("enc",),
        ...             reasons=[StayItem("problem", "Chest pain", ("cond",))])
        >>> s = summarize(stay, "discharge")
        >>> [x.text for x in s.sentences if x.section == "REASON FOR ADMISSION"]
        ['Chest pain.']
        >>> summarize(stay, "instructions").sentences[2].text
        'You were treated for chest pain.'
    """
    _check_kind(kind)
    writer = writer if writer is not None else FaithfulWriter()
    title = _TITLES[kind][0 if stay.is_admission else 1]
    summary = Summary(kind, title, list(writer.write(stay, kind)), stay.subject_id, stay.encounter_id, stay.source,
                      writer.name)
    return guard(summary, stay) if guard is not None else summary


# --- the faithful writer -------------------------------------------------------------------------------------


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _sources(*groups: Any) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for g in groups:
        for x in (g if isinstance(g, (list, tuple)) else [g]):
            for k in (x.sources if isinstance(x, StayItem) else (x,)):
                out[k] = None
    return tuple(out)


def _value(item: StayItem) -> str:
    """A result's value and unit as written (``unit`` is already in a note's form: ``'mmHg'``, not ``'mm[Hg]'``)."""
    if item.value is None:
        return (item.detail or "").lower()
    unit = item.unit or ""
    return number(item.value) + ((" " + unit) if unit and unit != "%" else unit)


_SALTS = re.compile(r"\b(hydrochloride|hydrobromide|succinate|monohydrate|hyclate|sodium|potassium|calcium|besylate|"
                    r"tartrate|maleate|sulfate|citrate|fumarate|mesylate|macrocrystals|anhydrous|HCl)\b", re.IGNORECASE)


_SIG = re.compile(r"\s+(?:PO|p\.o\.|by mouth|orally|oral|IV|IM|SC|SQ|subcut\w*|inhaled|topically|daily|once|twice|"
                  r"three times|four times|b\.?i\.?d\.?|t\.?i\.?d\.?|q\.?i\.?d\.?|q\.?d\.?|prn|as needed|at bedtime|"
                  r"nightly|q\s?\d+\s?h\w*|every)\b.*$", re.IGNORECASE)


def lay_medicine(name: str) -> str:
    """A medicine's RxNorm name in plain words, its strength kept (a single ingredient) or left out (several).

    Example:
        >>> lay_medicine("lisinopril 10 MG Oral Tablet")
        'lisinopril 10 mg pill'
        >>> lay_medicine("200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler")
        'albuterol 0.09 mg per puff inhaler'
        >>> lay_medicine("amoxicillin 250 MG / clavulanate 125 MG Oral Tablet")
        'amoxicillin and clavulanate pill'
        >>> lay_medicine("lisinopril 10 mg PO daily")
        'lisinopril 10 mg'
    """
    text = re.sub(r"\s*\[[^\]]*\]\s*$", "", name.strip())
    text = re.sub(r"^\d+(\.\d+)?\s+(ACTUAT|ML|HR)\s+", "", text)
    form = ""
    for words, plain in LAY_FORMS:
        if text.endswith(words):
            text, form = text[: -len(words)].strip(), plain
            break
    if not form:  # a note's words ("lisinopril 10 mg PO daily"): route and frequency are said apart, in plain words
        text = _SIG.sub("", text).strip()
    parts = [p.strip() for p in text.split(" / ") if p.strip()]

    def ingredient(part: str) -> tuple[str, str]:
        m = re.search(r"\s(\d[\d.,]*\s+\S+)$", part)
        strength = m.group(1) if m else ""
        who = part[: m.start()] if m else part
        who = re.sub(r"\s+,", ",", re.sub(r"\s+", " ", _SALTS.sub("", who))).strip(" ,")
        strength = strength.replace("MG", "mg").replace("ML", "mL").replace("/ACTUAT", " per puff").replace("UNT", "units")
        return who, strength

    pieces = [ingredient(p) for p in parts]
    if len(pieces) == 1:
        words = " ".join(x for x in (*pieces[0], form) if x)
    else:
        names = list(dict.fromkeys(p[0].split()[0].strip(",") for p in pieces if p[0]))
        words = _join(names) + (f" {form}" if form else "")
    return words or name


def _lay_condition(item: StayItem, *, bracket: bool) -> str:
    lay = LAY.get(item.code("SNOMED-CT") or "")
    clinical = lower(item.name)
    if lay is None:
        return clinical
    if bracket and lay.lower() != clinical.lower() and "(" not in lay and len(clinical.split()) <= 3:
        return f"{lay} ({clinical})"
    return lay


def _pretty_date(iso: str) -> str:
    import datetime as dt
    d = dt.date.fromisoformat(iso)
    return f"{d:%B} {d.day}, {d.year}"


class FaithfulWriter:
    """The default writer: states only the items of a stay, each sentence citing their sources.

    Deterministic (no draw): the same stay gives the same words.

    Example:
        >>> stay = Stay("record", 1, 9, "emergency", "Emergency room admission", "2020-03-01", "2020-03-01", ("enc",))
        >>> [s.text for s in FaithfulWriter().write(stay, "discharge")][:2]
        ['Visit date: 2020-03-01.', 'Emergency room admission.']
    """

    name = "faithful"

    def write(self, stay: Stay, kind: str) -> list[Sentence]:
        """The sentences of a summary of ``kind`` (see :data:`SUMMARY_KINDS`) about ``stay``."""
        out: list[Sentence] = []
        {"discharge": _discharge, "instructions": _instructions, "insurance": _insurance}[_check_kind(kind)](
            stay, out)
        return out


def _say(out: list[Sentence], section: str, text: str, sources: Sequence[str] = (), basis: str = "events") -> None:
    text = text[0].upper() + text[1:]
    out.append(Sentence(section, text, tuple(sources), basis))


def _discharge(stay: Stay, out: list[Sentence]) -> None:
    v = stay.visit_sources
    if stay.is_admission:
        if stay.start:
            _say(out, "ADMISSION DATE", f"{stay.start}.", v)
        if stay.end:
            _say(out, "DISCHARGE DATE", f"{stay.end}.", v)
    elif stay.start:
        _say(out, "VISIT DATE", f"Visit date: {stay.start}.", v)
    section = "REASON FOR ADMISSION" if stay.is_admission else "REASON FOR VISIT"
    if stay.reasons:
        for item in stay.reasons:
            _say(out, section, f"{item.name}.", _sources(item))
    elif stay.visit:
        _say(out, section, f"{stay.visit}.", v)
    course = "BRIEF HOSPITAL COURSE" if stay.is_admission else "COURSE"
    if stay.patient:
        what = "admitted" if stay.is_admission else "seen"
        why = f" with {_join([lower(r.name) for r in stay.reasons])}" if stay.reasons else ""
        _say(out, course, f"{stay.patient.name} {what}{why}.", _sources(stay.patient, v, stay.reasons))
    if stay.is_admission and stay.days is not None:
        _say(out, course, f"Length of stay: {stay.days} day{'' if stay.days == 1 else 's'}.", v)
    for item in stay.procedures:
        _say(out, course, f"Underwent {lower(item.name)}.", item.sources)
    for item in stay.medications:
        if item.status == "given":
            _say(out, course, f"Received {item.name}.", item.sources)
    for item in stay.results:
        _say(out, course, f"{item.name}: {_value(item)}.", item.sources)
    diagnoses = [*stay.reasons, *stay.problems]
    if diagnoses:
        for item in diagnoses:
            _say(out, "DISCHARGE DIAGNOSES" if stay.is_admission else "DIAGNOSES", f"{item.name}.", item.sources)
    if stay.history:
        _say(out, "PAST MEDICAL HISTORY", f"History of {_join([lower(h.name) for h in stay.history])}.",
             _sources(stay.history))
    section = "DISCHARGE MEDICATIONS" if stay.is_admission else "MEDICATIONS"
    listed = [m for m in stay.medications if m.status in ("new", "continued", "stopped", None)]
    for item in listed:
        label = {"new": "New", "continued": "Continued", "stopped": "Stopped"}.get(item.status or "", "")
        _say(out, section, f"{label}: {item.name}." if label else f"{item.name}.", item.sources)
    if not listed and stay.source == "record":
        _say(out, section, "No medications at discharge." if stay.is_admission else "No active medications.",
             basis="absence")
    _allergy_lines(stay, out, "ALLERGIES", patient=False)
    for item in stay.careplans:
        detail = f": {item.detail}" if item.detail else ""
        _say(out, "FOLLOW-UP", f"Continue the {lower(item.name)}{detail}.", item.sources)
    for item in stay.follow_up:
        when = f" on {item.date}" if item.date else ""
        _say(out, "FOLLOW-UP", f"Next visit: {lower(item.name)}{when}.", item.sources)
    if not stay.follow_up:
        # Not "follow up with the primary care physician": a plan the source does not state is an invented fact.
        _say(out, "FOLLOW-UP", "No follow-up visit is recorded.", basis="absence")


def _allergy_lines(stay: Stay, out: list[Sentence], section: str, *, patient: bool) -> None:
    if stay.allergies:
        names = _join([lower(a.name) for a in stay.allergies])
        _say(out, section, f"You are allergic to {names}." if patient else f"Allergic to {names}.",
             _sources(stay.allergies))
    elif stay.no_allergies:
        _say(out, section, "You have no known allergies." if patient else "No known allergies.",
             stay.no_allergy_sources, "absence")


#: How often, as extraction normalizes it -> plain words.
_LAY_FREQUENCY = {"daily": "once a day", "twice daily": "two times a day", "three times daily": "three times a day",
                  "four times daily": "four times a day", "weekly": "once a week", "monthly": "once a month",
                  "as needed": "only when you need it", "once": "one time"}

_WARNINGS = (
    "Call 911 if you have chest pain or trouble breathing.",
    "Call your doctor if you feel worse or have a new fever.",
    "Call your doctor if you cannot eat, drink or take your medicines.",
)


def _instructions(stay: Stay, out: list[Sentence]) -> None:
    v = stay.visit_sources
    why = "WHY YOU CAME"
    if stay.start:
        if stay.is_admission and stay.end and stay.end != stay.start:  # two short sentences read easier than one
            _say(out, why, f"You came to the hospital on {_pretty_date(stay.start)}.", v)
            _say(out, why, f"You went home on {_pretty_date(stay.end)}.", v)
        elif stay.is_admission:
            _say(out, why, f"You were in the hospital on {_pretty_date(stay.start)}.", v)
        else:
            _say(out, why, f"You came to see us on {_pretty_date(stay.start)}.", v)
    for item in stay.reasons:
        _say(out, why, f"You were treated for {_lay_condition(item, bracket=True)}.", item.sources)
    for item in stay.problems:  # one short sentence each: a long list raises the reading grade
        words = _lay_condition(item, bracket=False)
        _say(out, why, f"You have a {words}." if words.startswith("history of ") else f"You also have {words}.",
             item.sources)
    for item in stay.history:
        _say(out, why, f"You have had {_lay_condition(item, bracket=False)} before.", item.sources)
    for item in stay.procedures:
        plain = LAY_PROCEDURES.get(item.code("SNOMED-CT") or "")
        _say(out, "WHAT WE DID", f"You {plain}." if plain else f"You had this done: {lower(item.name)}.", item.sources)
    meds = "YOUR MEDICINES"
    verbs = {"new": "Start taking {m}. It is a new medicine.", "continued": "Keep taking {m}.",
             "stopped": "Stop taking {m}.", "given": "You got {m} while you were here."}
    for item in stay.medications:
        text = verbs.get(item.status or "", "Take {m}.").format(m=lower(lay_medicine(item.name)))
        for part in text.split(". "):
            _say(out, meds, part if part.endswith(".") else part + ".", item.sources)
        if item.detail and item.status in ("new", "continued", None):  # how often, only where the source says
            _say(out, meds, f"Take it {_LAY_FREQUENCY.get(item.detail, item.detail)}.", item.sources)
    if any(m.status in ("new", "continued", None) for m in stay.medications):
        _say(out, meds, "Take each medicine the way the label says.", basis="advice")
    elif stay.source == "record":
        _say(out, meds, "You have no medicines to take from this visit.", basis="absence")
    _say(out, meds, "Do not stop a medicine before you talk to your doctor.", basis="advice")
    _allergy_lines(stay, out, "ALLERGIES", patient=True)
    for text in _WARNINGS:
        _say(out, "WHEN TO GET HELP", text, basis="advice")
    nxt = "NEXT STEPS"
    for item in stay.careplans:
        _say(out, nxt, f"Keep up your care plan: {lower(item.name)}.", item.sources)
    for item in stay.follow_up:
        when = f" on {_pretty_date(item.date)}" if item.date else ""
        _say(out, nxt, f"See your doctor{when}.", item.sources)
    if not stay.follow_up:
        _say(out, nxt, "Make a visit with your regular doctor soon.", basis="advice")


def _coded(item: StayItem) -> str:
    icd, snomed = item.code("ICD-10-CM"), item.code("SNOMED-CT")
    parts = [f"ICD-10-CM {icd}" if icd else "no ICD-10-CM code in Hygeia's table"]
    if snomed:
        parts.append(f"SNOMED CT {snomed}")
    return f"{item.name} ({'; '.join(parts)})."


def _insurance(stay: Stay, out: list[Sentence]) -> None:
    v = stay.visit_sources
    if stay.patient:
        who = f"patient {stay.subject_id}, " if stay.subject_id is not None else ""
        _say(out, "PATIENT", f"Re: {who}{stay.patient.name}.", stay.patient.sources)
    if stay.start:
        if stay.is_admission and stay.end:
            _say(out, "DATES OF SERVICE", f"Admitted {stay.start}; discharged {stay.end}.", v)
        else:
            _say(out, "DATES OF SERVICE", f"Seen {stay.start}.", v)
    for item in [*stay.reasons, *stay.problems]:
        _say(out, "DIAGNOSES", _coded(item), item.sources)
    req = "SERVICES REQUESTED"
    what = "the inpatient stay" if stay.is_admission else "the visit"
    if stay.visit:
        _say(out, req, f"Coverage of {what}: {lower(stay.visit)}.", v)
    elif stay.start:
        _say(out, req, f"Coverage of {what} of {stay.start}" + (f" to {stay.end}." if stay.end else "."), v)
    for item in stay.procedures:
        code = item.code("SNOMED-CT")
        _say(out, req, f"Procedure: {lower(item.name)}" + (f" (SNOMED CT {code})." if code else "."), item.sources)
    for item in stay.medications:
        if item.status == "new":
            code = item.code("RxNorm")
            _say(out, req, f"Medication: {item.name}" + (f" (RxNorm {code})." if code else "."), item.sources)
    why = "CLINICAL JUSTIFICATION"
    if stay.patient and stay.reasons:
        _say(out, why, f"The patient, {stay.patient.name}, presented with {_join([lower(r.name) for r in stay.reasons])}.",
             _sources(stay.patient, stay.reasons))
    for item in stay.results:
        _say(out, why, f"{item.name}: {_value(item)}" + (f" on {item.date}." if item.date else "."), item.sources)
    for item in stay.procedures:
        _say(out, why, f"{item.name} was performed" + (f" on {item.date}." if item.date else "."), item.sources)
    if stay.problems:
        _say(out, why, f"Other active problems: {_join([lower(p.name) for p in stay.problems])}.",
             _sources(stay.problems))
    if stay.history:
        _say(out, why, f"History of {_join([lower(h.name) for h in stay.history])}.", _sources(stay.history))
    if stay.is_admission and stay.days is not None:
        _say(out, why, f"Length of stay: {stay.days} day{'' if stay.days == 1 else 's'}.", v)
    _say(out, "CONTACT", "Please contact the treating physician for any further information.", basis="advice")
