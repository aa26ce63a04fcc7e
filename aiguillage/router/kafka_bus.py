"""KafkaBus: the Bus protocol over Apache Kafka (or the tansu broker in tests), with kafka-python.

kafka-python is blocking: producer and admin calls run in a small dedicated thread pool, and each
subscription runs its KafkaConsumer in its own thread (:mod:`aiguillage.router.kafka_consumer`),
handing batches to the async handler on the event loop. Offsets are committed only after the
handler returned; a failing handler gets the same batch again after a backoff.

Keys map to partitions with :func:`aiguillage.router.bus.partition_for` (crc32), the same mapping
as MemoryBus, so one key stays in one partition. Keyless records are spread by the producer.

Broker restarts: tansu (memory storage) forgets topics, groups, offsets and producer ids. Any
publish failure closes the producer (an idempotent producer is dead after such a restart) and
raises BusError; the next publish builds a new producer and re-creates missing topics. Consumers
rejoin their group by themselves and, offsets being gone, restart from the earliest record of the
new log: redelivery, which idempotent consumers absorb (at-least-once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiguillage.errors import BusError
from aiguillage.router.bus import BatchHandler, Record, partition_for
from aiguillage.router.kafka_consumer import KafkaSubscription, quietly
from aiguillage.router.topics import ALL_TOPICS

with warnings.catch_warnings():
    # kafka-python 3.0 warns on import (its own notice, and importlib.resources.read_text used by
    # its protocol schemas). Silenced for this import only; the design chose the library knowingly.
    warnings.simplefilter("ignore", DeprecationWarning)
    import kafka
    from kafka.admin import KafkaAdminClient
    from kafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Stable error codes of this module.
BUS_UNREACHABLE = "BUS-0001"  # broker not reachable at start / admin call failed
BUS_PUBLISH_FAILED = "BUS-0002"  # a record was not acknowledged; caller retries
BUS_NOT_STARTED = "BUS-0003"  # used before start() or after stop()
BUS_TOPIC_FAILED = "BUS-0004"  # topics could not be created


class KafkaBus:
    """The Bus protocol over Kafka. Build, ``await start()``, use, ``await stop()``."""

    name = "kafka"

    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        partitions: int = 4,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 1_000,
        *,
        topics: Sequence[str] = ALL_TOPICS,
        request_timeout_ms: int = 3_000,
        delivery_timeout_ms: int = 6_000,
        retry_backoff_s: float = 0.2,
        max_retry_backoff_s: float = 5.0,
        poll_timeout_ms: int = 200,
    ) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.partitions = partitions
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.topics = list(topics)
        self.request_timeout_ms = request_timeout_ms
        self.delivery_timeout_ms = delivery_timeout_ms
        self.retry_backoff_s = retry_backoff_s
        self.max_retry_backoff_s = max_retry_backoff_s
        self.poll_timeout_ms = poll_timeout_ms
        self.producer_builds = 0  # observable: how many producers were created (restarts)
        self._producer: Any = None
        self._admin: Any = None
        self._lock = threading.Lock()  # guards _producer, _admin, _known_topics, _partition_counts
        self._known_topics: set[str] = set()
        self._partition_counts: dict[str, int] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._subs: list[KafkaSubscription] = []

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(4, thread_name_prefix=f"kafka-{self.client_id}")
        try:
            await self._run(self._get_producer)  # creates the missing topics first
        except Exception as exc:
            await self.stop()
            cause = exc.__cause__ if isinstance(exc, BusError) and exc.__cause__ else exc
            raise BusError(f"kafka broker unreachable at start: {type(cause).__name__}", BUS_UNREACHABLE) from exc

    async def stop(self) -> None:
        subs, self._subs = list(self._subs), []
        await asyncio.gather(*(sub.stop() for sub in subs))
        executor, self._executor = self._executor, None
        if executor is not None:
            # Not on the bus pool: a publish blocked there must not delay the close (it fails it).
            await asyncio.to_thread(self._close_clients)
            executor.shutdown(wait=False)

    def _close_clients(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
            admin, self._admin = self._admin, None
        if producer is not None:
            producer.close(timeout=1)
        if admin is not None:
            admin.close()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise BusError("kafka bus not started", BUS_NOT_STARTED, retryable=False)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # --- clients (called in threads) ----------------------------------------------------------

    def _common(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.bootstrap,
            "request_timeout_ms": self.request_timeout_ms,
            "bootstrap_timeout_ms": self.request_timeout_ms,
        }

    def _get_admin(self) -> Any:
        with self._lock:
            if self._admin is not None:
                return self._admin
        admin = KafkaAdminClient(client_id=f"{self.client_id}-admin", **self._common())  # may block
        with self._lock:
            if self._admin is None:
                self._admin = admin
                return admin
            current = self._admin
        quietly(admin.close)  # another thread built one first
        return current

    def _drop_admin(self, admin: Any) -> None:
        with self._lock:
            if self._admin is not admin:
                return
            self._admin = None
        quietly(admin.close)

    def _ensure_topics(self, topics: Sequence[str]) -> None:
        missing = [t for t in topics if t not in self._known_topics]
        if not missing:
            return
        admin = self._get_admin()
        try:
            existing = set(admin.list_topics())
            to_create = {
                t: {"num_partitions": self.partitions, "replication_factor": 1} for t in missing if t not in existing
            }
            if to_create:
                with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently
                    admin.create_topics(to_create, timeout_ms=self.request_timeout_ms)
                log.info("kafka topics created: %d", len(to_create))
        except Exception as exc:
            self._drop_admin(admin)
            raise BusError(f"kafka topics not created: {type(exc).__name__}", BUS_TOPIC_FAILED) from exc
        with self._lock:
            self._known_topics.update(missing)

    def _get_producer(self) -> Any:
        with self._lock:
            producer = self._producer
        if producer is not None:
            return producer
        # A new producer means the broker may have restarted: check the topics again.
        with self._lock:
            self._known_topics.clear()
            self._partition_counts.clear()
        self._ensure_topics(self.topics)
        producer = kafka.KafkaProducer(
            client_id=self.client_id,
            acks="all",
            linger_ms=2,
            max_block_ms=self.request_timeout_ms,
            delivery_timeout_ms=self.delivery_timeout_ms,
            allow_auto_create_topics=False,
            **self._common(),
        )
        with self._lock:
            if self._producer is None:
                self._producer = producer
                self.producer_builds += 1
                return producer
            current = self._producer
        quietly(producer.close, timeout=0)  # another thread built one first
        return current

    def _drop_producer(self, producer: Any) -> None:
        with self._lock:
            if self._producer is not producer:
                return
            self._producer = None
        log.warning("kafka producer closed after a failure; the next publish rebuilds it")
        quietly(producer.close, timeout=0)

    def _partition(self, producer: Any, topic: str, key: str | None) -> int | None:
        if key is None:
            return None
        count = self._partition_counts.get(topic)
        if count is None:
            parts = producer.partitions_for(topic)
            count = len(parts) if parts else self.partitions
            self._partition_counts[topic] = count
        return partition_for(key, count)

    # --- Bus protocol -------------------------------------------------------------------

    async def publish(self, records: Sequence[Record]) -> None:
        if not records:
            return
        await self._run(self._publish_sync, list(records))

    def _publish_sync(self, records: list[Record]) -> None:
        try:
            producer = self._get_producer()
        except BusError:
            raise
        except Exception as exc:
            raise BusError(f"kafka producer unavailable: {type(exc).__name__}", BUS_PUBLISH_FAILED) from exc
        try:
            self._ensure_topics(sorted({r.topic for r in records}))
            futures = [
                producer.send(
                    r.topic,
                    value=r.value,
                    key=r.key.encode("utf-8") if r.key is not None else None,
                    headers=list(r.headers) or None,
                    partition=self._partition(producer, r.topic, r.key),
                )
                for r in records
            ]
            deadline = time.monotonic() + self.delivery_timeout_ms / 1000 + 2.0
            for fut in futures:
                fut.get(timeout=max(0.1, deadline - time.monotonic()))
        except Exception as exc:
            self._drop_producer(producer)
            raise BusError(
                f"kafka publish of {len(records)} records failed: {type(exc).__name__}",
                BUS_PUBLISH_FAILED,
            ) from exc

    def subscribe(
        self, topics: Sequence[str], group: str, handler: BatchHandler, *, max_batch: int = 256
    ) -> KafkaSubscription:
        if self._executor is None:
            raise BusError("kafka bus not started", BUS_NOT_STARTED, retryable=False)
        sub = KafkaSubscription(self, list(topics), group, handler, max_batch)
        self._subs.append(sub)
        sub.start(asyncio.get_running_loop())
        return sub

    async def ping(self) -> bool:
        """Metadata fetch with a short timeout; False when the broker does not answer."""
        if self._executor is None:
            return False
        try:
            await asyncio.wait_for(self._run(self._ping_sync), self.request_timeout_ms / 1000 + 1)
        except Exception:
            return False
        return True

    def _ping_sync(self) -> None:
        admin = self._get_admin()
        try:
            admin.list_topics()
        except Exception:
            self._drop_admin(admin)
            raise

    async def lag(self) -> dict[str, int]:
        """High watermark minus committed offset, per topic, over the partitions this process's
        subscriptions hold (other members of a group report their own partitions)."""
        out: dict[str, int] = {}
        for sub in self._subs:
            for topic in sub.topics:
                out.setdefault(topic, 0)
            for tp, n in sub.lag_snapshot().items():
                out[tp.topic] = out.get(tp.topic, 0) + n
        return out
