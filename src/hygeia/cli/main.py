"""The ``hygeia`` command group.

Every :class:`~hygeia.errors.HygeiaError` is shown as a short message in the
CLI's words (option names, not Python keywords) without a traceback and exits
with status 2, like click's own usage errors; so does a missing optional package,
naming the ``pip install 'hygeia[extra]'`` to run. Ctrl-C
(SIGINT) and SIGTERM stop the workers, delete temporary output (a previous
output stays as it was) and exit with 130 and 143, as shells expect; a
``generate`` or ``export`` stopped after some shards were written keeps them
(verified by their checksums) for ``--resume`` and says where.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from hygeia import __version__
from hygeia.cli.calibrate import calibrate_group
from hygeia.cli.evaluate import evaluate_command
from hygeia.cli.export import export_command, import_fhir_command
from hygeia.cli.generate import generate_command
from hygeia.cli.images import images_group
from hygeia.cli.inspect import inspect_command
from hygeia.cli.molecules import molecules_group
from hygeia.cli.notes import notes_group
from hygeia.cli.serve import serve_command
from hygeia.cli.tabular import fit_command, metadata_command, sample_command
from hygeia.cli.tutor import tutor_group
from hygeia.cli.twin import twin_group
from hygeia.cli._common import CliError, cli_words, missing_extra
from hygeia.core.executors import raise_on_sigterm
from hygeia.errors import HygeiaError, Terminated

__all__ = ["CliError", "main", "run"]


class HygeiaGroup(click.Group):
    """A click group that turns Hygeia's errors into clean CLI errors."""

    def invoke(self, ctx: click.Context) -> Any:
        raise_on_sigterm()
        try:
            return super().invoke(ctx)
        except HygeiaError as e:
            raise CliError(cli_words(str(e), None)) from None
        except ImportError as e:  # an optional package imported outside a command's own guard
            message = missing_extra(e)
            if message is None:
                raise
            raise CliError(message) from None
        except (KeyboardInterrupt, Terminated) as e:
            what = "interrupted (Ctrl-C)" if isinstance(e, KeyboardInterrupt) else "terminated (SIGTERM)"
            kept = getattr(e, "kept", None)
            if kept is None:
                click.echo(f"\nStopped: {what}. Workers were stopped and no partial output was left; "
                           "any previous output is unchanged.", err=True)
            else:
                folder, done, total = kept
                click.echo(f"\nStopped: {what}. Workers were stopped; any previous output is unchanged. The "
                           f"{done} of {total} shards finished are kept in {folder}: to continue from them, run "
                           "the same command again with --resume (or delete it; the next successful run to the "
                           "same --out also removes it).", err=True)
            raise click.exceptions.Exit(130 if isinstance(e, KeyboardInterrupt) else 143) from None


@click.group(
    cls=HygeiaGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Example:
  hygeia generate -n 1000 --seed 1 --out output
  hygeia inspect output
  hygeia export output --format fhir --out fhir
  hygeia fit cohort.csv --out cohort_model
  hygeia sample cohort_model -n 10000 --seed 1 --out synthetic.parquet
  hygeia molecules sample -n 1000 --seed 1 --out novel.smi

Run 'hygeia COMMAND --help' for the options of a command.""",
)
@click.version_option(__version__, "-V", "--version", prog_name="hygeia", message="%(prog)s %(version)s")
def main() -> None:
    """Hygeia: synthetic patients and generative AI for healthcare."""


main.add_command(generate_command)
main.add_command(inspect_command)
main.add_command(calibrate_group)
main.add_command(export_command)
main.add_command(import_fhir_command)
main.add_command(evaluate_command)
main.add_command(metadata_command)
main.add_command(fit_command)
main.add_command(sample_command)
main.add_command(molecules_group)
main.add_command(notes_group)
main.add_command(images_group)
main.add_command(twin_group)
main.add_command(tutor_group)
main.add_command(serve_command)


def run() -> None:
    """The ``hygeia`` console command: :data:`main`, and an interrupted run ends at once.

    By the time Ctrl-C or SIGTERM reaches here as exit status 130 or 143, every ``with``
    block has run: temporary output is deleted and worker processes are stopped. The
    process then exits without the interpreter's shutdown hooks, which can wait forever
    on a queue whose worker processes were killed mid-write (``multiprocessing`` feeder
    threads).
    """
    try:
        main()
    except SystemExit as e:
        if e.code in (130, 143):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(e.code)
        raise
