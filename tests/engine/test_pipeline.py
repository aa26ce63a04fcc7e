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



def test_the_worker_pause_keeps_it_to_a_share_that_grows_with_the_age_of_its_work(engine: Engine) -> None:
    w = engine.worker
    low, high = w.busy_share
    assert (low, high) == (0.09, 0.5)
    # fresh work: the worker holds the writer ~9 % of the time; work busy_lag_s old or older: half
    assert abs(w.pause_s(0.002, 0.0) - 0.002 * (1 - low) / low) < 1e-9
    assert w.pause_s(0.002, w.busy_lag_s) == w.pause_s(0.002, 60.0) == 0.002
    mid = w.pause_s(0.002, w.busy_lag_s / 2)
    assert w.pause_s(0.002, w.busy_lag_s) < mid < w.pause_s(0.002, 0.0)
    assert w.pause_s(0.002, -3.0) == w.pause_s(0.002, 0.0)  # a clock step backwards is fresh work
    assert w.pause_s(0.00001, 60.0) == w.min_pause_s  # never a busy spin


async def test_under_busy_intake_the_worker_pauses_after_each_transaction_by_the_age_of_its_work(
    engine: Engine,
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from aiguillage.store.base import utcnow

    rec = Recorder()
    engine.handlers.register(CT, rec)
    await engine.worker.stop()  # the messages wait; this test drives the worker by hand
    old = [await submit(engine, "ok", key=f"P{i}") for i in range(3)]
    fresh = [await submit(engine, "ok", key=f"Q{i}") for i in range(3)]
    with engine.db.begin() as conn:  # 20 s old: past busy_lag_s, not yet swept as stale (30 s)
        conn.execute(update(msgs.TABLE).where(msgs.TABLE.c.id.in_(old))
                     .values(received_at=utcnow() - timedelta(seconds=20)))
    w = type(engine.worker)(engine.db, engine.bus, engine.handlers, intake_idle_s=lambda: 0.0)
    w.busy_txn_budget_s = 0.0  # one message per transaction
    pauses: list[tuple[float, float]] = []

    def record(txn_s: float, lag_s: float) -> float:
        pauses.append((txn_s, lag_s))
        return 0.0

    w.pause_s = record  # type: ignore[method-assign]
    assert w.process_ids(old + fresh) == 6
    assert sorted(rec.effects) == sorted(old + fresh)
    assert len(pauses) == 6  # intake busy: a pause after every transaction
    lags = [lag for _, lag in pauses]
    assert all(19.0 <= lag < 60.0 for lag in lags[:3]), lags
    assert all(0.0 <= lag < 10.0 for lag in lags[3:]), lags
    assert all(txn > 0.0 for txn, _ in pauses)
    w.intake_idle_s = lambda: 10.0  # intake quiet: no pause at all
    pauses.clear()
    again = [await submit(engine, "ok", key="R1")]
    assert w.process_ids(again) == 1 and pauses == []
    w._pool.shutdown()
