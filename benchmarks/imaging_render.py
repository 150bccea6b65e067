"""Benchmark the physics renderers and run their physics checks; writes ``benchmarks/results/imaging_render.json``.

Speed: for each seed, :func:`hygeia.imaging.render` draws one phantom patient with a
lesion and renders it on one process: a chest CT (``--size`` pixels, ``--slices``
slices, 180 projections, Poisson noise at 1e5 photons per ray, ramp-filtered back
projection), a head MR (spin echo TR 3000 / TE 90 ms, bias field, Rician noise at SNR
30, full k-space) and a frontal chest X-ray (a ``--size``-cubed phantom projected).
Figures: slices per wall-second end to end (phantom, lesion, physics; a radiograph
counts as one slice), mean and spread over the seeds; the peak of memory allocated by
Python and numpy during each render (``tracemalloc``, MiB) and the process's peak
resident memory.

Physics checks (the issue's Must-show):

- lesion contrast: a 12 mm nodule in the lung of a 128-pixel, 6-slice chest CT at 1e7 photons per
  ray; the mean HU inside the mask (eroded 2 pixels in-plane) minus that of the lung
  around it (eroded, and 5 pixels away from the nodule), against the contrast set in the
  phantom (nodule 40 HU minus lung -850 HU); passes within 10 HU;
- noise: a 200 mm water cylinder at 128 pixels scanned at 1e4, 3e4, 1e5, 3e5 and
  1e6 photons per ray; the noise sigma in the central water (the standard deviation of
  the difference of two scans over sqrt 2) against ``c / sqrt(photons)`` with ``c``
  fitted by least squares; passes when every dose is within 10%; the log-log slope
  should be -0.5;
- calibration: mean HU of water (centre) and air (outside the cylinder) at 1e6 photons.

Usage::

    .venv/bin/python benchmarks/imaging_render.py [--size 128] [--slices 16] [--seeds 1,2,3,4,5]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

DOSES = (1e4, 3e4, 1e5, 3e5, 1e6)
#: Pixels across in the physics checks (whatever --size the speed runs use).
CHECK_SIZE = 128


def _timed(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def _speed(size: int, slices: int, seed: int) -> dict[str, float]:
    from hygeia.imaging import render

    runs = {
        "ct": lambda: render("ct", finding="nodule", seed=seed, size=size, slices=slices, dose=1e5),
        "mr": lambda: render("mr", finding="white_matter_lesion", seed=seed, size=size, slices=slices),
        "xray": lambda: render("xray", finding="consolidation", seed=seed, size=size, dose=1e5),
    }
    row = {}
    for name, fn in runs.items():
        vols, seconds, peak = _timed(fn)
        row[f"{name}_slices_per_second"] = vols[0].shape[0] / seconds
        row[f"{name}_peak_traced_mib"] = peak
    return row


def _contrast(size: int, seed: int) -> float:
    from hygeia.imaging import (
        chest_phantom,
        insert_lesion,
        measured_contrast,
        simulate_ct,
    )

    rng = np.random.default_rng(seed)
    ph = chest_phantom(size=size, slices=6, rng=rng)
    lung = ph.parts["lung_left"] | ph.parts["lung_right"]
    finding = insert_lesion(ph, "nodule", rng=rng, radius_mm=12)
    hu = simulate_ct(ph, photons=1e7, rng=rng)
    return measured_contrast(hu, finding.mask, lung) - finding.contrast


def _noise(size: int, seed: int) -> dict[str, object]:
    from hygeia.imaging import noise_sigma, simulate_ct, water_phantom

    ph = water_phantom(size=size, slices=1, fov=250.0, radius=100.0)
    n = size
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    centre = np.broadcast_to((yy**2 + xx**2) <= (0.3 * n) ** 2, ph.shape)
    air = np.broadcast_to(((yy**2 + xx**2) >= (0.43 * n) ** 2) & ((yy**2 + xx**2) <= (0.47 * n) ** 2), ph.shape)
    rng = np.random.default_rng(seed)
    sigmas, water, air_hu = [], None, None
    for dose in DOSES:
        a, b = simulate_ct(ph, photons=dose, rng=rng), simulate_ct(ph, photons=dose, rng=rng)
        sigmas.append(noise_sigma(a, b, centre))
        if dose == 1e6:
            water, air_hu = float(a[centre].mean()), float(a[air].mean())
    s = np.array(sigmas)
    inv = 1.0 / np.sqrt(np.array(DOSES))
    c = float((s @ inv) / (inv @ inv))
    deviation = s / (c * inv) - 1.0
    slope = float(np.polyfit(np.log(DOSES), np.log(s), 1)[0])
    return {"sigmas": sigmas, "max_abs_deviation": float(np.abs(deviation).max()), "slope": slope,
            "water_hu": water, "air_hu": air_hu}


def hwm_mib() -> float:
    """This process's peak resident memory (MiB), from /proc (ru_maxrss would count a forked parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128, help="pixels across (default 128)")
    ap.add_argument("--slices", type=int, default=16, help="CT and MR slices per series (default 16)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated seeds (default 1,2,3,4,5)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/imaging_render.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    from hygeia.imaging import head_phantom

    head_phantom(size=16, slices=1)  # load the MNI152 maps once, outside the timings
    rows = [_speed(args.size, args.slices, s) for s in seeds]
    errors = [_contrast(CHECK_SIZE, s) for s in seeds]
    noise = [_noise(CHECK_SIZE, s) for s in seeds]
    figures = {
        "render": {k: _results.spread([r[k] for r in rows], 3) for k in rows[0]},
        "peak_rss_mib": round(hwm_mib(), 1),
        "physics_checks": {
            "nodule_contrast_error_hu": _results.spread(errors, 2),
            "nodule_contrast_set_hu": 890.0,
            "nodule_contrast_within_10_hu": bool(max(abs(e) for e in errors) <= 10.0),
            "noise_doses": list(DOSES),
            "noise_sigma_hu": {f"{d:g}": _results.spread([r["sigmas"][i] for r in noise], 2)
                               for i, d in enumerate(DOSES)},
            "noise_max_deviation_from_inverse_sqrt": _results.spread([r["max_abs_deviation"] for r in noise], 4),
            "noise_loglog_slope": _results.spread([r["slope"] for r in noise], 4),
            "noise_within_10_percent": bool(max(r["max_abs_deviation"] for r in noise) <= 0.10),
            "water_hu_at_1e6": _results.spread([r["water_hu"] for r in noise], 2),
            "air_hu_at_1e6": _results.spread([r["air_hu"] for r in noise], 2),
        },
    }
    doc = _results.envelope("imaging_render", seeds=seeds,
                            sizes={"size_px": args.size, "ct_mr_slices": args.slices, "ct_angles": 180,
                                   "xray_phantom_voxels": args.size**3, "check_size_px": CHECK_SIZE, "contrast_check_slices": 6,
                                   "noise_check_doses": list(DOSES)},
                            figures=figures, argv=None if argv is None else [sys.argv[0], *argv])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
