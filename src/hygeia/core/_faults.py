"""Test-only fault injection: a worker that kills itself at a chosen shard.

The fault-injection suite (``tests/integration/test_faults*.py``) and ``benchmarks/faults.py``
set the environment variable :data:`KILL_ENV` to make the process that computes a chosen shard
die by ``SIGKILL`` — exactly what the kernel's out-of-memory killer does — just before it
computes it. Users never set it. Its value is ``INDEX`` or ``INDEX:MARKER``:

* ``INDEX``: the process computing shard ``INDEX`` dies, every time (the retries run out);
* ``INDEX:MARKER``: it dies once: the first process to get there creates the file ``MARKER``
  and dies; later attempts find the file and compute the shard.

A worker reads the variable from its own environment, so it reaches local worker processes
and the processes of a local Dask cluster alike; with one worker the shard runs in the main
process, which then dies (a power cut, as far as the run folder is concerned).

Example:
    >>> maybe_kill(3)  # the variable is not set: nothing happens
"""

from __future__ import annotations

import os
import signal

__all__ = ["KILL_ENV", "maybe_kill"]

#: The environment variable read by :func:`maybe_kill` (test-only).
KILL_ENV = "HYGEIA_TEST_KILL_SHARD"


def maybe_kill(index: int) -> None:
    """SIGKILL this process if :data:`KILL_ENV` names shard ``index`` (see the module docstring)."""
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    target, _, marker = spec.partition(":")
    if int(target) != index:
        return
    if marker:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return  # already died once
    os.kill(os.getpid(), signal.SIGKILL)
