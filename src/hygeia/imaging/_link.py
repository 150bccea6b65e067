"""Images of a population run: one rendered DICOM series per ``imaging`` event, with the finding the patient has.

:func:`render_run_images` reads a run folder (``hygeia generate``) and, for every
``imaging`` event (an ImagingStudy state: ``text_value`` is ``MODALITY:body site`` per
series), renders each series whose modality and body site a phantom exists for:

- **modality**: DX and CR (projection radiography) render as a frontal X-ray, CT as a CT,
  MR as an MR (:func:`~hygeia.imaging.render`);
- **body site**: the SNOMED body structures of :data:`BODY_SITES` (thorax -> the chest
  phantom, wrist, ankle and knee regions -> the extremity phantoms, pelvis -> the pelvis
  phantom, clavicle -> the chest phantom framed on the clavicles, head -> the MNI152 head);
- **finding**: the person's conditions active at the study's time, or diagnosed in the
  study's encounter (an X-ray taken before the diagnosis it leads to), that
  :func:`~hygeia.imaging.finding_for_condition` maps to a finding at that body site
  (pneumonia -> consolidation in the chest; a forearm, ankle, rib, hip or clavicle fracture
  -> a fracture line in the wrist, ankle, chest, femoral neck or clavicle; knee or hip
  osteoarthritis -> joint-space narrowing, sclerosis and osteophytes). No such condition: a normal study. A renderer draws
  one lesion per series: if several conditions qualify, the one diagnosed in the study's
  encounter (else the latest onset) is drawn and the others are listed under ``not_shown``.

Each series is seeded from the run seed, the subject and the event's rank among the
subject's imaging events, so the same run gives the same images and the same DICOM UIDs
(the FHIR exporter reads them from the manifest). The DICOM files carry the synthetic
patient's own id (``subject_id``, as the FHIR Patient's identifier), sex and birth date,
and the study date and time of the event; they stay marked Synthetic Data YES.

Layout (written aside and swapped in whole; nothing else in the run folder changes)::

    RUN/images/manifest.json
    RUN/images/<subject_id>/<StudyInstanceUID>/dicom/    one file per slice
    RUN/images/<subject_id>/<StudyInstanceUID>/mask.nii.gz   the finding's mask (with a finding)

``manifest.json`` lists every study (subject, encounter, event time, procedure code,
modality, body site, finding kind and codes, the condition event it matches, series and
instance UIDs, paths, renderer provenance) and every series not rendered, with the reason.

Example:
    >>> import tempfile, pathlib
    >>> from hygeia.population import generate
    >>> run = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> _ = generate(n=20, seed=3, out=str(run), workers=1)
    >>> res = render_run_images(run, size=64, quiet=True)
    >>> res.studies == len(res.manifest["studies"]), (run / "images" / "manifest.json").is_file()
    (True, True)
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.errors import ConfigError, DataValidationError

__all__ = ["BODY_SITES", "IMAGES_DIR", "LINK_MODALITIES", "MANIFEST_VERSION", "ImagesResult", "event_key",
           "images_index", "read_images_manifest", "render_run_images", "study_instance_uid"]

#: The run folder's images folder.
IMAGES_DIR = "images"
#: Version of the images/manifest.json layout.
MANIFEST_VERSION = 1
#: DICOM modality of a series -> the ``render`` modality that draws it.
LINK_MODALITIES = {"DX": "xray", "CR": "xray", "CT": "ct", "MR": "mr"}
#: SNOMED body structures a phantom exists for: (code, display) -> phantom body part.
BODY_SITES = {
    ("51185008", "Thoracic structure (body structure)"): "chest",
    ("8205005", "Wrist region structure (body structure)"): "wrist",
    ("344001", "Ankle region structure (body structure)"): "ankle",
    ("69536005", "Head structure (body structure)"): "head",
    ("72696002", "Knee region structure (body structure)"): "knee",
    ("12921003", "Structure of pelvis (body structure)"): "pelvis",
    ("51299004", "Bone structure of clavicle (body structure)"): "clavicle",
}
_SITE_BY_TEXT = {text: (code, display, part) for (code, display), part in BODY_SITES.items()
                 for text in (code, display)}
#: Seed-tree streams of linked studies: the images, and the DICOM UIDs.
_STREAM_LINK, _STREAM_LINK_UID = 16, 17
_US = 1_000_000
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "hygeia.imaging.link.study")


@dataclass
class ImagesResult:
    """What :func:`render_run_images` wrote.

    Attributes:
        out: the images folder (``RUN/images``).
        manifest: the manifest written as ``out/manifest.json``.
        events: imaging events in the run.
        studies: studies with at least one rendered series.
        series: series rendered.
        with_finding: series showing a finding.
        not_rendered: series that could not be rendered (no phantom for the body site, or a
            modality not asked for), listed with the reason in the manifest.
        seconds: wall time.
    """

    out: Path
    manifest: dict[str, Any]
    events: int = 0
    studies: int = 0
    series: int = 0
    with_finding: int = 0
    not_rendered: int = 0
    seconds: float = 0.0
    by_finding: dict[str, int] = field(default_factory=dict)


def event_key(subject_id: int, time_us: int, code: str | None, state: str) -> str:
    """The key that joins an ``imaging`` event to its manifest entry (and the FHIR ImagingStudy).

    Example:
        >>> event_key(7, 1_000_000, "399208008", "Clinic_Chest_Xray")
        '7|1000000|399208008|Clinic_Chest_Xray'
    """
    return f"{int(subject_id)}|{int(time_us)}|{code or ''}|{state}"


def read_images_manifest(run: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The run's ``images/manifest.json``, or None when no images were rendered for it.

    Raises:
        DataValidationError: the file exists but is not a manifest of this layout.
    """
    path = Path(run) / IMAGES_DIR / "manifest.json"
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        msg = f"{path}: not valid JSON ({e}); re-render it with 'hygeia images link {run} --overwrite'"
        raise DataValidationError([msg]) from None
    if not isinstance(doc, dict) or doc.get("spec_version") != MANIFEST_VERSION or "studies" not in doc:
        msg = (f"{path}: not an images manifest of version {MANIFEST_VERSION}; re-render it "
               f"with 'hygeia images link {run} --overwrite'")
        raise DataValidationError([msg])
    return doc


def images_index(run: str | os.PathLike[str], info: dict[str, Any] | None = None) -> dict[int, dict[str, dict]] | None:
    """The run's rendered studies, subject_id -> :func:`event_key` -> study entry (None without images).

    Raises:
        DataValidationError: the manifest was written for another run (another seed or size).
    """
    doc = read_images_manifest(run)
    if doc is None:
        return None
    if info is None:
        from hygeia.core.storage import read_run_info

        info = read_run_info(run)
    seed = (info.get("config") or {}).get("seed", info.get("seed"))
    made_for = doc.get("run") or {}
    if made_for.get("seed") != seed or made_for.get("created_at") != info.get("created_at"):
        msg = (f"{Path(run) / IMAGES_DIR / 'manifest.json'}: rendered for another run (seed "
               f"{made_for.get('seed')}, made {made_for.get('created_at')}), not this one (seed "
               f"{seed}, made {info.get('created_at')}); re-render with 'hygeia images link {run} --overwrite'")
        raise DataValidationError([msg])
    out: dict[int, dict[str, dict]] = {}
    for study in doc["studies"]:
        out.setdefault(int(study["subject_id"]), {})[study["key"]] = study
    return out


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / _US, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _dicom_date_time(us: int) -> tuple[str, str]:
    d = datetime.fromtimestamp(us / _US, tz=timezone.utc)
    return d.strftime("%Y%m%d"), d.strftime("%H%M%S")


def _rows(table: Any) -> list[dict[str, Any]]:
    import pyarrow as pa

    cols = {}
    for name in table.column_names:
        col = table[name]
        cols[name] = (col.cast(pa.int64()) if pa.types.is_timestamp(col.type) else col).to_pylist()
    names = list(cols)
    return [dict(zip(names, values)) for values in zip(*cols.values())]


def _series_parts(text: str | None) -> list[tuple[str, str]]:
    """``'DX:Thoracic structure (body structure); CT:...'`` -> [(modality, site text)]."""
    out = []
    for part in (text or "").split("; "):
        modality, sep, site = part.partition(":")
        if sep and modality.strip():
            out.append((modality.strip(), site.strip()))
    return out


def _candidates(conditions: list[dict], study: dict, part: str) -> list[dict]:
    """The conditions of one person an image of ``part`` at ``study`` shows, best first."""
    from hygeia.imaging._lesions import finding_for_condition
    from hygeia.imaging._render import BODY_PARTS

    t, enc = study["time"], study["encounter_id"]
    out = []
    for c in conditions:
        hit = finding_for_condition(c["code_system"] or "", c["code"] or "")
        if hit is None or hit[1] != part or hit[0] not in BODY_PARTS[part]:
            continue
        here = enc is not None and c["encounter_id"] == enc
        active = c["time"] <= t and (c["end_time"] is None or c["end_time"] > t)
        if here or active:
            out.append(dict(c, finding=hit[0], diagnosed_here=here))
    out.sort(key=lambda c: (not c["diagnosed_here"], -c["time"]))
    return out


def _condition_ref(c: dict) -> dict[str, Any]:
    return {"code_system": c["code_system"], "code": c["code"], "display": c["display"], "time": _iso(c["time"]),
            "time_us": c["time"], "end_time": _iso(c["end_time"]), "encounter_id": c["encounter_id"],
            "module": c["module"], "state": c["state"], "diagnosed_in_study_encounter": c["diagnosed_here"]}


def study_instance_uid(run_seed: int, subject_id: int, rank: int) -> str:
    """StudyInstanceUID of a subject's ``rank``-th imaging event (0-based, by time) in a run of ``run_seed``.

    A ``2.25.<integer>`` UID (PS3.5 B.2) of a name-based UUID, so the same run gives the same UID.

    Example:
        >>> study_instance_uid(1, 7, 0) == study_instance_uid(1, 7, 0) != study_instance_uid(1, 7, 1)
        True
    """
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, f'{int(run_seed)}/{int(subject_id)}/{int(rank)}').int}"


def _seed(run_seed: int, stream: int, subject: int, rank: int, series: int) -> int:
    return int(np.random.SeedSequence(int(run_seed), spawn_key=(stream, int(subject), rank, series))
               .generate_state(1, np.uint64)[0] >> np.uint64(1))


def render_run_images(run: str | os.PathLike[str], *, modalities: tuple[str, ...] = tuple(LINK_MODALITIES),
                      size: int = 128, slices: int = 16, dose: float = 1e5, overwrite: bool = False,
                      quiet: bool = True) -> ImagesResult:
    """Render one DICOM series per series of every ``imaging`` event of a run, into ``RUN/images``.

    Args:
        run: a run folder written by ``hygeia generate``.
        modalities: DICOM modalities to render (of ``DX``, ``CR``, ``CT``, ``MR``); series of
            others are listed as not rendered.
        size: pixels across each image (48 to 512).
        slices: slices of a CT or MR series (a radiograph is one image).
        dose: photons per ray (CT) or per detector pixel (X-ray).
        overwrite: replace an existing ``RUN/images`` folder.
        quiet: no progress bar.

    Returns:
        The counts, the manifest and where it was written.

    Raises:
        ConfigError: an unknown modality, or sizes out of range.
        OutputError: ``RUN/images`` exists (without ``overwrite``).
        DataValidationError: ``run`` is not a run folder.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from hygeia import __version__
    from hygeia.core.atomic import atomic_output
    from hygeia.core.progress import track
    from hygeia.core.storage import iter_shards, read_run_info
    from hygeia.imaging._dicom_write import DicomStudy, write_dicom
    from hygeia.imaging._nifti import write_nifti
    from hygeia.imaging._render import _mask_volume, render

    start = time.monotonic()
    mods = tuple(str(m).upper() for m in modalities)
    bad = [m for m in mods if m not in LINK_MODALITIES]
    if bad or not mods:
        raise ConfigError(f"modalities must be some of {', '.join(LINK_MODALITIES)}; got {list(modalities)!r}")
    # A rib fracture line on a chest film (400 mm across) is at least 1.2 pixels wide and at most 10 mm.
    if isinstance(size, bool) or not isinstance(size, int) or not 48 <= size <= 512:
        raise ConfigError(f"size must be an integer from 48 to 512 pixels (a rib fracture needs pixels under 8.3 mm "
                          f"on a 400 mm chest film); got {size!r}. Pass e.g. size=128.")
    if isinstance(slices, bool) or not isinstance(slices, int) or slices < 1:
        raise ConfigError(f"slices must be an integer of at least 1; got {slices!r}. Pass e.g. slices=16.")
    info = read_run_info(run)
    run_seed = (info.get("config") or {}).get("seed", info.get("seed"))
    if run_seed is None:
        raise DataValidationError([f"{Path(run) / 'run.json'}: has no seed; images are seeded from the run seed"])
    root = Path(run)
    out = root / IMAGES_DIR

    # One pass over the run: each person's imaging events and conditions.
    jobs: list[tuple[dict, dict, int, list[dict]]] = []
    for persons, events in iter_shards(run):
        keep = pc.is_in(events["kind"], value_set=pa.array(["imaging", "condition"]))
        rows = _rows(events.filter(keep))
        by_subject: dict[int, list[dict]] = {}
        for r in rows:
            by_subject.setdefault(r["subject_id"], []).append(r)
        for p in _rows(persons):
            mine = by_subject.get(p["subject_id"], [])
            conditions = [r for r in mine if r["kind"] == "condition"]
            studies = sorted((r for r in mine if r["kind"] == "imaging"), key=lambda r: (r["time"], r["state"]))
            for rank, s in enumerate(studies):
                jobs.append((p, s, rank, conditions))

    records: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    res = ImagesResult(out=out, manifest={}, events=len(jobs))
    with atomic_output(out, folder=True, overwrite=overwrite, what="Images folder") as tmp:
        for person, study, rank, conditions in track(jobs, total=len(jobs), unit="studies",
                                                      description="rendering studies", quiet=quiet):
            sid = int(person["subject_id"])
            key = event_key(sid, study["time"], study["code"], study["state"])
            event = {"key": key, "subject_id": sid, "encounter_id": study["encounter_id"],
                     "time": _iso(study["time"]), "time_us": study["time"], "module": study["module"],
                     "state": study["state"],
                     "procedure": {"code_system": study["code_system"], "code": study["code"],
                                   "display": study["display"]}}
            date, tod = _dicom_date_time(study["time"])
            birth = _dicom_date_time(person["birth_time"])[0]
            series_out = []
            study_uid = study_instance_uid(run_seed, sid, rank)
            for k, (modality, site_text) in enumerate(_series_parts(study["text_value"])):
                site = _SITE_BY_TEXT.get(site_text)
                reason = None
                if modality not in LINK_MODALITIES:
                    reason = f"no renderer for modality {modality}"
                elif modality not in mods:
                    reason = f"modality {modality} not asked for"
                elif site is None:
                    reason = f"no phantom for body site {site_text!r}"
                if reason:
                    skipped.append(dict(event, series_index=k, modality=modality, body_site=site_text,
                                        reason=reason))
                    continue
                code, display, part = site
                key_mod = LINK_MODALITIES[modality]
                cands = _candidates(conditions, study, part)
                chosen = cands[0] if cands else None
                finding = chosen["finding"] if chosen else None
                vol = render(key_mod, finding=finding, n=1, seed=_seed(run_seed, _STREAM_LINK, sid, rank, k),
                             size=size, slices=slices, dose=dose, body_part=part, quiet=True)[0]
                vol.meta["linked_event"] = key
                dstudy = DicomStudy(study_uid=study_uid, patient_id=str(sid),
                                    birth_date=birth, sex=person["sex"] if person["sex"] in ("M", "F") else "O",
                                    study_date=date, study_time=tod, study_id=str(rank + 1),
                                    description=study["display"] or "")
                kinds = finding.replace("_", " ") if finding else "no finding"
                folder = Path(str(sid)) / study_uid / (f"dicom-{k + 1}" if k else "dicom")
                (tmp / folder).parent.mkdir(parents=True, exist_ok=True)
                written = write_dicom(vol, tmp / folder, study=dstudy, seed=_seed(run_seed, _STREAM_LINK_UID, sid,
                                                                                   rank, k),
                                      series_number=k + 1, series_description=f"Synthetic {modality} {part} ({kinds})")
                entry: dict[str, Any] = {
                    "series_index": k, "series_number": k + 1, "modality": modality,
                    "sop_class_uid": written.sop_class_uid,
                    "body_site": {"code_system": "SNOMED-CT", "code": code, "display": display},
                    "body_part": part, "series_uid": written.series_uid,
                    "instances": [{"uid": u, "number": i + 1, "path": str(folder / p.name)}
                                  for i, (u, p) in enumerate(zip(written.sop_uids, written.paths, strict=True))],
                    "path": str(folder), "shape": list(vol.shape), "spacing": list(vol.spacing),
                    "finding": None, "condition": None, "not_shown": [],
                    "renderer": {kk: vol.meta.get(kk) for kk in ("renderer", "version", "seed", "parameters",
                                                                   "units")},
                }
                if cands[1:]:
                    entry["not_shown"] = [dict(_condition_ref(c), finding=c["finding"],
                                               reason="one finding per rendered series") for c in cands[1:]
                                          if c["finding"] != finding]
                if finding is not None:
                    mask_path = Path(str(sid)) / study_uid / (f"mask-{k + 1}.nii.gz" if k else "mask.nii.gz")
                    write_nifti(_mask_volume(vol), tmp / mask_path)
                    f = vol.findings[0]
                    entry["finding"] = {"kind": f.kind, "codes": [list(c) for c in f.codes],
                                        "contrast": round(float(f.contrast), 4), "pixels": int(f.mask.sum()),
                                        "mask": str(mask_path)}
                    entry["condition"] = _condition_ref(chosen)
                    res.with_finding += 1
                    res.by_finding[f.kind] = res.by_finding.get(f.kind, 0) + 1
                series_out.append(entry)
            if series_out:
                records.append(dict(event, study_uid=study_uid, patient={
                    "id": str(sid), "sex": person["sex"], "birth_date": birth}, series=series_out))
                res.series += len(series_out)
        res.studies, res.not_rendered = len(records), len(skipped)
        manifest = {
            "spec_version": MANIFEST_VERSION, "hygeia_version": __version__, "synthetic": True,
            "created_at": datetime.now(timezone.utc).isoformat(),
            "run": {"seed": run_seed, "created_at": info.get("created_at"), "n": (info.get("config") or {}).get("n")},
            "how": {"function": "hygeia.imaging.render_run_images (hygeia images link, hygeia generate --images)",
                    "modalities": list(mods), "size": size, "slices": slices, "photons": float(dose),
                    "finding_rule": "conditions active at the study time or diagnosed in its encounter, mapped by "
                                    "hygeia.imaging.finding_for_condition to a finding at the study's body site"},
            "counts": {"imaging_events": res.events, "studies": res.studies, "series": res.series,
                       "with_finding": res.with_finding, "not_rendered": res.not_rendered,
                       "by_finding": dict(sorted(res.by_finding.items()))},
            "studies": records, "not_rendered": skipped,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str) + "\n", encoding="utf-8")
    res.manifest = manifest
    res.seconds = time.monotonic() - start
    return res
