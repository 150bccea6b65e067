"""The tests a student may order in every case, and what each shows in one patient.

Every case carries the whole catalogue (:data:`CATALOGUE`), so ordering the right test and
skipping the useless ones is part of what is scored. A test *reveals* the case's findings
that lie under its HPO subtrees (``roots``): the 'test'-channel findings it is there to show
and, for tests that examine a finding the patient or examiner also notices (audiometry for
hearing loss, the ophthalmology exam for eye findings, the skeletal survey for fractures),
findings of any channel (``any_channel``). A 'test'-channel finding no catalogue test
covers goes to the fallback test of its organ system (:data:`FALLBACK`), so each is
revealed by some test. Pertinent negatives under a test's roots are revealed too (the test
comes back normal for them).

Laboratory panels report numeric values with cited reference ranges (:mod:`._labs`); the
genetic test reports the disease's genes (``Disease.genes``) where known; imaging tests whose
body part :func:`hygeia.imaging.render` draws carry ``image`` (``{modality, body_part, finding}``,
``finding`` None for a normal study), and :func:`render_case_image` writes it as a PNG.

Costs: **assumptions** (approximate US list prices in dollars, rounded), each with the CPT
code to look up in the CMS Clinical Laboratory Fee Schedule or Physician Fee Schedule;
turnaround minutes are assumptions too (a hospital laboratory's usual times).

Example:
    >>> [t.key for t in CATALOGUE][:4]
    ['cbc', 'blood_film', 'metabolic_panel', 'coagulation']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.errors import ConfigError
from hygeia.tutor._case import TestResult

__all__ = ["CATALOGUE", "COST_SOURCE", "FALLBACK", "IMAGE_FINDINGS", "TestSpec", "build_tests", "render_case_image",
           "reveal_roots", "spec"]

#: Where the costs come from (shown with every cost).
COST_SOURCE = ("assumption: approximate US list price in dollars, rounded; CPT code given to look up the CMS "
               "Clinical Laboratory Fee Schedule / Physician Fee Schedule national amount")


@dataclass(frozen=True)
class TestSpec:
    """One orderable test: what it is, what it costs, how long it takes, which HPO subtrees it shows."""

    key: str
    name: str
    kind: str
    cpt: str
    cost: float
    minutes: float
    roots: tuple[str, ...] = ()
    any_channel: bool = False
    image: tuple[str, str] | None = None      # (modality, body part) for hygeia.imaging.render


CATALOGUE: tuple[TestSpec, ...] = (
    TestSpec("cbc", "Complete blood count", "lab", "85025", 10, 60,
             ("HP:0001872", "HP:0001877", "HP:0001881", "HP:0020054", "HP:0020061", "HP:0011893")),
    TestSpec("blood_film", "Blood film and haematology review", "lab", "85060", 60, 1440,
             ("HP:0005561", "HP:0001978")),
    TestSpec("metabolic_panel", "Comprehensive metabolic panel (electrolytes, glucose, renal and liver tests)", "lab",
             "80053", 15, 60, ("HP:0002910", "HP:0000083")),
    TestSpec("coagulation", "Coagulation screen (PT/INR, aPTT, D-dimer)", "lab", "85610", 20, 60,
             ("HP:0001928",)),
    TestSpec("urinalysis", "Urinalysis with microscopy", "lab", "81001", 5, 30, ("HP:0003110",)),
    TestSpec("ck", "Creatine kinase", "lab", "82550", 10, 60, ("HP:0003236",)),
    TestSpec("inflammation", "Inflammatory markers (ESR, CRP)", "lab", "86140", 15, 60, ("HP:0003565", "HP:0011227")),
    TestSpec("blood_gas", "Arterial blood gas", "lab", "82803", 30, 15, ("HP:0001941", "HP:0001948", "HP:0012418")),
    TestSpec("lactate", "Lactate", "lab", "83605", 15, 20, ("HP:0002151", "HP:0003128")),
    TestSpec("ammonia", "Ammonia", "lab", "82140", 20, 60, ("HP:0001987",)),
    TestSpec("ldh", "Lactate dehydrogenase", "lab", "83615", 10, 60, ("HP:0025435",)),
    TestSpec("blood_culture", "Blood cultures (two sets)", "lab", "87040", 40, 2880, ("HP:0031864",)),
    TestSpec("metabolic_screen", "Metabolic screen (plasma amino acids, urine organic acids, acylcarnitines)", "lab",
             "82139", 300, 4320, ()),
    TestSpec("endocrine_panel", "Endocrine panel (thyroid, cortisol, gonadotropins, IGF-1)", "lab", "84443", 150, 1440,
             ("HP:0000818",)),
    TestSpec("immunology", "Immunology (immunoglobulins, lymphocyte subsets, complement)", "lab", "82784", 200, 2880,
             ("HP:0005368", "HP:0010701", "HP:0040088", "HP:0004313")),
    TestSpec("ecg", "12-lead ECG", "physiology", "93000", 20, 10, ("HP:0030956",)),
    TestSpec("eeg", "EEG", "physiology", "95816", 300, 240, ("HP:0002353",)),
    TestSpec("emg_ncs", "EMG and nerve conduction studies", "physiology", "95910", 400, 1440,
             ("HP:0001311", "HP:0003457")),
    TestSpec("pulmonary_function", "Pulmonary function tests (spirometry)", "physiology", "94010", 60, 60,
             ("HP:0030878",)),
    TestSpec("audiometry", "Audiometry", "physiology", "92557", 60, 60, ("HP:0000364",), any_channel=True),
    TestSpec("ophthalmology", "Ophthalmology examination (slit lamp, fundoscopy)", "physiology", "92004", 150, 120,
             ("HP:0000478",), any_channel=True),
    TestSpec("echocardiogram", "Echocardiogram", "imaging", "93306", 500, 240, ("HP:0001627", "HP:0030962")),
    TestSpec("chest_xray", "Chest X-ray", "imaging", "71046", 50, 60, ("HP:0002088", "HP:0045027", "HP:0033608"),
             image=("xray", "chest")),
    TestSpec("chest_ct", "CT chest", "imaging", "71250", 300, 120, ("HP:0002088", "HP:0045027", "HP:0033608"),
             image=("ct", "chest")),
    TestSpec("ct_pulmonary_angiogram", "CT pulmonary angiogram", "imaging", "71275", 450, 90, ("HP:0002204",)),
    TestSpec("leg_doppler", "Venous Doppler ultrasound of the legs", "imaging", "93970", 250, 120, ("HP:0002625",)),
    TestSpec("brain_mri", "Brain MRI", "imaging", "70553", 1200, 1440, ("HP:0012443",), image=("mr", "head")),
    TestSpec("skeletal_survey", "Skeletal survey (radiographs)", "imaging", "77075", 250, 240,
             ("HP:0004348", "HP:0005930", "HP:0000944", "HP:0000940", "HP:0003468", "HP:0020110", "HP:0002757"),
             any_channel=True, image=("xray", "wrist")),
    TestSpec("joint_xray", "Knee X-ray", "imaging", "73562", 60, 60, ("HP:0002758",), any_channel=True,
             image=("xray", "knee")),
    TestSpec("abdominal_ultrasound", "Abdominal ultrasound", "imaging", "76700", 250, 240,
             ("HP:0000077", "HP:0410042", "HP:0001743", "HP:0012210")),
    TestSpec("biopsy", "Tissue biopsy with histopathology", "lab", "88305", 350, 4320, ("HP:0025354", "HP:0002664")),
    TestSpec("gene_panel", "Gene panel / exome sequencing", "genetic", "81415", 3000, 40320, ()),
)

_BY_KEY = {t.key: t for t in CATALOGUE}

#: Organ system -> test that reveals its 'test'-channel findings no catalogue root covers.
FALLBACK = {
    "HP:0001871": "blood_film", "HP:0001939": "metabolic_screen", "HP:0000818": "endocrine_panel",
    "HP:0002715": "immunology", "HP:0025354": "biopsy", "HP:0002664": "biopsy", "HP:0000707": "brain_mri",
    "HP:0001626": "echocardiogram", "HP:0000119": "abdominal_ultrasound", "HP:0002086": "chest_ct",
    "HP:0025031": "abdominal_ultrasound", "HP:0033127": "skeletal_survey", "HP:0045027": "chest_ct",
    "HP:0040064": "skeletal_survey",
}

#: HPO subtrees whose presence :func:`hygeia.imaging.render` can show: term -> (render finding, test key, body part).
IMAGE_FINDINGS = {
    "HP:0002090": ("consolidation", "chest_xray", "chest"),      # pneumonia
    "HP:0033608": ("nodule", "chest_ct", "chest"),               # pulmonary nodule
    "HP:0020110": ("fracture", "skeletal_survey", "wrist"),      # bone fracture
    "HP:0002757": ("fracture", "skeletal_survey", "wrist"),      # recurrent fractures
    "HP:0002758": ("osteoarthritis", "joint_xray", "knee"),      # osteoarthritis
    "HP:0030890": ("white_matter_lesion", "brain_mri", "head"),  # hyperintensity of cerebral white matter on MRI
    "HP:0007042": ("white_matter_lesion", "brain_mri", "head"),  # focal white matter lesions
    "HP:0002352": ("white_matter_lesion", "brain_mri", "head"),  # leukoencephalopathy
}


def reveal_roots(key: str, sex: str | None = None) -> frozenset[str]:
    """Every HPO subtree test ``key`` shows: its ``roots`` plus, for a laboratory panel, the terms of its
    rows in ``resources/tutor_labs.csv`` (for ``sex``; both sexes when None). Findings of the 'test'
    channel whose system's :data:`FALLBACK` is ``key`` are shown too when no test covers them.

    Example:
        >>> "HP:0001903" in reveal_roots("cbc"), "HP:0001903" in reveal_roots("ecg")
        (True, False)
    """
    from hygeia.tutor._labs import lab_terms, panel_rows

    t = spec(key)
    sexes = (sex,) if sex else ("male", "female")
    return frozenset(t.roots).union(*(lab_terms(panel_rows(key, s)) for s in sexes))


def spec(key: str) -> TestSpec:
    """The catalogue entry ``key``; ConfigError naming the known keys if unknown."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ConfigError(f"unknown test {key!r}: expected one of {', '.join(_BY_KEY)}") from None


def render_case_image(case: Any, test_key: str, out_dir: str | os.PathLike[str], *, size: int | None = None) -> Path:
    """Render the image of imaging test ``test_key`` of ``case`` as one PNG in ``out_dir``; return its path.

    The image is drawn by :func:`hygeia.imaging.render` (a radiograph, or one slice of a CT or
    MR) from a seed derived from the case's seed and the test, so the same case gives the same
    picture. The file is written atomically as ``<case id>_<test>.png``. ``size`` defaults to 96
    pixels for radiographs (a 3-D block is projected: ~0.5 s) and 128 for CT and MR (~0.2 s);
    the first head image of a process also loads the MNI152 template (several seconds, once).

    Raises:
        ConfigError: the case has no such test, or the test carries no image.

    Example:
        >>> import tempfile
        >>> from hygeia.tutor._generate import generate_case
        >>> case = generate_case("ORPHA:558", seed=1)
        >>> render_case_image(case, "chest_xray", tempfile.mkdtemp(), size=64).suffix
        '.png'
    """
    import zlib

    from hygeia.core.atomic import atomic_output
    from hygeia.imaging import render, write_png

    test = next((t for t in case.tests if t.key == test_key), None)
    if test is None:
        raise ConfigError(f"case {case.id!r} has no test {test_key!r}: expected one of "
                          f"{', '.join(t.key for t in case.tests)}")
    if not test.image:
        with_images = [t.key for t in case.tests if t.image]
        raise ConfigError(f"test {test_key!r} of case {case.id!r} carries no image; imaging tests with one: "
                          f"{', '.join(with_images) or 'none'}")
    seed = int(case.provenance.get("seed") or 0)
    img_seed = (seed * 1_000_003 + zlib.crc32(test_key.encode())) % (2**63)
    im = test.image
    size = size or (96 if im["modality"] == "xray" else 128)
    vol = render(im["modality"], finding=im.get("finding"), body_part=im["body_part"], seed=img_seed, size=size,
                 slices=1, n=1)[0]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in case.id)
    dest = out_dir / f"{safe}_{test_key}.png"
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        window = "lung" if vol.modality == "CT" and im["body_part"] == "chest" else None
        paths = write_png(vol, Path(tmp) / "png", window=window)
        middle = paths[len(paths) // 2]
        with atomic_output(dest, overwrite=True) as t:
            t.write_bytes(middle.read_bytes())
    return dest


def _label(f: Any, kb: Any) -> str:
    hpo = f.reported_as or f.hpo
    return kb.terms[hpo].name if hpo in kb.terms else f.name


def build_tests(case: Any, kb: Any, rng: np.random.Generator, *, images: bool = True,
                lab_overrides: dict[str, tuple[float, float]] | None = None) -> list[TestResult]:
    """Every catalogue test's result for ``case`` (its findings, sex, disease genes).

    Args:
        case: the case being built (``findings``, ``patient.sex``, ``disease``).
        kb: the knowledge base.
        rng: the case's test stream.
        images: give imaging tests their ``image``.
        lab_overrides: LOINC code -> authored value range (acute cases).

    Returns:
        One :class:`TestResult` per catalogue entry, in catalogue order.
    """
    from hygeia.tutor._labs import lab_values, panel_rows

    sex = case.patient.sex
    findings = [f for f in case.findings if f.hpo in kb.terms]
    present_anc: set[str] = set()
    for f in findings:
        if f.present:
            present_anc |= kb.ancestors(f.hpo)
    assigned: dict[str, list[Any]] = {t.key: [] for t in CATALOGUE}
    covered: set[str] = set()
    for t in CATALOGUE:
        roots = reveal_roots(t.key, sex)
        for f in findings:
            anc = kb.ancestors(f.hpo)
            if roots & anc and (t.any_channel or f.channel == "test"):
                assigned[t.key].append(f)
                covered.add(f.hpo)
    for f in findings:
        if f.channel == "test" and f.hpo not in covered:
            assigned[FALLBACK.get(f.system or "", "biopsy")].append(f)
    out: list[TestResult] = []
    for t in CATALOGUE:
        shown = assigned[t.key]
        abnormal = [f for f in shown if f.present]
        parts: list[str] = []
        values: list[dict[str, Any]] = []
        if t.kind == "lab" and panel_rows(t.key, sex):
            values, _ = lab_values(t.key, sex, present_anc.__contains__, rng, overrides=lab_overrides)
        flagged = [v for v in values if v["flag"]]
        if abnormal:
            parts.append("Abnormal: " + ", ".join(_label(f, kb) for f in abnormal) + ".")
        if values:
            parts.append("; ".join(f"{v['name']} {v['value']:g}{' ' + v['unit'] if v['unit'] else ''}"
                                   f"{' (' + v['flag'] + ')' if v['flag'] else ''} [{v['low']:g}-{v['high']:g}]"
                                   for v in values) + ".")
        image = None
        if t.image and images:
            finding = None
            for f in abnormal:
                for root, (kind, _test, part) in IMAGE_FINDINGS.items():
                    if part == t.image[1] and root in kb.ancestors(f.hpo):
                        finding = kind
                        break
                if finding:
                    break
            image = {"modality": t.image[0], "body_part": t.image[1], "finding": finding}
        is_abnormal = bool(abnormal or flagged)
        if t.kind == "genetic":
            genes = case.disease.get("genes") or []
            if genes:
                gene = genes[int(rng.integers(len(genes)))]
                parts.append(f"Pathogenic variant found in {gene}, consistent with {case.disease['name']}.")
                is_abnormal = True
            elif case.disease.get("source") == "DECIPHER":
                parts.append(f"Copy-number variant found, consistent with {case.disease['name']}.")
                is_abnormal = True
            elif case.disease.get("source") == "HYGEIA":
                parts.append("No pathogenic variant found.")
            else:
                parts.append("No diagnostic variant found (the disease's gene is not annotated).")
        if t.kind == "genetic":
            pass
        elif not parts or (not is_abnormal and not values):
            parts.append("Normal." if t.kind != "imaging" else "Normal study.")
        elif not is_abnormal:
            parts.insert(0, "Within normal limits.")
        out.append(TestResult(key=t.key, name=t.name, kind=t.kind, cost=float(t.cost), minutes=float(t.minutes),
                              result=" ".join(parts), abnormal=is_abnormal, reveals=[f.hpo for f in shown],
                              values=values, image=image))
    return out
