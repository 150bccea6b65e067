"""``hygeia images evaluate``: how close, varied, private and useful synthetic images are, offline."""

from __future__ import annotations

import json
import time

import click

from hygeia.cli._common import HygeiaCommand, quiet_option, refuse_existing
from hygeia.core.progress import status

__all__ = ["evaluate_command"]


def _verdict(name: str, m: dict) -> str:
    v = m[name]
    if name in ("fid", "kid"):
        return ""
    if name in ("precision", "recall", "coverage"):
        return "good" if v >= 0.7 else "fair" if v >= 0.4 else "poor"
    if name == "density":
        return "good" if 0.7 <= v <= 1.3 else "off"
    if name == "memorization":
        return "good (no sign of copying)" if v >= 1.0 else "watch: samples sit closer to training images than new real ones do"
    if name in ("ssim_diversity", "ms_ssim_diversity"):
        gap = v - m[name + "_real"]
        return "as varied as real" if abs(gap) <= 0.05 else "less varied than real (similar images)" if gap > 0 \
            else "more varied than real (images lack the shared anatomy)"
    if name == "tstr_auc":
        if (m.get("trtr_auc") or 0) < 0.6:  # the reference itself is near chance: the ratio means nothing
            return "not informative: the train-on-real classifier is near chance (too few or too similar images)"
        r = m.get("tstr_over_trtr") or 0
        return f"{r:.0%} of train-on-real" + (" (good)" if r >= 0.9 else "")
    return ""


@click.command(
    "evaluate", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia images evaluate --real scans_test --synthetic runs/samples --train scans --out runs/report.json
  hygeia images evaluate --real scans_test --synthetic runs/samples --out runs/report.json --seed 1

\b
Each folder holds one subfolder per finding label (as 'hygeia images fit' reads).
--real must be images the generator never saw; --train the ones it learned from. The feature
encoder behind FID/KID is trained here, on --train (or half of --real), never downloaded.""",
)
@click.option("--real", required=True, metavar="DIR", help="Held-out real images (one subfolder per label).")
@click.option("--synthetic", required=True, metavar="DIR", help="Synthetic images (one subfolder per label).")
@click.option("--train", default=None, metavar="DIR",
              help="The real images the generator learned from: trains the encoder and the train-on-real classifier, "
                   "and enables the memorization check. Default: half of --real plays that part.")
@click.option("--out", required=True, metavar="FILE", help="JSON report to write (must not exist unless --overwrite).")
@click.option("--size", type=click.Choice(("32", "64")), default="32", show_default=True,
              help="Pixels across every image (slices are centre-cropped and resized).")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Seed of the encoder, the classifiers and the subsets. Default: a fresh random one (printed).")
@click.option("--overwrite", is_flag=True, help="Replace the report if it exists.")
@quiet_option
def evaluate_command(real: str, synthetic: str, train: str | None, out: str, size: str, seed: int | None,
                     overwrite: bool, quiet: bool) -> None:
    """Score synthetic images against held-out real ones: FID/KID, precision/recall, density/coverage,
    SSIM diversity, memorization and train-on-synthetic/test-on-real lesion classification."""
    import torch

    from hygeia.core.atomic import write_text
    from hygeia.core.progress import format_number
    from hygeia.core.seeding import resolve_seed
    from hygeia.errors import ConfigError
    from hygeia.imaging._datasets import read_image_folder
    from hygeia.imaging._metrics import evaluate_images

    refuse_existing(out, overwrite, "Report")
    torch.set_num_threads(1)
    given, seed = seed is not None, resolve_seed(seed)
    start = time.perf_counter()
    with status("reading the images", quiet=quiet):
        sets = {name: read_image_folder(path, size=int(size)) for name, path in
                (("real", real), ("synthetic", synthetic), ("train", train)) if path is not None}
    modalities = {name: s.modality for name, s in sets.items()}
    if len(set(modalities.values())) > 1:
        raise ConfigError(f"the folders hold different kinds of images ({', '.join(f'{k}: {v}' for k, v in modalities.items())}); "
                          "compare images of one modality (PNG carries no units: sample with --format dicom)")
    tr = sets.get("train")
    with status("training the encoder and scoring", quiet=quiet):
        report = evaluate_images(sets["real"].images, sets["real"].labels, sets["synthetic"].images,
                                 sets["synthetic"].labels, train=None if tr is None else tr.images,
                                 train_labels=None if tr is None else tr.labels, seed=seed)
    report["inputs"] = {"real": real, "synthetic": synthetic, "train": train, "size": int(size),
                        "modality": modalities["real"]}
    report["seconds"] = round(time.perf_counter() - start, 2)
    write_text(out, json.dumps(report, indent=1, allow_nan=False) + "\n", overwrite=overwrite, what="report")
    if quiet:
        return
    m = report["metrics"]
    click.echo(f"Scored {report['sizes']['synthetic']:,} synthetic against {report['sizes']['real_heldout']:,} "
               f"held-out real images in {report['seconds']:.0f} s")
    for name, meaning in report["meanings"].items():
        verdict = _verdict(name, m)
        extra = ""
        if name in ("ssim_diversity", "ms_ssim_diversity"):
            extra = f" (real: {format_number(m[name + '_real'])})"
        click.echo(f"  {name:<18} {format_number(m[name]):>8}{extra}  {meaning}" + (f" -> {verdict}" if verdict else ""))
    for note in report["notes"]:
        click.echo(f"  note: {note}")
    click.echo(f"  report             {out}")
    click.echo(f"  seed               {seed}" + ("" if given else f" (pass --seed {seed} for the same scores)"))
