"""The six HOP'EN 2 phase-1 DMP indicators as the seed defines them (funnels, codes, targets)."""

from __future__ import annotations

from dataclasses import dataclass

from . import loinc as lc

NATIONAL_RATE = 0.93  # share of patients with an open Mon espace santé profile, whole phase 1


@dataclass(frozen=True)
class IndicatorDef:
    id: str
    family: str  # LDL, ODS, CRO, CRC, BIO, IMG (crosscheck.code_family)
    label: str
    codes: frozenset[str]
    unit: str  # "stay" | "consultation" | "document"
    funnel: tuple[tuple[str, str], ...]  # (letter, what it counts)
    base: str  # letter counted in the denominator (before x 0.93)
    numerator: str
    minus: str | None  # P1.05/P1.06: denominator = A - C
    target_sunes: float  # % for establishments that reached the SUN-ES domain
    target_other: float


_A_STAYS = ("A", "Séjours hospitalisés sortants sur la période")
_B_STAYS = ("B", "… avec INS qualifiée")

DEFINITIONS: tuple[IndicatorDef, ...] = (
    IndicatorDef(
        "P1.02-LDL",
        "LDL",
        "Taux de séjours clôturés pour lesquels une lettre de liaison de sortie (LDL) au format CDAR2 N1 "
        "a été alimentée à Mon espace santé (DMP)",
        frozenset({lc.LDL}),
        "stay",
        (
            _A_STAYS,
            _B_STAYS,
            ("C", "… ayant eu au moins une LDL produite"),
            ("D", "… ayant eu au moins une LDL produite et transmise au DMP (SUCCESS)"),
        ),
        "A",
        "D",
        None,
        70.0,
        55.0,
    ),
    IndicatorDef(
        "P1.02-ODS",
        "ODS",
        "Taux de séjours clôturés pour lesquels au moins une ordonnance de sortie (ODS) a été alimentée "
        "à Mon espace santé (DMP)",
        lc.ODS,
        "stay",
        (
            _A_STAYS,
            _B_STAYS,
            ("C", "… ayant eu au moins une ODS produite"),
            ("D", "… ayant eu au moins une ODS produite et transmise au DMP (SUCCESS)"),
        ),
        "C",
        "D",
        None,
        65.0,
        50.0,
    ),
    IndicatorDef(
        "P1.03",
        "CRO",
        "Taux de séjours clôturés pour lesquels un compte-rendu opératoire (CRO) au format CDAR2 N1 a été "
        "alimenté à Mon espace santé (DMP)",
        frozenset({lc.CRO}),
        "stay",
        (
            _A_STAYS,
            _B_STAYS,
            ("C", "… ayant eu au moins un acte de chirurgie"),
            ("D", "… ayant eu au moins un CRO produit"),
            ("E", "… ayant eu au moins un CRO transmis au DMP (SUCCESS)"),
        ),
        "C",
        "E",
        None,
        70.0,
        55.0,
    ),
    IndicatorDef(
        "P1.04",
        "CRC",
        "Taux de comptes-rendus de consultation (CRC) produits au format CDAR2 N1 qui sont alimentés à "
        "Mon espace santé (consultations avec ACE)",
        frozenset({lc.CRC}),
        "consultation",
        (
            ("A", "Consultations (avec ACE) sur la période"),
            ("B", "… avec INS qualifiée"),
            ("C", "… ayant eu au moins un CRC produit"),
            ("D", "… ayant eu au moins un CRC transmis au DMP (SUCCESS)"),
        ),
        "A",
        "D",
        None,
        50.0,
        50.0,
    ),
    IndicatorDef(
        "P1.05",
        "BIO",
        "Taux de comptes rendus de biologie médicale au format CDAR2 N3 ou N1 qui sont alimentés à "
        "Mon espace santé (DMP)",
        frozenset({lc.BIOLOGY}),
        "document",
        (
            ("A", "CR de biologie produits sur la période (hors sous-traitance)"),
            ("B", "… avec INS qualifiée"),
            ("C", "… avec décision de non-transmission"),
            ("D", "… transmis au DMP (SUCCESS)"),
        ),
        "A",
        "D",
        "C",
        65.0,
        50.0,
    ),
    IndicatorDef(
        "P1.06",
        "IMG",
        "Taux de comptes rendus d'imagerie au format CDAR2 N1 qui sont alimentés à Mon espace santé (DMP)",
        frozenset({lc.IMAGING}),
        "document",
        (
            ("A", "CR d'imagerie produits sur la période (hors sous-traitance)"),
            ("B", "… avec INS qualifiée"),
            ("C", "… avec décision de non-transmission"),
            ("D", "… transmis au DMP (SUCCESS)"),
        ),
        "A",
        "D",
        "C",
        60.0,
        45.0,
    ),
)
BY_ID = {d.id: d for d in DEFINITIONS}
