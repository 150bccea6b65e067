"""Sections and sentences of a clinical note.

A section starts at a header: a line of its own (``HISTORY OF PRESENT ILLNESS:``,
``Past Medical History``) or a label at the start of a line (``Allergies: penicillin``).
Known headers and their variants (``HPI``, ``PMH``, ``A/P``, ``Hospital Course``...) get
a canonical lower-case name; an unknown header alone on its line in capitals with a
colon is kept under its own name.

Sentences are split by rules: at ``.``, ``!`` or ``?`` before a capital or a digit unless
the period ends an abbreviation (``Dr.``, ``b.i.d.``, ``p.o.``, ``e.g.``) or a single
letter; at a line break unless the next line continues the sentence (starts in lower
case after a line without final punctuation); at every list item (``-``, ``*``, ``1.``).
"""

from __future__ import annotations

import re

from hygeia.notes._facts import Section

__all__ = ["HEADERS", "canonical_header", "find_sections", "split_sentences"]

_VARIANTS = {
    "chief complaint": ["cc", "chief complaints", "reason for visit", "presenting complaint", "reason for consultation",
                        "reason for consult"],
    "history of present illness": ["hpi", "present illness", "history of the present illness", "interval history",
                                   "history of presenting illness"],
    "past medical history": ["pmh", "pmhx", "medical history", "past history", "past medical hx",
                             "past medical and surgical history", "past medical/surgical history"],
    "past surgical history": ["psh", "surgical history", "past surgical hx"],
    "medications": ["meds", "current medications", "home medications", "medications on admission", "admission medications",
                    "outpatient medications", "medication list", "current meds", "home meds", "medications prior to admission"],
    "allergies": ["allergy", "drug allergies", "allergies/adverse reactions", "allergies and adverse reactions"],
    "family history": ["fh", "fhx", "family hx", "family medical history"],
    "social history": ["sh", "shx", "social hx"],
    "review of systems": ["ros", "systems review"],
    "physical exam": ["physical examination", "exam", "pe", "examination", "physical exam on admission",
                      "admission exam", "discharge exam", "physical exam on discharge", "objective", "o"],
    "vital signs": ["vitals", "vs", "vital sign"],
    "results": ["labs", "laboratory", "laboratory data", "laboratory results", "lab results", "pertinent results",
                "labs/results", "labs and results", "data", "diagnostics", "studies", "lab data", "labs/imaging",
                "imaging", "laboratory and imaging"],
    "assessment and plan": ["a/p", "a&p", "assessment & plan", "assessment/plan", "impression and plan",
                            "impression/plan", "assessment and recommendations"],
    "assessment": ["impression", "clinical impression", "a"],
    "plan": ["recommendations", "p"],
    "brief hospital course": ["hospital course", "course", "hospital course by problem", "ed course", "clinical course"],
    "discharge medications": ["medications on discharge", "discharge meds", "discharge medication"],
    "discharge instructions": ["instructions", "patient instructions", "instructions for the patient"],
    "follow-up": ["follow up", "followup", "follow-up instructions", "follow up instructions", "follow-up appointments",
                  "follow up appointments", "followup instructions"],
    "discharge diagnoses": ["discharge diagnosis", "diagnoses", "diagnosis", "final diagnosis", "final diagnoses",
                            "primary diagnosis", "secondary diagnosis", "secondary diagnoses", "principal diagnosis"],
    "admission date": [],
    "discharge date": [],
    "reason for admission": ["reason for hospitalization"],
    "discharge condition": ["condition on discharge", "condition at discharge"],
    "discharge disposition": ["disposition"],
    "procedures": ["major surgical or invasive procedure", "procedure", "procedures performed", "operations"],
    "immunizations": ["immunization history", "vaccinations", "vaccines"],
    "subjective": ["s"],
    "problem list": ["active problems", "problems"],
    # radiology reports (EXAMINATION reads as 'physical exam' and IMPRESSION as 'assessment', above)
    "indication": ["clinical indication", "indications", "reason for exam", "reason for examination", "reason for study",
                   "clinical information"],
    "comparison": ["comparisons", "comparison study", "comparison studies", "prior studies", "prior study"],
    "technique": ["imaging technique", "technique and protocol"],
    "findings": ["imaging findings"],
}
#: Every header variant (lower case) -> its canonical section name.
HEADERS = {v: name for name, variants in _VARIANTS.items() for v in [name, *variants]}
_NESTED = {"assessment and plan": {"assessment", "plan"}, "physical exam": {"vital signs"}}
_ALONE = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /&\-]{0,60}?)[ \t]*(:?)[ \t]*$", re.M)
_INLINE = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /&\-]{0,45}?)[ \t]*:[ \t]+\S", re.M)


def canonical_header(label: str) -> str | None:
    """The canonical name of a header label, or None if it is not a known header.

    Example:
        >>> canonical_header("HPI"), canonical_header("Hospital Course:"), canonical_header("Patient")
        ('history of present illness', 'brief hospital course', None)
    """
    return HEADERS.get(re.sub(r"\s+", " ", label.strip().rstrip(":").strip()).lower())


def find_sections(text: str) -> list[tuple[Section, int]]:
    """The sections of ``text``, each with the offset where its body starts (after the header).

    Example:
        >>> text = "CC: cough\\nPMH:\\nasthma\\n"
        >>> [(s.name, text[b:s.end].strip()) for s, b in find_sections(text)]
        [('chief complaint', 'cough'), ('past medical history', 'asthma')]
    """
    heads: list[tuple[int, int, str]] = []  # (header start, body start, name)
    for m in _ALONE.finditer(text):
        label, colon = m.group(1), m.group(2)
        name = canonical_header(label)
        if name is None and colon and label.isupper() and len(label.strip()) >= 3:
            name = re.sub(r"\s+", " ", label.strip()).lower()
        if name is not None and (colon or label.isupper() or label.istitle()):
            heads.append((m.start(1), m.end(), name))
    alone = {h[0] for h in heads}
    for m in _INLINE.finditer(text):
        name = canonical_header(m.group(1))
        if name is not None and m.start(1) not in alone:
            heads.append((m.start(1), m.end() - 1, name))
    heads.sort()
    out: list[tuple[Section, int]] = []
    for k, (start, body, name) in enumerate(heads):
        if out and (out[-1][0].name == name or name in _NESTED.get(out[-1][0].name or "", ())) and start not in alone:
            continue  # 'Assessment: ...' inside ASSESSMENT AND PLAN, 'Allergies: ...' inside ALLERGIES
        if out:
            prev, prev_body = out[-1]
            out[-1] = (Section(prev.name, prev.start, start), prev_body)
        out.append((Section(name, start, len(text)), body))
    return [(Section(s.name, s.start, _rstrip(text, s.end, b)), b) for s, b in out]


def _rstrip(text: str, end: int, floor: int) -> int:
    while end > floor and text[end - 1].isspace():
        end -= 1
    return end


#: Words whose period never ends a sentence (titles, 'e.g.', 'vs.'); a dosing abbreviation such as 'b.i.d.' may.
_ABBREV = {"dr", "mr", "mrs", "ms", "st", "vs", "prof", "approx", "no", "nos", "fig", "e.g", "i.e", "cf", "pt", "pts",
           "y.o", "dept", "inc", "sig", "ca", "ext", "apt", "mt", "ft"}
_BREAK = re.compile(r"[.!?]+(?=[\s\"')\]]*\s+[\"'(\[]?[A-Z0-9])")
_LIST = re.compile(r"^[ \t]*(?:[-*•·]|\d{1,2}[.)]|[a-z][.)])[ \t]+")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` (offsets in ``text``), whitespace and list markers trimmed.

    Example:
        >>> t = "Metformin 500 mg p.o. b.i.d. Seen by Dr. Lee today. HbA1c 7.2%.\\n- aspirin 81 mg\\n- no rash"
        >>> [t[a:b] for a, b in split_sentences(t)]
        ['Metformin 500 mg p.o. b.i.d.', 'Seen by Dr. Lee today.', 'HbA1c 7.2%.', 'aspirin 81 mg', 'no rash']
    """
    end = len(text) if end is None else end
    blocks: list[tuple[int, int]] = []
    pos = start
    prev_text = ""
    for line in text[start:end].splitlines(keepends=True):
        a, b = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        body = text[a:b]
        if not body.strip():
            prev_text = ""
            continue
        marker = _LIST.match(body)
        if marker:
            a += marker.end()
        stripped = body.strip()
        joins = (blocks and prev_text and not marker and stripped[:1].islower()
                 and not prev_text.rstrip().endswith((".", ":", ";", "!", "?")))
        if joins:
            blocks[-1] = (blocks[-1][0], b)
        else:
            blocks.append((a, b))
        prev_text = body
    out = []
    for a, b in blocks:
        cut = a
        for m in _BREAK.finditer(text, a, b):
            if _abbreviation(text, cut, m.start()):
                continue
            out.append((cut, m.end()))
            cut = m.end()
        out.append((cut, b))
    return [s for s in (_trim(text, a, b) for a, b in out) if s is not None]


def _abbreviation(text: str, lo: int, dot: int) -> bool:
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[lo:dot])
    if not word:
        return False
    w = word.group(1).lower().rstrip(".")
    return w in _ABBREV or (len(w) == 1 and text[dot] == ".")


def _trim(text: str, a: int, b: int) -> tuple[int, int] | None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if a == b or not any(c.isalnum() for c in text[a:b]):
        return None
    return a, b
