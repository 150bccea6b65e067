"""Seeds as a tree.

One run seed becomes a :class:`numpy.random.SeedSequence`; every person, shard
or job draws a child derived from ``(run seed, stream, index)`` alone, so the
output is identical on 1 or N workers and on any executor. ``seed=None`` draws
fresh entropy from the operating system (never the clock) and the drawn value
is what gets recorded in ``run.json``.

Example:
    >>> tree = SeedTree(42)
    >>> tree.person_seed(0) == SeedTree(42).person_seed(0)
    True
    >>> tree.person_seed(0) != tree.person_seed(1)
    True
"""

from __future__ import annotations

import random

import numpy as np

from hygeia.errors import ConfigError

__all__ = ["STREAM_PERSON", "SeedTree", "resolve_seed"]

#: Stream identifiers: independent branches of the seed tree.
STREAM_PERSON = 1
STREAM_DEMOGRAPHICS = 2


def resolve_seed(seed: int | None) -> int:
    """Return a concrete non-negative run seed.

    Args:
        seed: a non-negative integer, or ``None`` to draw one from OS entropy.

    Returns:
        The seed to use and to record in the output's metadata.

    Raises:
        ConfigError: if ``seed`` is negative or not an integer.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed must be a non-negative integer or None; got {seed!r}. Pass e.g. seed=42.")
    if seed < 0:
        raise ConfigError(f"seed must be a non-negative integer; got {seed}. Pass e.g. seed=42.")
    return int(seed)


class SeedTree:
    """Derives independent, reproducible seeds from one run seed.

    Args:
        seed: the run seed (see :func:`resolve_seed`).
    """

    def __init__(self, seed: int) -> None:
        self.seed = resolve_seed(seed)

    def child(self, stream: int, index: int) -> np.random.SeedSequence:
        """The seed sequence of item ``index`` in ``stream``."""
        return np.random.SeedSequence(self.seed, spawn_key=(stream, index))

    def person_seed(self, index: int) -> int:
        """A 64-bit seed for person ``index`` (0-based)."""
        return int(self.child(STREAM_PERSON, index).generate_state(1, np.uint64)[0])

    def person_rng(self, index: int) -> random.Random:
        """A fast scalar random generator for person ``index``."""
        return random.Random(self.person_seed(index))
