"""Phantoms: the tissue table, per-patient anatomy, the MNI152 head read offline, extremities."""

from __future__ import annotations

import re
import socket

import numpy as np
import pytest

pytest.importorskip("nilearn")

from hygeia.errors import ConfigError
from hygeia.imaging import _phantoms
from hygeia.imaging._phantoms import (
    chest_phantom,
    extremity_phantom,
    head_phantom,
    label,
    pelvis_phantom,
    tissue_table,
    water_phantom,
)


def test_tissue_table_defines_water_air_and_brainweb_values() -> None:
    t = tissue_table()
    assert t["water"]["hu"] == 0 and t["air"]["hu"] == -1000
    # BrainWeb 1.5 T: WM T1 500 / T2 70 / T2* 61 / PD 0.77; GM 833 / 83 / 69 / 0.86; CSF 2569 / 329 / 58 / 1
    assert [t["white_matter"][k] for k in ("t1", "t2", "t2s", "pd")] == [500, 70, 61, 0.77]
    assert [t["grey_matter"][k] for k in ("t1", "t2", "t2s", "pd")] == [833, 83, 69, 0.86]
    assert [t["csf"][k] for k in ("t1", "t2", "t2s", "pd")] == [2569, 329, 58, 1.0]
    assert len({v["label"] for v in t.values()}) == len(t)


def test_chest_is_one_patient_per_seed() -> None:
    a = chest_phantom(size=48, slices=4, rng=np.random.default_rng(5))
    b = chest_phantom(size=48, slices=4, rng=np.random.default_rng(5))
    c = chest_phantom(size=48, slices=4, rng=np.random.default_rng(6))
    assert np.array_equal(a.labels, b.labels) and a.meta == b.meta
    assert a.meta != c.meta and not np.array_equal(a.labels, c.labels)


def test_chest_anatomy() -> None:
    ph = chest_phantom(size=64, slices=8, rng=np.random.default_rng(0))
    hu = ph.map("hu")
    assert ph.parts["lung_left"].sum() > 0 and ph.parts["lung_right"].sum() > 0
    assert (hu[ph.parts["lung_left"]] == -850).all()
    _, _, x = ph.grid()
    x = np.broadcast_to(x, ph.shape)
    assert x[ph.parts["lung_left"]].mean() > 0 > x[ph.parts["lung_right"]].mean()  # LPS: +x is the left
    for tissue in ("fat", "muscle", "myocardium", "blood", "cortical_bone", "cancellous_bone"):
        assert (ph.labels == label(tissue)).any(), tissue
    # everything the scanner must see lies inside the reconstruction circle
    n = ph.shape[1]
    yy, xx = np.mgrid[:n, :n] - n // 2
    assert (ph.labels[:, (yy**2 + xx**2) > (n // 2) ** 2] == 0).all()


def test_head_reads_the_template_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    _phantoms._mni.cache_clear()
    ph = head_phantom(size=48, slices=3, rng=np.random.default_rng(0))
    counts = {n: int((ph.labels == label(n)).sum()) for n in ("grey_matter", "white_matter", "csf", "cortical_bone")}
    assert all(v > 0 for v in counts.values()), counts
    assert counts["grey_matter"] + counts["white_matter"] > counts["csf"]


def test_head_size_varies_by_patient() -> None:
    brains = [int(head_phantom(size=32, slices=2, rng=np.random.default_rng(s)).parts["brain"].sum()) for s in range(3)]
    assert len(set(brains)) == 3


def test_extremities() -> None:
    wrist = extremity_phantom("wrist", size=48, rng=np.random.default_rng(0))
    ankle = extremity_phantom("ankle", size=48, rng=np.random.default_rng(0))
    assert wrist.parts["radius"].any() and wrist.parts["ulna"].any()
    assert ankle.parts["tibia"].any() and ankle.parts["fibula"].any()
    assert wrist.spacing[0] == wrist.spacing[1] == wrist.spacing[2]
    with pytest.raises(ConfigError, match=re.escape("an extremity phantom is 'wrist', 'ankle' or 'knee', got 'elbow'")):
        extremity_phantom("elbow")


def test_knee_has_a_joint_space_between_femur_and_tibia() -> None:
    knee = extremity_phantom("knee", size=48, rng=np.random.default_rng(0))
    z, _, x = (np.broadcast_to(a, knee.shape) for a in knee.grid())
    assert z[knee.parts["femur"]].min() > 0 > z[knee.parts["tibia"]].max()  # the joint line at z = 0
    assert x[knee.parts["fibula"]].mean() > 0  # a left knee: fibula lateral, at +x
    space = knee.parts["joint_space_medial"]
    assert space.any() and (knee.labels[space] == label("soft_tissue")).all() and (x[space] < 0).all()
    assert (knee.labels[knee.parts["subchondral_medial"]] == label("cancellous_bone")).all()
    assert set(knee.meta["joint_margins_mm"]) == {"medial", "lateral"}
    assert 5.0 <= knee.meta["joint_space_mm"] <= 7.0


def test_pelvis_has_two_hips() -> None:
    a = pelvis_phantom(size=48, rng=np.random.default_rng(0))
    b = pelvis_phantom(size=48, rng=np.random.default_rng(1))
    assert a.body_part == "pelvis" and a.meta != b.meta
    assert a.spacing[0] == a.spacing[1] == a.spacing[2]
    _, _, x = (np.broadcast_to(v, a.shape) for v in a.grid())
    for side, sign in (("left", 1), ("right", -1)):
        neck = a.parts[f"femoral_neck_{side}"]
        assert neck.any() and (np.sign(x[neck]) == sign).all()
        assert ((a.labels[neck] == label("cortical_bone")) | (a.labels[neck] == label("cancellous_bone"))).all()
        assert a.parts[f"joint_space_{side}"].any() and a.parts[f"subchondral_{side}"].any()
    bone = a.parts["bone"].sum()
    assert 0.01 < bone / a.labels.size < 0.2
    for ph in (a, b):  # the body lies inside a CT's reconstruction circle
        n = ph.shape[1]
        yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
        assert (ph.labels[:, (yy**2 + xx**2) > (n / 2) ** 2] == 0).all()


def test_chest_has_clavicles_across_the_lung_apices() -> None:
    ph = chest_phantom(size=48, slices=48, thickness=200 / 48, z_centre=110.0, rng=np.random.default_rng(0))
    z, _, x = (np.broadcast_to(v, ph.shape) for v in ph.grid())
    for side, sign in (("left", 1), ("right", -1)):
        clav = ph.parts[f"clavicle_{side}"]
        assert clav.sum() > 20 and (np.sign(x[clav]) == sign).all()
        assert 95 < z[clav].mean() < 125  # across the lung apices (about 130 mm)
        assert not (clav & ph.parts["ribs"]).any()
    low = chest_phantom(size=32, slices=2, rng=np.random.default_rng(0))  # the default CT slab: below them
    assert not low.parts["clavicle_left"].any()


def test_water_and_bad_sizes() -> None:
    ph = water_phantom(size=32, slices=2)
    assert set(np.unique(ph.map("hu")).tolist()) == {-1000.0, 0.0}
    with pytest.raises(ConfigError, match=re.escape("size must be an integer of at least 8 pixels; got 4")):
        chest_phantom(size=4)
    with pytest.raises(ConfigError, match="pass fov of at least 380 mm"):
        chest_phantom(size=32, fov=200.0)
