"""REINVENT: reinforcement learning of a chemical language model (Olivecrona et al., 2017).

"Molecular de-novo design through deep reinforcement learning" (J. Cheminform. 9,
48) and REINVENT 2.0 (Blaschke et al., 2020, J. Chem. Inf. Model. 60, 5918) steer
a pretrained language model, the *prior*, towards high scores:

- the *agent* starts as a copy of the prior (optionally first fine-tuned on the
  user's molecules: transfer learning); the prior stays frozen;
- each step the agent samples ``batch_size`` sequences (duplicates dropped); their
  SMILES are scored through the :class:`Oracle` (RDKit sanitizes each; an invalid
  one scores 0 and costs no call);
- the *augmented likelihood* ``log P_prior(x) + sigma * reward(x)`` is the target of
  the agent's log-likelihood: the loss is ``(augmented - log P_agent(x))**2``,
  averaged over the batch and over ``experience_replay`` molecules drawn from a
  memory of the best ``experience_size`` seen so far (in proportion to reward);
- a **diversity filter** (Blaschke et al., 2020, "Memory-assisted reinforcement
  learning") keeps one bucket per Bemis-Murcko scaffold for molecules scoring at
  least ``df_min_score``; a molecule already in a bucket gets reward 0 when sampled
  again, and once a bucket holds ``bucket_size`` molecules every further molecule
  with that scaffold gets reward 0 too (the oracle still records true scores), so
  the agent has to leave what it has exploited.

The run stops when the oracle's budget is spent, after ``max_steps`` steps, or on
**mode collapse**: when fewer than ``min_new_fraction`` of a batch's valid
molecules are new to the oracle for ``patience`` steps in a row, the agent only
repeats itself and further steps would spend time, not calls.

Defaults follow PMO's tuned REINVENT (batch 64, sigma 500, learning rate 5e-4,
24 replayed molecules; Gao et al., 2022) and REINVENT 2.0's diversity filter
(bucket 25, minimum score 0.4).

Example:
    >>> from hygeia.molecules.lm import ChemicalLM
    >>> prior = ChemicalLM(representation="selfies", hidden_dim=32, embedding_dim=16, num_layers=1,
    ...                    max_steps=20, seed=0).fit(["CCO", "CCN", "c1ccccc1", "CC(=O)O", "CCOC"] * 10)
    >>> oracle = Oracle(lambda s: [min(len(x), 20) / 20 for x in s], budget=50)
    >>> result = Reinvent(prior=prior, batch_size=16).optimize(oracle, seed=0)
    >>> result.optimizer, result.metrics["n_calls"] <= 50
    ('reinvent', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hygeia.core.seeding import resolve_seed
from hygeia.errors import ConfigError, MissingExtraError
from hygeia.molecules.data import canonical
from hygeia.molecules.optimize.oracle import BudgetExhausted, OptimizationResult, Oracle
from hygeia.molecules.tokenizers import Vocabulary

__all__ = ["DiversityFilter", "Reinvent"]


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("torch", "molecules", "REINVENT") from None
    return torch


def _scaffold(smiles: str) -> str:
    """The Bemis-Murcko scaffold of a valid SMILES (``""`` for an acyclic molecule)."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(mol)) if mol is not None else ""


class DiversityFilter:
    """Scaffold buckets that zero the reward of repeats and of molecules from an exhausted scaffold.

    As REINVENT 2.0's identical-Murcko-scaffold filter: a molecule scoring at least
    ``min_score`` joins the bucket of its Bemis-Murcko scaffold; one already in a bucket
    (a repeat) gets reward 0, and so does a new one whose bucket already holds
    ``bucket_size`` molecules.

    Args:
        bucket_size: molecules a scaffold may collect before its reward is zeroed.
        min_score: only molecules scoring at least this enter (and are judged by) a bucket.

    Example:
        >>> df = DiversityFilter(bucket_size=1, min_score=0.5)
        >>> df(["c1ccccc1CO", "c1ccccc1CN", "CCO", "OCc1ccccc1"], np.array([0.9, 0.8, 0.9, 0.9])).tolist()
        [0.9, 0.0, 0.9, 0.0]
    """

    def __init__(self, bucket_size: int = 25, min_score: float = 0.4) -> None:
        self.bucket_size = bucket_size
        self.min_score = min_score
        self.buckets: dict[str, set[str]] = {}
        self._seen: set[str] = set()

    def __call__(self, smiles: Sequence[str | None], scores: np.ndarray) -> np.ndarray:
        """Rewards for canonical ``smiles`` (``None`` for invalid ones) with the given scores."""
        out = np.array(scores, dtype=float)
        for i, smi in enumerate(smiles):
            if smi is None or out[i] < self.min_score:
                continue
            if smi in self._seen:
                out[i] = 0.0
                continue
            bucket = self.buckets.setdefault(_scaffold(smi), set())
            if len(bucket) >= self.bucket_size:
                out[i] = 0.0
            else:
                bucket.add(smi)
                self._seen.add(smi)
        return out


class Reinvent:
    """REINVENT reinforcement learning of a :class:`~hygeia.molecules.lm.ChemicalLM`.

    Args:
        prior: the pretrained model (``None``: :func:`~hygeia.molecules.lm.default_prior`); never modified.
        batch_size: sequences sampled per step.
        sigma: weight of the reward in the augmented likelihood.
        learning_rate: Adam's step size for the agent.
        experience_size: best molecules kept for replay.
        experience_replay: molecules replayed per step (0: no replay).
        diversity_filter: whether to use the scaffold :class:`DiversityFilter`.
        bucket_size: the filter's bucket size.
        df_min_score: the filter's minimum score.
        temperature: sampling temperature of the agent.
        fine_tune_smiles: molecules the agent is first fine-tuned on (transfer learning), or ``None``.
        fine_tune_steps: training steps of that fine-tuning.
        min_new_fraction: mode-collapse threshold on the share of new molecules per batch.
        patience: steps in a row below that threshold before stopping.
        max_steps: most RL steps (``None``: until the budget is spent or the agent collapses).
    """

    name = "reinvent"

    def __init__(self, *, prior: Any = None, batch_size: int = 64, sigma: float = 500.0,
                 learning_rate: float = 5e-4, experience_size: int = 100, experience_replay: int = 24,
                 diversity_filter: bool = True, bucket_size: int = 25, df_min_score: float = 0.4,
                 temperature: float = 1.0, fine_tune_smiles: Sequence[str] | None = None,
                 fine_tune_steps: int = 100, min_new_fraction: float = 0.05, patience: int = 10,
                 max_steps: int | None = None) -> None:
        self.prior = prior
        self.batch_size = batch_size
        self.sigma = sigma
        self.learning_rate = learning_rate
        self.experience_size = experience_size
        self.experience_replay = experience_replay
        self.diversity_filter = diversity_filter
        self.bucket_size = bucket_size
        self.df_min_score = df_min_score
        self.temperature = temperature
        self.fine_tune_smiles = fine_tune_smiles
        self.fine_tune_steps = fine_tune_steps
        self.min_new_fraction = min_new_fraction
        self.patience = patience
        self.max_steps = max_steps

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (the prior and fine-tuning molecules summarized)."""
        params = dict(vars(self))
        params["prior"] = "default_prior()" if self.prior is None else type(self.prior).__name__
        if self.fine_tune_smiles is not None:
            params["fine_tune_smiles"] = f"{len(self.fine_tune_smiles)} molecules"
        return params

    def _validate(self) -> None:
        def positive_int(v: Any) -> bool:
            return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v > 0

        problems = []
        for name in ("batch_size", "experience_size", "bucket_size", "fine_tune_steps", "patience"):
            if not positive_int(getattr(self, name)):
                problems.append(f"{name} must be a positive integer; got {getattr(self, name)!r}")
        er = self.experience_replay
        if isinstance(er, bool) or not isinstance(er, (int, np.integer)) or er < 0:
            problems.append(f"experience_replay must be a non-negative integer; got {er!r}")
        if self.max_steps is not None and not positive_int(self.max_steps):
            problems.append(f"max_steps must be a positive integer or None; got {self.max_steps!r}")
        for name in ("sigma", "learning_rate", "temperature"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                problems.append(f"{name} must be a positive number; got {value!r}")
        for name in ("df_min_score", "min_new_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                problems.append(f"{name} must be in [0, 1]; got {value!r}")
        if self.fine_tune_smiles is not None and (isinstance(self.fine_tune_smiles, str)
                                                  or len(self.fine_tune_smiles) == 0):
            problems.append(f"fine_tune_smiles must be a non-empty list of SMILES or None; "
                            f"got {self.fine_tune_smiles!r:.60}")
        if problems:
            raise ConfigError("invalid Reinvent parameters:\n" + "\n".join(f"  - {p}" for p in problems))

    def _prior(self):
        from hygeia.molecules.lm import ChemicalLM, default_prior

        prior = default_prior() if self.prior is None else self.prior
        if not isinstance(prior, ChemicalLM):
            raise ConfigError(f"prior must be a fitted ChemicalLM (or None for the shipped prior); "
                              f"got {type(prior).__name__}.")
        return prior

    def optimize(self, oracle: Oracle, *, seed: int | None = None) -> OptimizationResult:
        """Train the agent against ``oracle`` until its budget is spent (or the agent collapses).

        Args:
            oracle: scores the molecules and keeps the account (use a fresh one per run).
            seed: makes the run reproducible (``None``: drawn from the OS and recorded).

        Returns:
            The oracle's history and figures, with one entry per RL step in ``steps``.
        """
        self._validate()
        if not isinstance(oracle, Oracle):
            raise ConfigError(f"optimize needs an Oracle; got {type(oracle).__name__}. Wrap the score function: "
                              "Oracle(score_fn, budget=...).")
        torch = _torch()
        seed = resolve_seed(seed)
        prior = self._prior().clone()
        for p in prior.module_.parameters():
            p.requires_grad_(False)
        agent = prior.clone()
        for p in agent.module_.parameters():
            p.requires_grad_(True)
        if self.fine_tune_smiles is not None:
            agent.fine_tune(list(self.fine_tune_smiles), steps=int(self.fine_tune_steps))
        agent.module_.eval()  # no dropout while sampling; gradients still flow
        device = next(agent.module_.parameters()).device
        gen = torch.Generator(device=device)
        gen.manual_seed(int(np.random.SeedSequence(seed, spawn_key=(0,)).generate_state(1, np.uint64)[0] >> 1))
        np_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
        optimizer = torch.optim.Adam(agent.module_.parameters(), lr=float(self.learning_rate))
        df = DiversityFilter(int(self.bucket_size), float(self.df_min_score)) if self.diversity_filter else None
        memory: dict[str, tuple[float, list[int]]] = {}  # canonical SMILES -> (reward, tokens)
        steps: list[dict[str, Any]] = []
        stop, low, step = "budget", 0, 0
        try:
            while not oracle.finished:
                if self.max_steps is not None and step >= self.max_steps:
                    stop = "max_steps"
                    break
                step += 1
                tokens, agent_ll = agent.sample_tokens(int(self.batch_size), generator=gen,
                                                       temperature=float(self.temperature))
                rows = [tuple(int(t) for t in row) for row in tokens.cpu().tolist()]
                keep = sorted({r: i for i, r in reversed(list(enumerate(rows)))}.values())
                index = torch.tensor(keep, dtype=torch.long, device=device)
                tokens, agent_ll = tokens[index], agent_ll[index]
                keys = [canonical(s) for s in agent.decode(tokens)]
                before = oracle.n_calls
                scores = oracle([k if k is not None else "" for k in keys])
                n_valid = sum(k is not None for k in keys)
                n_new = oracle.n_calls - before
                rewards = df(keys, scores) if df is not None else scores.copy()
                loss = self._loss(torch, prior, agent, tokens, agent_ll, rewards, memory, np_rng, device)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                self._remember(memory, keys, rewards, tokens)
                valid_scores = scores[[i for i, k in enumerate(keys) if k is not None]]
                new_fraction = n_new / n_valid if n_valid else 0.0
                steps.append({
                    "step": step, "n_calls": oracle.n_calls, "sampled": len(keys), "valid": n_valid,
                    "new": n_new, "mean_score": float(valid_scores.mean()) if n_valid else 0.0,
                    "max_score": float(valid_scores.max()) if n_valid else 0.0,
                    "mean_reward": float(rewards.mean()), "loss": float(loss.detach()),
                })
                low = low + 1 if new_fraction < self.min_new_fraction else 0
                if low >= self.patience:
                    stop = "mode_collapse"
                    break
        except BudgetExhausted:
            stop = "budget"
        return OptimizationResult.from_oracle(oracle, optimizer=self.name, seed=seed, stop_reason=stop,
                                              steps=steps, params=self.get_params())

    def _loss(self, torch, prior, agent, tokens, agent_ll, rewards, memory, np_rng, device):
        sigma = float(self.sigma)
        with torch.no_grad():
            prior_ll = prior.log_likelihood(tokens)
        target = prior_ll + sigma * torch.as_tensor(rewards, dtype=prior_ll.dtype, device=device)
        losses = [(target - agent_ll) ** 2]
        n = min(int(self.experience_replay), len(memory))
        if n:
            entries = list(memory.values())
            weights = np.array([r for r, _ in entries]) + 1e-10
            picked = np_rng.choice(len(entries), size=n, replace=False, p=weights / weights.sum())
            seqs = [entries[i][1] for i in picked]
            width = max(len(s) for s in seqs)
            exp_tokens = torch.full((n, width), Vocabulary.pad_id, dtype=torch.long, device=device)
            for i, s in enumerate(seqs):
                exp_tokens[i, : len(s)] = torch.tensor(s, dtype=torch.long)
            exp_rewards = torch.tensor([entries[i][0] for i in picked], dtype=prior_ll.dtype, device=device)
            with torch.no_grad():
                exp_prior = prior.log_likelihood(exp_tokens)
            exp_agent = agent.log_likelihood(exp_tokens)
            losses.append((exp_prior + sigma * exp_rewards - exp_agent) ** 2)
        return torch.cat(losses).mean()

    def _remember(self, memory: dict[str, tuple[float, list[int]]], keys: list[str | None],
                  rewards: np.ndarray, tokens) -> None:
        rows = tokens.cpu().tolist()
        for key, reward, row in zip(keys, rewards, rows):
            if key is None or reward <= 0:
                continue
            while row and row[-1] == Vocabulary.pad_id:
                row = row[:-1]
            if key not in memory or memory[key][0] < reward:
                memory[key] = (float(reward), row)
        if len(memory) > self.experience_size:
            best = sorted(memory.items(), key=lambda kv: (-kv[1][0], kv[0]))[: int(self.experience_size)]
            memory.clear()
            memory.update(best)
