"""Medical images: physics renderers, DICOM/NIfTI I/O, learned generators and their metrics.

Every image is a :class:`Volume` (voxels ``(z, y, x)``, spacing, origin, direction, findings
with masks, and how it was made in ``meta``).
"""

from hygeia.imaging._ct import (
    MU_WATER_PER_MM,
    hu_to_mu,
    measured_contrast,
    mu_to_hu,
    noise_sigma,
    simulate_ct,
)
from hygeia.imaging._dicom_iod import check_dicom
from hygeia.imaging._dicom_read import SeriesInfo, list_dicom_series, read_dicom
from hygeia.imaging._dicom_write import DicomSeries, DicomStudy, write_dicom
from hygeia.imaging._io_convert import SavedImage, load_image, save_image
from hygeia.imaging._lesions import (
    CONDITIONS,
    LESIONS,
    finding_for_condition,
    insert_lesion,
)
from hygeia.imaging._mr import simulate_mr
from hygeia.imaging._nifti import read_nifti, write_nifti
from hygeia.imaging._phantoms import (
    Phantom,
    chest_phantom,
    extremity_phantom,
    head_phantom,
    phantom_from_ct,
    tissue_table,
    water_phantom,
)
from hygeia.imaging._png import WINDOWS, apply_window, write_png
from hygeia.imaging._render import render, write_rendered
from hygeia.imaging._volume import MODALITIES, Finding, Volume
from hygeia.imaging._xray import simulate_xray

__all__ = [
    "CONDITIONS",
    "LESIONS",
    "MODALITIES",
    "MU_WATER_PER_MM",
    "WINDOWS",
    "DicomSeries",
    "DicomStudy",
    "Finding",
    "Phantom",
    "SavedImage",
    "SeriesInfo",
    "Volume",
    "apply_window",
    "check_dicom",
    "chest_phantom",
    "extremity_phantom",
    "finding_for_condition",
    "head_phantom",
    "hu_to_mu",
    "insert_lesion",
    "list_dicom_series",
    "load_image",
    "measured_contrast",
    "mu_to_hu",
    "noise_sigma",
    "phantom_from_ct",
    "read_dicom",
    "read_nifti",
    "render",
    "save_image",
    "simulate_ct",
    "simulate_mr",
    "simulate_xray",
    "tissue_table",
    "water_phantom",
    "write_dicom",
    "write_nifti",
    "write_png",
    "write_rendered",
]
