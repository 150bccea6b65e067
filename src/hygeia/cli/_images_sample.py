"""``hygeia images sample``: draw images from a model written by ``hygeia images fit``."""

from __future__ import annotations

import time

import click

from hygeia.cli._common import (
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Summary, describe_output, status

__all__ = ["sample_command"]


@click.command(
    "sample", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia images sample runs/ct_model -n 64 --out runs/samples --seed 1
  hygeia images sample runs/ct_model -n 16 --label nodule --out runs/nodules --format dicom

\b
Images go to DIR/<label>/ (the layout 'hygeia images fit' and 'evaluate' read): PNG files,
one synthetic DICOM series, or samples.nii.gz per label. The same seed gives the same images.""",
)
@click.argument("model", metavar="MODEL")
@click.option("-n", "n", type=click.IntRange(min=1), required=True, help="How many images to draw.")
@click.option("--label", default=None, metavar="L",
              help="The finding every image shows (one the model learned). Default: labels in the training shares.")
@click.option("--out", required=True, metavar="DIR", help="Output folder (must not exist or be empty, unless --overwrite).")
@click.option("--format", "format", type=click.Choice(("png", "dicom", "nifti")), default=None,
              help="Output format. Default: dicom for a model of CT, MR or X-ray images, png for one learned from PNG.")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Sampling seed. Default: a fresh random one (printed).")
@click.option("--overwrite", is_flag=True, help="Replace the output folder if it exists.")
@quiet_option
def sample_command(model: str, n: int, label: str | None, out: str, format: str | None, seed: int | None,
                   overwrite: bool, quiet: bool) -> None:
    """Draw -n images from MODEL (a folder written by 'hygeia images fit') into DIR/<label>/."""
    import numpy as np
    import torch

    from hygeia.core.generator import load_generator
    from hygeia.core.seeding import resolve_seed
    from hygeia.errors import ConfigError
    from hygeia.imaging._baselines import ImageGenerator
    from hygeia.imaging._datasets import write_image_folder

    refuse_existing(out, overwrite, "Sample folder")
    torch.set_num_threads(1)
    given, seed = seed is not None, resolve_seed(seed)
    start = time.perf_counter()
    gen = load_generator(model)
    if not isinstance(gen, ImageGenerator):
        raise ConfigError(f"{model!r} holds a {gen.generator_name} model, not an image generator; pass a folder "
                          "written by 'hygeia images fit'")
    modality = gen.provenance_.get("source", {}).get("modality", "CT")
    fmt = format or ("png" if modality == "PNG" else "dicom")
    with status(f"drawing {n:,} images", quiet=quiet):
        if label is None:
            images, labels = gen.sample_labeled(n, seed=seed)
        else:
            images, labels = gen.sample(n, label=label, seed=seed), np.full(n, label)
    seconds = time.perf_counter() - start
    counts = write_image_folder(images, labels, out, modality=modality, format=fmt, window=gen.window_, seed=seed,
                                provenance={"generator": gen.generator_name, "model": str(model), "seed": seed},
                                overwrite=overwrite)
    facts = [("output", describe_output(out)),
             ("images", ", ".join(f"{c:,} {k}" for k, c in counts.items()) + f" ({fmt}, {modality})"),
             ("rate", f"{n / max(seconds, 1e-9):.1f} images per second"),
             ("seed", f"{seed}" + ("" if given else f" (pass --seed {seed} to draw the same images)"))]
    echo_summary(Summary(f"Drew {n:,} images from a {gen.generator_name.split('.')[-1]} model in {seconds:.1f} s",
                         facts, [f"hygeia images evaluate --real REAL_DIR --synthetic {out} --out runs/report.json"]),
                 quiet=quiet)
