"""The worker: consumes message ids from the inbound topic and runs the format handlers.

At-least-once in, idempotent effect: a message is processed only while its status is RECEIVED or
ERROR, and the status change is guarded in the same transaction as the handler's writes and the
outbox events, so a redelivered id (after a crash or a broker restart) changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from aiguillage import observability as obs
from aiguillage.errors import EngineError
from aiguillage.router.bus import Bus, Record, Subscription
from aiguillage.router.handlers import HandlerRegistry, InboundMessage, Outcome
from aiguillage.router.topics import WORKER_GROUP, Topic
from aiguillage.store import db
from aiguillage.store import messages as msgs
from aiguillage.store import outbox
from aiguillage.store.base import utcnow
from aiguillage.store.messages import MessageStatus

log = logging.getLogger(__name__)

_PROCESSABLE = (MessageStatus.RECEIVED.value, MessageStatus.ERROR.value)


class _Lost(Exception):
    """Another worker changed the message first; roll back this one's effects."""


class Worker:
    def __init__(
        self,
        engine: Engine,
        bus: Bus,
        handlers: HandlerRegistry,
        *,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.on_commit = on_commit
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker")
        self._sub: Subscription | None = None
        self.processed = 0

    async def start(self) -> None:
        self._sub = self.bus.subscribe([Topic.INBOUND.value], WORKER_GROUP, self._on_batch)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.stop()
            self._sub = None
        self._pool.shutdown(wait=True)

    async def _on_batch(self, records: Sequence[Record]) -> None:
        ids: list[str] = []
        for rec in records:
            try:
                ids.append(str(json.loads(rec.value)["id"]))
            except (ValueError, KeyError, TypeError):
                log.warning("ignoring malformed inbound record on %s (offset %s)", rec.topic, rec.offset)
        if ids:
            await asyncio.get_running_loop().run_in_executor(self._pool, self.process_ids, ids)
            if self.on_commit is not None:
                self.on_commit()

    # -- synchronous processing (worker thread) -------------------------------------------------

    def process_ids(self, ids: list[str]) -> int:
        """Process the given message ids; returns how many changed status."""
        unique = list(dict.fromkeys(ids))
        t = msgs.TABLE
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.id.in_(unique), t.c.status.in_(_PROCESSABLE))).mappings()
            by_id = {r["id"]: dict(r) for r in rows}
        todo = [by_id[i] for i in unique if i in by_id]
        if not todo:
            return 0
        try:
            with db.write_lock(self.engine), self.engine.begin() as conn:
                for row in todo:
                    self._process(conn, row, isolate=False)
            done = len(todo)
        except Exception:
            # one message failed in a way that needs isolation: redo them one by one
            done = 0
            for row in todo:
                try:
                    with db.write_lock(self.engine), self.engine.begin() as conn:
                        self._process(conn, row, isolate=True)
                    done += 1
                except _Lost:
                    continue
                except Exception as exc:
                    self._record_failure(row, exc)
                    done += 1
        self.processed += done
        return done

    def _process(self, conn: Connection, row: dict[str, Any], *, isolate: bool) -> None:
        msg = _inbound(row)
        handler = self.handlers.get(msg.content_type)
        started = time.perf_counter()
        if handler is None:
            outcome = Outcome(MessageStatus.REJECTED, error_codes=["RTR-0001"],
                              error_text=f"no handler for content type {msg.content_type}")
        else:
            try:
                outcome = handler(msg, conn)
            except EngineError as exc:
                if exc.retryable:
                    raise
                outcome = Outcome(MessageStatus.REJECTED, error_codes=[exc.code], error_text=exc.message)
        moved = conn.execute(
            update(msgs.TABLE)
            .where(msgs.TABLE.c.id == msg.id, msgs.TABLE.c.status.in_(_PROCESSABLE))
            .values(
                status=outcome.status.value,
                error_codes=",".join(outcome.error_codes)[:1024],
                error_text=outcome.error_text[:4000],
                updated_at=utcnow(),
                next_attempt_at=None,
                attempts=msg.attempts + 1,
                **({"meta": json.dumps(outcome.meta, separators=(",", ":"))[:8000]} if outcome.meta else {}),
            )
        ).rowcount
        if not moved:
            raise _Lost(msg.id)
        outbox.add(conn, outcome.events)
        obs.observe_processed(msg.channel, msg.content_type, outcome.status.value,
                              time.perf_counter() - started, row["received_at"])

    def _record_failure(self, row: dict[str, Any], exc: BaseException) -> None:
        attempts = int(row["attempts"]) + 1
        code = exc.code if isinstance(exc, EngineError) else "RTR-0002"
        text = exc.message if isinstance(exc, EngineError) else f"handler failed: {exc.__class__.__name__}"
        log.warning("message %s failed (attempt %d/%d): %s", row["id"], attempts, self.max_attempts, code)
        with db.write_lock(self.engine), self.engine.begin() as conn:
            if attempts >= self.max_attempts:
                msgs.set_outcome(conn, row["id"], MessageStatus.DEAD, error_codes=[code], error_text=text,
                                 attempts=attempts)
                dlq = {"id": row["id"], "channel": row["channel"], "code": code, "attempts": attempts}
                outbox.add(conn, [Record(Topic.DLQ.value, row.get("correlation_key") or row["id"],
                                         json.dumps(dlq).encode())])
                obs.observe_processed(row["channel"], row["content_type"], MessageStatus.DEAD.value, 0.0, None)
            else:
                delay = self.backoff_s * (2 ** (attempts - 1))
                msgs.set_outcome(conn, row["id"], MessageStatus.ERROR, error_codes=[code], error_text=text,
                                 attempts=attempts, next_attempt_at=utcnow() + timedelta(seconds=delay))
                obs.observe_processed(row["channel"], row["content_type"], MessageStatus.ERROR.value, 0.0, None)


def _inbound(row: dict[str, Any]) -> InboundMessage:
    try:
        meta = json.loads(row.get("meta") or "{}")
    except ValueError:
        meta = {}
    return InboundMessage(
        id=row["id"], channel=row["channel"], source=row["source"], content_type=row["content_type"],
        raw=row["raw"], message_type=row["message_type"], control_id=row["control_id"],
        correlation_key=row["correlation_key"], attempts=int(row["attempts"]), meta=meta,
    )
