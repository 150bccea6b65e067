"""Medical images: physics renderers, DICOM/NIfTI I/O, learned generators and their metrics.

Every image is a :class:`Volume` (voxels ``(z, y, x)``, spacing, origin, direction, findings
with masks, and how it was made in ``meta``).
"""

from hygeia.imaging._volume import MODALITIES, Finding, Volume

__all__ = ["MODALITIES", "Finding", "Volume"]
