"""The lifecycle: what happens to everyone, whatever their modules.

For each person this module draws demographics and social attributes from the
locale pack, a birth date and natural death that agree with the pack's pyramid and life table
(:mod:`hygeia.population._demography`), a growth track
(height and weight z-scores followed from birth), resting vital signs and lab
values around the pack's reference means, a smoking history (onset and quit ages,
:mod:`hygeia.population._smoking`) that matches the pack's current smoking and quit
ratio by age and sex, and offers wellness encounters (with the
routine immunizations due at each) on the age-based periodicity below, each attended
with the published share for the person's age through a personal propensity
(:data:`WELLNESS_ATTENDANCE`, :data:`WELLNESS_PERSISTENCE`).

Modules read all of this through attributes (``smoker``, ``income``,
``education``...) and vital signs (``Height``, ``BMI``, ``Systolic Blood
Pressure``, ``Glucose``...), as in Synthea.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect_right
from statistics import NormalDist

from hygeia.errors import ConfigError
from hygeia.population._cardio import CARDIO_ATTRIBUTES, update_cardio_risk
from hygeia.population._demography import Demography
from hygeia.population._smoking import draw_history
from hygeia.population._vitals import (
    ATTRIBUTE_VITAL_FN,
    LIPID_NAMES,
    SYNTHEA_VITALS,
    growth_z,
    hba1c_nondiabetic,
    normal_cdf,
    normal_inv_cdf,
    pack_lipids,
    synthea_normal,
)
from hygeia.population.engine._person import TEXT, Person, row_key
from hygeia.population.engine._units import DAY_MS, YEAR_MS, round1

__all__ = ["WELLNESS_AGES_MONTHS", "WELLNESS_ATTENDANCE", "Lifecycle", "attends_wellness", "to_ms_date",
           "wellness_attendance"]

MODULE = "lifecycle"

#: Well-child visits (months): AAP/Bright Futures Recommendations for Preventive Pediatric
#: Health Care (Periodicity Schedule, 2023): newborn (3-5 days), 1, 2, 4, 6, 9, 12, 15, 18,
#: 24, 30 months, then yearly from 3 to 21 years.
WELLNESS_AGES_MONTHS = (0.13, 1, 2, 4, 6, 9, 12, 15, 18, 24, 30) + tuple(12 * y for y in range(3, 22))


#: Share of offered wellness visits a person attends, by the age (years) from which it
#: applies. Adults are offered a check-up every year (the annual physical; from 65 the
#: Medicare Annual Wellness Visit, CMS, 42 CFR 410.15) and two in three to nine in ten
#: attend, rising with age: NHIS, wellness visit (physical or general-purpose check-up) in
#: the past 12 months, 66% at 18-44, 77% at 45-64, 88% from 65 (approximate; see the
#: ``nhis_wellness`` source of the pack's targets). Children 3-17: about four in five had
#: a preventive visit in the past year (National Survey of Children's Health, 2020-2021;
#: approximate). Infants: 0.92 of their many well-child visits (a modelling choice; nearly
#: all still have a visit in any year, and missed doses are caught up).
WELLNESS_ATTENDANCE = ((0.0, 0.92), (3.0, 0.80), (18.0, 0.66), (45.0, 0.77), (65.0, 0.88))

#: Correlation, within a person, of the latent propensity to attend two offered visits
#: (a probit model: attend when sqrt(rho) * z + sqrt(1 - rho) * e < Phi^-1(share), z the
#: person's fixed propensity, e fresh at each visit). Some people are persistently low
#: attenders: at 0.5, about 7% of adults attending 0.66 of their yearly offers go five
#: years without a check-up (3% at 0.77, 0.8% at 0.88), against 0.5% at 0.66 were visits
#: independent; BRFSS's "last routine check-up 5 or more years ago" is a share of that
#: order. The value is a modelling choice, not a fitted estimate.
WELLNESS_PERSISTENCE = 0.5

_WELLNESS_SALT = 0x3E11C0DE
_NORMAL = NormalDist()
_ERF = math.erf
_SQRT2 = math.sqrt(2.0)


def wellness_attendance(age: float) -> float:
    """Share of offered wellness visits attended at ``age`` (years); see :data:`WELLNESS_ATTENDANCE`."""
    share = WELLNESS_ATTENDANCE[0][1]
    for lo, s in WELLNESS_ATTENDANCE:
        if age >= lo:
            share = s
    return share


def attends_wellness(propensity: float, noise: float, share: float, rho: float = WELLNESS_PERSISTENCE) -> bool:
    """Whether a person attends an offered wellness visit (the probit model of :data:`WELLNESS_PERSISTENCE`).

    Args:
        propensity: the person's fixed standard-normal propensity (low attends more).
        noise: a fresh standard-normal draw for this visit.
        share: the share of such visits attended at this age (the model's marginal).
        rho: the within-person correlation of the latent variable.

    Returns:
        True when the person attends; over persons and visits, with probability ``share``.

    Example:
        >>> attends_wellness(0.0, 0.0, 0.64)
        True
    """
    cut = _PROBIT.get(share)
    if cut is None:
        cut = _NORMAL.inv_cdf(share)
        if len(_PROBIT) < 64:
            _PROBIT[share] = cut
    return math.sqrt(rho) * propensity + math.sqrt(1.0 - rho) * noise < cut


#: share -> its standard-normal quantile, for :func:`attends_wellness` (a handful of shares).
_PROBIT: dict[float, float] = {}
#: :func:`attends_wellness` at the default persistence, by :data:`WELLNESS_ATTENDANCE` band
#: (the same floats: the same square roots and quantiles).
_SQRT_RHO, _SQRT_1_RHO = math.sqrt(WELLNESS_PERSISTENCE), math.sqrt(1.0 - WELLNESS_PERSISTENCE)
_ATTENDANCE_FROM = tuple(lo for lo, _ in WELLNESS_ATTENDANCE)
_ATTENDANCE_CUT = tuple(_NORMAL.inv_cdf(share) for _, share in WELLNESS_ATTENDANCE)


_MONTH_MS = YEAR_MS // 12


def synthea_wellness_interval(p: Person, t: int) -> int:
    """Time (ms) Synthea wants between wellness visits at ``t``
    (``EncounterModule.recommendedTimeBetweenWellnessVisits``).

    To age 3 (whole years) by age in months: 1 month to 1 month old, 2 months to 5, 3
    months to 17, then 6 months; yearly to 19; every 3 years to 39, 2 years to 49, then
    yearly. A person with an active chronic medication (a MedicationOrder with
    ``chronic``) is seen at least yearly.
    """
    age = t - p.birth
    if age < 4 * YEAR_MS:
        months = age // _MONTH_MS
        interval = (1 if months <= 1 else 2 if months <= 5 else 3 if months <= 17 else 6) * _MONTH_MS
    else:
        years = age // YEAR_MS
        interval = (1 if years <= 19 else 3 if years <= 39 else 2 if years <= 49 else 1) * YEAR_MS
    if interval > YEAR_MS and any(r[TEXT] == "chronic" for r in p.medications.values()):
        interval = YEAR_MS
    return interval


WELL_CHILD = ("SNOMED-CT", "410620009", "Well child visit (procedure)")
GENERAL_EXAM = ("SNOMED-CT", "162673000", "General examination of patient (procedure)")
#: The wellness encounter rows' row keys: adult (False), child (True).
_WELLNESS_KEYS = (row_key("encounter", GENERAL_EXAM, MODULE, "Wellness_Encounter"),
                  row_key("encounter", WELL_CHILD, MODULE, "Wellness_Encounter"))

#: Reference means and SDs of values the pack does not carry. Sources: MedlinePlus
#: (U.S. National Library of Medicine) lab test reference ranges: basic metabolic panel
#: (2023); LVEF: Lang et al., J Am Soc Echocardiogr 2015;28:1-39 (normal 52-72%).
_EXTRA_REFERENCE = {
    "Calcium": (9.5, 0.35, "mg/dL"),
    "Sodium": (140.0, 2.0, "mmol/L"),
    "Potassium": (4.25, 0.35, "mmol/L"),
    "Chloride": (102.0, 2.5, "mmol/L"),
    "Carbon Dioxide": (26.0, 2.0, "mmol/L"),
    "Urea Nitrogen": (14.0, 3.5, "mg/dL"),
    "Left ventricular Ejection fraction": (62.0, 5.0, "%"),
    "Microalbumin Creatinine Ratio": (10.0, 5.0, "mg/g"),
    "Oxygen Saturation": (97.5, 1.0, "%"),
}
_PACK_VITALS = (
    "Systolic Blood Pressure", "Diastolic Blood Pressure", "Heart Rate", "Respiration Rate",
    "Total Cholesterol", "LDL", "HDL", "Triglycerides", "Glucose", "Creatinine",
)
#: Ages (years) from which the cardiovascular risk attributes are kept up to date: the
#: Pooled Cohort Equations start at 40 (see :mod:`hygeia.population._cardio`).
#: Synthea's socioeconomic score (``synthea.properties``,
#: ``generate.demographics.socioeconomic.*``): the income that maps to level 0 and 1,
#: and the education level's band for each education.
_SES_POVERTY = 17_550
_SES_HIGH_INCOME = 75_000
_SES_EDUCATION = {
    "less_than_hs": (0.0, 0.5), "hs_degree": (0.1, 0.75), "some_college": (0.3, 0.85), "bs_degree": (0.5, 1.0),
}
#: Salt of the person's seed for the socioeconomic draws (a stream of their own).
_SES_SALT = 0x5E5C0DE
#: Salt of the person's seed for the smoking-history draws (onset, quit).
_SMOKING_SALT = 0x5A0CE

CARDIO_FROM_AGE = 40
CARDIO_EVERY_MS = YEAR_MS
#: The cardiovascular risk attributes that follow the Pooled Cohort Equations alone (none past 79).
_ASCVD_ONLY = frozenset({"ascvd_risk", "mi_risk", "ihd_risk"})
_NOISE_KEY = {name: i * 7919 + 104729 for i, name in enumerate(sorted(set(_PACK_VITALS) | set(_EXTRA_REFERENCE)))}


def to_ms_date(d: dt.date) -> int:
    """Epoch milliseconds of midnight UTC on ``d``."""
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp() * 1000)


def _noise(t: int, name: str) -> float:
    """A cheap, deterministic, roughly uniform(-1, 1) visit-to-visit wobble."""
    h = ((t // 60_000) * 2654435761 + _NOISE_KEY.get(name, 1)) & 0xFFFFFFFF
    return (h % 20001) / 10000.0 - 1.0


#: An adult's blood pressure here is that of a person without hypertension (the
#: hypertension module and ``attribute_vital`` give the hypertensive's), so it is drawn
#: from the pack's reference distribution below the hypertensive thresholds (140/90 mm
#: Hg, the definition of NCHS Data Brief No. 289, 2017): the pack's NHANES means and SDs
#: describe all adults, hypertensive and treated included, and drawing a person without
#: the disease from all of it would count about one adult in six of those 40 and over
#: as hypertensive by a single reading on top of the module's diagnoses.
_NORMOTENSIVE_BELOW = {"Systolic Blood Pressure": 139.5, "Diastolic Blood Pressure": 89.5}
#: Likewise an adult's fasting glucose here is that of a person without diabetes (the
#: diabetes module sets the diabetic's), drawn below 126 mg/dL (diabetes, ADA Standards of
#: Care 2023, section 2): a reading of 126 or more would be diabetes that no one diagnoses.
#: The pack's glucose rows, by age and sex, describe adults without diagnosed diabetes.
_NONDIABETIC_BELOW = {"Glucose": 125.5}
_CUT_BELOW = {**_NORMOTENSIVE_BELOW, **_NONDIABETIC_BELOW}


def _normal_below(z: float, c: float) -> float:
    """The standard-normal score ``z`` moved, by its rank, into the normal truncated below ``c``."""
    u = normal_cdf(z) * normal_cdf(c)
    return normal_inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))


def _growth(p: Person, z: dict, age: float) -> tuple[float, float]:
    """``growth_z(z, age)``, kept per person where it does not change with age (to 18 and from 25)."""
    key = "growth_child" if age <= 18.0 else "growth_adult" if age >= 25.0 else None
    if key is None:
        return growth_z(z, age)
    g = p.extra.get(key)
    if g is None:
        g = p.extra[key] = growth_z(z, age)
    return g


def ckd_epi_2021(creatinine: float, age: float, sex: str) -> float:
    """eGFR (mL/min/1.73m2) by the race-free CKD-EPI 2021 creatinine equation (Inker, NEJM 2021)."""
    k, a = (0.7, -0.241) if sex == "F" else (0.9, -0.302)
    r = creatinine / k
    egfr = 142 * min(r, 1.0) ** a * max(r, 1.0) ** -1.200 * 0.9938 ** age
    return egfr * (1.012 if sex == "F" else 1.0)


class Lifecycle:
    """Births, growth, vital signs, smoking, wellness visits, immunizations and natural death.

    Args:
        pack: the :class:`~hygeia.population.locale.LocalePack` to draw from.
        end: the simulation's end, epoch ms.
        biometrics: where the lipids, glucose, blood pressure, kidney function and
            the other lab values of a person whom no attribute drives come from:
            ``"pack"`` (the pack's age- and sex-specific references, for Hygeia's own
            modules) or ``"synthea"`` (Synthea's ``biometrics.yml`` normal ranges, as
            Synthea's Java computes them, for runs of Synthea-format modules only; see
            :func:`hygeia.population._vitals.synthea_normal`).
        demography: what draws ages, sexes and natural deaths
            (:class:`~hygeia.population._demography.Demography`); by default the
            pack's pyramid and life table over the default observation window, with
            no module deaths taken out of the life table.
        cardio_attributes: the cardiovascular risk attributes to keep up to date (those
            the run's modules read, see :data:`~hygeia.population._cardio.CARDIO_ATTRIBUTES`);
            by default all of them.
    """

    BIOMETRICS = ("pack", "synthea")

    def __init__(self, pack, end: int, biometrics: str = "pack", *, demography=None,
                 cardio_attributes=CARDIO_ATTRIBUTES) -> None:
        if biometrics not in self.BIOMETRICS:
            raise ConfigError(f"biometrics must be one of {self.BIOMETRICS}; got {biometrics!r}")
        self.pack = pack
        self.end = end
        self.biometrics = biometrics
        self._synthea = biometrics == "synthea"
        self.demography = demography if demography is not None else Demography(pack, end)
        self.cardio_attributes = frozenset(cardio_attributes)
        # (code, CVX code triple, repeat interval in ms or None, first month, dose ages in months)
        self._vaccines = []
        #: vital-sign name -> its reader (see :meth:`vital`), made on first use
        self._readers: dict = {}
        #: vaccine code -> its immunization rows' row key (an index of this process's row-key table:
        #: made on first use, and again where the lifecycle is unpickled)
        self._vaccine_keys: dict | None = None
        for v in pack.immunizations:
            every = getattr(v, "every_months", None)
            self._vaccines.append((
                v.code, ("CVX", v.code, v.display), int((every - 1) * YEAR_MS / 12) if every else None,
                getattr(v, "from_months", 0.0) or 0.0, tuple(v.ages_months),
            ))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_readers"] = {}  # closures: made again where the lifecycle is unpickled
        state["_vaccine_keys"] = None  # indexes of this process's row-key table
        return state

    # -- a new person ----------------------------------------------------------
    def make_person(self, subject_id: int, seed: int) -> Person:
        """Draw a person's demographics, birth and natural death (see :mod:`hygeia.population._demography`)."""
        rng = random.Random(seed ^ 0x5DEECE66D)
        pack = self.pack
        age, sex = self.demography.sample_age_sex(rng)
        birth = self.end - int(age * YEAR_MS)
        race, ethnicity = pack.sample_race_ethnicity(rng)
        p = Person(subject_id, seed, birth, sex, race, ethnicity, vital_fn=self.vital)
        p.vital_readers = self._readers
        given, family = pack.sample_names(rng, sex)
        income = pack.sample_income(rng)
        education = pack.sample_education(rng)
        a = p.attrs
        a.update(
            given_name=given,
            family_name=family,
            state=pack.sample_state(rng),
            income=income,
            education=education,
            first_language=pack.sample_first_language(rng, ethnicity),
            marital_status=pack.sample_marital_status(rng, age, sex),
            smoker=False,
            # US Census Bureau, 2022 poverty threshold for a family of four: $29,678.
            poverty_ratio=round(income / 29_678, 2),
        )
        a["insurance_status"] = self._insurance(rng, income / 29_678)
        # Rh(D)-negative: about 15% of people of European ancestry, 7-8% of African
        # ancestry, 1% or less of Asian ancestry (AABB Technical Manual, 20th ed., 2020).
        rh = {"white": 0.15, "black": 0.075, "asian": 0.01}.get(race, 0.07)
        a["RH_NEG"] = rng.random() < rh
        p.ses = self._ses(income, education, random.Random(seed ^ _SES_SALT))
        p.extra["z"] = {name: rng.gauss(0.0, 1.0) for name in ("height", "weight") + _PACK_VITALS}
        p.extra["smoking"] = draw_history(pack, age, sex, rng.random(), random.Random(seed ^ _SMOKING_SALT))
        p.death_due = self.demography.sample_death(rng, birth, sex, age)
        p.death_cause = None
        return p

    @staticmethod
    def _ses(income: int, education: str, rng: random.Random) -> str:
        """Socioeconomic category as Synthea computes it (``Demographics.socioeconomicScore``).

        The score is 0.2 x income level + 0.7 x education level + 0.1 x occupation level:
        income level maps the poverty line to 0 and $75,000 to 1
        (``Demographics.incomeLevel``), the education level is drawn uniformly from the
        band of the person's education (``Demographics.educationLevel``) and occupation
        is uniform on [0, 1] (``Generator``). ``Demographics.socioeconomicCategory``: High
        from 0.66, Middle from 0.25, else Low (weights, bands and thresholds from
        ``synthea.properties``, ``generate.demographics.socioeconomic.*``). ``rng`` is the
        person's own stream for these two draws, so the other draws do not move.
        """
        income_level = min(max((income - _SES_POVERTY) / (_SES_HIGH_INCOME - _SES_POVERTY), 0.0), 1.0)
        band = _SES_EDUCATION.get(education)
        education_level = rng.uniform(*band) if band else 0.0
        score = 0.2 * income_level + 0.7 * education_level + 0.1 * rng.random()
        return "High" if score >= 0.66 else ("Middle" if score >= 0.25 else "Low")

    @staticmethod
    def _insurance(rng: random.Random, poverty_ratio: float) -> str:
        """Insurance at simulation start; Medicare from 65 is set when the person turns 65.

        Medicaid below 138% of the poverty line (ACA expansion threshold); 7.9% of the US
        population uninsured in 2022 (US Census Bureau, Health Insurance Coverage in the
        United States: 2022, P60-281).
        """
        if poverty_ratio < 1.38:
            return "medicaid"
        return "no_insurance" if rng.random() < 0.079 else "private"

    # -- vital signs -----------------------------------------------------------
    def vital(self, p: Person, name: str, t: int) -> float | None:
        """The lifecycle's value of vital sign ``name`` for ``p`` at ``t``.

        Vital signs that follow attributes (HbA1c, lipids and glucose with diabetes,
        kidney function with CKD, oxygen saturation with heart failure, blood pressure
        with hypertension; see :mod:`hygeia.population._vitals`) are computed on every
        read, since an attribute may change within an instant; the others come from the
        pack's reference values and are cached per instant. With
        ``biometrics="synthea"``, the others come from Synthea's normal ranges instead
        of the pack (cached per instant too).

        Each name gets its own reader, made on its first read (:meth:`_vital_reader`).
        """
        fn = self._readers.get(name)
        if fn is None:
            fn = self._readers[name] = self._vital_reader(name)
        return fn(p, t)

    def _vital_reader(self, name: str):
        """``(p, t) -> value`` of vital sign ``name``: :meth:`vital` for that name, its tests made once."""
        driven = ATTRIBUTE_VITAL_FN.get(name)  # attribute_vital(p, name, t), without its dispatch
        if driven is not None and name == "Blood Glucose":
            own_hba1c, plain = self._own_hba1c, driven

            def driven(p, t):  # noqa: F811 - the pack's own HbA1c for a person without (pre)diabetes
                return None if own_hba1c(p) else plain(p, t)

        if self._synthea and name in SYNTHEA_VITALS:
            def compute(p, t):
                values = synthea_normal(p, name, t)
                if p.vitals_t == t:
                    p.vitals_now.update(values)
                return values.get(name)
        else:
            compute = self._vital_compute(name)

        def read_undriven(p, t):  # no attribute drives the value (height, heart rate...): the cached computation
            if p.vitals_t == t:
                cache = p.vitals_now
            else:
                p.vitals_t = t
                cache = p.vitals_now = {}
            v = cache.get(name)
            if v is None:
                v = cache[name] = compute(p, t)
            return v

        def read(p, t):
            v = driven(p, t)
            return v if v is not None else read_undriven(p, t)

        return read if driven is not None else read_undriven

    def _vital_compute(self, name: str):
        """``(p, t) -> value`` of :meth:`_vital` for ``name``, with its look-ups by name and sex done once."""
        pack = self.pack
        if name in ("Height", "Weight"):
            curves = {sex: pack.growth_curve(name.lower(), sex) for sex in ("M", "F")}
            which = 0 if name == "Height" else 1

            def growth(p, t):
                age = (t - p.birth) / YEAR_MS
                curve = curves.get(p.sex)
                if curve is None:
                    return self._vital(p, name, t)
                # _growth(p, p.extra["z"], age), inlined
                key = "growth_child" if age <= 18.0 else "growth_adult" if age >= 25.0 else None
                extra = p.extra
                if key is None:
                    g = growth_z(extra["z"], age)
                else:
                    g = extra.get(key)
                    if g is None:
                        g = extra[key] = growth_z(extra["z"], age)
                return round1(curve(age * 12.0, g[which]))
            return growth
        if name == "BMI":
            def bmi(p, t):
                h = p.vital("Height", t) / 100.0
                return round1(p.vital("Weight", t) / (h * h)) if h > 0 else None
            return bmi
        if name in LIPID_NAMES:
            reference_of = pack.vital_reference

            def lipid(p, t):  # _vital's lipid panel, without its dispatch
                panel = pack_lipids(p, t, (t - p.birth) / YEAR_MS, reference_of)
                if p.vitals_t == t:
                    p.vitals_now.update(panel)  # one panel per instant: the four values agree
                return panel[name]
            return lipid
        if name in _PACK_VITALS and name not in LIPID_NAMES:
            bands = {sex: pack.vital_bands(name, sex) for sex in ("M", "F")}
            noise_key = _NOISE_KEY.get(name, 1)
            cut_below = _CUT_BELOW.get(name)
            # normal_cdf of each band's cut (the second factor of _normal_below), by sex and band
            cut_cdf = {sex: tuple(normal_cdf((cut_below - mean) / sd) for mean, sd in band[1])
                       for sex, band in bands.items()} if cut_below is not None else None

            def reference(p, t):
                z = p.extra["z"].get(name)
                band = bands.get(p.sex)
                if z is None or band is None:
                    return self._vital(p, name, t)
                age = (t - p.birth) / YEAR_MS
                i = bisect_right(band[0], age) - 1
                if i < 0:
                    i = 0
                mean, sd = band[1][i]
                # _noise(t, name), inlined
                zz = z + 0.25 * ((((t // 60_000) * 2654435761 + noise_key) & 0xFFFFFFFF) % 20001 / 10000.0 - 1.0)
                if cut_cdf is not None and age >= 18:
                    # _normal_below(zz, (cut_below - mean) / sd), inlined
                    u = 0.5 * (1.0 + _ERF(zz / _SQRT2)) * cut_cdf[p.sex][i]
                    zz = normal_inv_cdf(1e-12 if u < 1e-12 else 1.0 - 1e-12 if u > 1.0 - 1e-12 else u)
                v = mean + sd * zz
                floor = mean * 0.3
                return round1(floor if floor > v else v)  # max(v, floor)
            return reference
        return lambda p, t: self._vital(p, name, t)

    def _own_hba1c(self, p: Person) -> bool:
        """Whether ``p``'s HbA1c is the pack-mode one of a person without diabetes (by age).

        Synthea's ``estimateHbA1c`` (uniform 5.0-5.7%, see :func:`hba1c_percent`) is kept with
        ``biometrics="synthea"`` and for persons with ``diabetes`` or ``prediabetes``.
        """
        a = p.attrs
        return not self._synthea and not a.get("diabetes") and not a.get("prediabetes")

    def _vital(self, p: Person, name: str, t: int) -> float | None:
        age = (t - p.birth) / YEAR_MS
        z = p.extra["z"]
        pack = self.pack
        if name == "Height":
            return round1(pack.height_cm(age, p.sex, _growth(p, z, age)[0]))
        if name == "Weight":
            return round1(pack.weight_kg(age, p.sex, _growth(p, z, age)[1]))
        if name == "BMI":
            h = p.vital("Height", t) / 100.0
            return round1(p.vital("Weight", t) / (h * h)) if h > 0 else None
        if name in LIPID_NAMES:
            panel = pack_lipids(p, t, age, pack.vital_reference)
            if p.vitals_t == t:
                p.vitals_now.update(panel)  # one panel per instant: the four values agree
            return panel[name]
        if name in z:
            mean, sd = pack.vital_reference(name, age, p.sex)
            zz = z[name] + 0.25 * _noise(t, name)
            cut = _CUT_BELOW.get(name) if age >= 18 else None
            if cut is not None:
                zz = _normal_below(zz, (cut - mean) / sd)
            v = mean + sd * zz
            return round1(max(v, mean * 0.3))
        if name == "Blood Glucose":
            return hba1c_nondiabetic(p, t, age)
        if name == "EGFR":
            return round1(ckd_epi_2021(p.vital("Creatinine", t), max(age, 18.0), p.sex))
        ref = _EXTRA_REFERENCE.get(name)
        if ref is not None:
            return round1(ref[0] + ref[1] * 0.8 * _noise(t, name))
        if name == "Head Circumference":
            # WHO Child Growth Standards: median 34.5 cm at birth, ~46 cm at 1 y, ~49 cm at 2 y.
            return round1(34.5 + 15.0 * (1 - math.exp(-age / 0.75)))
        return None

    # -- scheduling --------------------------------------------------------------
    def begin(self, p: Person, sim) -> None:
        """Schedule the first wellness visit, smoking onset and quit, and the Medicare checkpoint."""
        sim.schedule(p.birth + int(WELLNESS_AGES_MONTHS[0] * YEAR_MS / 12), self._wellness, sim)
        history = p.extra["smoking"]
        for age in (history.onset, history.quit):
            if age is not None:
                sim.schedule(p.birth + int(age * YEAR_MS), self._smoking, sim)
        sim.schedule(p.birth + 65 * YEAR_MS, self._medicare, sim)
        if self.cardio_attributes:  # (else nothing reads them: no yearly update)
            sim.schedule(p.birth + CARDIO_FROM_AGE * YEAR_MS, self._cardio, sim)

    def _cardio(self, sim, t: int) -> None:
        """Keep Synthea's cardiovascular risk attributes current (``CardiovascularDiseaseModule``).

        Synthea recomputes them every weekly time step; the corpus reads them once a
        month. Hygeia recomputes them on every birthday from 40: the calculators take
        age in whole years, so this follows age exactly and the other inputs (blood
        pressure, lipids, smoking, diabetes, hypertension, atrial fibrillation) within a
        year, at a small fraction of the cost.
        """
        p = sim.person
        update_cardio_risk(p, t, self.cardio_attributes)
        if t - p.birth >= 80 * YEAR_MS and self.cardio_attributes <= _ASCVD_ONLY:
            return  # past 79 these stay at their "not applicable" values (see update_cardio_risk)
        sim.schedule(t + CARDIO_EVERY_MS, self._cardio, sim)

    def _smoking(self, sim, t: int) -> None:
        """Start smoking at the history's onset ('smoker', 'ever_smoked'), stop at its quit ('quit smoking age')."""
        p = sim.person
        history = p.extra["smoking"]
        a = p.attrs
        if history.quit is not None and (t - p.birth) / YEAR_MS >= history.quit - 1e-6:
            a["smoker"] = False
            a["quit smoking age"] = int(history.quit)
            p.dirty.update(("smoker", "quit smoking age"))
        else:
            a["smoker"] = a["ever_smoked"] = True
            p.dirty.update(("smoker", "ever_smoked"))

    def _medicare(self, sim, t: int) -> None:
        p = sim.person
        p.attrs["insurance_status"] = "medicare"
        p.dirty.add("insurance_status")

    def _next_wellness(self, p: Person, t: int) -> int:
        months = (t - p.birth) / YEAR_MS * 12
        i = bisect_right(WELLNESS_AGES_MONTHS, months + 0.5)  # the first scheduled age after this one
        # ``rng.randint(a, b)`` is ``a + rng._randbelow(b - a + 1)`` (the same draw), without its two calls
        # of argument checks (tests/unit/population/test_lifecycle_wellness_draws.py holds them equal).
        if i < len(WELLNESS_AGES_MONTHS):
            m = WELLNESS_AGES_MONTHS[i]
            jitter = (p.rng._randbelow(7) - 3) * DAY_MS if m >= 12 else 0
            return max(t + DAY_MS, p.birth + int(m * YEAR_MS / 12) + jitter)
        return t + YEAR_MS + (p.rng._randbelow(41) - 20) * DAY_MS

    @staticmethod
    def _attends(p: Person, age: float) -> bool:
        """Draw whether ``p`` attends the wellness visit offered at ``age`` (a stream of their own).

        :func:`attends_wellness` with :func:`wellness_attendance`, their constants looked up once.
        """
        extra = p.extra
        rng = extra.get("wellness_rng")
        if rng is None:
            rng = extra["wellness_rng"] = random.Random(p.seed ^ _WELLNESS_SALT)
            extra["wellness_z"] = rng.gauss(0.0, 1.0)
        i = bisect_right(_ATTENDANCE_FROM, age) - 1
        return _SQRT_RHO * extra["wellness_z"] + _SQRT_1_RHO * rng.gauss(0.0, 1.0) < _ATTENDANCE_CUT[i if i > 0 else 0]

    def _wellness(self, sim, t: int) -> None:
        p = sim.person
        age = (t - p.birth) / YEAR_MS
        if not self._synthea and not self._attends(p, age):
            # A missed visit: nothing recorded; doses due are caught up at the next one attended.
            sim.schedule(self._next_wellness(p, t), self._wellness, sim)
            return
        child = age < 18
        enc = p.start_encounter(t, WELL_CHILD if child else GENERAL_EXAM, "wellness", MODULE,
                                "Wellness_Encounter", minutes=30, key=_WELLNESS_KEYS[child])
        self._immunize(p, t, age * 12, enc)
        sim.wellness_visit(enc, t)
        if self._synthea:
            p.extra["last_wellness"] = t
            sim.schedule(t + min(synthea_wellness_interval(p, t), YEAR_MS), self._synthea_wellness_due, sim)
        else:
            sim.schedule(self._next_wellness(p, t), self._wellness, sim)

    def _synthea_wellness_due(self, sim, t: int) -> None:
        """Synthea's schedule: a visit once the time since the last reaches the interval now due.

        Synthea checks every weekly time step (``EncounterModule.process``); the interval
        depends on age and on chronic medications at that step, so a chronic prescription
        between visits brings the next one forward to a year after the last. Hygeia checks
        when the interval first can be due, then monthly while it is not.
        """
        p = sim.person
        since = t - p.extra["last_wellness"]
        interval = synthea_wellness_interval(p, t)
        if since >= interval:
            self._wellness(sim, t)
        else:
            sim.schedule(min(p.extra["last_wellness"] + interval, t + _MONTH_MS), self._synthea_wellness_due, sim)

    def _immunize(self, p: Person, t: int, age_months: float, enc: list) -> None:
        """Give at this visit one dose of every vaccine that is due (catching up missed doses)."""
        given = p.extra.get("doses")
        if given is None:
            given = p.extra["doses"] = {}
            p.extra["vaccines_left"] = self._vaccines
        done = False
        keys = self._vaccine_keys
        if keys is None:
            keys = self._vaccine_keys = {code: row_key("immunization", cvx, MODULE, "Immunization")
                                         for code, cvx, *_ in self._vaccines}
        for code, cvx, every_ms, start, ages in p.extra["vaccines_left"]:
            n = given.get(code, 0)
            if every_ms:
                if age_months >= start:
                    last = given.get((code, "last"))
                    if last is None or t - last >= every_ms:
                        given[(code, "last")] = t
                        given[code] = n + 1
                        p.record(t, "immunization", cvx, MODULE, "Immunization", enc, key=keys[code])
            elif n < len(ages) and ages[n] <= age_months:
                given[code] = n + 1
                p.record(t, "immunization", cvx, MODULE, "Immunization", enc, key=keys[code])
                done = done or n + 1 == len(ages)
        if done:  # a series is complete: later visits need not look at it (the order of the rest is kept)
            p.extra["vaccines_left"] = [v for v in p.extra["vaccines_left"] if v[2] or given.get(v[0], 0) < len(v[4])]
