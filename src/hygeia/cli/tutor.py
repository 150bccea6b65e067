"""``hygeia tutor``: virtual patients with rare (and acute) conditions to interview, examine, test, diagnose and treat."""

from __future__ import annotations

import click

from hygeia.cli._common import (
    HygeiaCommand,
    echo_summary,
    quiet_option,
    refuse_existing,
)
from hygeia.core.progress import Summary

__all__ = ["tutor_group"]


@click.command("diseases", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia tutor diseases marfan
  hygeia tutor diseases fabry --limit 5""")
@click.argument("words", nargs=-1, required=True, metavar="WORDS...")
@click.option("--limit", type=int, default=20, show_default=True, metavar="N", help="Show at most N diseases.")
def diseases_command(words: tuple[str, ...], limit: int) -> None:
    """Find disease ids (OMIM, ORPHA, DECIPHER, HYGEIA) whose name holds every one of WORDS."""
    from hygeia.tutor import find_diseases

    hits = find_diseases(" ".join(words), limit=limit)
    if not hits:
        raise click.ClickException(f"no disease name holds {' '.join(words)!r}; try fewer or other words")
    for disease_id, name, detail in hits:
        click.echo(f"{disease_id:<30} {name}  ({detail})")


@click.command("case", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia tutor case --disease ORPHA:558 --seed 7 --out runs/tutor/marfan.json
  hygeia tutor case --disease HYGEIA:sepsis --seed 1 --out runs/tutor/sepsis.json
  hygeia tutor case --disease OMIM:301500 --noise 0.2 --vague 0.3 --out runs/tutor/fabry.json --agentclinic runs/tutor/fabry_agentclinic.json
  hygeia tutor case --disease ORPHA:558 --from-run runs/demo --subject 12 --seed 3 --out runs/tutor/marfan_12.json

The case is a JSON file educators may edit (findings, the patient's words, teaching
points); 'hygeia tutor check' validates it. Disease ids: 'hygeia tutor diseases NAME'.
With --from-run the patient is a person of a population run: their record gives the
name, sex, age, medicines, past medical history and smoking status; the disease is drawn.""")
@click.option("--disease", required=True, metavar="ID", help="The disease: ORPHA:558, OMIM:154700, HYGEIA:sepsis...")
@click.option("--seed", type=int, default=None, metavar="S",
              help="Seed of the patient. Default: a fresh random one (recorded in the case and printed).")
@click.option("--noise", type=float, default=0.0, show_default=True, metavar="P",
              help="Share of findings the patient misses, and as many unrelated ones added (0-1).")
@click.option("--vague", type=float, default=0.0, show_default=True, metavar="P",
              help="Share of findings reported in vaguer words (a more general HPO term) (0-1).")
@click.option("--from-run", "from_run", default=None, metavar="RUN",
              help="Take the patient (name, sex, age, medicines, past history, smoking) from a 'hygeia generate' run.")
@click.option("--subject", type=int, default=None, metavar="ID",
              help="The person of --from-run (a subject_id). Default: the run's first person.")
@click.option("--out", required=True, metavar="FILE.json", help="The case file to write.")
@click.option("--agentclinic", default=None, metavar="FILE.json",
              help="Also write the case in AgentClinic's OSCE format (for LLM doctor agents).")
@click.option("--overwrite", is_flag=True, help="Replace FILE.json (and the AgentClinic file) if they exist.")
@quiet_option
def case_command(disease: str, seed: int | None, noise: float, vague: float, from_run: str | None,
                 subject: int | None, out: str, agentclinic: str | None, overwrite: bool, quiet: bool) -> None:
    """Generate a virtual patient with DISEASE: findings at their annotated frequencies, tests, family history."""
    import json

    from hygeia.core.atomic import write_text
    from hygeia.core.progress import status
    from hygeia.errors import ConfigError
    from hygeia.tutor import (
        background_from_record,
        generate_case,
        to_agentclinic,
        write_case,
    )

    refuse_existing(out, overwrite, "Case file")
    if agentclinic:
        refuse_existing(agentclinic, overwrite, "AgentClinic file")
    if subject is not None and from_run is None:
        raise ConfigError("--subject names a person of --from-run RUN; pass the run too")
    with status("Generating the case", quiet=quiet):
        background = background_from_record(from_run, subject) if from_run else None
        case = generate_case(disease, seed=seed, noise=noise, vague=vague, background=background)
        write_case(case, out, overwrite=overwrite)
        if agentclinic:
            write_text(agentclinic, json.dumps(to_agentclinic(case), indent=2) + "\n", overwrite=overwrite)
    present = case.present()
    facts = [("patient", f"{case.patient.sex}, {case.patient.age_years:g} years: \"{case.patient.chief_complaint}\""),
             ("findings", f"{len(present)} present, {len(case.findings) - len(present)} pertinent negatives"),
             ("tests", f"{len(case.tests)} orderable"),
             ("seed", f"{case.provenance['seed']}" + ("" if seed is not None else
                                                     f" (pass --seed {case.provenance['seed']} for the same patient)"))]
    echo_summary(Summary(f"Wrote a virtual patient with {case.disease['name']} to {out}", facts,
                         [f"hygeia tutor play {out}", f"hygeia tutor serve --cases {_parent(out)}"]), quiet=quiet)


def _parent(path: str) -> str:
    from pathlib import Path

    return str(Path(path).parent)


@click.command("check", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia tutor check runs/tutor/marfan.json""")
@click.argument("case_file", metavar="CASE.json")
def check_command(case_file: str) -> None:
    """Check an (edited) case file against the case schema; every problem is listed."""
    from hygeia.tutor import read_case

    case = read_case(case_file)
    click.echo(f"{case_file}: a valid case ({case.disease['name']}; {len(case.findings)} findings, "
               f"{len(case.tests)} tests, {len(case.teaching_points)} teaching points)")


@click.command("play", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia tutor play runs/tutor/marfan.json
  hygeia tutor play runs/tutor/marfan.json --session runs/tutor/marfan_session.json --student ada

Type questions as you would ask them ("Do you get short of breath?"), or commands:
exam SYSTEM, order TEST, ddx A; B; C, do ACTION, tests, systems, actions, help, end.""")
@click.argument("case_file", metavar="CASE.json")
@click.option("--session", "session_file", default=None, metavar="FILE.json",
              help="Save the session here after every step; an existing file is resumed.")
@click.option("--student", default="", metavar="NAME", help="The student's name, recorded in the session.")
def play_command(case_file: str, session_file: str | None, student: str) -> None:
    """Interview, examine, test, diagnose and treat the patient of CASE.json in the terminal."""
    from hygeia.tutor import play_terminal, read_case

    play_terminal(read_case(case_file), session_path=session_file, student=student)


@click.command("serve", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia tutor serve --cases runs/tutor --sessions runs/tutor/sessions
  hygeia tutor serve --cases runs/tutor --port 8800

Open http://127.0.0.1:8765/ (students), /instructor (the class's sessions and scores).""")
@click.option("--cases", "cases_dir", default="runs/tutor", show_default=True, metavar="DIR",
              help="Folder of case files (made with 'hygeia tutor case' or on the home page).")
@click.option("--sessions", "sessions_dir", default=None, metavar="DIR",
              help="Folder the sessions are saved in (after every step). Default: DIR/sessions of --cases.")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="HOST",
              help="Address to listen on (keep 127.0.0.1 unless a proxy with authentication is in front).")
@click.option("--port", type=int, default=8765, show_default=True, metavar="PORT", help="Port to listen on.")
def serve_command(cases_dir: str, sessions_dir: str | None, host: str, port: int) -> None:
    """Serve the virtual-patient pages: play cases, see reports, edit cases, the instructor view."""
    from pathlib import Path

    from hygeia.tutor import serve

    sessions = sessions_dir or str(Path(cases_dir) / "sessions")
    click.echo(f"Serving the tutor at http://{host}:{port}/ (cases: {cases_dir}, sessions: {sessions}); Ctrl-C stops")
    serve(cases_dir, sessions, host=host, port=port)


@click.command("score", cls=HygeiaCommand, epilog="""\b
Examples:
  hygeia tutor score runs/tutor/marfan_session.json --case runs/tutor/marfan.json --out runs/tutor/marfan_report.html""")
@click.argument("session_file", metavar="SESSION.json")
@click.option("--case", "case_file", required=True, metavar="CASE.json", help="The case the session played.")
@click.option("--out", default=None, metavar="FILE.html", help="Also write the session report page here.")
@click.option("--overwrite", is_flag=True, help="Replace FILE.html if it exists.")
@quiet_option
def score_command(session_file: str, case_file: str, out: str | None, overwrite: bool, quiet: bool) -> None:
    """Score a saved session: diagnosis, information gathering, tests, actions, and the expert's path."""
    from hygeia.core.atomic import write_text
    from hygeia.tutor import load_session, read_case, score_session, session_report_html

    if out:
        refuse_existing(out, overwrite, "Report")
    session = load_session(session_file, read_case(case_file))
    score = score_session(session)
    if out:
        write_text(out, session_report_html(session, score), overwrite=overwrite)
    facts = [("diagnosis", f"{score.disease_name} ({score.disease_id}): "
                           + (f"ranked {score.rank} in the differential" if score.rank else "not in the differential")),
             *((part, f"{credit:.0%}") for part, credit in score.parts.items())]
    if score.expert:
        facts.append(("expert path", f"{score.expert.get('steps', '?')} steps"))
    echo_summary(Summary(f"Session scored {score.overall:.0f}/100", facts,
                         [*score.feedback[:3], *([f"open {out}"] if out else [])]), quiet=quiet)


@click.group("tutor", epilog="""\b
Examples:
  hygeia tutor diseases marfan
  hygeia tutor case --disease ORPHA:558 --seed 7 --out runs/tutor/marfan.json
  hygeia tutor play runs/tutor/marfan.json
  hygeia tutor serve --cases runs/tutor""")
def tutor_group() -> None:
    """Virtual patients: interview, examine, test, diagnose and treat, with scoring and feedback."""


for _cmd in (diseases_command, case_command, check_command, play_command, serve_command, score_command):
    tutor_group.add_command(_cmd)
