"""MOSES metrics and ChemNet/FCD, checked on planted answers, brute force and fcd_torch."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")
torch = pytest.importorskip("torch")

from rdkit import Chem, DataStructs  # noqa: E402
from rdkit.Chem import rdFingerprintGenerator  # noqa: E402

from hygeia.errors import DataValidationError  # noqa: E402
from hygeia.molecules import chemnet  # noqa: E402
from hygeia.molecules.data import moses_split  # noqa: E402
from hygeia.molecules.metrics import (  # noqa: E402
    PROPERTIES,
    ReferenceStats,
    TanimotoIndex,
    brics_fragments,
    cosine_similarity,
    filters_pass_rate,
    fraction_unique,
    fraction_valid,
    fragment_similarity,
    internal_diversity,
    morgan_fingerprints,
    moses_metrics,
    murcko_scaffold,
    novelty,
    property_distances,
    reference_stats,
    scaffold_similarity,
    snn,
)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def test_set() -> list[str]:
    return moses_split("test")[:400]


def _rdkit_tanimoto(a: list[str], b: list[str]) -> np.ndarray:
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    fa = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in a]
    fb = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in b]
    return np.array([DataStructs.BulkTanimotoSimilarity(x, fb) for x in fa])


# -- validity, uniqueness, novelty --------------------------------------------------------------------


def test_validity_counts_planted_invalid_smiles_exactly() -> None:
    valid = ["CCO", "c1ccccc1", "CC(=O)O", "N#N", "C1CCCCC1", "[NH4+]", "OC(=O)C(N)C"]
    invalid = ["", "C1CC", "xyz", "c1cccc1", "C(C", "CC)"]  # empty, open ring, junk, bad aromatic, parens
    mixed = valid[:3] + invalid[:3] + valid[3:] + invalid[3:]
    assert fraction_valid(mixed) == pytest.approx(7 / 13)
    assert fraction_valid(valid) == 1.0 and fraction_valid(invalid) == 0.0


def test_uniqueness_of_duplicates() -> None:
    smiles = ["CCO", "OCC", "C(O)C", "CCN", "bad", "c1ccccc1", "C1=CC=CC=C1"]
    assert fraction_unique(smiles) == pytest.approx(3 / 6)  # ethanol x3, ethylamine, benzene x2
    assert fraction_unique(smiles, k=3) == pytest.approx(1 / 3)
    assert fraction_unique(smiles, k=4) == pytest.approx(2 / 4)
    assert fraction_unique(["CCO"] * 10) == pytest.approx(0.1)


def test_novelty_zero_for_training_molecules_and_one_for_disjoint(test_set) -> None:
    train = test_set[:200]
    assert novelty(train[:50], train) == 0.0
    assert novelty(test_set[200:260], train) == 1.0
    # non-canonical spellings of training molecules are not novel
    assert novelty(["OCC", "C(C)O"], ["CCO"]) == 0.0
    assert novelty(["CCO", "CCN", "CCN", "CCC"], ["CCO"]) == pytest.approx(2 / 3)


# -- Tanimoto-based metrics ---------------------------------------------------------------------------


def test_tanimoto_index_matches_rdkit(test_set) -> None:
    a, b = test_set[:30], test_set[100:180]
    brute = _rdkit_tanimoto(a, b)
    idx = TanimotoIndex(morgan_fingerprints(b))
    fa = morgan_fingerprints(a)
    np.testing.assert_allclose(np.stack([idx.similarities(q) for q in fa]), brute, rtol=1e-6)
    np.testing.assert_allclose(idx.max_similarity(fa), brute.max(1), rtol=1e-6)
    np.testing.assert_allclose(idx.mean_power(fa, 2), (brute**2).mean(1), rtol=1e-6)
    np.testing.assert_allclose(idx.mean_power(fa, (1, 2)), np.column_stack([brute.mean(1), (brute**2).mean(1)]),
                               rtol=1e-6)
    nearest = idx.nearest(fa, 3)
    for i in range(len(a)):
        assert sorted(brute[i, nearest[i]]) == pytest.approx(sorted(np.sort(brute[i])[-3:]))


def test_snn_and_intdiv_follow_their_definitions(test_set) -> None:
    gen, ref = test_set[:40], test_set[200:300]
    assert snn(gen, ref) == pytest.approx(_rdkit_tanimoto(gen, ref).max(1).mean(), rel=1e-6)
    assert snn(gen, gen) == pytest.approx(1.0)
    t = _rdkit_tanimoto(gen, gen)
    assert internal_diversity(gen) == pytest.approx(1 - t.mean(), rel=1e-6)
    # MOSES: the root per molecule (row), then the mean -- not the power mean over all pairs
    assert internal_diversity(gen, p=2) == pytest.approx(1 - np.sqrt((t**2).mean(1)).mean(), rel=1e-6)
    assert internal_diversity(gen, p=2) != pytest.approx(1 - math.sqrt((t**2).mean()), rel=1e-6)


def test_intdiv2_takes_the_root_per_molecule_as_moses_does() -> None:
    # similarity rows: [1, 1, 0], [1, 1, 0], [0, 0, 1]
    fps = np.array([[1, 0], [1, 0], [0, 1]], bool)
    assert internal_diversity(fps, p=2) == pytest.approx(1 - (2 * math.sqrt(2 / 3) + math.sqrt(1 / 3)) / 3)
    assert internal_diversity(fps) == pytest.approx(1 - 5 / 9)
    # two empty fingerprints count as identical (MOSES sets 0/0 to 1)
    assert internal_diversity(np.zeros((3, 4), bool), p=2) == 0.0


def test_intdiv_of_identical_molecules_is_zero() -> None:
    assert internal_diversity(["CC(=O)Oc1ccccc1C(=O)O"] * 25) == 0.0
    assert internal_diversity(["CCO", "OCC"], p=2) == 0.0
    # no shared bits: the 2 x 2 similarity matrix is the identity, mean 0.5
    assert internal_diversity(["CCO", "c1ccccc1"]) == pytest.approx(0.5)


# -- fragments, scaffolds, filters, properties --------------------------------------------------------


def test_fragments_and_scaffolds() -> None:
    aspirin = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    assert sorted(brics_fragments(aspirin)) == ["[1*]C(C)=O", "[16*]c1ccccc1[16*]", "[3*]O[3*]", "[6*]C(=O)O"]
    assert murcko_scaffold(aspirin) == "c1ccccc1"
    assert murcko_scaffold(aspirin, min_rings=2) is None  # Scaf counts scaffolds of two rings or more
    assert murcko_scaffold(Chem.MolFromSmiles("CCc1ccc2ccccc2c1"), min_rings=2) == "c1ccc2ccccc2c1"
    assert murcko_scaffold(Chem.MolFromSmiles("CCCCO")) is None
    assert cosine_similarity({"a": 1, "b": 1}, {"a": 2, "b": 2}) == pytest.approx(1.0)
    assert cosine_similarity({"a": 1}, {"b": 1}) == 0.0
    assert cosine_similarity({}, {"b": 1}) == 0.0


def test_frag_and_scaf_of_a_set_with_itself_are_one(test_set) -> None:
    assert fragment_similarity(test_set[:60], test_set[:60]) == pytest.approx(1.0)
    assert scaffold_similarity(test_set[:60], test_set[:60]) == pytest.approx(1.0)
    assert scaffold_similarity(["Cc1ccc2ccccc2c1"], ["CC1CCC2CCCCC2C1"]) == 0.0
    assert scaffold_similarity(["Cc1ccc2ccccc2c1", "c1ccccc1"], ["c1ccc2ccccc2c1CCO"]) == pytest.approx(1.0)
    assert 0 < fragment_similarity(test_set[:60], test_set[200:260]) < 1


def test_filters_share() -> None:
    smiles = ["CCO", "c1ccccc1CC(=O)N", "CC[NH3+]", "O=C1C(=Cc2ccccc2)SC(=S)N1", "bad"]
    assert filters_pass_rate(smiles) == pytest.approx(2 / 4)


def test_property_distances_vanish_for_the_same_set(test_set) -> None:
    d = property_distances(test_set[:30], test_set[:30])
    assert list(d) == list(PROPERTIES) and all(v == pytest.approx(0.0, abs=1e-12) for v in d.values())
    assert property_distances(test_set[:30], test_set[300:330])["weight"] > 0


# -- ChemNet and FCD ------------------------------------------------------------------------------------


def test_chemnet_tokenisation() -> None:
    assert chemnet.chemnet_symbols("ClC(Br)[Si](C)(C)C") == ["Cl", "C", "(", "Br", ")", "[", "Si", "]", "(", "C", ")",
                                                              "(", "C", ")", "C"]
    assert chemnet.chemnet_symbols("CC.O") == ["C", "C"]
    x = chemnet.chemnet_onehot(["C" * 400, "CZ"], canonical=False)
    assert x.shape == (2, 350, 35)
    assert x[0, 349, chemnet.CHEMNET_ALPHABET.index(".")] == pytest.approx(1 / 35)
    assert x[1, 1, chemnet.CHEMNET_ALPHABET.index("X")] == pytest.approx(1 / 35)
    assert x[1, 2:].sum() == pytest.approx(1 / 35) and x[1, 3:].sum() == 0


def test_activations_and_fcd_match_fcd_torch(test_set) -> None:
    fcd_torch = pytest.importorskip("fcd_torch")
    gen, ref = test_set[:40] + ["C[Si](C)(C)Cl", "[Li]CC", "Brc1ccccc1I"], test_set[200:240]
    with warnings.catch_warnings():  # fcd_torch itself uses functions NumPy deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs = fcd_torch.FCD(device="cpu", n_jobs=1, batch_size=64)
        act_theirs = theirs.get_predictions(gen)
        fcd_theirs = theirs(gen, ref)
    act_mine = chemnet.chemnet_activations(gen, batch_size=64)
    np.testing.assert_allclose(act_mine, act_theirs, atol=1e-5)
    assert chemnet.fcd(gen, ref) == pytest.approx(fcd_theirs, abs=1e-3)


def test_fcd_of_a_set_with_itself_is_zero(test_set) -> None:
    stats = chemnet.fcd_stats(test_set[:30])
    assert chemnet.frechet_distance(stats.mu, stats.sigma, stats.mu, stats.sigma) == pytest.approx(0.0, abs=1e-3)
    assert chemnet.fcd(test_set[:30], test_set[:30]) == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(DataValidationError, match="at least two"):
        chemnet.fcd_stats(["CCO"])
    with pytest.raises(DataValidationError, match="invalid SMILES 'C1CC'"):
        chemnet.chemnet_activations(["CCO", "C1CC"])


def test_frechet_distance_of_known_gaussians() -> None:
    s1, s2 = np.diag([1.0, 4.0]), np.diag([4.0, 1.0])
    # ||mu||^2 + tr(s1) + tr(s2) - 2 tr((s1 s2)^(1/2)) = 1 + 5 + 5 - 2 * (2 + 2)
    assert chemnet.frechet_distance(np.zeros(2), s1, np.array([1.0, 0.0]), s2) == pytest.approx(3.0)


def test_shipped_moses_fcd_statistics_are_plain_arrays() -> None:
    from hygeia.molecules.metrics import moses_fcd_path

    for split, n in (("test", 176_074), ("test_scaffolds", 176_225)):
        stats = chemnet.FCDStats.load(moses_fcd_path(split))  # allow_pickle=False inside
        assert stats.mu.shape == (512,) and stats.sigma.shape == (512, 512) and stats.n == n
        assert np.allclose(stats.sigma, stats.sigma.T, atol=1e-6)


# -- all together ------------------------------------------------------------------------------------------


def test_moses_metrics_against_explicit_references(test_set, tmp_path: Path) -> None:
    generated = test_set[:40] + test_set[:10] + ["bad", "C1CC"] + ["CC[NH3+]"]
    train = test_set[:20] + ["CCO"]
    ref = test_set[200:300]
    out = moses_metrics(generated, train=train, test=ref, test_scaffolds=test_set[300:360], ks=(10, 100),
                        properties=True)
    assert list(out) == ["valid", "unique@10", "unique@100", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test",
                         "FCD/TestSF", "SNN/TestSF", "Frag/TestSF", "Scaf/TestSF", "IntDiv", "IntDiv2", "Filters",
                         "Novelty", *PROPERTIES]
    assert out["valid"] == pytest.approx(51 / 53)
    assert out["unique@10"] == 1.0 and out["unique@100"] == pytest.approx(41 / 51)
    assert out["Novelty"] == pytest.approx(21 / 41)  # 20 of the 41 distinct are training molecules
    assert out["Filters"] == pytest.approx(50 / 51)
    valid = test_set[:40] + test_set[:10] + ["CC[NH3+]"]
    assert out["SNN/Test"] == pytest.approx(snn(valid, ref))
    assert out["IntDiv"] == pytest.approx(internal_diversity(valid))
    assert out["IntDiv2"] == pytest.approx(internal_diversity(valid, p=2))
    assert out["Frag/Test"] == pytest.approx(fragment_similarity(valid, ref))
    assert out["Scaf/TestSF"] == pytest.approx(scaffold_similarity(valid, test_set[300:360]))
    assert out["FCD/Test"] == pytest.approx(chemnet.fcd(valid, ref), rel=1e-6)
    # precomputed reference statistics give the same numbers, after a save/load round trip
    stats = reference_stats(ref, properties=True)
    stats.save(tmp_path / "ref")
    again = moses_metrics(generated, train=False, test=ReferenceStats.load(tmp_path / "ref"), test_scaffolds=False,
                          ks=(10,), properties=True)
    assert "Novelty" not in again and "SNN/TestSF" not in again
    for key in ("FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test", *PROPERTIES):
        assert again[key] == pytest.approx(out[key], rel=1e-5), key


def test_moses_metrics_needs_valid_molecules() -> None:
    with pytest.raises(DataValidationError, match=re.escape("needs at least two valid molecules")):
        moses_metrics(["bad", "CCO"], train=False, test=False, test_scaffolds=False)
    with pytest.raises(DataValidationError, match="non-empty list"):
        moses_metrics([], train=False, test=False, test_scaffolds=False)


def test_moses_defaults_use_shipped_statistics_and_cache_fingerprints(
    test_set, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hygeia.molecules import data, metrics

    # small stand-ins for the MOSES splits: fingerprints are computed from them and cached;
    # ChemNet statistics and fragment/scaffold counts come from the files shipped for the full sets
    small = {"train": test_set[:30], "test": test_set[100:160], "test_scaffolds": test_set[200:260]}
    monkeypatch.setattr(data, "moses_split", lambda name: small[name])
    generated = test_set[:40]
    out = moses_metrics(generated, cache_dir=tmp_path, fcd=True)
    assert out["Novelty"] == pytest.approx(10 / 40)
    assert (tmp_path / "molecules" / "moses-test" / "counts.json.gz").is_file()
    shipped = chemnet.FCDStats.load(metrics.moses_fcd_path("test"))
    mine = chemnet.fcd_stats(generated)
    assert out["FCD/Test"] == pytest.approx(chemnet.frechet_distance(mine.mu, mine.sigma, shipped.mu, shipped.sigma))
    assert out["SNN/Test"] == pytest.approx(snn(generated, small["test"]))
    counts = metrics._read_counts(metrics.moses_counts_path("test_scaffolds"))
    assert counts["n"] == 176_225 and counts["scaffold_min_rings"] == 2
    gen_scaf = metrics._counts([metrics._describe(generated, {"scaffolds"}).scaffolds])
    assert out["Scaf/TestSF"] == pytest.approx(cosine_similarity(gen_scaf, counts["scaffolds"]))
    shipped_sf = chemnet.FCDStats.load(metrics.moses_fcd_path("test_scaffolds"))
    assert out["FCD/TestSF"] == pytest.approx(
        chemnet.frechet_distance(mine.mu, mine.sigma, shipped_sf.mu, shipped_sf.sigma))
    # the second call reads the cache: describing the reference again would fail here
    real_describe = metrics._describe
    monkeypatch.setattr(metrics, "_describe", lambda smiles, parts, workers=1: (
        pytest.fail("cache not used") if smiles in small.values() else real_describe(smiles, parts, workers)))
    again = moses_metrics(generated, cache_dir=tmp_path, fcd=False)
    assert again["SNN/Test"] == out["SNN/Test"] and "FCD/Test" not in again
    monkeypatch.setattr(metrics, "_describe", real_describe)
    # properties missing from the cache are added to it
    with_props = metrics.moses_reference("test", cache_dir=tmp_path, properties=True)
    assert with_props.properties is not None and len(with_props.properties["QED"]) == 60
    assert metrics.ReferenceStats.load(tmp_path / "molecules" / "moses-test").properties is not None


@pytest.mark.slow
def test_worker_processes_give_the_same_description(test_set, monkeypatch: pytest.MonkeyPatch) -> None:
    from hygeia.molecules import metrics

    monkeypatch.setattr(metrics, "_MIN_PARALLEL", 10)
    smiles = test_set[:300] + ["bad"]
    one = metrics._describe(smiles, {"fps", "fragments", "scaffolds", "filters"}, workers=1)
    two = metrics._describe(smiles, {"fps", "fragments", "scaffolds", "filters"}, workers=2)
    assert one.canonical == two.canonical and one.canonical[-1] is None
    np.testing.assert_array_equal(one.fps, two.fps)
    assert one.fragments == two.fragments and one.scaffolds == two.scaffolds and one.passes == two.passes
