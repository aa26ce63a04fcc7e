"""The one registry of bus topics. Every producer and consumer imports names from here."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    INBOUND = "aiguillage.inbound"  # message ids committed by intake, to be processed by workers
    EVENTS_ADT = "aiguillage.events.adt"  # typed AdtEvents, keyed by patient
    EVENTS_DOCUMENT = "aiguillage.events.document"  # ClinicalDocument events, keyed by patient
    EVENTS_DIRECTORY = "aiguillage.events.directory"  # ROR directory changes, keyed by resource
    DLQ = "aiguillage.dlq"  # messages that exhausted their retries


ALL_TOPICS: tuple[str, ...] = tuple(t.value for t in Topic)

WORKER_GROUP = "aiguillage-workers"
