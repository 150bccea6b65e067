"""``to_agentclinic``: a case as AgentClinic's OSCE case JSON.

AgentClinic (Schmidgall et al. 2024, github.com/SamuelSchmidgall/AgentClinic) reads one case per
line of ``agentclinic_medqa.jsonl`` as ``{"OSCE_Examination": {"Objective_for_Doctor",
"Patient_Actor": {"Demographics", "History", "Symptoms": {"Primary_Symptom",
"Secondary_Symptoms"}, "Past_Medical_History", "Social_History", "Review_of_Systems"},
"Physical_Examination_Findings": {"Vital_Signs": {...}, "<System>_Examination": {...}},
"Test_Results": {...}, "Correct_Diagnosis"}}``; those field names are kept exactly. Only the
abnormal tests go into ``Test_Results`` (AgentClinic's measurement agent reports any test
the case does not list as normal).

Example:
    >>> from hygeia.tutor._generate import generate_case
    >>> osce = to_agentclinic(generate_case("ORPHA:558", seed=2))["OSCE_Examination"]
    >>> sorted(osce)
    ['Correct_Diagnosis', 'Objective_for_Doctor', 'Patient_Actor', 'Physical_Examination_Findings', 'Test_Results']
    >>> osce["Correct_Diagnosis"]
    'Marfan syndrome'
"""

from __future__ import annotations

import re
from typing import Any

from hygeia.tutor._case import Case

__all__ = ["to_agentclinic"]


def _key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def _finding_text(f: Any) -> str:
    return f.says or f.name


def _system_label(system: str | None, kb: Any) -> str:
    if not system or system not in kb.terms:
        return "General"
    name = kb.terms[system].name
    for prefix in ("Abnormality of the ", "Abnormality of ", "Abnormal "):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return name[:1].upper() + name[1:]


def to_agentclinic(case: Case, *, kb: Any = None) -> dict[str, Any]:
    """The case as one AgentClinic OSCE record (a JSON-ready dict; write one per line for a ``.jsonl``)."""
    from hygeia.tutor._hpo import load_knowledge

    kb = kb or load_knowledge()
    p = case.patient
    sex_word = "male" if p.sex == "male" else "female"
    if p.age_years < 1:
        demo = f"{max(1, int(p.age_years * 12))}-month-old {sex_word}"
    else:
        demo = f"{int(p.age_years)}-year-old {sex_word}"
    history = [f for f in case.findings if f.present and f.channel == "history"]
    primary = history[0] if history else None
    secondary = [_finding_text(f) for f in history[1:]]
    negatives = [_finding_text(f) for f in case.findings if not f.present and f.channel == "history"]
    story = [p.chief_complaint]
    if secondary:
        story.append("The patient also reports " + ", ".join(secondary) + ".")
    if case.family_text:
        story.append("Family history: " + case.family_text)
    exam: dict[str, Any] = {}
    if case.vitals:
        v = case.vitals[0]
        exam["Vital_Signs"] = {"Temperature": f"{v.temp_c:.1f}°C", "Blood_Pressure": f"{v.systolic:.0f}/{v.diastolic:.0f}"
                               " mmHg", "Heart_Rate": f"{v.heart_rate:.0f} bpm",
                               "Respiratory_Rate": f"{v.resp_rate:.0f} breaths/min",
                               "Oxygen_Saturation": f"{v.spo2:.0f}% on room air"}
    else:
        exam["Vital_Signs"] = {"Temperature": "Within normal range", "Blood_Pressure": "Within normal range",
                               "Heart_Rate": "Within normal range", "Respiratory_Rate": "Within normal range"}
    for f in case.findings:
        if f.channel != "exam":
            continue
        section = exam.setdefault(f"{_key(_system_label(f.system, kb))}_Examination", {})
        label = kb.terms[f.reported_as].name if f.reported_as in kb.terms else f.name
        section[_key(f.name)] = (label if f.present else f"No {label.lower()}")
    tests: dict[str, Any] = {}
    for t in case.tests:
        if t.abnormal:
            entry: dict[str, Any] = {"Findings": t.result}
            for v in t.values:
                entry[_key(v["name"])] = f"{v['value']:g} {v['unit']}".strip() + (f" ({v['flag']})" if v["flag"]
                                                                                     else "")
            tests[_key(t.name)] = entry
    presenting = _finding_text(primary) if primary else p.chief_complaint.rstrip(".")
    return {"OSCE_Examination": {
        "Objective_for_Doctor": f"Assess and diagnose the patient presenting with {presenting}.",
        "Patient_Actor": {
            "Demographics": demo,
            "History": " ".join(story),
            "Symptoms": {"Primary_Symptom": presenting, "Secondary_Symptoms": secondary},
            "Past_Medical_History": "No significant past medical history."
                                    + (f" Medications: {', '.join(p.medications)}." if p.medications else ""),
            "Social_History": p.social or "Information not provided.",
            "Review_of_Systems": ("Denies " + ", ".join(negatives) + ".") if negatives else
            "No additional symptoms provided.",
        },
        "Physical_Examination_Findings": exam,
        "Test_Results": tests,
        "Correct_Diagnosis": case.disease.get("name", ""),
    }}
