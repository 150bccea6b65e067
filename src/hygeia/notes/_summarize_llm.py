"""Summaries written by a language model and kept only when the faithfulness guard passes them.

:func:`summarize_with_backend` asks a backend (:mod:`hygeia.notes._backends`) for a summary
from the stay's facts (never the notes' text or the record's identifiers:
:func:`hygeia.notes._prompts.build_prompt`), then :func:`hygeia.notes._guard.guarded`
checks it against those facts: the model's text is used as written when nothing is
flagged (``accepted``), without its flagged sentences when the rest is clean and keeps
the critical facts (``repaired``), and otherwise the deterministic faithful writer's
summary is given instead (``fallback``). What the guard found, the backend and the
model's text as it came are kept in ``Summary.guard``, so the output says how it was made.
"""

from __future__ import annotations

from typing import Any

from hygeia.errors import ConfigError
from hygeia.notes._backends import Backend
from hygeia.notes._compose import Sentence
from hygeia.notes._guard import CRITICAL_BY_KIND, guarded, sentence_spans
from hygeia.notes._prompts import build_prompt
from hygeia.notes._summarize import SUMMARY_KINDS, Stay, Summary, summarize

__all__ = ["summarize_with_backend"]

#: Basis of a sentence a language model wrote: it cites no source of its own; the guard checked it.
GENERATED = "generated"


def summarize_with_backend(stay: Stay, kind: str, backend: Backend, *, max_tokens: int = 600,
                           seed: int | None = None) -> Summary:
    """A summary of ``stay`` written by ``backend`` and passed by the guard, or the faithful writer's.

    Args:
        stay: the stay (:func:`hygeia.notes.stay_from_run`, :func:`hygeia.notes.stay_from_notes`...).
        kind: ``'discharge'``, ``'instructions'`` or ``'insurance'``.
        backend: the language model (:func:`hygeia.notes.backend_for`).
        max_tokens: the most tokens the model may write.
        seed: the backend's sampling seed (decoding is greedy, so it rarely matters).

    Returns:
        A :class:`Summary` whose ``writer`` is ``'llm'`` (accepted or repaired) or ``'faithful'``
        (fallback), and whose ``guard`` holds the action, the backend, the model's text as it
        came and both guard reports (of that text, and of the text given).

    Raises:
        ConfigError: an unknown kind, or a stay with no facts to write from.
        BackendError: the backend could not answer.

    Example:
        >>> from hygeia.notes import StayItem
        >>> class Echo(Backend):  # a stand-in model that restates one fact
        ...     def _generate(self, prompt, **kw):
        ...         return "The patient was treated for community acquired pneumonia."
        >>> stay = Stay("record", reasons=[StayItem("problem", "Community acquired pneumonia", ("k",))])
        >>> s = summarize_with_backend(stay, "discharge", Echo())
        >>> s.writer, s.guard["action"], s.text
        ('llm', 'accepted', 'The patient was treated for community acquired pneumonia.')
    """
    if kind not in SUMMARY_KINDS:
        raise ConfigError(f"unknown summary kind {kind!r}; choose --kind among {', '.join(SUMMARY_KINDS)}")
    facts = stay.source_facts()
    prompt = build_prompt(facts, kind)
    fallback: list[Summary] = []

    def faithful(_facts: Any) -> str:
        fallback.append(summarize(stay, kind))
        return fallback[-1].text

    result = guarded(lambda _f: backend.generate(prompt, max_tokens=max_tokens, seed=seed), facts,
                     fallback=faithful, critical=CRITICAL_BY_KIND[kind])
    guard = {"action": result.action, "backend": backend.describe(), "prompt_kind": prompt.kind,
             "critical": list(CRITICAL_BY_KIND[kind]), "generated": result.generated,
             "report": result.report.to_dict(), "final": result.final.to_dict() if result.final else None}
    if result.action == "fallback":
        summary = fallback[-1]
        summary.guard = guard
        return summary
    text = result.text or ""
    sentences = [Sentence("", text[a:b].strip(), (), GENERATED) for a, b in sentence_spans(text) if text[a:b].strip()]
    return Summary(kind, "", sentences, stay.subject_id, stay.encounter_id, stay.source, "llm", guard,
                   written=text)
