"""The running engine: store, bus, group committer, outbox relay, worker and handlers.

Built from validated settings; nothing connects until :meth:`Engine.start`. The API lifespan, the
CLI's ``serve`` and the tests all go through this one object.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from aiguillage import observability as obs
from aiguillage.config import Settings
from aiguillage.router.bus import Bus, MemoryBus
from aiguillage.router.handlers import HandlerRegistry
from aiguillage.router.outbox import OutboxRelay
from aiguillage.router.topics import Topic
from aiguillage.router.worker import Worker
from aiguillage.store import db, outbox
from aiguillage.store import messages as msgs
from aiguillage.store.base import utcnow
from aiguillage.store.groupcommit import GroupCommitter, inbound_record_value
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
            on_commit=self.relay.wake,
        )
        self.worker = Worker(
            self.db, self.bus, self.handlers,
            max_attempts=settings.worker_max_attempts, backoff_s=settings.worker_backoff_s,
            on_commit=self.relay.wake,
        )
        self.services: dict[str, Any] = {}  # per-service state: routers, viewers, registries
        self._started = False
        from aiguillage.services import install_services

        install_services(self)  # registers handlers and routers; connects nothing

    async def start(self, *, worker: bool | None = None, relay: bool = True, migrate: bool = True) -> None:
        if migrate:
            await asyncio.to_thread(db.migrate, self.db)
        await self.bus.start()
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

    async def stop(self) -> None:
        for hook in self.services.get("shutdown", []):
            try:
                await hook()
            except Exception:
                log.exception("service shutdown hook failed")
        await self.committer.stop()
        await self.worker.stop()
        await self.relay.stop()
        await self.bus.stop()
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
            if moved:
                rows = conn.execute(
                    msgs.TABLE.select().with_only_columns(
                        msgs.TABLE.c.id, msgs.TABLE.c.content_type, msgs.TABLE.c.correlation_key
                    ).where(msgs.TABLE.c.id.in_(moved))
                ).all()
                now = utcnow()
                conn.execute(
                    insert(outbox.TABLE),
                    [
                        {"topic": Topic.INBOUND.value, "key": r.correlation_key or r.id,
                         "value": inbound_record_value(r.id, r.content_type), "created_at": now}
                        for r in rows
                    ],
                )
        self.relay.wake()
        return moved

    def reprocess_matching(self, flt: MessageFilter, *, force: bool = False, limit: int = 10_000) -> list[str]:
        with self.db.connect() as conn:
            ids = msgs.ids_matching(conn, flt, limit)
        return self.reprocess(ids, force=force, strict=False) if ids else []
