"""Fixtures for the ROR API tests: an app on the engine fixture (SQLite and PostgreSQL) with tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from aiguillage.api.app import create_app
from aiguillage.engine import Engine
from aiguillage.store import clients


@pytest.fixture
async def fhir(engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    tokens = {
        "read": clients.add_client(engine.db, "ror-reader", frozenset({"ror:read"})),
        "write": clients.add_client(engine.db, "ror-writer", frozenset({"ror:read", "ror:write"})),
    }
    headers = {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}
    app = create_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client, headers
