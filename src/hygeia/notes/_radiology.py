"""Radiology reports: one per imaging study of an encounter, each sentence traceable to the record.

A study is a ``procedure`` event (or the ``imaging`` event an ImagingStudy state records
with it, same code and time) that :func:`imaging_study` recognises: by its SNOMED code in
:data:`STUDIES` (every imaging procedure of the embedded and Synthea modules), else by its
display (X-ray, radiograph, tomography, MRI, ultrasound, echocardiography, mammography,
DEXA). Ophthalmic and dental imaging (retinal OCT, fundus photography, bitewings) are
not read by a radiologist and get no report.

The report has the sections real reports use:

- ``EXAMINATION``: the study and its date (cites the study's events);
- ``CLINICAL INDICATION``: the conditions of the encounter (those the study can show first),
  conditions of that kind already active, else the encounter's type;
- ``COMPARISON``: the latest earlier study of the same code, with its date, or
  "None available." (basis ``absence``: the record holds no earlier study);
- ``TECHNIQUE``: the standard protocol of that study type (basis ``protocol``: a
  description of how such a study is done, not a fact about this patient);
- ``FINDINGS`` and ``IMPRESSION``: the conditions recorded in the same encounter that this
  study type can show (a fracture of the forearm on a wrist radiograph, pneumonia on a
  chest radiograph), each cited; else a statement that the record holds none (basis
  ``absence``). No measurement, laterality or anatomical detail is ever invented.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["STUDIES", "Study", "imaging_study"]


@dataclass(frozen=True)
class Study:
    """What a radiology report needs to know of one study type.

    Attributes:
        modality: ``radiograph``, ``ct``, ``mri``, ``ultrasound``, ``doppler``, ``echo``,
            ``mammography``, ``dexa``, ``fluoroscopy`` or ``obstetric``.
        region: the body region as the technique names it (``'wrist'``; empty when unknown).
        shows: a regular expression over a condition's name (lower case, no semantic tag)
            that matches the conditions this study type can show; empty: none known.
    """

    modality: str
    region: str
    shows: str = ""

    def can_show(self, name: str) -> bool:
        """Whether a condition of this name is one that this study type can show.

        Example:
            >>> STUDIES["713024005"].can_show("fracture of forearm"), STUDIES["713024005"].can_show("fracture of ankle")
            (True, False)
        """
        return bool(self.shows) and re.search(self.shows, name.lower()) is not None


_BONE = r"|^fracture of bone|^osteoporotic fracture"
_CHEST = (r"pneumonia|fracture of rib|heart failure|pulmonary emphysema|(?:carcinoma|neoplasm) of lung|lung cancer|"
          r"pleural effusion|pneumothorax|tuberculosis|atelectasis|pulmonary edema")
_ABDOMEN = r"neoplasm of colon|appendicitis|cholecystitis|gallbladder calculus|cholelithiasis|metasta"
_BREAST = r"(?:neoplasm|carcinoma) of breast|breast cancer"
_ECHO = r"heart failure|valve (?:stenosis|regurgitation|insufficiency)|cardiomyopathy|pericardial effusion|endocarditis"
_BRAIN_MR = r"multiple sclerosis|stroke|neoplasm of brain|to brain"

#: SNOMED CT code -> study type, for every imaging procedure of the embedded and Synthea modules.
STUDIES: dict[str, Study] = {
    "399208008": Study("radiograph", "chest", _CHEST),  # Plain X-ray of chest
    "713024005": Study("radiograph", "wrist", r"fracture (?:subluxation )?of (?:wrist|forearm|radius|ulna)" + _BONE),
    "1290459008": Study("radiograph", "ankle", r"fracture of (?:ankle|tibia|fibula)" + _BONE),
    "1290407002": Study("radiograph", "knee", r"osteoarthritis of knee|fracture of (?:knee|patella|tibia|femur)" + _BONE),
    "713021002": Study("radiograph", "pelvis",
                       r"fracture of (?:hip|pelvis|acetabulum|neck of femur)|osteoarthritis of hip|dislocation of hip"
                       + _BONE),
    "168594001": Study("radiograph", "clavicle", r"fracture of clavicle" + _BONE),
    "713026007": Study("radiograph", "humerus", r"fracture of (?:humerus|upper arm|shoulder)" + _BONE),
    "1290789000": Study("radiograph", "mandible", r"fracture of mandible|dislocation of temporomandibular joint" + _BONE),
    "168537006": Study("radiograph", "", r"fracture"),  # Plain radiography: the fractured part is not coded
    "303653007": Study("ct", "head", r"stroke|intracranial|cerebral (?:hemorrhage|infarction)|subdural|neoplasm of brain|"
                                     r"to brain"),
    "16335031000119103": Study("ct", "chest", _CHEST + r"|pulmonary embol"),  # high resolution, without contrast
    "418891003": Study("ct", "chest and abdomen", _CHEST + r"|pulmonary embol|" + _ABDOMEN),
    "418023006": Study("ct", "chest, abdomen and pelvis", _CHEST + r"|pulmonary embol|" + _ABDOMEN),
    "698354004": Study("mri", "brain", _BRAIN_MR),  # MRI for measurement of brain volume
    "241645008": Study("mri", "spine", r"multiple sclerosis|spina bifida|vertebral column|spinal cord"),
    "241615005": Study("mri", "breasts", _BREAST),
    "71651007": Study("mammography", "breasts", _BREAST),
    "24623002": Study("mammography", "breasts", _BREAST),  # screening
    "241055006": Study("mammography", "breasts", _BREAST),  # symptomatic
    "1571000087109": Study("ultrasound", "breasts", _BREAST),
    "426701000119108": Study("ultrasound", "right upper quadrant of the abdomen",
                             r"gallbladder calculus|cholelithiasis|cholecystitis"),
    "169230002": Study("obstetric", "pregnancy",
                       r"^normal pregnancy|tubal pregnancy|ectopic pregnancy|miscarriage in|complete miscarriage|"
                       r"blighted ovum"),  # ultrasound scan for fetal viability
    "709979004": Study("doppler", "arteries", r"carotid|arterial (?:stenosis|occlusion)|peripheral arterial disease"),
    "709640007": Study("doppler", "renal veins", r"renal vein thrombosis"),
    "40701008": Study("echo", "heart", _ECHO),
    "433236007": Study("echo", "heart", _ECHO),  # transthoracic
    "105376000": Study("echo", "heart", _ECHO),  # transesophageal
    "312681000": Study("dexa", "lumbar spine and hip", r"osteoporosis|osteopenia"),  # bone density scan
    "241149003": Study("fluoroscopy", "swallow", r"dysphagia|aspiration"),  # videofluoroscopy swallow
}
#: Imaging read by an ophthalmologist or a dentist, not a radiologist: OCT of retina, camera fundoscopy, bitewings.
_NOT_RADIOLOGY = frozenset({"700070005", "314971001", "241046008"})
_EXCLUDED = re.compile(r"^referral|guidance|dental|retina|fundus|fundoscop", re.IGNORECASE)
#: The display fallback for codes not in :data:`STUDIES`, first match wins.
_MODALITIES = (
    ("echo", re.compile(r"echocardiograph", re.IGNORECASE)), ("mammography", re.compile(r"mammogra", re.IGNORECASE)),
    ("dexa", re.compile(r"\bDEXA\b|densitometr|absorptiometr", re.IGNORECASE)),
    ("radiograph", re.compile(r"X-ray|radiograph", re.IGNORECASE)), ("ct", re.compile(r"tomograph|\bCT\b", re.IGNORECASE)),
    ("mri", re.compile(r"\bMRI\b|magnetic resonance", re.IGNORECASE)),
    ("ultrasound", re.compile(r"ultrasound|ultrasonograph|sonograph", re.IGNORECASE)),
)
_TAG = re.compile(r"\s*\([a-z /]+\)$")


def imaging_study(event: Mapping[str, Any]) -> Study | None:
    """The study type of a ``procedure`` or ``imaging`` event, or None if it is not a radiology study.

    Example:
        >>> imaging_study({"kind": "procedure", "code": "399208008", "display": "Plain X-ray of chest (procedure)"})
        Study(modality='radiograph', region='chest', shows=...)
        >>> imaging_study({"kind": "procedure", "code": "1", "display": "Magnetic resonance imaging of knee (procedure)"})
        Study(modality='mri', region='knee', shows='')
        >>> imaging_study({"kind": "procedure", "code": "700070005",
        ...                "display": "Optical coherence tomography of retina (procedure)"}) is None
        True
    """
    if event.get("kind") not in ("procedure", "imaging"):
        return None
    code = str(event.get("code") or "")
    if code in STUDIES:
        return STUDIES[code]
    display = _TAG.sub("", event.get("display") or "").strip()
    if code in _NOT_RADIOLOGY or _EXCLUDED.search(display):
        return None
    modality = next((m for m, pattern in _MODALITIES if pattern.search(display)), None)
    if modality is None:
        return None
    region = re.search(r"\bof (?:the )?(.+)$", display)
    return Study(modality, region.group(1).strip().lower() if region else "")


# The standard protocol of each study type: how such a study is done, never a fact about the patient.
_TECHNIQUE = {
    "radiograph": ["standard radiographic views of the {region} per department protocol.",
                   "routine radiographic series of the {region} per protocol."],
    "ct": ["standard CT protocol of the {region}: axial images with multiplanar reformats.",
           "routine CT protocol of the {region}, axial acquisition with coronal and sagittal reformats."],
    "mri": ["standard MRI protocol of the {region}: multiplanar, multisequence imaging.",
            "routine multiplanar, multisequence MRI protocol of the {region}."],
    "ultrasound": ["standard real-time grayscale ultrasound protocol of the {region}.",
                   "routine sonographic protocol of the {region} with grayscale images."],
    "doppler": ["standard duplex ultrasound protocol of the {region}: grayscale, color and spectral Doppler imaging.",
                "routine duplex Doppler protocol of the {region}."],
    "echo": ["standard echocardiographic protocol: two-dimensional, M-mode and Doppler imaging from standard windows.",
             "routine two-dimensional and Doppler echocardiography protocol from standard acoustic windows."],
    "mammography": ["standard mammographic protocol: craniocaudal and mediolateral oblique views of each breast.",
                    "routine two-view mammography protocol of both breasts."],
    "dexa": ["standard dual-energy X-ray absorptiometry protocol of the {region}.",
             "routine DEXA protocol of the {region}."],
    "fluoroscopy": ["standard videofluoroscopic swallow protocol with barium of graded consistencies.",
                    "routine modified barium swallow protocol under fluoroscopy."],
    "obstetric": ["standard obstetric ultrasound protocol for the assessment of fetal viability.",
                  "routine early pregnancy ultrasound protocol for viability."],
}
_NO_REGION = {"radiograph": "the imaged part", "ct": "the imaged region", "mri": "the imaged region",
              "ultrasound": "the imaged region", "doppler": "the imaged vessels", "dexa": "the measured sites"}
#: Conditions that state a suspicion or a past event, not a finding an image shows.
_NOT_A_FINDING = re.compile(r"^(?:suspected|history of|past pregnancy history)|\((?:situation)\)$", re.IGNORECASE)


def studies_of(at: Sequence[Mapping[str, Any]]) -> list[tuple[Study, list[Mapping[str, Any]]]]:
    """The radiology studies among an encounter's events: one per (code, time), its events (procedure first).

    Example:
        >>> t = dt.datetime(2020, 1, 1)
        >>> row = {"code": "399208008", "time": t, "display": "Plain X-ray of chest (procedure)"}
        >>> [(s.region, [e["kind"] for e in es]) for s, es in studies_of([{**row, "kind": "imaging"},
        ...                                                                 {**row, "kind": "procedure"}])]
        [('chest', ['procedure', 'imaging'])]
    """
    found: dict[tuple[str, dt.datetime], tuple[Study, list[Mapping[str, Any]]]] = {}
    for e in at:
        study = imaging_study(e)
        if study is not None:
            found.setdefault((str(e["code"]), e["time"]), (study, []))[1].append(e)
    return [(s, sorted(es, key=lambda e: e["kind"] != "procedure")) for s, es in found.values()]


def is_finding(study: Study, name: str, display: str | None) -> bool:
    """Whether a condition is one this study can show (never a suspicion or a history)."""
    return study.can_show(name) and not _NOT_A_FINDING.search(display or "") and not _NOT_A_FINDING.search(name)


def technique(study: Study) -> list[str]:
    """The phrasings of the study type's standard protocol, its region filled in."""
    region = study.region or _NO_REGION.get(study.modality, "the imaged region")
    return [t.replace("{region}", region) for t in _TECHNIQUE[study.modality]]
