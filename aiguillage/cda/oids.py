"""OIDs, namespaces and template identifiers used by the CDA package (declared once).

Sources: ANS CI-SIS « Structuration minimale des documents de santé » (template
1.2.250.1.213.1.1.1.1) and the CI-SIS example documents (TestContenuCDA-3-0, ExemplesCDA/).
"""

from __future__ import annotations

from typing import Final

HL7_NS: Final = "urn:hl7-org:v3"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"
NS: Final = {"h": HL7_NS}

# typeId of every CDA R2 document
TYPE_ID_ROOT: Final = "2.16.840.1.113883.1.3"
TYPE_ID_EXTENSION: Final = "POCD_HD000040"

# header templateIds
TPL_HL7_FRANCE: Final = "2.16.840.1.113883.2.8.2.1"  # conformité HL7 France
TPL_CISIS: Final = "1.2.250.1.213.1.1.1.1"  # conformité CI-SIS (structuration minimale)
TPL_XDS_SD: Final = "1.3.6.1.4.1.19376.1.2.20"  # IHE XDS-SD: any N1 (nonXMLBody) document
N1_TEMPLATE_IDS: Final = frozenset({TPL_HL7_FRANCE, TPL_CISIS, TPL_XDS_SD})

# code systems
LOINC: Final = "2.16.840.1.113883.6.1"
ANS_TYPE_CODES: Final = "1.2.250.1.213.1.1.4.12"  # TRE_A05 / types de documents ANS (JDV_J07)
HL7_CONFIDENTIALITY: Final = "2.16.840.1.113883.5.25"
ANS_CONFIDENTIALITY: Final = "1.2.250.1.213.1.1.4.13"  # XDS-only masking codes (JDV_J08)

# patient identifiers: matricule INS (INS-NIR, INS-NIA and their test/demo arcs)
INS_ARC: Final = "1.2.250.1.213.1.4."
INS_KINDS: Final = {
    "1.2.250.1.213.1.4.8": "NIR",
    "1.2.250.1.213.1.4.9": "NIA",
    "1.2.250.1.213.1.4.10": "NIR_TEST",
    "1.2.250.1.213.1.4.11": "NIR_DEMO",
}

# professionals and organisations
IDNPS: Final = "1.2.250.1.71.4.2.1"  # identifiant national des PS (RPPS, ADELI prefixed)
IDNST: Final = "1.2.250.1.71.4.2.2"  # identifiant national de structure (FINESS prefixed by 1)

# confidentiality codes accepted in ClinicalDocument/confidentialityCode
CONFIDENTIALITY_HL7: Final = frozenset({"N", "R", "V"})
CONFIDENTIALITY_ANS: Final = frozenset({"INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX", "MASQUE_PS"})

# N1 media types the CI-SIS allows in nonXMLBody/text
N1_MEDIA_TYPES: Final = frozenset({"application/pdf", "text/plain", "text/rtf", "image/jpeg", "image/tiff"})


def patient_id_kind(root: str | None) -> str:
    """Kind of a recordTarget/patientRole/id: an INS kind, ``INS_UNKNOWN`` or ``IPP``."""
    if root is None:
        return "UNKNOWN"
    kind = INS_KINDS.get(root)
    if kind is not None:
        return kind
    if root.startswith(INS_ARC) and root.count(".") == INS_ARC.count("."):
        return "INS_UNKNOWN"
    return "IPP"


def actor_id_kind(root: str | None, extension: str | None) -> str:
    """Kind of a professional or organisation id, as it appears (RPPS, ADELI, FINESS, …)."""
    ext = extension or ""
    if root == IDNPS:
        if ext.startswith("0"):
            return "ADELI"
        return "RPPS"
    if root == IDNST:
        return "FINESS" if ext.startswith("1") else "IDNST"
    return "LOCAL"
