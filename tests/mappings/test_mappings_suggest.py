"""Suggestions: accent/case-insensitive fuzzy ranking plus abbreviation expansion ("S.aureus")."""

from __future__ import annotations

import time

from aiguillage.mappings.suggest import expand_abbreviations, suggest
from aiguillage.nomenclatures import Registry
from aiguillage.nomenclatures.model import CodeSystemVersion, Concept

GERMS = {
    "1": "Staphylococcus aureus", "2": "Staphylococcus epidermidis", "3": "Streptococcus pneumoniae",
    "4": "Escherichia coli", "5": "Serratia marcescens", "6": "Klebsiella pneumoniae",
}


def _registry() -> Registry:
    reg = Registry.builtin()
    reg.add(CodeSystemVersion("urn:test:germs", "GERMS", "1", {c: Concept(c, d) for c, d in GERMS.items()}))
    return reg


def test_abbreviations_expand_against_the_candidate_words() -> None:
    assert expand_abbreviations(["s.", "aureus"], ["staphylococcus", "aureus"]) == "staphylococcus aureus"
    assert expand_abbreviations(["hyg.", "hosp."], ["hygiene", "hospitaliere"]) == "hygiene hospitaliere"
    assert expand_abbreviations(["x.", "coli"], ["escherichia", "coli"]) == "x coli"


def test_suggestions_rank_the_right_label_first() -> None:
    reg = _registry()
    for value, code in [("S.aureus", "1"), ("S. AUREUS", "1"), ("E.coli", "4"), ("K. pneumoniae", "6"),
                        ("staphylococcus epidermidis", "2")]:
        got = suggest(reg, "GERMS", value, limit=3)
        assert got[0].code == code, (value, got)
        assert got[0].score == 100
        assert all(0 <= s.score <= 100 for s in got)
        assert [s.score for s in got] == sorted((s.score for s in got), reverse=True)
    assert suggest(reg, "GERMS", "S.aureus")[1].score < 100
    hyg = suggest(reg, "TRE_R211", "HYGIENE hospitaliere")
    assert hyg[0].code == "064" and hyg[0].score == 100  # accents and case ignored
    assert suggest(reg, "JDV_J07", "11490-0")[0].code == "11490-0"  # a national code given as is
    assert suggest(reg, "GERMS", "") == [] and suggest(reg, "GERMS", "zzzzqqq") == []


def test_suggestion_latency_on_a_500_label_system() -> None:
    reg = Registry.builtin()
    concepts = {f"{i:03d}": Concept(f"{i:03d}", f"Activité spécialisée numéro {i} de chirurgie") for i in range(500)}
    concepts["777"] = Concept("777", "Staphylococcus aureus résistant à la méticilline")
    reg.add(CodeSystemVersion("urn:test:big", "BIG", "1", concepts))
    suggest(reg, "BIG", "warm-up")
    t0 = time.perf_counter()
    got = suggest(reg, "BIG", "S.aureus resistant meticilline")
    elapsed = time.perf_counter() - t0
    assert got[0].code == "777"
    assert elapsed < 0.5  # generous: measured ~2 ms; bench/mappings.py prints the figure
