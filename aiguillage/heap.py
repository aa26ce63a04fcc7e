"""The serving process's heap: start-up objects set aside from the garbage collector.

After start-up the process holds hundreds of thousands of long-lived objects (FHIR models, SQLAlchemy
tables, nomenclatures). Each full collection walks all of them: measured on the MLLP hot path, one
137 ms pause of the whole process (every ACK waits) within 15 s of load. :func:`settle` collects
once and freezes what is left, so later collections only walk what was allocated since (18.7 ms for
the same full collection).
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle() -> int:
    """Collect, then move every surviving object out of the collector's reach; returns how many."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("start-up heap settled: %d objects frozen", frozen)
    return frozen
