"""``hygeia images``: medical images: convert between DICOM, NIfTI and PNG (and render, fit, sample, evaluate).

Each subcommand lives in its own private module (``_images_convert.py``...); this file only
holds the group, so that several subcommands can be added without touching each other.
"""

from __future__ import annotations

import click

from hygeia.cli._images_convert import convert_command
from hygeia.cli._images_evaluate import evaluate_command
from hygeia.cli._images_fit import fit_command
from hygeia.cli._images_link import link_command
from hygeia.cli._images_render import render_command
from hygeia.cli._images_sample import sample_command

__all__ = ["images_group"]


@click.group("images", epilog="""\b
Examples:
  hygeia images convert scans/ct_series --out runs/ct.nii.gz
  hygeia images convert runs/ct.nii.gz --out runs/ct_dicom --format dicom --seed 1
  hygeia images convert runs/ct.nii.gz --out runs/ct_png --format png --window lung
  hygeia images render --modality ct --finding nodule -n 4 --seed 1 --out runs/ct_nodules""")
def images_group() -> None:
    """Medical images: DICOM series, NIfTI files and PNG slices, marked as synthetic when they are."""


images_group.add_command(convert_command)
images_group.add_command(render_command)
images_group.add_command(fit_command)
images_group.add_command(sample_command)
images_group.add_command(evaluate_command)
images_group.add_command(link_command)
