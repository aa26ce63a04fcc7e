"""ACK builder: original acknowledgment (AA/AE/AR) or enhanced (CA/CE/CR), with ERR segments.

The ACK mirrors the original MSH: sender and receiver swapped, same encoding characters, version,
processing id and charset; a new control id; MSH-9 ``ACK^<trigger>^ACK``; MSA-2 = original MSH-10.
ERR: ERR-2 location ``SEG^seq^field^rep^comp``, ERR-3 table 0357 code (CWE), ERR-4 severity E/W/I,
ERR-8 user message text.
"""

from __future__ import annotations

import itertools
import os
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aiguillage.errors import Issue
from aiguillage.hl7v2.charset import CHARSETS, declared_charset
from aiguillage.hl7v2.errors import hl7_condition
from aiguillage.hl7v2.escape import DEFAULT, Delimiters, escape
from aiguillage.hl7v2.message import Message

CONDITION_TEXT: dict[str, str] = {
    "0": "Message accepted",
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "202": "Unsupported processing id",
    "203": "Unsupported version id",
    "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "206": "Application record locked",
    "207": "Application internal error",
}


class AckCode(StrEnum):
    """MSA-1 (HL7 table 0008). The enhanced codes are derived with :func:`enhanced`."""

    AA = "AA"  # accepted (application accept)
    AE = "AE"  # error
    AR = "AR"  # rejected
    CA = "CA"  # commit accept
    CE = "CE"  # commit error
    CR = "CR"  # commit reject

    def enhanced(self) -> AckCode:
        return AckCode("C" + self.value[1])

    def original(self) -> AckCode:
        return AckCode("A" + self.value[1])


_LOC = re.compile(r"^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?(?:-(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?)?")


@dataclass(frozen=True)
class AckError:
    """One ERR segment. ``location`` is an HL7 path (``PID-3[1].4``) or None."""

    hl7_code: str = "207"  # table 0357
    text: str = ""
    location: str | None = None
    severity: str = "E"  # E error, W warning, I information

    @classmethod
    def from_issue(cls, issue: Issue) -> AckError:
        sev = {"fatal": "E", "error": "E", "warning": "W"}.get(issue.severity, "I")
        return cls(hl7_condition(issue.code), f"{issue.code} {issue.message}", issue.location, sev)


def _err_location(loc: str | None, d: Delimiters) -> str:
    if not loc:
        return ""
    m = _LOC.match(loc)
    if m is None:
        return ""
    seg, occ, fld, rep, comp, sub = m.groups()
    parts = [seg, occ or "1", fld or "", (rep or "1") if fld else "", comp or "", sub or ""]
    return d.cs.join(parts).rstrip(d.cs)


_clock: tuple[int, str] = (0, "")


def _ts(now: datetime | None) -> str:
    """MSH-7 of an ACK: local time to the second (formatted once per second on the hot path)."""
    global _clock
    if now is not None:
        return now.strftime("%Y%m%d%H%M%S")
    second = int(time.time())
    cached = _clock
    if cached[0] != second:
        cached = _clock = (second, datetime.fromtimestamp(second).astimezone().strftime("%Y%m%d%H%M%S"))
    return cached[1]


_id_prefix = uuid.uuid4().hex[:8]  # per process (restarts, forks), followed by a counter
_id_counter = itertools.count(1)


def _new_prefix() -> None:
    global _id_prefix, _id_counter
    _id_prefix, _id_counter = uuid.uuid4().hex[:8], itertools.count(1)


os.register_at_fork(after_in_child=_new_prefix)


def new_control_id() -> str:
    """A unique MSH-10 for an ACK: 20 hex characters (process prefix + counter)."""
    return f"{_id_prefix}{next(_id_counter):012x}"


def _err_segment(err: AckError, d: Delimiters) -> str:
    text = CONDITION_TEXT.get(err.hl7_code, "")
    cwe = d.cs.join([err.hl7_code, escape(text, d), "HL70357"])
    fields = ["ERR", "", _err_location(err.location, d), cwe, err.severity, "", "", "", escape(err.text, d)]
    return d.fs.join(fields)


def _compose(
    d: Delimiters,
    msh_fields: list[str],
    code: AckCode,
    ref_control_id: str,
    errors: Sequence[AckError],
    text: str,
) -> str:
    head = "MSH" + d.fs + d.encoding_characters + d.fs + d.fs.join(msh_fields)
    msa = d.fs.join(["MSA", code.value, escape(ref_control_id, d)] + ([escape(text, d)] if text else []))
    segs = [head, msa] + [_err_segment(e, d) for e in errors]
    return "".join(s + "\r" for s in segs)


def build_ack(
    msg: Message,
    code: AckCode,
    errors: Sequence[AckError] = (),
    enhanced: bool = False,
    *,
    control_id: str | None = None,
    now: datetime | None = None,
    text: str = "",
) -> bytes:
    """ACK for a parsed message, encoded in the message's charset."""
    d = msg.d
    m = msg.msh
    code = code.enhanced() if enhanced else code.original()
    trigger = m.raw(9).split(d.cs)[1] if d.cs in m.raw(9) else ""
    fields = [
        m.raw(5), m.raw(6), m.raw(3), m.raw(4), _ts(now), "",
        d.cs.join(["ACK", trigger, "ACK"]) if trigger else d.cs.join(["ACK", "", "ACK"]),
        escape(control_id or new_control_id(), d), m.raw(11) or "P", m.raw(12) or "2.5",
        "", "", "", "", m.raw(17), m.raw(18),
    ]
    while fields and not fields[-1]:
        fields.pop()
    return _compose(d, fields, code, msg.control_id, errors, text).encode(msg.codec, errors="replace")


_VERSION = re.compile(r"^2\.\d(\.\d)?$")


def build_nack_for_unparseable(
    raw: bytes,
    code: AckCode = AckCode.AR,
    text: str = "message could not be parsed",
    *,
    hl7_code: str = "100",
    control_id: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """A well-formed reject ACK for bytes that did not parse; best effort on MSH-10/version/apps."""
    d = DEFAULT
    lines = raw.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r")
    msh: list[str] = []
    for ln in lines:
        k = ln.find(b"MSH")
        if k >= 0 and len(ln) > k + 4:
            line = ln[k:].decode("latin-1")
            fs = line[3]
            parts = line.split(fs)
            msh = ["MSH", fs, *parts[1:]]
            break

    def f(n: int) -> str:
        v = msh[n] if n < len(msh) else ""
        return v if v.isprintable() and "\\" not in v and not any(c in v for c in "|^~&") else ""

    charset = declared_charset(raw)
    codec = CHARSETS.get((charset or "").upper(), "")
    version = f(12) if _VERSION.match(f(12)) else "2.5"
    fields = [
        f(5), f(6), f(3), f(4), _ts(now), "", "ACK^^ACK", escape(control_id or new_control_id(), d),
        f(11) or "P", version, "", "", "", "", "", (charset or "") if codec else "",
    ]
    while fields and not fields[-1]:
        fields.pop()
    err = AckError(hl7_code, text, None, "E")
    out = _compose(d, fields, code, f(10), [err], "")
    return out.encode(codec or "ascii", errors="replace")


__all__ = ["AckCode", "AckError", "build_ack", "build_nack_for_unparseable", "new_control_id"]
