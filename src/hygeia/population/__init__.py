"""Population simulator: Synthea-compatible modules, lifecycle and demographics."""
