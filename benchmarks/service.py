"""Load test of ``hygeia serve`` on loopback; writes ``benchmarks/results/service.json`` and prints it.

A real server (``hygeia serve``, uvicorn, one process, the SQLite job store, ``--jobs 1``) runs as a
subprocess on 127.0.0.1 over a fresh data root holding one run of ``--n`` persons. For each number of
concurrent clients in ``--clients`` (1, 8, 32), that many threads, each with its own keep-alive HTTP
connection, send at least ``--requests`` requests in all, and go on until the level's jobs are done
(bounded by ``--seconds``), cycling through the read endpoints with a token:

- ``health``: ``GET /api/v1/health`` (no token);
- ``runs``: ``GET /api/v1/runs``;
- ``person``: ``GET /api/v1/runs/demo/persons/{id}`` (a person and their events, through DuckDB);
- ``jobs``: ``GET /api/v1/jobs``.

Per endpoint it records p50 and p99 latency (ms) and the count of answers that were not 200; per level,
the requests per second. While each level's load runs, ``--jobs`` small generate jobs (``--job-n``
persons) are submitted one after the other; their time from submission to ``succeeded`` is recorded
beside the same job's time with no load (``idle_job_seconds``), and how many finished while the load ran. Client threads share the machine's CPUs with the server, so the
figures are those of one machine doing both.

Usage::

    nice .venv/bin/python benchmarks/service.py [--n 200] [--clients 1,8,32] [--requests 800] [--seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

HYGEIA = [sys.executable, "-c", "from hygeia.cli.main import run; run()"]
ENDPOINTS = ("health", "runs", "person", "jobs")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(con: http.client.HTTPConnection, method: str, path: str, token: str | None,
             body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    con.request(method, path, body=data, headers=headers)
    r = con.getresponse()
    return r.status, r.read()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _job_seconds(port: int, token: str, name: str, n: int) -> float:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    status, body = _request(con, "POST", "/api/v1/jobs/generate", token, {"n": n, "seed": 1, "name": name})
    assert status == 202, body
    job_id = json.loads(body)["id"]
    while True:
        status, body = _request(con, "GET", f"/api/v1/jobs/{job_id}", token)
        job = json.loads(body)
        if job["status"] in ("succeeded", "failed", "cancelled"):
            con.close()
            if job["status"] != "succeeded":
                raise RuntimeError(f"job {job_id} {job['status']}: {job['message']}")
            return time.perf_counter() - start
        time.sleep(0.05)


def _level(port: int, token: str, subjects: list[int], clients: int, requests: int, seconds: float,
           jobs: int, job_n: int, tag: str) -> dict[str, Any]:
    paths = {"health": "/api/v1/health", "runs": "/api/v1/runs", "jobs": "/api/v1/jobs"}
    latencies: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    errors = {e: 0 for e in ENDPOINTS}
    sent = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    job_times: list[float] = []
    job_ends: list[float] = []

    def submit_jobs() -> None:
        for j in range(jobs):
            job_times.append(_job_seconds(port, token, f"load-{tag}-{j}", job_n))
            job_ends.append(time.perf_counter())

    job_thread = threading.Thread(target=submit_jobs)

    def client(index: int) -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < deadline:
            with lock:  # at least `requests`, and on until the level's jobs are done
                if sent[0] >= requests and not job_thread.is_alive():
                    break
                i = sent[0]
                sent[0] += 1
            endpoint = ENDPOINTS[i % len(ENDPOINTS)]
            path = paths.get(endpoint) or f"/api/v1/runs/demo/persons/{subjects[i % len(subjects)]}"
            t = time.perf_counter()
            try:
                status, _ = _request(con, "GET", path, None if endpoint == "health" else token)
            except (OSError, http.client.HTTPException):
                status = 0
                con.close()
                con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                latencies[endpoint].append(elapsed)
                errors[endpoint] += status != 200
        con.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    job_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load_end = time.perf_counter()
    wall = load_end - start
    job_thread.join()
    done = sum(len(v) for v in latencies.values())
    return {
        "clients": clients,
        "requests": done,
        "seconds": round(wall, 2),
        "requests_per_second": round(done / wall, 1),
        "endpoints": {e: {"p50_ms": round(_percentile(v, 0.50), 2), "p99_ms": round(_percentile(v, 0.99), 2),
                          "requests": len(v), "not_200": errors[e]} for e, v in latencies.items() if v},
        "jobs_submitted": jobs,
        "jobs_completed_under_load": sum(t <= load_end for t in job_ends),
        "job_seconds_under_load": [round(x, 2) for x in job_times],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="persons in the run the reads hit")
    p.add_argument("--clients", default="1,8,32", help="concurrent clients, one level each")
    p.add_argument("--requests", type=int, default=800, help="least requests per level (all endpoints together)")
    p.add_argument("--seconds", type=float, default=60.0, help="longest a level may run")
    p.add_argument("--jobs", type=int, default=2, help="generate jobs submitted during each level")
    p.add_argument("--job-n", type=int, default=20, help="persons of each generate job")
    p.add_argument("--out", default=None, help="result file (default benchmarks/results/service.json)")
    args = p.parse_args(argv)
    levels = [int(x) for x in args.clients.split(",")]

    from hygeia.population.generate import generate
    from hygeia.service import JobStore, ServiceSettings
    from hygeia.service._auth import create_token

    with tempfile.TemporaryDirectory(prefix="hygeia-service-bench-") as tmp:
        root = Path(tmp)
        generate(n=args.n, seed=1, out=root / "runs" / "demo", quiet=True)
        store = JobStore(ServiceSettings(data_root=root))
        token = create_token(store, "bench", "write")
        store.close()
        import pyarrow.parquet as pq

        subjects = sorted(pq.read_table(root / "runs" / "demo" / "persons", columns=["subject_id"])
                          .column("subject_id").to_pylist())
        port = _free_port()
        server = subprocess.Popen([*HYGEIA, "serve", "--data-root", str(root), "--port", str(port), "--jobs", "1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    con = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    if _request(con, "GET", "/api/v1/health", None)[0] == 200:
                        con.close()
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("hygeia serve did not start") from None
                    time.sleep(0.2)
            idle = [_job_seconds(port, token, f"idle-{j}", args.job_n) for j in range(args.jobs)]
            print(f"idle job seconds: {idle}", file=sys.stderr, flush=True)
            _level(port, token, subjects, 4, 80, 30, 0, args.job_n, "warmup")  # warm caches and the threadpool
            rows = []
            for clients in levels:
                rows.append(_level(port, token, subjects, clients, args.requests, args.seconds, args.jobs,
                                   args.job_n, str(clients)))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    figures = {"levels": rows, "idle_job_seconds": [round(x, 2) for x in idle],
               "idle_job_seconds_median": round(statistics.median(idle), 2),
               "server": "hygeia serve (uvicorn, 1 process), SQLite job store, --jobs 1, 127.0.0.1"}
    doc = _results.envelope("service", seeds=[1], sizes={"persons_in_run": args.n, "requests_per_level": args.requests,
                                                        "seconds_per_level_max": args.seconds,
                                                        "jobs_per_level": args.jobs, "persons_per_job": args.job_n,
                                                        "clients": levels, "cpus": os.cpu_count()},
                            figures=figures, argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    _results.write(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
