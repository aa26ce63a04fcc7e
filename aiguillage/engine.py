"""The running engine: store, bus, group committer, outbox relay, worker and handlers.

Built from validated settings; nothing connects until :meth:`Engine.start`. The API lifespan, the
CLI's ``serve`` and the tests all go through this one object.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiguillage import observability as obs
from aiguillage.config import Settings
from aiguillage.router.bus import Bus, MemoryBus
from aiguillage.router.handlers import HandlerRegistry
from aiguillage.router.outbox import OutboxRelay
from aiguillage.router.worker import Worker
from aiguillage.store import db, outbox
from aiguillage.store import messages as msgs
from aiguillage.store.checkpoint import Checkpointer
from aiguillage.store.groupcommit import GroupCommitter
from aiguillage.store.intake_sql import inbound_record
from aiguillage.store.messages import Envelope, MessageFilter, Stored

log = logging.getLogger(__name__)


def make_bus(settings: Settings) -> Bus:
    if settings.bus == "kafka":
        from aiguillage.router.kafka_bus import KafkaBus

        return KafkaBus(settings.kafka_bootstrap, client_id="aiguillage", partitions=settings.kafka_partitions)
    return MemoryBus(partitions=settings.kafka_partitions)


class Engine:
    def __init__(self, settings: Settings, *, bus: Bus | None = None) -> None:
        self.settings = settings
        self.db = db.make_engine(settings.effective_database_url)
        self.bus: Bus = bus if bus is not None else make_bus(settings)
        self.handlers = HandlerRegistry()
        self.relay = OutboxRelay(self.db, self.bus)
        self.committer = GroupCommitter(
            self.db,
            max_batch=settings.group_commit_max_batch,
            max_wait_ms=settings.group_commit_max_wait_ms,
            on_commit=self.relay.handoff,
        )
        self.worker = Worker(
            self.db, self.bus, self.handlers,
            max_attempts=settings.worker_max_attempts, backoff_s=settings.worker_backoff_s,
            linger_s=settings.worker_linger_ms / 1000.0,
            intake_idle_s=lambda: time.monotonic() - self.committer.last_submit,
            on_commit=self.relay.handoff,
        )
        self.checkpointer = Checkpointer(self.db)
        self.services: dict[str, Any] = {}  # per-service state: routers, viewers, registries
        self._started = False
        from aiguillage.services import install_services

        install_services(self)  # registers handlers and routers; connects nothing

    async def start(self, *, worker: bool | None = None, relay: bool = True, migrate: bool = True) -> None:
        if migrate:
            await asyncio.to_thread(db.migrate, self.db)
        await self.bus.start()
        self.checkpointer.start()
        await self.committer.start()
        if relay:
            await self.relay.start()
        for hook in self.services.get("startup", []):
            await hook()
        run_worker = worker if worker is not None else self.settings.role in ("all", "worker")
        if run_worker:
            await self.worker.start()
        self._started = True
        log.info(
            "engine started (store=%s, bus=%s, handlers=%s)",
            self.db.dialect.name, self.bus.name, ",".join(self.handlers.content_types()) or "-",
        )

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop every part, each within ``timeout_s``; a part that overruns is logged and left behind."""
        parts: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (f"service hook {i}", hook) for i, hook in enumerate(self.services.get("shutdown", []))
        ]
        parts += [("committer", self.committer.stop), ("worker", self.worker.stop),
                  ("relay", self.relay.stop), ("bus", self.bus.stop),
                  ("checkpointer", lambda: asyncio.to_thread(self.checkpointer.stop))]
        for name, stop in parts:
            try:
                await asyncio.wait_for(stop(), timeout_s)
            except TimeoutError:
                log.warning("engine stop: %s did not stop within %.0fs", name, timeout_s)
            except Exception:
                log.exception("engine stop: %s failed to stop", name)
        self.db.dispose()
        self._started = False

    # -- intake ----------------------------------------------------------------------------------

    async def intake(self, env: Envelope) -> Stored:
        """Store one inbound message durably (group-committed) and announce it to the workers."""
        stored = await self.committer.submit(env)
        if not stored.duplicate:
            obs.observe_received(env.channel, stored.status.value)
        return stored

    # -- operations on stored messages -----------------------------------------------------------

    def reprocess(self, ids: Sequence[str], *, force: bool = False, strict: bool = True) -> list[str]:
        """Queue messages again (HELD/ERROR/DEAD, or any with force); idempotent.

        With ``strict`` and a single id, a message that cannot move raises (404/409).
        """
        with db.write_lock(self.db), self.db.begin() as conn:
            moved = msgs.mark_for_reprocess(conn, ids, force=force, strict=strict)
            handed: list[outbox.Pending] = []
            if moved:
                rows = conn.execute(
                    msgs.TABLE.select().with_only_columns(
                        msgs.TABLE.c.id, msgs.TABLE.c.content_type, msgs.TABLE.c.correlation_key
                    ).where(msgs.TABLE.c.id.in_(moved))
                ).all()
                handed = outbox.add(conn, [inbound_record(r.id, r.content_type, r.correlation_key) for r in rows])
        self.relay.handoff(handed)
        return moved

    def reprocess_matching(self, flt: MessageFilter, *, force: bool = False, limit: int = 10_000) -> list[str]:
        with self.db.connect() as conn:
            ids = msgs.ids_matching(conn, flt, limit)
        return self.reprocess(ids, force=force, strict=False) if ids else []
