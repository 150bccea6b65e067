"""Family history by mode of inheritance.

Example:
    >>> import numpy as np
    >>> fam, text = family_history(["HP:0001450"], "male", np.random.default_rng(0))
    >>> text
    "The patient's father has similar problems."
"""

from __future__ import annotations

import numpy as np

from hygeia.tutor._case import FamilyMember

__all__ = ["MAIN_MODES", "family_history", "screening_relative"]

_AD = {"HP:0000006", "HP:0012275", "HP:0012274", "HP:0032113"}
_AR = {"HP:0000007"}
_XR = {"HP:0001419", "HP:0001417"}
_XD = {"HP:0001423"}
_MITO = {"HP:0001427"}
_Y = {"HP:0001450"}
_MULTI = {"HP:0010982", "HP:0001426", "HP:0031362", "HP:0010984"}
#: The modes of inheritance a family history is drawn for (the others give none, or multifactorial's).
MAIN_MODES = _AD | _AR | _XR | _XD | _MITO | _Y


def family_history(inheritance: list[str], sex: str, rng: np.random.Generator) -> tuple[list[FamilyMember], str]:
    """Relatives and a one-line family history for a patient of ``sex`` with a disease of ``inheritance``.

    Rules (shares are assumptions unless stated): autosomal dominant — an affected parent
    unless the variant arose de novo (30%), each sibling affected with probability 1/2 when a
    parent is; autosomal recessive — healthy carrier parents, consanguineous 10% of the time,
    each sibling affected with probability 1/4; X-linked recessive — a third of cases are new
    mutations (Haldane), otherwise a carrier mother, an affected maternal uncle half the time
    and each brother affected with probability 1/2; X-linked dominant — an affected mother half
    the time; mitochondrial — an affected (often mildly) mother half the time, maternal
    siblings then affected half the time; Y-linked — an affected father; multifactorial — one
    affected first-degree relative 20% of the time; otherwise no family history.

    Example:
        >>> fam, text = family_history(["HP:0000007"], "female", np.random.default_rng(3))
        >>> any(m.relation in ("mother", "father") for m in fam)
        True
    """
    modes = set(inheritance)
    members: list[FamilyMember] = []
    sibs = [("brother" if rng.random() < 0.5 else "sister") for _ in range(int(rng.integers(0, 4)))]
    notes: list[str] = []
    if modes & _AD:
        if rng.random() < 0.3:
            members += [FamilyMember("mother", False), FamilyMember("father", False)]
            members += [FamilyMember(s, False) for s in sibs]
            notes.append("no relative is known to be affected (a de novo variant)")
        else:
            parent = "mother" if rng.random() < 0.5 else "father"
            other = "father" if parent == "mother" else "mother"
            members += [FamilyMember(parent, True, "has similar problems"), FamilyMember(other, False)]
            members += [FamilyMember(s, bool(rng.random() < 0.5)) for s in sibs]
            notes.append(f"the patient's {parent} has similar problems")
    elif modes & _AR:
        consang = rng.random() < 0.1
        note = "healthy; the parents are first cousins" if consang else "healthy"
        members += [FamilyMember("mother", False, note), FamilyMember("father", False, note)]
        members += [FamilyMember(s, bool(rng.random() < 0.25)) for s in sibs]
        notes.append("the parents are healthy" + (" and are first cousins" if consang else ""))
    elif modes & _XR:
        inherited = rng.random() < 2 / 3
        members.append(FamilyMember("mother", False, "healthy" + (" (a carrier)" if inherited else "")))
        members.append(FamilyMember("father", False))
        if inherited and rng.random() < 0.5:
            members.append(FamilyMember("maternal uncle", True, "had similar problems"))
            notes.append("a maternal uncle had similar problems")
        members += [FamilyMember(s, bool(inherited and s == "brother" and rng.random() < 0.5)) for s in sibs]
        if not notes:
            notes.append("no relative is known to be affected")
    elif modes & _XD:
        mother = rng.random() < 0.5
        members += [FamilyMember("mother", bool(mother), "has similar problems" if mother else ""),
                    FamilyMember("father", False)]
        members += [FamilyMember(s, bool(mother and rng.random() < 0.5)) for s in sibs]
        notes.append("the patient's mother has similar problems" if mother else "no relative is known to be affected")
    elif modes & _MITO:
        mother = rng.random() < 0.5
        members += [FamilyMember("mother", bool(mother), "has milder, similar problems" if mother else ""),
                    FamilyMember("father", False)]
        members += [FamilyMember(s, bool(mother and rng.random() < 0.5)) for s in sibs]
        notes.append("the patient's mother has milder, similar problems" if mother else
                     "no relative is known to be affected")
    elif modes & _Y:
        members += [FamilyMember("father", True, "has similar problems"), FamilyMember("mother", False)]
        notes.append("the patient's father has similar problems")
    elif modes & _MULTI and rng.random() < 0.2:
        rel = sibs[0] if sibs else ("mother" if rng.random() < 0.5 else "father")
        members.append(FamilyMember(rel, True, "has a similar condition"))
        notes.append(f"a {rel} has a similar condition")
    else:
        notes.append("no relative is known to be affected")
    affected_sibs = [m.relation for m in members if m.affected and m.relation in ("brother", "sister")]
    if affected_sibs:
        notes.append(f"an affected {affected_sibs[0]}" + (" and others" if len(affected_sibs) > 1 else ""))
    text = "; ".join(notes)
    return members, text[:1].upper() + text[1:] + "."


def screening_relative(inheritance: list[str], family: list[FamilyMember]) -> tuple[list[FamilyMember], str]:
    """Family history of a patient seen for family screening: the relative whose diagnosis brought them."""
    modes = set(inheritance)
    relation = ("mother" if modes & (_AD | _XD | _MITO) else "maternal uncle" if modes & _XR else
                "father" if modes & _Y else "brother")
    kept = [m for m in family if m.relation != relation]
    members = [FamilyMember(relation, True, "recently diagnosed with the condition"), *kept]
    return members, f"The patient's {relation} was recently diagnosed with a genetic condition."
