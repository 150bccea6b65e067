"""Benchmark medical imaging as a whole; writes ``benchmarks/results/imaging.json`` and prints it.

Runs the five part benchmarks, each in its own process and each writing its own result
file (the figures in README and ``docs/imaging.md`` cite those), then gathers their
headline figures into one JSON:

- ``render`` (``imaging_render.py``): slices rendered per second per modality (CT with
  filtered back projection, MR, X-ray), peak memory, and the physics checks (inserted-lesion
  contrast at high dose, noise against 1/sqrt(photons));
- ``io`` (``imaging_io.py``): DICOM and NIfTI slices written and read per second;
- ``link`` (``imaging_link.py``): series rendered per second for the ImagingStudy events of
  a population run;
- ``gen`` (``imaging_gen.py``): training CPU-seconds, samples per second and the metrics of
  the learned generators (pixel and latent diffusion) against the PCA-Gaussian baseline;
- ``superres`` (``imaging_superres.py``): PSNR and SSIM of the 2x super-resolution model and
  of bicubic interpolation on held-out slices, and its training CPU-seconds.

``--gather`` skips the runs and gathers the part files already written (e.g. after running
one part alone). ``--quick`` runs every part at toy sizes into ``--results-dir`` (a smoke
run: its figures are not the ones the docs cite).

Usage::

    .venv/bin/python benchmarks/imaging.py [--parts render,io,link,gen,superres] [--gather] [--quick --results-dir DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _parts

PARTS = ("render", "io", "link", "gen", "superres")
#: Toy sizes per part for --quick (argparse: the last value of an option wins).
QUICK = {
    "render": ["--size", "32", "--slices", "2", "--seeds", "1"],
    "io": ["--slices", "4", "--size", "32", "--seeds", "1"],
    "link": ["-n", "10", "--seeds", "1", "--sizes", "48"],
    "gen": ["--seeds", "101", "--train", "24", "--test", "12", "--samples", "12", "--cpu-seconds", "5",
            "--latent-cpu-seconds", "5", "--sr-train", "12"],
    "superres": ["--seeds", "101", "--train", "16", "--test", "4", "--epochs", "2"],
}


def headline(part: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The figures of one part file that the issue asks for, with the part's sizes."""
    f = doc["figures"]
    if part == "render":
        r = f.get("render", {})
        return {"slices_per_second": {m: r.get(f"{m}_slices_per_second") for m in ("ct", "mr", "xray")},
                "peak_rss_mib": f.get("peak_rss_mib"), "physics_checks": f.get("physics_checks"),
                "sizes": doc.get("sizes")}
    if part == "io":
        return {k: v for k, v in f.items() if k.endswith(("_slices_per_second", "peak_rss_mib"))} | {
            "sizes": doc.get("sizes")}
    if part == "superres":
        keys = ("psnr_model", "psnr_bicubic", "ssim_model", "ssim_bicubic", "fit_cpu_seconds", "must_show")
        return {k: f.get(k) for k in keys} | {"sizes": doc.get("sizes")}
    if part == "link":
        return {k: v for k, v in f.items() if isinstance(v, dict) or k == "peak_rss_mib"} | {"sizes": doc.get("sizes")}
    return {"figures": f, "sizes": doc.get("sizes")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return _parts.main("imaging", PARTS, QUICK, headline, __doc__, argv)


if __name__ == "__main__":
    main()
