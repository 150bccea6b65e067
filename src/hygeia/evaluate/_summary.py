"""The overall summary of a report: what was compared, a verdict per section in words, the warnings.

:func:`overview` builds it from ``report.json``; the HTML report shows it at
the top and :func:`summary_text` prints it on the console (``hygeia
evaluate``). A section's verdict is the *worst* verdict among its headline
numbers (good < fair < poor), so one poor number is never averaged away; the
overall verdict is the worst section verdict. Sections whose every headline
number is "not measured" say so and do not count.

Example:
    >>> result = {"fidelity": {"overall": 0.95, "detection_auc": 0.8}, "utility": {},
    ...           "meta": {"n_real": 100, "n_synthetic": 100}}
    >>> o = overview(result)
    >>> o["verdict"], o["sections"][0]["verdict"]
    ('poor', 'poor')
    >>> print(summary_text(result).splitlines()[1])
    Overall: poor (fidelity is poor).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hygeia.evaluate._explain import NOT_MEASURED, Row, _f, headline
from hygeia.evaluate._warnings import result_warnings

__all__ = ["overview", "summary_text", "warnings_of"]

_ORDER = ("good", "fair", "poor")
_SECTIONS = ("fidelity", "utility", "privacy", "fairness", "plausibility")
_TITLES = {"fidelity": "Fidelity", "utility": "Utility", "privacy": "Privacy", "fairness": "Fairness",
           "plausibility": "Plausibility"}
_KEY = {  # the numbers a section's sentence always names
    "fidelity": ("Overall quality", "Detection AUC"),
    "utility": ("TSTR", "TRTR", "Gap (TRTR − TSTR)"),
    "privacy": ("Exact copies", "Membership inference AUC"),
    "fairness": ("Worst representation error",),
    "plausibility": ("Rule violation rate",),
}


def warnings_of(result: Mapping[str, Any]) -> list[dict[str, str]]:
    """The report's warnings: its ``warnings`` list when it has one, else those read from its sections."""
    stored = result.get("warnings")
    if isinstance(stored, list):
        return [w for w in stored if isinstance(w, Mapping)]
    return result_warnings(result)


def _value(row: Row) -> str:
    return NOT_MEASURED if row.value == NOT_MEASURED else _f(row.value)


def _section(name: str, data: Any) -> dict[str, str] | None:
    rows = headline(name, data) if isinstance(data, Mapping) else []
    if not rows:
        return None
    judged = [r for r in rows if r.verdict in _ORDER]
    if not judged:
        reasons = [r.sentence.split(" (")[0].split(":")[0].rstrip(".") for r in rows if r.verdict == NOT_MEASURED]
        why = f" ({reasons[0][:1].lower() + reasons[0][1:]})" if reasons else ""
        return {"section": name, "verdict": NOT_MEASURED, "sentence": f"not measured{why}."}
    verdict = max((r.verdict for r in judged), key=_ORDER.index)
    named = [f"{r.label} {_value(r)}"
             + (f" ({r.verdict})" if r.verdict in _ORDER else "") for r in rows if r.label in _KEY[name]]
    weak = [f"{r.label} {_value(r)} ({r.verdict})" for r in judged if r.verdict != "good" and r.label not in _KEY[name]]
    if name == "utility":
        util_ci = data.get("gap_ci95")
        if isinstance(util_ci, list) and len(util_ci) == 2 and None not in util_ci:
            named.append(f"95 % interval of the gap {_f(util_ci[0])} to {_f(util_ci[1])}")
        if data.get("metric"):
            named.insert(0, f"{data['metric']} on {data.get('n_test', 'the')} holdout rows:")
    sentence = ", ".join(named)
    if weak:
        sentence += ("; " if sentence else "") + "weak: " + ", ".join(weak)
    sentence = sentence.replace(":,", ":")
    return {"section": name, "verdict": verdict, "sentence": sentence + "."}


def _compared(result: Mapping[str, Any]) -> str:
    meta = result.get("meta") or {}
    if not isinstance(meta, Mapping):
        meta = {}

    def n(key: str) -> str:
        v = meta.get(key)
        return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else "?"

    text = f"{n('n_synthetic')} synthetic rows against {n('n_real')} real training rows"
    text += (f" and a holdout of {n('n_holdout')} real rows the generator never saw" if meta.get("n_holdout")
             else ", with no holdout (so utility and membership inference are not measured)")
    types = meta.get("column_types")
    if isinstance(types, Mapping) and types:
        text += f"; {len(types)} columns"
    if meta.get("target"):
        text += f", target {meta['target']!r}"
    return text + "."


def overview(result: Mapping[str, Any]) -> dict[str, Any]:
    """The report's summary as data.

    Returns:
        ``{"compared": sentence, "verdict": worst section verdict, "because": sections driving it,
        "sections": [{"section", "verdict", "sentence"}], "warnings": [warning dicts]}``.
    """
    sections = [s for s in (_section(name, result.get(name)) for name in _SECTIONS) if s is not None]
    judged = [s for s in sections if s["verdict"] in _ORDER]
    verdict = max((s["verdict"] for s in judged), key=_ORDER.index) if judged else NOT_MEASURED
    because = [s["section"] for s in judged if s["verdict"] == verdict and verdict != "good"]
    return {"compared": _compared(result), "verdict": verdict, "because": because, "sections": sections,
            "warnings": warnings_of(result)}


def summary_text(result: Mapping[str, Any], report: str | None = None) -> str:
    """A short plain-text summary for the console: overall verdict, each section's, warnings, the report path.

    Args:
        result: the report dict (``report.json``).
        report: where ``report.html`` is, named on the last line.

    Returns:
        Lines separated by newlines, without a trailing newline.
    """
    o = overview(result)
    lines = [f"Compared {o['compared']}"]
    why = f" ({', '.join(o['because'])} {'is' if len(o['because']) == 1 else 'are'} {o['verdict']})" \
        if o["because"] else ""
    lines.append(f"Overall: {o['verdict']}{why}.")
    for s in o["sections"]:
        verdict = "" if s["verdict"] == NOT_MEASURED else f"{s['verdict']}: "
        lines.append(f"  {_TITLES[s['section']] + ':':<14}{verdict}{s['sentence']}")
    if o["warnings"]:
        lines.append(f"{len(o['warnings'])} warning(s):")
        lines += [f"  ! {w.get('message', '')}" for w in o["warnings"]]
    caveats = result.get("caveats") or []
    tail = f"; read its {len(caveats)} caveat(s) before quoting a number" if caveats else ""
    if report:
        lines.append(f"Report: {report}{tail}.")
    return "\n".join(lines)
