"""Opt-in strict structure validation with hl7apy (per channel: ``AIGUILLAGE_HL7_STRUCTURE_CHANNELS``).

hl7apy checks the standard HL7 v2.5 segments (cardinalities, data types, lengths) at its STRICT
level, with ``find_groups=False`` (with groups it silently drops Z segments). It does not know the
PAM France Z segments (ZBE, ZFA, ZFD, ZFM…), which our own model checks, so they are left out of
what it sees. It costs ~25 ms per message, hence opt-in. It stops at the first problem it finds.
"""

from __future__ import annotations

from aiguillage.errors import Issue
from aiguillage.hl7v2.errors import STRUCTURE
from aiguillage.hl7v2.message import Message


def validate_structure(msg: Message) -> list[Issue]:
    """hl7apy's verdict on the standard segments of ``msg``: no issue, or the first one it found."""
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    standard = [seg.encode() for seg in msg.segments() if not seg.name.startswith("Z")]
    try:
        parse_message("\r".join(standard), validation_level=VALIDATION_LEVEL.STRICT, find_groups=False)
    except Exception as exc:  # hl7apy raises many unrelated types; each one is a structure finding
        text = str(exc).replace("\r", " ")[:300] or exc.__class__.__name__
        return [Issue("error", STRUCTURE, f"strict structure check (hl7apy): {text}")]
    return []
