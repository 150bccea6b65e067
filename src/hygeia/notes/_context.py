"""ConText: is a concept negated, someone else's, historical or hypothetical?

After Chapman, Chu and Dowling, "ConText: an algorithm for identifying contextual
features from clinical text" (BioNLP 2007) and Harkema et al. (J Biomed Inform 2009):
trigger terms open a scope forward (pre-triggers: ``denies``, ``no``, ``mother``,
``history of``, ``if``) or backward (post-triggers: ``was ruled out``, ``is negative``,
``years ago``); a scope ends at the end of the sentence, at a termination term
(``but``, ``however``, ``;``...) or after a window of tokens; pseudo-triggers (``no
increase``, ``not only``, ``gram negative``) are skipped. Section context adds its own:
everything in FAMILY HISTORY is family, in PAST MEDICAL/SURGICAL HISTORY historical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Context", "SentenceContext"]

_WINDOW = 15  # tokens a pre-trigger's scope reaches at most (NegEx used 5; lists of denied symptoms run longer)
_PRE = {
    "negated": ["no", "not", "denies", "denied", "deny", "denying", "without", "negative for", "no evidence of",
                "no signs of", "no sign of", "no history of", "no known", "free of", "absence of", "absent",
                "never had", "never", "none", "neither", "nor", "no new", "no further", "rules out", "ruled out",
                "ruled out for", "resolution of", "not have", "did not have", "does not have", "no complaints of",
                "unremarkable for", "fails to reveal", "no longer", "negative"],
    "family": ["mother", "father", "mom", "dad", "brother", "brothers", "sister", "sisters", "sibling", "siblings", "son",
               "sons", "daughter", "daughters", "grandmother", "grandfather", "grandparent", "grandparents", "aunt",
               "uncle", "cousin", "parent", "parents", "family history of", "family history", "family hx of", "fhx",
               "fh of", "maternal", "paternal", "twin", "relatives", "relative"],
    "historical": ["history of", "hx of", "h/o", "past history of", "previous", "previously", "prior", "status post",
                   "s/p", "in the past", "remote", "childhood", "past medical history of", "pmh of", "pmh significant for",
                   "known history of", "history significant for", "significant for a history of"],
    "hypothetical": ["if", "return if", "should you", "should he", "should she", "should the patient", "in case of",
                     "call if", "watch for", "monitor for", "in the event of", "r/o", "rule out", "to rule out", "unless",
                     "would", "could develop", "may develop", "risk of", "at risk for", "concern for", "evaluate for",
                     "to assess for", "screening for", "signs of", "symptoms of", "look out for", "as needed for", "prn for", "prn", "p.r.n."],
}
_POST = {
    "negated": ["was ruled out", "were ruled out", "is ruled out", "ruled out", "is negative", "was negative",
                "were negative", "negative", "absent", "not present", "not seen", "not found", "not detected",
                "unlikely", "free", "denied", "none", "not noted", "resolved"],
    "family": [],
    "historical": ["in the past", "years ago", "year ago", "months ago", "as a child", "previously", "in childhood",
                   "history"],
    "hypothetical": ["if needed", "was suspected", "is suspected", "possible"],
}
_PSEUDO = ["no increase", "no change", "no suspicious change", "not only", "not necessarily", "not rule out",
           "not ruled out", "not been ruled out", "not excluded", "gram negative", "without difficulty", "not cause",
           "not drain", "no interval change", "not certain if", "not clear", "history of present illness",
           "social history", "history and physical", "medical history", "family history of present",
           "past history includes", "if any", "no further", "negative for the", "not previously", "non-smoker",
           "nonsmoker", "never smoker", "never smoked"]
_TERMINATE = ["but", "however", "although", "though", "except", "aside from", "apart from", "yet", "which", "who",
              "presents", "presenting", "presented", "complains", "complained", "reports", "reported", "states",
              "started", "start", "was given", "given", "received", "receiving", "prescribed", "continue", "continued",
              "continues", "admitted", "diagnosed", "treated", "found", "noted", "now", "currently", "today", "since",
              "because", "due to", "secondary to", "likely", "as well as", "and was", "and is", "there is", "there was",
              "patient", "pt", "she", "he", "reveals", "revealed", "shows", "showed", "underwent", "status",
              "then", "will", "plan"]
_TERMINATE_PUNCT = frozenset(";:()")
_SECTION_FLAGS = {"family history": "family", "past medical history": "historical", "past surgical history": "historical"}
_FLAGS = ("negated", "family", "historical", "hypothetical")


def _pattern(terms: list[str]) -> re.Pattern[str]:
    alts = sorted({re.escape(t).replace(r"\ ", r"\s+") for t in terms}, key=len, reverse=True)
    return re.compile(r"(?<![\w/])(?:" + "|".join(alts) + r")(?![\w/])", re.I)


_PRE_RE = {flag: _pattern(terms) for flag, terms in _PRE.items()}
_POST_RE = {flag: _pattern(terms) for flag, terms in _POST.items() if terms}
_PSEUDO_RE = _pattern(_PSEUDO)
_TERM_RE = _pattern(_TERMINATE)
_YEAR_RE = re.compile(r"\b(?:in|during|back in)\s+(19\d\d|20\d\d)\b", re.I)
_WORD = re.compile(r"[A-Za-z0-9]+|[;:]")


@dataclass(frozen=True)
class Context:
    """The four ConText flags of one concept."""

    negated: bool = False
    family: bool = False
    historical: bool = False
    hypothetical: bool = False


class SentenceContext:
    """The triggers of one sentence, asked for the context of each concept span in it.

    Example:
        >>> s = "Denies chest pain but reports cough; mother had breast cancer."
        >>> c = SentenceContext(s, 0, len(s))
        >>> c.of(7, 17).negated, c.of(30, 35).negated, c.of(48, 61).family
        (True, False, True)
    """

    def __init__(self, text: str, start: int, end: int, section: str | None = None) -> None:
        self.text, self.start, self.end = text, start, end
        self.section_flag = _SECTION_FLAGS.get(section or "")
        pseudo = [(m.start(), m.end()) for m in _PSEUDO_RE.finditer(text, start, end)]

        def free(m: re.Match[str]) -> bool:
            return not any(a <= m.start() < b or a < m.end() <= b for a, b in pseudo)

        self.pre = {f: [(m.start(), m.end()) for m in r.finditer(text, start, end) if free(m)] for f, r in _PRE_RE.items()}
        self.post = {f: [(m.start(), m.end()) for m in r.finditer(text, start, end) if free(m)] for f, r in _POST_RE.items()}
        self.stops = sorted([m.start() for m in _TERM_RE.finditer(text, start, end) if free(m)]
                            + [i for i in range(start, end) if text[i] in _TERMINATE_PUNCT])
        self.words = [m.start() for m in _WORD.finditer(text, start, end)]
        self.years = [(m.start(), m.end()) for m in _YEAR_RE.finditer(text, start, end)]

    def _blocked(self, a: int, b: int) -> bool:
        """Whether a termination term lies between offsets ``a`` and ``b``."""
        return any(a <= s < b for s in self.stops)

    def _distance(self, a: int, b: int) -> int:
        return sum(1 for w in self.words if a <= w < b)

    def of(self, start: int, end: int, *, skip: tuple[tuple[int, int], ...] = ()) -> Context:
        """The context of the concept at ``text[start:end]``; triggers inside ``skip`` spans are ignored."""
        flags = dict.fromkeys(_FLAGS, False)
        for flag in _FLAGS:
            for a, b in self.pre[flag]:
                if a < start and b <= end and not self._blocked(min(b, start), start) \
                        and self._distance(b, start) <= _WINDOW \
                        and not any(x <= a < y for x, y in skip):
                    flags[flag] = True
            for a, b in self.post.get(flag, ()):
                if a >= end and not self._blocked(end, a) and self._distance(end, a) <= 4 \
                        and not any(x <= a < y for x, y in skip):
                    flags[flag] = True
        if self.section_flag:
            flags[self.section_flag] = True
        for a, b in self.years:  # 'MI in 2015', 'in 2015, MI': a past year, next to the concept
            if (b <= start and not self._blocked(b, start) and self._distance(b, start) <= 3) or \
                    (a >= end and not self._blocked(end, a) and self._distance(end, a) <= 4):
                flags["historical"] = True
        return Context(**flags)
