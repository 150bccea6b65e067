"""De-identification: find the Safe Harbor identifiers of clinical text and replace them by surrogates.

Surrogates are consistent across a document set: the same name token gets the same fake
name (drawn from the locale pack's names with a seeded RNG), each patient's dates move by
one offset (intervals and the date's format kept), ages over 89 become ``90+``, ZIP codes
keep their first three digits (``000`` for the low-population areas Safe Harbor lists),
identifiers become random strings of the same shape. The mapping from originals to
surrogates stays in memory (:attr:`Deidentifier.mapping_`); nothing writes it unless asked.

Example:
    >>> r = deidentify("Mr. John Smith, seen 03/04/2021, MRN 0048213.", seed=1)
    >>> "Smith" in r.text or "0048213" in r.text
    False
    >>> r.counts
    {'NAME': 2, 'DATE': 1, 'MRN': 1}
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError
from hygeia.notes._deid_rules import Span, find_phi, lexicon

__all__ = ["DeidResult", "Deidentifier", "deidentify"]

# three-digit ZIP areas with 20,000 people or fewer (HHS guidance, 2000 Census): replaced by 000
_SMALL_ZIP3 = {"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879",
               "884", "890", "893"}
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_MON = {m[:3].lower(): i + 1 for i, m in enumerate(_MONTHS)}
_CITY_SUFFIX = ("ville", "ton", " Springs", " Falls", "burg", " Heights", "field", " Valley")


@dataclass
class DeidResult:
    """What :func:`deidentify` returns.

    Attributes:
        text: the de-identified text (a list when a list was given).
        spans: the identifiers found in the ORIGINAL text (a list per text when a list was given).
        counts: identifiers found, by PHI type, over all texts.
        seed: the seed the surrogates were drawn with.
    """

    text: str | list[str]
    spans: list[Span] | list[list[Span]]
    counts: dict[str, int]
    seed: int


def _shape(value: str, rng: random.Random) -> str:
    """A random string of the same shape: digits to digits, letters to letters (case kept), the rest kept."""
    out = []
    for c in value:
        if c.isdigit():
            out.append(str(rng.randrange(10)))
        elif c.isalpha() and c.isascii():
            letter = chr(ord("A") + rng.randrange(26))
            out.append(letter if c.isupper() else letter.lower())
        else:
            out.append(c)
    return "".join(out)


def _parse_date(s: str) -> tuple[dt.date, str] | None:
    """The date of ``s`` and a format tag that re-renders a date the same way; None if not a real date."""
    t = s.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), f"iso:{len(m[2])}{len(m[3])}"
        if m := re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})", t):
            year = int(m[4]) if len(m[4]) == 4 else (2000 + int(m[4]) if int(m[4]) < 50 else 1900 + int(m[4]))
            return dt.date(year, int(m[1]), int(m[3])), f"mdy:{m[2]}:{len(m[1])}{len(m[3])}:{len(m[4])}"
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})", t):
            return dt.date(2000, int(m[1]), int(m[2])), f"md:{len(m[1])}{len(m[2])}"
        if m := re.fullmatch(r"([A-Za-z]+)(\.?)\s+(\d{1,2})(st|nd|rd|th)?(,?)(\s+\d{4})?", t):
            month = _MON[m[1][:3].lower()]
            year = int(m[6]) if m[6] else 2000
            tag = f"mname:{'long' if len(m[1]) > 3 and m[1] != 'Sept' else 'short'}:{m[2]}:{m[4] or ''}:{m[5]}:{bool(m[6])}"
            return dt.date(year, month, int(m[3])), tag
        if m := re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?\s+(of\s+)?([A-Za-z]+)(\.?)(,?)(\s+\d{4})?", t):
            month = _MON[m[4][:3].lower()]
            year = int(m[7]) if m[7] else 2000
            tag = f"dname:{'long' if len(m[4]) > 3 and m[4] != 'Sept' else 'short'}:{m[5]}:{m[2] or ''}:{m[3] or ''}:{m[6]}:{bool(m[7])}"
            return dt.date(year, month, int(m[1])), tag
        if m := re.fullmatch(r"([A-Za-z]+)(\.?)\s+(\d{4})", t):
            return dt.date(int(m[3]), _MON[m[1][:3].lower()], 15), f"my:{'long' if len(m[1]) > 3 else 'short'}:{m[2]}"
    except (ValueError, KeyError):
        return None
    return None


def _ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _render_date(d: dt.date, tag: str) -> str:
    kind, *p = tag.split(":")

    def num(v: int, width: str) -> str:
        return f"{v:02d}" if width == "2" else str(v)

    def month(style: str, dot: str) -> str:
        return _MONTHS[d.month - 1] if style == "long" else _MONTHS[d.month - 1][:3] + dot

    if kind == "iso":
        return f"{d.year}-{num(d.month, p[0][0])}-{num(d.day, p[0][1])}"
    if kind == "mdy":
        year = str(d.year) if p[2] == "4" else f"{d.year % 100:02d}"
        return f"{num(d.month, p[1][0])}{p[0]}{num(d.day, p[1][1])}{p[0]}{year}"
    if kind == "md":
        return f"{num(d.month, p[0][0])}/{num(d.day, p[0][1])}"
    if kind == "mname":
        style, dot, suf, comma, has_year = p
        return f"{month(style, dot)} {d.day}{_ordinal(d.day) if suf else ''}" + (f"{comma} {d.year}" if has_year == "True" else "")
    if kind == "dname":
        style, dot, suf, of, comma, has_year = p
        return f"{d.day}{_ordinal(d.day) if suf else ''} {of}{month(style, dot)}" + (f"{comma} {d.year}" if has_year == "True" else "")
    return f"{month(p[0], p[1])} {d.year}"


@dataclass
class Deidentifier:
    """Replaces identifiers by consistent surrogates over a set of documents.

    One instance is one document set: the same original gets the same surrogate in
    every text it transforms; dates of one ``patient_key`` move by one offset.

    Args:
        seed: seeds the surrogates and date offsets (None: a fresh random seed, see ``seed_``).
        locale: the locale pack whose names are found and drawn.
        max_shift_days: dates move by 31 to this many days, earlier or later, one offset per patient
            (the default, 334, never leaves a date, or a month-and-year date, on its own month).

    Attributes:
        seed_: the seed used.
        mapping_: ``(type, original) -> surrogate`` for every identifier replaced (in memory only).
        offsets_: ``patient_key -> days`` each patient's dates moved by.

    Example:
        >>> d = Deidentifier(seed=3)
        >>> a = d.transform("Dr. Okafor saw her on 2021-03-04.", patient_key=1)
        >>> b = d.transform("Okafor again on 2021-03-14.", patient_key=1)
        >>> a.text.split()[1] == b.text.split()[0]
        True
    """

    seed: int | None = None
    locale: str = "us"
    max_shift_days: int = 334
    seed_: int = field(init=False)
    mapping_: dict[tuple[str, str], str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.max_shift_days, bool) or not isinstance(self.max_shift_days, int) or self.max_shift_days < 31:
            raise ConfigError(f"max_shift_days must be an integer of at least 31; got {self.max_shift_days!r}. "
                              "Pass e.g. max_shift_days=334.")
        self.seed_ = resolve_seed(self.seed)
        self.mapping_ = {}
        self._lex = lexicon(self.locale)
        self.offsets_: dict[object, int] = {}
        self._avoid: set[str] = set()

    def _rng(self, *key: object) -> random.Random:
        return random.Random(f"{self.seed_}|" + "|".join(map(str, key)))

    def offset_days(self, patient_key: object) -> int:
        """The date shift of ``patient_key`` in days (31 to ``max_shift_days`` either way), the same for every call."""
        if patient_key not in self.offsets_:
            rng = self._rng("shift", patient_key)
            self.offsets_[patient_key] = rng.choice((-1, 1)) * rng.randint(31, self.max_shift_days)
        return self.offsets_[patient_key]

    def _surrogate(self, span: Span, patient_key: object) -> str:
        kind, orig = span.type, span.text
        if kind == "DATE":
            parsed = _parse_date(orig)
            if parsed is None:
                return "[DATE]"
            d, tag = parsed
            return _render_date(d + dt.timedelta(days=self.offset_days(patient_key)), tag)
        if kind == "AGE":
            return "90+"
        key = (kind, orig.lower() if kind == "NAME" else orig)
        if key in self.mapping_:
            return self.mapping_[key]
        rng = self._rng(kind, orig)
        # never a word that stands in these notes as an original name (it would read as that
        # person): not as a fake name, nor inside a fake city or street
        if kind in ("NAME", "LOCATION", "ADDRESS"):
            avoid = self._avoid | {o for (k, o) in self.mapping_ if k == "NAME"}
            family = [n for n in self._lex["family"] if n.lower() not in avoid] or self._lex["family"]  # type: ignore[union-attr]
        if kind == "NAME":
            if re.fullmatch(r"[A-Z]\.", orig):
                new = f"{chr(ord('A') + rng.randrange(26))}."
            else:
                title = orig.capitalize()
                pool = next((self._lex[k] for k in ("given_M", "given_F", "family") if title in self._lex[k]),  # type: ignore[operator]
                            self._lex["family"])
                new = rng.choice([n for n in pool if n.lower() not in avoid] or [n for n in pool if n != title])  # type: ignore[union-attr]
                new = new.upper() if orig.isupper() and len(orig) > 1 else new
        elif kind == "LOCATION":
            base = rng.choice(family)
            new = base + rng.choice(_CITY_SUFFIX) + (" County" if orig.endswith("County") else "")
        elif kind == "ZIP":
            zip3 = orig[:3] if orig[:3] not in _SMALL_ZIP3 else "000"
            new = zip3 + "00" + ("-0000" if len(orig) > 5 else "")
        elif kind == "ADDRESS":
            m = re.match(r"(\d+)", orig)
            number = _shape(m.group(1), rng) if m else str(rng.randint(1, 999))
            suffix = re.search(r"(\w+\.?)(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|#).*)?$", orig)
            street = rng.choice(family)
            new = f"{number} {street} {suffix.group(1) if suffix and m else 'Street'}"
        elif kind == "EMAIL":
            local = orig.split("@")[0]
            new = _shape(local, rng).lower() + "@example.org"
        elif kind == "URL":
            new = "https://www.example.org/" + _shape(re.sub(r"^\w+://[^/]*/?", "", orig), rng)
        elif kind == "IP":
            new = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" if "." in orig else _shape(orig, rng)
        else:  # phone, fax, SSN and every other number: the same shape
            new = _shape(orig, rng)
            if new == orig:
                new = _shape(orig, self._rng(kind, orig, "again"))
        self.mapping_[key] = new
        return new

    def transform(self, text: str, *, patient_key: object = None) -> DeidResult:
        """De-identify one text; ``patient_key`` picks the date offset (None: one shared offset).

        Raises:
            ConfigError: ``text`` is not a string.
        """
        spans = find_phi(text, locale=self.locale)
        # names found in earlier texts of the set are found in this one too
        known = {orig for (kind, orig) in self.mapping_ if kind == "NAME" and len(orig) > 2 and not orig.endswith(".")}
        if known:
            rx = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, known), key=len, reverse=True)) + r")\b", re.IGNORECASE)
            extra = [Span(m.start(), m.end(), "NAME", m.group(0)) for m in rx.finditer(text)
                     if m.group(0)[:1].isupper() and all(m.end() <= t.start or m.start() >= t.end for t in spans)]
            spans = sorted(spans + extra)
        self._avoid = {s.text.lower() for s in spans if s.type == "NAME"}
        pieces, at = [], 0
        for s in spans:
            pieces.append(text[at:s.start])
            pieces.append(self._surrogate(s, patient_key))
            at = s.end
        pieces.append(text[at:])
        return DeidResult("".join(pieces), spans, dict(Counter(s.type for s in spans)), self.seed_)


def deidentify(text_or_texts: str | Sequence[str], *, seed: int | None = None, patient_key: object = None,
               patient_keys: Sequence[object] | None = None, locale: str = "us") -> DeidResult:
    """De-identify one text or a list of texts with consistent surrogates.

    Args:
        text_or_texts: one note, or a list of notes (one document set: shared surrogates).
        seed: seeds the surrogates (None: a fresh random seed, returned in ``seed``).
        patient_key: the patient of every text (dates of one patient move by one offset).
        patient_keys: with a list, one patient key per text (overrides ``patient_key``).
        locale: the locale pack whose names are found and drawn.

    Returns:
        A :class:`DeidResult` shaped like the input.

    Raises:
        ConfigError: the input is not text, or ``patient_keys`` has the wrong length.

    Example:
        >>> r = deidentify(["Seen 2021-03-04.", "Seen 2021-03-14."], seed=5, patient_key="p1")
        >>> [dt.date.fromisoformat(t[5:15]) for t in r.text][1] - [dt.date.fromisoformat(t[5:15]) for t in r.text][0]
        datetime.timedelta(days=10)
    """
    d = Deidentifier(seed=seed, locale=locale)
    if isinstance(text_or_texts, str):
        return d.transform(text_or_texts, patient_key=patient_key)
    if isinstance(text_or_texts, (bytes, bytearray)) or not isinstance(text_or_texts, Sequence):
        raise ConfigError(f"deidentify reads a str or a list of str; got {type(text_or_texts).__name__}. "
                          "Decode bytes first (text = data.decode('utf-8')).")
    texts = list(text_or_texts)
    keys = list(patient_keys) if patient_keys is not None else [patient_key] * len(texts)
    if len(keys) != len(texts):
        raise ConfigError(f"patient_keys has {len(keys)} keys for {len(texts)} texts; pass one key per text.")
    results = [d.transform(t, patient_key=k) for t, k in zip(texts, keys)]
    counts: Counter[str] = Counter()
    for r in results:
        counts.update(r.counts)
    return DeidResult([r.text for r in results], [r.spans for r in results], dict(counts), d.seed_)  # type: ignore[misc]
