"""FHIR R4 (4.0.1): export Hygeia records as transaction Bundles or bulk NDJSON, and import FHIR back.

- ``export(run, "fhir", out)``: one transaction Bundle per patient (``patient-<id>.json``).
- ``export(run, "ndjson", out)``: bulk data, one ``<ResourceType>.ndjson`` per resource type.
- :func:`import_fhir`: NDJSON files or Bundles -> a Hygeia run folder.
- :func:`validate_fhir`: check an export against the R4 structure definitions (fhirkit-rs)
  and Hygeia's own rules (required codes, references that resolve, the synthetic tag,
  Hygeia's extensions as their StructureDefinitions say).
- :func:`definitions`: the StructureDefinitions of Hygeia's extensions (JSON files in
  :data:`DEFINITIONS_DIR`), to load into a server or validator before the data.

See docs/fhir.md for the mapping.

Example:
    >>> from hygeia.export import export
    >>> from hygeia.export.fhir import import_fhir, validate_fhir
    >>> export("output", "ndjson", "bulk")  # doctest: +SKIP
    >>> validate_fhir("bulk").errors  # doctest: +SKIP
    []
    >>> import_fhir("bulk", "records")  # doctest: +SKIP
"""

from hygeia.export.fhir._definitions import DEFINITIONS_DIR, definitions
from hygeia.export.fhir._import import import_fhir
from hygeia.export.fhir._validate import ValidationReport, validate_fhir
from hygeia.export.fhir._writers import FhirBundleExporter, FhirNdjsonExporter

__all__ = ["DEFINITIONS_DIR", "FhirBundleExporter", "FhirNdjsonExporter", "ValidationReport", "definitions",
           "import_fhir", "validate_fhir"]
