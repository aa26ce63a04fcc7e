"""Engine + outbox relay on the Kafka bus: the broker is SIGKILLed mid-run and restarted.

tansu loses every record, group and offset on restart, and the producer must be rebuilt. The
outbox re-publishes what was not acknowledged, the relay's sweep re-announces what the broker
acknowledged and then lost, and the worker's status guard keeps the effect exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from aiguillage.engine import Engine
from aiguillage.router.handlers import InboundMessage, Outcome
from aiguillage.router.kafka_bus import KafkaBus
from aiguillage.store import messages as msgs
from aiguillage.store import outbox
from aiguillage.store.messages import Envelope, MessageStatus
from aiguillage.testing import TansuBroker

pytestmark = pytest.mark.kafka

CT = "application/x-kafka-test"


class CountingHandler:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, m: InboundMessage, conn: Connection) -> Outcome:
        self.calls[m.id] = self.calls.get(m.id, 0) + 1
        return Outcome(MessageStatus.PROCESSED)


def statuses(engine: Engine, ids: list[str]) -> dict[str, str]:
    return {i: str(msgs.get(engine.db, i)["status"]) for i in ids}


async def test_outbox_republishes_after_broker_kill_exactly_once_in_effect(
    tansu: TansuBroker, make_settings: Callable[..., object], tmp_path: Path
) -> None:
    bus = KafkaBus(tansu.bootstrap, client_id="engine", request_timeout_ms=1000, delivery_timeout_ms=2000)
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'engine.db'}")
    engine = Engine(settings, bus=bus)  # type: ignore[arg-type]
    handler = CountingHandler()
    engine.handlers.register(CT, handler)
    engine.worker.backoff_s = 0.05
    engine.relay.sweep_s = 0.5
    engine.relay.stale_after_s = 4.0  # RECEIVED this long (bus lost the announcement): re-announce
    await engine.start()
    ids: list[str] = []
    try:

        async def submit(n: int, pause: float) -> None:
            for i in range(n):
                stored = await engine.intake(
                    Envelope(channel="kafka-test", content_type=CT, raw=b"x", correlation_key=f"P{i % 7}")
                )
                ids.append(stored.id)
                await asyncio.sleep(pause)

        await submit(20, 0.0)
        deadline = time.monotonic() + 30  # includes the worker's group join (~5 s on tansu)
        while set(statuses(engine, ids).values()) != {"PROCESSED"}:
            assert time.monotonic() < deadline, "first messages never processed"
            await asyncio.sleep(0.1)

        # Mid-run: keep submitting while the broker is killed and comes back on the same port.
        producer = asyncio.create_task(submit(60, 0.05))
        await asyncio.sleep(0.8)
        tansu.kill()
        await asyncio.sleep(1.5)
        assert engine.relay.failures > 0 or outbox.count(engine.db) > 0, "relay never saw the outage"
        tansu.start()
        await producer
        t_restart = time.monotonic()

        deadline = time.monotonic() + 45
        while True:
            current = statuses(engine, ids)
            if set(current.values()) == {"PROCESSED"}:
                break
            if time.monotonic() > deadline:
                pending = sum(1 for s in current.values() if s != "PROCESSED")
                pytest.fail(f"{pending} of {len(ids)} messages not processed after the restart")
            await asyncio.sleep(0.2)
        print(f"all {len(ids)} processed {time.monotonic() - t_restart:.1f} s after the restart")
    finally:
        await engine.stop()

    assert len(ids) == 80 and len(set(ids)) == 80
    assert set(handler.calls) == set(ids), "a message was lost"
    assert all(n == 1 for n in handler.calls.values()), "a message was processed twice"
    assert bus.producer_builds >= 2, "the producer was not rebuilt after the restart"
