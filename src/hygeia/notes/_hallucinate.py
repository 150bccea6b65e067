"""Planted hallucinations: known errors put into a faithful text, to measure the guard.

:func:`plant_errors` makes altered copies of a text, one error each, with the span of the
error kept as ground truth (:class:`PlantedError`):

- ``drug``: a medication replaced by another drug of the lexicon;
- ``dose``: a dose scaled x2 or /2, or replaced by another common strength;
- ``negation``: a stated problem denied (``'pneumonia'`` -> ``'no pneumonia'``) or a denied one
  stated (``'denies chest pain'`` -> ``'reports chest pain'``, ``'no fever'`` -> ``'fever'``);
- ``date``: a date shifted by 3-60 days (in its own format), or, in a text without one, a sentence
  with an invented date (a follow-up, a return visit, an onset) in one of five formats.

:func:`score_planted` runs the guard over the altered copies: an error is caught when a
flag of the guard overlaps its span.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hygeia.errors import ConfigError
from hygeia.notes._facts import Fact
from hygeia.notes._guard import GuardReport, find_dates

__all__ = ["ERROR_TYPES", "PlantedError", "plant_errors", "score_planted"]

#: The kinds of planted error.
ERROR_TYPES = ("drug", "dose", "negation", "date")
_DOSE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(\s?)(mg|mcg|g|mL|ml|units?|MG|ML|MCG)\b")
_STRENGTHS = (2.5, 5, 10, 12.5, 20, 25, 40, 50, 75, 80, 100, 125, 150, 200, 250, 300, 325, 400, 500, 750, 850, 1000)
_CUES = [  # (negation cue, the words that state the finding instead)
    (re.compile(r"\b(denies|denied)(\s+)$", re.IGNORECASE), "reports"),
    (re.compile(r"\b(negative for)(\s+)$", re.IGNORECASE), "positive for"),
    (re.compile(r"\b(without)(\s+)$", re.IGNORECASE), "with"),
    (re.compile(r"\b(no)(\s+)$", re.IGNORECASE), ""),
]
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")


@dataclass(frozen=True)
class PlantedError:
    """One error planted into a copy of a text.

    Attributes:
        type: one of :data:`ERROR_TYPES`.
        text: the altered text (the whole of it).
        start, end: the span of the planted words in ``text``.
        original: the words of the faithful text they replace ('' for an added sentence).
        replacement: the planted words, ``text[start:end]``.
    """

    type: str
    text: str
    start: int
    end: int
    original: str
    replacement: str

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data (without the altered text)."""
        return {"type": self.type, "start": self.start, "end": self.end, "original": self.original,
                "replacement": self.replacement}


def _overlaps(s: int, e: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(s < b and a < e for a, b in spans)


def _replace(kind: str, text: str, s: int, e: int, new: str) -> PlantedError:
    return PlantedError(kind, text[:s] + new + text[e:], s, s + len(new), text[s:e], new)


def _fmt(x: float) -> str:
    return f"{x:g}" if x < 1e6 else str(int(x))


def _drug_errors(text: str, facts: Sequence[Fact], rng: random.Random, drugs: Sequence[str],
                 avoid: Sequence[tuple[int, int]]) -> list[PlantedError]:
    out = []
    for f in facts:
        if f.kind != "medication" or not f.concept or f.concept.startswith("any "):
            continue
        m = re.search(re.escape(f.concept), text[f.start:f.end], re.IGNORECASE)
        s, e = (f.start + m.start(), f.start + m.end()) if m else (f.start, f.end)
        if _overlaps(s, e, avoid):
            continue
        mine = set(re.findall(r"[a-z]+", f.concept.lower()))
        others = [d for d in drugs if not (set(re.findall(r"[a-z]+", d.lower())) & mine)]
        if not others:
            continue
        new = rng.choice(others)
        if text[s:e][:1].isupper():
            new = new[:1].upper() + new[1:]
        out.append(_replace("drug", text, s, e, new))
    return out


def _dose_errors(text: str, facts: Sequence[Fact], rng: random.Random,
                 avoid: Sequence[tuple[int, int]]) -> list[PlantedError]:
    meds = [(f.start, f.end) for f in facts if f.kind == "medication"]
    out = []
    for m in _DOSE.finditer(text):
        s, e = m.start(1), m.end(1)
        unit = m.group(3).lower()
        if (unit not in ("mg", "mcg") and not _overlaps(s, e, meds)) or _overlaps(s, e, avoid):
            continue
        value = float(m.group(1))
        choices = [value * 2, value / 2] + [x for x in _STRENGTHS if x != value]
        pick = rng.random()
        new = choices[0] if pick < 0.35 else choices[1] if pick < 0.7 else rng.choice(choices[2:])
        if _fmt(new) == m.group(1):
            continue
        out.append(_replace("dose", text, s, e, _fmt(new)))
    return out


def _negation_errors(text: str, facts: Sequence[Fact], avoid: Sequence[tuple[int, int]]) -> list[PlantedError]:
    out = []
    for f in facts:
        if f.kind != "problem" or f.family or f.hypothetical or f.concept.startswith("any ") or \
                _overlaps(f.start, f.end, avoid):
            continue
        before = text[max(0, f.start - 40):f.start]
        cue = next(((c.search(before), say) for c, say in _CUES if c.search(before)), None)
        if cue is not None:  # a denied finding stated
            m, say = cue
            s = f.start - len(before) + m.start()
            new = (say + m.group(2) if say else "") + text[f.start:f.end]
            if text[s].isupper():
                new = new[:1].upper() + new[1:]
            out.append(_replace("negation", text, s, f.end, new))
        elif not f.negated and f.section != "social history":  # a stated finding denied
            out += _deny(text, f)
    return out


def _deny(text: str, f: Fact) -> list[PlantedError]:
    """The finding of ``f`` denied in words that read naturally where it stands, or nothing."""
    word = text[f.start:f.end]
    clause = re.split(r"[.:;\n]", text[:f.start])[-1]
    for ending, say in (("with ", "without "), ("known history of ", "no known history of "),
                        ("history of ", "no history of "), ("for ", None)):
        if clause.lower().endswith(ending):
            if say is None:
                return []
            s = f.start - len(ending)
            if text[s].isupper():
                say = say[:1].upper() + say[1:]
            return [_replace("negation", text, s, f.end, say + word)]
    if clause.strip():
        return [_replace("negation", text, f.start, f.end, "no " + word)]
    return [_replace("negation", text, f.start, f.end, "No " + word[:1].lower() + word[1:])]


def _date_text(d: dt.date, like: str) -> str:
    """``d`` written the way ``like`` is (ISO, US, month name first or last, with or without a year)."""
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", like):
        return d.isoformat()
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", like):
        return f"{d.month}/{d.day}/{d.year}"
    month = _MONTH_NAMES[d.month - 1]
    year = bool(re.search(r"\d{4}", like))
    if like[:1].isdigit():
        return f"{d.day} {month} {d.year}" if year else f"{d.day} {month}"
    return f"{month} {d.day}, {d.year}" if year else f"{month} {d.day}"


def _as_date(iso: str) -> dt.date:
    return dt.date(2000, int(iso[2:4]), int(iso[5:7])) if iso.startswith("--") else dt.date.fromisoformat(iso)


#: How an invented date is added where a text has none: a sentence, and the date's format.
_ADDED = ("Follow up on {}.", "Return to clinic on {}.", "Symptoms began on {}.", "Next visit scheduled for {}.")
_FORMATS = ("2000-01-01", "1/1/2000", "January 1, 2000", "1 January 2000", "January 1")


def _date_errors(text: str, rng: random.Random, avoid: Sequence[tuple[int, int]]) -> list[PlantedError]:
    dates = find_dates(text)
    known = {iso for _, _, iso in dates}
    out = []
    for s, e, iso in dates:
        if _overlaps(s, e, avoid):
            continue
        new = _as_date(iso) + dt.timedelta(days=rng.choice((-1, 1)) * rng.randint(3, 60))
        written = _date_text(new, text[s:e])
        if written != text[s:e] and new.isoformat() not in known:
            out.append(_replace("date", text, s, e, written))
    if not out:  # no date to change: add a sentence with an invented date
        base = max((_as_date(i) for i in known if not i.startswith("--")), default=dt.date(2020, 1, 1))
        written = _date_text(base + dt.timedelta(days=rng.randint(7, 60)), rng.choice(_FORMATS))
        sentence = rng.choice(_ADDED)
        sep = "" if not text or text.endswith((" ", "\n")) else " "
        start = len(text) + len(sep) + sentence.index("{}")
        out.append(PlantedError("date", text + sep + sentence.format(written), start, start + len(written), "",
                                written))
    return out


def plant_errors(text: str, facts: Sequence[Fact], seed: int, *, types: Sequence[str] = ERROR_TYPES,
                 per_type: int = 1, drugs: Sequence[str] | None = None,
                 avoid: Sequence[tuple[int, int]] = ()) -> list[PlantedError]:
    """Altered copies of a text, one planted error each, with the error's span.

    Args:
        text: a text (a note, a summary, a language model's output).
        facts: the facts of ``text`` (where the medications and problems are).
        seed: the seed of the choices (which statement, which drug, dose or date).
        types: the kinds of error to plant (:data:`ERROR_TYPES`).
        per_type: the most errors of each kind (fewer where the text has fewer places for one).
        drugs: the drug names a swap draws from (default: the medications of the extraction lexicon).
        avoid: spans of ``text`` not to alter (statements already flagged).

    Returns:
        The errors, by type in the order of ``types``.

    Example:
        >>> text = "Lisinopril 10 mg daily. Denies chest pain. Seen 2020-03-01."
        >>> facts = [Fact("medication", "Lisinopril 10 mg", 0, 16, "lisinopril", dose="10 mg"),
        ...          Fact("problem", "chest pain", 31, 41, "chest pain", negated=True)]
        >>> for e in plant_errors(text, facts, seed=1, drugs=["metformin", "lisinopril"]):
        ...     print(e.type, repr(e.original), "->", repr(e.replacement))
        drug 'Lisinopril' -> 'Metformin'
        dose '10' -> '5'
        negation 'Denies chest pain' -> 'Reports chest pain'
        date '2020-03-01' -> '2020-02-11'
    """
    unknown = [t for t in types if t not in ERROR_TYPES]
    if unknown:
        raise ConfigError(f"unknown error types {unknown}; choose among {', '.join(ERROR_TYPES)}")
    rng = random.Random(seed)
    if drugs is None and "drug" in types:
        drugs = _lexicon_drugs()
    out: list[PlantedError] = []
    for kind in types:
        if kind == "drug":
            found = _drug_errors(text, facts, rng, drugs or (), avoid)
        elif kind == "dose":
            found = _dose_errors(text, facts, rng, avoid)
        elif kind == "negation":
            found = _negation_errors(text, facts, avoid)
        else:
            found = _date_errors(text, rng, avoid)
        rng.shuffle(found)
        out.extend(found[:per_type])
    return out


def _lexicon_drugs() -> list[str]:
    from hygeia.notes._lexicon import (
        lexicon,  # the extraction's vocabulary: a swapped drug is one it knows
    )

    return sorted({c.name for c in lexicon().concepts if c.kind == "medication" and re.fullmatch(r"[a-z]+( [a-z]+)?", c.name)})


def score_planted(errors: Sequence[PlantedError], check: Callable[[str], GuardReport]) -> dict[str, Any]:
    """The share of planted errors the guard catches, by type.

    An error is caught when a flag (not an omission) of ``check(error.text)`` overlaps its span.

    Args:
        errors: planted errors.
        check: the guard, as ``altered text -> GuardReport`` (the source bound in).

    Returns:
        ``{type: {"n", "caught", "share"}, ..., "ALL": {...}, "missed": [...]}``.

    Example:
        >>> from hygeia.notes._facts import Extraction
        >>> from hygeia.notes._guard import check_faithfulness
        >>> src = [Fact("medication", "lisinopril 10 mg", 0, 16, "lisinopril", dose="10 mg")]
        >>> errors = [PlantedError("dose", "Lisinopril 20 mg.", 11, 13, "10", "20")]
        >>> read = lambda t: Extraction(t, facts=[Fact("medication", t[:16], 0, 16, "lisinopril", dose=t[11:16])])
        >>> score_planted(errors, lambda t: check_faithfulness(src, read(t)))["dose"]
        {'n': 1, 'caught': 1, 'share': 1.0}
    """
    counts: dict[str, list[int]] = {}
    missed = []
    for err in errors:
        report = check(err.text)
        hit = any(f.start is not None and f.start < err.end and err.start < f.end for f in report.flags)
        c = counts.setdefault(err.type, [0, 0])
        c[0] += 1
        c[1] += hit
        if not hit:
            lo, hi = max(0, err.start - 60), min(len(err.text), err.end + 60)
            missed.append({**err.to_dict(), "context": err.text[lo:hi]})
    out: dict[str, Any] = {t: {"n": n, "caught": k, "share": round(k / n, 4) if n else None}
                           for t, (n, k) in sorted(counts.items())}
    n, k = sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())
    out["ALL"] = {"n": n, "caught": k, "share": round(k / n, 4) if n else None}
    out["missed"] = missed
    return out
