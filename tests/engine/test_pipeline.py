"""Intake -> outbox -> bus -> worker -> status, with a test handler, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from aiguillage.engine import Engine
from aiguillage.errors import EngineError, InputError
from aiguillage.router.bus import Record
from aiguillage.router.handlers import InboundMessage, Outcome
from aiguillage.router.topics import Topic
from aiguillage.store import messages as msgs
from aiguillage.store import outbox
from aiguillage.store.base import new_id
from aiguillage.store.messages import Envelope, MessageStatus

CT = "application/x-test"


async def wait_for(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def status_of(engine: Engine, mid: str) -> str:
    return str(msgs.get(engine.db, mid)["status"])


class Recorder:
    """A handler whose behaviour is chosen by the payload: ok, hold, reject, fail-N, boom."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.effects: list[str] = []

    def __call__(self, m: InboundMessage, conn: Connection) -> Outcome:
        self.calls[m.id] = self.calls.get(m.id, 0) + 1
        body = m.raw.decode()
        if body == "hold":
            return Outcome(MessageStatus.HELD, error_codes=["MAP-0001"], error_text="unmapped code")
        if body == "reject":
            raise InputError("bad payload", "TST-0001")
        if body.startswith("fail-") and self.calls[m.id] <= int(body[5:]):
            raise EngineError("transient", "TST-0002", 503, retryable=True)
        if body == "boom":
            raise RuntimeError("bug")
        self.effects.append(m.id)
        event = Record(Topic.EVENTS_ADT.value, m.correlation_key, json.dumps({"id": m.id}).encode())
        return Outcome(MessageStatus.PROCESSED, events=[event], meta={"handled": True})


async def submit(engine: Engine, body: str, key: str = "P1") -> str:
    stored = await engine.intake(
        Envelope(channel="test", content_type=CT, raw=body.encode(), correlation_key=key)
    )
    return stored.id


async def test_processed_held_rejected_retried_dead(engine: Engine) -> None:
    rec = Recorder()
    engine.handlers.register(CT, rec)
    engine.worker.backoff_s = 0.05
    engine.worker.max_attempts = 3
    engine.relay.sweep_s = 0.1
    ok = await submit(engine, "ok")
    held = await submit(engine, "hold")
    rejected = await submit(engine, "reject")
    flaky = await submit(engine, "fail-1")
    dead = await submit(engine, "boom")
    await wait_for(lambda: status_of(engine, ok) == "PROCESSED")
    await wait_for(lambda: status_of(engine, held) == "HELD")
    await wait_for(lambda: status_of(engine, rejected) == "REJECTED")
    await wait_for(lambda: status_of(engine, flaky) == "PROCESSED")
    await wait_for(lambda: status_of(engine, dead) == "DEAD")
    r = msgs.get(engine.db, rejected)
    assert r["error_codes"] == "TST-0001" and r["error_text"] == "bad payload"
    assert rec.calls[flaky] == 2
    d = msgs.get(engine.db, dead)
    assert d["attempts"] == 3 and d["error_codes"] == "RTR-0002"
    assert json.loads(msgs.get(engine.db, ok)["meta"]) == {"handled": True}
    # the DLQ and the domain events went out through the outbox
    lag: dict[str, int] = {}
    for _ in range(200):  # published by the relay after the worker's commit
        lag = await engine.bus.lag()
        if lag.get(Topic.DLQ.value) == 1 and lag.get(Topic.EVENTS_ADT.value) == 2:
            break
        await asyncio.sleep(0.02)
    assert lag.get(Topic.DLQ.value) == 1
    assert lag.get(Topic.EVENTS_ADT.value) == 2  # ok and flaky produced one event each


async def test_redelivery_and_reprocess_are_idempotent(engine: Engine) -> None:
    rec = Recorder()
    engine.handlers.register(CT, rec)
    mid = await submit(engine, "ok")
    await wait_for(lambda: status_of(engine, mid) == "PROCESSED")
    # the bus delivers the same id again (crash before commit, broker restart): no second effect
    assert engine.worker.process_ids([mid, mid]) == 0
    assert rec.effects == [mid]
    # reprocessing a processed message needs force; a held one is released once
    held = await submit(engine, "hold")
    await wait_for(lambda: status_of(engine, held) == "HELD")
    with engine.db.begin() as conn:
        conn.execute(msgs.TABLE.update().where(msgs.TABLE.c.id == held).values(raw=b"ok"))
    assert engine.reprocess([held]) == [held]
    assert engine.reprocess([held]) == [held]  # still queued: same answer, no second processing
    await wait_for(lambda: status_of(engine, held) == "PROCESSED")
    await asyncio.sleep(0.2)
    assert rec.effects.count(held) == 1
    try:
        engine.reprocess([mid])
        raise AssertionError("expected a conflict")
    except EngineError as exc:
        assert exc.code == "CONF-0101" and exc.http_status == 409
    assert engine.reprocess([mid], force=True) == [mid]
    await wait_for(lambda: rec.effects.count(mid) == 2)


async def test_sweep_reannounces_messages_the_bus_lost(engine: Engine) -> None:
    rec = Recorder()
    engine.handlers.register(CT, rec)
    await engine.worker.stop()  # nobody consumes: as if the broker lost the record after acking it
    mid = await submit(engine, "ok")
    await wait_for(lambda: outbox.count(engine.db) == 0)  # published and removed from the outbox
    assert status_of(engine, mid) == "RECEIVED"
    engine.relay.stale_after_s = 0.0  # everything RECEIVED now counts as stale
    assert engine.relay.sweep() == 1
    with engine.db.connect() as conn:
        rows = conn.execute(select(outbox.TABLE.c.topic)).all()
    assert [r.topic for r in rows] in ([Topic.INBOUND.value], [])  # relay may already have published
    engine.worker = type(engine.worker)(engine.db, engine.bus, engine.handlers)
    await engine.worker.start()
    await wait_for(lambda: status_of(engine, mid) == "PROCESSED")


async def test_garbage_on_the_inbound_topic_is_ignored(engine: Engine) -> None:
    rec = Recorder()
    engine.handlers.register(CT, rec)
    with engine.db.begin() as conn:
        conn.execute(insert(outbox.TABLE), [{"id": new_id(), "topic": Topic.INBOUND.value, "key": None,
                                             "value": b"\xff{", "created_at": msgs.utcnow()}])
    engine.relay.wake()  # written behind the relay's back: found by its scan
    mid = await submit(engine, "ok")
    await wait_for(lambda: status_of(engine, mid) == "PROCESSED")

