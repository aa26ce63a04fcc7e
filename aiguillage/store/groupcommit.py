"""Group commit of inbound messages.

Concurrent arrivals are collected into one transaction (up to ``max_batch`` rows, waiting at most
``max_wait_ms`` for company once the first one arrived; while one batch is being written the next
one fills up by itself). Each submitter's future resolves only after its row is committed, so an
acknowledgement sent after ``await submit(...)`` always refers to a durable row.

Messages with a ``dedupe_key`` already stored on the same channel are not stored again: the
submitter gets the earlier message id with ``duplicate=True``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from aiguillage.errors import StoreError
from aiguillage.router.bus import Record
from aiguillage.router.topics import Topic
from aiguillage.store import db, outbox
from aiguillage.store import messages as msgs
from aiguillage.store.base import new_id, utcnow
from aiguillage.store.messages import Envelope, MessageStatus, Stored

log = logging.getLogger(__name__)

_Item = tuple[Envelope, "asyncio.Future[Stored]"]


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


class _DriverSQL:
    """Precompiled SQL for one dialect (qmark for SQLite, format for psycopg)."""

    MESSAGE_COLUMNS = tuple(c.name for c in msgs.TABLE.columns)
    OUTBOX_COLUMNS = ("id", "topic", "key", "value", "created_at")

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        self.ph = "?" if self.sqlite else "%s"
        cols = ", ".join(f'"{c}"' for c in self.MESSAGE_COLUMNS)
        self.insert_messages = (
            f"INSERT INTO messages ({cols}) VALUES ({', '.join([self.ph] * len(self.MESSAGE_COLUMNS))})"
        )
        ocols = ", ".join(f'"{c}"' for c in self.OUTBOX_COLUMNS)
        self.insert_outbox = f"INSERT INTO outbox ({ocols}) VALUES ({', '.join([self.ph] * 5)})"

    def dedupe(self, n: int) -> str:
        return (f"SELECT id, status, response, dedupe_key FROM messages WHERE channel = {self.ph} "
                f"AND dedupe_key IS NOT NULL AND dedupe_key IN ({', '.join([self.ph] * n)})")

    def _value(self, v: Any) -> Any:
        if self.sqlite and isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME text format
        return v

    def message_values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(self._value(row[c]) for c in self.MESSAGE_COLUMNS)

    def outbox_values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(self._value(row[c]) for c in self.OUTBOX_COLUMNS)


def inbound_record(message_id: str, content_type: str, key: str | None) -> Record:
    """The announcement of a stored message to the workers, keyed to keep a patient's order."""
    value = json.dumps({"id": message_id, "ct": content_type}, separators=(",", ":")).encode()
    return Record(Topic.INBOUND.value, key or message_id, value)


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
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        # one writer thread: batches are written one after the other, in order
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="groupcommit")
        self._lock = threading.Lock()
        self.batches = 0
        self.rows = 0
        self._driver_sql: _DriverSQL | None = None
        self.last_submit = 0.0  # monotonic time of the latest arrival (workers yield while intake is busy)

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="groupcommit")

    async def stop(self) -> None:
        if self._task is not None:
            # let queued submitters finish before stopping (bounded: a dead writer must not hang us)
            deadline = time.monotonic() + 5.0
            while self._queue is not None and not self._queue.empty() and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._queue is not None and not self._queue.empty():  # never leave a submitter waiting
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(StoreError("engine stopping", "STO-0005"))
        self._pool.shutdown(wait=False)

    async def submit(self, env: Envelope) -> Stored:
        if self._queue is None:
            raise StoreError("group committer not started", "STO-0003", retryable=False)
        fut: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self.last_submit = time.monotonic()
        await self._queue.put((env, fut))
        return await fut

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            envs = [e for e, _ in batch]
            try:
                results, handed = await loop.run_in_executor(self._pool, self._write_with_records, envs)
            except Exception as exc:  # the store is down: every submitter gets the error, no ACK
                err = exc if isinstance(exc, StoreError) else StoreError(
                    f"store write failed: {exc.__class__.__name__}", "STO-0004"
                )
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(err)
                continue
            for (_, fut), res in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(res)
            if self.on_commit is not None and handed:
                self.on_commit(handed)

    # -- the synchronous part, run in the writer thread (also usable directly) ------------------

    def write(self, envs: list[Envelope]) -> list[Stored]:
        """Store ``envs`` in one transaction (outbox rows are left for the relay's scan)."""
        return self._write_with_records(envs)[0]

    def _write_with_records(self, envs: list[Envelope]) -> tuple[list[Stored], list[outbox.Pending]]:
        try:
            return self._write_batch(envs)
        except IntegrityError:
            # a concurrent process stored one of our dedupe keys: fall back to one row at a time
            stored: list[Stored] = []
            handed: list[outbox.Pending] = []
            for e in envs:
                one, pairs = self._write_batch([e])
                stored += one
                handed += pairs
            return stored, handed
        except SQLAlchemyError as exc:
            raise StoreError(f"store write failed: {exc.__class__.__name__}", "STO-0004") from exc

    def _sql(self) -> _DriverSQL:
        if self._driver_sql is None:
            self._driver_sql = _DriverSQL(self.engine.dialect.name)
        return self._driver_sql

    def _write_batch(self, envs: list[Envelope]) -> tuple[list[Stored], list[outbox.Pending]]:
        now = utcnow()
        results: list[Stored | None] = [None] * len(envs)
        rows: list[dict[str, Any]] = []
        records: list[Record] = []
        seen: dict[tuple[str, str], Stored] = {}
        sql = self._sql()
        with db.write_lock(self.engine, priority=True), self.engine.begin() as conn:
            by_channel: dict[str, list[str]] = {}
            for e in envs:
                if e.dedupe_key:
                    by_channel.setdefault(e.channel, []).append(e.dedupe_key)
            for channel, keys in by_channel.items():
                # one indexed lookup per channel (the partial unique index on channel, dedupe_key)
                uniq = sorted(set(keys))
                found = conn.exec_driver_sql(sql.dedupe(len(uniq)), (channel, *uniq)).all()
                for rid, status, response, key in found:
                    seen[(channel, key)] = Stored(rid, MessageStatus(status), True, _bytes(response))
            for i, env in enumerate(envs):
                k = (env.channel, env.dedupe_key) if env.dedupe_key else None
                if k is not None and k in seen:
                    prior = seen[k]
                    results[i] = Stored(prior.id, prior.status, True, prior.response)
                    continue
                row = env.row(now)
                if not env.id:
                    row["id"] = new_id()
                rows.append(row)
                stored = Stored(row["id"], env.status, False, env.response)
                results[i] = stored
                if k is not None:
                    seen[k] = stored
                if env.status is MessageStatus.RECEIVED:
                    records.append(inbound_record(row["id"], env.content_type, env.correlation_key))
            # the hot path goes straight to the driver: SQLAlchemy's per-statement work costs more
            # than the inserts themselves here (same columns and value formats as the tables)
            if rows:
                conn.exec_driver_sql(sql.insert_messages, [sql.message_values(r) for r in rows])
            values, handed = outbox.rows(records, now)
            if values:
                conn.exec_driver_sql(sql.insert_outbox, [sql.outbox_values(v) for v in values])
        with self._lock:
            self.batches += 1
            self.rows += len(rows)
        return [r for r in results if r is not None], handed
