"""Prometheus metrics. Counters live in the default registry; store-derived gauges are computed
per scrape (messages by channel and status, outbox backlog, bus lag)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from aiguillage.store.base import utcnow

RECEIVED = Counter(
    "aiguillage_messages_received_total", "Inbound messages committed by intake", ["channel", "status"]
)
PROCESSED = Counter(
    "aiguillage_messages_processed_total", "Messages processed by workers", ["channel", "content_type", "status"]
)
PROCESSING_SECONDS = Histogram(
    "aiguillage_processing_seconds", "Handler time per message", ["content_type"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
END_TO_END_SECONDS = Histogram(
    "aiguillage_end_to_end_seconds", "From receipt to processed", ["content_type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def observe_received(channel: str, status: str) -> None:
    RECEIVED.labels(channel, status).inc()


def observe_processed(
    channel: str, content_type: str, status: str, seconds: float, received_at: datetime | None
) -> None:
    PROCESSED.labels(channel, content_type, status).inc()
    if seconds:
        PROCESSING_SECONDS.labels(content_type).observe(seconds)
    if received_at is not None:
        END_TO_END_SECONDS.labels(content_type).observe(max(0.0, (utcnow() - received_at).total_seconds()))


def render(
    by_status: dict[tuple[str, str], int], outbox_backlog: int, bus_lag: dict[str, int]
) -> bytes:
    """The default registry plus the gauges read from the store and the bus for this scrape."""
    reg = CollectorRegistry()
    g = Gauge("aiguillage_messages", "Stored messages by channel and status", ["channel", "status"], registry=reg)
    for (channel, status), n in by_status.items():
        g.labels(channel, status).set(n)
    Gauge("aiguillage_outbox_backlog", "Outbox records not yet published", registry=reg).set(outbox_backlog)
    lag = Gauge("aiguillage_bus_lag", "Records not yet committed by consumers", ["topic"], registry=reg)
    for topic, n in bus_lag.items():
        lag.labels(topic).set(n)
    return generate_latest() + generate_latest(reg)
