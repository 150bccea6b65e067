"""Generators learned from a user's own tables and visit sequences.

Every generator follows :class:`hygeia.core.generator.Generator`; metadata is
detected from the data (:class:`Metadata`) and can be overridden.
"""

from hygeia.tabular.metadata import ColumnSpec, Metadata

__all__ = ["ColumnSpec", "Metadata"]
