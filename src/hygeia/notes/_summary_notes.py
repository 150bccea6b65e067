"""A :class:`Stay` read from the texts of notes: the facts :func:`extract` finds, each with its span.

Only what a note states of the patient is used: a negated, family, or hypothetical fact
(or any fact in a sentence that holds a hypothetical one: "if fever develops, start
acetaminophen") is never stated as the patient's (a negated allergy class, "NKDA", is kept as the
absence it states); a historical problem ("history of ...") goes to the past history.
A source is written ``NAME:START-END``, the span of the note ``NAME`` it was read from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from hygeia.errors import ConfigError
from hygeia.notes._facts import Extraction, Fact
from hygeia.notes._summarize import Stay, StayItem
from hygeia.notes._summary_terms import ICD10CM

__all__ = ["stay_from_extractions", "stay_from_notes"]

_PATIENT = re.compile(r"\b(\d+)-(year|month|week)-old (man|woman|boy|girl|patient|child)\b|\bnewborn (boy|girl)\b")
_REASON_SECTIONS = ("reason for admission", "chief complaint", "discharge diagnoses", "diagnoses",
                    "assessment and plan", "history of present illness", "assessment")
_BEFORE_MEDS = ("medications", "home medications", "medications on admission")
_AFTER_MEDS = ("discharge medications",)
_PLANNED_SECTIONS = ("follow-up", "discharge instructions", "plan", "instructions")
_ADMISSION_SECTIONS = ("admission date", "discharge date", "brief hospital course", "hospital course",
                       "discharge medications", "discharge diagnoses")


def _key(name: str, f: Fact | tuple[int, int]) -> str:
    start, end = (f.start, f.end) if isinstance(f, Fact) else f
    return f"{name}:{start}-{end}"


def _codes(f: Fact) -> tuple[tuple[str, str], ...]:
    codes = list(f.codes)
    systems = {s for s, _ in codes}
    if "SNOMED-CT" not in systems and f.kind in ("problem", "procedure"):
        from hygeia.notes._lexicon import lexicon

        for _, _, concepts in lexicon().find(f.text):
            codes += [c for concept in concepts for c in concept.codes if c[0] == "SNOMED-CT" and c not in codes]
    snomed = next((c for s, c in codes if s == "SNOMED-CT"), None)
    if f.kind == "problem" and "ICD-10-CM" not in {s for s, _ in codes} and snomed in ICD10CM:
        codes.append(("ICD-10-CM", ICD10CM[snomed][0]))
    return tuple(codes)


def _name(f: Fact) -> str:
    text = f.text.strip()
    if f.kind in ("lab", "vital"):
        text = re.split(r"[:\s]+(?=[-+]?\d)", text, maxsplit=1)[0].strip(" :")
    if f.kind == "medication" and f.dose and f.dose.lower() not in text.lower():
        text = f"{text} {f.dose}"
    return text[:1].upper() + text[1:]


class _Items:
    """Items of one kind, merged by concept: the first mention's words, every mention's span."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.by: dict[str, tuple[Fact, list[str]]] = {}

    def add(self, f: Fact, key: str) -> None:
        # a medication is its product as written (two albuterol products are two medicines), a result its value
        concept = f"{f.concept}={f.value}" if f.kind in ("lab", "vital") else \
            " ".join(f.text.lower().split()) if f.kind == "medication" else f.concept
        if concept not in self.by:
            self.order.append(concept)
            self.by[concept] = (f, [key])
        elif key not in self.by[concept][1]:
            self.by[concept][1].append(key)

    def items(self, kind: str, **extra: object) -> list[StayItem]:
        out = []
        for concept in self.order:
            f, keys = self.by[concept]
            name = f.concept[:1].upper() + f.concept[1:] if f.kind == "follow_up" else _name(f)
            detail = f.frequency if f.kind == "medication" else None  # how often, where the note says
            out.append(StayItem(kind, name, tuple(keys), _codes(f), f.value, f.unit, date=f.date, detail=detail,
                                **extra))
        return out

    def __contains__(self, concept: str) -> bool:
        return concept in self.by


def _conditional_sentences(x: Extraction) -> list[tuple[int, int]]:
    """Sentences holding a hypothetical fact ("if fever develops, start acetaminophen"): all of it is conditional."""
    return [(a, b) for a, b in x.sentences if any(f.hypothetical and a <= f.start < b for f in x.facts)]


def _within(f: Fact, spans: list[tuple[int, int]]) -> bool:
    return any(a <= f.start < b for a, b in spans)


def stay_from_extractions(extractions: Mapping[str, Extraction]) -> Stay:
    """The stay that the notes state, from their extractions (the key of each: the note's name).

    Args:
        extractions: note name -> what :func:`extract` found in it (in reading order:
            an admission note before the discharge summary).

    Returns:
        The stay; each item's sources are spans ``NAME:START-END`` of the notes.

    Example:
        >>> from hygeia.notes import extract
        >>> text = "DISCHARGE DIAGNOSES:\\nCommunity acquired pneumonia.\\n\\nALLERGIES:\\nNKDA."
        >>> stay = stay_from_extractions({"note.txt": extract(text)})
        >>> [(r.name, r.sources) for r in stay.reasons], stay.no_allergies, stay.no_allergy_sources
        ([('Community acquired pneumonia', ('note.txt:21-49',))], True, ('note.txt:63-67',))
    """
    reasons, history, procedures, results, allergies, follow = (_Items() for _ in range(6))
    before, after, given = _Items(), _Items(), _Items()
    stay = Stay("notes")
    visit: tuple[str, str] | None = None
    for name, x in extractions.items():
        sections = {s.name for s in x.sections}
        if sections & set(_ADMISSION_SECTIONS):
            stay.setting = "inpatient"
        if stay.patient is None and (m := _PATIENT.search(x.text)):
            stay.patient = StayItem("patient", m.group(0), (_key(name, m.span()),))
        stay.warnings += [f"{name}: {w}" for w in x.warnings]
        conditional = _conditional_sentences(x)
        planned = [(f.start, f.end) for f in x.facts if f.kind == "follow_up"]
        for f in x.facts:
            key = _key(name, f)
            section = f.section or ""
            if not (f.negated or f.family or f.hypothetical or _within(f, conditional)) or f.concept == "any allergy":
                stay.facts.append(f)
            if f.kind == "date" and section in ("admission date", "discharge date") and f.date:
                if section == "admission date":
                    stay.start = stay.start or f.date
                else:
                    stay.end = f.date
                stay.visit_sources += (key,)
                continue
            if f.kind == "allergy" and f.negated and not (f.family or f.hypothetical) and f.concept == "any allergy":
                stay.no_allergies = True
                stay.no_allergy_sources += (key,)
                continue
            if f.negated or f.family or f.hypothetical or _within(f, conditional):
                continue  # never stated as the patient's
            if f.kind == "problem":
                (history if f.historical else reasons if section in _REASON_SECTIONS else history).add(f, key)
            elif f.kind == "medication" and f.concept not in ("any medication",):
                (before if section in _BEFORE_MEDS else after if section in _AFTER_MEDS else given).add(f, key)
            elif f.kind == "procedure" and not _within(f, planned) and section not in _PLANNED_SECTIONS:
                procedures.add(f, key)  # a procedure in a follow-up or plan is planned, not done
            elif f.kind in ("lab", "vital") and f.value is not None:
                results.add(f, key)
            elif f.kind == "allergy" and f.concept != "any allergy":
                allergies.add(f, key)
            elif f.kind == "follow_up":
                follow.add(f, key)
        if visit is None:
            for s in x.sections:  # an encounter type stated as the reason ("Hospital admission."), not a problem
                if s.name == "reason for admission" and not any(
                        f.kind == "problem" and s.start <= f.start < s.end for f in x.facts):
                    body = x.text[s.start:s.end]
                    head = body.find(":") + 1 if ":" in body.split("\n", 1)[0] else 0
                    text = body[head:].strip().rstrip(".")
                    if text:
                        start = s.start + body.index(text, head)
                        visit = (text, _key(name, (start, start + len(text))))
                    break
    if visit and not stay.visit:
        stay.visit = visit[0]
        stay.visit_sources += (visit[1],)
    stay.reasons = [r for r in reasons.items("problem")]
    stay.history = [h for c, h in zip(history.order, history.items("problem")) if c not in reasons]
    stay.procedures = procedures.items("procedure")
    stay.results = results.items("lab")
    stay.allergies = allergies.items("allergy")
    stay.follow_up = follow.items("follow_up")
    meds = after.items("medication", status=None)
    if before.order and after.order:  # both lists known: compare them as the record path does
        meds = [StayItem(m.kind, m.name, m.sources, m.codes, m.value, m.unit,
                         "continued" if c in before else "new", m.date, m.detail) for c, m in zip(after.order, meds)]
        meds += [m for c, m in zip(before.order, before.items("medication", status="stopped")) if c not in after]
    elif before.order:
        meds = before.items("medication", status=None)
    meds += [m for c, m in zip(given.order, given.items("medication", status="given"))
             if c not in after and c not in before]
    stay.medications = meds
    if stay.allergies:
        stay.no_allergies = False
    return stay


def stay_from_notes(texts: Mapping[str, str] | Sequence[str]) -> Stay:
    """The stay that one or more note texts state (see :func:`stay_from_extractions`).

    Args:
        texts: note name -> text, or texts alone (named ``note1``, ``note2``...).

    Returns:
        The stay, its sources spans of the texts.

    Raises:
        ConfigError: no text is given, or every text is empty.

    Example:
        >>> stay = stay_from_notes(["CHIEF COMPLAINT:\\nChest pain.\\n\\nALLERGIES:\\nAllergic to penicillin."])
        >>> [r.name for r in stay.reasons], [a.sources for a in stay.allergies]
        (['Chest pain'], [('note1:53-63',)])
    """
    from hygeia.notes._extract import extract

    named = dict(texts) if isinstance(texts, Mapping) else {f"note{i}": t for i, t in enumerate(texts, 1)}
    if not named or not any(t.strip() for t in named.values()):
        raise ConfigError("no note text to summarize: every text given is empty. Pass the text of at least one "
                          "clinical note.")
    return stay_from_extractions({k: extract(t) for k, t in named.items()})
