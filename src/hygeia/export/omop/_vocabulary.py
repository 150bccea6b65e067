"""OMOP vocabularies: an Athena download (``--vocabulary DIR``) or Hygeia's own small one.

An Athena download is a folder of tab-separated files with a header row, no
quoting and dates written ``YYYYMMDD``: ``CONCEPT.csv`` and
``CONCEPT_RELATIONSHIP.csv`` (required), ``CONCEPT_ANCESTOR.csv``,
``DRUG_STRENGTH.csv``, ``VOCABULARY.csv``, ``DOMAIN.csv``, ``CONCEPT_CLASS.csv``,
``RELATIONSHIP.csv`` and ``CONCEPT_SYNONYM.csv`` (loaded when present). Without
``--vocabulary``, Hygeia's own vocabulary in the same layout is used
(``hygeia/export/omop/vocabulary/``, written by ``scripts/omop_vocabulary.py``):
it covers every code of the default modules, and its concept ids are synthetic
local ids above 2,000,000,000 except the few published ones the CDM conventions
name (see that folder's README.txt and docs/omop.md).

:class:`Vocabulary` reads the files into a DuckDB connection and derives the
lookups the exporter joins against:

- ``vmap``: every source code of SNOMED, LOINC, RxNorm and CVX -> its source
  concept and each valid standard concept it "Maps to" (a standard source
  concept without a "Maps to" row maps to itself), with the target's domain;
- ``vunit``: UCUM code -> standard unit concept;
- ``vroute``: SNOMED route code -> Route concept;
- ``vingredient``: drug concept -> its ingredient concepts (``CONCEPT_ANCESTOR``
  to concepts of class Ingredient), for ``drug_era``.

Example:
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> v = Vocabulary(None)
    >>> v.attach(con)
    >>> con.execute("SELECT count(*) > 0 FROM vmap WHERE vocabulary_id = 'LOINC'").fetchall()
    [(True,)]
    >>> v.local
    True
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from hygeia.errors import ConfigError, DataValidationError
from hygeia.export.omop._ddl import VOCABULARY_TABLES, sql_type

__all__ = ["SHIPPED_VOCABULARY", "SOURCE_VOCABULARIES", "Vocabulary"]

#: Hygeia's own vocabulary (Athena's layout), used without ``--vocabulary``.
SHIPPED_VOCABULARY = Path(__file__).resolve().parent / "vocabulary"

#: Hygeia ``code_system`` -> OMOP ``vocabulary_id`` of the codes the exporter maps.
SOURCE_VOCABULARIES = {"SNOMED-CT": "SNOMED", "LOINC": "LOINC", "RxNorm": "RxNorm", "CVX": "CVX"}

_REQUIRED = ("CONCEPT.csv", "CONCEPT_RELATIONSHIP.csv")
_FILES = {table: table.upper() + ".csv" for table in VOCABULARY_TABLES}
_DOWNLOAD = "download the vocabularies from https://athena.ohdsi.org and unzip them into one folder"


class Vocabulary:
    """The vocabulary of one export.

    Args:
        folder: an unzipped Athena download, or None for Hygeia's own vocabulary.

    Raises:
        ConfigError: the folder does not exist or lacks ``CONCEPT.csv`` or
            ``CONCEPT_RELATIONSHIP.csv``.
    """

    def __init__(self, folder: str | os.PathLike[str] | None) -> None:
        self.local = folder is None
        self.folder = SHIPPED_VOCABULARY if folder is None else Path(folder).expanduser()
        if not self.folder.is_dir():
            raise ConfigError(f"--vocabulary {str(folder)!r} is not a folder; {_DOWNLOAD} and pass that folder")
        missing = [f for f in _REQUIRED if self._file(f) is None]
        if missing:
            raise ConfigError(f"--vocabulary {str(folder)!r} has no {' or '.join(missing)}; {_DOWNLOAD} and pass "
                              "the folder that holds CONCEPT.csv")
        self.version = "Hygeia local"

    def _file(self, name: str) -> Path | None:
        for candidate in (name, name.lower()):
            path = self.folder / candidate
            if path.is_file():
                return path
        return None

    def _read_sql(self, table: str, path: Path) -> str:
        cols = VOCABULARY_TABLES[table]
        types = ", ".join(f"'{name}': '{_read_type(typ)}'" for name, typ, _ in cols)
        return (f"SELECT * FROM read_csv('{_quote(path)}', delim='\t', header=true, quote='', escape='', "
                f"columns={{{types}}}, dateformat='%Y%m%d', auto_detect=false, null_padding=true)")

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Read the vocabulary into ``con`` (tables named as the CDM's) and build the lookups."""
        for table, name in _FILES.items():
            path = self._file(name)
            cols = ", ".join(f"{n} {sql_type(t, 'duckdb')}" for n, t, _ in VOCABULARY_TABLES[table])
            con.execute(f"CREATE OR REPLACE TABLE {table} ({cols})")
            if path is None:
                continue
            _check_header(path, table)
            try:
                con.execute(f"INSERT INTO {table} {self._read_sql(table, path)}")
            except duckdb.Error as e:
                raise DataValidationError(
                    [f"{path}: {str(e).splitlines()[0]}"],
                    header="the vocabulary file is not in Athena's format (tab-separated, a header row, dates "
                           "YYYYMMDD); pass the unzipped Athena download unchanged",
                ) from None
        rows = con.execute("SELECT vocabulary_version FROM vocabulary WHERE vocabulary_id = 'None'").fetchall()
        if rows and rows[0][0]:
            self.version = str(rows[0][0])
        sources = ", ".join(f"'{v}'" for v in SOURCE_VOCABULARIES.values())
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE vmap AS
            WITH s AS (
                SELECT * FROM concept WHERE vocabulary_id IN ({sources})
                QUALIFY row_number() OVER (PARTITION BY vocabulary_id, concept_code
                                           ORDER BY invalid_reason NULLS FIRST, concept_id) = 1),
            m AS (
                SELECT r.concept_id_1, t.concept_id, t.domain_id
                FROM concept_relationship r JOIN concept t ON t.concept_id = r.concept_id_2
                WHERE r.relationship_id = 'Maps to' AND r.invalid_reason IS NULL
                  AND t.standard_concept = 'S' AND t.invalid_reason IS NULL
                  AND r.concept_id_1 IN (SELECT concept_id FROM s)),
            t AS (
                SELECT s.vocabulary_id, s.concept_code, s.concept_id AS source_concept_id,
                       coalesce(m.concept_id, CASE WHEN s.standard_concept = 'S' AND s.invalid_reason IS NULL
                                                   THEN s.concept_id END) AS concept_id,
                       coalesce(m.domain_id, CASE WHEN s.standard_concept = 'S' AND s.invalid_reason IS NULL
                                                  THEN s.domain_id END) AS domain_id
                FROM s LEFT JOIN m ON m.concept_id_1 = s.concept_id)
            SELECT *, row_number() OVER (PARTITION BY vocabulary_id, concept_code ORDER BY concept_id) - 1 AS k
            FROM t""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE vunit AS
            SELECT concept_code, min(concept_id) AS concept_id FROM concept
            WHERE vocabulary_id = 'UCUM' AND domain_id = 'Unit' AND standard_concept = 'S' AND invalid_reason IS NULL
            GROUP BY concept_code""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE vroute AS
            SELECT concept_code, min(concept_id) AS concept_id FROM concept
            WHERE vocabulary_id = 'SNOMED' AND domain_id = 'Route' AND standard_concept = 'S' AND invalid_reason IS NULL
            GROUP BY concept_code""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE vingredient AS
            SELECT DISTINCT a.descendant_concept_id AS drug_concept_id, a.ancestor_concept_id AS ingredient_concept_id
            FROM concept_ancestor a JOIN concept c ON c.concept_id = a.ancestor_concept_id
            WHERE c.concept_class_id = 'Ingredient' AND c.vocabulary_id IN ('RxNorm', 'RxNorm Extension')
              AND c.standard_concept = 'S' AND c.invalid_reason IS NULL""")
        rows = con.execute("SELECT min(concept_id) FROM concept WHERE vocabulary_id = 'CDM' "
                           "AND concept_code IN ('CDM v5.4', 'CDM v5.4.0')").fetchall()
        self.cdm_version_concept_id = int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def batches(self, con: duckdb.DuckDBPyConnection, table: str, rows: int = 200_000) -> Iterator[pa.Table]:
        """The rows of one vocabulary table (after :meth:`attach`), in bounded batches."""
        rel = con.sql(f"SELECT * FROM {table}")
        reader = (getattr(rel, "to_arrow_reader", None) or rel.fetch_record_batch)(rows)
        for batch in reader:
            if batch.num_rows:
                yield pa.Table.from_batches([batch])


def _read_type(cdm_type: str) -> str:
    return "VARCHAR" if cdm_type.startswith("varchar") else sql_type(cdm_type, "duckdb")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _check_header(path: Path, table: str) -> None:
    """Refuse a file whose header is not the table's columns, tab-separated."""
    with open(path, "rb") as f:
        head = f.readline(4096)
    try:
        text = head.decode("utf-8").strip().lstrip("\ufeff")
    except UnicodeDecodeError:
        text = ""
    expected = [name for name, _, _ in VOCABULARY_TABLES[table]]
    if [c.strip().lower() for c in text.split("\t")] != expected:
        shown = text[:120] if text else "(empty or binary)"
        raise DataValidationError(
            [f"{path}: header {shown!r}; expected {chr(9).join(expected)!r} (tab-separated)"],
            header="the vocabulary file is not in Athena's format; pass the unzipped Athena download unchanged",
        )
