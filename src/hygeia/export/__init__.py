"""Exporters: one per format behind one interface (:class:`Exporter`) and a registry."""

from hygeia.export._base import EXPORTERS, Exporter, export, register_exporter

__all__ = ["EXPORTERS", "Exporter", "export", "register_exporter"]
