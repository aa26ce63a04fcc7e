"""Database engine factory and migrations.

SQLite (WAL, synchronous=FULL so an acknowledged commit survives a crash) by default, PostgreSQL
by URL. The schema is managed by Alembic; `migrate()` brings any database to head.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from aiguillage.errors import StoreError
from aiguillage.store.checkpoint import AUTOCHECKPOINT_PAGES

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create (do not connect) an engine for ``url`` with the pragmas/pool the engine needs."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            # checkpoints run in the background (store/checkpoint.py); this is only the safety net
            cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            cur.close()

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class PriorityLock:
    """A mutex where high-priority acquirers (intake) go before waiting low-priority ones (workers)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._held = False
        self._high_waiting = 0

    def acquire(self, high: bool = False) -> None:
        with self._cond:
            if high:
                self._high_waiting += 1
                while self._held:
                    self._cond.wait()
                self._high_waiting -= 1
            else:
                while self._held or self._high_waiting:
                    self._cond.wait()
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    @contextmanager
    def hold(self, high: bool = False) -> Iterator[None]:
        self.acquire(high)
        try:
            yield
        finally:
            self.release()


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, PriorityLock] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def write_lock(engine: Engine, *, priority: bool = False) -> AbstractContextManager[None]:
    """Serialise this process's write transactions on SQLite (one writer at a time anyway).

    Writers then queue on a real lock instead of SQLite's busy handler, which polls with sleeps of
    several milliseconds, and intake (``priority=True``) goes before background work, so an ACK is
    not held up by a worker's transaction. PostgreSQL needs no such lock.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _GUARD:
        lock = _WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _WRITE_LOCKS[engine] = PriorityLock()
    return lock.hold(priority)


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    except SQLAlchemyError as exc:
        raise StoreError(f"migration failed: {exc.__class__.__name__}", "STO-0002", retryable=False) from exc


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False
