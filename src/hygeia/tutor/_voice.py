"""The patient's voice: how a virtual patient (or a child's parent) words each answer.

:class:`PatientVoice` is the rule-based voice the :class:`~hygeia.tutor._session.Session` speaks
through. The session decides *what* is answered (which findings are confirmed or denied, which
pertinent negatives are revealed); the voice decides the words: an author's ``says`` as written
when it is a sentence, else a layperson synonym (nouns before adjectives) or the term's label in a
first-person template ("Yes, I have flexible joints."); denials in the student's own words where
those name the finding ("No, I haven't had any fits."), "no problems with my heart" for a body
system; social notes turned into the first person ("I've never smoked."). For a patient under 16
a parent answers ("Yes, she has flexible joints."), and where the family history lists the mother,
she is the one speaking. Replies that vary (not understanding a question) are picked by a hash of
the case and the step, so a replayed session gets the same words.

Example:
    >>> from hygeia.tutor._case import Case, CaseFinding, Patient
    >>> from hygeia.tutor._hpo import load_knowledge
    >>> case = Case("demo", {"id": "ORPHA:558", "name": "Marfan syndrome"}, Patient(7, "female", "She's tired."),
    ...             [CaseFinding("HP:0001382", "Joint hypermobility", True, "history")])
    >>> voice = PatientVoice(case, load_knowledge())
    >>> voice.informant, voice.yes(case.findings), voice.no("fits", "HP:0001250", "Any fits?")
    ('parent', 'Yes, she has flexible joints.', "No, she hasn't had any fits.")
"""

from __future__ import annotations

import re
import zlib
from typing import TYPE_CHECKING, Any

from hygeia.tutor._case import Case, CaseFinding
from hygeia.tutor._hpo import Knowledge, Term
from hygeia.tutor._match import _BODY, Match, normalise

if TYPE_CHECKING:
    from hygeia.notes._backends import Backend

__all__ = ["LLMVoice", "PatientVoice", "lower_label", "sentence"]


def _pick(options: tuple[str, ...], *key: object) -> str:
    """One of ``options``, the same for the same key (replies vary, replays do not)."""
    return options[zlib.crc32("|".join(map(str, key)).encode()) % len(options)]


def _lower(text: str) -> str:
    """Lower-case a label, keeping acronyms and eponyms' capitals where a word is all capitals."""
    return " ".join(w if (w.isupper() and len(w) > 1) else w.lower() for w in text.split())


_ABNORMAL = re.compile(r"^abnormal(?:ity)?(?: of)?(?: the)? (.*?)(?: morphology| physiology)?$", re.IGNORECASE)


def _phrase(term: Term, whose: str) -> str:
    """A term in everyday words: a layperson synonym that is not the label (nouns before adjectives), else the label."""
    lay = [s for s in term.lay if s.lower() != term.name.lower() and not _ABNORMAL.match(s)]
    lay.sort(key=lambda s: (s.lower().endswith(("ed", "y")) and " " not in s.strip(), s.lower().endswith("ed")))
    text = _lower(lay[0] if lay else term.name)
    if "," in text and not lay:                       # 'Intellectual disability, mild' -> 'mild intellectual disability'
        head, _, tail = text.rpartition(", ")
        text = f"{tail} {head}" if " " not in tail else text
    m = _ABNORMAL.match(text)
    if m:
        return f"a problem with {whose} {m.group(1)}"
    return text


# Words that make an author's ``says`` a sentence rather than a phrase.
_FIRST_PERSON = frozenset(["i", "i've", "i'm", "i'd", "i'll", "my", "me", "mine", "myself", "he", "she", "his", "her",
                           "we", "our", "it's"])


def _is_sentence(text: str) -> bool:
    """True for words an author wrote as a sentence ("I can't catch my breath"), False for a phrase."""
    words = text.lower().replace("’", "'").split()
    return bool(words) and (words[0].strip(",.!") in ("yes", "yeah", "no") or text.rstrip()[-1] in ".!?"
                            or any(w.strip(",.!?") in _FIRST_PERSON for w in words))


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# Social notes of a case by topic, and third-person verbs turned into the patient's first person.
_SOCIAL_CLAUSE = {"smoking": r"smok|cigar|tobacco|vap", "alcohol": r"alcohol|drink|beer|wine",
                  "drugs": r"drug|cannabis", "work": r"work|retired|school|nursery|student|job|unemployed",
                  "home": r"lives|married|partner|family", "travel": r"travel|abroad"}
_FIRST_PERSON_VERBS = ((r"^has never\b", "I've never"), (r"^has\b", "I have"), (r"^does not\b", "I don't"),
                       (r"^is\b", "I'm"), (r"^retired$", "I'm retired"), (r"^lives with family\b", "I live with my family"),
                       (r"^works\b", "I work"), (r"^lives\b", "I live"), (r"^goes\b", "I go"), (r"^smokes\b", "I smoke"),
                       (r"^drinks\b", "I drink"), (r"^([a-z]+)s\b", r"I \1"))
# Clinical-course terms (HP:0031797 subtree) and how a patient tells of them, first match wins.
_COURSE_WORDS = (("HP:0003678", "It's been getting worse, and quite fast."),
                 ("HP:0003677", "It's been slowly getting worse."),
                 ("HP:0003676", "It's been getting worse over time."),
                 ("HP:0025303", "It comes and goes."),
                 ("HP:0031796", "It comes and goes; there are good spells and bad ones."),
                 ("HP:0003680", "It's stayed about the same."))
# Words a student may use that describe the patient ("Are you tall?"): a denial says "I'm not ...".
_ADJECTIVE_WORDS = """tall short tired dizzy weak numb sweaty thirsty itchy yellow confused clumsy bendy flexible
sad anxious worried forgetful deaf blind hot feverish wheezy shaky floppy wobbly unsteady exhausted breathless sick
faint depressed nauseous nauseated breathless overweight underweight thin pale jaundiced"""
_ADJECTIVES = frozenset(_ADJECTIVE_WORDS.split())
_GENERIC = re.compile(r"\b(abnormal|abnormality|anomaly|disease|disorder|problems?)\b", re.IGNORECASE)



_CHILD_AGE = 16.0  # a parent answers for a patient under 16 (as the case generator's chief complaint)
_UNMATCHED = (
    "Sorry, I'm not sure what you mean. Could you ask me another way?",
    "I don't quite follow, doctor. What do you want to know?",
    "Sorry, I don't understand the question.",
    "I'm not sure how to answer that. Could you put it differently?",
)



_SYSTEM_WORDS = frozenset(h for ids in _BODY.values() for h in ids)
_BODY_WORD = {tuple(normalise(w)): w for w in sorted(_BODY, key=len)}


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop (an empty text stays empty).

    Example:
        >>> sentence("my chest hurts")
        'My chest hurts.'
    """
    text = (text or "").strip()
    if text and text[-1] not in ".!?":
        text += "."
    return text[:1].upper() + text[1:]


lower_label = _lower


class PatientVoice:
    """The rule-based voice of ``case``'s patient (see the module docstring).

    Args:
        case: the virtual patient.
        kb: the HPO knowledge base (for layperson synonyms and labels).

    Attributes:
        informant: ``'patient'``, or ``'parent'`` for a patient under 16.
    """

    #: What :meth:`describe` and each event's ``voice`` record.
    kind = "rules"

    def __init__(self, case: Case, kb: Knowledge) -> None:
        self.case = case
        self.kb = kb
        self._child = case.patient.age_years < _CHILD_AGE
        female = case.patient.sex.lower().startswith("f")
        self._they, self._their = ("she", "her") if female else ("he", "his")
        self.informant = "parent" if self._child else "patient"

    def describe(self) -> dict[str, Any]:
        """What a saved session records of the voice."""
        return {"kind": self.kind}

    def reword(self, question: str, answer: str) -> str:
        """The answer as the patient says it: the rule-based voice's words are already final."""
        return answer

    def unmatched(self, *key: object) -> str:
        """What a person says to a question they do not understand (one of a few, picked by ``key``)."""
        return _pick(_UNMATCHED, *key)

    def also(self, f: CaseFinding) -> str:
        """Volunteering one more finding ("Well, I have flexible joints as well.")."""
        said = (f.says or "").strip()
        if said and _is_sentence(said):
            said = re.sub(r"^(yes|yeah)[,.!]?\s*", "", said, flags=re.IGNORECASE).rstrip(".!")
            if not re.match(r"^(I\b|I')", said):
                said = said[:1].lower() + said[1:]
            return f"Well, also: {said}."
        words = _lower(said.split("/")[0].strip()) if said else self.words(f.reported_as or f.hpo)
        return f"Well, {self.has()} {words} as well."

    def nothing_more(self) -> str:
        """The answer to "Anything else?" once everything the patient knows is told."""
        return "No, I think that's everything." if not self._child else "No, I think that's everything about " \
            f"{self._their if self._their == 'her' else 'him'}."

    def course(self, course: tuple[str, ...], state: str, treated: bool | None) -> str:
        """How it has gone: for an acute case from its state and treatment (``treated``: None while the priority
        actions are not all done, True when done in time, False when late), else from the disease's course terms."""
        if self.case.acute:
            if treated:
                return "I think I'm a little better since you started treatment."
            if treated is False:
                return "About the same, I think."
            return "It's getting worse, doctor. Quickly." if state == "critical" else "It's getting worse."
        for hpo, text in _COURSE_WORDS:
            if hpo in course:
                return text
        return "It's been about the same, really."

    def partial(self, hpo: str) -> str:
        """The answer to a question more specific than the finding ``hpo`` the patient has."""
        return f"Well, {self.has()} {self.words(hpo)}, but I couldn't tell you more than that."

    def whose(self) -> str:
        return self._their if self._child else "my"

    def has(self) -> str:
        return f"{self._they} has" if self._child else "I have"

    def hasnt(self) -> str:
        return f"{self._they} hasn't had" if self._child else "I haven't had"

    def words(self, hpo: str) -> str:
        t = self.kb.terms.get(self.kb.alt_ids.get(hpo, hpo))
        if t is None:
            f = self.case.finding(hpo)
            return _lower(f.name if f else hpo)
        return _phrase(t, self.whose())

    def yes(self, fs: list[CaseFinding]) -> str:
        """"Yes" with each finding in the patient's words: an author's sentence as written, a phrase in a template."""
        sentences: list[str] = []
        phrases: list[str] = []
        for f in fs:
            said = (f.says or "").strip()
            if said and _is_sentence(said):
                sentences.append(re.sub(r"^(yes|yeah)[,.!]?\s*", "", said, flags=re.IGNORECASE).rstrip(".!"))
            elif said:
                phrases.append(_lower(said.split("/")[0].strip()))
            else:
                phrases.append(self.words(f.reported_as or f.hpo))
        phrases = list(dict.fromkeys(phrases))
        segments = list(dict.fromkeys(([f"{self.has()} " + _listed(phrases)] if phrases else []) + sentences))
        first = segments[0]
        if not re.match(r"^(I\b|I'|[A-Z]{2})", first):
            first = first[:1].lower() + first[1:]
        return " ".join([f"Yes, {first}."] + [f"{x[:1].upper()}{x[1:]}." for x in segments[1:]])

    def no(self, typed: str, hpo: str, question: str) -> str:
        """A denial in the student's own words where they name the finding ("No, I haven't had any fits."),
        else in the term's words."""
        typed = typed.strip().lower()
        whose = self.whose()
        if typed in _ADJECTIVES:
            return f"No, {self._they} isn't {typed}." if self._child else f"No, I'm not {typed}."
        t = self.kb.terms.get(hpo)
        label = _lower(t.name) if t is not None else self.words(hpo)
        if hpo in _SYSTEM_WORDS or _GENERIC.search(label):
            body = _BODY_WORD.get(tuple(normalise(typed)), typed)
            return f"No, no problems with {whose} {body}." if body else "No, nothing like that."
        if not typed:
            return f"No, {self.hasnt()} {label}."
        m = re.search(r"\b(a|an|any)\s+(?:\w+\s+){0,2}?" + re.escape(typed.split()[0]), question.lower())
        if " " not in typed and typed.endswith("ing") and not m:
            return f"No, {self._they} hasn't been {typed}." if self._child else f"No, I haven't been {typed}."
        names = [t.name, *t.synonyms, *t.lay] if t is not None else []
        if (" " not in typed and typed.endswith("s")) or any(typed in (n.lower(), n.lower() + "s") for n in names):
            return f"No, {self.hasnt()} {m.group(1) + ' ' if m else ''}{typed}."
        return f"No, {self.hasnt()} {label}."                    # the words typed were not the finding's name


    def unsure(self, how: str) -> str:
        """What a patient says of a finding only an examination (``how='exam'``) or a test would show: they cannot
        tell, whether or not they have it (so the answer gives nothing away)."""
        we = "We're" if self._child else "I'm"
        if how == "exam":
            return f"{we} not sure, to be honest. You'd have to take a look."
        return f"{we} not sure; nobody has checked that as far as {'we' if self._child else 'I'} know."

    def merge(self, texts: list[str]) -> str:
        """Runs of denials of the same form in one sentence: "No, I haven't had chest pain or palpitations."."""
        out: list[str] = []
        for text in texts:
            head = next((p for p in (f"No, {self.hasnt()} ", "No, no problems with ") if text.startswith(p)), None)
            if head and out and out[-1].startswith(head) and not out[-1].endswith("!"):
                out[-1] = out[-1][:-1].replace(" or ", ", ") + " or " + text[len(head):]
            else:
                out.append(text)
        return " ".join(out)


    def sentence(self, text: str) -> str:
        """See :func:`sentence`."""
        return sentence(text)

    def greeting(self, text: str) -> str:
        low = text.lower()
        if re.search(r"\b(thank|bye|goodbye)\b", low):
            return "Thank you, doctor."
        if re.search(r"how are you", low):
            return ("Worried about " + ("my " + ("daughter" if self._they == "she" else "son")) + ", to be honest."
                    if self._child else "Not great, to be honest, doctor.")
        name = self.case.patient.name
        if self._child:
            who = "daughter" if self._they == "she" else "son"
            return f"Hello, doctor. This is my {who}" + (f", {name}." if name else ".")
        return "Hello, doctor." + (f" I'm {name}." if name else "")

    def _age_text(self, years: float) -> str:
        if years <= 0:
            return "since birth"
        if years < 1:
            months = max(1, round(years * 12))
            return f"when {self._they if self._child else 'I'} was a baby, at about {months} month{'s' * (months > 1)}"
        return f"when {self._they if self._child else 'I'} was about {round(years)}"

    def onset(self, m: Match) -> str:
        asked = {h for _w, hits in m.groups for h, s in hits if s >= hits[0][1] - 1e-9}
        onset = self.case.patient.onset_years
        what = "It"
        if asked:
            fs = [f for f in self.case.findings if f.present and f.channel == "history"
                  and self.kb.ancestors(f.hpo) & asked]
            if not fs:
                return f"{'She' if self._they == 'she' else 'He'} hasn't had that." if self._child else \
                    "I haven't had that."
            if fs[0].onset_years is not None:
                onset = fs[0].onset_years
            what = "That"
        if onset is None:
            return f"{what} started quite recently." if self.case.acute else f"I'm not sure exactly; {what.lower()} " \
                "came on gradually."
        ago = self.case.patient.age_years - onset
        if onset <= 0:
            return f"{what}'s been there since birth."
        when = self._age_text(onset)
        if ago >= 1:
            return f"{what} started {when}, about {round(ago)} year{'s' * (round(ago) != 1)} ago."
        if ago * 12 >= 1:
            months = round(ago * 12)
            return f"{what} started about {months} month{'s' * (months != 1)} ago."
        hours = ago * 365.25 * 24
        if hours < 1.5:
            return f"{what} started within the last hour or so."
        if hours < 36:
            return f"{what} started about {round(hours)} hours ago."
        days = round(hours / 24)
        return f"{what} started about {days} days ago." if days < 14 else f"{what} started a few weeks ago."

    def family(self) -> str:
        """The family history in the informant's words (``family_text`` where the case lists no relatives).

        A child's history is given by the mother where she is listed (so "mother" becomes "I").
        """
        members = self.case.family
        if not members:
            text = (self.case.family_text or "").strip()
            if text and not re.search(r"\b(no|not|none|nobody|unknown)\b", text, re.IGNORECASE):
                return self.sentence(text)
            return "Not that I know of. Nobody in the family has had anything like this."
        parts: list[str] = []
        for m in members:
            rel = m.relation.strip()
            me = self._child and rel == "mother"
            who = "I" if me else f"{self._their.capitalize() if self._child else 'My'} {rel}"
            note = (m.note or "").strip().rstrip(".").strip("()")
            if m.affected:
                what = note or "has had something similar"
                if me:
                    what = re.sub(r"\bher\b", "my", re.sub(r"^has\b", "have", what))
                parts.append(f"{who} {what}.")
                continue
            note = re.sub(r"^healthy\b[;,]?\s*", "", note)
            note = ";".join(c for c in note.split(";") if "cousin" not in c).strip(" ;()")
            if "carrier" in note:
                parts.append("I'm well myself, but I'm a carrier." if me else f"{who} is well, but is a carrier.")
            else:
                parts.append(("I'm well myself" if me else f"{who} is well") + (f" ({note})" if note else "") + ".")
        if self._consanguineous():
            parts.append(self.consanguinity())
        return " ".join(dict.fromkeys(parts))

    def _consanguineous(self) -> bool:
        text = " ".join([self.case.family_text or ""] + [m.note or "" for m in self.case.family]).lower()
        return "cousin" in text or "consanguin" in text

    def consanguinity(self) -> str:
        """Whether the patient's parents are related."""
        if self._consanguineous():
            return f"Yes, {self._their} father and I are first cousins." if self._child else \
                "Yes, my parents are first cousins."
        return f"No, {self._their} father and I aren't related." if self._child else "No, my parents aren't related."

    def medications(self, text: str) -> str:
        meds = self.case.patient.medications
        lead = "She takes" if self._child and self._they == "she" else "He takes" if self._child else "I take"
        base = (f"{lead} " + (meds[0] if len(meds) == 1 else ", ".join(meds[:-1]) + " and " + meds[-1]) + "."
                if meds else ("No regular medicines." if self._child else "I'm not on any regular medicines."))
        if "allerg" in text.lower():
            base += " No allergies that I know of."
        return base

    def social(self, topic: str) -> str:
        p = self.case.patient
        if topic == "age":
            age = p.age_years
            if age < 1:
                months = max(1, round(age * 12))
                return f"{'She' if self._they == 'she' else 'He'}'s {months} month{'s' * (months != 1)} old."
            return (f"{'She' if self._they == 'she' else 'He'}'s {int(age)}." if self._child else f"I'm {int(age)}.")
        if topic == "history":
            if p.history:
                told = [lower_label(h) for h in p.history]
                listed = told[0] if len(told) == 1 else ", ".join(told[:-1]) + " and " + told[-1]
                return (f"{self._they.capitalize()} has been diagnosed with {listed}." if self._child
                        else f"I've been diagnosed with {listed}.")
            return ("Nothing else; she's always been well apart from this." if self._child and self._they == "she"
                    else "Nothing else; he's always been well apart from this." if self._child
                    else "Nothing else; I've always been well apart from this.")
        if topic == "name":
            return (f"{'Her' if self._they == 'she' else 'His'} name is {p.name}." if self._child else
                    f"I'm {p.name}.") if p.name else "I'd rather we just got on, doctor."
        defaults = {"smoking": "No, I don't smoke.", "alcohol": "Just the odd drink, nothing much.",
                    "drugs": "No, never.", "work": "Nothing unusual there.", "home": "Things are fine at home.",
                    "travel": "No, I haven't been anywhere recently."}
        if self._child:
            defaults = {"smoking": "Nobody smokes at home.", "alcohol": "No, of course not.",
                        "drugs": "No.", "work": "Nothing unusual there.", "home": "We're all fine at home.",
                        "travel": "No, we haven't been anywhere recently."}
        clauses = [c.strip().rstrip(".") for c in re.split(r"[;.]", p.social or "") if c.strip()]
        hits = [c for c in clauses if _SOCIAL_CLAUSE.get(topic) and re.search(_SOCIAL_CLAUSE[topic], c, re.IGNORECASE)]
        if hits:
            return " ".join(self.sentence(self._person(c)) for c in hits)
        if topic not in defaults and clauses:
            return " ".join(self.sentence(self._person(c)) for c in clauses)
        return defaults.get(topic, "Nothing out of the ordinary.")

    def _person(self, clause: str) -> str:
        """A case's third-person note ("has never smoked") in the informant's words ("I've never smoked")."""
        c = clause.strip()
        if self._child:
            third = re.match(r"^[a-z]+s\b|^(has|is|does)\b", c, re.IGNORECASE)
            return f"{self._they} {c[:1].lower()}{c[1:]}" if third else c
        for pat, rep in _FIRST_PERSON_VERBS:
            new = re.sub(pat, rep, c, count=1, flags=re.IGNORECASE)
            if new != c:
                return new
        return c


_REWORD_SYSTEM = ("You are role-playing {who} in a medical interview. Reword the answer you are given as "
                  "natural, plain spoken English in the first person, in one or two short sentences. Keep its "
                  "meaning exactly: do not add, drop or change any symptom, body part, time, person, medicine or "
                  "number, and do not turn a yes into a no or a no into a yes. Give only the reworded answer.")


class LLMVoice(PatientVoice):
    """The patient's answers reworded by a language model (optional; the rule-based voice is the default).

    The session still decides what is answered and what it reveals; the model is given the question and
    the rule-based answer only (never the case) and asked to reword it. A reworded answer that is empty,
    more than three times as long, or that turns a yes into a no (or the reverse) is refused and the
    rule-based words are used. Use a greedy backend (temperature 0) for answers that repeat.

    Args:
        case: the virtual patient.
        kb: the HPO knowledge base.
        backend: a :class:`hygeia.notes.Backend` (an OpenAI-compatible server or a local model).
        max_tokens: the most tokens of one answer.

    Example:
        >>> from hygeia.notes._backends import Backend
        >>> from hygeia.tutor._case import Case, Patient
        >>> from hygeia.tutor._hpo import load_knowledge
        >>> class Shy(Backend):                   # a stand-in model
        ...     def _generate(self, prompt, **kw):
        ...         return "No... no, I don't think I've had any fits."
        >>> case = Case("c", {"id": "ORPHA:558", "name": "Marfan syndrome"}, Patient(30, "male", "I'm tired."), [])
        >>> v = LLMVoice(case, load_knowledge(), Shy())
        >>> v.reword("Any fits?", "No, I haven't had any fits."), v.reword("Any fits?", "Yes, I have fits.")
        ("No... no, I don't think I've had any fits.", 'Yes, I have fits.')
    """

    kind = "llm"

    def __init__(self, case: Case, kb: Knowledge, backend: Backend, *, max_tokens: int = 80) -> None:
        super().__init__(case, kb)
        self.backend = backend
        self.max_tokens = max_tokens

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.backend.describe()}

    def reword(self, question: str, answer: str) -> str:
        """The model's wording of ``answer`` to ``question``, or ``answer`` itself where the model's is refused.

        Raises:
            BackendError: the backend could not answer.
        """
        from hygeia.notes._prompts import Prompt

        who = (f"the parent of a {round(self.case.patient.age_years)}-year-old patient, answering for "
               f"{self._their if self._their == 'her' else 'him'}") if self._child else "a patient"
        user = f"The doctor asked: {question}\nThe answer to give: {answer}\nReworded answer:"
        prompt = Prompt("patient", _REWORD_SYSTEM.format(who=who), user,
                        _REWORD_SYSTEM.format(who=who) + "\n\n" + user + " ", stop=("\n",))
        text = self.backend.generate(prompt, max_tokens=self.max_tokens, temperature=0.0).strip().strip('"')
        return text if _faithful(answer, text) else answer


def _polarity(text: str) -> str:
    first = text.lower().lstrip(" .,!").split(" ", 1)[0].strip(",.!")
    return "yes" if first in ("yes", "yeah", "well") else "no" if first in ("no", "nope", "not") else ""


def _faithful(answer: str, text: str) -> bool:
    """A reworded answer keeps the answer's yes or no, says something, and is not much longer."""
    if not text or len(text) > 3 * len(answer) + 40:
        return False
    want, got = _polarity(answer), _polarity(text)
    return not (want and got and want != got) and not (want == "no" and " yes" in f" {text.lower()}")
