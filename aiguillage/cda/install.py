"""Wires CDA R2 documents into the engine: intake check, the worker handler, the ``POST /cda`` route.

Intake (:func:`receive_cda`): the body is checked (:func:`aiguillage.cda.check_document`) before
it is stored, so the answer carries the full report; it is then committed (group commit) and only
then answered. A document that fails the check is stored too, ``REJECTED`` with its codes and the
report as its response. A type code outside JDV_J07 is not a rejection: it is a local code, which
the worker translates through the mapping tables (CDA-0208 is answered as a warning).

Worker (:func:`handle_cda`, registered for ``ContentType.CDA``): re-reads the header, translates a
local type code (table ``(custodian id | sender, "document-type")``; unmapped -> ``HELD``), and
publishes a ``ClinicalDocument`` event on ``Topic.EVENTS_DOCUMENT`` keyed by patient. The event
carries ids and codes only: no INS, names or document body (consumers read the stored message).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from aiguillage.cda import codes
from aiguillage.cda.header import CdaHeader, extract_header
from aiguillage.cda.parse import parse_cda
from aiguillage.cda.typecodes import dmp_type_codes
from aiguillage.cda.validate import FAILING, ValidationReport, check_document
from aiguillage.errors import Issue
from aiguillage.router.bus import Record
from aiguillage.router.handlers import ContentType, InboundMessage, Outcome
from aiguillage.router.topics import Topic
from aiguillage.store.messages import Envelope, MessageStatus

if TYPE_CHECKING:
    from aiguillage.engine import Engine

log = logging.getLogger(__name__)

EVENT_TYPE = "ClinicalDocument"
MAPPING_FIELD = "document-type"
MAPPING_TARGET = "JDV_J07"
NO_MAPPINGS = "CDA-0701"  # local type code and no mapping tables installed: held


@dataclass(frozen=True)
class CdaIntakeResult:
    status_code: int  # 200 stored RECEIVED, 422 stored REJECTED
    body: dict[str, Any]
    message_id: str
    duplicate: bool = False


def _local_type_code(report: ValidationReport) -> ValidationReport:
    """CDA-0208 (type code not in JDV_J07) is a local code for the mapping tables, not a rejection."""
    issues = [
        Issue("warning", i.code, i.message + "; treated as a local code: translated through the mapping tables",
              i.location) if i.code == codes.TYPE_CODE_UNKNOWN and i.severity in FAILING else i
        for i in report.issues
    ]
    valid = report.header is not None and not any(i.severity in FAILING for i in issues)
    return ValidationReport(valid, issues, report.header)


def patient_key(header: CdaHeader) -> str | None:
    """Bus key of the document's patient: a hash of its INS (else its first id), never the id itself."""
    pid = header.ins or (header.patient_ids[0] if header.patient_ids else None)
    if pid is None or not pid.extension:
        return None
    return hashlib.sha256(f"{pid.root}^{pid.extension}".encode()).hexdigest()[:24]


async def receive_cda(engine: Engine, body: bytes, *, channel: str, source: str = "") -> CdaIntakeResult:
    """Check, store and answer one CDA document. Never raises for bad input."""
    report = _local_type_code(await asyncio.to_thread(check_document, body, engine.settings.cda_xsd))
    answer = report.as_json()
    header = report.header
    if not report.valid:
        failing = tuple(dict.fromkeys(i.code for i in report.issues if i.severity in FAILING))
        stored = await engine.intake(Envelope(
            channel=channel, content_type=ContentType.CDA.value, raw=body, source=source, message_type="CDA",
            status=MessageStatus.REJECTED, error_codes=failing,
            error_text="; ".join(i.message for i in report.issues if i.severity in FAILING)[:4000],
            response=json.dumps(answer).encode(),
        ))
        log.info("cda intake: rejected message %s on %s (%s)", stored.id, channel, ",".join(failing))
        return CdaIntakeResult(422, {**answer, "messageId": stored.id, "status": MessageStatus.REJECTED.value},
                               stored.id)
    assert header is not None
    doc_key = header.document_id.key() if header.document_id else None
    type_code = header.type_code.code if header.type_code else ""
    stored = await engine.intake(Envelope(
        channel=channel, content_type=ContentType.CDA.value, raw=body, source=source,
        message_type=f"CDA^{type_code}"[:32], control_id=(doc_key or "")[:199],
        dedupe_key=f"cda|{doc_key}"[:255] if doc_key else None, correlation_key=patient_key(header),
        response=json.dumps(answer).encode(), meta={"typeCode": type_code, "level": header.level},
    ))
    if stored.duplicate and stored.response:
        earlier = json.loads(stored.response)
        return CdaIntakeResult(200, {**earlier, "messageId": stored.id, "status": stored.status.value,
                                     "duplicate": True}, stored.id, True)
    return CdaIntakeResult(200, {**answer, "messageId": stored.id, "status": MessageStatus.RECEIVED.value},
                           stored.id)


# --- worker ------------------------------------------------------------------------------------


def mapping_source(header: CdaHeader, msg: InboundMessage) -> str:
    """The mapping table's source: the custodian's id (the producing organisation), else the sender."""
    cid = header.custodian.id if header.custodian else None
    if cid is not None and cid.extension:
        return cid.extension[:64]
    return (msg.source or msg.channel)[:64]


def handle_cda(msg: InboundMessage, conn: Connection) -> Outcome:
    header = extract_header(parse_cda(msg.raw))  # CDAParseError (not retryable) rejects
    code = header.type_code.code if header.type_code else None
    system = header.type_code.code_system if header.type_code else None
    national: str | None = code
    local: str | None = None
    if code and (code, system or "") not in dmp_type_codes():
        local = code
        try:
            from aiguillage.mappings import MappingContext
        except ImportError:  # mapping tables not installed: hold, never drop
            return Outcome(MessageStatus.HELD, error_codes=[NO_MAPPINGS],
                           error_text=f"local document type code {code!r} and no mapping tables")
        ctx = MappingContext(conn, msg.id)
        found = ctx.translate(mapping_source(header, msg), MAPPING_FIELD, code, target_system=MAPPING_TARGET)
        held = ctx.outcome_if_missing()
        if held is not None or found is None:
            return held or Outcome(MessageStatus.HELD, error_codes=[NO_MAPPINGS], error_text="unmapped type code")
        national = found.code
    ipp = next((p for p in header.patient_ids if p.kind == "IPP" and p.extension), None)
    event = {
        "type": EVENT_TYPE,
        "messageId": msg.id,
        "documentId": header.document_id.as_dict() if header.document_id else None,
        "setId": header.set_id.as_dict() if header.set_id else None,
        "versionNumber": header.version_number,
        "typeCode": national,
        "localTypeCode": local,
        "level": header.level,
        "effectiveTime": header.effective_time.isoformat() if header.effective_time else None,
        "confidentiality": header.confidentiality_code.code if header.confidentiality_code else None,
        "insKind": header.ins.kind if header.ins else None,
        "ipp": ipp.extension if ipp else None,
        "stayId": header.stay_id.extension if header.stay_id else None,
        "replaces": header.replaces.as_dict() if header.replaces else None,
    }
    key = msg.correlation_key or patient_key(header) or msg.id
    record = Record(Topic.EVENTS_DOCUMENT.value, key, json.dumps(event, separators=(",", ":")).encode())
    meta = {**msg.meta, "typeCode": national, **({"localTypeCode": local} if local else {})}
    return Outcome(MessageStatus.PROCESSED, events=[record], meta=meta)


def install(engine: Engine) -> None:
    from aiguillage.api.cda import router

    engine.handlers.register(ContentType.CDA.value, handle_cda)
    engine.services["routers"].append(router)


__all__ = ["EVENT_TYPE", "CdaIntakeResult", "handle_cda", "install", "mapping_source", "patient_key", "receive_cda"]
