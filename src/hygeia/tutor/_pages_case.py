"""The case editor: a form over a case's findings and teaching points, and a raw JSON editor.

Both pages render case *data* (the dict of :meth:`Case.to_dict`), so a rejected edit is shown
again as typed, with every problem :func:`validate_case` found listed above it. The form's
field names are read back by :func:`form_to_case_data`.

Example:
    >>> data = {"id": "c1", "disease": {"id": "ORPHA:558", "name": "Marfan syndrome"},
    ...         "patient": {"chief_complaint": "tall"}, "findings": [{"hpo": "HP:0001166",
    ...         "name": "Arachnodactyly", "present": True, "channel": "exam", "says": None}],
    ...         "teaching_points": []}
    >>> form = {"f0_hpo": "HP:0001166", "f0_present": "absent", "f0_channel": "exam", "f0_says": "",
    ...         "teaching": "Look at the hands", "chief_complaint": "tall"}
    >>> out = form_to_case_data(data, form, names={})
    >>> out["findings"][0]["present"], out["teaching_points"]
    (False, ['Look at the hands'])
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from hygeia.tutor._case import CHANNELS
from hygeia.tutor._pages import e, errors_box, layout

__all__ = ["case_edit_page", "case_raw_page", "form_to_case_data"]


def form_to_case_data(data: dict[str, Any], form: Mapping[str, str], *, names: Mapping[str, str]) -> dict[str, Any]:
    """The case data ``data`` with the editor form's edits applied (not validated: the caller validates).

    Findings are ``f{i}_hpo``, ``f{i}_present`` ('present'/'absent'), ``f{i}_channel``, ``f{i}_says``,
    ``f{i}_delete``; a new one ``new_hpo`` (+ ``new_present``, ``new_channel``, ``new_says``; its name from
    ``names``, HPO id -> label); ``chief_complaint``; ``teaching`` one point a line.
    """
    out = copy.deepcopy(data)
    findings = []
    for i, f in enumerate(out.get("findings", [])):
        if form.get(f"f{i}_hpo") != f.get("hpo"):  # the page was made from another version of the case
            findings.append(f)
            continue
        if form.get(f"f{i}_delete"):
            continue
        f["present"] = form.get(f"f{i}_present", "present") == "present"
        f["channel"] = form.get(f"f{i}_channel", f.get("channel"))
        f["says"] = form.get(f"f{i}_says", "").strip() or None
        findings.append(f)
    new = form.get("new_hpo", "").strip()
    if new:
        findings.append({"hpo": new, "name": names.get(new, new), "present": form.get("new_present") != "absent",
                         "channel": form.get("new_channel", "history"), "system": None, "frequency": None,
                         "reported_as": None, "says": form.get("new_says", "").strip() or None, "source": "author",
                         "onset_years": None})
    out["findings"] = findings
    if "chief_complaint" in form and isinstance(out.get("patient"), dict):
        out["patient"]["chief_complaint"] = form["chief_complaint"].strip()
    if "teaching" in form:
        out["teaching_points"] = [t.strip() for t in form["teaching"].splitlines() if t.strip()]
    return out


def _select(name: str, options: list[tuple[str, str]], current: str, label: str) -> str:
    opts = "".join(f'<option value="{e(v)}"{" selected" if v == current else ""}>{e(t)}</option>' for v, t in options)
    return f'<label class="sr" for="{e(name)}">{e(label)}</label><select id="{e(name)}" name="{e(name)}">{opts}</select>'


def _finding_row(i: int, f: dict[str, Any]) -> str:
    name = f.get("name") or f.get("hpo")
    present = "present" if f.get("present") else "absent"
    return (f'<tr><td><input type="hidden" name="f{i}_hpo" value="{e(f.get("hpo"))}"><b>{e(name)}</b>'
            f'<div class="small muted">{e(f.get("hpo"))} · {e(f.get("source", ""))}'
            f'{" · reported as " + e(f.get("reported_as")) if f.get("reported_as") else ""}</div></td>'
            f'<td>{_select(f"f{i}_present", [("present", "present"), ("absent", "absent")], present, f"{name}: present or absent")}</td>'
            f'<td>{_select(f"f{i}_channel", [(c, c) for c in CHANNELS], str(f.get("channel")), f"{name}: found by")}</td>'
            f'<td><label class="sr" for="f{i}_says">{e(name)}: the patient\'s words</label><input type="text" '
            f'id="f{i}_says" name="f{i}_says" value="{e(f.get("says") or "")}" size="28"></td>'
            f'<td><input type="checkbox" id="f{i}_delete" name="f{i}_delete" value="1"><label class="inline" '
            f'for="f{i}_delete"> remove</label></td></tr>')


def _head(stem: str, data: dict[str, Any], active: str) -> str:
    d = data.get("disease") if isinstance(data.get("disease"), dict) else {}
    tabs = (f'<p><a href="/cases/{e(stem)}/edit"{" aria-current=page" if active == "form" else ""}>Form editor</a> · '
            f'<a href="/cases/{e(stem)}/raw"{" aria-current=page" if active == "raw" else ""}>Raw JSON editor</a> · '
            f'<a href="/">Back to the cases</a></p>')
    return (f'<h1>Edit case {e(stem)}<span class="muted" style="font-weight:normal"> · {e(d.get("name"))} '
            f'({e(d.get("id"))})</span></h1>{tabs}')


def _status(problems: list[str], saved: bool) -> str:
    if problems:
        return errors_box(f"Not saved: the case fails its schema ({len(problems)} problem"
                          f"{'s' if len(problems) != 1 else ''})", problems)
    return '<div class="note" role="status" id="saved">Saved: the case passes its schema.</div>' if saved else ""


def case_edit_page(stem: str, data: dict[str, Any], *, footer: str, problems: list[str] | None = None,
                   saved: bool = False) -> str:
    """The form editor of case ``stem`` showing ``data`` (problems listed on top, nothing saved when any)."""
    problems = problems or []
    findings = data.get("findings") if isinstance(data.get("findings"), list) else []
    rows = "".join(_finding_row(i, f) for i, f in enumerate(findings) if isinstance(f, dict))
    patient = data.get("patient") if isinstance(data.get("patient"), dict) else {}
    teaching = "\n".join(str(t) for t in data.get("teaching_points") or [])
    new_row = (f'<tr><td><label class="sr" for="new_hpo">New finding: HPO id</label><input type="text" id="new_hpo" '
               f'name="new_hpo" placeholder="add: HP:0001250" size="14"></td>'
               f'<td>{_select("new_present", [("present", "present"), ("absent", "absent")], "present", "New finding: present or absent")}</td>'
               f'<td>{_select("new_channel", [(c, c) for c in CHANNELS], "history", "New finding: found by")}</td>'
               f'<td><label class="sr" for="new_says">New finding: the patient\'s words</label><input type="text" '
               f'id="new_says" name="new_says" size="28"></td><td></td></tr>')
    body = (_head(stem, data, "form") + _status(problems, saved)
            + f'<form method="post" action="/cases/{e(stem)}/edit" id="edit-form">'
            f'<section class="card"><h2>Patient</h2><label for="chief_complaint">Presenting complaint (the patient\'s '
            f'words)</label><input type="text" id="chief_complaint" name="chief_complaint" style="width:100%" '
            f'value="{e(patient.get("chief_complaint", ""))}"></section>'
            f'<section class="card"><h2>Findings ({len(findings)})</h2><table id="findings"><thead><tr><th>Finding</th>'
            f"<th>Status</th><th>Found by</th><th>The patient's words</th><th></th></tr></thead>"
            f"<tbody>{rows}{new_row}</tbody></table></section>"
            f'<section class="card"><h2>Teaching points</h2><label for="teaching">One point a line</label>'
            f'<textarea id="teaching" name="teaching" rows="5">{e(teaching)}</textarea></section>'
            f'<button type="submit" id="save">Validate and save</button></form>')
    return layout(f"Edit {stem}", body, footer=footer)


def case_raw_page(stem: str, text: str, data: dict[str, Any] | None, *, footer: str,
                  problems: list[str] | None = None, saved: bool = False) -> str:
    """The raw JSON editor of case ``stem`` (``text`` as typed; ``data`` its parse, for the heading)."""
    body = (_head(stem, data if isinstance(data, dict) else {}, "raw") + _status(problems or [], saved)
            + f'<form method="post" action="/cases/{e(stem)}/raw" id="raw-form"><label for="json">Case JSON '
            f'(schema hygeia.tutor.case/1)</label><textarea id="json" name="json" rows="30" spellcheck="false">'
            f'{e(text)}</textarea><p><button type="submit" id="save">Validate and save</button></p></form>')
    return layout(f"Edit {stem} (JSON)", body, footer=footer)


def pretty(data: Any) -> str:
    """Case data as the editor shows it (2-space indented JSON)."""
    return json.dumps(data, indent=2, ensure_ascii=False)
