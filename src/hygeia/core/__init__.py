"""Core: canonical records, seeds, run configuration, storage and executors."""

from hygeia.core.config import RunConfig
from hygeia.core.schema import EVENT_KINDS, EVENTS_SCHEMA, PERSONS_SCHEMA
from hygeia.core.seeding import SeedTree, resolve_seed

__all__ = ["EVENTS_SCHEMA", "EVENT_KINDS", "PERSONS_SCHEMA", "RunConfig", "SeedTree", "resolve_seed"]
