"""The mapping-tables aggregate: one table per (source, field) with its settings and version, and
its entries (local value -> target system/code/display).

The table's ``version`` is bumped on every change; its ``id`` is a fresh random id, so a cache
keyed on (id, version) can never confuse two databases or a re-created table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, String, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from aiguillage.mappings.normalize import normalize_key
from aiguillage.store.base import new_id, utcnow


class MappingTable(SQLModel, table=True):
    __tablename__ = "mapping_tables"
    __table_args__ = (Index("ux_mapping_tables_source_field", "source", "field", unique=True),)

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    source: str = Field(max_length=64)
    field: str = Field(max_length=64)
    target_system: str = Field(default="", max_length=255)  # suggestions are drawn from this system
    version: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    updated_by: str = Field(default="", max_length=128)


class MappingEntry(SQLModel, table=True):
    __tablename__ = "mapping_entries"
    __table_args__ = (Index("ux_mapping_entries_key", "source", "field", "local_key", unique=True),)

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    source: str = Field(max_length=64)
    field: str = Field(max_length=64)
    local_key: str = Field(max_length=255)  # normalize_key(local_value)
    local_value: str = Field(max_length=255)  # as first saved
    target_system: str = Field(max_length=255)  # canonical URL
    target_code: str = Field(max_length=64)
    target_display: str = Field(default="", max_length=1024)
    version: int = Field(default=0)  # the table version this entry was last changed in
    updated_by: str = Field(default="", max_length=128)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))


TABLES = MappingTable.__table__  # type: ignore[attr-defined]
ENTRIES = MappingEntry.__table__  # type: ignore[attr-defined]

LIMITS = {"source": 64, "field": 64, "local_value": 255, "target_system": 255, "target_code": 64,
          "target_display": 1024}


@dataclass(frozen=True, slots=True)
class Target:
    system: str
    code: str
    display: str

    def as_dict(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


# --- tables -------------------------------------------------------------------------------------


def get_table(conn: Connection, source: str, field: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(TABLES).where(TABLES.c.source == source, TABLES.c.field == field)
    ).mappings().first()
    return dict(row) if row is not None else None


def table_stamp(conn: Connection, source: str, field: str) -> tuple[str, int] | None:
    """(id, version) of a table: what a cache checks before trusting its copy."""
    row = conn.execute(
        select(TABLES.c.id, TABLES.c.version).where(TABLES.c.source == source, TABLES.c.field == field)
    ).first()
    return (row.id, int(row.version)) if row is not None else None


def ensure_table(conn: Connection, source: str, field: str, target_system: str = "", actor: str = "") -> None:
    """Create the table row if missing (concurrent creators are fine: the unique index decides)."""
    if table_stamp(conn, source, field) is not None:
        return
    now = utcnow()
    values = {"id": new_id(), "source": source, "field": field, "target_system": target_system,
              "version": 0, "created_at": now, "updated_at": now, "updated_by": actor}
    conn.execute(_insert_ignore(conn, TABLES, ["source", "field"]).values(**values))


def _insert_ignore(conn: Connection, table: Any, keys: list[str]) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=keys)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)


def bump_version(conn: Connection, source: str, field: str, actor: str) -> int:
    """Increment the table version (the row is created if needed); returns the new version."""
    ensure_table(conn, source, field, actor=actor)
    new = conn.execute(
        update(TABLES)
        .where(TABLES.c.source == source, TABLES.c.field == field)
        .values(version=TABLES.c.version + 1, updated_at=utcnow(), updated_by=actor)
        .returning(TABLES.c.version)
    ).scalar_one()
    return int(new)


def set_target_system(conn: Connection, source: str, field: str, target_system: str, actor: str) -> int:
    ensure_table(conn, source, field, actor=actor)
    conn.execute(
        update(TABLES).where(TABLES.c.source == source, TABLES.c.field == field).values(target_system=target_system)
    )
    return bump_version(conn, source, field, actor)


def list_tables(conn: Connection) -> list[dict[str, Any]]:
    from aiguillage.mappings.unmapped import UNMAPPED

    entry_counts = {
        (s, f): n
        for s, f, n in conn.execute(
            select(ENTRIES.c.source, ENTRIES.c.field, func.count()).group_by(ENTRIES.c.source, ENTRIES.c.field)
        )
    }
    unmapped_counts = {
        (s, f): (int(n), int(h or 0))
        for s, f, n, h in conn.execute(
            select(UNMAPPED.c.source, UNMAPPED.c.field, func.count(), func.sum(UNMAPPED.c.count))
            .group_by(UNMAPPED.c.source, UNMAPPED.c.field)
        )
    }
    out = []
    for row in conn.execute(select(TABLES).order_by(TABLES.c.source, TABLES.c.field)).mappings():
        key = (row["source"], row["field"])
        un, seen = unmapped_counts.get(key, (0, 0))
        out.append({
            "source": row["source"], "field": row["field"], "target_system": row["target_system"] or None,
            "version": row["version"], "entries": int(entry_counts.get(key, 0)), "unmapped": un,
            "unmapped_occurrences": seen, "updated_at": row["updated_at"], "updated_by": row["updated_by"],
        })
    return out


# --- entries ------------------------------------------------------------------------------------


def load_targets(conn: Connection, source: str, field: str) -> dict[str, Target]:
    """Every entry of one table as ``local_key -> Target`` (what the translate cache holds)."""
    rows = conn.execute(
        select(ENTRIES.c.local_key, ENTRIES.c.target_system, ENTRIES.c.target_code, ENTRIES.c.target_display)
        .where(ENTRIES.c.source == source, ENTRIES.c.field == field)
    )
    return {r.local_key: Target(r.target_system, r.target_code, r.target_display) for r in rows}


def get_entry(conn: Connection, source: str, field: str, local_value: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(ENTRIES).where(
            ENTRIES.c.source == source, ENTRIES.c.field == field, ENTRIES.c.local_key == normalize_key(local_value)
        )
    ).mappings().first()
    return dict(row) if row is not None else None


def upsert_entry(
    conn: Connection, source: str, field: str, local_value: str, target: Target, version: int, actor: str
) -> None:
    key = normalize_key(local_value)
    now = utcnow()
    moved = conn.execute(
        update(ENTRIES)
        .where(ENTRIES.c.source == source, ENTRIES.c.field == field, ENTRIES.c.local_key == key)
        .values(target_system=target.system, target_code=target.code, target_display=target.display,
                version=version, updated_by=actor, updated_at=now)
    ).rowcount
    if not moved:
        conn.execute(
            insert(ENTRIES).values(
                id=new_id(), source=source, field=field, local_key=key, local_value=local_value.strip(),
                target_system=target.system, target_code=target.code, target_display=target.display,
                version=version, updated_by=actor, updated_at=now,
            )
        )


def delete_entry(conn: Connection, source: str, field: str, local_value: str) -> int:
    q = delete(ENTRIES).where(
        ENTRIES.c.source == source, ENTRIES.c.field == field, ENTRIES.c.local_key == normalize_key(local_value)
    )
    return int(conn.execute(q).rowcount or 0)


def list_entries(
    conn: Connection, source: str, field: str, offset: int = 0, count: int = 50, filter: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    where = [ENTRIES.c.source == source, ENTRIES.c.field == field]
    if filter:
        where.append(ENTRIES.c.local_key.contains(normalize_key(filter), autoescape=True))
    total = int(conn.execute(select(func.count()).select_from(ENTRIES).where(*where)).scalar_one())
    rows = conn.execute(
        select(ENTRIES).where(*where).order_by(ENTRIES.c.local_key).offset(offset).limit(count)
    ).mappings()
    return total, [entry_dict(dict(r)) for r in rows]


def all_entries(conn: Connection, source: str | None = None) -> list[dict[str, Any]]:
    q = select(ENTRIES)
    if source is not None:
        q = q.where(ENTRIES.c.source == source)
    q = q.order_by(ENTRIES.c.source, ENTRIES.c.field, ENTRIES.c.local_key)
    return [dict(r) for r in conn.execute(q).mappings()]


def entry_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": row["source"], "field": row["field"], "local_value": row["local_value"],
        "target": {"system": row["target_system"], "code": row["target_code"], "display": row["target_display"]},
        "version": row["version"], "updated_by": row["updated_by"], "updated_at": row["updated_at"],
    }
