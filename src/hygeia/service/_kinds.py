"""What each kind of job runs: one ``hygeia`` command, its options as the job's params.

A job kind is a thin description of a CLI command (:data:`KINDS`): which of its parameters are run
names (resolved to ``data_root/runs/NAME``), input paths (resolved under the data root), the output
(always placed by the service: ``runs/NAME`` for new runs, ``jobs/<id>/<file>`` otherwise) and which
are not offered over the network (``--omop-url``, ``--backend``, ``--workers``...). Everything else
is passed through as the command's own option, under the command's own parameter name, and checked
by the command's own click types (:func:`build_args`): the service validates nothing the CLI does not,
and offers nothing the library lacks. :func:`params_model` turns a kind into the pydantic model that
documents and checks its JSON body in the OpenAPI spec.

Example:
    >>> import tempfile, pathlib
    >>> from hygeia.service import ServiceSettings
    >>> s = ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp()))
    >>> args = build_args("generate", {"n": 20, "seed": 1, "name": "demo"}, s, "0123abcd")
    >>> args[:5], args[-2:] == ["--out", str(s.data_root / "runs" / "demo")]
    (['generate', '-n', '20', '--seed', '1'], True)
    >>> build_args("generate", {"n": "many", "name": "demo"}, s, "0123abcd")
    Traceback (most recent call last):
    ...
    hygeia.errors.ConfigError: invalid generate job: Invalid value for '-n': 'many' is not a valid integer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import click

from hygeia.errors import ConfigError
from hygeia.service._paths import check_name, resolve
from hygeia.service._settings import ServiceSettings

__all__ = ["KINDS", "Kind", "build_args", "command_of", "output_of", "params_model"]

# roles of a command's parameters
RUN = "run"          # a run name: data_root/runs/NAME (must be a run folder)
IN = "in"            # a path under the data root that must exist
IN_OR_NAME = "name?"  # a path under the data root, or a name the command knows ('synthea', a shipped config)
OUT = "out"          # the output: a file/folder name inside data_root/jobs/<id>/ (param 'out', optional)
NEW_RUN = "new-run"  # the output: data_root/runs/NAME (param 'name', required)
NEW_CASE = "new-case"  # the output: data_root/tutor/cases/NAME.json (param 'name', optional)
HIDE = "hide"        # not offered over the network
SCHEDULER = "scheduler"  # the service's --scheduler setting


@dataclass(frozen=True)
class Kind:
    """One job kind: the ``hygeia`` command it runs and the role of each of its parameters.

    Args:
        command: the command's words (``("notes", "write")``).
        roles: click parameter name -> role (``run``, ``in``, ``out``...); others are passed through.
        out: the output's default name inside the job's folder, or a function of the params giving it.
        rename: click parameter name -> the name the job's params use for it.
        summary: one line for the API's docs.
    """

    command: tuple[str, ...]
    roles: dict[str, str] = field(default_factory=dict)
    out: str | Callable[[dict[str, Any]], str] | None = None
    rename: dict[str, str] = field(default_factory=dict)
    summary: str = ""


def _export_out(p: dict[str, Any]) -> str:
    return "omop.duckdb" if p.get("fmt") == "omop" else str(p.get("fmt") or "export")


def _convert_out(p: dict[str, Any]) -> str:
    return "image.nii.gz" if p.get("format") == "nifti" else "images"


def _deid_out(p: dict[str, Any]) -> str:
    return "deid-" + Path(str(p.get("src") or "notes")).name


_COMMON = {"quiet": HIDE}
KINDS: dict[str, Kind] = {
    "generate": Kind(("generate",), {"out": NEW_RUN, "workers": HIDE, "scheduler": SCHEDULER, "omop_url": HIDE,
                                     "modules": IN_OR_NAME}, rename={"out": "name"},
                     summary="Simulate a population into runs/NAME ('hygeia generate')."),
    "import-fhir": Kind(("import-fhir",), {"path": IN, "out": NEW_RUN}, rename={"out": "name"},
                        summary="Read FHIR Bundles into runs/NAME ('hygeia import-fhir')."),
    "export": Kind(("export",), {"directory": RUN, "out": OUT, "omop_url": HIDE, "vocabulary": IN, "notes": IN,
                                 "overwrite": HIDE}, out=_export_out, rename={"directory": "run"},
                   summary="Export a run to FHIR, NDJSON, OMOP, MEDS, CSV or Synthea CSV ('hygeia export')."),
    "evaluate": Kind(("evaluate",), {"real": IN, "synthetic": IN, "holdout": IN, "metadata": IN, "rule_files": IN,
                                     "out": OUT, "overwrite": HIDE}, out="report",
                     summary="Evaluate synthetic data against real data: the report ('hygeia evaluate')."),
    "calibrate": Kind(("calibrate", "run"), {"run": RUN, "out": OUT, "as_json": HIDE, "overwrite": HIDE},
                      out="calibration", summary="Compare a run with national figures ('hygeia calibrate run')."),
    "metadata": Kind(("metadata",), {"data": IN, "out": OUT, "overwrite": HIDE}, out="metadata.json",
                     summary="Detect a table's metadata ('hygeia metadata')."),
    "fit": Kind(("fit",), {"data": IN, "metadata": IN, "public_metadata": IN, "out": OUT, "overwrite": HIDE},
                out="model", summary="Fit a tabular generator to a table ('hygeia fit')."),
    "sample": Kind(("sample",), {"model_dir": IN, "out": OUT, "overwrite": HIDE}, out="sample.csv",
                   rename={"model_dir": "model"}, summary="Sample rows from a fitted model ('hygeia sample')."),
    "molecules-train": Kind(("molecules", "train"), {"data": IN, "out": OUT, "base": IN_OR_NAME, "device": HIDE,
                                                     "workers": HIDE, "overwrite": HIDE}, out="model",
                            summary="Train a chemical language model ('hygeia molecules train')."),
    "molecules-sample": Kind(("molecules", "sample"), {"model": IN, "config": IN_OR_NAME, "out": OUT,
                                                       "workers": HIDE, "overwrite": HIDE}, out="molecules.smi",
                             summary="Sample molecules ('hygeia molecules sample')."),
    "molecules-score": Kind(("molecules", "score"), {"data": IN, "config": IN_OR_NAME, "out": OUT,
                                                     "overwrite": HIDE}, out="scored.csv",
                            summary="Score molecules ('hygeia molecules score')."),
    "molecules-optimize": Kind(("molecules", "optimize"), {"config": IN_OR_NAME, "prior": IN, "out": OUT,
                                                           "workers": HIDE, "overwrite": HIDE}, out="optimize",
                               summary="Optimize molecules for an objective ('hygeia molecules optimize')."),
    "molecules-benchmark": Kind(("molecules", "benchmark"), {"data": IN, "train": IN, "test": IN, "out": OUT,
                                                             "workers": HIDE, "overwrite": HIDE}, out="metrics.json",
                                summary="Benchmark generated molecules ('hygeia molecules benchmark')."),
    "images-render": Kind(("images", "render"), {"out": OUT, "overwrite": HIDE}, out="images",
                          summary="Render synthetic CT, MR or X-ray images ('hygeia images render')."),
    "images-fit": Kind(("images", "fit"), {"folder": IN, "out": OUT, "overwrite": HIDE}, out="model",
                       summary="Fit an image generator ('hygeia images fit')."),
    "images-sample": Kind(("images", "sample"), {"model": IN, "out": OUT, "overwrite": HIDE}, out="images",
                          summary="Sample images from a fitted model ('hygeia images sample')."),
    "images-convert": Kind(("images", "convert"), {"src": IN, "out": OUT, "overwrite": HIDE}, out=_convert_out,
                           summary="Convert DICOM, NIfTI or PNG images ('hygeia images convert')."),
    "images-evaluate": Kind(("images", "evaluate"), {"real": IN, "synthetic": IN, "train": IN, "out": OUT,
                                                     "overwrite": HIDE}, out="report.json",
                            summary="Evaluate synthetic images ('hygeia images evaluate')."),
    "images-link": Kind(("images", "link"), {"run": RUN}, summary="Render a run's imaging studies into RUN/images "
                                                                  "('hygeia images link')."),
    "notes-write": Kind(("notes", "write"), {"run": RUN, "out": OUT, "overwrite": HIDE}, out="notes",
                        summary="Write clinical notes from a run's records ('hygeia notes write')."),
    "notes-summarize": Kind(("notes", "summarize"), {"inputs": IN, "out": OUT, "backend": HIDE, "model": HIDE,
                                                     "overwrite": HIDE},
                            out=lambda p: "summary.json" if p.get("fmt") == "json" else "summary.txt",
                            summary="Summarize one stay from a run or notes ('hygeia notes summarize')."),
    "notes-deid": Kind(("notes", "deid"), {"src": IN, "out": OUT, "mapping": HIDE, "overwrite": HIDE},
                       out=_deid_out, summary="De-identify notes ('hygeia notes deid')."),
    "twin": Kind(("twin", "simulate"), {"run": RUN, "plans": IN, "out": OUT, "overwrite": HIDE}, out="twin",
                 summary="Simulate one patient under treatment plans ('hygeia twin simulate')."),
    "tutor-case": Kind(("tutor", "case"), {"from_run": RUN, "out": NEW_CASE, "agentclinic": HIDE},
                       rename={"out": "name"}, summary="Make a virtual-patient case into tutor/cases/NAME.json "
                                                       "('hygeia tutor case')."),
    "tutor-score": Kind(("tutor", "score"), {"session_file": IN, "case_file": IN, "out": OUT, "overwrite": HIDE},
                        out="report.html", summary="Score a tutor session ('hygeia tutor score')."),
}


@functools.cache
def command_of(kind: str) -> click.Command:
    """The click command a kind runs.

    Raises:
        ConfigError: an unknown kind.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown job kind {kind!r}. Choose one of: {', '.join(KINDS)}.")
    from hygeia.cli.main import main

    cmd: click.Command = main
    for word in KINDS[kind].command:
        cmd = cmd.commands[word]  # type: ignore[attr-defined]
    return cmd


def _role(kind: Kind, param: click.Parameter) -> str | None:
    return kind.roles.get(param.name or "", _COMMON.get(param.name or ""))


def _api_name(kind: Kind, param: click.Parameter) -> str:
    return kind.rename.get(param.name or "", param.name or "")


def output_of(kind_name: str, params: dict[str, Any], settings: ServiceSettings, job_id: str) -> Path | None:
    """Where a job of this kind with these params writes its output (None: into its input run)."""
    kind = KINDS[kind_name]
    for param in command_of(kind_name).params:
        role = _role(kind, param)
        value = params.get(_api_name(kind, param))
        if role == NEW_RUN:
            return settings.data_root / "runs" / check_name(str(value), "run name")
        if role == NEW_CASE:
            return settings.data_root / "tutor" / "cases" / (check_name(str(value or job_id), "case name") + ".json")
        if role == OUT:
            default = kind.out(params) if callable(kind.out) else kind.out
            return settings.data_root / "jobs" / job_id / check_name(str(value or default), "output name")
    return None


def _path_value(settings: ServiceSettings, value: str, role: str, what: str) -> str:
    root = settings.data_root
    if role == RUN:
        path = root / "runs" / check_name(str(value), f"{what} (a run name)")
        if not (path / "run.json").is_file():
            raise ConfigError(f"{what}: no run named {value!r} in the data root. Make one with a generate job, "
                              "or list them with GET /api/v1/runs.")
        return str(path)
    if role == IN_OR_NAME and re.fullmatch(r"[A-Za-z0-9_-]+", str(value)) and not (root / str(value)).exists():
        return str(value)  # a name the command knows ('synthea', a shipped config or objective)
    return str(resolve(root, str(value), must_exist=True))


def build_args(kind_name: str, params: dict[str, Any], settings: ServiceSettings, job_id: str) -> list[str]:
    """The ``hygeia`` command line (without ``hygeia``) a job runs, checked by the command's own parser.

    Args:
        kind_name: a key of :data:`KINDS`.
        params: the job's params (the command's parameter names; see :func:`params_model`).
        settings: the service's settings (data root, scheduler).
        job_id: the job's id (its output folder is ``data_root/jobs/<id>``).

    Raises:
        ConfigError: an unknown kind or param, a hidden param, a path outside the data root, or a value the
            command refuses, in the command's words.
    """
    kind = KINDS.get(kind_name)
    cmd = command_of(kind_name)
    assert kind is not None
    params = {k: v for k, v in params.items() if v is not None}
    known = {_api_name(kind, p) for p in cmd.params if _role(kind, p) not in (HIDE, SCHEDULER)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"invalid {kind_name} job: unknown parameter(s) {', '.join(unknown)}. "
                          f"The parameters are: {', '.join(sorted(known))}.")
    options: list[str] = []
    arguments: list[str] = []
    for param in cmd.params:
        role = _role(kind, param)
        name = _api_name(kind, param)
        if role == HIDE:
            continue
        if role == SCHEDULER:
            if settings.scheduler:
                options += [_flag(param), settings.scheduler]
            continue
        if role in (NEW_RUN, NEW_CASE, OUT):
            out = output_of(kind_name, params, settings, job_id)
            if role == NEW_RUN and name not in params:
                raise ConfigError(f"invalid {kind_name} job: 'name' (the run's name under runs/) is required. "
                                  "Pass e.g. name=demo.")
            values: list[str] = [str(out)]
        elif name not in params:
            continue
        else:
            raw = params[name]
            items = raw if isinstance(raw, (list, tuple)) else [raw]
            if isinstance(param, click.Option) and param.is_flag:
                if not isinstance(raw, bool):
                    raise ConfigError(f"invalid {kind_name} job: {name} must be true or false; got {raw!r}.")
                if raw:
                    options.append(_flag(param))
                continue
            if role in (RUN, IN, IN_OR_NAME):
                values = [_path_value(settings, str(v), role, name) for v in items]
            else:
                values = [_text(v) for v in items]
        if isinstance(param, click.Argument):
            arguments += values
        else:
            for v in values:
                options += [_flag(param), v]
    args = [*options, "--", *arguments] if arguments else options
    try:
        cmd.make_context(" ".join(kind.command), list(args), resilient_parsing=False)
    except click.ClickException as exc:
        raise ConfigError(f"invalid {kind_name} job: {exc.format_message()}") from None
    return [*kind.command, *args]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value)
    return str(value)


def _flag(param: click.Parameter) -> str:
    opts = list(getattr(param, "opts", []))
    longs = [o for o in opts if o.startswith("--")]
    return (longs or opts)[0]


# -- the OpenAPI side ------------------------------------------------------------------------------
_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


def _field_type(param: click.Parameter) -> tuple[Any, dict[str, Any]]:
    t = param.type
    extra: dict[str, Any] = {}
    if isinstance(param, click.Option) and param.is_flag:
        return bool, extra
    if isinstance(t, click.Choice):
        py: Any = Literal[tuple(str(c) for c in t.choices)]  # type: ignore[misc]
    elif isinstance(t, click.types.IntParamType):
        py = int
    elif isinstance(t, click.types.FloatParamType):
        py = float
    else:
        py = str
    if isinstance(t, (click.IntRange, click.FloatRange)):
        if t.min is not None:
            extra["gt" if t.min_open else "ge"] = t.min
        if t.max is not None:
            extra["lt" if t.max_open else "le"] = t.max
    return py, extra


@functools.cache
def params_model(kind_name: str) -> Any:
    """The pydantic model of a kind's params: the command's parameters, their types, ranges and help."""
    from pydantic import ConfigDict, Field, create_model

    kind = KINDS[kind_name]
    cmd = command_of(kind_name)
    fields: dict[str, Any] = {}
    for param in cmd.params:
        role = _role(kind, param)
        if role in (HIDE, SCHEDULER):
            continue
        name = _api_name(kind, param)
        help_text = (getattr(param, "help", None) or "").strip()
        py, extra = _field_type(param)
        many = bool(param.multiple or (isinstance(param, click.Argument) and param.nargs == -1))
        if role == RUN:
            py, extra, help_text = str, {"pattern": _NAME_PATTERN}, f"A run's name (runs/NAME under the data root). {help_text}"
        elif role in (IN, IN_OR_NAME):
            py, extra = str, {}
            help_text = (f"A path under the data root (uploads/FILE, jobs/ID/...)"
                         f"{' or a name the command knows' if role == IN_OR_NAME else ''}. {help_text}")
        elif role == NEW_RUN:
            fields[name] = (str, Field(..., pattern=_NAME_PATTERN, description="The new run's name: it is written "
                                                                               "to runs/NAME under the data root."))
            continue
        elif role == NEW_CASE:
            fields[name] = (str | None, Field(None, pattern=_NAME_PATTERN, description="The case's name: it is "
                                              "written to tutor/cases/NAME.json (default: the job id)."))
            continue
        elif role == OUT:
            default = kind.out if isinstance(kind.out, str) else "chosen from the other params"
            fields[name] = (str | None, Field(None, pattern=_NAME_PATTERN, description=f"The output's name in the "
                                              f"job's folder jobs/ID/ (default: {default}). {help_text}"))
            continue
        if many:
            py = list[py]  # type: ignore[valid-type]
            extra = {}
        required = bool(param.required)
        if isinstance(param, click.Option) and param.is_flag:
            fields[name] = (bool, Field(False, description=help_text))
        elif required:
            fields[name] = (py, Field(..., description=help_text, **extra))
        else:
            fields[name] = (py | None, Field(None, description=help_text, **extra))
    model_name = "".join(w.capitalize() for w in re.split(r"[-_]", kind_name)) + "Params"
    return create_model(model_name, __config__=ConfigDict(extra="forbid"), __doc__=kind.summary, **fields)
