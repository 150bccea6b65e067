"""Benchmark rendering a population run's images; writes ``benchmarks/results/imaging_link.json``.

For each seed, ``hygeia generate`` makes ``-n`` persons with the default module library
(one process), then :func:`hygeia.imaging.render_run_images` renders one DICOM series per
imaging event at each ``--sizes`` (a frontal X-ray: chest ``size``-cubed phantom, or a
wrist/ankle extremity; DICOM Secondary Capture, the finding's mask as NIfTI, the manifest).
Figures: wall seconds per rendered series (render, DICOM and mask writing, manifest, the
pass over the run), series per second, the share of series with a finding, and peak
resident memory of the process.

Usage::

    .venv/bin/python benchmarks/imaging_link.py [-n 100] [--seeds 1] [--sizes 64,128]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100, help="persons per run")
    ap.add_argument("--seeds", default="1", help="comma-separated run seeds")
    ap.add_argument("--sizes", default="64,128", help="comma-separated image sizes (pixels)")
    ap.add_argument("--out", default=None, help="result file (default benchmarks/results/imaging_link.json)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]

    from hygeia.imaging import render_run_images
    from hygeia.population import generate

    per_size: dict[int, list[dict]] = {s: [] for s in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            run = Path(tmp) / f"run{seed}"
            generate(n=args.n, seed=seed, out=str(run), workers=1)
            for size in sizes:
                start = time.perf_counter()
                res = render_run_images(run, size=size, overwrite=True)
                seconds = time.perf_counter() - start
                per_size[size].append({"events": res.events, "series": res.series, "seconds": seconds,
                                       "with_finding": res.with_finding, "not_rendered": res.not_rendered})
    figures = {}
    for size, rows in per_size.items():
        figures[f"size_{size}"] = {
            "seconds_per_series": _results.spread([r["seconds"] / r["series"] for r in rows], 4),
            "series_per_second": _results.spread([r["series"] / r["seconds"] for r in rows], 2),
            "imaging_events": sum(r["events"] for r in rows),
            "series_rendered": sum(r["series"] for r in rows),
            "with_finding": sum(r["with_finding"] for r in rows),
            "not_rendered_no_phantom": sum(r["not_rendered"] for r in rows),
        }
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    doc = _results.envelope("imaging_link", seeds=seeds, sizes={"persons": args.n, "image_sizes_px": sizes},
                            figures=figures, argv=None if argv is None else [sys.argv[0], *argv])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
