"""``hygeia notes``: clinical notes written from records, and their de-identification.

Each subcommand lives in its own private module (``_notes_write.py``...); this file only
holds the group, so that several subcommands can be added without touching each other.
"""

from __future__ import annotations

import click

from hygeia.cli._notes_deid import deid_command
from hygeia.cli._notes_summarize import summarize_command
from hygeia.cli._notes_write import write_command

__all__ = ["notes_group"]


@click.group("notes", epilog="""\b
Examples:
  hygeia generate -n 20 --seed 1 --out run
  hygeia notes write run --out run_notes --seed 1
  hygeia notes deid run_notes --out run_notes_deid --seed 1
  hygeia notes summarize run --kind instructions""")
def notes_group() -> None:
    """Clinical notes: write them from a run's records (one note per encounter), de-identify them, summarize a stay."""


notes_group.add_command(write_command)
notes_group.add_command(deid_command)
notes_group.add_command(summarize_command)
