"""The audit trail of the mapping tables: who changed what, when, old -> new. Append-only."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, func, insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from aiguillage.mappings.entries import Target
from aiguillage.store.base import utcnow


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SETTINGS = "settings"  # table target system changed


class MappingAudit(SQLModel, table=True):
    __tablename__ = "mapping_audit"
    __table_args__ = (Index("ix_mapping_audit_table", "source", "field", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    )
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    actor: str = Field(max_length=128)
    action: str = Field(max_length=16)
    source: str = Field(max_length=64)
    field: str = Field(max_length=64)
    local_value: str = Field(default="", max_length=255)
    old_system: str = Field(default="", max_length=255)
    old_code: str = Field(default="", max_length=64)
    old_display: str = Field(default="", max_length=1024)
    new_system: str = Field(default="", max_length=255)
    new_code: str = Field(default="", max_length=64)
    new_display: str = Field(default="", max_length=1024)
    version: int = Field(default=0)  # table version after the change
    released: int = Field(default=0)  # held messages queued again by this change


AUDIT = MappingAudit.__table__  # type: ignore[attr-defined]


def add(
    conn: Connection,
    *,
    actor: str,
    action: AuditAction,
    source: str,
    field: str,
    local_value: str = "",
    old: Target | None = None,
    new: Target | None = None,
    version: int = 0,
) -> int:
    values: dict[str, Any] = {
        "at": utcnow(), "actor": actor[:128], "action": action.value, "source": source, "field": field,
        "local_value": local_value, "version": version, "released": 0,
        "old_system": old.system if old else "", "old_code": old.code if old else "",
        "old_display": old.display if old else "",
        "new_system": new.system if new else "", "new_code": new.code if new else "",
        "new_display": new.display if new else "",
    }
    return int(conn.execute(insert(AUDIT).values(**values).returning(AUDIT.c.id)).scalar_one())


def set_released(conn: Connection, audit_id: int, released: int) -> None:
    conn.execute(AUDIT.update().where(AUDIT.c.id == audit_id).values(released=released))


def history(
    conn: Connection,
    source: str | None = None,
    field: str | None = None,
    local_value: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Newest first; ``before`` pages on the audit id."""
    where = []
    if source:
        where.append(AUDIT.c.source == source)
    if field:
        where.append(AUDIT.c.field == field)
    if local_value is not None:
        where.append(AUDIT.c.local_value == local_value)
    total = int(conn.execute(select(func.count()).select_from(AUDIT).where(*where)).scalar_one())
    if before is not None:
        where.append(AUDIT.c.id < before)
    rows = conn.execute(select(AUDIT).where(*where).order_by(AUDIT.c.id.desc()).limit(limit)).mappings()
    return total, [audit_dict(dict(r)) for r in rows]


def _target(system: str, code: str, display: str) -> dict[str, str] | None:
    return {"system": system, "code": code, "display": display} if system or code else None


def audit_dict(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"], "at": r["at"], "actor": r["actor"], "action": r["action"], "source": r["source"],
        "field": r["field"], "local_value": r["local_value"],
        "old": _target(r["old_system"], r["old_code"], r["old_display"]),
        "new": _target(r["new_system"], r["new_code"], r["new_display"]),
        "version": r["version"], "released": r["released"],
    }
