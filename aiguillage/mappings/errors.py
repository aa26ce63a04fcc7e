"""Errors and stable codes of the mapping tables (MAP-*). Add codes, never renumber."""

from __future__ import annotations

from aiguillage.errors import ConflictError, InputError, Issue, NotFoundError

UNMAPPED = "MAP-0001"  # a local value has no mapping: the message is HELD

INVALID_MAPPING = "MAP-0101"  # a mapping's target is invalid (issues name the field)
MISSING_FIELD = "MAP-0102"  # a required field is empty
CSV_ERRORS = "MAP-0103"  # a CSV import has errors (issues: line + field)
CSV_MALFORMED = "MAP-0104"  # a CSV line cannot be read (wrong column count, bad header)
BAD_PAGE = "MAP-0105"  # offset/count out of range
TOO_LONG = "MAP-0106"  # a value exceeds its column size

TABLE_NOT_FOUND = "MAP-0201"
ENTRY_NOT_FOUND = "MAP-0202"
UNMAPPED_NOT_FOUND = "MAP-0203"

VERSION_CONFLICT = "MAP-0301"  # expected_version differs from the table's version


class MappingInputError(InputError):
    """Invalid mapping input (422) with every issue listed."""

    def __init__(self, message: str, code: str = INVALID_MAPPING, issues: list[Issue] | None = None) -> None:
        super().__init__(message, code, 422, issues)


class MappingNotFound(NotFoundError):
    def __init__(self, message: str, code: str = ENTRY_NOT_FOUND) -> None:
        super().__init__(message, code)


class MappingConflict(ConflictError):
    def __init__(self, message: str, code: str = VERSION_CONFLICT) -> None:
        super().__init__(message, code)

DUPLICATE_LINE = "MAP-0107"  # the same local value twice in one import with different targets
