"""Shared column helpers for the SQLModel tables."""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import UTC, datetime

_lock = threading.Lock()
_last_ms = 0
_seq = 0
# The random tail keeps ids from different processes apart; it is no secret (tokens use secrets),
# so a generator seeded from the OS once is enough and costs no system call per id.
_gen = random.Random(os.urandom(16))
_rand = _gen.getrandbits
os.register_at_fork(after_in_child=lambda: _gen.seed(os.urandom(16)))  # a forked child draws its own


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive, always UTC


def new_id() -> str:
    """A time-ordered 128-bit id (UUIDv7 layout) as 32 hex characters.

    Monotonic within a process: ids made in the same millisecond carry an increasing 12-bit
    counter (RFC 9562 method 1), so sorting by id gives creation order (the outbox relies on it).
    """
    global _last_ms, _seq
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _seq += 1
            if _seq > 0xFFF:  # more than 4096 ids in one millisecond: borrow the next one
                _last_ms += 1
                _seq = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _seq = 0
        seq = _seq
    rand = _rand(62)
    value = ((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (seq << 64) | (0x2 << 62) | rand
    return f"{value:032x}"
