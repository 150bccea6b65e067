"""A chemical language model: a recurrent network that writes molecules token by token.

:class:`ChemicalLM` learns the distribution of a set of molecules written as
SMILES or SELFIES strings (Segler et al., 2018; Gómez-Bombarelli et al., 2018)
with a GRU or LSTM trained by teacher forcing, and samples new ones. It follows
Hygeia's generator interface (``fit`` / ``sample`` / ``save`` / ``load``) and
exposes the torch-level pieces that reinforcement learning needs (REINVENT,
Olivecrona et al., 2017): :meth:`ChemicalLM.sample_tokens` with differentiable
log-likelihoods, :meth:`ChemicalLM.log_likelihood` of given token sequences,
and :meth:`ChemicalLM.clone`.

A token sequence (what :meth:`~ChemicalLM.sample_tokens` and
:meth:`~ChemicalLM.encode` return) is a ``LongTensor`` of shape ``(n, T)``:
each row holds the ids of one molecule's tokens without ``<bos>``, then
``<eos>``, then ``<pad>`` (id 0) to the common length ``T``; a row sampled to
``max_length`` without ending has no ``<eos>``.

Training runs with a learning-rate schedule (constant, cosine or plateau, after an
optional warm-up), optional early stopping on the validation loss, and optional
randomized-SMILES augmentation; a model saved during or after a run keeps the run's
state (Adam moments, schedule, step, position in the data order, random states;
:mod:`hygeia.molecules._training`), so :meth:`ChemicalLM.resume` continues it exactly.

:func:`default_prior` loads the model shipped with Hygeia (canonical SMILES + GRU trained
for five epochs of the MOSES training set; ``spec.json`` in its folder records how).

Example:
    >>> lm = ChemicalLM(representation="smiles", hidden_dim=16, embedding_dim=8, num_layers=1,
    ...                 max_steps=5, seed=0)
    >>> lm = lm.fit(["CCO", "CCN", "c1ccccc1", "CC(=O)O"] * 5)
    >>> len(lm.sample(3, seed=1))
    3
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.generator import Generator, load_generator, register_generator
from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, DataValidationError, MissingExtraError
from hygeia.molecules._training import SCHEDULES, TrainingState, train
from hygeia.molecules.tokenizers import TokenizationError, Vocabulary, get_tokenizer

__all__ = ["ChemicalLM", "PRIORS", "PRIOR_DIR", "default_prior"]

#: Folders of the priors shipped with Hygeia, by name. ``moses``: trained on MOSES's
#: training set (250-350 Da, drug-like and filtered); ``zinc250k``: trained on ZINC-250k
#: (heavier and more varied molecules, as PMO's priors are).
PRIORS = {"moses": Path(__file__).with_name("prior"), "zinc250k": Path(__file__).with_name("prior_zinc250k")}
#: Folder of the default prior (``moses``).
PRIOR_DIR = PRIORS["moses"]
#: Problems listed one by one in an error before the rest are only counted.
_MAX_LISTED = 20
_SAMPLE_CHUNK = 1024


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("torch", "molecules", "The chemical language model") from None
    return torch


_MODULE_CLASS: Any = None


def _module_class() -> Any:
    """The torch network (defined on first use so that importing this file needs no torch)."""
    global _MODULE_CLASS
    if _MODULE_CLASS is None:
        nn = _torch().nn

        class RecurrentLM(nn.Module):
            """Embedding → GRU/LSTM layers → linear layer giving next-token logits."""

            def __init__(self, vocab_size: int, embedding_dim: int, hidden_dim: int, num_layers: int,
                         dropout: float, cell: str) -> None:
                super().__init__()
                self.embedding = nn.Embedding(vocab_size, embedding_dim)
                rnn = nn.GRU if cell == "gru" else nn.LSTM
                self.rnn = rnn(embedding_dim, hidden_dim, num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0)
                self.dropout = nn.Dropout(dropout)
                self.head = nn.Linear(hidden_dim, vocab_size)

            def forward(self, ids, state=None):
                out, state = self.rnn(self.embedding(ids), state)
                return self.head(self.dropout(out)), state

        _MODULE_CLASS = RecurrentLM
    return _MODULE_CLASS


def _cap(problems: list[str]) -> list[str]:
    if len(problems) <= _MAX_LISTED:
        return problems
    return [*problems[:_MAX_LISTED], f"... and {len(problems) - _MAX_LISTED} more"]


@register_generator("molecules.lm")
class ChemicalLM(Generator):
    """A recurrent chemical language model over SMILES or SELFIES tokens.

    Args:
        representation: ``"selfies"`` (every sample is a valid molecule) or ``"smiles"``.
        cell: ``"gru"`` or ``"lstm"``.
        embedding_dim: size of the token embeddings.
        hidden_dim: size of each recurrent layer.
        num_layers: number of recurrent layers.
        dropout: dropout between layers and before the output layer (0 ≤ p < 1).
        learning_rate: Adam's step size.
        batch_size: molecules per training step.
        epochs: passes over the training molecules (``None``: until ``max_steps``).
        max_steps: stop after this many steps (``None``: after ``epochs``).
        max_length: most tokens a sample may have (``None``: 1.2 × the longest training
            molecule, plus 2).
        validation_fraction: share of the molecules held out to track the validation loss
            (at most 10,000 are held out).
        eval_every: steps between two measurements of the validation loss.
        grad_clip: largest gradient norm (``None``: no clipping).
        weights_dtype: ``"float32"`` or ``"float16"``: how :meth:`save` stores the weights (a
            checkpoint of an unfinished run also keeps exact float32 copies).
        lr_schedule: ``"constant"``, ``"cosine"`` (down to 0 over the run's steps) or ``"plateau"``
            (times ``lr_factor`` after ``lr_patience`` validation measurements without improvement).
        warmup_steps: steps of linear warm-up of the learning rate at the start of each run (0: none).
        patience: stop a run after this many validation measurements without improvement and
            restore the best weights (``None``: no early stopping).
        lr_patience: ``plateau``: measurements without improvement before the rate is lowered.
        lr_factor: ``plateau``: what the rate is multiplied by (0 < f < 1).
        augment: train on a fresh random SMILES of each molecule every epoch (RDKit's
            randomized SMILES, Arús-Pous et al., 2019; with SELFIES, made from them).
        device: ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``), or ``"auto"``; a GPU device falls back
            to the CPU where none is present, so that a model trained on a GPU loads anywhere.
        seed: seed of the initial weights, the shuffling and the held-out slice
            (``None``: drawn from the OS and recorded).

    Each run's state (Adam moments, schedule, step, position in the data order, random
    states) is kept in ``training_state_`` and saved with the model, so :meth:`resume`
    continues a stopped run exactly; :meth:`clear_training_state` drops it (a smaller folder).

    Example:
        >>> lm = ChemicalLM(hidden_dim=16, embedding_dim=8, num_layers=1, max_steps=3, seed=0)
        >>> lm.fit(["CCO", "CCN", "CCC"] * 4).vocabulary_.tokenizer.name
        'selfies'
    """

    spec_version = 2  # 2: schedule/early-stopping/augment parameters and the saved training state

    def __init__(
        self,
        *,
        representation: str = "selfies",
        cell: str = "gru",
        embedding_dim: int = 128,
        hidden_dim: int = 256,
        num_layers: int = 2,
        dropout: float = 0.0,
        learning_rate: float = 1e-3,
        batch_size: int = 128,
        epochs: int | None = 10,
        max_steps: int | None = None,
        max_length: int | None = None,
        validation_fraction: float = 0.05,
        eval_every: int = 500,
        grad_clip: float | None = 1.0,
        weights_dtype: str = "float32",
        lr_schedule: str = "constant",
        warmup_steps: int = 0,
        patience: int | None = None,
        lr_patience: int = 2,
        lr_factor: float = 0.5,
        augment: bool = False,
        device: str = "cpu",
        seed: int | None = None,
    ) -> None:
        self.representation = representation
        self.cell = cell
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.max_steps = max_steps
        self.max_length = max_length
        self.validation_fraction = validation_fraction
        self.eval_every = eval_every
        self.grad_clip = grad_clip
        self.weights_dtype = weights_dtype
        self.lr_schedule = lr_schedule
        self.warmup_steps = warmup_steps
        self.patience = patience
        self.lr_patience = lr_patience
        self.lr_factor = lr_factor
        self.augment = augment
        self.device = device
        self.seed = seed

    # -- checks -------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        problems: list[str] = []
        get_tokenizer(self.representation)  # raises for an unknown representation
        if self.cell not in ("gru", "lstm"):
            problems.append(f"cell must be 'gru' or 'lstm'; got {self.cell!r}")
        for name in ("embedding_dim", "hidden_dim", "num_layers", "batch_size", "eval_every"):
            if not _is_positive_int(getattr(self, name)):
                problems.append(f"{name} must be a positive integer; got {getattr(self, name)!r}")
        for name in ("epochs", "max_steps", "max_length"):
            value = getattr(self, name)
            if value is not None and not _is_positive_int(value):
                problems.append(f"{name} must be a positive integer or None; got {value!r}")
        if self.epochs is None and self.max_steps is None:
            problems.append("give epochs or max_steps (both are None, so training would never stop)")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            problems.append(f"dropout must be in [0, 1); got {self.dropout!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            problems.append(f"learning_rate must be positive; got {self.learning_rate!r}")
        if not (isinstance(self.validation_fraction, (int, float)) and 0 <= self.validation_fraction < 1):
            problems.append(f"validation_fraction must be in [0, 1); got {self.validation_fraction!r}")
        if self.grad_clip is not None and not (isinstance(self.grad_clip, (int, float)) and self.grad_clip > 0):
            problems.append(f"grad_clip must be positive or None; got {self.grad_clip!r}")
        if self.lr_schedule not in SCHEDULES:
            problems.append(f"lr_schedule must be one of {', '.join(map(repr, SCHEDULES))}; got {self.lr_schedule!r}")
        if isinstance(self.warmup_steps, bool) or not isinstance(self.warmup_steps, (int, np.integer)) \
                or self.warmup_steps < 0:
            problems.append(f"warmup_steps must be a non-negative integer; got {self.warmup_steps!r}")
        if self.patience is not None and not _is_positive_int(self.patience):
            problems.append(f"patience must be a positive integer or None; got {self.patience!r}")
        if not _is_positive_int(self.lr_patience):
            problems.append(f"lr_patience must be a positive integer; got {self.lr_patience!r}")
        if not (isinstance(self.lr_factor, (int, float)) and not isinstance(self.lr_factor, bool)
                and 0 < self.lr_factor < 1):
            problems.append(f"lr_factor must be in (0, 1); got {self.lr_factor!r}")
        if not isinstance(self.augment, bool):
            problems.append(f"augment must be True or False; got {self.augment!r}")
        if self.weights_dtype not in ("float32", "float16"):
            problems.append(f"weights_dtype must be 'float32' or 'float16'; got {self.weights_dtype!r}")
        if not (isinstance(self.device, str) and (self.device in ("cpu", "auto") or self.device.startswith("cuda"))):
            problems.append(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto'; got {self.device!r}")
        if problems:
            raise ConfigError("invalid ChemicalLM parameters:\n" + "\n".join(f"  - {p}" for p in problems))

    def _torch_device(self):
        torch = _torch()
        if self.device == "cpu" or not torch.cuda.is_available():
            return torch.device("cpu")
        return torch.device("cuda" if self.device == "auto" else self.device)

    # -- data ---------------------------------------------------------------------------------
    def _prepare(self, smiles: Iterable[str], what: str,
                 cache: str | Path | None = None) -> tuple[list[str], list[str], list[list[str]]]:
        """(SMILES, strings in the representation, their tokens); every unusable molecule reported at once.

        With ``cache``, the strings in the representation are kept in that file and read back by a
        later call on the same molecules, representation and encoder version (see :meth:`fit`).
        """
        if isinstance(smiles, str):
            raise DataValidationError(
                [f"got the single string {smiles[:60]!r}"], header=f"{what} takes a list of SMILES strings"
            )
        molecules = list(smiles)
        if not molecules:
            raise DataValidationError(["no molecules were given"], header=f"{what} needs at least one SMILES string")
        if cache is not None:
            from hygeia.molecules._encoded import read_encoded, write_encoded

            texts = read_encoded(cache, molecules, self.representation)
            if texts is None:
                molecules, texts, tokens = self._prepare(molecules, what)
                write_encoded(cache, molecules, self.representation, texts)
                return molecules, texts, tokens
            tokenizer = get_tokenizer(self.representation)
            return molecules, texts, [tokenizer.tokenize(t) for t in texts]
        from hygeia.molecules.data import _chem, _quiet_rdkit

        Chem = _chem()
        tokenizer = get_tokenizer(self.representation)
        problems: list[str] = []
        texts: list[str] = []
        tokens: list[list[str]] = []
        with _quiet_rdkit():
            for i, s in enumerate(molecules):
                if not isinstance(s, str) or not s:
                    problems.append(f"molecule {i}: {s!r} is not a SMILES string")
                    continue
                if Chem.MolFromSmiles(s) is None:
                    problems.append(f"molecule {i}: {s!r} is not a valid SMILES (RDKit could not parse it)")
                    continue
                try:
                    text = tokenizer.from_smiles(s)
                    tokens.append(tokenizer.tokenize(text))
                except TokenizationError as exc:
                    problems.append(f"molecule {i}: {exc.problems[0]}")
                    continue
                texts.append(text)
        if problems:
            raise DataValidationError(
                _cap(problems), header=f"{what}: {len(problems)} of {len(molecules)} molecules cannot be used"
            )
        return molecules, texts, tokens

    def _encode_tokens(self, molecules: Sequence[str], texts: Sequence[str], tokens: Sequence[list[str]],
                       vocab: Vocabulary) -> list[list[int]]:
        problems: list[str] = []
        seqs: list[list[int]] = []
        for i, (mol, text, toks) in enumerate(zip(molecules, texts, tokens)):
            try:
                seqs.append(vocab.encode_tokens(toks, text=text))
            except TokenizationError as exc:
                where = f"molecule {i} ({mol!r})" if text != mol else f"molecule {i}"
                problems.append(f"{where}: {exc.problems[0]}")
        if problems:
            raise TokenizationError(
                _cap(problems),
                header=f"{len(problems)} of {len(molecules)} molecules hold tokens outside the model's vocabulary "
                "(atoms, charges or stereo marks its training data lacked: leave these molecules out, strip "
                "what the vocabulary lacks, or fit a new model on data that contains them)",
            )
        return seqs

    # -- training -----------------------------------------------------------------------------
    def fit(self, smiles: Iterable[str], *, callback: Callable[["ChemicalLM", dict], None] | None = None,
            progress: bool = False, cache: str | Path | None = None) -> "ChemicalLM":
        """Train from scratch on ``smiles`` (builds the vocabulary).

        Args:
            smiles: the training molecules (SMILES strings; all must parse). They are used as
                written: canonicalize them first (:func:`hygeia.molecules.data.canonical`,
                :func:`~hygeia.molecules.data.read_smiles`) to train on canonical SMILES.
            callback: called as ``callback(model, record)`` after each validation measurement,
                ``record`` holding ``step``, ``molecules_seen``, ``train_loss``, ``val_loss`` and
                ``elapsed_s`` (e.g. to log, or to save a checkpoint with ``model.save``); training
                stops there if it returns a true value.
            progress: draw a progress bar on stderr (when it is a terminal).
            cache: a file to keep the molecules' encoded form in, for training across sittings:
                checking and encoding MOSES's 1.6 million molecules takes a quarter of an hour on
                one core, reading them back seconds. It is used only for the very same molecules,
                representation and encoder version (a digest in its first line), and rewritten
                otherwise.

        Raises:
            ConfigError: for invalid parameters.
            DataValidationError: if ``smiles`` is empty or holds molecules that cannot be used.
        """
        self._validate_params()
        torch = _torch()
        molecules, texts, tokens = self._prepare(smiles, "fit", cache)
        vocab = Vocabulary.from_token_lists(tokens, get_tokenizer(self.representation))
        seqs = self._encode_tokens(molecules, texts, tokens, vocab)
        seed = resolve_seed(self.seed)
        for attr in ("module_", "vocabulary_", "max_length_", "seed_", "training_log_", "training_state_"):
            self.__dict__.pop(attr, None)
        device = self._torch_device()
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(_derive(seed, 0))
            module = _module_class()(len(vocab), self.embedding_dim, self.hidden_dim, self.num_layers,
                                     float(self.dropout), self.cell).to(device)
        module.eval()
        self.vocabulary_ = vocab
        self.module_ = module
        self.seed_ = seed
        self.max_length_ = self._derived_max_length(seqs, 0)
        self.training_log_: list[dict[str, Any]] = []
        self._train(seqs, molecules, kind="fit", epochs=self.epochs, max_steps=self.max_steps,
                    learning_rate=float(self.learning_rate), callback=callback, progress=progress)
        return self

    def fine_tune(self, smiles: Iterable[str], *, steps: int | None = None, epochs: int | None = None,
                  learning_rate: float | None = None,
                  callback: Callable[["ChemicalLM", dict], None] | None = None,
                  progress: bool = False, cache: str | Path | None = None) -> "ChemicalLM":
        """Go on training on ``smiles`` (transfer learning), keeping the vocabulary.

        Args:
            smiles: the molecules to adapt to.
            steps: most training steps (default: the model's ``max_steps``).
            epochs: passes over ``smiles`` (default: the model's ``epochs`` when ``steps`` is not given).
            learning_rate: Adam's step size (default: the model's ``learning_rate``).
            callback: as for :meth:`fit`.
            progress: draw a progress bar on stderr (when it is a terminal).
            cache: as for :meth:`fit`.

        Raises:
            NotFittedError: before ``fit``.
            TokenizationError: if a molecule holds a token outside the vocabulary (names each one).
        """
        self._check_fitted()
        self._validate_params()
        for name, value in (("steps", steps), ("epochs", epochs)):
            if value is not None and not _is_positive_int(value):
                raise ConfigError(f"fine_tune {name} must be a positive integer or None; got {value!r}")
        if learning_rate is not None and not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
            raise ConfigError(f"fine_tune learning_rate must be positive; got {learning_rate!r}")
        if steps is None and epochs is None:
            steps, epochs = self.max_steps, self.epochs
        molecules, texts, tokens = self._prepare(smiles, "fine_tune", cache)
        seqs = self._encode_tokens(molecules, texts, tokens, self.vocabulary_)
        self.max_length_ = self._derived_max_length(seqs, self.max_length_)
        self._train(seqs, molecules, kind="fine_tune", epochs=epochs, max_steps=steps,
                    learning_rate=float(learning_rate if learning_rate is not None else self.learning_rate),
                    callback=callback, progress=progress)
        return self

    def _derived_max_length(self, seqs: Sequence[Sequence[int]], current: int) -> int:
        if self.max_length is not None:
            return int(self.max_length)
        longest = max(len(s) for s in seqs) - 1  # without <bos>, with <eos>
        return max(int(current), int(math.ceil(1.2 * longest)) + 2)

    def resume(self, smiles: Iterable[str], *, max_steps: int | None = None, epochs: int | None = None,
               callback: Callable[["ChemicalLM", dict], None] | None = None,
               progress: bool = False, cache: str | Path | None = None) -> "ChemicalLM":
        """Go on with the last training run exactly where it stopped (e.g. after loading a checkpoint).

        The Adam moments, learning-rate schedule, early-stopping counters, step, position in
        the data order and random states saved with the model are restored, so a run stopped
        after N steps and resumed for M more ends with the weights of N + M steps straight.

        Args:
            smiles: the very molecules the run was training on, in the same order (checked
                against a digest of the data).
            max_steps: a new step limit for the run (default: the run's own; a longer limit also
                stretches a cosine schedule, so the result then differs from a straight run).
            epochs: a new epoch limit for the run (default: the run's own).
            callback: as for :meth:`fit`.
            progress: draw a progress bar on stderr (when it is a terminal).
            cache: as for :meth:`fit`.

        Raises:
            ConfigError: if the model holds no training state (a model saved before Hygeia kept it,
                or after :meth:`clear_training_state`: go on with :meth:`fine_tune`, which starts a
                fresh optimizer), or if the run is finished and no larger limit is given.
            DataValidationError: if ``smiles`` are not the run's molecules.
        """
        self._check_fitted()
        self._validate_params()
        state = self.__dict__.get("training_state_")
        if state is None:
            raise ConfigError("this model holds no training state to resume (it was saved without one, e.g. by an "
                              "older Hygeia or after clear_training_state()); go on training with fine_tune(smiles), "
                              "which starts a fresh optimizer")
        for name, value in (("max_steps", max_steps), ("epochs", epochs)):
            if value is not None and not _is_positive_int(value):
                raise ConfigError(f"resume {name} must be a positive integer or None; got {value!r}")
        info = state.info
        if max_steps is None and epochs is None:
            max_steps, epochs = info["max_steps"], info["epochs"]
        molecules, texts, tokens = self._prepare(smiles, "resume", cache)
        seqs = self._encode_tokens(molecules, texts, tokens, self.vocabulary_)
        self._train(seqs, molecules, kind=str(info["kind"]), epochs=epochs, max_steps=max_steps,
                    learning_rate=float(info["learning_rate"]), callback=callback, progress=progress,
                    resume=state)
        return self

    def clear_training_state(self) -> "ChemicalLM":
        """Forget the saved optimizer and data-order state (the model then saves smaller and can
        only go on training with a fresh optimizer, via :meth:`fine_tune`)."""
        self.__dict__.pop("training_state_", None)
        return self

    def _train(self, seqs: list[list[int]], molecules: list[str], *, kind: str, epochs: int | None,
               max_steps: int | None, learning_rate: float, callback, progress: bool,
               resume: TrainingState | None = None) -> None:
        train(self, seqs, molecules, kind=kind, epochs=epochs, max_steps=max_steps, learning_rate=learning_rate,
              callback=callback, progress=progress, resume=resume)

    # -- sampling -----------------------------------------------------------------------------
    def _masked_logits(self, logits):
        """Logits with ``<pad>`` and ``<bos>`` ruled out (they are never a next token)."""
        mask = self._special_mask(logits.device)
        return logits.masked_fill(mask, float("-inf"))

    def _special_mask(self, device):
        torch = _torch()
        mask = torch.zeros(len(self.vocabulary_), dtype=torch.bool, device=device)
        mask[Vocabulary.pad_id] = True
        mask[Vocabulary.bos_id] = True
        return mask

    def sample_tokens(self, n: int, *, generator: Any = None, temperature: float = 1.0):
        """Sample ``n`` token sequences (see the module documentation for their layout).

        Args:
            n: number of sequences.
            generator: a ``torch.Generator`` on the model's device (``None``: torch's global one).
            temperature: divides the logits before sampling (< 1 sharper, > 1 flatter).

        Returns:
            ``(tokens, log_likelihood)``: a ``LongTensor`` ``(n, T)`` and a tensor ``(n,)`` of each
            sequence's log-likelihood under the model (at temperature 1), differentiable when
            gradients are enabled.
        """
        self._check_fitted()
        _check_n(n)
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ConfigError(f"temperature must be a positive number; got {temperature!r}")
        torch = _torch()
        device = next(self.module_.parameters()).device
        eos = Vocabulary.eos_id
        x = torch.full((n, 1), Vocabulary.bos_id, dtype=torch.long, device=device)
        finished = torch.zeros(n, dtype=torch.bool, device=device)
        total = torch.zeros(n, device=device)
        state = None
        out = []
        for _ in range(int(self.max_length_)):
            logits, state = self.module_(x, state)
            logits = self._masked_logits(logits[:, -1])
            logp = torch.log_softmax(logits, dim=-1)
            probs = torch.softmax(logits.detach() / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            nxt = nxt.masked_fill(finished, Vocabulary.pad_id)
            step_lp = logp.gather(1, nxt.unsqueeze(1)).squeeze(1)
            total = total + step_lp.masked_fill(finished, 0.0)
            out.append(nxt)
            finished = finished | (nxt == eos)
            if bool(finished.all()):
                break
            x = nxt.unsqueeze(1)
        return torch.stack(out, dim=1), total

    def log_likelihood(self, tokens):
        """Log-likelihood of each token sequence, differentiable (shape ``(n,)``).

        Args:
            tokens: a ``LongTensor`` ``(n, T)`` laid out as :meth:`sample_tokens` returns it.
        """
        self._check_fitted()
        torch = _torch()
        device = next(self.module_.parameters()).device
        tokens = torch.as_tensor(tokens, dtype=torch.long).to(device)
        if tokens.ndim != 2 or tokens.shape[1] == 0:
            raise ConfigError(f"tokens must be a 2-D tensor (n, T) with T ≥ 1; got shape {tuple(tokens.shape)}")
        if int(tokens.min()) < 0 or int(tokens.max()) >= len(self.vocabulary_):
            raise ConfigError(
                f"token ids must lie in [0, {len(self.vocabulary_)}); got {int(tokens.min())}..{int(tokens.max())}"
            )
        bos = torch.full((tokens.shape[0], 1), Vocabulary.bos_id, dtype=torch.long, device=device)
        logits, _ = self.module_(torch.cat([bos, tokens[:, :-1]], dim=1))
        logp = torch.log_softmax(self._masked_logits(logits), dim=-1)
        lp = logp.gather(2, tokens.unsqueeze(2)).squeeze(2)
        is_eos = (tokens == Vocabulary.eos_id).long()
        after_eos = (torch.cumsum(is_eos, dim=1) - is_eos) > 0
        keep = (~after_eos) & (tokens != Vocabulary.pad_id)
        return (lp.masked_fill(~keep, 0.0)).sum(dim=1)

    def encode(self, smiles: Iterable[str]):
        """Token sequences of ``smiles`` (a ``LongTensor`` ``(n, T)``, on the model's device).

        Raises:
            DataValidationError: for an invalid molecule, or one with tokens outside the vocabulary.
        """
        self._check_fitted()
        torch = _torch()
        if isinstance(smiles, str):
            smiles = [smiles]
        molecules, texts, tokens = self._prepare(smiles, "encode")
        seqs = [s[1:] for s in self._encode_tokens(molecules, texts, tokens, self.vocabulary_)]
        width = max(len(s) for s in seqs)
        out = torch.full((len(seqs), width), Vocabulary.pad_id, dtype=torch.long)
        for i, s in enumerate(seqs):
            out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        return out.to(next(self.module_.parameters()).device)

    def decode(self, tokens) -> list[str]:
        """SMILES strings of token sequences (SELFIES are decoded and written as canonical SMILES).

        With ``representation="smiles"`` the strings are returned as written, valid or not.
        """
        self._check_fitted()
        rows = np.asarray(_torch().as_tensor(tokens).detach().cpu())
        tokenizer = self.vocabulary_.tokenizer
        texts = [self.vocabulary_.decode(row) for row in rows]
        if self.representation == "smiles":
            return texts
        from hygeia.molecules.data import canonical

        out = []
        for text in texts:
            smiles = tokenizer.to_smiles(text)
            out.append(canonical(smiles) or smiles)
        return out

    def sample(self, n: int, *, seed: int | None = None, temperature: float = 1.0) -> list[str]:
        """Sample ``n`` molecules as SMILES strings (raw: with SMILES some may be invalid).

        Args:
            n: number of molecules.
            seed: makes the samples reproducible (``None``: fresh entropy).
            temperature: divides the logits before sampling.
        """
        self._check_fitted()
        _check_n(n)
        torch = _torch()
        device = next(self.module_.parameters()).device
        gen = torch.Generator(device=device)
        gen.manual_seed(_derive(resolve_seed(seed), 0))
        out: list[str] = []
        with torch.no_grad():
            for start in range(0, n, _SAMPLE_CHUNK):
                tokens, _ = self.sample_tokens(min(_SAMPLE_CHUNK, n - start), generator=gen, temperature=temperature)
                out.extend(self.decode(tokens))
        return out

    def clone(self) -> "ChemicalLM":
        """An independent deep copy (same parameters, vocabulary and weights)."""
        self._check_fitted()
        return copy.deepcopy(self)

    def weights_digest(self) -> str:
        """The first 16 hex digits of a SHA-256 over the weights: which model made a run, in its record."""
        self._check_fitted()
        h = hashlib.sha256()
        for name, value in self.module_.state_dict().items():
            h.update(name.encode())
            h.update(value.detach().cpu().numpy().tobytes())
        return h.hexdigest()[:16]

    # -- persistence --------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        dtype = np.float16 if self.weights_dtype == "float16" else np.float32
        arrays = {
            f"module.{k}": v.detach().cpu().numpy().astype(dtype) for k, v in self.module_.state_dict().items()
        }
        state = {
            "vocabulary": self.vocabulary_.to_list(),
            "max_length": int(self.max_length_),
            "seed": int(self.seed_),
            "training": self.training_log_,
        }
        training_state = self.__dict__.get("training_state_")
        if training_state is not None:
            state["training_state"] = training_state.info
            arrays.update({f"training_state.{k}": v for k, v in training_state.arrays.items()})
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        torch = _torch()
        self._validate_params()
        vocab = Vocabulary(state["vocabulary"], get_tokenizer(self.representation))
        module = _module_class()(len(vocab), self.embedding_dim, self.hidden_dim, self.num_layers,
                                 float(self.dropout), self.cell)
        weights = {k[len("module."):]: torch.from_numpy(np.asarray(v, dtype=np.float32))
                   for k, v in arrays.items() if k.startswith("module.")}
        try:
            module.load_state_dict(weights)
        except RuntimeError as exc:
            raise DataValidationError([str(exc).splitlines()[0]], header="saved weights do not fit the model") from exc
        module.to(self._torch_device()).eval()
        self.vocabulary_ = vocab
        self.module_ = module
        self.max_length_ = int(state["max_length"])
        self.seed_ = int(state["seed"])
        self.training_log_ = list(state.get("training", []))
        self.__dict__.pop("training_state_", None)
        if state.get("training_state") is not None:
            prefix = "training_state."
            self.training_state_ = TrainingState.from_saved(
                state["training_state"], {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})


def default_prior(name: str = "moses") -> ChemicalLM:
    """A chemical language model shipped with Hygeia (a fresh copy each call).

    Args:
        name: which prior (a key of :data:`PRIORS`): ``moses`` (the default) or ``zinc250k``.

    Raises:
        ConfigError: if ``name`` is not a shipped prior.
        DataValidationError: if the shipped model folder is missing or damaged.
    """
    if name not in PRIORS:
        raise ConfigError(f"no shipped prior is called {name!r}; the shipped priors are {', '.join(PRIORS)}")
    model = load_generator(PRIORS[name])
    if not isinstance(model, ChemicalLM):  # pragma: no cover - the shipped folders are ours
        raise DataValidationError([f"{PRIORS[name]} holds a {type(model).__name__}"], header="damaged prior")
    return model


def _derive(seed: int, index: int) -> int:
    """A 63-bit seed derived from ``(seed, index)``."""
    return int(np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1, np.uint64)[0] >> np.uint64(1))


def _check_n(n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be a positive integer; got {n!r}")


def _is_positive_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value > 0
