"""Precompute the MOSES reference statistics that ship with Hygeia.

For the MOSES test and scaffold-test sets, writes to ``src/hygeia/molecules/resources/``:

- ``moses_<split>_fcd.npz``: ChemNet mean and covariance (``mu``, ``sigma`` as float32, ``n``),
  so that FCD/Test needs no recomputation (the slow part: ~7 ms of CPU per molecule);
- ``moses_<split>_counts.json.gz``: BRICS fragment and scaffold counts (Frag, Scaf).

Activations are computed in chunks saved under ``--work`` so an interrupted run resumes where
it stopped. One torch thread.

Usage (from the repository root):
    .venv/bin/python scripts/moses_fcd_stats.py [--splits test,test_scaffolds] [--what fcd,counts] [--work DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from hygeia.molecules.chemnet import FCDStats, chemnet_activations, load_chemnet
from hygeia.molecules.data import moses_split
from hygeia.molecules.metrics import moses_counts_path, moses_fcd_path, write_counts

CHUNK = 4096


def split_fcd_stats(split: str, work: Path) -> FCDStats:
    smiles = moses_split(split)
    model = load_chemnet()
    parts = []
    folder = work / split
    folder.mkdir(parents=True, exist_ok=True)
    start_time = time.perf_counter()
    for k, start in enumerate(range(0, len(smiles), CHUNK)):
        part = folder / f"{k:05d}.npy"
        if not part.exists():
            act = chemnet_activations(smiles[start : start + CHUNK], model=model)
            np.save(folder / f".{k:05d}.tmp.npy", act)
            (folder / f".{k:05d}.tmp.npy").replace(part)
            done = start + len(act)
            rate = (time.perf_counter() - start_time) / max(done, 1)
            print(f"{split}: {done}/{len(smiles)} ({rate * 1e3:.2f} s per 1000 so far)", flush=True)
        parts.append(np.load(part))
    act = np.concatenate(parts).astype(np.float64)
    assert len(act) == len(smiles)
    return FCDStats(act.mean(0), np.cov(act, rowvar=False), len(act))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", default="test,test_scaffolds")
    ap.add_argument("--what", default="fcd,counts", help="fcd, counts or both")
    ap.add_argument("--work", default="/tmp/hygeia-fcd", help="folder for resumable activation chunks")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for split in args.splits.split(","):
        if "counts" in args.what:
            path = write_counts(moses_counts_path(split), moses_split(split), split=f"MOSES {split}")
            print(f"wrote {path}", flush=True)
        if "fcd" in args.what:
            stats = split_fcd_stats(split, Path(args.work))
            stats.save(moses_fcd_path(split))
            print(f"wrote {moses_fcd_path(split)} (n={stats.n})", flush=True)


if __name__ == "__main__":
    main()
