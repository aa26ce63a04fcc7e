"""The one place where the French column names, as they come in the files, map to record fields.

Headers are compared folded (lower case, no accents, letters and digits only, mojibake repaired),
so ``N° venue``, ``N\xa0venue`` and ``NÂ° venue`` are the same. Truncated headers of the PFI export
(``source.teurs.IdNat``, ``PFI.docment[0].Decisi``) are listed as they come, and any header that is
an unambiguous prefix (8+ folded characters) of a known one is accepted too.
"""

from __future__ import annotations

from enum import StrEnum

from .repair import fold


class SheetKind(StrEnum):
    VENUES = "venues"  # SARA "Extraction venues" (GAP)
    DOCUMENTS = "documents"  # SARA "Extraction documents produits" (DPI/SGL/RIS)
    SARA_TRACES = "sara_traces"  # SARA "Extraction traces DMP" (consolidated)
    PFI = "pfi"  # PFI "Infocentre DMPv2" export


# field -> headers as they appear in real files (and our documented extra columns)
HEADERS: dict[SheetKind, dict[str, tuple[str, ...]]] = {
    SheetKind.VENUES: {
        "ipp": ("IPP Patient", "IPP"),
        "id": ("N° venue", "N° séjour", "Numéro de venue", "NDA"),
        "unit": ("UF",),
        "admission": ("Date Entrée",),
        "discharge": ("Date Sortie",),
        "discharged_in_month": ("Hospitalisé sortant",),
        "surgical": ("Au moins un acte chirurgical ?",),
        "ace": ("Consultation sur le mois (avec ACE)",),
        # extra columns of our own samples and of GAP extractions that have them
        "kind": ("Type activité", "Activité"),
        "ins_qualified": ("INS qualifiée", "INS qualifié"),
        "exclusions": ("Exclusion", "Motif exclusion"),
        "group_id": ("Id séjour", "Séjour regroupant"),
        "legal_entity": ("FINESS juridique", "Entité juridique"),
        "adult": ("Adulte",),
    },
    SheetKind.DOCUMENTS: {
        "ipp": ("IPP Patient", "IPP"),
        "stay_id": ("N° venue", "N° séjour"),
        "produced_on": ("Date production du document",),
        "local_id": ("Id local du document", "Id local document"),
        "loinc": ("Type de document (code LOINC)", "code LOINC"),
        "sara_type": ("Type de document (code SARA) à titre informatif", "Type de document (code SARA)"),
        "label": ("Type de document (libellé LOINC)", "Libellé LOINC"),
        "flag_discharged": ("Concerné par les séjours hospitalisés sortants du mois ?",),
        "flag_surgical": ("Concerné au moins un acte chirurgical ?",),
        "flag_consultation": ("Concerné par les consultations du mois ?",),
        "ins_qualified": ("INS qualifiée", "INS qualifié"),
        "no_transmission": ("Décision de non-transmission", "Non transmission"),
        "subcontracted": ("Sous-traitance", "Sous-traité"),
    },
    SheetKind.SARA_TRACES: {
        "document_id": ("Id local document", "Id local du document"),
        "sent_on": ("Date émission",),
        "loinc": ("code LOINC",),
        "ipp": ("IPP", "IPP Patient"),
        "status": ("Statut traitement DMP",),
        "label": ("Libellé LOINC",),
        "stay_id": ("N° séjour", "N° venue"),
        "flag_discharged": ("Concerné par les séjours sortants ?",),
        "flag_surgical": ("Concerné par les séjours sortants ayant eu au moins un acte chirurgical ?",),
        "flag_consultation": ("Concerné par les consultations externes du mois ?",),
    },
    SheetKind.PFI: {
        "document_id": ("source.document[0].idLocal", "source.document.idLocal"),
        "sara_type": ("source.document.idTypePieceSara",),
        "loinc": ("source.document.CodeLoinc",),
        "masking": ("source.document.Masquage",),
        "ins_present": ("source.patient.insq",),
        "domain": ("source.patient.domaine",),
        "ipp": ("source.patient.iPPL", "source.patient.ipp"),
        "source_author_id": ("source.teurs.IdNat", "source.auteurs.IdNat"),
        "author_id": ("PFI.autors.IdNat", "PFI.auteurs.IdNat"),
        "share_id": ("PFI.IdPartage",),
        "action": ("PFI.Action",),
        "decision": ("PFI.docment[0].Decisi", "PFI.document[0].Decision"),
        "requested_at": ("PFI.DateRequete",),
        "answered_at": ("PFI.DateReponse",),
        "status": ("retourDMP.Statut",),
    },
}

_SIGNATURE: dict[SheetKind, tuple[str, ...]] = {
    SheetKind.PFI: ("status", "document_id", "share_id"),
    SheetKind.SARA_TRACES: ("status", "document_id"),
    SheetKind.DOCUMENTS: ("local_id", "produced_on"),
    SheetKind.VENUES: ("id", "ipp"),
}


def _folded(kind: SheetKind) -> dict[str, str]:
    return {fold(h): f for f, hs in HEADERS[kind].items() for h in hs}


def map_headers(kind: SheetKind, headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """field -> column index, plus the headers not understood (kept for the report)."""
    known = _folded(kind)
    out: dict[str, int] = {}
    unknown: list[str] = []
    for i, h in enumerate(headers):
        key = fold(h)
        field = known.get(key)
        if field is None and len(key) >= 8:
            hits = {f for k, f in known.items() if k.startswith(key)}
            field = hits.pop() if len(hits) == 1 else None
        if field is None or field in out:
            if h.strip():
                unknown.append(h)
            continue
        out[field] = i
    return out, unknown


def detect_kind(headers: list[str]) -> SheetKind | None:
    """The sheet kind whose signature fields all map, trying the most specific first."""
    for kind, needed in _SIGNATURE.items():
        mapping, _ = map_headers(kind, headers)
        if all(f in mapping for f in needed):
            return kind
    return None
