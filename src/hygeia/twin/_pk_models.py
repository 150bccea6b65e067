"""Published population PK models with covariates, as :class:`~hygeia.twin._pk_linear.LinearPK`.

Each model is a function of a :class:`PKCovariates` record and of ``eta``, the patient's
random effects (``eta = 0`` is the typical patient), returning micro-constants in hours.
Where a paper reports between-subject variability it is given as :class:`PopModel.omega`
(variances of log-normal random effects); where it does not, the model has no random
effects and its samples are identical.

Models (units: propofol mg and ug/mL; remifentanil ug and ng/mL; vancomycin mg and mg/L):

- ``marsh``: propofol, Marsh B, White M, Morton N, Kenny GNC. Pharmacokinetic model driven
  infusion of propofol in children. Br J Anaesth 1991;67:41-48 (adult Diprifusor
  parameters; ke0 0.26/min).
- ``schnider``: propofol, Schnider TW et al. The influence of method of administration and
  covariates on the pharmacokinetics of propofol in adult volunteers. Anesthesiology
  1998;88:1170-1182; ke0 from Schnider TW et al. Anesthesiology 1999;90:1502-1516.
- ``minto``: remifentanil, Minto CF et al. Influence of age and gender on the
  pharmacokinetics and pharmacodynamics of remifentanil. I. Model development.
  Anesthesiology 1997;86:10-23.
- ``goti``: vancomycin, Goti V, Chaturvedula A, Fossler MJ, Mok S, Jacob JT. Hospitalized
  patients with and without hemodialysis have markedly different vancomycin
  pharmacokinetics: a population pharmacokinetic model-based analysis. Ther Drug Monit
  2018;40:212-221 (two compartments; CL on Cockcroft-Gault creatinine clearance).

Lean body mass is James' formula (James WPT. Research on obesity. HMSO 1976), as the
Schnider and Minto papers used it.

Example:
    >>> import numpy as np
    >>> pk = PK_MODELS["marsh"].build(PKCovariates(weight_kg=70.0))
    >>> round(float(pk.v1), 2)  # 0.228 L/kg
    15.96
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from hygeia.errors import ConfigError
from hygeia.twin._pk_linear import LinearPK

__all__ = ["PK_MODELS", "PKCovariates", "PopModel", "cockcroft_gault", "james_lbm"]

_MIN = 60.0  # per minute -> per hour


@dataclass(frozen=True)
class PKCovariates:
    """What a model may need to know about the patient (``None``: not known).

    Args:
        weight_kg: total body weight.
        height_cm: height.
        age_y: age in years.
        sex: ``"m"`` or ``"f"``.
        creatinine_mg_dl: serum creatinine.
        dialysis: on haemodialysis (vancomycin).
    """

    weight_kg: float | None = None
    height_cm: float | None = None
    age_y: float | None = None
    sex: str | None = None
    creatinine_mg_dl: float | None = None
    dialysis: bool = False

    def need(self, names: tuple[str, ...], model: str) -> None:
        """Raise one error naming every covariate ``model`` needs that is missing or out of range."""
        hints = {"weight_kg": "weight_kg=70 (LOINC 29463-7 in a record)", "height_cm": "height_cm=175 (LOINC 8302-2)",
                 "age_y": "age_y=50 (from the birth date)", "sex": "sex='m' or 'f'",
                 "creatinine_mg_dl": "creatinine_mg_dl=0.9 (LOINC 2160-0)"}
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise ConfigError(f"the {model} model needs {', '.join(missing)}, which the patient lacks; pass "
                              + "; ".join(hints[m] for m in missing))
        for name in names:
            value = getattr(self, name)
            if name == "sex":
                if value not in ("m", "f"):
                    raise ConfigError(f"sex {value!r} is not 'm' or 'f'; the {model} model is sex-specific")
            elif not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} {value!r} must be a positive number for the {model} model")


def james_lbm(weight_kg: float, height_cm: float, sex: str) -> float:
    """Lean body mass (kg) by James' formula.

    Raises:
        ConfigError: when the formula breaks down (very high weight for the height gives
            a lean mass that falls as weight rises; the Schnider and Minto models were not
            fitted there).

    Example:
        >>> round(james_lbm(70.0, 175.0, "m"), 2)
        56.52
    """
    a, b = (1.1, 128.0) if sex == "m" else (1.07, 148.0)
    if weight_kg > a * height_cm**2 / (2 * b):
        raise ConfigError(f"James' lean body mass is not valid at {weight_kg:g} kg for {height_cm:g} cm "
                          f"(BMI {weight_kg / (height_cm / 100) ** 2:.0f}): the Schnider/Minto models do not apply; "
                          f"use the marsh propofol model or a patient within the models' range")
    return a * weight_kg - b * (weight_kg / height_cm) ** 2


def cockcroft_gault(age_y: float, weight_kg: float, sex: str, creatinine_mg_dl: float) -> float:
    """Creatinine clearance (mL/min), Cockcroft DW, Gault MH. Nephron 1976;16:31-41.

    Example:
        >>> round(cockcroft_gault(60, 72, "m", 1.0), 1)
        80.0
    """
    return (140.0 - age_y) * weight_kg / (72.0 * creatinine_mg_dl) * (0.85 if sex == "f" else 1.0)


@dataclass(frozen=True)
class PopModel:
    """A published model: drug, covariates it needs, random-effect variances, and its equations.

    Attributes:
        name: the registry key (``marsh``...).
        drug: the drug it describes.
        needs: the :class:`PKCovariates` fields it reads.
        omega: random effect name -> variance (log scale); empty when the paper gives none.
        sigma_prop, sigma_add: residual error (proportional SD as a fraction, additive SD in
            the concentration unit) of measured levels; 0 when the paper gives none.
        reference: the paper.
    """

    name: str
    drug: str
    needs: tuple[str, ...]
    equations: Callable[[PKCovariates, Mapping[str, np.ndarray]], LinearPK]
    omega: Mapping[str, float] = field(default_factory=dict)
    sigma_prop: float = 0.0
    sigma_add: float = 0.0
    reference: str = ""

    def build(self, cov: PKCovariates, eta: Mapping[str, np.ndarray] | None = None) -> LinearPK:
        """The patient's model; ``eta`` maps each random effect to shape ``(n,)`` (missing: 0)."""
        cov.need(self.needs, self.name)
        eta = {k: np.asarray((eta or {}).get(k, 0.0), dtype=float) for k in self.omega}
        return self.equations(cov, eta)

    def draw_eta(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n`` draws of the random effects from their population distribution."""
        return {k: rng.normal(0.0, math.sqrt(v), n) for k, v in self.omega.items()}


def _marsh(c: PKCovariates, eta: Mapping[str, np.ndarray]) -> LinearPK:
    return LinearPK(v1=0.228 * c.weight_kg, k10=0.119 * _MIN, k12=0.112 * _MIN, k21=0.055 * _MIN,
                    k13=0.042 * _MIN, k31=0.0033 * _MIN, ke0=0.26 * _MIN)


def _schnider(c: PKCovariates, eta: Mapping[str, np.ndarray]) -> LinearPK:
    lbm = james_lbm(c.weight_kg, c.height_cm, c.sex)
    v2 = 18.9 - 0.391 * (c.age_y - 53)
    cl1 = 1.89 + 0.0456 * (c.weight_kg - 77) - 0.0681 * (lbm - 59) + 0.0264 * (c.height_cm - 177)
    cl2 = 1.29 - 0.024 * (c.age_y - 53)
    if v2 <= 0 or cl1 <= 0 or cl2 <= 0:
        raise ConfigError(f"the schnider model gives a non-positive volume or clearance at age {c.age_y:g}, "
                          f"weight {c.weight_kg:g} kg, height {c.height_cm:g} cm; it was fitted in adults")
    return LinearPK.from_clearances(v1=4.27, cl=cl1 * _MIN, v2=v2, q2=cl2 * _MIN, v3=238.0, q3=0.836 * _MIN,
                                    ke0=0.456 * _MIN)


def _minto(c: PKCovariates, eta: Mapping[str, np.ndarray]) -> LinearPK:
    lbm = james_lbm(c.weight_kg, c.height_cm, c.sex)
    age = c.age_y - 40
    v1 = 5.1 - 0.0201 * age + 0.072 * (lbm - 55)
    v2 = 9.82 - 0.0811 * age + 0.108 * (lbm - 55)
    cl1 = 2.6 - 0.0162 * age + 0.0191 * (lbm - 55)
    cl2 = 2.05 - 0.0301 * age
    cl3 = 0.076 - 0.00113 * age
    ke0 = 0.595 - 0.007 * age
    if min(v1, v2, cl1, cl2, cl3, ke0) <= 0:
        raise ConfigError(f"the minto model gives a non-positive parameter at age {c.age_y:g}, lean body mass "
                          f"{lbm:.1f} kg; it was fitted in adults aged 20-85")
    return LinearPK.from_clearances(v1=v1, cl=cl1 * _MIN, v2=v2, q2=cl2 * _MIN, v3=5.42, q3=cl3 * _MIN,
                                    ke0=ke0 * _MIN)


def _goti(c: PKCovariates, eta: Mapping[str, np.ndarray]) -> LinearPK:
    crcl = min(cockcroft_gault(c.age_y, c.weight_kg, c.sex, c.creatinine_mg_dl), 150.0)
    dial = 1.0 if c.dialysis else 0.0
    cl = 4.5 * (crcl / 120.0) ** 0.8 * 0.7**dial * np.exp(eta["cl"])
    v1 = 58.4 * (c.weight_kg / 70.0) * 0.5**dial * np.exp(eta["v1"])
    v2 = 38.4 * np.exp(eta["v2"])
    return LinearPK.from_clearances(v1=v1, cl=cl, v2=v2, q2=6.5)


#: name -> published model.
PK_MODELS: dict[str, PopModel] = {
    m.name: m for m in (
        PopModel("marsh", "propofol", ("weight_kg",), _marsh, reference="Marsh et al., Br J Anaesth 1991;67:41-48"),
        PopModel("schnider", "propofol", ("weight_kg", "height_cm", "age_y", "sex"), _schnider,
                 reference="Schnider et al., Anesthesiology 1998;88:1170-1182 and 1999;90:1502-1516"),
        PopModel("minto", "remifentanil", ("weight_kg", "height_cm", "age_y", "sex"), _minto,
                 reference="Minto et al., Anesthesiology 1997;86:10-23"),
        # omega: CL 0.147, V1 0.510, V2 0.282 (CV 40%, 82%, 57%); residual 22.4% proportional + 3.4 mg/L
        PopModel("goti", "vancomycin", ("weight_kg", "age_y", "sex", "creatinine_mg_dl"), _goti,
                 omega={"cl": 0.147, "v1": 0.5103, "v2": 0.2822}, sigma_prop=math.sqrt(0.0502), sigma_add=3.4,
                 reference="Goti et al., Ther Drug Monit 2018;40:212-221"),
    )
}
