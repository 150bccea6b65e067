"""A virtual patient's background taken from a Hygeia population record.

:func:`background_from_record` reads one person of a ``hygeia generate`` run: name, sex, age at
the end of the record, the medicines active then, the conditions diagnosed (past medical
history) and the smoking status last recorded. :func:`~hygeia.tutor.generate_case` given this
``background`` gives the case that person's identity and history, and draws only the disease.

Example:
    >>> bg = Background(subject_id=3, name="Ada Lovelace", sex="female", age_years=36.0,
    ...                 medications=["lisinopril 10 MG Oral Tablet"], history=["Essential hypertension"],
    ...                 smoking="Never smoked tobacco", source="run runs/demo, subject 3")
    >>> bg.social()
    'Has never smoked.'
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from hygeia.errors import DataValidationError

__all__ = ["Background", "background_from_record"]

#: LOINC code of the tobacco smoking status observation the population modules record.
SMOKING_STATUS = "72166-2"
_SMOKING_WORDS = (("never", "has never smoked"), ("former", "has stopped smoking"),
                  ("ex-smoker", "has stopped smoking"), ("every day", "smokes every day"),
                  ("daily", "smokes every day"), ("some day", "smokes on some days"), ("occasional", "smokes on some days"),
                  ("current", "smokes"), ("smoker", "smokes"), ("smokes", "smokes"))
# conditions that describe circumstances rather than illnesses (SNOMED findings the modules record)
_NOT_HISTORY = ("(finding)", "employment", "education", "stress", "social", "housing", "transport", "violence",
                "received higher", "has a criminal", "reports", "risk activity", "limited social", "not in labor")


@dataclass
class Background:
    """One person's identity and history from a record (see :func:`background_from_record`)."""

    subject_id: int
    name: str
    sex: str
    age_years: float
    medications: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    smoking: str = ""
    source: str = ""

    def smoking_words(self) -> str:
        """The smoking status as a third-person phrase ('has stopped smoking'; '' when the record holds none)."""
        low = self.smoking.lower()
        return next((words for key, words in _SMOKING_WORDS if key in low), "")

    def social(self) -> str:
        """The smoking status as the case's social note ('' when the record holds none)."""
        words = self.smoking_words()
        return f"{words[:1].upper()}{words[1:]}." if words else ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return asdict(self)


def _clean(display: str) -> str:
    return display.split(" (disorder)")[0].strip()


def background_from_record(run: str | os.PathLike[str], subject_id: int | None = None) -> Background:
    """Name, sex, age, active medicines, past medical history and smoking status of one person of ``run``.

    The age is taken at the person's death or at their last recorded event; the medicines and the
    history are those started and not stopped or resolved by then (the history: disorders, not
    social findings), oldest first.

    Raises:
        DataValidationError: ``run`` is not a run folder, or has no such person.
    """
    from hygeia.core.storage import read_person

    person, events = read_person(run, subject_id)
    end = person.get("death_time")
    if end is None or pd.isna(end):
        end = events["time"].max() if len(events) else pd.Timestamp.now()
    birth = person["birth_time"]
    if pd.isna(birth):
        raise DataValidationError([f"{os.fspath(run)}: subject {person['subject_id']} has no birth time"])
    age = round((pd.Timestamp(end) - pd.Timestamp(birth)).days / 365.25, 2)
    meds = events[(events["kind"] == "medication") & (events["time"] <= end)
                  & (events["end_time"].isna() | (events["end_time"] > end))]
    conds = events[(events["kind"] == "condition") & (events["time"] <= end)
                   & (events["end_time"].isna() | (events["end_time"] > end))]
    history = [_clean(d) for d in dict.fromkeys(conds["display"].dropna())
               if not any(w in d.lower() for w in _NOT_HISTORY)]
    smoking = events[(events["kind"] == "observation") & (events["code"] == SMOKING_STATUS)]
    name = " ".join(str(person.get(k) or "") for k in ("given_name", "family_name")).strip()
    sex = {"F": "female", "M": "male"}.get(str(person.get("sex")), str(person.get("sex")).lower())
    return Background(
        subject_id=int(person["subject_id"]), name=name, sex=sex, age_years=float(age),
        medications=list(dict.fromkeys(meds["display"].dropna())), history=history,
        smoking=str(smoking["text_value"].dropna().iloc[-1]).split("|")[-1] if smoking["text_value"].notna().any() else "",
        source=f"run {os.fspath(run)}, subject {int(person['subject_id'])}")
