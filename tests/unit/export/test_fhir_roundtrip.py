"""Round trips on simulated runs: FHIR NDJSON -> records -> FHIR keeps every resource unchanged.

Codes, times, values and references survive because the second export is byte-identical
to the first; the records in between equal the simulated ones.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from test_fhir_import import canonical

from hygeia.core.config import BUILTIN_MODULE_FOLDERS
from hygeia.core.storage import read_records
from hygeia.export import export
from hygeia.export.fhir import import_fhir
from hygeia.population import generate

SYNTHEA = Path(BUILTIN_MODULE_FOLDERS["synthea"])  # Synthea's corpus, shipped with Hygeia


def _round_trip(run: Path, tmp: Path, fmt: str) -> None:
    first = tmp / f"{fmt}-1"
    export(run, fmt, first)
    import_fhir(first, tmp / f"{fmt}-records")
    export(tmp / f"{fmt}-records", fmt, tmp / f"{fmt}-2")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in (tmp / f"{fmt}-2").iterdir())
    for name in names:
        assert (tmp / f"{fmt}-2" / name).read_bytes() == (first / name).read_bytes(), name
    p0, e0 = read_records(run)
    p1, e1 = read_records(tmp / f"{fmt}-records")
    assert p1.equals(p0)
    assert canonical(e1) == canonical(e0)


@pytest.mark.parametrize("fmt", ["ndjson", "fhir"])
def test_default_modules_round_trip(tmp_path, fmt):
    run = tmp_path / "run"
    generate(n=20, seed=5, shard_size=8, out=run)
    _round_trip(run, tmp_path, fmt)
    if importlib.util.find_spec("fhirkit") is not None:  # and what was written is valid R4
        from hygeia.export.fhir import validate_fhir

        assert validate_fhir(tmp_path / f"{fmt}-1").errors == []


def test_synthea_modules_round_trip(tmp_path):
    """Synthea's corpus adds allergies, imaging studies, supplies and devices."""
    run = tmp_path / "run"
    generate(n=8, seed=1, out=run, modules=[str(SYNTHEA)], default_modules=False)
    kinds = set(read_records(run)[1]["kind"].to_pylist())
    assert {"allergy", "imaging", "supply", "device", "careplan"} <= kinds
    _round_trip(run, tmp_path, "ndjson")
