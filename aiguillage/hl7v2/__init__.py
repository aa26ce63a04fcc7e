"""HL7 v2 format (pure: no sockets, no database): ER7 parser, ACK/NACK, PAM FR model and AdtEvent.

Public API::

    parse(raw: bytes, *, strict=False) -> Message          parse_batch(raw) -> Batch
    peek_header(raw: bytes) -> Header                        (dedupe key, bus key, before storing)
    to_adt_event(msg, strict=False) -> AdtEvent              raises HL7MappingError(issues=[...])
    build_ack(msg, AckCode.AA, errors=[AckError...], enhanced=False) -> bytes
    build_nack_for_unparseable(raw, AckCode.AR, text) -> bytes
    mask(msg) -> str, to_view(msg) -> dict                   admin view without personal data
"""

from aiguillage.hl7v2.ack import AckCode, AckError, build_ack, build_nack_for_unparseable
from aiguillage.hl7v2.batch import Batch, parse_batch
from aiguillage.hl7v2.errors import HL7Error, HL7MappingError, HL7ParseError, hl7_condition
from aiguillage.hl7v2.escape import NULL, Delimiters, escape, unescape
from aiguillage.hl7v2.events import EVENTS, AdtEvent, AdtKind, to_adt_event
from aiguillage.hl7v2.header import Header, peek_header
from aiguillage.hl7v2.mask import mask, to_view
from aiguillage.hl7v2.message import Message, MessageType, Segment
from aiguillage.hl7v2.parser import parse

__all__ = [
    "EVENTS", "NULL", "AckCode", "AckError", "AdtEvent", "AdtKind", "Batch", "Delimiters", "HL7Error",
    "HL7MappingError", "HL7ParseError", "Header", "Message", "MessageType", "Segment", "build_ack",
    "build_nack_for_unparseable", "escape", "hl7_condition", "mask", "parse", "parse_batch", "peek_header",
    "to_adt_event", "to_view", "unescape",
]
