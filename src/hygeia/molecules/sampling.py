"""Sample a given number of valid, canonical molecules from a chemical language model.

Example:
    >>> from hygeia.molecules.lm import ChemicalLM
    >>> lm = ChemicalLM(hidden_dim=16, embedding_dim=8, num_layers=1, max_steps=3, seed=0).fit(["CCO", "CCN"] * 4)
    >>> smiles, drawn = sample_valid(lm, 5, seed=1)
    >>> len(smiles), drawn >= 5
    (5, True)
"""

from __future__ import annotations

from typing import Any

from hygeia.errors import SimulationError

__all__ = ["sample_valid"]


def sample_valid(lm: Any, n: int, *, seed: int, temperature: float = 1.0, max_rounds: int = 20) -> tuple[list[str], int]:
    """``n`` RDKit-valid canonical SMILES (duplicates kept, as sampled) and how many strings were drawn.

    Rounds after the first use seeds derived from ``seed``, so the result depends on ``seed`` alone.

    Raises:
        SimulationError: if fewer than ``n`` valid molecules appear within ``max_rounds`` rounds.
    """
    from rdkit import Chem, rdBase

    valid: list[str] = []
    drawn = 0
    for round_ in range(max_rounds):
        want = n - len(valid)
        batch = lm.sample(want if round_ == 0 else max(want * 2, 16), seed=seed if round_ == 0 else seed * 1009 + round_)
        drawn += len(batch)
        with rdBase.BlockLogs():
            for s in batch:
                mol = Chem.MolFromSmiles(s) if s else None
                if mol is not None and mol.GetNumAtoms() > 0:
                    valid.append(Chem.MolToSmiles(mol))
                    if len(valid) == n:
                        return valid, drawn
    raise SimulationError(
        f"only {len(valid)} of {n} sampled molecules were valid after {drawn} draws; "
        "the model is undertrained: train it longer or use the SELFIES representation"
    )
