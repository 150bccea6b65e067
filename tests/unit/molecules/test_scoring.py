"""Scoring functions configured as data: components, transforms, aggregation, hard filters, errors."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

from rdkit import Chem, DataStructs  # noqa: E402
from rdkit.Chem import rdFingerprintGenerator  # noqa: E402
from rdkit.Chem import QED  # noqa: E402

from hygeia.errors import ConfigError  # noqa: E402
from hygeia.molecules.scoring import (  # noqa: E402
    COMPONENTS,
    TRANSFORMS,
    ScoringFunction,
    Transform,
    example_config,
    lipinski_violations,
    load_config,
    veber_passes,
)

RHODANINE = "O=C1C(=Cc2ccccc2)SC(=S)N1"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def t(**spec) -> Transform:
    return Transform.from_spec(spec)


# -- transforms at their declared points ---------------------------------------------------------


def test_sigmoid_is_half_at_its_midpoint_and_rises() -> None:
    f = t(type="sigmoid", low=2, high=6, k=0.5)
    assert f([4.0])[0] == pytest.approx(0.5)
    lo, hi = f([2.0, 6.0])
    assert lo == pytest.approx(1 / (1 + 10**2.5)) and hi == pytest.approx(1 / (1 + 10**-2.5))
    assert np.all(np.diff(f(np.linspace(0, 8, 50))) > 0)


def test_reverse_sigmoid_mirrors_sigmoid() -> None:
    up, down = t(type="sigmoid", low=2, high=6), t(type="reverse_sigmoid", low=2, high=6)
    x = np.linspace(0, 8, 17)
    assert down([4.0])[0] == pytest.approx(0.5)
    np.testing.assert_allclose(up(x) + down(x), 1.0)


def test_step_edges_are_inside() -> None:
    f = t(type="step", low=300, high=500)
    assert f([299.999, 300, 400, 500, 500.001]).tolist() == [0, 1, 1, 1, 0]
    assert t(type="step", high=5)([-1e9, 5, 6]).tolist() == [1, 1, 0]


def test_maximize_and_minimize_state_the_direction() -> None:
    up = t(type="maximize")
    down = t(type="minimize")
    assert up([0.0, 0.25, 1.0, 2.0]).tolist() == [0.0, 0.25, 1.0, 1.0]
    assert down([0.0, 0.25, 1.0, 2.0]).tolist() == [1.0, 0.75, 0.0, 0.0]
    assert t(type="minimize", low=1, high=10)([1, 5.5, 10]).tolist() == [1.0, 0.5, 0.0]


def test_gaussian_linear_and_window() -> None:
    g = t(type="gaussian", mu=3, sigma=2)
    assert g([3.0])[0] == 1.0 and g([5.0])[0] == pytest.approx(math.exp(-0.5))
    ramp = t(type="linear", low=10, high=0)  # decreasing ramp
    assert ramp([-1, 0, 5, 10, 11]).tolist() == [1.0, 1.0, 0.5, 0.0, 0.0]
    w = t(type="window", low=20, high=140, k=0.5)
    expected_edge = 0.5 / (1 + math.exp(-0.5 * 120))
    assert w([20.0])[0] == pytest.approx(expected_edge) and w([140.0])[0] == pytest.approx(expected_edge)
    assert w([80.0])[0] > 0.99 and w([0.0])[0] < 1e-4 and w([200.0])[0] < 1e-4


def test_nan_maps_to_zero() -> None:
    assert t(type="maximize")([np.nan, 0.5]).tolist() == [0.0, 0.5]


def test_bad_transforms_are_named() -> None:
    with pytest.raises(ConfigError, match=re.escape("unknown transform 'sigmoidal'; known transforms: maximize")):
        t(type="sigmoidal", low=0, high=1)
    with pytest.raises(ConfigError, match=re.escape("transform 'sigmoid' needs parameter(s) ['high']")):
        t(type="sigmoid", low=0)
    with pytest.raises(ConfigError, match="has no parameter"):
        t(type="maximize", mid=3)
    with pytest.raises(ConfigError, match="needs low < high"):
        t(type="sigmoid", low=5, high=1)
    with pytest.raises(ConfigError, match="must be a number"):
        t(type="gaussian", mu="3", sigma=1)
    assert set(TRANSFORMS) >= {"sigmoid", "reverse_sigmoid", "double_sigmoid", "window", "step", "gaussian",
                               "linear", "maximize", "minimize"}


# -- aggregation -------------------------------------------------------------------------------------


def _two_components(aggregation: str) -> ScoringFunction:
    return ScoringFunction({
        "aggregation": aggregation,
        "components": [
            {"component": "heavy_atoms", "weight": 1, "transform": {"type": "linear", "low": 0, "high": 10}},
            {"component": "rings", "weight": 3, "transform": {"type": "step", "low": 0, "high": 0}},
        ],
    })


def test_geometric_versus_arithmetic_mean() -> None:
    # ethanol: 3 heavy atoms -> 0.3 (weight 1); acyclic -> 1.0 (weight 3)
    geo = _two_components("geometric")(["CCO"])[0]
    ari = _two_components("arithmetic")(["CCO"])[0]
    assert geo == pytest.approx(0.3**0.25)
    assert ari == pytest.approx((0.3 + 3 * 1.0) / 4)
    # benzene: one ring -> 0; geometric is 0, arithmetic keeps the other component
    assert _two_components("geometric")(["c1ccccc1"])[0] == 0.0
    assert _two_components("arithmetic")(["c1ccccc1"])[0] == pytest.approx(0.6 / 4)


def test_invalid_smiles_score_zero_and_values_are_real() -> None:
    f = ScoringFunction({"components": [{"component": "qed", "transform": {"type": "maximize"}}]})
    scores = f(["CCO", "C1CC", "", "not smiles", ASPIRIN])
    assert scores.shape == (5,) and scores[1:4].tolist() == [0.0, 0.0, 0.0]
    assert scores[0] == pytest.approx(QED.qed(Chem.MolFromSmiles("CCO")))
    assert scores[4] == pytest.approx(QED.qed(Chem.MolFromSmiles(ASPIRIN)))
    with pytest.raises(ConfigError, match="not one string"):
        f("CCO")


def test_hard_filters_zero_the_score_and_are_reported() -> None:
    f = ScoringFunction({
        "components": [{"component": "qed", "transform": {"type": "maximize"}}],
        "filters": {"catalogs": ["PAINS"], "smarts": {"acyl_halide": "C(=O)[Cl,Br,I]"}, "lipinski": 0},
    })
    table = f.score_table([RHODANINE, "CC(=O)Cl", "CCO", "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", "xx"])
    assert table["score"].tolist()[:2] == [0.0, 0.0]
    assert table.loc[0, "filter_hits"] == "PAINS_A: ene_rhod_A(235)"
    assert table.loc[1, "filter_hits"] == "SMARTS: acyl_halide"
    assert table.loc[2, "passes_filters"] and table.loc[2, "score"] > 0
    assert table.loc[3, "filter_hits"].startswith("Lipinski: 2 rule-of-five violations")
    assert not table.loc[4, "valid"] and not table.loc[4, "passes_filters"]
    assert table.loc[0, "qed"] > 0  # raw values are still reported for filtered molecules


def test_score_table_has_raw_and_transformed_columns() -> None:
    f = ScoringFunction.from_config(example_config("druglike"))
    table = f.score_table(["CCO", ASPIRIN])
    assert list(table.columns) == ["smiles", "valid", "qed", "qed_score", "sa", "sa_score", "tpsa", "tpsa_score",
                                   "filter_hits", "passes_filters", "score"]
    np.testing.assert_allclose(table["score"], f(["CCO", ASPIRIN]))
    assert table.loc[1, "tpsa"] == pytest.approx(63.6)
    assert table.loc[1, "filter_hits"] == "Brenk: phenol_ester" and table.loc[1, "score"] == 0.0


def test_every_component_computes() -> None:
    f = ScoringFunction({"aggregation": "arithmetic", "components": [
        {"component": c, "transform": {"type": "maximize", "low": 0, "high": 1000}}
        for c in COMPONENTS if c not in ("similarity", "substructure", "alerts", "qsar")
    ] + [
        {"component": "similarity", "smiles": [ASPIRIN, "CCO"], "aggregate": "mean", "transform": {"type": "maximize"}},
        {"component": "substructure", "smarts": ["c1ccccc1", "C(=O)O"], "match": "all",
         "transform": {"type": "minimize"}},
        {"component": "alerts", "smarts": {"ester": "C(=O)O[#6]"}, "catalogs": ["PAINS"],
         "transform": {"type": "minimize", "high": 3}},
    ]})
    table = f.score_table([ASPIRIN])
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    t_ethanol = DataStructs.TanimotoSimilarity(gen.GetFingerprint(Chem.MolFromSmiles(ASPIRIN)),
                                               gen.GetFingerprint(Chem.MolFromSmiles("CCO")))
    assert table.loc[0, "similarity"] == pytest.approx((1.0 + t_ethanol) / 2)
    assert table.loc[0, "substructure"] == 1.0 and table.loc[0, "substructure_score"] == 0.0
    assert table.loc[0, "alerts"] == 1.0
    assert table.loc[0, "rings"] == 1 and table.loc[0, "aromatic_rings"] == 1 and table.loc[0, "heavy_atoms"] == 13
    assert table.loc[0, "hbd"] == 1 and table.loc[0, "hba"] == 3 and table.loc[0, "rotatable_bonds"] == 2
    assert table.loc[0, "mw"] == pytest.approx(180.159, abs=1e-3)
    assert lipinski_violations(Chem.MolFromSmiles(ASPIRIN)) == 0 and veber_passes(Chem.MolFromSmiles(ASPIRIN)) == 1


def test_similarity_max_to_itself_is_one() -> None:
    f = ScoringFunction({"components": [
        {"component": "similarity", "smiles": ASPIRIN, "radius": 3, "n_bits": 1024, "transform": {"type": "maximize"}}
    ]})
    assert f([ASPIRIN])[0] == 1.0 and f(["CCCC"])[0] < 0.2


# -- configuration errors name the component ---------------------------------------------------------


def _cfg(**component) -> dict:
    return {"components": [{"component": "qed", "transform": {"type": "maximize"}}, component]}


def test_unknown_component_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=re.escape("component 'foo': unknown component 'foo'; known components: qed, sa")):
        ScoringFunction(_cfg(component="foo", transform={"type": "maximize"}))


def test_bad_smarts_names_component_and_pattern() -> None:
    with pytest.raises(ConfigError, match=re.escape("component 'amide': RDKit cannot parse the SMARTS 'C(=O)N((';")):
        ScoringFunction(_cfg(component="substructure", name="amide", smarts="C(=O)N((", transform={"type": "maximize"}))
    with pytest.raises(ConfigError, match=re.escape("filters.smarts pattern 'bad'")):
        ScoringFunction({"components": [{"component": "qed", "transform": {"type": "maximize"}}],
                         "filters": {"smarts": {"bad": "[C"}}})


@pytest.mark.parametrize("weight", [0, -1.5, "1", True])
def test_non_positive_weight_is_refused(weight) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"component 'sa': weight must be a positive number; got {weight!r}")):
        ScoringFunction(_cfg(component="sa", weight=weight, transform={"type": "minimize", "low": 1, "high": 10}))


def test_unknown_transform_names_component_and_transform() -> None:
    with pytest.raises(ConfigError, match=re.escape("component 'logp': unknown transform 'up'")):
        ScoringFunction(_cfg(component="logp", transform={"type": "up"}))


def test_missing_transform_unknown_keys_and_duplicates() -> None:
    with pytest.raises(ConfigError, match=re.escape("component 'tpsa': states no transform")):
        ScoringFunction(_cfg(component="tpsa"))
    with pytest.raises(ConfigError, match=re.escape("component 'tpsa': unknown key(s) ['smarts']")):
        ScoringFunction(_cfg(component="tpsa", smarts="C", transform={"type": "maximize"}))
    with pytest.raises(ConfigError, match="used twice"):
        ScoringFunction(_cfg(component="qed", transform={"type": "maximize"}))
    with pytest.raises(ConfigError, match="unknown aggregation 'median'"):
        ScoringFunction({**_cfg(component="sa", transform={"type": "maximize"}), "aggregation": "median"})
    with pytest.raises(ConfigError, match=re.escape("unknown key(s) ['component']")):
        ScoringFunction({"component": []})
    with pytest.raises(ConfigError, match="unknown filter 'PANS'"):
        ScoringFunction({**_cfg(component="sa", transform={"type": "maximize"}), "filters": {"catalogs": ["PANS"]}})
    with pytest.raises(ConfigError, match="reference SMILES 'C1CC' does not parse"):
        ScoringFunction(_cfg(component="similarity", smiles=["C1CC"], transform={"type": "maximize"}))


# -- configuration files ----------------------------------------------------------------------------


def test_toml_and_json_configs_give_the_same_scores(tmp_path: Path) -> None:
    data = load_config(example_config("druglike"))
    json_path = tmp_path / "druglike.json"
    json_path.write_text(json.dumps(data), encoding="utf-8")
    smiles = ["CCO", ASPIRIN, RHODANINE, "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "O=C(O)c1ccccc1", "bad"]
    from_toml = ScoringFunction.from_config(example_config("druglike"))(smiles)
    from_json = ScoringFunction.from_config(json_path)(smiles)
    from_dict = ScoringFunction.from_config(data)(smiles)
    np.testing.assert_array_equal(from_toml, from_json)
    np.testing.assert_array_equal(from_toml, from_dict)
    assert from_toml[3] > 0.5 and from_toml[2] == 0.0 and from_toml[5] == 0.0


def test_example_configs_load_and_score() -> None:
    f = ScoringFunction.from_config(example_config("celecoxib"))
    celecoxib = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
    scores = f([celecoxib, "CCO"])
    assert scores[0] > 0.9 > scores[1]
    with pytest.raises(ConfigError, match="unknown example config"):
        example_config("nope")


def test_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("components = [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="does not parse"):
        load_config(bad)
    other = tmp_path / "cfg.yaml"
    other.write_text("a: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="use a .toml or .json file"):
        load_config(other)
