"""Medical images: physics renderers, DICOM/NIfTI I/O, learned generators and their metrics.

Every image is a :class:`Volume` (voxels ``(z, y, x)``, spacing, origin, direction, findings
with masks, and how it was made in ``meta``).
"""

from hygeia.imaging._dicom_iod import check_dicom
from hygeia.imaging._dicom_read import SeriesInfo, list_dicom_series, read_dicom
from hygeia.imaging._dicom_write import DicomSeries, DicomStudy, write_dicom
from hygeia.imaging._io_convert import SavedImage, load_image, save_image
from hygeia.imaging._nifti import read_nifti, write_nifti
from hygeia.imaging._png import WINDOWS, apply_window, write_png
from hygeia.imaging._volume import MODALITIES, Finding, Volume

__all__ = [
    "MODALITIES",
    "WINDOWS",
    "DicomSeries",
    "DicomStudy",
    "Finding",
    "SavedImage",
    "SeriesInfo",
    "Volume",
    "apply_window",
    "check_dicom",
    "list_dicom_series",
    "load_image",
    "read_dicom",
    "read_nifti",
    "save_image",
    "write_dicom",
    "write_nifti",
    "write_png",
]
