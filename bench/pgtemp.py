"""A throwaway PostgreSQL database for one benchmark run (on the machine's server, trust auth)."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get("AIGUILLAGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def create() -> str | None:
    """Create an empty database and return its SQLAlchemy URL, or None (with a printed reason)."""
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        name = f"agl_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    except Exception as exc:
        print(f"PostgreSQL not available: {exc.__class__.__name__}")
        return None


def drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
