"""The outbox relay: publishes committed outbox rows to the bus, then deletes them.

Woken right after each commit (and every ``poll_s`` anyway). When the bus fails, rows stay and are
published again later, with backoff. Two sweeps keep at-least-once honest even when the bus loses
records it had acknowledged (tansu forgets everything on restart): messages in ERROR whose retry
time has come, and messages still RECEIVED long after their receipt, are re-announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from aiguillage.errors import BusError
from aiguillage.router.bus import Bus
from aiguillage.router.topics import Topic
from aiguillage.store import db
from aiguillage.store import messages as msgs
from aiguillage.store import outbox
from aiguillage.store.base import utcnow
from aiguillage.store.groupcommit import inbound_record_value
from aiguillage.store.messages import MessageStatus

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self, engine: Engine, bus: Bus, *, batch: int = 500, poll_s: float = 1.0,
        sweep_s: float = 5.0, stale_after_s: float = 30.0,
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.batch = batch
        self.poll_s = poll_s
        self.sweep_s = sweep_s
        self.stale_after_s = stale_after_s
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.failures = 0

    def wake(self, *_: object) -> None:
        self._event.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.drain(), timeout=2.0)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = 0.1
        next_sweep = time.monotonic()  # sweep once at start: recovers what a crash left behind
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), self.poll_s)
            self._event.clear()
            try:
                if time.monotonic() >= next_sweep:
                    await asyncio.to_thread(self.sweep)
                    next_sweep = time.monotonic() + self.sweep_s
                await self.drain()
                backoff = 0.1
            except BusError as exc:
                self.failures += 1
                log.warning("outbox relay: bus unavailable (%s); retrying in %.1fs", exc.code, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self._event.set()
            except Exception:
                self.failures += 1
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self._event.set()

    async def drain(self) -> int:
        """Publish everything pending now; returns the number of records published."""
        total = 0
        while True:
            rows = await asyncio.to_thread(outbox.pending, self.engine, self.batch)
            if not rows:
                return total
            try:
                await self.bus.publish([r for _, r in rows])
            except BusError:
                raise
            except Exception as exc:
                raise BusError(f"publish failed: {exc.__class__.__name__}", "BUS-0002") from exc
            await asyncio.to_thread(outbox.remove, self.engine, [i for i, _ in rows])
            total += len(rows)
            self.published += len(rows)

    def sweep(self) -> int:
        """Re-announce due ERROR retries and stale RECEIVED messages; returns how many."""
        t = msgs.TABLE
        now = utcnow()
        stale = now - timedelta(seconds=self.stale_after_s)
        q = (
            select(t.c.id, t.c.content_type, t.c.correlation_key, t.c.status)
            .where(
                ((t.c.status == MessageStatus.ERROR.value) & (t.c.next_attempt_at <= now))
                | ((t.c.status == MessageStatus.RECEIVED.value) & (t.c.updated_at < stale))
            )
            .limit(self.batch)
        )
        with db.write_lock(self.engine), self.engine.begin() as conn:
            rows = conn.execute(q).all()
            if not rows:
                return 0
            ids = [r.id for r in rows]
            # guard: if the bus loses this announcement too, the message comes round again
            again = now + timedelta(seconds=self.stale_after_s)
            conn.execute(update(t).where(t.c.id.in_(ids)).values(updated_at=now, next_attempt_at=again))
            conn.execute(
                insert(outbox.TABLE),
                [
                    {"topic": Topic.INBOUND.value, "key": r.correlation_key or r.id,
                     "value": inbound_record_value(r.id, r.content_type), "created_at": now}
                    for r in rows
                ],
            )
        log.info("outbox relay: re-announced %d message(s)", len(rows))
        self._event.set()
        return len(rows)
