"""``render``: synthetic CT, MR and X-ray images of phantom patients, with the lesion asked for and its mask.

One call renders ``n`` images; image ``i`` draws its anatomy, its lesion and its noise
from the seed tree ``(seed, i)``, so an image depends only on the run seed, its index
and the parameters, never on ``n`` or on the order. Every parameter, the seed, the
renderer and its version are kept in ``Volume.meta`` (provenance).

Example:
    >>> vols = render("ct", finding="nodule", n=1, seed=1, size=32, slices=2, dose=1e5)
    >>> v = vols[0]
    >>> v.modality, v.shape, v.findings[0].kind, v.meta["seed"]
    ('CT', (2, 32, 32), 'nodule', 1)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hygeia.core.seeding import SeedTree, resolve_seed
from hygeia.errors import ConfigError
from hygeia.imaging._ct import FILTERS, MU_WATER_PER_MM, simulate_ct
from hygeia.imaging._lesions import LESIONS, insert_lesion
from hygeia.imaging._mr import SEQUENCES, gradient_echo, simulate_mr, spin_echo
from hygeia.imaging._phantoms import (
    PROPERTIES,
    Phantom,
    chest_phantom,
    extremity_phantom,
    head_phantom,
    pelvis_phantom,
    water_phantom,
)
from hygeia.imaging._volume import Finding, Volume
from hygeia.imaging._xray import line_integrals, project_mask, simulate_xray

__all__ = ["BODY_PARTS", "FINDINGS", "FORMATS", "RENDER_MODALITIES", "make_phantom", "render", "write_rendered"]

#: Modalities ``render`` draws, and the Volume modality each gives.
RENDER_MODALITIES = {"ct": "CT", "mr": "MR", "xray": "DX"}
#: Findings ``render`` can insert (``None`` for a normal image).
FINDINGS = tuple(LESIONS)
#: Phantoms, and the findings each can hold.
BODY_PARTS = {"chest": ("nodule", "consolidation", "fracture"), "head": ("white_matter_lesion",), "wrist": ("fracture",),
              "ankle": ("fracture",), "knee": ("osteoarthritis",), "pelvis": ("fracture", "osteoarthritis"),
              "clavicle": ("fracture",), "water": ()}
#: Seed-tree stream of rendered images (independent of the population's streams).
STREAM_IMAGE = 15
_UNITS = {"CT": "HU", "MR": "arbitrary signal units (proton density 1 fully relaxed = 1)", "DX": "-ln(I/I0)"}


def make_phantom(body_part: str, modality: str, *, size: int, slices: int, thickness: float | None,
                 rng: np.random.Generator) -> Phantom:
    """The phantom of one patient for ``modality`` (a frontal radiograph gets a 3-D block as tall as wide)."""
    if body_part == "chest":
        if modality == "DX":
            return chest_phantom(size=size, slices=size, thickness=400.0 / size, z_centre=10.0, rng=rng)
        return chest_phantom(size=size, slices=slices, thickness=thickness or 5.0, rng=rng)
    if body_part == "head":
        if modality == "DX":
            return head_phantom(size=size, slices=size, thickness=240.0 / size, z_centre=0.0, rng=rng)
        return head_phantom(size=size, slices=slices, thickness=thickness or 5.0, rng=rng)
    if body_part == "clavicle":  # the chest phantom framed on the shoulder girdle (z 0 to 200 mm)
        if modality == "DX":
            ph = chest_phantom(size=size, slices=size, thickness=200.0 / size, z_centre=100.0, rng=rng)
        else:
            ph = chest_phantom(size=size, slices=slices, thickness=thickness or 5.0, z_centre=107.0, rng=rng)
        ph.body_part = "clavicle"
        return ph
    if body_part in ("wrist", "ankle", "knee"):
        return extremity_phantom(body_part, size=size, rng=rng)
    if body_part == "pelvis":
        return pelvis_phantom(size=size, rng=rng)
    if body_part == "water":
        return water_phantom(size=size, slices=size if modality == "DX" else slices, thickness=thickness or 5.0)
    raise ConfigError(f"body_part must be one of {', '.join(BODY_PARTS)}; got {body_part!r}")


def _crop_z(ph: Phantom, slices: int) -> Phantom:
    """Keep ``slices`` slices of an isotropic extremity block, centred on its lesion (or the joint)."""
    nz = ph.shape[0]
    if slices >= nz:
        return ph
    if ph.findings:
        centre = int(np.mean(np.nonzero(ph.findings[0].mask.any(axis=(1, 2)))[0]))
    else:
        centre = round((0.0 - ph.origin[2]) / ph.spacing[0])
    k0 = int(np.clip(centre - slices // 2, 0, nz - slices))
    k1 = k0 + slices
    out = Phantom(ph.labels[k0:k1].copy(), ph.spacing,
                  (ph.origin[0], ph.origin[1], ph.origin[2] + k0 * ph.spacing[0]), ph.body_part,
                  {k: v[k0:k1].copy() for k, v in ph.parts.items()}, meta=dict(ph.meta))
    for p in PROPERTIES:
        out.map(p)[:] = ph.map(p)[k0:k1]
    for f, before in zip(ph.findings, ph.before, strict=True):
        per_slice = f.mask.sum(axis=(1, 2))
        a, b = int(per_slice[:k0].sum()), int(per_slice[:k1].sum())
        out.findings.append(Finding(f.kind, f.mask[k0:k1].copy(), f.contrast, f.codes))
        out.before.append({p: v[a:b] for p, v in before.items()})
    return out


def _signal(values: dict[str, np.ndarray], sequence: str, tr: float, te: float, flip_deg: float) -> np.ndarray:
    if sequence == "se":
        return spin_echo(values["pd"], values["t1"], values["t2"], tr=tr, te=te)
    return gradient_echo(values["pd"], values["t1"], values["t2s"], tr=tr, te=te, flip_deg=flip_deg)


def _check(modality: str, finding: str | None, n: int, size: int, slices: int, body_part: str | None) -> str:
    key = str(modality).lower()
    key = {"dx": "xray", "x-ray": "xray"}.get(key, key)
    if key not in RENDER_MODALITIES:
        raise ConfigError(f"modality must be one of {', '.join(RENDER_MODALITIES)}; got {modality!r}")
    if finding is not None and finding not in LESIONS:
        raise ConfigError(f"finding must be one of {', '.join(LESIONS)} or None; got {finding!r}")
    for name, value, least in (("n", n, 1), ("size", size, 16), ("slices", slices, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ConfigError(f"{name} must be an integer of at least {least}; got {value!r}")
    if size > 512:
        raise ConfigError(f"size must be at most 512 pixels; got {size}. Pass e.g. size=128.")
    if body_part is not None:
        if body_part not in BODY_PARTS:
            raise ConfigError(f"body_part must be one of {', '.join(BODY_PARTS)}; got {body_part!r}")
        if finding is not None and finding not in BODY_PARTS[body_part]:
            fits = [b for b, fs in BODY_PARTS.items() if finding in fs]
            raise ConfigError(f"a {finding.replace('_', ' ')} is shown in a {' or '.join(fits)} image, "
                              f"not a {body_part}; pass body_part={fits[0]!r}")
    return key


def _default_part(key: str, finding: str | None, rng: np.random.Generator) -> str:
    if finding in ("nodule", "consolidation"):
        return "chest"
    if finding == "white_matter_lesion":
        return "head"
    if finding == "fracture":
        return str(rng.choice(["wrist", "ankle"]))
    if finding == "osteoarthritis":
        return "knee"
    return "head" if key == "mr" else "chest"


def render(modality: str, *, finding: str | None = None, n: int = 1, seed: int | None = None, size: int = 128,
           slices: int = 16, dose: float = 1e5, tr: float = 3000.0, te: float = 90.0, body_part: str | None = None,
           thickness: float | None = None, sequence: str = "se", flip_deg: float = 30.0, snr: float = 30.0,
           bias: float = 0.2, acceleration: float = 1.0, angles: int = 180, filter_name: str = "ramp",
           lesion: dict[str, Any] | None = None, quiet: bool = True) -> list[Volume]:
    """Render ``n`` synthetic images of ``modality`` from physics, each a new phantom patient.

    Args:
        modality: ``'ct'``, ``'mr'`` or ``'xray'`` (Volumes of modality CT, MR, DX).
        finding: ``'nodule'``, ``'consolidation'``, ``'white_matter_lesion'``, ``'fracture'``,
            ``'osteoarthritis'`` or None.
        n: number of images.
        seed: run seed (None draws one; it is recorded in every image's meta).
        size: pixels across each slice (and rows of a radiograph).
        slices: axial slices of a CT or MR (a radiograph is one image).
        dose: photons per ray (CT) or per detector pixel (X-ray) before the patient.
        tr: MR repetition time (ms).
        te: MR echo time (ms).
        body_part: ``'chest'``, ``'head'``, ``'wrist'``, ``'ankle'``, ``'knee'``, ``'pelvis'``,
            ``'clavicle'`` or ``'water'``; default from the finding (fracture: wrist or ankle at
            random; osteoarthritis: knee) or the modality (MR: head, else chest).
        thickness: slice spacing (mm) of CT and MR chest or head (default 5).
        sequence: MR ``'se'`` (spin echo) or ``'gre'`` (spoiled gradient echo).
        flip_deg: MR gradient-echo flip angle (degrees).
        snr: MR signal-to-noise ratio (mean foreground signal over noise sigma).
        bias: MR bias-field strength (0 to 1).
        acceleration: MR undersampling factor (1 = all phase-encoding lines).
        angles: CT projections over 180 degrees.
        filter_name: CT reconstruction filter (``'ramp'``, ``'shepp-logan'``...).
        lesion: options passed to :func:`~hygeia.imaging.insert_lesion` (e.g. ``{'radius_mm': 8}``).
        quiet: no progress on stderr.

    Returns:
        One :class:`Volume` per image, its finding's mask in the image's own grid (the shadow
        of the 3-D mask on a radiograph) and ``contrast`` in the image's units (the mean
        noise-free change the lesion makes inside its mask).

    Raises:
        ConfigError: an unknown modality, finding or body part, or values out of range.
    """
    from hygeia import __version__
    from hygeia.core.progress import track

    key = _check(modality, finding, n, size, slices, body_part)
    mod = RENDER_MODALITIES[key]
    if key == "mr" and sequence not in SEQUENCES:
        raise ConfigError(f"sequence must be one of {', '.join(SEQUENCES)}; got {sequence!r}")
    if key == "ct" and filter_name not in FILTERS:
        raise ConfigError(f"filter_name must be one of {', '.join(FILTERS)}; got {filter_name!r}")
    if not np.isfinite(dose) or dose < 10:
        raise ConfigError(f"dose must be at least 10 photons; got {dose!r}. Pass e.g. dose=1e5.")
    seed = resolve_seed(seed)
    tree = SeedTree(seed)
    params: dict[str, Any] = {"modality": key, "finding": finding, "size": size, "body_part": body_part}
    if key == "ct":
        params.update(slices=slices, thickness=thickness, photons=float(dose), angles=angles, filter_name=filter_name,
                      mu_water_per_mm=MU_WATER_PER_MM, geometry="parallel beam, filtered back projection")
    elif key == "mr":
        params.update(slices=slices, thickness=thickness, sequence=sequence, tr_ms=tr, te_ms=te,
                      flip_deg=flip_deg if sequence == "gre" else None, snr=snr, bias=bias, acceleration=acceleration)
    else:
        params.update(photons=float(dose), mu_water_per_mm=MU_WATER_PER_MM, view="frontal (parallel rays)")
    if lesion:
        params["lesion"] = dict(lesion)
    out = []
    for i in track(range(n), total=n, unit="images", description=f"rendering {key}", quiet=quiet):
        anatomy_ss, lesion_ss, noise_ss = tree.child(STREAM_IMAGE, i).spawn(3)
        anatomy, lesion_rng, noise = (np.random.default_rng(s) for s in (anatomy_ss, lesion_ss, noise_ss))
        part = body_part or _default_part(key, finding, anatomy)
        ph = make_phantom(part, mod, size=size, slices=slices, thickness=thickness, rng=anatomy)
        if finding is not None:
            insert_lesion(ph, finding, rng=lesion_rng, **(lesion or {}))
        if part in ("wrist", "ankle", "knee", "pelvis") and mod != "DX":
            ph = _crop_z(ph, slices)
        meta: dict[str, Any] = {"renderer": f"hygeia.imaging.render/{key}", "version": __version__, "seed": seed,
                                "index": i, "body_part": part, "parameters": dict(params, body_part=part),
                                "units": _UNITS[mod], "anatomy": ph.meta, "synthetic": True}
        findings: list[Finding] = []
        if mod == "CT":
            array = simulate_ct(ph, photons=dose, rng=noise, angles=angles, filter_name=filter_name)
            findings = list(ph.findings)
            spacing, origin, direction = ph.spacing, ph.origin, None
        elif mod == "MR":
            array, signal, info = simulate_mr(ph, sequence=sequence, tr=tr, te=te, flip_deg=flip_deg, snr=snr,
                                              bias=bias, acceleration=acceleration, rng=noise)
            for f, before in zip(ph.findings, ph.before, strict=True):
                gain = info["bias_field"][f.mask]
                after = float(signal[f.mask].mean())
                was = float((_signal(before, sequence, tr, te, flip_deg) * gain).mean())
                findings.append(Finding(f.kind, f.mask, after - was, f.codes))
            meta.update(noise_sigma=info["noise_sigma"], lines_acquired=info["lines_acquired"])
            spacing, origin, direction = ph.spacing, ph.origin, None
        else:
            array = simulate_xray(ph, photons=dose, rng=noise)
            for f, before in zip(ph.findings, ph.before, strict=True):
                hu_before = ph.map("hu").copy()
                hu_before[f.mask] = before["hu"]
                delta = line_integrals(ph) - line_integrals(ph, hu=hu_before)
                shadow = project_mask(f.mask)
                findings.append(Finding(f.kind, shadow, float(delta[shadow[0]].mean()), f.codes))
            nz = ph.shape[0]
            spacing = (ph.spacing[1], ph.spacing[0], ph.spacing[2])
            origin = (ph.origin[0], 0.0, ph.origin[2] + ph.spacing[0] * (nz - 1))
            direction = ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0))
        out.append(Volume(array, mod, spacing=spacing, origin=origin, findings=findings, meta=meta,
                          direction=direction or ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))))
    return out


#: Formats :func:`write_rendered` writes series in.
FORMATS = ("dicom", "nifti", "png")
#: Version of the manifest.json layout.
MANIFEST_VERSION = 1


def _mask_volume(vol: Volume) -> Volume:
    """The union of a Volume's finding masks as a 0/1 Volume of the same geometry."""
    return Volume(vol.mask().astype(np.float32), vol.modality, spacing=vol.spacing, origin=vol.origin,
                  direction=vol.direction, meta={"mask_of": vol.meta.get("renderer"), "index": vol.meta.get("index"),
                                                 "findings": [f.kind for f in vol.findings], "synthetic": True})


def write_rendered(volumes: list[Volume], out: Any, *, format: str = "dicom", overwrite: bool = False,
                   quiet: bool = True) -> dict[str, Any]:
    """Write rendered images into folder ``out``: one series per image, a mask per image with a finding, and manifest.json.

    Layout: ``series/0000/`` (DICOM files or PNG slices) or ``series/0000.nii.gz``; masks
    ``masks/0000.nii.gz`` (``masks/0000/`` PNG slices with ``format='png'``); ``manifest.json``
    lists each image's files, findings (kind, codes, contrast, voxels), geometry and meta.
    The folder appears whole or not at all.

    Args:
        volumes: what :func:`render` returned.
        out: the folder to write (must not exist, or be empty, unless ``overwrite``).
        format: ``'dicom'``, ``'nifti'`` or ``'png'``.
        overwrite: replace an existing folder.
        quiet: no progress on stderr.

    Returns:
        The manifest (also written as ``out/manifest.json``).

    Example:
        >>> import tempfile, json, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "imgs"
        >>> m = write_rendered(render("xray", finding="fracture", seed=2, size=32), out, format="nifti")
        >>> sorted(p.name for p in out.iterdir()), m["images"][0]["mask"]
        (['manifest.json', 'masks', 'series'], 'masks/0000.nii.gz')
    """
    import json
    from pathlib import Path

    from hygeia import __version__
    from hygeia.core.atomic import atomic_output
    from hygeia.core.progress import track
    from hygeia.imaging._dicom_write import write_dicom
    from hygeia.imaging._nifti import write_nifti
    from hygeia.imaging._png import write_png

    if format not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    if not volumes:
        raise ConfigError("there are no images to write; render at least one (n=1)")
    out = Path(out)
    images = []
    with atomic_output(out, folder=True, overwrite=overwrite, what="Images folder") as tmp:
        (tmp / "series").mkdir()
        for i, vol in enumerate(track(volumes, unit="series", description=f"writing {format}", quiet=quiet)):
            name = f"{i:04d}"
            part = vol.meta.get("body_part", "")
            kinds = ", ".join(f.kind.replace("_", " ") for f in vol.findings) or "no finding"
            if format == "dicom":
                uid_seed = int(SeedTree(int(vol.meta.get("seed", 0))).child(STREAM_IMAGE + 1, int(
                    vol.meta.get("index", i))).generate_state(1)[0])
                series = write_dicom(vol, tmp / "series" / name, seed=uid_seed,
                                     series_description=f"Synthetic {vol.modality} {part} ({kinds})")
                entry: dict[str, Any] = {"series": f"series/{name}", "files": len(series.paths),
                                         "study_uid": series.study_uid, "series_uid": series.series_uid,
                                         "sop_class_uid": series.sop_class_uid}
            elif format == "nifti":
                write_nifti(vol, tmp / "series" / f"{name}.nii.gz")
                entry = {"series": f"series/{name}.nii.gz", "files": 1}
            else:
                paths = write_png(vol, tmp / "series" / name, window="lung" if part == "chest" and
                                  vol.modality == "CT" else None)
                entry = {"series": f"series/{name}", "files": len(paths)}
            if vol.findings:
                (tmp / "masks").mkdir(exist_ok=True)
                mask = _mask_volume(vol)
                if format == "png":
                    write_png(mask, tmp / "masks" / name, window=(0.5, 1.0))
                    entry["mask"] = f"masks/{name}"
                else:
                    write_nifti(mask, tmp / "masks" / f"{name}.nii.gz")
                    entry["mask"] = f"masks/{name}.nii.gz"
            entry.update(index=i, modality=vol.modality, body_part=part, shape=list(vol.shape),
                         spacing=list(vol.spacing), origin=list(vol.origin),
                         findings=[{"kind": f.kind, "codes": [list(c) for c in f.codes],
                                    "contrast": round(float(f.contrast), 4), "voxels": int(f.mask.sum())}
                                   for f in vol.findings], meta=vol.meta)
            images.append(entry)
        manifest = {"spec_version": MANIFEST_VERSION, "hygeia_version": __version__, "format": format,
                    "seed": volumes[0].meta.get("seed"), "parameters": volumes[0].meta.get("parameters"),
                    "synthetic": True, "images": images}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str) + "\n", encoding="utf-8")
    return manifest
