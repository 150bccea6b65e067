"""Standard concept ids Hygeia can fill without the OHDSI vocabularies.

OMOP concept ids are OHDSI's own numbers, not source codes: mapping a SNOMED CT,
LOINC, RxNorm or CVX code to its standard concept needs the ``CONCEPT`` and
``CONCEPT_RELATIONSHIP`` tables from Athena, which cannot be downloaded here.
This module holds only the small, fixed value sets whose ids are stable and
published in the CDM conventions (gender, race, ethnicity, visit and type
concepts). Everything else is loaded with concept id 0 ("No matching concept")
and its source code in the ``*_source_value`` column; docs/omop.md shows the SQL
that fills the standard ids once a vocabulary is loaded beside the CDM.

Example:
    >>> GENDER["F"], VISIT["inpatient"]
    (8532, 9201)
"""

from __future__ import annotations

__all__ = ["DOMAIN_TABLES", "EHR", "ENGLISH", "ETHNICITY", "GENDER", "NO_MATCHING_CONCEPT", "PANELS", "RACE", "ROUTES",
           "US_STATES", "UTF8", "VISIT", "case_sql", "route_sql"]

#: "No matching concept": an unmapped source value.
NO_MATCHING_CONCEPT = 0

#: Type Concept "EHR" (32817): every Hygeia record comes from a simulated EHR.
EHR = 32817

#: ``note.encoding_concept_id``: UTF-8 (32678), the encoding of every note Hygeia writes.
UTF8 = 32678

#: ``note.language_concept_id``: English language (4180186).
ENGLISH = 4180186

#: ``persons.sex`` -> Gender domain.
GENDER = {"M": 8507, "F": 8532}  # MALE, FEMALE

#: ``persons.race`` -> Race domain (OMB categories).
RACE = {
    "white": 8527,  # White
    "black": 8516,  # Black or African American
    "asian": 8515,  # Asian
    "native": 8657,  # American Indian or Alaska Native
    "hawaiian": 8557,  # Native Hawaiian or Other Pacific Islander
}

#: ``persons.ethnicity`` -> Ethnicity domain.
ETHNICITY = {"hispanic": 38003563, "nonhispanic": 38003564}  # Hispanic or Latino, Not Hispanic or Latino

#: Encounter class (``events.text_value`` of encounter rows) -> Visit domain.
VISIT = {
    "inpatient": 9201,  # Inpatient Visit
    "ambulatory": 9202,  # Outpatient Visit
    "outpatient": 9202,
    "wellness": 9202,
    "emergency": 9203,  # Emergency Room Visit
    "urgentcare": 9203,
    "office": 581477,  # Office Visit
}

#: A standard concept's domain -> the CDM table its rows go to (other domains: ``observation``).
DOMAIN_TABLES = {
    "Condition": "condition_occurrence",
    "Drug": "drug_exposure",
    "Procedure": "procedure_occurrence",
    "Measurement": "measurement",
    "Observation": "observation",
    "Device": "device_exposure",
}

#: LOINC panels whose members are recorded as observations of their own: the value-less panel row is
#: not exported (85354-9 Blood pressure panel -> 8480-6 systolic and 8462-4 diastolic measurements).
PANELS = ("85354-9",)

#: Dose-form words of an RxNorm display -> (route_source_value, SNOMED code of the route), first match
#: wins. The code is looked up in the vocabulary's Route domain, so a real Athena download gives Athena's
#: concept. A form that does not say its route ("Injection", "Injectable Suspension") gets none.
ROUTES = (
    ("Sublingual", "sublingual", "37839007"),
    ("Inhal", "inhalation", "447694001"),
    ("Pen Injector", "subcutaneous", "34206005"),
    ("Oral", "oral", "26643006"),
    ("Chewable", "oral", "26643006"),
)

#: US state names -> USPS codes (``location.state`` is varchar(2)).
US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
    "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR",
    "Pennsylvania": "PA", "Puerto Rico": "PR", "Rhode Island": "RI", "South Carolina": "SC",
    "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT",
    "Virginia": "VA", "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
}


def _literal(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def case_sql(column: str, mapping: dict[str, int] | dict[str, str], default: str = "0") -> str:
    """A SQL ``CASE`` that maps ``column`` through ``mapping`` (``default`` otherwise).

    Example:
        >>> case_sql("sex", GENDER)
        "CASE sex WHEN 'M' THEN 8507 WHEN 'F' THEN 8532 ELSE 0 END"
    """
    whens = " ".join(f"WHEN {_literal(k)} THEN {_literal(v)}" for k, v in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


def route_sql(display: str, part: int) -> str:
    """SQL giving an RxNorm display's route: its source value (``part`` 1) or SNOMED code (``part`` 0).

    Example:
        >>> route_sql("d", 1)[:45]
        "CASE WHEN contains(d, 'Sublingual') THEN 'sub"
    """
    whens = " ".join(f"WHEN contains({display}, {_literal(word)}) THEN {_literal(code if part == 0 else name)}"
                     for word, name, code in ROUTES)
    return f"CASE {whens} END"
