"""The intake transaction: dedupe lookup, message rows and outbox rows, straight to the driver.

One function, :func:`write_batch`, used by every group-commit strategy. It runs on a DBAPI
connection (sqlite3 or psycopg) with precompiled SQL in the dialect's parameter style: on this hot
path SQLAlchemy's per-statement work costs more than the inserts themselves. Column order and
value formats are the tables' own (``messages.TABLE``, ``outbox.TABLE``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiguillage.router.bus import Record
from aiguillage.router.topics import Topic
from aiguillage.store import outbox
from aiguillage.store.base import new_id, utcnow
from aiguillage.store.messages import Envelope, MessageStatus, Stored

_INBOUND = Topic.INBOUND.value


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


@functools.lru_cache(maxsize=64)
def _json_text(value: str) -> str:
    return json.dumps(value)


def inbound_record(message_id: str, content_type: str, key: str | None) -> Record:
    """The announcement of a stored message to the workers, keyed to keep a patient's order.

    JSON ``{"id":…,"ct":…}``, written by hand on this hot path (the same bytes as ``json.dumps``).
    """
    mid = f'"{message_id}"' if message_id.isalnum() else json.dumps(message_id)
    value = f'{{"id":{mid},"ct":{_json_text(content_type)}}}'.encode()
    return Record(_INBOUND, key or message_id, value)


class IntakeSQL:
    """Precompiled SQL for one dialect (qmark for SQLite, format for psycopg)."""

    # the order of message_values(); a test checks it names every column of messages.TABLE
    MESSAGE_COLUMNS = ("id", "channel", "source", "content_type", "raw", "received_at", "updated_at", "status",
                       "error_codes", "error_text", "attempts", "next_attempt_at", "message_type", "control_id",
                       "dedupe_key", "correlation_key", "response", "meta")
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
        self._second: tuple[int, str] = (-1, "")

    def dedupe(self, n: int) -> str:
        return (f"SELECT id, status, response, dedupe_key FROM messages WHERE channel = {self.ph} "
                f"AND dedupe_key IS NOT NULL AND dedupe_key IN ({', '.join([self.ph] * n)})")

    def value(self, v: Any) -> Any:
        if self.sqlite and isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME text format
        return v

    def message_values(self, env: Envelope, rid: str, stamp: Any) -> tuple[Any, ...]:
        """One messages row in ``MESSAGE_COLUMNS`` order (``stamp``: received_at, already formatted)."""
        return (
            rid, env.channel, env.source, env.content_type, env.raw, stamp, stamp, env.status.value,
            ",".join(env.error_codes), env.error_text[:4000], 0, None, env.message_type[:32],
            env.control_id[:199], env.dedupe_key, env.correlation_key, env.response,
            json.dumps(env.meta, separators=(",", ":")) if env.meta else "{}",
        )

    def now(self) -> Any:
        """The current UTC time as the driver wants it (SQLite: text, formatted once per second)."""
        if not self.sqlite:
            return utcnow()
        ns = time.time_ns()
        second, micros = divmod(ns // 1000, 1_000_000)
        cached = self._second  # one tuple, replaced whole: safe from any thread
        if cached[0] != second:
            cached = self._second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S"))
        return f"{cached[1]}.{micros:06d}"

    def prepare(self, env: Envelope) -> Prepared:
        """Everything a row needs that does not depend on the database, made when the message arrives
        (on the event loop), so the writer's turn is only the lookup, the inserts and the commit."""
        stamp = self.now()
        rid = env.id or new_id()
        record = None
        ob = None
        if env.status is MessageStatus.RECEIVED:
            record = inbound_record(rid, env.content_type, env.correlation_key)
            ob = (new_id(), record.topic, record.key, record.value, stamp)
        return Prepared(env, rid, self.message_values(env, rid, stamp), ob, record)


@dataclass(slots=True)
class Prepared:
    """One envelope ready to insert: its id, its messages row and its outbox row (if announced)."""

    env: Envelope
    id: str
    row: tuple[Any, ...]
    outbox_row: tuple[Any, ...] | None
    record: Record | None


def write_batch(conn: Any, sql: IntakeSQL, items: list[Prepared]) -> tuple[list[Stored], list[outbox.Pending]]:
    """Store ``items`` in one transaction on the DBAPI connection ``conn`` and commit.

    Messages whose (channel, dedupe key) is already stored, or appears earlier in the batch, are not
    stored again: their result is the earlier row with ``duplicate=True``. Returns one result per
    item, in order, and the committed outbox (id, record) pairs for the relay. Rolls back and
    re-raises the driver's exception on failure.
    """
    results: list[Stored] = []
    rows: list[tuple[Any, ...]] = []
    outbox_rows: list[tuple[Any, ...]] = []
    handed: list[outbox.Pending] = []
    seen: dict[tuple[str, str], Stored] = {}
    by_channel: dict[str, list[str]] = {}
    for it in items:
        if it.env.dedupe_key:
            by_channel.setdefault(it.env.channel, []).append(it.env.dedupe_key)
    cur = conn.cursor()
    try:
        if sql.sqlite:
            cur.execute("BEGIN IMMEDIATE")  # the dedupe lookup and the inserts under one write lock
        for channel, keys in by_channel.items():
            # one indexed lookup per channel (the partial unique index on channel, dedupe_key)
            uniq = sorted(set(keys))
            cur.execute(sql.dedupe(len(uniq)), (channel, *uniq))
            for rid, status, response, key in cur.fetchall():
                seen[(channel, key)] = Stored(rid, MessageStatus(status), True, _bytes(response))
        for it in items:
            env = it.env
            k = (env.channel, env.dedupe_key) if env.dedupe_key else None
            if k is not None:
                prior = seen.get(k)
                if prior is not None:
                    results.append(Stored(prior.id, prior.status, True, prior.response))
                    continue
            rows.append(it.row)
            stored = Stored(it.id, env.status, False, env.response)
            results.append(stored)
            if k is not None:
                seen[k] = stored
            if it.outbox_row is not None and it.record is not None:
                outbox_rows.append(it.outbox_row)
                handed.append((it.outbox_row[0], it.record))
        if rows:
            cur.executemany(sql.insert_messages, rows)
        if outbox_rows:
            cur.executemany(sql.insert_outbox, outbox_rows)
        conn.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            conn.rollback()
        raise
    finally:
        with contextlib.suppress(Exception):
            cur.close()
    return results, handed
