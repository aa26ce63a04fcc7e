"""Background WAL checkpoints for SQLite.

In WAL mode every commit appends the pages it changed to the ``-wal`` file; a checkpoint copies
them back into the database file and fsyncs it. Left to SQLite, the checkpoint runs inside the
commit that crosses ``wal_autocheckpoint`` pages, so that commit (and every ACK waiting on it)
also pays for writing megabytes into the database file: 20-70 ms stalls every ~0.1 s at 1,000
ADT/s. The :class:`Checkpointer` runs PASSIVE checkpoints in a thread of its own instead (they
never block writers nor wait for readers), often enough to keep the WAL short, and the commit
path's own threshold is raised (:data:`AUTOCHECKPOINT_PAGES`) to a safety net for processes that
run no checkpointer (command-line tools, tests using the store alone).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

AUTOCHECKPOINT_PAGES = 16_384  # 64 MiB of 4 KiB pages: reached only when no checkpointer runs


class Checkpointer:
    """One thread, one connection: ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval_s``.

    A no-op on other databases than SQLite. Failures are logged and retried at the next turn
    (SQLite then still checkpoints at :data:`AUTOCHECKPOINT_PAGES`).
    """

    def __init__(self, engine: Engine, *, interval_s: float = 0.25) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.failures = 0
        self.last: tuple[int, int, int] = (0, 0, 0)  # the latest (busy, WAL frames, frames copied)

    @property
    def enabled(self) -> bool:
        return self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:")

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout_s)

    def checkpoint(self, conn: Any) -> tuple[int, int, int]:
        """One PASSIVE checkpoint on the DBAPI connection ``conn``: (busy, WAL frames, frames copied)."""
        cur = conn.cursor()
        try:
            cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
            row = cur.fetchone()
        finally:
            cur.close()
        busy, log_frames, copied = (int(v) for v in row) if row else (0, 0, 0)
        self.runs += 1
        self.last = (busy, log_frames, copied)
        return self.last

    def _run(self) -> None:
        proxy: Any = None
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    if proxy is None:
                        proxy = self.engine.raw_connection()
                    self.checkpoint(proxy.driver_connection)
                except Exception as exc:
                    self.failures += 1
                    log.warning("WAL checkpoint failed (%s); retrying", exc.__class__.__name__)
                    if proxy is not None:
                        with contextlib.suppress(Exception):
                            proxy.invalidate()
                        proxy = None
        finally:
            if proxy is not None:
                with contextlib.suppress(Exception):
                    proxy.close()
