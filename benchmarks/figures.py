"""The figures in README, ``docs/`` and ``tabular/auto.py``, rendered from ``benchmarks/results/*.json``.

A measured figure is never typed by hand. It is written between markers that name
where it comes from, and this module renders it from the result file:

* one figure: ``<!-- fig FILE:PATH FORMAT -->VALUE<!-- /fig -->``. ``FILE`` is a
  result file without ``.json`` (``population``), ``PATH`` a dotted path in it
  (``figures.default_modules.patients_per_cpu_second``; list items by index),
  ``FORMAT`` a Python format spec (``.3f``, ``,.0f``, ``,d``; ``s`` for text).
  A node with ``mean`` and ``std`` (a spread over seeds) renders as
  ``mean ± std``; add ``.mean`` to the path for the mean alone.
* a table: ``<!-- table NAME -->`` ... ``<!-- /table -->``, rendered by the function
  registered under ``NAME`` in :data:`TABLES`.

A number that looks measured but is a setting (a timeout, a default) is followed by
``<!-- setting -->``: ``within 10 s<!-- setting -->``; a confidence level
(``a 95 % interval``) is recognised as one.

``check()`` lists every figure or table that differs from its rendering, every
marker that points nowhere, and every number that looks measured but has no
marker (:func:`lint`); ``tests/unit/test_benchmark_figures.py`` fails on any.
``write()`` rewrites the marked regions in place after a benchmark is rerun.

Usage (from the repository root)::

    .venv/bin/python benchmarks/figures.py            # check; exit 1 and list problems
    .venv/bin/python benchmarks/figures.py --write    # re-render every marked figure and table
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

#: Where marked figures may live.
DOCUMENTS = ("README.md", "docs/*.md", "src/hygeia/tabular/auto.py")

FIG = re.compile(r"<!-- fig (?P<file>[\w.-]+):(?P<path>\S+) (?P<fmt>\S+) -->(?P<value>.*?)<!-- /fig -->")
TABLE = re.compile(r"(?P<open><!-- table (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(?P<close>^[ \t]*<!-- /table -->)",
                   re.DOTALL | re.MULTILINE)


#: A number that is a setting, not a measurement (a timeout, a threshold): ``10 s<!-- setting -->``.
SETTING = re.compile(r"\d[\d,.]*\s?[^\s<]*<!-- setting -->")
#: A confidence level is a setting too: ``a 95 % interval``.
LEVEL = re.compile(r"\d+(?:\.\d+)?\s?%\s+(?:confidence|interval|Wilson|bootstrap|CI)")


class FigureError(Exception):
    """A marker that names no result, no path or no table."""


# -- reading results ---------------------------------------------------------------------------------

def load_results(folder: Path = RESULTS) -> dict[str, Any]:
    """Every ``*.json`` under ``folder``, by file name without ``.json``."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def lookup(results: dict[str, Any], file: str, path: str) -> Any:
    if file not in results:
        raise FigureError(f"no benchmarks/results/{file}.json")
    node: Any = results[file]
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise FigureError(f"{file}.json has no {path!r} (stopped at {part!r})")
    return node


def fmt(value: Any, spec: str) -> str:
    """``value`` formatted with ``spec``; a spread (``mean``/``std``) as ``mean ± std``."""
    if isinstance(value, dict) and "mean" in value and "std" in value:
        return f"{fmt(value['mean'], spec)} ± {fmt(value['std'], spec)}"
    if isinstance(value, dict) and "error" in value:
        return "failed"
    if value is None:
        return "n/a"
    if spec.endswith("d") and isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return format(value, spec)
    except (TypeError, ValueError) as exc:
        raise FigureError(f"cannot format {value!r} with {spec!r}: {exc}") from exc


# -- tables -------------------------------------------------------------------------------------------

TABLES: dict[str, Callable[[dict[str, Any]], str]] = {}


def table(name: str) -> Callable:
    def register(fn: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
        TABLES[name] = fn
        return fn
    return register


def _md(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


_TABULAR_MODELS = {"cart": "Hygeia cart", "copula": "Hygeia copula", "neural": "Hygeia neural (TVAE)",
                   "dp": "Hygeia dp", "sdv_gaussian_copula": "SDV GaussianCopula", "sdv_tvae": "SDV TVAE"}
_TABULAR_COLS = [("quality", "quality", ".3f"), ("tstr_auc", "TSTR AUC", ".3f"), ("mia_auc", "MIA AUC", ".3f"),
                 ("exact_copy_rate", "exact copies", ".3f"), ("dcr_share_excess", "DCR excess", ".3f"),
                 ("subgroup_outcome_rate_error", "sex subgroup error", ".3f"), ("fit_cpu_s", "fit CPU-s", ".2f")]


def _tabular(results: dict[str, Any], dataset: str) -> str:
    d = lookup(results, "tabular", f"figures.datasets.{dataset}")
    rows = []
    for model, label in _TABULAR_MODELS.items():
        m = d["models"].get(model)
        if m is None:
            continue
        if "error" in m:
            rows.append([label] + ["failed"] * len(_TABULAR_COLS))
            continue
        rows.append([label] + [fmt(m.get(k), f) for k, _, f in _TABULAR_COLS])
    trtr = next((m["trtr_auc"] for m in d["models"].values() if "trtr_auc" in m), None)
    base = d["real_holdout_vs_train"]
    rows.append(["real holdout (quality; TRTR AUC)", fmt(base["quality"], ".3f"), fmt(trtr, ".3f")] + [""] * 5)
    return _md([dataset] + [h for _, h, _ in _TABULAR_COLS], rows)


for _name in ("flchain", "aids", "support2"):
    table(f"tabular-{_name}")(lambda results, _d=_name: _tabular(results, _d))


@table("tabular-choice")
def _tabular_choice(results: dict[str, Any]) -> str:
    rows = []
    for dataset, d in lookup(results, "tabular", "figures.datasets").items():
        for model in ("cart", "copula"):
            m = d["models"].get(model, {})
            if "quality" in m:
                rows.append([dataset, model] + [fmt(m[k]["mean"], ".3f") for k in
                                                ("quality", "tstr_auc", "mia_auc", "dcr_share_excess")])
    return _md(["dataset", "model", "quality", "TSTR AUC", "MIA AUC", "DCR excess"], rows)


@table("tabular-sequence")
def _tabular_sequence(results: dict[str, Any]) -> str:
    d = lookup(results, "tabular", "figures.longitudinal_pbcseq.models")
    rows = []
    for model, label in (("hygeia_sequence", "Hygeia sequence"), ("sdv_par", "SDV PAR")):
        m = d.get(model)
        if m is None or "error" in m:
            continue
        rows.append([label, fmt(m["quality"], ".3f"), fmt(m["visits_after_follow_up_end"], ".3f"),
                     fmt(m["visits_per_subject_synthetic_mean"], ".1f"), fmt(m["visits_per_subject_real_mean"], ".1f"),
                     fmt(m["fit_cpu_s"], ".2f")])
    return _md(["pbcseq", "quality", "share of visits after follow-up end", "visits per subject",
                "real visits per subject", "fit CPU-s"], rows)


_MOSES_KEYS = ("valid", "unique@1000", "FCD/Test", "FCD/TestSF", "SNN/Test", "SNN/TestSF", "Frag/Test", "Frag/TestSF",
               "Scaf/Test", "Scaf/TestSF", "IntDiv", "IntDiv2", "Filters", "Novelty")


@table("molecules-moses")
def _molecules_moses(results: dict[str, Any]) -> str:
    d = lookup(results, "molecules-moses", "figures")
    refs = list(d["reference"])
    rows = []
    for key in _MOSES_KEYS:
        if key not in d["metrics"]:
            continue
        rows.append([key, fmt(d["metrics"][key], ".3f")] +
                    [fmt(d["reference"][r][key], ".3f") if key in d["reference"][r] else "" for r in refs])
    return _md(["metric", "Hygeia prior"] + [f"MOSES {r} (published)" for r in refs], rows)


@table("molecules-representations")
def _molecules_representations(results: dict[str, Any]) -> str:
    d = lookup(results, "molecules-representations", "figures")
    keys = ("valid", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test", "IntDiv", "Filters", "Novelty")
    header = ["model", "training steps", "molecules seen"] + list(keys)
    rows = []
    for m in d["models"]:
        t = m["training"] or {}
        rows.append([f"{m['representation']} (`{m['prior']}`)", fmt(t.get("steps"), ",d"),
                     fmt(t.get("molecules_seen"), ",d")] + [fmt(m["metrics"][k], ".3f") for k in keys])
    return _md(header, rows)


@table("molecules-goal")
def _molecules_goal(results: dict[str, Any]) -> str:
    d = lookup(results, "molecules-goal", "figures")
    opts = list(d["sum_auc_top10"])
    rows = [[name] + [fmt({"mean": d["table"][name][o]["auc_top10"], "std": d["table"][name][o]["auc_top10_std"]},
                          ".3f") for o in opts] for name in d["objectives"]]
    rows.append(["sum (mean ± std over seeds)"] + [fmt(d["sum_auc_top10"][o], ".3f") for o in opts])
    return _md(["PMO AUC top-10"] + opts, rows)


@table("molecules-tune")
def _molecules_tune(results: dict[str, Any]) -> str:
    d = lookup(results, "molecules-tune", "figures")
    rows = [["`moses` (the default)" if c["prior"] == "default_prior()" else f"`{c['prior']}`",
             f"`{json.dumps(c['config'])}`"]
            + [fmt(c["auc_top10"].get(name), ".3f") for name in d["objectives"]] + [fmt(c["sum_auc_top10"], ".3f")]
            for c in d["configs"]]
    return _md(["REINVENT prior", "configuration"] + d["objectives"] + ["sum (mean ± std over seeds)"], rows)


@table("molecules-pmo")
def _molecules_pmo(results: dict[str, Any]) -> str:
    d = lookup(results, "molecules-pmo", "figures")
    opts = d["optimizers"]
    rows = [[name] + [fmt(d["table"][name][o]["auc_top10"], ".3f") if o in d["table"][name] else "n/a" for o in opts]
            for name in d["objectives"]]
    rows.append([f"sum over {len(d['objectives'])} objectives (mean ± std over seeds)"]
                + [fmt(d["sum_auc_top10"][o], ".3f") for o in opts])
    limited = d.get("cpu_limited_runs", {})
    n = sum(len(limited.get(o, [])) for o in opts)
    if n:  # the sums' upper bounds, had the runs stopped by their CPU limit gone on to the budget
        runs = "run" if n == 1 else f"{n} runs"
        rows.append([f"sum at most, had the {runs} stopped at the CPU limit gone on"]
                    + [fmt(d["sum_auc_top10_at_most"][o], ".3f") for o in opts])
    return _md(["PMO AUC top-10"] + opts, rows)


@table("export")
def _export(results: dict[str, Any]) -> str:
    d = lookup(results, "export", "figures")
    rows = []
    for name, m in d.items():
        if name == "events" or "records" not in m:
            continue
        rows.append([name, fmt(m["records"]["mean"], ",.0f"), fmt(m["wall_seconds"], ".2f"),
                     fmt(m["records_per_second"]["mean"], ",.0f"), fmt(m["peak_rss_mib"], ",.0f")])
    return _md(["format", "records", "wall seconds", "records per second", "peak memory (MiB)"], rows)


@table("population")
def _population(results: dict[str, Any]) -> str:
    d = lookup(results, "population", "figures")
    rows = []
    sizes = lookup(results, "population", "sizes.memory_probe_persons")
    for key, label in (("default_modules", "Hygeia's modules"),
                       ("synthea_modules", "Synthea's modules (the 182-file subset beside the repository)"),
                       ("synthea_whole_corpus", "Synthea's whole corpus, as shipped (--modules synthea)")):
        if key not in d:
            continue
        mem = d.get(f"peak_memory_{key}") or [{"peak_rss_mib": None}] * len(sizes)
        rows.append([label, fmt(d[key]["patients_per_cpu_second"], ",.0f"), fmt(d[key]["events_per_patient"], ",.0f")]
                    + [fmt(m["peak_rss_mib"], ",.0f") for m in mem])
    return _md(["modules", "patients per CPU-second", "events per patient"]
               + [f"peak MiB, {n:,} persons" for n in sizes], rows)


@table("calibration")
def _calibration(results: dict[str, Any]) -> str:
    """Every calibration target that did not pass, with its interval and status."""
    rows = []
    for r in lookup(results, "calibration", "figures.not_passing"):
        spec = ".1%" if r["unit"] == "proportion" else ".3g"
        rows.append([r["measure"], r["age_band"], r["sex"], fmt(r["target"], spec), fmt(r["simulated"], spec),
                     f"{fmt(r['ci_low'], spec)}-{fmt(r['ci_high'], spec)}", fmt(r["relative_error"], "+.0%"),
                     r["status"]])
    return _md(["measure", "age", "sex", "target", "simulated", "95% interval", "relative error", "status"], rows)


# -- checking and writing --------------------------------------------------------------------------

def documents(root: Path = ROOT) -> list[Path]:
    out: list[Path] = []
    for pattern in DOCUMENTS:
        out += sorted(root.glob(pattern))
    return out


def render(text: str, results: dict[str, Any], errors: list[str] | None = None) -> str:
    """``text`` with every marked figure and table rendered from ``results``.

    With ``errors``, a marker that cannot be rendered is left as it is and its problem appended;
    without, it raises :class:`FigureError`.
    """
    def guard(fn: Callable[[re.Match], str]) -> Callable[[re.Match], str]:
        def wrapped(m: re.Match) -> str:
            try:
                return fn(m)
            except FigureError as exc:
                if errors is None:
                    raise
                errors.append(f"{m.group(0).splitlines()[0]}: {exc}")
                return m.group(0)
        return wrapped

    @guard
    def one(m: re.Match) -> str:
        value = fmt(lookup(results, m["file"], m["path"]), m["fmt"])
        return m.group(0).replace(f"-->{m['value']}<!--", f"-->{value}<!--", 1)

    @guard
    def many(m: re.Match) -> str:
        if m["name"] not in TABLES:
            raise FigureError(f"no table renderer {m['name']!r} (known: {', '.join(sorted(TABLES))})")
        indent = re.match(r"[ \t]*", m["close"]).group(0)
        body = "".join(indent + line if line else line for line in TABLES[m["name"]](results).splitlines(True))
        return m["open"] + body + m["close"]

    return TABLE.sub(many, FIG.sub(one, text))


# Numbers that look measured: a unit of time, memory or rate, a percentage, an approximation.
_UNIT = r"(?:ms|µs|us|s|sec|seconds?|minutes?|min|hours?|h|[KMGT]i?B|%|CPU-s|CPU-seconds?)"
_MEASURED = re.compile(
    rf"(?:[~≈]\s?\d[\d,.]*|\b(?:about|around|roughly|nearly) \d[\d,.]*|(?<![\w.\-/])\d[\d,]*(?:\.\d+)?\s?{_UNIT}(?![\w])"
    r"|\d[\d,]*(?:\.\d+)? (?:rows|resources|records|patients|molecules) (?:a|per) second)")
_NUMBER = re.compile(r"(?<![\w.\-/@])\d[\d,]*(?:\.\d+)?(?![\w])")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _strip(text: str) -> str:
    """Blank out code fences, inline code, markers with their values, and link targets (keep line numbers)."""
    def blank(m: re.Match) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    text = TABLE.sub(blank, text)
    text = FIG.sub(blank, text)
    text = SETTING.sub(blank, text)
    text = LEVEL.sub(blank, text)
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", blank, text, flags=re.DOTALL | re.MULTILINE)
    text = re.sub(r"`[^`\n]*`", blank, text)
    text = re.sub(r"\]\([^)]*\)", blank, text)
    return re.sub(r"<!--.*?-->", blank, text, flags=re.DOTALL)


def lint(path: Path, text: str, root: Path = ROOT) -> list[str]:
    """Numbers without a marker: measured-looking ones anywhere, any number in a benchmark section."""
    problems: list[str] = []
    if path.suffix != ".md":
        return problems
    rel = path.relative_to(root)
    in_bench = False
    for no, line in enumerate(_strip(text).splitlines(), 1):
        h = _HEADING.match(line)
        if h:
            in_bench = "benchmark" in h.group(2).lower()
            continue
        for m in _MEASURED.finditer(line):
            problems.append(f"{rel}:{no}: {m.group(0)!r} looks measured but has no fig marker")
        if in_bench:
            for m in _NUMBER.finditer(line):
                problems.append(f"{rel}:{no}: number {m.group(0)!r} in a benchmark section "
                                "without a fig marker")
    return problems


def check(root: Path = ROOT, results: dict[str, Any] | None = None) -> list[str]:
    """Every disagreement between the documents and the results (empty when all agree)."""
    results = load_results(root / "benchmarks" / "results") if results is None else results
    problems: list[str] = []
    for path in documents(root):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root)
        for m in FIG.finditer(text):
            try:
                want = fmt(lookup(results, m["file"], m["path"]), m["fmt"])
            except FigureError as exc:
                problems.append(f"{rel}: {m.group(0)}: {exc}")
                continue
            if m["value"] != want:
                problems.append(f"{rel}: {m['file']}:{m['path']} reads {m['value']!r}; the result file gives {want!r}")
        for m in TABLE.finditer(text):
            try:
                want = render(m.group(0), results)
            except FigureError as exc:
                problems.append(f"{rel}: table {m['name']}: {exc}")
                continue
            if want != m.group(0):
                problems.append(f"{rel}: table {m['name']} differs from its rendering "
                                "(run benchmarks/figures.py --write)")
        problems += lint(path, text, root)
    return problems


def write(root: Path = ROOT) -> list[Path]:
    """Re-render every marked figure and table in place; returns the files changed."""
    from hygeia.core.atomic import write_text

    results = load_results(root / "benchmarks" / "results")
    changed = []
    for path in documents(root):
        text = path.read_text(encoding="utf-8")
        new = render(text, results, errors=[])
        if new != text:
            write_text(path, new, what="document")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="re-render the marked figures and tables in place")
    args = ap.parse_args(argv)
    if args.write:
        for path in write():
            print(f"updated {path.relative_to(ROOT)}")
    problems = check()
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
