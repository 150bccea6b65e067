"""Extraction: the typed facts of a clinical note, each with its span, codes and context.

:func:`extract` reads a note in four passes: sections (:mod:`._sections`), sentences,
concepts matched longest-first against the shipped lexicon (:mod:`._lexicon`), and for
each concept its ConText flags (:mod:`._context`) and values (:mod:`._values`): a lab
or vital sign takes the number and unit written after it, a medication its dose, route
and frequency, and every date in the text becomes a ``date`` fact.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from hygeia.errors import ConfigError
from hygeia.notes._context import SentenceContext
from hygeia.notes._facts import Extraction, Fact, Section
from hygeia.notes._lexicon import EXTENDED, Concept, Lexicon, Token, lexicon, tokens
from hygeia.notes._sections import HEADERS, find_sections, split_sentences
from hygeia.notes._values import UNITS, find_dates, measurement, medication_attributes

__all__ = ["extract"]

_CLASS_NAMES = {"medication": "any medication", "allergy": "any allergy", "problem": "any problem"}
_SECTION_CLASS = {"medications": "medication", "discharge medications": "medication", "allergies": "allergy",
                  "past medical history": "problem", "past surgical history": "procedure", "problem list": "problem",
                  "discharge diagnoses": "problem", "immunizations": "immunization", "family history": "problem"}
_NONE = re.compile(r"(?:none|no|nil|n/?a|nkda|nka|denies|none known|no known allergies)\W*", re.I)
_ALLERGY = re.compile(r"\ballerg|\bintoleran|\breaction to\b|\bnkda\b|\bnka\b|\banaphyla", re.I)
_SELF_NEGATED = {"nkda", "nka"}
_PRIORITY = ("medication", "problem", "procedure", "immunization", "vital", "lab", "allergen", "class")
_FOLLOW = re.compile(r"\b(?:follow(?:\s|-)?up|f/u|return to (?:the )?clinic|return visit|recheck|re-?evaluat\w*|"
                     r"next (?:\w+ )?(?:visit|appointment)|appointment (?:with|in|on)|see (?:dr\.?|the|your|his|her) |"
                     r"to be seen|will see)", re.I)
_WITH = re.compile(r"\b(?:with|by|see)\s+(?:the\s+|your\s+|dr\.?\s+)?(.+?)(?=\s+(?:in|on|within|after|for|at|"
                   r"regarding|to)\b|[.,;]|$)", re.I)
_INTERVAL = re.compile(r"\b(?:in|within|after)\s+(\d+|one|two|three|four|five|six|eight|ten|twelve|a)\s*(?:-\s*\d+\s*)?"
                       r"(days?|weeks?|wks?|months?|mos?|years?)\b", re.I)
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "ten": 10, "twelve": 12}
_UNIT_NAMES = {"d": "days", "w": "weeks", "m": "months", "y": "years"}
_ENGLISH = frozenset(
    "the a an and or of to in on for with at by from as is was were be been are has have had not no this that it "
    "he she his her they their them patient pt who which will would should if there then than after before since "
    "during today also but denies reports presents history year old male female man woman daily noted seen given "
    "plan continue follow up started start normal left right chronic acute pain mg ml per day days weeks months "
    "recent prior without within while due because any all some other new known recorded none".split())
_DATE_LABEL = re.compile(r"(?:\b(admission|discharge|surgery|procedure|operation|visit|birth|service)\s+date|"
                         r"\bdate\s+of\s+(admission|discharge|surgery|procedure|operation|visit|birth|service)|"
                         r"\b(admi)tted\s+on|\b(discharge)d\s+on|\b(birth)\s*:|\bdob|\bd\.o\.b\.)\s*:?\s*$", re.I)
_LABEL_NAMES = {"admi": "admission", "dob": "birth", "d.o.b.": "birth"}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@functools.lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Every word the lexicon, the headers and the units know (for the language check)."""
    lex = lexicon()
    words: set[str] = set(_ENGLISH)
    stack: list[dict] = [lex._trie]
    while stack:
        node = stack.pop()
        for key, child in node.items():
            if key and isinstance(child, dict):
                words.add(key)
                stack.append(child)
    for name in HEADERS:
        words.update(re.findall(r"[a-z]+", name))
    for unit in UNITS:
        words.update(re.findall(r"[a-z]+", unit.lower()))
    return frozenset(words)


def _language(text: str) -> list[str]:
    """Warnings about text that is not English prose (or not text)."""
    out = []
    if _CONTROL.search(text):
        out.append("the text holds control characters: it may be binary data rather than a note.")
    letters = [c for c in text if c.isalpha()]
    foreign = sum(1 for c in letters if not c.isascii())
    words = [w.lower() for w in re.findall(r"[^\W\d_]{2,}", text)]
    if len(letters) >= 12 and foreign / len(letters) > 0.3:
        out.append(f"not English: {foreign} of {len(letters)} letters are not ASCII; extraction reads English notes only.")
        return out
    if len(words) >= 6:
        vocab = _vocabulary()
        known = sum(1 for w in words if w in vocab or (w.endswith("s") and w[:-1] in vocab))
        if known / len(words) < 0.3:
            out.append(f"not English: only {known} of {len(words)} words are English or clinical terms Hygeia "
                       "knows; extraction reads English notes only.")
    return out


def extract(text: str) -> Extraction:
    """The facts of a clinical note: problems, medications, allergies, labs, vital signs, procedures,
    immunizations, dates and follow-ups, each with its span, codes and context.

    Never raises for a string: an empty text, text that is not English, or a note with no
    known section header gets a warning in :attr:`Extraction.warnings` (the facts of a
    note with no headers are still read, in one section named None).

    Args:
        text: the note.

    Returns:
        The note's sections, sentence spans, facts (in text order) and warnings.

    Raises:
        ConfigError: ``text`` is not a string.

    Example:
        >>> ex = extract("HPI: 64M with HTN, denies chest pain.\\nMEDICATIONS:\\nlisinopril 10 mg PO daily\\n"
        ...              "Vitals: BP 142/88 mmHg. HbA1c 7.2%.")
        >>> [(f.kind, f.text, f.negated) for f in ex.facts][:3]
        [('problem', 'HTN', False), ('problem', 'chest pain', True), ('medication', 'lisinopril 10 mg PO daily', False)]
        >>> med = ex.facts[2]
        >>> med.concept, med.dose, med.route, med.frequency, med.section
        ('lisinopril', '10 mg', 'oral', 'daily', 'medications')
        >>> [(f.concept, f.value, f.unit) for f in ex.facts if f.kind in ("vital", "lab")]
        [('systolic blood pressure', 142.0, 'mmHg'), ('diastolic blood pressure', 88.0, 'mmHg'), ('hemoglobin a1c/hemoglobin.total in blood', 7.2, '%')]
    """
    if not isinstance(text, str):
        raise ConfigError(f"extract reads a note as a str; got {type(text).__name__}. "
                          "Decode bytes first, e.g. extract(data.decode('utf-8')).")
    ex = Extraction(text)
    if not text.strip():
        ex.warnings.append("empty text: there is nothing to extract.")
        return ex
    ex.warnings += _language(text)
    lex = lexicon()
    found = find_sections(text)
    if not found:
        ex.warnings.append("no known section headers (HPI, MEDICATIONS, ASSESSMENT AND PLAN...): "
                           "the text is read as one section.")
        ex.sections = [Section(None, 0, len(text))]  # type: ignore[arg-type]  # None: no layout recognised
        bodies = [(None, 0, len(text))]
    else:
        ex.sections = [s for s, _ in found]
        bodies = [(None, 0, found[0][0].start)] + [(s.name, body, s.end) for s, body in found]
    for section, a, b in bodies:
        for s, e in split_sentences(text, a, b):
            ex.sentences.append((s, e))
            ex.facts += _sentence(text, s, e, section, lex)
    return ex


def _sentence(text: str, a: int, b: int, section: str | None, lex: Lexicon) -> list[Fact]:
    ctx = SentenceContext(text, a, b, section)
    toks = tokens(text, a, b)
    allergy = section == "allergies" or bool(_ALLERGY.search(text, a, b))
    facts: list[Fact] = []
    matches = _matches(toks, lex)
    covered = a
    for k, (i, j, concepts) in enumerate(matches):
        s, e = toks[i].start, toks[j - 1].end
        if s < covered:
            continue
        nxt = next((toks[m[0]].start for m in matches[k + 1:] if any(c.kind == "medication" for c in m[2])), b)
        new = _concept_facts(text, s, e, b, nxt, toks, i, concepts, allergy, section, ctx, lex)
        if new:
            facts += new
            covered = max(f.end for f in new)
    if not facts and section in _SECTION_CLASS and _NONE.fullmatch(text[a:b]):
        kind = _SECTION_CLASS[section]  # 'None.' under MEDICATIONS: no medication
        if kind in _CLASS_NAMES:
            end = _trim_end(text, a, b - 1 if text[b - 1] in ".!" else b)
            facts.append(Fact(kind, text[a:end], a, end, _CLASS_NAMES[kind], negated=True, section=section))
    facts += _follow_up(text, a, b, section, ctx)
    dates = list(find_dates(text, a, b))
    for s, e, iso in dates:
        label = _DATE_LABEL.search(text, max(a, s - 40), s)
        name = _label(label) + " date" if label else \
            section if section in ("admission date", "discharge date") else "date"
        c = ctx.of(s, e)
        facts.append(Fact("date", text[s:e], s, e, name, historical=c.historical, hypothetical=c.hypothetical,
                          date=iso, section=section))
    if len(dates) == 1:
        facts = [f if f.date or f.kind == "date" else _with_date(f, dates[0][2]) for f in facts]
    return sorted(facts, key=lambda f: (f.start, f.end))


def _label(m: re.Match[str]) -> str:
    word = next((w for w in m.groups() if w), None) or m.group(0).strip(" :").lower()
    word = word.lower()
    return _LABEL_NAMES.get(word, word)


def _with_date(f: Fact, iso: str) -> Fact:
    d = f.to_dict()
    d["codes"] = f.codes
    d["date"] = iso
    return Fact(**d)


def _matches(toks: list[Token], lex: Lexicon) -> list[tuple[int, int, tuple[Concept, ...]]]:
    out, i = [], 0
    while i < len(toks):
        hit = lex.match_at(toks, i)
        if hit is None:
            i += 1
            continue
        j, concepts = hit
        short = j == i + 1 and len(toks[i].raw) <= 3
        after_number = i > 0 and toks[i - 1].raw[-1:].isdigit() and toks[i - 1].end == toks[i].start - 1
        if short and after_number:  # '500 MG': a unit, not magnesium
            i += 1
            continue
        out.append((i, j, concepts))
        i = j
    return out


def _pick(concepts: Iterable[Concept], allergy: bool) -> Concept | None:
    by: dict[str, Concept] = {}
    for c in concepts:  # of one kind, a coded concept first ('ceftriaxone': RxNorm 2193, not the bare ingredient)
        if c.kind not in by or (c.codes and not by[c.kind].codes):
            by[c.kind] = c
    if "class" in by:
        return by["class"]
    if allergy:
        for kind in ("allergen", "medication"):
            if kind in by:
                return by[kind]
    for kind in _PRIORITY:
        if kind in by and kind != "allergen":
            return by[kind]
    return None


def _concept_facts(text: str, s: int, e: int, b: int, nxt: int, toks: list[Token], i: int,
                   concepts: tuple[Concept, ...], allergy: bool, section: str | None, ctx: SentenceContext,
                   lex: Lexicon) -> list[Fact]:
    measured = [c for c in concepts if c.kind in ("lab", "vital")]
    if measured and len(measured) < len(concepts) and measurement(text, e, b, pair=True) is not None:
        concepts = tuple(measured)  # 'Pain 3/10': the vital sign, not the problem
    c = _pick(concepts, allergy)
    if c is None:
        return []
    surface = text[s:e]
    short = len(surface) <= 3 and " " not in surface
    if short and surface.islower() and c.kind not in ("lab", "vital"):
        return []  # 'pe', 'ha', 'cap' in lower case are words, not abbreviations
    flags = ctx.of(s, e)
    common = dict(family=flags.family, historical=flags.historical, hypothetical=flags.hypothetical, section=section)
    if c.kind == "class":
        self_negated = surface.lower() in _SELF_NEGATED
        kind = c.name
        if not (flags.negated or self_negated) or kind not in _CLASS_NAMES:
            return []
        return [Fact(kind, surface, s, e, _CLASS_NAMES[kind], negated=True, **common)]
    if allergy and c.kind in ("allergen", "medication"):
        return [Fact("allergy", surface, s, e, c.name, c.codes, negated=flags.negated, **common)]
    if c.kind == "medication":
        limit = min(b, nxt, s + len(surface) + 70)
        semi = text.find(";", e, limit)
        limit = semi if semi != -1 else limit
        dose, route, freq, last = medication_attributes(text, s, limit)
        end = max(e, last)
        codes = c.codes
        if dose and not any(sys == "RxNorm" for sys, _ in codes):
            codes = codes + lex.product(c.name, dose, bool(EXTENDED.search(text, s, limit)))
        end = _trim_end(text, s, end)
        if text[end - 1] == "." and text[end - 3:end - 2] != ".":  # 'BID.' ends the sentence; 'b.i.d.' keeps it
            end -= 1
        return [Fact("medication", text[s:end], s, end, c.name, codes, negated=flags.negated, dose=dose, route=route,
                     frequency=freq, **common)]
    if c.kind in ("lab", "vital"):
        pair = c.name == "blood pressure"
        got = measurement(text, e, b, pair=pair)
        if pair:
            if got is None or got[1] is None:
                return []
            value, second, unit, end = got
            out = []
            for name, v in (("systolic blood pressure", value), ("diastolic blood pressure", second)):
                vc = lex.named("vital", name)
                out.append(Fact("vital", text[s:end], s, end, name, vc.codes if vc else (), negated=flags.negated,
                                value=v, unit=unit or "mmHg", **common))
            return out
        if got is None:
            return []  # a lab or vital sign named without a value states no result
        value, _, unit, end = got
        return [Fact(c.kind, text[s:end], s, end, c.name, c.codes, negated=flags.negated, value=value, unit=unit,
                     **common)]
    return [Fact(c.kind, surface, s, e, c.name, c.codes, negated=flags.negated, **common)]


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;"):
        end -= 1
    return end


def _follow_up(text: str, a: int, b: int, section: str | None, ctx: SentenceContext) -> list[Fact]:
    m = _FOLLOW.search(text, a, b)
    if m is None and section != "follow-up":
        return []
    s = m.start() if m else a
    semi = text.find(";", s, b)
    e = semi if semi != -1 else (b - 1 if text[b - 1] == "." else b)
    if e <= s:
        return []
    body = text[s:e]
    flags = ctx.of(s, s + 1)
    if flags.hypothetical and m is None:
        return []  # 'return if symptoms worsen' is advice, not a planned visit
    who = _WITH.search(body)
    iv = _INTERVAL.search(body)
    if section != "follow-up" and not (who or iv or next(find_dates(body), None)):
        return []  # 'Diabetes follow-up' (a title), 'seen for follow-up of depression': no visit planned
    if who:
        concept = who.group(1)
    else:
        concept = re.sub(r"^(?:next visit|follow(?:\s|-)?up|f/u)\s*:?\s*|^next\s+", "", body, flags=re.I)
        concept = re.split(r"\s+(?:on|in|within|at)\s", re.sub(r"^(?:in|at|with)\s+", "", concept, flags=re.I))[0]
    concept = re.sub(r"\s+", " ", re.sub(r"^(?:in|at|with|the)\s+", "", concept.strip(" .:,"), flags=re.I)).lower()
    if not concept or re.match(r"(?:her|him|them|you|the patient|patient)\b", concept):
        concept = "follow-up visit"
    if flags.negated and not who:
        concept = "any follow-up"  # 'No follow-up visit is recorded': no visit of any kind, a class denied
    value = unit = None
    if iv:
        n = iv.group(1).lower()
        value = float(_NUMBERS.get(n, n) if not n.isdigit() else n)
        unit = _UNIT_NAMES.get(iv.group(2)[0].lower(), iv.group(2).lower())
    return [Fact("follow_up", body, s, e, concept, negated=flags.negated, family=flags.family,
                 hypothetical=flags.hypothetical, value=value, unit=unit, section=section)]
