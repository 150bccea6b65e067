"""The OMOP CDM v5.4 tables Hygeia loads, as data, rendered to DuckDB or PostgreSQL DDL.

Table names, column names, column order, types and required (``NOT NULL``) flags
follow the OHDSI CDM v5.4 specification (the clinical, health-system and
derived tables listed in :data:`CDM_TABLES`). Types are the specification's own
(``integer``, ``bigint``, ``float``, ``date``, ``datetime``, ``varchar(n)``,
``text``) and are rendered per engine as OHDSI renders them for PostgreSQL:
``datetime`` becomes ``TIMESTAMP`` and ``float`` becomes ``NUMERIC``. DuckDB's
``NUMERIC`` means ``DECIMAL(18,3)``, which would round measurements, so
``float`` becomes ``DOUBLE`` there.

:data:`VOCABULARY_TABLES` are the standardized vocabulary tables, filled from
an Athena download or Hygeia's own vocabulary. Primary keys are those of the
specification's primary-key file and are added after the load (faster, and a
duplicate id fails the whole load). The foreign keys and indices of the
official release are left out (a partial Athena download would break them).

Example:
    >>> print(render_table("death", "postgresql").splitlines()[0])
    CREATE TABLE death (
    >>> "person" in CDM_TABLES
    True
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "ALL_TABLES",
    "CDM_TABLES",
    "CDM_VERSION",
    "PRIMARY_KEYS",
    "VOCABULARY_TABLES",
    "Dialect",
    "quote_name",
    "render_ddl",
    "render_primary_keys",
    "render_table",
    "varchar_length",
]

CDM_VERSION = "5.4"

Dialect = Literal["duckdb", "postgresql"]

#: (column, CDM type, required) per table, in specification order.
CDM_TABLES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "person": (
        ("person_id", "integer", True),
        ("gender_concept_id", "integer", True),
        ("year_of_birth", "integer", True),
        ("month_of_birth", "integer", False),
        ("day_of_birth", "integer", False),
        ("birth_datetime", "datetime", False),
        ("race_concept_id", "integer", True),
        ("ethnicity_concept_id", "integer", True),
        ("location_id", "integer", False),
        ("provider_id", "integer", False),
        ("care_site_id", "integer", False),
        ("person_source_value", "varchar(50)", False),
        ("gender_source_value", "varchar(50)", False),
        ("gender_source_concept_id", "integer", False),
        ("race_source_value", "varchar(50)", False),
        ("race_source_concept_id", "integer", False),
        ("ethnicity_source_value", "varchar(50)", False),
        ("ethnicity_source_concept_id", "integer", False),
    ),
    "observation_period": (
        ("observation_period_id", "integer", True),
        ("person_id", "integer", True),
        ("observation_period_start_date", "date", True),
        ("observation_period_end_date", "date", True),
        ("period_type_concept_id", "integer", True),
    ),
    "visit_occurrence": (
        ("visit_occurrence_id", "integer", True),
        ("person_id", "integer", True),
        ("visit_concept_id", "integer", True),
        ("visit_start_date", "date", True),
        ("visit_start_datetime", "datetime", False),
        ("visit_end_date", "date", True),
        ("visit_end_datetime", "datetime", False),
        ("visit_type_concept_id", "integer", True),
        ("provider_id", "integer", False),
        ("care_site_id", "integer", False),
        ("visit_source_value", "varchar(50)", False),
        ("visit_source_concept_id", "integer", False),
        ("admitted_from_concept_id", "integer", False),
        ("admitted_from_source_value", "varchar(50)", False),
        ("discharged_to_concept_id", "integer", False),
        ("discharged_to_source_value", "varchar(50)", False),
        ("preceding_visit_occurrence_id", "integer", False),
    ),
    "visit_detail": (
        ("visit_detail_id", "integer", True),
        ("person_id", "integer", True),
        ("visit_detail_concept_id", "integer", True),
        ("visit_detail_start_date", "date", True),
        ("visit_detail_start_datetime", "datetime", False),
        ("visit_detail_end_date", "date", True),
        ("visit_detail_end_datetime", "datetime", False),
        ("visit_detail_type_concept_id", "integer", True),
        ("provider_id", "integer", False),
        ("care_site_id", "integer", False),
        ("visit_detail_source_value", "varchar(50)", False),
        ("visit_detail_source_concept_id", "integer", False),
        ("admitted_from_concept_id", "integer", False),
        ("admitted_from_source_value", "varchar(50)", False),
        ("discharged_to_source_value", "varchar(50)", False),
        ("discharged_to_concept_id", "integer", False),
        ("preceding_visit_detail_id", "integer", False),
        ("parent_visit_detail_id", "integer", False),
        ("visit_occurrence_id", "integer", True),
    ),
    "condition_occurrence": (
        ("condition_occurrence_id", "integer", True),
        ("person_id", "integer", True),
        ("condition_concept_id", "integer", True),
        ("condition_start_date", "date", True),
        ("condition_start_datetime", "datetime", False),
        ("condition_end_date", "date", False),
        ("condition_end_datetime", "datetime", False),
        ("condition_type_concept_id", "integer", True),
        ("condition_status_concept_id", "integer", False),
        ("stop_reason", "varchar(20)", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("condition_source_value", "varchar(50)", False),
        ("condition_source_concept_id", "integer", False),
        ("condition_status_source_value", "varchar(50)", False),
    ),
    "drug_exposure": (
        ("drug_exposure_id", "integer", True),
        ("person_id", "integer", True),
        ("drug_concept_id", "integer", True),
        ("drug_exposure_start_date", "date", True),
        ("drug_exposure_start_datetime", "datetime", False),
        ("drug_exposure_end_date", "date", True),
        ("drug_exposure_end_datetime", "datetime", False),
        ("verbatim_end_date", "date", False),
        ("drug_type_concept_id", "integer", True),
        ("stop_reason", "varchar(20)", False),
        ("refills", "integer", False),
        ("quantity", "float", False),
        ("days_supply", "integer", False),
        ("sig", "text", False),
        ("route_concept_id", "integer", False),
        ("lot_number", "varchar(50)", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("drug_source_value", "varchar(50)", False),
        ("drug_source_concept_id", "integer", False),
        ("route_source_value", "varchar(50)", False),
        ("dose_unit_source_value", "varchar(50)", False),
    ),
    "procedure_occurrence": (
        ("procedure_occurrence_id", "integer", True),
        ("person_id", "integer", True),
        ("procedure_concept_id", "integer", True),
        ("procedure_date", "date", True),
        ("procedure_datetime", "datetime", False),
        ("procedure_end_date", "date", False),
        ("procedure_end_datetime", "datetime", False),
        ("procedure_type_concept_id", "integer", True),
        ("modifier_concept_id", "integer", False),
        ("quantity", "integer", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("procedure_source_value", "varchar(50)", False),
        ("procedure_source_concept_id", "integer", False),
        ("modifier_source_value", "varchar(50)", False),
    ),
    "device_exposure": (
        ("device_exposure_id", "integer", True),
        ("person_id", "integer", True),
        ("device_concept_id", "integer", True),
        ("device_exposure_start_date", "date", True),
        ("device_exposure_start_datetime", "datetime", False),
        ("device_exposure_end_date", "date", False),
        ("device_exposure_end_datetime", "datetime", False),
        ("device_type_concept_id", "integer", True),
        ("unique_device_id", "varchar(255)", False),
        ("production_id", "varchar(255)", False),
        ("quantity", "integer", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("device_source_value", "varchar(50)", False),
        ("device_source_concept_id", "integer", False),
        ("unit_concept_id", "integer", False),
        ("unit_source_value", "varchar(50)", False),
        ("unit_source_concept_id", "integer", False),
    ),
    "measurement": (
        ("measurement_id", "integer", True),
        ("person_id", "integer", True),
        ("measurement_concept_id", "integer", True),
        ("measurement_date", "date", True),
        ("measurement_datetime", "datetime", False),
        ("measurement_time", "varchar(10)", False),
        ("measurement_type_concept_id", "integer", True),
        ("operator_concept_id", "integer", False),
        ("value_as_number", "float", False),
        ("value_as_concept_id", "integer", False),
        ("unit_concept_id", "integer", False),
        ("range_low", "float", False),
        ("range_high", "float", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("measurement_source_value", "varchar(50)", False),
        ("measurement_source_concept_id", "integer", False),
        ("unit_source_value", "varchar(50)", False),
        ("unit_source_concept_id", "integer", False),
        ("value_source_value", "varchar(50)", False),
        ("measurement_event_id", "bigint", False),
        ("meas_event_field_concept_id", "integer", False),
    ),
    "observation": (
        ("observation_id", "integer", True),
        ("person_id", "integer", True),
        ("observation_concept_id", "integer", True),
        ("observation_date", "date", True),
        ("observation_datetime", "datetime", False),
        ("observation_type_concept_id", "integer", True),
        ("value_as_number", "float", False),
        ("value_as_string", "varchar(60)", False),
        ("value_as_concept_id", "integer", False),
        ("qualifier_concept_id", "integer", False),
        ("unit_concept_id", "integer", False),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("observation_source_value", "varchar(50)", False),
        ("observation_source_concept_id", "integer", False),
        ("unit_source_value", "varchar(50)", False),
        ("qualifier_source_value", "varchar(50)", False),
        ("value_source_value", "varchar(50)", False),
        ("observation_event_id", "bigint", False),
        ("obs_event_field_concept_id", "integer", False),
    ),
    "death": (
        ("person_id", "integer", True),
        ("death_date", "date", True),
        ("death_datetime", "datetime", False),
        ("death_type_concept_id", "integer", False),
        ("cause_concept_id", "integer", False),
        ("cause_source_value", "varchar(50)", False),
        ("cause_source_concept_id", "integer", False),
    ),
    "note": (
        ("note_id", "integer", True),
        ("person_id", "integer", True),
        ("note_date", "date", True),
        ("note_datetime", "datetime", False),
        ("note_type_concept_id", "integer", True),
        ("note_class_concept_id", "integer", True),
        ("note_title", "varchar(250)", False),
        ("note_text", "text", True),
        ("encoding_concept_id", "integer", True),
        ("language_concept_id", "integer", True),
        ("provider_id", "integer", False),
        ("visit_occurrence_id", "integer", False),
        ("visit_detail_id", "integer", False),
        ("note_source_value", "varchar(50)", False),
        ("note_event_id", "bigint", False),
        ("note_event_field_concept_id", "integer", False),
    ),
    "note_nlp": (
        ("note_nlp_id", "integer", True),
        ("note_id", "integer", True),
        ("section_concept_id", "integer", False),
        ("snippet", "varchar(250)", False),
        ("offset", "varchar(50)", False),
        ("lexical_variant", "varchar(250)", True),
        ("note_nlp_concept_id", "integer", False),
        ("note_nlp_source_concept_id", "integer", False),
        ("nlp_system", "varchar(250)", False),
        ("nlp_date", "date", True),
        ("nlp_datetime", "datetime", False),
        ("term_exists", "varchar(1)", False),
        ("term_temporal", "varchar(50)", False),
        ("term_modifiers", "varchar(2000)", False),
    ),
    "specimen": (
        ("specimen_id", "integer", True),
        ("person_id", "integer", True),
        ("specimen_concept_id", "integer", True),
        ("specimen_type_concept_id", "integer", True),
        ("specimen_date", "date", True),
        ("specimen_datetime", "datetime", False),
        ("quantity", "float", False),
        ("unit_concept_id", "integer", False),
        ("anatomic_site_concept_id", "integer", False),
        ("disease_status_concept_id", "integer", False),
        ("specimen_source_id", "varchar(50)", False),
        ("specimen_source_value", "varchar(50)", False),
        ("unit_source_value", "varchar(50)", False),
        ("anatomic_site_source_value", "varchar(50)", False),
        ("disease_status_source_value", "varchar(50)", False),
    ),
    "fact_relationship": (
        ("domain_concept_id_1", "integer", True),
        ("fact_id_1", "integer", True),
        ("domain_concept_id_2", "integer", True),
        ("fact_id_2", "integer", True),
        ("relationship_concept_id", "integer", True),
    ),
    "location": (
        ("location_id", "integer", True),
        ("address_1", "varchar(50)", False),
        ("address_2", "varchar(50)", False),
        ("city", "varchar(50)", False),
        ("state", "varchar(2)", False),
        ("zip", "varchar(9)", False),
        ("county", "varchar(20)", False),
        ("location_source_value", "varchar(50)", False),
        ("country_concept_id", "integer", False),
        ("country_source_value", "varchar(80)", False),
        ("latitude", "float", False),
        ("longitude", "float", False),
    ),
    "care_site": (
        ("care_site_id", "integer", True),
        ("care_site_name", "varchar(255)", False),
        ("place_of_service_concept_id", "integer", False),
        ("location_id", "integer", False),
        ("care_site_source_value", "varchar(50)", False),
        ("place_of_service_source_value", "varchar(50)", False),
    ),
    "provider": (
        ("provider_id", "integer", True),
        ("provider_name", "varchar(255)", False),
        ("npi", "varchar(20)", False),
        ("dea", "varchar(20)", False),
        ("specialty_concept_id", "integer", False),
        ("care_site_id", "integer", False),
        ("year_of_birth", "integer", False),
        ("gender_concept_id", "integer", False),
        ("provider_source_value", "varchar(50)", False),
        ("specialty_source_value", "varchar(50)", False),
        ("specialty_source_concept_id", "integer", False),
        ("gender_source_value", "varchar(50)", False),
        ("gender_source_concept_id", "integer", False),
    ),
    "payer_plan_period": (
        ("payer_plan_period_id", "integer", True),
        ("person_id", "integer", True),
        ("payer_plan_period_start_date", "date", True),
        ("payer_plan_period_end_date", "date", True),
        ("payer_concept_id", "integer", False),
        ("payer_source_value", "varchar(50)", False),
        ("payer_source_concept_id", "integer", False),
        ("plan_concept_id", "integer", False),
        ("plan_source_value", "varchar(50)", False),
        ("plan_source_concept_id", "integer", False),
        ("sponsor_concept_id", "integer", False),
        ("sponsor_source_value", "varchar(50)", False),
        ("sponsor_source_concept_id", "integer", False),
        ("family_source_value", "varchar(50)", False),
        ("stop_reason_concept_id", "integer", False),
        ("stop_reason_source_value", "varchar(50)", False),
        ("stop_reason_source_concept_id", "integer", False),
    ),
    "cost": (
        ("cost_id", "integer", True),
        ("cost_event_id", "integer", True),
        ("cost_domain_id", "varchar(20)", True),
        ("cost_type_concept_id", "integer", True),
        ("currency_concept_id", "integer", False),
        ("total_charge", "float", False),
        ("total_cost", "float", False),
        ("total_paid", "float", False),
        ("paid_by_payer", "float", False),
        ("paid_by_patient", "float", False),
        ("paid_patient_copay", "float", False),
        ("paid_patient_coinsurance", "float", False),
        ("paid_patient_deductible", "float", False),
        ("paid_by_primary", "float", False),
        ("paid_ingredient_cost", "float", False),
        ("paid_dispensing_fee", "float", False),
        ("payer_plan_period_id", "integer", False),
        ("amount_allowed", "float", False),
        ("revenue_code_concept_id", "integer", False),
        ("revenue_code_source_value", "varchar(50)", False),
        ("drg_concept_id", "integer", False),
        ("drg_source_value", "varchar(3)", False),
    ),
    "condition_era": (
        ("condition_era_id", "integer", True),
        ("person_id", "integer", True),
        ("condition_concept_id", "integer", True),
        ("condition_era_start_date", "datetime", True),
        ("condition_era_end_date", "datetime", True),
        ("condition_occurrence_count", "integer", False),
    ),
    "drug_era": (
        ("drug_era_id", "integer", True),
        ("person_id", "integer", True),
        ("drug_concept_id", "integer", True),
        ("drug_era_start_date", "datetime", True),
        ("drug_era_end_date", "datetime", True),
        ("drug_exposure_count", "integer", False),
        ("gap_days", "integer", False),
    ),
    "dose_era": (
        ("dose_era_id", "integer", True),
        ("person_id", "integer", True),
        ("drug_concept_id", "integer", True),
        ("unit_concept_id", "integer", True),
        ("dose_value", "float", True),
        ("dose_era_start_date", "datetime", True),
        ("dose_era_end_date", "datetime", True),
    ),
    "episode": (
        ("episode_id", "bigint", True),
        ("person_id", "bigint", True),
        ("episode_concept_id", "integer", True),
        ("episode_start_date", "date", True),
        ("episode_start_datetime", "datetime", False),
        ("episode_end_date", "date", False),
        ("episode_end_datetime", "datetime", False),
        ("episode_parent_id", "bigint", False),
        ("episode_number", "integer", False),
        ("episode_object_concept_id", "integer", True),
        ("episode_type_concept_id", "integer", True),
        ("episode_source_value", "varchar(50)", False),
        ("episode_source_concept_id", "integer", False),
    ),
    "episode_event": (
        ("episode_id", "bigint", True),
        ("event_id", "bigint", True),
        ("episode_event_field_concept_id", "integer", True),
    ),
    "metadata": (
        ("metadata_id", "integer", True),
        ("metadata_concept_id", "integer", True),
        ("metadata_type_concept_id", "integer", True),
        ("name", "varchar(250)", True),
        ("value_as_string", "varchar(250)", False),
        ("value_as_concept_id", "integer", False),
        ("value_as_number", "float", False),
        ("metadata_date", "date", False),
        ("metadata_datetime", "datetime", False),
    ),
    "cdm_source": (
        ("cdm_source_name", "varchar(255)", True),
        ("cdm_source_abbreviation", "varchar(25)", True),
        ("cdm_holder", "varchar(255)", True),
        ("source_description", "text", False),
        ("source_documentation_reference", "varchar(255)", False),
        ("cdm_etl_reference", "varchar(255)", False),
        ("source_release_date", "date", True),
        ("cdm_release_date", "date", True),
        ("cdm_version", "varchar(10)", False),
        ("cdm_version_concept_id", "integer", True),
        ("vocabulary_version", "varchar(20)", True),
    ),
}

#: The standardized vocabulary tables (CDM 5.4), loaded from an Athena download (or Hygeia's own concepts).
VOCABULARY_TABLES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "concept": (
        ("concept_id", "integer", True),
        ("concept_name", "varchar(255)", True),
        ("domain_id", "varchar(20)", True),
        ("vocabulary_id", "varchar(20)", True),
        ("concept_class_id", "varchar(20)", True),
        ("standard_concept", "varchar(1)", False),
        ("concept_code", "varchar(50)", True),
        ("valid_start_date", "date", True),
        ("valid_end_date", "date", True),
        ("invalid_reason", "varchar(1)", False),
    ),
    "vocabulary": (
        ("vocabulary_id", "varchar(20)", True),
        ("vocabulary_name", "varchar(255)", True),
        ("vocabulary_reference", "varchar(255)", False),
        ("vocabulary_version", "varchar(255)", False),
        ("vocabulary_concept_id", "integer", True),
    ),
    "domain": (
        ("domain_id", "varchar(20)", True),
        ("domain_name", "varchar(255)", True),
        ("domain_concept_id", "integer", True),
    ),
    "concept_class": (
        ("concept_class_id", "varchar(20)", True),
        ("concept_class_name", "varchar(255)", True),
        ("concept_class_concept_id", "integer", True),
    ),
    "concept_relationship": (
        ("concept_id_1", "integer", True),
        ("concept_id_2", "integer", True),
        ("relationship_id", "varchar(20)", True),
        ("valid_start_date", "date", True),
        ("valid_end_date", "date", True),
        ("invalid_reason", "varchar(1)", False),
    ),
    "relationship": (
        ("relationship_id", "varchar(20)", True),
        ("relationship_name", "varchar(255)", True),
        ("is_hierarchical", "varchar(1)", True),
        ("defines_ancestry", "varchar(1)", True),
        ("reverse_relationship_id", "varchar(20)", True),
        ("relationship_concept_id", "integer", True),
    ),
    "concept_synonym": (
        ("concept_id", "integer", True),
        ("concept_synonym_name", "varchar(1000)", True),
        ("language_concept_id", "integer", True),
    ),
    "concept_ancestor": (
        ("ancestor_concept_id", "integer", True),
        ("descendant_concept_id", "integer", True),
        ("min_levels_of_separation", "integer", True),
        ("max_levels_of_separation", "integer", True),
    ),
    "drug_strength": (
        ("drug_concept_id", "integer", True),
        ("ingredient_concept_id", "integer", True),
        ("amount_value", "float", False),
        ("amount_unit_concept_id", "integer", False),
        ("numerator_value", "float", False),
        ("numerator_unit_concept_id", "integer", False),
        ("denominator_value", "float", False),
        ("denominator_unit_concept_id", "integer", False),
        ("box_size", "integer", False),
        ("valid_start_date", "date", True),
        ("valid_end_date", "date", True),
        ("invalid_reason", "varchar(1)", False),
    ),
}

#: The primary key of each table that has one in the specification (death has none).
PRIMARY_KEYS: dict[str, str] = {
    "person": "person_id",
    "observation_period": "observation_period_id",
    "visit_occurrence": "visit_occurrence_id",
    "condition_occurrence": "condition_occurrence_id",
    "drug_exposure": "drug_exposure_id",
    "procedure_occurrence": "procedure_occurrence_id",
    "measurement": "measurement_id",
    "observation": "observation_id",
    "note": "note_id",
    "location": "location_id",
    "care_site": "care_site_id",
    "provider": "provider_id",
    "device_exposure": "device_exposure_id",
    "visit_detail": "visit_detail_id",
    "note_nlp": "note_nlp_id",
    "specimen": "specimen_id",
    "payer_plan_period": "payer_plan_period_id",
    "cost": "cost_id",
    "episode": "episode_id",
    "metadata": "metadata_id",
    "condition_era": "condition_era_id",
    "drug_era": "drug_era_id",
    "dose_era": "dose_era_id",
    "concept": "concept_id",
    "vocabulary": "vocabulary_id",
    "domain": "domain_id",
    "concept_class": "concept_class_id",
    "relationship": "relationship_id",
}

#: Every table Hygeia creates: the CDM tables, then the vocabulary tables.
ALL_TABLES = {**CDM_TABLES, **VOCABULARY_TABLES}

_RESERVED = {"offset"}

_VARCHAR = re.compile(r"varchar\((\d+)\)")


def varchar_length(cdm_type: str) -> int | None:
    """The length ``n`` of a ``varchar(n)`` type, else None."""
    m = _VARCHAR.fullmatch(cdm_type)
    return int(m.group(1)) if m else None


def sql_type(cdm_type: str, dialect: Dialect) -> str:
    """The engine type of one CDM type."""
    if cdm_type == "float":
        return "DOUBLE" if dialect == "duckdb" else "NUMERIC"
    if cdm_type == "datetime":
        return "TIMESTAMP"
    if cdm_type == "text":
        return "TEXT"
    n = varchar_length(cdm_type)
    if n is not None:
        return f"VARCHAR({n})"
    return cdm_type.upper()


def quote_name(name: str) -> str:
    """A column name as SQL: quoted where it is a reserved word in DuckDB or PostgreSQL (``note_nlp.offset``)."""
    return f'"{name}"' if name in _RESERVED else name


def render_table(table: str, dialect: Dialect) -> str:
    """``CREATE TABLE`` for one CDM or vocabulary table in ``dialect``."""
    cols = ",\n".join(
        f"  {quote_name(name)} {sql_type(typ, dialect)} {'NOT NULL' if required else 'NULL'}"
        for name, typ, required in ALL_TABLES[table]
    )
    return f"CREATE TABLE {table} (\n{cols}\n);"


def render_ddl(dialect: Dialect) -> str:
    """``CREATE TABLE`` statements for every table in :data:`CDM_TABLES` and :data:`VOCABULARY_TABLES`."""
    return "\n\n".join(render_table(t, dialect) for t in ALL_TABLES) + "\n"


def render_primary_keys() -> list[str]:
    """``ALTER TABLE ... ADD CONSTRAINT xpk_<table> PRIMARY KEY`` statements (both engines)."""
    return [f"ALTER TABLE {t} ADD CONSTRAINT xpk_{t} PRIMARY KEY ({c});" for t, c in PRIMARY_KEYS.items()]
