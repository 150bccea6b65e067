"""Write Hygeia's own OMOP vocabulary (Athena's file format) and the test fixture built on it.

Hygeia cannot download the OHDSI vocabularies (Athena needs a login and a licence
click), so it ships a small vocabulary in Athena's exact layout
(``src/hygeia/export/omop/vocabulary/``) covering every code its default modules
write. ``hygeia export RUN --format omop`` uses it when ``--vocabulary`` is not
given; with ``--vocabulary ATHENA_DIR`` the real download is used instead and
the two paths run the same code.

Where the concept ids come from:

- Concepts named by the CDM conventions and already used by the exporter
  (0 "No matching concept", gender, race, ethnicity, visit, type, UTF-8 and English; see
  ``hygeia/export/omop/_concepts.py``) keep their published OHDSI ids.
- Every other concept (SNOMED CT, LOINC, RxNorm, CVX and UCUM codes, drug
  ingredients, routes, the CDM version) gets a **synthetic id above
  2,000,000,000**, the range the CDM reserves for local concepts, so it can never
  collide with an Athena id. They are not Athena's ids: a CDM meant for OHDSI
  network studies is exported with ``--vocabulary`` pointing at a real download.
- Domains follow rules on the code (SNOMED semantic tag, LOINC name, RxNorm
  dose form), written out in :func:`snomed_domain` and :func:`loinc_domain`; they
  mimic Athena's (for example SNOMED assessments, screenings, referrals and
  education are Observation-domain procedures) but are not copied from it.

The fixture (``tests/data/omop_vocabulary/``) is the same vocabulary plus the
things a real download has and the exporter must ignore or follow: concepts of
other vocabularies, retired source codes that map through "Maps to" to a
replacement, deprecated relationships, and a source code with two targets.

Usage::

    .venv/bin/python scripts/omop_vocabulary.py            # rewrite both folders
    .venv/bin/python scripts/omop_vocabulary.py --check    # exit 1 if either is stale
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "hygeia" / "export" / "omop" / "vocabulary"
FIXTURE = ROOT / "tests" / "data" / "omop_vocabulary"
VERSION = "Hygeia local v1"  # vocabulary_version (cdm_source: varchar(20))
START, END = "19700101", "20991231"
LOCAL = 2_000_000_000

SYSTEMS = {"SNOMED-CT": "SNOMED", "LOINC": "LOINC", "RxNorm": "RxNorm", "CVX": "CVX"}
#: Id blocks per vocabulary (synthetic ids: LOCAL + block + sequence).
BLOCKS = {"SNOMED": 1_000_000, "LOINC": 2_000_000, "RxNorm": 3_000_000, "CVX": 4_000_000, "UCUM": 5_000_000,
          "Ingredient": 6_000_000, "Route": 7_000_000, "Metadata": 8_000_000, "Distractor": 9_000_000}

#: Concepts with published OHDSI ids (CDM conventions), as the exporter uses them (their ids and names are
#: the published ones; concept_code, class and vocabulary are as close as Hygeia knows, not copied from Athena).
PUBLISHED = [
    (0, "No matching concept", "Metadata", "None", "Undefined", None, "No matching concept"),
    (8507, "MALE", "Gender", "Gender", "Gender", "S", "M"),
    (8532, "FEMALE", "Gender", "Gender", "Gender", "S", "F"),
    (8527, "White", "Race", "Race", "Race", "S", "5"),
    (8516, "Black or African American", "Race", "Race", "Race", "S", "3"),
    (8515, "Asian", "Race", "Race", "Race", "S", "2"),
    (8657, "American Indian or Alaska Native", "Race", "Race", "Race", "S", "1"),
    (8557, "Native Hawaiian or Other Pacific Islander", "Race", "Race", "Race", "S", "4"),
    (38003563, "Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "S", "Hispanic"),
    (38003564, "Not Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "S", "Not Hispanic"),
    (9201, "Inpatient Visit", "Visit", "Visit", "Visit", "S", "IP"),
    (9202, "Outpatient Visit", "Visit", "Visit", "Visit", "S", "OP"),
    (9203, "Emergency Room Visit", "Visit", "Visit", "Visit", "S", "ER"),
    (581477, "Office Visit", "Visit", "Visit", "Visit", "S", "OFFICE"),
    (32817, "EHR", "Type Concept", "Type Concept", "Type Concept", "S", "EHR"),
    (32678, "UTF-8", "Metadata", "Metadata", "Undefined", "S", "UTF-8"),
    (4180186, "English language", "Language", "SNOMED", "Qualifier Value", "S", "297496007"),
]

#: SNOMED route concepts (Route domain) by their SNOMED code; the exporter finds them by code.
ROUTES = {"26643006": "Oral route", "37839007": "Sublingual route", "447694001": "Respiratory tract route",
          "34206005": "Subcutaneous route", "47625008": "Intravenous route", "78421000": "Intramuscular route"}

_OBSERVATION_PROCEDURE = re.compile(
    r"^(assessment|depression screening|referral|smoking cessation education|.*follow-up|"
    r"admission to|.*education\b)", re.I)
_OBSERVATION_FINDING = re.compile(r"smok|tobacco|alcohol|employ|educat|housing|stress|social|lives |"
                                  r"received|pregnan|body mass index|medication review", re.I)


def snomed_domain(display: str) -> tuple[str, str]:
    """(domain_id, concept_class_id) of a SNOMED code from its display's semantic tag."""
    m = re.search(r"\(([^()]*)\)\s*$", display)
    tag = m.group(1) if m else ""
    name = display[: m.start()].strip() if m else display
    if tag == "disorder":
        return "Condition", "Disorder"
    if tag == "finding":
        return ("Observation", "Clinical Finding") if _OBSERVATION_FINDING.search(name) else ("Condition",
                                                                                              "Clinical Finding")
    if tag in ("procedure", "regime/therapy"):
        cls = "Procedure"
        return ("Observation" if _OBSERVATION_PROCEDURE.search(name) else "Procedure"), cls
    if tag == "qualifier value":
        return "Meas Value", "Qualifier Value"
    if tag == "physical object":
        return "Device", "Physical Object"
    if tag == "organism":
        return "Observation", "Organism"
    if tag == "situation":
        return "Observation", "Context-dependent"
    if tag == "event":
        return "Observation", "Event"
    if tag == "observable entity":
        return "Observation", "Observable Entity"
    if tag == "substance":
        return "Observation", "Substance"
    return "Observation", "Clinical Finding"


def loinc_domain(display: str) -> str:
    """Measurement for tests and vital signs, Observation for statuses and histories."""
    return "Observation" if re.search(r"status|history", display, re.I) else "Measurement"


_LEADING_QTY = re.compile(r"^(\d+(\.\d+)? (HR|ML|ACTUAT|MG)\s+)+")
_DOSE = re.compile(r"\s[\d.]+\s")


def ingredients(display: str) -> list[str]:
    """Ingredient names of an RxNorm clinical drug's display ("metformin hydrochloride 500 MG ...")."""
    text = re.sub(r"\[.*?\]", "", display)
    text = _LEADING_QTY.sub("", text.strip())
    out = []
    for part in text.split(" / "):
        part = _LEADING_QTY.sub("", part.strip())
        m = re.match(r"^(.*?)\s+[\d.]+\s", part + " ")
        name = (m.group(1) if m else part).strip()
        name = re.sub(r"\s+(hydrochloride|succinate|sodium|potassium|calcium|monohydrate|hydrobromide|"
                      r"propionate|macrocrystals|, human|human|isophane,?|, regular,?)\b", "", name).strip(" ,")
        if name and not re.match(r"^[\d.]", name):
            out.append(name.lower())
    return sorted(set(out)) or [display.lower()]


def route_of(display: str) -> str | None:
    """The SNOMED route code of an RxNorm display's dose form (None when the form does not say)."""
    d = display.lower()
    if "sublingual" in d:
        return "37839007"
    if "inhal" in d:
        return "447694001"
    if "pen injector" in d:
        return "34206005"
    if "oral" in d or "chewable" in d:
        return "26643006"
    return None


def dose(display: str) -> tuple[float, str] | None:
    """(amount, unit) of a single-ingredient solid drug ("... 500 MG Oral Tablet" -> (500, "mg"))."""
    if " / " in display or "/ML" in display or "/ACTUAT" in display:
        return None
    m = re.search(r"\s([\d.]+) MG\s", display + " ")
    return (float(m.group(1)), "mg") if m else None


# -- collecting the codes ---------------------------------------------------------------
def _walk(node, out: set) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and "code" in node and node["system"] in SYSTEMS:
            out.add((node["system"], str(node["code"]), str(node.get("display") or node["code"])))
        for v in node.values():
            _walk(v, out)
    elif isinstance(node, list):
        for v in node:
            _walk(v, out)


def collect() -> tuple[dict[tuple[str, str], str], set[str]]:
    """{(vocabulary_id, code): display} from the default modules and a generated run, and the units seen."""
    from hygeia.population import generate
    from hygeia.population.engine import default_modules_dir

    codes: set = set()
    for path in sorted(default_modules_dir().rglob("*.json")):
        _walk(json.loads(path.read_text()), codes)
    units: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        generate(n=3000, seed=20260101, out=Path(tmp) / "run")
        con = duckdb.connect()
        glob = str(Path(tmp) / "run" / "events" / "*.parquet")
        for system, code, display in con.sql(
                f"SELECT DISTINCT code_system, code, display FROM read_parquet('{glob}') "
                "WHERE code IS NOT NULL").fetchall():
            if system in SYSTEMS:
                codes.add((system, code, display or code))
        for (text,) in con.sql(f"SELECT DISTINCT text_value FROM read_parquet('{glob}') "
                               "WHERE regexp_matches(text_value, '^[^|]+[|][^|]+[|]')").fetchall():
            system, code, display = text.split("|", 2)
            if system in SYSTEMS:
                codes.add((system, code, display))
        units = {u for (u,) in con.sql(f"SELECT DISTINCT unit FROM read_parquet('{glob}') "
                                       "WHERE unit IS NOT NULL").fetchall()}
        con.close()
    # measures written by Python code (vitals, labs) carry their units; module units too
    for path in sorted(default_modules_dir().rglob("*.json")):
        for m in re.finditer(r'"unit":\s*"([^"]+)"', path.read_text()):
            if m.group(1) not in ("years", "months", "weeks", "days", "hours", "minutes", "seconds"):
                units.add(m.group(1))
    from hygeia.export._notes import NOTE_CODES

    for code, display in NOTE_CODES.items():  # the document types of 'hygeia notes write' (note_class_concept_id)
        codes.add(("LOINC", code, display))
    out: dict[tuple[str, str], str] = {}
    for system, code, display in sorted(codes):
        out.setdefault((SYSTEMS[system], code), display)
    return out, units


# -- writing Athena files ---------------------------------------------------------------
def previous_ids(path: Path = SHIPPED / "CONCEPT.csv") -> dict[tuple[str, str], int]:
    """(vocabulary_id, concept_code) -> concept_id of the shipped vocabulary, so ids stay stable when codes are added."""
    if not path.is_file():
        return {}
    out = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            out[(row["vocabulary_id"], row["concept_code"])] = int(row["concept_id"])
    return out


class Builder:
    def __init__(self, previous: dict[tuple[str, str], int]) -> None:
        self.concepts: dict[int, tuple] = {}
        self.relationships: list[tuple] = []
        self.ancestors: list[tuple] = []
        self.strength: list[tuple] = []
        self.previous = previous
        self.taken = set(previous.values())
        self.next: dict[str, int] = {}

    def new_id(self, block: str, key: tuple[str, str] | None = None) -> int:
        """The concept's id: its id in the shipped vocabulary, else the next free one of its block."""
        if key is not None and key in self.previous:
            return self.previous[key]
        n = self.next.get(block, 0) + 1
        while LOCAL + BLOCKS[block] + n in self.taken:
            n += 1
        self.next[block] = n
        self.taken.add(LOCAL + BLOCKS[block] + n)
        return LOCAL + BLOCKS[block] + n

    def concept(self, cid: int, name: str, domain: str, vocab: str, cls: str, standard: str | None, code: str,
                invalid: str | None = None) -> int:
        self.concepts[cid] = (cid, name[:255], domain, vocab, cls, standard or "", code, START,
                              "20991231" if invalid is None else "20200101", invalid or "")
        return cid

    def maps_to(self, a: int, b: int, invalid: str | None = None) -> None:
        end = "20991231" if invalid is None else "20200101"
        self.relationships.append((a, b, "Maps to", START, end, invalid or ""))
        self.relationships.append((b, a, "Mapped from", START, end, invalid or ""))


def build(codes: dict[tuple[str, str], str], units: set[str], previous: dict[tuple[str, str], int]) -> Builder:
    from hygeia.export._notes import NOTE_CODES

    b = Builder(previous)
    for row in PUBLISHED:
        b.concept(*row)
    ingredient_ids: dict[str, int] = {}
    unit_ids: dict[str, int] = {}
    for unit in sorted(units | {"mg"}):
        unit_ids[unit] = b.concept(b.new_id("UCUM", ("UCUM", unit)), unit, "Unit", "UCUM", "Unit", "S", unit)
    for code, name in sorted(ROUTES.items()):
        b.concept(b.new_id("Route", ("SNOMED", code)), name, "Route", "SNOMED", "Qualifier Value", "S", code)
    b.concept(b.new_id("Metadata", ("CDM", "CDM v5.4.0")), "OMOP CDM Version 5.4.0", "Metadata", "CDM", "CDM", "S", "CDM v5.4.0")
    by_vocab: dict[str, list] = {}
    for (vocab, code), display in sorted(codes.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        by_vocab.setdefault(vocab, []).append((code, display))
    for vocab, items in sorted(by_vocab.items()):
        for code, display in items:
            cid = b.new_id(vocab, (vocab, code))
            if vocab == "SNOMED":
                if code in ROUTES:
                    continue
                domain, cls = snomed_domain(display)
            elif vocab == "LOINC" and code in NOTE_CODES:
                domain, cls = "Observation", "Clinical Observation"
            elif vocab == "LOINC":
                domain, cls = loinc_domain(display), "Lab Test"
            elif vocab == "CVX":
                domain, cls = "Drug", "CVX"
            else:
                domain = "Drug"
                cls = "Ingredient" if not re.search(r"\d", display) else (
                    "Branded Drug" if "[" in display else "Clinical Drug")
            b.concept(cid, re.sub(r"\s*\([^()]*\)\s*$", "", display) or display, domain, vocab, cls, "S", code)
            b.maps_to(cid, cid)
            if vocab == "RxNorm":
                names = [display.lower()] if cls == "Ingredient" else ingredients(display)
                for name in names:
                    if cls == "Ingredient":
                        ingredient_ids[name] = cid
                    if name not in ingredient_ids:
                        ing_code = f"HYGEIA-ING-{len(ingredient_ids) + 1}"
                        ingredient_ids[name] = b.concept(b.new_id("Ingredient", ("RxNorm", ing_code)), name, "Drug", "RxNorm",
                                                         "Ingredient", "S", ing_code)
                    ing = ingredient_ids[name]
                    b.ancestors.append((ing, cid, 0 if ing == cid else 1, 0 if ing == cid else 1))
                    if cls != "Ingredient":
                        amount = dose(display) if len(names) == 1 else None
                        b.strength.append((cid, ing, amount[0] if amount else "", unit_ids["mg"] if amount else "",
                                           "", "", "", "", "", START, END, ""))
    for ing in sorted(set(ingredient_ids.values())):
        if not any(a == ing and d == ing for a, d, *_ in b.ancestors):
            b.ancestors.append((ing, ing, 0, 0))
    return b


def distractors(b: Builder, codes: dict[tuple[str, str], str]) -> None:
    """What a real download has besides the concepts Hygeia needs (the fixture only)."""
    # other vocabularies and other codes of the same vocabularies
    for i in range(1, 21):
        b.concept(b.new_id("Distractor"), f"Unrelated ICD10CM code {i}", "Condition", "ICD10CM", "4-char billing code",
                  None, f"Z{i:02d}.9")
        b.concept(b.new_id("Distractor"), f"Unrelated SNOMED concept {i}", "Observation", "SNOMED",
                  "Clinical Finding", "S", f"99999{i:03d}")
    # a retired SNOMED code (a copy of the first condition with a new code) that maps to its replacement;
    # an old, deprecated "Maps to" from it that must be ignored
    condition = next(c for c in b.concepts.values() if c[3] == "SNOMED" and c[2] == "Condition")
    old = b.concept(b.new_id("Distractor"), condition[1] + " (retired)", "Condition", "SNOMED", "Disorder", None,
                    "999000001", invalid="U")
    b.maps_to(old, condition[0])
    unrelated = next(c for c in b.concepts.values() if c[1].startswith("Unrelated SNOMED"))
    b.maps_to(old, unrelated[0], invalid="D")


def write_folder(b: Builder, folder: Path, with_fixture_note: bool) -> dict[str, str]:
    """The Athena files' text, by file name."""
    def tsv(header: list[str], rows) -> str:
        buf = io.StringIO()
        buf.write("\t".join(header) + "\n")
        for r in rows:
            buf.write("\t".join("" if v is None else str(v) for v in r) + "\n")
        return buf.getvalue()

    vocabs = sorted({c[3] for c in b.concepts.values()})
    files = {
        "CONCEPT.csv": tsv(["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id",
                            "standard_concept", "concept_code", "valid_start_date", "valid_end_date",
                            "invalid_reason"], sorted(b.concepts.values())),
        "CONCEPT_RELATIONSHIP.csv": tsv(["concept_id_1", "concept_id_2", "relationship_id", "valid_start_date",
                                         "valid_end_date", "invalid_reason"], sorted(b.relationships)),
        "CONCEPT_ANCESTOR.csv": tsv(["ancestor_concept_id", "descendant_concept_id", "min_levels_of_separation",
                                     "max_levels_of_separation"], sorted(b.ancestors)),
        "DRUG_STRENGTH.csv": tsv(["drug_concept_id", "ingredient_concept_id", "amount_value",
                                  "amount_unit_concept_id", "numerator_value", "numerator_unit_concept_id",
                                  "denominator_value", "denominator_unit_concept_id", "box_size",
                                  "valid_start_date", "valid_end_date", "invalid_reason"], sorted(b.strength)),
        "CONCEPT_SYNONYM.csv": tsv(["concept_id", "concept_synonym_name", "language_concept_id"], []),
        "VOCABULARY.csv": tsv(["vocabulary_id", "vocabulary_name", "vocabulary_reference", "vocabulary_version",
                               "vocabulary_concept_id"],
                              [(v, v, "Hygeia scripts/omop_vocabulary.py", VERSION, 0) for v in sorted(set(vocabs) | {"None"})]),
        "DOMAIN.csv": tsv(["domain_id", "domain_name", "domain_concept_id"],
                          [(d, d, 0) for d in sorted({c[2] for c in b.concepts.values()})]),
        "CONCEPT_CLASS.csv": tsv(["concept_class_id", "concept_class_name", "concept_class_concept_id"],
                                 [(c, c, 0) for c in sorted({c[4] for c in b.concepts.values()})]),
        "RELATIONSHIP.csv": tsv(["relationship_id", "relationship_name", "is_hierarchical", "defines_ancestry",
                                 "reverse_relationship_id", "relationship_concept_id"],
                                [("Mapped from", "Mapped from", "0", "0", "Maps to", 0),
                                 ("Maps to", "Maps to", "0", "0", "Mapped from", 0)]),
    }
    note = ("Hygeia's local OMOP vocabulary, in Athena's file format (tab-separated, dates YYYYMMDD).\n"
            "Written by scripts/omop_vocabulary.py; do not edit by hand.\n\n"
            "Concept ids above 2,000,000,000 are SYNTHETIC (the CDM's range for local concepts), NOT Athena's.\n"
            "Only the gender, race, ethnicity, visit, type, UTF-8 and English concepts carry their published\n"
            "OHDSI ids. Domains follow the rules in scripts/omop_vocabulary.py. For a CDM that OHDSI network\n"
            "studies can use, export with --vocabulary pointing at a real Athena download.\n")
    if with_fixture_note:
        note = ("TEST FIXTURE. " + note + "\nThe fixture adds what a real download has besides Hygeia's codes:\n"
                "other vocabularies, a retired code that maps to its replacement, a deprecated relationship.\n")
    files["README.txt"] = note
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a folder differs from what would be written")
    args = ap.parse_args()
    codes, units = collect()
    previous = previous_ids()
    stale = []
    for folder, fixture in ((SHIPPED, False), (FIXTURE, True)):
        b = build(codes, units, previous)
        if fixture:
            distractors(b, codes)
        files = write_folder(b, folder, fixture)
        for name, text in files.items():
            path = folder / name
            if args.check:
                if not path.is_file() or path.read_text() != text:
                    stale.append(str(path))
                continue
            from hygeia.core.atomic import write_text

            folder.mkdir(parents=True, exist_ok=True)
            write_text(path, text)
        print(f"{folder}: {len(b.concepts)} concepts, {len(b.relationships)} relationships")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
