"""Benchmark medical imaging as a whole; writes ``benchmarks/results/imaging.json`` and prints it.

Runs the four part benchmarks, each in its own process and each writing its own result
file (the figures in README and ``docs/imaging.md`` cite those), then gathers their
headline figures into one JSON:

- ``render`` (``imaging_render.py``): slices rendered per second per modality (CT with
  filtered back projection, MR, X-ray), peak memory, and the physics checks (inserted-lesion
  contrast at high dose, noise against 1/sqrt(photons));
- ``io`` (``imaging_io.py``): DICOM and NIfTI slices written and read per second;
- ``link`` (``imaging_link.py``): series rendered per second for the ImagingStudy events of
  a population run;
- ``gen`` (``imaging_gen.py``): training CPU-seconds, samples per second and the metrics of
  the learned generators (pixel and latent diffusion) against the PCA-Gaussian baseline.

``--gather`` skips the runs and gathers the part files already written (e.g. after running
one part alone). ``--quick`` runs every part at toy sizes into ``--results-dir`` (a smoke
run: its figures are not the ones the docs cite).

Usage::

    .venv/bin/python benchmarks/imaging.py [--parts render,io,link,gen] [--gather] [--quick --results-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

PARTS = ("render", "io", "link", "gen")
#: Toy sizes per part for --quick (argparse: the last value of an option wins).
QUICK = {
    "render": ["--size", "32", "--slices", "2", "--seeds", "1"],
    "io": ["--slices", "4", "--size", "32", "--seeds", "1"],
    "link": ["-n", "10", "--seeds", "1", "--sizes", "48"],
    "gen": ["--seeds", "101", "--train", "24", "--test", "12", "--samples", "12", "--cpu-seconds", "5",
            "--latent-cpu-seconds", "5", "--sr-train", "12"],
}


def _get(doc: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


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
    if part == "link":
        return {k: v for k, v in f.items() if isinstance(v, dict) or k == "peak_rss_mib"} | {"sizes": doc.get("sizes")}
    return {"figures": f, "sizes": doc.get("sizes")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default=",".join(PARTS), help=f"which parts to run (default {','.join(PARTS)})")
    ap.add_argument("--gather", action="store_true", help="do not run the parts: gather their result files")
    ap.add_argument("--quick", action="store_true", help="toy sizes (a smoke run; use with --results-dir)")
    ap.add_argument("--results-dir", default=None,
                    help="where the part files go (default benchmarks/results/, the files the docs cite)")
    ap.add_argument("--out", default=None, help="summary file (default: imaging.json in the results folder)")
    args = ap.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        ap.error(f"unknown --parts {','.join(unknown)}; choose among {','.join(PARTS)}")
    if args.quick and args.results_dir is None:
        ap.error("--quick writes toy figures: pass --results-dir DIR so the cited result files stay as they are")
    folder = Path(args.results_dir) if args.results_dir else _results.RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    docs: dict[str, Any] = {}
    for part in parts:
        path = folder / f"imaging_{part}.json"
        if not args.gather:
            cmd = [sys.executable, str(HERE / f"imaging_{part}.py"), *(QUICK[part] if args.quick else []),
                   "--out", str(path)]
            print(f"imaging: running {part} ({' '.join(cmd[1:])})", file=sys.stderr, flush=True)
            subprocess.run(cmd, check=True)
        if not path.exists():
            raise SystemExit(f"{path} does not exist: run benchmarks/imaging_{part}.py (or leave --gather out)")
        docs[part] = json.loads(path.read_text())
    figures = {part: headline(part, doc) | {"source": {"file": f"imaging_{part}.json", "command": doc.get("command"),
                                                        "commit": _get(doc, "git", "commit"), "date": doc.get("date")}}
               for part, doc in docs.items()}
    seeds = sorted({s for doc in docs.values() for s in doc.get("seeds", [])})
    out = _results.envelope("imaging", seeds=seeds, sizes={"quick": args.quick, "parts": parts}, figures=figures,
                            argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(out, args.out or folder / "imaging.json")
    return out


if __name__ == "__main__":
    main()
