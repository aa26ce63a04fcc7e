"""The outbox: bus records written in the same transaction as the state they announce.

Row ids are made by the writer (time-ordered, monotonic), so the writer can hand the committed
records to the relay in memory; the relay publishes them and deletes published rows in batches.
Rows left behind by a crash or a broker outage are found by a scan and published again, so
consumers deduplicate by message id.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, LargeBinary, String, delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from aiguillage.router.bus import Record
from aiguillage.store.base import new_id, utcnow

Pending = tuple[str, Record]  # (outbox row id, record)


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    topic: str = Field(max_length=128)
    key: str | None = Field(default=None, max_length=255)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))


TABLE = OutboxRow.__table__  # type: ignore[attr-defined]
_INSERT = insert(TABLE)  # built once: the worker adds events for every message it processes


def rows(records: Sequence[Record], now: datetime | None = None) -> tuple[list[dict[str, Any]], list[Pending]]:
    """Rows to insert for ``records`` and the (id, record) pairs to hand to the relay after commit."""
    now = now or utcnow()
    out: list[dict[str, Any]] = []
    pairs: list[Pending] = []
    for r in records:
        rid = new_id()
        out.append({"id": rid, "topic": r.topic, "key": r.key, "value": r.value, "created_at": now})
        pairs.append((rid, r))
    return out, pairs


def add(conn: Connection, records: Sequence[Record]) -> list[Pending]:
    """Insert ``records`` in the caller's transaction; returns what to hand to the relay after commit."""
    if not records:
        return []
    values, pairs = rows(records)
    conn.execute(_INSERT, values)
    return pairs


def pending(
    engine: Engine, limit: int = 500, *, skip: Collection[str] = (), older_than_s: float | None = None,
    created_before: datetime | None = None,
) -> list[Pending]:
    """Unpublished rows in id order, leaving out ``skip`` (already in hand) and, optionally, recent rows."""
    q = select(TABLE).order_by(TABLE.c.id).limit(limit + len(skip))
    if older_than_s is not None:
        q = q.where(TABLE.c.created_at < utcnow() - timedelta(seconds=older_than_s))
    if created_before is not None:
        q = q.where(TABLE.c.created_at < created_before)
    with engine.connect() as conn:
        found = [(r.id, Record(r.topic, r.key, r.value)) for r in conn.execute(q) if r.id not in skip]
    return found[:limit]


def remove(engine: Engine, ids: Sequence[str]) -> None:
    if not ids:
        return
    from aiguillage.store.db import write_lock

    with write_lock(engine), engine.begin() as conn:
        for start in range(0, len(ids), 500):
            conn.execute(delete(TABLE).where(TABLE.c.id.in_(list(ids[start : start + 500]))))


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TABLE)).scalar_one())
