"""Entries that are not (yet) in the record."""

from __future__ import annotations

__all__ = ["Undiagnosed"]


class Undiagnosed(list):
    """An onset's entry before its ``target_encounter`` diagnoses it: a row in no record.

    Synthea's ``State.OnsetState.process`` stores such a temporary entry in the
    ``assign_to_attribute`` attribute at onset, so that other modules see the
    attribute before diagnosis; diagnosis replaces it with the recorded entry.
    It has a record row's layout but is never written out nor indexed as active.
    """

    __slots__ = ()
