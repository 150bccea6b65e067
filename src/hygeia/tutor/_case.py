"""A virtual patient as data: the :class:`Case` every part of the tutor reads.

A case is a plain JSON document (schema ``hygeia.tutor.case/1``): the disease, the patient,
every finding (present ones and pertinent negatives, each with the HPO term, the organ
system, how it is found and the words the patient uses), the family history, the tests a
student may order with their results and costs, vital signs over time for acute cases,
the priority actions and the teaching points. Educators edit the file; :func:`read_case`
checks it against the schema and gathers every problem in one error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CASE_SCHEMA",
    "CHANNELS",
    "Action",
    "Case",
    "CaseFinding",
    "FamilyMember",
    "Patient",
    "TestResult",
    "VitalSigns",
]

#: Schema id written into every case file (bump it when a field changes meaning).
CASE_SCHEMA = "hygeia.tutor.case/1"
#: How a finding comes to light: asked in the history, seen on examination, measured by a test.
CHANNELS = ("history", "exam", "test")


@dataclass
class CaseFinding:
    """One finding of the case.

    Attributes:
        hpo: HPO term id (``HP:0001250``); ``name`` its label.
        present: True for a finding the patient has; False for a pertinent negative.
        channel: ``'history'`` (the patient can tell), ``'exam'`` (found on examining ``system``)
            or ``'test'`` (only a test in ``tests`` shows it).
        system: the organ-system term (a child of HP:0000118) it belongs to.
        frequency: the annotated probability it was sampled with (None: authored, or not stated).
        reported_as: the vaguer term the patient or examiner reports instead (a noisy case), else None.
        says: the patient's words, where an author wrote them (else generated from the term).
        source: ``'annotation'``, ``'excluded'`` (a NOT annotation), ``'absent'`` (sampled absent),
            ``'noise'`` (an unrelated finding a noisy case adds) or ``'author'``.
        onset_years: age at which it appeared, where known.
    """

    hpo: str
    name: str
    present: bool
    channel: str
    system: str | None = None
    frequency: float | None = None
    reported_as: str | None = None
    says: str | None = None
    source: str = "annotation"
    onset_years: float | None = None


@dataclass
class Patient:
    """Who the patient is: age (years), sex, the chief complaint in their words, when it began, and their
    medicines, social history and past medical history (``history``: earlier diagnoses, e.g. from a record)."""

    age_years: float
    sex: str
    chief_complaint: str
    onset_years: float | None = None
    name: str = ""
    medications: list[str] = field(default_factory=list)
    social: str = ""
    history: list[str] = field(default_factory=list)


@dataclass
class FamilyMember:
    """One relative in the family history (``relation`` like 'mother', 'maternal uncle', 'brother')."""

    relation: str
    affected: bool
    note: str = ""


@dataclass
class TestResult:
    """One orderable test and what it shows in this patient.

    Attributes:
        key: stable id (``cbc``, ``brain_mri``, ``lab:2345-7``, ``gene_panel``).
        name: display name; ``kind``: ``'lab'``, ``'imaging'``, ``'physiology'`` (ECG, EEG...), ``'genetic'``.
        cost: list price in US dollars (see ``docs/tutor.md`` for the source); ``minutes``: turnaround.
        result: the report text a student reads.
        abnormal: True where the result shows something abnormal.
        reveals: HPO ids of case findings this result shows.
        values: numeric results, each ``{name, value, unit, low, high, flag, loinc, source}``.
        image: for imaging, ``{modality, body_part, finding}`` for :func:`hygeia.imaging.render`, else None.
    """

    key: str
    name: str
    kind: str
    cost: float
    minutes: float
    result: str
    abnormal: bool = False
    reveals: list[str] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    image: dict[str, Any] | None = None


@dataclass
class VitalSigns:
    """Vital signs at ``minutes`` after the session starts (acute cases have several, getting worse)."""

    minutes: float
    heart_rate: float
    systolic: float
    diastolic: float
    resp_rate: float
    temp_c: float
    spo2: float
    note: str = ""


@dataclass
class Action:
    """A management action: ``key``, label, and for a priority action the minutes it is due by and why."""

    key: str
    name: str
    priority: bool = False
    within_minutes: float | None = None
    why: str = ""
    harmful: bool = False


@dataclass
class Case:
    """A virtual patient (see the module docstring); JSON through :meth:`to_dict` / :meth:`from_dict`.

    ``provenance`` records how it was made: Hygeia version, seed, HPO release, generator options.
    ``acute`` cases deteriorate along ``vitals`` unless the priority actions are taken in time.
    """

    id: str
    disease: dict[str, Any]             # {id, name, source, inheritance: [labels], genes: [...]}
    patient: Patient
    findings: list[CaseFinding]
    family: list[FamilyMember] = field(default_factory=list)
    family_text: str = ""
    tests: list[TestResult] = field(default_factory=list)
    vitals: list[VitalSigns] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    acute: bool = False
    teaching_points: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    schema: str = CASE_SCHEMA

    def present(self) -> list[CaseFinding]:
        """The findings the patient has."""
        return [f for f in self.findings if f.present]

    def finding(self, hpo: str) -> CaseFinding | None:
        """The case's finding of term ``hpo`` (present or a pertinent negative), None where it has none."""
        return next((f for f in self.findings if f.hpo == hpo), None)

    def to_dict(self) -> dict[str, Any]:
        """The case as JSON-ready data (``schema`` first)."""
        d = asdict(self)
        return {"schema": d.pop("schema"), **d}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        """A case from :meth:`to_dict` data (unchecked: :func:`hygeia.tutor.read_case` checks the schema first)."""
        d = dict(data)
        d["patient"] = Patient(**d["patient"])
        d["findings"] = [CaseFinding(**f) for f in d["findings"]]
        d["family"] = [FamilyMember(**m) for m in d.get("family", [])]
        d["tests"] = [TestResult(**t) for t in d.get("tests", [])]
        d["vitals"] = [VitalSigns(**v) for v in d.get("vitals", [])]
        d["actions"] = [Action(**a) for a in d.get("actions", [])]
        return cls(**d)
