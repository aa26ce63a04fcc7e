"""The outbox relay: publishes committed outbox rows to the bus, then deletes them.

Fast path: writers hand the (id, record) pairs they just committed to :meth:`OutboxRelay.handoff`;
the relay publishes them in order without reading them back, and deletes published rows in one
transaction every ``cleanup_s`` (a crash in between only means a re-publication, which consumers
absorb). Recovery path: a scan of the table at start and every ``scan_s`` publishes rows nobody
handed over (a crash, another process, a bus outage that outlived the hand-over).

When the bus fails, nothing is dropped: the pairs stay in hand and the rows stay in the table, and
publishing resumes with backoff. Two sweeps keep at-least-once honest even when the bus loses
records it had acknowledged (tansu forgets everything on restart): messages in ERROR whose retry
time has come, and messages still RECEIVED long after their receipt, are announced again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from aiguillage.errors import BusError
from aiguillage.router.bus import Bus
from aiguillage.store import db, outbox
from aiguillage.store import messages as msgs
from aiguillage.store.base import utcnow
from aiguillage.store.intake_sql import inbound_record
from aiguillage.store.messages import MessageStatus

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self, engine: Engine, bus: Bus, *, batch: int = 1000, poll_s: float = 1.0, scan_s: float = 2.0,
        scan_min_age_s: float = 2.0, cleanup_s: float = 0.25, sweep_s: float = 5.0, stale_after_s: float = 30.0,
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.batch = batch
        self.poll_s = poll_s
        self.scan_s = scan_s
        self.scan_min_age_s = scan_min_age_s  # rows younger than this belong to their writer's fast path
        self.cleanup_s = cleanup_s
        self.sweep_s = sweep_s
        self.stale_after_s = stale_after_s
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = threading.Lock()
        self._handed: deque[outbox.Pending] = deque()
        self._in_hand: set[str] = set()  # handed over or scanned, not yet published
        self._published: list[str] = []  # published, row not yet deleted
        self._published_set: set[str] = set()
        self._scan_all = False  # a wake(): rows were written without a hand-over
        self._started_at: datetime | None = None  # the first scan takes every row written before this
        self.published = 0
        self.failures = 0

    # -- inputs ----------------------------------------------------------------------------------

    def handoff(self, pairs: Sequence[outbox.Pending]) -> None:
        """Committed outbox rows to publish now. Safe to call from any thread."""
        if pairs:
            with self._lock:
                self._handed.extend(pairs)
                self._in_hand.update(i for i, _ in pairs)
        self._notify()

    def wake(self, *_: object) -> None:
        """Rows were written without a hand-over: scan the whole table soon."""
        self._scan_all = True
        self._notify()

    def _notify(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._event.set()
        else:
            loop.call_soon_threadsafe(self._event.set)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._started_at = utcnow()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.drain(), timeout=2.0)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._loop = None

    async def _run(self) -> None:
        backoff = 0.1
        now = time.monotonic()
        next_sweep = now  # sweep and scan once at start: recovers what a crash left behind
        next_scan = now + self.scan_s
        recovering = True
        next_cleanup = now + self.cleanup_s
        while True:
            if not self._handed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._event.wait(), min(self.poll_s, self.cleanup_s))
            self._event.clear()
            try:
                if recovering:
                    await self.scan(recovery=True)
                    recovering = False
                await self.publish_handed()
                now = time.monotonic()
                if now >= next_sweep:
                    await asyncio.to_thread(self.sweep)
                    next_sweep = now + self.sweep_s
                if self._scan_all or now >= next_scan:
                    await self.scan()
                    next_scan = now + self.scan_s
                if self._published and (now >= next_cleanup or len(self._published) >= self.batch):
                    await self.cleanup()
                    next_cleanup = time.monotonic() + self.cleanup_s
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

    # -- steps -------------------------------------------------------------------------------------

    async def _publish(self, pairs: list[outbox.Pending]) -> None:
        try:
            await self.bus.publish([r for _, r in pairs])
        except BusError:
            raise
        except Exception as exc:
            raise BusError(f"publish failed: {exc.__class__.__name__}", "BUS-0002") from exc
        with self._lock:
            for i, _ in pairs:
                self._in_hand.discard(i)
                if i not in self._published_set:
                    self._published_set.add(i)
                    self._published.append(i)
        self.published += len(pairs)

    async def publish_handed(self) -> int:
        """Publish what writers handed over, in order; on failure it stays in hand."""
        total = 0
        while self._handed:
            with self._lock:
                pairs = [self._handed[i] for i in range(min(self.batch, len(self._handed)))]
            await self._publish(pairs)
            with self._lock:
                for _ in pairs:
                    self._handed.popleft()
            total += len(pairs)
        return total

    async def scan(self, *, recovery: bool = False) -> int:
        """Publish rows found in the table that nobody handed over (crash, outage, other writer).

        ``recovery`` (at start): every row written before the relay started. After a ``wake()``:
        every row. Otherwise: rows older than ``scan_min_age_s`` (younger ones belong to the fast
        path of the process that wrote them). Rows handed over meanwhile are left to the hand-over.
        """
        scan_all, self._scan_all = self._scan_all, False
        total = 0
        while True:
            with self._lock:
                skip = self._in_hand | self._published_set
            found = await asyncio.to_thread(
                outbox.pending, self.engine, self.batch, skip=skip,
                older_than_s=None if (scan_all or recovery) else self.scan_min_age_s,
                created_before=self._started_at if recovery and not scan_all else None,
            )
            with self._lock:  # handed over while the query ran: the hand-over publishes them
                found = [(i, r) for i, r in found if i not in self._in_hand and i not in self._published_set]
            if not found:
                return total
            await self._publish(found)
            total += len(found)

    async def cleanup(self) -> None:
        with self._lock:
            ids, self._published = self._published, []
        await asyncio.to_thread(outbox.remove, self.engine, ids)
        with self._lock:
            self._published_set.difference_update(ids)

    async def drain(self) -> int:
        """Publish everything pending now (handed over or in the table) and delete it."""
        total = await self.publish_handed()
        self._scan_all = True  # stopping: whatever is left goes out (consumers absorb duplicates)
        total += await self.scan()
        if self._published:
            await self.cleanup()
        return total

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
            pairs = outbox.add(conn, [inbound_record(r.id, r.content_type, r.correlation_key) for r in rows])
        log.info("outbox relay: re-announced %d message(s)", len(rows))
        self.handoff(pairs)
        return len(rows)
