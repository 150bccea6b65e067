"""Prompts for a language model, built from extracted facts only.

A prompt never carries the source note itself: only the facts extraction found (their
normalized concept, context, dose, value and date), so names, record numbers, addresses
and other identifiers of the note cannot reach the model. Each prompt asks for one kind
of text (:data:`PROMPT_KINDS`) and tells the model to state nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hygeia.errors import ConfigError
from hygeia.notes._facts import Extraction, Fact

__all__ = ["PROMPT_KINDS", "Prompt", "build_prompt", "fact_line"]

#: What a prompt asks for.
PROMPT_KINDS = ("discharge", "instructions", "insurance")

_TASK = {
    "discharge": "Write a short hospital discharge summary for a clinician",
    "instructions": "Write short discharge instructions for the patient in plain language (grade 8 or below)",
    "insurance": "Write a short prior-authorization letter to an insurer, giving the diagnoses with their codes",
}
_HEADING = {"discharge": "Discharge summary", "instructions": "Patient instructions", "insurance": "Letter"}
_SYSTEM = ("You are a careful clinical writer. Use only the facts given. Do not add diagnoses, medications, "
           "doses, dates or findings that are not in the facts. Keep every allergy, medication and follow-up.")
_LABEL = {"problem": "Problem", "medication": "Medication", "allergy": "Allergy", "lab": "Lab", "vital": "Vital sign",
          "procedure": "Procedure", "immunization": "Immunization", "date": "Date", "follow_up": "Follow-up"}


def fact_line(fact: Fact, *, codes: bool = True) -> str:
    """One fact as a prompt line, from its normalized fields (never its surrounding text).

    Example:
        >>> fact_line(Fact("medication", "x", 0, 1, "lisinopril", dose="10 mg", frequency="daily"))
        'Medication: lisinopril 10 mg daily'
        >>> fact_line(Fact("problem", "x", 0, 1, "chest pain", negated=True))
        'Problem: chest pain (absent)'
        >>> fact_line(Fact("lab", "x", 0, 1, "hemoglobin", value=11.7, unit="g/dL", codes=(("LOINC", "718-7"),)))
        'Lab: hemoglobin 11.7 g/dL [LOINC 718-7]'

    Args:
        fact: the fact.
        codes: whether to give its first two codes (letters to insurers want them).
    """
    parts = [fact.concept]
    if fact.kind == "date" and fact.date:
        parts = [fact.concept, fact.date] if fact.concept and fact.concept != fact.date else [fact.date]
    for extra in (fact.dose, fact.route, fact.frequency):
        if extra:
            parts.append(extra)
    if fact.value is not None:
        parts.append(f"{fact.value:g}" + (f" {fact.unit}" if fact.unit else ""))
    if fact.date and fact.kind != "date":
        parts.append(f"on {fact.date}")
    line = f"{_LABEL.get(fact.kind, fact.kind.title())}: {' '.join(parts)}"
    context = [w for w, on in (("absent", fact.negated), ("family member", fact.family), ("past", fact.historical),
                               ("possible", fact.hypothetical)) if on]
    if context:
        line += f" ({', '.join(context)})"
    shown = [f"{s} {c}" for s, c in fact.codes[:2]] if codes else []
    if shown:
        line += f" [{'; '.join(shown)}]"
    return line


#: One worked example per kind, for base models prompted by completion (invented facts, no patient's).
_EXAMPLE_FACTS = ("- Date: admission date 2001-02-03\n- Date: discharge date 2001-02-05\n- Problem: cellulitis\n"
                  "- Medication: cephalexin 500 mg oral four times daily\n- Allergy: sulfa drugs\n"
                  "- Follow-up: primary care physician on 2001-02-12")
_EXAMPLE = {
    "discharge": "Admitted 2001-02-03 with cellulitis and discharged 2001-02-05. Discharge medications: cephalexin "
                 "500 mg oral four times daily. Allergies: sulfa drugs. Follow-up: primary care physician on "
                 "2001-02-12.",
    "instructions": "You were in the hospital for a skin infection (cellulitis). Take cephalexin 500 mg by mouth four "
                    "times a day. You are allergic to sulfa drugs. See your primary care doctor on 2001-02-12.",
    "insurance": "We ask you to authorize care for this patient, admitted 2001-02-03 and discharged 2001-02-05 for "
                 "cellulitis [ICD-10-CM L03.90]. The patient takes cephalexin 500 mg oral four times daily, is "
                 "allergic to sulfa drugs and will see the primary care physician on 2001-02-12.",
}


@dataclass(frozen=True)
class Prompt:
    """A prompt: a system message, a user message and the same as one completion text.

    Attributes:
        kind: one of :data:`PROMPT_KINDS`.
        system: the instruction to the model.
        user: the task and the facts.
        completion: the same as plain text for base models, after one worked example (invented
            facts), ending where the model should continue.
        stop: where a base model's text ends (it would go on with another task).
    """

    kind: str
    system: str
    user: str
    completion: str
    stop: tuple[str, ...] = ()

    def messages(self) -> list[dict[str, str]]:
        """The prompt as chat messages (OpenAI format)."""
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


def build_prompt(facts: Extraction | Sequence[Fact], kind: str = "discharge") -> Prompt:
    """A prompt asking for one kind of text from the facts only.

    Args:
        facts: an Extraction (its facts are used, never its text) or Facts.
        kind: ``'discharge'``, ``'instructions'`` or ``'insurance'``.

    Returns:
        A :class:`Prompt`.

    Raises:
        ConfigError: an unknown kind, or no facts.

    Example:
        >>> p = build_prompt([Fact("problem", "Pneumonia", 0, 9, "pneumonia"),
        ...                   Fact("allergy", "penicillin", 20, 30, "penicillin")])
        >>> print(p.user)
        Write a short hospital discharge summary for a clinician from these facts only.
        Facts:
        - Problem: pneumonia
        - Allergy: penicillin
        >>> p.completion.endswith("Discharge summary:\\n")
        True
    """
    if kind not in PROMPT_KINDS:
        raise ConfigError(f"unknown summary kind {kind!r}; choose --kind among {', '.join(PROMPT_KINDS)}")
    items = facts.facts if isinstance(facts, Extraction) else list(facts)
    lines = list(dict.fromkeys(fact_line(f, codes=kind == "insurance") for f in items))
    if not lines:
        raise ConfigError("no facts to write from: the source note states nothing extraction recognizes; "
                          "check the note, or use the deterministic writer")
    task = f"{_TASK[kind]} from these facts only.\nFacts:\n"
    user = task + "\n".join(f"- {line}" for line in lines)
    example = f"{task}{_EXAMPLE_FACTS}\n\n{_HEADING[kind]}:\n{_EXAMPLE[kind]}"
    completion = f"{_SYSTEM}\n\n{example}\n\n{user}\n\n{_HEADING[kind]}:\n"
    return Prompt(kind, _SYSTEM, user, completion, stop=("\n\n", "\nWrite ", "\nFacts:"))
