"""ChemicalLM training: learning-rate schedules, early stopping, augmentation, exact resume from a checkpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from hygeia.errors import ConfigError, DataValidationError  # noqa: E402
from hygeia.molecules._training import Schedule  # noqa: E402
from hygeia.molecules.data import moses_split  # noqa: E402
from hygeia.molecules.lm import ChemicalLM, default_prior  # noqa: E402

TINY = {"embedding_dim": 16, "hidden_dim": 32, "num_layers": 1, "batch_size": 32, "eval_every": 5, "learning_rate": 3e-3}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def molecules() -> list[str]:
    return moses_split("test")[:300]


def _same_weights(a: ChemicalLM, b: ChemicalLM) -> bool:
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("params", [
    {"representation": "smiles", "lr_schedule": "cosine", "warmup_steps": 3, "dropout": 0.1},
    {"representation": "selfies", "lr_schedule": "plateau", "lr_patience": 1, "patience": 4, "augment": True,
     "weights_dtype": "float16"},
], ids=["smiles-cosine-dropout", "selfies-plateau-augment-float16"])
def test_n_steps_then_resume_m_steps_equals_n_plus_m_straight(molecules: list[str], tmp_path: Path,
                                                               params: dict) -> None:
    config = {**TINY, **params, "max_steps": 25, "seed": 0}
    straight = ChemicalLM(**config).fit(molecules)

    def pause_at_10(model: ChemicalLM, point: dict) -> bool:
        if point["step"] == 10:
            model.save(tmp_path / "checkpoint")
            return True
        return False

    paused = ChemicalLM(**config).fit(molecules, callback=pause_at_10)
    assert paused.training_log_[-1]["stop_reason"] == "callback" and paused.training_log_[-1]["steps"] == 10
    assert not _same_weights(paused, straight)
    resumed = ChemicalLM.load(tmp_path / "checkpoint")
    # 285 training molecules: 9 batches an epoch, so step 10 is one batch into the second epoch
    assert resumed.training_state_.describe() == "run 0 (fit) at step 10 of 25, epoch 1, 1 batches into it"
    resumed.resume(molecules)
    assert _same_weights(resumed, straight)
    done, ref = resumed.training_log_[-1], straight.training_log_[-1]
    assert (done["steps"], done["molecules_seen"], done["stop_reason"]) == (25, ref["molecules_seen"], "completed")
    assert [h["val_loss"] for h in done["history"]] == [h["val_loss"] for h in ref["history"]]
    assert [h["lr"] for h in done["history"]] == [h["lr"] for h in ref["history"]]
    assert resumed.sample(5, seed=1) == straight.sample(5, seed=1)
    # saved after the callback stopped it (as train_prior.py --max-minutes does), resumed to the end
    assert paused.training_log_[-1]["stopped_early"] is True
    paused.save(tmp_path / "paused")
    again = ChemicalLM.load(tmp_path / "paused").resume(molecules)
    assert _same_weights(again, straight) and "stopped_early" not in again.training_log_[-1]


def test_cosine_warms_up_then_decays_and_plateau_halves(molecules: list[str]) -> None:
    lm = ChemicalLM(**{**TINY, "max_steps": 20, "seed": 1, "lr_schedule": "cosine", "warmup_steps": 5}).fit(molecules)
    lrs = [h["lr"] for h in lm.training_log_[-1]["history"]]
    assert lrs[0] == pytest.approx(3e-3) and lrs == sorted(lrs, reverse=True) and lrs[-1] < 1e-4
    plateau = Schedule("plateau", base_lr=1.0, factor=0.5, patience=2)
    for loss in (3.0, 2.0, 2.5, 2.1, 1.9, 1.95):  # one plateau (2.5, 2.1), then a new best
        plateau.observe(loss)
    assert plateau.lr(100) == 0.5 and plateau.best == 1.9


def test_early_stopping_restores_the_best_weights(molecules: list[str]) -> None:
    # a learning rate far too large: the validation loss soon stops improving
    lm = ChemicalLM(**{**TINY, "learning_rate": 0.5, "eval_every": 2, "max_steps": 200, "seed": 0, "patience": 2})
    lm.fit(molecules)
    record = lm.training_log_[-1]
    assert record["stop_reason"] == "patience" and record["steps"] < 200
    assert record["restored_best_weights_of_step"] == record["best_step"] < record["steps"]
    assert record["best_val_loss"] == min(h["val_loss"] for h in record["history"])
    assert lm.training_state_.finished


def test_resume_refuses_other_data_and_a_model_without_state(molecules: list[str], tmp_path: Path) -> None:
    lm = ChemicalLM(**{**TINY, "max_steps": 10, "seed": 0}).fit(molecules[:100], callback=lambda m, p: True)
    with pytest.raises(DataValidationError, match="resume needs the very molecules"):
        lm.resume(molecules[:99])
    # a model saved before the schedule and the training state existed loads with the defaults
    ChemicalLM(**{**TINY, "max_steps": 3, "seed": 0}).fit(molecules[:50]).clear_training_state().save(tmp_path / "old")
    spec = json.loads((tmp_path / "old" / "spec.json").read_text())
    for key in ("augment", "lr_factor", "lr_patience", "lr_schedule", "patience", "warmup_steps"):
        del spec["params"][key]
    (tmp_path / "old" / "spec.json").write_text(json.dumps(spec))
    old = ChemicalLM.load(tmp_path / "old")
    assert (old.lr_schedule, old.patience, old.augment) == ("constant", None, False)
    assert "training_state_" not in vars(old)
    with pytest.raises(ConfigError, match=re.escape("go on training with fine_tune(smiles)")):
        old.resume(molecules)
    lm.clear_training_state().save(tmp_path / "small")
    small = ChemicalLM.load(tmp_path / "small")
    assert "training_state_" not in vars(small)
    with pytest.raises(ConfigError, match=re.escape("go on training with fine_tune(smiles)")):
        small.resume(molecules[:100])
    # the shipped priors carry no training state (a smaller wheel)
    assert "training_state_" not in vars(default_prior()) and "training_state_" not in vars(default_prior("zinc250k"))
    finished = ChemicalLM(**{**TINY, "max_steps": 5, "seed": 0}).fit(molecules[:100])
    with pytest.raises(ConfigError, match="the run is finished"):
        finished.resume(molecules[:100])
    finished.resume(molecules[:100], max_steps=8)  # a longer limit goes on
    assert finished.training_log_[-1]["steps"] == 8 and finished.training_log_[-1]["extended"][0]["to_total"] == 8


def test_bad_training_parameters_are_named(molecules: list[str]) -> None:
    for params, words in [({"lr_schedule": "linear"}, "lr_schedule must be one of"),
                          ({"warmup_steps": -1}, "warmup_steps must be a non-negative integer"),
                          ({"patience": 0}, "patience must be a positive integer or None"),
                          ({"lr_factor": 1.5}, "lr_factor must be in (0, 1)"),
                          ({"augment": "yes"}, "augment must be True or False")]:
        with pytest.raises(ConfigError, match=re.escape(words)):
            ChemicalLM(max_steps=2, **params).fit(molecules[:20])
    with pytest.raises(ConfigError, match="need validation molecules"):
        ChemicalLM(**{**TINY, "max_steps": 2, "patience": 2, "validation_fraction": 0.0}).fit(molecules[:20])


def test_an_encoding_cache_is_read_back_for_the_same_molecules_only(molecules: list[str], tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from hygeia.molecules.tokenizers import get_tokenizer

    cache = tmp_path / "encoded.txt"
    config = {**TINY, "max_steps": 6, "seed": 0}
    first = ChemicalLM(**config).fit(molecules, cache=cache)
    lines = cache.read_text().splitlines()
    header = json.loads(lines[0])
    assert (header["representation"], header["molecules"], len(lines)) == ("selfies", 300, 301)
    # read back: nothing is encoded again, and training is the same as without the cache
    tokenizer = type(get_tokenizer("selfies"))

    def refuse(self, smiles):
        raise AssertionError("encoded again")

    monkeypatch.setattr(tokenizer, "from_smiles", refuse)
    again = ChemicalLM(**config).fit(molecules, cache=cache)
    assert _same_weights(first, again) and again.sample(5, seed=1) == first.sample(5, seed=1)
    monkeypatch.undo()
    # other molecules (one changed) are encoded afresh and the file rewritten for them
    ChemicalLM(**config).fit(molecules[:-1] + ["CCO"], cache=cache)
    assert json.loads(cache.read_text().splitlines()[0])["sha256"] != header["sha256"]
    assert cache.read_text().splitlines()[-1] == get_tokenizer("selfies").from_smiles("CCO")
