"""Errors of the DMP reconciliation (codes DMP-0xxx)."""

from __future__ import annotations

from aiguillage.errors import InputError, Issue


class DmpInputError(InputError):
    """A file or argument the reconciliation cannot use at all (unreadable, unknown sheet)."""

    def __init__(self, message: str, code: str = "DMP-0001", issues: list[Issue] | None = None) -> None:
        super().__init__(message, code, 400, issues)


# Stable codes used in ImportReport events. Add new ones, never renumber.
CODES: dict[str, str] = {
    "DMP-0001": "file unusable",
    "DMP-0002": "sheet kind not recognised from its headers",
    "DMP-0101": "mojibake repaired",
    "DMP-0102": "identifier mangled by a spreadsheet (scientific notation)",
    "DMP-0103": "cell overflow '#####': value lost",
    "DMP-0104": "LOINC code repaired (check digit)",
    "DMP-0105": "LOINC code invalid, not repairable",
    "DMP-0106": "duplicated row",
    "DMP-0107": "identifier does not match between sheets",
    "DMP-0108": "truncated value completed from a closed vocabulary",
    "DMP-0109": "unknown value in a closed vocabulary",
    "DMP-0110": "date unreadable",
    "DMP-0111": "required value missing: row rejected",
    "DMP-0112": "identifier looks truncated",
    "DMP-0113": "mangled identifier re-matched against another sheet",
    "DMP-0114": "same document id with conflicting content",
    "DMP-0115": "label disagrees with the LOINC code",
    "DMP-0116": "encoding detected",
    "DMP-0117": "value normalised to the PFI vocabulary",
}
