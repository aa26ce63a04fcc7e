"""The Bus protocol and the in-process MemoryBus.

A bus carries records (topic, key, value) with at-least-once delivery. Records with the same key
land in the same partition, and one partition is consumed in order by one consumer of a group, so
one patient's or one stay's events stay in order. Consumers commit after their handler returns;
a handler that raises leaves the batch uncommitted (it is redelivered).

The store + outbox is the source of truth: the bus may lose records (tansu loses everything on
restart) and the outbox relay re-publishes what was not acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    topic: str
    key: str | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int = -1
    offset: int = -1


BatchHandler = Callable[[Sequence[Record]], Awaitable[None]]


class Subscription(Protocol):
    async def stop(self) -> None: ...


class Bus(Protocol):
    """What the router needs from a message bus. Implemented by MemoryBus and KafkaBus."""

    name: str

    async def start(self) -> None:
        """Connect. Raises BusError when the bus cannot be reached."""

    async def stop(self) -> None:
        """Flush and disconnect; stops every subscription."""

    async def publish(self, records: Sequence[Record]) -> None:
        """Publish and wait until the bus has acknowledged every record (acks=all).

        Raises BusError on failure; the caller (the outbox relay) retries later.
        """

    def subscribe(
        self, topics: Sequence[str], group: str, handler: BatchHandler, *, max_batch: int = 256
    ) -> Subscription:
        """Consume ``topics`` as member of consumer ``group``; ``handler`` gets batches of records.

        The offsets of a batch are committed only after ``handler`` returns normally.
        """
        ...

    async def ping(self) -> bool:
        """True when the bus is reachable (used by /ready)."""
        ...

    async def lag(self) -> dict[str, int]:
        """Records published but not yet committed by consumers, per topic (for /metrics)."""
        ...


def partition_for(key: str | None, partitions: int) -> int:
    """Stable key -> partition mapping (crc32), the same on every process."""
    if key is None or partitions <= 1:
        return 0
    return zlib.crc32(key.encode("utf-8")) % partitions


@dataclass
class _Partition:
    records: list[Record] = field(default_factory=list)
    committed: dict[str, int] = field(default_factory=dict)  # group -> next offset
    event: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryBus:
    """In-process bus with partitioned topics and per-group committed offsets.

    Not durable (the outbox covers restarts). Each (group, partition) is consumed by one task, in
    order, so it behaves like a Kafka consumer group with as many members as partitions.
    """

    name = "memory"

    def __init__(self, partitions: int = 4, retain: int = 100_000) -> None:
        self.partitions = partitions
        self.retain = retain
        self._topics: dict[str, list[_Partition]] = {}
        self._subs: list[_MemorySubscription] = []
        self._started = False

    def _topic(self, topic: str) -> list[_Partition]:
        parts = self._topics.get(topic)
        if parts is None:
            parts = [_Partition() for _ in range(self.partitions)]
            self._topics[topic] = parts
        return parts

    async def start(self) -> None:
        self._started = True

    async def stop(self) -> None:
        for sub in list(self._subs):
            await sub.stop()
        self._subs.clear()
        self._started = False

    async def publish(self, records: Sequence[Record]) -> None:
        for rec in records:
            parts = self._topic(rec.topic)
            p = partition_for(rec.key, len(parts))
            part = parts[p]
            part.records.append(
                Record(rec.topic, rec.key, rec.value, rec.headers, p, len(part.records))
            )
            part.event.set()

    def subscribe(
        self, topics: Sequence[str], group: str, handler: BatchHandler, *, max_batch: int = 256
    ) -> Subscription:
        sub = _MemorySubscription(self, list(topics), group, handler, max_batch)
        self._subs.append(sub)
        sub.start()
        return sub

    async def ping(self) -> bool:
        return self._started

    async def lag(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for topic, parts in self._topics.items():
            total = 0
            for part in parts:
                if part.committed:
                    total += len(part.records) - min(part.committed.values())
                else:
                    total += len(part.records)
            out[topic] = total
        return out


class _MemorySubscription:
    def __init__(
        self, bus: MemoryBus, topics: list[str], group: str, handler: BatchHandler, max_batch: int
    ) -> None:
        self.bus = bus
        self.topics = topics
        self.group = group
        self.handler = handler
        self.max_batch = max_batch
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        for topic in self.topics:
            for part in self.bus._topic(topic):
                part.committed.setdefault(self.group, 0)
                self._tasks.append(asyncio.create_task(self._consume(part)))

    async def _consume(self, part: _Partition) -> None:
        backoff = 0.05
        while not self._stopping:
            start = part.committed.get(self.group, 0)
            if start >= len(part.records):
                part.event.clear()
                await part.event.wait()
                continue
            batch = part.records[start : start + self.max_batch]
            try:
                await self.handler(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Uncommitted: redelivered after a pause, like a Kafka consumer that did not commit.
                log.exception("bus handler failed; batch of %d will be redelivered", len(batch))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            part.committed[self.group] = start + len(batch)
            self._trim(part)

    def _trim(self, part: _Partition) -> None:
        # Keep memory bounded: drop records every group has committed, beyond `retain`.
        if len(part.records) <= self.bus.retain:
            return
        low = min(part.committed.values())
        if low <= 0:
            return
        del part.records[:low]
        for g in part.committed:
            part.committed[g] -= low

    async def stop(self) -> None:
        self._stopping = True
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        if self in self.bus._subs:
            self.bus._subs.remove(self)
