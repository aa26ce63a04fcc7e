"""Messages API: list, show (masked unless the client has messages:phi), reprocess, purge."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from aiguillage.api.deps import get_engine, require_scope
from aiguillage.engine import Engine
from aiguillage.errors import AuthError, InputError
from aiguillage.store import messages as msgs
from aiguillage.store.clients import Principal
from aiguillage.store.messages import MessageFilter, MessageStatus

router = APIRouter(prefix="/messages", tags=["messages"])

TERMINAL = (MessageStatus.PROCESSED.value, MessageStatus.REJECTED.value, MessageStatus.DEAD.value)


class ReprocessFilter(BaseModel):
    ids: list[str] = Field(default_factory=list, max_length=10_000)
    status: list[MessageStatus] = Field(default_factory=list)
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    force: bool = False


def _statuses(status: list[str]) -> list[str]:
    out: list[str] = []
    for s in status:
        for part in s.split(","):
            p = part.strip().upper()
            if not p:
                continue
            if p not in MessageStatus.__members__:
                raise InputError(f"unknown status {part!r}; one of {', '.join(MessageStatus)}", "INP-0101")
            out.append(p)
    return out


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "channel": row["channel"], "source": row["source"],
        "content_type": row["content_type"], "message_type": row["message_type"],
        "control_id": row["control_id"], "status": row["status"],
        "error_codes": [c for c in row["error_codes"].split(",") if c], "error_text": row["error_text"],
        "attempts": row["attempts"], "received_at": row["received_at"].isoformat() + "Z",
        "updated_at": row["updated_at"].isoformat() + "Z", "size": row.get("size"),
    }


@router.get("")
async def list_messages(
    status: list[str] = Query(default=[]),
    channel: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    message_type: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    before: str | None = Query(default=None, description="page: id of the last message seen"),
    engine: Engine = Depends(get_engine),
    _: Principal = Depends(require_scope("messages:read")),
) -> dict[str, Any]:
    flt = MessageFilter(_statuses(status), channel, _naive(since), _naive(until), message_type)
    rows = await asyncio.to_thread(msgs.list_messages, engine.db, flt, limit, before)
    items = [_summary(r) for r in rows]
    return {"items": items, "next": items[-1]["id"] if len(items) == limit else None}


@router.get("/{message_id}")
async def show_message(
    message_id: str,
    unmask: bool = False,
    engine: Engine = Depends(get_engine),
    who: Principal = Depends(require_scope("messages:read")),
) -> dict[str, Any]:
    if unmask and not who.has("messages:phi"):
        raise AuthError("unmasking personal data needs the messages:phi scope", "AUTH-0002", 403)
    row = await asyncio.to_thread(msgs.get, engine.db, message_id)
    out = _summary({**row, "size": len(row["raw"])})
    out["meta"] = json.loads(row["meta"] or "{}")
    viewer = engine.services.get("viewers", {}).get(row["content_type"])
    if viewer is not None:
        out.update(viewer(row["raw"], unmask))
    else:
        out["raw"] = row["raw"].decode("utf-8", "replace") if unmask else None
        out["masked"] = not unmask
    return out


@router.post("/{message_id}/reprocess")
async def reprocess_one(
    message_id: str,
    force: bool = False,
    engine: Engine = Depends(get_engine),
    _: Principal = Depends(require_scope("admin")),
) -> dict[str, Any]:
    moved = await asyncio.to_thread(engine.reprocess, [message_id], force=force)
    return {"queued": moved}


@router.post("/reprocess")
async def reprocess_many(
    body: ReprocessFilter,
    engine: Engine = Depends(get_engine),
    _: Principal = Depends(require_scope("admin")),
) -> dict[str, Any]:
    if body.ids:
        moved = await asyncio.to_thread(engine.reprocess, body.ids, force=body.force, strict=False)
    else:
        if not (body.status or body.channel or body.since or body.until):
            raise InputError("give ids or at least one filter (status, channel, since, until)", "INP-0102")
        flt = MessageFilter([s.value for s in body.status], body.channel, _naive(body.since), _naive(body.until))
        moved = await asyncio.to_thread(engine.reprocess_matching, flt, force=body.force)
    return {"queued": moved, "count": len(moved)}


@router.delete("")
async def purge(
    older_than_days: int | None = Query(default=None, ge=1),
    status: list[str] = Query(default=[]),
    engine: Engine = Depends(get_engine),
    _: Principal = Depends(require_scope("admin")),
) -> dict[str, Any]:
    days = older_than_days or engine.settings.retention_days
    statuses = _statuses(status) or list(TERMINAL)
    bad = [s for s in statuses if s not in TERMINAL]
    if bad:
        raise InputError(f"only terminal statuses can be purged ({', '.join(TERMINAL)}), not {bad}", "INP-0103")
    n = await asyncio.to_thread(msgs.purge_older_than, engine.db, days, statuses)
    return {"deleted": n, "older_than_days": days, "status": statuses}


def _naive(d: datetime | None) -> datetime | None:
    if d is None or d.tzinfo is None:
        return d
    from datetime import UTC

    return d.astimezone(UTC).replace(tzinfo=None)
