"""One session's report as a self-contained HTML page: score, feedback, findings, tests, the expert path.

No JavaScript, no external files: the overall score and its parts (with their weights), the
teacher's feedback, the differential against the true disease, the discriminating findings
(elicited or missed), questions, tests with their cost, priority actions against their deadline,
the student's path beside the reference agent's, the transcript, and the HPO version with the
attribution the HPO licence asks for.
"""

from __future__ import annotations

from html import escape
from typing import Any

from hygeia.tutor._hpo import Knowledge, load_knowledge

__all__ = ["session_report_html"]

_STYLE = ("body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1040px;margin:1.5em auto;padding:0 1em;"
          "color:#222;line-height:1.4}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
          "padding:3px 8px;text-align:left;font-size:13px;vertical-align:top}th{background:#f0f0f0}"
          ".big{font-size:2.2em;font-weight:bold}.ok{color:#1a6b1a}.miss{color:#a00}.side{display:flex;gap:1.5em;"
          "flex-wrap:wrap}.side>section{flex:1 1 420px}.bar{display:inline-block;height:10px;background:#3a6ea5;"
          "vertical-align:middle}.barbg{display:inline-block;width:120px;height:10px;background:#e3e3e3;"
          "vertical-align:middle}footer{margin-top:2em;font-size:12px;color:#555;border-top:1px solid #ccc;"
          "padding-top:.5em}ol.path li{font-size:13px}")

_PART_LABELS = {"diagnosis": "Diagnosis (1 / rank of the true disease)",
                "discriminating": "Discriminating findings elicited (weighted by how much each separates)",
                "questions": "Question efficiency (share revealing a finding or pertinent negative)",
                "tests": "Tests (share of the spending that was appropriate)",
                "actions": "Priority actions (on time 1, late 0.5, missed 0; harmful -0.5)"}


def _e(v: Any) -> str:
    return escape("-" if v is None else str(v))


def _money(v: float) -> str:
    return f"${v:,.0f}"


def _bar(share: float) -> str:
    w = max(0, min(120, round(120 * share)))
    return (f"<span class='barbg' role='img' aria-label='{share:.0%}'><span class='bar' style='width:{w}px'>"
            f"</span></span>")


def _path(title: str, p: dict[str, Any] | None, rank: int | None, disease: str) -> str:
    if p is None:
        return f"<section><h3>{escape(title)}</h3><p>Not computed.</p></section>"
    dx = f"ranked {escape(disease)} #{rank}" if rank else f"did not list {escape(disease)}"
    steps = "".join(
        f"<li>{s['t']:.0f} min · {escape(s['kind'])} <i>{escape(str(s['input']))}</i>"
        f"{' → ' + escape(', '.join(s['found'])) if s['found'] else ''}</li>" for s in p["path"])
    return (f"<section aria-label='{escape(title)}'><h3>{escape(title)}</h3><table>"
            f"<tr><th>steps</th><td>{p['steps']} ({p['questions']} questions, {p['examinations']} examinations, "
            f"{p['tests']} tests)</td></tr><tr><th>findings revealed</th><td>{p['findings']} present, "
            f"{p['negatives']} pertinent negatives</td></tr><tr><th>cost</th><td>{_money(p['cost'])}</td></tr>"
            f"<tr><th>time</th><td>{p['minutes']:.0f} min</td></tr><tr><th>diagnosis</th><td>{dx}</td></tr></table>"
            f"<ol class='path'>{steps}</ol></section>")


def session_report_html(session, score, *, kb: Knowledge | None = None) -> str:
    """The report page of a scored session (a whole HTML document).

    Args:
        session: the played :class:`~hygeia.tutor._session.Session`.
        score: its :class:`~hygeia.tutor._score.Score` (or that score's ``to_dict()``).
        kb: the knowledge base, for the HPO version and attribution (the shared one where None).

    Example:
        >>> from hygeia.tutor._generate import generate_case
        >>> from hygeia.tutor._agents import OracleAgent, play
        >>> from hygeia.tutor._score import score_session
        >>> s = play(OracleAgent(), generate_case("ORPHA:558", seed=3, images=False))
        >>> page = session_report_html(s, score_session(s, expert=False))
        >>> page.startswith("<!DOCTYPE html>") and "Human Phenotype Ontology" in page
        True
    """
    kb = kb if kb is not None else (getattr(session, "kb", None) or load_knowledge())
    sc = score if isinstance(score, dict) else score.to_dict()
    case = session.case
    disease = sc["disease_name"]
    p = case.patient
    head = (f"<p>Case <b>{_e(sc['case_id'])}</b>: {_e(round(p.age_years, 1))}-year-old {_e(p.sex)}, "
            f"“{_e(p.chief_complaint.strip().rstrip('.'))}”. Student: {_e(getattr(session, 'student', '') or 'anonymous')}. "
            f"Diagnosis: <b>{escape(disease)}</b> ({_e(sc['disease_id'])}).</p>"
            f"<p><span class='big'>{sc['overall']:.0f}</span> / 100</p>")
    parts = "".join(
        f"<tr><td>{escape(_PART_LABELS.get(k, k))}</td><td>{sc['weights'][k]:.0f}</td><td>{_bar(v)} {v:.0%}</td></tr>"
        for k, v in sc["parts"].items())
    parts_html = ("<table><tr><th>part</th><th>weight</th><th>credit</th></tr>" + parts + "</table>"
                  "<p>The overall score is the weighted mean of the parts that apply to this case; the weights are a "
                  "teaching choice, not a validated instrument.</p>")
    fb = "".join(f"<li>{escape(s)}</li>" for s in sc["feedback"])
    ddx = "".join(
        f"<tr><td>{i}</td><td class='{'ok' if d['correct'] else ''}'>{escape(d['name'])} ({escape(d['id'])})"
        f"{' ✓' if d['correct'] else ''}</td><td>{'-' if d['posterior'] is None else format(d['posterior'], '.1%')}"
        f"</td></tr>" for i, d in enumerate(sc["differential"], 1))
    ddx_html = ("<table><tr><th>#</th><th>disease</th><th>model posterior given what you found</th></tr>" + ddx
                + "</table>") if ddx else "<p>No differential was given.</p>"
    disc = "".join(
        f"<tr><td>{escape(d['name'])}{'' if d['present'] else ' (absent)'}</td><td>{escape(d['channel'])}</td>"
        f"<td>{escape(d['versus_name'])}</td><td>{d['llr']:.2f}</td><td class='{'ok' if d['elicited'] else 'miss'}'>"
        f"{'found at ' + format(d['minutes'], '.0f') + ' min' if d['elicited'] and d['minutes'] is not None else 'found' if d['elicited'] else 'missed'}"
        f"</td></tr>" for d in sc["discriminating"])
    disc_html = ("<table><tr><th>finding</th><th>how it shows</th><th>separates it most from</th>"
                 "<th>log likelihood ratio</th><th>you</th></tr>" + disc + "</table>") if disc else (
        "<p>No finding of this case separates its disease from the closest competitors.</p>")
    q = sc["questions"]
    q_html = (f"<p>{q['asked']} questions, {q['informative']} revealed a finding or a pertinent negative "
              f"({q['efficiency']:.0%}); {q['bits_per_question']:.2f} bits of diagnostic information per question "
              f"on average.</p>")
    tests = "".join(
        f"<tr><td>{escape(t['name'])}</td><td>{t['minutes']:.0f} min</td><td>{_money(t['cost'])}</td>"
        f"<td class='{'ok' if t['appropriate'] else 'miss'}'>{'appropriate' if t['appropriate'] else 'unnecessary'}"
        f"</td><td>{escape(t['why'])}</td></tr>" for t in sc["tests"])
    spent = sum(t["cost"] for t in sc["tests"])
    tests_html = ("<table><tr><th>test</th><th>ordered at</th><th>cost</th><th>verdict</th><th>why</th></tr>"
                  + tests + f"</table><p>Total {_money(spent)}.</p>") if tests else "<p>No tests were ordered.</p>"
    acts = "".join(
        f"<tr><td>{escape(a['name'])}</td><td>{_e(a['within_minutes'])}</td>"
        f"<td>{'-' if a['minutes'] is None else format(a['minutes'], '.0f')}</td>"
        f"<td class='{'ok' if a['on_time'] else 'miss'}'>{'on time' if a['on_time'] else 'late' if a['done'] else 'not done'}"
        f"</td><td>{escape(a['why'])}</td></tr>" for a in sc["actions"])
    acts_html = ("<h2>Priority actions</h2><table><tr><th>action</th><th>due within (min)</th><th>done at (min)</th>"
                 "<th>verdict</th><th>why</th></tr>" + acts + "</table>") if acts else ""
    if sc["harmful"]:
        acts_html += "<p class='miss'>Harmful: " + escape(", ".join(sc["harmful"])) + "</p>"
    ex = sc.get("expert")
    side = ("<h2>Your path and the expert path</h2><p>The expert path is the reference agent's session on the same "
            "case: it asks, examines and orders whatever is expected to tell the most under the diagnostic model, "
            "and stops when confident.</p><div class='side'>"
            + _path("Your path", sc["student"], sc["rank"], disease)
            + _path("Expert path", ex, ex.get("rank") if ex else None, disease) + "</div>")
    transcript = "".join(
        f"<tr><td>{e.t:.0f}</td><td>{escape(e.kind)}</td><td>{escape(str(e.input))}</td>"
        f"<td>{escape(str(getattr(e.reply, 'text', e.reply) if e.reply is not None else ''))}</td></tr>"
        for e in session.events)
    transcript_html = ("<table><tr><th>min</th><th>kind</th><th>you</th><th>reply</th></tr>" + transcript
                       + "</table>")
    tp = "".join(f"<li>{escape(t)}</li>" for t in case.teaching_points)
    tp_html = f"<h2>Teaching points</h2><ul>{tp}</ul>" if tp else ""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Session report: {escape(disease)}"
            f"</title><style>{_STYLE}</style></head><body><main><h1>Session report</h1>{head}"
            f"<h2>Score</h2>{parts_html}<h2>Feedback</h2><ul>{fb}</ul><h2>Differential</h2>{ddx_html}"
            f"<h2>Findings that separate {escape(disease)} from its mimics</h2>{disc_html}<h2>Questions</h2>{q_html}"
            f"<h2>Tests</h2>{tests_html}{acts_html}{side}{tp_html}<h2>Transcript</h2>{transcript_html}</main>"
            f"<footer><p>HPO release {escape(kb.version)}.</p><p>{escape(kb.attribution)}</p></footer>"
            f"</body></html>\n")
