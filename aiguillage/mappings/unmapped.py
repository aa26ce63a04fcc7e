"""The unmapped queue: local values seen in messages with no mapping yet, and the messages they hold.

One row per (source, field, normalised value): first/last seen, how many distinct messages hit it,
an example message id. ``mapping_unmapped_messages`` links the row to every message it holds so a
saved mapping can release them. Recording is idempotent per message (a reprocessed message that is
held again does not count twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, delete, func, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from aiguillage.mappings.normalize import normalize_key
from aiguillage.store.base import new_id, utcnow


class Unmapped(SQLModel, table=True):
    __tablename__ = "mapping_unmapped"
    __table_args__ = (Index("ux_mapping_unmapped_key", "source", "field", "local_key", unique=True),)

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    source: str = Field(max_length=64)
    field: str = Field(max_length=64)
    local_key: str = Field(max_length=255)
    value: str = Field(max_length=255)  # as first seen
    first_seen: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    last_seen: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    count: int = Field(default=0, sa_column=Column(Integer, nullable=False))  # distinct messages
    example_message_id: str = Field(default="", max_length=32)


class UnmappedMessage(SQLModel, table=True):
    __tablename__ = "mapping_unmapped_messages"

    unmapped_id: str = Field(
        sa_column=Column(String(32), ForeignKey("mapping_unmapped.id", ondelete="CASCADE"), primary_key=True)
    )
    message_id: str = Field(sa_column=Column(String(32), primary_key=True))


UNMAPPED = Unmapped.__table__  # type: ignore[attr-defined]
LINKS = UnmappedMessage.__table__  # type: ignore[attr-defined]


def _upsert(conn: Connection, table: Any, keys: list[str], values: dict[str, Any], on_conflict: dict[str, Any]
            ) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values)  # type: ignore[assignment]
    if on_conflict:
        return stmt.on_conflict_do_update(index_elements=keys, set_=on_conflict)
    return stmt.on_conflict_do_nothing(index_elements=keys)


def record(conn: Connection, source: str, field: str, value: str, message_id: str | None) -> str:
    """Record one miss of ``value`` (by message ``message_id``); returns the unmapped row id."""
    now = utcnow()
    key = normalize_key(value)
    stmt = _upsert(
        conn, UNMAPPED, ["source", "field", "local_key"],
        {"id": new_id(), "source": source, "field": field, "local_key": key, "value": value.strip()[:255],
         "first_seen": now, "last_seen": now, "count": 0, "example_message_id": message_id or ""},
        {"last_seen": now},
    ).returning(UNMAPPED.c.id)
    unmapped_id = str(conn.execute(stmt).scalar_one())
    if message_id:
        linked = conn.execute(
            _upsert(conn, LINKS, ["unmapped_id", "message_id"],
                    {"unmapped_id": unmapped_id, "message_id": message_id}, {}).returning(LINKS.c.message_id)
        ).first()
        if linked is not None:  # a new link: one more distinct message
            conn.execute(update(UNMAPPED).where(UNMAPPED.c.id == unmapped_id).values(count=UNMAPPED.c.count + 1))
    return unmapped_id


def held_by(conn: Connection, source: str, field: str, local_value: str) -> tuple[str | None, list[str]]:
    """(unmapped id, held message ids) for a value, or (None, [])."""
    row = conn.execute(
        select(UNMAPPED.c.id).where(
            UNMAPPED.c.source == source, UNMAPPED.c.field == field, UNMAPPED.c.local_key == normalize_key(local_value)
        )
    ).first()
    if row is None:
        return None, []
    ids = [m for (m,) in conn.execute(select(LINKS.c.message_id).where(LINKS.c.unmapped_id == row.id))]
    return str(row.id), ids


def resolve(conn: Connection, unmapped_ids: Sequence[str]) -> None:
    """Remove resolved rows and their links (links first: no reliance on FK cascades)."""
    if unmapped_ids:
        conn.execute(delete(LINKS).where(LINKS.c.unmapped_id.in_(list(unmapped_ids))))
        conn.execute(delete(UNMAPPED).where(UNMAPPED.c.id.in_(list(unmapped_ids))))


def get(conn: Connection, unmapped_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(UNMAPPED).where(UNMAPPED.c.id == unmapped_id)).mappings().first()
    return dict(row) if row is not None else None


def queue(
    conn: Connection, source: str | None = None, field: str | None = None, offset: int = 0, count: int = 50
) -> tuple[int, list[dict[str, Any]]]:
    """The unmapped queue, most frequent first, with each row's held-message count."""
    where = []
    if source:
        where.append(UNMAPPED.c.source == source)
    if field:
        where.append(UNMAPPED.c.field == field)
    total = int(conn.execute(select(func.count()).select_from(UNMAPPED).where(*where)).scalar_one())
    held = (
        select(LINKS.c.unmapped_id, func.count().label("held")).group_by(LINKS.c.unmapped_id).subquery()
    )
    q = (
        select(UNMAPPED, func.coalesce(held.c.held, 0).label("held"))
        .select_from(UNMAPPED.outerjoin(held, held.c.unmapped_id == UNMAPPED.c.id))
        .where(*where)
        .order_by(UNMAPPED.c.count.desc(), UNMAPPED.c.last_seen.desc(), UNMAPPED.c.id)
        .offset(offset)
        .limit(count)
    )
    return total, [dict(r) for r in conn.execute(q).mappings()]


def stale(conn: Connection, limit: int = 1000) -> list[dict[str, Any]]:
    """Unmapped rows whose value has been mapped meanwhile (a save raced a worker): to be released."""
    from aiguillage.mappings.entries import ENTRIES

    q = (
        select(UNMAPPED.c.id)
        .select_from(
            UNMAPPED.join(
                ENTRIES,
                (ENTRIES.c.source == UNMAPPED.c.source)
                & (ENTRIES.c.field == UNMAPPED.c.field)
                & (ENTRIES.c.local_key == UNMAPPED.c.local_key),
            )
        )
        .limit(limit)
    )
    ids = [i for (i,) in conn.execute(q)]
    if not ids:
        return []
    links = conn.execute(select(LINKS.c.unmapped_id, LINKS.c.message_id).where(LINKS.c.unmapped_id.in_(ids)))
    out: dict[str, list[str]] = {i: [] for i in ids}
    for uid, mid in links:
        out[uid].append(mid)
    return [{"id": i, "message_ids": m} for i, m in out.items()]
