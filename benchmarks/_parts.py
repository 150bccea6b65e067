"""A benchmark made of part benchmarks: run each part in its own process, then gather their files.

``imaging.py`` and ``twin.py`` are such benchmarks: each part script writes its own result file
(the figures in the docs cite those), and the whole writes one summary of the parts' headline
figures with where each came from.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import _results

HERE = Path(__file__).resolve().parent


def get(doc: Any, *path: str) -> Any:
    """``doc[path[0]][path[1]]...``, or None where a key is missing."""
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def main(name: str, parts: Sequence[str], quick: Mapping[str, list[str]],
         headline: Callable[[str, dict[str, Any]], dict[str, Any]], doc: str, argv: list[str] | None = None
         ) -> dict[str, Any]:
    """Parse the command line, run (or gather) ``benchmarks/{name}_{part}.py`` and write ``{name}.json``."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--parts", default=",".join(parts), help=f"which parts to run (default {','.join(parts)})")
    ap.add_argument("--gather", action="store_true", help="do not run the parts: gather their result files")
    ap.add_argument("--quick", action="store_true", help="toy sizes (a smoke run; use with --results-dir)")
    ap.add_argument("--results-dir", default=None,
                    help="where the part files go (default benchmarks/results/, the files the docs cite)")
    ap.add_argument("--out", default=None, help=f"summary file (default: {name}.json in the results folder)")
    args = ap.parse_args(argv)
    chosen = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(chosen) - set(parts))
    if unknown:
        ap.error(f"unknown --parts {','.join(unknown)}; choose among {','.join(parts)}")
    if args.quick and args.results_dir is None:
        ap.error("--quick writes toy figures: pass --results-dir DIR so the cited result files stay as they are")
    folder = Path(args.results_dir) if args.results_dir else _results.RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    docs: dict[str, Any] = {}
    for part in chosen:
        path = folder / f"{name}_{part}.json"
        if not args.gather:
            cmd = [sys.executable, str(HERE / f"{name}_{part}.py"), *(quick[part] if args.quick else []),
                   "--out", str(path)]
            print(f"{name}: running {part} ({' '.join(cmd[1:])})", file=sys.stderr, flush=True)
            subprocess.run(cmd, check=True)
        if not path.exists():
            raise SystemExit(f"{path} does not exist: run benchmarks/{name}_{part}.py (or leave --gather out)")
        docs[part] = json.loads(path.read_text())
    figures = {part: headline(part, d) | {"source": {"file": f"{name}_{part}.json", "command": d.get("command"),
                                                      "commit": get(d, "git", "commit"), "date": d.get("date")}}
               for part, d in docs.items()}
    seeds = sorted({s for d in docs.values() for s in d.get("seeds", []) if isinstance(s, int)})
    out = _results.envelope(name, seeds=seeds, sizes={"quick": args.quick, "parts": chosen}, figures=figures,
                            argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(out, args.out or folder / f"{name}.json")
    return out
