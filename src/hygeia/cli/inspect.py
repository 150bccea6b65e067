"""``hygeia inspect``: summarize a run folder."""

from __future__ import annotations

import json

import click

__all__ = ["inspect_command"]


@click.command(
    "inspect",
    epilog="""\b
Example:
  hygeia generate -n 1000 --seed 1 --out output
  hygeia inspect output
  hygeia inspect output --json > summary.json""",
)
@click.argument("directory", metavar="DIR")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="How many of the most common conditions to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def inspect_command(directory: str, top: int, as_json: bool) -> None:
    """Summarize the run in DIR: counts, top conditions and an age pyramid."""
    from hygeia.population.inspect import format_summary, summarize

    summary = summarize(directory, top=top)
    click.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))
