"""Helpers for the mapping tests: a tiny format handler for a test content type, and waiting."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy.engine import Connection

from aiguillage.engine import Engine
from aiguillage.mappings import MappingContext
from aiguillage.router.handlers import InboundMessage, Outcome
from aiguillage.store import messages as msgs
from aiguillage.store.messages import MessageStatus

LOCAL_CODES = "application/x-local-codes"


def local_codes_handler(msg: InboundMessage, conn: Connection) -> Outcome:
    """Body: JSON {"source": ..., "document_type": ..., "activite": ...}; translates both fields."""
    body = json.loads(msg.raw)
    ctx = MappingContext(conn, msg.id)
    doc = ctx.translate(body["source"], "document-type", body["document_type"], target_system="JDV_J07")
    act = None
    if "activite" in body:
        act = ctx.translate(body["source"], "activite", body["activite"], target_system="TRE_R211")
    held = ctx.outcome_if_missing()
    if held is not None:
        return held
    assert doc is not None
    meta: dict[str, Any] = {"document_type": [doc.system, doc.code]}
    if act is not None:
        meta["activite"] = [act.system, act.code]
    return Outcome(MessageStatus.PROCESSED, meta=meta)


async def wait_status(engine: Engine, message_id: str, status: MessageStatus, timeout: float = 15.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        row = await asyncio.to_thread(msgs.get, engine.db, message_id)
        if row["status"] == status.value:
            return row
        if loop.time() > deadline:
            raise AssertionError(f"message {message_id} is {row['status']}, expected {status.value}")
        await asyncio.sleep(0.02)
