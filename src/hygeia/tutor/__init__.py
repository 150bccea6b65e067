"""Virtual patients for medical education: interview, examine, test, diagnose and treat, with scoring and feedback.

A :class:`Case` is generated from the Human Phenotype Ontology's disease annotations (OMIM,
Orphanet, DECIPHER: findings at their annotated frequencies, pertinent negatives, family history by
mode of inheritance, tests with cited reference ranges and images) or from an authored acute
presentation (sepsis, diabetic ketoacidosis, pulmonary embolism) that deteriorates on a simulated
clock. A :class:`Session` answers free-text questions, examinations, test orders, a differential and
management actions; :func:`score_session` scores it against the expert path of a
:class:`ReferenceAgent`. Play in the terminal (:func:`play_terminal`) or the web pages
(:func:`create_app`, :func:`serve`).

Example:
    >>> case = generate_case("ORPHA:558", seed=7)            # Marfan syndrome
    >>> s = Session(case, student="ada")
    >>> reply = s.ask("What brings you in today?")
    >>> reply.matched
    True
"""

from hygeia.tutor._acute import acute_ids, generate_acute, load_acute
from hygeia.tutor._agentclinic import to_agentclinic
from hygeia.tutor._agents import (
    Agent,
    NoisyAgent,
    OracleAgent,
    RandomAgent,
    ReferenceAgent,
    play,
)
from hygeia.tutor._bayes import DiagnosticModel
from hygeia.tutor._case import (
    CASE_SCHEMA,
    CHANNELS,
    Action,
    Case,
    CaseFinding,
    FamilyMember,
    Patient,
    TestResult,
    VitalSigns,
)
from hygeia.tutor._case_io import read_case, validate_case, write_case
from hygeia.tutor._find import find_diseases
from hygeia.tutor._generate import frequency_check, generate_case
from hygeia.tutor._hpo import Disease, Knowledge, Phenotype, Term, load_knowledge
from hygeia.tutor._match import Match, match_question
from hygeia.tutor._record import Background, background_from_record
from hygeia.tutor._report import session_report_html
from hygeia.tutor._score import WEIGHTS, Score, score_session
from hygeia.tutor._session import (
    ACTIONS,
    EXAM_SYSTEMS,
    SESSION_SCHEMA,
    Event,
    Reply,
    Session,
    load_session,
    save_session,
)
from hygeia.tutor._terminal import play_terminal
from hygeia.tutor._tests_catalogue import render_case_image
from hygeia.tutor._voice import LLMVoice, PatientVoice
from hygeia.tutor._web import create_app, serve

__all__ = [
    "ACTIONS",
    "CASE_SCHEMA",
    "CHANNELS",
    "EXAM_SYSTEMS",
    "SESSION_SCHEMA",
    "WEIGHTS",
    "Action",
    "Agent",
    "Background",
    "Case",
    "CaseFinding",
    "DiagnosticModel",
    "Disease",
    "Event",
    "FamilyMember",
    "Knowledge",
    "LLMVoice",
    "Match",
    "NoisyAgent",
    "OracleAgent",
    "Patient",
    "PatientVoice",
    "Phenotype",
    "RandomAgent",
    "ReferenceAgent",
    "Reply",
    "Score",
    "Session",
    "Term",
    "TestResult",
    "VitalSigns",
    "acute_ids",
    "background_from_record",
    "create_app",
    "find_diseases",
    "frequency_check",
    "generate_acute",
    "generate_case",
    "load_acute",
    "load_knowledge",
    "load_session",
    "match_question",
    "play",
    "play_terminal",
    "read_case",
    "render_case_image",
    "save_session",
    "score_session",
    "serve",
    "session_report_html",
    "to_agentclinic",
    "validate_case",
    "write_case",
]
