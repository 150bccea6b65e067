"""render(): one patient per (seed, index), provenance in meta, findings in each modality's own units."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("skimage")

from hygeia.errors import ConfigError
from hygeia.imaging import render


def test_image_depends_on_seed_and_index_only() -> None:
    three = render("ct", finding="consolidation", n=3, seed=4, size=32, slices=2)
    one = render("ct", finding="consolidation", n=1, seed=4, size=32, slices=2)
    assert np.array_equal(three[0].array, one[0].array)
    assert not np.array_equal(three[0].array, three[1].array)
    assert [v.meta["index"] for v in three] == [0, 1, 2]


def test_meta_holds_provenance() -> None:
    v = render("mr", n=1, seed=7, size=32, slices=2, body_part="chest", tr=500, te=15, snr=50)[0]
    assert v.meta["renderer"] == "hygeia.imaging.render/mr" and v.meta["seed"] == 7 and v.meta["synthetic"]
    p = v.meta["parameters"]
    assert (p["tr_ms"], p["te_ms"], p["snr"], p["sequence"], p["body_part"]) == (500, 15, 50, "se", "chest")
    assert "version" in v.meta and "half_width_mm" in v.meta["anatomy"]


def test_findings_in_each_modality() -> None:
    ct = render("ct", finding="nodule", seed=1, size=48, slices=4, lesion={"radius_mm": 10})[0]
    assert ct.findings[0].contrast == pytest.approx(890.0) and ct.findings[0].mask.shape == ct.shape
    xr = render("xray", finding="nodule", seed=1, size=48, lesion={"radius_mm": 10})[0]
    assert xr.modality == "DX" and xr.shape == (1, 48, 48) and xr.findings[0].mask.shape == (1, 48, 48)
    assert xr.findings[0].contrast > 0  # a nodule adds attenuation
    assert xr.direction[1] == (0.0, 0.0, -1.0)  # rows run from head to feet
    fx = render("xray", finding="fracture", seed=2, size=48, body_part="wrist")[0]
    assert fx.findings[0].contrast < 0 and fx.findings[0].codes == (("SNOMED-CT", "65966004"),)


def test_mr_white_matter_lesions_bright_on_t2() -> None:
    pytest.importorskip("nilearn")
    v = render("mr", finding="white_matter_lesion", seed=3, size=48, slices=4, tr=4000, te=100)[0]
    assert v.findings[0].contrast > 0
    wml = render("mr", finding="white_matter_lesion", seed=3, size=48, slices=4, tr=4000, te=100, snr=1e5,
                 bias=0.0)[0]
    assert wml.array[wml.findings[0].mask].mean() > np.median(wml.array[wml.array > 0.05])


def test_ct_extremity_keeps_the_fracture_in_its_slices() -> None:
    v = render("ct", finding="fracture", seed=5, size=48, slices=6, body_part="ankle")[0]
    assert v.shape == (6, 48, 48) and v.findings[0].mask.any()


def test_refusals() -> None:
    with pytest.raises(ConfigError, match=re.escape("modality must be one of ct, mr, xray; got 'pet'")):
        render("pet")
    with pytest.raises(ConfigError, match=re.escape("finding must be one of nodule, consolidation")):
        render("ct", finding="tumour")
    with pytest.raises(ConfigError, match="a white matter lesion is shown in a head image, not a chest"):
        render("mr", finding="white_matter_lesion", body_part="chest")
    with pytest.raises(ConfigError, match="n must be an integer of at least 1; got 0"):
        render("ct", n=0)


@pytest.mark.parametrize("module", ["_phantoms", "_ct", "_mr", "_xray", "_lesions", "_render"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    if module == "_phantoms":
        pytest.importorskip("nilearn")
    result = doctest.testmod(importlib.import_module(f"hygeia.imaging.{module}"))
    assert result.attempted > 0 and result.failed == 0
