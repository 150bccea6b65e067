"""The FHIR vocabulary helpers: times, ids, code-system URIs, UCUM units, the validator's own rules."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygeia.export.fhir._codes import (
    _NS, format_time, hygeia_system, parse_time, resource_id, system_uri, ucum_code,
)
from hygeia.export.fhir._validate import validate_resource

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


@given(st.integers(min_value=-62_000_000_000_000_000, max_value=250_000_000_000_000_000))
def test_times_round_trip_to_the_microsecond(us):
    text = format_time(us)
    assert _DATETIME.match(text) and parse_time(text) == us


@pytest.mark.parametrize("text, expected", [
    ("2020", "2020-01-01T00:00:00Z"), ("2020-03", "2020-03-01T00:00:00Z"), ("2020-03-04", "2020-03-04T00:00:00Z"),
    ("2020-03-04T05:06:07+02:00", "2020-03-04T03:06:07Z"), ("2020-03-04T05:06:07.5-01:30", "2020-03-04T06:36:07.500Z"),
])
def test_partial_dates_and_zones(text, expected):
    assert format_time(parse_time(text)) == expected


def test_a_bad_time_says_what_a_good_one_looks_like():
    with pytest.raises(ValueError, match=re.escape("'03/04/2020' is not a FHIR date or dateTime (e.g. 2020-03-01")):
        parse_time("03/04/2020")


@given(st.lists(st.one_of(st.integers(), st.text(), st.none(), st.floats(allow_nan=False)), max_size=6))
def test_ids_are_uuid5(parts):
    assert resource_id(*parts) == str(uuid.uuid5(_NS, "|".join(map(str, parts))))


@given(st.text(min_size=1))
def test_code_system_names_round_trip(name):
    uri = system_uri(name)
    assert hygeia_system(uri) == name and not re.search(r"\s", uri)


def test_code_systems_have_their_canonical_uris():
    assert [system_uri(s) for s in ("SNOMED-CT", "LOINC", "RxNorm", "CVX", "DICOM-DCM")] == [
        "http://snomed.info/sct", "http://loinc.org", "http://www.nlm.nih.gov/research/umls/rxnorm",
        "http://hl7.org/fhir/sid/cvx", "http://dicom.nema.org/resources/ontology/DCM"]


@pytest.mark.parametrize("unit, code", [
    ("mg/dL", "mg/dL"), ("mm[Hg]", "mm[Hg]"), ("/min", "/min"), ("kg/m2", "kg/m2"), ("10*3/uL", "10*3/uL"),
    ("mL/min/{1.73_m2}", "mL/min/{1.73_m2}"), ("{score}", "{score}"), ("Cel", "Cel"), ("%", "%"),
    ("mg/(24.h)", "mg/(24.h)"), ("K/uL", "10*3/uL"), ("pH", "[pH]"), ("n/a", None), ("mL/min/1.73 m2",
                                                                                       "mL/min/{1.73_m2}"),
    ("beats per minute", None), (None, None),
])
def test_units_get_their_ucum_code_or_none(unit, code):
    assert ucum_code(unit) == code


def _tagged(**res):
    return {"id": "a", "meta": {"tag": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                         "code": "HTEST"}]}, **res}


def test_hygeia_rules_catch_what_fhirkit_does_not():
    bad = _tagged(resourceType="Observation", status="done", code={"text": "x"}, note=[{}],
                  effectivePeriod={"start": "2020-02-01", "end": "2020-01-01"},
                  valueQuantity={"value": 1, "code": "cm"}, dataAbsentReason={"text": "x"},
                  extension=[{"url": "u", "valueString": "a", "extension": [{"url": "v", "valueString": "b"}]}])
    errors, _ = validate_resource(bad)
    assert errors == [
        "Observation.status: 'done' is not in the required value set ['amended', 'cancelled', 'corrected', "
        "'entered-in-error', 'final', 'preliminary', 'registered', 'unknown']",
        "Observation.dataAbsentReason: present with a value (obs-6)",
        "Observation.note[0]: empty object (ele-1: an element needs a value or children)",
        "Observation.effectivePeriod: start 2020-02-01 is after end 2020-01-01 (per-1)",
        "Observation.valueQuantity: a quantity with a code needs a system (qty-3)",
        "Observation.extension[0]: an extension has either a value or extensions (ext-1)",
    ]
    untagged = {"resourceType": "Patient", "id": "has space", "gender": "m"}
    assert validate_resource(untagged)[0] == [
        "Patient.id: 'has space' is not a FHIR id ([A-Za-z0-9-.], 1 to 64 characters)",
        "Patient.meta.tag: no synthetic-data tag (http://terminology.hl7.org/CodeSystem/v3-ActReason|HTEST)",
        "Patient.gender: 'm' is not in the required value set ['female', 'male', 'other', 'unknown']",
    ]


def test_validate_fhir_names_file_and_line_of_each_error(tmp_path):
    pytest.importorskip("fhirkit")
    from hygeia.export.fhir import validate_fhir

    ok = _tagged(resourceType="Patient", gender="male")
    lines = [ok, _tagged(resourceType="Observation", id="o", status="final", code={"text": "x"},
                         subject={"reference": "Patient/missing"}, effectiveDateTime="2020-01-01T10:00:00")]
    (tmp_path / "x.ndjson").write_text("".join(json.dumps(r) + "\n" for r in lines))
    report = validate_fhir(tmp_path)
    f = tmp_path / "x.ndjson"
    assert report.errors == [
        f'{f}:2: Observation.effectiveDateTime: "2020-01-01T10:00:00" is not a valid dateTime',
        f"{f}:2: reference 'Patient/missing' resolves to no resource in the export",
    ]
    with pytest.raises(Exception, match=re.escape("FHIR validation failed (2 errors)")):
        report.raise_for_errors()
