"""Errors and stable issue codes of the nomenclature registry (NOM-*).

Codes are stable: clients, tests and the mapping tables match on them. Add, never renumber.
"""

from __future__ import annotations

from aiguillage.errors import InputError, Issue, NotFoundError

# registry / validation
UNKNOWN_SYSTEM = "NOM-0001"  # system, value set or version unknown
UNKNOWN_CODE = "NOM-0002"  # code not in the code system / value set
INACTIVE_CODE = "NOM-0003"  # code exists but is inactive or deprecated (warning)
DISPLAY_MISMATCH = "NOM-0004"  # display given does not match the code's display (warning)
FRAGMENT_SYSTEM = "NOM-0005"  # code unknown in a partial (fragment) code system (information)

# import
UNKNOWN_FORMAT = "NOM-0101"  # file format not recognised
PARSE_ERROR = "NOM-0102"  # file is not well-formed (JSON/XML/text)
MISSING_FIELD = "NOM-0103"  # a required field is missing or empty
INVALID_VALUE = "NOM-0104"  # a field has an invalid value (date, status, ...)
UNSUPPORTED = "NOM-0105"  # recognised but unsupported content (ASS table, filters, ...)
UNSAFE_XML = "NOM-0106"  # DOCTYPE / entities in XML
READ_ERROR = "NOM-0107"  # file cannot be read
STORE_ERROR = "NOM-0108"  # the imported version could not be persisted


class NomenclatureNotFound(NotFoundError):
    """An unknown system, value set, version or code (NOM-0001 / NOM-0002), HTTP 404."""

    def __init__(self, message: str, code: str = UNKNOWN_SYSTEM) -> None:
        super().__init__(message, code)


class ImportFormatError(InputError):
    """A nomenclature file that cannot be imported; ``issues`` lists every problem found."""

    def __init__(self, message: str, code: str = PARSE_ERROR, issues: list[Issue] | None = None) -> None:
        super().__init__(message, code, 422, issues)


__all__ = [
    "DISPLAY_MISMATCH",
    "FRAGMENT_SYSTEM",
    "INACTIVE_CODE",
    "INVALID_VALUE",
    "MISSING_FIELD",
    "PARSE_ERROR",
    "READ_ERROR",
    "STORE_ERROR",
    "UNKNOWN_CODE",
    "UNKNOWN_FORMAT",
    "UNKNOWN_SYSTEM",
    "UNSAFE_XML",
    "UNSUPPORTED",
    "ImportFormatError",
    "NomenclatureNotFound",
]
