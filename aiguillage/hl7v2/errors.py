"""HL7 v2 errors: stable codes (HL7-01xx parsing, HL7-02xx mapping) and HL7 table 0357 conditions.

Every code maps to one HL7 table 0357 "message error condition" code, used in ERR-3 of the ACK:

    100 segment sequence error      101 required field missing     102 data type error
    103 table value not found       200 unsupported message type   201 unsupported event code
    202 unsupported processing id   203 unsupported version id     204 unknown key identifier
    205 duplicate key               206 application record locked  207 application internal error
"""

from __future__ import annotations

from aiguillage.errors import EngineError, Issue

# --- parsing (HL7-01xx) ---------------------------------------------------------------------
EMPTY = "HL7-0101"  # empty input
NO_MSH = "HL7-0102"  # does not start with MSH
BAD_DELIMITERS = "HL7-0103"  # MSH-1/MSH-2 encoding characters unusable
SEPARATOR = "HL7-0104"  # LF / CRLF segment separators refused (strict)
BAD_CHARSET_BYTES = "HL7-0105"  # bytes not valid in the declared MSH-18 charset
UNKNOWN_CHARSET = "HL7-0106"  # MSH-18 value not supported
SECOND_MSH = "HL7-0107"  # two messages in one (second MSH segment)
BAD_SEGMENT_ID = "HL7-0108"  # segment id is not 3 upper-case alphanumerics
BATCH_EXPECTED = "HL7-0109"  # FHS/BHS given to parse(); use parse_batch()
BAD_BATCH = "HL7-0110"  # batch structure error
BATCH_COUNT = "HL7-0111"  # BTS-1 / FTS-1 count mismatch (warning)
BAD_PATH = "HL7-0120"  # invalid location path given by the caller
NORMALISED = "HL7-0130"  # separators normalised (warning)

# --- mapping to the PAM FR model (HL7-02xx) --------------------------------------------------
REQUIRED_FIELD = "HL7-0201"
UNKNOWN_EVENT = "HL7-0202"
BAD_VERSION = "HL7-0203"
BAD_MESSAGE_TYPE = "HL7-0204"
BAD_TABLE_VALUE = "HL7-0205"
MISSING_SEGMENT = "HL7-0206"
NOT_PAM_FR = "HL7-0207"  # A08 is not part of PAM France
INS_UNTRUSTED = "HL7-0208"  # INS present but PID-32 is not VALI (warning)
ZBE_ACTION_INFERRED = "HL7-0209"  # ZBE-4 missing, inferred from the trigger (warning)
INCONSISTENT = "HL7-0210"  # trigger / ZBE-4 / ZBE-6 disagree
BAD_PROCESSING_ID = "HL7-0211"
STRUCTURE = "HL7-0150"  # hl7apy strict structure check failed (opt-in per channel)

HL7_CONDITION: dict[str, str] = {
    EMPTY: "100",
    NO_MSH: "100",
    BAD_DELIMITERS: "102",
    SEPARATOR: "100",
    BAD_CHARSET_BYTES: "102",
    UNKNOWN_CHARSET: "102",
    SECOND_MSH: "100",
    BAD_SEGMENT_ID: "100",
    BATCH_EXPECTED: "100",
    BAD_BATCH: "100",
    BATCH_COUNT: "100",
    BAD_PATH: "207",
    NORMALISED: "100",
    REQUIRED_FIELD: "101",
    UNKNOWN_EVENT: "201",
    BAD_VERSION: "203",
    BAD_MESSAGE_TYPE: "200",
    BAD_TABLE_VALUE: "103",
    MISSING_SEGMENT: "100",
    NOT_PAM_FR: "201",
    INS_UNTRUSTED: "103",
    ZBE_ACTION_INFERRED: "101",
    INCONSISTENT: "103",
    BAD_PROCESSING_ID: "202",
    STRUCTURE: "102",
}


def hl7_condition(code: str) -> str:
    """The HL7 table 0357 code for one of our codes (207 application error when unknown)."""
    return HL7_CONDITION.get(code, "207")


class HL7Error(EngineError):
    """Root of the hl7v2 package errors. ``location`` is an HL7 location such as ``PID-3[2].4``."""

    def __init__(
        self,
        message: str,
        code: str,
        *,
        location: str | None = None,
        issues: list[Issue] | None = None,
    ) -> None:
        super().__init__(message, code, 400, False, list(issues or []))
        self.location = location
        self.hl7_code = hl7_condition(code)


class HL7ParseError(HL7Error):
    """The bytes are not a usable ER7 message (HL7-01xx)."""


class HL7MappingError(HL7Error):
    """The message parsed but does not map to a PAM FR event; ``issues`` lists every problem."""


def issue(severity: str, code: str, message: str, location: str | None = None) -> Issue:
    return Issue(severity, code, message, location)


__all__ = ["HL7_CONDITION", "HL7Error", "HL7MappingError", "HL7ParseError", "hl7_condition", "issue"]
