"""The outbox: bus records written in the same transaction as the state they announce.

The relay publishes rows and deletes them once the bus acknowledged them; rows left behind by a
crash or a broker outage are published again, so consumers deduplicate by message id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from aiguillage.router.bus import Record
from aiguillage.store.base import utcnow


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    topic: str = Field(max_length=128)
    key: str | None = Field(default=None, max_length=255)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))


TABLE = OutboxRow.__table__  # type: ignore[attr-defined]


def add(conn: Connection, records: Sequence[Record]) -> None:
    if not records:
        return
    now = utcnow()
    conn.execute(
        insert(TABLE),
        [{"topic": r.topic, "key": r.key, "value": r.value, "created_at": now} for r in records],
    )


def pending(engine: Engine, limit: int = 500, after_id: int = 0) -> list[tuple[int, Record]]:
    q = select(TABLE).where(TABLE.c.id > after_id).order_by(TABLE.c.id).limit(limit)
    with engine.connect() as conn:
        return [(r.id, Record(r.topic, r.key, r.value)) for r in conn.execute(q)]


def remove(engine: Engine, ids: Sequence[int]) -> None:
    if not ids:
        return
    from aiguillage.store.db import write_lock

    with write_lock(engine), engine.begin() as conn:
        conn.execute(delete(TABLE).where(TABLE.c.id.in_(list(ids))))


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TABLE)).scalar_one())


def as_row(record: Record) -> dict[str, Any]:
    return {"topic": record.topic, "key": record.key, "value": record.value, "created_at": utcnow()}
