"""HL7 v2 intake: bytes from a connector -> checked, stored, acknowledged.

Used by the MLLP listener and by ``POST /hl7v2``. The message is parsed and mapped to its PAM FR
event before it is stored, so the ACK can carry every problem (ERR segments); it is then committed
(group commit) and only then acknowledged AA. Rejected messages are stored too (REJECTED, with
their error codes and the NACK sent), so nothing is lost. The same MSH-10 from the same sender on
the same channel gets the same answer and is not processed twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiguillage.engine import Engine
from aiguillage.errors import Issue
from aiguillage.hl7v2 import errors as E
from aiguillage.hl7v2.ack import AckCode, AckError, build_ack, build_nack_for_unparseable
from aiguillage.hl7v2.errors import HL7Error
from aiguillage.hl7v2.events import to_adt_event
from aiguillage.hl7v2.message import Message
from aiguillage.hl7v2.parser import parse
from aiguillage.hl7v2.structure import validate_structure
from aiguillage.router.handlers import ContentType
from aiguillage.store.messages import Envelope, MessageStatus

log = logging.getLogger(__name__)

# Codes that reject the message (AR) rather than report an application error (AE).
_REJECT = {E.EMPTY, E.NO_MSH, E.BAD_DELIMITERS, E.SEPARATOR, E.BAD_CHARSET_BYTES, E.UNKNOWN_CHARSET,
           E.SECOND_MSH, E.BAD_SEGMENT_ID, E.BATCH_EXPECTED, E.UNKNOWN_EVENT, E.BAD_VERSION,
           E.BAD_MESSAGE_TYPE, E.BAD_PROCESSING_ID, E.NOT_PAM_FR}


@dataclass(frozen=True)
class IntakeResult:
    ack: bytes
    code: AckCode
    message_id: str | None
    duplicate: bool = False


def _errors(issues: list[Issue]) -> list[AckError]:
    return [AckError.from_issue(i) for i in issues]


def _ack_code(issues: list[Issue]) -> AckCode:
    codes = {i.code for i in issues if i.severity in ("error", "fatal")}
    return AckCode.AR if codes & _REJECT else AckCode.AE


def wants_enhanced(msg: Message) -> bool:
    """Enhanced acknowledgement mode: the sender filled MSH-15 (accept) or MSH-16 (application ack type)."""
    return bool(msg.msh.get(15) or msg.msh.get(16))


async def receive_hl7(
    engine: Engine, raw: bytes, *, channel: str, source: str = "", strict: bool | None = None,
    enhanced: bool | None = None,
) -> IntakeResult:
    """Check, store and acknowledge one ER7 message. Never raises for bad input.

    ``enhanced`` None follows the message (MSH-15/MSH-16): CA/CE/CR instead of AA/AE/AR.
    """
    strict = engine.settings.hl7_strict if strict is None else strict
    msg: Message | None = None
    issues: list[Issue] = []
    warnings: list[Issue] = []
    event_meta: dict[str, object] = {}
    bus_key: str | None = None
    try:
        msg = parse(raw, strict=strict)
        event = to_adt_event(msg, strict=strict)
        warnings = list(event.warnings)
        if msg.normalised:
            log.info("hl7 intake: %s segment separators normalised on channel %s", msg.normalised, channel)
            warnings.append(Issue("warning", E.NORMALISED, f"segment separators {msg.normalised} normalised"))
        if channel in engine.settings.hl7_structure_channels:
            issues = validate_structure(msg)
        event_meta = {"trigger": event.trigger, "kind": str(event.kind)}
        bus_key = event.bus_key or None
    except HL7Error as exc:
        issues = exc.issues or [Issue("error", exc.code, exc.message, exc.location)]

    if msg is None:
        code = AckCode.AR
        first = issues[0] if issues else Issue("error", E.EMPTY, "empty message")
        nack = build_nack_for_unparseable(raw, AckCode.AR, f"{first.code} {first.message}",
                                          hl7_code=E.hl7_condition(first.code))
        stored = await engine.intake(Envelope(
            channel=channel, content_type=ContentType.HL7V2.value, raw=raw, source=source,
            status=MessageStatus.REJECTED, error_codes=tuple(i.code for i in issues),
            error_text="; ".join(i.message for i in issues)[:4000], response=nack,
        ))
        log.info("hl7 intake: rejected unparseable message %s on %s (%s)", stored.id, channel, first.code)
        return IntakeResult(nack, code, stored.id)

    if enhanced is None:
        enhanced = wants_enhanced(msg)
    sender = f"{msg.sending_app}|{msg.sending_facility}"
    dedupe = f"{sender}|{msg.control_id}" if msg.control_id else None
    mtype = msg.message_type
    message_type = f"{mtype.code}^{mtype.trigger}" if mtype.trigger else mtype.code
    if issues:
        code = _ack_code(issues)
        nack = build_ack(msg, code, _errors(issues), enhanced)
        stored = await engine.intake(Envelope(
            channel=channel, content_type=ContentType.HL7V2.value, raw=raw, source=source or sender,
            message_type=message_type, control_id=msg.control_id, dedupe_key=dedupe,
            status=MessageStatus.REJECTED, error_codes=tuple(i.code for i in issues),
            error_text="; ".join(i.message for i in issues)[:4000], response=nack,
        ))
        if stored.duplicate:
            return IntakeResult(stored.response or nack, code, stored.id, True)
        log.info("hl7 intake: %s %s for message %s (%s)", code, message_type, stored.id,
                 ",".join(i.code for i in issues))
        return IntakeResult(nack, code, stored.id)

    stored = await engine.intake(Envelope(
        channel=channel, content_type=ContentType.HL7V2.value, raw=raw, source=source or sender,
        message_type=message_type, control_id=msg.control_id, dedupe_key=dedupe,
        correlation_key=bus_key, meta=event_meta,
    ))
    if stored.duplicate and stored.response is not None:
        return IntakeResult(stored.response, _code_of(stored.response), stored.id, True)
    ack = build_ack(msg, AckCode.AA, _errors(warnings), enhanced)
    return IntakeResult(ack, AckCode.CA if enhanced else AckCode.AA, stored.id, stored.duplicate)


def _code_of(ack: bytes) -> AckCode:
    for seg in ack.split(b"\r"):
        if seg.startswith(b"MSA"):
            try:
                return AckCode(seg[4:6].decode("ascii"))
            except ValueError:
                break
    return AckCode.AR
