"""POST /hl7v2: the ACK as ER7 in the body, any charset, bad input kept and answered 400."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aiguillage.api.app import create_app
from aiguillage.engine import Engine
from aiguillage.store import clients
from aiguillage.store import messages as msgs

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    token = clients.add_client(engine.db, "gam", frozenset({"intake"}))
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, token


async def test_post_valid_adt_returns_aa(client: tuple[httpx.AsyncClient, str], engine: Engine) -> None:
    c, token = client
    raw = (DATA / "adt_a01_admit.hl7").read_bytes()
    r = await c.post("/hl7v2", content=raw, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/hl7-v2")
    assert b"MSA|AA|CTL-A01" in r.content
    row = msgs.get(engine.db, r.headers["x-message-id"])
    assert row["raw"] == raw and row["channel"] == "http" and row["source"] == "client:gam"
    r2 = await c.post("/hl7v2", content=raw, headers={"Authorization": f"Bearer {token}"})
    assert r2.headers["x-duplicate"] == "true" and r2.headers["x-message-id"] == r.headers["x-message-id"]


async def test_post_latin1_message_is_answered_in_its_charset(client: tuple[httpx.AsyncClient, str]) -> None:
    c, token = client
    raw = (DATA / "edge_latin1.hl7").read_bytes()
    r = await c.post("/hl7v2", content=raw, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.content
    assert "iso-8859-1" in r.headers["content-type"]
    assert b"8859/1" in r.content.split(b"\r")[0]


async def test_post_garbage_is_rejected_kept_and_needs_a_token(
    client: tuple[httpx.AsyncClient, str], engine: Engine
) -> None:
    c, token = client
    r = await c.post("/hl7v2", content=b"hello")
    assert r.status_code == 401
    r = await c.post("/hl7v2", content=b"hello", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and r.headers["x-ack-code"] == "AR"
    assert b"MSA|AR" in r.content and b"ERR|" in r.content
    row = msgs.get(engine.db, r.headers["x-message-id"])
    assert row["status"] == "REJECTED" and row["raw"] == b"hello"
