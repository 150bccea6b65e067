"""How each finding comes to light (``channel``) and how a patient names it (``lay_words``).

The channel rule: the first HPO subtree of :data:`CHANNEL_RULES` that holds a finding gives its
channel. Symptoms the patient feels (abnormal bleeding, recurrent infections, fever, visual or
hearing loss, pain, palpitations, syncope, itch, muscle weakness, fractures, urine output,
weight loss, breathlessness, a pneumothorax) are ``'history'``; signs seen or measured at the bedside (oedema,
organomegaly, murmur, blood pressure and heart/breathing rate, jaundice, reflexes, tone,
ataxia, spinal curvature, skin tumours, breathing pattern, breath sounds, shock) are
``'exam'``; hypoxaemia, internal morphology (brain, heart, great vessels, kidney, liver, lung,
thorax, bone radiology, the vertebral column and hip joint), valve and arterial lesions, arrhythmias
named by their origin, electrophysiology, blood, metabolism/homeostasis, endocrine,
cellular and neoplasm terms are ``'test'``; then by organ system: visible morphology (head
and neck, eye, ear, skin, limbs, growth, breast, musculoskeletal, genitalia) is ``'exam'``;
anything else (nervous system, digestive, respiratory, immune, voice, prenatal,
constitutional...) is ``'history'``. A term named '... sign' (Gowers, Babinski, Chvostek) that
would be told is examined instead. An authored finding may set its own.

Example:
    >>> kb = load_knowledge()
    >>> channel("HP:0001250", kb), channel("HP:0001166", kb), channel("HP:0001903", kb)
    ('history', 'exam', 'test')
"""

from __future__ import annotations

from hygeia.tutor._hpo import Knowledge, load_knowledge  # noqa: F401 (load_knowledge: the doctests)

__all__ = ["CHANNEL_RULES", "LAY_PHRASES", "channel", "lay_words"]

#: A patient's (or parent's) words for frequent terms whose HPO layperson synonyms read as diagnoses.
LAY_PHRASES = {
    "HP:0001249": "learning difficulties",             # Intellectual disability
    "HP:0001263": "being slow to reach milestones",    # Global developmental delay
    "HP:0012758": "being slow to reach milestones",    # Neurodevelopmental delay
    "HP:0000750": "being late to talk",                # Delayed speech and language development
    "HP:0001250": "seizures",                          # Seizure (lay synonym: 'Epilepsy')
    "HP:0001270": "being late to sit and walk",        # Motor delay
    "HP:0000717": "trouble mixing with other children",  # Autism
}

#: Ordered channel rules: the first HPO subtree holding a finding gives its channel (see the module docstring).
CHANNEL_RULES: tuple[tuple[str, str, str], ...] = (
    # symptoms the patient feels, even inside otherwise measured systems
    ("HP:0001892", "history", "Abnormal bleeding"),
    ("HP:0002719", "history", "Recurrent infections"),
    ("HP:0001945", "history", "Fever"),
    ("HP:0000505", "history", "Visual impairment"),
    ("HP:0000364", "history", "Hearing abnormality"),
    ("HP:0012531", "history", "Pain"),
    ("HP:0001962", "history", "Palpitations"),
    ("HP:0001279", "history", "Syncope"),
    ("HP:0000989", "history", "Pruritus"),
    ("HP:0001324", "history", "Muscle weakness"),
    ("HP:0020110", "history", "Bone fracture"),
    ("HP:0002757", "history", "Recurrent fractures"),
    ("HP:0012590", "history", "Abnormal urine output"),
    ("HP:0001824", "history", "Weight loss"),
    ("HP:0002094", "history", "Dyspnea"),
    ("HP:0002107", "history", "Pneumothorax"),                        # an episode the patient remembers
    # signs found at the bedside
    ("HP:0000969", "exam", "Edema"),
    ("HP:0002240", "exam", "Hepatomegaly"),
    ("HP:0001744", "exam", "Splenomegaly"),
    ("HP:0030148", "exam", "Heart murmur"),
    ("HP:0004308", "test", "Ventricular arrhythmia"),                 # the pulse is fast; the ECG says why
    ("HP:0005115", "test", "Supraventricular arrhythmia"),
    ("HP:0000822", "exam", "Hypertension"),
    ("HP:0002615", "exam", "Hypotension"),
    ("HP:0001649", "exam", "Tachycardia"),
    ("HP:0002789", "exam", "Tachypnea"),
    ("HP:0000952", "exam", "Jaundice"),
    ("HP:0031826", "exam", "Abnormal reflex"),
    ("HP:0003808", "exam", "Abnormal muscle tone"),
    ("HP:0001251", "exam", "Ataxia"),
    ("HP:0010674", "exam", "Abnormal curvature of the vertebral column"),
    ("HP:0008069", "exam", "Neoplasm of the skin"),
    ("HP:0002793", "exam", "Abnormal pattern of respiration"),
    ("HP:0030829", "exam", "Abnormal breath sound"),
    ("HP:0031273", "exam", "Shock"),
    ("HP:0012418", "test", "Hypoxemia"),
    ("HP:0030878", "test", "Abnormality on pulmonary function testing"),
    # internal morphology, electrophysiology, laboratory
    ("HP:0012443", "test", "Abnormal brain morphology"),
    ("HP:0001627", "test", "Abnormal heart morphology"),
    ("HP:0030962", "test", "Abnormal morphology of the great vessels"),
    ("HP:0031653", "test", "Abnormal heart valve physiology"),        # a murmur is examined; the lesion is echo's
    ("HP:0011004", "test", "Abnormal systemic arterial morphology"),
    ("HP:0030956", "test", "Abnormality of cardiovascular system electrophysiology"),
    ("HP:0001311", "test", "Abnormal nervous system electrophysiology"),
    ("HP:0003457", "test", "EMG abnormality"),
    ("HP:0000077", "test", "Abnormality of the kidney"),
    ("HP:0410042", "test", "Abnormal liver morphology"),
    ("HP:0002088", "test", "Abnormal lung morphology"),
    ("HP:0033608", "test", "Pulmonary nodule"),
    ("HP:0002204", "test", "Pulmonary embolism"),
    ("HP:0002625", "test", "Deep venous thrombosis"),
    ("HP:0045027", "test", "Abnormality of the thoracic cavity"),
    ("HP:0004348", "test", "Abnormality of bone mineral density"),
    ("HP:0005930", "test", "Abnormal epiphysis morphology"),
    ("HP:0000944", "test", "Abnormal metaphysis morphology"),
    ("HP:0000940", "test", "Abnormal diaphysis morphology"),
    ("HP:0003468", "test", "Abnormal vertebral morphology"),
    ("HP:0000925", "test", "Abnormality of the vertebral column"),    # after the curvature a back shows
    ("HP:0001384", "test", "Abnormal hip joint morphology"),
    ("HP:0002758", "test", "Osteoarthritis"),
    ("HP:0003110", "test", "Abnormality of urine homeostasis"),
    ("HP:0001871", "test", "Abnormality of blood and blood-forming tissues"),
    ("HP:0001939", "test", "Abnormality of metabolism/homeostasis"),
    ("HP:0000818", "test", "Abnormality of the endocrine system"),
    ("HP:0025354", "test", "Abnormal cellular phenotype"),
    ("HP:0002664", "test", "Neoplasm"),
    # by organ system: visible morphology is examined, the rest is told
    ("HP:0000152", "exam", "Abnormality of head or neck"),
    ("HP:0000478", "exam", "Abnormality of the eye"),
    ("HP:0000598", "exam", "Abnormality of the ear"),
    ("HP:0001574", "exam", "Abnormality of the integument"),
    ("HP:0040064", "exam", "Abnormality of limbs"),
    ("HP:0001507", "exam", "Growth abnormality"),
    ("HP:0000769", "exam", "Abnormality of the breast"),
    ("HP:0033127", "exam", "Abnormality of the musculoskeletal system"),
    ("HP:0010461", "exam", "Abnormality of the male genitalia"),
    ("HP:0010460", "exam", "Abnormality of the female genitalia"),
)

_CACHES: dict[int, tuple[Knowledge, dict[str, str]]] = {}


def _cache(kb: Knowledge) -> dict[str, str]:
    hit = _CACHES.get(id(kb))
    if hit is None or hit[0] is not kb:
        hit = _CACHES[id(kb)] = (kb, {})
    return hit[1]


def channel(hpo: str, kb: Knowledge) -> str:
    """How finding ``hpo`` comes to light: ``'history'``, ``'exam'`` or ``'test'`` (see :data:`CHANNEL_RULES`).

    Example:
        >>> kb = load_knowledge()
        >>> channel("HP:0001250", kb), channel("HP:0001166", kb), channel("HP:0001903", kb)
        ('history', 'exam', 'test')
    """
    cache = _cache(kb)
    if hpo not in cache:
        anc = kb.ancestors(hpo) if (hpo in kb.terms or hpo in kb.alt_ids) else frozenset({hpo})
        found = next((ch for root, ch, _ in CHANNEL_RULES if root in anc), "history")
        name = kb.terms[hpo].name.lower() if hpo in kb.terms else ""
        # a named clinical sign (Gowers, Babinski, Chvostek...) is elicited by the examiner
        cache[hpo] = "exam" if found == "history" and name.endswith(" sign") else found
    return cache[hpo]


def _lower(words: str) -> str:
    return words if words[:2].isupper() else words[:1].lower() + words[1:]


def lay_words(hpo: str, kb: Knowledge) -> str:
    """The patient's words for ``hpo``, lower case.

    In order: :data:`LAY_PHRASES` (a few frequent terms whose HPO layperson synonyms read as
    diagnoses), the term's first layperson synonym, the first layperson synonym of an ancestor
    one or two levels up that stays below the organ system (a patient speaks less precisely
    than the term), else the term's label.

    Example:
        >>> kb = load_knowledge()
        >>> lay_words("HP:0002013", kb), lay_words("HP:0001249", kb)
        ('throwing up', 'learning difficulties')
    """
    t = kb.term(hpo)
    if t.id in LAY_PHRASES:
        return LAY_PHRASES[t.id]
    if t.lay:
        return _spoken(t.lay[0])
    system = kb.system(t.id)
    level = [t.id]
    for _ in range(2):
        level = sorted({p for h in level for p in kb.terms[h].parents if p in kb.terms and p != system
                        and system in kb.ancestors(p)})
        for p in level:
            if kb.terms[p].lay:
                return _spoken(kb.terms[p].lay[0])
    return _spoken(t.name)


def _spoken(label: str) -> str:
    """A label as it is said: an index-style inversion reads forwards ("Hearing loss, mixed" -> "mixed hearing loss").

    Example:
        >>> _spoken("Hearing loss, mixed"), _spoken("Seizure")
        ('mixed hearing loss', 'seizure')
    """
    head, sep, tail = label.partition(", ")
    if sep and "," not in tail and len(tail.split()) <= 2:
        label = f"{tail} {head[:1].lower() + head[1:]}"
    return _lower(label)
