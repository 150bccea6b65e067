"""The faithfulness guard: does a generated text state only what its source supports?

:func:`check_faithfulness` re-extracts the facts of a generated text and compares them
with the facts of the source (a note, an :class:`~hygeia.notes.Extraction` or a list of
:class:`~hygeia.notes.Fact`). It flags, each with its span in the generated text and a
reason sentence:

- ``unsupported``: a fact whose concept (name or codes) the source never states;
- ``negation``: a concept the source states with the opposite polarity or of someone
  else (``'denies chest pain'`` summarized as ``'reports chest pain'``);
- ``value``: a number, dose or measurement the source does not give (``'20 mg'`` where
  the source says ``'10 mg'``), read both from the facts and from the text itself;
- ``date``: a date the source does not give;
- ``omission``: a critical fact of the source (allergies, medications, follow-up) that
  the generated text leaves out (no span in the generated text; ``source_fact`` says which).

Fact precision is supported / stated facts of the generated text; recall is the share of
the source's critical facts the generated text keeps. :func:`guarded` turns a check into a
policy: accept, repair (drop the flagged sentences when what remains still keeps every
critical fact), fall back to a faithful writer, or reject.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hygeia.errors import ConfigError
from hygeia.notes._facts import FACT_KINDS, Extraction, Fact

__all__ = ["CRITICAL_BY_KIND", "FLAG_KINDS", "Flag", "GuardReport", "GuardedText", "check_faithfulness", "guarded"]

#: What a flag says is wrong with the generated text.
FLAG_KINDS = ("unsupported", "negation", "value", "date", "omission")
#: Fact kinds whose values are compared (labs and vital signs).
_MEASURED = ("lab", "vital")

_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                        "september", "october", "november", "december"), 1)}
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE = re.compile(
    r"\b(?P<iso>(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2}))\b"
    r"|\b(?P<us>(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4}))\b"
    rf"|\b(?P<mdy>(?P<mn3>{_MONTH})\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y3>\d{{4}}))\b"
    rf"|\b(?P<dmy>(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mn4>{_MONTH}),?\s+(?P<y4>\d{{4}}))\b"
    rf"|\b(?P<md>(?P<mn5>{_MONTH})\s+(?P<d5>\d{{1,2}})(?:st|nd|rd|th)?)\b(?![\d:])"
    rf"|\b(?P<dm>(?P<d6>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mn6>{_MONTH}))\b",
    re.IGNORECASE)
#: A number with the unit that follows it; not inside a word (``SpO2``, ``x10^3``) nor a code (``COVID-19``).
_NUMBER = re.compile(r"(?<![\w.^])(?<![A-Za-z]-)(\d+(?:[.,]\d+)?)(?!\d)"
                     r"(?:(?:\s?|-)(%|°[CF]|/min|/10|[A-Za-zµ](?:[A-Za-zµ0-9/^\[\]]|\.(?=[A-Za-z0-9]))*))?")
#: Units of dose and measurement: a number with one of these must come with the same unit in the source.
_UNIT = re.compile(r"^(?:%|°[cf]|/min|/10|mg|mcg|µg|ug|g|kg|ml|l|dl|mmhg|cm|mm|m|in|lb|lbs|units?|iu|meq|mmol|"
                   r"mg/dl|g/dl|mmol/l|meq/l|mg/ml|mg/kg|kg/m2|mg/l|ng/ml|pg/ml|u/l|iu/l|x10\^\d+/ul|"
                   r"puffs?|tablets?|tabs?|capsules?|caps?|drops?|sprays?|patch(?:es)?|mg/\w+|mcg/\w+|ml/\w+)$")
_LIST_MARK = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(["a", "an", "and", "of", "the", "in", "on", "to", "with", "for", "by", "or", "at", "as", "disorder", "finding", "nos", "unspecified"])
_CRITICAL_DEFAULT = ("allergy", "medication", "follow_up")
#: The fact kinds each kind of summary must keep (a letter to an insurer needs no allergies or follow-up).
CRITICAL_BY_KIND = {"discharge": _CRITICAL_DEFAULT, "instructions": _CRITICAL_DEFAULT, "insurance": ()}
#: A code written in a text: ``ICD-10-CM J18.9``, ``SNOMED CT 233604007``, ``RxNorm: 29046``.
_CODE = re.compile(r"\b(ICD-10-CM|ICD-10-PCS|ICD-10|SNOMED[ -]CT|RxNorm|LOINC|CVX|HPO)(?::\s*|\s+)"
                   r"((?:HP:)?[A-Z0-9](?:[A-Z0-9.-]*[A-Z0-9])?)\b")
_PER_DOSE = re.compile(r"^(mg|mcg|µg|ug|g|units?)/(?:actuat|actuation|puff|spray|dose|inhalation|act)s?$")
_CALL = re.compile(r"\b(?:call|dial)\s+$", re.IGNORECASE)


@dataclass(frozen=True)
class Flag:
    """One problem of a generated text.

    Attributes:
        kind: one of :data:`FLAG_KINDS`.
        start, end: the span in the generated text (``None`` for an ``omission``).
        text: the flagged words (for an ``omission``, the source's words).
        reason: one sentence saying what is wrong.
        fact: the generated fact flagged, if the flag comes from one.
        source_fact: the source fact it contradicts or that was left out, if any.
    """

    kind: str
    start: int | None
    end: int | None
    text: str
    reason: str
    fact: Fact | None = None
    source_fact: Fact | None = None

    def to_dict(self) -> dict[str, Any]:
        """The flag as JSON-ready data."""
        return {"kind": self.kind, "start": self.start, "end": self.end, "text": self.text, "reason": self.reason,
                "fact": self.fact.to_dict() if self.fact else None,
                "source_fact": self.source_fact.to_dict() if self.source_fact else None}


@dataclass
class GuardReport:
    """What :func:`check_faithfulness` found.

    Attributes:
        generated: the generated text checked.
        flags: every problem found, in order of position (omissions last).
        stated: facts the generated text states (hypothetical problems, as in advice, excluded).
        supported: those of ``stated`` that no flag touches.
        critical: the source's critical facts.
        kept: those of ``critical`` the generated text keeps.
        warnings: what extraction said of either text (empty, not English...), each prefixed
            ``source:`` or ``text:``.
    """

    generated: str
    flags: list[Flag] = field(default_factory=list)
    stated: list[Fact] = field(default_factory=list)
    supported: list[Fact] = field(default_factory=list)
    critical: list[Fact] = field(default_factory=list)
    kept: list[Fact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing was flagged."""
        return not self.flags

    @property
    def precision(self) -> float:
        """Supported facts / stated facts (1.0 when nothing is stated)."""
        return len(self.supported) / len(self.stated) if self.stated else 1.0

    @property
    def recall(self) -> float:
        """Critical source facts kept / critical source facts (1.0 when there are none)."""
        return len(self.kept) / len(self.critical) if self.critical else 1.0

    def by_kind(self) -> dict[str, int]:
        """The number of flags of each kind of :data:`FLAG_KINDS`."""
        return {k: sum(f.kind == k for f in self.flags) for k in FLAG_KINDS}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {"ok": self.ok, "precision": self.precision, "recall": self.recall, "n_stated": len(self.stated),
                "n_supported": len(self.supported), "n_critical": len(self.critical), "n_kept": len(self.kept),
                "by_kind": self.by_kind(), "flags": [f.to_dict() for f in self.flags], "warnings": self.warnings}

    def summary(self) -> str:
        """One line for people: flags by kind, precision and recall."""
        kinds = ", ".join(f"{n} {k}" for k, n in self.by_kind().items() if n) or "no flags"
        return (f"{kinds}; fact precision {self.precision:.2f} ({len(self.supported)}/{len(self.stated)}), "
                f"critical recall {self.recall:.2f} ({len(self.kept)}/{len(self.critical)})")


# -- normalization ------------------------------------------------------------------------------


def _words(concept: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(concept.lower()) if w not in _STOP)


def _is_class(f: Fact) -> bool:
    """A fact about a whole kind (``'no known allergies'`` -> ``'any allergy'``)."""
    return f.concept.startswith("any ")


def _same_concept(a: Fact, b: Fact) -> bool:
    """Same concept: shared code, same name, one name's words all in the other's, or a class and its kind."""
    if (a.kind == "allergy") != (b.kind == "allergy"):
        return False  # an allergy to a drug the patient takes is another statement
    if a.kind == b.kind == "follow_up" and (a.date is None or b.date is None or a.date == b.date):
        return True  # 'see your doctor' and 'follow up with the primary care physician' (a date is checked as such)
    if set(a.codes) & set(b.codes):
        return True
    if {c[:3] for s, c in a.codes if s == "ICD-10-CM"} & {c[:3] for s, c in b.codes if s == "ICD-10-CM"}:
        return True  # one ICD-10-CM category: 'depression' and 'major depressive disorder' (F32)
    if _is_class(a) or _is_class(b):
        return _is_class(a) and _is_class(b) and a.kind == b.kind
    wa, wb = _words(a.concept), _words(b.concept)
    if not wa or not wb:
        return False
    return wa <= wb or wb <= wa


def _polarity(f: Fact) -> tuple[bool, bool]:
    return f.negated, f.family


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _unit(unit: str | None) -> str | None:
    if not unit:
        return None
    u = unit.lower().rstrip(".").replace("[", "").replace("]", "").replace("mm hg", "mmhg")
    u = _PER_DOSE.sub(r"\1", u)  # 0.09 MG/ACTUAT is 0.09 mg a puff
    return u if _UNIT.match(u) else None


def _quantities(text: str) -> list[tuple[float, str | None]]:
    """Every (number, unit) of a dose or measurement text: ``'10 mg/5 mL'`` -> ``[(10, 'mg/5'), (5, 'ml')]``."""
    return [(_number(m.group(1)), _unit(m.group(2))) for m in _NUMBER.finditer(text)]


def _iso(m: re.Match[str]) -> str | None:
    """The date as ``YYYY-MM-DD``, or ``--MM-DD`` when the text gives no year (``March 5``)."""
    g = m.groupdict()
    try:
        if g["iso"]:
            d = dt.date(int(g["y1"]), int(g["m1"]), int(g["d1"]))
        elif g["us"]:
            d = dt.date(int(g["y2"]), int(g["m2"]), int(g["d2"]))
        else:
            name = (g["mn3"] or g["mn4"] or g["mn5"] or g["mn6"]).lower().rstrip(".")
            month = next(i for n, i in _MONTHS.items() if n.startswith(name[:3]))
            day = int(g["d3"] or g["d4"] or g["d5"] or g["d6"])
            if g["md"] or g["dm"]:
                dt.date(2000, month, day)  # a real day of the year (2000: a leap year)
                return f"--{month:02d}-{day:02d}"
            d = dt.date(int(g["y3"] or g["y4"]), month, day)
    except ValueError:
        return None
    return d.isoformat()


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """Every date of a text as ``(start, end, ISO date)``; ISO, US and month-name formats.

    A month and day without a year gives ``--MM-DD`` (ISO 8601's form for it).

    Example:
        >>> find_dates("Seen 2020-03-01; follow up on March 15, 2020 or 3/20/2020, or on the 2nd of May.")
        [(5, 15, '2020-03-01'), (30, 44, '2020-03-15'), (48, 57, '2020-03-20'), (69, 79, '--05-02')]
    """
    out = []
    for m in _DATE.finditer(text):
        iso = _iso(m)
        if iso:
            out.append((m.start(), m.end(), iso))
    return out


def find_codes(text: str) -> list[tuple[int, int, str]]:
    """Every code written after its system's name, as ``(start, end, code)`` (the span is the code's).

    Example:
        >>> find_codes("Pneumonia (ICD-10-CM J18.9; SNOMED CT 233604007), RxNorm: 29046.")
        [(21, 26, 'J18.9'), (38, 47, '233604007'), (58, 63, '29046')]
    """
    return [(m.start(2), m.end(2), m.group(2)) for m in _CODE.finditer(text)]


def find_numbers(text: str) -> list[tuple[int, int, float, str | None]]:
    """Every number of a text outside dates, codes, list markers and numbers to call, as ``(start, end, value, unit)``.

    The unit is kept only when it is one of dose or measurement (``mg``, ``mmHg``, ``%``...);
    in ``120/80 mmHg`` both numbers take the unit.

    Example:
        >>> find_numbers("1. Lisinopril 10 mg daily. BP 120/80 mmHg, SpO2 98%. 2-year-old.")
        [(14, 19, 10.0, 'mg'), (30, 33, 120.0, 'mmhg'), (34, 41, 80.0, 'mmhg'), (48, 51, 98.0, '%'), (53, 54, 2.0, None)]
    """
    masked = set()
    for s, e, _ in find_dates(text):
        masked.update(range(s, e))
    for m in _LIST_MARK.finditer(text):
        masked.update(range(m.start(), m.end()))
    for m in _CODE.finditer(text):
        masked.update(range(m.start(), m.end()))
    out: list[tuple[int, int, float, str | None]] = []
    for m in _NUMBER.finditer(text):
        if m.start(1) in masked or _CALL.search(text[max(0, m.start(1) - 10):m.start(1)]):
            continue
        unit = _unit(m.group(2))
        end = m.end() if unit else m.end(1)
        if unit and out and out[-1][3] is None and text[out[-1][1]:m.start(1)] == "/":
            out[-1] = (*out[-1][:3], unit)  # 120/80 mmHg
        out.append((m.start(1), end, _number(m.group(1)), unit))
    return out


# -- the source side -----------------------------------------------------------------------------


@dataclass
class _Source:
    facts: list[Fact]
    dates: set[str]
    pairs: set[tuple[float, str | None]]
    values: set[float]
    codes: set[str]
    warnings: list[str]


def _extract(text: str) -> Extraction:
    from hygeia.notes import (
        _extract as ex,  # late: the guard's checks of Facts need no extractor
    )

    return ex.extract(text)


def _as_extraction(x: str | Extraction) -> Extraction:
    if isinstance(x, Extraction):
        return x
    if isinstance(x, str):
        return _extract(x)
    raise ConfigError(f"a generated text must be a str or an Extraction, got {type(x).__name__}; pass the text itself")


@functools.lru_cache(maxsize=1)
def _terms() -> tuple[dict[str, str], dict[str, str]]:
    """SNOMED CT -> ICD-10-CM and SNOMED CT -> lay name, the summaries' own tables (empty if absent)."""
    try:
        from hygeia.notes._summary_terms import ICD10CM, LAY
    except ImportError:
        return {}, {}
    return {k: v[0] for k, v in ICD10CM.items()}, dict(LAY)


def _with_terms(facts: Iterable[Fact], *, lay_names: bool = True) -> list[Fact]:
    """Facts with the ICD-10-CM code of their SNOMED CT code, and each problem also under its lay name.

    The summaries write a condition by its ICD-10-CM code and in plain words ('skin rash'
    for a dermatitis): both state the source's fact.
    """
    icd, lay = _terms()
    out = []
    for f in facts:
        snomed = [c for sy, c in f.codes if sy == "SNOMED-CT"]
        extra = tuple(("ICD-10-CM", icd[c]) for c in snomed if c in icd and ("ICD-10-CM", icd[c]) not in f.codes)
        g = dataclasses.replace(f, codes=f.codes + extra) if extra else f
        out.append(g)
        if lay_names and f.kind == "problem":
            out += [dataclasses.replace(g, concept=lay[c]) for c in snomed if c in lay and lay[c] != g.concept]
    return out


def _source(source: str | Extraction | Sequence[Fact] | Sequence[str]) -> _Source:
    texts: list[str] = []
    facts: list[Fact] = []
    warnings: list[str] = []
    items: Iterable[Any] = [source] if isinstance(source, (str, Extraction)) else source
    for item in items:
        if isinstance(item, Fact):
            facts.append(item)
            texts.append(item.text)
        elif isinstance(item, Extraction):
            facts.extend(item.facts)
            texts.append(item.text)
            warnings += item.warnings
        elif isinstance(item, str):
            ext = _extract(item)
            facts.extend(ext.facts)
            texts.append(item)
            warnings += ext.warnings
        else:
            raise ConfigError(f"a source must be a text, an Extraction or Facts, got {type(item).__name__}; "
                              "pass the note's text or hygeia.notes.extract(text)")
    facts = _with_terms(facts)
    dates = {d for t in texts for _, _, d in find_dates(t)} | {f.date for f in facts if f.date}
    pairs = {(v, u) for t in texts for _, _, v, u in find_numbers(t)}
    for f in facts:
        if f.value is not None:
            pairs.add((float(f.value), _unit(f.unit)))
        if f.dose:
            pairs.update(_quantities(f.dose))
    codes = {c for f in facts for _, c in f.codes} | {c for t in texts for _, _, c in find_codes(t)}
    return _Source(facts, dates, pairs, {v for v, _ in pairs} | _day_spans(dates), {c.upper() for c in codes}, warnings)


def _day_spans(dates: set[str]) -> set[float]:
    """Days between two of the source's full dates: a length of stay the text works out from them is supported.

    Example:
        >>> sorted(_day_spans({"2021-04-02", "2021-04-05", "--04-09"}))
        [3.0]
    """
    full = sorted(dt.date.fromisoformat(d) for d in dates if len(d) == 10 and d[:1] != "-")[:200]
    return {float(abs((b - a).days)) for i, a in enumerate(full) for b in full[i + 1:]}


def _is_critical(f: Fact, critical: Sequence[str]) -> bool:
    if f.kind not in critical or f.family or f.hypothetical:
        return False
    # An allergy status counts when denied ('no known allergies') too; a medication or a follow-up when stated.
    return not f.negated or f.kind == "allergy"


# -- the check ---------------------------------------------------------------------------------


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _rounded_match(value: float, candidates: Iterable[float]) -> bool:
    """The value equals a candidate, or is the candidate rounded (98.6 said as 99, 209.4 as 209)."""
    for c in candidates:
        if _close(value, c):
            return True
        text = repr(value)
        decimals = len(text.split(".")[1]) if "." in text and not text.endswith(".0") else 0
        if _close(round(c, decimals), value):
            return True
    return False


def _fact_flags(f: Fact, src: _Source) -> list[Flag]:
    if f.kind == "date":
        if f.date and f.date not in src.dates:
            return [Flag("date", f.start, f.end, f.text, f"The date {f.date} is not in the source.", f)]
        return []
    matches = [s for s in src.facts if s.kind != "date" and _same_concept(f, s)]
    stated_kind = any(s.kind == f.kind and s.asserted and not _is_class(s) for s in src.facts)
    if not any(_polarity(s) == _polarity(f) for s in matches) and not (stated_kind and not _is_class(f)):
        # a whole kind denied contradicts one of it stated ('no known allergies' and 'allergic to penicillin'),
        # unless the source states some of that kind too ('no new findings' beside a diagnosis)
        matches += [s for s in src.facts if s.kind == f.kind and _is_class(s) != _is_class(f)
                    and s.negated != f.negated and (s.negated and _is_class(s) or f.negated and _is_class(f))]
    if not matches and f.kind == "follow_up" and f.negated and _is_class(f) \
            and not any(s.kind == "follow_up" and s.asserted for s in src.facts):
        return []  # 'No follow-up visit is recorded' of a source that plans none: true of it
    if not matches:
        what = "denies" if f.negated else "states"
        return [Flag("unsupported", f.start, f.end, f.text,
                     f"The text {what} {f.kind} '{f.concept}', which the source does not mention.", f)]
    same = [s for s in matches if _polarity(s) == _polarity(f)]
    if not same:
        s = matches[0]
        if s.negated != f.negated:
            said = "denies" if s.negated else "states"
            reason = f"The source {said} '{s.concept}' but the text {'denies' if f.negated else 'states'} it."
        else:
            whose = "a family member's" if s.family else "the patient's"
            reason = f"The source gives '{s.concept}' as {whose}, the text does not."
        return [Flag("negation", f.start, f.end, f.text, reason, f, s)]
    if f.kind == "medication" and f.dose:
        # the source's dose, or any strength in its words ('200 ACTUAT albuterol 0.09 MG/ACTUAT')
        doses = [q for s in same for q in _quantities(f"{s.dose or ''} {s.text}")]
        wanted = _quantities(f.dose)
        missing = [q for q in wanted if not any(_close(q[0], d[0]) and (q[1] == d[1] or None in (q[1], d[1]))
                                                for d in doses)]
        if missing:
            known = "; ".join(sorted({s.dose for s in same if s.dose})) or "no dose"
            return [Flag("value", f.start, f.end, f.text,
                         f"The dose '{f.dose}' of {f.concept} is not in the source, which gives {known}.", f, same[0])]
    if f.kind in _MEASURED and f.value is not None:
        values = [float(s.value) for s in same if s.value is not None]
        if values and not _rounded_match(float(f.value), values):
            return [Flag("value", f.start, f.end, f.text,
                         f"The value {f.value:g} of {f.concept} is not in the source, which gives "
                         f"{', '.join(f'{v:g}' for v in values)}.", f, same[0])]
    return []


def _text_flags(text: str, src: _Source) -> list[Flag]:
    flags = []
    for s, e, code in find_codes(text):
        if code.upper() not in src.codes:
            flags.append(Flag("unsupported", s, e, code, f"The code {code} is not a code of any fact of the source."))
    days = {d[4:] for d in src.dates}  # --MM-DD of each source date
    for s, e, iso in find_dates(text):
        if iso not in src.dates and not (iso.startswith("--") and iso[1:] in days):
            flags.append(Flag("date", s, e, text[s:e], f"The date {iso} is not in the source."))
    for s, e, value, unit in find_numbers(text):
        if unit is not None:
            ok = any(_close(value, v) and u == unit for v, u in src.pairs) or \
                 _rounded_match(value, [v for v, u in src.pairs if u == unit])
            where = f"'{text[s:e]}' (with its unit)"
        else:
            ok = _rounded_match(value, src.values)
            where = f"the number '{text[s:e]}'"
        if not ok:
            flags.append(Flag("value", s, e, text[s:e], f"The source does not give {where}."))
    return flags


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def check_faithfulness(source: str | Extraction | Sequence[Fact] | Sequence[str], generated: str | Extraction, *,
                       critical: Sequence[str] = _CRITICAL_DEFAULT) -> GuardReport:
    """Check that a generated text states only what its source supports and keeps its critical facts.

    Args:
        source: the source: a note's text, several texts, an Extraction or a list of Facts.
        generated: the generated text, or its Extraction (``extraction.text`` is then the text).
        critical: fact kinds the generated text must keep (:data:`~hygeia.notes.FACT_KINDS`).

    Returns:
        A :class:`GuardReport`: the flags, fact precision and critical recall.

    Raises:
        ConfigError: an unknown kind in ``critical``, or a source or text of another type.

    Example:
        >>> src = [Fact("medication", "lisinopril 10 mg", 0, 16, "lisinopril", dose="10 mg"),
        ...        Fact("allergy", "penicillin", 30, 40, "penicillin")]
        >>> gen = Extraction("Lisinopril 20 mg daily.", facts=[
        ...     Fact("medication", "Lisinopril 20 mg", 0, 16, "lisinopril", dose="20 mg")])
        >>> report = check_faithfulness(src, gen)
        >>> [(f.kind, f.text) for f in report.flags]
        [('value', 'Lisinopril 20 mg'), ('omission', 'penicillin')]
        >>> report.precision, report.recall
        (0.0, 0.5)
    """
    unknown = [k for k in critical if k not in FACT_KINDS]
    if unknown:
        raise ConfigError(f"unknown critical fact kinds {unknown}; choose among {', '.join(FACT_KINDS)}")
    src = _source(source)
    gen = _as_extraction(generated)
    stated = _with_terms([f for f in gen.facts if not (f.hypothetical and f.kind == "problem")], lay_names=False)
    flags: list[Flag] = []
    for f in stated:
        flags.extend(_fact_flags(f, src))
    for t in _text_flags(gen.text, src):
        # A number or date already flagged through its fact is not flagged twice.
        if not any(_overlaps((t.start, t.end), (f.start, f.end)) for f in flags if f.start is not None):
            flags.append(t)
    flags.sort(key=lambda f: (f.start, f.end))
    supported = [f for f in stated if not any(g.start is not None and _overlaps((f.start, f.end), (g.start, g.end))
                                              for g in flags)]
    crit = [s for s in src.facts if _is_critical(s, critical)]
    kept = [s for s in crit if any(_same_concept(f, s) and _polarity(f) == _polarity(s) for f in stated)]
    for s in crit:
        if s not in kept:
            what = {"allergy": "allergy status", "medication": "medication", "follow_up": "follow-up"}.get(s.kind, s.kind)
            flags.append(Flag("omission", None, None, s.text,
                              f"The source's {what} '{s.text}' is missing from the text.", None, s))
    warnings = [f"source: {w}" for w in dict.fromkeys(src.warnings)] + [f"text: {w}" for w in gen.warnings]
    return GuardReport(gen.text, flags, stated, supported, crit, kept, warnings)


# -- the policy -------------------------------------------------------------------------------


@dataclass
class GuardedText:
    """What :func:`guarded` returns.

    Attributes:
        text: the text to use (``None`` when rejected).
        action: ``'accepted'``, ``'repaired'``, ``'fallback'`` or ``'rejected'``.
        report: the check of the generated text as it came.
        final: the check of ``text`` (``None`` when rejected).
        generated: the generated text as it came.
    """

    text: str | None
    action: str
    report: GuardReport
    final: GuardReport | None
    generated: str


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a text, split at ``. ! ?`` and line ends (headers are sentences of their own).

    Example:
        >>> t = "Admitted with pneumonia. Treated.\\nFOLLOW-UP:\\nSee PCP."
        >>> [t[s:e] for s, e in sentence_spans(t)]
        ['Admitted with pneumonia.', 'Treated.', 'FOLLOW-UP:', 'See PCP.']
    """
    out = []
    for m in _SENTENCE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def repair(report: GuardReport) -> str:
    """The generated text without the sentences that carry a flag.

    Example:
        >>> src = [Fact("problem", "pneumonia", 0, 9, "pneumonia")]
        >>> gen = Extraction("Pneumonia. Also sepsis.", facts=[Fact("problem", "Pneumonia", 0, 9, "pneumonia"),
        ...                                                   Fact("problem", "sepsis", 16, 22, "sepsis")])
        >>> repair(check_faithfulness(src, gen))
        'Pneumonia.'
    """
    text = report.generated
    bad = [(f.start, f.end) for f in report.flags if f.start is not None]
    keep = [(s, e) for s, e in sentence_spans(text) if not any(_overlaps((s, e), b) for b in bad)]
    parts: list[str] = []
    last = None
    for s, e in keep:
        if last is not None:
            gap = text[last:s]
            parts.append("\n" if "\n" in gap else " ")
        parts.append(text[s:e])
        last = e
    return "".join(parts)


def guarded(generate_fn: Callable[[Any], str], facts: Extraction | Sequence[Fact] | str, *,
            fallback: Callable[[Any], str] | None = None, repair_ok: bool = True,
            critical: Sequence[str] = _CRITICAL_DEFAULT,
            extract_fn: Callable[[str], Extraction] | None = None) -> GuardedText:
    """Generate a text from facts and use it only if the guard passes it.

    The generated text is checked against ``facts``; if flagged, the flagged sentences are
    dropped when the rest is clean and keeps every critical fact (``'repaired'``); else the
    ``fallback`` writer's text is used (``'fallback'``), or, without one, nothing (``'rejected'``).

    Args:
        generate_fn: ``facts -> text`` (an LLM backend behind a prompt).
        facts: the source: an Extraction, a list of Facts or a note's text.
        fallback: ``facts -> text`` of a faithful writer (the deterministic summary).
        repair_ok: whether to try a repair before falling back.
        critical: fact kinds the text must keep.
        extract_fn: reads a generated text (default :func:`hygeia.notes.extract`).

    Returns:
        A :class:`GuardedText`.

    Example:
        >>> src = [Fact("problem", "pneumonia", 0, 9, "pneumonia")]
        >>> def read(t):
        ...     return Extraction(t, facts=[Fact("problem", w, t.index(w), t.index(w) + len(w), w.lower())
        ...                                 for w in ("Pneumonia", "sepsis") if w in t])
        >>> g = guarded(lambda f: "Pneumonia. Also sepsis.", src, extract_fn=read)
        >>> g.action, g.text
        ('repaired', 'Pneumonia.')
        >>> guarded(lambda f: "Only sepsis.", src, fallback=lambda f: "Pneumonia.", extract_fn=read).action
        'fallback'
    """
    read = extract_fn or _extract
    generated = generate_fn(facts)
    if not isinstance(generated, str):
        raise ConfigError(f"generate_fn must return a str, got {type(generated).__name__}")
    report = check_faithfulness(facts, read(generated), critical=critical)
    if report.ok:
        return GuardedText(generated, "accepted", report, report, generated)
    if repair_ok and not any(f.kind == "omission" for f in report.flags):
        fixed = repair(report)
        if fixed.strip():
            final = check_faithfulness(facts, read(fixed), critical=critical)
            if final.ok:
                return GuardedText(fixed, "repaired", report, final, generated)
    if fallback is not None:
        text = fallback(facts)
        return GuardedText(text, "fallback", report, check_faithfulness(facts, read(text), critical=critical),
                           generated)
    return GuardedText(None, "rejected", report, None, generated)
