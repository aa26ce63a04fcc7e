"""CDA R2 (ANS CI-SIS): safe parsing, header summary, validation report, N1 builder.

Public API::

    parse_cda(data, max_bytes=None) -> lxml ElementTree          (raises CDAParseError CDA-00xx)
    extract_header(tree) -> CdaHeader                            (.to_dict(), .log_view())
    validate(doc_bytes, xsd=None, *, type_codes=None, require_ins=False) -> ValidationReport
    check_document(body, xsd=None) -> ValidationReport           (.as_json() for POST /cda)
    wrap_pdf_n1(pdf, N1Params(...)) -> bytes

Modules import lxml only; nothing is read or compiled at import time.
"""

from aiguillage.cda.build import N1Params, Organization, Person, wrap_pdf_n1
from aiguillage.cda.errors import CDAParseError, CDASchemaError
from aiguillage.cda.header import CdaHeader, InstanceId, extract_header
from aiguillage.cda.parse import parse_cda
from aiguillage.cda.validate import ValidationReport, check_document, validate

__all__ = [
    "CDAParseError",
    "CDASchemaError",
    "CdaHeader",
    "InstanceId",
    "N1Params",
    "Organization",
    "Person",
    "ValidationReport",
    "check_document",
    "extract_header",
    "parse_cda",
    "validate",
    "wrap_pdf_n1",
]
