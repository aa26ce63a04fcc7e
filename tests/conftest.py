"""Shared fixtures: database URLs for SQLite and the machine's PostgreSQL, engines, corpus path."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
PG_ADMIN_URL = os.environ.get("AIGUILLAGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_reachable() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"


_PG_SKIP = _pg_reachable()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if _PG_SKIP:
        print(f"SKIP reason: {_PG_SKIP}")
        pytest.skip(_PG_SKIP)
    name = f"agl_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., object]:
    from aiguillage.config import Settings

    def _make(**kw: object) -> Settings:
        kw.setdefault("data_dir", tmp_path / "data")
        kw.setdefault("http_port", 0)
        kw.setdefault("mllp_port", 0)
        kw.setdefault("group_commit_max_wait_ms", 1.0)
        return Settings(**kw)  # type: ignore[arg-type]

    return _make


@pytest.fixture
async def engine(db_url: str, make_settings: Callable[..., object]) -> AsyncIterator[object]:
    """A started Engine on SQLite and on PostgreSQL, with the in-process bus."""
    from aiguillage.engine import Engine

    eng = Engine(make_settings(database_url=db_url))  # type: ignore[arg-type]
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop(timeout_s=10.0)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        print(f"SKIP reason: corpus absent at {CORPUS}")
        pytest.skip(f"corpus absent at {CORPUS}")
    return CORPUS
