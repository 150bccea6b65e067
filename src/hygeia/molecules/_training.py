"""How :class:`~hygeia.molecules.lm.ChemicalLM` trains: schedule, early stopping, exact checkpoints.

One training *run* (a ``fit``, a ``fine_tune``) is a loop of Adam steps over
length-bucketed batches (:func:`length_buckets`), with

- a learning-rate schedule (:class:`Schedule`): ``"constant"``, ``"cosine"``
  (half a cosine from the base rate down to 0 over the run's steps) or
  ``"plateau"`` (the rate times ``lr_factor`` each time the validation loss has
  not improved for ``lr_patience`` measurements), each after a linear warm-up
  of ``warmup_steps``;
- early stopping: with ``patience``, the run stops once the validation loss has
  not improved for ``patience`` measurements, and the best weights are restored
  at its end;
- a snapshot of everything the run needs to go on (:class:`TrainingState`),
  refreshed at each validation measurement and at the end: the Adam moments,
  the schedule's and the early stop's counters, the step, the position in the
  data order (epoch, batches done in it, and the numpy generator's state at the
  epoch's start, from which that epoch's batches are drawn again), torch's
  random state and a digest of the data. It is saved with the model (plain JSON
  in ``spec.json``, arrays in ``arrays.npz``; never a pickle), so
  ``ChemicalLM.resume`` continues a stopped run exactly where it stopped: N
  steps, a save, a load and M more steps give the weights of N + M steps
  straight.

With ``augment=True`` each epoch trains on a fresh random SMILES of every
training molecule (RDKit's ``MolToRandomSmilesVect``, seeded per epoch and
molecule, so a resumed epoch sees the same strings; SELFIES are made from them);
validation molecules stay as given. A random form with a token outside the
vocabulary falls back to the given form (counted in the run's record).

Example:
    >>> s = Schedule("cosine", base_lr=1e-3, warmup_steps=10, total_steps=110)
    >>> [round(s.lr(i), 6) for i in (0, 9, 10, 60, 109)]
    [0.0001, 0.001, 0.001, 0.0005, 0.0]
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hygeia.core.progress import Progress
from hygeia.errors import ConfigError, DataValidationError

__all__ = ["SCHEDULES", "Schedule", "TrainingState", "length_buckets", "train"]

#: Learning-rate schedules a ChemicalLM accepts.
SCHEDULES = ("constant", "cosine", "plateau")
#: Version of the saved training state (bump when its layout changes).
_STATE_VERSION = 1
#: A validation loss must fall by more than this to count as an improvement.
_MIN_DELTA = 1e-6


class Schedule:
    """The learning rate at each step (see the module documentation).

    Args:
        kind: ``"constant"``, ``"cosine"`` or ``"plateau"``.
        base_lr: the rate after warm-up.
        warmup_steps: steps of linear warm-up (step ``i`` uses ``base_lr * (i + 1) / warmup_steps``).
        total_steps: the run's length (the cosine's horizon).
        factor: ``plateau``: what the rate is multiplied by on a plateau.
        patience: ``plateau``: measurements without improvement that make a plateau.
    """

    def __init__(self, kind: str, *, base_lr: float, warmup_steps: int = 0, total_steps: int = 1,
                 factor: float = 0.5, patience: int = 2) -> None:
        if kind not in SCHEDULES:
            raise ConfigError(f"lr_schedule must be one of {', '.join(SCHEDULES)}; got {kind!r}")
        self.kind = kind
        self.base_lr = float(base_lr)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = max(1, int(total_steps))
        self.factor = float(factor)
        self.patience = int(patience)
        self.scale = 1.0
        self.best: float | None = None
        self.bad = 0

    def lr(self, step: int) -> float:
        """The rate of the step with 0-based index ``step``."""
        if step < self.warmup_steps:
            return self.base_lr * (step + 1) / self.warmup_steps
        if self.kind == "cosine":
            span = max(1, self.total_steps - self.warmup_steps)
            progress = min(1.0, (step - self.warmup_steps) / span)
            return self.base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.base_lr * self.scale

    def observe(self, val_loss: float | None) -> None:
        """Take a validation measurement into account (``plateau`` lowers the rate on a plateau)."""
        if self.kind != "plateau" or val_loss is None:
            return
        if self.best is None or val_loss < self.best - _MIN_DELTA:
            self.best, self.bad = float(val_loss), 0
            return
        self.bad += 1
        if self.bad >= self.patience:
            self.scale *= self.factor
            self.bad = 0

    def state(self) -> dict[str, Any]:
        return {"scale": self.scale, "best": self.best, "bad": self.bad, "total_steps": self.total_steps}

    def load(self, state: dict[str, Any]) -> None:
        self.scale = float(state["scale"])
        self.best = None if state["best"] is None else float(state["best"])
        self.bad = int(state["bad"])


@dataclass
class TrainingState:
    """What a run needs to go on: plain-JSON ``info`` and named numpy ``arrays`` (see the module docs)."""

    info: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether the run reached its end (its last step, or an early stop on patience)."""
        return bool(self.info.get("finished"))

    def describe(self) -> str:
        i = self.info
        return (f"run {i['run']} ({i['kind']}) at step {i['step']:,} of {i['total']:,}, epoch {i['epoch']}, "
                f"{i['offset']} batches into it")

    @classmethod
    def from_saved(cls, info: Any, arrays: dict[str, np.ndarray]) -> "TrainingState":
        """Check and rebuild a state read from a model folder."""
        needed = ("version", "run", "kind", "total", "step", "epoch", "offset", "epoch_rng", "schedule", "early",
                  "data")
        missing = [k for k in needed if not isinstance(info, dict) or k not in info]
        if missing:
            raise DataValidationError([f"missing keys {missing}"], header="damaged training state in the model folder")
        if int(info["version"]) > _STATE_VERSION:
            raise ConfigError(f"the training state has version {info['version']}; this Hygeia reads up to "
                              f"{_STATE_VERSION}: upgrade Hygeia")
        return cls(dict(info), dict(arrays))


def length_buckets(rows: np.ndarray, lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list:
    """One epoch of batches: shuffled, then sorted by length within windows of 50 batches
    (little padding), and the batches themselves shuffled."""
    perm = rows[rng.permutation(len(rows))]
    window = 50 * batch_size
    batches = []
    for start in range(0, len(perm), window):
        chunk = perm[start:start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _table(seqs: list[list[int]], vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    table = np.zeros((len(seqs), int(lengths.max())), dtype=np.int16 if vocab_size < 32_000 else np.int32)
    for i, s in enumerate(seqs):
        table[i, : len(s)] = s
    return table, lengths


def _digest(table: np.ndarray, lengths: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(lengths.tobytes())
    h.update(np.ascontiguousarray(table).tobytes())
    return h.hexdigest()[:32]


def _augmented(model, molecules: list[str], seqs: list[list[int]], rows: np.ndarray, seed: int) -> tuple[list, int]:
    """``seqs`` with the ``rows`` re-encoded from random SMILES; and how many fell back to the given form."""
    from rdkit import Chem, rdBase

    from hygeia.molecules.tokenizers import TokenizationError

    tokenizer = model.vocabulary_.tokenizer
    seeds = np.random.default_rng(seed).integers(1, 2**31 - 1, size=len(rows))
    out = list(seqs)
    fallbacks = 0
    with rdBase.BlockLogs():
        for row, s in zip(rows.tolist(), seeds.tolist()):
            mol = Chem.MolFromSmiles(molecules[row])
            try:
                text = tokenizer.from_smiles(Chem.MolToRandomSmilesVect(mol, 1, randomSeed=int(s))[0])
                out[row] = model.vocabulary_.encode_tokens(tokenizer.tokenize(text), text=text)
            except (TokenizationError, RuntimeError, ValueError):
                fallbacks += 1
    return out, fallbacks


def train(model, seqs: list[list[int]], molecules: list[str], *, kind: str, epochs: int | None,
          max_steps: int | None, learning_rate: float, callback, progress: bool,
          resume: TrainingState | None = None) -> None:
    """Run (or, with ``resume``, continue) one training run of ``model`` on the encoded ``seqs``.

    ``molecules`` are the SMILES the ``seqs`` encode (used by augmentation). On return
    ``model.training_state_`` holds the run's final :class:`TrainingState`.
    """
    from hygeia.molecules.lm import _derive, _torch
    from hygeia.molecules.tokenizers import Vocabulary

    torch = _torch()
    F = torch.nn.functional
    device = model._torch_device()
    run = len(model.training_log_) if resume is None else int(resume.info["run"])
    rng = np.random.default_rng(np.random.SeedSequence(model.seed_, spawn_key=(run, 1)))
    n = len(seqs)
    n_val = min(10_000, round(n * float(model.validation_fraction)))
    if n_val >= n:
        n_val = 0
    if not n_val and (model.patience is not None or model.lr_schedule == "plateau"):
        raise ConfigError(f"patience and lr_schedule='plateau' need validation molecules, but {n} molecules with "
                          f"validation_fraction={model.validation_fraction} hold none out: raise validation_fraction")
    table, lengths = _table(seqs, len(model.vocabulary_))
    digest = _digest(table, lengths)
    order = rng.permutation(n)
    val_rows, train_rows = order[:n_val], order[n_val:]
    bs = int(model.batch_size)
    steps_per_epoch = math.ceil(len(train_rows) / bs)
    total = steps_per_epoch * epochs if epochs is not None else int(max_steps)
    if max_steps is not None:
        total = min(total, int(max_steps))

    def batch(rows: np.ndarray, tab: np.ndarray, lens: np.ndarray):
        width = int(lens[rows].max())
        return torch.from_numpy(tab[rows, :width].astype(np.int64)).to(device)

    def loss_of(ids):
        logits, _ = model.module_(ids[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                               ignore_index=Vocabulary.pad_id, reduction="sum")

    def val_loss() -> float | None:
        if not n_val:
            return None
        model.module_.eval()
        total_loss, total_tokens = 0.0, 0
        with torch.no_grad():
            for start in range(0, n_val, 512):
                rows = val_rows[start:start + 512]
                total_loss += float(loss_of(batch(rows, table, lengths)))
                total_tokens += int((lengths[rows] - 1).sum())
        return total_loss / total_tokens

    schedule = Schedule(model.lr_schedule, base_lr=learning_rate, warmup_steps=int(model.warmup_steps),
                        total_steps=total, factor=float(model.lr_factor), patience=int(model.lr_patience))
    optimizer = torch.optim.Adam(model.module_.parameters(), lr=learning_rate)
    params = [name for name, _ in model.module_.named_parameters()]
    step, epoch, offset = 0, 0, 0
    early = {"best_val": None, "best_step": None, "since_best": 0}
    best_weights: dict[str, np.ndarray] = {}
    interval_loss, interval_tokens = 0.0, 0
    elapsed_before = 0.0
    if resume is None:
        record: dict[str, Any] = {
            "kind": kind, "molecules": n, "validation_molecules": int(n_val), "epochs": epochs,
            "max_steps": max_steps, "learning_rate": learning_rate, "lr_schedule": model.lr_schedule,
            "warmup_steps": int(model.warmup_steps), "patience": model.patience, "augment": bool(model.augment),
            "batch_size": bs, "device": str(device), "steps": 0, "molecules_seen": 0, "train_loss": None,
            "val_loss": None, "wall_time_s": 0.0, "history": [],
        }
        model.training_log_.append(record)
    else:
        info = resume.info
        if info["data"] != {"molecules": n, "sha256": digest}:
            raise DataValidationError(
                [(f"the run was on {info['data']['molecules']:,} molecules (digest {info['data']['sha256']}); "
                  f"given {n:,} (digest {digest})")],
                header="resume needs the very molecules the run was training on, in the same order "
                       "(draw the same subset; or start a new run with fine_tune)")
        if run != len(model.training_log_) - 1:
            raise DataValidationError([f"state of run {run}, but the log has {len(model.training_log_)} runs"],
                                      header="damaged training state in the model folder")
        if total <= int(info["step"]):
            raise ConfigError(f"the run is finished ({resume.describe()}); pass a larger max_steps or epochs to "
                              "go on, or fine_tune to start a new run")
        record = model.training_log_[run]
        if total != int(info["total"]):
            record.setdefault("extended", []).append({"from_total": int(info["total"]), "to_total": total,
                                                      "at_step": int(info["step"])})
        step, epoch, offset = int(info["step"]), int(info["epoch"]), int(info["offset"])
        schedule.load(info["schedule"])
        early = dict(info["early"])
        interval_loss, interval_tokens = float(info.get("interval_loss", 0.0)), int(info.get("interval_tokens", 0))
        elapsed_before = float(info.get("elapsed_s", 0.0))
        arrays = resume.arrays
        exact = {k[len("module."):]: torch.from_numpy(np.asarray(v, dtype=np.float32))
                 for k, v in arrays.items() if k.startswith("module.")}
        if exact:
            model.module_.load_state_dict(exact)
        model.module_.to(device)
        optimizer.load_state_dict({"state": _optimizer_state(arrays, params, torch),
                                   "param_groups": optimizer.state_dict()["param_groups"]})
        best_weights = {k[len("best."):]: v for k, v in arrays.items() if k.startswith("best.")}
        rng.bit_generator.state = info["epoch_rng"]

    def snapshot(finished: bool) -> TrainingState:
        arrays: dict[str, np.ndarray] = {}
        opt_state = optimizer.state_dict()["state"]
        for i, name in enumerate(params):
            for key, value in opt_state.get(i, {}).items():
                arrays[f"optimizer.{name}.{key}"] = value.detach().cpu().numpy().copy()
        if model.weights_dtype != "float32":
            for name, value in model.module_.state_dict().items():
                arrays[f"module.{name}"] = value.detach().cpu().numpy().astype(np.float32)
        arrays.update({f"best.{k}": v for k, v in best_weights.items()})
        arrays["torch_rng"] = torch.get_rng_state().numpy().copy()
        if device.type == "cuda":
            arrays["cuda_rng"] = torch.cuda.get_rng_state(device).numpy().copy()
        info = {"version": _STATE_VERSION, "run": run, "kind": kind, "epochs": epochs, "max_steps": max_steps,
                "learning_rate": learning_rate, "total": total, "step": step, "epoch": epoch, "offset": offset,
                "epoch_rng": epoch_rng, "schedule": schedule.state(), "early": dict(early),
                "interval_loss": interval_loss, "interval_tokens": interval_tokens,
                "elapsed_s": round(elapsed_before + time.monotonic() - start_time, 3),
                "data": {"molecules": n, "sha256": digest}, "finished": finished}
        return TrainingState(info, arrays)

    start_time = time.monotonic()
    stop = None
    bar = Progress(total, unit="steps", description="training", quiet=not progress)
    if step:
        bar.update(step)
    epoch_rng = rng.bit_generator.state
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(_derive(model.seed_, run + 1))
            if resume is not None:
                torch.set_rng_state(torch.from_numpy(np.asarray(resume.arrays["torch_rng"], dtype=np.uint8)))
                if device.type == "cuda" and "cuda_rng" in resume.arrays:
                    torch.cuda.set_rng_state(torch.from_numpy(np.asarray(resume.arrays["cuda_rng"], np.uint8)), device)
            while step < total and stop is None:
                epoch_rng = rng.bit_generator.state
                tab, lens = table, lengths
                if model.augment:
                    aug_seed = int(np.random.SeedSequence(model.seed_, spawn_key=(run, 2, epoch)).generate_state(1)[0])
                    aug, fallbacks = _augmented(model, molecules, seqs, train_rows, aug_seed)
                    tab, lens = _table(aug, len(model.vocabulary_))
                    if model.max_length is None:  # random SMILES run longer than the given ones
                        model.max_length_ = max(int(model.max_length_), int(lens[train_rows].max()) + 1)
                    if offset == 0:
                        record["augment_fallbacks"] = record.get("augment_fallbacks", 0) + fallbacks
                batches = length_buckets(train_rows, lens, bs, rng)
                for index in range(offset, len(batches)):
                    if step >= total or stop is not None:
                        break
                    rows = batches[index]
                    ids = batch(rows, tab, lens)
                    model.module_.train()
                    tokens = int((lens[rows] - 1).sum())
                    for group in optimizer.param_groups:
                        group["lr"] = schedule.lr(step)
                    loss = loss_of(ids) / tokens
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if model.grad_clip is not None:
                        torch.nn.utils.clip_grad_norm_(model.module_.parameters(), float(model.grad_clip))
                    optimizer.step()
                    step += 1
                    offset = index + 1
                    interval_loss += float(loss.detach()) * tokens
                    interval_tokens += tokens
                    record["molecules_seen"] += len(rows)
                    bar.update(1)
                    if step % int(model.eval_every) == 0 or step == total:
                        model.module_.eval()
                        record["steps"] = step
                        record["train_loss"] = interval_loss / interval_tokens
                        record["val_loss"] = current = val_loss()
                        record["wall_time_s"] = round(elapsed_before + time.monotonic() - start_time, 3)
                        point = {k: record[k] for k in ("steps", "molecules_seen", "train_loss", "val_loss")}
                        point["lr"] = optimizer.param_groups[0]["lr"]
                        point["elapsed_s"] = record["wall_time_s"]
                        record["history"].append(point)
                        interval_loss, interval_tokens = 0.0, 0
                        schedule.observe(current)
                        if current is not None and (early["best_val"] is None
                                                    or current < early["best_val"] - _MIN_DELTA):
                            early.update(best_val=current, best_step=step, since_best=0)
                            if model.patience is not None:
                                best_weights = {k: v.detach().cpu().numpy().copy()
                                                for k, v in model.module_.state_dict().items()}
                        elif current is not None:
                            early["since_best"] += 1
                        if model.patience is not None and early["since_best"] >= int(model.patience):
                            stop = "patience"
                        model.training_state_ = snapshot(finished=stop is not None or step >= total)
                        if callback is not None and callback(model, dict(point, step=step)) and stop is None:
                            stop = "callback"
                            record["stopped_early"] = True
                if stop is None and step < total:
                    epoch, offset = epoch + 1, 0
            record["stop_reason"] = stop or "completed"
            if stop != "callback":  # a run stopped by a callback in an earlier sitting and resumed to its end
                record.pop("stopped_early", None)
            record["best_val_loss"], record["best_step"] = early["best_val"], early["best_step"]
            model.training_state_ = snapshot(finished=stop != "callback")
            if stop != "callback" and best_weights:
                model.module_.load_state_dict({k: torch.from_numpy(v) for k, v in best_weights.items()})
                record["restored_best_weights_of_step"] = early["best_step"]
    finally:
        bar.close()
        model.module_.eval()


def _optimizer_state(arrays: dict[str, np.ndarray], params: list[str], torch) -> dict[int, dict[str, Any]]:
    state: dict[int, dict[str, Any]] = {}
    for i, name in enumerate(params):
        prefix = f"optimizer.{name}."
        values = {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(prefix)}
        if values:
            state[i] = values
    return state
