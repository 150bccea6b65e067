"""The evaluation report: ``report.json`` plus a self-contained ``report.html``.

:func:`run_evaluation` is what ``hygeia evaluate`` runs: it loads the real,
synthetic and (optional) holdout data (CSV, Parquet, or Hygeia run folders),
validates them, computes the metrics (:func:`hygeia.evaluate.evaluate_tables`)
and the clinical plausibility checks, and writes both files atomically.
:func:`write_report` turns a result dict into the two files. The HTML has one
``<section>`` per top-level key (``fidelity``, ``utility``, ``privacy``,
``fairness``, ``plausibility``, ``meta``), readable tables and inline SVG plots;
it needs no network, script or style sheet from elsewhere. Each section opens
with its headline numbers, one sentence each on what the number means and a
verdict (good, fair, poor; "not measured" with the reason); the overall
summary, the ``warnings`` and the ``caveats`` are above the sections (the
HTML is built in ``_html.py``). :func:`summary_text` is the same summary as
plain text for the console.

Example:
    >>> import tempfile
    >>> result = {"fidelity": {"overall": 0.9}, "utility": {}, "privacy": {}, "fairness": {},
    ...           "plausibility": {"rules": [], "overall_violation_rate": 0.0}, "meta": {"seed": 0}}
    >>> json_path, html_path = write_report(result, tempfile.mkdtemp())
    >>> json_path.name, html_path.name
    ('report.json', 'report.html')
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hygeia.core.atomic import atomic_output, write_text
from hygeia.errors import OutputError
from hygeia.evaluate._html import SECTIONS, render_html
from hygeia.evaluate._inputs import load_inputs
from hygeia.evaluate._summary import overview
from hygeia.evaluate._summary import summary_text as _summary_text
from hygeia.evaluate._warnings import data_warnings, result_warnings

__all__ = ["SECTIONS", "overview", "render_html", "run_evaluation", "summary_text", "write_report"]


# -- JSON ----------------------------------------------------------------------------
def _clean(v: Any) -> Any:
    """A JSON-safe copy: NaN/inf -> None, numpy scalars/arrays -> Python, dates -> ISO."""
    if isinstance(v, Mapping):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [_clean(x) for x in v]
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, Path):
        return str(v)
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        return _clean(v.tolist())
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return _clean(v.item())
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)


def summary_text(result: Mapping[str, Any], report: str | os.PathLike[str] | None = None) -> str:
    """A short human summary of a report for the console (what ``hygeia evaluate`` prints).

    The overall verdict, each section's verdict with its key numbers in words,
    the warnings, and where the report is. Verdicts follow the thresholds in
    ``docs/evaluate.md``; a section takes the worst verdict of its headline numbers.

    Args:
        result: the report dict (as :func:`run_evaluation` returns or ``report.json`` holds).
        report: the path of ``report.html``, named on the last line.

    Returns:
        Lines separated by newlines.

    Example:
        >>> text = summary_text({"utility": {"status": "not measured", "reason": "no holdout was given"},
        ...                      "meta": {"n_real": 10, "n_synthetic": 10}}, "out/report.html")
        >>> print(text.splitlines()[-1])
        Report: out/report.html.
    """
    return _summary_text(result, None if report is None else str(report))


def write_report(result: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``out_dir`` (created if missing).

    Missing top-level keys are written as empty objects, so ``report.json``
    always has exactly :data:`SECTIONS` (plus any other keys ``result`` has).

    Returns:
        ``(json_path, html_path)``.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the report folder {str(out)!r}: {e}. Choose another --out.") from None
    data = _clean({**{s: {} for s in SECTIONS}, **dict(result)})
    json_path, html_path = out / "report.json", out / "report.html"
    for path, text in ((json_path, json.dumps(data, indent=2, allow_nan=False) + "\n"), (html_path, render_html(data))):
        write_text(path, text, what="report file")
    return json_path, html_path


def run_evaluation(
    real: str | os.PathLike[str],
    synthetic: str | os.PathLike[str],
    holdout: str | os.PathLike[str] | None = None,
    target: str | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    out: str | os.PathLike[str] = "report",
    *,
    time_column: str | None = None,
    event_column: str | None = None,
    subgroups: Sequence[str] | None = None,
    seed: int = 0,
    extra_rule_files: Sequence[str | os.PathLike[str]] = (),
    overwrite: bool = False,
    column_types: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Evaluate synthetic data against real data and write the report to ``out``.

    Args:
        real: the real (training) data: a CSV or Parquet file, or a Hygeia run folder.
        synthetic: the synthetic data, in the same form.
        holdout: real data kept out of training (for privacy and utility), optional.
        target: the outcome column (utility, fairness rates).
        quasi_identifiers: columns an attacker may know (privacy).
        out: the report folder; written to a temporary sibling and renamed.
        time_column, event_column: survival columns, when the data has them.
        subgroups: columns whose groups the fairness section compares.
        seed: seed of every random choice in the metrics.
        extra_rule_files: plausibility rule files added to the defaults.
        overwrite: replace an existing report folder.
        column_types: declared types (``--type COL=TYPE``, ``--metadata FILE``); the rest are detected
            by the detector ``hygeia fit`` uses. ``report.json`` records every type used
            (``meta.column_types``) and which were declared (``meta.declared_types``).

    Returns:
        The report as written to ``report.json``.

    Raises:
        DataValidationError: listing every problem with the inputs.
        OutputError: if ``out`` exists (without ``overwrite``) or cannot be written.
    """
    from hygeia.evaluate import evaluate_tables

    dest = Path(out).expanduser().absolute()
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())) and not overwrite:
        raise OutputError(f"output {str(dest)!r} already exists and is not empty. "
                          "Choose another --out folder, or pass --overwrite.")
    inputs = load_inputs(real, synthetic, holdout, target=target, quasi_identifiers=quasi_identifiers,
                         time_column=time_column, event_column=event_column, subgroups=subgroups,
                         extra_rule_files=extra_rule_files)
    result = dict(evaluate_tables(
        inputs.real, inputs.synthetic, holdout=inputs.holdout, target=target, time_column=time_column,
        event_column=event_column, quasi_identifiers=list(quasi_identifiers) if quasi_identifiers else None,
        subgroups=list(subgroups) if subgroups else None, seed=seed,
        column_types=dict(column_types) if column_types else None,
    ))
    result["plausibility"] = inputs.plausibility()
    used_types = (result.get("meta") or {}).get("column_types") or {}
    result["warnings"] = data_warnings(
        inputs.real, inputs.synthetic, inputs.holdout, used_types, target=target, time_column=time_column,
        event_column=event_column, seed=seed, declared=column_types,
    ) + result_warnings(result)
    meta = dict(result.get("meta") or {})
    meta.update({
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs.describe(), "seed": seed, "target": target,
        "quasi_identifiers": list(quasi_identifiers or []), "subgroups": list(subgroups or []),
    })
    result["meta"] = meta
    _write_atomically(result, dest)
    return _clean({**{s: {} for s in SECTIONS}, **result})


def _write_atomically(result: Mapping[str, Any], dest: Path) -> None:
    with atomic_output(dest, folder=True, overwrite=True, what="report folder") as tmp:
        write_report(result, tmp)
