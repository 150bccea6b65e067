"""Typed facts found in clinical text: what extraction returns and what the guard compares.

A :class:`Fact` is one clinical statement with the span of text it was read from, its
normalized concept (a lower-case name and, where a vocabulary knows it, codes), its
context (negated, someone else's, historical, hypothetical) and, by kind, a value
with its unit (labs, vital signs), a dose, route and frequency (medications) or a date.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FACT_KINDS", "Extraction", "Fact", "Section"]

#: What a fact states. ``follow_up`` is a planned visit or test; ``date`` a date the text gives.
FACT_KINDS = ("problem", "medication", "allergy", "lab", "vital", "procedure", "immunization", "date", "follow_up")


@dataclass(frozen=True)
class Fact:
    """One clinical statement of a text, with its span ``text[start:end]``.

    Example:
        >>> f = Fact("medication", "lisinopril 10 mg", 5, 21, "lisinopril", dose="10 mg", codes=(("RxNorm", "29046"),))
        >>> f.kind, f.concept, f.dose, f.asserted
        ('medication', 'lisinopril', '10 mg', True)
    """

    kind: str
    text: str
    start: int
    end: int
    #: The normalized name, lower case (``'essential hypertension'``, ``'lisinopril'``).
    concept: str
    #: ``(system, code)`` pairs: ``('ICD-10-CM', 'I10')``, ``('HPO', 'HP:0000822')``, ``('RxNorm', '29046')``...
    codes: tuple[tuple[str, str], ...] = ()
    negated: bool = False
    #: Experienced by someone other than the patient (family history).
    family: bool = False
    historical: bool = False
    hypothetical: bool = False
    value: float | None = None
    unit: str | None = None
    dose: str | None = None
    route: str | None = None
    frequency: str | None = None
    #: ISO date (``'2020-03-01'``) for a ``date`` fact, or the date a fact is stated for.
    date: str | None = None
    section: str | None = None

    @property
    def asserted(self) -> bool:
        """Whether the text states this of the patient, now: not negated, not family, historical or hypothetical."""
        return not (self.negated or self.family or self.historical or self.hypothetical)

    def to_dict(self) -> dict[str, Any]:
        """The fact as JSON-ready data (``codes`` as a list of ``[system, code]``)."""
        d = asdict(self)
        d["codes"] = [list(c) for c in self.codes]
        return d


@dataclass(frozen=True)
class Section:
    """A section of a note: its normalized name (``'assessment and plan'``; ``None`` where no known header) and span."""

    name: str | None
    start: int
    end: int


@dataclass
class Extraction:
    """What :func:`extract` found in one text."""

    text: str
    sections: list[Section] = field(default_factory=list)
    #: Sentence spans ``(start, end)`` in reading order.
    sentences: list[tuple[int, int]] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    #: Problems with the input (empty, not English, no known section layout...), each a sentence.
    warnings: list[str] = field(default_factory=list)
