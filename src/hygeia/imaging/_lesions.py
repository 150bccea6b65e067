"""Lesions placed in a phantom before the physics runs: the rendered image carries the scanner's noise and blur, the mask is the truth.

Kinds (the registry :data:`LESIONS`):

- ``'nodule'``: a solid lung nodule, an ellipsoid of soft-tissue density wholly inside one lung;
- ``'consolidation'``: the lower (or upper) lobe of one lung, cut by an oblique fissure,
  filled in patches with exudate of soft-tissue density, with air bronchograms left
  inside (bronchi that stay aerated are not in the mask);
- ``'white_matter_lesion'``: a few T2-bright ovoids in the cerebral white matter (the
  BrainWeb MS-lesion tissue);
- ``'fracture'``: a thin oblique gap (hematoma density) through a bone's cortex and marrow:
  the distal radius at the wrist, the distal fibula or the medial malleolus at the ankle,
  a rib (across its course, at its lateral arc) in the chest, the femoral neck (across its
  axis) in the pelvis, the middle third of a clavicle;
- ``'osteoarthritis'``: in the knee's medial compartment or the upper half of a hip joint:
  joint-space narrowing (part of the cartilage's height turned to bone), subchondral
  sclerosis (the cancellous bone under it made cortical) and marginal osteophytes.

Each finding carries the SNOMED CT code of the condition it shows only where the image
shows that condition: consolidation -> Pneumonia (disorder) 233604007 (as coded in the
Synthea modules shipped here, e.g. ``covid19/outcomes.json``); a fracture at the wrist ->
Fracture of forearm (disorder) 65966004, at the ankle -> Fracture of ankle (disorder)
16114001, of a rib -> Fracture of rib (disorder) 33737001 (``population/modules/fractures.json``,
whose forearm fractures are imaged by a wrist X-ray and rib fractures by a chest X-ray), a
hip fracture -> Closed fracture of hip (disorder) 359817006, a clavicle fracture -> Fracture
of clavicle (disorder) 58150001 (same file, pelvis and clavicle X-rays); osteoarthritis of the
knee -> 239873007 and of the hip -> 239872002 (``population/modules/osteoarthritis.json``, knee
and pelvis X-rays). A nodule and white-matter lesions are not one condition (a nodule may be
benign or malignant; white-matter hyperintensities come with multiple sclerosis, small
vessel disease, migraine...), so they get no code unless the caller passes ``codes``.

Example:
    >>> import numpy as np
    >>> from hygeia.imaging._phantoms import chest_phantom
    >>> ph = chest_phantom(size=64, slices=8, rng=np.random.default_rng(0))
    >>> f = insert_lesion(ph, "nodule", rng=np.random.default_rng(1), radius_mm=10)
    >>> f.kind, bool(f.mask.any()), round(f.contrast)
    ('nodule', True, 890)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hygeia.errors import ConfigError
from hygeia.imaging._phantoms import PROPERTIES, Phantom, label, phantom_from_ct
from hygeia.imaging._volume import Finding, Volume

__all__ = ["CODES", "CONDITIONS", "LESIONS", "finding_for_condition", "insert_lesion"]

_SNOMED = "SNOMED-CT"
#: The condition codes a finding carries: kind (and site) -> (system, code, display).
CODES: dict[str, tuple[str, str, str]] = {
    "consolidation": (_SNOMED, "233604007", "Pneumonia (disorder)"),
    "fracture/wrist": (_SNOMED, "65966004", "Fracture of forearm (disorder)"),
    "fracture/ankle": (_SNOMED, "16114001", "Fracture of ankle (disorder)"),
    "fracture/chest": (_SNOMED, "33737001", "Fracture of rib (disorder)"),
    "fracture/pelvis": (_SNOMED, "359817006", "Closed fracture of hip (disorder)"),
    "fracture/clavicle": (_SNOMED, "58150001", "Fracture of clavicle (disorder)"),
    "osteoarthritis/knee": (_SNOMED, "239873007", "Osteoarthritis of knee (disorder)"),
    "osteoarthritis/pelvis": (_SNOMED, "239872002", "Osteoarthritis of hip (disorder)"),
}

#: Conditions of the shipped modules an image can show: (system, code) -> (finding, body part).
#: Community acquired pneumonia (385093006, ``community_acquired_pneumonia.json``) and
#: pneumonia (233604007) show as consolidation; multiple sclerosis (24700007,
#: ``synthea/modules/multiple_sclerosis.json``) as white-matter lesions on MR; the fractures
#: of ``fractures.json`` as a fracture line at their site.
CONDITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (_SNOMED, "233604007"): ("consolidation", "chest"),
    (_SNOMED, "385093006"): ("consolidation", "chest"),
    (_SNOMED, "24700007"): ("white_matter_lesion", "head"),
    (_SNOMED, "65966004"): ("fracture", "wrist"),
    (_SNOMED, "16114001"): ("fracture", "ankle"),
    (_SNOMED, "33737001"): ("fracture", "chest"),
    (_SNOMED, "359817006"): ("fracture", "pelvis"),
    (_SNOMED, "58150001"): ("fracture", "clavicle"),
    (_SNOMED, "239873007"): ("osteoarthritis", "knee"),
    (_SNOMED, "239872002"): ("osteoarthritis", "pelvis"),
}


def finding_for_condition(system: str, code: str) -> tuple[str, str] | None:
    """The finding and body part that show condition ``(system, code)``, or None where no renderer shows it.

    Example:
        >>> finding_for_condition("SNOMED-CT", "385093006")
        ('consolidation', 'chest')
        >>> finding_for_condition("SNOMED-CT", "44054006") is None  # diabetes: nothing to see
        True
    """
    return CONDITIONS.get((system, str(code)))


def _need(phantom: Phantom, kind: str, parts: tuple[str, ...], body_parts: tuple[str, ...]) -> None:
    if phantom.body_part not in body_parts:
        article = "an" if kind[0] in "aeiou" else "a"
        raise ConfigError(f"{article} {kind.replace('_', ' ')} goes in a {' or '.join(body_parts)} phantom, "
                          f"not a {phantom.body_part!r} one")
    missing = [p for p in parts if p not in phantom.parts or not phantom.parts[p].any()]
    if missing:
        raise ConfigError(f"this {phantom.body_part} phantom has no {', '.join(missing)} voxels to put a "
                          f"{kind.replace('_', ' ')} in; render more slices or a larger size")


def _coords_mm(phantom: Phantom) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.broadcast_to(a, phantom.shape) for a in phantom.grid())  # type: ignore[return-value]


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    a, b, c, d = q / np.linalg.norm(q)
    return np.array([[a*a + b*b - c*c - d*d, 2*(b*c - a*d), 2*(b*d + a*c)],
                     [2*(b*c + a*d), a*a - b*b + c*c - d*d, 2*(c*d - a*b)],
                     [2*(b*d - a*c), 2*(c*d + a*b), a*a - b*b - c*c + d*d]])


def _ellipsoid(phantom: Phantom, centre: np.ndarray, axes: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Voxels inside an ellipsoid (centre (z, y, x) mm, semi-axes mm, rotation), within its bounding box only."""
    z, y, x = phantom.grid()
    reach = float(axes.max())
    sel = [np.flatnonzero(np.abs(np.ravel(c) - centre[i]) <= reach + s)
           for i, (c, s) in enumerate(zip((z, y, x), phantom.spacing, strict=True))]
    mask = np.zeros(phantom.shape, bool)
    if any(s.size == 0 for s in sel):
        return mask
    sl = tuple(slice(s[0], s[-1] + 1) for s in sel)
    d = np.stack(np.broadcast_arrays(np.ravel(z)[sl[0]][:, None, None] - centre[0],
                                     np.ravel(y)[sl[1]][None, :, None] - centre[1],
                                     np.ravel(x)[sl[2]][None, None, :] - centre[2]), axis=-1)
    local = d @ rot
    mask[sl] = ((local / axes) ** 2).sum(axis=-1) <= 1.0
    return mask


def _nodule(phantom: Phantom, rng: np.random.Generator, radius_mm: float | None = None,
            hu: float | None = None) -> tuple[np.ndarray, dict[str, float], str, dict[str, Any]]:
    from scipy import ndimage

    _need(phantom, "nodule", ("lung_left", "lung_right"), ("chest",))
    r = float(radius_mm if radius_mm is not None else rng.uniform(4.0, 12.0))
    if not 1.0 <= r <= 30.0:
        raise ConfigError(f"radius_mm must be between 1 and 30 mm; got {radius_mm!r}")
    lung = phantom.parts["lung_left"] | phantom.parts["lung_right"]
    axes = r * rng.uniform(0.85, 1.15, size=3)
    depth = ndimage.distance_transform_edt(lung, sampling=phantom.spacing)
    # whole in one lung where it can be; else as deep as the slab allows (the mask is cut to the lung)
    room = depth >= min(axes.max() + max(phantom.spacing[1:]), float(depth.max()))
    if float(depth.max()) < min(r, 3 * max(phantom.spacing)):
        raise ConfigError(f"no room for a nodule of radius {r:g} mm in these lungs; pass a smaller radius_mm")
    idx = np.argwhere(room)
    centre_idx = idx[rng.integers(len(idx))]
    z, y, x = phantom.grid()
    centre = np.array([np.ravel(z)[centre_idx[0]], np.ravel(y)[centre_idx[1]], np.ravel(x)[centre_idx[2]]])
    mask = _ellipsoid(phantom, centre, axes, _rotation(rng)) & lung
    values = {} if hu is None else {"hu": float(hu)}
    return mask, values, "nodule", {"radius_mm": round(r, 2), "centre_mm_zyx": [round(float(c), 1) for c in centre]}


def _consolidation(phantom: Phantom, rng: np.random.Generator, side: str | None = None, lobe: str = "lower",
                   bronchograms: bool = True, hu: float | None = None,
                   ) -> tuple[np.ndarray, dict[str, float], str, dict[str, Any]]:
    from scipy import ndimage

    _need(phantom, "consolidation", ("lung_left", "lung_right"), ("chest",))
    side = side or str(rng.choice(["left", "right"]))
    if side not in ("left", "right") or lobe not in ("lower", "upper"):
        raise ConfigError(f"side is 'left' or 'right' and lobe 'lower' or 'upper'; got side={side!r}, lobe={lobe!r}")
    lung = phantom.parts[f"lung_{side}"]
    z, y, x = _coords_mm(phantom)
    # the oblique fissure: high at the back (about T4), low at the front (the anterior diaphragm)
    fissure = float(rng.uniform(-35.0, -5.0)) + 0.9 * y
    region = lung & ((z < fissure) if lobe == "lower" else (z >= fissure))
    if not region.any():
        raise ConfigError(f"the {lobe} lobe of the {side} lung is outside these slices; "
                          "render more slices or the other lobe")
    # patchy filling: a smooth random field keeps about 85% of the lobe
    field = ndimage.gaussian_filter(rng.standard_normal(phantom.shape), sigma=[12.0 / s for s in phantom.spacing])
    mask = region & (field >= np.quantile(field[region], 0.15))
    if bronchograms:
        zc, yc, xc = (float(np.mean(a[mask])) for a in (z, y, x))
        hilum = np.array([zc, yc * 0.5 - 20.0, np.sign(xc) * 45.0])  # towards the hilum, medial and anterior
        pts = np.argwhere(mask)
        for i in pts[rng.choice(len(pts), size=min(4, len(pts)), replace=False)]:
            end = np.array([np.ravel(c)[k] for c, k in zip(phantom.grid(), i, strict=True)])
            seg = end - hilum
            t = np.clip(((z - hilum[0]) * seg[0] + (y - hilum[1]) * seg[1] + (x - hilum[2]) * seg[2])
                        / float(seg @ seg), 0.0, 1.0)
            dist2 = (z - hilum[0] - t * seg[0]) ** 2 + (y - hilum[1] - t * seg[1]) ** 2 + (x - hilum[2] - t * seg[2]) ** 2
            mask &= ~(dist2 <= max(2.0, 0.6 * max(phantom.spacing[1:])) ** 2)
    values = {} if hu is None else {"hu": float(hu)}
    return mask, values, "consolidation", {"side": side, "lobe": lobe, "bronchograms": bool(bronchograms)}


def _white_matter_lesion(phantom: Phantom, rng: np.random.Generator, count: int | None = None,
                         ) -> tuple[np.ndarray, dict[str, float], str, dict[str, Any]]:
    _need(phantom, "white_matter_lesion", ("white_matter",), ("head",))
    count = int(count if count is not None else rng.integers(3, 9))
    if count < 1:
        raise ConfigError(f"count must be at least 1 lesion; got {count!r}")
    wm = phantom.parts["white_matter"]
    idx = np.argwhere(wm)
    z, y, x = phantom.grid()
    mask = np.zeros(phantom.shape, bool)
    for i in idx[rng.choice(len(idx), size=min(count, len(idx)), replace=False)]:
        centre = np.array([np.ravel(z)[i[0]], np.ravel(y)[i[1]], np.ravel(x)[i[2]]])
        axes = np.array([rng.uniform(3.0, 7.0), rng.uniform(2.0, 5.0), rng.uniform(2.0, 4.0)])
        axes[0] = max(axes[0], phantom.spacing[0] * 0.6)
        one = _ellipsoid(phantom, centre, axes, _rotation(rng))
        one[tuple(i)] = True
        mask |= one
    return mask & wm, {}, "ms_lesion", {"count": count}


def _fracture(phantom: Phantom, rng: np.random.Generator, site: str | None = None, width_mm: float | None = None,
              ) -> tuple[np.ndarray, dict[str, float], str, dict[str, Any]]:
    _need(phantom, "fracture", (), ("wrist", "ankle", "chest", "pelvis", "clavicle"))
    if phantom.body_part == "chest":
        return _rib_fracture(phantom, rng, site, width_mm)
    if phantom.body_part in ("pelvis", "clavicle"):
        return _fracture_across(phantom, rng, site, width_mm)
    sites = {"wrist": {"radius": (12.0, 30.0)}, "ankle": {"fibula": (-12.0, 8.0), "tibia": (-10.0, -2.0)}}[
        phantom.body_part]
    site = site or str(rng.choice(list(sites)))
    if site not in sites:
        raise ConfigError(f"a {phantom.body_part} fracture site is one of {', '.join(sites)}; got {site!r}")
    bone = phantom.parts[site]
    z, y, x = _coords_mm(phantom)
    zlo, zhi = sites[site]
    level = float(rng.uniform(zlo, zhi))
    at = bone & (np.abs(z - level) <= phantom.spacing[0])
    if not at.any():
        raise ConfigError(f"the {site} is outside this phantom at z = {level:.0f} mm; render a larger size")
    centre = np.array([level, float(y[at].mean()), float(x[at].mean())])
    tilt, azimuth = np.deg2rad(rng.uniform(0.0, 35.0)), rng.uniform(0.0, 2 * np.pi)
    normal = np.array([np.cos(tilt), np.sin(tilt) * np.sin(azimuth), np.sin(tilt) * np.cos(azimuth)])
    width = float(width_mm if width_mm is not None else max(1.5, 1.2 * max(phantom.spacing)))
    if not 0.2 <= width <= 10.0:
        raise ConfigError(f"width_mm must be between 0.2 and 10 mm; got {width_mm!r}")
    dist = (z - centre[0]) * normal[0] + (y - centre[1]) * normal[1] + (x - centre[2]) * normal[2]
    mask = bone & (np.abs(dist) <= width / 2)
    return mask, {}, "fracture_gap", {"site": site, "level_mm": round(level, 1), "width_mm": round(width, 2),
                                      "tilt_deg": round(float(np.rad2deg(tilt)), 1)}


def _rib_fracture(phantom: Phantom, rng: np.random.Generator, site: str | None, width_mm: float | None,
                  ) -> tuple[np.ndarray, dict[str, float], str, dict[str, Any]]:
    if site not in (None, "rib"):
        raise ConfigError(f"a chest fracture site is 'rib'; got {site!r}")
    _need(phantom, "fracture", ("ribs",), ("chest",))
    ribs = phantom.parts["ribs"]
    z, y, x = _coords_mm(phantom)
    lateral = ribs & (np.abs(x) >= 0.6 * float(np.abs(x[ribs]).max()))  # the lateral arc, seen on a frontal film
    pts = np.argwhere(lateral if lateral.any() else ribs)
    k = tuple(pts[rng.integers(len(pts))])
    z0, y0, x0 = float(z[k]), float(y[k]), float(x[k])
    tangent = np.array([-y0, x0]) / max(float(np.hypot(x0, y0)), 1e-6)  # along the rib's course, in the (x, y) plane
    width = float(width_mm if width_mm is not None else max(1.5, 1.2 * max(phantom.spacing[1:])))
    if not 0.2 <= width <= 10.0:
        raise ConfigError(f"width_mm must be between 0.2 and 10 mm; got {width_mm!r}")
    dist = (x - x0) * tangent[0] + (y - y0) * tangent[1]
    near = (x - x0) ** 2 + (y - y0) ** 2 + (z - z0) ** 2 <= 20.0**2  # this rib, not its neighbours' far arcs
    mask = ribs & near & (np.abs(dist) <= width / 2)
    return mask, {}, "fracture_gap", {"site": "rib", "side": "left" if x0 > 0 else "right",
                                      "centre_mm_zyx": [round(z0, 1), round(y0, 1), round(x0, 1)],
                                      "width_mm": round(width, 2)}


def _fracture_across(phantom: Phantom, rng: np.random.Generator, site: str | None, width_mm: float | None,
                     ) -> tuple[np.ndarray, dict[str, float], str, dict[str, Any]]:
    """A gap across a bone's axis: the femoral neck (hip fracture) or the clavicle's shaft (middle third)."""
    name, lo, hi = ("femoral_neck", 0.45, 0.75) if phantom.body_part == "pelvis" else ("clavicle", 0.35, 0.65)
    side = site or str(rng.choice(["left", "right"]))
    if side not in ("left", "right"):
        raise ConfigError(f"a {name.replace('_', ' ')} fracture site is 'left' or 'right'; got {site!r}")
    _need(phantom, "fracture", (f"{name}_{side}",), (phantom.body_part,))
    bone = phantom.parts[f"{name}_{side}"]
    key = "neck_axis_mm" if name == "femoral_neck" else f"clavicle_{side}_mm_zyx"
    axis = phantom.meta[key][side] if name == "femoral_neck" else phantom.meta[key]
    a, b = np.asarray(axis[0], float), np.asarray(axis[1], float)
    direction = (b - a) / np.linalg.norm(b - a)
    z, y, x = _coords_mm(phantom)
    along = (z - a[0]) * direction[0] + (y - a[1]) * direction[1] + (x - a[2]) * direction[2]
    length = float(np.linalg.norm(b - a))
    level = float(rng.uniform(lo, hi)) * length
    spacing = max(phantom.spacing) if name == "femoral_neck" else max(phantom.spacing[1:])
    width = float(width_mm if width_mm is not None else max(1.5, 1.2 * spacing))
    if not 0.2 <= width <= 10.0:
        raise ConfigError(f"width_mm must be between 0.2 and 10 mm; got {width_mm!r}")
    mask = bone & (np.abs(along - level) <= width / 2)
    if not mask.any():  # a coarse grid: the voxels of the bone nearest that level
        d = np.abs(along - level)
        mask = bone & (d <= float(d[bone].min()) + 1e-6)
    return mask, {}, "fracture_gap", {"site": f"{name}_{side}", "level_fraction": round(level / length, 3),
                                      "width_mm": round(width, 2)}


def _osteoarthritis(phantom: Phantom, rng: np.random.Generator, side: str | None = None,
                    narrowing: float | None = None, osteophyte_mm: float | None = None,
                    ) -> tuple[np.ndarray, dict[str, float], str, dict[str, Any]]:
    """Joint-space narrowing, subchondral sclerosis and marginal osteophytes, all of dense (cortical) bone.

    The weight-bearing joint space (``joint_space_<side>``: the knee's medial compartment,
    the hip's upper half) loses ``narrowing`` of its height along the load axis z (the
    upper cartilage turned to bone, at least one voxel row left); the cancellous bone under it (``subchondral_<side>``)
    becomes sclerotic (cortical density); osteophytes (ellipsoids of ``osteophyte_mm``) grow
    at the joint margins in ``meta['joint_margins_mm'][side]``.
    """
    _need(phantom, "osteoarthritis", (), ("knee", "pelvis"))
    sides = sorted(k for k in phantom.meta.get("joint_margins_mm", {}) if f"joint_space_{k}" in phantom.parts)
    side = side or str(rng.choice(sides))
    if side not in sides:
        raise ConfigError(f"an osteoarthritis side of this {phantom.body_part} is one of {', '.join(sides)}; "
                          f"got {side!r}")
    _need(phantom, "osteoarthritis", (f"joint_space_{side}",), (phantom.body_part,))
    frac = float(narrowing if narrowing is not None else rng.uniform(0.4, 0.75))
    if not 0.0 < frac < 1.0:
        raise ConfigError(f"narrowing is the fraction of the joint space lost, between 0 and 1; got {narrowing!r}")
    r_ost = float(osteophyte_mm if osteophyte_mm is not None else rng.uniform(3.0, 6.0))
    if not 1.0 <= r_ost <= 15.0:
        raise ConfigError(f"osteophyte_mm must be between 1 and 15 mm; got {osteophyte_mm!r}")
    space = phantom.parts[f"joint_space_{side}"]
    # the load runs along z: in each column through the joint space the upper part of the cartilage
    # (a fraction ``frac`` of its height, at least one voxel row left) becomes bone
    height = space.sum(axis=0)
    from_top = np.cumsum(space[::-1], axis=0)[::-1]  # 1 for the highest voxel of the space in a column
    lost = np.minimum(np.floor(frac * height + 0.5), np.maximum(height - 1, 0))
    narrowed = space & (from_top <= lost[None])
    sclerosis = phantom.parts.get(f"subchondral_{side}", np.zeros(phantom.shape, bool))
    osteophytes = np.zeros(phantom.shape, bool)
    for point in phantom.meta["joint_margins_mm"][side]:
        axes = np.array([r_ost * 1.4, r_ost, r_ost]) * rng.uniform(0.8, 1.2, size=3)
        axes = np.maximum(axes, 0.6 * max(phantom.spacing))
        osteophytes |= _ellipsoid(phantom, np.asarray(point, float), axes, np.eye(3))
    cortical = phantom.labels == label("cortical_bone")
    mask = (narrowed | sclerosis | (osteophytes & ~phantom.parts["bone"] & ~space)) & ~cortical
    return mask, {}, "cortical_bone", {"side": side, "narrowing": round(frac, 3), "osteophyte_mm": round(r_ost, 2),
                                       "narrowed_voxels": int(narrowed.sum()), "sclerotic_voxels": int(
                                           (sclerosis & ~cortical).sum())}


#: kind -> function(phantom, rng, **params) -> (mask, property overrides, tissue, parameters drawn).
LESIONS: dict[str, Callable[..., tuple[np.ndarray, dict[str, float], str, dict[str, Any]]]] = {
    "nodule": _nodule,
    "consolidation": _consolidation,
    "white_matter_lesion": _white_matter_lesion,
    "fracture": _fracture,
    "osteoarthritis": _osteoarthritis,
}


def insert_lesion(phantom: Phantom | Volume, kind: str, *, rng: np.random.Generator,
                  codes: tuple[tuple[str, str], ...] | None = None, **params: Any) -> Finding:
    """Put a lesion of ``kind`` into ``phantom`` (in place) and return its :class:`Finding`.

    The lesion's voxels get the tissue of the lesion (label and every property), so every
    renderer shows it in its own contrast. The finding's ``contrast`` is the mean CT
    number change inside the mask (HU); the values before are kept in ``phantom.before``
    so renderers can state the contrast in their own units.

    A CT :class:`~hygeia.imaging.Volume` (a scan already reconstructed, e.g. read from
    DICOM) is read as a phantom (:func:`~hygeia.imaging._phantoms.phantom_from_ct`); the
    lesion's HU are written into its array, with Gaussian noise of the replaced voxels'
    own spread (the scan's noise and texture there), and the finding is appended to
    ``volume.findings``. Such a lesion has sharp edges: render from a phantom where the
    lesion must carry the scanner's blur.

    Args:
        phantom: a chest (nodule, consolidation, rib fracture), head (white_matter_lesion) or wrist/ankle
            (fracture) phantom, or an axial CT Volume (nodule, consolidation).
        kind: one of :data:`LESIONS`.
        rng: the lesion's random generator (position, size, shape).
        codes: ``(system, code)`` pairs to attach instead of the kind's own (see :data:`CODES`).
        **params: the kind's options: nodule ``radius_mm``, ``hu``; consolidation ``side``,
            ``lobe``, ``bronchograms``, ``hu``; white_matter_lesion ``count``; fracture ``site``, ``width_mm``.

    Returns:
        The finding (mask in the phantom's grid), also appended to ``phantom.findings``.

    Raises:
        ConfigError: an unknown kind or option, or a phantom the lesion cannot go in.
    """
    if kind not in LESIONS:
        raise ConfigError(f"unknown lesion kind {kind!r}; choose one of {', '.join(LESIONS)}")
    if isinstance(phantom, Volume):
        return _into_ct(phantom, kind, rng=rng, codes=codes, **params)
    try:
        mask, values, tissue, drawn = LESIONS[kind](phantom, rng, **params)
    except TypeError as e:
        raise ConfigError(f"{kind}: {e}; see insert_lesion's documented options") from None
    if not mask.any():
        raise ConfigError(f"the {kind.replace('_', ' ')} fell outside this phantom's slices; render more slices")
    before = {p: phantom.map(p)[mask].copy() for p in PROPERTIES}
    phantom.set_tissue(mask, tissue, **values)
    contrast = float((phantom.map("hu")[mask] - before["hu"]).mean())
    if codes is None:
        key = kind if kind in CODES else f"{kind}/{phantom.body_part}"
        codes = ((CODES[key][0], CODES[key][1]),) if key in CODES else ()
    finding = Finding(kind, mask.copy(), contrast, tuple(codes))
    phantom.findings.append(finding)
    phantom.before.append(before)
    phantom.meta.setdefault("lesions", []).append({"kind": kind, "tissue": tissue, **drawn,
                                                   "voxels": int(mask.sum()), "contrast_hu": round(contrast, 2)})
    return finding



def _into_ct(volume: Volume, kind: str, *, rng: np.random.Generator, codes: tuple[tuple[str, str], ...] | None,
             **params: Any) -> Finding:
    """Insert into a reconstructed CT volume (see :func:`insert_lesion`)."""
    ph = phantom_from_ct(volume)
    finding = insert_lesion(ph, kind, rng=rng, codes=codes, **params)
    spread = float(np.std(ph.before[-1]["hu"]))
    values = ph.map("hu")[finding.mask] + rng.normal(0.0, spread, int(finding.mask.sum()))
    volume.array[finding.mask] = values.astype(volume.array.dtype)
    volume.findings.append(finding)
    volume.meta.setdefault("lesions", []).append({**ph.meta["lesions"][-1], "noise_hu": round(spread, 2)})
    return finding
