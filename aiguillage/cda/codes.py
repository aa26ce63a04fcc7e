"""Stable issue and error codes of the CDA package, declared once.

``CDA-00xx``: the document could not be read at all (raised as :class:`CDAParseError`).
``CDA-01xx``: XML Schema (``CDA-XSD-SKIPPED`` when no schema is configured).
``CDA-02xx``: header structure (CI-SIS « structuration minimale »).
``CDA-03xx``: patient (recordTarget, INS).
``CDA-04xx``: participants (author, custodian, legal authenticator, context).
``CDA-05xx``: body (N1 nonXMLBody, N3 structuredBody).

Add new codes, never renumber: clients and tests match on them.
"""

from __future__ import annotations

from typing import Final

# --- CDA-00xx: unreadable input (CDAParseError) -------------------------------------------
NOT_WELL_FORMED: Final = "CDA-0001"
DOCTYPE_FORBIDDEN: Final = "CDA-0002"
TOO_LARGE: Final = "CDA-0003"
NOT_CLINICAL_DOCUMENT: Final = "CDA-0004"
SCHEMA_UNUSABLE: Final = "CDA-0005"  # configuration error: the XSD file cannot be loaded
FILE_UNREADABLE: Final = "CDA-0006"  # CLI: the named file cannot be read

# --- CDA-01xx: XML Schema -------------------------------------------------------------------
XSD_INVALID: Final = "CDA-0101"
XSD_SKIPPED: Final = "CDA-XSD-SKIPPED"

# --- CDA-02xx: header -----------------------------------------------------------------------
REALM_CODE: Final = "CDA-0201"
TYPE_ID: Final = "CDA-0202"
TEMPLATE_HL7_FRANCE: Final = "CDA-0203"
TEMPLATE_CISIS: Final = "CDA-0204"
TEMPLATE_MODEL: Final = "CDA-0205"
DOCUMENT_ID: Final = "CDA-0206"
TYPE_CODE_MISSING: Final = "CDA-0207"
TYPE_CODE_UNKNOWN: Final = "CDA-0208"
TITLE: Final = "CDA-0209"
EFFECTIVE_TIME: Final = "CDA-0210"
CONFIDENTIALITY: Final = "CDA-0211"
CONFIDENTIALITY_XDS_ONLY: Final = "CDA-0212"
LANGUAGE_CODE: Final = "CDA-0213"
VERSION_NUMBER: Final = "CDA-0214"
SET_ID: Final = "CDA-0215"
RELATED_DOCUMENT: Final = "CDA-0216"
EFFECTIVE_TIME_PRECISION: Final = "CDA-0217"
OID_SYNTAX: Final = "CDA-0218"

# --- CDA-03xx: patient ----------------------------------------------------------------------
RECORD_TARGET: Final = "CDA-0301"
PATIENT_ID_MISSING: Final = "CDA-0302"
INS_MISSING: Final = "CDA-0303"
INS_TRAITS: Final = "CDA-0304"
INS_FORMAT: Final = "CDA-0305"
INS_OID_UNKNOWN: Final = "CDA-0306"

# --- CDA-04xx: participants and context ---------------------------------------------------
AUTHOR_MISSING: Final = "CDA-0401"
AUTHOR_ID: Final = "CDA-0402"
AUTHOR_TIME: Final = "CDA-0403"
CUSTODIAN: Final = "CDA-0404"
CUSTODIAN_ID: Final = "CDA-0405"
LEGAL_AUTHENTICATOR: Final = "CDA-0406"
DOCUMENTATION_OF: Final = "CDA-0407"
COMPONENT_OF: Final = "CDA-0408"

# --- CDA-05xx: body -------------------------------------------------------------------------
BODY: Final = "CDA-0501"
N1_MEDIA_TYPE: Final = "CDA-0502"
N1_BASE64: Final = "CDA-0503"
N1_NOT_PDF: Final = "CDA-0504"
N1_TEMPLATES: Final = "CDA-0505"
N1_REPRESENTATION: Final = "CDA-0506"

# --- CDA-06xx: building documents (InputError) ---------------------------------------------
BUILD_NOT_PDF: Final = "CDA-0601"
BUILD_BAD_PARAMS: Final = "CDA-0602"

__all__ = [name for name in dir() if name.isupper()]
