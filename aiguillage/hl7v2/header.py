"""Cheap header peek for the intake path: dedupe key and bus key before anything is stored.

Reads MSH and the first PID-3 without building a full message. Never raises on content: fields
it cannot read are empty. Use :func:`aiguillage.hl7v2.parser.parse` for anything more.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiguillage.hl7v2.charset import decode
from aiguillage.hl7v2.errors import HL7ParseError
from aiguillage.hl7v2.escape import Delimiters
from aiguillage.hl7v2.identifiers import patient_key_from_pid3
from aiguillage.hl7v2.message import leaf
from aiguillage.hl7v2.parser import read_delimiters


@dataclass(frozen=True)
class Header:
    sending_app: str = ""
    sending_facility: str = ""
    receiving_app: str = ""
    receiving_facility: str = ""
    control_id: str = ""
    message_code: str = ""
    trigger: str = ""
    structure: str = ""
    version: str = ""
    processing_id: str = ""
    charset: str | None = None
    patient_key: str | None = None  # "IPP:<authority>:<id>", see identifiers.patient_key

    @property
    def dedupe_key(self) -> str:
        """Sender + control id: the same message sent twice has the same key."""
        return f"{self.sending_app}|{self.sending_facility}|{self.control_id}"

    @property
    def message_type(self) -> str:
        return f"{self.message_code}_{self.trigger}" if self.trigger else self.message_code


def peek_header(raw: bytes) -> Header:
    try:
        text, charset, codec = decode(raw)
    except HL7ParseError:
        text, charset, codec = raw.decode("latin-1"), None, "latin-1"
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    k = text.find("MSH")
    if k < 0:
        return Header()
    end = text.find("\r", k)
    line = text[k:] if end < 0 else text[k:end]
    try:
        d = read_delimiters(line)
    except HL7ParseError:
        return Header(charset=charset)
    f = ["MSH", d.fs, *line.split(d.fs)[1:]]

    def g(n: int, comp: int = 1) -> str:
        return leaf(f[n], d, codec, 1, comp) if n < len(f) else ""

    return Header(
        sending_app=g(3), sending_facility=g(4), receiving_app=g(5), receiving_facility=g(6),
        control_id=g(10), message_code=g(9), trigger=g(9, 2), structure=g(9, 3), version=g(12),
        processing_id=g(11), charset=charset, patient_key=_pid_key(text, d, codec),
    )


def _pid_key(text: str, d: Delimiters, codec: str) -> str | None:
    k = text.find("\rPID" + d.fs)
    if k < 0:
        return None
    end = text.find("\r", k + 1)
    line = text[k + 1 :] if end < 0 else text[k + 1 : end]
    fields = line.split(d.fs)
    if len(fields) < 4:
        return None
    return patient_key_from_pid3(fields[3], d, codec)


__all__ = ["Header", "peek_header"]
