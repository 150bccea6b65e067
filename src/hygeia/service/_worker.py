"""The child process of one job: runs a ``hygeia`` command, and stops it if the server dies.

``python -m hygeia.service._worker JOB_ID ARGS...`` runs ``hygeia ARGS...`` exactly as the console command
does (its errors in the CLI's words, exit status 2; SIGTERM exits 143 and deletes temporary output, except the shards a
``generate`` keeps for ``--resume``),
with two differences: progress lines come every second instead of every ten (the job's progress is
read from them), and a watchdog thread sends the process SIGTERM when its parent (the server) is gone,
so a killed server never leaves a job writing on with nobody to record it. ``JOB_ID`` only names the
process (a restarted server finds a job's leftover worker by it).

Example:
    >>> import subprocess, sys
    >>> out = subprocess.run([sys.executable, "-m", "hygeia.service._worker", "0123456789ab", "--version"],
    ...                      capture_output=True, text=True)
    >>> out.returncode, out.stdout.startswith("hygeia ")
    (0, True)
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

__all__ = ["main"]

PROGRESS_INTERVAL = 1.0  # seconds between two progress lines


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.25)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def main(job_id: str, args: list[str]) -> None:
    """Run ``hygeia args`` (for the job ``job_id``) and exit with its status."""
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True, name=f"watchdog-{job_id}").start()
    from hygeia.core.progress import Progress

    Progress.__init__.__kwdefaults__["interval"] = PROGRESS_INTERVAL  # type: ignore[index]
    from hygeia.cli.main import run

    sys.argv = ["hygeia", *args]
    run()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
