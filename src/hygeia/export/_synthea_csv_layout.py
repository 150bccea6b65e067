"""Synthea 3.3's CSV layout: the files, their columns in order, and where each value comes from.

The headers are those Synthea 3.3.0 writes (``CSVConstants`` in Synthea's source; the
"CSV File Data Dictionary" page of its wiki describes them) and the ones OHDSI's
ETL-Synthea loads for ``syntheaVersion = "3.3.0"`` (its ``create_synthea_tables.sql``).
The NPI columns Synthea appended to ``organizations.csv`` and ``providers.csv`` after
3.3.0 are not written: ETL-Synthea's tables have no column for them.

Each column is ``(header, getter)``: the getter takes a table of canonical events (plus
the id columns :mod:`hygeia.export._synthea_csv` adds, ``_patient``, ``_encounter``,
``_organization``, ``_provider``) and returns a string or number array, or ``None``
for a column Hygeia has nothing for (written empty, as Synthea writes a missing value).

Example:
    >>> [h for h, _ in SYNTHEA_TABLES["conditions"][1]]
    ['START', 'STOP', 'PATIENT', 'ENCOUNTER', 'SYSTEM', 'CODE', 'DESCRIPTION']
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from hygeia.export.fhir._datatypes import _SOCIAL as FHIR_SOCIAL
from hygeia.export.fhir._datatypes import _VITALS as FHIR_VITALS

__all__ = ["AGGREGATE_HEADERS", "PATIENT_COLUMNS", "SYNTHEA_TABLES", "UNMAPPED_KINDS"]

_STR = pa.string()
#: Synthea's ``ExportHelper.iso8601Timestamp`` (UTC, whole seconds) and ``dateFromTimestamp``.
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DATE_FORMAT = "%Y-%m-%d"

Getter = Callable[[pa.Table], "pa.Array | None"]
Column = tuple[str, Getter]


def _seconds(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Times floored to the second, as Java's SimpleDateFormat drops milliseconds (before 1970 too)."""
    return pc.floor_temporal(values, unit="second").cast(pa.timestamp("s"))


def _time(column: str) -> Getter:
    def get(t: pa.Table) -> pa.Array:
        return pc.strftime(_seconds(t[column]), format=_TIME_FORMAT)
    return get


def _date(column: str) -> Getter:
    def get(t: pa.Table) -> pa.Array:
        return pc.strftime(_seconds(t[column]), format=_DATE_FORMAT)
    return get


def _col(column: str) -> Getter:
    return lambda t: t[column]


def _empty(t: pa.Table) -> None:
    return None


#: The LOINC codes the FHIR export files under vital signs and social history (US Core categories).
_VITALS, _SOCIAL = pa.array(sorted(FHIR_VITALS)), pa.array(sorted(FHIR_SOCIAL))
#: A coded answer ``SYSTEM|CODE|DISPLAY`` (as Hygeia stores it): Synthea writes the display.
_CODED = r"^[^| ]+\|[^|]+\|(?P<display>.*)$"


def _category(t: pa.Table) -> pa.Array:
    """Synthea's observation CATEGORY, by the rules of the FHIR export's Observation.category."""
    unit = pc.fill_null(t["unit"], "")
    survey = pc.or_(pc.match_substring(unit, "score"), pc.equal(unit, "{#}"))
    lab = pc.and_(pc.is_finite(pc.fill_null(t["numeric_value"], float("nan"))), pc.not_equal(unit, ""))
    return pc.case_when(
        pc.make_struct(pc.is_in(t["code"], _VITALS), pc.is_in(t["code"], _SOCIAL), survey, lab),
        "vital-signs", "social-history", "survey", "laboratory", "exam")


def _value(t: pa.Table) -> pa.Array:
    text = t["text_value"]
    coded = pc.struct_field(pc.extract_regex(pc.fill_null(text, ""), _CODED), "display")
    is_coded = pc.match_substring_regex(pc.fill_null(text, ""), _CODED)
    text = pc.if_else(is_coded, coded, text)
    return pc.coalesce(t["numeric_value"].cast(_STR), text)


def _value_type(t: pa.Table) -> pa.Array:
    return pc.if_else(pc.is_valid(t["numeric_value"]), "numeric", "text")


_PATIENT: Column = ("PATIENT", _col("_patient"))
_ENCOUNTER: Column = ("ENCOUNTER", _col("_encounter"))
_CODE: Column = ("CODE", _col("code"))
_SYSTEM: Column = ("SYSTEM", _col("code_system"))
_DESCRIPTION: Column = ("DESCRIPTION", _col("display"))
_REASON: tuple[Column, ...] = (("REASONCODE", _empty), ("REASONDESCRIPTION", _empty))


def _blank(*headers: str) -> tuple[Column, ...]:
    return tuple((h, _empty) for h in headers)


#: ``patients.csv``: one row per person (``Id`` is added by the exporter as ``_patient``).
PATIENT_COLUMNS: tuple[Column, ...] = (
    ("Id", _col("_patient")), ("BIRTHDATE", _date("birth_time")), ("DEATHDATE", _date("death_time")),
    *_blank("SSN", "DRIVERS", "PASSPORT", "PREFIX"), ("FIRST", _col("given_name")), ("MIDDLE", _empty),
    ("LAST", _col("family_name")), *_blank("SUFFIX", "MAIDEN"), ("MARITAL", _col("marital_status")),
    ("RACE", _col("race")), ("ETHNICITY", _col("ethnicity")), ("GENDER", _col("sex")), ("BIRTHPLACE", _empty),
    ("ADDRESS", _empty), ("CITY", _empty), ("STATE", _col("state")),
    *_blank("COUNTY", "FIPS", "ZIP", "LAT", "LON", "HEALTHCARE_EXPENSES", "HEALTHCARE_COVERAGE"),
    ("INCOME", _col("income")),
)

#: Event files: name -> (the event ``kind`` it holds, its columns). ``imaging_studies`` is
#: built row by row (one row per series) by the exporter; its getters read the series columns.
SYNTHEA_TABLES: dict[str, tuple[str, tuple[Column, ...]]] = {
    "encounters": ("encounter", (
        ("Id", _col("_encounter")), ("START", _time("time")), ("STOP", _time("end_time")), _PATIENT,
        ("ORGANIZATION", _col("_organization")), ("PROVIDER", _col("_provider")), ("PAYER", _empty),
        ("ENCOUNTERCLASS", _col("text_value")), _CODE, _DESCRIPTION,
        *_blank("BASE_ENCOUNTER_COST", "TOTAL_CLAIM_COST", "PAYER_COVERAGE"), *_REASON)),
    "conditions": ("condition", (
        ("START", _date("time")), ("STOP", _date("end_time")), _PATIENT, _ENCOUNTER, _SYSTEM, _CODE, _DESCRIPTION)),
    "medications": ("medication", (
        ("START", _time("time")), ("STOP", _time("end_time")), _PATIENT, ("PAYER", _empty), _ENCOUNTER, _CODE,
        _DESCRIPTION, *_blank("BASE_COST", "PAYER_COVERAGE", "DISPENSES", "TOTALCOST"), *_REASON)),
    "observations": ("observation", (
        ("DATE", _time("time")), _PATIENT, _ENCOUNTER, ("CATEGORY", _category), _CODE, _DESCRIPTION,
        ("VALUE", _value), ("UNITS", _col("unit")), ("TYPE", _value_type))),
    "procedures": ("procedure", (
        ("START", _time("time")), ("STOP", _time("end_time")), _PATIENT, _ENCOUNTER, _SYSTEM, _CODE, _DESCRIPTION,
        ("BASE_COST", _empty), *_REASON)),
    "immunizations": ("immunization", (
        ("DATE", _time("time")), _PATIENT, _ENCOUNTER, _CODE, _DESCRIPTION, ("BASE_COST", _empty))),
    "allergies": ("allergy", (
        ("START", _date("time")), ("STOP", _date("end_time")), _PATIENT, _ENCOUNTER, _CODE, _SYSTEM, _DESCRIPTION,
        *_blank("TYPE", "CATEGORY", "REACTION1", "DESCRIPTION1", "SEVERITY1", "REACTION2", "DESCRIPTION2",
                "SEVERITY2"))),
    "careplans": ("careplan", (
        ("Id", _col("_careplan")), ("START", _date("time")), ("STOP", _date("end_time")), _PATIENT, _ENCOUNTER,
        _CODE, _DESCRIPTION, *_REASON)),
    "imaging_studies": ("imaging", (
        ("Id", _col("_study")), ("DATE", _time("time")), _PATIENT, _ENCOUNTER, ("SERIES_UID", _col("_series_uid")),
        ("BODYSITE_CODE", _col("_body_site_code")), ("BODYSITE_DESCRIPTION", _col("_body_site")),
        ("MODALITY_CODE", _col("_modality")), ("MODALITY_DESCRIPTION", _col("_modality_name")),
        ("INSTANCE_UID", _col("_instance")), ("SOP_CODE", _col("_sop")), ("SOP_DESCRIPTION", _col("_sop_name")),
        ("PROCEDURE_CODE", _col("code")))),
    "devices": ("device", (
        ("START", _time("time")), ("STOP", _time("end_time")), _PATIENT, _ENCOUNTER, _CODE, _DESCRIPTION,
        ("UDI", _empty))),
    "supplies": ("supply", (
        ("DATE", _date("time")), _PATIENT, _ENCOUNTER, _CODE, _DESCRIPTION, ("QUANTITY", _col("numeric_value")))),
}

#: Files written once at the end from what the run holds (organizations, providers) or
#: with their header only (Hygeia simulates no payers, insurance or claims).
AGGREGATE_HEADERS: dict[str, tuple[str, ...]] = {
    "organizations": ("Id", "NAME", "ADDRESS", "CITY", "STATE", "ZIP", "LAT", "LON", "PHONE", "REVENUE",
                      "UTILIZATION"),
    "providers": ("Id", "ORGANIZATION", "NAME", "GENDER", "SPECIALITY", "ADDRESS", "CITY", "STATE", "ZIP", "LAT",
                  "LON", "ENCOUNTERS", "PROCEDURES"),
    "payers": ("Id", "NAME", "OWNERSHIP", "ADDRESS", "CITY", "STATE_HEADQUARTERED", "ZIP", "PHONE",
               "AMOUNT_COVERED", "AMOUNT_UNCOVERED", "REVENUE", "COVERED_ENCOUNTERS", "UNCOVERED_ENCOUNTERS",
               "COVERED_MEDICATIONS", "UNCOVERED_MEDICATIONS", "COVERED_PROCEDURES", "UNCOVERED_PROCEDURES",
               "COVERED_IMMUNIZATIONS", "UNCOVERED_IMMUNIZATIONS", "UNIQUE_CUSTOMERS", "QOLS_AVG", "MEMBER_MONTHS"),
    "payer_transitions": ("PATIENT", "MEMBERID", "START_DATE", "END_DATE", "PAYER", "SECONDARY_PAYER",
                          "PLAN_OWNERSHIP", "OWNER_NAME"),
    "claims": ("Id", "PATIENTID", "PROVIDERID", "PRIMARYPATIENTINSURANCEID", "SECONDARYPATIENTINSURANCEID",
               "DEPARTMENTID", "PATIENTDEPARTMENTID", *(f"DIAGNOSIS{i}" for i in range(1, 9)),
               "REFERRINGPROVIDERID", "APPOINTMENTID", "CURRENTILLNESSDATE", "SERVICEDATE", "SUPERVISINGPROVIDERID",
               "STATUS1", "STATUS2", "STATUSP", "OUTSTANDING1", "OUTSTANDING2", "OUTSTANDINGP", "LASTBILLEDDATE1",
               "LASTBILLEDDATE2", "LASTBILLEDDATEP", "HEALTHCARECLAIMTYPEID1", "HEALTHCARECLAIMTYPEID2"),
    "claims_transactions": ("ID", "CLAIMID", "CHARGEID", "PATIENTID", "TYPE", "AMOUNT", "METHOD", "FROMDATE",
                            "TODATE", "PLACEOFSERVICE", "PROCEDURECODE", "MODIFIER1", "MODIFIER2", "DIAGNOSISREF1",
                            "DIAGNOSISREF2", "DIAGNOSISREF3", "DIAGNOSISREF4", "UNITS", "DEPARTMENTID", "NOTES",
                            "UNITAMOUNT", "TRANSFEROUTID", "TRANSFERTYPE", "PAYMENTS", "ADJUSTMENTS", "TRANSFERS",
                            "OUTSTANDING", "APPOINTMENTID", "LINENOTE", "PATIENTINSURANCEID", "FEESCHEDULEID",
                            "PROVIDERID", "SUPERVISINGPROVIDERID"),
}

#: Kinds of events Synthea's CSV has no file for: counted as ``skipped: <kind>``, not written.
#: (Synthea writes neither diagnostic reports, causes of death, symptoms nor notes to CSV.)
UNMAPPED_KINDS = ("diagnostic_report", "death", "symptom", "note")
