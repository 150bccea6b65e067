"""Benchmark DICOM and NIfTI I/O of a CT volume; writes ``benchmarks/results/imaging_io.json``.

The volume is ``--slices`` x ``--size`` x ``--size`` voxels of whole HU in -1024..3071 (a
smooth random field plus noise, from the seed), oblique and anisotropic. For each seed
it times, on one process: :func:`hygeia.imaging.write_dicom` (one file per slice,
atomically), :func:`hygeia.imaging.read_dicom` with pydicom and with SimpleITK, and
:func:`~hygeia.imaging.write_nifti` / :func:`~hygeia.imaging.read_nifti` for ``.nii``
and ``.nii.gz``; each read is checked to give back the written HU exactly. Figures:
slices per wall-second (mean and spread over the seeds; imports excluded), and the peak
of memory allocated by Python and numpy during each operation, measured in a second run
of it under ``tracemalloc`` (MiB; SimpleITK's C++ buffers are not counted there), plus
the process's peak resident memory.

Usage::

    .venv/bin/python benchmarks/imaging_io.py [--slices 64] [--size 256] [--seeds 1,2,3,4,5]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results


def _volume(slices: int, size: int, seed: int):
    from scipy.ndimage import gaussian_filter

    from hygeia.imaging import Volume

    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.normal(size=(slices, size, size)), 6)
    field = (field - field.min()) / (field.max() - field.min())
    hu = np.clip(np.rint(field * 4095 - 1024 + rng.normal(0, 20, field.shape)), -1024, 3071).astype(np.float32)
    c, s = np.cos(0.3), np.sin(0.3)
    return Volume(hu, "CT", spacing=(2.5, 0.7, 0.7), origin=(-90.0, -90.0, -80.0),
                  direction=((c, s, 0.0), (-s, c, 0.0), (0.0, 0.0, 1.0)), meta={"renderer": "benchmark", "seed": seed})


def _peak_mib(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def _measure(slices: int, size: int, seed: int) -> dict[str, float]:
    from hygeia.imaging import read_dicom, read_nifti, write_dicom, write_nifti

    v = _volume(slices, size, seed)
    row: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # each step twice: timed alone, then again under tracemalloc (which slows allocation) for its peak
        steps = {
            "dicom_write": lambda run: write_dicom(v, tmp / f"dicom{run}", seed=seed),
            "dicom_read_pydicom": lambda run: read_dicom(tmp / "dicom0"),
            "dicom_read_simpleitk": lambda run: read_dicom(tmp / "dicom0", backend="simpleitk"),
            "nifti_write": lambda run: write_nifti(v, tmp / f"ct{run}.nii"),
            "nifti_read": lambda run: read_nifti(tmp / "ct0.nii"),
            "nifti_gz_write": lambda run: write_nifti(v, tmp / f"ct{run}.nii.gz"),
            "nifti_gz_read": lambda run: read_nifti(tmp / "ct0.nii.gz"),
        }
        for name, fn in steps.items():
            start = time.perf_counter()
            out = fn(0)
            seconds = time.perf_counter() - start
            if name.endswith(("read", "pydicom", "simpleitk")) and not np.array_equal(out.array, v.array):
                raise AssertionError(f"{name}: HU differ from those written")
            row[f"{name}_slices_per_second"] = slices / seconds
            row[f"{name}_peak_mib"] = _peak_mib(lambda fn=fn: fn(1))
        row["dicom_folder_mib"] = sum(p.stat().st_size for p in (tmp / "dicom0").iterdir()) / 2**20
        row["nifti_gz_mib"] = (tmp / "ct0.nii.gz").stat().st_size / 2**20
    return row


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=64, help="slices of the CT volume (default 64)")
    ap.add_argument("--size", type=int, default=256, help="rows and columns of a slice (default 256)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="one volume per seed (default 1..5)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/imaging_io.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    import nibabel  # noqa: F401  (imports are not timed)
    import pydicom  # noqa: F401
    import SimpleITK  # noqa: F401

    rows = []
    for seed in seeds:
        rows.append(_measure(args.slices, args.size, seed))
        print(f"seed {seed}: " + ", ".join(f"{k} {v:.1f}" for k, v in rows[-1].items()), file=sys.stderr, flush=True)
    figures = {k: _results.spread([r[k] for r in rows], 2) for k in rows[0]}
    figures["process_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    volume_mib = args.slices * args.size * args.size * 4 / 2**20
    doc = _results.envelope("imaging_io", seeds=seeds,
                            sizes={"slices": args.slices, "rows": args.size, "columns": args.size,
                                   "volume_float32_mib": volume_mib, "modality": "CT", "hu_range": [-1024, 3071]},
                            figures=figures, argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
