"""Population simulator: Synthea-compatible modules, lifecycle and demographics."""

from hygeia.population.generate import GenerateResult, generate
from hygeia.population.inspect import format_summary, summarize

__all__ = ["GenerateResult", "format_summary", "generate", "summarize"]
