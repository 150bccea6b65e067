"""The output folder of ``hygeia molecules optimize``: molecules.csv, top.sdf, report.html, run.json."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["write_optimization"]


def _alert_hits(smiles: list[str]) -> list[str]:
    from rdkit import Chem, rdBase

    from hygeia.molecules.filters import catalog_filter

    flt = catalog_filter("PAINS", "BRENK")
    out = []
    with rdBase.BlockLogs():
        for s in smiles:
            mol = Chem.MolFromSmiles(s)
            out.append("; ".join(flt.hits(mol)) if mol is not None else "invalid")
    return out


def write_optimization(out: str, result: Any, scorer: Any, *, label: str, method: str, seed: int, budget: int,
                       seconds: float, overwrite: bool, prior: dict[str, str] | None = None) -> float:
    """Write the optimization ``result`` into the folder ``out`` atomically.

    Args:
        out: the output folder.
        result: an :class:`~hygeia.molecules.optimize.OptimizationResult`.
        scorer: the scoring function (its components are tabulated for the top 100).
        label: the objective in words, for the report title.
        method: ``reinvent`` or ``graph_ga``.
        seed: the run seed (recorded).
        budget: the oracle budget (recorded).
        seconds: how long the optimization took.
        overwrite: replace an existing folder.
        prior: REINVENT's prior, named (``name``: a shipped prior's name or a folder) and identified
            (``weights_digest``): recorded.

    Returns:
        The share of the top 10 molecules free of PAINS and Brenk alerts.
    """
    import pandas as pd

    from hygeia import __version__
    from hygeia.cli.molecules import _score_table
    from hygeia.core.atomic import atomic_output
    from hygeia.molecules.report import write_molecules, write_report

    calls = pd.DataFrame({"call": range(1, len(result.smiles) + 1), "smiles": result.smiles, "score": result.scores})
    top = calls.sort_values(["score", "call"], ascending=[False, True]).head(100)
    top_table = _score_table(scorer, list(top["smiles"]))
    if "sa" not in top_table.columns:
        from rdkit import Chem

        from hygeia.molecules.scoring import sa_score

        top_table["sa_score"] = [sa_score(Chem.MolFromSmiles(s)) for s in top_table["smiles"]]
    alerts = _alert_hits(list(top_table["smiles"]))
    top_table["alerts"] = alerts
    passing = sum(1 for a in alerts[:10] if not a) / max(1, min(10, len(alerts)))
    summary = {
        "hygeia_version": __version__, "scoring": label, "method": method, "seed": seed, "budget": budget,
        "stop_reason": result.stop_reason, "seconds": round(seconds, 2), "metrics": result.metrics,
        "optimizer_params": result.params, "top10_passing_pains_brenk": passing,
    }
    if prior is not None:
        summary["prior"] = prior
    with atomic_output(out, folder=True, overwrite=overwrite, what="output folder") as tmp:
        write_molecules(calls, tmp / "molecules.csv")
        write_molecules(top_table, tmp / "top.sdf")
        write_report(tmp / "report.html", title=f"Hygeia molecule optimization: {label}", top=top_table, summary=summary,
                     calls=calls, scorer=scorer)
        (tmp / "run.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return passing
