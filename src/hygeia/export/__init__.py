"""Exporters: one per format behind one interface (:class:`Exporter`) and a registry."""

from hygeia.export._base import EXPORTERS, Exporter, export, register_exporter
from hygeia.export._notes import NOTE_TYPES, note_events
from hygeia.export import _csv as _csv  # registers "csv"
from hygeia.export import _meds as _meds  # registers "meds"
from hygeia.export import omop as omop  # registers "omop"
from hygeia.export import fhir as fhir  # registers "fhir" and "ndjson"
from hygeia.export import _synthea_csv as _synthea_csv  # registers "synthea-csv"

__all__ = ["EXPORTERS", "NOTE_TYPES", "Exporter", "export", "note_events", "register_exporter"]
