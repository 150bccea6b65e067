"""``hygeia fit``, ``hygeia sample`` and ``hygeia metadata``: learned table and sequence generators."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from hygeia.cli._common import HygeiaCommand, echo_summary, quiet_option, refuse_existing
from hygeia.core.progress import Summary, describe_output, status
from hygeia.errors import ConfigError

__all__ = ["fit_command", "metadata_command", "sample_command"]

_MODEL_CHOICES = ["auto", "copula", "cart", "dp", "neural", "sequence"]


def _parse_set(values: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set takes KEY=VALUE (e.g. --set epochs=50); got {item!r}")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def _metadata(data: str, metadata: str | None, sequence_key: str | None, sequence_index: str | None,
              types: tuple[str, ...], public_metadata: str | None = None):
    from hygeia.tabular.api import read_table
    from hygeia.tabular.metadata import Metadata

    if metadata and public_metadata:
        raise ConfigError(
            f"--metadata {metadata!r} and --public-metadata {public_metadata!r} both give the metadata; pass one "
            "(--public-metadata declares every field of its file public, --metadata keeps each field's origin)"
        )
    if metadata or public_metadata:
        meta = Metadata.load(metadata or public_metadata)
        if public_metadata:
            meta = meta.as_declared()
        if sequence_key:
            meta.sequence_key = sequence_key
        if sequence_index:
            meta.sequence_index = sequence_index
        return meta
    overrides = {}
    for item in types:
        col, sep, kind = item.partition("=")
        if not sep:
            raise ConfigError(f"--type takes COLUMN=TYPE (e.g. --type zip=categorical); got {item!r}")
        overrides[col] = kind
    if not (sequence_key or sequence_index or overrides):
        return None
    return Metadata.detect(read_table(data), types=overrides, sequence_key=sequence_key, sequence_index=sequence_index)


@click.command(
    "fit", cls=HygeiaCommand,
    epilog="""\b
Example:
  hygeia fit cohort.csv --out cohort_model                      # --model auto
  hygeia fit cohort.csv --model dp --epsilon 1 --public-metadata codebook.json --out dp_model
  hygeia fit cohort.csv --model dp --epsilon 1 --release-detected-metadata --out dp_model
  hygeia fit visits.parquet --sequence-key id --sequence-index day --end-column futime --out visit_model
  hygeia sample cohort_model -n 10000 --seed 1 --out synthetic.parquet""",
)
@click.argument("data", metavar="DATA")
@click.option("--model", type=click.Choice(_MODEL_CHOICES), default="auto", show_default=True,
              help="Generator: auto picks dp when --epsilon is given, sequence for --sequence-key, else the default table model.")
@click.option("--epsilon", type=float, default=None, metavar="EPS",
              help="Differential-privacy budget ε (dp model; neural with DP-SGD), e.g. 1.0.")
@click.option("--delta", type=float, default=None, metavar="DELTA", help="Differential-privacy δ (default: the model's).")
@click.option("--metadata", default=None, metavar="FILE",
              help="Metadata JSON (from 'hygeia metadata', edited); each field keeps its declared/detected origin.")
@click.option("--public-metadata", default=None, metavar="FILE",
              help="Metadata JSON written from public knowledge (a codebook): every field in it is declared public, "
                   "so DP models may save it (outside the guarantee, as the printed guarantee says).")
@click.option("--release-detected-metadata", is_flag=True,
              help="DP models: save the categories, bounds, decimals and nullability detected from the data as they "
                   "are, outside the guarantee (without it, DP fits refuse metadata that was not declared).")
@click.option("--type", "types", multiple=True, metavar="COL=TYPE",
              help="Override a detected column type: numeric, categorical, datetime, id or text (repeatable).")
@click.option("--sequence-key", default=None, metavar="COL", help="Subject column of a long (one row per visit) table.")
@click.option("--sequence-index", default=None, metavar="COL", help="Visit time column of a long table.")
@click.option("--end-column", default=None, metavar="COL",
              help="Sequence model: follow-up end (same units as --sequence-index); no visit is made after it.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="A generator parameter (JSON value; repeatable).")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Seed of the fit (models that draw noise or initial weights). Default: a fresh random one "
                   "(recorded in the model, except a DP noise seed, which is never saved).")
@click.option("--out", required=True, metavar="MODEL_DIR", help="Model folder to write (spec.json + arrays.npz).")
@click.option("--overwrite", is_flag=True, help="Replace an existing model folder.")
@quiet_option
def fit_command(
    data: str, model: str, epsilon: float | None, delta: float | None, metadata: str | None,
    public_metadata: str | None, release_detected_metadata: bool, types: tuple[str, ...], sequence_key: str | None, sequence_index: str | None, end_column: str | None, settings: tuple[str, ...],
    seed: int | None, out: str, overwrite: bool, quiet: bool,
) -> None:
    """Learn a generator from a real table (CSV or Parquet) and save it to MODEL_DIR."""
    from hygeia.tabular.api import fit_file

    meta = _metadata(data, metadata, sequence_key, sequence_index, types, public_metadata)
    params = _parse_set(settings)
    if end_column:
        params["end_column"] = end_column
    start = time.perf_counter()
    cpu = time.process_time()
    with status(f"fitting ({model} model)", quiet=quiet):
        generator, choice = fit_file(
            data, out=out, model=model, metadata=meta, epsilon=epsilon, delta=delta, params=params,
            seed=seed, overwrite=overwrite, release_detected_metadata=release_detected_metadata,
        )
    _echo_warnings(choice.warnings, quiet)
    echo_summary(Summary(
        f"Fitted a {choice.model} model ({choice.generator}) in {time.perf_counter() - start:.2f} s "
        f"({time.process_time() - cpu:.2f} CPU-s)",
        [("why", choice.reason), ("output", describe_output(out)),
         ("privacy", generator.privacy_report_["summary"])],
        [f"hygeia sample {out} -n 1000 --out synthetic.csv"]), quiet=quiet)


@click.command(
    "sample", cls=HygeiaCommand,
    epilog="""\b
Example:
  hygeia sample cohort_model -n 10000 --seed 1 --out synthetic.csv
  hygeia evaluate --real train.csv --holdout test.csv --synthetic synthetic.csv --out report""",
)
@click.argument("model_dir", metavar="MODEL_DIR")
@click.option("-n", "n", type=int, required=True, metavar="N", help="Rows to sample (subjects, for a sequence model).")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Sampling seed. Default: a fresh random one (recorded in FILE.hygeia.json and printed).")
@click.option("--out", required=True, metavar="FILE", help="Output .csv or .parquet; provenance goes to FILE.hygeia.json.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@quiet_option
def sample_command(model_dir: str, n: int, seed: int | None, out: str, overwrite: bool, quiet: bool) -> None:
    """Sample synthetic rows from a saved model; the output has the training table's columns."""
    from hygeia.core.seeding import resolve_seed
    from hygeia.tabular.api import sample_file

    chosen = seed
    seed = resolve_seed(seed)
    what = "subjects" if _is_sequence(model_dir) else "rows"
    with status(f"sampling {n:,} {what}", quiet=quiet):
        path = sample_file(model_dir, n, seed=seed, out=out, overwrite=overwrite)
    echo_summary(Summary(
        f"Sampled {n:,} {what} from {model_dir}",
        [("output", describe_output(path)),
         ("seed", f"{seed}" + (f" (pass --seed {seed} to draw the same rows again)" if chosen is None else ""))],
        [f"hygeia evaluate --real REAL.csv --holdout HELD_OUT.csv --synthetic {path} --out report"]), quiet=quiet)


def _echo_warnings(warnings: list[str], quiet: bool) -> None:
    """Print what type detection was unsure of on stderr (unless quiet), each with its fix."""
    if not quiet:
        for message in warnings:
            click.echo(f"Warning: {message}.", err=True)


def _is_sequence(model_dir: str) -> bool:
    from hygeia.core.generator import read_spec

    return read_spec(model_dir)["generator"] == "tabular.sequence"


@click.command(
    "metadata", cls=HygeiaCommand,
    epilog="""\b
Example:
  hygeia metadata cohort.csv --out cohort.meta.json    # edit types, add constraints
  hygeia fit cohort.csv --metadata cohort.meta.json --out cohort_model""",
)
@click.argument("data", metavar="DATA")
@click.option("--type", "types", multiple=True, metavar="COL=TYPE", help="Override a detected column type (repeatable).")
@click.option("--sequence-key", default=None, metavar="COL", help="Subject column of a long table.")
@click.option("--sequence-index", default=None, metavar="COL", help="Visit time column of a long table.")
@click.option("--out", required=True, metavar="FILE", help="Metadata JSON to write.")
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists (without it an existing FILE is refused).")
@quiet_option
def metadata_command(data: str, types: tuple[str, ...], sequence_key: str | None, sequence_index: str | None, out: str,
                     overwrite: bool, quiet: bool) -> None:
    """Detect the column types of a table and write them as editable JSON."""
    from hygeia.tabular.api import read_table
    from hygeia.tabular.metadata import Metadata

    refuse_existing(out, overwrite, "metadata file")
    meta = _metadata(data, None, sequence_key, sequence_index, types) or Metadata.detect(read_table(data))
    meta.save(out)
    _echo_warnings(meta.warnings, quiet)
    summary = Summary(f"Detected the types of {len(meta.columns):,} columns of {data}", [
        (c.name, c.type + (f" ({c.missing:.1%} missing)" if c.missing else "")) for c in meta.columns])
    summary.add("output", describe_output(out))
    summary.next_steps += [f"edit {out} (types, bounds, categories), then:",
                           f"hygeia fit {data} --metadata {out} --out model"]
    echo_summary(summary, quiet=quiet)
