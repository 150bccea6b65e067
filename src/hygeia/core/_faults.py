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

:data:`EXPORT_KILL_ENV` does the same for ``hygeia export``: the exporting process dies once
shard ``INDEX`` is written and before it is journalled, so the shard is torn as far as the
export's journal knows (``export --resume`` must redo it). A process that leads its own
process group (started with ``start_new_session``) kills the whole group, its workers too: a
power cut.

Example:
    >>> maybe_kill(3)  # the variable is not set: nothing happens
"""

from __future__ import annotations

import os
import signal

__all__ = ["EXPORT_KILL_ENV", "KILL_ENV", "maybe_kill"]

#: The environment variable read by :func:`maybe_kill` (test-only).
KILL_ENV = "HYGEIA_TEST_KILL_SHARD"
#: The same for an export (read before a written shard is journalled).
EXPORT_KILL_ENV = "HYGEIA_TEST_KILL_EXPORT_SHARD"


def maybe_kill(index: int, env: str = KILL_ENV) -> None:
    """SIGKILL this process if the variable ``env`` names shard ``index`` (see the module docstring)."""
    spec = os.environ.get(env)
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
    if env == EXPORT_KILL_ENV and os.getpgrp() == os.getpid():  # a process group of its own: all of it dies
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
