"""Clinical notes: written from records, with the provenance of every sentence.

- :func:`write_notes` writes a note for every encounter of a run folder, and a radiology
  report for every imaging study (``notes/*.parquet`` and ``manifest.json``);
  :func:`note_for_encounter` writes one encounter's notes in memory.
- :func:`extract` reads the typed facts of a note (:class:`Fact`: problems, medications
  with dose/route/frequency, allergies, labs and vital signs with values, procedures,
  immunizations, dates, follow-ups), each with its span, codes and ConText flags.
- :func:`deidentify` finds the HIPAA Safe Harbor identifiers of notes (:func:`find_phi`)
  and replaces them by consistent surrogates (:func:`deidentify_path` for files);
  :func:`planted_notes` and :func:`score_deid` measure it on notes with planted identifiers.
- :func:`summarize` writes a discharge summary, plain-language patient instructions or an
  insurance letter (ICD-10-CM codes) from a :class:`Stay` (:func:`stay_from_record`,
  :func:`stay_from_run`, :func:`stay_from_notes`), every sentence citing its sources; :func:`readability` (Flesch-Kincaid)
  and :func:`rouge` (ROUGE-1/2/L) measure them.
- :func:`check_faithfulness` re-extracts the facts of any generated text and flags what its
  source does not support (unsupported concepts, flipped negations, values, doses and dates
  absent from the source, omitted allergies, medications and follow-ups); :func:`guarded`
  accepts, repairs, falls back or rejects; :func:`plant_errors` and :func:`score_planted`
  measure it. Optional language models: :class:`OpenAICompatibleBackend` (llama.cpp
  server, vLLM, Ollama), :class:`TransformersBackend`, prompts from facts (:func:`build_prompt`);
  :func:`summarize_with_backend` keeps a model's summary only when the guard passes it, else
  gives the faithful writer's.

Example:
    >>> import datetime as dt
    >>> t = dt.datetime(2020, 3, 1, 9)
    >>> person = {"subject_id": 1, "birth_time": dt.datetime(1970, 1, 1), "sex": "M"}
    >>> visit = dict(subject_id=1, kind="encounter", time=t, end_time=t, code_system="SNOMED-CT",
    ...              code="162673000", display="General examination of patient (procedure)",
    ...              numeric_value=None, unit=None, text_value="wellness", encounter_id=9)
    >>> [note] = note_for_encounter(person, [visit], 9, seed=1)
    >>> note.title, note.kind
    ('History and Physical', 'hp')
"""

from hygeia.notes._backends import (
    Backend,
    BackendError,
    OpenAICompatibleBackend,
    TransformersBackend,
    backend_for,
)
from hygeia.notes._compose import KINDS, Note, Sentence, event_key
from hygeia.notes._deid import Deidentifier, DeidResult, deidentify
from hygeia.notes._deid_eval import PlantedNote, planted_notes, score_deid
from hygeia.notes._deid_io import DeidPathResult, deidentify_path
from hygeia.notes._deid_rules import PHI_TYPES, Span, find_phi
from hygeia.notes._extract import extract
from hygeia.notes._facts import FACT_KINDS, Extraction, Fact, Section
from hygeia.notes._guard import (
    FLAG_KINDS,
    Flag,
    GuardedText,
    GuardReport,
    check_faithfulness,
    guarded,
)
from hygeia.notes._hallucinate import (
    ERROR_TYPES,
    PlantedError,
    plant_errors,
    score_planted,
)
from hygeia.notes._prompts import PROMPT_KINDS, Prompt, build_prompt
from hygeia.notes._readability import (
    Readability,
    count_syllables,
    flesch_kincaid_grade,
    flesch_reading_ease,
    readability,
)
from hygeia.notes._rouge import RougeScore, rouge, rouge_tokens
from hygeia.notes._summarize import (
    SUMMARY_KINDS,
    FaithfulWriter,
    Stay,
    StayItem,
    Summary,
    SummaryWriter,
    summarize,
)
from hygeia.notes._summarize_llm import summarize_with_backend
from hygeia.notes._summary_io import stay_from_paths
from hygeia.notes._summary_notes import stay_from_extractions, stay_from_notes
from hygeia.notes._summary_sources import find_stays, stay_from_record, stay_from_run
from hygeia.notes._write import (
    NOTES_SCHEMA,
    WriteNotesResult,
    note_for_encounter,
    write_notes,
)

__all__ = [
    "ERROR_TYPES",
    "FACT_KINDS",
    "FLAG_KINDS",
    "KINDS",
    "NOTES_SCHEMA",
    "PHI_TYPES",
    "PROMPT_KINDS",
    "SUMMARY_KINDS",
    "Backend",
    "BackendError",
    "DeidPathResult",
    "DeidResult",
    "Deidentifier",
    "Extraction",
    "Fact",
    "FaithfulWriter",
    "Flag",
    "GuardReport",
    "GuardedText",
    "Note",
    "OpenAICompatibleBackend",
    "PlantedError",
    "PlantedNote",
    "Prompt",
    "Readability",
    "RougeScore",
    "Section",
    "Sentence",
    "Span",
    "Stay",
    "StayItem",
    "Summary",
    "SummaryWriter",
    "TransformersBackend",
    "WriteNotesResult",
    "backend_for",
    "build_prompt",
    "check_faithfulness",
    "count_syllables",
    "deidentify",
    "deidentify_path",
    "event_key",
    "extract",
    "find_phi",
    "find_stays",
    "flesch_kincaid_grade",
    "flesch_reading_ease",
    "guarded",
    "note_for_encounter",
    "plant_errors",
    "planted_notes",
    "readability",
    "rouge",
    "rouge_tokens",
    "score_deid",
    "score_planted",
    "stay_from_extractions",
    "stay_from_notes",
    "stay_from_paths",
    "stay_from_record",
    "stay_from_run",
    "summarize",
    "summarize_with_backend",
    "write_notes",
]
