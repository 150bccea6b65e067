"""1,000 simulated patients exported to FHIR R4: every resource validates, every reference resolves.

The validator is fhirkit-rs (R4 4.0.1 structure definitions, offline; see docs/fhir.md) plus
Hygeia's own rules (required codes, invariants, the synthetic tag). Both exports are checked:
bulk NDJSON with every rule, and the transaction Bundles (the same resources with ``urn:uuid:``
references): all 1,000 hold every resource of the NDJSON export, and the first 200 are checked
against the R4 structure and reference resolution. The exports carry the run's
discharge summaries written by ``hygeia notes write`` (DocumentReference and Composition); every
kind of note is checked on a smaller run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hygeia.export import export
from hygeia.export.fhir import validate_fhir
from hygeia.notes import write_notes
from hygeia.population import generate

pytestmark = pytest.mark.slow
N = 1000
SAMPLE = 200  # Bundles of the 1,000 whose structure is checked


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict:
    pytest.importorskip("fhirkit", reason="the FHIR validator needs fhirkit-rs (pip install 'hygeia[fhir]')")
    root = tmp_path_factory.mktemp("fhir1000")
    generate(n=N, seed=2024, out=root / "run", workers=2)
    notes = write_notes(root / "run", root / "notes", seed=7, kinds=["discharge"])
    return {"root": root, "notes": notes,
            "ndjson": export(root / "run", "ndjson", root / "ndjson", workers=2, notes=root / "notes")}


def test_every_ndjson_resource_validates_with_zero_errors(exports):
    report = validate_fhir(exports["root"] / "ndjson", workers=2)
    assert report.errors == []
    written = {k: v for k, v in exports["ndjson"].items() if not k.startswith("skipped")}
    assert report.by_type == written and report.resources == sum(written.values())
    assert written["Patient"] == N and report.references > N
    assert {"Encounter", "Condition", "Observation", "MedicationRequest", "Procedure", "Immunization",
            "CarePlan", "DiagnosticReport", "Organization", "Practitioner"} <= set(written)
    discharges = exports["notes"].counts["discharge"]
    assert written["DocumentReference"] == written["Composition"] == discharges > 0


def test_every_encounter_is_served_by_a_synthetic_organization(exports):
    root: Path = exports["root"] / "ndjson"
    lines = (root / "Organization.ndjson").read_text().splitlines()
    orgs = {f"Organization/{json.loads(line)['id']}" for line in lines}
    with (root / "Encounter.ndjson").open() as f:
        assert all(json.loads(line)["serviceProvider"]["reference"] in orgs for line in f)


def test_every_bundle_resource_validates_with_zero_errors(exports):
    root: Path = exports["root"]
    counts = export(root / "run", "fhir", root / "fhir", workers=2, notes=root / "notes")
    files = sorted((root / "fhir").glob("*.json"))
    assert len(files) == counts["Bundle"] == counts["Patient"] == N
    # every resource of the NDJSON export is in the Bundles (which repeat each patient's organization
    # and practitioner as conditional creates)
    per_patient = {"Bundle", "Organization", "Practitioner"}
    written = {k: v for k, v in exports["ndjson"].items() if not k.startswith("skipped") and k not in per_patient}
    assert {k: v for k, v in counts.items() if k not in per_patient} == written
    # The structure check costs about 0.1 s a Bundle; the NDJSON test has checked every one of these
    # resources already, so the Bundles are checked on the first SAMPLE in file-name order: the order
    # they load in, so every conditional reference among them resolves within the sample.
    sample = root / "fhir-first"
    sample.mkdir()
    for f in files[:SAMPLE]:
        (sample / f.name).symlink_to(f)
    report = validate_fhir(sample, workers=2, rules=False)
    assert report.errors == []
    assert report.by_type["Patient"] == SAMPLE and report.references > SAMPLE


def test_every_kind_of_note_validates_in_both_exports(tmp_path):
    pytest.importorskip("fhirkit", reason="the FHIR validator needs fhirkit-rs (pip install 'hygeia[fhir]')")
    generate(n=40, seed=5, out=tmp_path / "run", workers=2)
    notes = write_notes(tmp_path / "run", tmp_path / "notes", seed=3)
    assert min(notes.counts.values()) > 0
    bulk = export(tmp_path / "run", "ndjson", tmp_path / "ndjson", workers=2, notes=tmp_path / "notes")
    bundles = export(tmp_path / "run", "fhir", tmp_path / "fhir", workers=2, notes=tmp_path / "notes")
    assert bulk["DocumentReference"] == bundles["DocumentReference"] == notes.n_notes
    assert bulk["Composition"] == bundles["Composition"] == notes.counts["discharge"]
    report = validate_fhir(tmp_path / "ndjson", workers=2)
    assert report.errors == [] and report.by_type["DocumentReference"] == notes.n_notes
    assert validate_fhir(tmp_path / "fhir", workers=2).errors == []
