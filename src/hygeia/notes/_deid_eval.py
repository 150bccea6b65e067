"""Evaluating de-identification: notes with planted PHI of every Safe Harbor type, and a scorer.

:func:`planted_notes` writes short clinical notes from sentence templates whose slots are
filled with identifiers of every type in varied formats (``03/04/2021``, ``March 4, 2021``,
``2021-03-04``, ``(555) 123-4567``, ``555.123.4567``...), with the exact spans as ground
truth; half of the names come from outside the locale pack's lexicon (they are found only
by their context: a title, "Name:", a relation). PHI-free clinical sentences (doses, blood
pressures, lab values, years, ages under 90, states) sit between them, so false positives
show. :func:`score_deid` gives recall and precision by type, by span overlap and exactly.

Example:
    >>> notes = planted_notes(2, seed=0)
    >>> from hygeia.notes._deid_rules import find_phi
    >>> scores = score_deid([n.spans for n in notes], [find_phi(n.text) for n in notes])
    >>> scores["ALL"]["recall"] > 0.9
    True
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from hygeia.errors import ConfigError
from hygeia.notes._deid_rules import PHI_TYPES, Span, lexicon

__all__ = ["PlantedNote", "planted_notes", "score_deid"]

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_SYLL = ("ka", "ro", "mi", "ta", "vel", "dor", "an", "si", "bu", "ne", "qua", "zen", "ol", "fa", "ri", "mu", "te")
_STREETS = ("Oak", "Maple", "Cedar", "Pine", "Elm", "Birch", "Willow", "Chestnut", "Sycamore", "Juniper", "Magnolia")
_SUFFIXES = ("Street", "St.", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Court", "Boulevard", "Way", "Place")
_STATES = ("IL", "TX", "CA", "NY", "Ohio", "Georgia", "WA", "Florida", "MA", "Oregon")
_FILLER = (
    "Blood pressure 128/76, heart rate 72, temperature 36.8 C.",
    "Started metformin 500 mg by mouth twice daily.",
    "WBC 7.2, hemoglobin 13.1 g/dL, platelets 245.",
    "History of hypertension since 2015, well controlled.",
    "Denies chest pain, shortness of breath or fever.",
    "Assessment: type 2 diabetes mellitus, stable on current regimen.",
    "Plan: continue lisinopril 10 mg daily and recheck HbA1c in 3 months.",
    "Patient reports mild fatigue for two weeks.",
    "She is a 67-year-old woman with COPD.",
    "Chest X-ray showed no acute cardiopulmonary process.",
    "Follow up with cardiology as scheduled.",
    "The patient moved here from Texas in 2010.",
    "Family history of breast cancer in a maternal aunt.",
    "Brown sputum noted; no hemoptysis.",
    "White count trending down after antibiotics.",
    "Grant application for home oxygen submitted by social work.",
    "Ejection fraction 55% on echocardiogram.",
    "Pain 4/10, improved with acetaminophen 650 mg every 6 hours.",
)


@dataclass(frozen=True)
class PlantedNote:
    """A note with planted identifiers: ``text`` and the ground-truth ``spans`` (typed, in order)."""

    text: str
    spans: tuple[Span, ...]


class _Filler:
    """Draws identifier values of every type, in varied formats."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        lex = lexicon("us")
        self.given, self.family = list(lex["given"]), list(lex["family"])  # type: ignore[call-overload]

    def d(self, n: int) -> str:
        return "".join(str(self.r.randrange(10)) for _ in range(n))

    def up(self, n: int) -> str:
        return "".join(chr(65 + self.r.randrange(26)) for _ in range(n))

    def invented(self) -> str:
        return "".join(self.r.choice(_SYLL) for _ in range(self.r.randint(2, 3))).capitalize()

    def given_name(self) -> str:
        return self.r.choice(self.given) if self.r.random() < 0.5 else self.invented()

    def family_name(self) -> str:
        return self.r.choice(self.family) if self.r.random() < 0.5 else self.invented()

    def date(self) -> str:
        y, m, dd = self.r.randint(1930, 2025), self.r.randint(1, 12), self.r.randint(1, 28)
        k = self.r.randrange(7)
        return [f"{m:02d}/{dd:02d}/{y}", f"{m}/{dd}/{y % 100:02d}", f"{_MONTHS[m - 1]} {dd}, {y}", f"{y}-{m:02d}-{dd:02d}",
                f"{dd} {_MONTHS[m - 1][:3]} {y}", f"{_MONTHS[m - 1][:3]}. {dd}", f"{_MONTHS[m - 1]} {y}"][k]

    def phone(self) -> str:
        a, b, c = self.d(3), self.d(3), self.d(4)
        a = str(self.r.randint(2, 9)) + a[1:]
        return self.r.choice([f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}", f"({a}){b}-{c}"])

    def value(self, kind: str) -> str:
        r = self.r
        if kind == "GIVEN":
            return self.given_name()
        if kind == "FAMILY":
            return self.family_name()
        if kind == "DATE":
            return self.date()
        if kind == "AGE":
            return str(r.randint(90, 104))
        if kind in ("PHONE", "FAX"):
            return self.phone()
        if kind == "EMAIL":
            return f"{self.given_name().lower()}.{self.family_name().lower()}{r.randint(1, 99)}@{r.choice(['mail.com', 'example.net', 'uni.edu'])}"
        if kind == "SSN":
            return f"{self.d(3)}-{self.d(2)}-{self.d(4)}" if r.random() < 0.7 else self.d(9)
        if kind == "MRN":
            return r.choice([self.d(7), self.d(8), f"{self.d(2)}-{self.d(3)}-{self.d(3)}", f"MR{self.d(6)}"])
        if kind == "HEALTH_PLAN":
            return r.choice([f"{self.up(3)}{self.d(9)}", f"{self.d(1)}{self.up(2)}{self.d(1)}-{self.up(2)}{self.d(1)}-{self.up(2)}{self.d(2)}", f"W{self.d(8)}"])
        if kind == "ACCOUNT":
            return r.choice([self.d(8), f"A{self.d(9)}", f"{self.d(4)}-{self.d(6)}"])
        if kind == "LICENSE":
            return r.choice([f"{self.up(1)}{self.d(7)}", f"{self.up(2)}{self.d(7)}", self.d(10)])
        if kind == "VEHICLE":
            return r.choice([f"{self.d(1)}{self.up(3)}{self.d(3)}", f"{self.up(3)}-{self.d(4)}"])
        if kind == "VIN":
            chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
            return "1" + "".join(r.choice(chars) for _ in range(15)) + str(r.randrange(10))
        if kind == "DEVICE":
            return r.choice([f"{self.up(2)}-{self.d(4)}-{self.up(2)}", f"SN{self.d(8)}", f"{self.d(2)}{self.up(1)}{self.d(6)}"])
        if kind == "URL":
            return r.choice([f"https://portal.{self.family_name().lower()}health.org/patient/{self.d(6)}",
                             f"www.{self.family_name().lower()}.com/{self.d(4)}", f"http://{self.invented().lower()}.net/me"])
        if kind == "IP":
            return ".".join(str(r.randint(1, 254)) for _ in range(4))
        if kind == "BIOMETRIC":
            return r.choice([f"FP-{self.d(6)}", f"RS{self.d(7)}", f"VP-{self.up(2)}{self.d(5)}"])
        if kind == "ID":
            return r.choice([f"{r.randint(2000, 2025)}-{self.d(5)}", f"P-{self.d(7)}", f"CASE{self.d(6)}"])
        if kind == "STREET":
            return f"{r.randint(1, 9999)} {r.choice(['', 'N ', 'W. '])}{r.choice(_STREETS)} {r.choice(_SUFFIXES)}" + r.choice(["", "", f", Apt {r.randint(1, 40)}", " Unit 3B"])
        if kind == "CITY":
            return r.choice(_STREETS) + r.choice(["ville", "ton", " Springs", "field", "brook", " Falls"])
        if kind == "COUNTY":
            return r.choice(_STREETS) + r.choice(["", " Hills", " Lake"]) + " County"
        if kind == "ZIP":
            return self.d(5) if r.random() < 0.8 else f"{self.d(5)}-{self.d(4)}"
        raise ConfigError(f"unknown slot {kind!r}")


# templates: {SLOT} or {SLOT:TYPE} where the value's PHI type differs from the slot's name; {STATE} is not PHI
_TEMPLATES = (
    "Patient: {GIVEN:NAME} {FAMILY:NAME}", "Name: {FAMILY:NAME}, {GIVEN:NAME}",
    "Mr. {FAMILY:NAME} is a {AGE}-year-old man admitted with pneumonia.",
    "Mrs. {GIVEN:NAME} {FAMILY:NAME} presents for follow-up.", "Seen by Dr. {FAMILY:NAME} in clinic today.",
    "Signed: {GIVEN:NAME} {FAMILY:NAME}, MD", "His daughter, {GIVEN:NAME}, was present at the visit.",
    "Emergency contact: {GIVEN:NAME} {FAMILY:NAME}, phone {PHONE}.", "Attending: Dr. {GIVEN:NAME} {FAMILY:NAME}",
    "Lives at {STREET:ADDRESS}, {CITY:LOCATION}, {STATE} {ZIP}.", "Address: {STREET:ADDRESS}.",
    "She lives in {CITY:LOCATION} with her husband.", "Resident of {COUNTY:LOCATION}.",
    "DOB: {DATE}", "Admitted on {DATE} and discharged on {DATE}.", "Date of service: {DATE}.",
    "Follow up on {DATE} with primary care.", "Last colonoscopy {DATE}, normal.",
    "Age: {AGE}", "A {AGE} yo woman with dementia.", "The patient, aged {AGE}, lives alone.",
    "Phone: {PHONE}", "Please call {PHONE} with questions.", "Fax: {PHONE:FAX}", "Records faxed to {PHONE:FAX}.",
    "Email: {EMAIL}", "She can be reached at {EMAIL}.", "SSN: {SSN}", "Social Security Number {SSN}.",
    "MRN: {MRN}", "Medical record number {MRN}.", "MR# {MRN}",
    "Member ID: {HEALTH_PLAN}", "Medicare ID {HEALTH_PLAN}.", "Insurance policy number {HEALTH_PLAN}.",
    "Account #: {ACCOUNT}", "Billing account number {ACCOUNT}.",
    "Driver's license {LICENSE}.", "DEA # {LICENSE}", "Certificate number {LICENSE}.",
    "License plate {VEHICLE}.", "Vehicle VIN {VIN:VEHICLE}.",
    "Pacemaker serial number {DEVICE}.", "Insulin pump device ID {DEVICE}.", "Implant S/N {DEVICE}.",
    "Patient portal: {URL}", "See {URL} for results.", "Telehealth login from IP {IP}.", "IP address {IP}",
    "Fingerprint ID {BIOMETRIC} on file.", "Retinal scan ID {BIOMETRIC}.", "Voiceprint ID {BIOMETRIC} enrolled.",
    "Case number {ID}.", "Patient ID {ID}",
)
_SLOT = re.compile(r"\{([A-Z_]+)(?::([A-Z_]+))?\}")


def _fill(template: str, f: _Filler, sub: str = "") -> tuple[str, list[tuple[int, int, str]]]:
    out, spans, at = [], [], 0
    length = 0
    for m in _SLOT.finditer(template):
        out.append(template[at:m.start()])
        length += m.start() - at
        slot, kind = m.group(1), m.group(2) or m.group(1)
        if slot == "STATE":
            value, kind = f.r.choice(_STATES), ""
        else:
            value = f.value(slot)
        out.append(value)
        if kind == "NAME":
            spans += [(length + t.start(), length + t.end(), kind) for t in re.finditer(r"\S+", value)]
        elif kind:
            spans.append((length, length + len(value), kind))
        length += len(value)
        at = m.end()
    out.append(template[at:])
    return "".join(out), spans


def planted_notes(n: int, *, seed: int, sentences: int = 12) -> list[PlantedNote]:
    """``n`` notes with planted PHI and their ground-truth spans; every type appears in every 5 notes or so.

    Args:
        n: number of notes.
        seed: the generator seed (the same seed gives the same notes).
        sentences: PHI sentences per note (PHI-free sentences are added between them).

    Raises:
        ConfigError: ``n`` or ``sentences`` is not positive.
    """
    if n < 1 or sentences < 1:
        raise ConfigError(f"n and sentences must be positive; got n={n}, sentences={sentences}. Pass e.g. n=100.")
    rng = random.Random(f"deid-planted|{seed}")
    f = _Filler(rng)
    order = list(_TEMPLATES)
    rng.shuffle(order)
    k = 0
    notes = []
    for _ in range(n):
        text, spans = "", []
        for _ in range(sentences):
            template = order[k % len(order)]
            k += 1
            if k % len(order) == 0:
                rng.shuffle(order)
            sentence, local = _fill(template, f)
            spans += [Span(len(text) + s, len(text) + e, t, sentence[s:e]) for s, e, t in local]
            text += sentence + (rng.choice([" ", "\n"]) if sentence[-1] in ".!?" else "\n")
            if rng.random() < 0.6:
                text += rng.choice(_FILLER) + rng.choice([" ", "\n"])
        notes.append(PlantedNote(text.strip(), tuple(spans)))
    return notes


def score_deid(gold: list[list[Span]] | list[tuple[Span, ...]], predicted: list[list[Span]]) -> dict[str, dict]:
    """Recall and precision by PHI type, by span overlap (any overlap counts) and exact (same bounds).

    ``recall``: share of true spans overlapped by a predicted span of any type (the identifier
    is removed); ``recall_typed``: overlapped by one of the same type; ``recall_exact``: a
    predicted span of the same bounds. ``precision``: share of predicted spans (by their
    predicted type) overlapping a true span; ``precision_exact`` likewise with the same bounds.
    Names are scored token by token (a first name and a surname are two spans), so a
    surname left in place counts as a miss even when the first name was found.

    Raises:
        ConfigError: ``gold`` and ``predicted`` differ in length.
    """
    if len(gold) != len(predicted):
        raise ConfigError(f"gold has {len(gold)} notes and predicted {len(predicted)}; pass one list per note.")
    tally: dict[str, dict[str, int]] = {}

    def t(kind: str) -> dict[str, int]:
        return tally.setdefault(kind, dict.fromkeys(("gold", "pred", "hit", "hit_typed", "hit_exact", "tp", "tp_exact"), 0))

    for g_spans, p_spans in zip(gold, predicted):
        g = [(s.start, s.end, s.type) for s in g_spans]
        p = [(s.start, s.end, s.type) for s in p_spans]
        for gs, ge, gt in g:
            for row in (t(gt), t("ALL")):
                row["gold"] += 1
                over = [q for q in p if q[0] < ge and q[1] > gs]
                row["hit"] += bool(over)
                row["hit_typed"] += any(q[2] == gt for q in over)
                row["hit_exact"] += any(q[0] == gs and q[1] == ge for q in over)
        for ps, pe, pt in p:
            for row in (t(pt), t("ALL")):
                row["pred"] += 1
                over = [q for q in g if q[0] < pe and q[1] > ps]
                row["tp"] += bool(over)
                row["tp_exact"] += any(q[0] == ps and q[1] == pe for q in over)

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    out = {}
    for kind in [*PHI_TYPES, "ALL"]:
        if kind not in tally:
            continue
        r = tally[kind]
        out[kind] = {"n_true": r["gold"], "n_predicted": r["pred"], "recall": ratio(r["hit"], r["gold"]),
                     "recall_typed": ratio(r["hit_typed"], r["gold"]), "recall_exact": ratio(r["hit_exact"], r["gold"]),
                     "precision": ratio(r["tp"], r["pred"]), "precision_exact": ratio(r["tp_exact"], r["pred"])}
    return out
