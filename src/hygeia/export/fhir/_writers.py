"""The two FHIR exporters: transaction Bundles (``fhir``) and bulk-data NDJSON (``ndjson``).

Both read a run shard by shard and build each shard's resources (in worker
processes with ``workers=N``; the output is the same for any N), writing shards
in order, so memory stays flat as N grows; :meth:`Exporter.export` writes into a
temporary folder renamed into place only when every file is complete. Each shard's
Bundle files (their SHA-256), or the NDJSON files' lengths and prefix SHA-256s after
it, are journalled, so an export killed outright continues with ``resume=True``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from hygeia import __version__
from hygeia.core.executors import ProcessExecutor
from hygeia.errors import ConfigError
from hygeia.export._base import Exporter, register_exporter
from hygeia.export.fhir._codes import (
    HTEST_TAG,
    HYGEIA,
    ORG_SYSTEM,
    PRACTITIONER_SYSTEM,
    resource_id,
)
from hygeia.export.fhir._patient import organization, practitioner, provider_key
from hygeia.export.fhir._resources import patient_resources
from hygeia.export.fhir._split import conditional_create, split_entries

__all__ = ["FhirBundleExporter", "FhirNdjsonExporter", "iter_people", "run_meta"]

_TIMES = ("birth_time", "death_time", "time", "end_time")


def _pylist(table: pa.Table) -> list[dict]:
    cols = {}
    for name in table.column_names:
        col = table[name]
        cols[name] = (col.cast(pa.int64()) if name in _TIMES else col).to_pylist()
    names = list(cols)
    return [dict(zip(names, values)) for values in zip(*cols.values())]


def iter_people(shards: Iterator[tuple[pa.Table, pa.Table]], skipped: dict[str, int]) -> Iterator[tuple[dict, list]]:
    """Yield ``(person, events)`` per person, events ordered by time (ties keep record order).

    Events of a subject with no persons row cannot be referenced; they are counted in
    ``skipped["events without a person"]``.
    """
    for persons, events in shards:
        events = events.append_column("_i", pa.array(range(events.num_rows), pa.int64()))
        order = pc.sort_indices(events, sort_keys=[("subject_id", "ascending"), ("time", "ascending"),
                                                   ("_i", "ascending")])
        by_subject: dict[int, list[dict]] = {}
        for row in _pylist(events.take(order).drop_columns(["_i"])):
            by_subject.setdefault(row["subject_id"], []).append(row)
        for p in _pylist(persons):
            yield p, by_subject.pop(p["subject_id"], [])
        for rows in by_subject.values():
            skipped["events without a person"] = skipped.get("events without a person", 0) + len(rows)


def run_meta(run_info: dict) -> tuple[Any, dict]:
    """The run seed and the ``meta`` every resource carries: the synthetic tag and its source."""
    seed = (run_info.get("config") or {}).get("seed", run_info.get("seed"))
    version = run_info.get("hygeia_version") or __version__
    return seed, {"source": f"{HYGEIA}:hygeia-{version}:seed-{seed}", "tag": [HTEST_TAG]}


def _dumps(res: dict) -> str:
    return json.dumps(res, ensure_ascii=False, separators=(",", ":"))


def _ndjson_ref(rtype: str, rid: str) -> dict:
    return {"reference": f"{rtype}/{rid}"}


def _bundle_ref(rtype: str, rid: str) -> dict:
    return {"reference": f"urn:uuid:{rid}"}


def _counted(counts: dict[str, int], skipped: dict[str, int]) -> dict[str, int]:
    out = dict(sorted(counts.items()))
    out.update({f"skipped: {k}": v for k, v in sorted(skipped.items())})
    return out


def _ndjson_shard(job: tuple) -> tuple[dict[str, list[str]], set[str], dict[str, int]]:
    """One shard as NDJSON lines by resource type (runs in a worker process when ``workers`` > 1)."""
    persons, events, seed, meta, images = job
    lines: dict[str, list[str]] = {}
    providers: set[str] = set()
    skipped: dict[str, int] = {}
    for person, rows in iter_people([(persons, events)], skipped):
        providers.add(provider_key(person["state"]))
        for res in patient_resources(person, rows, seed, meta, _ndjson_ref, skipped,
                                     images.get(person["subject_id"])):
            lines.setdefault(res["resourceType"], []).append(_dumps(res) + "\n")
    return lines, providers, skipped


def _bundle_shard(job: tuple) -> tuple[list[tuple[str, str]], dict[str, int], dict[str, int]]:
    """One shard as (file name, Bundle JSON) pairs: one per patient, or its parts with ``max_entries``."""
    persons, events, seed, meta, images, max_entries = job
    files: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for person, rows in iter_people([(persons, events)], skipped):
        key = provider_key(person["state"])
        entries = [_entry(organization(key, meta), f"identifier={ORG_SYSTEM}|{key}"),
                   _entry(practitioner(key, meta), f"identifier={PRACTITIONER_SYSTEM}|{key}")]
        entries += [_entry(res, conditional_create(res))
                    for res in patient_resources(person, rows, seed, meta, _bundle_ref, skipped,
                                                 images.get(person["subject_id"]))]
        for e in entries:
            rtype = e["resource"]["resourceType"]
            counts[rtype] = counts.get(rtype, 0) + 1
        pid = entries[2]["resource"]["id"]
        parts = split_entries(entries, max_entries) if max_entries and len(entries) > max_entries else [entries]
        width = len(str(len(parts)))
        for k, part in enumerate(parts, 1):
            bundle = {"resourceType": "Bundle", "id": pid if len(parts) == 1 else resource_id(pid, "Bundle", k),
                      "meta": meta, "type": "transaction", "entry": part}
            name = (f"patient-{person['subject_id']}.json" if len(parts) == 1 else
                    f"patient-{person['subject_id']}-part{k:0{width}d}of{len(parts)}.json")
            files.append((name, _dumps(bundle) + "\n"))
    counts["Bundle"] = len(files)
    return files, counts, skipped


def _in_order(fn, shards: Iterator[tuple[pa.Table, pa.Table]], run_info: dict, workers: int,
              images: dict[int, dict] | None = None, *extra: Any, start: int = 0) -> Iterator[tuple[int, Any]]:
    """``(index, fn(shard))`` of every shard, in shard order, computed on ``workers`` processes.

    ``images``: subject_id -> that person's rendered studies by event key (the run's images);
    ``extra``: more arguments appended to every job; ``start``: the index of the first shard.
    """
    seed, meta = run_meta(run_info)
    images = images or {}
    jobs = ((i, (persons, events, seed, meta,
                 {s: images[s] for s in persons["subject_id"].to_pylist() if s in images}, *extra))
            for i, (persons, events) in enumerate(shards, start))
    done: dict[int, Any] = {}
    following = start
    with ProcessExecutor(workers) as ex:
        for (i, _job), result in ex.map_shards(_Indexed(fn), jobs):
            done[i] = result
            while following in done:
                yield following, done.pop(following)
                following += 1


class _Indexed:
    """A picklable ``(index, job) -> fn(job)``."""

    def __init__(self, fn) -> None:
        self.fn = fn

    def __call__(self, item: tuple[int, tuple]) -> Any:
        return self.fn(item[1])


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for k, v in part.items():
        total[k] = total.get(k, 0) + v


class _FhirExporter(Exporter):
    """Shared options: ``workers`` (processes that build resources; output is the same for any number)."""

    def _workers(self) -> int:
        workers = self.options.get("workers", 1)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be a positive integer; got {workers!r}")
        return workers


@register_exporter("ndjson")
class FhirNdjsonExporter(_FhirExporter):
    """FHIR R4 bulk data: one ``<ResourceType>.ndjson`` file per resource type.

    References are ``Type/id``; Organization and Practitioner files hold the synthetic
    provider of each state that some patient lives in.

    Example:
        >>> from hygeia.export import export
        >>> export("output", "ndjson", "bulk", workers=2)["Patient"]  # doctest: +SKIP
        1000
    """

    def write(self, shards: Iterator[tuple[pa.Table, pa.Table]], out: Path, run_info: dict) -> dict[str, int]:
        workers = self._workers()
        ck = self.checkpoint_for(out)
        _seed, meta = run_meta(run_info)
        out.mkdir(parents=True, exist_ok=True)
        files: dict[str, BinaryIO] = {}
        counts: dict[str, int] = {}
        skipped: dict[str, int] = {}
        providers: set[str] = set()
        for state in ck.states:  # the shards a resumed export has already written
            _add(counts, state["counts"])
            _add(skipped, state["skipped"])
            providers.update(state["providers"])

        def emit(rtype: str, lines: list[str]) -> None:
            f = files.get(rtype)
            if f is None:
                f = files[rtype] = ck.stream(f"{rtype}.ndjson")[0]
            f.write("".join(lines).encode("utf-8"))
            counts[rtype] = counts.get(rtype, 0) + len(lines)

        try:
            for index, (lines, keys, shard_skipped) in _in_order(_ndjson_shard, shards, run_info, workers,
                                                                 self.images, start=ck.start):
                for rtype, chunk in lines.items():
                    emit(rtype, chunk)
                _add(skipped, shard_skipped)
                ck.shard_done(index, {"counts": {rtype: len(chunk) for rtype, chunk in lines.items()},
                                      "skipped": shard_skipped, "providers": sorted(keys - providers)})
                providers |= keys
            for key in sorted(providers):
                emit("Organization", [_dumps(organization(key, meta)) + "\n"])
                emit("Practitioner", [_dumps(practitioner(key, meta)) + "\n"])
        finally:
            ck.close()
        return _counted(counts, skipped)


@register_exporter("fhir")
class FhirBundleExporter(_FhirExporter):
    """FHIR R4 transaction Bundles: ``patient-<subject_id>.json``, one per patient.

    Entries carry ``urn:uuid:`` fullUrls and every reference points inside the Bundle.
    Every entry is a conditional create (``ifNoneExist`` on an identifier: the resource's
    ``urn:uuid`` identifier, or the Organization's and Practitioner's own), so loading the
    same Bundles twice creates nothing the second time, and many Bundles make each provider once.

    Option ``max_entries`` (an int >= 1): a patient with more entries is written as several
    Bundles of at most that many entries, ``patient-<id>-part<k>of<n>.json``, to be loaded in
    name order: each resource comes after the resources it references, and a reference to a
    resource of an earlier part is a conditional reference (``Encounter?identifier=...``).

    Example:
        >>> from hygeia.export import export
        >>> export("output", "fhir", "bundles", max_entries=500)["Bundle"]  # doctest: +SKIP
        1432
    """

    def write(self, shards: Iterator[tuple[pa.Table, pa.Table]], out: Path, run_info: dict) -> dict[str, int]:
        workers = self._workers()
        max_entries = self.options.get("max_entries")
        if max_entries is not None and (isinstance(max_entries, bool) or not isinstance(max_entries, int)
                                        or max_entries < 1):
            raise ConfigError(f"--max-entries must be a whole number of at least 1; got {max_entries!r}. "
                              "Servers commonly accept 500 (Medplum: 8 with conditional creates)")
        ck = self.checkpoint_for(out)
        out.mkdir(parents=True, exist_ok=True)
        counts: dict[str, int] = {}
        skipped: dict[str, int] = {}
        for state in ck.states:  # the shards a resumed export has already written
            _add(counts, state["counts"])
            _add(skipped, state["skipped"])
        for index, (files, shard_counts, shard_skipped) in _in_order(_bundle_shard, shards, run_info, workers,
                                                                     self.images, max_entries, start=ck.start):
            for name, text in files:
                ck.write_file(name, text.encode("utf-8"))
            _add(counts, shard_counts)
            _add(skipped, shard_skipped)
            ck.shard_done(index, {"counts": shard_counts, "skipped": shard_skipped})
        return _counted(counts, skipped)


def _entry(res: dict, if_none_exist: str | None = None) -> dict:
    request = {"method": "POST", "url": res["resourceType"]}
    if if_none_exist is not None:
        request["ifNoneExist"] = if_none_exist
    return {"fullUrl": f"urn:uuid:{res['id']}", "resource": res, "request": request}
