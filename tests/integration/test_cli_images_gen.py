"""``hygeia images fit / sample / evaluate``: a labelled DICOM folder in, a model, samples per label, a report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("pydicom")
pytest.importorskip("skimage")
torch = pytest.importorskip("torch")
pytest.importorskip("monai")

from hygeia.cli.main import main
from hygeia.core.generator import load_generator
from hygeia.imaging._datasets import (
    read_image_folder,
    rendered_slices,
    write_image_folder,
)


def _run(*args: str):
    return CliRunner().invoke(main, ["images", *args])


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scans")
    x, y = rendered_slices(40, findings=("none", "consolidation"), seed=41)
    write_image_folder(x, y, root / "train", modality="CT", format="dicom", seed=1)
    tx, ty = rendered_slices(30, findings=("none", "consolidation"), seed=42)
    write_image_folder(tx, ty, root / "test", modality="CT", format="dicom", seed=2)
    return root


def test_fit_and_sample_pca(folders: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    res = _run("fit", str(folders / "train"), "--out", str(model), "--kind", "pca", "--seed", "1")
    assert res.exit_code == 0, res.output
    assert "Trained a pca image generator" in res.output and "40 CT (20 consolidation, 20 none)" in res.output
    gen = load_generator(model)
    assert gen.provenance_["source"]["modality"] == "CT" and gen.provenance_["seed"] == 1

    again = _run("fit", str(folders / "train"), "--out", str(model), "--kind", "pca")
    assert again.exit_code == 2 and "--overwrite" in again.output

    samples = tmp_path / "samples"
    res = _run("sample", str(model), "-n", "30", "--out", str(samples), "--seed", "2")
    assert res.exit_code == 0, res.output
    assert "Drew 30 images from a pca model" in res.output and "(dicom, CT)" in res.output
    back = read_image_folder(samples)
    assert back.modality == "CT" and len(back.images) == 30 and set(back.labels) == {"none", "consolidation"}
    np.testing.assert_allclose(back.images, np.round(back.images))  # whole HU in DICOM

    res = _run("sample", str(model), "-n", "4", "--label", "consolidation", "--out", str(tmp_path / "png"),
               "--format", "png", "-q")
    assert res.exit_code == 0 and res.output == ""
    assert len(list((tmp_path / "png" / "consolidation").glob("*.png"))) == 4

    bad = _run("sample", str(model), "-n", "4", "--label", "nodule", "--out", str(tmp_path / "x"))
    assert bad.exit_code == 2 and "--label" in bad.output and "consolidation" in bad.output
    assert not (tmp_path / "x").exists()



@pytest.mark.slow
def test_evaluate_prints_each_metric_with_its_meaning(folders: Path, tmp_path: Path) -> None:
    model, samples = tmp_path / "model", tmp_path / "samples"
    assert _run("fit", str(folders / "train"), "--out", str(model), "--kind", "pca", "--seed", "1").exit_code == 0
    assert _run("sample", str(model), "-n", "30", "--out", str(samples), "--seed", "2").exit_code == 0
    report = tmp_path / "report.json"
    res = _run("evaluate", "--real", str(folders / "test"), "--synthetic", str(samples), "--train",
               str(folders / "train"), "--out", str(report), "--seed", "3")
    assert res.exit_code == 0, res.output
    doc = json.loads(report.read_text())
    m = doc["metrics"]
    assert {"fid", "kid", "precision", "recall", "density", "coverage", "memorization", "tstr_auc",
            "trtr_auc"} <= set(m)
    assert doc["sizes"]["real_heldout"] == 30 and doc["inputs"]["modality"] == "CT"
    for name in ("fid", "memorization", "tstr_auc"):
        assert f"  {name}" in res.output and doc["meanings"][name] in res.output


def test_evaluate_refuses_mixed_kinds_and_fit_refuses_bad_folders(folders: Path, tmp_path: Path) -> None:
    png = tmp_path / "png"
    x, y = rendered_slices(6, findings=("none", "consolidation"), seed=3)
    write_image_folder(x, y, png, modality="CT", format="png")
    res = _run("evaluate", "--real", str(folders / "test"), "--synthetic", str(png), "--out",
               str(tmp_path / "r.json"))
    assert res.exit_code == 2 and "different kinds of images" in res.output
    assert not (tmp_path / "r.json").exists()

    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.dcm").write_bytes(b"\0" * 200)
    res = _run("fit", str(flat), "--out", str(tmp_path / "m"))
    assert res.exit_code == 2 and "no subfolders" in res.output and "Traceback" not in res.output
    corrupt = tmp_path / "corrupt"
    (corrupt / "none").mkdir(parents=True)
    (corrupt / "none" / "a.dcm").write_bytes(b"DICM" + b"\0" * 50)
    res = _run("fit", str(corrupt), "--out", str(tmp_path / "m"))
    assert res.exit_code == 2 and "none/" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_fit_and_sample_diffusion(folders: Path, tmp_path: Path) -> None:
    model = tmp_path / "diff"
    res = _run("fit", str(folders / "train"), "--out", str(model), "--kind", "diffusion", "--epochs", "1", "--seed", "5")
    assert res.exit_code == 0, res.output
    assert "2 steps" in res.output and "stopped by epochs" in res.output
    res = _run("sample", str(model), "-n", "2", "--out", str(tmp_path / "s"), "--format", "nifti", "--seed", "1")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) in (["consolidation"], ["consolidation", "none"],
                                                                  ["none"])


def test_fit_and_sample_latent_diffusion(folders: Path, tmp_path: Path) -> None:
    model = tmp_path / "latent"
    res = _run("fit", str(folders / "train"), "--out", str(model), "--epochs", "3", "--seed", "5")  # latent: the default
    assert res.exit_code == 0, res.output
    assert "Trained a latent image generator" in res.output and "3 steps" in res.output
    gen = load_generator(model)
    assert type(gen).__name__ == "ImageLatentDiffusion" and gen.provenance_["latent_components"] == 16
    res = _run("sample", str(model), "-n", "4", "--out", str(tmp_path / "s"), "--seed", "1")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["consolidation", "none"]  # stratified: 2 and 2
