"""Format handlers: what the worker calls for each stored message, by content type.

A handler turns one stored message into an :class:`Outcome`: a status and the events to publish.
It runs inside the worker's transaction (``conn``) so its own writes (projections, unmapped codes)
commit together with the status and the outbox events. It never opens a socket.

Raising an EngineError with ``retryable=False`` rejects the message with that code; any other
exception counts as a retryable failure (ERROR, retried with backoff, then DEAD).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Connection

from aiguillage.router.bus import Record
from aiguillage.store.messages import MessageStatus


class ContentType(StrEnum):
    HL7V2 = "application/hl7-v2"
    CDA = "application/cda+xml"
    FHIR = "application/fhir+json"


@dataclass(frozen=True)
class InboundMessage:
    id: str
    channel: str
    source: str
    content_type: str
    raw: bytes
    message_type: str
    control_id: str
    correlation_key: str | None
    attempts: int
    meta: dict[str, Any]


@dataclass
class Outcome:
    status: MessageStatus
    events: list[Record] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)
    error_text: str = ""
    meta: dict[str, Any] | None = None


Handler = Callable[[InboundMessage, Connection], Outcome]


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, content_type: str, handler: Handler) -> None:
        self._handlers[content_type] = handler

    def get(self, content_type: str) -> Handler | None:
        return self._handlers.get(content_type)

    def content_types(self) -> list[str]:
        return sorted(self._handlers)
