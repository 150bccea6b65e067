"""``hygeia generate``: simulate a population into a run folder."""

from __future__ import annotations

import click

from hygeia.cli._common import HygeiaCommand, echo_summary, quiet_option
from hygeia.core.progress import Summary, describe_output

__all__ = ["generate_command"]


@click.command(
    "generate", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia generate -n 1000 --seed 1 --out output
  hygeia generate -n 100000 --seed 7 --out big --workers 8
  hygeia generate -n 100000 --seed 7 --out big --workers 4 --resume   # after a kill: keep the shards done
  hygeia generate -n 500 --modules ./my_modules --no-default-modules --out mine
  hygeia generate -n 500 --modules synthea --no-default-modules --out synthea_run
  hygeia generate -n 1000000 --scheduler tcp://scheduler:8786 --out /data/pop
  hygeia generate -n 60 --seed 1 --out runs/pop_images --images --image-size 64 --format fhir

The same seed gives the same records on any number of workers or executors.""",
)
@click.option("-n", "n", type=int, required=True, metavar="N", help="Number of persons to make, alive or dead.")
@click.option("--seed", type=int, default=None, metavar="S", help="Run seed. Default: a fresh random one (recorded in run.json and printed).")
@click.option("--out", default="output", show_default=True, metavar="DIR", help="Output folder (must not exist or be empty).")
@click.option("--modules", "modules", multiple=True, metavar="DIR", help="Folder of Synthea-format JSON modules to run as well (repeatable); 'synthea' runs Synthea's own corpus, shipped with Hygeia.")
@click.option("--no-default-modules", is_flag=True, help="Do not run Hygeia's embedded module library.")
@click.option("--locale", default="us", show_default=True, metavar="NAME", help="Locale pack (demographics, names, states of residence).")
@click.option("--start", default=None, metavar="DATE", help="First date kept in the records (YYYY-MM-DD). Default: whole lifetimes.")
@click.option("--end", default=None, metavar="DATE", help="The simulated present (YYYY-MM-DD). Default: 2026-01-01.")
@click.option("--workers", type=int, default=None, metavar="K", help="Local worker processes. Default: one per CPU, at most one per shard.")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Run on a Dask cluster (tcp://host:8786), or 'local-dask'.")
@click.option("--shard-size", type=int, default=250, show_default=True, metavar="N", help="Persons per shard (one Parquet file per shard).")
@click.option("--overwrite", is_flag=True, help="Replace the output folder if it holds a previous run.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run of DIR (killed, or stopped after losing a worker) from the shards it wrote and verified, for the same records as an uninterrupted run. Pass its options again (--seed may be left out; --workers may change). Without an interrupted run, start afresh.")
@click.option("--format", "formats", multiple=True, type=click.Choice(("fhir", "ndjson", "omop", "meds", "csv", "synthea-csv")), help="Also export the run to this format, into the folder DIR/<format> (repeatable; omop: the file DIR/omop.duckdb).")
@click.option("--omop-url", default=None, metavar="URL", help="With --format omop: load into this PostgreSQL database instead.")
@click.option("--images", "images", is_flag=True, help="Also render one synthetic DICOM series per ImagingStudy event, showing the patient's findings, into DIR/images (as 'hygeia images link'; before any --format export, which then references them).")
@click.option("--image-size", type=int, default=128, show_default=True, metavar="PX", help="With --images: pixels across each image.")
@quiet_option
def generate_command(
    n: int,
    seed: int | None,
    out: str,
    modules: tuple[str, ...],
    no_default_modules: bool,
    locale: str,
    start: str | None,
    end: str | None,
    workers: int | None,
    scheduler: str | None,
    shard_size: int,
    overwrite: bool,
    resume: bool,
    formats: tuple[str, ...],
    omop_url: str | None,
    images: bool,
    image_size: int,
    quiet: bool,
) -> None:
    """Simulate N synthetic patients with lifetime records into DIR.

    Writes DIR/persons/*.parquet, DIR/events/*.parquet and DIR/run.json (the
    options, the seed and the module versions used). Nothing is left behind if
    the run fails, except after a kill (SIGKILL, power loss) or a lost worker:
    then --resume continues from the shards already written.
    """
    from hygeia.core.config import DEFAULT_END, RunConfig
    from hygeia.core.executors import default_workers
    from hygeia.population.generate import generate

    if workers is None:
        workers = 1 if scheduler else default_workers(n, shard_size)
    config = RunConfig(
        n=n,
        seed=seed,
        out=out,
        modules=modules,
        default_modules=not no_default_modules,
        locale=locale,
        start=start,
        end=end if end is not None else DEFAULT_END,
        workers=workers,
        scheduler=scheduler,
        shard_size=shard_size,
    )
    result = generate(config, overwrite=overwrite, resume=resume, quiet=quiet)
    summary = Summary(f"Made {result.n_persons:,} persons and {result.n_events:,} events in {result.seconds:.1f} s",
                      [("output", describe_output(result.out)),
                       ("seed", f"{result.seed}" + ("" if seed is not None else
                                                    f" (pass --seed {result.seed} to make the same records again)"))],
                      [f"hygeia inspect {out}", f"hygeia export {out} --format fhir --out {out}_fhir"])
    if images:
        from hygeia.cli._images_link import images_summary, link_images

        res = link_images(str(result.out), overwrite=True, size=image_size, modalities=(), quiet=quiet)
        for label, value in images_summary(res):
            summary.add(label, value)
    if formats:
        from hygeia.cli.export import export_formats

        for line in export_formats(str(result.out), formats, omop_url, overwrite, quiet=quiet):
            fmt, _, rest = line.partition(": ")
            summary.add(fmt, rest)
    echo_summary(summary, quiet=quiet)
