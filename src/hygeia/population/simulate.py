"""Simulate one shard of persons into canonical ``persons`` / ``events`` tables.

PLACEHOLDER: the real engine replaces the body of :func:`simulate_shard`; the
signature is the contract the executors and CLI code against.
"""

from __future__ import annotations

import pyarrow as pa

from hygeia.core.config import RunConfig
from hygeia.core.schema import EVENTS_SCHEMA, PERSONS_SCHEMA

__all__ = ["simulate_shard"]


def simulate_shard(config: RunConfig, first: int, count: int) -> tuple[pa.Table, pa.Table]:
    """Simulate persons ``first .. first+count-1`` (0-based indexes) of a run.

    ``config.seed`` must already be resolved to an int. The result depends only
    on (config, person index), never on which worker runs it or on shard size.
    subject_id of person index i is i + 1.

    Returns:
        ``(persons, events)`` with :data:`PERSONS_SCHEMA` and :data:`EVENTS_SCHEMA`,
        events sorted by (subject_id, time).
    """
    return PERSONS_SCHEMA.empty_table(), EVENTS_SCHEMA.empty_table()
