"""Group commit of inbound messages.

Concurrent arrivals are collected into one transaction (up to ``max_batch`` rows; ``max_wait_ms``
> 0 waits that long for company once the first one arrived). Each submitter's future resolves only
after its row is durably committed, so an acknowledgement sent after ``await submit(...)`` always
refers to a durable row. Messages with a ``dedupe_key`` already stored on the same channel are not
stored again: the submitter gets the earlier message id with ``duplicate=True``.

Rows are prepared when the message arrives (on the event loop: id, row tuple, outbox row), so the
writer's turn is only the dedupe lookup, two ``executemany`` and the COMMIT. One writer thread with
a long-lived driver connection writes each batch and commits (SQLite ``synchronous=FULL``: the
commit returns once the WAL is on disk; PostgreSQL: once the server has it). The GIL is released
while the database commits, so the event loop keeps framing and checking the next messages, and
they form the next batch by themselves. One callback per batch brings the results to the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from aiguillage.errors import StoreError
from aiguillage.store import db, outbox
from aiguillage.store.intake_sql import IntakeSQL, Prepared, write_batch
from aiguillage.store.messages import Envelope, Stored

log = logging.getLogger(__name__)

_Item = tuple[Prepared, "asyncio.Future[Stored]"]


class GroupCommitter:
    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 256,
        max_wait_ms: float = 0.0,
        on_commit: Callable[[list[outbox.Pending]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.on_commit = on_commit
        self.sql = IntakeSQL(engine.dialect.name)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Any = None  # the writer thread's connection (a pooled proxy)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.started = False
        self.batches = 0
        self.rows = 0
        self.last_submit = 0.0  # monotonic time of the latest arrival (workers yield while intake is busy)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._writer, name="groupcommit", daemon=True)
        self._thread.start()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        deadline = time.monotonic() + 5.0  # bounded: a dead store must not hang us
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)  # queued submitters are written first
            while thread.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            await asyncio.sleep(0)  # let the last answers run
        while True:  # never leave a submitter waiting
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None and not item[1].done():
                item[1].set_exception(StoreError("engine stopping", "STO-0005"))
        # the loop stays known: a writer that outlived the deadline still answers its batch

    async def submit(self, env: Envelope) -> Stored:
        loop = self._loop
        if loop is None or not self.started:
            raise StoreError("group committer not started", "STO-0003", retryable=False)
        fut: asyncio.Future[Stored] = loop.create_future()
        self.last_submit = time.monotonic()
        self._queue.put((self.sql.prepare(env), fut))
        return await fut

    # -- writer thread ----------------------------------------------------------------------------

    def _writer(self) -> None:
        q = self._queue
        try:
            while True:
                first = q.get()
                if first is None:
                    return
                batch = [first]
                stopping = False
                deadline = time.monotonic() + self.max_wait
                while len(batch) < self.max_batch:
                    try:
                        item = q.get_nowait()
                    except queue.Empty:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        try:
                            item = q.get(timeout=remaining)
                        except queue.Empty:
                            break
                    if item is None:
                        stopping = True
                        break
                    batch.append(item)
                self._commit_in_thread(batch)
                if stopping:
                    return
        finally:
            self._close_connection()

    def _commit_in_thread(self, batch: list[_Item]) -> None:
        try:
            results, handed = self._write_with_records([p for p, _ in batch])
        except StoreError as exc:
            self._report(self._fail, batch, exc)
            return
        self._report(self._complete, batch, results, handed)

    def _report(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        # RuntimeError: the loop closed meanwhile; the rows are committed and nobody waits
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(fn, *args)

    # -- answers (on the loop) --------------------------------------------------------------------

    def _complete(self, batch: list[_Item], results: list[Stored], handed: list[outbox.Pending]) -> None:
        for (_, fut), res in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(res)
        if self.on_commit is not None and handed:
            try:
                self.on_commit(handed)
            except Exception:  # the rows are committed: the relay's scan publishes them later
                log.exception("outbox hand-over failed for %d record(s)", len(handed))

    @staticmethod
    def _fail(batch: list[_Item], error: StoreError) -> None:
        for _, fut in batch:
            if not fut.done():
                fut.set_exception(error)

    # -- the transaction -----------------------------------------------------------------------

    def write(self, envs: list[Envelope]) -> list[Stored]:
        """Store ``envs`` in one durable transaction, from any thread (outbox rows are left for the
        relay's scan). It borrows a connection of its own."""
        proxy = self.engine.raw_connection()
        try:
            return self._write_with_records([self.sql.prepare(e) for e in envs], proxy)[0]
        finally:
            proxy.close()

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self.engine.raw_connection()
        return self._conn

    def _close_connection(self, *, invalidate: bool = False) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            if invalidate:
                conn.invalidate()  # a broken connection is not given back to the pool
            else:
                conn.close()

    def _write_with_records(self, envs: list[Prepared], proxy: Any = None) -> tuple[list[Stored], list[outbox.Pending]]:
        own = proxy is None
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            if proxy is None:
                proxy = self._connection()
            conn = proxy.driver_connection
            with db.write_lock(self.engine, priority=True):
                try:
                    results, handed = write_batch(conn, self.sql, envs)
                except dbapi.IntegrityError:
                    # a concurrent process stored one of our dedupe keys: one row at a time
                    results, handed = [], []
                    for e in envs:
                        one, pairs = write_batch(conn, self.sql, [e])
                        results += one
                        handed += pairs
        except dbapi.Error as exc:
            if own:
                self._close_connection(invalidate=True)  # the next batch starts on a fresh connection
            raise StoreError(f"store write failed: {exc.__class__.__name__}", "STO-0004") from exc
        except Exception as exc:
            if own:
                self._close_connection(invalidate=True)
            raise StoreError(f"store write failed: {exc.__class__.__name__}", "STO-0004") from exc
        with self._lock:
            self.batches += 1
            self.rows += sum(1 for r in results if not r.duplicate)
        return results, handed
