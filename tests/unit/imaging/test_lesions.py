"""Lesions: placed in the right structure, contrast as set, codes that the module files use, clear refusals."""

from __future__ import annotations

import json
import re
from importlib import resources

import numpy as np
import pytest

from hygeia.errors import ConfigError
from hygeia.imaging._lesions import (
    CODES,
    CONDITIONS,
    LESIONS,
    finding_for_condition,
    insert_lesion,
)
from hygeia.imaging._phantoms import (
    chest_phantom,
    extremity_phantom,
    label,
    pelvis_phantom,
    tissue_table,
)


def _module_codes() -> set[tuple[str, str]]:
    """Every (system, code, display) the shipped population modules use."""
    found = set()
    root = resources.files("hygeia.population")
    for folder in ("modules", "synthea/modules"):
        stack = [root.joinpath(folder)]
        while stack:
            d = stack.pop()
            for f in d.iterdir():
                if f.is_dir():
                    stack.append(f)
                elif f.name.endswith(".json"):
                    text = f.read_text(encoding="utf-8")
                    for m in re.finditer(r'"system":\s*"([^"]+)",\s*"code":\s*"([^"]+)",\s*"display":\s*"([^"]+)"', text):
                        found.add(m.groups())
    return found


def test_codes_are_the_modules_codes() -> None:
    known = _module_codes()
    for key, code in CODES.items():
        assert code in known, (key, code)
    codes = {(system, code) for system, code, _ in known}
    for condition, (finding, part) in CONDITIONS.items():
        assert condition in codes, condition
        assert finding_for_condition(*condition) == (finding, part)
    fractures = json.loads(resources.files("hygeia.population").joinpath("modules/fractures.json").read_text())
    text = json.dumps(fractures)
    assert '"code": "65966004", "display": "Fracture of forearm (disorder)"' in text
    assert '"code": "16114001", "display": "Fracture of ankle (disorder)"' in text
    assert '"code": "359817006", "display": "Closed fracture of hip (disorder)"' in text
    assert '"code": "58150001", "display": "Fracture of clavicle (disorder)"' in text
    oa = json.dumps(json.loads(resources.files("hygeia.population").joinpath("modules/osteoarthritis.json").read_text()))
    assert '"code": "239873007", "display": "Osteoarthritis of knee (disorder)"' in oa
    assert '"code": "239872002", "display": "Osteoarthritis of hip (disorder)"' in oa
    # every condition a module images at a knee, pelvis or clavicle site has its finding there
    for code, part in (("359817006", "pelvis"), ("58150001", "clavicle"), ("239873007", "knee"),
                       ("239872002", "pelvis")):
        assert finding_for_condition("SNOMED-CT", code)[1] == part


@pytest.fixture
def chest():
    return chest_phantom(size=64, slices=10, rng=np.random.default_rng(0))


def test_nodule_in_one_lung_with_set_contrast(chest) -> None:
    lung = chest.parts["lung_left"] | chest.parts["lung_right"]
    f = insert_lesion(chest, "nodule", rng=np.random.default_rng(1), radius_mm=9, hu=60)
    assert f.mask.any() and (f.mask <= lung).all()
    assert f.contrast == pytest.approx(60 - (-850))
    assert (chest.map("hu")[f.mask] == 60).all() and (chest.labels[f.mask] == label("nodule")).all()
    assert f.codes == () and chest.findings == [f]
    assert (chest.before[0]["hu"] == -850).all()


def test_consolidation_fills_a_lobe_with_bronchograms(chest) -> None:
    lung = chest.parts["lung_right"].copy()
    f = insert_lesion(chest, "consolidation", rng=np.random.default_rng(2), side="right", bronchograms=True)
    assert (f.mask <= lung).all() and f.mask.sum() > 0.2 * lung.sum() * 0.3
    assert f.codes == (("SNOMED-CT", "233604007"),)
    assert f.contrast == pytest.approx(tissue_table()["consolidation"]["hu"] + 850)
    # bronchi left aerated inside the lobe are not in the mask
    assert ((chest.labels == label("lung")) & lung).any()


def test_white_matter_lesions_are_in_white_matter() -> None:
    pytest.importorskip("nilearn")
    from hygeia.imaging._phantoms import head_phantom

    head = head_phantom(size=64, slices=6, rng=np.random.default_rng(0))
    wm = head.parts["white_matter"].copy()
    f = insert_lesion(head, "white_matter_lesion", rng=np.random.default_rng(3), count=5)
    assert f.mask.any() and (f.mask <= wm).all()
    assert (head.map("t2")[f.mask] == 237).all()  # BrainWeb MS lesion
    assert f.codes == ()
    g = insert_lesion(head, "white_matter_lesion", rng=np.random.default_rng(4), count=2,
                      codes=(("SNOMED-CT", "24700007"),))
    assert g.codes == (("SNOMED-CT", "24700007"),)


@pytest.mark.parametrize(("part", "code"), [("wrist", "65966004"), ("ankle", "16114001")])
def test_fracture_gap_through_bone(part: str, code: str) -> None:
    ph = extremity_phantom(part, size=64, rng=np.random.default_rng(0))
    bone = ph.parts["bone"].copy()
    f = insert_lesion(ph, "fracture", rng=np.random.default_rng(5))
    assert f.mask.any() and (f.mask <= bone).all()
    assert f.contrast < -200  # bone replaced by hematoma
    assert f.codes == (("SNOMED-CT", code),)
    assert ph.meta["lesions"][0]["site"] in ph.parts


def test_rib_fracture_on_the_lateral_arc() -> None:
    ph = chest_phantom(size=64, slices=12, rng=np.random.default_rng(2))
    ribs = ph.parts["ribs"].copy()
    f = insert_lesion(ph, "fracture", rng=np.random.default_rng(6))
    assert f.mask.any() and (f.mask <= ribs).all()
    assert f.codes == (("SNOMED-CT", "33737001"),) and ph.meta["lesions"][0]["site"] == "rib"


@pytest.mark.parametrize(("side", "sign"), [("left", 1), ("right", -1)])
def test_hip_fracture_crosses_the_femoral_neck(side: str, sign: int) -> None:
    ph = pelvis_phantom(size=64, rng=np.random.default_rng(0))
    neck = ph.parts[f"femoral_neck_{side}"].copy()
    f = insert_lesion(ph, "fracture", rng=np.random.default_rng(1), site=side)
    assert f.mask.any() and (f.mask <= neck).all() and f.contrast < -200
    assert f.codes == (("SNOMED-CT", "359817006"),)
    _, _, x = (np.broadcast_to(a, ph.shape) for a in ph.grid())
    assert (np.sign(x[f.mask]) == sign).all()
    assert 0.45 <= ph.meta["lesions"][0]["level_fraction"] <= 0.75


def test_clavicle_fracture_in_the_middle_third() -> None:
    from hygeia.imaging._render import make_phantom

    ph = make_phantom("clavicle", "DX", size=64, slices=1, thickness=None, rng=np.random.default_rng(0))
    clav = ph.parts["clavicle_left"] | ph.parts["clavicle_right"]
    f = insert_lesion(ph, "fracture", rng=np.random.default_rng(2))
    assert f.mask.sum() >= 3 and (f.mask <= clav).all() and f.contrast < -200
    assert f.codes == (("SNOMED-CT", "58150001"),)
    assert 0.35 <= ph.meta["lesions"][0]["level_fraction"] <= 0.65
    chest = chest_phantom(size=48, slices=48, thickness=400 / 48, z_centre=10.0, rng=np.random.default_rng(0))
    assert insert_lesion(chest, "fracture", rng=np.random.default_rng(2)).codes == (("SNOMED-CT", "33737001"),)


def test_knee_osteoarthritis_narrows_the_medial_joint_space() -> None:
    ph = extremity_phantom("knee", size=64, rng=np.random.default_rng(0))
    space = ph.parts["joint_space_medial"].copy()
    sub = ph.parts["subchondral_medial"].copy()
    bone = ph.parts["bone"].copy()
    f = insert_lesion(ph, "osteoarthritis", rng=np.random.default_rng(3), narrowing=0.5, osteophyte_mm=4)
    assert f.codes == (("SNOMED-CT", "239873007"),) and f.contrast > 300
    assert (ph.labels[f.mask] == label("cortical_bone")).all()
    # narrowing: part of the cartilage is bone now, but every column keeps some joint space
    lost = f.mask & space
    assert 0 < lost.sum() < space.sum()
    cols = space.any(axis=0)
    assert ((space & ~f.mask).any(axis=0)[cols]).all()
    assert (sub <= f.mask).all()  # subchondral sclerosis
    assert (f.mask & ~bone & ~space).any()  # osteophytes at the margins
    info = ph.meta["lesions"][0]
    assert info["side"] == "medial" and info["narrowed_voxels"] == int(lost.sum())


def test_hip_osteoarthritis_and_refusals() -> None:
    ph = pelvis_phantom(size=64, rng=np.random.default_rng(1))
    f = insert_lesion(ph, "osteoarthritis", rng=np.random.default_rng(4), side="right")
    assert f.codes == (("SNOMED-CT", "239872002"),) and f.mask.any()
    _, _, x = (np.broadcast_to(a, ph.shape) for a in ph.grid())
    assert (x[f.mask] < 0).all()
    with pytest.raises(ConfigError, match="an osteoarthritis side of this pelvis is one of left, right; got 'up'"):
        insert_lesion(ph, "osteoarthritis", rng=np.random.default_rng(0), side="up")
    with pytest.raises(ConfigError, match="narrowing is the fraction of the joint space lost"):
        insert_lesion(ph, "osteoarthritis", rng=np.random.default_rng(0), narrowing=1.5)
    with pytest.raises(ConfigError, match="an osteoarthritis goes in a knee or pelvis phantom, not a 'wrist' one"):
        insert_lesion(extremity_phantom("wrist", size=32), "osteoarthritis", rng=np.random.default_rng(0))


def test_same_rng_same_lesion() -> None:
    masks = []
    for _ in range(2):
        ph = chest_phantom(size=48, slices=6, rng=np.random.default_rng(0))
        masks.append(insert_lesion(ph, "nodule", rng=np.random.default_rng(9)).mask)
    assert np.array_equal(*masks)


def test_refusals(chest) -> None:
    with pytest.raises(ConfigError, match=re.escape("unknown lesion kind 'tumour'; choose one of nodule")):
        insert_lesion(chest, "tumour", rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match=re.escape("a nodule goes in a chest phantom, not a 'wrist' one")):
        insert_lesion(extremity_phantom("wrist", size=16), "nodule", rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="radius_mm must be between 1 and 30 mm; got 50"):
        insert_lesion(chest, "nodule", rng=np.random.default_rng(0), radius_mm=50)
    with pytest.raises(ConfigError, match="nodule: .*unexpected keyword argument 'size'"):
        insert_lesion(chest, "nodule", rng=np.random.default_rng(0), size=3)


def test_nodule_into_a_reconstructed_ct_volume() -> None:
    pytest.importorskip("skimage")
    from hygeia.imaging import measured_contrast, render

    ct = render("ct", seed=3, size=96, slices=6, dose=1e6)[0]
    original = ct.array.copy()
    f = insert_lesion(ct, "nodule", rng=np.random.default_rng(0), radius_mm=12)
    assert ct.findings == [f] and ct.meta["lesions"][0]["kind"] == "nodule"
    assert np.array_equal(ct.array[~f.mask], original[~f.mask])
    lung = (original > -950) & (original < -400)
    assert abs(measured_contrast(ct.array, f.mask, lung, erosion_px=1) - f.contrast) < 15.0
    mr = render("mr", seed=3, size=16, slices=1, body_part="chest")[0]
    with pytest.raises(ConfigError, match="an MR image has no tissue values to edit"):
        insert_lesion(mr, "nodule", rng=np.random.default_rng(0))


@pytest.mark.parametrize(("part", "finding", "code"), [("knee", "osteoarthritis", "239873007"),
                                                      ("pelvis", "fracture", "359817006"),
                                                      ("pelvis", "osteoarthritis", "239872002"),
                                                      ("clavicle", "fracture", "58150001")])
def test_knee_pelvis_and_clavicle_films_show_their_finding(part: str, finding: str, code: str) -> None:
    from hygeia.imaging import render

    v = render("xray", finding=finding, body_part=part, seed=4, size=48, dose=1e6)[0]
    assert v.modality == "DX" and v.shape == (1, 48, 48) and v.meta["body_part"] == part
    (f,) = v.findings
    assert f.kind == finding and f.codes == (("SNOMED-CT", code),) and f.mask.any()
    # a fracture gap lets more photons through (darker), sclerosis and osteophytes fewer (brighter)
    assert (f.contrast < 0) if finding == "fracture" else (f.contrast > 0)
    normal = render("xray", body_part=part, seed=4, size=48)[0]
    assert normal.findings == [] and normal.meta["body_part"] == part


def test_every_imaging_site_of_the_default_modules_has_a_phantom_and_its_findings() -> None:
    """Each ImagingStudy series of ``population/modules`` renders (BODY_SITES), and each condition
    a module diagnoses after that study, if imaging shows it, has its finding at that site."""
    from hygeia.imaging._link import BODY_SITES, LINK_MODALITIES
    from hygeia.imaging._render import BODY_PARTS

    sites = {code: part for (code, _display), part in BODY_SITES.items()}
    seen = set()
    for f in resources.files("hygeia.population").joinpath("modules").iterdir():
        if not f.name.endswith(".json"):
            continue
        doc = json.loads(f.read_text(encoding="utf-8"))
        for state in doc.get("states", {}).values():
            if state.get("type") != "ImagingStudy":
                continue
            for series in state["series"]:
                assert series["modality"]["code"] in LINK_MODALITIES, (f.name, series["modality"])
                assert series["body_site"]["code"] in sites, (f.name, series["body_site"])
                seen.add(sites[series["body_site"]["code"]])
    assert {"chest", "wrist", "ankle", "knee", "pelvis", "clavicle"} <= seen
    for finding, part in CONDITIONS.values():
        assert finding in BODY_PARTS[part]


def test_the_render_command_offers_every_finding_and_body_part() -> None:
    from hygeia.cli._images_render import _BODY_PARTS, _FINDINGS
    from hygeia.imaging._render import BODY_PARTS

    assert set(_FINDINGS) == {*LESIONS, "none"} and set(_BODY_PARTS) == set(BODY_PARTS)
