"""Push one document to the DMP: build the request, send it, retry transient failures, trace it all.

Every attempt is a trace row with the columns of the PFI export (see :mod:`aiguillage.dmp.tables`).
Answers the DMP gives (SUCCESS, ERREUR_DMP_CLOS, ERREUR_VERIFICATION, DOCUMENTS_TOUS with decision
"Filtere") are final. Transport failures (HTTP 5xx, timeouts, refused connections, unreadable
answers) are retried with exponential backoff up to ``PushPolicy.max_attempts``; each failed
attempt is traced ``ERREUR_TECHNIQUE``. A document without an INS is never sent: it gets one
``NON_ENVOYE`` trace with the reason. The client is any object with ``async submit(request)``
(``aiguillage.connectors.dmp.DmpHttpClient`` in production), so this module opens no socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aiguillage.dmp.records import Action, Decision, DmpStatus
from aiguillage.dmp.wire import NOT_SENT, TECHNICAL_ERROR, DmpReply, DmpRequest, DmpTransportError
from aiguillage.store.base import utcnow

log = logging.getLogger(__name__)

# SARA document type codes (idTypePieceSara) of the indicator LOINC codes, as the PFI export shows them
SARA_TYPES: dict[str, str] = {
    "11490-0": "84", "57828-6": "40", "57832-8": "40", "57833-6": "40", "34874-8": "8",
    "11488-4": "7", "11502-2": "14", "18748-4": "4",
}

REASON_NO_INS = "no qualified INS in the document: not sent"
REASON_NO_ENDPOINT = "no DMP endpoint configured: not sent"


class DmpClient(Protocol):
    async def submit(self, request: DmpRequest) -> DmpReply: ...


@dataclass(frozen=True)
class PushPolicy:
    max_attempts: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    def delay(self, attempt: int) -> float:
        """Wait before attempt ``attempt + 1`` (attempts count from 1)."""
        return float(min(self.backoff_s * (2 ** (attempt - 1)), self.max_backoff_s))


@dataclass(frozen=True)
class PushItem:
    """What one push needs: the stored document's values and its CDA bytes."""

    message_id: str
    document_id: str
    set_id: str
    version: int
    loinc: str | None
    ipp: str | None
    stay_id: str | None
    ins_root: str | None
    ins: str | None  # None: no INS in the document, never sent
    masking: str = "false,false"
    domain: str | None = None
    source_author_id: str | None = None
    author_id: str | None = None
    organization_id: str | None = None
    content: bytes = b""

    def request(self, action: Action) -> DmpRequest:
        assert self.ins is not None and self.ins_root is not None
        return DmpRequest(
            action=action, ins_root=self.ins_root, ins=self.ins, document_id=self.document_id,
            set_id=self.set_id, version=self.version, type_code=self.loinc or "", masking=self.masking,
            author_ids=tuple(a for a in (self.author_id or self.source_author_id,) if a),
            organization_id=self.organization_id,
            document=b"" if action is Action.SUPPRESSION else self.content,
        )


@dataclass(frozen=True)
class PushResult:
    state: str  # DONE (the DMP answered), FAILED (transport errors exhausted), NOT_SENT
    status: str  # last trace status
    traces: list[dict[str, Any]]


TraceSink = Callable[[dict[str, Any]], Awaitable[None]]


def trace_row(item: PushItem, action: Action, attempt: int, status: str, *, decision: Decision = Decision.AUTHORISED,
              requested_at: datetime | None = None, answered_at: datetime | None = None,
              share_id: str | None = None, reason: str = "") -> dict[str, Any]:
    return {
        "message_id": item.message_id, "attempt": attempt, "document_id": item.document_id,
        "sara_type": SARA_TYPES.get(item.loinc or ""), "loinc": item.loinc, "masking": item.masking,
        "ins_present": item.ins is not None, "domain": item.domain, "ipp": item.ipp,
        "source_author_id": item.source_author_id, "author_id": item.author_id, "share_id": share_id,
        "action": action.value, "decision": decision.value, "requested_at": requested_at,
        "answered_at": answered_at, "status": status, "stay_id": item.stay_id, "set_id": item.set_id,
        "reason": reason[:255],
    }


async def push(
    item: PushItem,
    action: Action,
    client: DmpClient | None,
    policy: PushPolicy,
    sink: TraceSink,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    first_attempt: int = 1,
) -> PushResult:
    """Push ``item`` with ``action``; every attempt goes to ``sink`` before the next one starts."""
    if item.ins is None or client is None:
        reason = REASON_NO_INS if item.ins is None else REASON_NO_ENDPOINT
        row = trace_row(item, action, first_attempt, NOT_SENT, requested_at=utcnow(), reason=reason)
        await sink(row)
        log.info("dmp push not sent message=%s reason=%s", item.message_id,
                 "no-ins" if item.ins is None else "no-endpoint")
        return PushResult("NOT_SENT", NOT_SENT, [row])
    request = item.request(action)
    rows: list[dict[str, Any]] = []
    attempt = first_attempt
    last = first_attempt + policy.max_attempts - 1
    while True:
        requested = utcnow()
        try:
            reply = await client.submit(request)
        except DmpTransportError as exc:
            final = exc.reason.startswith("http-4") or attempt >= last
            row = trace_row(item, action, attempt, TECHNICAL_ERROR, requested_at=requested, answered_at=utcnow(),
                            reason=exc.reason)
            rows.append(row)
            await sink(row)
            log.info("dmp push attempt=%d message=%s transport error=%s final=%s",
                     attempt, item.message_id, exc.reason, final)
            if final:
                return PushResult("FAILED", TECHNICAL_ERROR, rows)
            await sleep(policy.delay(attempt))
            attempt += 1
            continue
        decision = Decision.FILTERED if reply.status is DmpStatus.DOCUMENTS_TOUS else reply.decision
        row = trace_row(item, action, attempt, reply.status.value, decision=decision, requested_at=requested,
                        answered_at=reply.answered_at or utcnow(), share_id=reply.share_id,
                        reason="" if reply.status is DmpStatus.SUCCESS else reply.message)
        rows.append(row)
        await sink(row)
        log.info("dmp push attempt=%d message=%s action=%s status=%s", attempt, item.message_id,
                 action.value, reply.status.value)
        return PushResult("DONE", reply.status.value, rows)


__all__ = ["SARA_TYPES", "DmpClient", "PushItem", "PushPolicy", "PushResult", "push", "trace_row"]
