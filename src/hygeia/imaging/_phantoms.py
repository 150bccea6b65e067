"""Anatomy for the physics renderers: labelled phantoms of the chest, head, wrist, ankle, knee and pelvis.

A :class:`Phantom` is a 3-D label map ``(z, y, x)`` in patient coordinates (LPS: x toward
the patient's left, y posterior, z superior) plus the tissue table of
``resources/tissues.json`` (CT number and MR relaxation per tissue, with the sources
cited in the file). The renderers read per-voxel property maps (:meth:`Phantom.map`);
lesions (:mod:`hygeia.imaging._lesions`) change labels and properties inside their mask
before any physics runs.

Each builder draws the patient's own anatomy (body size, fat thickness, organ sizes and
positions, bone widths) from the ``rng`` it is given, so one seed gives one patient.

- :func:`chest_phantom`: parametric thorax (body outline, subcutaneous fat, chest-wall
  muscle, lungs with diaphragm domes, heart with blood pool, aorta, trachea and main
  bronchi, vertebrae with discs and spinal canal, ribs, sternum).
- :func:`head_phantom`: the MNI152 2009 template that nilearn ships in its package data
  (grey/white matter probability maps and brain mask, read offline), with CSF inside the
  brain mask, a subarachnoid CSF layer, skull and scalp shells built around it.
- :func:`extremity_phantom`: wrist (distal radius and ulna, carpal bones, metacarpals),
  ankle (distal tibia and fibula with malleoli, talus, calcaneus) or knee (distal femur,
  proximal tibia and fibula, patella, cartilage joint space) in soft tissue.
- :func:`pelvis_phantom`: iliac wings, sacrum, pubic and ischial rami, acetabula and both
  proximal femurs (head, neck, trochanter, shaft). The chest has clavicles (the clavicle film).
- :func:`water_phantom`: a water cylinder in air (the CT calibration phantom).

Example:
    >>> import numpy as np
    >>> ph = chest_phantom(size=32, slices=2, rng=np.random.default_rng(0))
    >>> ph.labels.shape, ph.body_part
    ((2, 32, 32), 'chest')
    >>> bool((ph.map("hu") == -850).any())  # aerated lung
    True
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from hygeia.errors import ConfigError, MissingExtraError
from hygeia.imaging._volume import Finding

__all__ = [
    "PROPERTIES",
    "Phantom",
    "chest_phantom",
    "extremity_phantom",
    "head_phantom",
    "label",
    "pelvis_phantom",
    "phantom_from_ct",
    "tissue_table",
    "water_phantom",
]

#: Per-voxel properties every tissue has: CT number (HU), T1, T2, T2* (ms) and relative proton density.
PROPERTIES = ("hu", "t1", "t2", "t2s", "pd")


@functools.lru_cache(maxsize=1)
def tissue_table() -> dict[str, dict[str, float]]:
    """The tissue table (name -> label, hu, t1, t2, t2s, pd), validated on load.

    Example:
        >>> tissue_table()["water"]["hu"], tissue_table()["air"]["hu"]
        (0.0, -1000.0)
    """
    text = resources.files("hygeia.imaging").joinpath("resources/tissues.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    table: dict[str, dict[str, float]] = {}
    problems = []
    labels = set()
    for name, props in raw["tissues"].items():
        missing = [k for k in ("label", *PROPERTIES) if k not in props]
        if missing:
            problems.append(f"{name}: missing {', '.join(missing)}")
            continue
        if props["label"] in labels:
            problems.append(f"{name}: label {props['label']} used twice")
        labels.add(props["label"])
        if props["pd"] < 0 or min(props["t1"], props["t2"], props["t2s"]) < 0:
            problems.append(f"{name}: negative relaxation time or proton density")
        table[name] = {k: float(v) for k, v in props.items()}
        table[name]["label"] = int(props["label"])
    if problems:
        raise ConfigError("the tissue table resources/tissues.json is malformed: " + "; ".join(problems))
    return table


def _lookup() -> dict[str, np.ndarray]:
    """Property name -> array indexed by label."""
    table = tissue_table()
    n = max(int(t["label"]) for t in table.values()) + 1
    out = {p: np.zeros(n, np.float32) for p in PROPERTIES}
    for t in table.values():
        for p in PROPERTIES:
            out[p][int(t["label"])] = t[p]
    return out


def label(name: str) -> int:
    """The label number of tissue ``name``."""
    try:
        return int(tissue_table()[name]["label"])
    except KeyError:
        raise ConfigError(f"unknown tissue {name!r}; known: {', '.join(tissue_table())}") from None


@dataclass
class Phantom:
    """A labelled 3-D phantom in patient space, with editable property maps.

    Attributes:
        labels: ``(z, y, x)`` int8 tissue labels (see :func:`tissue_table`).
        spacing: ``(z, y, x)`` voxel size in mm.
        origin: LPS position ``(x, y, z)`` in mm of voxel ``[0, 0, 0]``.
        body_part: ``'chest'``, ``'clavicle'`` (a chest phantom framed on the clavicles), ``'head'``,
            ``'wrist'``, ``'ankle'``, ``'knee'``, ``'pelvis'`` or ``'water'``.
        parts: named boolean masks of structures lesions are placed in (``'lung_left'``, ``'radius'``...).
        findings: lesions inserted so far (masks in the phantom's grid, contrast in HU).
        meta: the anatomy parameters drawn for this patient.

    Example:
        >>> ph = water_phantom(size=16)
        >>> float(ph.map("hu").max()), float(ph.map("hu").min())
        (0.0, -1000.0)
    """

    labels: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    body_part: str
    parts: dict[str, np.ndarray] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    _maps: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    #: per finding, the property values inside its mask before it was inserted
    before: list[dict[str, np.ndarray]] = field(default_factory=list, repr=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(z, y, x)`` voxel counts."""
        return tuple(self.labels.shape)

    def map(self, prop: str) -> np.ndarray:
        """The float32 map of property ``prop`` (one of :data:`PROPERTIES`); edits to it persist."""
        if prop not in PROPERTIES:
            raise ConfigError(f"unknown tissue property {prop!r}; choose one of {', '.join(PROPERTIES)}")
        if prop not in self._maps:
            self._maps[prop] = _lookup()[prop][self.labels]
        return self._maps[prop]

    def set_tissue(self, mask: np.ndarray, name: str, **overrides: float) -> None:
        """Give every voxel of ``mask`` tissue ``name`` (its label and properties, or ``overrides``)."""
        t = tissue_table()[name]
        self.labels[mask] = int(t["label"])
        for p in PROPERTIES:
            self.map(p)[mask] = overrides.get(p, t[p])

    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Broadcastable LPS coordinates (mm) ``z (nz,1,1)``, ``y (1,ny,1)``, ``x (1,1,nx)`` of voxel centres."""
        nz, ny, nx = self.shape
        sz, sy, sx = self.spacing
        ox, oy, oz = self.origin
        return (oz + sz * np.arange(nz)[:, None, None], oy + sy * np.arange(ny)[None, :, None],
                ox + sx * np.arange(nx)[None, None, :])


def _centred_origin(shape: tuple[int, int, int], spacing: tuple[float, float, float],
                    centre: tuple[float, float, float]) -> tuple[float, float, float]:
    """Origin (LPS x, y, z) that puts the grid's centre at ``centre`` (LPS x, y, z)."""
    nz, ny, nx = shape
    sz, sy, sx = spacing
    return (centre[0] - sx * (nx - 1) / 2, centre[1] - sy * (ny - 1) / 2, centre[2] - sz * (nz - 1) / 2)


def _check_size(size: int, slices: int) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ConfigError(f"size must be an integer of at least 8 pixels; got {size!r}. Pass e.g. size=128.")
    if isinstance(slices, bool) or not isinstance(slices, (int, np.integer)) or slices < 1:
        raise ConfigError(f"slices must be a positive integer; got {slices!r}. Pass e.g. slices=16.")


def water_phantom(*, size: int = 128, slices: int = 1, fov: float = 250.0, radius: float = 100.0,
                  thickness: float = 5.0) -> Phantom:
    """A water cylinder (``radius`` mm) in air: the phantom CT numbers are calibrated on.

    Example:
        >>> ph = water_phantom(size=32, slices=2)
        >>> ph.labels.shape, int((ph.labels == 1).sum() > 0)
        ((2, 32, 32), 1)
    """
    _check_size(size, slices)
    shape = (slices, size, size)
    spacing = (thickness, fov / size, fov / size)
    ph = Phantom(np.zeros(shape, np.int8), spacing, _centred_origin(shape, spacing, (0.0, 0.0, 0.0)), "water",
                 meta={"radius_mm": radius, "fov_mm": fov})
    _, y, x = ph.grid()
    inside = np.broadcast_to(x**2 + y**2 <= radius**2, shape)
    ph.labels[inside] = label("water")
    ph.parts["water"] = inside.copy()
    return ph


def _ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, ax: Any, ay: Any, power: float = 2.0) -> np.ndarray:
    return (np.abs((x - cx) / ax) ** power + np.abs((y - cy) / ay) ** power) <= 1.0


def chest_phantom(*, size: int = 128, slices: int = 16, thickness: float = 5.0, fov: float = 400.0,
                  z_centre: float = -20.0, rng: np.random.Generator | None = None) -> Phantom:
    """A parametric thorax of one patient drawn from ``rng``.

    z is measured from the middle of the lungs (apex about +130 mm, diaphragm domes about
    -80 to -110 mm); ``z_centre`` places the slab of ``slices`` slices of ``thickness`` mm.

    Args:
        size: pixels across (square in-plane grid).
        slices: number of axial slices.
        thickness: slice spacing in mm.
        fov: in-plane field of view in mm.
        z_centre: z (mm) of the slab's centre.
        rng: the patient's random generator (default: seed 0, the reference patient).

    Returns:
        The phantom, with parts ``'body'``, ``'lung_left'``, ``'lung_right'``, ``'heart'``, ``'bone'``, ``'ribs'``,
        ``'clavicle_left'``, ``'clavicle_right'`` (empty where the slab is below them: z under about 90 mm).

    Example:
        >>> ph = chest_phantom(size=32, slices=1, rng=np.random.default_rng(1))
        >>> sorted(ph.parts)
        ['body', 'bone', 'clavicle_left', 'clavicle_right', 'heart', 'lung_left', 'lung_right', 'ribs']
    """
    _check_size(size, slices)
    rng = rng if rng is not None else np.random.default_rng(0)
    shape = (slices, size, size)
    spacing = (float(thickness), fov / size, fov / size)
    p = {  # this patient's anatomy
        "half_width_mm": float(rng.uniform(140, 180)), "depth_ratio": float(rng.uniform(0.6, 0.74)),
        "fat_mm": float(rng.uniform(6, 24)), "muscle_mm": float(rng.uniform(10, 18)),
        "lung_scale": float(rng.uniform(0.92, 1.06)), "heart_scale": float(rng.uniform(0.85, 1.15)),
        "heart_shift_mm": float(rng.uniform(-8, 12)), "dome_mm": float(rng.uniform(-95, -75)),
        "rib_pitch_mm": float(rng.uniform(21, 27)), "rib_phase_mm": float(rng.uniform(0, 25)),
    }
    if p["half_width_mm"] * 1.02 > fov / 2 * 0.98:
        raise ConfigError(f"fov={fov} mm is too small for a chest; pass fov of at least 380 mm")
    ph = Phantom(np.zeros(shape, np.int8), spacing, _centred_origin(shape, spacing, (0.0, 0.0, z_centre)), "chest",
                 meta={k: round(v, 2) for k, v in p.items()})
    z, y, x = ph.grid()
    z = np.broadcast_to(z, shape)
    lab = ph.labels
    ax = p["half_width_mm"]
    ay = ax * p["depth_ratio"]
    apex = 130.0
    # the trunk narrows to the neck above the lung apices
    w = np.clip(1.0 - 0.62 * (z - (apex - 5.0)) / 40.0, 0.38, 1.0)
    body = _ellipse(x, y, 0, 0, ax * w, ay * np.sqrt(w), 2.3)
    inner = _ellipse(x, y, 0, 0, ax * w - p["fat_mm"], ay * np.sqrt(w) - p["fat_mm"] * 0.8, 2.3)
    cavity_ax, cavity_ay = ax - p["fat_mm"] - p["muscle_mm"], ay - p["fat_mm"] * 0.8 - p["muscle_mm"]
    lab[body] = label("fat")
    lab[inner] = label("muscle")
    # lungs: widest at the base, narrowing to the apex; domed diaphragm (right dome higher)
    lungs = {}
    for side, sign in (("right", -1.0), ("left", 1.0)):
        cx, cy = sign * 0.47 * cavity_ax, 0.05 * cavity_ay
        lax, lay = 0.42 * cavity_ax * p["lung_scale"], 0.88 * cavity_ay * p["lung_scale"]
        r2 = ((x - cx) / lax) ** 2 + ((y - cy) / lay) ** 2
        dome = p["dome_mm"] + (15.0 if side == "right" else 0.0) + 40.0 * np.clip(1.0 - r2, 0, 1)
        taper = np.clip(1.0 - ((z - dome) / (apex - dome)) ** 2, 0, 1)
        lung = (r2 <= taper) & (z > dome) & np.broadcast_to(_ellipse(x, y, 0, 0, cavity_ax, cavity_ay, 2.3), shape)
        lungs[side] = lung
        lab[lung] = label("lung")
    # heart (below the carina, left of midline, anterior): myocardium around a blood pool
    hs = p["heart_scale"]
    hcx, hcy, hcz = 0.12 * cavity_ax + p["heart_shift_mm"], -0.3 * cavity_ay, p["dome_mm"] + 50.0
    hr = ((x - hcx) / (0.36 * cavity_ax * hs)) ** 2 + ((y - hcy) / (0.5 * cavity_ay * hs)) ** 2 + ((z - hcz) / (70.0 * hs)) ** 2
    heart = hr <= 1.0
    lab[heart] = label("myocardium")
    lab[hr <= 0.45] = label("blood")
    # mediastinum: soft tissue between the lungs above the heart; trachea and main bronchi (air)
    medi = (np.abs(x) < 0.16 * cavity_ax) & (y < 0.55 * cavity_ay) & (z > hcz) & inner
    lab[medi & ~heart] = label("soft_tissue")
    trachea = (x**2 + (y + 0.05 * cavity_ay) ** 2 <= 9.0**2) & (z > 0) & (z < apex + 20)
    for sign in (-1.0, 1.0):  # main bronchi from the carina (z = 0) down and out to the hila
        t = np.clip(-z / 35.0, 0, 1)
        trachea |= ((x - sign * 45.0 * t) ** 2 + (y + 0.05 * cavity_ay) ** 2 <= 6.0**2) & (z <= 0) & (z > -35)
    lab[trachea] = label("air")
    # descending aorta, left-anterior of the spine
    spine_y = ay - p["fat_mm"] * 0.8 - 38.0
    aorta = np.broadcast_to((x - 22.0) ** 2 + (y - (spine_y - 30.0)) ** 2 <= 12.0**2, shape) & (z < hcz + 60)
    lab[aorta] = label("blood")
    # spine: vertebral bodies (cancellous, cortical rim) with discs every 30 mm, canal, posterior process
    vb = x**2 + (y - spine_y) ** 2
    disc = np.abs(((z - 7.0) % 30.0) - 15.0) > 12.5
    lab[np.broadcast_to(vb <= 17.0**2, shape)] = label("cortical_bone")
    lab[np.broadcast_to(vb <= 14.5**2, shape)] = label("cancellous_bone")
    lab[np.broadcast_to(vb <= 17.0**2, shape) & disc] = label("soft_tissue")
    lamina = np.broadcast_to((np.abs(x) < 16.0) & (y > spine_y + 18.0) & (y < spine_y + 34.0), shape)
    lab[lamina & ~disc] = label("cortical_bone")
    canal = np.broadcast_to(x**2 + (y - spine_y - 24.0) ** 2 <= 8.0**2, shape)
    lab[canal] = label("csf")
    # ribs: bands inside the chest wall, descending anteriorly, one every rib_pitch mm
    theta = np.arctan2(np.abs(x), y)  # 0 posterior midline, pi anterior midline
    rib_r = ((np.abs(x) / (cavity_ax + 0.5 * p["muscle_mm"])) ** 2.3
             + (np.abs(y) / (cavity_ay + 0.5 * p["muscle_mm"])) ** 2.3) ** (1 / 2.3)
    zr = (z + 45.0 * theta / np.pi - p["rib_phase_mm"]) % p["rib_pitch_mm"]
    band = (np.abs(rib_r - 1.0) < 0.045) & (theta > 0.18) & (theta < 0.82 * np.pi)
    ribs = band & (np.abs(zr - p["rib_pitch_mm"] / 2) < 6.0) & (z < apex) & (z > p["dome_mm"] - 60.0)
    lab[ribs] = label("cortical_bone")
    lab[ribs & (np.abs(rib_r - 1.0) < 0.02) & (np.abs(zr - p["rib_pitch_mm"] / 2) < 4.0)] = label("cancellous_bone")
    sternum = np.broadcast_to(_ellipse(x, y, 0, -(ay - p["fat_mm"] * 0.8 - 9.0), 15.0, 7.0), shape) & (z < apex - 20)
    lab[sternum] = label("cortical_bone")
    lab[sternum & np.broadcast_to(_ellipse(x, y, 0, -(ay - p["fat_mm"] * 0.8 - 9.0), 12.0, 4.5), shape)] = label(
        "cancellous_bone")
    # clavicles: rods (about 7 mm radius) from the manubrium (medial end, anterior) out, up and back to the
    # acromion (lateral end), bowed forward in their medial part, across the lung apices
    clav: dict[str, np.ndarray] = {}
    front = -(ay - p["fat_mm"] * 0.8 - 12.0)
    for side, sign in (("right", -1.0), ("left", 1.0)):
        a = np.array([100.0, front, sign * 22.0])  # (z, y, x) medial end
        b = np.array([114.0, 0.05 * ay, sign * 0.82 * ax])  # lateral end
        seg = b - a
        t = np.clip(((z - a[0]) * seg[0] + (y - a[1]) * seg[1] + (x - a[2]) * seg[2]) / float(seg @ seg), 0, 1)
        u = seg / np.linalg.norm(seg)
        n = np.array([0.0, -1.0, 0.0]) + u[1] * u  # anterior, square to the rod's axis (keeps t the position)
        n /= np.linalg.norm(n)
        bow = 14.0 * np.sin(np.pi * t)  # anterior convexity of the medial part
        d2 = ((z - a[0] - t * seg[0] - bow * n[0]) ** 2 + (y - a[1] - t * seg[1] - bow * n[1]) ** 2
              + (x - a[2] - t * seg[2] - bow * n[2]) ** 2)
        rod = d2 <= 7.0**2
        lab[rod] = label("cortical_bone")
        lab[d2 <= 4.5**2] = label("cancellous_bone")
        clav[side] = rod
        ph.meta[f"clavicle_{side}_mm_zyx"] = [[round(float(v), 1) for v in a], [round(float(v), 1) for v in b]]
    bone = (lab == label("cortical_bone")) | (lab == label("cancellous_bone"))
    ph.parts.update(body=body.copy(), lung_left=lungs["left"] & (lab == label("lung")),
                    lung_right=lungs["right"] & (lab == label("lung")), heart=heart & inner, bone=bone,
                    ribs=ribs & bone & ~clav["left"] & ~clav["right"], clavicle_left=clav["left"] & bone,
                    clavicle_right=clav["right"] & bone)
    return ph


@functools.lru_cache(maxsize=1)
def _mni() -> dict[str, Any]:
    """The MNI152 2009 maps nilearn ships (2 mm, read from its package data, no download)."""
    try:
        from nilearn import datasets
    except ImportError as e:
        raise MissingExtraError("nilearn", "imaging", "The head phantom (MNI152 template)") from e
    from scipy import ndimage

    maps = {name: np.asarray(getattr(datasets, fn)(resolution=2).get_fdata(), np.float32)
            for name, fn in (("gm", "load_mni152_gm_template"), ("wm", "load_mni152_wm_template"),
                             ("brain", "load_mni152_brain_mask"))}
    affine = datasets.load_mni152_brain_mask(resolution=2).affine
    # distance (mm) outside the brain mask: where the CSF layer, skull and scalp shells go
    maps["dist"] = ndimage.distance_transform_edt(maps["brain"] < 0.5, sampling=2.0).astype(np.float32)
    maps["affine"] = np.asarray(affine, float)
    return maps


def head_phantom(*, size: int = 128, slices: int = 16, thickness: float = 5.0, fov: float = 240.0,
                 z_centre: float = 15.0, rng: np.random.Generator | None = None) -> Phantom:
    """A head from the MNI152 template with this patient's size, tilt and position drawn from ``rng``.

    Grey and white matter come from the template's probability maps (the larger one wins
    where they sum past one half), CSF fills the rest of the brain mask, and shells built
    from the distance to the brain add subarachnoid CSF (0-2 mm), skull (cortical tables
    with cancellous diploe, 2-9 mm) and scalp (fat then skin, 9-15 mm).

    Args:
        size: pixels across.
        slices: axial slices.
        thickness: slice spacing in mm.
        fov: in-plane field of view in mm.
        z_centre: MNI z (mm) of the slab's centre (15: the lateral ventricles).
        rng: the patient's generator.

    Example:
        >>> ph = head_phantom(size=32, slices=1, rng=np.random.default_rng(0))
        >>> bool((ph.labels == 12).any())  # white matter
        True
    """
    _check_size(size, slices)
    from scipy import ndimage

    rng = rng if rng is not None else np.random.default_rng(0)
    mni = _mni()
    p = {"scale_x": float(rng.uniform(0.92, 1.08)), "scale_y": float(rng.uniform(0.92, 1.08)),
         "scale_z": float(rng.uniform(0.94, 1.06)), "yaw_deg": float(rng.uniform(-6, 6)),
         "shift_x_mm": float(rng.uniform(-4, 4)), "shift_y_mm": float(rng.uniform(-4, 4))}
    shape = (slices, size, size)
    spacing = (float(thickness), fov / size, fov / size)
    ph = Phantom(np.zeros(shape, np.int8), spacing, _centred_origin(shape, spacing, (0.0, 18.0, z_centre)), "head",
                 meta={k: round(v, 3) for k, v in p.items()})
    z, y, x = (np.broadcast_to(a, shape) for a in ph.grid())
    # patient LPS -> template LPS: undo shift, yaw and scale about the brain's centre (0, 18, z_centre)
    a = np.deg2rad(p["yaw_deg"])
    xs, ys = x - p["shift_x_mm"], y - 18.0 - p["shift_y_mm"]
    xr, yr = np.cos(a) * xs + np.sin(a) * ys, -np.sin(a) * xs + np.cos(a) * ys
    tx, ty, tz = xr / p["scale_x"], yr / p["scale_y"] + 18.0, (z - z_centre) / p["scale_z"] + z_centre
    # LPS -> RAS -> template voxel indices
    inv = np.linalg.inv(mni["affine"])
    ras = np.stack([-tx.ravel(), -ty.ravel(), tz.ravel(), np.ones(tx.size)])
    ijk = (inv @ ras)[:3]

    def sample(name: str, cval: float = 0.0) -> np.ndarray:
        return ndimage.map_coordinates(mni[name], ijk, order=1, cval=cval).reshape(shape)

    gm, wm, brain, dist = sample("gm"), sample("wm"), sample("brain"), sample("dist", cval=99.0)
    lab = ph.labels
    head = dist <= 15.0
    lab[head] = label("skin")
    lab[dist <= 12.5] = label("fat")
    lab[dist <= 9.0] = label("cortical_bone")
    lab[(dist > 4.0) & (dist <= 7.0)] = label("cancellous_bone")
    lab[dist <= 2.0] = label("csf")
    inside = brain >= 0.5
    lab[inside] = label("csf")
    tissue = inside & (gm + wm >= 0.5)
    lab[tissue & (gm >= wm)] = label("grey_matter")
    lab[tissue & (wm > gm)] = label("white_matter")
    ph.parts.update(brain=inside, white_matter=lab == label("white_matter"), body=head)
    return ph


def extremity_phantom(part: str = "wrist", *, size: int = 128, fov: float | None = None,
                      rng: np.random.Generator | None = None) -> Phantom:
    """A wrist, an ankle or a knee: long bones with cortex and marrow, small bones, soft tissue; isotropic voxels.

    The limb's long axis is z (z = 0 at the radiocarpal, tibiotalar or tibiofemoral joint,
    proximal positive); a frontal radiograph projects along y. The knee is a left knee
    (fibula lateral, at +x): distal femur with its condyles, proximal tibia with its plateau
    and a cartilage (soft-tissue) joint space of about 6 mm between them, fibular head and
    patella. Its medial (weight-bearing) compartment is the part ``'joint_space_medial'``,
    the cancellous bone within 6 mm of it ``'subchondral_medial'``, and the joint margins
    where osteophytes grow ``meta['joint_margins_mm']`` (for ``'osteoarthritis'``).

    Args:
        part: ``'wrist'``, ``'ankle'`` or ``'knee'``.
        size: voxels along each axis.
        fov: field of view in mm (default 140 for a wrist, 180 for an ankle, 160 for a knee).
        rng: the patient's generator.

    Example:
        >>> ph = extremity_phantom("ankle", size=32, rng=np.random.default_rng(0))
        >>> sorted(ph.parts)
        ['body', 'bone', 'fibula', 'tibia']
    """
    if part not in ("wrist", "ankle", "knee"):
        raise ConfigError(f"an extremity phantom is 'wrist', 'ankle' or 'knee', got {part!r}")
    _check_size(size, 1)
    rng = rng if rng is not None else np.random.default_rng(0)
    fov = float(fov if fov is not None else {"wrist": 140.0, "ankle": 180.0, "knee": 160.0}[part])
    shape = (size, size, size)
    spacing = (fov / size,) * 3
    s = float(rng.uniform(0.88, 1.12))
    p = {"scale": s, "soft_mm": float(rng.uniform(0, 8)), "jitter_mm": float(rng.uniform(-3, 3))}
    centre_z = {"wrist": -15.0, "ankle": -10.0, "knee": 0.0}[part]
    ph = Phantom(np.zeros(shape, np.int8), spacing, _centred_origin(shape, spacing, (0.0, 0.0, centre_z)), part,
                 meta={k: round(v, 3) for k, v in p.items()})
    z, y, x = ph.grid()
    lab = ph.labels
    bones: dict[str, np.ndarray] = {}

    def long_bone(name: str, cx: float, cy: float, radius: Any, z_lo: float, cortex: float = 2.0,
                  z_hi: float = np.inf) -> None:
        r2 = (x - cx) ** 2 + (y - cy) ** 2
        inside = (r2 <= radius**2) & (z >= z_lo) & (z <= z_hi)
        bones[name] = np.broadcast_to(inside, shape)
        lab[bones[name]] = label("cortical_bone")
        marrow = (r2 <= np.maximum(radius - cortex, 0) ** 2) & (z >= z_lo + cortex) & (z <= z_hi - cortex)
        lab[np.broadcast_to(marrow, shape)] = label("cancellous_bone")

    def small_bone(cx: float, cy: float, cz: float, a: float, b: float, c: float) -> None:
        e = ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 + ((z - cz) / c) ** 2
        lab[np.broadcast_to(e <= 1.0, shape)] = label("cortical_bone")
        lab[np.broadcast_to(e <= 0.55, shape)] = label("cancellous_bone")

    j = p["jitter_mm"]
    if part == "wrist":
        soft = np.where(z > -15, ((x / (34 * s + p["soft_mm"])) ** 2 + (y / (22 * s + p["soft_mm"])) ** 2),
                        ((x / (44 * s + p["soft_mm"])) ** 2 + (y / (15 * s + p["soft_mm"])) ** 2))
        lab[np.broadcast_to(soft <= 1.0, shape)] = label("fat")
        lab[np.broadcast_to(soft <= 0.7, shape)] = label("muscle")
        long_bone("radius", -12 * s, 0.0, (9.0 + 8.0 * np.exp(-np.clip(z, 0, None) / 14.0)) * s, 0.0, 2.2)
        long_bone("ulna", 17 * s, 2.0, (6.0 + 2.5 * np.exp(-np.clip(z, 0, None) / 10.0)) * s, 3.0, 1.8)
        for i, cx in enumerate((-16, -5, 6, 16)):  # proximal and distal carpal rows
            small_bone(cx * s + j, 0.0, -9.0 * s, 5.5 * s, 7.0 * s, 5.0 * s)
            small_bone((cx - 1.5) * s - j, 1.0, -21.0 * s, 5.0 * s, 6.5 * s, 5.5 * s + 0.2 * i)
        for cx in (-22, -11, 0, 10, 19):  # metacarpal shafts
            long_bone(f"mc{cx}", cx * 1.15 * s, 0.0, 4.2 * s, -95.0 * s, 1.2, -30.0 * s)
        parts = {"radius": bones["radius"], "ulna": bones["ulna"]}
    elif part == "knee":
        half = 3.0 * float(rng.uniform(0.9, 1.1))  # half the joint space (cartilage of femur and tibia), mm
        ph.meta["joint_space_mm"] = round(2 * half, 2)
        soft = (x / (58 * s + p["soft_mm"])) ** 2 + ((y + 4) / (56 * s + p["soft_mm"])) ** 2
        lab[np.broadcast_to(soft <= 1.0, shape)] = label("fat")
        lab[np.broadcast_to(soft <= 0.72, shape)] = label("muscle")
        # femur: shaft widening to the condyles (half-width about 40 mm) at the joint line
        long_bone("femur", 0.0, 4.0, (13.0 + 27.0 * np.exp(-np.clip(z - half, 0, None) / 22.0)) * s, half, 2.5)
        # tibia: plateau (half-width about 38 mm) narrowing to the shaft
        long_bone("tibia", -2.0 * s, 4.0, (14.0 + 24.0 * np.exp(-np.clip(-half - z, 0, None) / 25.0)) * s,
                  -np.inf, 2.5, -half)
        long_bone("fibula", 34 * s, 14.0, (6.0 + 5.0 * np.exp(-np.clip(-12.0 * s - z, 0, None) / 8.0)) * s,
                  -np.inf, 1.8, -12.0 * s)
        small_bone(0.0, -48.0 * s, 28.0 * s, 21 * s, 9 * s, 23 * s)  # patella, anterior
        femur, tibia = bones["femur"], bones["tibia"]
        r_joint = (13.0 + 27.0) * s
        xx, yy, zz = np.broadcast_to(x, shape), np.broadcast_to(y, shape), np.broadcast_to(z, shape)
        gap = (np.abs(zz) < half) & ((xx - 0.0) ** 2 + (yy - 4.0) ** 2 <= r_joint**2) & (lab == label("muscle"))
        lab[gap] = label("soft_tissue")  # articular cartilage and menisci
        medial = xx < -1.0 * s
        ph.parts["joint_space_medial"] = gap & medial
        near = (np.abs(zz) < half + 6.0) & (lab == label("cancellous_bone")) & (femur | tibia)
        ph.parts["subchondral_medial"] = near & medial
        ph.meta["joint_margins_mm"] = {"medial": [[half + 2.0, 4.0, -r_joint], [-half - 2.0, 4.0, -r_joint]],
                                       "lateral": [[half + 2.0, 4.0, r_joint], [-half - 2.0, 4.0, r_joint]]}
        parts = {"femur": femur, "tibia": tibia, "fibula": bones["fibula"]}
    else:
        soft = np.where(z > -25, ((x / (36 * s + p["soft_mm"])) ** 2 + (y / (38 * s + p["soft_mm"])) ** 2),
                        ((x / (40 * s + p["soft_mm"])) ** 2 + ((y + 20) / (70 * s + p["soft_mm"])) ** 2))
        lab[np.broadcast_to(soft <= 1.0, shape)] = label("fat")
        lab[np.broadcast_to(soft <= 0.75, shape)] = label("muscle")
        long_bone("tibia", -6 * s, 0.0, (13.0 + 9.0 * np.exp(-np.clip(z, 0, None) / 18.0)) * s, 0.0, 2.5)
        long_bone("malleolus", -22 * s, 2.0, 6.5 * s, -13.0 * s, 1.8, 12.0)
        long_bone("fibula", 26 * s, 8.0, (6.0 + 3.5 * np.exp(-np.clip(z + 20, 0, None) / 14.0)) * s, -20.0 * s, 1.8)
        small_bone(j, -4.0, -17.0 * s, 19 * s, 24 * s, 13 * s)  # talus
        small_bone(-j, 24.0 * s, -45.0 * s, 17 * s, 34 * s, 17 * s)  # calcaneus
        small_bone(0.0, -38.0 * s, -38.0 * s, 16 * s, 14 * s, 11 * s)  # navicular
        parts = {"tibia": bones["tibia"] | bones["malleolus"], "fibula": bones["fibula"]}
    bone = (lab == label("cortical_bone")) | (lab == label("cancellous_bone"))
    ph.parts.update({k: v & bone for k, v in parts.items()})
    ph.parts.update(bone=bone, body=lab != label("air"))
    return ph


def _rod(z: np.ndarray, y: np.ndarray, x: np.ndarray, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Squared distance (mm^2) of each voxel to segment ``a``-``b`` (z, y, x mm) and the position along it (0-1)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    seg = b - a
    t = np.clip(((z - a[0]) * seg[0] + (y - a[1]) * seg[1] + (x - a[2]) * seg[2]) / float(seg @ seg), 0.0, 1.0)
    return (z - a[0] - t * seg[0]) ** 2 + (y - a[1] - t * seg[1]) ** 2 + (x - a[2] - t * seg[2]) ** 2, t


def pelvis_phantom(*, size: int = 128, fov: float = 400.0, rng: np.random.Generator | None = None) -> Phantom:
    """A pelvis with both hips: iliac wings, sacrum, pubic and ischial rami, acetabula, proximal femurs; isotropic voxels.

    z = 0 at the centres of the femoral heads (superior positive); a frontal (AP)
    radiograph projects along y. Each femoral head (radius about 24 mm) sits in its
    acetabulum with a cartilage (soft-tissue) joint space of about 4 mm; the neck runs
    down and out to the greater trochanter and the shaft. Parts: ``'femoral_neck_left'``
    and ``'_right'`` (the bone of each neck, for a hip fracture; its axis in
    ``meta['neck_axis_mm']``), ``'joint_space_<side>'`` (the weight-bearing upper half of
    each hip's joint space), ``'subchondral_<side>'`` (acetabular roof and femoral head
    cancellous bone within 6 mm of it), and the joint margins in ``meta['joint_margins_mm']``.

    Args:
        size: voxels along each axis.
        fov: field of view in mm.
        rng: the patient's generator.

    Example:
        >>> ph = pelvis_phantom(size=32, rng=np.random.default_rng(0))
        >>> ph.body_part, bool(ph.parts["femoral_neck_left"].any())
        ('pelvis', True)
    """
    _check_size(size, 1)
    rng = rng if rng is not None else np.random.default_rng(0)
    shape = (size, size, size)
    spacing = (fov / size,) * 3
    s = float(rng.uniform(0.9, 1.1))
    p = {"scale": s, "fat_mm": float(rng.uniform(8, 30)), "neck_angle_deg": float(rng.uniform(120, 140)),
         "joint_space_mm": float(rng.uniform(3.5, 4.5))}
    ph = Phantom(np.zeros(shape, np.int8), spacing, _centred_origin(shape, spacing, (0.0, 0.0, 20.0)), "pelvis",
                 meta={k: round(v, 3) for k, v in p.items()})
    z, y, x = (np.broadcast_to(a, shape) for a in ph.grid())
    lab = ph.labels
    body = ((x / (150 * s + p["fat_mm"])) ** 2 + ((y - 5) / (95 * s + p["fat_mm"] * 0.8)) ** 2 <= 1.0) & (z > -170)
    lab[body] = label("fat")
    lab[((x / (150 * s)) ** 2 + ((y - 5) / (95 * s)) ** 2 <= 1.0) & (z > -170)] = label("muscle")
    cortical, cancellous = label("cortical_bone"), label("cancellous_bone")

    axes_mm = [np.ravel(v) for v in ph.grid()]

    def bone_rod(a: Any, b: Any, r: float, cortex: float = 2.5) -> np.ndarray:
        # only the rod's bounding box is computed
        box = tuple(slice(int(np.searchsorted(c, min(a[i], b[i]) - r - 1.0)),
                          int(np.searchsorted(c, max(a[i], b[i]) + r + 1.0))) for i, c in enumerate(axes_mm))
        d2, _ = _rod(axes_mm[0][box[0], None, None], axes_mm[1][None, box[1], None], axes_mm[2][None, None, box[2]],
                     a, b)
        sub = lab[box]
        sub[d2 <= r**2] = cortical
        sub[d2 <= max(r - cortex, 0.5) ** 2] = cancellous
        inside = np.zeros(shape, bool)
        inside[box] = d2 <= r**2
        return inside

    # sacrum: a wedge at the back, wide at the top (S1), narrowing down to the coccyx
    sac_half = np.clip(50.0 * s * (z + 30.0) / 130.0, 0, None)
    sacrum = (np.abs(x) <= sac_half) & (z > -30) & (z < 100 * s) & (np.abs(y - 60.0 * s + 0.25 * z) <= 16.0)
    lab[sacrum] = cortical
    lab[sacrum & (np.abs(y - 60.0 * s + 0.25 * z) <= 11.0) & (np.abs(x) <= sac_half - 4)] = cancellous
    R = 24.0 * s
    gap = p["joint_space_mm"]
    a = np.deg2rad(p["neck_angle_deg"] - 90.0)  # the neck's slope below the horizontal
    ph.meta["neck_axis_mm"], ph.meta["joint_margins_mm"] = {}, {}
    for side, sign in (("right", -1.0), ("left", 1.0)):
        hx = sign * 95.0 * s
        # iliac wing: a thin plate fanning up and out from the acetabulum, flaring forward laterally
        fan = ((x - sign * 80 * s) / (65 * s)) ** 2 + ((z - 75 * s) / (65 * s)) ** 2 <= 1.0
        plate = np.abs(y - (25.0 * s - 0.35 * (np.abs(x) - 60.0 * s))) <= 6.0
        wing = fan & plate & (z > 20 * s) & (np.abs(x) > 35 * s)
        lab[wing] = cortical
        lab[wing & (np.abs(y - (25.0 * s - 0.35 * (np.abs(x) - 60.0 * s))) <= 3.0)] = cancellous
        bone_rod((30 * s, 15.0, hx * 0.95), (70 * s, 20.0, sign * 75 * s), 18 * s)  # ilium body
        bone_rod((60 * s, 35.0 * s, sign * 40 * s), (70 * s, 45.0 * s, sign * 20 * s), 12 * s)  # sacroiliac joint
        bone_rod((-5 * s, -10.0, hx * 0.9), (-28 * s, -55.0 * s, sign * 12 * s), 9 * s)  # superior pubic ramus
        bone_rod((-45 * s, -50.0 * s, sign * 12 * s), (-65 * s, 5.0, sign * 60 * s), 8 * s)  # inferior ramus
        bone_rod((-15 * s, 10.0, hx * 0.9), (-65 * s, 5.0, sign * 62 * s), 13 * s)  # ischium
        bone_rod((-28 * s, -55.0 * s, sign * 12 * s), (-45 * s, -50.0 * s, sign * 12 * s), 10 * s)  # symphysis body
        # acetabulum: a cup over the head, its inner surface R + gap from the head's centre
        dc = np.sqrt((x - hx) ** 2 + y**2 + z**2)
        cup = (dc <= R + gap + 9.0) & (dc > R + gap) & (z > -0.35 * R) & (sign * (x - hx) < 0.6 * R)
        lab[cup] = cortical
        lab[cup & (dc > R + gap + 2.5) & (dc < R + gap + 7.0)] = cancellous
        # proximal femur: head, neck down and out, greater trochanter, shaft
        neck_end = np.array([-np.sin(a) * 55.0 * s, 0.0, hx + sign * np.cos(a) * 55.0 * s])
        troch = np.array([neck_end[0] + 5.0, 8.0, neck_end[2] + sign * 12.0 * s])
        lab[dc <= gap + R] = label("soft_tissue")  # cartilage
        neck = bone_rod((0.0, 0.0, hx), neck_end, 15.0 * s, 3.0)
        bone_rod(neck_end, troch, 15.0 * s, 3.0)
        bone_rod((neck_end[0] - 10.0, 5.0, neck_end[2]), (-170.0, 5.0, neck_end[2] + sign * 10.0), 15.0 * s, 5.0)
        lab[dc <= R] = cortical
        lab[dc <= R - 3.0] = cancellous
        neck_bone = neck & (dc > R) & ((lab == cortical) | (lab == cancellous))
        ph.parts[f"femoral_neck_{side}"] = neck_bone
        ph.meta["neck_axis_mm"][side] = [[0.0, 0.0, round(hx, 2)], [round(float(v), 2) for v in neck_end]]
        joint = (dc > R) & (dc <= R + gap) & (z > 0.2 * R) & (sign * (x - hx) < 0.6 * R)
        ph.parts[f"joint_space_{side}"] = joint & (lab == label("soft_tissue"))
        near = (np.abs(dc - R - gap / 2) <= gap / 2 + 6.0) & (z > 0.2 * R) & (lab == cancellous)
        ph.parts[f"subchondral_{side}"] = near
        ph.meta["joint_margins_mm"][side] = [[round(0.55 * R, 1), 0.0, round(hx + sign * 0.95 * (R + gap), 1)],
                                             [round(-0.5 * R, 1), 0.0, round(hx + sign * 0.9 * R, 1)]]
    bone = (lab == cortical) | (lab == cancellous)
    for side in ("left", "right"):
        ph.parts[f"subchondral_{side}"] &= bone
    ph.parts.update(bone=bone, body=lab != label("air"))
    return ph


def phantom_from_ct(volume: Any) -> Phantom:
    """A phantom read from a CT :class:`~hygeia.imaging.Volume` (HU), so that lesions can go into a real scan.

    Tissues come from CT-number thresholds (air below -950 HU, aerated lung -950..-400
    inside the body, fat -400..-30, soft tissue -30..150, cancellous bone 150..600,
    cortical bone above); the HU map keeps the scan's own values. Lungs are the low-density
    voxels inside the body outline (filled slice by slice), split into left and right at the
    body's midline.

    Raises:
        ConfigError: not a CT volume, or not an axial volume in patient axes (direction the identity).

    Example:
        >>> from hygeia.imaging._volume import Volume
        >>> ph = phantom_from_ct(Volume(np.full((2, 8, 8), -1000.0, np.float32), "CT"))
        >>> ph.body_part, int(ph.labels.max())
        ('ct', 0)
    """
    from scipy import ndimage

    if getattr(volume, "modality", None) != "CT":
        raise ConfigError("lesions go into a phantom or a CT volume (Hounsfield units); an "
                          f"{getattr(volume, 'modality', type(volume).__name__)} image has no tissue values to edit. "
                          "Render it with a finding instead (render(..., finding=...)).")
    if not np.allclose(np.asarray(volume.direction, float), np.eye(3), atol=1e-6):
        raise ConfigError("lesions go into axial CT volumes whose axes follow the patient's (x to the left, "
                          f"y to the back, z up: direction the identity); got direction {volume.direction!r}")
    hu = np.asarray(volume.array, np.float32)
    ph = Phantom(np.zeros(hu.shape, np.int8), volume.spacing, volume.origin, "ct",
                 meta={"from": "ct volume", "source_meta": {k: volume.meta[k] for k in ("renderer", "seed")
                                                            if k in volume.meta}})
    lab = ph.labels
    for name, lo in (("lung", -950), ("fat", -400), ("soft_tissue", -30), ("cancellous_bone", 150),
                     ("cortical_bone", 600)):
        lab[hu >= lo] = label(name)
    body = np.stack([ndimage.binary_fill_holes(s) for s in hu > -400])
    lung = body & (hu >= -950) & (hu < -400)
    lab[(lab == label("lung")) & ~body] = label("air")
    ph._maps["hu"] = hu.copy()
    x = np.broadcast_to(ph.grid()[2], hu.shape)
    mid = float(x[body].mean()) if body.any() else 0.0
    ph.parts.update(body=body, lung_left=lung & (x > mid), lung_right=lung & (x <= mid),
                    bone=(lab == label("cancellous_bone")) | (lab == label("cortical_bone")))
    if lung.sum() > 0.05 * max(int(body.sum()), 1):
        ph.body_part = "chest"
    return ph
