"""Medical images: physics renderers, DICOM/NIfTI I/O, learned generators and their metrics.

Every image is a :class:`Volume` (voxels ``(z, y, x)``, spacing, origin, direction, findings
with masks, and how it was made in ``meta``).
"""

from hygeia.imaging._baselines import AugmentOnly, ImageGenerator, PCAGaussian
from hygeia.imaging._ct import (
    MU_WATER_PER_MM,
    hu_to_mu,
    measured_contrast,
    mu_to_hu,
    noise_sigma,
    simulate_ct,
)
from hygeia.imaging._datasets import (
    read_image_folder,
    rendered_slices,
    write_image_folder,
)
from hygeia.imaging._dicom_iod import check_dicom
from hygeia.imaging._dicom_read import SeriesInfo, list_dicom_series, read_dicom
from hygeia.imaging._dicom_write import DicomSeries, DicomStudy, write_dicom
from hygeia.imaging._diffusion import ImageDiffusion, fit_image_model, sample_images
from hygeia.imaging._encoder import ImageEncoder, lesion_classifier_auc
from hygeia.imaging._latent import ImageLatentDiffusion
from hygeia.imaging._io_convert import SavedImage, load_image, save_image
from hygeia.imaging._lesions import (
    CONDITIONS,
    LESIONS,
    finding_for_condition,
    insert_lesion,
)
from hygeia.imaging._link import ImagesResult, read_images_manifest, render_run_images
from hygeia.imaging._metrics import (
    METRIC_MEANINGS,
    evaluate_images,
    frechet_distance,
    kernel_distance,
    memorization,
    ms_ssim,
    precision_recall_density_coverage,
    ssim_diversity,
)
from hygeia.imaging._mr import simulate_mr
from hygeia.imaging._nifti import read_nifti, write_nifti
from hygeia.imaging._phantoms import (
    Phantom,
    chest_phantom,
    extremity_phantom,
    head_phantom,
    pelvis_phantom,
    phantom_from_ct,
    tissue_table,
    water_phantom,
)
from hygeia.imaging._png import WINDOWS, apply_window, write_png
from hygeia.imaging._render import render, write_rendered
from hygeia.imaging._superres import (
    SuperResolution2x,
    bicubic2x,
    downsample2x,
    superres_scores,
)
from hygeia.imaging._volume import MODALITIES, Finding, Volume
from hygeia.imaging._xray import simulate_xray

__all__ = [
    "CONDITIONS",
    "LESIONS",
    "METRIC_MEANINGS",
    "MODALITIES",
    "MU_WATER_PER_MM",
    "WINDOWS",
    "AugmentOnly",
    "DicomSeries",
    "DicomStudy",
    "Finding",
    "ImageDiffusion",
    "ImageLatentDiffusion",
    "ImageEncoder",
    "ImageGenerator",
    "ImagesResult",
    "PCAGaussian",
    "Phantom",
    "SavedImage",
    "SeriesInfo",
    "SuperResolution2x",
    "Volume",
    "apply_window",
    "bicubic2x",
    "check_dicom",
    "chest_phantom",
    "downsample2x",
    "evaluate_images",
    "extremity_phantom",
    "finding_for_condition",
    "fit_image_model",
    "frechet_distance",
    "head_phantom",
    "hu_to_mu",
    "insert_lesion",
    "kernel_distance",
    "lesion_classifier_auc",
    "list_dicom_series",
    "load_image",
    "measured_contrast",
    "memorization",
    "ms_ssim",
    "mu_to_hu",
    "noise_sigma",
    "pelvis_phantom",
    "phantom_from_ct",
    "precision_recall_density_coverage",
    "read_dicom",
    "read_image_folder",
    "read_images_manifest",
    "read_nifti",
    "render",
    "render_run_images",
    "rendered_slices",
    "sample_images",
    "save_image",
    "simulate_ct",
    "simulate_mr",
    "simulate_xray",
    "ssim_diversity",
    "superres_scores",
    "tissue_table",
    "water_phantom",
    "write_dicom",
    "write_image_folder",
    "write_nifti",
    "write_png",
    "write_rendered",
]
