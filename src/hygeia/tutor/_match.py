"""Free-text history questions matched to HPO terms and to the intents of a medical interview.

A student types what a doctor would say ("Do you get headaches?", "Any trouble with your
eyes?", "When did it start?"). :func:`match_question` finds the HPO terms the question names,
through each term's label, its exact/related/narrow synonyms and its layperson synonyms, and a
short list of everyday words for body systems and symptoms that the HPO lacks (``_BODY`` and
``_LAY`` below). Both the index and the question are normalised the same way: lower case,
accents and punctuation dropped, British spellings folded to American ones (``haem`` -> ``hem``,
``oe``/``ae`` -> ``e``, ``-our`` -> ``-or``, ``-ise`` -> ``-ize``), a light stemmer (plurals,
``-ing``, ``-ed``, a final ``e``), and interview filler ("do you have any", "problems with your")
removed. The question is then scanned left to right for the longest run of words whose set is an
indexed phrase (so "pain in the chest" finds *Chest pain*). Acronyms (``ASD``, ``MI``) match only
when typed in capitals. The index is built once per :class:`~hygeia.tutor._hpo.Knowledge` (about
a second) and shared.

Example:
    >>> from hygeia.tutor._hpo import load_knowledge
    >>> kb = load_knowledge()
    >>> m = match_question("Do you get headaches?", kb)
    >>> m.intent, m.terms[0][0], kb.term(m.terms[0][0]).name
    ('finding', 'HP:0002315', 'Headache')
    >>> match_question("Any problems with your eyes?", kb).terms[0][0]      # Abnormality of the eye
    'HP:0000478'
    >>> match_question("What brings you in today?", kb).intent
    'chief_complaint'
    >>> match_question("Do you have any?", kb).intent
    'unknown'
"""

from __future__ import annotations

import re
import threading
import unicodedata
import weakref
from dataclasses import dataclass, field

from hygeia.tutor._hpo import Knowledge

__all__ = ["INTENTS", "Match", "match_question", "normalise", "phrase_index"]

#: What a question can be about.
INTENTS = ("finding", "chief_complaint", "onset", "family", "medications", "social", "greeting", "unknown")

# Words a question is padded with that name no finding (removed from questions and indexed phrases alike).
_STOP_WORDS = """
a about above after again against all also am an and any anybody anyone anything are around as at
be been before being below between both but by can cannot could did do does doing done down during each
either else ever every everything experience experienced experiences experiencing few for from further
get gets getting got had has have having he her here hers herself him himself his how i if in into is
it its itself just kind know last lately least let like ma'am me mine more most much must my myself
near need never no nor not notice noticed noticing now of off often on once only or other our ours out
over own please problem problems really recent recently same say seem seems she should since so some
somebody someone something sometimes sort such suffer suffered suffering suffers tell than thank thanks that
the their theirs them themselves then there these they thing things this those through to too trouble
troubles under until up upon us very was we well were what whatever when where whether which while who
whom why will with would yes you your yours yourself yourselves issue issues concern concerns doctor
sir madam okay ok currently usually ever had lot lots bit little quite
abnormal abnormality abnormalities anomaly anomalies morphology physiology
"""
_STOP = frozenset(_STOP_WORDS.split())

# Everyday words for body systems and symptoms that the HPO's own synonyms lack: phrase -> HPO ids.
# (Checked against the ontology when the index is built: an id it does not hold is skipped.)
_BODY: dict[str, tuple[str, ...]] = {
    "eye": ("HP:0000478",), "eyes": ("HP:0000478",), "eyesight": ("HP:0000504",), "vision": ("HP:0000504",),
    "sight": ("HP:0000504",), "ear": ("HP:0000598",), "ears": ("HP:0000598",), "hearing": ("HP:0000365",),
    "heart": ("HP:0001626",), "lungs": ("HP:0002086",), "lung": ("HP:0002086",), "chest": ("HP:0002086",),
    "breathing": ("HP:0002094",), "stomach": ("HP:0025031",), "tummy": ("HP:0025031",), "belly": ("HP:0025031",),
    "bowels": ("HP:0025031",), "bowel": ("HP:0025031",), "gut": ("HP:0025031",), "digestion": ("HP:0025031",),
    "kidneys": ("HP:0000077",), "waterworks": ("HP:0000079",), "urine": ("HP:0000079",),
    "bladder": ("HP:0000014",), "skin": ("HP:0000951",), "blood": ("HP:0001871",), "bones": ("HP:0000924",),
    "muscles": ("HP:0003011",), "joints": ("HP:0001367", "HP:0034430"), "brain": ("HP:0000707",),
    "nerves": ("HP:0000707",), "nervous system": ("HP:0000707",), "development": ("HP:0012758",),
    "milestones": ("HP:0012758",), "growth": ("HP:0001507",), "growing": ("HP:0001507",),
    "teeth": ("HP:0000164",), "hair": ("HP:0001595",), "nails": ("HP:0001597",), "memory": ("HP:0002354",),
    "mood": ("HP:0100851",), "behaviour": ("HP:0000708",), "sleep": ("HP:0002360",),
    "sleeping": ("HP:0002360",), "speech": ("HP:0002167",), "talking": ("HP:0002167",),
    "weight": ("HP:0004323",), "liver": ("HP:0001392",), "face": ("HP:0000271",), "hands": ("HP:0001155",),
    "feet": ("HP:0001760",), "spine": ("HP:0000925",), "back": ("HP:0000925",), "mouth": ("HP:0000153",),
    "nose": ("HP:0000366",), "infections": ("HP:0002719",), "periods": ("HP:0000140",),
    "menstruation": ("HP:0000140",), "coordination": ("HP:0011443",), "balance": ("HP:0011443",),
    "walking": ("HP:0001288",), "thinking": ("HP:0100543",), "learning": ("HP:0100543",),
    "pregnancy": ("HP:0001197",), "birth": ("HP:0001197",),
}
_LAY: dict[str, tuple[str, ...]] = {
    "fits": ("HP:0001250",), "fit": ("HP:0001250",), "convulsions": ("HP:0001250",), "blackouts": ("HP:0001279",),
    "passed out": ("HP:0001279",), "pass out": ("HP:0001279",), "faint": ("HP:0001279",),
    "fainting": ("HP:0001279",), "short of breath": ("HP:0002094",), "breathless": ("HP:0002094",),
    "out of breath": ("HP:0002094",), "dizzy": ("HP:0002321",), "being sick": ("HP:0002013",),
    "sick": ("HP:0002018",), "throw up": ("HP:0002013",), "threw up": ("HP:0002013",),
    "heart racing": ("HP:0001962",), "heart pounding": ("HP:0001962",), "weak": ("HP:0001324",),
    "weakness": ("HP:0001324",), "numb": ("HP:0003474",), "numbness": ("HP:0003474",),
    "sweaty": ("HP:0000975",), "sweating": ("HP:0000975",), "pee a lot": ("HP:0000103",),
    "wee a lot": ("HP:0000103",), "passing a lot of urine": ("HP:0000103",), "thirsty": ("HP:0001959",),
    "bruise easily": ("HP:0000978",), "bruising": ("HP:0000978",), "nosebleeds": ("HP:0000421",),
    "rash": ("HP:0000988",), "itchy": ("HP:0000989",), "yellow": ("HP:0000952",), "confused": ("HP:0001289",),
    "clumsy": ("HP:0002312",), "bendy": ("HP:0001382",), "flexible": ("HP:0001382",),
    "short sighted": ("HP:0000545",), "long sighted": ("HP:0000540",), "lost weight": ("HP:0001824",),
    "losing weight": ("HP:0001824",), "put on weight": ("HP:0004324",), "gained weight": ("HP:0004324",),
    "short": ("HP:0004322",), "small for age": ("HP:0004322",), "tall": ("HP:0000098",), "sad": ("HP:0000716",),
    "low mood": ("HP:0000716",), "anxious": ("HP:0000739",), "worried": ("HP:0000739",),
    "forgetful": ("HP:0002354",), "deaf": ("HP:0000365",), "blind": ("HP:0000618",), "hot": ("HP:0001945",),
    "temperature": ("HP:0001945",), "feverish": ("HP:0001945",), "shivering": ("HP:0025143",),
    "chills": ("HP:0025143",), "coughing": ("HP:0012735",), "wheezy": ("HP:0030828",),
    "swollen ankles": ("HP:0010741",), "swollen legs": ("HP:0010741",), "swelling": ("HP:0000969",),
    "pins and needles": ("HP:0003401",), "stiff joints": ("HP:0001387",), "stiffness": ("HP:0001387",),
    "achy joints": ("HP:0002829",), "sore joints": ("HP:0002829",), "shaking": ("HP:0001337",),
    "shaky": ("HP:0001337",), "trembling": ("HP:0001337",), "floppy": ("HP:0001252",),
    "wobbly": ("HP:0001251",), "unsteady": ("HP:0002141",), "falls": ("HP:0002527",),
    "double vision": ("HP:0000651",), "blurry vision": ("HP:0000622",), "blurred vision": ("HP:0000622",),
    "tired": ("HP:0012378",), "exhausted": ("HP:0012378",), "no energy": ("HP:0012378",),
    "poor appetite": ("HP:0004396",), "not hungry": ("HP:0004396",), "loose stools": ("HP:0002014",),
    "blood in urine": ("HP:0000790",), "blood in stool": ("HP:0002573",),
    "coughing up blood": ("HP:0002105",), "chest tightness": ("HP:0031352",), "heartburn": ("HP:0002020",),
    "lumps": ("HP:0002664",), "hard to swallow": ("HP:0002015",), "choking": ("HP:0002015",),
    "seeing at night": ("HP:0000662",), "glasses": ("HP:0000539",),
    "broken bones": ("HP:0002659",), "break bones": ("HP:0002659",), "late to walk": ("HP:0031936",),
    "walk late": ("HP:0031936",), "late walking": ("HP:0031936",), "tummy pain": ("HP:0002027",),
    "tummy ache": ("HP:0002027",), "stomach ache": ("HP:0002027",), "belly ache": ("HP:0002027",),
    "stop breathing at night": ("HP:0010535",), "stop breathing": ("HP:0002104",), "thin": ("HP:0001533",),
    "skinny": ("HP:0001533",), "hyperactive": ("HP:0000752",), "born early": ("HP:0001622",),
    "premature": ("HP:0001622",), "climb stairs": ("HP:0003551",), "drinking a lot": ("HP:0001959",),
    "very thirsty": ("HP:0001959",),
}
# Topics of social questions, each a pattern over the lower-cased question.
_SOCIAL = (
    ("age", r"\bhow old\b|\byour age\b|\bage are you\b|\bdate of birth\b|\bwhen were you born\b"),
    ("name", r"\byour name\b|\bwho are you\b"),
    ("smoking", r"\bsmok|\bcigar|\bvap(e|ing)\b|\btobacco\b"),
    ("alcohol", r"\balcohol|\bbeer\b|\bwine\b|\bspirits\b|\bdrink (alcohol|much)|\bdo you drink\s*\??$"),
    ("drugs", r"\brecreational\b|\bstreet drugs\b|\billicit\b|\bcannabis\b"),
    ("history", (r"\bmedical history\b|\bpast history\b|\bhealth (problems|conditions|issues)\b|\bmedical "
                r"(problems|conditions|issues)\b|\b(other|past|previous) (illness|condition|diagnos)\w*|"
                r"\bbeen (in|to) hospital\b|\b(any|had) (operations?|surgery)\b|\bever been diagnosed\b")),
    ("work", r"\bwork\b|\bjob\b|\boccupation\b|\bschool\b|\bnursery\b|\bstudy\b|\bemployed\b"),
    ("home", r"\blive with\b|\bwho do you live\b|\bliving situation\b|\bat home\b|\bmarried\b|\bpartner\b"),
    ("travel", r"\btravel|\babroad\b|\bbeen away\b"),
)
_INTENT_PATTERNS = (
    ("chief_complaint", re.compile(
        r"what (brings|brought) you|what can i do for you|how can i help|what(?: seems to be| is|'s| was) (the )?"
        r"(problem|matter|trouble|wrong|issue)|what'?s wrong|why (are|have) you (here|come)|reason for (your|the) "
        r"visit|what happened|what'?s (been )?going on|what is going on|main (problem|concern|complaint|worry)|"
        r"what (are you|is) (worried|concerned)|what'?s (bothering|troubling)|tell me (about )?(what|why)|"
        r"chief complaint|presenting complaint|how can we help|what'?s (been )?happening|what made you (come|decide)|"
        r"why did you come|what'?s up\b|how are you feeling|how have you been feeling")),
    ("onset", re.compile(
        r"when did|how long (have|has|ago|did|since)|since when|when (was|were|is) .*(first|start|begin)|"
        r"first (notice|start|began|appear)|when .*(start|begin|began)|how old were you when|at what age|"
        r"how long .*(had|been)|(got|getting|gotten|become|becoming) (worse|better)|changed over time|"
        r"come and go|comes and goes")),
    ("family", re.compile(
        r"\bfamily\b|\brelatives?\b|\bparents?\b|\bmother\b|\bmum\b|\bmom\b|\bfather\b|\bdad\b|\bbrothers?\b|"
        r"\bsisters?\b|\bsiblings?\b|\bcousins?\b|\buncles?\b|\baunts?\b|\bgrand(mother|father|parents?)\b|"
        r"\bruns? in\b|\binherit|\bblood relatives\b|\bconsanguin")),
    ("medications", re.compile(
        r"\bmedic(ation|ine)s?\b|\bmeds\b|\btablets?\b|\bpills?\b|\bprescri|\bdrugs? (do|are) you\b|"
        r"\bany drugs\b|\btaking anything\b|\btake anything\b|\binhalers?\b|\binjections?\b|\ballerg|"
        r"\bsupplements?\b|\bvitamins?\b|\bover the counter\b")),
    ("greeting", re.compile(
        r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening|day)|nice to meet|pleased to meet|my name is|"
        r"i am (dr|doctor)|i'?m (dr|doctor)|how are you( doing)?\s*\??\s*$|thank you|thanks|goodbye|bye)\b")),
)
_SOCIAL_RES = tuple((k, re.compile(p)) for k, p in _SOCIAL)
_HISTORY_RE = dict(_SOCIAL_RES)["history"]
# A question about the course ("Has it got worse?"): intent onset, topic 'course'.
_COURSE = re.compile(r"(got|getting|gotten|become|becoming) (worse|better)|changed over time|worse or better|"
                     r"better or worse|come and go|comes and goes")
# Whether the parents are related: intent family, topic 'consanguinity'.
_RELATED = re.compile(r"\b(related|consanguin\w*|cousins?)\b")
# An open question for more ("Anything else?"): the patient mentions something not yet told.
_MORE = re.compile(r"^\s*(is there |have you (got|had) |do you have |are there )?(any(thing|one)? (else|other)|"
                   r"other (problems?|symptoms?|concerns?|things?))\b|^\s*(what )?else\b|^\s*and\s*\??\s*$")
_WORD = re.compile(r"[a-z0-9]+")
_RAW_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_ACRONYM = re.compile(r"^[A-Z0-9-]*[A-Z][A-Z0-9-]*$")
_SPELLING = ((re.compile(r"ae"), "e"), (re.compile(r"oe(?=[a-z])"), "e"), (re.compile(r"(?<=[a-z]{3})our$"), "or"),
             (re.compile(r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations)$"), r"iz\1"), (re.compile(r"(?<=[a-z]{2}[tb])re$"),
                                                                              "er"), (re.compile(r"^grey$"), "gray"))
_WEIGHTS = {"name": 1.0, "body": 0.99, "lay": 0.97, "curated": 0.96, "synonym": 0.93}


def _stem(word: str) -> str:
    for pat, rep in _SPELLING:
        word = pat.sub(rep, word)
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 5 and word.endswith("ed"):
        word = word[:-2]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


_STEM_CACHE: dict[str, str] = {}


def normalise(text: str) -> list[str]:
    """The content words of ``text``, normalised as the index is (filler removed, spelling folded, stemmed).

    Example:
        >>> normalise("Do you have any problems with your eyes?")
        ['eye']
        >>> normalise("Haemorrhages") == normalise("hemorrhage")
        True
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("'s ", " ").replace("’", "'")
    out = []
    for w in _WORD.findall(text.replace("'", "")):
        if w in _STOP:
            continue
        s = _STEM_CACHE.get(w)
        if s is None:
            s = _STEM_CACHE.setdefault(w, _stem(w))
        if s not in _STOP:
            out.append(s)
    return out


@dataclass(frozen=True)
class PhraseIndex:
    """Normalised phrases -> HPO terms (built once per Knowledge by :func:`phrase_index`).

    ``phrases`` maps the sorted, space-joined content words of a phrase to its terms, best first,
    each with the weight of the phrase kind (label 1.0, body word 0.99, layperson 0.97, curated lay
    phrase 0.96, synonym 0.93); ``acronyms`` maps capitalised acronyms the same way; ``longest`` is
    the most words any phrase has.
    """

    phrases: dict[str, tuple[tuple[str, float], ...]]
    acronyms: dict[str, tuple[tuple[str, float], ...]]
    longest: int


_INDEXES: dict[int, tuple[weakref.ref, PhraseIndex]] = {}
_LOCK = threading.Lock()


def phrase_index(kb: Knowledge) -> PhraseIndex:
    """The phrase index of ``kb``, built on first use and cached for the life of ``kb``.

    Only terms under Phenotypic abnormality are indexed (not onset, course or inheritance terms).
    """
    hit = _INDEXES.get(id(kb))
    if hit is not None and hit[0]() is kb:
        return hit[1]
    with _LOCK:
        hit = _INDEXES.get(id(kb))
        if hit is not None and hit[0]() is kb:
            return hit[1]
        index, key = _build(kb), id(kb)

        def forget(_ref: weakref.ref) -> None:
            _INDEXES.pop(key, None)

        _INDEXES[key] = (weakref.ref(kb, forget), index)
        return index


def _build(kb: Knowledge) -> PhraseIndex:
    best: dict[str, dict[str, float]] = {}
    acr: dict[str, dict[str, float]] = {}
    depth: dict[str, int] = {}

    def add(phrase: str, hpo: str, weight: float) -> None:
        if _ACRONYM.match(phrase) and len(phrase) <= 6:
            slot = acr.setdefault(phrase, {})
        else:
            words = normalise(phrase)
            if not words:
                return
            slot = best.setdefault(" ".join(sorted(words)), {})
        if slot.get(hpo, 0.0) < weight:
            slot[hpo] = weight

    for t in kb.terms.values():
        if not kb.is_phenotype(t.id):
            continue
        depth[t.id] = len(kb.ancestors(t.id))
        add(t.name, t.id, _WEIGHTS["name"])
        for s in t.lay:
            add(s, t.id, _WEIGHTS["lay"])
        for s in t.synonyms:
            add(s, t.id, _WEIGHTS["synonym"])
    for table, kind in ((_BODY, "body"), (_LAY, "curated")):
        for phrase, ids in table.items():
            for hpo in ids:
                if hpo in kb.terms:
                    depth.setdefault(hpo, len(kb.ancestors(hpo)))
                    key = " ".join(sorted(normalise(phrase)))
                    # a body word decides its meaning (the ontology's 'Abnormal heart morphology' would leave out
                    # arrhythmias); a lay phrase replaces only weaker ontology phrases
                    if key in best and hpo not in best[key] and (
                            kind == "body" or max(best[key].values()) < _WEIGHTS[kind]):
                        best[key] = {}
                    add(phrase, hpo, _WEIGHTS[kind])

    def ranked(slot: dict[str, float]) -> tuple[tuple[str, float], ...]:
        return tuple(sorted(slot.items(), key=lambda kv: (-kv[1], depth.get(kv[0], 0), kv[0])))

    phrases = {k: ranked(v) for k, v in best.items()}
    return PhraseIndex(phrases, {k: ranked(v) for k, v in acr.items()},
                       max(len(k.split()) for k in phrases))


@dataclass(frozen=True)
class Match:
    """What a question asks.

    Attributes:
        text: the question as typed.
        intent: one of :data:`INTENTS`.
        terms: every HPO term the question names, ``(id, score)``, best first (score in (0, 1]).
        groups: the terms per phrase of the question: ``(words as typed, ((id, score), ...))``, in
            the order they appear; a question like "headaches or fits?" has two groups.
        topic: for social questions, what about (``age``, ``smoking``, ``alcohol``, ``work``, ...); ``'more'``
            for an open "Anything else?" (intent ``chief_complaint``); ``'course'`` for "Has it got worse?"
            (intent ``onset``); ``'consanguinity'`` for "Are your parents related?" (intent ``family``).

    Example:
        >>> from hygeia.tutor._hpo import load_knowledge
        >>> m = match_question("Any headaches or fits?", load_knowledge())
        >>> m.intent, [(words, hits[0][0]) for words, hits in m.groups]
        ('finding', [('headaches', 'HP:0002315'), ('fits', 'HP:0001250')])
        >>> match_question("Do you smoke?", load_knowledge()).topic
        'smoking'
    """

    text: str
    intent: str
    terms: list[tuple[str, float]] = field(default_factory=list)
    groups: list[tuple[str, tuple[tuple[str, float], ...]]] = field(default_factory=list)
    topic: str = ""

    @property
    def matched(self) -> bool:
        """False where the question names no finding and no interview topic."""
        return self.intent != "unknown"


def _scan(text: str, index: PhraseIndex) -> list[tuple[str, tuple[tuple[str, float], ...]]]:
    """Longest-first, left-to-right phrase lookup over the question's content words."""
    raw = _RAW_WORD.findall(text)
    groups: list[tuple[str, tuple[tuple[str, float], ...]]] = []
    # tokens: (stem, the word as typed) for content words; acronyms kept where typed in capitals
    tokens: list[tuple[str, str]] = []
    for w in raw:
        if len(w) >= 2 and _ACRONYM.match(w) and w in index.acronyms:
            tokens.append(("\0" + w, w))
            continue
        for s in normalise(w):
            tokens.append((s, w))
    i, n = 0, len(tokens)
    while i < n:
        if tokens[i][0].startswith("\0"):
            w = tokens[i][1]
            groups.append((w, index.acronyms[w]))
            i += 1
            continue
        for length in range(min(index.longest, n - i), 0, -1):
            window = tokens[i:i + length]
            if any(s.startswith("\0") for s, _ in window):
                continue
            hit = index.phrases.get(" ".join(sorted(s for s, _ in window)))
            if hit:
                groups.append((" ".join(dict.fromkeys(w for _, w in window)), hit))
                i += length
                break
        else:
            i += 1
    return groups


def match_question(text: str, kb: Knowledge) -> Match:
    """What the free-text question ``text`` asks: its intent and the HPO terms it names.

    Args:
        text: the student's question.
        kb: the HPO knowledge base (its phrase index is built on first use, about a second).

    Returns:
        A :class:`Match`. ``intent`` is ``'finding'`` when the question names HPO terms and no
        other interview topic; ``'onset'`` and ``'family'`` keep the terms they name ("When did the
        fits start?"); ``'unknown'`` where nothing matched.

    Example:
        >>> from hygeia.tutor._hpo import load_knowledge
        >>> m = match_question("Have you had any pain in your chest?", load_knowledge())
        >>> m.intent, m.terms[0][0]                                         # Chest pain
        ('finding', 'HP:0100749')
    """
    low = unicodedata.normalize("NFKC", text).lower().replace("’", "'").strip()
    groups = _scan(text, phrase_index(kb))
    terms: dict[str, float] = {}
    for _words, hits in groups:
        for hpo, score in hits:
            terms[hpo] = max(terms.get(hpo, 0.0), score)
    ranked = sorted(terms.items(), key=lambda kv: -kv[1])
    for intent, pattern in _INTENT_PATTERNS:
        if pattern.search(low):
            if intent == "greeting" and groups:
                continue
            if intent in ("medications",) or not groups or intent in ("onset", "family"):
                topic = "course" if intent == "onset" and _COURSE.search(low) else \
                    "consanguinity" if intent == "family" and _RELATED.search(low) else ""
                return Match(text, intent, ranked, groups, topic)
            if intent == "chief_complaint":
                return Match(text, intent, ranked, groups)
    if not groups and _HISTORY_RE.search(low):   # "any other medical problems?" is not "anything else?"
        return Match(text, "social", ranked, groups, "history")
    if not groups and _MORE.search(low):
        return Match(text, "chief_complaint", topic="more")
    for topic, pattern in _SOCIAL_RES:
        if pattern.search(low) and not (topic in ("work", "history") and groups):
            return Match(text, "social", ranked, groups, topic)
    if groups:
        return Match(text, "finding", ranked, groups)
    return Match(text, "unknown")
