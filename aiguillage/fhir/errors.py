"""Errors of the FHIR layer (FHIR-*): request parsing, validation, patch. Codes are stable."""

from __future__ import annotations

from aiguillage.errors import InputError, Issue

INVALID_JSON = "FHIR-0001"
WRONG_TYPE = "FHIR-0002"
STRUCTURE = "FHIR-0003"  # R4B model rejected an element
PROFILE = "FHIR-0004"  # a ROR profile rule failed
CODE = "FHIR-0005"  # a code is not in its nomenclature
CODE_UNCHECKED = "FHIR-0006"  # curated subset: the code could not be fully checked (warning)
REGION = "FHIR-0007"
UNKNOWN_PARAM = "FHIR-0201"
BAD_VALUE = "FHIR-0202"
BAD_MODIFIER = "FHIR-0203"
BAD_INCLUDE = "FHIR-0204"
BAD_CURSOR = "FHIR-0205"
BAD_CONTROL = "FHIR-0206"  # _count, _sort, _total, _summary
PATCH = "FHIR-0301"
PATCH_TEST = "FHIR-0302"
BUNDLE = "FHIR-0401"


class FhirInputError(InputError):
    """A FHIR request that cannot be honoured; ``issues`` carry FHIRPath expressions."""

    def __init__(self, message: str, code: str, issues: list[Issue] | None = None, http_status: int = 400) -> None:
        super().__init__(message, code, http_status, issues or [Issue("error", code, message)])


def issue(code: str, message: str, location: str | None = None, severity: str = "error") -> Issue:
    return Issue(severity, code, message, location)
