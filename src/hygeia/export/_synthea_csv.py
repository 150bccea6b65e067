"""Synthea CSV export: the files and columns of Synthea 3.3's CSV exporter, for tools built on them.

``export(run, "synthea-csv", out)`` writes the 18 files Synthea 3.3.0 writes
(``patients.csv``, ``encounters.csv``, ``conditions.csv``... ``claims_transactions.csv``),
each with Synthea's header, its columns in Synthea's order
(:mod:`hygeia.export._synthea_csv_layout`), so that OHDSI's ETL-Synthea and other tools
made for Synthea's CSV load them unchanged. Values are formatted as Synthea formats
them: UUIDs for ids, ``2021-08-30T19:42:44Z`` (UTC, whole seconds) for times,
``2021-08-30`` for birth and death dates and for the dates of conditions, allergies,
care plans and supplies; a missing value is an empty field.

Ids are version-5 UUIDs of the run seed and Hygeia's ids, so one run always exports
the same ids, and they are the FHIR export's ids: a patient's ``Id`` is its FHIR
Patient id, an encounter's its FHIR Encounter id, an organization's and a provider's
the synthetic Organization and Practitioner the FHIR export writes for the patient's
state. Imaging studies carry the DICOM UIDs of the images ``hygeia images link`` rendered
for the run, one row per instance as Synthea writes them. Hygeia simulates no costs, insurance or claims: those columns are empty and
``payers.csv``, ``payer_transitions.csv``, ``claims.csv`` and
``claims_transactions.csv`` hold their header only. Events of a kind Synthea's CSV has
no file for (diagnostic reports, causes of death, symptoms, notes) and observations
without a value (blood-pressure panel heads, whose values are their own rows) are not
written, as Synthea writes none of them; the counts returned name them
(``skipped: diagnostic_report``...).

Files are appended shard by shard (header once), so memory stays flat as N grows. Each
file's length and SHA-256 after every shard are journalled (with the shard's counts and
provider use), so an export killed outright continues with ``resume=True``.

Example:
    >>> from hygeia.export import export
    >>> export("output", "synthea-csv", "output-synthea")["patients"]  # doctest: +SKIP
    1000
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from hygeia.export._base import Exporter, register_exporter
from hygeia.export._synthea_csv_layout import (
    AGGREGATE_HEADERS,
    PATIENT_COLUMNS,
    SYNTHEA_TABLES,
    UNMAPPED_KINDS,
    Column,
)
from hygeia.export.fhir._codes import resource_id
from hygeia.export.fhir._patient import organization, practitioner, provider_key

__all__ = ["SYNTHEA_FILES", "SyntheaCsvExporter"]

_STR = pa.string()
#: Columns written as numbers (every other column is text).
_NUMERIC = {"INCOME": pa.int64(), "QUANTITY": pa.float64(), "UTILIZATION": pa.int64(), "ENCOUNTERS": pa.int64(),
            "PROCEDURES": pa.int64()}
#: Every file, in the order Synthea opens them.
SYNTHEA_FILES = ("patients", "allergies", "medications", "conditions", "careplans", "observations", "procedures",
                 "immunizations", "encounters", "imaging_studies", "devices", "supplies", "organizations",
                 "providers", "payers", "payer_transitions", "claims", "claims_transactions")
#: DICOM modality codes (DICOM PS3.16 CID 29) and their meanings, for MODALITY_DESCRIPTION.
_MODALITIES = {"DX": "Digital Radiography", "CR": "Computed Radiography", "CT": "Computed Tomography",
               "MR": "Magnetic Resonance", "US": "Ultrasound", "NM": "Nuclear Medicine",
               "PT": "Positron emission tomography", "XA": "X-Ray Angiography", "MG": "Mammography",
               "RF": "Radio Fluoroscopy", "OT": "Other"}
#: DICOM storage SOP classes (DICOM PS3.4) Hygeia's renderers write, for SOP_DESCRIPTION.
_SOP_CLASSES = {"1.2.840.10008.5.1.4.1.1.1": "Computed Radiography Image Storage",
                "1.2.840.10008.5.1.4.1.1.1.1": "Digital X-Ray Image Storage - For Presentation",
                "1.2.840.10008.5.1.4.1.1.2": "CT Image Storage", "1.2.840.10008.5.1.4.1.1.4": "MR Image Storage",
                "1.2.840.10008.5.1.4.1.1.6.1": "Ultrasound Image Storage",
                "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage"}
_NO_VALUE = "observation without a value"


def _schema(headers: tuple[str, ...]) -> pa.Schema:
    return pa.schema([pa.field(h, _NUMERIC.get(h, _STR)) for h in headers])


def _build(rows: pa.Table, columns: tuple[Column, ...], schema: pa.Schema) -> pa.Table:
    arrays = []
    for (header, get), field in zip(columns, schema):
        value = get(rows)
        arrays.append(pa.nulls(rows.num_rows, field.type) if value is None else value.cast(field.type))
    return pa.table(arrays, schema=schema)


class _Ids:
    """The UUIDs of one run: patients, encounters, care plans, imaging studies (FHIR export's ids)."""

    def __init__(self, seed: object) -> None:
        self.seed = seed
        self._encounters: dict[tuple[int, int], str] = {}

    def patient(self, sid: int) -> str:
        return resource_id(self.seed, "Patient", sid)

    def encounter(self, sid: int, eid: int | None) -> str | None:
        if eid is None:
            return None
        key = (sid, eid)
        found = self._encounters.get(key)
        if found is None:
            found = self._encounters[key] = resource_id(self.seed, "Encounter", sid, eid, 0)
        return found

    def forget_encounters(self) -> None:
        """Encounters never span shards (a person's events live in one): drop the previous shard's."""
        self._encounters.clear()


@register_exporter("synthea-csv")
class SyntheaCsvExporter(Exporter):
    """Writes Synthea 3.3's 18 CSV files (same names, columns, order and value formats).

    Example:
        >>> SyntheaCsvExporter().export("output", "output-synthea")  # doctest: +SKIP
        {'patients': ..., 'encounters': ..., ...}
    """

    def write(self, shards: Iterator[tuple[pa.Table, pa.Table]], out: Path, run_info: dict) -> dict[str, int]:
        ck = self.checkpoint_for(out)
        out.mkdir(parents=True, exist_ok=True)
        ids = _Ids((run_info.get("config") or {}).get("seed", run_info.get("seed")))
        layout = {"patients": PATIENT_COLUMNS, **{name: cols for name, (_, cols) in SYNTHEA_TABLES.items()}}
        schemas = {name: _schema(tuple(h for h, _ in cols)) for name, cols in layout.items()}
        schemas.update({name: _schema(headers) for name, headers in AGGREGATE_HEADERS.items()})
        counts: Counter[str] = Counter(dict.fromkeys(SYNTHEA_FILES, 0))
        usage: dict[str, Counter[str]] = {}  # provider key -> encounters, procedures
        for state in ck.states:  # the shards a resumed export has already written
            counts.update(state["counts"])
            for key, used in state["usage"].items():
                usage.setdefault(key, Counter()).update(used)
        writers: dict[str, pcsv.CSVWriter] = {}
        try:
            for name in SYNTHEA_FILES:  # every file exists, with its header, even when empty
                sink, resumed = ck.arrow_sink(f"{name}.csv")
                writers[name] = pcsv.CSVWriter(sink, schemas[name],
                                               write_options=pcsv.WriteOptions(include_header=not resumed))
            for index, (persons, events) in enumerate(shards, ck.start):
                ids.forget_encounters()
                shard_counts: Counter[str] = Counter()
                shard_usage: dict[str, Counter[str]] = {}
                for name, rows in self._tables(persons, events, ids, shard_usage, shard_counts).items():
                    if rows.num_rows:
                        writers[name].write_table(_build(rows, layout[name], schemas[name]))
                        shard_counts[name] += rows.num_rows
                counts.update(shard_counts)
                for key, used in shard_usage.items():
                    usage.setdefault(key, Counter()).update(used)
                ck.shard_done(index, {"counts": dict(shard_counts),
                                      "usage": {k: dict(v) for k, v in sorted(shard_usage.items())}})
            for name, table in _providers(usage, schemas).items():
                writers[name].write_table(table)
                counts[name] += table.num_rows
        finally:
            for w in writers.values():
                w.close()
            ck.close()
        return dict(counts)

    def _tables(self, persons: pa.Table, events: pa.Table, ids: _Ids, usage: dict[str, Counter[str]],
                counts: Counter[str]) -> dict[str, pa.Table]:
        """One shard's rows per file, with the id columns the layout reads."""
        sids = persons["subject_id"].to_pylist()
        keys = {sid: provider_key(state) for sid, state in zip(sids, persons["state"].to_pylist())}
        patient_ids = pa.array([ids.patient(s) for s in sids], _STR)
        tables = {"patients": persons.append_column("_patient", patient_ids)}
        kinds = events["kind"]
        for kind in UNMAPPED_KINDS:
            n = pc.sum(pc.equal(kinds, kind)).as_py() or 0
            if n:
                counts[f"skipped: {kind}"] += n
        mapped = events.filter(pc.is_in(kinds, pa.array([k for k, _ in SYNTHEA_TABLES.values()], _STR)))
        obs = pc.equal(mapped["kind"], "observation")
        valueless = pc.and_(obs, pc.and_(pc.is_null(mapped["numeric_value"]), pc.is_null(mapped["text_value"])))
        n = pc.sum(valueless).as_py() or 0
        if n:
            counts[f"skipped: {_NO_VALUE}"] += n
            mapped = mapped.filter(pc.invert(valueless))
        subjects = mapped["subject_id"].to_pylist()
        patients = pc.take(patient_ids, pc.index_in(mapped["subject_id"], persons["subject_id"]))
        if patients.null_count:  # events of a subject with no persons row (a hand-made run): still a UUID
            patients = pa.array([p or ids.patient(sid) for p, sid in zip(patients.to_pylist(), subjects)], _STR)
        mapped = mapped.append_column("_patient", patients)
        mapped = mapped.append_column("_encounter", pa.array(
            [ids.encounter(s, e) for s, e in zip(subjects, mapped["encounter_id"].to_pylist())], _STR))
        for name, (kind, _) in SYNTHEA_TABLES.items():
            rows = mapped.filter(pc.equal(mapped["kind"], kind))
            if name == "encounters":
                rows = self._with_providers(rows, keys, usage)
            elif name == "procedures":
                for sid in rows["subject_id"].to_pylist():
                    usage.setdefault(keys.get(sid, provider_key(None)), Counter())["procedures"] += 1
            elif name == "careplans":
                rows = rows.append_column("_careplan", pa.array(_ordinal_ids(ids, "CarePlan", rows), _STR))
            elif name == "imaging_studies":
                rows = _series_rows(rows, ids, self.images or {})
            tables[name] = rows
        return tables

    @staticmethod
    def _with_providers(rows: pa.Table, keys: dict[int, str], usage: dict[str, Counter[str]]) -> pa.Table:
        """Encounters with the Organization and Practitioner of the patient's state (as in the FHIR export)."""
        orgs, provs = [], []
        known: dict[str, tuple[str, str]] = {}
        for sid in rows["subject_id"].to_pylist():
            key = keys.get(sid, provider_key(None))
            usage.setdefault(key, Counter())["encounters"] += 1
            if key not in known:
                known[key] = resource_id("Organization", key), resource_id("Practitioner", key)
            org, prov = known[key]
            orgs.append(org)
            provs.append(prov)
        return rows.append_column("_organization", pa.array(orgs, _STR)).append_column(
            "_provider", pa.array(provs, _STR))


def _ordinal_ids(ids: _Ids, what: str, rows: pa.Table) -> list[str]:
    """A UUID per row from (run seed, ``what``, subject, the row's ordinal among the subject's)."""
    seen: Counter[int] = Counter()
    out = []
    for sid in rows["subject_id"].to_pylist():
        out.append(resource_id(ids.seed, what, sid, seen[sid]))
        seen[sid] += 1
    return out


def _series_rows(rows: pa.Table, ids: _Ids, images: dict[int, dict[str, dict]]) -> pa.Table:
    """Imaging studies as Synthea writes them: one row per instance of each series.

    A study's ``text_value`` lists its series as ``MODALITY:body site``, ``; ``-separated.
    A series rendered for the run (``hygeia images link``) gives its DICOM series UID,
    body-site code, SOP class and one row per instance; any other series is one row
    without instance (Hygeia made no image for it).
    """
    studies = _ordinal_ids(ids, "ImagingStudy", rows)
    cols: dict[str, list] = {c: [] for c in ("_take", "_study", "_series_uid", "_modality", "_modality_name",
                                             "_body_site", "_body_site_code", "_instance", "_sop", "_sop_name")}

    def add(i: int, **values: object) -> None:
        cols["_take"].append(i)
        cols["_study"].append(studies[i])
        for c, values_of in cols.items():
            if c not in ("_take", "_study"):
                values_of.append(values.get(c))

    times = rows["time"].cast(pa.int64()).to_pylist()
    for i, (sid, text, code, state) in enumerate(zip(rows["subject_id"].to_pylist(), rows["text_value"].to_pylist(),
                                                     rows["code"].to_pylist(), rows["state"].to_pylist())):
        linked = (images.get(sid) or {}).get(f"{sid}|{times[i]}|{code or ''}|{state}")
        rendered = {s["series_index"]: s for s in linked["series"]} if linked else {}
        for k, part in enumerate((text or "").split("; ")):
            modality, _, body = part.partition(":")
            series = {"_modality": modality or None, "_modality_name": _MODALITIES.get(modality),
                      "_body_site": body or None}
            made = rendered.get(k)
            if made is None:
                uid = "2.25." + str(int(resource_id(studies[i], "series", k).replace("-", ""), 16))
                add(i, _series_uid=uid, **series)
                continue
            site = made.get("body_site") or {}
            series.update(_series_uid=made["series_uid"], _body_site_code=site.get("code"),
                          _body_site=series["_body_site"] or site.get("display"), _sop=made["sop_class_uid"],
                          _sop_name=_SOP_CLASSES.get(made["sop_class_uid"]))
            for instance in made["instances"]:
                add(i, _instance=instance["uid"], **series)
    out = rows.take(pa.array(cols.pop("_take"), pa.int64()))
    for column, values in cols.items():
        out = out.append_column(column, pa.array(values, _STR))
    return out


def _providers(usage: dict[str, Counter[str]], schemas: dict[str, pa.Schema]) -> dict[str, pa.Table]:
    """``organizations.csv`` and ``providers.csv``: the FHIR export's synthetic clinic and clinician per state.

    As Synthea does, only organizations that had encounters are written; UTILIZATION and
    ENCOUNTERS count them, PROCEDURES counts the procedures of the patients they serve.
    """
    keys = sorted(k for k, c in usage.items() if c["encounters"])
    orgs = [organization(k, {}) for k in keys]
    org_ids = [o["id"] for o in orgs]
    states = [(o.get("address") or [{}])[0].get("state") for o in orgs]
    n = len(keys)
    none = [None] * n
    org = {"Id": org_ids, "NAME": [o["name"] for o in orgs], "STATE": states,
           "UTILIZATION": [usage[k]["encounters"] for k in keys]}
    people = [practitioner(k, {}) for k in keys]
    prov = {"Id": [p["id"] for p in people], "ORGANIZATION": org_ids, "NAME": [p["name"][0]["text"] for p in people],
            "STATE": states, "ENCOUNTERS": [usage[k]["encounters"] for k in keys],
            "PROCEDURES": [usage[k]["procedures"] for k in keys]}
    return {name: pa.table([pa.array(values.get(f.name, none), f.type) for f in schemas[name]], schema=schemas[name])
            for name, values in (("organizations", org), ("providers", prov))}
