"""The messages aggregate: every inbound message, its raw bytes and its status."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Index, LargeBinary, String, delete, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from aiguillage.errors import ConflictError, NotFoundError
from aiguillage.store.base import new_id, utcnow


class MessageStatus(StrEnum):
    RECEIVED = "RECEIVED"
    PROCESSED = "PROCESSED"
    HELD = "HELD"
    REJECTED = "REJECTED"
    ERROR = "ERROR"
    DEAD = "DEAD"


REPROCESSABLE = frozenset({MessageStatus.HELD, MessageStatus.ERROR, MessageStatus.DEAD})


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_status_received", "status", "received_at"),
        Index("ix_messages_channel_received", "channel", "received_at"),
        Index(
            "ux_messages_dedupe",
            "channel",
            "dedupe_key",
            unique=True,
            sqlite_where=Column("dedupe_key").isnot(None),
            postgresql_where=Column("dedupe_key").isnot(None),
        ),
    )

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    channel: str = Field(max_length=64)
    source: str = Field(default="", max_length=255)
    content_type: str = Field(max_length=64)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    status: str = Field(default=MessageStatus.RECEIVED.value, max_length=16)
    error_codes: str = Field(default="", max_length=1024)  # comma-separated stable codes
    error_text: str = Field(default="", max_length=4000)  # readable, never personal data
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(DateTime, nullable=True))
    message_type: str = Field(default="", max_length=32)  # e.g. ADT^A01, CDA, HealthcareService
    control_id: str = Field(default="", max_length=199)  # e.g. MSH-10
    dedupe_key: str | None = Field(default=None, max_length=255)
    correlation_key: str | None = Field(default=None, max_length=255)  # bus key (not indexed: never filtered on)
    response: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    meta: str = Field(default="{}", max_length=8000)  # JSON: parsed hints (no personal data)


TABLE = Message.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Envelope:
    """What a connector hands to intake: bytes plus where they came from (no parsing)."""

    channel: str
    content_type: str
    raw: bytes
    source: str = ""
    message_type: str = ""
    control_id: str = ""
    dedupe_key: str | None = None
    correlation_key: str | None = None
    status: MessageStatus = MessageStatus.RECEIVED
    error_codes: tuple[str, ...] = ()
    error_text: str = ""
    response: bytes | None = None
    meta: dict[str, Any] | None = None
    id: str = ""

    def row(self, received_at: datetime) -> dict[str, Any]:
        return {
            "id": self.id or new_id(),
            "channel": self.channel,
            "source": self.source,
            "content_type": self.content_type,
            "raw": self.raw,
            "received_at": received_at,
            "updated_at": received_at,
            "status": self.status.value,
            "error_codes": ",".join(self.error_codes),
            "error_text": self.error_text[:4000],
            "attempts": 0,
            "next_attempt_at": None,
            "message_type": self.message_type[:32],
            "control_id": self.control_id[:199],
            "dedupe_key": self.dedupe_key,
            "correlation_key": self.correlation_key,
            "response": self.response,
            "meta": json.dumps(self.meta or {}, separators=(",", ":")),
        }


@dataclass(frozen=True)
class Stored:
    """The intake result handed back to the connector after the commit."""

    id: str
    status: MessageStatus
    duplicate: bool = False  # an earlier message with the same dedupe key exists
    response: bytes | None = None  # the earlier answer, for duplicates


@dataclass(frozen=True)
class MessageFilter:
    status: Sequence[str] = ()
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    message_type: str | None = None

    def where(self) -> list[Any]:
        c = TABLE.c
        clauses: list[Any] = []
        if self.status:
            clauses.append(c.status.in_([str(s) for s in self.status]))
        if self.channel:
            clauses.append(c.channel == self.channel)
        if self.since:
            clauses.append(c.received_at >= self.since)
        if self.until:
            clauses.append(c.received_at < self.until)
        if self.message_type:
            clauses.append(c.message_type == self.message_type)
        return clauses


def get(engine: Engine, message_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(TABLE).where(TABLE.c.id == message_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"message {message_id} not found", "NF-0101")
    return dict(row)


def list_messages(
    engine: Engine, flt: MessageFilter, limit: int = 100, before_id: str | None = None
) -> list[dict[str, Any]]:
    """Newest first; ``before_id`` pages (ids are time-ordered)."""
    cols = [c for c in TABLE.c if c.name not in ("raw", "response")]
    q = select(*cols, func.length(TABLE.c.raw).label("size")).where(*flt.where())
    if before_id:
        q = q.where(TABLE.c.id < before_id)
    q = q.order_by(TABLE.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def count_by_status(engine: Engine) -> dict[tuple[str, str], int]:
    q = select(TABLE.c.channel, TABLE.c.status, func.count()).group_by(TABLE.c.channel, TABLE.c.status)
    with engine.connect() as conn:
        return {(ch, st): n for ch, st, n in conn.execute(q)}


def set_outcome(
    conn: Connection,
    message_id: str,
    status: MessageStatus,
    *,
    error_codes: Sequence[str] = (),
    error_text: str = "",
    attempts: int | None = None,
    next_attempt_at: datetime | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status.value,
        "error_codes": ",".join(error_codes)[:1024],
        "error_text": error_text[:4000],
        "updated_at": utcnow(),
        "next_attempt_at": next_attempt_at,
    }
    if attempts is not None:
        values["attempts"] = attempts
    if meta is not None:
        values["meta"] = json.dumps(meta, separators=(",", ":"))[:8000]
    conn.execute(update(TABLE).where(TABLE.c.id == message_id).values(**values))


def mark_for_reprocess(
    conn: Connection, ids: Sequence[str], *, force: bool = False, strict: bool = True
) -> list[str]:
    """Move reprocessable messages back to RECEIVED; return the ids that moved.

    Idempotent: a message already RECEIVED (queued) is returned without change; PROCESSED or
    REJECTED messages move only with ``force``.
    """
    if not ids:
        return []
    allowed = {s.value for s in REPROCESSABLE} | {MessageStatus.RECEIVED.value}
    if force:
        allowed |= {MessageStatus.PROCESSED.value, MessageStatus.REJECTED.value}
    rows = conn.execute(select(TABLE.c.id, TABLE.c.status).where(TABLE.c.id.in_(list(ids)))).all()
    movable = [r.id for r in rows if r.status in allowed]
    if strict and len(ids) == 1 and not movable:
        if not rows:
            raise NotFoundError(f"message {ids[0]} not found", "NF-0101")
        raise ConflictError(
            f"message {ids[0]} is {rows[0].status}; use force to reprocess it", "CONF-0101"
        )
    if movable:
        conn.execute(
            update(TABLE)
            .where(TABLE.c.id.in_(movable))
            .values(status=MessageStatus.RECEIVED.value, updated_at=utcnow(), next_attempt_at=None, attempts=0)
        )
    return movable


def ids_matching(conn: Connection, flt: MessageFilter, limit: int = 10_000) -> list[str]:
    q = select(TABLE.c.id).where(*flt.where()).order_by(TABLE.c.id).limit(limit)
    return [r for (r,) in conn.execute(q)]


def purge_older_than(engine: Engine, days: int, statuses: Sequence[str] = ()) -> int:
    """Delete messages received more than ``days`` ago (optionally only some statuses)."""
    cutoff = utcnow() - timedelta(days=days)
    q = delete(TABLE).where(TABLE.c.received_at < cutoff)
    if statuses:
        q = q.where(TABLE.c.status.in_(list(statuses)))
    with engine.begin() as conn:
        return int(conn.execute(q).rowcount or 0)
