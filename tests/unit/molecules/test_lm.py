"""The chemical language model: training, sampling, the torch-level API for RL, persistence, the prior."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from hygeia.core.generator import NotFittedError, load_generator, read_spec  # noqa: E402
from hygeia.errors import ConfigError, DataValidationError  # noqa: E402
from hygeia.molecules.data import canonical, moses_split  # noqa: E402
from hygeia.molecules.lm import PRIOR_DIR, PRIORS, ChemicalLM, default_prior  # noqa: E402
from hygeia.molecules.tokenizers import TokenizationError  # noqa: E402

TINY = {"embedding_dim": 16, "hidden_dim": 32, "num_layers": 1, "batch_size": 32, "eval_every": 20, "learning_rate": 3e-3}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def molecules() -> list[str]:
    return moses_split("test")[:500]


@pytest.fixture(scope="module")
def tiny_smiles(molecules: list[str]) -> ChemicalLM:
    torch.set_num_threads(1)
    return ChemicalLM(representation="smiles", max_steps=60, seed=0, **TINY).fit(molecules)


@pytest.fixture(scope="module")
def tiny_selfies(molecules: list[str]) -> ChemicalLM:
    torch.set_num_threads(1)
    return ChemicalLM(representation="selfies", max_steps=40, seed=0, **TINY).fit(molecules[:200])


def test_training_loss_drops(tiny_smiles: ChemicalLM) -> None:
    (record,) = tiny_smiles.training_log_
    history = record["history"]
    assert [h["steps"] for h in history] == [20, 40, 60]
    # 475 training molecules: 15 batches (14 of 32, one of 27) per epoch, so 60 steps are 4 epochs
    assert record["steps"] == 60 and record["molecules_seen"] == 4 * 475
    assert record["validation_molecules"] == 25
    assert history[-1]["train_loss"] < 0.75 * history[0]["train_loss"]
    assert history[-1]["val_loss"] < 0.8 * history[0]["val_loss"]
    # an untrained network predicts ~uniformly: loss ≈ log(vocabulary size)
    assert history[0]["train_loss"] < np.log(len(tiny_smiles.vocabulary_)) + 0.5


def test_sampling_is_deterministic_with_a_seed(tiny_smiles: ChemicalLM) -> None:
    a = tiny_smiles.sample(20, seed=5)
    assert a == tiny_smiles.sample(20, seed=5)
    assert a != tiny_smiles.sample(20, seed=6)
    assert len(a) == 20 and all(isinstance(s, str) for s in a)


def test_fit_is_deterministic_under_a_seed(molecules: list[str]) -> None:
    params = dict(representation="smiles", max_steps=8, seed=3, **TINY)
    a = ChemicalLM(**params).fit(molecules[:100])
    b = ChemicalLM(**params).fit(molecules[:100])
    for (ka, va), (kb, vb) in zip(a.module_.state_dict().items(), b.module_.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert a.sample(10, seed=1) == b.sample(10, seed=1)
    c = ChemicalLM(**dict(params, seed=4)).fit(molecules[:100])
    assert not torch.equal(a.module_.head.weight, c.module_.head.weight)


def test_save_load_round_trip_gives_identical_samples(tiny_smiles: ChemicalLM, tmp_path: Path) -> None:
    folder = tiny_smiles.save(tmp_path / "lm")
    spec = read_spec(folder)
    assert spec["generator"] == "molecules.lm"
    assert spec["state"]["vocabulary"][:3] == ["<pad>", "<bos>", "<eos>"]
    assert spec["state"]["training"][0]["steps"] == 60
    loaded = load_generator(folder)
    assert isinstance(loaded, ChemicalLM) and loaded.vocabulary_ == tiny_smiles.vocabulary_
    assert loaded.sample(30, seed=2) == tiny_smiles.sample(30, seed=2)


def test_float16_weights_still_load(tiny_smiles: ChemicalLM, tmp_path: Path) -> None:
    half = tiny_smiles.clone()
    half.weights_dtype = "float16"
    folder = half.save(tmp_path / "half")
    with np.load(folder / "arrays.npz") as npz:
        weights = [k for k in npz.files if k.startswith("module.")]
        assert weights and all(npz[k].dtype == np.float16 for k in weights)  # the training state keeps float32
    loaded = ChemicalLM.load(folder)
    assert loaded.module_.head.weight.dtype == torch.float32
    assert len(loaded.sample(5, seed=0)) == 5


def test_sample_tokens_and_log_likelihood_agree(tiny_smiles: ChemicalLM) -> None:
    gen = torch.Generator().manual_seed(0)
    tokens, ll = tiny_smiles.sample_tokens(16, generator=gen)
    assert tokens.dtype == torch.long and tokens.shape[0] == 16 and ll.shape == (16,)
    assert ll.requires_grad and bool((ll < 0).all())
    again = tiny_smiles.log_likelihood(tokens)
    assert torch.allclose(ll, again, atol=1e-4)
    # <pad> only after <eos>; no <bos> sampled
    eos, pad = 2, 0
    for row in tokens.tolist():
        if eos in row:
            k = row.index(eos)
            assert all(t == pad for t in row[k + 1:]) and pad not in row[:k]
        assert 1 not in row
    # gradients reach every weight (what REINVENT-style RL needs)
    again.sum().backward()
    assert all(p.grad is not None for p in tiny_smiles.module_.parameters())
    tiny_smiles.module_.zero_grad(set_to_none=True)
    # the same generator seed gives the same tokens
    same, _ = tiny_smiles.sample_tokens(16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(tokens, same)


def test_encode_decode_and_likelihood_of_known_molecules(tiny_smiles: ChemicalLM, molecules: list[str]) -> None:
    tokens = tiny_smiles.encode(molecules[:5])
    assert tiny_smiles.decode(tokens) == molecules[:5]
    ll = tiny_smiles.log_likelihood(tokens)
    assert bool(torch.isfinite(ll).all()) and bool((ll < 0).all())
    # more padding changes nothing
    padded = torch.nn.functional.pad(tokens, (0, 4))
    assert torch.allclose(tiny_smiles.log_likelihood(padded), ll, atol=1e-5)


def test_clone_is_independent(tiny_smiles: ChemicalLM) -> None:
    twin = tiny_smiles.clone()
    assert twin.vocabulary_ == tiny_smiles.vocabulary_
    assert twin.sample(10, seed=1) == tiny_smiles.sample(10, seed=1)
    with torch.no_grad():
        twin.module_.head.bias.add_(1.0)
    assert not torch.equal(twin.module_.head.bias, tiny_smiles.module_.head.bias)


def test_selfies_model_samples_valid_molecules(tiny_selfies: ChemicalLM) -> None:
    samples = tiny_selfies.sample(50, seed=0)
    valid = [s for s in samples if canonical(s) is not None]
    # SELFIES decode to valid molecules; only an empty sequence is not one
    assert len(valid) == sum(1 for s in samples if s)
    assert all(canonical(s) == s for s in valid)  # written as canonical SMILES


def test_fine_tune_keeps_the_vocabulary_and_moves_the_weights(molecules: list[str]) -> None:
    lm = ChemicalLM(representation="smiles", max_steps=5, seed=0, **TINY).fit(molecules[:100])
    vocab = list(lm.vocabulary_.tokens)
    before = lm.module_.head.weight.detach().clone()
    lm.fine_tune(["CCOc1ccccc1", "CCN(CC)CC"] * 10, steps=3, learning_rate=1e-2)
    assert lm.vocabulary_.tokens == vocab
    assert not torch.equal(before, lm.module_.head.weight)
    assert [r["kind"] for r in lm.training_log_] == ["fit", "fine_tune"]
    assert lm.training_log_[-1]["steps"] == 3 and lm.training_log_[-1]["learning_rate"] == 1e-2


def test_fine_tune_with_unknown_tokens_names_the_molecule(tiny_smiles: ChemicalLM) -> None:
    lm = tiny_smiles.clone()
    with pytest.raises(TokenizationError, match=re.escape("'CC[Si](C)(C)C' contains the token(s) ['[Si]']")):
        lm.fine_tune(["CCO", "CC[Si](C)(C)C"], steps=1)


def test_invalid_training_molecules_are_all_listed() -> None:
    with pytest.raises(DataValidationError) as info:
        ChemicalLM(max_steps=1, **TINY).fit(["CCO", "C1CC", "CCN", "XYZ", 5])
    msg = str(info.value)
    assert "3 of 5 molecules cannot be used" in msg
    assert "molecule 1: 'C1CC' is not a valid SMILES" in msg and "molecule 3: 'XYZ'" in msg
    assert "molecule 4: 5 is not a SMILES string" in msg
    with pytest.raises(DataValidationError, match="at least one"):
        ChemicalLM(max_steps=1, **TINY).fit([])
    with pytest.raises(DataValidationError, match="list of SMILES"):
        ChemicalLM(max_steps=1, **TINY).fit("CCO")


def test_bad_parameters_are_refused() -> None:
    for params, text in [
        ({"cell": "transformer"}, "cell must be 'gru' or 'lstm'; got 'transformer'"),
        ({"hidden_dim": 0}, "hidden_dim must be a positive integer; got 0"),
        ({"dropout": 1.5}, "dropout must be in [0, 1); got 1.5"),
        ({"epochs": None, "max_steps": None}, "give epochs or max_steps"),
        ({"device": "tpu"}, "device must be"),
        ({"representation": "inchi"}, "unknown molecule representation 'inchi'"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(text)):
            ChemicalLM(**params).fit(["CCO"])


def test_not_fitted_and_bad_arguments(tiny_smiles: ChemicalLM) -> None:
    with pytest.raises(NotFittedError):
        ChemicalLM().sample(2)
    with pytest.raises(NotFittedError):
        ChemicalLM().sample_tokens(2)
    with pytest.raises(ConfigError, match="temperature must be a positive number; got 0"):
        tiny_smiles.sample(2, temperature=0)
    with pytest.raises(ConfigError, match="tokens must be a 2-D tensor"):
        tiny_smiles.log_likelihood(torch.tensor([1, 2, 3]))


def test_temperature_changes_the_samples(tiny_smiles: ChemicalLM) -> None:
    cold = tiny_smiles.sample(100, seed=0, temperature=0.2)
    hot = tiny_smiles.sample(100, seed=0, temperature=1.0)
    assert len(set(cold)) < len(set(hot))


def test_callback_sees_progress_and_can_stop(molecules: list[str]) -> None:
    seen: list[dict] = []

    def callback(model: ChemicalLM, point: dict) -> bool:
        seen.append(point)
        return point["step"] >= 10

    lm = ChemicalLM(representation="smiles", max_steps=1000, seed=0, **dict(TINY, eval_every=5))
    lm.fit(molecules[:100], callback=callback)
    assert [p["step"] for p in seen] == [5, 10]
    assert lm.training_log_[-1]["stopped_early"] is True and lm.training_log_[-1]["steps"] == 10


def test_the_shipped_prior_samples_valid_molecules() -> None:
    assert (PRIOR_DIR / "spec.json").is_file(), f"the shipped prior is missing from {PRIOR_DIR}"
    prior = default_prior()
    assert prior.representation == "smiles"
    samples = prior.sample(200, seed=0)
    valid = [s for s in samples if canonical(s) is not None]
    assert len(valid) / len(samples) >= 0.9
    assert len(set(valid)) >= 0.9 * len(valid)
    assert default_prior() is not prior  # each call is a fresh copy


def test_the_shipped_zinc_prior_samples_heavier_molecules_than_the_moses_one() -> None:
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    def weights(model: ChemicalLM) -> list[float]:
        mols = [Chem.MolFromSmiles(s) for s in model.sample(300, seed=0)]
        return [Descriptors.MolWt(m) for m in mols if m is not None]

    assert set(PRIORS) == {"moses", "zinc250k"} and PRIORS["moses"] == PRIOR_DIR
    zinc, moses = weights(default_prior("zinc250k")), weights(default_prior("moses"))
    assert len(zinc) >= 0.85 * 300  # valid SMILES
    # ZINC-250k's molecules reach past MOSES's 250-350 Da window (PMO's targets weigh up to 500 Da)
    assert sum(w > 350 for w in zinc) / len(zinc) > 0.2 > sum(w > 350 for w in moses) / len(moses)
    assert default_prior("zinc250k").weights_digest() != default_prior().weights_digest()
    with pytest.raises(ConfigError, match="no shipped prior is called 'chembl'; the shipped priors are moses, zinc250k"):
        default_prior("chembl")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback on machines without a GPU")
def test_a_gpu_model_falls_back_to_the_cpu(tiny_smiles: ChemicalLM, tmp_path: Path) -> None:
    gpu = tiny_smiles.clone()
    gpu.device = "cuda"
    loaded = ChemicalLM.load(gpu.save(tmp_path / "gpu"))
    assert loaded.device == "cuda" and next(loaded.module_.parameters()).device.type == "cpu"
    assert loaded.sample(5, seed=0) == tiny_smiles.sample(5, seed=0)
