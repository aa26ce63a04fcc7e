"""The consumer side of KafkaBus: one KafkaConsumer per subscription, in its own thread.

The thread polls, hands each partition's batch to the async handler on the event loop
(``run_coroutine_threadsafe``), commits the batch's offsets only after the handler returned, and on
handler failure seeks back to the batch start and retries after a backoff. Any consumer error
(broker gone, group forgotten) closes the consumer and builds a new one after a backoff; with
offsets lost, ``auto_offset_reset="earliest"`` redelivers from the start of the new log.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiguillage.router.bus import BatchHandler, Record

with warnings.catch_warnings():
    # kafka-python 3.0 warns on import (see kafka_bus); silenced for this import only.
    warnings.simplefilter("ignore", DeprecationWarning)
    import kafka
    from kafka.structs import OffsetAndMetadata, TopicPartition

if TYPE_CHECKING:
    from aiguillage.router.kafka_bus import KafkaBus

log = logging.getLogger(__name__)


def quietly(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        fn(*args, **kwargs)
    except Exception:
        log.debug("kafka client close failed", exc_info=True)


class KafkaSubscription:
    """One KafkaConsumer in one thread; batches go to the async handler on the loop."""

    def __init__(self, bus: KafkaBus, topics: list[str], group: str, handler: BatchHandler, max_batch: int) -> None:
        self.bus = bus
        self.topics = topics
        self.group = group
        self.handler = handler
        self.max_batch = max_batch
        self.batches = 0  # observable counters (tests, metrics)
        self.failures = 0
        self._streak = 0  # consecutive handler failures, for the backoff
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lag: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self.assigned: frozenset[tuple[str, int]] = frozenset()  # (topic, partition) held now

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name=f"kafka-consumer-{self.group}", daemon=True)
        self._thread.start()

    def lag_snapshot(self) -> dict[TopicPartition, int]:
        return dict(self._lag)

    async def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            await asyncio.to_thread(thread.join, 4.0)
            if thread.is_alive():
                log.warning("kafka consumer thread for group %s did not stop in time", self.group)
        self._thread = None
        if self in self.bus._subs:
            self.bus._subs.remove(self)

    # --- consumer thread ------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.bus.retry_backoff_s
        while not self._stopping.is_set():
            consumer = None
            try:
                self.bus._ensure_topics(self.topics)
                consumer = self._make_consumer()
                consumer.subscribe(self.topics)
                self._committed.clear()
                backoff = self.bus.retry_backoff_s
                self._consume(consumer)
            except Exception as exc:
                log.warning("kafka consumer (group %s) failed: %s; rebuilding", self.group, type(exc).__name__)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self.bus.max_retry_backoff_s)
            finally:
                self.assigned = frozenset()
                if consumer is not None:
                    quietly(consumer.close, autocommit=False, timeout_ms=1000)

    def _make_consumer(self) -> Any:
        bus = self.bus
        return kafka.KafkaConsumer(
            group_id=self.group,
            client_id=f"{bus.client_id}-{self.group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=bus.session_timeout_ms,
            heartbeat_interval_ms=bus.heartbeat_interval_ms,
            max_poll_records=self.max_batch,
            fetch_max_wait_ms=100,
            allow_auto_create_topics=False,
            bootstrap_servers=bus.bootstrap,
            request_timeout_ms=max(bus.request_timeout_ms, bus.session_timeout_ms + 5000),
            bootstrap_timeout_ms=bus.request_timeout_ms,
        )

    def _consume(self, consumer: Any) -> None:
        while not self._stopping.is_set():
            polled = consumer.poll(timeout_ms=self.bus.poll_timeout_ms, max_records=self.max_batch)
            self._update_lag(consumer)
            if not polled:
                continue
            for tp, msgs in polled.items():
                if self._stopping.is_set():
                    return
                self._deliver(consumer, tp, msgs)

    def _deliver(self, consumer: Any, tp: TopicPartition, msgs: list[Any]) -> None:
        batch = [
            Record(
                topic=m.topic,
                key=m.key.decode("utf-8", "replace") if m.key is not None else None,
                value=m.value,
                headers=tuple((h[0], h[1]) for h in (m.headers or ())),
                partition=m.partition,
                offset=m.offset,
            )
            for m in msgs
        ]
        if self._call_handler(batch):
            self.batches += 1
            self._streak = 0
            next_offset = msgs[-1].offset + 1
            try:
                offsets = {tp: OffsetAndMetadata(next_offset, "", -1)}
                consumer.commit(offsets, timeout_ms=self.bus.request_timeout_ms)
                self._committed[tp] = next_offset
                self._lag[tp] = max(0, (consumer.highwater(tp) or next_offset) - next_offset)
            except Exception as exc:
                # Processed but not committed: may be redelivered (at-least-once).
                log.warning("kafka commit failed (group %s): %s", self.group, type(exc).__name__)
            return
        self.failures += 1
        self._streak += 1
        consumer.seek(tp, msgs[0].offset)
        delay = min(self.bus.retry_backoff_s * 2 ** min(self._streak - 1, 6), self.bus.max_retry_backoff_s)
        self._stopping.wait(delay)

    async def _invoke(self, batch: list[Record]) -> None:
        await self.handler(batch)

    def _call_handler(self, batch: list[Record]) -> bool:
        assert self._loop is not None
        try:
            fut = asyncio.run_coroutine_threadsafe(self._invoke(batch), self._loop)
        except RuntimeError:  # loop closed
            self._stopping.set()
            return False
        stop_deadline: float | None = None
        while True:
            try:
                fut.result(timeout=0.2)
                return True
            except TimeoutError:
                if not self._stopping.is_set():
                    continue
                # Stopping: give the running handler a moment, then cancel (not committed).
                now = time.monotonic()
                stop_deadline = stop_deadline or now + 2.5
                if now >= stop_deadline or self._loop.is_closed():
                    fut.cancel()
                    return False
            except asyncio.CancelledError:
                return False
            except Exception:
                log.exception("bus handler failed (group %s); batch of %d will be redelivered", self.group, len(batch))
                return False

    def _update_lag(self, consumer: Any) -> None:
        try:
            assigned = consumer.assignment()
            self.assigned = frozenset((tp.topic, tp.partition) for tp in assigned)
            lag: dict[TopicPartition, int] = {}
            for tp in assigned:
                high = consumer.highwater(tp)
                if high is None:
                    continue
                committed = self._committed.get(tp)
                base = committed if committed is not None else consumer.position(tp)
                lag[tp] = max(0, high - base)
            self._lag = lag
        except Exception:
            log.debug("kafka lag update failed", exc_info=True)
