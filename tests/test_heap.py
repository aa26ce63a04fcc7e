"""The serving process freezes its start-up heap (see aiguillage/heap.py for the measured pause)."""

from __future__ import annotations

import gc

from aiguillage import heap


def test_settle_freezes_what_start_up_left_and_later_objects_stay_collectable() -> None:
    before = gc.get_freeze_count()
    try:
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() > before
        assert frozen > 1000  # the imported packages' objects at least
        cycle: list[object] = []
        cycle.append(cycle)  # a cycle made after the freeze is still found by the collector
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
