"""A virtual patient whose identity and history come from a population record."""

from __future__ import annotations

import doctest
import json
import re

import pytest
from click.testing import CliRunner

from hygeia.cli.main import main
from hygeia.errors import ConfigError, DataValidationError
from hygeia.population import generate
from hygeia.tutor import (
    Session,
    _record,
    background_from_record,
    generate_case,
    read_case,
    write_case,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tutorrec") / "run"
    generate(n=40, seed=1, out=str(out))
    return out


def _adult(run, sex=None):
    for sid in range(1, 41):
        bg = background_from_record(run, sid)
        if bg.age_years >= 30 and (sex is None or bg.sex == sex) and bg.history:
            return bg
    pytest.skip("no adult with a history in this small run")


def test_doctests():
    assert doctest.testmod(_record).failed == 0


def test_background_reads_name_sex_age_medicines_history_smoking(run):
    bg = _adult(run)
    assert bg.name and bg.sex in ("male", "female") and 30 <= bg.age_years < 120
    assert bg.history and all("(finding)" not in h and "(disorder)" not in h for h in bg.history)
    assert bg.source.endswith(f"subject {bg.subject_id}")
    assert bg.social() == "" or bg.social().endswith(".")


def test_a_case_takes_the_person_and_draws_only_the_disease(run, tmp_path):
    bg = _adult(run)
    case = generate_case("ORPHA:558", seed=3, background=bg, images=False)
    p = case.patient
    assert (p.name, p.sex, p.age_years) == (bg.name, bg.sex, round(bg.age_years, 2))
    assert p.history == bg.history and all(m in p.medications for m in bg.medications)
    assert case.provenance["record"]["subject_id"] == bg.subject_id
    assert all(f.onset_years is None or f.onset_years >= p.age_years - 5.0 - 1e-9 for f in case.present())
    write_case(case, tmp_path / "c.json")
    assert read_case(tmp_path / "c.json").patient.history == bg.history          # the schema takes 'history'
    s = Session(case)
    told = s.ask("Do you have any other medical problems?").text
    assert "diagnosed with" in told and bg.history[0].lower().split(",")[0] in told.lower()
    assert s.ask("What is your name?").text == f"I'm {bg.name}."


def test_the_same_person_and_seed_give_the_same_case(run):
    bg = _adult(run)
    a = generate_case("ORPHA:558", seed=3, background=bg, images=False).to_dict()
    assert a == generate_case("ORPHA:558", seed=3, background=bg, images=False).to_dict()


def test_sex_limited_disease_and_onset_after_the_age_are_refused(run):
    female = _adult(run, "female")
    with pytest.raises(ConfigError, match=re.escape("annotated for male patients only")):
        generate_case("OMIM:618751", seed=1, background=female, images=False)   # spermatogenic failure
    child = next((b for b in (background_from_record(run, i) for i in range(1, 41)) if b.age_years < 12), None)
    if child is not None:
        with pytest.raises(ConfigError, match="choose an older subject"):
            generate_case("OMIM:215600", seed=1, background=child, images=False)  # familial cirrhosis, late onset
    with pytest.raises(ConfigError, match="draws its own patient"):
        generate_case("HYGEIA:sepsis", seed=1, background=female)


def test_unknown_subject_names_the_run_ids(run):
    with pytest.raises(DataValidationError, match="no person with subject id 999"):
        background_from_record(run, 999)


def test_cli_from_run(run, tmp_path):
    bg = _adult(run)
    out = tmp_path / "case.json"
    res = CliRunner().invoke(main, ["tutor", "case", "--disease", "ORPHA:558", "--from-run", str(run), "--subject",
                                    str(bg.subject_id), "--seed", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["patient"]["name"] == bg.name
    res = CliRunner().invoke(main, ["tutor", "case", "--disease", "ORPHA:558", "--subject", "3", "--out",
                                    str(tmp_path / "x.json")])
    assert res.exit_code == 2 and "--from-run" in res.output
