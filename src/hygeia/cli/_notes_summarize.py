"""``hygeia notes summarize``: a discharge summary, patient instructions or an insurance letter of one stay."""

from __future__ import annotations

import json

import click

from hygeia.cli._common import (
    CliError,
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Summary, describe_output

__all__ = ["summarize_command"]

_NAMES = {"discharge": "discharge summary", "instructions": "patient instructions", "insurance": "insurance letter"}


@click.command(
    "summarize", cls=HygeiaCommand,
    epilog="""\b
Examples:
  hygeia notes summarize runs/notes_source --kind discharge
  hygeia notes summarize runs/notes_source --subject 3 --encounter 30000041 --kind instructions --format json
  hygeia notes summarize runs/notes_written --kind insurance --out runs/letter.txt
  hygeia notes summarize admission.txt discharge.txt --kind discharge --format json --out summary.json
  hygeia notes summarize runs/notes_source --kind discharge --backend http://127.0.0.1:8080

Every sentence states only what the record or the notes hold, and keeps its sources
(event keys, or NAME:START-END spans of the notes) in the JSON output. With --backend,
the model's text is re-read by the faithfulness guard and used only if it states nothing
the facts do not support; the JSON output then holds the model's text as it came and the
guard's report.""",
)
@click.argument("inputs", nargs=-1, required=True, metavar="NOTE_OR_RUN...")
@click.option("--kind", type=click.Choice(tuple(_NAMES)), default="discharge", show_default=True,
              help="What to write: discharge summary, plain-language patient instructions, or an insurance "
                   "(prior-authorization) letter with ICD-10-CM codes.")
@click.option("--subject", "subject_id", type=int, default=None, metavar="ID",
              help="For a run or notes folder: the person (subject_id). Default: the first with an inpatient stay.")
@click.option("--encounter", "encounter_id", type=int, default=None, metavar="ID",
              help="For a run or notes folder: the encounter (encounter_id). Default: the person's last stay.")
@click.option("--out", default=None, metavar="FILE", help="Write the summary to FILE instead of the screen.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="text: the summary as a clinician reads it; json: every sentence with its provenance, and the "
                   "readability grade for instructions.")
@click.option("--backend", default=None, metavar="URL|transformers:PATH",
              help="A language model to write the words: an OpenAI-compatible server (llama.cpp server, vLLM, "
                   "Ollama: http://127.0.0.1:8080) or transformers:PATH for a local model (needs the 'llm' extra). "
                   "Its text is kept only if the faithfulness guard passes it (or passes it once the flagged "
                   "sentences are dropped); otherwise the default writer's summary is given. Default: no model.")
@click.option("--model", default=None, metavar="NAME",
              help="With a server --backend: the model to ask for (default: the server's first).")
@click.option("--max-tokens", type=click.IntRange(1), default=600, show_default=True,
              help="With --backend: the most tokens the model may write.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@quiet_option
def summarize_command(inputs: tuple[str, ...], kind: str, subject_id: int | None, encounter_id: int | None,
                      out: str | None, fmt: str, backend: str | None, model: str | None, max_tokens: int,
                      overwrite: bool, quiet: bool) -> None:
    """Summarize one stay from NOTE_OR_RUN: a run folder, a 'hygeia notes write' folder, or note files.

    From a run, the facts are the record's events up to the end of the encounter (and the
    next scheduled visit); from notes, the facts extraction finds that the notes assert
    of the patient (never a negated, family or hypothetical one). The default writer is
    deterministic and states only those facts.
    """
    from hygeia.core.atomic import write_text
    from hygeia.notes import (
        backend_for,
        stay_from_paths,
        summarize,
        summarize_with_backend,
    )

    if model is not None and backend is None:
        raise CliError(f"--model {model} names a model of a server: pass the server with --backend URL too, "
                       "or leave --model out")
    llm = backend_for(backend, model=model) if backend is not None else None
    if out is not None:
        refuse_existing(out, overwrite, "Output")
    stay = stay_from_paths(list(inputs), subject_id=subject_id, encounter_id=encounter_id)
    summary = summarize(stay, kind) if llm is None else summarize_with_backend(stay, kind, llm, max_tokens=max_tokens)
    doc = summary.to_dict()
    if stay.warnings:
        doc["warnings"] = stay.warnings
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else summary.text + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text(out, text, overwrite=overwrite, what="summary")
    facts: list[tuple[str, object]] = []
    if out is not None:
        facts.append(("output", describe_output(out)))
    where = f"subject {stay.subject_id}, encounter {stay.encounter_id}" if stay.subject_id is not None else \
        f"{len(inputs)} note file(s)"
    citing = sum(s.basis == "events" for s in summary.sentences)
    facts += [("source", f"{stay.source} ({where}; {stay.setting}, {stay.start or 'date unknown'})"),
              ("sentences", f"{len(summary.sentences)} ({citing} citing their sources)")]
    if summary.guard is not None:
        facts.append(("language model", _guard_line(summary.guard)))
    if kind == "instructions":
        r = summary.readability()
        facts.append(("readability", f"Flesch-Kincaid grade {r.grade:.1f}, reading ease {r.ease:.0f}"))
    for w in stay.warnings:
        facts.append(("warning", w))
    if out is not None:
        echo_summary(Summary(f"Wrote the {_NAMES[kind]}", facts, []), quiet=quiet)
    elif not quiet:
        click.echo(Summary(f"Wrote the {_NAMES[kind]}", facts, []).render(), err=True)


def _guard_line(guard: dict) -> str:
    """What the guard did with the model's text, in one line."""
    report = guard["report"]
    found = f"{len(report['flags'])} problem(s) flagged in the model's text" if report["flags"] else \
        "nothing flagged in the model's text"
    what = {"accepted": "its text is given as written",
            "repaired": "its text is given without the flagged sentences",
            "fallback": "its text was not used: the default writer's summary is given instead"}[guard["action"]]
    model = guard["backend"].get("model") or guard["backend"].get("url") or guard["backend"]["backend"]
    return f"{model}: {found}; {what} (see 'guard' in --format json)"

