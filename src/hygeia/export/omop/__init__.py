"""OMOP CDM v5.4 export: DuckDB (one file, the default) or PostgreSQL (``omop_url``).

See docs/omop.md for the mapping from Hygeia records, the concepts filled
offline and how to query the result.

Example:
    >>> from hygeia.export import export
    >>> from hygeia.export.omop import run_query
    >>> export("output", "omop", "cdm.duckdb")  # doctest: +SKIP
    >>> run_query("cdm.duckdb", "visits_per_person")  # doctest: +SKIP
"""

from hygeia.export.omop._ddl import CDM_TABLES, CDM_VERSION, render_ddl
from hygeia.export.omop._exporter import OmopExporter
from hygeia.export.omop._load import connect_postgres, safe_url
from hygeia.export.omop._queries import QUERIES, run_query

__all__ = ["CDM_TABLES", "CDM_VERSION", "QUERIES", "OmopExporter", "connect_postgres", "render_ddl", "run_query",
           "safe_url"]
