"""``hygeia images fit``: train an image generator on a folder of labelled images."""

from __future__ import annotations

import time

import click

from hygeia.cli._common import (
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Progress, Summary, describe_output, format_duration

__all__ = ["fit_command"]


@click.command(
    "fit", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia images fit scans --out runs/ct_model --seed 1
  hygeia images fit scans --out runs/ct_latent --cpu-seconds 240 --seed 1
  hygeia images fit scans --out runs/ct_unet --kind diffusion --size 64 --epochs 100 --cpu-seconds 600
  hygeia images fit scans --out runs/ct_pca --kind pca --seed 1

\b
DIR holds one subfolder per finding label; the subfolder's name is the label:
  scans/none/*.dcm    scans/nodule/*.dcm    (DICOM series, NIfTI files or PNG images)
Every slice is centre-cropped to a square and resized to --size pixels.
Training uses one CPU thread; the model folder holds spec.json and arrays.npz.""",
)
@click.argument("folder", metavar="DIR")
@click.option("--out", required=True, metavar="MODEL", help="Model folder to write (must not exist unless --overwrite).")
@click.option("--kind", type=click.Choice(("latent", "diffusion", "pca", "augment")), default="latent",
              show_default=True,
              help="latent: diffusion on a whitened PCA latent with a small MLP denoiser (fast on a CPU; the best "
                   "on FID in docs/imaging.md); diffusion: MONAI DiffusionModelUNet on pixels (DDPM training, DDIM "
                   "sampling; needs far more CPU); pca: PCA-Gaussian baseline; "
                   "augment: augmented copies of the training images (copies them by construction).")
@click.option("--size", type=click.Choice(("32", "64")), default="32", show_default=True,
              help="Pixels across every image (slices are centre-cropped and resized).")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Diffusion and latent only: passes over the training images. Default: 50 for diffusion, "
                   "5,000 for latent (each is also stopped by --cpu-seconds).")
@click.option("--cpu-seconds", type=click.FloatRange(min=1), default=600.0, show_default=True, metavar="S",
              help="Diffusion and latent only: stop training once it has used this many CPU seconds.")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Training seed. Default: a fresh random one (recorded in the model and printed).")
@click.option("--overwrite", is_flag=True, help="Replace the model folder if it exists.")
@quiet_option
def fit_command(folder: str, out: str, kind: str, size: str, epochs: int | None, cpu_seconds: float, seed: int | None,
                overwrite: bool, quiet: bool) -> None:
    """Train an image generator on DIR (one subfolder of images per finding label) and save it to MODEL."""
    import torch

    from hygeia.core.seeding import resolve_seed
    from hygeia.imaging._datasets import read_image_folder
    from hygeia.imaging._diffusion import GENERATORS

    refuse_existing(out, overwrite, "Model folder")
    torch.set_num_threads(1)
    given, seed = seed is not None, resolve_seed(seed)
    start = time.perf_counter()
    data = read_image_folder(folder, size=int(size), quiet=quiet)
    learned = kind in ("diffusion", "latent")
    default_epochs = {"diffusion": 50, "latent": 5_000}
    params = {"epochs": epochs or default_epochs[kind], "cpu_seconds": cpu_seconds} if learned else {}
    model = GENERATORS[kind](seed=seed, **params)
    if learned:
        n, size = len(data.images), model.batch_size
        per_epoch = -(-n // size) if kind == "diffusion" else max(1, n // min(size, n))  # as each model batches
        total = per_epoch * params["epochs"]
        what = "the diffusion model" if kind == "diffusion" else "the latent diffusion model"
        with Progress(total, unit="steps", description=f"training {what}", quiet=quiet) as bar:
            model.callback = lambda done, total, loss: bar.update(1)
            model.fit(data.images, data.labels)
    else:
        model.fit(data.images, data.labels)
    model.provenance_["source"] = {"folder": str(folder), "modality": data.modality, "size": int(size),
                                   "n_files": len(data.sources)}
    model.save(out, overwrite=overwrite)
    counts = ", ".join(f"{c:,} {name}" for name, c in zip(model.labels_, model.label_counts_))
    images = f"{len(data.images):,} {data.modality} ({counts}), {size}x{size} px"
    facts = [("output", describe_output(out)), ("images", images), ("generator", kind)]
    prov = model.provenance_
    if learned:
        stopped = prov["stopped_by"].replace("_", " ")
        training = (f"{prov['steps']:,} steps in {prov['train_cpu_seconds']:.0f} CPU s (stopped by {stopped}), "
                    f"final loss {prov['final_loss']:.4f}")
        facts.append(("training", training))
    facts.append(("seed", f"{seed}" + ("" if given else
                                       f" (pass --seed {seed} to train the same model again)")))
    echo_summary(Summary(f"Trained a {kind} image generator in {format_duration(time.perf_counter() - start)}",
                         facts, [f"hygeia images sample {out} -n 16 --out runs/samples"]), quiet=quiet)
