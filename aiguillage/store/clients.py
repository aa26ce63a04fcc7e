"""API clients: named, scoped bearer tokens stored hashed (SHA-256 of a 256-bit random token)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from aiguillage.errors import ConflictError, InputError, NotFoundError
from aiguillage.store.base import utcnow

SCOPES: frozenset[str] = frozenset(
    {"intake", "messages:read", "messages:phi", "ror:read", "ror:write", "mappings:admin", "dmp", "rcp", "admin"}
)
TOKEN_PREFIX = "agl_"


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_clients"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    name: str = Field(max_length=128, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(max_length=1024)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime, nullable=False))
    disabled: bool = Field(default=False)


TABLE = ApiClient.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(text: str) -> frozenset[str]:
    scopes = frozenset(s.strip() for s in text.replace(" ", ",").split(",") if s.strip())
    unknown = sorted(scopes - SCOPES)
    if unknown or not scopes:
        raise InputError(
            f"unknown scope(s): {', '.join(unknown) or '(none given)'}; known: {', '.join(sorted(SCOPES))}",
            "AUTH-0010",
        )
    return scopes


def add_client(engine: Engine, name: str, scopes: frozenset[str]) -> str:
    """Create a client and return its token (shown once, stored hashed)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(TABLE).values(
                    name=name, token_hash=hash_token(token), scopes=",".join(sorted(scopes)),
                    created_at=utcnow(), disabled=False,
                )
            )
    except IntegrityError as exc:
        raise ConflictError(f"a client named {name!r} already exists", "CONF-0201") from exc
    return token


def authenticate(engine: Engine, token: str) -> Principal | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(TABLE.c.name, TABLE.c.scopes, TABLE.c.disabled).where(TABLE.c.token_hash == hash_token(token))
        ).first()
    if row is None or row.disabled:
        return None
    return Principal(row.name, frozenset(row.scopes.split(",")))


def list_clients(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(TABLE.c.name, TABLE.c.scopes, TABLE.c.created_at, TABLE.c.disabled))
        return [dict(r._mapping) for r in rows]


def disable_client(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        n = conn.execute(update(TABLE).where(TABLE.c.name == name).values(disabled=True)).rowcount
    if not n:
        raise NotFoundError(f"no client named {name!r}", "NF-0201")
