"""PHI detection for :mod:`hygeia.notes` de-identification: rules, context words and name lexicons.

Every HIPAA Safe Harbor identifier type (45 CFR 164.514(b)(2)) that can appear in text is
found by one of three kinds of evidence:

- a pattern with its own shape (e-mail, URL, IP address, SSN, phone, date, street address, VIN);
- a context word before a value ("MRN", "DOB", "Member ID", "serial", "fax", "lives in", "Dr.");
- the locale pack's name lexicon (``population/locales/us/names.json``) for capitalized tokens,
  with common English words among the names ("Rose", "Long", "Grant") accepted only beside
  another name or after a title.

States are not Safe Harbor identifiers and are left in place; ZIP codes, streets, cities and
counties are found. Every name found anywhere in a text is then found everywhere else in it.

Example:
    >>> [(s.type, s.text) for s in find_phi("Seen by Dr. Okafor on 03/04/2021; MRN 0048213.")]
    [('NAME', 'Okafor'), ('DATE', '03/04/2021'), ('MRN', '0048213')]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from hygeia.errors import ConfigError

__all__ = ["PHI_TYPES", "Span", "find_phi"]

#: The identifier types found, in Safe Harbor's order (full-face photographs cannot occur in text).
PHI_TYPES = ("NAME", "ADDRESS", "LOCATION", "ZIP", "DATE", "AGE", "PHONE", "FAX", "EMAIL", "SSN", "MRN",
             "HEALTH_PLAN", "ACCOUNT", "LICENSE", "VEHICLE", "DEVICE", "URL", "IP", "BIOMETRIC", "ID")


@dataclass(frozen=True, order=True)
class Span:
    """One identifier found in a text: ``text[start:end]`` is of PHI type ``type``.

    Example:
        >>> Span(0, 4, "NAME", "John")
        Span(start=0, end=4, type='NAME', text='John')
    """

    start: int
    end: int
    type: str
    text: str


# -- lexicons ---------------------------------------------------------------------------------------

# names of the lexicon that are also everyday or clinical English words: only beside another name or a title
_AMBIGUOUS = {"Mark", "Frank", "Grace", "Amber", "Rose", "Long", "Grant", "Black", "White", "Brown", "Green", "Young",
              "King", "Hill", "Wood", "Woods", "Gray", "Price", "Bell", "Cook", "Ward", "Hunter", "Stone", "Fox", "Rice",
              "West", "Cole", "Hart", "Lane", "Ray", "Berry", "Mills", "Wells", "Ford", "Page", "Hunt", "Snyder",
              "Baker", "Walker", "Carter", "Turner", "Parker", "Porter", "Mason", "Bailey", "Reed", "Ross", "Perry",
              "Brooks", "Cross", "Will", "Jack", "Joy", "May", "June", "Christian", "Harper", "Jordan", "Kelly",
              "Henry", "Thomas", "James", "George", "Alexander", "Lawrence", "Russell", "Ryan", "Scott", "Bradley",
              "Cox", "Hall", "Hicks", "Marshall", "Payne", "Shaw", "Knight", "Burns", "Gordon", "Washington", "Lee",
              "Allen", "Martin", "Nelson", "Morgan", "Rogers", "Gibson", "Hughes", "Spencer", "Hawkins", "Olson"}
_NOT_NAMES = {"Patient", "The", "He", "She", "They", "His", "Her", "No", "Denies", "History", "Plan", "Assessment",
              "Mother", "Father", "Daughter", "Son", "Wife", "Husband", "Sister", "Brother", "Hospital", "Clinic",
              "Center", "Medical", "Emergency", "Department", "Internal", "Medicine", "Family", "Discharge",
              "Follow", "Return", "Call", "Seen", "Signed", "Attending", "Resident", "Nurse", "Given", "Started",
              "Continue", "Start", "Stop", "Take", "On", "In", "At", "By", "For", "With", "And", "Or", "To", "Of",
              "Labs", "Vitals", "Exam", "Impression", "Subjective", "Objective", "Chief", "Complaint", "Social",
              "Street", "Avenue", "Road", "Drive", "Court", "Boulevard", "County", "City", "Today", "Monday",
              "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Phone", "Fax", "Email", "Name",
              "DOB", "MRN", "SSN", "Date", "Age", "Address", "Doctor", "Mr", "Mrs", "Ms", "Dr", "Miss", "Prof"}
# state codes that are also credentials after a name ("Jane Doe, MD"): a city only with a ZIP after them
_CREDENTIALS = {"MD", "PA", "DO", "RN", "NP"}
_STATE_ABBR = ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"]


@lru_cache(maxsize=4)
def lexicon(locale: str = "us") -> dict[str, object]:
    """The locale pack's names and states: ``given``, ``family`` (tuples) and ``states`` (names and codes).

    Raises:
        ConfigError: the locale has no ``names.json``.
    """
    from hygeia.population.locale import LOCALES_DIR

    folder = LOCALES_DIR / locale
    path = folder / "names.json"
    if not path.is_file():
        raise ConfigError(f"locale {locale!r} has no names.json at {str(path)!r}; de-identification reads its "
                          "name lexicon. Pass locale='us' or a pack that ships names.json.")
    doc = json.loads(path.read_text(encoding="utf-8"))
    given = tuple(dict.fromkeys(n for sex in ("M", "F") for n in doc["given"].get(sex, ())))
    family = tuple(doc["family"]["names"])
    states: tuple[str, ...] = ()
    if (folder / "states.json").is_file():
        states = tuple(json.loads((folder / "states.json").read_text(encoding="utf-8"))["counts"])
    states += tuple(_STATE_ABBR)
    alternation = "|".join(sorted(map(re.escape, states), key=len, reverse=True))
    city_state = re.compile(rf"\b{_CITY},[ \t]+(?P<state>{alternation})\b(?:[ \t]+(?P<zip>\d{{5}}(?:-\d{{4}})?))?")
    return {"given": given, "given_M": tuple(doc["given"].get("M", ())), "given_F": tuple(doc["given"].get("F", ())),
            "family": family, "states": states, "city_state": city_state}


# -- patterns ---------------------------------------------------------------------------------------

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
           "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_M = rf"(?:{_MONTHS})\.?"
_DATE = re.compile(
    r"\b(?:\d{4}-\d{1,2}-\d{1,2}"                                       # 2021-03-04
    r"|\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})"                           # 03/04/2021, 3-4-21
    r"|\d{1,2}\.\d{1,2}\.\d{4}"                                         # 03.04.2021
    rf"|{_M}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"              # March 4, 2021 / Mar 4th
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_M}(?:,?\s+\d{{4}})?"    # 4 March 2021
    rf"|{_M}\s+\d{{4}})"                                                # March 2021
    r"(?![\w/])")
_SHORT_DATE = re.compile(r"(?i)\b(?:on|since|from|until|dated)\s+(\d{1,2}/\d{1,2})(?![\d/])")
_EMAIL = re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]]")
_IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b(?!\.\d)")
_IPV6 = re.compile(r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b|\b(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4})?\b")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_PHONE = re.compile(r"(?<![\w-])(?:\+?1[-.\s])?(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}"
                    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?\b")
_AGES = (re.compile(r"(?i)\b(9\d|1[0-2]\d)(?=\s?-?\s?(?:years?|yrs?|yo|y/o|y\.o\.)(?!\w))"),
         re.compile(r"(?i)\b(?:age|aged)\s*:?\s*(9\d|1[0-2]\d)\b"))
_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|"
           r"Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Trl|Square|Sq)")
_STREET = re.compile(rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z']+\s+){{1,3}}{_SUFFIX}\b(?:(?:(?<=St|Rd|Ln|Dr|Ct|Pl)|(?<=Ave|Ter|Cir|Hwy|Trl))\.)?"
                     r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|#)\.?\s*#?[A-Za-z0-9-]+)?")
_POBOX = re.compile(r"(?i)\bP\.?\s?O\.?\s+Box\s+\d+\b")
_VIN = re.compile(r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b")
_LONG_ID = re.compile(r"\b(?=[A-Z0-9-]*\d{5})[A-Z]{0,5}-?\d[\d-]{5,}[A-Z0-9]*\b")
_CAP = r"(?:[A-Z]')?(?:Mc|Mac|De|Di|La|Le)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_PARTICLES = r"(?:(?:van|von|der|den|de|da|del|della|di|du|la|le|bin|al|ter)[ \t]+)*"
_TITLE_NAME = re.compile(rf"\b(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Doctor)\.?[ \t]+({_PARTICLES}(?:{_CAP}|[A-Z]\.)(?:[ \t]+(?:{_CAP}|[A-Z]\.))*?"
                         rf"(?:[ \t]+{_CAP})?)(?=\W|$)")
_RELATIONS = ("wife", "husband", "daughter", "son", "mother", "father", "sister", "brother", "spouse", "partner")
_STRONG_CONTEXT = ("seen by", "signed by", "dictated by", "referred by", "wife", "husband", "daughter", "son", "mother",
                   "father", "sister", "brother", "spouse", "partner", "caregiver", "guardian", "np", "rn", "cc")
_CONTEXT_NAME = re.compile(
    rf"(?i:\b(patient name|name|patient|pt|seen by|signed by|signed|attending|resident|pcp|nurse|rn|np|pa|"
    rf"dictated by|cc|referred by|referring|contact|emergency contact|wife|husband|daughter|son|mother|father|"
    rf"sister|brother|spouse|partner|caregiver|guardian)\b)[:,]?[ \t]+(?:is[ \t]+)?((?:{_CAP})(?:,?[ \t]+(?:[A-Z]\.|{_CAP}))*)")
_INITIAL_NAME = re.compile(rf"\b({_CAP})[ \t]+([A-Z])\.[ \t]+({_CAP})\b")
_CITY = rf"((?:{_CAP})(?:[ \t]+{_CAP}){{0,2}})"
_CITY_CONTEXT = re.compile(rf"(?i:\b(?:lives in|living in|resides in|resident of|from|moved to|moved from|"
                           rf"born in|city of|town of|village of|home in|transferred from)\b)[ \t]+{_CITY}")
_COUNTY = re.compile(rf"\b((?:{_CAP})(?:[ \t]+{_CAP}){{0,2}}[ \t]+(?:County|Parish|Borough|Township))\b")
_ZIP_CONTEXT = re.compile(r"(?i)\b(?:zip|zip code|postal code)\s*:?\s*(?:is\s+)?(\d{5}(?:-\d{4})?)\b")
_PAGER = re.compile(r"(?i)\b(?:pager|beeper|ext\.?|extension)\s*:?\s*#?\s*(\d[\d-]{3,8}\d)\b")
_MAC = re.compile(r"\b(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b")
_WORD_AGE = re.compile(r"(?i)\b((?:ninety|one hundred)(?:[- ](?:and[- ])?(?:one|two|three|four|five|six|seven|eight|nine|ten))?)"
                       r"(?=[- ](?:years?|yrs?)\b|[- ]year[- ]old)|(?<=\bage[d ] )(ninety(?:-\w+)?)\b")
_ID_TOKEN = r"((?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,}[A-Za-z0-9])"
# context words before an identifier value, most specific first; one regex per type
_ID_CONTEXTS = (
    ("VEHICLE", r"license plate|plate(?: number| no\.?| #)?|vin|vehicle id(?:entification number)?|tag number"),
    ("BIOMETRIC", (r"fingerprint(?: id| template| record)?|retina(?:l)?(?: scan)?(?: id)?|iris scan(?: id)?|"
                  r"voice ?print(?: id)?|biometric(?: id| template)?|palm ?print(?: id)?")),
    ("DEVICE", (r"serial(?: number| no\.?| #)?|s/n|sn|device id|udi|device identifier|implant id|lot(?: number)?|"
               r"imei|mac address")),
    ("HEALTH_PLAN", (r"member id|member(?: number| no\.?| #)?|policy(?: number| no\.?| #)?|subscriber id|"
                    r"health plan(?: id| number)?|beneficiary(?: id| number)?|insurance id|medicaid(?: id| number)?|"
                    r"medicare(?: id| number)?|mbi|group(?: number| no\.?| #)")),
    ("ACCOUNT", (r"account(?: number| no\.?| #)?|acct\.?(?: number| no\.?| #)?|billing(?: id| number)|"
                r"encounter(?: id| number)|visit(?: id| number)|fin")),
    ("LICENSE", (r"driver'?s license(?: number| no\.?| #)?|license(?: number| no\.?| #)?|lic\.?(?: #| no\.?)?|dea"
                r"(?: number| #)?|npi|certificate(?: number| no\.?| #)?|board certification(?: number)?")),
    ("SSN", r"ssn|social security(?: number| no\.?| #)?|ss#"),
    ("MRN", r"mrn|medical record(?: number| no\.?| #)?|mr#|mr no\.?|record(?: number| no\.?| #)|chart(?: number| #)"),
    ("ID", r"patient id|id number|id#|identifier|case(?: number| #)|accession(?: number| #)?"),
)
_ID_RES = tuple((t, re.compile(rf"(?i:\b(?:{words}))\s*(?::|#|is|=)?\s*(?:is\s+)?{_ID_TOKEN}")) for t, words in _ID_CONTEXTS)
_FAX = re.compile(r"(?i)\bfax(?:ed)?\b[^\n\d]{0,12}$")


def _add(spans: list[Span], text: str, start: int, end: int, kind: str) -> None:
    if end > start:
        spans.append(Span(start, end, kind, text[start:end]))


def _rule_spans(text: str, lex: dict[str, object]) -> list[Span]:
    spans: list[Span] = []
    for m in _EMAIL.finditer(text):
        _add(spans, text, m.start(), m.end(), "EMAIL")
    for m in _URL.finditer(text):
        _add(spans, text, m.start(), m.end(), "URL")
    for rx in (_IPV4, _IPV6):
        for m in rx.finditer(text):
            _add(spans, text, m.start(), m.end(), "IP")
    for m in _SSN.finditer(text):
        _add(spans, text, m.start(), m.end(), "SSN")
    for m in _PHONE.finditer(text):
        kind = "FAX" if _FAX.search(text[max(0, m.start() - 24):m.start()]) else "PHONE"
        _add(spans, text, m.start(), m.end(), kind)
    for m in _DATE.finditer(text):
        _add(spans, text, m.start(), m.end(), "DATE")
    for m in _SHORT_DATE.finditer(text):
        _add(spans, text, m.start(1), m.end(1), "DATE")
    for rx in _AGES:
        for m in rx.finditer(text):
            _add(spans, text, m.start(1), m.end(1), "AGE")
    for rx in (_STREET, _POBOX):
        for m in rx.finditer(text):
            _add(spans, text, m.start(), m.end(), "ADDRESS")
    states = set(lex["states"])  # type: ignore[arg-type]
    for m in lex["city_state"].finditer(text):  # type: ignore[union-attr]
        if m.group(1) not in states and (m.group("zip") or m.group("state") not in _CREDENTIALS):
            _add(spans, text, m.start(1), m.end(1), "LOCATION")
            if m.group("zip"):
                _add(spans, text, m.start("zip"), m.end("zip"), "ZIP")
    for m in _CITY_CONTEXT.finditer(text):
        if m.group(1) not in states and m.group(1).split()[0] not in _NOT_NAMES and len(m.group(1)) > 2:
            _add(spans, text, m.start(1), m.end(1), "LOCATION")
    for m in _COUNTY.finditer(text):
        _add(spans, text, m.start(1), m.end(1), "LOCATION")
    for m in _ZIP_CONTEXT.finditer(text):
        _add(spans, text, m.start(1), m.end(1), "ZIP")
    for m in _PAGER.finditer(text):
        _add(spans, text, m.start(1), m.end(1), "PHONE")
    for m in _MAC.finditer(text):
        _add(spans, text, m.start(), m.end(), "DEVICE")
    for m in _WORD_AGE.finditer(text):
        g = 1 if m.group(1) else 2
        _add(spans, text, m.start(g), m.end(g), "AGE")
    for kind, rx in _ID_RES:
        for m in rx.finditer(text):
            _add(spans, text, m.start(1), m.end(1), kind)
    for m in _VIN.finditer(text):
        _add(spans, text, m.start(), m.end(), "VEHICLE")
    for m in _LONG_ID.finditer(text):
        _add(spans, text, m.start(), m.end(), "ID")
    return spans


def _name_spans(text: str, lex: dict[str, object]) -> list[Span]:
    given, family = set(lex["given"]), set(lex["family"])  # type: ignore[arg-type]
    known = given | family
    spans: list[Span] = []

    def add_tokens(start: int, chunk: str) -> None:
        for t in re.finditer(rf"{_CAP}|[A-Z]\.", chunk):
            if t.group(0).rstrip(".") not in _NOT_NAMES:
                _add(spans, text, start + t.start(), start + t.end(), "NAME")

    for m in _TITLE_NAME.finditer(text):
        add_tokens(m.start(1), m.group(1))
    for m in _CONTEXT_NAME.finditer(text):
        words = m.group(2)
        # "Patient reports..." is not a name: after a bare context word, take words only if one is a known
        # name or the context ended with a colon/comma
        sep = text[m.end(1):m.start(2)]
        context = m.group(1).lower()
        relation = context in _RELATIONS
        strong = context in _STRONG_CONTEXT and not (relation and ":" in sep)  # "Mother: Hypertension" is history
        if strong or (not relation and (":" in sep or "," in sep)) or any(w in known and w not in _AMBIGUOUS for w in words.split()):
            add_tokens(m.start(2), words)
    for m in _INITIAL_NAME.finditer(text):
        if m.group(1) not in _NOT_NAMES and m.group(3) not in _NOT_NAMES:
            add_tokens(m.start(), m.group(0))
    tokens = list(re.finditer(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?", text))
    for i, t in enumerate(tokens):
        w = t.group(0)
        if w in _NOT_NAMES or (w not in known and not ("-" in w and any(p in given for p in w.split("-")))):
            continue
        if w in _AMBIGUOUS:
            # only beside another capitalized name token (First Last) or an initial
            near = [tokens[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
            gap_ok = [n for n in near if re.fullmatch(r"[ \t]+(?:[A-Z]\.[ \t]+)?", text[min(n.end(), t.end()):max(n.start(), t.start())])]
            if not any(n.group(0) in known and (n.group(0) not in _AMBIGUOUS or w in given) for n in gap_ok):
                continue
        _add(spans, text, t.start(), t.end(), "NAME")
        # a given name's next capitalized word on the same line is its surname ("Jennifer Okafor")
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if (w in given and w not in _AMBIGUOUS and nxt is not None and nxt.group(0) not in _NOT_NAMES
                and re.fullmatch(r"[ \t]+(?:[A-Z]\.[ \t]+)?", text[t.end():nxt.start()])):
            _add(spans, text, nxt.start(), nxt.end(), "NAME")
    # a name found once is found everywhere in the text
    found = {s.text for s in spans if len(s.text) > 2 and not s.text.endswith(".") and s.text not in _AMBIGUOUS}
    if found:
        rx = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, found), key=len, reverse=True)) + r")\b")
        for m in rx.finditer(text):
            _add(spans, text, m.start(), m.end(), "NAME")
    return spans


# when two spans overlap, the longer wins; at equal length, the type earlier here wins
_PRIORITY = {t: i for i, t in enumerate(("EMAIL", "URL", "IP", "SSN", "FAX", "PHONE", "DATE", "ADDRESS", "ZIP", "AGE",
                                         "VEHICLE", "BIOMETRIC", "DEVICE", "HEALTH_PLAN", "ACCOUNT", "LICENSE", "MRN",
                                         "LOCATION", "NAME", "ID"))}


def _resolve(spans: list[Span]) -> list[Span]:
    # context-typed identifiers beat generic shapes of the same extent (an MRN that looks like a long ID)
    spans = sorted(set(spans), key=lambda s: (-(s.end - s.start), _PRIORITY[s.type], s.start))
    taken: list[Span] = []
    for s in spans:
        if all(s.end <= t.start or s.start >= t.end for t in taken):
            taken.append(s)
    return sorted(taken)


def find_phi(text: str, *, locale: str = "us") -> list[Span]:
    """Find the Safe Harbor identifiers in ``text``: non-overlapping typed spans, in text order.

    Args:
        text: one clinical note.
        locale: the locale pack whose name lexicon and states are read.

    Returns:
        The spans found; each ``Span.type`` is one of :data:`PHI_TYPES`.

    Raises:
        ConfigError: ``text`` is not a string, or the locale has no name lexicon.

    Example:
        >>> [(s.type, s.text) for s in find_phi("Call (555) 123-4567 or mail jo@example.org")]
        [('PHONE', '(555) 123-4567'), ('EMAIL', 'jo@example.org')]
    """
    if not isinstance(text, str):
        raise ConfigError(f"find_phi reads one note as str; got {type(text).__name__}. Decode bytes first "
                          "(text = data.decode('utf-8')).")
    lex = lexicon(locale)
    spans = _rule_spans(text, lex)
    spans = _resolve(spans)
    # an ID-context type wins over a generic one of the same digits; names never inside other PHI
    names = [s for s in _name_spans(text, lex) if all(s.end <= t.start or s.start >= t.end for t in spans)]
    return _resolve(spans + names)
