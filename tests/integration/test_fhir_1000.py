"""1,000 simulated patients exported to FHIR R4 NDJSON: every resource validates, every reference resolves.

The validator is fhirkit-rs (R4 4.0.1 structure definitions, offline; see docs/fhir.md) plus
Hygeia's own rules (required codes, invariants, the synthetic tag). Transaction Bundles hold
the same resources (built by the same code, with ``urn:uuid:`` references); they are validated
the same way on smaller runs in tests/unit/export/test_fhir_*.py, which keeps this test near
90 s on a 2-core machine (the Bundles of these 1,000 patients add about 100 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hygeia.export import export
from hygeia.export.fhir import validate_fhir
from hygeia.population import generate

pytestmark = pytest.mark.slow
N = 1000


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict:
    pytest.importorskip("fhirkit", reason="the FHIR validator needs fhirkit-rs (pip install 'hygeia[fhir]')")
    root = tmp_path_factory.mktemp("fhir1000")
    generate(n=N, seed=2024, out=root / "run", workers=2)
    return {"root": root, "ndjson": export(root / "run", "ndjson", root / "ndjson", workers=2)}


def test_every_ndjson_resource_validates_with_zero_errors(exports):
    report = validate_fhir(exports["root"] / "ndjson", workers=2)
    assert report.errors == []
    written = {k: v for k, v in exports["ndjson"].items() if not k.startswith("skipped")}
    assert report.by_type == written and report.resources == sum(written.values())
    assert written["Patient"] == N and report.references > N
    assert {"Encounter", "Condition", "Observation", "MedicationRequest", "Procedure", "Immunization",
            "CarePlan", "DiagnosticReport", "Organization", "Practitioner"} <= set(written)


def test_every_encounter_is_served_by_a_synthetic_organization(exports):
    root: Path = exports["root"] / "ndjson"
    lines = (root / "Organization.ndjson").read_text().splitlines()
    orgs = {f"Organization/{json.loads(line)['id']}" for line in lines}
    with (root / "Encounter.ndjson").open() as f:
        assert all(json.loads(line)["serviceProvider"]["reference"] in orgs for line in f)
