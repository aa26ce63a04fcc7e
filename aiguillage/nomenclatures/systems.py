"""Canonical URLs and OIDs of the nomenclatures aiguillage uses, declared once.

Other packages import these constants instead of spelling URLs and OIDs themselves.
Sources: ANS NOS (https://mos.esante.gouv.fr/NOS/), the IG-NOS FHIR CodeSystems/ValueSets and the
CI-SIS value sets (see ``aiguillage/nomenclatures/data/*.json`` headers for per-code citations).
"""

from __future__ import annotations

import re

NOS_BASE = "https://mos.esante.gouv.fr/NOS"


def nos_url(nos_id: str) -> str:
    """Canonical FHIR URL of a NOS table from its id: ``TRE_R211-ActiviteOperationnelle`` ->
    ``https://mos.esante.gouv.fr/NOS/TRE_R211-ActiviteOperationnelle/FHIR/TRE-R211-ActiviteOperationnelle``."""
    return f"{NOS_BASE}/{nos_id}/FHIR/{nos_id.replace('_', '-')}"


_NOS_URL_RE = re.compile(r"^https?://mos\.esante\.gouv\.fr/NOS/([A-Za-z]+_[A-Za-z]*\d+[^/]*)(?:/|$)")
_SHORT_ID_RE = re.compile(r"^((?:TRE|JDV|ASS)[_-][A-Z]+\d+)", re.IGNORECASE)


def nos_id_from_url(url: str) -> str | None:
    """``.../NOS/TRE_R211-ActiviteOperationnelle/FHIR/...`` -> ``TRE_R211-ActiviteOperationnelle``."""
    m = _NOS_URL_RE.match(url)
    return m.group(1) if m else None


def short_id(nos_id: str) -> str | None:
    """``TRE_R211-ActiviteOperationnelle`` (or ``TRE-R211-...``) -> ``TRE_R211``; None if not a NOS id."""
    m = _SHORT_ID_RE.match(nos_id)
    if not m:
        return None
    s = m.group(1)
    return s[:3].upper() + "_" + s[4:].upper()


# --- NOS terminologies de référence (TRE) ------------------------------------------------------

TRE_R210_ID = "TRE_R210-ActeSpecifique"
TRE_R210_URL = nos_url(TRE_R210_ID)
TRE_R210_OID = "1.2.250.1.213.3.3.11"

TRE_R211_ID = "TRE_R211-ActiviteOperationnelle"
TRE_R211_URL = nos_url(TRE_R211_ID)
TRE_R211_OID = "1.2.250.1.213.3.3.12"

TRE_R213_ID = "TRE_R213-ModePriseEnCharge"
TRE_R213_URL = nos_url(TRE_R213_ID)
TRE_R213_OID = "1.2.250.1.213.3.3.13"

TRE_R227_ID = "TRE_R227-ChampActivite"
TRE_R227_URL = nos_url(TRE_R227_ID)
TRE_R227_OID = "1.2.250.1.213.3.3.17"

TRE_R244_ID = "TRE_R244-CategorieOrganisation"
TRE_R244_URL = nos_url(TRE_R244_ID)
TRE_R244_OID = "1.2.250.1.213.3.3.39"

TRE_R251_ID = "TRE_R251-FonctionContact"
TRE_R251_URL = nos_url(TRE_R251_ID)
TRE_R251_OID = "1.2.250.1.213.3.3.48"

TRE_R287_ID = "TRE_R287-NatureContact"
TRE_R287_URL = nos_url(TRE_R287_ID)
TRE_R287_OID = "1.2.250.1.213.3.3.67"

TRE_R329_ID = "TRE_R329-NatureCapacite"
TRE_R329_URL = nos_url(TRE_R329_ID)
TRE_R329_OID = "1.2.250.1.213.3.3.212"

TRE_R330_ID = "TRE_R330-TypeStatutCapacite"
TRE_R330_URL = nos_url(TRE_R330_ID)
TRE_R330_OID = "1.2.250.1.213.3.3.213"

TRE_R331_ID = "TRE_R331-TemporaliteCapacite"
TRE_R331_URL = nos_url(TRE_R331_ID)
TRE_R331_OID = "1.2.250.1.213.3.3.214"

TRE_R332_ID = "TRE_R332-GenreCapacite"
TRE_R332_URL = nos_url(TRE_R332_ID)
TRE_R332_OID = "1.2.250.1.213.3.3.215"

TRE_R333_ID = "TRE_R333-TypeFermetureCapacite"
TRE_R333_URL = nos_url(TRE_R333_ID)
TRE_R333_OID = "1.2.250.1.213.3.3.216"

TRE_R336_ID = "TRE_R336-TypeCrise"
TRE_R336_URL = nos_url(TRE_R336_ID)
TRE_R336_OID = "1.2.250.1.213.3.3.219"

# --- NOS jeux de valeurs (JDV) -------------------------------------------------------------------

JDV_J07_ID = "JDV_J07-XdsTypeCode-CISIS"
JDV_J07_URL = nos_url(JDV_J07_ID)
JDV_J07_OID = "1.2.250.1.213.1.1.5.471"

JDV_J19_ID = "JDV_J19-ModePriseEnCharge-ROR"
JDV_J19_URL = nos_url(JDV_J19_ID)
JDV_J19_OID = "1.2.250.1.213.3.4.1"

JDV_J220_ID = "JDV_J220-FonctionContact-ROR"
JDV_J220_URL = nos_url(JDV_J220_ID)
JDV_J220_OID = "1.2.250.1.213.3.4.52"

JDV_J221_ID = "JDV_J221-NatureContact-ROR"
JDV_J221_URL = nos_url(JDV_J221_ID)
JDV_J221_OID = "1.2.250.1.213.3.4.53"

# --- international systems -----------------------------------------------------------------------

LOINC_URL = "http://loinc.org"
LOINC_OID = "2.16.840.1.113883.6.1"

# CI-SIS XDS typeCode local codes (non-LOINC document types in JDV_J07)
CISIS_TYPE_CODE_OID = "1.2.250.1.213.1.1.4.12"

# --- INS assigning authorities (IHE France HL7 data types v1.8.1, appendix N) ---------------------

INS_NIR_OID = "1.2.250.1.213.1.4.8"
INS_NIA_OID = "1.2.250.1.213.1.4.9"
INS_NIR_TEST_OID = "1.2.250.1.213.1.4.10"
INS_NIR_DEMO_OID = "1.2.250.1.213.1.4.11"
INS_OIDS = frozenset({INS_NIR_OID, INS_NIA_OID, INS_NIR_TEST_OID, INS_NIR_DEMO_OID})

# Our own small code system listing them (codes are the OIDs themselves).
INS_OID_SYSTEM_ID = "AIG-INS-OID"
INS_OID_SYSTEM_URL = "urn:aiguillage:nomenclatures:ins-assigning-authority"

# OID -> canonical URL for systems that are referenced by OID (SVS, CDA, HL7v2) but whose
# canonical URL is not derivable from the OID. The registry also learns these from loaded data.
KNOWN_OID_URLS: dict[str, str] = {
    LOINC_OID: LOINC_URL,
    TRE_R210_OID: TRE_R210_URL,
    TRE_R211_OID: TRE_R211_URL,
    TRE_R213_OID: TRE_R213_URL,
    TRE_R227_OID: TRE_R227_URL,
    TRE_R244_OID: TRE_R244_URL,
    TRE_R251_OID: TRE_R251_URL,
    TRE_R287_OID: TRE_R287_URL,
}
