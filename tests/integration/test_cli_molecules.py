"""``hygeia molecules``: train, sample, score, optimize and benchmark from the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("rdkit")
pytest.importorskip("torch")

from hygeia.cli.main import main  # noqa: E402
from hygeia.core.generator import load_generator  # noqa: E402

SMILES = [
    "CCO", "CCN", "CCOC(=O)C", "c1ccccc1O", "c1ccccc1N", "CC(=O)Nc1ccc(O)cc1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "COc1ccc2[nH]cc(CCN)c2c1", "O=C(O)c1ccccc1O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "c1ccc2ccccc2c1", "CC(C)NCC(O)COc1ccccc1",
]


def _run(*args: str):
    return CliRunner().invoke(main, ["molecules", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mol")
    (folder / "train.smi").write_text("\n".join(SMILES * 5) + "\n")
    res = CliRunner().invoke(main, ["molecules", "train", str(folder / "train.smi"), "--steps", "30", "--hidden-dim", "32",
                                    "--layers", "1", "--seed", "0", "--out", str(folder / "model")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return folder / "model"


def test_sample_writes_n_valid_molecules(model: Path, tmp_path: Path) -> None:
    res = _run("sample", "--model", str(model), "-n", "25", "--seed", "1", "--out", str(tmp_path / "a.smi"))
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "a.smi").read_text().splitlines()
    assert len(lines) == 25
    from rdkit import Chem

    assert all(Chem.MolFromSmiles(s) is not None for s in lines)
    _run("sample", "--model", str(model), "-n", "25", "--seed", "1", "--out", str(tmp_path / "b.smi"))
    assert (tmp_path / "a.smi").read_text() == (tmp_path / "b.smi").read_text()


def test_shipped_priors_by_name(tmp_path: Path) -> None:
    for name in ("zinc250k", "moses"):
        res = _run("sample", "--model", name, "-n", "20", "--seed", "1", "--out", str(tmp_path / f"{name}.smi"))
        assert res.exit_code == 0, res.output
    zinc, moses = ((tmp_path / f"{n}.smi").read_text().splitlines() for n in ("zinc250k", "moses"))
    assert len(zinc) == 20 and zinc != moses  # the named prior, not the default one


def test_score_with_a_shipped_config(tmp_path: Path) -> None:
    (tmp_path / "in.smi").write_text("\n".join(SMILES) + "\n")
    res = _run("score", str(tmp_path / "in.smi"), "--config", "druglike", "--out", str(tmp_path / "scored.csv"))
    assert res.exit_code == 0, res.output
    import pandas as pd

    table = pd.read_csv(tmp_path / "scored.csv")
    assert len(table) == len(SMILES) and table["score"].between(0, 1).all()
    assert table["score"].is_monotonic_decreasing


def test_optimize_writes_molecules_report_and_sdf(tmp_path: Path) -> None:
    res = _run("optimize", "--objective", "celecoxib_rediscovery", "--method", "graph_ga", "--budget", "150",
               "--seed", "0", "--out", str(tmp_path / "run"))
    assert res.exit_code == 0, res.output
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["molecules.csv", "report.html", "run.json", "top.sdf"]
    summary = json.loads((run / "run.json").read_text())
    assert summary["metrics"]["n_calls"] <= 150 and summary["seed"] == 0 and "prior" not in summary
    html = (run / "report.html").read_text()
    assert "<svg" in html and "Top molecules" in html and 'id="score-curve"' in html  # molecules and the curve
    assert (run / "top.sdf").read_text().count("$$$$") >= 10


def test_reinvent_without_the_diversity_filter(model: Path, tmp_path: Path) -> None:
    res = _run("optimize", "--objective", "qed", "--prior", str(model), "--no-diversity-filter", "--budget", "60",
               "--seed", "0", "--out", str(tmp_path / "run"))
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "run.json").read_text())
    assert summary["optimizer_params"]["diversity_filter"] is False and summary["metrics"]["n_calls"] <= 60
    assert summary["prior"] == {"name": str(model), "weights_digest": load_generator(model).weights_digest()}
    assert f"weights digest {summary['prior']['weights_digest']}" in (tmp_path / "run" / "report.html").read_text()
    res = CliRunner().invoke(main, ["molecules", "optimize", "--objective", "qed", "--method", "graph_ga",
                                    "--no-diversity-filter", "--out", str(tmp_path / "ga")])
    assert res.exit_code == 2 and "--no-diversity-filter is an option of REINVENT" in res.output, res.output
    assert not (tmp_path / "ga").exists()


def test_optimize_and_score_on_a_pmo_classifier(tmp_path: Path) -> None:
    # DRD2: TDC's SVM, read from MolScore's data files (installed for the tests)
    res = _run("optimize", "--objective", "drd2", "--method", "graph_ga", "--budget", "120", "--seed", "0",
               "--out", str(tmp_path / "run"))
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "run.json").read_text())
    assert summary["metrics"]["n_calls"] <= 120 and 0 < summary["metrics"]["top1"] <= 1
    (tmp_path / "d2.smi").write_text("OC1(CCN(CCCC(=O)c2ccc(F)cc2)CC1)c1ccc(Cl)cc1\nCC(=O)Oc1ccccc1C(=O)O\n")
    res = _run("score", str(tmp_path / "d2.smi"), "--objective", "drd2", "--out", str(tmp_path / "d2.csv"))
    assert res.exit_code == 0, res.output
    rows = (tmp_path / "d2.csv").read_text().splitlines()
    assert len(rows) == 3, rows  # haloperidol first, aspirin second
    header = rows[0].split(",")
    score = header.index("score")
    assert float(rows[1].split(",")[score]) > 0.9 > 0.1 > float(rows[2].split(",")[score])


def test_benchmark_prints_moses_metrics(tmp_path: Path) -> None:
    (tmp_path / "gen.smi").write_text("\n".join(SMILES + ["not_a_smiles"]) + "\n")
    (tmp_path / "train.smi").write_text("\n".join(SMILES[:6]) + "\n")
    res = _run("benchmark", str(tmp_path / "gen.smi"), "--train", str(tmp_path / "train.smi"), "--no-fcd",
               "--test", str(tmp_path / "train.smi"), "--properties",
               "--out", str(tmp_path / "m.json"))
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["valid"] == pytest.approx(12 / 13)
    assert metrics["Novelty"] == pytest.approx(0.5)
    assert all(metrics[k] >= 0 for k in ("logP", "SA", "QED", "weight"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "{bad}", "--config", "druglike", "--out", "{tmp}/o.csv"], ":2:"),
        (["score", "{good}", "--objective", "no_such_goal", "--out", "{tmp}/o.csv"], "unknown objective"),
        (["score", "{good}", "--config", "druglike", "--objective", "deco_hop", "--out", "{tmp}/o.csv"], "exactly one"),
        (["score", "{empty}", "--config", "druglike", "--out", "{tmp}/o.csv"], "empty"),
        (["score", "{good}", "--config", "{cfg}", "--out", "{tmp}/o.csv"], "nonsense"),
    ],
)
def test_bad_input_names_the_problem(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.smi").write_text("CCO\nC1CC(\nCCN\n")
    (tmp_path / "good.smi").write_text("CCO\n")
    (tmp_path / "empty.smi").write_text("")
    (tmp_path / "cfg.json").write_text(json.dumps({"components": [{"component": "nonsense", "transform": {"type": "step"}}]}))
    argv = ["molecules", *[a.format(bad=tmp_path / "bad.smi", good=tmp_path / "good.smi", empty=tmp_path / "empty.smi",
                                    cfg=tmp_path / "cfg.json", tmp=tmp_path) for a in args]]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert not (tmp_path / "o.csv").exists()


def test_skip_invalid_reports_the_lines_it_left_out(tmp_path: Path) -> None:
    (tmp_path / "in.smi").write_text("CCO\nC1CC(\nCCN\nnot_a_smiles\n")
    res = CliRunner().invoke(main, ["molecules", "score", str(tmp_path / "in.smi"), "--config", "druglike",
                                    "--skip-invalid", "--out", str(tmp_path / "s.csv")])
    assert res.exit_code == 0, res.output
    assert "skipped 2 invalid SMILES line(s)" in res.stderr
    assert "in.smi:2: 'C1CC('" in res.stderr and "in.smi:4: 'not_a_smiles'" in res.stderr
    assert re.search(r"skipped +2 invalid line\(s\)", res.stdout)
    import pandas as pd

    assert len(pd.read_csv(tmp_path / "s.csv")) == 2


def test_benchmark_reports_unique_at_k_only_for_k_it_has(tmp_path: Path) -> None:
    (tmp_path / "gen.smi").write_text("\n".join(SMILES + ["not_a_smiles"]) + "\n")
    (tmp_path / "ref.smi").write_text("\n".join(SMILES) + "\n")
    res = _run("benchmark", str(tmp_path / "gen.smi"), "--train", str(tmp_path / "ref.smi"), "--no-fcd", "--test",
               str(tmp_path / "ref.smi"), "--out", str(tmp_path / "m.json"))
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert [k for k in metrics if k.startswith("unique@")] == ["unique@13"]  # not unique@1000 or unique@10000
    assert "invalid" in res.stderr and "line 13" in res.stderr  # kept: it counts against validity
    again = _run("benchmark", str(tmp_path / "gen.smi"), "--no-fcd", "--train", str(tmp_path / "ref.smi"), "--test",
                 str(tmp_path / "ref.smi"), "--out", str(tmp_path / "m.json"), "--overwrite", "-q")
    assert again.exit_code == 0 and again.stderr == ""
